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
//!   group (see session.rs), and the parent forwards Ctrl-C's SIGINT.

use crate::capability;
use crate::error::{Error, Result};
use crate::plan::{Credentials, Plan};
use crate::session::Session;
use crate::sys::{self, CapMasks};
use crate::transition::planned_securebits;
use nix::errno::Errno;
use nix::unistd::{getpid, getsid};
use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

/// SECBIT_NOROOT: uid 0 gets no capabilities at execve.
const SECBIT_NOROOT: u32 = 1 << 0;

/// How the target is kept off the caller's terminal.
#[derive(Debug)]
pub enum Defence {
    /// Nothing to do: the target is not less privileged, --keep-tty, a new
    /// session was asked for anyway, there is no controlling terminal, or
    /// the kernel refuses TIOCSTI to everyone.
    None,
    /// TIOCNOTTY on this descriptor of the controlling terminal.
    Detach(Terminal),
    /// A session of its own for the target.
    NewSession(Why),
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

/// A descriptor of the controlling terminal: opened from /dev/tty, or one
/// of descriptors 0-2.
#[derive(Debug)]
pub enum Terminal {
    Opened(File),
    Standard(i32),
}

impl Terminal {
    fn fd(&self) -> RawFd {
        match self {
            Terminal::Opened(file) => file.as_raw_fd(),
            Terminal::Standard(fd) => *fd,
        }
    }
}

/// The capabilities the target holds once it has exec'd a plain program
/// (no set-user-ID bit, no file capabilities): for uid 0, the bounding set
/// (the inheritable set is cleared) unless SECBIT_NOROOT takes root's
/// special treatment away; for anyone else, the ambient set, which is
/// --keep-caps.
fn post_exec_permitted(plan: &Plan) -> Result<u64> {
    if plan.uid != 0 {
        return Ok(plan.process.keep_caps);
    }
    let now = sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
    if planned_securebits(now, plan.process.securebits) & SECBIT_NOROOT != 0 {
        return Ok(0);
    }
    Ok(bounding_set()? & !plan.process.bounding_drop)
}

/// The bounding set, read capability by capability up to the last one
/// this kernel has.
fn bounding_set() -> Result<u64> {
    let mut set = 0;
    for cap in 0..64 {
        match sys::bounding_has(cap) {
            Ok(true) => set |= capability::bit(cap),
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
pub fn lowers_privilege(plan: &Plan, before: &Credentials, caps_before: CapMasks) -> Result<bool> {
    let uid = before.uid;
    if [uid.real, uid.effective, uid.saved] != [plan.uid; 3] {
        return Ok(true);
    }
    if caps_before.permitted & !post_exec_permitted(plan)? != 0 {
        return Ok(true);
    }
    if plan.process.no_new_privs && plan.uid != 0 {
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
    match open_dev_tty() {
        Ok(tty) => return Found::At(Terminal::Opened(tty)),
        // The kernel's answer: no controlling terminal.
        Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => return Found::None,
        // No /dev/tty node (ENOENT), or it could not be opened: ask the
        // standard descriptors.
        Err(_) => {}
    }
    for fd in 0..=2 {
        if sys::tiocgpgrp(fd).is_ok() {
            return Found::At(Terminal::Standard(fd));
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

/// Whether the kernel refuses TIOCSTI to everyone without CAP_SYS_ADMIN
/// (`dev.tty.legacy_tiocsti = 0`, Linux 6.2 and later).
fn tiocsti_disabled() -> bool {
    std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").is_ok_and(|v| v.trim() == "0")
}

/// Decide, before any change, how to keep the target off the terminal.
/// The cheap questions come first: most runs have no terminal at all.
pub fn decide(plan: &Plan, before: &Credentials, caps_before: CapMasks) -> Result<Defence> {
    let p = &plan.process;
    if p.keep_tty || p.daemon.is_some() || p.session == Session::NewSession {
        return Ok(Defence::None);
    }
    let found = find_controlling_terminal();
    if matches!(found, Found::None) {
        return Ok(Defence::None);
    }
    if !lowers_privilege(plan, before, caps_before)? || tiocsti_disabled() {
        return Ok(Defence::None);
    }
    let leader = getsid(None).map_err(|e| Error::syscall("getsid", e))? == getpid();
    Ok(match found {
        Found::At(_) if leader => Defence::NewSession(Why::SessionLeader),
        Found::At(tty) => Defence::Detach(tty),
        Found::None | Found::Unreachable => Defence::NewSession(Why::Unreachable),
    })
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

/// What --dry-run says about the defence.
pub fn describe(defence: &Defence) -> Option<&'static str> {
    match defence {
        Defence::None => None,
        Defence::Detach(_) => Some("ioctl(TIOCNOTTY) on the controlling terminal"),
        Defence::NewSession(Why::SessionLeader) => Some(
            "a new session for the command: runas leads its session, which has a controlling terminal",
        ),
        Defence::NewSession(Why::Unreachable) => Some(
            "a new session for the command: there is a controlling terminal runas cannot open to detach from",
        ),
    }
}
