//! The few libc calls that have no safe wrapper in nix.
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
/// log(n) scans. The first call offers room for 1024 groups (one page);
/// a user in more costs exactly one more scan, at the reported size.
pub fn getgrouplist(user: &CStr, primary: u32) -> Result<Vec<u32>, Errno> {
    let mut capacity = 1024;
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

/// The names of these gids, for display, from one enumeration of the
/// group database (setgrent, getgrent_r, endgrent) instead of one lookup
/// per gid, each of which reads the whole database: `None` where the
/// enumeration has none (a service that does not enumerate, such as sssd
/// by default, answers only lookups). The first entry of a gid wins, as
/// getgrgid's does over the files.
#[cfg(not(target_env = "musl"))]
pub fn group_names(gids: &[u32]) -> Vec<Option<String>> {
    let mut wanted: Vec<u32> = gids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut names: Vec<Option<String>> = vec![None; wanted.len()];
    let mut buffer = vec![0u8; 4096];
    // SAFETY: setgrent and endgrent take no arguments; the enumeration's
    // state is the C library's, used by this one thread alone (runas
    // starts no thread).
    unsafe { libc::setgrent() };
    loop {
        // SAFETY: `entry` is written by getgrent_r, and its pointers point
        // into `buffer`, which outlives every use below; `found` is set to
        // `&mut entry` or null.
        let (ret, name, gid) = unsafe {
            let mut entry: libc::group = std::mem::zeroed();
            let mut found: *mut libc::group = std::ptr::null_mut();
            let ret = libc::getgrent_r(
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            );
            if ret != 0 || found.is_null() || entry.gr_name.is_null() {
                (ret, None, 0)
            } else {
                let name = CStr::from_ptr(entry.gr_name).to_string_lossy().into_owned();
                (ret, Some(name), entry.gr_gid)
            }
        };
        match (ret, name) {
            (libc::ERANGE, _) if buffer.len() < 1 << 24 => {
                let len = buffer.len() * 2;
                buffer.resize(len, 0);
            }
            (0, Some(name)) => {
                if let Ok(at) = wanted.binary_search(&gid)
                    && names[at].is_none()
                {
                    names[at] = Some(name);
                }
            }
            _ => break,
        }
    }
    // SAFETY: as setgrent above.
    unsafe { libc::endgrent() };
    gids.iter()
        .map(|gid| {
            wanted
                .binary_search(gid)
                .ok()
                .and_then(|at| names[at].clone())
        })
        .collect()
}

/// The static build never asks the C library for names alone (userdb.rs).
#[cfg(target_env = "musl")]
pub fn group_names(gids: &[u32]) -> Vec<Option<String>> {
    vec![None; gids.len()]
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

/// ioctl(fd, TIOCGPGRP): the foreground process group of the terminal on
/// `fd`. The kernel answers only when that terminal is the caller's
/// controlling terminal (ENOTTY otherwise), which is what makes this the
/// test for "is this descriptor my controlling terminal".
/// A raw descriptor, so that 0-2 can be asked even when the caller closed
/// them (EBADF then).
pub fn tiocgpgrp(fd: std::os::fd::RawFd) -> Result<i32, Errno> {
    let mut pgrp: libc::pid_t = 0;
    // SAFETY: TIOCGPGRP writes one pid_t to the pointer, which is valid;
    // any integer is a memory-safe descriptor argument (a closed one fails).
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGPGRP, &mut pgrp as *mut libc::pid_t) };
    Errno::result(ret)?;
    Ok(pgrp)
}

/// ioctl(fd, TIOCGDEV): the device number of the terminal `fd` refers to,
/// which fstat does not give for a descriptor opened from /dev/tty (that
/// is /dev/tty's own node, 5:0).
pub fn tiocgdev(fd: std::os::fd::RawFd) -> Result<u64, Errno> {
    let mut dev: libc::c_uint = 0;
    // SAFETY: TIOCGDEV writes one unsigned int to the pointer, which is
    // valid; any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGDEV, &raw mut dev) };
    Errno::result(ret)?;
    // The kernel's new_encode_dev: minor's low byte, major, minor's rest.
    let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    Ok(libc::makedev(major, minor))
}

/// ioctl(fd, TIOCGPTN): the number of the pseudo-terminal whose master
/// `fd` is; it answers only on a master.
pub fn tiocgptn(fd: std::os::fd::RawFd) -> Result<u32, Errno> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int to the pointer, which is
    // valid; any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGPTN, &raw mut number) };
    Errno::result(ret)?;
    Ok(number)
}

/// ioctl(fd, TIOCGSID): the session whose controlling terminal `fd` is; it
/// answers only on one's own controlling terminal (and a pty master).
pub fn tiocgsid(fd: std::os::fd::RawFd) -> Result<i32, Errno> {
    let mut sid: libc::pid_t = 0;
    // SAFETY: TIOCGSID writes one pid_t to the pointer, which is valid;
    // any integer is a memory-safe descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCGSID, &raw mut sid) };
    Errno::result(ret)?;
    Ok(sid)
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
        Errno::result(libc::sigaction(signal, &new, &mut old))?;
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
        Errno::result(libc::sigaction(signal, std::ptr::null(), &mut old))?;
        Ok(old.sa_sigaction == libc::SIG_IGN)
    }
}

/// Put back a disposition saved by [`default_disposition`].
pub fn restore_disposition(saved: SavedDisposition) -> Result<(), Errno> {
    // SAFETY: the action is one the kernel reported for this signal, so
    // it is either SIG_DFL, SIG_IGN, or a handler of this very program.
    let ret = unsafe { libc::sigaction(saved.1, &saved.0, std::ptr::null_mut()) };
    Errno::result(ret).map(drop)
}

/// ioctl(fd, TIOCVHANGUP): hang up the terminal on `fd` for every open
/// file that refers to it (needs CAP_SYS_ADMIN), as vhangup(2) does for
/// the controlling terminal.
pub fn tiocvhangup(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCVHANGUP takes no argument; any integer is a memory-safe
    // descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCVHANGUP) };
    Errno::result(ret).map(drop)
}

/// ioctl(fd, TIOCNOTTY): give up the controlling terminal.
pub fn tiocnotty(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: TIOCNOTTY takes no argument; any integer is a memory-safe
    // descriptor argument.
    let ret = unsafe { libc::ioctl(fd, libc::TIOCNOTTY) };
    Errno::result(ret).map(drop)
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
    Errno::result(ret)
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
    Errno::result(ret)
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
    Errno::result(ret)
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
    Errno::result(ret)
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

/// Whether the kernel started this program in secure-execution mode
/// (getauxval(AT_SECURE)): it gained privilege at exec, through set-user-ID,
/// set-group-ID or file capabilities. The C library has then already
/// removed LD_PRELOAD and the other unsafe variables from the environment.
pub fn at_secure() -> bool {
    // SAFETY: getauxval reads the auxiliary vector the kernel passed; it
    // takes an integer and returns an integer.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// The promises runas keeps as a whole program, on which fork(2) and
/// borrowing the C runtime's `environ` rest: the process has exactly one
/// thread, and nothing changes the environment (no setenv, putenv or
/// std::env::set_var). Functions that need them take this token, which
/// only the unsafe [`WholeProgram::promise`] makes.
#[derive(Debug, Clone, Copy)]
pub struct WholeProgram(());

impl WholeProgram {
    /// # Safety
    /// From the moment of the call to the end of the process, it has one
    /// thread and its environment does not change. src/main.rs calls this:
    /// runas starts no thread and never changes its environment.
    pub unsafe fn promise() -> WholeProgram {
        WholeProgram(())
    }
}

/// setgroups(2), setresgid(2) and setresuid(2) for the whole process.
///
/// Linux keeps credentials per thread; the C libraries' wrappers apply a
/// change to every thread, as POSIX wants. In the static (musl) build no
/// other thread can exist: runas starts none (the promise the token
/// stands for) and a static binary loads no code that could. There the
/// plain system call is the same change without musl's `__synccall`
/// (every signal blocked and the change broadcast: three rt_sigprocmask
/// calls around each, fifteen per run). The glibc build loads NSS modules
/// at run time, and a module may start a thread (tests/attacks.rs starts
/// one): there glibc's wrappers, which change every thread, are used.
/// verify.rs reads back what was done either way.
pub fn set_groups(_: WholeProgram, groups: &[u32]) -> Result<(), Errno> {
    #[cfg(target_env = "musl")]
    // SAFETY: the pointer and count describe `groups`, which the kernel
    // only reads; gid_t is u32 on Linux.
    let ret = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    #[cfg(not(target_env = "musl"))]
    // SAFETY: as above, through the C library's all-threads wrapper.
    let ret = unsafe { libc::setgroups(groups.len(), groups.as_ptr()) };
    Errno::result(ret).map(drop)
}

/// See [`set_groups`].
pub fn set_resgid(_: WholeProgram, gid: u32) -> Result<(), Errno> {
    #[cfg(target_env = "musl")]
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    #[cfg(not(target_env = "musl"))]
    // SAFETY: integers only.
    let ret = unsafe { libc::setresgid(gid, gid, gid) };
    Errno::result(ret).map(drop)
}

/// See [`set_groups`].
pub fn set_resuid(_: WholeProgram, uid: u32) -> Result<(), Errno> {
    #[cfg(target_env = "musl")]
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    #[cfg(not(target_env = "musl"))]
    // SAFETY: integers only.
    let ret = unsafe { libc::setresuid(uid, uid, uid) };
    Errno::result(ret).map(drop)
}

/// memmem(3): where `needle` first occurs in `haystack`. The C library's
/// (SIMD in glibc, two-way in musl) finds a name in a 10 MB account file
/// several times faster than a byte loop. A haystack of an ordinary
/// system's size is searched here instead: musl's two-way search puts a
/// 2 KiB table on the stack, at the deepest point of a run, where it cost
/// a page fault of its own. Only for a short needle (a name and a colon):
/// this search's worst case is the product of the two lengths.
pub fn memmem(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    const SMALL: usize = 64 * 1024;
    const SHORT: usize = 64;
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if haystack.len() <= SMALL && needle.len() <= SHORT {
        let mut from = 0;
        while let Some(at) = haystack[from..].iter().position(|&b| b == first) {
            let start = from + at;
            if haystack[start + 1..].starts_with(rest) {
                return Some(start);
            }
            from = start + 1;
        }
        return None;
    }
    // SAFETY: both pointers and lengths describe live slices, which memmem
    // only reads; the result is null or points into `haystack`.
    let found = unsafe {
        libc::memmem(
            haystack.as_ptr().cast(),
            haystack.len(),
            needle.as_ptr().cast(),
            needle.len(),
        )
    };
    (!found.is_null()).then(|| found as usize - haystack.as_ptr() as usize)
}

/// A large file's contents in anonymous memory backed by transparent huge
/// pages where the kernel allows them (madvise mode, the default of most
/// distributions): a 10 MB /etc/group read into ordinary pages costs a
/// page fault per 4 KiB (about 2,500 of them, several milliseconds), into
/// 2 MiB pages a handful. The mapping is private and anonymous, so nobody
/// can change it under runas (a file mapping could change, or raise
/// SIGBUS, if the file did).
pub struct FileBuffer {
    map: *mut u8,
    map_len: usize,
    /// Where the contents start: the first 2 MiB boundary in the mapping.
    start: usize,
    len: usize,
}

const HUGE_PAGE: usize = 2 << 20;

impl FileBuffer {
    /// Read all of `fd` (a regular file of about `size` bytes) into a new
    /// buffer. The file may have grown since its size was taken: reading
    /// goes on until read(2) returns 0, into a bigger buffer if need be.
    pub fn read(fd: std::os::fd::BorrowedFd<'_>, size: usize) -> Result<FileBuffer, Errno> {
        use std::os::fd::AsRawFd;
        let mut buffer = FileBuffer::with_capacity(size + 1)?;
        loop {
            if buffer.len == buffer.capacity() {
                let mut bigger = FileBuffer::with_capacity(buffer.capacity() * 2)?;
                bigger.spare()[..buffer.len].copy_from_slice(buffer.as_slice());
                bigger.len = buffer.len;
                buffer = bigger;
            }
            let spare = buffer.spare();
            // SAFETY: the pointer and length describe the writable, unused
            // part of the mapping, which nothing else refers to.
            let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
            match Errno::result(n) {
                Ok(0) => return Ok(buffer),
                Ok(n) => buffer.len += n as usize,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn with_capacity(capacity: usize) -> Result<FileBuffer, Errno> {
        // Room to start at a 2 MiB boundary.
        let map_len = capacity.div_ceil(HUGE_PAGE) * HUGE_PAGE + HUGE_PAGE;
        // SAFETY: a new private anonymous mapping; no existing memory is
        // named.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let start = (map as usize).next_multiple_of(HUGE_PAGE) - map as usize;
        // SAFETY: the range lies inside the mapping just made. Advice only:
        // where the kernel has no huge pages, ordinary ones serve.
        unsafe {
            libc::madvise(
                map.cast::<u8>().add(start).cast(),
                map_len - start,
                libc::MADV_HUGEPAGE,
            );
        }
        Ok(FileBuffer {
            map: map.cast(),
            map_len,
            start,
            len: 0,
        })
    }

    fn capacity(&self) -> usize {
        self.map_len - self.start
    }

    fn spare(&mut self) -> &mut [u8] {
        // SAFETY: [start + len, map_len) lies inside the mapping, which this
        // buffer alone owns; &mut self makes the borrow exclusive.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.map.add(self.start + self.len),
                self.capacity() - self.len,
            )
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: [start, start + len) lies inside the mapping and was
        // written by read(2).
        unsafe { std::slice::from_raw_parts(self.map.add(self.start), self.len) }
    }
}

impl Drop for FileBuffer {
    fn drop(&mut self) {
        // SAFETY: the mapping this buffer made, unmapped once.
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}

// SAFETY: the buffer owns its mapping outright and hands out shared
// slices only through &self; nothing in it is tied to a thread.
unsafe impl Send for FileBuffer {}
unsafe impl Sync for FileBuffer {}

/// fork(2).
pub fn fork(_: WholeProgram) -> Result<nix::unistd::ForkResult, Errno> {
    // SAFETY: the token's promise: one thread, so the child is a complete
    // copy of the process and may run any code, allocation included.
    unsafe { nix::unistd::fork() }
}

/// An id no credential can hold: (uid_t)-1. The spec parser never accepts
/// it, so a value still equal to it was never written by the kernel.
pub const UNSET_ID: u32 = u32::MAX;

/// getgroups(2), sized by asking the kernel for the count first. (nix's
/// version sizes its buffer with sysconf(NGROUPS_MAX), which glibc answers
/// by reading /proc/sys/kernel/ngroups_max at every call.) Only what the
/// kernel reports it wrote is kept, so a call that "succeeds" without
/// writing yields an empty list, which matches no plan that has groups.
pub fn getgroups() -> Result<Vec<u32>, Errno> {
    // Most lists fit in a small first guess: one call instead of the two
    // of count-then-read. EINVAL says the list is longer.
    const FIRST_GUESS: usize = 64;
    let mut guess = [UNSET_ID; FIRST_GUESS];
    // SAFETY: `guess` has room for FIRST_GUESS gids, the size passed.
    let written = unsafe { libc::getgroups(FIRST_GUESS as libc::c_int, guess.as_mut_ptr()) };
    match Errno::result(written) {
        Ok(n) if usize::try_from(n).is_ok_and(|n| n <= FIRST_GUESS) => {
            return Ok(guess[..n as usize].to_vec());
        }
        Ok(_) | Err(Errno::EINVAL) => {}
        Err(e) => return Err(e),
    }
    let mut last = Errno::EINVAL;
    // The list cannot grow between the two calls of a single-threaded
    // process; a few attempts bound the loop against a kernel (or a fault
    // injector) that says otherwise.
    for _ in 0..4 {
        // SAFETY: a size of 0 with a null list only returns the count.
        let count = Errno::result(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut groups = vec![UNSET_ID; usize::try_from(count).unwrap_or(0)];
        // SAFETY: `groups` has room for exactly `count` gids.
        let written = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
        match Errno::result(written) {
            Ok(n) if usize::try_from(n).is_ok_and(|n| n <= groups.len()) => {
                groups.truncate(usize::try_from(n).unwrap_or(0));
                return Ok(groups);
            }
            Ok(_) => last = Errno::EINVAL,
            Err(Errno::EINVAL) => last = Errno::EINVAL,
            Err(e) => return Err(e),
        }
    }
    Err(last)
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

/// The filesystem uid and gid: setfsuid and setfsgid with an invalid id
/// (-1) change nothing and return the current value. (The kernel checks
/// file access with these, not the effective ids.)
pub fn filesystem_ids() -> (u32, u32) {
    // SAFETY: integer arguments and results only; -1 is never a valid id,
    // so nothing is changed.
    let (uid, gid) = unsafe { (libc::setfsuid(UNSET_ID), libc::setfsgid(UNSET_ID)) };
    (uid as u32, gid as u32)
}

/// Whether the file has capabilities attached (the security.capability
/// extended attribute, which `setcap` writes).
pub fn has_file_capabilities(path: &CStr) -> Result<bool, Errno> {
    // SAFETY: a NUL-terminated path and attribute name; a null buffer of
    // size 0 only asks for the attribute's size.
    let ret = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"security.capability".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    match Errno::result(ret) {
        Ok(_) => Ok(true),
        Err(Errno::ENODATA | Errno::EOPNOTSUPP) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `path` carries a POSIX access ACL (its mode bits then do not
/// tell who may use it). An error counts as "it may": the caller only
/// predicts.
pub fn has_access_acl(path: &CStr) -> bool {
    // SAFETY: a NUL-terminated path and attribute name; a null buffer of
    // size 0 only asks for the attribute's size.
    let ret = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"system.posix_acl_access".as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    !matches!(Errno::result(ret), Err(Errno::ENODATA | Errno::EOPNOTSUPP))
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

/// sigwait(3): the next of these blocked signals, by number. Not nix's
/// `SigSet::wait`, which panics on a number its `Signal` lacks (and whose
/// unwrap carries nix's errno tables into every start: see errno_text).
pub fn sigwait(set: &nix::sys::signal::SigSet) -> Result<i32, Errno> {
    let mut signal = 0;
    // SAFETY: a valid sigset_t and a valid place for the number.
    let status = unsafe { libc::sigwait(set.as_ref(), &mut signal) };
    match status {
        0 => Ok(signal),
        // musl's returns -1 and sets errno; glibc's returns the error.
        -1 => Err(Errno::last()),
        errno => Err(Errno::from_raw(errno)),
    }
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

/// A bump allocator for this short-lived process (the static build's; see
/// src/main.rs for the figures).
///
/// runas allocates a few hundred small blocks and then replaces itself
/// with execve, so freeing memory buys nothing. musl's allocator, by
/// contrast, maps and unmaps pages for many of these blocks, and each
/// munmap costs a TLB flush: replacing this allocator with musl's costs
/// about 16 us per launch (bench/run). Blocks come from a zero-initialised
/// static arena (its pages are touched only as it fills); what does not fit
/// goes to the system allocator.
pub struct BumpAllocator;

const ARENA_SIZE: usize = 1 << 20;

// The count comes first: the page it is on is written at the first
// allocation anyway, so the count costs no page of its own (after the
// arena, it would: 1 MiB away).
#[repr(C)]
struct Arena {
    used: std::sync::atomic::AtomicUsize,
    bytes: std::cell::UnsafeCell<[u8; ARENA_SIZE]>,
}

// SAFETY: the arena hands out disjoint ranges, reserved with an atomic
// compare-and-swap, so no two threads ever get the same bytes.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena {
    used: std::sync::atomic::AtomicUsize::new(0),
    bytes: std::cell::UnsafeCell::new([0; ARENA_SIZE]),
};

impl Arena {
    fn contains(&self, ptr: *mut u8) -> bool {
        let start = self.bytes.get() as usize;
        (start..start + ARENA_SIZE).contains(&(ptr as usize))
    }
}

// SAFETY: every pointer returned is either a fresh, suitably aligned,
// exclusively reserved range of the arena, or comes from System, and
// dealloc/realloc pass System's pointers back to System only.
unsafe impl std::alloc::GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering;
        let base = ARENA.bytes.get() as usize;
        let mut used = ARENA.used.load(Ordering::Relaxed);
        loop {
            let start = (base + used).next_multiple_of(layout.align()) - base;
            let Some(end) = start
                .checked_add(layout.size())
                .filter(|end| *end <= ARENA_SIZE)
            else {
                // SAFETY: forwarded unchanged to the system allocator.
                return unsafe { std::alloc::System.alloc(layout) };
            };
            match ARENA
                .used
                .compare_exchange_weak(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: start..end lies inside the arena and is now ours.
                Ok(_) => return unsafe { (ARENA.bytes.get() as *mut u8).add(start) },
                Err(now) => used = now,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if !ARENA.contains(ptr) {
            // SAFETY: not an arena block, so System allocated it with this layout.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use std::sync::atomic::Ordering;
        // The block allocated last (a Vec being pushed to, as most are)
        // grows where it is: every page of the arena touched is a page
        // fault, and a copy would leave the old block unused. A block never
        // shrinks back into the arena: bytes handed out once may have been
        // written, and alloc_zeroed counts on the rest being zero. Shrunk,
        // it keeps its place (dealloc of an arena block is a no-op).
        if ARENA.contains(ptr) && new_size <= layout.size() {
            return ptr;
        }
        if ARENA.contains(ptr) {
            let base = ARENA.bytes.get() as usize;
            let start = ptr as usize - base;
            let end = start + layout.size();
            if let Some(new_end) = start
                .checked_add(new_size)
                .filter(|new_end| *new_end <= ARENA_SIZE)
                && ARENA
                    .used
                    .compare_exchange(end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return ptr;
            }
        }
        // SAFETY: the default: a new block of the new size (same alignment),
        // the old contents copied, the old block released.
        unsafe {
            let new_layout =
                std::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // Large zeroed blocks (the getgrouplist buffer) go to the system,
        // which gets them zeroed from the kernel without writing them.
        if layout.size() > 4096 {
            // SAFETY: forwarded unchanged to the system allocator.
            return unsafe { std::alloc::System.alloc_zeroed(layout) };
        }
        // SAFETY: as alloc; arena bytes are zero until handed out, and
        // never handed out twice.
        unsafe { self.alloc(layout) }
    }
}

/// setpriority(PRIO_PROCESS, 0, nice): this process's nice value.
pub fn set_nice(nice: i32) -> Result<(), Errno> {
    // SAFETY: integers only.
    Errno::result(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) }).map(drop)
}

/// getpriority(PRIO_PROCESS, 0). The libc call returns the nice value
/// itself, so -1 is both a value and the error sign: errno, cleared first,
/// tells them apart.
pub fn get_nice() -> Result<i32, Errno> {
    Errno::clear();
    // SAFETY: integers only.
    let value = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    match (value, Errno::last_raw()) {
        (-1, errno) if errno != 0 => Err(Errno::from_raw(errno)),
        (value, _) => Ok(value),
    }
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, prio): this thread's I/O priority
/// (runas never starts another thread).
pub fn set_ioprio(prio: u16) -> Result<(), Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: integers only.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            0 as libc::c_int,
            libc::c_int::from(prio),
        )
    };
    Errno::result(ret).map(drop)
}

/// ioprio_get(IOPRIO_WHO_PROCESS, 0).
pub fn get_ioprio() -> Result<u16, Errno> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    // SAFETY: integers only.
    let ret = unsafe { libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0 as libc::c_int) };
    Errno::result(ret).map(|v| v as u16)
}

/// The number of CPUs a `cpu_set_t` holds (CPU_SETSIZE).
pub const CPU_SETSIZE: usize = libc::CPU_SETSIZE as usize;

/// sched_setaffinity(0, cpus): this thread's CPUs.
pub fn set_affinity(cpus: &[usize]) -> Result<(), Errno> {
    // SAFETY: cpu_set_t is plain bits, all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        if cpu >= CPU_SETSIZE {
            return Err(Errno::EINVAL);
        }
        // SAFETY: cpu < CPU_SETSIZE, checked above: the bit is inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: the pointer and size describe `set`, which lives across the call.
    let ret = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    Errno::result(ret).map(drop)
}

/// sched_getaffinity(0): this thread's CPUs, ascending.
pub fn get_affinity() -> Result<Vec<usize>, Errno> {
    // SAFETY: cpu_set_t is plain bits, all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and size describe `set`, which the kernel fills.
    let ret =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    Errno::result(ret)?;
    Ok((0..CPU_SETSIZE)
        // SAFETY: cpu < CPU_SETSIZE: the bit is inside `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_file_is_read_whole_even_past_its_announced_size() {
        use std::io::Write;
        use std::os::fd::AsFd;
        let mut file = tempfile::tempfile().unwrap();
        let text: Vec<u8> = (0..3 * HUGE_PAGE + 12345)
            .map(|i| (i % 251) as u8)
            .collect();
        file.write_all(&text).unwrap();
        use std::io::Seek;
        for hint in [text.len(), 10, HUGE_PAGE - 1] {
            file.rewind().unwrap();
            let buffer = FileBuffer::read(file.as_fd(), hint).unwrap();
            assert_eq!(buffer.as_slice().len(), text.len(), "hint {hint}");
            assert!(buffer.as_slice() == &text[..], "hint {hint}");
            assert_eq!(buffer.as_slice().as_ptr() as usize % HUGE_PAGE, 0);
        }
    }

    #[test]
    fn the_arena_grows_its_last_block_in_place_and_hands_out_zeroes() {
        use std::alloc::{GlobalAlloc, Layout};
        let a = BumpAllocator;
        let small = Layout::from_size_align(16, 8).unwrap();
        // SAFETY (test): blocks are used within their layouts only.
        unsafe {
            let p = a.alloc(small);
            p.write_bytes(0xaa, 16);
            let grown = a.realloc(p, small, 64);
            assert_eq!(grown, p, "the last block grows in place");
            assert_eq!(*grown.add(15), 0xaa);
            // Shrunk, it stays; its bytes never come back zeroed.
            let shrunk = a.realloc(grown, Layout::from_size_align(64, 8).unwrap(), 8);
            assert_eq!(shrunk, p);
            let next = a.alloc_zeroed(Layout::from_size_align(64, 8).unwrap());
            assert!((0..64).all(|i| *next.add(i) == 0));
            // Not the last block any more: moved, contents kept.
            let moved = a.realloc(shrunk, Layout::from_size_align(64, 8).unwrap(), 128);
            assert_ne!(moved, p);
            assert_eq!(*moved.add(7), 0xaa);
        }
    }

    #[test]
    fn memmem_finds_the_first_occurrence() {
        assert_eq!(memmem(b"abcabc", b"ca"), Some(2));
        assert_eq!(memmem(b"abcabc", b"x"), None);
        assert_eq!(memmem(b"", b"a"), None);
        assert_eq!(memmem(b"ab", b""), Some(0));
        assert_eq!(memmem(b"aab", b"ab"), Some(1));
        assert_eq!(memmem(b"a", b"ab"), None);
    }

    #[test]
    fn memmem_agrees_with_a_plain_search_on_both_sides_of_the_size_switch() {
        let naive = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
        for size in [10, 1000, 64 * 1024, 64 * 1024 + 1, 200_000] {
            // Lines of names that share prefixes, as an account file's do.
            let haystack: Vec<u8> = (0..)
                .flat_map(|i: u32| format!("t{}:x:{i}:{i}::/:/bin/sh\n", i % 977).into_bytes())
                .take(size)
                .collect();
            for needle in [&b"\nt976:"[..], b"t97", b"nothere", b"h\n", b"\n"] {
                assert_eq!(
                    memmem(&haystack, needle),
                    naive(&haystack, needle),
                    "{size}"
                );
            }
            let tail = &haystack[size - 3..];
            assert_eq!(memmem(&haystack, tail), naive(&haystack, tail), "{size}");
            // Long needles go to the C library whatever the haystack.
            let long = &haystack[size.saturating_sub(100)..];
            assert_eq!(memmem(&haystack, long), naive(&haystack, long), "{size}");
            assert_eq!(memmem(&haystack, &[b'x'; 100]), None, "{size}");
        }
    }
    use std::alloc::{GlobalAlloc, Layout};

    #[test]
    fn bump_blocks_are_aligned_disjoint_and_large_ones_fall_back() {
        let a = BumpAllocator;
        let mut blocks = Vec::new();
        for (size, align) in [(1, 1), (3, 2), (24, 8), (100, 64), (7, 4096), (4096, 16)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: valid non-zero layouts; freed below with the same layout.
            let p = unsafe { a.alloc(layout) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0, "alignment {align}");
            // SAFETY: the block has `size` writable bytes.
            unsafe { std::ptr::write_bytes(p, 0xAB, size) };
            blocks.push((p as usize, size, layout, p));
        }
        let mut ranges: Vec<(usize, usize)> = blocks.iter().map(|b| (b.0, b.0 + b.1)).collect();
        ranges.sort_unstable();
        assert!(
            ranges.windows(2).all(|w| w[0].1 <= w[1].0),
            "overlapping blocks"
        );
        let big = Layout::from_size_align(ARENA_SIZE * 2, 8).unwrap();
        // SAFETY: valid layout; freed with the same layout.
        let p = unsafe { a.alloc_zeroed(big) };
        assert!(!p.is_null() && !ARENA.contains(p));
        // SAFETY: zeroed block of that size.
        assert_eq!(unsafe { *p.add(ARENA_SIZE) }, 0);
        // SAFETY: each pointer came from this allocator with this layout.
        unsafe {
            a.dealloc(p, big);
            for (_, _, layout, p) in blocks {
                a.dealloc(p, layout);
            }
        }
    }

    #[test]
    fn getgrouplist_reports_the_primary_gid_even_for_an_unknown_user() {
        let groups = getgrouplist(c"no-such-user-runas-unit-test", 4242).unwrap();
        assert_eq!(groups, vec![4242]);
    }

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
