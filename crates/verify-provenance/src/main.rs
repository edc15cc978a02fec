fn main() -> std::process::ExitCode {
    relay_runtime::main(&verify_provenance::SPEC, verify_provenance::run)
}
