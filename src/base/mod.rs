//! What every layer uses: the one error type with its exit statuses and
//! the one quoting style (runas-core's), and the list of this process's
//! open descriptors.

pub mod fds;
pub use runas_core::base::{error, quote};
