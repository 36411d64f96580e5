//! What every layer uses: the one error type with its exit statuses, and
//! the one quoting style for text that came from someone else.

pub mod error;
pub mod quote;
