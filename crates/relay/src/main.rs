fn main() -> std::process::ExitCode {
    relay_runtime::main(&relay::SPEC, relay::run)
}
