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

use crate::accounts::files::{self, Malformed};
use crate::request::ids::{Gid, Uid};
use crate::sys;
use nix::errno::Errno;
use nix::unistd::{Group, User};
use std::cell::OnceCell;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;

use super::nsswitch::{Service, membership_services};

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
    /// A source of memberships this build cannot ask.
    #[error("{0}")]
    Unsupported(String),
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
    pub uid: Uid,
    pub gid: Gid,
    pub home: OsString,
    pub shell: OsString,
}

pub trait UserDb {
    fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, LookupError>;
    fn user_by_uid(&self, uid: Uid) -> Result<Option<UserRecord>, LookupError>;
    fn group_by_name(&self, name: &str) -> Result<Option<Gid>, LookupError>;
    /// The name of the group with this gid, for display.
    fn group_name(&self, gid: Gid) -> Result<Option<String>, LookupError>;
    /// The names of many groups, for display: `None` where there is none or
    /// the lookup failed. What `group_name` gives for each, at the cost of
    /// one pass where the source allows it.
    fn group_names(&self, gids: &[Gid]) -> Vec<Option<String>> {
        gids.iter()
            .map(|&gid| self.group_name(gid).ok().flatten())
            .collect()
    }
    /// The gids `user` is a member of in the group database, plus `primary`
    /// (what getgrouplist(3) returns, every gid kept, none truncated).
    fn group_list(&self, user: &str, primary: Gid) -> Result<Vec<Gid>, LookupError>;
}

/// The system's databases (see the table above). What it reads (the files,
/// nsswitch.conf, where names come from) is opened and decided at most once
/// per run, whatever the number of lookups, and kept here (an account file
/// of 1 MiB or more as its open descriptor, read again at each lookup).
#[derive(Default)]
pub struct SystemDb {
    names: OnceCell<Names>,
    memberships: OnceCell<Result<Memberships, LookupError>>,
    passwd: OnceCell<Result<files::Text, Errno>>,
    group: OnceCell<Result<files::Text, Errno>>,
}

/// Where memberships come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Memberships {
    /// The files alone, read by files.rs.
    Files,
    /// The static build, where nsswitch.conf also names `systemd`: the
    /// files, and systemd's userdb drop-ins must give the user nothing.
    FilesNotUserdb,
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

/// Where the static build's names come from: the files, then (for what
/// they lack) musl, which asks nscd, where `socket` exists, as
/// Path::exists says (any stat success), but without std's copy of the path
/// into a stack buffer; else the files alone.
#[cfg(any(target_env = "musl", test))]
fn static_names(socket: &std::ffi::CStr) -> Names {
    if nix::sys::stat::stat(socket).is_ok() {
        Names::FilesThenLibc
    } else {
        Names::Files
    }
}

impl SystemDb {
    fn names(&self) -> Names {
        *self.names.get_or_init(|| {
            #[cfg(target_env = "musl")]
            return static_names(NSCD_SOCKET);
            #[cfg(not(target_env = "musl"))]
            Names::Libc
        })
    }

    fn memberships(&self) -> Result<Memberships, LookupError> {
        self.memberships
            .get_or_init(|| {
                // Bytes, as glibc reads it; the errors glibc takes for "no file"
                // are so here too, any other is a failure.
                let services = match files::read_whole(c"/etc/nsswitch.conf") {
                    Ok(bytes) => membership_services(&bytes).map_err(|_| {
                        LookupError::Unsupported(
                            "/etc/nsswitch.conf has a status or action in brackets that glibc cannot parse, so glibc fails its user and group lookups (and getgrouplist falls back to the files alone): fix the line (see nsswitch.conf(5))".into(),
                        )
                    })?,
                    Err(
                        Errno::EACCES
                        | Errno::EISDIR
                        | Errno::ELOOP
                        | Errno::ENOENT
                        | Errno::ENOTDIR
                        | Errno::EPERM,
                    ) => None,
                    Err(errno) => return Err(LookupError::System(errno)),
                };
                if self.names() == Names::Files {
                    return static_memberships(services.as_deref());
                }
                Ok(glibc_memberships(services.as_deref()))
            })
            .clone()
    }
}

/// Where the C library's getgrouplist gets its answer, for the glibc build
/// and the static build with nscd.
fn glibc_memberships(services: Option<&[Service]>) -> Memberships {
    match services {
        // Exactly `files`, with no action that could stop or skip it:
        // glibc reads /etc/group alone, as the strict reader does.
        Some(
            [
                Service {
                    name,
                    actions: false,
                },
            ],
        ) if name == "files" => Memberships::Files,
        Some(services)
            if !services
                .iter()
                .any(|s| s.name == "files" || s.name == "compat") =>
        {
            Memberships::Libc
        }
        // Files among others, or nsswitch.conf unreadable or without the
        // line (glibc then uses its built-in default, which reads the
        // files).
        _ => Memberships::LibcCheckedAgainstFiles,
    }
}

/// The static build without nscd can read the files alone: it follows
/// nsswitch.conf where glibc would read the files alone (no file, no line:
/// glibc's default reads them), and refuses where glibc would ask a
/// service it cannot, rather than give fewer groups than `id` shows.
/// `systemd` (Debian's `files systemd`) adds memberships to a user of the
/// files only through userdb drop-ins, which are looked for. The files must
/// come first: glibc always counts what the first service gives, while a
/// service before them may end the walk (its SUCCESS on an `initgroups`
/// line, a `[NOTFOUND=return]`) before /etc/group is read, and giving the
/// files' groups then would give more than glibc. After them, a block can
/// only keep glibc from adding groups, never take the files' away.
fn static_memberships(services: Option<&[Service]>) -> Result<Memberships, LookupError> {
    let Some(services) = services else {
        return Ok(Memberships::Files);
    };
    let Some(first) = services.first() else {
        return Err(LookupError::Unsupported(
            "nsswitch.conf names no service for group memberships (so glibc gives the primary group alone)".into(),
        ));
    };
    if !matches!(first.name.as_str(), "files" | "compat") {
        return Err(LookupError::Unsupported(format!(
            "nsswitch.conf asks {} for group memberships before the files, so glibc may never read /etc/group, which is all this static build reads: put files first, or use the glibc build",
            crate::base::quote::quote(&first.name)
        )));
    }
    let mut systemd = false;
    for service in services {
        match service.name.as_str() {
            "files" | "compat" => {}
            "systemd" => systemd = true,
            other => {
                return Err(LookupError::Unsupported(format!(
                    "nsswitch.conf asks {} for group memberships, which this static build cannot ask (it reads /etc/group alone): use the glibc build, or run nscd",
                    crate::base::quote::quote(other)
                )));
            }
        }
    }
    Ok(if systemd {
        Memberships::FilesNotUserdb
    } else {
        Memberships::Files
    })
}

/// Where systemd's NSS module finds userdb drop-ins (userdb-dropin.c).
const USERDB_DIRS: [&str; 5] = [
    "/etc/userdb",
    "/run/userdb",
    "/run/host/userdb",
    "/usr/local/lib/userdb",
    "/usr/lib/userdb",
];

/// A drop-in that makes `user` a member of a group (`USER:GROUP.membership`),
/// which glibc, through systemd's module, would count.
fn userdb_membership(user: &str) -> Option<String> {
    userdb_membership_in(&USERDB_DIRS, user)
}

/// [`userdb_membership`], looking in `dirs`.
fn userdb_membership_in(dirs: &[&str], user: &str) -> Option<String> {
    // `USER:` matched as two prefixes: no text is formatted on the
    // default path (Debian's nsswitch.conf names systemd).
    dirs.iter().find_map(|dir| {
        std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
            let name = entry.file_name();
            let name = name.to_str()?;
            let group = name.strip_prefix(user)?.strip_prefix(':')?;
            group
                .ends_with(".membership")
                .then(|| [dir, "/", name].concat())
        })
    })
}

/// A file's text, opened at most once per run whatever the number of
/// lookups (and for a small file, read once).
fn file_text<'a>(
    cell: &'a OnceCell<Result<files::Text, Errno>>,
    path: &std::ffi::CStr,
) -> Result<&'a files::Text, LookupError> {
    match cell.get_or_init(|| files::read(path)) {
        Ok(text) => Ok(text),
        Err(errno) => Err(LookupError::System(*errno)),
    }
}

/// The first answer a lookup gives in some piece of `text`: an entry (made
/// owned, as the piece may not outlive the call), or an error (a line that
/// might be the entry, refused, numbered in the whole file). The pieces
/// are whole lines in file order, so this is the lookup's answer over the
/// whole file. (A lookup that gathers from every piece answers `None`
/// each time and keeps what it gathers.)
fn first<T>(
    text: &files::Text,
    mut look: impl FnMut(&[u8]) -> Result<Option<T>, LookupError>,
) -> Result<Option<T>, LookupError> {
    let answer = text.scan(|piece, at| match look(piece) {
        Ok(None) => None,
        Ok(Some(found)) => Some(Ok(found)),
        Err(error) => Some(Err((error, at))),
    })?;
    match answer {
        None => Ok(None),
        Some(Ok(found)) => Ok(Some(found)),
        Some(Err((LookupError::Malformed(malformed), at))) => Err(LookupError::Malformed(
            malformed.after(text.lines_before(at)?),
        )),
        Some(Err((other, _))) => Err(other),
    }
}

/// Whether some piece of `text` has a line for which `mentions` holds.
fn any_line(text: &files::Text, mentions: impl Fn(&[u8]) -> bool) -> Result<bool, LookupError> {
    Ok(text
        .scan(|piece, _| mentions(piece).then_some(()))?
        .is_some())
}

impl SystemDb {
    /// A database whose names come from `names` and whose files hold
    /// `passwd` and `group`: how the unit tests run the static build's paths
    /// (the files alone, or the files then nscd) in any build.
    #[cfg(test)]
    fn with_files(names: Names, passwd: &[u8], group: &[u8]) -> SystemDb {
        let text = |bytes: &[u8]| OnceCell::from(Ok(files::Text::Whole(bytes.to_vec())));
        SystemDb {
            names: OnceCell::from(names),
            memberships: OnceCell::new(),
            passwd: text(passwd),
            group: text(group),
        }
    }

    /// The same, the files read in windows of `window` bytes, as a file
    /// of a megabyte or more is.
    #[cfg(test)]
    fn with_large_files(passwd: &[u8], group: &[u8], window: usize) -> SystemDb {
        let text = |bytes: &[u8]| {
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, bytes).unwrap();
            OnceCell::from(Ok(files::Text::Large {
                fd: file.into(),
                window,
            }))
        };
        SystemDb {
            names: OnceCell::from(Names::Files),
            memberships: OnceCell::from(Ok(Memberships::Files)),
            passwd: text(passwd),
            group: text(group),
        }
    }

    fn passwd_text(&self) -> Result<&files::Text, LookupError> {
        file_text(&self.passwd, files::PASSWD_PATH)
    }

    fn group_text(&self) -> Result<&files::Text, LookupError> {
        file_text(&self.group, files::GROUP_PATH)
    }
}

/// A passwd entry from the file, with the same UTF-8 rule as `record`:
/// group membership is compared by name.
fn file_record(entry: &files::PasswdEntry<'_>) -> Result<UserRecord, LookupError> {
    let name = String::from_utf8(entry.name.to_vec()).map_err(|_| Errno::EILSEQ)?;
    Ok(UserRecord {
        name,
        uid: Uid::new(entry.uid),
        gid: Gid::new(entry.gid),
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
        uid: Uid::new(user.uid.as_raw()),
        gid: Gid::new(user.gid.as_raw()),
        home: user.dir.into_os_string(),
        shell: user.shell.into_os_string(),
    })
}

/// The lookup as `names()` says: the C library; the files alone, read
/// strictly; or the files, then, for what they lack, the C library (musl,
/// which asks nscd, but first reads the files with its own, laxer reader):
/// its answer is taken only if no line of the file might be what it read.
fn look_up<T>(
    names: Names,
    strict: impl FnOnce() -> Result<Option<T>, LookupError>,
    libc: impl FnOnce() -> Result<Option<T>, LookupError>,
    mentioned: impl FnOnce() -> Result<bool, LookupError>,
    file: &'static str,
    what: impl FnOnce() -> String,
) -> Result<Option<T>, LookupError> {
    // glibc fails its lookups with EINVAL when it cannot parse
    // nsswitch.conf: the errno alone would not name the fix.
    let libc = || {
        libc().map_err(|e| match e {
            // (musl, in the static build with nscd, never reads it.)
            LookupError::System(Errno::EINVAL) if cfg!(not(target_env = "musl")) => {
                LookupError::Unsupported(format!(
                    "{} (glibc's answer when /etc/nsswitch.conf has a line it cannot parse: check its status and action blocks)",
                    crate::sys::errno_text(Errno::EINVAL)
                ))
            }
            other => other,
        })
    };
    match names {
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
            self.names(),
            || {
                first(self.passwd_text()?, |piece| {
                    files::user_by_name(piece, name)
                        .map_err(LookupError::Malformed)?
                        .map(|entry| file_record(&entry))
                        .transpose()
                })
            },
            || Ok(User::from_name(name)?.map(record).transpose()?),
            || {
                any_line(self.passwd_text()?, |piece| {
                    files::passwd_mentions(piece, Some(name), None)
                })
            },
            files::PASSWD,
            || format!("user {}", crate::base::quote::quote(name)),
        )
    }

    fn user_by_uid(&self, uid: Uid) -> Result<Option<UserRecord>, LookupError> {
        look_up(
            self.names(),
            || {
                first(self.passwd_text()?, |piece| {
                    files::user_by_uid(piece, uid.raw())
                        .map_err(LookupError::Malformed)?
                        .map(|entry| file_record(&entry))
                        .transpose()
                })
            },
            || {
                Ok(User::from_uid(nix::unistd::Uid::from_raw(uid.raw()))?
                    .map(record)
                    .transpose()?)
            },
            || {
                any_line(self.passwd_text()?, |piece| {
                    files::passwd_mentions(piece, None, Some(uid.raw()))
                })
            },
            files::PASSWD,
            || format!("uid {uid}"),
        )
    }

    fn group_by_name(&self, name: &str) -> Result<Option<Gid>, LookupError> {
        look_up(
            self.names(),
            || {
                first(self.group_text()?, |piece| {
                    Ok(files::group_by_name(piece, name)
                        .map_err(LookupError::Malformed)?
                        .map(|entry| Gid::new(entry.gid)))
                })
            },
            || Ok(Group::from_name(name)?.map(|g| Gid::new(g.gid.as_raw()))),
            || {
                any_line(self.group_text()?, |piece| {
                    files::group_mentions(piece, name)
                })
            },
            files::GROUP,
            || format!("group {}", crate::base::quote::quote(name)),
        )
    }

    fn group_name(&self, gid: Gid) -> Result<Option<String>, LookupError> {
        look_up(
            self.names(),
            || {
                first(self.group_text()?, |piece| {
                    Ok(files::group_by_gid(piece, gid.raw())
                        .map_err(LookupError::Malformed)?
                        .map(|entry| String::from_utf8_lossy(entry.name).into_owned()))
                })
            },
            || Ok(Group::from_gid(nix::unistd::Gid::from_raw(gid.raw()))?.map(|g| g.name)),
            // Only for display: a name is never used to decide anything.
            || Ok(false),
            files::GROUP,
            || format!("gid {gid}"),
        )
    }

    fn group_names(&self, gids: &[Gid]) -> Vec<Option<String>> {
        // Few: one lookup each. Many (a user in thousands of groups): one
        // lookup each reads the whole database once per gid, seconds for a
        // dry run whose real run takes milliseconds.
        const FEW: usize = 64;
        let one_each = |gids: &[Gid]| -> Vec<Option<String>> {
            gids.iter()
                .map(|&gid| self.group_name(gid).ok().flatten())
                .collect()
        };
        if gids.len() <= FEW {
            return one_each(gids);
        }
        let raw: Vec<u32> = gids.iter().map(|gid| gid.raw()).collect();
        match self.names() {
            Names::Files | Names::FilesThenLibc => match self
                .group_text()
                .and_then(|text| Ok(files::group_names(text, &raw)?))
            {
                Ok(names) => {
                    let mut found: Vec<Option<String>> = names
                        .into_iter()
                        .map(|name| name.map(|n| String::from_utf8_lossy(&n).into_owned()))
                        .collect();
                    // What the files lack, nscd may know: asked only if few.
                    if self.names() == Names::FilesThenLibc {
                        let missing: Vec<usize> =
                            (0..gids.len()).filter(|&i| found[i].is_none()).collect();
                        if missing.len() <= FEW {
                            for i in missing {
                                found[i] = self.group_name(gids[i]).ok().flatten();
                            }
                        }
                    }
                    found
                }
                Err(_) => vec![None; gids.len()],
            },
            Names::Libc => sys::group_names(&raw),
        }
    }

    fn group_list(&self, user: &str, primary: Gid) -> Result<Vec<Gid>, LookupError> {
        // Over the pieces of the file: the memberships of each, in order.
        let strict = || -> Result<Vec<u32>, LookupError> {
            let mut list = vec![primary.raw()];
            first::<()>(self.group_text()?, |piece| {
                let found = files::group_list(piece, user, primary.raw())
                    .map_err(LookupError::Malformed)?;
                // The first piece's list is taken as it is (it starts with
                // the primary too): a file read whole is not copied.
                if list.len() == 1 {
                    list = found;
                } else {
                    list.extend_from_slice(&found[1..]);
                }
                Ok(None)
            })?;
            Ok(list)
        };
        let libc = || -> Result<Vec<u32>, LookupError> {
            let user = CString::new(user).map_err(|_| Errno::EINVAL)?;
            Ok(sys::getgrouplist(&user, primary.raw())?)
        };
        let typed = |gids: Vec<u32>| gids.into_iter().map(Gid::new).collect();
        match self.memberships()? {
            Memberships::Files => strict().map(typed),
            Memberships::FilesNotUserdb => match userdb_membership(user) {
                None => strict().map(typed),
                Some(dropin) => Err(LookupError::Unsupported(format!(
                    "{} gives the user a group through systemd's userdb, which this static build cannot read: use the glibc build",
                    crate::base::quote::quote(&dropin)
                ))),
            },
            Memberships::Libc => libc().map(typed),
            Memberships::LibcCheckedAgainstFiles => {
                let got = libc()?;
                let mut missing: Vec<u32> = strict()?
                    .into_iter()
                    .filter(|gid| !got.contains(gid))
                    .collect();
                missing.sort_unstable();
                missing.dedup();
                if missing.is_empty() {
                    Ok(typed(got))
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

    fn services(list: &[(&str, bool)]) -> Vec<Service> {
        list.iter()
            .map(|&(name, actions)| Service {
                name: name.into(),
                actions,
            })
            .collect()
    }

    #[test]
    fn glibc_memberships_follow_the_sources() {
        use Memberships::*;
        let of = |list: &[(&str, bool)]| glibc_memberships(Some(&services(list)));
        assert_eq!(of(&[("files", false)]), Files);
        // An action could stop or skip the files: glibc is asked, checked.
        assert_eq!(of(&[("files", true)]), LibcCheckedAgainstFiles);
        assert_eq!(
            of(&[("files", false), ("systemd", false)]),
            LibcCheckedAgainstFiles
        );
        assert_eq!(
            of(&[("sss", false), ("files", false)]),
            LibcCheckedAgainstFiles
        );
        assert_eq!(of(&[("compat", false)]), LibcCheckedAgainstFiles);
        assert_eq!(of(&[("sss", false)]), Libc);
        assert_eq!(of(&[("ldap", false), ("sss", true)]), Libc);
        assert_eq!(of(&[]), Libc);
        assert_eq!(glibc_memberships(None), LibcCheckedAgainstFiles);
    }

    #[test]
    fn static_memberships_refuse_what_they_cannot_ask() {
        use Memberships::*;
        let of = |list: &[(&str, bool)]| static_memberships(Some(&services(list)));
        assert_eq!(static_memberships(None), Ok(Files));
        assert_eq!(of(&[("files", false)]), Ok(Files));
        assert_eq!(of(&[("compat", true)]), Ok(Files));
        assert_eq!(
            of(&[("files", false), ("systemd", false)]),
            Ok(FilesNotUserdb)
        );
        let err = of(&[("files", false), ("sss", false)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nsswitch.conf asks \"sss\" for group memberships"),
            "{err}"
        );
        let err = of(&[]).unwrap_err().to_string();
        assert!(
            err.contains("names no service for group memberships"),
            "{err}"
        );
        // The files first, or glibc may stop before it reads them.
        for list in [
            &[("systemd", false)][..],
            &[("systemd", true), ("files", false)],
            &[("systemd", false), ("files", false)],
        ] {
            let err = of(list).unwrap_err().to_string();
            assert!(
                err.contains("asks \"systemd\" for group memberships before the files"),
                "{list:?}: {err}"
            );
        }
        assert_eq!(
            of(&[("files", true), ("systemd", true)]),
            Ok(FilesNotUserdb)
        );
    }

    #[test]
    fn userdb_drop_ins_are_found_by_user() {
        let dir = std::env::temp_dir().join(format!("runas-userdb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("alice:wheel.membership"), "").unwrap();
        std::fs::write(dir.join("bob:wheel.user"), "").unwrap();
        let dirs = ["/nonexistent/userdb", dir.to_str().unwrap()];
        assert_eq!(
            userdb_membership_in(&dirs, "alice"),
            Some(format!("{}/alice:wheel.membership", dir.display()))
        );
        assert_eq!(userdb_membership_in(&dirs, "bob"), None);
        assert_eq!(userdb_membership_in(&dirs, "ali"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_c_library_answers_only_what_the_files_lack_and_never_against_them() {
        let ask = |strict: Option<u32>, libc: Option<u32>, mentioned: bool| {
            look_up(
                Names::FilesThenLibc,
                || Ok(strict),
                || Ok(libc),
                || Ok(mentioned),
                files::PASSWD,
                || "the user \"x\"".into(),
            )
        };
        assert_eq!(ask(Some(1), Some(2), true), Ok(Some(1)));
        assert_eq!(ask(None, Some(2), false), Ok(Some(2)));
        assert_eq!(ask(None, None, true), Ok(None));
        assert!(matches!(
            ask(None, Some(2), true),
            Err(LookupError::Disagreement { .. })
        ));
        // The other two sources alone.
        let only = |names| {
            look_up(
                names,
                || Ok(Some(1)),
                || Ok(Some(2)),
                || Ok(true),
                files::PASSWD,
                String::new,
            )
        };
        assert_eq!(only(Names::Files), Ok(Some(1)));
        assert_eq!(only(Names::Libc), Ok(Some(2)));
    }

    #[test]
    fn group_names_default_to_one_lookup_each() {
        let db = crate::testing::db();
        assert_eq!(
            db.group_names(&[Gid::new(1700), Gid::new(4242), Gid::new(0)]),
            vec![Some("jupiter".to_string()), None, Some("root".to_string())]
        );
        assert!(db.group_names(&[]).is_empty());
    }

    const PASSWD: &[u8] =
        b"alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";

    #[test]
    fn the_static_build_reads_users_from_the_passwd_file() {
        for names in [Names::Files, Names::FilesThenLibc] {
            let db = SystemDb::with_files(names, PASSWD, b"");
            let alice = db.user_by_name("alice").unwrap().unwrap();
            assert_eq!((alice.uid, alice.gid), (Uid::new(1000), Gid::new(1000)));
            assert_eq!(alice.home, "/home/alice");
            let bob = db.user_by_uid(Uid::new(1001)).unwrap().unwrap();
            assert_eq!(bob.name, "bob");
        }
        // The files alone: what they lack does not exist, even where the C
        // library knows it.
        let files = SystemDb::with_files(Names::Files, PASSWD, b"");
        assert_eq!(files.user_by_name("root"), Ok(None));
        assert_eq!(files.user_by_uid(Uid::ROOT), Ok(None));
        // With nscd, the C library answers for what the files lack, but
        // never over a line of the file that names the user (here one the
        // strict reader refuses).
        let nscd = SystemDb::with_files(Names::FilesThenLibc, PASSWD, b"");
        let root = User::from_uid(nix::unistd::Uid::from_raw(0))
            .unwrap()
            .unwrap();
        assert_eq!(
            nscd.user_by_uid(Uid::ROOT).unwrap().unwrap().name,
            root.name
        );
        let odd = [
            PASSWD,
            format!("{}:x:zero:0::/root:/bin/sh\n", root.name).as_bytes(),
        ]
        .concat();
        let nscd = SystemDb::with_files(Names::FilesThenLibc, &odd, b"");
        let got = nscd.user_by_name(&root.name);
        assert!(matches!(got, Err(LookupError::Malformed(_))), "{got:?}");
        // A line the strict reader skips (a comment) that musl's reader
        // might take for uid 0: the C library's answer is not taken.
        let commented = [PASSWD, b"#old:x:0:0::/:/bin/sh\n"].concat();
        let nscd = SystemDb::with_files(Names::FilesThenLibc, &commented, b"");
        let got = nscd.user_by_uid(Uid::ROOT);
        assert!(
            matches!(&got, Err(LookupError::Disagreement { what, .. }) if what == "uid 0"),
            "{got:?}"
        );
    }

    #[test]
    fn with_nscd_many_group_names_take_from_the_c_library_only_what_the_files_lack_and_only_if_few()
    {
        let root = Group::from_gid(nix::unistd::Gid::from_raw(0))
            .unwrap()
            .unwrap()
            .name;
        // 70 gids (more than one lookup each), all named by the file but
        // for `missing` of them, gid 0 among those.
        let named = |missing: u32| -> Option<String> {
            let group: String = (missing..70)
                .map(|gid| format!("g{gid}:x:{}:\n", 1000 + gid))
                .collect();
            let gids: Vec<Gid> = std::iter::once(Gid::new(0))
                .chain((1..70).map(|gid| Gid::new(1000 + gid)))
                .collect();
            let mut by = Vec::new();
            for names in [Names::Files, Names::FilesThenLibc] {
                by.push(
                    SystemDb::with_files(names, b"", group.as_bytes()).group_names(&gids)[0]
                        .clone(),
                );
            }
            assert_eq!(by[0], None, "the files alone do not name gid 0");
            by.pop().unwrap()
        };
        // Gid 0 and up to 63 others missing: asked, one at a time.
        assert_eq!(named(1), Some(root.clone()));
        assert_eq!(named(64), Some(root));
        // More missing than that: a dry run's names are not worth a lookup
        // each.
        assert_eq!(named(65), None);
    }

    #[test]
    fn the_static_build_asks_nscd_only_where_its_socket_exists() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("socket");
        let path = CString::new(socket.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(static_names(&path), Names::Files);
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert_eq!(static_names(&path), Names::FilesThenLibc);
    }

    #[test]
    fn a_file_read_in_windows_answers_every_lookup_as_the_whole_file() {
        let passwd = b"root:x:0:0:root:/root:/bin/sh\n\nalice:x:1000:1000::/home/alice:/bin/sh\n#c\n bob:x:1001:1001::/:/bin/sh\ncarol:x:1002:1002::/:/bin/sh\nbroken:x:1x3:1::/:/bin/sh\ndave:x:1003:1003::/:/bin/sh\n";
        let group = b"root:x:0:\nwheel:x:10:alice,carol\n\nstaff:x:50:carol\nusers:x:100:alice,dave\nodd:x:60: carol\nbig:x:70:alice,bob,carol,dave,erin\n";
        let whole = SystemDb::with_files(Names::Files, passwd, group);
        let users = ["root", "alice", "bob", "carol", "broken", "dave", "erin"];
        let ids = [0, 1, 1000, 1001, 1002, 1003, 4242];
        let gids: Vec<Gid> = [0, 10, 50, 100, 60, 70, 1]
            .into_iter()
            .cycle()
            .take(70)
            .map(Gid::new)
            .collect();
        for window in [1, 2, 5, 16, 64, 1 << 20] {
            let large = SystemDb::with_large_files(passwd, group, window);
            for user in users {
                assert_eq!(
                    large.user_by_name(user),
                    whole.user_by_name(user),
                    "{user} {window}"
                );
                assert_eq!(
                    large.group_by_name(user),
                    whole.group_by_name(user),
                    "{user} {window}"
                );
                assert_eq!(
                    large.group_list(user, Gid::new(1)),
                    whole.group_list(user, Gid::new(1)),
                    "{user} {window}"
                );
            }
            for id in ids {
                assert_eq!(
                    large.user_by_uid(Uid::new(id)),
                    whole.user_by_uid(Uid::new(id)),
                    "{id} {window}"
                );
                assert_eq!(
                    large.group_name(Gid::new(id)),
                    whole.group_name(Gid::new(id)),
                    "{id} {window}"
                );
            }
            assert_eq!(
                large.group_names(&gids),
                whole.group_names(&gids),
                "{window}"
            );
        }
        // The refusals are numbered in the whole file, whatever the window.
        let refused = SystemDb::with_large_files(passwd, group, 8).user_by_uid(Uid::new(1));
        assert!(
            matches!(&refused, Err(LookupError::Malformed(m)) if m.line == 7),
            "{refused:?}"
        );
        let refused = SystemDb::with_large_files(passwd, group, 8).group_list("carol", Gid::new(1));
        assert!(
            matches!(&refused, Err(LookupError::Malformed(m)) if m.line == 6),
            "{refused:?}"
        );
        assert_eq!(
            whole.group_list("alice", Gid::new(1)),
            Ok(vec![Gid::new(1), Gid::new(10), Gid::new(100), Gid::new(70)])
        );
    }

    #[test]
    fn any_account_files_read_in_any_window_answer_as_the_whole_files() {
        use proptest::prelude::*;
        // Lines built from the pieces that matter to the readers: names that
        // share prefixes, ids canonical or not, comments, blank lines, white
        // space, NUL, and lines with too few fields.
        let name = prop_oneof![
            Just("a"),
            Just("ab"),
            Just(" a"),
            Just("#a"),
            Just("+a"),
            Just("")
        ];
        let id = prop_oneof![
            Just("1"),
            Just("2"),
            Just("01"),
            Just("1x"),
            Just(""),
            Just("4294967296")
        ];
        let passwd_line = (name.clone(), id.clone(), id.clone())
            .prop_map(|(n, u, g)| format!("{n}:x:{u}:{g}::/h:/bin/sh"));
        let members = prop_oneof![
            Just(""),
            Just("a"),
            Just("ab,a"),
            Just(" a"),
            Just("a\0b"),
            Just("b,")
        ];
        let group_line = (name, id, members).prop_map(|(n, g, m)| format!("{n}:x:{g}:{m}"));
        proptest!(|(passwd in proptest::collection::vec(passwd_line, 0..12),
                    group in proptest::collection::vec(group_line, 0..12),
                    window in 1usize..48)| {
            let passwd = passwd.join("\n");
            let group = group.join("\n");
            let whole = SystemDb::with_files(Names::Files, passwd.as_bytes(), group.as_bytes());
            let large = SystemDb::with_large_files(passwd.as_bytes(), group.as_bytes(), window);
            for user in ["a", "ab", "b"] {
                prop_assert_eq!(large.user_by_name(user), whole.user_by_name(user));
                prop_assert_eq!(large.group_by_name(user), whole.group_by_name(user));
                prop_assert_eq!(large.group_list(user, Gid::new(7)), whole.group_list(user, Gid::new(7)));
            }
            for id in [0, 1, 2] {
                prop_assert_eq!(large.user_by_uid(Uid::new(id)), whole.user_by_uid(Uid::new(id)));
                prop_assert_eq!(large.group_name(Gid::new(id)), whole.group_name(Gid::new(id)));
            }
            let gids: Vec<Gid> = (0..70).map(|i| Gid::new(i % 3)).collect();
            prop_assert_eq!(large.group_names(&gids), whole.group_names(&gids));
        });
    }
}
