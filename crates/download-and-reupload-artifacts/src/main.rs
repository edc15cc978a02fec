fn main() -> std::process::ExitCode {
    relay_runtime::main(
        &download_and_reupload_artifacts::SPEC,
        download_and_reupload_artifacts::run,
    )
}
