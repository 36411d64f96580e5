//! Account lookups behind a trait, so plan resolution can be tested against
//! an in-memory database and run for real against the C library's NSS (or,
//! in the static build without nscd, the account files; see files.rs).
//!
//! Every lookup distinguishes "no such entry" (`Ok(None)`) from "the
//! database could not answer" (`Err`), so that an unreachable directory
//! service is an error and never mistaken for an absent account.

use crate::files::{self, Malformed};
use crate::sys;
use nix::errno::Errno;
use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::{CString, OsString};
use std::sync::OnceLock;

/// Why the database could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{}", .0.desc())]
    System(#[from] Errno),
    #[error("line {} of {} is malformed: {}; correct or remove it", .0.line, .0.file, .0.why)]
    Malformed(Malformed),
}

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
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, LookupError>;
    fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, LookupError>;
    fn group_by_name(&self, name: &str) -> Result<Option<u32>, LookupError>;
    /// The gids `user` is a member of in the group database, plus `primary`
    /// (what getgrouplist(3) returns, every gid kept, none truncated).
    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, LookupError>;
}

/// The system's databases: through the C library (and so through NSS), or
/// in the static build without nscd, the account files read directly.
pub struct SystemDb;

/// Where SystemDb's answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// getpwnam(3) and friends: NSS with glibc, files then nscd with musl.
    Libc,
    /// files.rs: what musl does when no nscd answers, without its costs.
    #[cfg_attr(not(target_env = "musl"), allow(dead_code))]
    Files,
}

/// Where musl's lookups find nscd (or a compatible daemon, such as nsncd
/// in front of sssd).
#[cfg(target_env = "musl")]
const NSCD_SOCKET: &str = "/var/run/nscd/socket";

fn source() -> Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    *SOURCE.get_or_init(|| {
        // With glibc, NSS decides (LDAP, sssd, systemd...): always libc.
        // With musl, libc's answer comes from the files alone unless an
        // nscd socket exists; then let libc ask it.
        #[cfg(target_env = "musl")]
        if !std::path::Path::new(NSCD_SOCKET).exists() {
            return Source::Files;
        }
        Source::Libc
    })
}

/// A file's text, read at most once per run whatever the number of lookups.
fn file_text(
    cell: &'static OnceLock<Result<Vec<u8>, Errno>>,
    path: &str,
) -> Result<&'static [u8], LookupError> {
    match cell.get_or_init(|| files::read(path)) {
        Ok(text) => Ok(text),
        Err(errno) => Err(LookupError::System(*errno)),
    }
}

fn passwd_text() -> Result<&'static [u8], LookupError> {
    static TEXT: OnceLock<Result<Vec<u8>, Errno>> = OnceLock::new();
    file_text(&TEXT, files::PASSWD)
}

fn group_text() -> Result<&'static [u8], LookupError> {
    static TEXT: OnceLock<Result<Vec<u8>, Errno>> = OnceLock::new();
    file_text(&TEXT, files::GROUP)
}

/// A passwd entry from the file, with the same UTF-8 rule as `record`.
fn file_record(entry: &files::PasswdEntry<'_>) -> Result<UserRecord, LookupError> {
    entry.to_record().ok_or(LookupError::System(Errno::EILSEQ))
}

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
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, LookupError> {
        match source() {
            Source::Libc => Ok(User::from_name(name)?.map(record).transpose()?),
            Source::Files => files::user_by_name(passwd_text()?, name)
                .map_err(LookupError::Malformed)?
                .map(|entry| file_record(&entry))
                .transpose(),
        }
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, LookupError> {
        match source() {
            Source::Libc => Ok(User::from_uid(Uid::from_raw(uid))?
                .map(record)
                .transpose()?),
            Source::Files => files::user_by_uid(passwd_text()?, uid)
                .map(|entry| file_record(&entry))
                .transpose(),
        }
    }

    fn group_by_name(&self, name: &str) -> Result<Option<u32>, LookupError> {
        match source() {
            Source::Libc => Ok(Group::from_name(name)?.map(|g| g.gid.as_raw())),
            Source::Files => {
                files::group_by_name(group_text()?, name).map_err(LookupError::Malformed)
            }
        }
    }

    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, LookupError> {
        match source() {
            Source::Libc => {
                let user = CString::new(user).map_err(|_| Errno::EINVAL)?;
                Ok(sys::getgrouplist(&user, Gid::from_raw(primary).as_raw())?)
            }
            Source::Files => {
                files::group_list(group_text()?, user, primary).map_err(LookupError::Malformed)
            }
        }
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

        fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, LookupError> {
            self.check()?;
            Ok(self.users.iter().find(|u| u.uid == uid).cloned())
        }

        fn group_by_name(&self, name: &str) -> Result<Option<u32>, LookupError> {
            self.check()?;
            Ok(self.groups.iter().find(|g| g.0 == name).map(|g| g.1))
        }

        fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, LookupError> {
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
