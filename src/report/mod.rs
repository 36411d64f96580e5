//! What runas prints about a plan or a process: --dump, --dry-run and its
//! predictions.

pub mod model;
pub mod predict;
pub mod show;

use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Step;
use crate::options;
use std::ffi::OsString;

/// Everything a dry run shows: the plan, the options as resolved, the
/// steps, the command.
pub struct Outcome<'a> {
    pub plan: &'a Plan,
    pub options: &'a options::Resolved,
    pub steps: &'a [Step<options::Step>],
    pub facts: &'a Facts,
    pub command: &'a [OsString],
}
