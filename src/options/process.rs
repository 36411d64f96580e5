//! Process attributes the target inherits besides its credentials: the
//! parent-death signal, no_new_privs, the umask, the working directory and
//! the open file descriptors. (The controlling terminal: terminal.rs.)

use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::plan::Plan;
use crate::sys;
use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, getppid};
use std::ffi::OsString;
use std::fmt;
use std::os::fd::RawFd;

/// The descriptors above 2 the target keeps through --close-fds: the
/// --keep-fd ones, systemd's sockets (`listen` of them from 3), and a
/// daemon's pidfile lock, whose number is known once it is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// Sorted, without duplicates, all above 2.
    pub fds: Vec<u32>,
    pub listen: u32,
    pub pidfile: bool,
}

impl Kept {
    pub fn new(keep: &[i32], listen: u32) -> Kept {
        let mut fds: Vec<u32> = keep
            .iter()
            .filter_map(|fd| u32::try_from(*fd).ok())
            .filter(|fd| *fd > 2)
            .collect();
        fds.sort_unstable();
        fds.dedup();
        Kept {
            fds,
            listen,
            pidfile: false,
        }
    }

    /// With the pidfile's lock descriptor, once there is one.
    fn with_lock(&self, lock: Option<RawFd>) -> Kept {
        match lock {
            Some(fd) => {
                let mut keep: Vec<i32> = self.fds.iter().map(|&fd| fd as i32).collect();
                keep.push(fd);
                Kept::new(&keep, self.listen)
            }
            None => self.clone(),
        }
    }

    pub fn contains(&self, fd: u32) -> bool {
        (3..3 + u64::from(self.listen)).contains(&u64::from(fd))
            || self.fds.binary_search(&fd).is_ok()
    }

    /// The ranges of descriptors from 3 up that are not kept: a range for
    /// systemd's sockets, whatever their count, never one entry per socket.
    pub fn closing_ranges(&self) -> Vec<(u32, u32)> {
        let mut ranges = Vec::new();
        let mut next = 3u64.saturating_add(u64::from(self.listen));
        for &fd in &self.fds {
            let fd = u64::from(fd);
            if fd > next {
                ranges.push((next, fd - 1));
            }
            next = next.max(fd + 1);
        }
        if next <= u64::from(u32::MAX) {
            ranges.push((next, u64::from(u32::MAX)));
        }
        ranges
            .into_iter()
            .map(|(a, b)| (a as u32, b as u32))
            .collect()
    }
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keeping {:?}", self.fds)?;
        match self.listen {
            0 => {}
            1 => write!(f, " and systemd's socket 3")?,
            n => write!(f, " and systemd's sockets 3-{}", 2 + u64::from(n))?,
        }
        if self.pidfile {
            f.write_str(" and the pidfile's lock")?;
        }
        Ok(())
    }
}

/// Systemd's socket-activation descriptors passed to this very process:
/// LISTEN_FDS of them from 3, when LISTEN_PID is this process's pid (else
/// they were meant for another process, and are none of runas's
/// business). A count that is not a number, or that names descriptors
/// that are not open, is an error: which descriptors are sockets would
/// otherwise be a guess, and a huge count would keep every descriptor.
pub fn systemd_sockets(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    pid: i32,
    is_open: impl Fn(i32) -> bool,
) -> Result<u32> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let for_us = listen_pid.is_some_and(|p| digits(p) && p.parse::<i32>().ok() == Some(pid));
    if !for_us {
        return Ok(0);
    }
    let Some(text) = listen_fds else {
        return Ok(0);
    };
    let count = text
        .parse::<u32>()
        .ok()
        .filter(|_| digits(text))
        .ok_or_else(|| {
            Error::Usage(format!(
                "LISTEN_FDS={} (with LISTEN_PID naming this process) is not a number of descriptors",
                quote(text)
            ))
        })?;
    for k in 0..count {
        let fd = 3u64 + u64::from(k);
        if fd > i32::MAX as u64 || !is_open(fd as i32) {
            return Err(Error::Usage(format!(
                "LISTEN_FDS={count} names descriptors 3 to {}, but descriptor {fd} is not open: refusing to guess which descriptors are systemd's sockets",
                2 + u64::from(count)
            )));
        }
    }
    Ok(count)
}

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
            "listing /proc/self/fd (to close or check the inherited descriptors; with --rlimit nofile, leave room for one more)"
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

fn close_fds(kept: &Kept) -> Result<()> {
    let ranged = kept
        .closing_ranges()
        .into_iter()
        .try_for_each(|(first, last)| sys::cloexec_range(first, last));
    match ranged {
        Ok(()) => Ok(()),
        // Before Linux 5.11 (no CLOSE_RANGE_CLOEXEC), or a seccomp filter
        // (container runtimes' default profiles) that refuses the call:
        // one descriptor at a time. Verified either way (see `verify`).
        Err(Errno::ENOSYS | Errno::EPERM | Errno::EINVAL | Errno::EACCES) => {
            for fd in open_descriptors()? {
                let kept_fd = u32::try_from(fd).is_ok_and(|fd| kept.contains(fd));
                if fd > 2 && !kept_fd {
                    sys::set_cloexec(fd)
                        .map_err(|e| Error::syscall(format!("fcntl({fd}, F_SETFD)"), e))?;
                }
            }
            Ok(())
        }
        Err(e) => Err(Error::syscall("close_range(3.., CLOSE_RANGE_CLOEXEC)", e)),
    }
}

/// Every descriptor above 2 that is not kept will close at execve: a
/// close_range that reported success without doing its work would
/// otherwise leak every descriptor unnoticed.
fn verify_closed(kept: &Kept) -> Result<()> {
    for fd in open_descriptors()? {
        let kept_fd = u32::try_from(fd).is_ok_and(|fd| kept.contains(fd));
        if fd <= 2 || kept_fd {
            continue;
        }
        match sys::fd_flags(fd) {
            Ok(flags) if flags & nix::libc::FD_CLOEXEC != 0 => {}
            Err(Errno::EBADF) => {}
            Ok(_) => {
                return Err(Error::Verification(format!(
                    "descriptor {fd} would stay open in the target (--close-fds)"
                )));
            }
            Err(e) => return Err(Error::syscall(format!("fcntl({fd}, F_GETFD)"), e)),
        }
    }
    Ok(())
}

/// One change of a process attribute, made after the switch. `settings` lists
/// them: a real run executes the list and --dry-run prints it, so what the
/// dry run shows is what runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// After the switch: the kernel clears the setting on a credential change.
    ParentDeathSignal(Signal),
    NoNewPrivs,
    Umask(u32),
    /// As the target, so the kernel checks its access, not root's.
    Chdir(OsString),
    /// Close-on-exec every descriptor above 2 but these.
    CloseFds(Kept),
}

/// The process-attribute changes the plan asks for, in the order made.
pub fn settings(plan: &Plan) -> Vec<Setting> {
    let p = &plan.process;
    let mut settings = Vec::new();
    if let Some(signal) = p.pdeathsig {
        settings.push(Setting::ParentDeathSignal(signal));
    }
    if p.no_new_privs {
        settings.push(Setting::NoNewPrivs);
    }
    if let Some(mask) = p.umask {
        settings.push(Setting::Umask(mask));
    }
    if let Some(dir) = &p.chdir {
        settings.push(Setting::Chdir(dir.clone()));
    }
    if let Some(keep) = &p.close_fds {
        let mut kept = Kept::new(keep, p.listen_fds);
        kept.pidfile = p.daemon.as_ref().is_some_and(|d| d.pidfile.is_some());
        settings.push(Setting::CloseFds(kept));
    }
    settings
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::ParentDeathSignal(signal) => write!(f, "prctl(PR_SET_PDEATHSIG, {signal})"),
            Setting::NoNewPrivs => f.write_str("prctl(PR_SET_NO_NEW_PRIVS, 1)"),
            Setting::Umask(mask) => write!(f, "umask({mask:04o})"),
            Setting::Chdir(dir) => write!(f, "chdir({})", quote(dir)),
            Setting::CloseFds(kept) => write!(f, "close_range(3.., CLOSE_RANGE_CLOEXEC) {kept}"),
        }
    }
}

/// Make one setting. `parent` is the process the target's parent-death
/// signal refers to: the one that started runas, the waiting parent of a
/// new session, or the daemon's new parent. `lock` is a daemon's pidfile
/// lock, which --close-fds keeps.
pub fn apply(setting: &Setting, parent: Pid, lock: Option<RawFd>) -> Result<()> {
    match setting {
        Setting::ParentDeathSignal(signal) => {
            let signal = *signal;
            // A signal the caller left ignored or blocked would never take
            // effect: --pdeathsig asks for it to, so this one signal gets
            // its default action and is unblocked (SIGKILL and SIGSTOP
            // cannot be either).
            if !matches!(signal, Signal::SIGKILL | Signal::SIGSTOP) {
                sys::default_disposition(signal as i32)
                    .map_err(|e| Error::syscall(format!("sigaction({signal}, SIG_DFL)"), e))?;
                let mut set = SigSet::empty();
                set.add(signal);
                sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None).map_err(|e| {
                    Error::syscall(format!("sigprocmask(SIG_UNBLOCK, {signal})"), e)
                })?;
            }
            nix::sys::prctl::set_pdeathsig(signal)
                .map_err(|e| Error::syscall(format!("prctl(PR_SET_PDEATHSIG, {signal})"), e))?;
            // A parent that died before this point sends nothing: do it now.
            if getppid() != parent {
                nix::sys::signal::raise(signal).map_err(|e| Error::syscall("raise", e))?;
                return Err(Error::NotPermitted(format!(
                    "the parent exited before --pdeathsig {signal} was set"
                )));
            }
        }
        Setting::NoNewPrivs => nix::sys::prctl::set_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_SET_NO_NEW_PRIVS)", e))?,
        Setting::Umask(mask) => {
            nix::sys::stat::umask(Mode::from_bits_truncate(*mask));
        }
        Setting::Chdir(dir) => nix::unistd::chdir(dir.as_os_str())
            .map_err(|e: Errno| Error::syscall(format!("chdir({})", quote(dir)), e))?,
        Setting::CloseFds(kept) => close_fds(&kept.with_lock(lock))?,
    }
    Ok(())
}

/// Read back what can be read back.
pub fn verify(plan: &Plan, lock: Option<RawFd>) -> Result<()> {
    let p = &plan.process;
    if let Some(keep) = &p.close_fds {
        verify_closed(&Kept::new(keep, p.listen_fds).with_lock(lock))?;
    }
    if p.no_new_privs {
        let set = nix::sys::prctl::get_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_GET_NO_NEW_PRIVS)", e))?;
        if !set {
            return Err(Error::Verification("no_new_privs is not set".into()));
        }
    }
    if let Some(signal) = p.pdeathsig {
        let now = nix::sys::prctl::get_pdeathsig()
            .map_err(|e| Error::syscall("prctl(PR_GET_PDEATHSIG)", e))?;
        if now != Some(signal) {
            return Err(Error::Verification(format!(
                "the parent-death signal is {now:?}, expected {signal}"
            )));
        }
        if !matches!(signal, Signal::SIGKILL | Signal::SIGSTOP) {
            let ignored = sys::signal_ignored(signal as i32)
                .map_err(|e| Error::syscall(format!("sigaction({signal})"), e))?;
            let blocked = SigSet::thread_get_mask()
                .map_err(|e| Error::syscall("sigprocmask", e))?
                .contains(signal);
            if ignored || blocked {
                return Err(Error::Verification(format!(
                    "the parent-death signal {signal} would not take effect: it is {}",
                    if ignored { "ignored" } else { "blocked" }
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_sockets_are_kept_only_for_this_pid_and_only_if_open() {
        let open = |fd| fd < 10;
        assert_eq!(systemd_sockets(Some("42"), Some("2"), 42, open).unwrap(), 2);
        assert_eq!(systemd_sockets(Some("41"), Some("2"), 42, open).unwrap(), 0);
        assert_eq!(systemd_sockets(None, Some("2"), 42, open).unwrap(), 0);
        assert_eq!(
            systemd_sockets(Some("+42"), Some("2"), 42, open).unwrap(),
            0
        );
        for bad in ["junk", "-1", " 2", "4294967296"] {
            assert!(
                systemd_sockets(Some("42"), Some(bad), 42, open).is_err(),
                "{bad}"
            );
        }
        // A count beyond the open descriptors: refused at the first gap,
        // without allocating anything for the count.
        let err = systemd_sockets(Some("42"), Some("4294967295"), 42, open).unwrap_err();
        assert!(
            err.to_string().contains("descriptor 10 is not open"),
            "{err}"
        );
    }

    #[test]
    fn kept_descriptors_and_their_ranges() {
        let kept = Kept::new(&[7, 1, 2, 7], 2);
        assert_eq!(kept.fds, [7]);
        assert!(kept.contains(3) && kept.contains(4) && kept.contains(7));
        assert!(!kept.contains(5) && !kept.contains(2));
        assert_eq!(kept.closing_ranges(), vec![(5, 6), (8, u32::MAX)]);
        assert_eq!(kept.to_string(), "keeping [7] and systemd's sockets 3-4");
        let huge = Kept::new(&[], u32::MAX);
        assert!(huge.contains(u32::MAX));
        assert_eq!(huge.closing_ranges(), vec![]);
    }

    #[test]
    fn steps_follow_the_plan_in_order_and_print_as_system_calls() {
        let mut plan = Plan {
            uid: 1500,
            gid: 1500,
            groups: vec![],
            env: Default::default(),
            process: Default::default(),
            branch: Default::default(),
        };
        assert!(settings(&plan).is_empty());
        plan.process.pdeathsig = Some(Signal::SIGTERM);
        plan.process.no_new_privs = true;
        plan.process.umask = Some(0o27);
        plan.process.chdir = Some("/srv/a\"b".into());
        plan.process.close_fds = Some(vec![7, 2]);
        let printed: Vec<String> = settings(&plan).iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                "prctl(PR_SET_PDEATHSIG, SIGTERM)",
                "prctl(PR_SET_NO_NEW_PRIVS, 1)",
                "umask(0027)",
                "chdir(\"/srv/a\\\"b\")",
                "close_range(3.., CLOSE_RANGE_CLOEXEC) keeping [7]",
            ]
        );
    }

    #[test]
    fn ranges_skip_the_kept_descriptors() {
        assert_eq!(Kept::new(&[], 0).closing_ranges(), vec![(3, u32::MAX)]);
        assert_eq!(
            Kept::new(&[3, 4, 7], 0).closing_ranges(),
            vec![(5, 6), (8, u32::MAX)]
        );
        assert_eq!(
            Kept::new(&[5], 0).closing_ranges(),
            vec![(3, 4), (6, u32::MAX)]
        );
        assert_eq!(Kept::new(&[4], 3).closing_ranges(), vec![(6, u32::MAX)]);
    }
}
