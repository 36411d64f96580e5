//! What a command line can ask, given meaning but not yet looked up: the
//! id rules, capability and securebit names. Leaves: nothing here reads
//! the system.

pub mod caps;
pub mod spec;
