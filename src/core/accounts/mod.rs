//! The account databases: the strict reader of the files, nsswitch.conf as
//! glibc reads it, and the lookups behind a trait.

pub mod db;
pub mod files;
pub mod nsswitch;
