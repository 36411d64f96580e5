//! Account lookups behind a trait, so plan resolution can be tested against
//! an in-memory database and run for real against the C library's NSS or
//! the account files read directly (files.rs).
//!
//! Every lookup distinguishes "no such entry" (`Ok(None)`) from "the
//! database could not answer" (`Err`), so that an unreachable directory
//! service is an error and never mistaken for an absent account.
//!
//! Where the answers come from:
//!
//! | build | passwd, group names | group memberships |
//! |---|---|---|
//! | glibc | NSS (getpwnam and friends) | `initgroups:`/`group:` in nsswitch.conf is `files` alone: files.rs; `files` (or `compat`) among others: getgrouplist, checked against files.rs; no files: getgrouplist |
//! | static, no nscd socket | files.rs | files.rs |
//! | static, nscd socket | files.rs, then musl (which asks nscd) for what the files lack | getgrouplist, checked against files.rs |
//!
//! getgrouplist(3) cannot report a failing source: a group file it could
//! not open gives the primary group alone. Where the files are a source,
//! their memberships are read strictly and must all be in its answer, so a
//! lost membership is an error. For other services (sss, ldap) a failure
//! cannot be told from "no memberships"; docs/security.md says so.

use crate::files::{self, Malformed};
use crate::sys;
use nix::errno::Errno;
use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::sync::OnceLock;

/// Why the database could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    // Not thiserror's #[from]: that makes the Errno the error's source, and
    // the vtable of a source holds nix's Display and Debug, whose tables a
    // static PIE relocates at every start (see sys::errno_text).
    #[error("{}", crate::sys::errno_text(*.0))]
    System(Errno),
    #[error("line {} of {} is malformed: {}; correct or remove it", .0.line, .0.file, .0.why)]
    Malformed(Malformed),
    /// The C library's answer lacks what the files say.
    #[error(
        "the C library's group list {got:?} lacks {missing:?}, which {file} gives; a group source failed, so runas will not guess"
    )]
    LostGroups {
        got: Vec<u32>,
        missing: Vec<u32>,
        file: &'static str,
    },
    /// musl's reader answered where the strict reader found nothing, and
    /// a line of the file might be what it read.
    #[error(
        "{file} has a line that the C library may read as {what} while glibc would not; correct the file"
    )]
    Disagreement { file: &'static str, what: String },
}

impl From<Errno> for LookupError {
    fn from(errno: Errno) -> Self {
        LookupError::System(errno)
    }
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
    /// The name of the group with this gid, for display.
    fn group_name(&self, gid: u32) -> Result<Option<String>, LookupError>;
    /// The gids `user` is a member of in the group database, plus `primary`
    /// (what getgrouplist(3) returns, every gid kept, none truncated).
    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, LookupError>;
    /// The group owning a path (--add-group-of), looked up through
    /// directories only root controls (trusted_path.rs).
    fn group_of_path(&self, path: &Path) -> Result<u32, crate::trusted_path::Problem>;
    /// What an --env-file holds: read `as_root` under trusted_path.rs's
    /// rules, otherwise with the caller's own rights.
    fn env_file(&self, path: &Path, as_root: bool)
    -> Result<Vec<u8>, crate::trusted_path::Problem>;
    /// An --envdir's files and what each holds, by name.
    #[allow(clippy::type_complexity)]
    fn env_dir(
        &self,
        path: &Path,
        as_root: bool,
    ) -> Result<Vec<(std::ffi::OsString, Vec<u8>)>, crate::trusted_path::Problem>;
}

/// The system's databases (see the table above).
pub struct SystemDb;

/// Where memberships come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Memberships {
    /// The files alone, read by files.rs.
    Files,
    /// getgrouplist, and every membership the files give must be in it.
    LibcCheckedAgainstFiles,
    /// getgrouplist alone: no files among the sources.
    Libc,
}

/// Where names come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    /// getpwnam(3) and friends: NSS (the glibc build).
    #[cfg_attr(target_env = "musl", allow(dead_code))]
    Libc,
    /// files.rs alone (the static build without nscd).
    Files,
    /// files.rs, then the C library for what the files lack (the static
    /// build with an nscd socket).
    #[cfg_attr(not(target_env = "musl"), allow(dead_code))]
    FilesThenLibc,
}

/// Where musl's lookups find nscd (or a compatible daemon, such as nsncd
/// in front of sssd).
#[cfg(target_env = "musl")]
const NSCD_SOCKET: &std::ffi::CStr = c"/var/run/nscd/socket";

fn names() -> Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    *NAMES.get_or_init(|| {
        #[cfg(target_env = "musl")]
        // Whether it exists, as Path::exists says (any stat success), but
        // without std's copy of the path into a stack buffer.
        if nix::sys::stat::stat(NSCD_SOCKET).is_ok() {
            Names::FilesThenLibc
        } else {
            Names::Files
        }
        #[cfg(not(target_env = "musl"))]
        Names::Libc
    })
}

/// The services of the database glibc's getgrouplist consults: the
/// `initgroups:` line of nsswitch.conf if there is one, else `group:`;
/// `None` if the file cannot be read or has neither line.
pub fn membership_services(nsswitch: &str) -> Option<Vec<String>> {
    let line_of = |db: &str| {
        nsswitch.lines().find_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let rest = line.trim_start().strip_prefix(db)?;
            rest.trim_start().strip_prefix(':').map(str::to_owned)
        })
    };
    let spec = line_of("initgroups").or_else(|| line_of("group"))?;
    // Services are the words outside [ACTION=...] blocks.
    let mut services = Vec::new();
    let mut in_action = false;
    for word in spec.split_whitespace() {
        if word.starts_with('[') {
            in_action = true;
        }
        if !in_action {
            services.push(word.to_owned());
        }
        if word.ends_with(']') {
            in_action = false;
        }
    }
    Some(services)
}

fn memberships() -> Memberships {
    static SOURCE: OnceLock<Memberships> = OnceLock::new();
    *SOURCE.get_or_init(|| {
        if names() == Names::Files {
            return Memberships::Files;
        }
        let services = std::fs::read_to_string("/etc/nsswitch.conf")
            .ok()
            .and_then(|text| membership_services(&text));
        match services.as_deref() {
            Some([only]) if only == "files" => Memberships::Files,
            Some(services) if !services.iter().any(|s| s == "files" || s == "compat") => {
                Memberships::Libc
            }
            // Files among others, or nsswitch.conf unreadable (glibc then
            // uses its built-in default, which reads the files).
            _ => Memberships::LibcCheckedAgainstFiles,
        }
    })
}

/// A file's text, read at most once per run whatever the number of lookups.
fn file_text(
    cell: &'static OnceLock<Result<files::Text, Errno>>,
    path: &std::ffi::CStr,
) -> Result<&'static [u8], LookupError> {
    match cell.get_or_init(|| files::read(path)) {
        Ok(text) => Ok(text),
        Err(errno) => Err(LookupError::System(*errno)),
    }
}

fn passwd_text() -> Result<&'static [u8], LookupError> {
    static TEXT: OnceLock<Result<files::Text, Errno>> = OnceLock::new();
    file_text(&TEXT, files::PASSWD_PATH)
}

fn group_text() -> Result<&'static [u8], LookupError> {
    static TEXT: OnceLock<Result<files::Text, Errno>> = OnceLock::new();
    file_text(&TEXT, files::GROUP_PATH)
}

/// A passwd entry from the file, with the same UTF-8 rule as `record`:
/// group membership is compared by name.
fn file_record(entry: &files::PasswdEntry<'_>) -> Result<UserRecord, LookupError> {
    let name = String::from_utf8(entry.name.to_vec()).map_err(|_| Errno::EILSEQ)?;
    Ok(UserRecord {
        name,
        uid: entry.uid,
        gid: entry.gid,
        home: OsString::from_vec(entry.home.to_vec()),
        shell: OsString::from_vec(entry.shell.to_vec()),
    })
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

/// The lookup as `names()` says: the C library; the files alone, read
/// strictly; or the files, then, for what they lack, the C library (musl,
/// which asks nscd, but first reads the files with its own, laxer reader):
/// its answer is taken only if no line of the file might be what it read.
fn look_up<T>(
    strict: impl FnOnce() -> Result<Option<T>, LookupError>,
    libc: impl FnOnce() -> Result<Option<T>, LookupError>,
    mentioned: impl FnOnce() -> Result<bool, LookupError>,
    file: &'static str,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, LookupError> {
    match names() {
        Names::Libc => libc(),
        Names::Files => strict(),
        Names::FilesThenLibc => {
            if let Some(found) = strict()? {
                return Ok(Some(found));
            }
            let answer = libc()?;
            if answer.is_some() && mentioned()? {
                return Err(LookupError::Disagreement { file, what: what() });
            }
            Ok(answer)
        }
    }
}

impl UserDb for SystemDb {
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, LookupError> {
        look_up(
            || {
                files::user_by_name(passwd_text()?, name)
                    .map_err(LookupError::Malformed)?
                    .map(|entry| file_record(&entry))
                    .transpose()
            },
            || Ok(User::from_name(name)?.map(record).transpose()?),
            || Ok(files::passwd_mentions(passwd_text()?, Some(name), None)),
            files::PASSWD,
            || format!("user {}", crate::quote::quote(name)),
        )
    }

    fn user_by_uid(&self, uid: u32) -> Result<Option<UserRecord>, LookupError> {
        look_up(
            || {
                files::user_by_uid(passwd_text()?, uid)
                    .map_err(LookupError::Malformed)?
                    .map(|entry| file_record(&entry))
                    .transpose()
            },
            || {
                Ok(User::from_uid(Uid::from_raw(uid))?
                    .map(record)
                    .transpose()?)
            },
            || Ok(files::passwd_mentions(passwd_text()?, None, Some(uid))),
            files::PASSWD,
            || format!("uid {uid}"),
        )
    }

    fn group_by_name(&self, name: &str) -> Result<Option<u32>, LookupError> {
        look_up(
            || {
                Ok(files::group_by_name(group_text()?, name)
                    .map_err(LookupError::Malformed)?
                    .map(|entry| entry.gid))
            },
            || Ok(Group::from_name(name)?.map(|g| g.gid.as_raw())),
            || Ok(files::group_mentions(group_text()?, name)),
            files::GROUP,
            || format!("group {}", crate::quote::quote(name)),
        )
    }

    fn group_name(&self, gid: u32) -> Result<Option<String>, LookupError> {
        look_up(
            || {
                Ok(files::group_by_gid(group_text()?, gid)
                    .map_err(LookupError::Malformed)?
                    .map(|entry| String::from_utf8_lossy(entry.name).into_owned()))
            },
            || Ok(Group::from_gid(Gid::from_raw(gid))?.map(|g| g.name)),
            // Only for display: a name is never used to decide anything.
            || Ok(false),
            files::GROUP,
            || format!("gid {gid}"),
        )
    }

    fn group_of_path(&self, path: &Path) -> Result<u32, crate::trusted_path::Problem> {
        crate::trusted_path::group_of(path)
    }

    fn env_file(
        &self,
        path: &Path,
        as_root: bool,
    ) -> Result<Vec<u8>, crate::trusted_path::Problem> {
        crate::trusted_path::read_source(path, as_root)
    }

    fn env_dir(
        &self,
        path: &Path,
        as_root: bool,
    ) -> Result<Vec<(std::ffi::OsString, Vec<u8>)>, crate::trusted_path::Problem> {
        crate::trusted_path::read_source_dir(path, as_root)
    }

    fn group_list(&self, user: &str, primary: u32) -> Result<Vec<u32>, LookupError> {
        let strict =
            || files::group_list(group_text()?, user, primary).map_err(LookupError::Malformed);
        let libc = || -> Result<Vec<u32>, LookupError> {
            let user = CString::new(user).map_err(|_| Errno::EINVAL)?;
            Ok(sys::getgrouplist(&user, primary)?)
        };
        match memberships() {
            Memberships::Files => strict(),
            Memberships::Libc => libc(),
            Memberships::LibcCheckedAgainstFiles => {
                let got = libc()?;
                let mut missing: Vec<u32> = strict()?
                    .into_iter()
                    .filter(|gid| !got.contains(gid))
                    .collect();
                missing.sort_unstable();
                missing.dedup();
                if missing.is_empty() {
                    Ok(got)
                } else {
                    Err(LookupError::LostGroups {
                        got,
                        missing,
                        file: files::GROUP,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_services_come_from_initgroups_else_group() {
        let conf = "# comment\npasswd: files\ngroup:          files systemd\n";
        assert_eq!(membership_services(conf).unwrap(), ["files", "systemd"]);
        let conf = "group: files [NOTFOUND=return] sss # directory\ninitgroups: sss\n";
        assert_eq!(membership_services(conf).unwrap(), ["sss"]);
        let conf = "group: files [ NOTFOUND=return ] ldap\n";
        assert_eq!(membership_services(conf).unwrap(), ["files", "ldap"]);
        assert_eq!(membership_services("passwd: files\n"), None);
        assert_eq!(membership_services("groups: files\n"), None);
    }
}
