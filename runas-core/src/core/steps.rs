//! The complete, ordered list of what a run does, as data: each step is
//! the system calls it makes, with their arguments. Built once, from the
//! plan and the process as it is (facts.rs), before any change; the real
//! run executes exactly this list (run.rs) and --dry-run renders exactly
//! this list (report/), as text or as JSON, so what the dry run shows is
//! what runs, by construction. The options add their steps around the
//! credential changes through [`Extra`] (core/mod.rs).

use crate::base::error::Error;
use crate::base::error::Result;
use crate::core::call::{Arg, Call};
use crate::core::exec::EnvPlan;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::transition::{self, Change};
use crate::core::verify::Proof;
use crate::request::ids::Uid;
use crate::sys::WholeProgram;
use nix::unistd::Pid;
use std::ffi::OsString;
use std::fmt;

/// What the steps share as they run, that the core knows of.
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub promise: WholeProgram,
    /// The process a parent-death signal refers to: the one that started
    /// runas, a new session's waiting parent, or a daemon's new parent.
    pub parent: Pid,
    /// The environment the command gets.
    pub env: EnvPlan,
}

/// Whether the list goes on in this process.
pub enum Flow {
    Next,
    /// This process is done: the caller of a daemon that started.
    Done,
}

/// An option's step.
pub trait Extra {
    /// What the option steps leave for the next ones (a daemon's pidfile
    /// lock and status pipe).
    type State: Default;

    /// Its system calls, with their arguments, as the dry run shows them.
    fn calls(&self) -> Vec<Call>;

    /// The calls another process makes after a fork in this step, by
    /// process.
    fn elsewhere(&self) -> Vec<(&'static str, Vec<Call>)> {
        Vec::new()
    }

    /// What it is for, in words, where the calls alone do not say.
    fn note(&self) -> Option<String> {
        None
    }

    /// Make it.
    fn apply(self, context: &mut Context<'_>, state: &mut Self::State) -> Result<Flow>;

    /// Any step failed, in this process: a daemon tells its caller (and
    /// exits); otherwise the error goes on.
    fn failed(state: &Self::State, error: Error) -> Error {
        let _ = state;
        error
    }
}

/// A step's system calls, in order, and what they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The calls of the process that goes on to the exec.
    pub calls: Vec<Call>,
    /// The calls another process makes after a fork (the waiting parent of
    /// a new session, a daemon's middle process), by process, in order.
    pub elsewhere: Vec<(&'static str, Vec<Call>)>,
    /// Why, or what happens around the calls, in words.
    pub note: Option<String>,
}

fn joined(calls: &[Call]) -> String {
    calls
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&joined(&self.calls))?;
        for (process, calls) in &self.elsewhere {
            write!(f, "; {process}: {}", joined(calls))?;
        }
        match &self.note {
            Some(note) if self.calls.is_empty() && self.elsewhere.is_empty() => f.write_str(note),
            Some(note) => write!(f, " ({note})"),
            None => Ok(()),
        }
    }
}

/// One step of a run: the core's own, or an option's.
#[derive(Debug)]
pub enum Step<X> {
    /// One credential change (transition.rs).
    Credential(Change),
    /// An option's step.
    Extra(X),
    /// The proof (verify.rs).
    Verify(Proof),
    /// execve, after a PATH search as the target.
    Exec { program: OsString, uid: Uid },
}

impl<X: Extra> Step<X> {
    /// What the step does, as the dry run shows it.
    pub fn shown(&self) -> Shown {
        match self {
            Step::Credential(change) => Shown {
                calls: change.calls(),
                elsewhere: Vec::new(),
                note: None,
            },
            Step::Extra(extra) => Shown {
                calls: extra.calls(),
                elsewhere: extra.elsewhere(),
                note: extra.note(),
            },
            Step::Verify(proof) => Shown {
                calls: proof.calls(),
                elsewhere: Vec::new(),
                note: Some(proof.note()),
            },
            Step::Exec { program, uid } => Shown {
                calls: vec![Call::new("execve", vec![Arg::Text(program.clone())])],
                elsewhere: Vec::new(),
                note: Some(format!(
                    "searched in the new environment's PATH as uid {uid}"
                )),
            },
        }
    }
}

/// The options' steps, by where they go: before the credential changes,
/// after them, and after the core's proof, right before the exec.
pub struct Extras<X> {
    pub before: Vec<X>,
    pub after: Vec<X>,
    pub checks: Vec<X>,
}

impl<X> Default for Extras<X> {
    fn default() -> Self {
        Extras {
            before: Vec::new(),
            after: Vec::new(),
            checks: Vec::new(),
        }
    }
}

/// Every step of a run, in order. Reads what it needs of the process
/// (securebits), changes nothing, and refuses before any change what the
/// caller has no privilege for.
pub fn build<X>(
    plan: &Plan,
    facts: &Facts,
    command: &[OsString],
    extras: Extras<X>,
) -> Result<Vec<Step<X>>> {
    let before = &facts.credentials;
    transition::check_privilege(plan, before, facts.caps)?;
    let mut steps: Vec<Step<X>> = extras.before.into_iter().map(Step::Extra).collect();
    let securebits = transition::read_securebits(plan)?;
    let bounding = transition::read_bounding(plan)?;
    let changes = transition::changes(plan, before, facts.caps, securebits, bounding);
    let keyring = changes.contains(&Change::NewSessionKeyring);
    steps.extend(changes.into_iter().map(Step::Credential));
    steps.extend(extras.after.into_iter().map(Step::Extra));
    steps.push(Step::Verify(Proof::new(plan, before, facts.caps, keyring)));
    steps.extend(extras.checks.into_iter().map(Step::Extra));
    steps.push(Step::Exec {
        program: command.first().cloned().unwrap_or_default(),
        uid: plan.uid,
    });
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_shows_its_calls_those_of_other_processes_and_why() {
        let shown = Shown {
            calls: vec![Call::new("fork", vec![]), Call::new("setsid", vec![])],
            elsewhere: vec![(
                "the waiting parent",
                vec![Call::new(
                    "ioctl",
                    vec![Arg::Num(3), Arg::name("TIOCVHANGUP")],
                )],
            )],
            note: Some("a new session".into()),
        };
        assert_eq!(
            shown.to_string(),
            "fork(), setsid(); the waiting parent: ioctl(3, TIOCVHANGUP) (a new session)"
        );
        let failing = Call::new("setresuid", vec![Arg::Num(0); 3]).failing("EPERM");
        assert_eq!(failing.to_string(), "setresuid(0, 0, 0) = -1 EPERM");
    }
}
