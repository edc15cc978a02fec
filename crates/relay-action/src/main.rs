fn main() -> std::process::ExitCode {
    relay_runtime::main(&relay_action::SPEC, relay_action::run)
}
