//! The target's process group and session, and daemon mode.
//!
//! These decide who may signal the target and whose keyboard it reads, so
//! they are part of what a privilege drop hands over (credentials(7)).

use crate::error::{EXIT_FAILURE, Error, Result};
use crate::sys;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, OFlag};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpgrp, getpid, setpgid, setsid};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// --daemon's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonOptions {
    pub pidfile: Option<PathBuf>,
    pub log: Option<PathBuf>,
}

/// Where the target's process group and session come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Session {
    /// The caller's (the default).
    #[default]
    Inherit,
    /// --new-pgroup: a process group of its own, same session.
    NewProcessGroup,
    /// --setsid: a session of its own, no controlling terminal.
    NewSession,
}

/// The signals the waiting parent of --setsid passes on to the target.
const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Enter the planned process group or session, right before exec.
pub fn enter(session: &Session) -> Result<()> {
    match session {
        Session::Inherit => Ok(()),
        Session::NewProcessGroup => setpgid(Pid::from_raw(0), Pid::from_raw(0))
            .map_err(|e| Error::syscall("setpgid(0, 0)", e)),
        Session::NewSession => {
            // A process-group leader cannot call setsid (EPERM): as
            // `setsid --wait` does, the child goes on and the parent waits.
            if getpgrp() == getpid() {
                fork_and_wait()?;
            }
            setsid().map(drop).map_err(|e| Error::syscall("setsid", e))
        }
    }
}

/// Fork; the child returns, the parent waits for it, forwarding signals,
/// and exits with its status (128+N for death by signal N).
fn fork_and_wait() -> Result<()> {
    // Block the forwarded signals and SIGCHLD before the fork, so none
    // arrives unseen between the fork and the wait.
    let mut watched = SigSet::empty();
    for signal in FORWARDED {
        watched.add(signal);
    }
    watched.add(Signal::SIGCHLD);
    let mut original = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&watched), Some(&mut original))
        .map_err(|e| Error::syscall("sigprocmask", e))?;
    match sys::fork().map_err(|e| Error::syscall("fork", e))? {
        ForkResult::Child => {
            // The target gets the caller's signal mask, not ours.
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&original), None)
                .map_err(|e| Error::syscall("sigprocmask", e))?;
            Ok(())
        }
        ForkResult::Parent { child } => std::process::exit(wait_forwarding(child, &watched)),
    }
}

fn wait_forwarding(child: Pid, watched: &SigSet) -> i32 {
    loop {
        let Ok(signal) = watched.wait() else {
            continue;
        };
        if signal != Signal::SIGCHLD {
            // The child may just have exited; ESRCH is then harmless.
            let _ = kill(child, signal);
            continue;
        }
        loop {
            match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(_, signal, _)) => return 128 + signal as i32,
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    eprintln!("runas: waiting for the command: {}", e.desc());
                    return i32::from(EXIT_FAILURE);
                }
            }
        }
    }
}

/// What --daemon needs opened before the switch, as root: the pidfile
/// (locked) and the log.
pub struct DaemonFiles {
    pidfile: Option<(PathBuf, ManuallyDrop<Flock<File>>)>,
    log: Option<File>,
}

/// Open and lock the pidfile, open the log for appending.
pub fn open_daemon_files(pidfile: Option<&Path>, log: Option<&Path>) -> Result<DaemonFiles> {
    occupy_standard_fds()?;
    let pidfile = match pidfile {
        None => None,
        Some(path) => {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(path)
                .map_err(|e| {
                    Error::NotPermitted(format!("--pidfile {:?}: {e}", path.to_string_lossy()))
                })?;
            let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((mut file, Errno::EWOULDBLOCK)) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    return Err(Error::NotPermitted(format!(
                        "--pidfile {:?} is locked by a running instance (pid {}): stop it first",
                        path.to_string_lossy(),
                        pid.trim()
                    )));
                }
                Err((_, e)) => {
                    return Err(Error::syscall(
                        format!("flock({:?})", path.to_string_lossy()),
                        e,
                    ));
                }
            };
            // Never unlocked by a destructor: an unlock in any process that
            // shares the open file would release the daemon's lock too.
            Some((path.to_owned(), ManuallyDrop::new(lock)))
        }
    };
    let log = match log {
        None => None,
        Some(path) => Some(
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o640)
                .open(path)
                .map_err(|e| {
                    Error::NotPermitted(format!("--log {:?}: {e}", path.to_string_lossy()))
                })?,
        ),
    };
    Ok(DaemonFiles { pidfile, log })
}

/// runas has no std start-up code (src/main.rs), so a caller may hand it
/// closed descriptors 0-2. The daemon points them at /dev/null or the log
/// anyway; fill the gaps first, or the pidfile or the status pipe could be
/// opened as descriptor 0, 1 or 2 and then be replaced by those dup2 calls.
fn occupy_standard_fds() -> Result<()> {
    loop {
        let null =
            File::open("/dev/null").map_err(|e| Error::NotPermitted(format!("/dev/null: {e}")))?;
        if null.as_raw_fd() > 2 {
            return Ok(());
        }
        // Left open on purpose: it now is the missing standard descriptor.
        let _ = null.into_raw_fd();
    }
}

/// The classic procedure: fork (the parent waits for the word from the
/// daemon and exits with it), setsid, fork again (the daemon is no session
/// leader and can never gain a terminal), record the pid, point stdio at
/// /dev/null or the log, then `body` switches and execs. A close-on-exec
/// pipe carries the outcome: end of file means execve succeeded; otherwise
/// it carries the exit status and the message, which the caller prints.
/// `body` receives descriptors it must keep open (the pidfile's lock).
pub fn daemonize(files: DaemonFiles, body: impl FnOnce(&[i32]) -> Error) -> Result<()> {
    let (reader, writer) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::syscall("pipe2", e))?;
    match sys::fork().map_err(|e| Error::syscall("fork", e))? {
        ForkResult::Parent { child } => {
            drop(writer);
            let mut report = String::new();
            let read = File::from(reader).read_to_string(&mut report);
            let _ = waitpid(child, None);
            // Dropping `files` closes this process's descriptors only: the
            // lock is in a ManuallyDrop, so nothing here unlocks the daemon's.
            drop(files);
            match read {
                Ok(_) if report.is_empty() => Ok(()),
                Ok(_) => Err(relayed(&report)),
                Err(e) => Err(Error::NotPermitted(format!(
                    "reading the daemon's status: {e}"
                ))),
            }
        }
        ForkResult::Child => {
            drop(reader);
            let failure = match daemon_child(files, body) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            report_and_exit(writer, &failure)
        }
    }
}

fn relayed(report: &str) -> Error {
    let (code, message) = report.split_once('\n').unwrap_or(("125", report));
    Error::Relayed {
        code: code.trim().parse().unwrap_or(EXIT_FAILURE),
        message: message.trim_end().to_owned(),
    }
}

fn report_and_exit(writer: OwnedFd, failure: &Error) -> ! {
    let mut pipe = File::from(writer);
    let _ = write!(pipe, "{}\n{failure}", failure.exit_code());
    std::process::exit(i32::from(failure.exit_code()))
}

fn daemon_child(
    files: DaemonFiles,
    body: impl FnOnce(&[i32]) -> Error,
) -> Result<std::convert::Infallible> {
    setsid().map_err(|e| Error::syscall("setsid", e))?;
    match sys::fork().map_err(|e| Error::syscall("fork", e))? {
        // The session leader leaves at once; the daemon is its orphan.
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    let mut keep = Vec::new();
    if let Some((path, lock)) = &files.pidfile {
        let file: &File = lock;
        let pid = getpid();
        let written = file
            .set_len(0)
            .and_then(|()| (&*file).write_all(format!("{pid}\n").as_bytes()));
        written.map_err(|e| {
            Error::NotPermitted(format!("--pidfile {:?}: {e}", path.to_string_lossy()))
        })?;
        // The daemon keeps the locked descriptor across execve.
        nix::fcntl::fcntl(file, FcntlArg::F_SETFD(FdFlag::empty()))
            .map_err(|e| Error::syscall("fcntl(F_SETFD)", e))?;
        keep.push(file.as_raw_fd());
    }
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::NotPermitted(format!("/dev/null: {e}")))?;
    nix::unistd::dup2_stdin(&null).map_err(|e| Error::syscall("dup2(stdin)", e))?;
    let out = files.log.as_ref().unwrap_or(&null);
    nix::unistd::dup2_stdout(out).map_err(|e| Error::syscall("dup2(stdout)", e))?;
    nix::unistd::dup2_stderr(out).map_err(|e| Error::syscall("dup2(stderr)", e))?;
    Err(body(&keep))
}
