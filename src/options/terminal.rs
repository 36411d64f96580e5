//! The TIOCSTI defence: a less privileged target must not keep the
//! caller's controlling terminal.
//!
//! A process may push characters into the input queue of its controlling
//! terminal (TIOCSTI), and on a virtual console paste the selection
//! (TIOCLINUX). Whatever the target pushes is read by the caller's shell,
//! often root's, once the target exits (CVE-2016-2779, CVE-2017-5226,
//! CVE-2023-28339). A process whose controlling terminal it is not is
//! refused both without CAP_SYS_ADMIN, so runas takes the terminal away
//! from a less privileged target:
//!
//! - in place, with TIOCNOTTY, when runas does not lead its session: the
//!   process group stays the terminal's foreground group, so Ctrl-C still
//!   reaches the target;
//! - through a new session when runas leads its session (a session leader's
//!   TIOCNOTTY would hang up the foreground group, itself included), or
//!   when the terminal cannot be reached to detach from it: the target runs
//!   in a session of its own, after a fork when runas leads its process
//!   group (see session.rs), and the parent forwards Ctrl-C's SIGINT. A
//!   session leader's waiting parent revokes the terminal once the command
//!   is done, --setsid or not: the session that owns the terminal ends with
//!   it, and a process the target left behind could take the terminal.
//!
//! One place keeps the terminal without a defence although the target is
//! less privileged: runas as PID 1 on its container's console (see
//! `Kept::ContainerConsole`), where it execs in place as gosu does.

use crate::base::error::{Error, Result};
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::request::caps::{Cap, CapSet};
use crate::request::ids::{ResIds, Uid};
use crate::request::securebits::Securebits;
use crate::sys;
use nix::errno::Errno;
use nix::unistd::{getpid, getsid};
use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

/// How the target is kept off the caller's terminal.
#[derive(Debug)]
pub enum Defence {
    /// Nothing to do, and why.
    None(Kept),
    /// TIOCNOTTY on this descriptor of the controlling terminal.
    Detach(Terminal),
    /// A session of its own for the target; the terminal to revoke once
    /// the command is done, when runas's session owns it.
    NewSession(Why, Option<Terminal>),
}

/// Why the target needs a new session rather than a detach in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// runas leads its session, which has a controlling terminal.
    SessionLeader,
    /// runas has a controlling terminal it cannot open (no /dev/tty node,
    /// and not on descriptors 0-2), or cannot tell whether it has one.
    Unreachable,
}

impl Why {
    /// In the dry run's words.
    pub fn text(self) -> &'static str {
        match self {
            Why::SessionLeader => {
                "terminal safety: runas leads its session, which has a controlling terminal"
            }
            Why::Unreachable => {
                "terminal safety: a controlling terminal runas cannot open to detach from"
            }
        }
    }
}

/// Why the target needs no defence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// There is no controlling terminal.
    NoTerminal,
    /// --keep-tty.
    Asked,
    /// --daemon: the daemon leaves the session and never holds the terminal.
    Daemon,
    /// The target holds no less than the caller.
    NotLowered,
    /// The kernel refuses TIOCSTI (and TIOCLINUX) to everyone.
    InjectionImpossible,
    /// runas is PID 1 of its pid namespace and its terminal is the
    /// namespace's /dev/console, the terminal a container engine gave the
    /// container (`podman run -t`, `docker run -it`): the target becomes
    /// PID 1 on it, and when it exits the container ends, so no process
    /// remains to read what it typed. The terminal's name.
    ContainerConsole(String),
}

impl Kept {
    /// What the dry run says, when there is a terminal to keep.
    pub fn note(&self) -> Option<String> {
        match self {
            Kept::NoTerminal | Kept::Daemon => None,
            Kept::Asked => Some("the terminal is kept (--keep-tty): the target may push input into it".into()),
            Kept::NotLowered => Some("the terminal is kept: the target holds no less than the caller".into()),
            Kept::InjectionImpossible => Some(
                "the terminal is kept: this kernel refuses TIOCSTI to unprivileged processes (dev.tty.legacy_tiocsti = 0), and it is no virtual console".into(),
            ),
            Kept::ContainerConsole(name) => Some(format!(
                "the terminal is kept: runas is PID 1 on its container's console (/dev/console, {name}), and the command takes its place; when it exits the container ends, and no process is left to read what it typed"
            )),
        }
    }
}

/// A descriptor of the controlling terminal: opened from /dev/tty, or one
/// runas inherited (0-2, or any other when it leads the session).
#[derive(Debug)]
pub enum Terminal {
    Opened(File),
    Inherited(i32),
}

impl Terminal {
    /// Its descriptor, kept open for the rest of this process: the waiting
    /// parent of a new session revokes the terminal through it (it closes
    /// in the target at exec, close-on-exec).
    pub fn keep_open(self) -> RawFd {
        match self {
            Terminal::Opened(file) => std::os::fd::IntoRawFd::into_raw_fd(file),
            Terminal::Inherited(fd) => fd,
        }
    }

    pub fn fd(&self) -> RawFd {
        match self {
            Terminal::Opened(file) => file.as_raw_fd(),
            Terminal::Inherited(fd) => *fd,
        }
    }
}

/// The capabilities the target holds once it has exec'd a plain program
/// (no set-user-ID bit, no file capabilities): for uid 0, the bounding set
/// (the inheritable set is cleared) unless SECBIT_NOROOT takes root's
/// special treatment away; for anyone else, the ambient set, which is
/// --keep-caps.
fn post_exec_permitted(plan: &Plan) -> Result<CapSet> {
    let p = &plan.privileges;
    if plan.uid != Uid::ROOT {
        return Ok(p.keep_caps);
    }
    let now = sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
    if p.securebits
        .applied_to(Securebits::from_bits(now))
        .contains(Securebits::NOROOT)
    {
        return Ok(CapSet::EMPTY);
    }
    Ok(bounding_set()? & !p.bounding_drop)
}

/// The bounding set, read capability by capability up to the last one
/// this kernel has.
fn bounding_set() -> Result<CapSet> {
    let mut set = CapSet::EMPTY;
    for number in 0..64 {
        let Some(cap) = Cap::new(number) else { break };
        match sys::bounding_has(number) {
            Ok(true) => set = set.with(cap),
            Ok(false) => {}
            Err(Errno::EINVAL) => break,
            Err(e) => return Err(Error::syscall("prctl(PR_CAPBSET_READ)", e)),
        }
    }
    Ok(set)
}

/// Whether the target, after execve, holds less than the caller holds now:
/// another uid, a capability the caller has and the target will not (the
/// bounding set, SECBIT_NOROOT and --keep-caps decide), or no_new_privs a
/// non-root caller did not have (the caller can still run set-user-ID
/// programs, the target cannot).
pub fn lowers_privilege(plan: &Plan, facts: &Facts) -> Result<bool> {
    if facts.credentials.uid != ResIds::all(plan.uid) {
        return Ok(true);
    }
    if !(facts.caps.permitted & !post_exec_permitted(plan)?).is_empty() {
        return Ok(true);
    }
    if plan.privileges.no_new_privs && plan.uid != Uid::ROOT {
        let had = nix::sys::prctl::get_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_GET_NO_NEW_PRIVS)", e))?;
        return Ok(!had);
    }
    Ok(false)
}

/// Where the controlling terminal is, if there is one.
enum Found {
    None,
    At(Terminal),
    /// There is one (or there may be one), but no descriptor reaches it.
    Unreachable,
}

fn open_dev_tty() -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC)
        .open("/dev/tty")
}

/// Find the controlling terminal: /dev/tty, which the kernel answers with
/// ENXIO when there is none; where that node is missing (a minimal root
/// filesystem), descriptors 0-2, which TIOCGPGRP tells apart (it answers
/// only on one's own controlling terminal); and if none of them is, the
/// tty field of /proc/self/stat. Unsure counts as "there is one".
fn find_controlling_terminal() -> Found {
    // A statement, not the function's value: a /dev/tty that is not a
    // terminal is closed at its end, before the fallback opens anything
    // (with one descriptor free, /proc/self/stat would not open).
    match open_dev_tty() {
        // Proven, not assumed: a /dev/tty that is some other node (a
        // /dev/null put in its place) answers no TIOCGPGRP.
        Ok(tty) if is_own_terminal(tty.as_raw_fd()) => return Found::At(Terminal::Opened(tty)),
        // The kernel's answer: no controlling terminal.
        Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => return Found::None,
        // No /dev/tty node (ENOENT), one that could not be opened, or not
        // the kernel's: ask the standard descriptors.
        _ => {}
    }
    without_dev_tty()
}

/// `find_controlling_terminal` where /dev/tty did not answer.
// Never inlined: /dev/tty answers in most runs, and inlined, its 2 KiB
// sat in the middle of the code every run executes (docs/performance.md).
#[inline(never)]
fn without_dev_tty() -> Found {
    for fd in 0..=2 {
        if is_own_terminal(fd) {
            return Found::At(Terminal::Inherited(fd));
        }
    }
    match std::fs::read_to_string("/proc/self/stat") {
        Ok(stat) => {
            // Fields after the command name, which may hold spaces:
            // state ppid pgrp session tty_nr ...
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            match rest.split_whitespace().nth(4) {
                Some("0") => Found::None,
                _ => Found::Unreachable,
            }
        }
        Err(_) => Found::Unreachable,
    }
}

/// Whether `fd` is this process's controlling terminal: TIOCGPGRP answers
/// only there, but a pseudo-terminal's master answers it for its slave,
/// and revoking a master leaves the slave open: a master is not taken
/// (TIOCGPTN answers only on one).
fn is_own_terminal(fd: RawFd) -> bool {
    sys::tiocgpgrp(fd).is_ok() && sys::tiocgptn(fd).is_err()
}

/// Whether the kernel refuses every way of pushing input to everyone
/// without CAP_SYS_ADMIN: TIOCSTI with `dev.tty.legacy_tiocsti = 0`
/// (Linux 6.2 and later); on a virtual console also the TIOCLINUX
/// selection paste, which only Linux 6.7 and later restrict.
fn injection_impossible(tty: Option<&Terminal>) -> bool {
    let tiocsti_off =
        std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").is_ok_and(|v| v.trim() == "0");
    if !tiocsti_off {
        return false;
    }
    let console = match tty {
        Some(tty) => sys::tiocgdev(tty.fd()).map(is_console).unwrap_or(true),
        None => true,
    };
    !console || kernel_at_least(6, 7)
}

/// A virtual console: /dev/tty0 to /dev/tty63 (major 4), or /dev/console
/// (major 5, minor 1), which may be one.
fn is_console(rdev: u64) -> bool {
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    (major == 4 && minor < 64) || (major == 5 && minor == 1)
}

/// Whether the running kernel's release is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let Ok(uname) = nix::sys::utsname::uname() else {
        return false;
    };
    let release = uname.release().to_string_lossy().into_owned();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}

/// Decide, before any change, how to keep the target off the terminal.
/// The cheap questions come first: most runs have no terminal at all.
pub fn decide(plan: &Plan, request: &super::Request, facts: &Facts) -> Result<Defence> {
    if request.keep_tty {
        return Ok(Defence::None(Kept::Asked));
    }
    if request.daemon.is_some() {
        return Ok(Defence::None(Kept::Daemon));
    }
    match find_controlling_terminal() {
        Found::None => Ok(Defence::None(Kept::NoTerminal)),
        found => defend(found, plan, facts),
    }
}

/// `decide` for a process that has a controlling terminal.
// Never inlined: a run without a terminal (a service's, a container's, a
// pipeline's) never executes its 8 KiB, which inlined sat in the middle of
// the code every run executes (docs/performance.md).
#[inline(never)]
fn defend(found: Found, plan: &Plan, facts: &Facts) -> Result<Defence> {
    let tty = match &found {
        Found::At(tty) => Some(tty),
        _ => None,
    };
    if !lowers_privilege(plan, facts)? {
        return Ok(Defence::None(Kept::NotLowered));
    }
    if injection_impossible(tty) {
        return Ok(Defence::None(Kept::InjectionImpossible));
    }
    let pid_one = getpid().as_raw() == 1;
    let sid = getsid(None).map_err(|e| Error::syscall("getsid", e))?;
    if pid_one
        && sid == getpid()
        && let Some(name) = tty.and_then(container_console)
    {
        return Ok(Defence::None(Kept::ContainerConsole(name)));
    }
    if sid != getpid() {
        return Ok(match found {
            Found::At(tty) => Defence::Detach(tty),
            Found::None | Found::Unreachable => Defence::NewSession(Why::Unreachable, None),
        });
    }
    // runas leads the session that owns the terminal, and that session
    // ends with runas: a process the target left behind could then make
    // the terminal its own (TIOCSCTTY) and type into whatever reads it
    // next. As PID 1 of a pid namespace the waiting parent kills every
    // process of the namespace before it exits (session.rs); anywhere
    // else it revokes the terminal first, which needs a descriptor of it
    // and CAP_SYS_ADMIN.
    if pid_one {
        return Ok(Defence::NewSession(Why::SessionLeader, None));
    }
    let tty = match found {
        Found::At(tty) => tty,
        _ => session_terminal(sid.as_raw())?.ok_or_else(|| {
            Error::NotPermitted(
                "runas leads its session, which has a controlling terminal, and holds no descriptor of it to revoke it with after the command: give it the terminal on a descriptor, start it from a shell rather than as a session leader, or use --keep-tty if the terminal is the command's own".into(),
            )
        })?,
    };
    if !facts.caps.effective.has(Cap::SYS_ADMIN) {
        return Err(Error::NotPermitted(
            "runas leads its session, which has a controlling terminal, and cannot revoke that terminal after the command (no CAP_SYS_ADMIN): start runas from a shell rather than as a session leader, or use --keep-tty if the terminal is the command's own (podman or docker exec -t: the exec session's terminal has no other reader)".into(),
        ));
    }
    Ok(Defence::NewSession(Why::SessionLeader, Some(tty)))
}

/// The terminal's name if it is the console an OCI runtime made for the
/// container (runc and crun for `podman run -t`, `docker run -it`): the
/// caller has checked that runas is PID 1 and leads its session; here
/// /dev/console, opened without becoming anything's terminal, must be this
/// session's controlling terminal (TIOCGSID), a pseudo-terminal's slave (a
/// master is refused), the very device `tty` is, and on the devpts instance
/// mounted at /dev/pts: the runtime allocates the console from the
/// container's own devpts, while a terminal brought in from outside (bwrap
/// --dev binds the caller's over /dev/console, next to a devpts of its
/// own) is on the outer one. What is not told apart: root binding its own
/// terminal over /dev/console of a pid namespace that still has the outer
/// devpts at /dev/pts, and making runas PID 1 leading that terminal's
/// session: a container built on root's terminal on purpose.
fn container_console(tty: &Terminal) -> Option<String> {
    let console = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open("/dev/console")
        .ok()?;
    let fd = console.as_raw_fd();
    let rdev = sys::tiocgdev(fd).ok()?;
    let major = nix::sys::stat::major(rdev);
    let ours = sys::tiocgsid(fd) == Ok(1) && sys::tiocgptn(fd).is_err();
    let same = sys::tiocgdev(tty.fd()) == Ok(rdev) && (136..=143).contains(&major);
    let devpts = nix::sys::stat::fstat(&console).ok()?.st_dev
        == nix::sys::stat::stat("/dev/pts").ok()?.st_dev;
    (ours && same && devpts)
        .then(|| format!("pts/{}", (major - 136) * 256 + nix::sys::stat::minor(rdev)))
}

/// A descriptor of this session's controlling terminal among all those
/// open: TIOCGSID answers only on one's own controlling terminal, or on a
/// pseudo-terminal's master, for its slave's session: a master is passed
/// over (revoking it leaves the slave open).
fn session_terminal(sid: i32) -> Result<Option<Terminal>> {
    Ok(crate::base::fds::open_descriptors()?
        .into_iter()
        .find(|&fd| sys::tiocgsid(fd) == Ok(sid) && sys::tiocgptn(fd).is_err())
        .map(Terminal::Inherited))
}

/// Give up the controlling terminal in place, and prove it: TIOCGPGRP on
/// the same terminal must now fail with ENOTTY (it answers only on one's
/// own controlling terminal).
pub fn detach(tty: &Terminal) -> Result<()> {
    let fd = tty.fd();
    sys::tiocnotty(fd).map_err(|e| {
        Error::syscall(
            "ioctl(TIOCNOTTY) on the controlling terminal (use --keep-tty to keep it)",
            e,
        )
    })?;
    match sys::tiocgpgrp(fd) {
        Err(Errno::ENOTTY) => Ok(()),
        _ => Err(Error::Verification(
            "the controlling terminal is still attached after TIOCNOTTY".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_consoles_are_told_apart_from_pseudo_terminals() {
        let dev = |major, minor| nix::sys::stat::makedev(major, minor);
        assert!(is_console(dev(4, 1)));
        assert!(is_console(dev(4, 63)));
        assert!(!is_console(dev(4, 64)), "ttyS0 is a serial line");
        assert!(is_console(dev(5, 1)), "/dev/console may be one");
        assert!(!is_console(dev(136, 3)), "pts/3");
    }

    #[test]
    fn the_running_kernel_is_compared_by_release() {
        assert!(kernel_at_least(2, 6));
        assert!(!kernel_at_least(999, 0));
    }
}
