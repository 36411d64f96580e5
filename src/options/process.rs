//! Process attributes the target inherits besides its credentials: the
//! parent-death signal, the umask, the working directory and the open file
//! descriptors, with systemd's sockets among them. (no_new_privs is a
//! privilege: the core's. The controlling terminal: terminal.rs.)

use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::call::{Arg, Call};
use crate::sys;
use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::stat::Mode;
use nix::unistd::{Pid, getppid};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::fd::RawFd;

/// `TERM`, `SIGTERM`, `sigterm` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    let invalid = || Error::InvalidSpec {
        kind: "signal",
        value: text.to_owned(),
        reason: "give a signal name such as TERM or KILL, or its number".into(),
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i32>()
            .ok()
            .and_then(|n| Signal::try_from(n).ok())
            .ok_or_else(invalid);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

/// An octal file mode creation mask: 1 to 4 octal digits, at most 0777.
pub fn parse_umask(text: &str) -> Result<u32> {
    let invalid = |reason: &str| Error::InvalidSpec {
        kind: "umask",
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(invalid("give an octal mode such as 022 or 0027"));
    }
    let mode = u32::from_str_radix(text, 8).map_err(|_| invalid("not an octal number"))?;
    if mode > 0o777 {
        return Err(invalid("a umask holds permission bits only, at most 0777"));
    }
    Ok(mode)
}

/// A file descriptor number for --keep-fd.
pub fn parse_fd(text: &str) -> Result<i32> {
    text.parse::<i32>()
        .ok()
        .filter(|fd| *fd >= 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::InvalidSpec {
            kind: "file descriptor",
            value: text.to_owned(),
            reason: "give a non-negative decimal number".into(),
        })
}

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

/// systemd's socket-activation descriptors, as runas found them at start,
/// before it opened anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// None for this process (no LISTEN_PID, or another process's).
    None,
    /// LISTEN_FDS descriptors from 3, all open.
    Sockets(u32),
    /// LISTEN_PID names this process but LISTEN_FDS is not a count of open
    /// descriptors: the message says why.
    Invalid(String),
}

impl Listen {
    /// Look, before anything is opened. The variables as getenv(3) finds
    /// them: the first entry of each name.
    pub fn observe(pid: Pid, promise: sys::WholeProgram) -> Listen {
        let environ = sys::environ(promise);
        let var = |name: &[u8]| {
            environ.iter().find_map(|entry| {
                let value = entry.to_bytes().strip_prefix(name)?.strip_prefix(b"=")?;
                std::str::from_utf8(value).ok()
            })
        };
        match var(b"LISTEN_PID") {
            // Sockets for no one: systemd_sockets' answer without asking.
            None => Listen::None,
            listen_pid => Self::from_variables(listen_pid, var(b"LISTEN_FDS"), pid),
        }
    }

    /// `observe` where LISTEN_PID is set.
    // Never inlined: most runs are not socket-activated, and inlined, its
    // 2 KiB sat in the middle of the code every run executes
    // (docs/performance.md).
    #[inline(never)]
    fn from_variables(listen_pid: Option<&str>, listen_fds: Option<&str>, pid: Pid) -> Listen {
        match systemd_sockets(listen_pid, listen_fds, pid.as_raw(), |fd| {
            sys::fd_flags(fd).is_ok()
        }) {
            Ok(0) => Listen::None,
            Ok(count) => Listen::Sockets(count),
            Err(e) => Listen::Invalid(e.to_string()),
        }
    }

    /// The sockets the target keeps: only for a target that sees
    /// LISTEN_PID and LISTEN_FDS as they came (one told nothing of them
    /// would hold them without knowing). An invalid count is an error:
    /// which descriptors are sockets would be a guess.
    pub fn kept(&self, env: &crate::core::exec::EnvPlan) -> Result<u32> {
        let hidden = |name: &str| {
            env.clear
                || env.unset.iter().any(|n| n == name)
                || env.set.iter().any(|(n, _)| n == name)
        };
        match self {
            Listen::None => Ok(0),
            Listen::Invalid(message) => Err(Error::Usage(message.clone())),
            Listen::Sockets(_) if hidden("LISTEN_PID") || hidden("LISTEN_FDS") => Ok(0),
            Listen::Sockets(count) => Ok(*count),
        }
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
            for fd in crate::base::fds::open_descriptors()? {
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
    for fd in crate::base::fds::open_descriptors()? {
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

/// One change of a process attribute, made after the switch, as the
/// target. `settings` lists them: a real run executes the list and
/// --dry-run prints it, so what the dry run shows is what runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// After the switch: the kernel clears the setting on a credential change.
    ParentDeathSignal(Signal),
    Umask(u32),
    /// As the target, so the kernel checks its access, not root's.
    Chdir(OsString),
    /// Close-on-exec every descriptor above 2 but these.
    CloseFds(Kept),
}

/// Whether `--chdir` names the target's home (`~`, `~/dir`).
pub fn needs_home(chdir: Option<&OsStr>) -> bool {
    chdir.is_some_and(|dir| dir.as_encoded_bytes().first() == Some(&b'~'))
}

/// `~` and `~/dir` name the target's home; anything else is taken as given.
pub fn expand_tilde(dir: &OsStr, home: &OsStr) -> OsString {
    let bytes = dir.as_encoded_bytes();
    if bytes == b"~" {
        home.to_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"~/") {
        let mut path = std::path::PathBuf::from(home);
        path.push(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rest));
        path.into_os_string()
    } else {
        dir.to_owned()
    }
}

/// The process-attribute changes the options ask for, in the order made.
/// `listen`: systemd's sockets the target keeps; `pidfile`: a daemon's
/// pidfile lock is kept too.
pub fn settings(request: &super::Request, listen: u32) -> Vec<Setting> {
    let mut settings = Vec::new();
    if let Some(signal) = request.pdeathsig {
        settings.push(Setting::ParentDeathSignal(signal));
    }
    if let Some(mask) = request.umask {
        settings.push(Setting::Umask(mask));
    }
    if let Some(dir) = &request.chdir {
        settings.push(Setting::Chdir(dir.clone()));
    }
    if let Some(keep) = &request.close_fds {
        let mut kept = Kept::new(keep, listen);
        kept.pidfile = request.daemon.as_ref().is_some_and(|d| d.pidfile.is_some());
        settings.push(Setting::CloseFds(kept));
    }
    settings
}

/// A signal as strace names it in a set: `[TERM]`.
fn signal_set(signal: Signal) -> Arg {
    Arg::name(format!("[{}]", signal.as_str().trim_start_matches("SIG")))
}

/// Whether a signal's disposition and mask can be changed at all.
fn catchable(signal: Signal) -> bool {
    !matches!(signal, Signal::SIGKILL | Signal::SIGSTOP)
}

impl Setting {
    /// Its system calls, with their arguments.
    pub fn calls(&self) -> Vec<Call> {
        match self {
            Setting::ParentDeathSignal(signal) => {
                let mut calls = Vec::new();
                if catchable(*signal) {
                    calls.push(Call::new(
                        "rt_sigaction",
                        vec![Arg::name(signal.as_str()), Arg::name("SIG_DFL")],
                    ));
                    calls.push(Call::new(
                        "rt_sigprocmask",
                        vec![Arg::name("SIG_UNBLOCK"), signal_set(*signal)],
                    ));
                }
                calls.push(Call::new(
                    "prctl",
                    vec![Arg::name("PR_SET_PDEATHSIG"), Arg::name(signal.as_str())],
                ));
                calls.push(Call::new("getppid", Vec::new()));
                calls
            }
            Setting::Umask(mask) => vec![Call::new("umask", vec![Arg::Octal(*mask)])],
            Setting::Chdir(dir) => vec![Call::new("chdir", vec![Arg::Text(dir.clone())])],
            Setting::CloseFds(kept) if kept.pidfile => vec![Call::new(
                "close_range",
                vec![
                    Arg::Later(
                        "each range from 3 around the kept descriptors and the pidfile's lock",
                    ),
                    Arg::name("CLOSE_RANGE_CLOEXEC"),
                ],
            )],
            Setting::CloseFds(kept) => kept
                .closing_ranges()
                .into_iter()
                .map(|(first, last)| {
                    Call::new(
                        "close_range",
                        vec![
                            Arg::Num(first.into()),
                            Arg::Num(last.into()),
                            Arg::name("CLOSE_RANGE_CLOEXEC"),
                        ],
                    )
                })
                .collect(),
        }
    }

    /// What the calls alone do not say.
    pub fn note(&self) -> Option<String> {
        match self {
            Setting::ParentDeathSignal(_) => Some(
                "the signal is unblocked and given its default action, so that it takes effect; a parent already gone is signalled at once".into(),
            ),
            Setting::Chdir(_) => Some("as the target".into()),
            Setting::CloseFds(kept) => Some(format!(
                "{kept} (one fcntl(FD_CLOEXEC) per descriptor where close_range is refused)"
            )),
            Setting::Umask(_) => None,
        }
    }
}

/// The read-backs of the settings, before exec.
pub fn check_calls(settings: &[Setting]) -> Vec<Call> {
    let mut calls = Vec::new();
    for setting in settings {
        match setting {
            Setting::CloseFds(_) => calls.push(Call::new(
                "fcntl",
                vec![Arg::Later("each open descriptor"), Arg::name("F_GETFD")],
            )),
            Setting::ParentDeathSignal(signal) => {
                calls.push(Call::new("prctl", vec![Arg::name("PR_GET_PDEATHSIG")]));
                if catchable(*signal) {
                    calls.push(Call::new(
                        "rt_sigaction",
                        vec![Arg::name(signal.as_str()), Arg::name("NULL")],
                    ));
                    // Asked with no set to apply: any `how`.
                    calls.push(Call::new(
                        "rt_sigprocmask",
                        vec![Arg::Later("how"), Arg::name("NULL")],
                    ));
                }
            }
            Setting::Umask(_) | Setting::Chdir(_) => {}
        }
    }
    calls
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
            if catchable(signal) {
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
pub fn verify(settings: &[Setting], lock: Option<RawFd>) -> Result<()> {
    for setting in settings {
        match setting {
            Setting::CloseFds(kept) => verify_closed(&kept.with_lock(lock))?,
            Setting::ParentDeathSignal(signal) => verify_pdeathsig(*signal)?,
            Setting::Umask(_) | Setting::Chdir(_) => {}
        }
    }
    Ok(())
}

fn verify_pdeathsig(signal: Signal) -> Result<()> {
    let now = nix::sys::prctl::get_pdeathsig()
        .map_err(|e| Error::syscall("prctl(PR_GET_PDEATHSIG)", e))?;
    if now != Some(signal) {
        return Err(Error::Verification(format!(
            "the parent-death signal is {now:?}, expected {signal}"
        )));
    }
    if catchable(signal) {
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
    fn signals() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("sigkill").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        for bad in ["", "0", "99", "-9", "TERMINATE", "SIG", "+9"] {
            let err = parse_signal(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn umasks() {
        assert_eq!(parse_umask("022").unwrap(), 0o22);
        assert_eq!(parse_umask("0027").unwrap(), 0o27);
        assert_eq!(parse_umask("7").unwrap(), 7);
        for bad in ["", "8", "0x22", "-022", "1000", "00000", "abc", " 022"] {
            assert!(parse_umask(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptors() {
        assert_eq!(parse_fd("3").unwrap(), 3);
        for bad in ["", "-1", "+3", " 3", "x", "2147483648"] {
            assert!(parse_fd(bad).is_err(), "{bad:?}");
        }
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
    fn settings_follow_the_request_in_order_and_show_their_system_calls() {
        let mut request = super::super::Request::default();
        assert!(settings(&request, 0).is_empty());
        request.pdeathsig = Some(Signal::SIGTERM);
        request.umask = Some(0o27);
        request.chdir = Some("/srv/a\"b".into());
        request.close_fds = Some(vec![7, 2]);
        let printed: Vec<String> = settings(&request, 0)
            .iter()
            .flat_map(Setting::calls)
            .map(|call| call.to_string())
            .collect();
        assert_eq!(
            printed,
            [
                "rt_sigaction(SIGTERM, SIG_DFL)",
                "rt_sigprocmask(SIG_UNBLOCK, [TERM])",
                "prctl(PR_SET_PDEATHSIG, SIGTERM)",
                "getppid()",
                "umask(027)",
                "chdir(\"/srv/a\\\"b\")",
                "close_range(3, 6, CLOSE_RANGE_CLOEXEC)",
                "close_range(8, 4294967295, CLOSE_RANGE_CLOEXEC)",
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
