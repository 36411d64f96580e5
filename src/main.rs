//! The binary: everything lives in the library so it can be tested.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    runas::main()
}
