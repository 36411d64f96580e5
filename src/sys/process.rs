//! Descriptors and signal dispositions.

use nix::errno::Errno;
use nix::libc;

/// Mark every fd from `first` to `last` close-on-exec (close_range(2) with
/// CLOSE_RANGE_CLOEXEC): they close at the execve, atomically, and runas's
/// own descriptors stay usable until then.
pub fn cloexec_range(first: u32, last: u32) -> Result<(), Errno> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range takes integers only.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, CLOSE_RANGE_CLOEXEC) };
    Errno::result(ret).map(drop)
}

/// Close every fd from `first` to `last` (close_range(2) without flags).
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range takes integers only; the descriptors it closes
    // are not used afterwards (the caller's contract: the waiting parent
    // of a new session keeps nothing above 2).
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0 as libc::c_uint) };
    Errno::result(ret).map(drop)
}

/// The descriptor flags of `fd` (F_GETFD); EBADF if it is not open.
pub fn fd_flags(fd: std::os::fd::RawFd) -> Result<i32, Errno> {
    // SAFETY: F_GETFD takes no argument; any integer is a memory-safe
    // descriptor argument.
    Errno::result(unsafe { libc::fcntl(fd, libc::F_GETFD) })
}

/// Set FD_CLOEXEC on `fd`, keeping its other flags.
pub fn set_cloexec(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    let flags = fd_flags(fd)?;
    // SAFETY: F_SETFD takes an integer; any integer is a memory-safe
    // descriptor argument.
    Errno::result(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) }).map(drop)
}

/// close(2) of a descriptor found open by number (not owned by any Rust
/// object: the waiting parent closes what it inherited).
pub fn close(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: any integer is a memory-safe argument; the caller closes only
    // descriptors no live Rust object owns (inherited ones).
    Errno::result(unsafe { libc::close(fd) }).map(drop)
}

/// A signal's disposition as it was, to give back to the target.
#[derive(Clone, Copy)]
pub struct SavedDisposition(libc::sigaction, libc::c_int);

/// Set `signal` to its default action, returning the disposition it had.
/// The waiting parent of a new session needs SIGCHLD at its default: a
/// caller that left it ignored (which survives execve) would make the
/// kernel reap the child unseen.
pub fn default_disposition(signal: libc::c_int) -> Result<SavedDisposition, Errno> {
    // SAFETY: a zeroed sigaction with SIG_DFL is a valid new action; the
    // old one is written to `old`, which is valid for writes.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = libc::SIG_DFL;
        let mut old: libc::sigaction = std::mem::zeroed();
        Errno::result(libc::sigaction(signal, &raw const new, &raw mut old))?;
        Ok(SavedDisposition(old, signal))
    }
}

/// Whether `signal` is ignored (SIG_IGN), the one disposition besides the
/// default that survives execve.
pub fn signal_ignored(signal: libc::c_int) -> Result<bool, Errno> {
    // SAFETY: a null new action only reads the current one into `old`,
    // which is valid for writes.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        Errno::result(libc::sigaction(signal, std::ptr::null(), &raw mut old))?;
        Ok(old.sa_sigaction == libc::SIG_IGN)
    }
}

/// Put back a disposition saved by [`default_disposition`].
pub fn restore_disposition(saved: SavedDisposition) -> Result<(), Errno> {
    // SAFETY: the action is one the kernel reported for this signal, so
    // it is either SIG_DFL, SIG_IGN, or a handler of this very program.
    let ret = unsafe { libc::sigaction(saved.1, &raw const saved.0, std::ptr::null_mut()) };
    Errno::result(ret).map(drop)
}

/// sigwait(3): the next of these blocked signals, by number. Not nix's
/// `SigSet::wait`, which panics on a number its `Signal` lacks (and whose
/// unwrap carries nix's errno tables into every start: see errno_text).
pub fn sigwait(set: &nix::sys::signal::SigSet) -> Result<i32, Errno> {
    let mut signal = 0;
    // SAFETY: a valid sigset_t and a valid place for the number.
    let status = unsafe { libc::sigwait(set.as_ref(), &raw mut signal) };
    match status {
        0 => Ok(signal),
        // musl's returns -1 and sets errno; glibc's returns the error.
        -1 => Err(Errno::last()),
        errno => Err(Errno::from_raw(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sigwait_returns_a_pending_blocked_signal_by_number() {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask, raise};
        let mut set = SigSet::empty();
        set.add(Signal::SIGUSR2);
        let mut old = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)).unwrap();
        raise(Signal::SIGUSR2).unwrap();
        let got = sigwait(&set);
        pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None).unwrap();
        assert_eq!(got, Ok(libc::SIGUSR2));
    }
}
