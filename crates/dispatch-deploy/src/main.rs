fn main() -> std::process::ExitCode {
    relay_runtime::main(&dispatch_deploy::SPEC, dispatch_deploy::run)
}
