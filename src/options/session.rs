//! The target's process group and session, and daemon mode.
//!
//! These decide who may signal the target and whose keyboard it reads, so
//! they are part of what a privilege drop hands over (credentials(7)).

use crate::base::error::{EXIT_FAILURE, Error, Result};
use crate::base::quote::quote;
use crate::core::call::{Arg, Call};
use crate::core::transition;
use crate::paths::trusted::{self, Problem, is_type, kind_of};
use crate::request::caps::{Cap, CapSet};
use crate::request::ids::Uid;
use crate::sys;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, OFlag};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::stat::{SFlag, fstat};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, getppid, setpgid, setsid};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where the target's process group and session come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Session {
    /// The caller's (the default).
    #[default]
    Inherit,
    /// --new-pgroup: a process group of its own, same session.
    NewProcessGroup,
    /// --setsid: a session of its own, no controlling terminal.
    Setsid,
}

/// --daemon, with its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub pidfile: Option<PathBuf>,
    pub log: Option<PathBuf>,
    /// --daemon-timeout: seconds the caller waits for the daemon's word
    /// before it kills it; `None` for ever.
    pub timeout: Option<u32>,
}

impl Default for Daemon {
    fn default() -> Daemon {
        Daemon {
            pidfile: None,
            log: None,
            timeout: Some(DAEMON_TIMEOUT),
        }
    }
}

/// How long the caller of --daemon waits for the daemon to reach its exec
/// by default: the daemon does only --chdir, --log and the PATH search in
/// that time, milliseconds unless a file system does not answer.
pub const DAEMON_TIMEOUT: u32 = 30;

/// `--daemon-timeout SECONDS`: 0 (for ever) to 86400.
pub fn parse_daemon_timeout(text: &str) -> Result<Option<u32>> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match text.parse::<u32>() {
        Ok(0) if plain => Ok(None),
        Ok(seconds) if plain && seconds <= 86_400 => Ok(Some(seconds)),
        _ => Err(Error::InvalidSpec {
            kind: "--daemon-timeout",
            value: text.to_owned(),
            reason: "give whole seconds, from 1 to 86400, or 0 to wait for ever".into(),
        }),
    }
}

/// The signals the waiting parent of a new session passes on to the target.
const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// --new-pgroup: lead a process group of its own (the steps leave it out
/// where runas already leads one: setpgid would fail there).
pub fn enter_process_group() -> Result<()> {
    setpgid(Pid::from_raw(0), Pid::from_raw(0)).map_err(|e| Error::syscall("setpgid(0, 0)", e))
}

/// A new session for the target: after a fork when runas leads its process
/// group (setsid is refused there, EPERM), as `setsid --wait` does; the
/// parent then waits.
#[derive(Debug)]
pub struct NewSession {
    pub fork: bool,
    /// runas is PID 1: the waiting parent kills the namespace's other
    /// processes before it exits.
    pub pid_one: bool,
    /// Why, when it is the terminal defence rather than --setsid.
    pub why: Option<&'static str>,
    /// The caller's terminal, which the waiter's session owns: revoked
    /// (TIOCVHANGUP) once the command is done, so that no process the
    /// target left behind can make it its controlling terminal again when
    /// the session that owns it ends. The descriptor.
    pub revoke: Option<RawFd>,
    /// --pdeathsig: the waiter dies with it (or passes it on: the
    /// forwarded signals), and the target's refers to the waiter.
    pub pdeathsig: Option<Signal>,
}

/// A set of signals as strace shows it: `[HUP INT]`.
fn signal_set(signals: &[Signal]) -> Arg {
    let mut numbered: Vec<Signal> = signals.to_vec();
    numbered.sort_by_key(|s| *s as i32);
    let names: Vec<&str> = numbered
        .iter()
        .map(|s| s.as_str().trim_start_matches("SIG"))
        .collect();
    Arg::name(format!("[{}]", names.join(" ")))
}

impl NewSession {
    /// The capabilities the waiting parent keeps: CAP_KILL, to pass signals
    /// on to a target of another uid, and CAP_SYS_ADMIN when it must revoke
    /// the terminal. Nothing else.
    fn waiter_keeps(&self) -> CapSet {
        let keep = CapSet::of(Cap::KILL);
        if self.revoke.is_some() {
            keep.with(Cap::SYS_ADMIN)
        } else {
            keep
        }
    }

    /// The descriptor ranges the waiter closes: all above 2 but the
    /// terminal to revoke.
    fn waiter_ranges(&self) -> Vec<(u32, u32)> {
        match self.revoke.and_then(|fd| u32::try_from(fd).ok()) {
            Some(fd) if fd > 2 => [(3, fd - 1), (fd.saturating_add(1), u32::MAX)]
                .into_iter()
                .filter(|(a, b)| a <= b)
                .collect(),
            _ => vec![(3, u32::MAX)],
        }
    }

    fn watched(&self) -> Vec<Signal> {
        let mut watched = FORWARDED.to_vec();
        watched.push(Signal::SIGCHLD);
        watched
    }

    /// The calls of the process that goes on to be the target.
    pub fn calls(&self) -> Vec<Call> {
        let mut calls = Vec::new();
        if self.fork {
            calls.push(Call::new(
                "rt_sigaction",
                vec![Arg::name("SIGCHLD"), Arg::name("SIG_DFL")],
            ));
            calls.push(Call::new(
                "rt_sigprocmask",
                vec![Arg::name("SIG_BLOCK"), signal_set(&self.watched())],
            ));
            calls.push(Call::new("fork", Vec::new()));
            calls.push(Call::new(
                "rt_sigprocmask",
                vec![Arg::name("SIG_SETMASK"), Arg::Later("the caller's mask")],
            ));
            calls.push(Call::new(
                "rt_sigaction",
                vec![Arg::name("SIGCHLD"), Arg::Later("the caller's disposition")],
            ));
        }
        calls.push(Call::new("setsid", Vec::new()));
        calls.push(Call::new("getsid", vec![Arg::Num(0)]));
        calls
    }

    /// The calls of the waiting parent, after the fork, in order.
    pub fn waiter_calls(&self) -> Vec<Call> {
        if !self.fork {
            return Vec::new();
        }
        let mut calls: Vec<Call> = self
            .waiter_ranges()
            .into_iter()
            .map(|(first, last)| {
                Call::new(
                    "close_range",
                    vec![Arg::Num(first.into()), Arg::Num(last.into()), Arg::Num(0)],
                )
            })
            .collect();
        calls.extend(transition::drop_to_calls(self.waiter_keeps()));
        calls.push(Call::new(
            "prctl",
            vec![Arg::name("PR_SET_DUMPABLE"), Arg::name("SUID_DUMP_DISABLE")],
        ));
        if let Some(signal) = self.pdeathsig {
            calls.push(Call::new(
                "prctl",
                vec![Arg::name("PR_SET_PDEATHSIG"), Arg::name(signal.as_str())],
            ));
            calls.push(Call::new("getppid", Vec::new()));
        }
        if self.pid_one {
            calls.push(Call::new("kill", vec![Arg::Num(-1), Arg::name("SIGKILL")]));
        }
        if let Some(fd) = self.revoke {
            calls.push(Call::new(
                "ioctl",
                vec![Arg::Num(fd.into()), Arg::name("TIOCVHANGUP")],
            ));
        }
        calls
    }

    pub fn note(&self) -> String {
        let mut note = String::new();
        if self.fork {
            note.push_str("the parent keeps the caller's uid with CAP_KILL only, waits for the command and forwards signals");
            if self.pid_one {
                note.push_str(
                    ", then, as PID 1, kills every other process of the namespace and reaps them",
                );
            }
            if self.revoke.is_some() {
                note.push_str(", then revokes the terminal (with CAP_SYS_ADMIN)");
            }
            note.push_str("; the child makes the new session");
        } else {
            note.push_str("a new session");
        }
        if let Some(why) = self.why {
            note.push_str(&format!(" ({why})"));
        }
        note
    }
}

/// Start a new session for the target (see [`NewSession`]). Called before
/// the credential switch: the waiting parent keeps the caller's uid, so the
/// target can neither signal it nor trace it (its exit status is what the
/// caller is told), and everything the target relies on happens, and is
/// checked, in the process that execs. `parent`: the process the
/// target's parent-death signal refers to until now. Returns the one it
/// refers to from now on.
pub fn enter_new_session(new: NewSession, parent: Pid, promise: sys::WholeProgram) -> Result<Pid> {
    let parent = if new.fork {
        fork_waiter(new, parent, promise)?
    } else {
        parent
    };
    setsid().map_err(|e| Error::syscall("setsid", e))?;
    // Prove it: a new session, led by this process.
    if nix::unistd::getsid(None).map_err(|e| Error::syscall("getsid", e))? != getpid() {
        return Err(Error::Verification(
            "setsid reported success but this process does not lead a new session".into(),
        ));
    }
    Ok(parent)
}

/// Fork. The child returns the waiting parent's pid; the parent waits.
fn fork_waiter(new: NewSession, parent: Pid, promise: sys::WholeProgram) -> Result<Pid> {
    // The parent must see the child's exit even if the caller ignored
    // SIGCHLD (an ignored SIGCHLD survives execve, and makes the kernel
    // reap children unseen); the child gets the caller's disposition back.
    let caller_sigchld = sys::default_disposition(nix::libc::SIGCHLD)
        .map_err(|e| Error::syscall("sigaction(SIGCHLD, SIG_DFL)", e))?;
    // Block the forwarded signals and SIGCHLD before the fork, so none
    // arrives unseen between the fork and the wait.
    let mut watched = SigSet::empty();
    for signal in new.watched() {
        watched.add(signal);
    }
    let mut original = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&watched), Some(&mut original))
        .map_err(|e| Error::syscall("sigprocmask", e))?;
    let waiter_pid = getpid();
    match sys::fork(promise).map_err(|e| Error::syscall("fork", e))? {
        ForkResult::Child => {
            // The target gets the caller's signal mask and SIGCHLD, not ours.
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&original), None)
                .map_err(|e| Error::syscall("sigprocmask", e))?;
            sys::restore_disposition(caller_sigchld)
                .map_err(|e| Error::syscall("sigaction(SIGCHLD)", e))?;
            Ok(waiter_pid)
        }
        ForkResult::Parent { child } => std::process::exit(wait(child, &watched, &new, parent)),
    }
}

/// Get ready to wait: hold nothing the target relies on (every descriptor
/// above 2 closes but the terminal to revoke, so locks, pipes and
/// systemd's sockets stay with the target alone), no capability but what
/// waiting needs (dropped through transition.rs, like every credential
/// change), not dumpable, and the parent-death signal.
fn prepare_waiter(new: &NewSession, parent: Pid) -> Result<()> {
    let closed = new
        .waiter_ranges()
        .into_iter()
        .try_for_each(|(a, b)| sys::close_range(a, b));
    if closed.is_err() {
        // Refused (an old kernel, a seccomp filter): one at a time.
        for fd in crate::base::fds::open_descriptors()? {
            if fd > 2 && Some(fd) != new.revoke {
                sys::close(fd).map_err(|e| Error::syscall(format!("close({fd})"), e))?;
            }
        }
    }
    transition::drop_to(new.waiter_keeps())?;
    nix::sys::prctl::set_dumpable(false)
        .map_err(|e| Error::syscall("prctl(PR_SET_DUMPABLE, 0)", e))?;
    if let Some(signal) = new.pdeathsig {
        nix::sys::prctl::set_pdeathsig(signal)
            .map_err(|e| Error::syscall("prctl(PR_SET_PDEATHSIG)", e))?;
        if getppid() != parent {
            return Err(Error::NotPermitted(format!(
                "the parent exited before --pdeathsig {signal} was set"
            )));
        }
    }
    Ok(())
}

/// The waiting parent: forwards signals, reaps every child (it may be PID
/// 1 of a container), and once the command is done revokes the terminal
/// if it must, and returns the command's status (128+N for death by
/// signal N).
fn wait(child: Pid, watched: &SigSet, new: &NewSession, parent: Pid) -> i32 {
    if let Err(e) = prepare_waiter(new, parent) {
        eprintln!("runas: {e}");
        let _ = kill(child, Signal::SIGKILL);
        return i32::from(EXIT_FAILURE);
    }
    let status = loop {
        let Ok(signal) = sys::sigwait(watched).map(Signal::try_from) else {
            continue;
        };
        let Ok(signal) = signal else {
            continue;
        };
        if signal != Signal::SIGCHLD {
            // The child may just have exited; ESRCH is then harmless.
            let _ = kill(child, signal);
            continue;
        }
        let mut done = None;
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => done = Some(code),
                Ok(WaitStatus::Signaled(pid, signal, _)) if pid == child => {
                    done = Some(128 + signal as i32);
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(e) => {
                    eprintln!("runas: waiting for the command: {}", sys::errno_text(e));
                    done = Some(i32::from(EXIT_FAILURE));
                    break;
                }
            }
        }
        if let Some(status) = done {
            break status;
        }
    };
    // As PID 1 of a pid namespace, the waiter's exit ends its session and
    // frees the terminal before the kernel kills the namespace's other
    // processes: a process the target left behind could take the terminal
    // in between. So they are killed, and reaped, first.
    if getpid().as_raw() == 1 {
        let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
        while !matches!(waitpid(None, None), Err(Errno::ECHILD)) {}
    }
    if let Some(fd) = new.revoke
        && let Err(e) = sys::tiocvhangup(fd)
    {
        eprintln!(
            "runas: revoking the terminal after the command: ioctl(TIOCVHANGUP): {}",
            sys::errno_text(e)
        );
        return i32::from(EXIT_FAILURE);
    }
    status
}

/// The calls of [`occupy_standard_fds`].
pub fn occupy_calls() -> Vec<Call> {
    vec![Call::new(
        "openat",
        vec![
            Arg::Text("/dev/null".into()),
            Arg::name("O_RDONLY|O_CLOEXEC"),
        ],
    )]
}

/// A path's last component, as the trusted walk opens it: relative to
/// its directory, reached without following a link.
fn in_its_directory(path: &Path) -> [Arg; 2] {
    [
        Arg::Later("its directory"),
        Arg::Text(path.file_name().unwrap_or_default().to_owned()),
    ]
}

/// The calls of [`Pidfile::open_locked`]: created (O_CREAT|O_EXCL, mode
/// 0644) where it is missing, else opened as it is.
pub fn lock_calls(path: &Path) -> Vec<Call> {
    let open = |flags: &str| {
        let mut args = in_its_directory(path).to_vec();
        args.push(Arg::name(flags));
        Call::new("openat", args)
    };
    vec![
        open("O_RDWR|O_NOFOLLOW"),
        open("O_RDONLY|O_NOFOLLOW"),
        Call::new(
            "flock",
            vec![
                Arg::Later("the read-only descriptor"),
                Arg::name("LOCK_EX|LOCK_NB"),
            ],
        ),
    ]
}

/// The calls of [`daemonize`] in the process that goes on to be the
/// daemon: through the middle process.
pub fn daemonize_calls() -> Vec<Call> {
    vec![
        Call::new("pipe2", vec![Arg::name("O_CLOEXEC")]),
        Call::new(
            "prctl",
            vec![Arg::name("PR_SET_CHILD_SUBREAPER"), Arg::Num(1)],
        ),
        Call::new("fork", Vec::new()),
        Call::new("setsid", Vec::new()),
        Call::new("fork", Vec::new()),
    ]
}

/// The calls of the middle process, after its fork.
pub fn middle_calls() -> Vec<Call> {
    vec![Call::new(
        "write",
        vec![
            Arg::Later("the status pipe"),
            Arg::Later("\"pid\" and the daemon's pid"),
        ],
    )]
}

/// The calls of [`Pidfile::record`] and [`stdio_to_null`].
pub fn daemon_stdio_calls(pidfile: bool) -> Vec<Call> {
    let mut calls = Vec::new();
    if pidfile {
        calls.push(Call::new(
            "ftruncate",
            vec![Arg::Later("the pidfile"), Arg::Num(0)],
        ));
        calls.push(Call::new(
            "write",
            vec![Arg::Later("the pidfile"), Arg::Later("the daemon's pid")],
        ));
        calls.push(Call::new(
            "fcntl",
            vec![Arg::Later("the lock"), Arg::name("F_SETFD"), Arg::Num(0)],
        ));
    }
    calls.push(Call::new(
        "openat",
        vec![Arg::Text("/dev/null".into()), Arg::name("O_RDWR|O_CLOEXEC")],
    ));
    for fd in 0..=2 {
        calls.push(Call::new(
            "dup2",
            vec![Arg::Later("/dev/null"), Arg::Num(fd)],
        ));
    }
    calls
}

/// The calls of [`redirect_to_log`].
pub fn log_calls(path: &Path, as_target: bool) -> Vec<Call> {
    let flags = if as_target {
        "O_WRONLY|O_CREAT|O_APPEND|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC"
    } else {
        "O_WRONLY|O_CREAT|O_APPEND|O_NOFOLLOW"
    };
    let mut open: Vec<Arg> = if as_target {
        vec![Arg::Text(path.as_os_str().to_owned())]
    } else {
        in_its_directory(path).to_vec()
    };
    open.extend([Arg::name(flags), Arg::Octal(0o640)]);
    vec![
        Call::new("openat", open),
        Call::new(
            "fcntl",
            vec![
                Arg::Later("the log"),
                Arg::name("F_SETFL"),
                Arg::name("O_APPEND"),
            ],
        ),
        Call::new("dup2", vec![Arg::Later("the log"), Arg::Num(1)]),
        Call::new("dup2", vec![Arg::Later("the log"), Arg::Num(2)]),
    ]
}

/// runas has no std start-up code (src/main.rs), so a caller may hand it
/// closed descriptors 0-2. The daemon points them at /dev/null or the log
/// anyway; fill the gaps first, or the pidfile or the status pipe could be
/// opened as descriptor 0, 1 or 2 and then be replaced by those dup2 calls.
pub fn occupy_standard_fds() -> Result<()> {
    loop {
        let null = File::open("/dev/null").map_err(|e| Error::Io {
            what: "opening /dev/null".into(),
            source: e,
        })?;
        if null.as_raw_fd() > 2 {
            return Ok(());
        }
        // Left open on purpose: it now is the missing standard descriptor.
        let _ = null.into_raw_fd();
    }
}

fn pidfile_problem(path: &Path, problem: Problem) -> Error {
    crate::paths::refuse("--pidfile", path)(problem)
}

/// What `Pidfile::open_locked` would refuse, found without creating or
/// opening anything (--dry-run): the same walk and the same checks.
pub fn check_pidfile_path(path: &Path) -> Result<()> {
    let refuse = |problem| pidfile_problem(path, problem);
    let parent = trusted::walk(path).map_err(refuse)?;
    if let Some(stat) = parent.lstat().map_err(refuse)? {
        parent.check_shared_entry(&stat).map_err(refuse)?;
        trusted::check_roots_alone(&stat).map_err(refuse)?;
    }
    Ok(())
}

/// What `redirect_to_log` would refuse for a root target's log, found
/// without creating or opening anything (--dry-run).
pub fn check_root_log_path(path: &Path) -> Result<()> {
    let refuse = |problem| crate::paths::refuse("--log", path)(problem);
    let parent = trusted::walk(path).map_err(refuse)?;
    if let Some(stat) = parent.lstat().map_err(refuse)? {
        parent.check_shared_entry(&stat).map_err(refuse)?;
        if is_type(&stat, SFlag::S_IFLNK) {
            return Err(refuse(Problem::Symlink));
        }
        // The real run's non-blocking open of a FIFO without a reader
        // fails first, and says so in these words.
        if is_type(&stat, SFlag::S_IFIFO) {
            return Err(refuse(Problem::NotRegular("a FIFO or a device")));
        }
        check_log_file(&stat).map_err(refuse)?;
    }
    Ok(())
}

/// What the daemon's log must be, as opened: a regular file with one name
/// (not a FIFO or device it would write into, nor another file's second
/// name).
fn check_log_file(stat: &nix::sys::stat::FileStat) -> std::result::Result<(), Problem> {
    if !is_type(stat, SFlag::S_IFREG) {
        return Err(Problem::NotRegular(kind_of(stat)));
    }
    if stat.st_nlink != 1 {
        return Err(Problem::HardLinks(stat.st_nlink));
    }
    Ok(())
}

/// The daemon's pidfile: opened by root before the switch, in a path only
/// root controls (trusted_path.rs), locked, and written by the daemon.
/// The lock is held on a read-only descriptor, the only one the daemon
/// keeps: the target can never write the pid a stop script will kill.
pub struct Pidfile {
    path: PathBuf,
    writer: File,
    /// Never unlocked by a destructor: an unlock in any process that shares
    /// the open file would release the daemon's lock too.
    lock: ManuallyDrop<Flock<File>>,
}

impl Pidfile {
    pub fn open_locked(path: &Path) -> Result<Pidfile> {
        let refuse = |problem| pidfile_problem(path, problem);
        let parent = trusted::walk(path).map_err(refuse)?;
        let (writer, written) = parent
            .create_or_open(OFlag::O_RDWR, 0o644, trusted::check_roots_alone)
            .map_err(refuse)?;
        let io = |errno| {
            refuse(Problem::Io {
                at: path.to_owned(),
                errno,
            })
        };
        // A second, read-only open file for the lock: the same file (the
        // directory is root's, so nobody can swap it in between).
        let reader = parent.open(OFlag::O_RDONLY, 0).map_err(refuse)?;
        let read = fstat(&reader).map_err(io)?;
        if (read.st_dev, read.st_ino) != (written.st_dev, written.st_ino) {
            return Err(io(Errno::EAGAIN));
        }
        let lock = match Flock::lock(File::from(reader), FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, Errno::EWOULDBLOCK)) => {
                return Err(Error::NotPermitted(format!(
                    "--pidfile {} is locked by a running instance ({}): stop it first",
                    quote(path),
                    describe_pid(&mut file)
                )));
            }
            Err((_, e)) => {
                return Err(Error::syscall(format!("flock({})", quote(path)), e));
            }
        };
        Ok(Pidfile {
            path: path.to_owned(),
            writer: File::from(writer),
            lock: ManuallyDrop::new(lock),
        })
    }

    /// Record `pid`, and close the writable descriptor in this process.
    /// Returns the read-only, locked descriptor, which the daemon keeps.
    pub fn record(self, pid: Pid) -> Result<RawFd> {
        let Pidfile { path, writer, lock } = self;
        writer
            .set_len(0)
            .and_then(|()| (&writer).write_all(format!("{pid}\n").as_bytes()))
            .map_err(|e| Error::Io {
                what: format!("--pidfile {}", quote(&path)),
                source: e,
            })?;
        drop(writer);
        let file: &File = &lock;
        // The daemon keeps the locked, read-only descriptor across execve.
        nix::fcntl::fcntl(file, FcntlArg::F_SETFD(FdFlag::empty()))
            .map_err(|e| Error::syscall("fcntl(F_SETFD)", e))?;
        Ok(file.as_raw_fd())
    }

    /// After a failed start: no pid is left behind for a stop script.
    fn clear(&self) {
        let _ = self.writer.set_len(0);
    }
}

/// The pid another instance wrote, shown only if it is a number: the file
/// may hold anything, terminal escapes included.
fn describe_pid(file: &mut File) -> String {
    let mut text = [0u8; 24];
    let n = file.read(&mut text).unwrap_or(0);
    let text = std::str::from_utf8(&text[..n]).unwrap_or("");
    match text.trim_end_matches('\n').parse::<u32>() {
        Ok(pid) => format!("pid {pid}"),
        Err(_) => "its pidfile does not hold a pid".into(),
    }
}

/// --log: open the daemon's log and make it its stdout and stderr. Called
/// in the daemon after the credential switch, so a target other than root
/// opens it with its own rights, exactly as if it had opened the file
/// itself: a link it planted leads only where it could write anyway. A
/// root target's log goes through the same trusted walk as the pidfile.
/// Either way: no link in the last component, no blocking on a FIFO, and
/// only a regular file with one name.
pub fn redirect_to_log(path: &Path, target_uid: Uid) -> Result<()> {
    let refuse = |problem| crate::paths::refuse("--log", path)(problem);
    let flags = OFlag::O_WRONLY | OFlag::O_APPEND;
    let fd: OwnedFd = if target_uid == Uid::ROOT {
        let parent = trusted::walk(path).map_err(refuse)?;
        parent
            .create_or_open(flags, 0o640, |_| Ok(()))
            .map_err(refuse)?
            .0
    } else {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
            .open(path)
            .map_err(|e| match e.raw_os_error().map(Errno::from_raw) {
                Some(Errno::ELOOP) => refuse(Problem::Symlink),
                Some(Errno::ENXIO) => refuse(Problem::NotRegular("a FIFO or a device")),
                // Not a matter of rights: no descriptor was left to open it.
                Some(errno @ (Errno::EMFILE | Errno::ENFILE)) => Error::syscall(
                    format!(
                        "opening --log {} (with --rlimit nofile, leave room for it)",
                        crate::base::quote::quote(path)
                    ),
                    errno,
                ),
                errno => Error::LogAsTarget {
                    path: path.to_owned(),
                    uid: target_uid.raw(),
                    errno: errno.unwrap_or(Errno::EIO),
                },
            })?;
        file.into()
    };
    let stat = fstat(&fd).map_err(|errno| {
        refuse(Problem::Io {
            at: path.to_owned(),
            errno,
        })
    })?;
    check_log_file(&stat).map_err(refuse)?;
    nix::fcntl::fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_APPEND))
        .map_err(|e| Error::syscall("fcntl(F_SETFL)", e))?;
    nix::unistd::dup2_stdout(&fd).map_err(|e| Error::syscall("dup2(stdout)", e))?;
    nix::unistd::dup2_stderr(&fd).map_err(|e| Error::syscall("dup2(stderr)", e))?;
    Ok(())
}

/// How the daemon talks to the caller over the status pipe, one record
/// per line: the middle process sends `pid N` (the daemon's), the daemon
/// sends `exec` right before execve, or `fail CODE MESSAGE` instead.
/// The pipe is close-on-exec: after `exec`, end of file means execve
/// succeeded (or the daemon was killed in the few instructions between).
struct Report {
    daemon: Option<Pid>,
    exec: bool,
    failure: Option<Error>,
}

fn parse_report(text: &str) -> Report {
    let mut report = Report {
        daemon: None,
        exec: false,
        failure: None,
    };
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(failure) = rest.strip_prefix("fail ") {
            let (code, message) = failure.split_once(' ').unwrap_or((failure, ""));
            report.failure = Some(Error::Relayed {
                code: code.parse().unwrap_or(EXIT_FAILURE),
                message: message.trim_end().to_owned(),
            });
            break;
        }
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        if let Some(pid) = line.strip_prefix("pid ") {
            report.daemon = pid.parse().ok().map(Pid::from_raw);
        } else if line == "exec" {
            report.exec = true;
        }
        rest = next;
    }
    report
}

/// The daemon's end of the status pipe.
pub struct StatusPipe(File);

impl StatusPipe {
    /// Right before execve: the daemon got this far alive.
    pub fn about_to_exec(&self) {
        self.send("exec\n");
    }

    /// One write each: records from the middle process and the daemon
    /// must not interleave (a pipe write of up to PIPE_BUF bytes is atomic).
    fn send(&self, record: &str) {
        let _ = (&self.0).write_all(record.as_bytes());
    }

    /// Report a failure to the caller, and exit with its status.
    pub fn fail(&self, failure: &Error) -> ! {
        let message = failure.to_string().replace('\n', " ");
        self.send(&format!("fail {} {message}", failure.exit_code()));
        std::process::exit(i32::from(failure.exit_code()))
    }
}

/// Where a process goes on after [`daemonize`].
pub enum Forked {
    /// The caller: the daemon said it was about to exec, and did.
    Caller,
    /// The daemon: it goes on with the steps, reporting to its caller.
    Daemon {
        status: StatusPipe,
        pidfile: Option<Pidfile>,
    },
}

/// The classic procedure: fork (the caller waits for the word from the
/// daemon and exits with it), setsid, fork again (the daemon is no session
/// leader and can never gain a terminal). The caller is a child subreaper
/// while it waits, so the daemon, orphaned by the middle process, is its
/// child and its fate is known: runas exits 0 only after the daemon said
/// it was about to exec and then its status pipe closed; a daemon that
/// died before is reported with its signal or status.
pub fn daemonize(
    pidfile: Option<Pidfile>,
    timeout: Option<u32>,
    promise: sys::WholeProgram,
) -> Result<Forked> {
    let (reader, writer) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::syscall("pipe2", e))?;
    nix::sys::prctl::set_child_subreaper(true)
        .map_err(|e| Error::syscall("prctl(PR_SET_CHILD_SUBREAPER)", e))?;
    match sys::fork(promise).map_err(|e| Error::syscall("fork", e))? {
        ForkResult::Parent { child } => {
            drop(writer);
            let outcome = read_report(File::from(reader), child, timeout).and_then(judge);
            if outcome.is_err()
                && let Some(pidfile) = &pidfile
            {
                pidfile.clear();
            }
            // Dropping `pidfile` closes this process's descriptors only: the
            // lock is in a ManuallyDrop, so nothing here unlocks the daemon's.
            drop(pidfile);
            outcome.map(|()| Forked::Caller)
        }
        ForkResult::Child => {
            drop(reader);
            let status = StatusPipe(File::from(writer));
            // The middle process: a new session, then the daemon.
            if let Err(e) = setsid() {
                status.fail(&Error::syscall("setsid", e));
            }
            match sys::fork(promise) {
                Err(e) => status.fail(&Error::syscall("fork", e)),
                // The session leader leaves at once; the daemon is its orphan.
                Ok(ForkResult::Parent { child }) => {
                    status.send(&format!("pid {child}\n"));
                    std::process::exit(0)
                }
                Ok(ForkResult::Child) => Ok(Forked::Daemon { status, pidfile }),
            }
        }
    }
}

/// In the daemon: standard input from /dev/null, and standard output and
/// error to it too, until --log replaces them.
pub fn stdio_to_null() -> Result<()> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::Io {
            what: "opening /dev/null".into(),
            source: e,
        })?;
    nix::unistd::dup2_stdin(&null).map_err(|e| Error::syscall("dup2(stdin)", e))?;
    nix::unistd::dup2_stdout(&null).map_err(|e| Error::syscall("dup2(stdout)", e))?;
    nix::unistd::dup2_stderr(&null).map_err(|e| Error::syscall("dup2(stderr)", e))?;
    Ok(())
}

/// Read the status pipe to its end. Between its credential switch and its
/// execve the daemon runs as the target user, who may stop it (SIGSTOP), or
/// hold it in a --chdir, --log open or PATH search on a FUSE file system of
/// its own that never answers: the pipe would then stay open for ever, and
/// the caller's start script (holding the pidfile's lock) with it. So the
/// daemon, this process's child once the middle process has exited
/// (subreaper), is watched while the report is read: stopped, or still
/// short of its exec after `timeout` seconds, it is killed and the start
/// is a failure.
// Never inlined: its 4 KiB buffer would otherwise sit in the frame of the
// step loop (run.rs) of every run, a stack page touched for nothing.
#[inline(never)]
fn read_report(mut pipe: File, middle: Pid, timeout: Option<u32>) -> Result<Report> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut text = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut middle_done = false;
    let deadline = timeout
        .map(|seconds| std::time::Instant::now() + std::time::Duration::from_secs(seconds.into()));
    loop {
        let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(200u16)) {
            Ok(0) => {}
            Ok(_) => match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::Io {
                        what: "reading the daemon's status".into(),
                        source: e,
                    });
                }
            },
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::syscall("poll", e)),
        }
        if !middle_done {
            // The middle process exits as soon as it forked the daemon.
            middle_done = matches!(
                waitpid(middle, Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) | Err(_)
            );
        }
        let report = parse_report(&String::from_utf8_lossy(&text));
        if let Some(daemon) = report.daemon
            && middle_done
            && stopped(daemon)
        {
            let _ = kill(daemon, Signal::SIGKILL);
            return Err(Error::NotPermitted(
                "the daemon was stopped (SIGSTOP) before it ran the command, so it was killed: the target user may signal it once the switch is made".into(),
            ));
        }
        // Until the pipe closes: the word `exec` comes before execve, and
        // the PATH search in it can be held as well.
        if report.failure.is_none() && deadline.is_some_and(|at| std::time::Instant::now() >= at) {
            // The daemon, or the middle process if it never said which.
            // The daemon, and the middle process's group, which the daemon
            // is in even if it never said its pid. Not waited for: a process
            // held in a request that its FUSE server has read but never
            // answers (or on a hard NFS mount) dies only when the call
            // returns.
            if let Some(daemon) = report.daemon {
                let _ = kill(daemon, Signal::SIGKILL);
            }
            let _ = nix::sys::signal::killpg(middle, Signal::SIGKILL);
            return Err(Error::NotPermitted(format!(
                "the daemon did not reach its exec within {} s, so it was killed (a --chdir, --log or PATH search on a file system that does not answer?); --daemon-timeout sets the limit",
                timeout.unwrap_or_default()
            )));
        }
    }
    if !middle_done {
        let _ = waitpid(middle, None);
    }
    Ok(parse_report(&String::from_utf8_lossy(&text)))
}

/// Whether a child is stopped now (left waitable, WNOWAIT).
fn stopped(child: Pid) -> bool {
    use nix::sys::wait::{Id, waitid};
    matches!(
        waitid(
            Id::Pid(child),
            WaitPidFlag::WSTOPPED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT
        ),
        Ok(WaitStatus::Stopped(..))
    )
}

/// The caller's verdict from the daemon's report.
fn judge(report: Report) -> Result<()> {
    if let Some(failure) = report.failure {
        return Err(failure);
    }
    if report.exec {
        return Ok(());
    }
    // End of file without a word: the daemon died before exec, and is this
    // process's child (subreaper), so its status is known.
    let status = report
        .daemon
        .map(|pid| waitpid(pid, None))
        .transpose()
        .ok()
        .flatten();
    let how = match status {
        Some(WaitStatus::Signaled(_, signal, _)) => format!("killed by {signal}"),
        Some(WaitStatus::Exited(_, code)) => format!("exit status {code}"),
        _ => "status unknown".into(),
    };
    Err(Error::NotPermitted(format!(
        "the daemon died before it ran the command ({how})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_timeouts_are_plain_seconds() {
        assert_eq!(parse_daemon_timeout("0").unwrap(), None);
        assert_eq!(parse_daemon_timeout("30").unwrap(), Some(30));
        assert_eq!(parse_daemon_timeout("86400").unwrap(), Some(86_400));
        for bad in ["", "00", "010", "86401", "-1", "+5", " 5", "1.5", "1s"] {
            assert!(parse_daemon_timeout(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_waiter_shows_its_own_calls() {
        let new = NewSession {
            fork: true,
            pid_one: false,
            why: None,
            revoke: Some(7),
            pdeathsig: None,
        };
        let calls: Vec<String> = new.waiter_calls().iter().map(ToString::to_string).collect();
        assert_eq!(
            calls,
            [
                "close_range(3, 6, 0)",
                "close_range(8, 4294967295, 0)",
                "capget()",
                "capset(effective=0x200020, permitted=0x200020, inheritable=0x0)",
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
                "prctl(PR_SET_DUMPABLE, SUID_DUMP_DISABLE)",
                "ioctl(7, TIOCVHANGUP)",
            ]
        );
        let calls: Vec<String> = new.calls().iter().map(ToString::to_string).collect();
        assert_eq!(calls[2], "fork()");
        assert_eq!(calls[5..], ["setsid()", "getsid(0)"]);
    }

    #[test]
    fn reports_are_read_line_by_line_and_a_failure_ends_them() {
        let r = parse_report("pid 42\nexec\n");
        assert_eq!((r.daemon, r.exec), (Some(Pid::from_raw(42)), true));
        assert!(r.failure.is_none());
        let r = parse_report("pid 42\nexec\nfail 127 \"x\": command not found");
        assert!(r.exec);
        let failure = r.failure.unwrap();
        assert_eq!(failure.exit_code(), 127);
        assert_eq!(failure.to_string(), "\"x\": command not found");
        let r = parse_report("pid 42\n");
        assert!(!r.exec && r.failure.is_none());
        assert!(judge(parse_report("pid 1\nexec\n")).is_ok());
    }

    #[test]
    fn only_a_number_from_a_pidfile_is_shown() {
        let mut file = tempfile_with(b"\x1b]2;pwned\x07 4242\n");
        assert_eq!(describe_pid(&mut file), "its pidfile does not hold a pid");
        let mut file = tempfile_with(b"4242\n");
        assert_eq!(describe_pid(&mut file), "pid 4242");
    }

    fn tempfile_with(bytes: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!(
            "runas-session-unit-{}-{}",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }
}
