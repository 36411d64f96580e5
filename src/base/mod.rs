//! What every layer uses: the one error type with its exit statuses, the
//! one quoting style for text that came from someone else, and the list of
//! this process's open descriptors.

pub mod error;
pub mod fds;
pub mod quote;
