//! The default path: observe the process (facts), resolve the identity
//! (plan, behind the account lookups of src/accounts/), list the steps,
//! run them: the credential transition, the proof, the exec.
//! docs/architecture.md walks through it.
//!
//! The core names no option beyond the identity and its privileges. The
//! options (src/options/) hand it their steps through [`Extra`]: what each
//! step's system calls are, for the dry run, and how it is made, in the
//! run; the core places them before or after the credential changes, or
//! after the proof, and runs them in order with its own.

pub mod exec;
pub mod facts;
pub mod plan;
pub mod run;
pub mod steps;
pub mod transition;
pub mod verify;

use crate::base::error::{Error, Result};
use crate::core::exec::EnvPlan;
use crate::core::plan::Plan;
use crate::core::steps::Call;
use crate::sys::WholeProgram;
use nix::unistd::Pid;

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
