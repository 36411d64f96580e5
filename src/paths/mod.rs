//! Paths root opens or inspects on the target's behalf (trusted.rs: the
//! rules), and the files the options read through them, behind a trait
//! the unit tests fake.

pub mod trusted;

use crate::base::error::Error;
use crate::request::caps::{Cap, CapSet};
use crate::request::ids::Gid;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use trusted::Problem;

/// What a directory's entry name is to its reader (--envdir's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryName {
    /// Passed over (names starting with `.`).
    Skip,
    /// Refused, and why.
    Invalid(&'static str),
    Ok,
}

/// The files the options read for the target, before any change.
pub trait Files {
    /// The group owning `path` (--add-group-of): the file itself, never
    /// what a link in its place points to.
    fn group_of(&self, path: &Path) -> Result<Gid, Problem>;
    /// A file read whole: `trusted`, under the rules of trusted.rs;
    /// otherwise with the caller's own rights.
    fn read(&self, path: &Path, trusted: bool) -> Result<Vec<u8>, Problem>;
    /// A directory's entries with what each holds, by name.
    fn read_dir(
        &self,
        path: &Path,
        trusted: bool,
        classify: fn(&[u8]) -> EntryName,
    ) -> Result<Vec<(OsString, Vec<u8>)>, Problem>;
}

/// The real files.
pub struct SystemFiles;

impl Files for SystemFiles {
    fn group_of(&self, path: &Path) -> Result<Gid, Problem> {
        trusted::group_of(path).map(Gid::new)
    }

    fn read(&self, path: &Path, trusted: bool) -> Result<Vec<u8>, Problem> {
        trusted::read_source(path, trusted)
    }

    fn read_dir(
        &self,
        path: &Path,
        trusted: bool,
        classify: fn(&[u8]) -> EntryName,
    ) -> Result<Vec<(OsString, Vec<u8>)>, Problem> {
        trusted::read_source_dir(path, trusted, classify)
    }
}

/// The error for a path an option named that root may not use: what is
/// wrong and how to fix it, without repeating the path when the failure
/// is about the path itself.
pub fn refuse(option: &'static str, path: &Path) -> impl FnOnce(Problem) -> Error {
    let path: PathBuf = path.to_owned();
    move |problem| {
        let why = match &problem {
            Problem::Io { at, errno } if *at == path => crate::sys::errno_text(*errno).to_string(),
            problem => format!("{}; {}", problem.what(), problem.fix(option)),
        };
        Error::UnsafePath { option, path, why }
    }
}

/// Whether capabilities let this process read any file
/// (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): what it reads for another is
/// then read under the trusted-path rules.
pub fn reads_any_file(effective: CapSet) -> bool {
    effective.has(Cap::DAC_OVERRIDE) || effective.has(Cap::DAC_READ_SEARCH)
}
