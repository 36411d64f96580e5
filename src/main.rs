//! The binary: everything lives in the library so it can be tested.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: runas::sys::BumpAllocator = runas::sys::BumpAllocator;

fn main() -> std::process::ExitCode {
    runas::main()
}
