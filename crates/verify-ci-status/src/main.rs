fn main() -> std::process::ExitCode {
    relay_runtime::main(&verify_ci_status::SPEC, verify_ci_status::run)
}
