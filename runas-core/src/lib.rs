//! A verified privilege drop for Linux: the core of the
//! [runas](https://crates.io/crates/runas-launcher) launcher, for programs
//! that drop privileges themselves.
//!
//! A server that binds port 80 or opens a root-only key as root, then
//! goes on as a service account, names the account ([`Target`]), resolves
//! it against the account databases before changing anything
//! ([`Target::resolve`]), and switches ([`Switch::apply`]): setgroups,
//! setresgid, setresuid in that order, each checked, then a proof that
//! reads everything back (real, effective, saved and filesystem ids, the
//! supplementary list, the capability sets, every thread) and tries to
//! take the old ids back, which must fail. [`Switch::apply`] returns
//! [`Verified`] only once all of that holds; any doubt on the way (an
//! unknown name, an unreadable group file, a failing or lying system
//! call) is an [`Error`], never a fallback to fewer groups or to root.
//!
//! ```no_run
//! use runas_core::{Groups, Target};
//! use std::net::TcpListener;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Resolve first: a typo in the name fails here, still as root.
//!     let switch = Target::user("www-data")?.groups(Groups::Database)?.resolve()?;
//!     let listener = TcpListener::bind("0.0.0.0:80")?;
//!     let verified = switch.apply()?;
//!     println!("serving as uid {}", verified.uid());
//!     for stream in listener.incoming() {
//!         drop(stream?);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! A program that starts helpers as another user gives the same switch to
//! a [`std::process::Command`] ([`Switch::command`]): prepared before the
//! fork, made and proved in the child before its exec.
//!
//! ```no_run
//! use runas_core::Target;
//! use std::process::Command;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut command = Command::new("/usr/bin/id");
//! Target::user("nobody")?.resolve()?.command(&mut command)?;
//! let status = command.status()?;
//! # let _ = status;
//! # Ok(())
//! # }
//! ```
//!
//! Names and ids follow the runas command line's rules: a string of
//! digits is always an id, anything else a name; `-1`, `4294967295`, signs,
//! spaces and hex are refused before any lookup. The account files are
//! read through the C library's NSS; a musl build reads them itself, by
//! glibc's nss_files rules.
#![deny(unsafe_code)]

mod api;
pub use api::{Groups, Switch, Target, Verified};
pub use base::error::Error;
pub use request::ids::{Gid, Uid};

/// [`Error`]'s results.
pub type Result<T> = std::result::Result<T, Error>;

// The launcher's parts (the runas-launcher crate builds on them); not a
// stable interface.
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
