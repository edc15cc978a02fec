//! `relay_url <download-url> <upload-url>`: one relay, for
//! `scripts/bench-artifacts.sh` to measure wall time and peak RSS.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, download, upload] = args.as_slice() else {
        return Err("usage: relay_url <download-url> <upload-url>".into());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let done = rt.block_on(relay_artifacts::relay(
        &reqwest::Client::new(),
        download,
        upload,
        None,
        &relay_artifacts::RelayOptions::default(),
    ))?;
    println!(
        "{} bytes in {} blocks, sha256 {}",
        done.size, done.blocks, done.sha256
    );
    Ok(())
}
