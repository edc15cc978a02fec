fn main() -> std::process::ExitCode {
    relay_runtime::main(&fleet_deploy::SPEC, fleet_deploy::run)
}
