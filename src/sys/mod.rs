//! The calls the launcher makes beyond the core's that have no safe wrapper
//! in nix (the core's are in runas-core's sys, re-exported here).
//!
//! The only module of this crate allowed to use `unsafe`; each block says
//! why it is sound. Everything here is a thin, checked wrapper with no
//! policy.
#![allow(unsafe_code)]

mod alloc;
mod fs;
mod process;
mod sched;
mod tty;
pub use alloc::*;
pub use fs::*;
pub use process::*;
pub use runas_core::sys::*;
pub use sched::*;
pub use tty::*;

use nix::errno::Errno;
use std::ffi::CStr;

/// fork(2).
pub fn fork(_: WholeProgram) -> Result<nix::unistd::ForkResult, Errno> {
    // SAFETY: the token's promise: one thread, so the child is a complete
    // copy of the process and may run any code, allocation included.
    unsafe { nix::unistd::fork() }
}

/// The command line, from the C entry point's argc and argv.
///
/// The binary has no Rust `main` (see src/main.rs), and on musl std learns
/// argv only in its own start-up, so argv is read here.
///
/// # Safety
/// `argv` must point to `argc` pointers to NUL-terminated strings, as the C
/// runtime's call of `main` guarantees.
pub unsafe fn args_from_c_main(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        .map(|i| {
            // SAFETY: i < argc, and argv[i] is a NUL-terminated string (the
            // caller's guarantee); the bytes are copied out at once.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
        })
        .collect()
}
