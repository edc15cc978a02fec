fn main() -> std::process::ExitCode {
    relay_runtime::main(&sign_and_call_webhook::SPEC, sign_and_call_webhook::run)
}
