//! runas: run a command as another user and/or group, in place.
//!
//! The flow is one straight line, each step in its own module:
//! cli (words) → spec (meaning) → plan (lookups, all before any change) →
//! transition (the only credential changes) → verify (proof) → exec.
#![deny(unsafe_code)]

pub mod capability;
pub mod cli;
pub mod compat;
pub mod error;
pub mod exec;
pub mod files;
pub mod newgrp;
pub mod plan;
pub mod process;
pub mod session;
pub mod show;
pub mod spec;
pub mod sys;
pub mod terminal;
pub mod transition;
pub mod trusted_path;
pub mod userdb;
pub mod verify;

use error::{Error, Result};
use std::ffi::OsString;
use std::io::Write;

/// A set-user-ID or set-group-ID install would hand every local user the
/// owner's identity through runas's options. Refuse before parsing anything.
fn refuse_set_id_install(before: &plan::Credentials) -> Result<()> {
    for (kind, ids) in [("uid", before.uid), ("gid", before.gid)] {
        if ids.real != ids.effective {
            return Err(Error::SetIdInstall {
                kind,
                real: ids.real,
                effective: ids.effective,
            });
        }
    }
    Ok(())
}

/// The groups owning --add-group-of paths, looked up before any change,
/// through paths only root controls (trusted_path.rs): the target must not
/// pick its own group by swapping the path for a link.
fn groups_of_paths(paths: &[std::path::PathBuf]) -> Result<Vec<u32>> {
    paths
        .iter()
        .map(|path| {
            trusted_path::group_of(path).map_err(|problem| Error::UnsafePath {
                option: "--add-group-of",
                path: path.clone(),
                problem,
            })
        })
        .collect()
}

/// Print --help, --version, --dump or --dry-run text. A reader that went
/// away (`runas --help | head -1`, EPIPE) is not an error; any other
/// failure to write (`> /dev/full`) is: the output was asked for.
/// Flushed here: without std's start-up and shut-down code (src/main.rs),
/// nothing flushes stdout at exit.
fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            what: "writing to standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// What runas knew about itself when it started.
struct Start {
    /// The credentials before any change: the set-ID check and the plan
    /// both start from these.
    before: plan::Credentials,
    /// The parent a parent-death signal refers to.
    parent: nix::unistd::Pid,
    /// This process's pid; a process that execs the command with another
    /// pid was forked (daemon, new session).
    pid: nix::unistd::Pid,
    promise: sys::WholeProgram,
}

/// Everything after the plan: the terminal, the switch, the daemon's log,
/// the session, the process options, the proof, and the exec. Returns only
/// on failure. `parent` is the process a parent-death signal refers to;
/// `daemon` is the daemon's status pipe.
fn switch_and_exec(
    plan: &plan::Plan,
    start: &Start,
    command: &[std::ffi::OsString],
    parent: nix::unistd::Pid,
    daemon: Option<&session::StatusPipe>,
) -> Error {
    let before = &start.before;
    let attempt = || -> Result<std::borrow::Cow<'_, plan::Plan>> {
        let caps_before = sys::capget().map_err(|e| Error::syscall("capget", e))?;
        let defence = terminal::decide(plan, before, caps_before)?;
        let mut parent = parent;
        match (&plan.process.session, &defence) {
            (_, terminal::Defence::Detach(tty)) => terminal::detach(tty)?,
            // Before the switch: a waiting parent keeps the caller's uid.
            (session::Session::NewSession, _) | (_, terminal::Defence::NewSession(..)) => {
                let waiter = session::Waiter {
                    pdeathsig: plan.process.pdeathsig,
                    parent,
                    revoke: defence.revoke(),
                };
                parent = session::enter_new_session(waiter, start.promise)?;
            }
            _ => {}
        }
        let transition = transition::apply(plan, before, caps_before)?;
        if let Some(log) = plan.process.daemon.as_ref().and_then(|d| d.log.as_deref()) {
            session::redirect_to_log(log, plan.uid)?;
        }
        if plan.process.session == session::Session::NewProcessGroup
            && !matches!(defence, terminal::Defence::NewSession(..))
        {
            session::enter_process_group()?;
        }
        // systemd's sockets were passed to runas's pid; a forked command
        // has another, and is told its own.
        let plan = match nix::unistd::getpid() {
            pid if pid != start.pid && plan.process.listen_fds > 0 => {
                let mut forked = plan.clone();
                forked
                    .env
                    .set
                    .push(("LISTEN_PID".into(), pid.to_string().into()));
                std::borrow::Cow::Owned(forked)
            }
            _ => std::borrow::Cow::Borrowed(plan),
        };
        process::apply(&plan, parent)?;
        verify::verify(&plan, before, &transition)?;
        if let Some(status) = daemon {
            status.about_to_exec();
        }
        Ok(plan)
    };
    match attempt() {
        Ok(plan) => exec::exec(command, &plan.env, start.promise),
        Err(e) => e,
    }
}

fn run_runas(args: Vec<OsString>, start: &Start) -> Result<()> {
    let before = &start.before;
    let options = match cli::parse(args)? {
        cli::Parsed::Run(options) => options,
        cli::Parsed::Print(text) => {
            return print(&text);
        }
    };
    if options.dump {
        let mut others = (*options).clone();
        others.dump = false;
        others.json = false;
        if others != cli::Options::default() {
            return Err(Error::Usage(
                "--dump takes no other option than --json, and no command".into(),
            ));
        }
        return print(&show::dump(options.json, &userdb::SystemDb)?);
    }
    let mut request = spec::parse_request(&options)?;
    let restricted = newgrp::is_restricted(before, sys::at_secure());
    if restricted {
        request = newgrp::restrict(request, before)?;
    }
    request.process.listen_fds = process::systemd_sockets(
        std::env::var("LISTEN_PID").ok().as_deref(),
        std::env::var("LISTEN_FDS").ok().as_deref(),
        std::process::id() as i32,
        |fd| sys::fd_flags(fd).is_ok(),
    )?;
    let extra_groups = groups_of_paths(&request.add_group_of)?;
    let plan = plan::resolve(&request, before, &userdb::SystemDb, &extra_groups)?;
    if restricted {
        newgrp::check_plan(&plan, before)?;
    }
    if options.dry_run {
        let caps_before = sys::capget().map_err(|e| Error::syscall("capget", e))?;
        return print(&show::dry_run(
            &plan,
            before,
            caps_before,
            &options.command,
            options.json,
            &userdb::SystemDb,
        )?);
    }
    if let Some(daemon) = &plan.process.daemon {
        session::occupy_standard_fds()?;
        let pidfile = daemon
            .pidfile
            .as_deref()
            .map(session::Pidfile::open_locked)
            .transpose()?;
        return session::daemonize(pidfile, start.promise, |kept, status| {
            let mut plan = plan.clone();
            // Every inherited descriptor above 2 closes, but the kept ones
            // and the pidfile's lock; the daemon starts in / unless --chdir.
            if let (Some(close), Some(fd)) = (plan.process.close_fds.as_mut(), kept) {
                close.push(fd);
            }
            plan.process.chdir.get_or_insert_with(|| "/".into());
            switch_and_exec(
                &plan,
                start,
                &options.command,
                nix::unistd::getppid(),
                Some(status),
            )
        });
    }
    Err(switch_and_exec(
        &plan,
        start,
        &options.command,
        start.parent,
        None,
    ))
}

fn run_compat(mode: compat::Mode, args: &[OsString], start: &Start) -> Result<()> {
    let before = &start.before;
    match compat::parse_args(mode, args)? {
        compat::Invocation::Print(text) => print(&text),
        compat::Invocation::Run { spec, command } => {
            // gosu/su-exec rules would let a file capability set any gid.
            if newgrp::is_restricted(before, sys::at_secure()) {
                return Err(Error::NotPermitted(format!(
                    "{} mode is not available when runas runs with a file capability for a non-root caller; use runas --group GROUP (newgrp mode)",
                    mode.name()
                )));
            }
            let plan = compat::resolve(mode, &spec, before, &userdb::SystemDb)?;
            Err(switch_and_exec(&plan, start, &command, start.parent, None))
        }
    }
}

fn run(args: Vec<OsString>, promise: sys::WholeProgram) -> Result<()> {
    // argc 0 (an execve with an empty argv, as in CVE-2021-4034, which the
    // kernel now turns into one empty argument): no program name to pick a
    // mode by, and argv[1] would be the first environment string.
    if args.first().is_none_or(|argv0| argv0.is_empty()) {
        return Err(Error::Usage(
            "refusing to run with an empty argument list: argv[0] must be the program's name"
                .into(),
        ));
    }
    let parent = nix::unistd::getppid();
    let before = verify::read_credentials()?;
    refuse_set_id_install(&before)?;
    newgrp::refuse_gain_without_secure_mode(&before, sys::at_secure())?;
    let start = Start {
        before,
        parent,
        pid: nix::unistd::getpid(),
        promise,
    };
    let argv0 = args.first().cloned().unwrap_or_default();
    match compat::Mode::from_program_name(&argv0) {
        Some(mode) => run_compat(mode, &args, &start),
        None => run_runas(args, &start),
    }
}

/// The program, given its argv and the whole-program promises: run, and
/// on failure print the one message and return the exit status the
/// failure maps to.
pub fn main(args: Vec<OsString>, promise: sys::WholeProgram) -> u8 {
    match run(args, promise) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("runas: {error}");
            error.exit_code()
        }
    }
}
