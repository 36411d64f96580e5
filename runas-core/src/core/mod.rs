//! The default path: observe the process (facts), resolve the identity
//! (plan, behind the account lookups of src/accounts/), list the steps,
//! run them: the credential transition, the proof, the exec.
//! docs/architecture.md walks through it.
//!
//! The core names no option beyond the identity and its privileges. The
//! options (src/options/) hand it their steps through [`Extra`](steps::Extra): what each
//! step's system calls are, for the dry run, and how it is made, in the
//! run; the core places them before or after the credential changes, or
//! after the proof, and runs them in order with its own.

pub mod call;
pub mod exec;
pub mod facts;
pub mod plan;
pub mod run;
pub mod steps;
pub mod threads;
pub mod transition;
pub mod verify;
