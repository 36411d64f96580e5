//! The descriptors open in this process.

use crate::base::error::{Error, Result};
use crate::sys;

/// The kernel's default ceiling on descriptor numbers (fs.nr_open).
const DEFAULT_NR_OPEN: u64 = 1 << 20;

/// The descriptors open in this process, from /proc/self/fd. Where /proc
/// is missing, every number up to the larger of the hard RLIMIT_NOFILE and
/// the kernel's default ceiling is asked: a descriptor opened before the
/// limit was lowered (by the caller, or by --rlimit nofile) lies above it.
/// /proc/self/fd present but not listable (no descriptor left under a low
/// --rlimit nofile) is an error: a partial list would let descriptors
/// through unnoticed.
pub fn open_descriptors() -> Result<Vec<i32>> {
    let listing = |e: std::io::Error| {
        Error::Io {
        what: if e.raw_os_error() == Some(nix::libc::EMFILE) {
            "listing /proc/self/fd (to close or check the inherited descriptors; with --rlimit nofile, leave room for one more, and for two more where an account file is of 1 MiB or more)"
        } else {
            "listing /proc/self/fd (to close or check the inherited descriptors)"
        }
        .into(),
        source: e,
    }
    };
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => {
            let mut fds = Vec::new();
            for entry in entries {
                let entry = entry.map_err(listing)?;
                if let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                    fds.push(fd);
                }
            }
            // The directory's own descriptor was listed and is closed now.
            fds.retain(|&fd| sys::fd_flags(fd).is_ok());
            fds.sort_unstable();
            Ok(fds)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (_, hard) =
                nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
                    .map_err(|e| Error::syscall("getrlimit(RLIMIT_NOFILE)", e))?;
            let last = hard.clamp(DEFAULT_NR_OPEN, 1 << 24) as i32;
            Ok((0..last).filter(|&fd| sys::fd_flags(fd).is_ok()).collect())
        }
        Err(e) => Err(listing(e)),
    }
}
