//! Execute the list of steps (steps.rs), in order, and nothing else. The
//! forks are option steps: after --daemon's, the caller is done and the
//! daemon goes on with the list; after a new session's, the parent only
//! waits and the child goes on.

use crate::base::error::{Error, Result};
use crate::core::exec::{self, EnvPlan};
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Step;
use crate::core::steps::{Context, Extra, Flow};
use crate::core::transition::{self, Keyring};
use crate::core::{threads, verify};
use crate::sys::WholeProgram;
use std::ffi::OsString;

/// Execute the steps. Returns `Ok` only where this process is done without
/// an exec (the caller of a daemon that started); a run that reaches its
/// exec does not return at all.
pub fn execute<X: Extra>(
    steps: Vec<Step<X>>,
    plan: &Plan,
    facts: &Facts,
    env: EnvPlan,
    command: &[OsString],
    promise: WholeProgram,
) -> Result<()> {
    let mut context = Context {
        plan,
        promise,
        parent: facts.parent,
        env,
    };
    let mut state = X::State::default();
    // What the session keyring became, once made.
    let mut keyring: Option<Keyring> = None;
    for step in steps {
        let flow = match step {
            Step::Credential(change) => {
                transition::execute(&change, plan, &facts.credentials).map(|made| {
                    keyring = made.or(keyring);
                    Flow::Next
                })
            }
            Step::Extra(extra) => extra.apply(&mut context, &mut state),
            Step::Verify(proof) => {
                bench_stage("switch", promise);
                verify::verify(plan, &proof, keyring).map(|()| Flow::Next)
            }
            Step::Exec { .. } => {
                bench_stage("verify", promise);
                Err(exec::exec(command, &context.env, promise))
            }
        };
        match flow {
            Ok(Flow::Next) => {}
            Ok(Flow::Done) => return Ok(()),
            Err(e) => return Err(X::failed(&state, e)),
        }
    }
    Err(X::failed(
        &state,
        Error::Verification("the list of steps ended without an exec".into()),
    ))
}

/// bench/run's stage split: a build with the `bench-stages` feature and
/// RUNAS_BENCH_STOP_AT=STAGE in its environment execs /bin/true when it
/// reaches STAGE instead of going on, so the cost of each stage is the
/// difference between two builds. A compile-time constant, and without
/// the feature (every build but bench/run's) the variable is not even
/// read: a stray one cannot make a release build skip its command.
#[cfg(feature = "bench-stages")]
const BENCH_STOP_AT: Option<&str> = option_env!("RUNAS_BENCH_STOP_AT");
#[cfg(not(feature = "bench-stages"))]
const BENCH_STOP_AT: Option<&str> = None;

/// Stop here if this is the bench build for `stage` (see above).
pub fn bench_stage(stage: &str, promise: WholeProgram) {
    if BENCH_STOP_AT == Some(stage) {
        let _ = exec::exec(&["/bin/true".into()], &exec::EnvPlan::default(), promise);
        std::process::exit(125);
    }
}

/// The steps of a switch with no option: the library's (`crate::api`).
#[derive(Debug)]
pub enum NoOption {}

impl Extra for NoOption {
    type State = ();

    fn calls(&self) -> Vec<crate::core::call::Call> {
        match *self {}
    }

    fn apply(self, _: &mut Context<'_>, _: &mut ()) -> Result<Flow> {
        match self {}
    }
}

/// Switch this very process to the plan, and return only once the proof
/// holds: the launcher's steps, without options and without the exec; and
/// where the process has other threads, each of them read back and found
/// switched as this one (threads.rs says when that can be, and refuses
/// the rest before any change).
pub fn in_place(plan: &Plan, facts: &Facts) -> Result<()> {
    let steps = crate::core::steps::build::<NoOption>(plan, facts, &[], Default::default())?;
    let changes: Vec<&transition::Change> = steps
        .iter()
        .filter_map(|step| match step {
            Step::Credential(change) => Some(change),
            _ => None,
        })
        .collect();
    threads::before(plan, facts, &changes)?;
    if changes.contains(&&transition::Change::NewSessionKeyring) {
        leftover_keyrings()?;
    }
    let mut keyring: Option<Keyring> = None;
    let mut changed = false;
    let partly = |changed: bool, e: Error| {
        if changed {
            Error::PartlySwitched(Box::new(e))
        } else {
            e
        }
    };
    for step in steps {
        match step {
            Step::Credential(change) => {
                let made = transition::execute(&change, plan, &facts.credentials)
                    .map_err(|e| partly(changed, e))?;
                keyring = made.or(keyring);
                changed = true;
            }
            Step::Verify(proof) => {
                verify::verify(plan, &proof, keyring).map_err(|e| partly(changed, e))?;
            }
            Step::Exec { .. } => {}
            Step::Extra(never) => match never {},
        }
    }
    threads::after().map_err(|e| partly(changed, e))
}

/// The session keyring is replaced, but a process keyring and this
/// thread's keyring stay with the process through the switch (an exec
/// would drop them; an in-place switch has none): keys linked there would
/// be the target's to read. Refused before any change where they hold any.
fn leftover_keyrings() -> Result<()> {
    for (spec, name, clear) in [
        (nix::libc::KEY_SPEC_PROCESS_KEYRING, "process", "@p"),
        (nix::libc::KEY_SPEC_THREAD_KEYRING, "thread", "@t"),
    ] {
        match crate::sys::keyring_holds_keys(spec) {
            Ok(false) => {}
            Ok(true) => {
                return Err(Error::NotPermitted(format!(
                    "this {name} keyring holds keys, which stay with the process through an in-place switch (only the session keyring is replaced), for the target to read: clear it first (keyctl clear {clear}), or keep the keyrings knowingly (Target::keep_keyring)"
                )));
            }
            Err(errno) if transition::keyrings_unreachable() => {
                let _ = errno;
            }
            Err(errno) => {
                return Err(Error::Syscall {
                    call: format!(
                        "keyctl(KEYCTL_GET_KEYRING_ID or KEYCTL_READ, {clear}) (reading the {name} keyring)"
                    ),
                    errno,
                });
            }
        }
    }
    Ok(())
}

/// A switch made in a child process between fork and exec, prepared
/// before the fork: the changes, the list as the kernel takes it, the
/// proof.
#[derive(Debug)]
pub struct Child {
    changes: Vec<transition::Change>,
    groups: Vec<u32>,
    proof: verify::ChildProof,
}

impl Child {
    /// The launcher's steps for the plan, without options and without the
    /// exec (the command's own), refused before the fork where the caller
    /// lacks the privilege.
    pub fn prepare(plan: &Plan, facts: &Facts) -> Result<Child> {
        let steps = crate::core::steps::build::<NoOption>(plan, facts, &[], Default::default())?;
        let mut changes = Vec::new();
        let mut proof = None;
        for step in steps {
            match step {
                Step::Credential(change) => changes.push(change),
                Step::Verify(p) => proof = Some(p),
                Step::Exec { .. } => {}
                Step::Extra(never) => match never {},
            }
        }
        let caps = changes
            .iter()
            .find_map(|change| match change {
                transition::Change::Capset(sets) => Some(*sets),
                _ => None,
            })
            .unwrap_or(facts.caps);
        let proof = proof.ok_or_else(|| Error::Verification("the steps hold no proof".into()))?;
        Ok(Child {
            groups: plan.groups.iter().map(|g| g.raw()).collect(),
            proof: verify::ChildProof::new(plan, &proof, caps)?,
            changes,
        })
    }

    /// Have `command`'s child make the switch and prove it before its exec.
    pub fn install(self, command: &mut std::process::Command) {
        crate::sys::before_exec(command, self, in_child);
    }
}

/// In the child: each change, then the proof. System calls only, over
/// what `Child::prepare` allocated: nothing allocates, nothing formats.
fn in_child(child: &mut Child) -> std::result::Result<(), nix::errno::Errno> {
    use nix::errno::Errno;
    let mut keyring = None;
    for change in &child.changes {
        match transition::make_in_child(change, &child.groups) {
            Ok(made) => keyring = made.or(keyring),
            // No keyring at all to leave behind or make (see
            // transition::keyrings_unreachable): the proof checks that.
            Err(Errno::ENOSYS | Errno::EPERM)
                if *change == transition::Change::NewSessionKeyring
                    && transition::keyrings_unreachable() => {}
            Err(errno) => return Err(errno),
        }
    }
    verify::in_child(&mut child.proof, keyring)
}
