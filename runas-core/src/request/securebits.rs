//! securebits(7): the bits, their names, and a change of them. Every
//! securebit runas names lives here.

use crate::base::error::{Error, Result};
use std::ops::{BitAnd, BitOr, Not};

/// A set of securebits, as prctl(PR_GET_SECUREBITS) gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Securebits(u32);

impl Securebits {
    pub const NONE: Securebits = Securebits(0);
    /// uid 0 gets no capabilities at execve.
    pub const NOROOT: Securebits = Securebits(1 << 0);
    pub const NOROOT_LOCKED: Securebits = Securebits(1 << 1);
    pub const NO_SETUID_FIXUP: Securebits = Securebits(1 << 2);
    pub const NO_SETUID_FIXUP_LOCKED: Securebits = Securebits(1 << 3);
    /// Keep the permitted set across setresuid from root.
    pub const KEEP_CAPS: Securebits = Securebits(1 << 4);
    pub const KEEP_CAPS_LOCKED: Securebits = Securebits(1 << 5);
    /// No raising of ambient capabilities.
    pub const NO_CAP_AMBIENT_RAISE: Securebits = Securebits(1 << 6);
    pub const NO_CAP_AMBIENT_RAISE_LOCKED: Securebits = Securebits(1 << 7);

    pub const fn from_bits(bits: u32) -> Securebits {
        Securebits(bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn contains(self, other: Securebits) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn intersects(self, other: Securebits) -> bool {
        self.0 & other.0 != 0
    }

    /// As the kernel's headers name them, joined with `|` (`0` for none),
    /// which is how strace shows them too.
    pub fn c_names(self) -> String {
        const C_NAMES: [&str; 8] = [
            "SECBIT_NOROOT",
            "SECBIT_NOROOT_LOCKED",
            "SECBIT_NO_SETUID_FIXUP",
            "SECBIT_NO_SETUID_FIXUP_LOCKED",
            "SECBIT_KEEP_CAPS",
            "SECBIT_KEEP_CAPS_LOCKED",
            "SECBIT_NO_CAP_AMBIENT_RAISE",
            "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED",
        ];
        let mut names: Vec<String> = C_NAMES
            .iter()
            .enumerate()
            .filter(|(bit, _)| self.0 & (1 << bit) != 0)
            .map(|(_, name)| (*name).to_owned())
            .collect();
        let unknown = self.0 & !0xff;
        if unknown != 0 {
            names.push(format!("{unknown:#x}"));
        }
        if names.is_empty() {
            "0".into()
        } else {
            names.join("|")
        }
    }
}

impl BitOr for Securebits {
    type Output = Securebits;
    fn bitor(self, other: Securebits) -> Securebits {
        Securebits(self.0 | other.0)
    }
}

impl BitAnd for Securebits {
    type Output = Securebits;
    fn bitand(self, other: Securebits) -> Securebits {
        Securebits(self.0 & other.0)
    }
}

impl Not for Securebits {
    type Output = Securebits;
    fn not(self) -> Securebits {
        Securebits(!self.0)
    }
}

/// securebits(7) names, as setpriv spells them (underscores also accepted).
/// keep-caps itself is absent: the kernel clears it at execve, so setting
/// it for the target would do nothing.
pub const NAMES: [(&str, Securebits); 7] = [
    ("noroot", Securebits::NOROOT),
    ("noroot-locked", Securebits::NOROOT_LOCKED),
    ("no-setuid-fixup", Securebits::NO_SETUID_FIXUP),
    ("no-setuid-fixup-locked", Securebits::NO_SETUID_FIXUP_LOCKED),
    ("keep-caps-locked", Securebits::KEEP_CAPS_LOCKED),
    ("no-cap-ambient-raise", Securebits::NO_CAP_AMBIENT_RAISE),
    (
        "no-cap-ambient-raise-locked",
        Securebits::NO_CAP_AMBIENT_RAISE_LOCKED,
    ),
];

/// --securebits: the bits to set and the bits to clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    pub set: Securebits,
    pub clear: Securebits,
}

impl Change {
    pub fn is_none(self) -> bool {
        self == Change::default()
    }

    /// The securebits after the change: the current ones with the
    /// requested set and cleared.
    pub fn applied_to(self, current: Securebits) -> Securebits {
        (current | self.set) & !self.clear
    }
}

/// `--securebits noroot,+no-setuid-fixup,-keep-caps-locked`.
pub fn parse(text: &str) -> Result<Change> {
    let mut change = Change::default();
    for item in text.split(',') {
        let (clear, name) = match item.as_bytes().first() {
            Some(b'-') => (true, &item[1..]),
            Some(b'+') => (false, &item[1..]),
            _ => (false, item),
        };
        let name = name.to_ascii_lowercase().replace('_', "-");
        let bit = NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, bit)| *bit)
            .ok_or_else(|| Error::InvalidSpec {
                kind: "securebit",
                value: item.to_owned(),
                reason: format!(
                    "known bits are {}",
                    NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            })?;
        if clear {
            change.clear = change.clear | bit;
            change.set = change.set & !bit;
        } else {
            change.set = change.set | bit;
            change.clear = change.clear & !bit;
        }
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn securebits_names() {
        let change = parse("noroot,+no_setuid_fixup,-keep-caps-locked").unwrap();
        assert_eq!(change.set.bits(), 1 | 4);
        assert_eq!(change.clear.bits(), 1 << 5);
        assert_eq!(parse("NOROOT-LOCKED").unwrap().set.bits(), 2);
        for bad in ["", "keep-caps", "nope", "noroot,"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_change_is_merged_with_the_current_bits() {
        let change = Change {
            set: Securebits::NOROOT,
            clear: Securebits::NO_SETUID_FIXUP,
        };
        assert_eq!(
            change.applied_to(Securebits::NO_SETUID_FIXUP).bits(),
            Securebits::NOROOT.bits()
        );
        assert_eq!(
            Change::default()
                .applied_to(Securebits::from_bits(0b010))
                .bits(),
            0b010
        );
    }
}
