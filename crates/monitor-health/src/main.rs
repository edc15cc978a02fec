fn main() -> std::process::ExitCode {
    relay_runtime::main(&monitor_health::SPEC, monitor_health::run)
}
