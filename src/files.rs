//! /etc/passwd and /etc/group, read and parsed directly.
//!
//! The static (musl) build reads the account files itself when no nscd
//! socket exists, which is exactly when musl's own lookups read only these
//! files. musl's readers were most of the static build's launch cost: a
//! probe of the nscd socket at every group-list lookup, a malloc'd buffer
//! per line and page mappings made and unmade around each lookup, about
//! 100,000 instructions for two small files (docs/performance.md). Here
//! each file is read once per run, whatever the number of lookups.
//!
//! Parsing is stricter than musl's, which reads an empty or overflowing
//! uid as 0: an entry for the account asked about must be well formed, or
//! the lookup is an error, never a guess. Other malformed lines are skipped,
//! as both C libraries skip them. Blank lines and lines starting with '#'
//! are not entries (glibc skips them too; musl would take a commented-out
//! "#name:x:0:..." line for a real one when looking up by uid).

use crate::spec::MAX_ID;
use nix::errno::Errno;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";

/// Why an entry could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub file: &'static str,
    /// 1-based.
    pub line: usize,
    pub why: &'static str,
}

/// A passwd entry, borrowed from the file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    pub name: &'a [u8],
    pub uid: u32,
    pub gid: u32,
    pub home: &'a [u8],
    pub shell: &'a [u8],
}

impl PasswdEntry<'_> {
    /// The entry as the rest of runas uses it; the name must be UTF-8,
    /// since group membership is compared by name.
    pub fn to_record(&self) -> Option<crate::userdb::UserRecord> {
        Some(crate::userdb::UserRecord {
            name: String::from_utf8(self.name.to_vec()).ok()?,
            uid: self.uid,
            gid: self.gid,
            home: OsString::from_vec(self.home.to_vec()),
            shell: OsString::from_vec(self.shell.to_vec()),
        })
    }
}

/// A file's contents; a missing file reads as empty, as both C libraries
/// treat it ("no entries"), any other failure is an error.
pub fn read(path: &str) -> Result<Vec<u8>, Errno> {
    match std::fs::read(path) {
        Ok(text) => Ok(text),
        Err(e) => match e.raw_os_error().map(Errno::from_raw) {
            Some(Errno::ENOENT | Errno::ENOTDIR) => Ok(Vec::new()),
            Some(errno) => Err(errno),
            None => Err(Errno::EIO),
        },
    }
}

/// The entries of a file: (1-based line number, line without its newline),
/// blank and '#' lines left out.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    text.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.is_empty() && line[0] != b'#')
}

/// An id field: ASCII digits only, at most MAX_ID (4294967295 is "-1").
fn id_field(field: &[u8]) -> Option<u32> {
    if field.is_empty() || field.len() > 10 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = field
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    u32::try_from(value).ok().filter(|&id| id <= MAX_ID)
}

/// `name:password:uid:gid:gecos:home:shell`; the shell is the rest of the
/// line, colons included, as both C libraries read it.
fn passwd_entry(line: &[u8]) -> Result<PasswdEntry<'_>, &'static str> {
    let mut fields = line.splitn(7, |&b| b == b':');
    let mut next = || fields.next();
    let (Some(name), Some(_password), Some(uid), Some(gid), Some(_gecos), Some(home), Some(shell)) =
        (next(), next(), next(), next(), next(), next(), next())
    else {
        return Err("it has fewer than 7 fields");
    };
    Ok(PasswdEntry {
        name,
        uid: id_field(uid).ok_or("its uid is not a number from 0 to 4294967294")?,
        gid: id_field(gid).ok_or("its gid is not a number from 0 to 4294967294")?,
        home,
        shell,
    })
}

/// The first field of a line (the account name).
fn name_of(line: &[u8]) -> &[u8] {
    line.split(|&b| b == b':').next().unwrap_or(line)
}

/// The passwd entry named `name`: the first line with that name.
pub fn user_by_name<'a>(text: &'a [u8], name: &str) -> Result<Option<PasswdEntry<'a>>, Malformed> {
    for (number, line) in lines(text) {
        if name_of(line) == name.as_bytes() {
            return passwd_entry(line).map(Some).map_err(|why| Malformed {
                file: PASSWD,
                line: number,
                why,
            });
        }
    }
    Ok(None)
}

/// The first passwd entry with this uid. A line whose uid cannot be read
/// cannot be said to have it, and is skipped.
pub fn user_by_uid(text: &[u8], uid: u32) -> Option<PasswdEntry<'_>> {
    lines(text)
        .filter_map(|(_, line)| passwd_entry(line).ok())
        .find(|entry| entry.uid == uid)
}

/// `name:password:gid:member,member,...`, split into (name, gid field,
/// members field); the members are the rest of the line, as musl reads it.
fn group_fields(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut fields = line.splitn(4, |&b| b == b':');
    match (fields.next(), fields.next(), fields.next(), fields.next()) {
        (Some(name), Some(_password), Some(gid), Some(members)) => Some((name, gid, members)),
        _ => None,
    }
}

fn group_malformed(line: usize, why: &'static str) -> Malformed {
    Malformed {
        file: GROUP,
        line,
        why,
    }
}

/// The gid of the group named `name`: the first line with that name.
pub fn group_by_name(text: &[u8], name: &str) -> Result<Option<u32>, Malformed> {
    for (number, line) in lines(text) {
        if name_of(line) == name.as_bytes() {
            let (_, gid, _) =
                group_fields(line).ok_or(group_malformed(number, "it has fewer than 4 fields"))?;
            return id_field(gid).map(Some).ok_or(group_malformed(
                number,
                "its gid is not a number from 0 to 4294967294",
            ));
        }
    }
    Ok(None)
}

/// `primary`, then the gid of every group that lists `user` as a member,
/// in file order: what getgrouplist(3) returns. A group that lists the
/// user but whose gid cannot be read is an error: leaving it out could
/// grant what a group-deny rule was meant to refuse.
pub fn group_list(text: &[u8], user: &str, primary: u32) -> Result<Vec<u32>, Malformed> {
    let mut list = vec![primary];
    let user = user.as_bytes();
    for (number, line) in lines(text) {
        let Some((_, gid, members)) = group_fields(line) else {
            continue;
        };
        if members.split(|&b| b == b',').any(|member| member == user) {
            list.push(id_field(gid).ok_or(group_malformed(
                number,
                "it lists the user, but its gid is not a number from 0 to 4294967294",
            ))?);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &[u8] = b"root:x:0:0:root:/root:/bin/bash
#old:x:1500:1500::/home/old:/bin/sh

alice:x:1500:1500:Alice:/home/alice:/bin/sh
1700:x:0:0:digits:/:/bin/sh
broken:x::1:::
short:x:1:1
alice:x:9:9::/second:/bin/sh
colons:x:7:7::/h:/bin/sh:extra
last:x:8:8::/l:/bin/dash";

    #[test]
    fn users_by_name_take_the_first_entry() {
        let alice = user_by_name(PASSWD_TEXT, "alice").unwrap().unwrap();
        assert_eq!((alice.uid, alice.gid), (1500, 1500));
        assert_eq!(alice.home, b"/home/alice");
        assert_eq!(alice.shell, b"/bin/sh");
        // A name of digits is a name here; spec.rs decided that already.
        assert_eq!(user_by_name(PASSWD_TEXT, "1700").unwrap().unwrap().uid, 0);
        assert_eq!(user_by_name(PASSWD_TEXT, "nobody").unwrap(), None);
        assert_eq!(user_by_name(PASSWD_TEXT, "ali").unwrap(), None);
    }

    #[test]
    fn the_shell_is_the_rest_of_the_line_and_the_last_line_needs_no_newline() {
        assert_eq!(
            user_by_name(PASSWD_TEXT, "colons").unwrap().unwrap().shell,
            b"/bin/sh:extra"
        );
        assert_eq!(
            user_by_name(PASSWD_TEXT, "last").unwrap().unwrap().shell,
            b"/bin/dash"
        );
    }

    #[test]
    fn a_malformed_entry_for_the_name_asked_about_is_an_error() {
        let err = user_by_name(PASSWD_TEXT, "broken").unwrap_err();
        assert_eq!((err.file, err.line), (PASSWD, 6));
        assert!(err.why.contains("uid"), "{err:?}");
        assert_eq!(user_by_name(PASSWD_TEXT, "short").unwrap_err().line, 7);
    }

    #[test]
    fn commented_out_lines_are_not_entries() {
        assert_eq!(user_by_name(PASSWD_TEXT, "#old").unwrap(), None);
        assert_eq!(user_by_uid(PASSWD_TEXT, 1500).unwrap().name, b"alice");
    }

    #[test]
    fn users_by_uid_skip_lines_whose_uid_cannot_be_read() {
        assert_eq!(user_by_uid(PASSWD_TEXT, 0).unwrap().name, b"root");
        assert_eq!(user_by_uid(PASSWD_TEXT, 9).unwrap().home, b"/second");
        // "broken" has an empty uid, which musl would read as 0.
        assert_eq!(user_by_uid(b"broken:x::1:::\n", 0), None);
        assert_eq!(user_by_uid(PASSWD_TEXT, 4242), None);
    }

    #[test]
    fn id_fields_are_strict() {
        for (field, id) in [
            (&b"0"[..], Some(0)),
            (b"4294967294", Some(4294967294)),
            (b"4294967295", None),
            (b"4294967296", None),
            (b"99999999999", None),
            (b"", None),
            (b"-1", None),
            (b"+1", None),
            (b" 1", None),
            (b"0x10", None),
            (b"12a", None),
        ] {
            assert_eq!(id_field(field), id, "{:?}", String::from_utf8_lossy(field));
        }
    }

    const GROUP_TEXT: &[u8] = b"root:x:0:
wheel:x:10:root,alice
#admins:x:11:alice
staff:x:50:bob,alice,carol
empty:x:60:
alicegroup:x:70:alice2,xalice
broken:x:bad:bob
odd:x:80:alice:more";

    #[test]
    fn group_lists_start_with_the_primary_group_and_follow_the_file() {
        assert_eq!(
            group_list(GROUP_TEXT, "alice", 1500).unwrap(),
            [1500, 10, 50]
        );
        assert_eq!(group_list(GROUP_TEXT, "carol", 1502).unwrap(), [1502, 50]);
        assert_eq!(group_list(GROUP_TEXT, "nobody", 65534).unwrap(), [65534]);
        // Members compare whole: "alice2" and "xalice" are not "alice".
        assert_eq!(group_list(GROUP_TEXT, "alice2", 1).unwrap(), [1, 70]);
        // The members field is the rest of the line, as musl reads it.
        assert_eq!(group_list(GROUP_TEXT, "alice:more", 1).unwrap(), [1, 80]);
    }

    #[test]
    fn a_group_that_lists_the_user_with_an_unreadable_gid_is_an_error() {
        let err = group_list(GROUP_TEXT, "bob", 1501).unwrap_err();
        assert_eq!((err.file, err.line), (GROUP, 7));
    }

    #[test]
    fn groups_by_name() {
        assert_eq!(group_by_name(GROUP_TEXT, "staff").unwrap(), Some(50));
        assert_eq!(group_by_name(GROUP_TEXT, "#admins").unwrap(), None);
        assert_eq!(group_by_name(GROUP_TEXT, "none").unwrap(), None);
        assert!(group_by_name(GROUP_TEXT, "broken").is_err());
        assert_eq!(group_by_name(b"short:x:5", "short").unwrap_err().line, 1);
    }

    #[test]
    fn a_large_membership_is_read_in_one_pass() {
        let mut text = Vec::new();
        for gid in 0..3000u32 {
            text.extend(format!("g{gid}:x:{}:a,b,t{}\n", 100_000 + gid, gid % 2).as_bytes());
        }
        let list = group_list(&text, "t1", 7).unwrap();
        assert_eq!(list.len(), 1 + 1500);
        assert_eq!(list[1], 100_001);
    }
}
