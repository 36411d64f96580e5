//! The calls the core makes that have no safe wrapper in nix.
//!
//! The only module of this crate allowed to use `unsafe`; each block says
//! why it is sound. Everything here is a thin, checked wrapper with no
//! policy.
#![allow(unsafe_code)]

mod accounts;
mod creds;
pub use accounts::*;
pub use creds::*;

use nix::errno::Errno;
use nix::libc;
use std::ffi::CStr;

/// Whether the kernel started this program in secure-execution mode
/// (getauxval(AT_SECURE)): it gained privilege at exec, through set-user-ID,
/// set-group-ID or file capabilities. The C library has then already
/// removed LD_PRELOAD and the other unsafe variables from the environment.
pub fn at_secure() -> bool {
    // SAFETY: getauxval reads the auxiliary vector the kernel passed; it
    // takes an integer and returns an integer.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// The promises a launcher keeps as a whole program, on which fork(2) and
/// borrowing the C runtime's `environ` rest: the process has exactly one
/// thread, and nothing changes the environment (no setenv, putenv or
/// std::env::set_var). Functions that need them take this token, which
/// only the unsafe [`WholeProgram::promise`] makes. (The in-process drop
/// needs none of it.)
#[derive(Debug, Clone, Copy)]
pub struct WholeProgram(());

impl WholeProgram {
    /// # Safety
    /// From the moment of the call to the end of the process, it has one
    /// thread and its environment does not change. The runas binary's
    /// main.rs calls this: runas starts no thread and never changes its
    /// environment.
    pub unsafe fn promise() -> WholeProgram {
        WholeProgram(())
    }
}

/// The environment's entries as the C runtime holds them, borrowed rather
/// than copied: the target inherits them byte for byte.
pub fn environ(_: WholeProgram) -> Vec<&'static CStr> {
    unsafe extern "C" {
        static environ: *const *const std::ffi::c_char;
    }
    let mut entries = Vec::new();
    // SAFETY: `environ` is the C runtime's NULL-terminated array of
    // NUL-terminated strings (or NULL). Nothing changes the environment
    // (the token's promise), so the array and its strings stay valid,
    // unchanged, until execve.
    unsafe {
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            entries.push(CStr::from_ptr(*entry));
            entry = entry.add(1);
        }
    }
    entries
}

/// The C library's text for an errno value ("Permission denied"): the
/// words other tools print. Not nix's `Errno::desc`: its table of string
/// slices is about 2 KiB of pointers, which a static PIE relocates at every
/// start (a page written per 4 KiB), where the C library keeps offsets.
pub fn errno_text(errno: Errno) -> ErrnoText {
    ErrnoText(errno as i32)
}

/// [`errno_text`] for a raw value, one nix's `Errno` may not know (it
/// turns every such value into `UnknownErrno`, 0).
pub fn errno_text_raw(errno: i32) -> ErrnoText {
    ErrnoText(errno)
}

/// See [`errno_text`].
#[derive(Clone, Copy)]
pub struct ErrnoText(i32);

impl std::fmt::Display for ErrnoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // 0 is no error at all ("Success"): an error reported with it lost
        // its cause on the way (nix's UnknownErrno, an errno left at 0).
        if self.0 == 0 {
            return f.write_str("unknown error");
        }
        let mut text = [0 as std::ffi::c_char; 128];
        // SAFETY: the XSI strerror_r (the libc crate binds glibc's
        // __xpg_strerror_r) writes at most text.len() bytes, NUL included,
        // into the buffer, and reports an unknown value or a short buffer
        // by its result.
        let status = unsafe { libc::strerror_r(self.0, text.as_mut_ptr(), text.len()) };
        if status != 0 {
            return write!(f, "error {}", self.0);
        }
        // SAFETY: on success the buffer holds a NUL-terminated string.
        let text = unsafe { CStr::from_ptr(text.as_ptr()) };
        f.write_str(&text.to_string_lossy())
    }
}

impl std::fmt::Debug for ErrnoText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn errno_text_is_the_c_librarys_and_never_fails() {
        assert_eq!(
            errno_text(Errno::EPERM).to_string(),
            "Operation not permitted"
        );
        assert_eq!(
            errno_text(Errno::ENOENT).to_string(),
            "No such file or directory"
        );
        assert_eq!(errno_text(Errno::EACCES).to_string(), "Permission denied");
        // No cause (nix's UnknownErrno is 0) is not "Success".
        assert_eq!(errno_text(Errno::UnknownErrno).to_string(), "unknown error");
        // A number the C library has no text for still gives some text.
        let unknown = errno_text_raw(4000).to_string();
        assert!(
            !unknown.is_empty() && unknown != "unknown error",
            "{unknown}"
        );
    }
}
