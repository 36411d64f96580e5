//! What the binary's unit tests share: runas-core's fixtures, with the
//! fake database also standing in for the files the options read, and the
//! path from a request to the options resolved.

pub use runas_core::testing::*;

use crate::core::facts::Facts;
use crate::paths::trusted::Problem;
use crate::paths::{EntryName, Files};
use crate::request::ids::Gid;
use nix::errno::Errno;
use std::path::Path;

impl Files for FakeDb {
    fn read(&self, path: &Path, _: bool) -> Result<Vec<u8>, Problem> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, bytes)| bytes.clone())
            .ok_or(Problem::Io {
                at: path.to_owned(),
                errno: Errno::ENOENT,
            })
    }

    fn read_dir(
        &self,
        path: &Path,
        _: bool,
        classify: fn(&[u8]) -> EntryName,
    ) -> Result<Vec<(std::ffi::OsString, Vec<u8>)>, Problem> {
        use std::os::unix::ffi::OsStrExt;
        // By name, as the real reader lists them.
        let mut entries = Vec::new();
        for (p, bytes) in &self.files {
            if p.parent() != Some(path) {
                continue;
            }
            let Some(name) = p.file_name() else { continue };
            match classify(name.as_bytes()) {
                EntryName::Skip => {}
                EntryName::Invalid(why) => {
                    return Err(Problem::BadEntryName(name.to_owned(), why));
                }
                EntryName::Ok => entries.push((name.to_owned(), bytes.clone())),
            }
        }
        entries.sort();
        Ok(entries)
    }

    fn group_of(&self, path: &Path) -> Result<Gid, Problem> {
        self.paths
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, gid)| Gid::new(*gid))
            .ok_or(Problem::Io {
                at: path.to_owned(),
                errno: Errno::ENOENT,
            })
    }
}

/// What lib.rs does from the command line's request to the options
/// resolved: the plan, then the options against it (the entry wanted
/// as the command line says).
pub fn resolve_all(
    identity: &crate::request::Identity,
    options: crate::options::Request,
    facts: &Facts,
    db: &FakeDb,
) -> crate::base::error::Result<(crate::core::plan::Plan, crate::options::Resolved)> {
    let mut identity = identity.clone();
    identity.entry_wanted = options.wants_entry();
    let mut plan = crate::core::plan::resolve(&identity, facts, db)?;
    let inherited = crate::options::Inherited {
        listen: crate::options::process::Listen::None,
    };
    let resolved = crate::options::resolve(options, &mut plan, facts, &inherited, db, db)?;
    Ok((plan, resolved))
}
