//! A verified privilege drop for Linux.
#![deny(unsafe_code)]

#[doc(hidden)]
pub mod accounts;
#[doc(hidden)]
pub mod base;
#[doc(hidden)]
pub mod core;
#[doc(hidden)]
pub mod request;
#[doc(hidden)]
pub mod sys;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
