//! The id rules, and the types that keep a uid from a gid.
//!
//! The one rule (README, "Identity rules"): a string of ASCII digits only is
//! a numeric id and must lie in 0..=4294967294 (leading zeros are decimal:
//! `010` is 10, never octal 8); anything else is a name. A sign before
//! digits, a `0x` before hex digits, white space, control characters and
//! invisible formatting characters anywhere are rejected rather than looked
//! up, so `-1`, `+5`, ` 5` or `1000` with a zero-width space can never
//! become a lookup of a strangely named account, and the value 4294967295
//! (-1, "leave unchanged" to the kernel) can never be passed on. Other
//! notations (`0o7`, `1e3`, `1_000`) are names, looked up as such: no
//! account is normally so named, and an unknown name is an error.

use crate::base::error::{Error, Result};
use std::fmt;

/// A user id and a group id: types the compiler tells apart.
macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = $what]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(u32);

        impl $name {
            pub const ROOT: $name = $name(0);

            pub const fn new(raw: u32) -> $name {
                $name(raw)
            }

            /// The number the kernel takes.
            pub const fn raw(self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(Uid, "A user id.");
id_type!(Gid, "A group id.");

/// Real, effective and saved ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResIds<T> {
    pub real: T,
    pub effective: T,
    pub saved: T,
}

impl<T: Copy + PartialEq> ResIds<T> {
    pub fn all(id: T) -> Self {
        ResIds {
            real: id,
            effective: id,
            saved: id,
        }
    }

    pub fn contains(&self, id: T) -> bool {
        self.real == id || self.effective == id || self.saved == id
    }
}

/// The largest valid id: 2^32 - 2. 2^32 - 1 is (uid_t)-1, which the set*id
/// calls read as "do not change".
pub const MAX_ID: u32 = u32::MAX - 1;

/// What a user or group was given as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSpec {
    Id(u32),
    Name(String),
}

/// Whether a spec names a user or a group; used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }
}

/// `--user USER` or `--user USER:GROUP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: IdSpec,
    pub group: Option<IdSpec>,
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn invalid(kind: Kind, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        kind: kind.noun(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// Parse one user or group: an id or a name.
pub fn parse_id(value: &str, kind: Kind) -> Result<IdSpec> {
    if value.is_empty() {
        return Err(invalid(kind, value, "it is empty"));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return parse_decimal(value, kind).map(IdSpec::Id);
    }
    check_name(value, kind)?;
    Ok(IdSpec::Name(value.to_owned()))
}

fn parse_decimal(value: &str, kind: Kind) -> Result<u32> {
    // Digits only, so the only possible failure of u64 parsing is overflow.
    let id = value.parse::<u64>().ok();
    match id {
        Some(id) if id <= u64::from(MAX_ID) => Ok(id as u32),
        Some(id) if id == u64::from(u32::MAX) => Err(invalid(
            kind,
            value,
            "4294967295 is (uid_t)-1, which the kernel reads as \"leave unchanged\"; ids go from 0 to 4294967294",
        )),
        _ => Err(invalid(
            kind,
            value,
            "ids go from 0 to 4294967294 (it would wrap around to a different id)",
        )),
    }
}

/// Reject strings that are not plausible names, above all those that look
/// like numbers in a notation other than plain decimal.
fn check_name(value: &str, kind: Kind) -> Result<()> {
    let looks_signed = (value.starts_with('-') || value.starts_with('+'))
        && value[1..].bytes().all(|b| b.is_ascii_digit());
    if looks_signed {
        return Err(invalid(
            kind,
            value,
            "ids are plain decimal numbers from 0 to 4294967294, without a sign",
        ));
    }
    let looks_hex = (value.starts_with("0x") || value.starts_with("0X"))
        && value.len() > 2
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if looks_hex {
        return Err(invalid(
            kind,
            value,
            "ids are plain decimal numbers; hexadecimal is not accepted",
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(invalid(kind, value, "it contains white space"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(kind, value, "it contains a control character"));
    }
    if let Some(c) = value.chars().find(|&c| crate::base::quote::invisible(c)) {
        return Err(invalid(
            kind,
            value,
            format!(
                "it contains U+{:04X}, an invisible character that makes a name look like another",
                u32::from(c)
            ),
        ));
    }
    if value.starts_with('-') {
        return Err(invalid(kind, value, "names cannot start with '-'"));
    }
    if let Some(bad) = value.chars().find(|c| matches!(c, ':' | ',' | '/')) {
        return Err(invalid(
            kind,
            value,
            format!(
                "names cannot contain {}",
                crate::base::quote::quote(bad.to_string())
            ),
        ));
    }
    Ok(())
}

/// Parse `--user`: `USER` or `USER:GROUP`.
pub fn parse_user_spec(value: &str) -> Result<UserSpec> {
    match value.split_once(':') {
        None => Ok(UserSpec {
            user: parse_id(value, Kind::User)?,
            group: None,
        }),
        Some((user, group)) => {
            if user.is_empty() {
                return Err(invalid(
                    Kind::User,
                    value,
                    "the part before ':' is empty; write USER:GROUP, or use --group GROUP alone",
                ));
            }
            if group.is_empty() {
                return Err(invalid(
                    Kind::User,
                    value,
                    "the part after ':' is empty; write USER:GROUP, or just USER",
                ));
            }
            // Name the whole --user value as well as the bad part.
            let in_spec = |err| match err {
                Error::InvalidSpec {
                    kind,
                    value: part,
                    reason,
                } => Error::InvalidSpec {
                    kind,
                    value: part,
                    reason: format!("{reason} (in --user {})", crate::base::quote::quote(value)),
                },
                other => other,
            };
            Ok(UserSpec {
                user: parse_id(user, Kind::User).map_err(in_spec)?,
                group: Some(parse_id(group, Kind::Group).map_err(in_spec)?),
            })
        }
    }
}

/// Parse `--groups LIST`: comma-separated ids or names. The empty string is
/// the empty list (no supplementary groups); empty items are rejected.
pub fn parse_group_list(value: &str) -> Result<Vec<IdSpec>> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|item| {
            if item.is_empty() {
                Err(Error::InvalidSpec {
                    kind: "group list",
                    value: value.to_owned(),
                    reason: "it has an empty item (two commas in a row, or a comma at an end)"
                        .into(),
                })
            } else {
                parse_id(item, Kind::Group)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Result<IdSpec> {
        parse_id(s, Kind::User)
    }

    #[test]
    fn all_digit_strings_are_ids_in_range() {
        let table: &[(&str, u32)] = &[
            ("0", 0),
            ("00", 0),
            ("1000", 1000),
            ("65534", 65534),
            ("2147483648", 2147483648),
            ("4294967294", 4294967294),
            ("0004294967294", 4294967294),
        ];
        for (input, want) in table {
            assert_eq!(id(input).unwrap(), IdSpec::Id(*want), "input {input:?}");
        }
    }

    #[test]
    fn reference_rejections_are_rejected_naming_the_value() {
        for input in [
            "-1",
            "4294967295",
            "4294967296",
            "18446744073709551616",
            "99999999999999999999999",
            "+5",
            " 5",
            "5 ",
            "0x10",
            "0XfF",
            "",
            "-5",
            "+0",
            "al ice",
            "a\tb",
            "a\nb",
            "-alice",
            "a/b",
            "a,b",
            "1000\u{200B}",
            "\u{FEFF}1",
            "ali\u{202E}ce",
            "ro\u{00AD}ot",
            "ro\u{1BCA0}ot",
            "r\u{0600}oot",
            "root\u{2800}",
            "ro\u{1D173}ot",
        ] {
            let err = id(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&crate::base::quote::quote(input)),
                "message {msg:?} does not quote {input:?}"
            );
            assert_eq!(err.exit_code(), 125);
        }
    }

    #[test]
    fn an_id_held_in_any_one_slot_is_contained() {
        let ids = ResIds {
            real: 1u32,
            effective: 2,
            saved: 3,
        };
        assert!(ids.contains(1) && ids.contains(2) && ids.contains(3));
        assert!(!ids.contains(4));
        assert!(ResIds::all(5u32).contains(5));
    }

    #[test]
    fn out_of_range_ids_say_why() {
        let reason = |input: &str| id(input).unwrap_err().to_string();
        assert!(
            reason("4294967295").contains("is (uid_t)-1"),
            "{}",
            reason("4294967295")
        );
        for input in ["4294967296", "18446744073709551616"] {
            let text = reason(input);
            assert!(
                text.contains("it would wrap around to a different id"),
                "{text}"
            );
            assert!(!text.contains("(uid_t)-1"), "{text}");
        }
    }

    #[test]
    fn other_strings_are_names() {
        for input in [
            "alice",
            "www-data",
            "a.b",
            "_apt",
            "5abc",
            "0day",
            "x0x10",
            "0x",
            "Ünïcode",
            // Other notations are names (an unknown name is an error).
            "0o7",
            "1e3",
            "1_000",
        ] {
            assert_eq!(id(input).unwrap(), IdSpec::Name(input.to_owned()));
        }
        // Leading zeros are decimal, never octal.
        assert_eq!(id("010").unwrap(), IdSpec::Id(10));
        let msg = id("1000\u{200B}").unwrap_err().to_string();
        assert!(msg.contains("U+200B, an invisible character"), "{msg}");
    }

    #[test]
    fn user_group_shorthand() {
        assert_eq!(
            parse_user_spec("alice:jupiter").unwrap(),
            UserSpec {
                user: IdSpec::Name("alice".into()),
                group: Some(IdSpec::Name("jupiter".into()))
            }
        );
        assert_eq!(
            parse_user_spec("1000:1000").unwrap(),
            UserSpec {
                user: IdSpec::Id(1000),
                group: Some(IdSpec::Id(1000))
            }
        );
        assert_eq!(
            parse_user_spec("alice").unwrap(),
            UserSpec {
                user: IdSpec::Name("alice".into()),
                group: None
            }
        );
        for bad in [
            ":",
            "alice:",
            ":jupiter",
            "alice:jupiter:x",
            "alice:-1",
            "-1:0",
            "1:4294967295",
        ] {
            assert!(parse_user_spec(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn group_lists() {
        assert_eq!(parse_group_list("").unwrap(), vec![]);
        assert_eq!(
            parse_group_list("1,jupiter,4294967294").unwrap(),
            vec![
                IdSpec::Id(1),
                IdSpec::Name("jupiter".into()),
                IdSpec::Id(4294967294)
            ]
        );
        for bad in [
            ",",
            "1,",
            ",1",
            "1,,2",
            "1, 2",
            "1,-1",
            "1,4294967295",
            "0x1",
        ] {
            assert!(parse_group_list(bad).is_err(), "{bad:?} accepted");
        }
    }
}
