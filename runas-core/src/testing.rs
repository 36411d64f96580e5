//! What the unit tests share (this crate's, and the runas binary's through
//! the `testing` feature): an in-memory account database, the fixture
//! accounts most tests resolve against, and callers in a known state.

use crate::accounts::db::{LookupError, UserDb, UserRecord};
use crate::core::facts::{Credentials, Facts};
use crate::request::caps::{CapSet, Sets};
use crate::request::ids::{Gid, ResIds, Uid};
use nix::errno::Errno;
use nix::unistd::Pid;
use std::path::PathBuf;

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
