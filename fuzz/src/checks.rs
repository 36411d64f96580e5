//! What each fuzz target holds runas to, for any input bytes. A violation
//! panics (a crash to libFuzzer, a failure to the test suite).
//!
//! - `ids`: the id rules. An accepted id is an all-digit string in
//!   0..=4294967294 and equals its decimal value; digits in range are never
//!   refused and never become a name; a name is the text as given.
//! - `command_line`: runas's command line (the words are the input split
//!   at NUL bytes) never panics, and every id it accepts is in range and is
//!   written, as digits, in one of the words.
//! - `env_file`: an accepted environment file gives valid names and values
//!   without NUL, and the same pairs written back (each value in double
//!   quotes, escaped) read back the same; a refusal names a line of the
//!   file.
//! - `envdir`: an envdir file's value is its first line, with only trailing
//!   blanks taken off and NULs made newlines; an entry's name is skipped
//!   exactly when it starts with a dot and accepted only when valid.
//! - `account_files`: the input is a passwd file, a NUL byte, a group file.
//!   For every name and id in them, runas's reader gives glibc's answer
//!   (getpwnam, getpwuid, getgrnam, getgrgid, getgrouplist) or refuses:
//!   it never gives another one.

use crate::glibc::Glibc;
use runas::door::{self, EnvdirName, IdSpec, Kind, MAX_ID};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The rule every accepted id or name must satisfy against its text.
fn check_id(input: &str, parsed: &IdSpec) {
    match parsed {
        IdSpec::Id(id) => {
            assert!(*id <= MAX_ID, "accepted id {id} from {input:?}");
            assert!(all_digits(input), "id {id} from {input:?}");
            assert_eq!(input.parse::<u64>().ok(), Some(u64::from(*id)), "{input:?}");
        }
        IdSpec::Name(name) => {
            assert_eq!(name, input);
            assert!(!all_digits(input), "digits became a name: {input:?}");
            assert!(!input.chars().any(char::is_whitespace), "{input:?}");
            assert!(!input.starts_with('-'), "{input:?}");
        }
    }
}

pub fn ids(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [Kind::User, Kind::Group] {
        match door::parse_id(input, kind) {
            Ok(parsed) => check_id(input, &parsed),
            Err(e) => {
                assert_eq!(e.exit_code(), 125);
                if all_digits(input) {
                    assert!(
                        input.parse::<u64>().map_or(true, |n| n > u64::from(MAX_ID)),
                        "digits in range refused: {input:?}"
                    );
                }
            }
        }
    }
    if let Ok(parsed) = door::parse_user_spec(input) {
        let (user, group) = match input.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (input, None),
        };
        check_id(user, &parsed.user);
        match (group, &parsed.group) {
            (Some(text), Some(g)) => check_id(text, g),
            (None, None) => {}
            other => panic!("{input:?}: group part {other:?}"),
        }
    }
    if let Ok(list) = door::parse_group_list(input) {
        let items: Vec<&str> = if input.is_empty() {
            Vec::new()
        } else {
            input.split(',').collect()
        };
        assert_eq!(items.len(), list.len(), "{input:?}");
        for (text, parsed) in items.iter().zip(&list) {
            check_id(text, parsed);
        }
    }
}

pub fn command_line(data: &[u8]) {
    let words: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let argv = std::iter::once(OsString::from("runas"))
        .chain(words.iter().map(|w| OsString::from_vec(w.to_vec())));
    let Some(ids) = door::ids_of_command_line(argv) else {
        return;
    };
    for id in ids {
        assert!(id <= MAX_ID, "{id} from {words:?}");
        // Written as digits (maybe with leading zeros) in some word, as a
        // whole run of digits.
        let written = words.iter().any(|word| {
            word.split(|b| !b.is_ascii_digit())
                .filter(|run| !run.is_empty())
                .any(|run| {
                    std::str::from_utf8(run)
                        .ok()
                        .and_then(|r| r.parse::<u64>().ok())
                        == Some(u64::from(id))
                })
        });
        assert!(written, "id {id} is in none of {words:?}");
    }
}

/// Pairs as a file that means exactly them: each value in double quotes,
/// with the four characters a backslash escapes there escaped.
fn write_back(pairs: &[(OsString, OsString)]) -> Vec<u8> {
    let mut text = Vec::new();
    for (name, value) in pairs {
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b"=\"");
        for &b in value.as_bytes() {
            if matches!(b, b'"' | b'\\' | b'`' | b'$') {
                text.push(b'\\');
            }
            text.push(b);
        }
        text.extend_from_slice(b"\"\n");
    }
    text
}

pub fn env_file(data: &[u8]) {
    match door::parse_environment_file(data) {
        Ok(pairs) => {
            for (name, value) in &pairs {
                let name = name.as_bytes();
                assert!(
                    matches!(name.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
                        && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_'),
                    "invalid name {name:?} accepted"
                );
                assert!(!value.as_bytes().contains(&0), "a NUL in a value");
            }
            let again = door::parse_environment_file(&write_back(&pairs))
                .unwrap_or_else(|e| panic!("the pairs written back are refused: {e}"));
            assert_eq!(again, pairs, "the pairs written back read otherwise");
        }
        Err(e) => {
            let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
            assert!(e.line <= lines, "line {} of {lines}", e.line);
            assert!(!e.reason.is_empty());
        }
    }
}

pub fn envdir(data: &[u8]) {
    match door::envdir_value(data) {
        None => assert!(data.is_empty(), "only an empty file removes the variable"),
        Some(value) => {
            let value = value.as_bytes();
            let line = data.split(|&b| b == b'\n').next().unwrap_or(&[]);
            assert!(value.len() <= line.len());
            let kept = &line[..value.len()];
            for (&v, &l) in value.iter().zip(kept) {
                assert_eq!(v, if l == 0 { b'\n' } else { l }, "{data:?}");
            }
            assert!(
                line[value.len()..].iter().all(|&b| b == b' ' || b == b'\t'),
                "more than trailing blanks taken off {data:?}"
            );
            assert!(
                value.last().is_none_or(|&b| b != b' ' && b != b'\t'),
                "a trailing blank kept in {data:?}"
            );
        }
    }
    match door::classify_envdir_name(data) {
        EnvdirName::Skip => assert_eq!(data.first(), Some(&b'.')),
        EnvdirName::Ok => {
            assert!(
                matches!(data.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
                    && data.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_'),
                "invalid envdir name {data:?} accepted"
            );
        }
        EnvdirName::Invalid(reason) => {
            assert_ne!(data.first(), Some(&b'.'));
            assert!(!reason.is_empty());
        }
    }
}

/// The names worth asking about: each line's first field, where it is a
/// string glibc can be asked for (no NUL; a name with a newline or a colon
/// cannot be in the file as one field, but is asked anyway).
fn names(text: &[u8]) -> Vec<CString> {
    let mut names: Vec<CString> = text
        .split(|&b| b == b'\n')
        .filter_map(|line| line.split(|&b| b == b':').next())
        .chain([b"root".as_slice(), b"nobody-here", b"+", b"-x"])
        .filter_map(|name| CString::new(name.trim_ascii()).ok())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names.truncate(64);
    names
}

/// runas's entry in the form the glibc oracle gives one.
fn passwd_of(e: &door::files::PasswdEntry<'_>) -> crate::glibc::Passwd {
    (
        e.name.to_vec(),
        e.uid,
        e.gid,
        e.home.to_vec(),
        e.shell.to_vec(),
    )
}

/// Each line's third field, as an id, where it is one.
fn ids_in(text: &[u8]) -> Vec<u32> {
    let mut ids: Vec<u32> = text
        .split(|&b| b == b'\n')
        .filter_map(|line| line.split(|&b| b == b':').nth(2))
        .filter_map(|field| std::str::from_utf8(field.trim_ascii()).ok()?.parse().ok())
        .chain([0, 100, 1000])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(64);
    ids
}

pub fn account_files(data: &[u8], glibc: &Glibc) {
    let (passwd, group) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    glibc.set(passwd, group);
    let files = door::files::user_by_name;
    let mut names = names(passwd);
    names.extend(names_of(group));
    names.sort();
    names.dedup();
    for name in &names {
        let Ok(text) = name.to_str() else { continue };
        if let Ok(ours) = files(passwd, text) {
            let ours = ours.map(|e| passwd_of(&e));
            assert_eq!(ours, glibc.getpwnam(name), "getpwnam {name:?}\n{data:?}");
        }
        if let Ok(ours) = door::files::group_by_name(group, text) {
            assert_eq!(
                ours.map(|g| g.gid),
                glibc.getgrnam(name),
                "getgrnam {name:?}\n{data:?}"
            );
        }
    }
    let ids = {
        let mut ids = ids_in(passwd);
        ids.extend(ids_in(group));
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    for &id in &ids {
        if let Ok(ours) = door::files::user_by_uid(passwd, id) {
            let ours = ours.map(|e| passwd_of(&e));
            assert_eq!(ours, glibc.getpwuid(id), "getpwuid {id}\n{data:?}");
        }
        if let Ok(ours) = door::files::group_by_gid(group, id) {
            assert_eq!(
                ours.map(|g| g.name.to_vec()),
                glibc.getgrgid(id),
                "getgrgid {id}\n{data:?}"
            );
        }
    }
    for name in &names {
        let Ok(text) = name.to_str() else { continue };
        for &primary in ids.iter().take(4) {
            if let Ok(ours) = door::files::group_list(group, text, primary) {
                assert_eq!(
                    ours,
                    glibc.getgrouplist(name, primary),
                    "getgrouplist {name:?} {primary}\n{data:?}"
                );
            }
        }
    }
}

/// The names a group file's member lists hold, besides its groups' names.
fn names_of(group: &[u8]) -> Vec<CString> {
    let mut found = names(group);
    found.extend(
        group
            .split(|&b| b == b'\n')
            .filter_map(|line| line.split(|&b| b == b':').nth(3))
            .flat_map(|members| members.split(|&b| b == b','))
            .filter_map(|m| CString::new(m.trim_ascii()).ok())
            .filter(|m| !m.is_empty())
            .take(64),
    );
    found
}
