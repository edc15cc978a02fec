//! `relay-demo [--break LINK]`; everything lives in the library.

fn main() -> std::process::ExitCode {
    relay_demo::main()
}
