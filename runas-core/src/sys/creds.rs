//! Credentials: the ids, the supplementary groups, the capability sets,
//! securebits and the session keyring, as the kernel holds them.

use nix::errno::Errno;
use nix::libc;

/// The kernel's limit on supplementary groups (NGROUPS_MAX on Linux).
pub const KERNEL_NGROUPS_MAX: usize = 65536;

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
    let ret = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
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
    let ret = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    Errno::result(ret).map(drop)
}

/// prctl(2) for the options below, all of which take and return integers
/// only. Private so that no caller can pass an option that takes a pointer.
fn prctl_int(
    option: libc::c_int,
    arg2: libc::c_ulong,
    arg3: libc::c_ulong,
) -> Result<libc::c_int, Errno> {
    // SAFETY: every option used with this wrapper reads its arguments as
    // integers and writes no memory of ours.
    let ret = unsafe { libc::prctl(option, arg2, arg3, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    Errno::result(ret)
}

/// Empty the ambient capability set.
pub fn clear_ambient_caps() -> Result<(), Errno> {
    prctl_int(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
    .map(drop)
}

/// Raise one capability in the ambient set.
pub fn raise_ambient_cap(cap: u32) -> Result<(), Errno> {
    prctl_int(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
        cap.into(),
    )
    .map(drop)
}

/// Whether one capability is in the ambient set.
pub fn ambient_cap_is_set(cap: u32) -> Result<bool, Errno> {
    prctl_int(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_IS_SET as libc::c_ulong,
        cap.into(),
    )
    .map(|v| v == 1)
}

/// Whether one capability is in the bounding set; EINVAL past the last
/// capability the kernel knows.
pub fn bounding_has(cap: u32) -> Result<bool, Errno> {
    prctl_int(libc::PR_CAPBSET_READ, cap.into(), 0).map(|v| v == 1)
}

/// Remove one capability from the bounding set (needs CAP_SETPCAP).
pub fn bounding_drop(cap: u32) -> Result<(), Errno> {
    prctl_int(libc::PR_CAPBSET_DROP, cap.into(), 0).map(drop)
}

/// The securebits flags.
pub fn get_securebits() -> Result<u32, Errno> {
    prctl_int(libc::PR_GET_SECUREBITS, 0, 0).map(|v| v as u32)
}

/// Set the securebits flags (needs CAP_SETPCAP).
pub fn set_securebits(bits: u32) -> Result<(), Errno> {
    prctl_int(libc::PR_SET_SECUREBITS, bits.into(), 0).map(drop)
}

/// A system call's c_long result as i64: c_long is i32 on 32-bit targets.
#[allow(clippy::useless_conversion)] // the same type on 64-bit targets
fn long_result(ret: libc::c_long) -> Result<i64, Errno> {
    Errno::result(ret).map(i64::from)
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): replace this process's
/// session keyring with a new anonymous one, owned by its current
/// (filesystem) uid. Returns the new keyring's serial number.
pub fn join_new_session_keyring() -> Result<i64, Errno> {
    // SAFETY: a NULL name is the documented request for an anonymous
    // keyring; the other arguments are unused by this operation.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    long_result(ret)
}

/// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0): the serial
/// number of the session keyring, creating nothing.
pub fn session_keyring_id() -> Result<i64, Errno> {
    // SAFETY: integers only.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_GET_KEYRING_ID,
            libc::KEY_SPEC_SESSION_KEYRING,
            0,
        )
    };
    long_result(ret)
}

/// Whether the keyring `spec` (KEY_SPEC_PROCESS_KEYRING, ...) exists and
/// links any key: keyctl(KEYCTL_GET_KEYRING_ID, spec, 0), creating
/// nothing, then keyctl(KEYCTL_READ, serial, NULL, 0), which returns the
/// size of its list of serials.
pub fn keyring_holds_keys(spec: i32) -> Result<bool, Errno> {
    // SAFETY: integers only.
    let serial = unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_GET_KEYRING_ID, spec, 0) };
    let serial = match Errno::result(serial) {
        Ok(serial) => serial,
        Err(Errno::ENOKEY) => return Ok(false),
        Err(errno) => return Err(errno),
    };
    // SAFETY: a NULL buffer of length 0 asks only for the size.
    let size = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_READ,
            serial,
            std::ptr::null_mut::<libc::c_char>(),
            0usize,
        )
    };
    Ok(Errno::result(size)? > 0)
}

/// add_key(2) with no arguments: EFAULT where the call is allowed (it reads
/// the type first), what a seccomp filter answers where it is not.
pub fn add_key_probe() -> Result<i64, Errno> {
    // SAFETY: NULL pointers and zeros: the kernel fails on the first
    // pointer it copies from, and writes nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0usize,
            0,
        )
    };
    long_result(ret)
}

/// request_key(2) with no arguments: EFAULT where allowed, as above.
pub fn request_key_probe() -> Result<i64, Errno> {
    // SAFETY: as add_key_probe.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_request_key,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_char>(),
            0,
        )
    };
    long_result(ret)
}

/// keyctl(KEYCTL_DESCRIBE) of the session keyring: its owner's uid
/// (`type;uid;gid;perm;description`).
pub fn session_keyring_owner() -> Result<u32, Errno> {
    let mut text = [0u8; 256];
    // SAFETY: the buffer and its length describe `text`, which the kernel
    // writes at most that many bytes of.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_DESCRIBE,
            libc::KEY_SPEC_SESSION_KEYRING,
            text.as_mut_ptr(),
            text.len(),
        )
    };
    let len = usize::try_from(Errno::result(ret)?).map_err(|_| Errno::EINVAL)?;
    // The description comes last and may be cut at the buffer's end; the
    // uid is the second field.
    text[..len.min(text.len())]
        .split(|&b| b == b';')
        .nth(1)
        .and_then(|uid| std::str::from_utf8(uid).ok()?.parse().ok())
        .ok_or(Errno::EINVAL)
}

/// setgroups(2), setresgid(2) and setresuid(2) for the whole process,
/// through the C library's wrappers, which apply the change to every
/// thread as POSIX wants (Linux keeps credentials per thread). runas starts
/// no thread, but the glibc build loads NSS modules, and a module may start
/// one (tests/attacks.rs starts one). verify.rs reads back what was done.
pub fn set_groups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: the pointer and count describe `groups`, which the C library
    // and the kernel only read; gid_t is u32 on Linux.
    let ret = unsafe { libc::setgroups(groups.len(), groups.as_ptr()) };
    Errno::result(ret).map(drop)
}

/// See [`set_groups`].
pub fn set_resgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::setresgid(gid, gid, gid) };
    Errno::result(ret).map(drop)
}

/// See [`set_groups`].
pub fn set_resuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::setresuid(uid, uid, uid) };
    Errno::result(ret).map(drop)
}

/// Ask the kernel whether this thread could take `uid` (or `gid`) back
/// in all three slots: setresuid(2) / setresgid(2) as the plain system
/// call. Verification calls these after the drop and requires EPERM. The
/// C library's wrappers would, for a call that succeeds, also change every
/// other thread; for one that fails they do nothing more than the system
/// call in this thread, the one that execs, at the cost of blocking and
/// restoring every signal around it (musl: three rt_sigprocmask calls).
/// A probe that succeeds is a failed verification either way.
pub fn probe_setresuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    Errno::result(ret).map(drop)
}

/// See [`probe_setresuid`].
pub fn probe_setresgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    Errno::result(ret).map(drop)
}

/// An id no credential can hold: (uid_t)-1. The spec parser never accepts
/// it, so a value still equal to it was never written by the kernel.
pub const UNSET_ID: u32 = u32::MAX;

/// getgroups(2), sized by asking the kernel for the count first. (nix's
/// version sizes its buffer with sysconf(NGROUPS_MAX), which glibc answers
/// by reading /proc/sys/kernel/ngroups_max at every call.) Only what the
/// kernel reports it wrote is kept, so a call that "succeeds" without
/// writing yields an empty list, which matches no plan that has groups.
/// `expected` (a plan's count) sizes the first attempt.
pub fn getgroups(expected: usize) -> Result<Vec<u32>, Errno> {
    // The list in room for `room` gids; None when the kernel holds more.
    let read = |room: usize| -> Result<Option<Vec<u32>>, Errno> {
        let mut groups = vec![UNSET_ID; room];
        match getgroups_into(&mut groups) {
            Ok(n) => {
                groups.truncate(n);
                Ok(Some(groups))
            }
            Err(Errno::EINVAL) => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Most lists fit in a small first guess: one call instead of the two
    // of count-then-read (on the stack: the default path allocates only
    // what it keeps). A longer expected list gets room for itself (a list
    // of another length then reads as count-then-read reads it).
    const FIRST_GUESS: usize = 64;
    if expected < FIRST_GUESS {
        let mut guess = [UNSET_ID; FIRST_GUESS];
        match getgroups_into(&mut guess) {
            Ok(n) => return Ok(guess[..n].to_vec()),
            Err(Errno::EINVAL) => {}
            Err(e) => return Err(e),
        }
    } else if let Some(groups) = read(expected)? {
        return Ok(groups);
    }
    // The list cannot grow between the two calls of a single-threaded
    // process; a few attempts bound the loop against a kernel (or a fault
    // injector) that says otherwise.
    for _ in 0..4 {
        // SAFETY: a size of 0 with a null list only returns the count.
        let count = Errno::result(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
        if count == 0 {
            return Ok(Vec::new());
        }
        if let Some(groups) = read(usize::try_from(count).unwrap_or(0))? {
            return Ok(groups);
        }
    }
    Err(Errno::EINVAL)
}

/// The filesystem uid and gid: setfsuid and setfsgid with an invalid id
/// (-1) change nothing and return the current value. (The kernel checks
/// file access with these, not the effective ids.)
pub fn filesystem_ids() -> (u32, u32) {
    // SAFETY: integer arguments and results only; -1 is never a valid id,
    // so nothing is changed.
    let (uid, gid) = unsafe { (libc::setfsuid(UNSET_ID), libc::setfsgid(UNSET_ID)) };
    (uid as u32, gid as u32)
}

/// getgroups(2) into a buffer the caller allocated: how many it wrote.
/// EINVAL when the list is longer than the buffer (or a count beyond it
/// comes back). Allocates nothing (a forked child may call it).
pub fn getgroups_into(buffer: &mut [u32]) -> Result<usize, Errno> {
    let size = libc::c_int::try_from(buffer.len()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: `buffer` has room for `size` gids, the size passed.
    let written = unsafe { libc::getgroups(size, buffer.as_mut_ptr()) };
    usize::try_from(Errno::result(written)?)
        .ok()
        .filter(|&n| n <= buffer.len())
        .ok_or(Errno::EINVAL)
}

/// setgroups(2), setresgid(2) and setresuid(2) as the plain system calls,
/// for a child between fork and exec: it has one thread (fork copies only
/// the caller), and the C libraries' wrappers, which broadcast a change to
/// every thread, take locks another thread of the parent may have held at
/// the fork. Nothing here allocates.
pub fn child_setgroups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: the pointer and count describe `groups`, which the kernel
    // only reads; gid_t is u32 on Linux.
    let ret = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    Errno::result(ret).map(drop)
}

/// See [`child_setgroups`].
pub fn child_setresgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    Errno::result(ret).map(drop)
}

/// See [`child_setgroups`].
pub fn child_setresuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    Errno::result(ret).map(drop)
}

/// /proc/self/task, opened once for one reading of the process's threads,
/// and checked to be procfs (a file system mounted over /proc could
/// answer anything).
pub struct Tasks(nix::dir::Dir);

impl Tasks {
    pub fn open() -> std::io::Result<Tasks> {
        use nix::fcntl::OFlag;
        let dir = nix::dir::Dir::open(
            c"/proc/self/task",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        if nix::sys::statfs::fstatfs(&dir)?.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC
        {
            return Err(std::io::Error::other("/proc/self/task is not on procfs"));
        }
        Ok(Tasks(dir))
    }

    /// The thread ids listed, sorted.
    pub fn ids(&mut self) -> std::io::Result<Vec<u32>> {
        let mut ids = Vec::new();
        for entry in self.0.iter() {
            if let Some(tid) = entry?
                .file_name()
                .to_str()
                .ok()
                .and_then(|n| n.parse().ok())
            {
                ids.push(tid);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The text of `NAME` under this directory (`TID/status`, or
    /// `../status`, the process's); `Ok(None)` where it is gone (a thread
    /// that has exited).
    pub fn read(&self, name: &str) -> std::io::Result<Option<String>> {
        use nix::fcntl::OFlag;
        use std::io::Read;
        let fd = match nix::fcntl::openat(
            &self.0,
            name,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ESRCH) => return Ok(None),
            Err(errno) => return Err(errno.into()),
        };
        let mut text = String::new();
        match std::fs::File::from(fd).read_to_string(&mut text) {
            Ok(_) => Ok(Some(text)),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The calling thread's id (gettid(2)).
pub fn thread_id() -> u32 {
    nix::unistd::gettid().as_raw().unsigned_abs()
}

/// Run `hook` over `state` in the child of `command`, between fork and
/// exec, and fail the spawn with its errno if it fails.
///
/// What runs there must be async-signal-safe: the parent may have had
/// other threads, holding locks (the allocator's among them) that no
/// thread will release in the child. So the hook is a plain function over
/// state allocated before the fork, and this is for this crate alone: its
/// one caller passes `core::run::in_child`, which makes system calls over
/// that state and allocates nothing.
pub(crate) fn before_exec<S: Send + Sync + 'static>(
    command: &mut std::process::Command,
    mut state: S,
    hook: fn(&mut S) -> Result<(), Errno>,
) {
    use std::os::unix::process::CommandExt;
    // SAFETY: pre_exec's contract, as above: the closure moves in state
    // allocated before the fork and calls `hook`, whose one caller in this
    // crate makes system calls only; io::Error::from_raw_os_error does not
    // allocate.
    unsafe {
        command.pre_exec(move || {
            hook(&mut state).map_err(|errno| std::io::Error::from_raw_os_error(errno as i32))
        });
    }
}
