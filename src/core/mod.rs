//! The default path: observe the process, resolve the plan, list the
//! steps, run them (the credential transition among them), verify, exec.

pub mod accounts;
pub mod exec;
pub mod facts;
pub mod plan;
pub mod run;
pub mod steps;
pub mod transition;
pub mod verify;
