//! The examples the demo plays, as they are in `examples/`: the app
//! repository's `deploy-dispatch.yaml` (which calls `relay.yml`) and the
//! platform repository's `deploy.yml` (which calls the reusable
//! `deploy.yml`). The runner reads and runs them unchanged; only the hosts
//! they name and the pace of the health window are the demo's
//! (`network`).

/// The platform repository's example, relative to the repository.
pub const PLATFORM_EXAMPLE: &str = "examples/platform-repo/.github/workflows/deploy.yml";
/// The app repository's example.
pub const APP_EXAMPLE: &str = "examples/app-repo/.github/workflows/deploy-dispatch.yaml";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every host the platform example names is one the demo serves, so
    /// the example plays as it is.
    #[test]
    fn the_demo_serves_every_host_the_examples_name() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for file in [
            PLATFORM_EXAMPLE,
            APP_EXAMPLE,
            crate::queue::WEB_EXAMPLE,
            crate::queue::WEB_APP_EXAMPLE,
            crate::queue::ROLLBACK_EXAMPLE,
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            for word in text.split_whitespace() {
                if let Some(at) = word.find("https://") {
                    let url = &word[at..];
                    let host = url["https://".len()..].split('/').next().unwrap();
                    assert!(
                        ["vm.example.com:8443", "app.example.com", "www.example.com"]
                            .contains(&host),
                        "{file} names `{url}`, whose host the demo does not serve"
                    );
                }
            }
        }
    }
}
