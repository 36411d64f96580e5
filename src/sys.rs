//! The few libc calls that have no safe wrapper in nix or caps.
//!
//! This is the only module allowed to use `unsafe`; each block says why it
//! is sound. Everything here is a thin, checked wrapper with no policy.
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::libc;
use std::ffi::CStr;

/// The kernel's limit on supplementary groups (NGROUPS_MAX on Linux).
pub const KERNEL_NGROUPS_MAX: usize = 65536;

/// libc getgrouplist(3): the gids `user` belongs to in the group database,
/// plus `primary`.
///
/// Sized from the count the call reports rather than by doubling: glibc
/// rescans the group database on every call, so a doubling loop costs
/// log(n) scans. The first call offers room for the kernel's maximum, which
/// costs address space only (pages never written are never touched), so a
/// single scan is the normal case.
pub fn getgrouplist(user: &CStr, primary: u32) -> Result<Vec<u32>, Errno> {
    let mut capacity = KERNEL_NGROUPS_MAX + 1;
    // The database can grow between two calls; give up after a few tries
    // rather than loop forever.
    for _ in 0..4 {
        let mut groups: Vec<libc::gid_t> = vec![0; capacity];
        let mut count = libc::c_int::try_from(capacity).map_err(|_| Errno::EOVERFLOW)?;
        // SAFETY: `user` is a valid NUL-terminated string; `groups` has room
        // for exactly `count` gids and getgrouplist writes at most `count`
        // entries, storing the number it found in `count`.
        let ret =
            unsafe { libc::getgrouplist(user.as_ptr(), primary, groups.as_mut_ptr(), &mut count) };
        let found = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
        if ret >= 0 {
            if found > groups.len() {
                return Err(Errno::EOVERFLOW);
            }
            groups.truncate(found);
            return Ok(groups);
        }
        if found <= capacity {
            // -1 without a larger count is not "buffer too small": fail closed.
            return Err(match Errno::last() {
                Errno::UnknownErrno => Errno::EIO,
                errno => errno,
            });
        }
        capacity = found;
    }
    Err(Errno::EAGAIN)
}

/// The three per-thread capability sets as 64-bit masks, exactly as the
/// kernel reports them (including capabilities newer than any name table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapMasks {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// capget(2) for the calling thread.
pub fn capget() -> Result<CapMasks, Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // All ones until the kernel overwrites them: a capget that "succeeds"
    // without writing (a seccomp filter, a fault injector) must read as
    // "every capability", which verification rejects, never as "none".
    let all = CapData {
        effective: u32::MAX,
        permitted: u32::MAX,
        inheritable: u32::MAX,
    };
    let mut data = [all; 2];
    // SAFETY: version 3 takes a header and an array of two data structs,
    // both valid for writes and of the layout the kernel expects.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    Errno::result(ret)?;
    let join = |low: u32, high: u32| u64::from(low) | (u64::from(high) << 32);
    Ok(CapMasks {
        effective: join(data[0].effective, data[1].effective),
        permitted: join(data[0].permitted, data[1].permitted),
        inheritable: join(data[0].inheritable, data[1].inheritable),
    })
}

/// capset(2) for the calling thread.
pub fn capset(masks: CapMasks) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |mask: u64| (mask as u32, (mask >> 32) as u32);
    let (e0, e1) = split(masks.effective);
    let (p0, p1) = split(masks.permitted);
    let (i0, i1) = split(masks.inheritable);
    let data = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    // SAFETY: the header and the two data structs are valid for reads and
    // have the version-3 layout; the kernel may write the header's version.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    Errno::result(ret).map(drop)
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL): empty the ambient set.
pub fn clear_ambient_caps() -> Result<(), Errno> {
    // SAFETY: this prctl takes only integer arguments and touches no memory
    // of ours.
    let ret = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    Errno::result(ret).map(drop)
}

/// An id no credential can hold: (uid_t)-1. The spec parser never accepts
/// it, so a value still equal to it was never written by the kernel.
pub const UNSET_ID: u32 = u32::MAX;

/// Real, effective and saved ids as (real, effective, saved).
pub type ResIdTriple = (u32, u32, u32);

/// getresuid(2). The outputs start as [`UNSET_ID`], so a call that reports
/// success without writing them yields ids that match no plan.
pub fn getresuid() -> Result<ResIdTriple, Errno> {
    let (mut real, mut effective, mut saved) = (UNSET_ID, UNSET_ID, UNSET_ID);
    // SAFETY: three valid, initialised, writable uid_t locations.
    let ret = unsafe { libc::getresuid(&mut real, &mut effective, &mut saved) };
    Errno::result(ret)?;
    Ok((real, effective, saved))
}

/// getresgid(2), with the same guarantee as [`getresuid`].
pub fn getresgid() -> Result<ResIdTriple, Errno> {
    let (mut real, mut effective, mut saved) = (UNSET_ID, UNSET_ID, UNSET_ID);
    // SAFETY: three valid, initialised, writable gid_t locations.
    let ret = unsafe { libc::getresgid(&mut real, &mut effective, &mut saved) };
    Errno::result(ret)?;
    Ok((real, effective, saved))
}

/// Put SIGPIPE back to its default action.
///
/// Rust's runtime sets SIGPIPE to "ignore" before main, and an ignored
/// disposition survives execve: without this, `runas ... yes | head -n1`
/// would never end.
pub fn restore_default_sigpipe() -> Result<(), Errno> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: installing SIG_DFL runs no code of ours in signal context, so
    // none of signal()'s handler-safety requirements apply.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.map(drop)
}
