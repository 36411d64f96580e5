//! Execute the list of steps (steps.rs), in order, and nothing else. The
//! forks are steps too: after --daemon's, the caller only waits for the
//! daemon's word and the daemon goes on with the list; after a new
//! session's, the parent only waits and the child goes on.

use crate::base::error::{Error, Result};
use crate::core::exec;
use crate::core::facts::Facts;
use crate::core::plan::{EnvPlan, Plan};
use crate::core::steps::Step;
use crate::core::transition;
use crate::core::verify;
use crate::options::process;
use crate::options::session::{self, Forked, Pidfile, StatusPipe};
use crate::options::terminal;
use crate::sys::WholeProgram;
use nix::unistd::{Pid, getpid, getppid};
use std::ffi::OsString;
use std::os::fd::RawFd;

/// What the steps executed so far left for the next ones.
struct Run<'a> {
    plan: &'a Plan,
    facts: &'a Facts,
    command: &'a [OsString],
    promise: WholeProgram,
    /// The process a parent-death signal refers to.
    parent: Pid,
    /// The pidfile, from its lock to the daemon's record of its pid.
    pidfile: Option<Pidfile>,
    /// The daemon's read-only, locked descriptor of its pidfile.
    lock: Option<RawFd>,
    /// The daemon's report to its caller.
    status: Option<StatusPipe>,
    /// The environment the command gets.
    env: EnvPlan,
    /// What the session keyring became, once made.
    keyring: Option<transition::Keyring>,
}

/// Whether the list goes on in this process.
enum Flow {
    Next,
    /// The caller of a daemon: the daemon ran the command.
    CallerDone,
}

/// Execute the steps. Returns `Ok` only in the caller of a daemon that
/// started; a run that reaches its exec does not return at all.
pub fn execute(
    steps: Vec<Step>,
    plan: &Plan,
    facts: &Facts,
    command: &[OsString],
    promise: WholeProgram,
) -> Result<()> {
    let mut run = Run {
        plan,
        facts,
        command,
        promise,
        parent: facts.parent,
        pidfile: None,
        lock: None,
        status: None,
        env: plan.env.clone(),
        keyring: None,
    };
    for step in steps {
        match run.step(step) {
            Ok(Flow::Next) => {}
            Ok(Flow::CallerDone) => return Ok(()),
            // In the daemon, a failure goes to the caller, which prints it.
            Err(e) => match &run.status {
                Some(status) => status.fail(&e),
                None => return Err(e),
            },
        }
    }
    Err(Error::Verification(
        "the list of steps ended without an exec".into(),
    ))
}

impl Run<'_> {
    fn step(&mut self, step: Step) -> Result<Flow> {
        let plan = self.plan;
        let before = &self.facts.credentials;
        match step {
            Step::Credential(change) => {
                if let Some(keyring) = transition::execute(&change, plan, before, self.promise)? {
                    self.keyring = Some(keyring);
                }
            }
            Step::Setting(setting) => process::apply(&setting, self.parent, self.lock)?,
            Step::Verify(regain, resources, keyring) => {
                crate::bench_stage("switch", self.promise);
                let keyring = keyring.then_some(self.keyring);
                verify::verify(plan, regain, keyring, self.lock, self.promise)?;
                crate::options::resources::verify(&resources)?;
            }
            Step::Exec { .. } => {
                crate::bench_stage("verify", self.promise);
                if let Some(status) = &self.status {
                    status.about_to_exec();
                }
                return Err(exec::exec(self.command, &self.env, self.promise));
            }
            other => return self.optional_step(other),
        }
        Ok(Flow::Next)
    }

    /// The steps only some options add. Apart, and never inlined: in the
    /// step loop their code spread the loop over 43 KB, code pages every
    /// run maps (docs/performance.md).
    #[cold]
    #[inline(never)]
    fn optional_step(&mut self, step: Step) -> Result<Flow> {
        let plan = self.plan;
        match step {
            Step::LockPidfile(path) => {
                session::occupy_standard_fds()?;
                self.pidfile = Some(Pidfile::open_locked(&path)?);
            }
            Step::Daemonize { timeout } => {
                session::occupy_standard_fds()?;
                match session::daemonize(self.pidfile.take(), timeout, self.promise)? {
                    Forked::Caller => return Ok(Flow::CallerDone),
                    Forked::Daemon { status, pidfile } => {
                        self.status = Some(status);
                        self.pidfile = pidfile;
                        // Its parent is init (or the nearest subreaper).
                        self.parent = getppid();
                    }
                }
            }
            Step::DaemonStdio { .. } => {
                if let Some(pidfile) = self.pidfile.take() {
                    self.lock = Some(pidfile.record(getpid())?);
                }
                session::stdio_to_null()?;
            }
            Step::DetachTerminal(tty) => terminal::detach(&tty)?,
            // Said by the dry run; nothing to do.
            Step::KeepTerminal(_) => {}
            Step::NewSession { revoke, .. } => {
                let waiter = session::Waiter {
                    pdeathsig: plan.process.pdeathsig,
                    parent: self.parent,
                    revoke: revoke.as_ref().map(terminal::Terminal::fd),
                };
                self.parent = session::enter_new_session(waiter, self.promise)?;
            }
            Step::Resource(setting) => crate::options::resources::apply(&setting)?,
            Step::OpenLog { path, .. } => session::redirect_to_log(&path, plan.uid)?,
            Step::NewProcessGroup => session::enter_process_group()?,
            Step::ListenPid => self
                .env
                .set
                .push(("LISTEN_PID".into(), getpid().to_string().into())),
            Step::Credential(_) | Step::Setting(_) | Step::Verify(..) | Step::Exec { .. } => {
                return Err(Error::Verification(
                    "a step reached the optional steps' handler".into(),
                ));
            }
        }
        Ok(Flow::Next)
    }
}
