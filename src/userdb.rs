//! Account lookups behind a trait, so plan resolution can be tested against
//! an in-memory database and run for real against the C library's NSS.
//!
//! Every lookup distinguishes "no such entry" (`Ok(None)`) from "the
//! database could not answer" (`Err`), so that an unreachable directory
//! service is an error and never mistaken for an absent account.

use crate::sys;
use nix::errno::Errno;
use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::{CString, OsString};

/// The fields of a passwd entry runas uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: OsString,
    pub shell: OsString,
}

pub trait UserDb {
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, Errno>;
    fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, Errno>;
    fn group_by_name(&self, name: &str) -> Result<Option<u32>, Errno>;
    /// The gids `user` is a member of in the group database, plus `primary`
    /// (what getgrouplist(3) returns, every gid kept, none truncated).
    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, Errno>;
}

/// The system's databases, through the C library (and so through NSS).
pub struct SystemDb;

fn record(user: User) -> Result<UserRecord, Errno> {
    // nix converts names lossily; a name that was not valid UTF-8 would come
    // back altered and then match a different group membership. Refuse.
    if user.name.contains(char::REPLACEMENT_CHARACTER) {
        return Err(Errno::EILSEQ);
    }
    Ok(UserRecord {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir.into_os_string(),
        shell: user.shell.into_os_string(),
    })
}

impl UserDb for SystemDb {
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, Errno> {
        User::from_name(name)?.map(record).transpose()
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, Errno> {
        User::from_uid(Uid::from_raw(uid))?.map(record).transpose()
    }

    fn group_by_name(&self, name: &str) -> Result<Option<u32>, Errno> {
        Ok(Group::from_name(name)?.map(|g| g.gid.as_raw()))
    }

    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, Errno> {
        let user = CString::new(user).map_err(|_| Errno::EINVAL)?;
        sys::getgrouplist(&user, Gid::from_raw(primary).as_raw())
    }
}

#[cfg(test)]
pub mod fake {
    //! An in-memory account database for unit tests.
    use super::*;

    #[derive(Default)]
    pub struct FakeDb {
        pub users: Vec<UserRecord>,
        /// (name, gid, members)
        pub groups: Vec<(String, u32, Vec<String>)>,
        /// Make every lookup fail, as an unreachable directory would.
        pub broken: bool,
    }

    impl FakeDb {
        pub fn user(mut self, name: &str, uid: u32, gid: u32, home: &str, shell: &str) -> Self {
            self.users.push(UserRecord {
                name: name.into(),
                uid,
                gid,
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

        fn check(&self) -> Result<(), Errno> {
            if self.broken { Err(Errno::EIO) } else { Ok(()) }
        }
    }

    impl UserDb for FakeDb {
        fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, Errno> {
            self.check()?;
            Ok(self.users.iter().find(|u| u.name == name).cloned())
        }

        fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, Errno> {
            self.check()?;
            Ok(self.users.iter().find(|u| u.uid == uid).cloned())
        }

        fn group_by_name(&self, name: &str) -> Result<Option<u32>, Errno> {
            self.check()?;
            Ok(self.groups.iter().find(|g| g.0 == name).map(|g| g.1))
        }

        fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, Errno> {
            self.check()?;
            let mut list = vec![primary];
            list.extend(
                self.groups
                    .iter()
                    .filter(|g| g.2.iter().any(|m| m == user))
                    .map(|g| g.1),
            );
            Ok(list)
        }
    }
}
