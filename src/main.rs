//! The binary: everything lives in the library so it can be tested.
//!
//! There is no Rust `main`. std's start-up code would set SIGPIPE to
//! "ignore" (which survives execve), open /dev/null over closed descriptors
//! 0-2 and set up a signal stack for stack-overflow reports: a dozen system
//! calls at every launch, and a target that no longer inherits exactly what
//! its caller gave it. The C runtime calls this `main` directly instead.
#![no_main]
#![deny(unsafe_code)]

use std::ffi::{c_char, c_int};

/// The static build only: with musl's malloc a launch costs about 16 us
/// more (brk, mmap and munmap churn for a few hundred small blocks). With
/// glibc's there is no difference to measure (medians of 2,000
/// interleaved launches of `runas -u nobody -- /bin/true`: 1,674 and
/// 1,664 us, 1,521 and 1,510, 1,599 and 1,600, bump first), and the bump
/// arena costs 48 KiB of binary and 44 KiB of RSS, so the glibc build
/// keeps glibc's allocator.
#[cfg(all(target_env = "musl", not(feature = "bench-system-alloc")))]
#[global_allocator]
static ALLOCATOR: runas::door::BumpAllocator = runas::door::BumpAllocator;

// SAFETY (no_mangle): this is the one `main` symbol of the program; the C
// runtime calls it with the process's argc and argv.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: argc and argv are exactly what the C runtime passed to main.
    let args = unsafe { runas::door::args_from_c_main(argc, argv) };
    // SAFETY: runas starts no thread and never changes its environment.
    let promise = unsafe { runas::door::WholeProgram::promise() };
    c_int::from(runas::main(args, promise))
}
