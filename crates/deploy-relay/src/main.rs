fn main() -> std::process::ExitCode {
    deploy_relay::dispatch(std::env::args().collect())
}
