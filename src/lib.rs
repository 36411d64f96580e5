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
pub mod transition;
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

/// The groups owning --add-group-of paths, looked up before any change.
fn groups_of_paths(paths: &[std::path::PathBuf]) -> Result<Vec<u32>> {
    use std::os::unix::fs::MetadataExt;
    paths
        .iter()
        .map(|path| {
            std::fs::metadata(path).map(|m| m.gid()).map_err(|e| {
                Error::NotPermitted(format!("--add-group-of {:?}: {e}", path.to_string_lossy()))
            })
        })
        .collect()
}

/// Print --help or --version text. A closed stdout (`runas --help | head
/// -1`) is not an error.
/// Flushed here: without std's start-up and shut-down code (src/main.rs),
/// nothing flushes stdout at exit.
fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Everything after the plan: the terminal, the switch, the process
/// options, the proof, and the exec. Returns only on failure.
fn switch_and_exec(
    plan: &plan::Plan,
    before: &plan::Credentials,
    command: &[std::ffi::OsString],
    original_parent: nix::unistd::Pid,
) -> Error {
    let attempt = || -> Result<()> {
        let caps_before = sys::capget().map_err(|e| Error::syscall("capget", e))?;
        process::detach_terminal(plan, before, caps_before)?;
        let transition = transition::apply(plan, before, caps_before)?;
        process::apply(plan, original_parent)?;
        verify::verify(plan, before, &transition)?;
        session::enter(&plan.process.session)
    };
    match attempt() {
        Ok(()) => exec::exec(command, &plan.env),
        Err(e) => e,
    }
}

fn run_runas(
    args: Vec<OsString>,
    original_parent: nix::unistd::Pid,
    before: plan::Credentials,
) -> Result<()> {
    let options = match cli::parse(args)? {
        cli::Parsed::Run(options) => options,
        cli::Parsed::Print(text) => {
            print(&text);
            return Ok(());
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
        print(&show::dump(options.json)?);
        return Ok(());
    }
    let mut request = spec::parse_request(&options)?;
    let restricted = newgrp::is_restricted(&before, sys::at_secure());
    if restricted {
        request = newgrp::restrict(request, &before)?;
    }
    let extra_groups = groups_of_paths(&request.add_group_of)?;
    let plan = plan::resolve(&request, &before, &userdb::SystemDb, &extra_groups)?;
    if restricted {
        newgrp::check_plan(&plan, &before)?;
    }
    if options.dry_run {
        let caps_before = sys::capget().map_err(|e| Error::syscall("capget", e))?;
        print(&show::dry_run(
            &plan,
            &before,
            caps_before,
            &options.command,
            options.json,
        )?);
        return Ok(());
    }
    if let Some(daemon) = &plan.process.daemon {
        let files = session::open_daemon_files(daemon.pidfile.as_deref(), daemon.log.as_deref())?;
        return session::daemonize(files, |keep| {
            let mut plan = plan.clone();
            // Every inherited descriptor above 2 closes, but the kept ones
            // and the pidfile's lock; the daemon starts in / unless --chdir.
            if let Some(kept) = plan.process.close_fds.as_mut() {
                kept.extend_from_slice(keep);
            }
            plan.process.chdir.get_or_insert_with(|| "/".into());
            // The parent is gone by design: a parent-death signal refers
            // to the daemon's new parent from here on.
            switch_and_exec(&plan, &before, &options.command, nix::unistd::getppid())
        });
    }
    Err(switch_and_exec(
        &plan,
        &before,
        &options.command,
        original_parent,
    ))
}

fn run_compat(
    mode: compat::Mode,
    args: &[OsString],
    original_parent: nix::unistd::Pid,
    before: plan::Credentials,
) -> Result<()> {
    match compat::parse_args(mode, args)? {
        compat::Invocation::Print(text) => {
            print(&text);
            Ok(())
        }
        compat::Invocation::Run { spec, command } => {
            // gosu/su-exec rules would let a file capability set any gid.
            if newgrp::is_restricted(&before, sys::at_secure()) {
                return Err(Error::NotPermitted(format!(
                    "{} mode is not available when runas runs with a file capability for a non-root caller; use runas --group GROUP (newgrp mode)",
                    mode.name()
                )));
            }
            let plan = compat::resolve(mode, &spec, &before, &userdb::SystemDb)?;
            Err(switch_and_exec(&plan, &before, &command, original_parent))
        }
    }
}

fn run(args: Vec<OsString>) -> Result<()> {
    let original_parent = nix::unistd::getppid();
    // Read once: the set-ID check and the plan both start from these.
    let before = verify::read_credentials()?;
    refuse_set_id_install(&before)?;
    let argv0 = args.first().cloned().unwrap_or_default();
    match compat::Mode::from_program_name(&argv0) {
        Some(mode) => run_compat(mode, &args, original_parent, before),
        None => run_runas(args, original_parent, before),
    }
}

/// The program, given its argv: run, and on failure print the one message
/// and return the exit status the failure maps to.
pub fn main(args: Vec<OsString>) -> u8 {
    match run(args) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("runas: {error}");
            error.exit_code()
        }
    }
}
