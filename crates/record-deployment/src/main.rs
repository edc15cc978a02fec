fn main() -> std::process::ExitCode {
    relay_runtime::main(&record_deployment::SPEC, record_deployment::run)
}
