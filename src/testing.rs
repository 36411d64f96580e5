//! What the unit tests share: an in-memory account database, the fixture
//! accounts most tests resolve against, and callers in a known state.

use crate::accounts::db::{LookupError, UserDb, UserRecord};
use crate::core::facts::{Credentials, Facts};
use crate::paths::trusted::Problem;
use crate::paths::{EntryName, Files};
use crate::request::caps::{CapSet, Sets};
use crate::request::ids::{Gid, ResIds, Uid};
use nix::errno::Errno;
use nix::unistd::Pid;
use std::path::{Path, PathBuf};

/// An in-memory account database.
#[derive(Default)]
pub struct FakeDb {
    pub users: Vec<UserRecord>,
    /// (name, gid, members)
    pub groups: Vec<(String, u32, Vec<String>)>,
    /// Owning groups of paths, for --add-group-of.
    pub paths: Vec<(PathBuf, u32)>,
    /// --env-file contents, and --envdir entries as (dir/name, contents).
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Make every lookup fail, as an unreachable directory would.
    pub broken: bool,
}

impl FakeDb {
    pub fn user(mut self, name: &str, uid: u32, gid: u32, home: &str, shell: &str) -> Self {
        self.users.push(UserRecord {
            name: name.into(),
            uid: Uid::new(uid),
            gid: Gid::new(gid),
            home: home.into(),
            shell: shell.into(),
        });
        self
    }

    pub fn group(mut self, name: &str, gid: u32, members: &[&str]) -> Self {
        self.groups.push((
            name.into(),
            gid,
            members.iter().map(|m| m.to_string()).collect(),
        ));
        self
    }

    pub fn path(mut self, path: &str, gid: u32) -> Self {
        self.paths.push((path.into(), gid));
        self
    }

    pub fn file(mut self, path: &str, contents: &str) -> Self {
        self.files.push((path.into(), contents.as_bytes().to_vec()));
        self
    }

    fn check(&self) -> Result<(), LookupError> {
        if self.broken {
            Err(Errno::EIO.into())
        } else {
            Ok(())
        }
    }
}

impl UserDb for FakeDb {
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, LookupError> {
        self.check()?;
        Ok(self.users.iter().find(|u| u.name == name).cloned())
    }

    fn user_by_uid(&self, uid: Uid) -> Result<Option<UserRecord>, LookupError> {
        self.check()?;
        Ok(self.users.iter().find(|u| u.uid == uid).cloned())
    }

    fn group_by_name(&self, name: &str) -> Result<Option<Gid>, LookupError> {
        self.check()?;
        Ok(self
            .groups
            .iter()
            .find(|g| g.0 == name)
            .map(|g| Gid::new(g.1)))
    }

    fn group_name(&self, gid: Gid) -> Result<Option<String>, LookupError> {
        self.check()?;
        Ok(self
            .groups
            .iter()
            .find(|g| g.1 == gid.raw())
            .map(|g| g.0.clone()))
    }

    fn group_list(&self, user: &str, primary: Gid) -> Result<Vec<Gid>, LookupError> {
        self.check()?;
        let mut list = vec![primary];
        list.extend(
            self.groups
                .iter()
                .filter(|g| g.2.iter().any(|m| m == user))
                .map(|g| Gid::new(g.1)),
        );
        Ok(list)
    }
}

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

/// The accounts most unit tests resolve against.
pub fn db() -> FakeDb {
    FakeDb::default()
        .user("root", 0, 0, "/root", "/bin/bash")
        .user("daemon", 1, 1, "/usr/sbin", "/bin/sh")
        .user("games", 5, 60, "/usr/games", "/bin/sh")
        .user("alice", 1500, 1500, "/home/alice", "/bin/bash")
        .user("bob", 1501, 1501, "", "")
        .user("orphan", 1502, 1999, "/home/orphan", "/bin/sh")
        .user("relative", 1503, 1503, "home/relative", "/bin/sh")
        // A name made only of digits, mapping to uid 0.
        .user("4242", 0, 0, "/", "/bin/sh")
        .group("root", 0, &[])
        .group("daemon", 1, &[])
        .group("games", 60, &[])
        .group("alice", 1500, &[])
        .group("jupiter", 1700, &["alice"])
        .group("saturn", 1701, &["alice", "bob"])
        .group("4243", 0, &[])
        .path("/dev/kvm", 44)
}

/// A caller with these ids (all three the same) and groups.
pub fn caller(uid: u32, gid: u32, groups: &[u32]) -> Credentials {
    Credentials {
        uid: ResIds::all(Uid::new(uid)),
        gid: ResIds::all(Gid::new(gid)),
        groups: groups.iter().copied().map(Gid::new).collect(),
    }
}

/// Root, in groups 0, 4 and 27.
pub fn root() -> Credentials {
    caller(0, 0, &[0, 4, 27])
}

/// The process facts of a caller with every capability (root's) or none.
pub fn facts(credentials: Credentials) -> Facts {
    let all = if credentials.uid.effective == Uid::ROOT {
        CapSet::from_bits((1u64 << 41) - 1)
    } else {
        CapSet::EMPTY
    };
    Facts {
        credentials,
        caps: Sets {
            effective: all,
            permitted: all,
            inheritable: CapSet::EMPTY,
        },
        ambient: CapSet::EMPTY,
        pid: Pid::from_raw(4242),
        parent: Pid::from_raw(4241),
        at_secure: false,
        leads_process_group: false,
    }
}

/// A plan with these ids and groups, nothing else asked.
pub fn plan_of(uid: u32, gid: u32, groups: &[u32]) -> crate::core::plan::Plan {
    crate::core::plan::Plan {
        uid: Uid::new(uid),
        gid: Gid::new(gid),
        groups: groups.iter().copied().map(Gid::new).collect(),
        target: None,
        privileges: Default::default(),
        branch: Default::default(),
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
