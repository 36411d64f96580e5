//! The account databases: the strict reader of the files, and the lookups
//! behind a trait.

pub mod db;
pub mod files;
