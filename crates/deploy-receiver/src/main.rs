//! `deploy-receiver --config receiver.toml`; everything lives in the library.

fn main() -> std::process::ExitCode {
    deploy_receiver::main()
}
