//! What runas prints about a plan or a process: --dump, --dry-run and its
//! predictions.

pub mod model;
pub mod predict;
pub mod show;
