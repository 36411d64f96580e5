//! Who a name or an id is: the account databases, read as glibc reads them
//! (the static build has no glibc to ask, and two readers of the same
//! files must agree, or fail closed). The strict reader of /etc/passwd and
//! /etc/group (files.rs), nsswitch.conf as glibc parses it (nsswitch.rs),
//! and the lookups behind the trait the core resolves through (db.rs),
//! with a fake for the unit tests (src/testing.rs). Nothing here changes
//! the process.

pub mod db;
pub mod files;
pub mod nsswitch;
