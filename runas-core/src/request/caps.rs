//! Capabilities (capabilities(7)): one capability, by its number, and a
//! set of them, as a mask: two types, so an index is never taken for a
//! mask. Their names, and the ones that amount to root.

use crate::base::error::{Error, Result};
use std::ops::{BitAnd, BitOr, Not};

/// One capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cap(u8);

impl Cap {
    pub const CHOWN: Cap = Cap(0);
    pub const DAC_OVERRIDE: Cap = Cap(1);
    pub const DAC_READ_SEARCH: Cap = Cap(2);
    pub const FOWNER: Cap = Cap(3);
    pub const KILL: Cap = Cap(5);
    pub const SETGID: Cap = Cap(6);
    pub const SETUID: Cap = Cap(7);
    pub const SETPCAP: Cap = Cap(8);
    pub const SYS_MODULE: Cap = Cap(16);
    pub const SYS_RAWIO: Cap = Cap(17);
    pub const SYS_CHROOT: Cap = Cap(18);
    pub const SYS_PTRACE: Cap = Cap(19);
    pub const SYS_ADMIN: Cap = Cap(21);
    pub const SYS_BOOT: Cap = Cap(22);
    pub const SYS_NICE: Cap = Cap(23);
    pub const SYS_RESOURCE: Cap = Cap(24);
    pub const SYS_TTY_CONFIG: Cap = Cap(26);
    pub const MKNOD: Cap = Cap(27);
    pub const SETFCAP: Cap = Cap(31);
    pub const BPF: Cap = Cap(39);

    /// The capability with this number; `None` past 63, which no mask holds.
    pub const fn new(number: u32) -> Option<Cap> {
        if number < 64 {
            Some(Cap(number as u8))
        } else {
            None
        }
    }

    /// The number the kernel takes.
    pub const fn number(self) -> u32 {
        self.0 as u32
    }

    /// Its name without `cap_`, as capabilities(7) spells it
    /// (`net_bind_service`); `None` for a number newer than the names known
    /// here.
    // A match, not an array of names: the compiler makes it a table of
    // offsets, where an array of `&str`s is pointers that the static PIE
    // relocates (writes) at every start (docs/performance.md, round 9).
    pub const fn known_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "chown",
            1 => "dac_override",
            2 => "dac_read_search",
            3 => "fowner",
            4 => "fsetid",
            5 => "kill",
            6 => "setgid",
            7 => "setuid",
            8 => "setpcap",
            9 => "linux_immutable",
            10 => "net_bind_service",
            11 => "net_broadcast",
            12 => "net_admin",
            13 => "net_raw",
            14 => "ipc_lock",
            15 => "ipc_owner",
            16 => "sys_module",
            17 => "sys_rawio",
            18 => "sys_chroot",
            19 => "sys_ptrace",
            20 => "sys_pacct",
            21 => "sys_admin",
            22 => "sys_boot",
            23 => "sys_nice",
            24 => "sys_resource",
            25 => "sys_time",
            26 => "sys_tty_config",
            27 => "mknod",
            28 => "lease",
            29 => "audit_write",
            30 => "audit_control",
            31 => "setfcap",
            32 => "mac_override",
            33 => "mac_admin",
            34 => "syslog",
            35 => "wake_alarm",
            36 => "block_suspend",
            37 => "audit_read",
            38 => "perfmon",
            39 => "bpf",
            40 => "checkpoint_restore",
            _ => return None,
        })
    }

    /// Every capability with a known name, lowest first, with its name.
    pub fn known() -> impl Iterator<Item = (Cap, &'static str)> {
        (0..64).map_while(|n| Some((Cap(n), Cap(n).known_name()?)))
    }

    /// `net_bind_service`, `CAP_NET_BIND_SERVICE` or `Net_Bind_Service`.
    pub fn parse(text: &str) -> Option<Cap> {
        let lower = text.to_ascii_lowercase();
        let name = lower.strip_prefix("cap_").unwrap_or(&lower);
        Cap::known().find(|(_, n)| *n == name).map(|(cap, _)| cap)
    }

    /// `cap_net_bind_service`, for messages (`cap_45` for one newer than
    /// the names known here).
    pub fn name(self) -> String {
        self.known_name()
            .map_or_else(|| format!("cap_{}", self.0), |n| format!("cap_{n}"))
    }

    /// Why it amounts to root, if it does: the capabilities that do (a
    /// target that keeps one can make itself root again, or do what root
    /// does, so keeping one means the switch can be undone), each with how.
    // Every other capability is "" in the match (not `None`), so that the
    // compiler's table holds offsets only, as in `known_name`.
    pub const fn why_root_equivalent(self) -> Option<&'static str> {
        let why = match self {
            Cap::CHOWN => "it can take ownership of any file, /etc/shadow included",
            Cap::DAC_OVERRIDE => "it can write any file, /etc/shadow and /etc/sudoers included",
            Cap::DAC_READ_SEARCH => {
                "it can read any file and open any inode by handle (open_by_handle_at)"
            }
            Cap::FOWNER => "it can change the mode of any file, making /etc/shadow writable",
            Cap::SETGID => "it can switch to any group, gid 0 and disk included",
            Cap::SETUID => "it can switch back to uid 0",
            Cap::SETPCAP => {
                "it can add any bounding-set capability to its inheritable set and change securebits"
            }
            Cap::SYS_MODULE => "it can load code into the kernel",
            Cap::SYS_RAWIO => "it can read and write kernel memory and raw devices",
            Cap::SYS_CHROOT => {
                "it can run a set-user-ID program in a root of its own, with libraries it chose"
            }
            Cap::SYS_PTRACE => "it can trace and so run code in any process, root's included",
            Cap::SYS_ADMIN => "it can mount over any path and do most of what root does",
            Cap::SYS_BOOT => {
                "it can boot a kernel of its choice (kexec_load), which then runs as root"
            }
            Cap::SYS_TTY_CONFIG => {
                "it can remap the keys of any virtual console (KDSKBENT, KDSKBSENT), so root's next keystrokes there type what it chose"
            }
            Cap::MKNOD => "it can create a device node for the root disk and write it",
            Cap::SETFCAP => {
                "it can give any program any capability and run it (cap_sys_admin, cap_setuid)"
            }
            Cap::BPF => "it can load BPF programs, with kernel memory access through them",
            _ => "",
        };
        if why.is_empty() { None } else { Some(why) }
    }
}

/// The capabilities that amount to root: those [`Cap::why_root_equivalent`]
/// explains.
pub const ROOT_EQUIVALENT: CapSet = {
    let mut set = CapSet::EMPTY;
    let mut number = 0;
    while number < 64 {
        if Cap(number).why_root_equivalent().is_some() {
            set = set.with(Cap(number));
        }
        number += 1;
    }
    set
};

/// A set of capabilities, as the kernel holds one: a 64-bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CapSet(u64);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);

    pub const fn from_bits(bits: u64) -> CapSet {
        CapSet(bits)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    pub const fn of(cap: Cap) -> CapSet {
        CapSet(1 << cap.0)
    }

    pub const fn has(self, cap: Cap) -> bool {
        self.0 & (1 << cap.0) != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn with(self, cap: Cap) -> CapSet {
        CapSet(self.0 | 1 << cap.0)
    }

    /// The capabilities in it, lowest first.
    pub fn iter(self) -> impl Iterator<Item = Cap> {
        (0..64u8).map(Cap).filter(move |cap| self.has(*cap))
    }

    /// The names, comma-separated; `none` for the empty set.
    pub fn describe(self) -> String {
        let names: Vec<String> = self.iter().map(Cap::name).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        }
    }
}

impl BitOr for CapSet {
    type Output = CapSet;
    fn bitor(self, other: CapSet) -> CapSet {
        CapSet(self.0 | other.0)
    }
}

impl BitAnd for CapSet {
    type Output = CapSet;
    fn bitand(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }
}

impl Not for CapSet {
    type Output = CapSet;
    fn not(self) -> CapSet {
        CapSet(!self.0)
    }
}

fn unknown(option: &str, item: &str) -> Error {
    Error::InvalidSpec {
        kind: "capability",
        value: item.to_owned(),
        reason: format!("not a capability name (see capabilities(7)), in {option}"),
    }
}

/// The three per-thread capability sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sets {
    pub effective: CapSet,
    pub permitted: CapSet,
    pub inheritable: CapSet,
}

impl Sets {
    pub const fn from_raw(effective: u64, permitted: u64, inheritable: u64) -> Sets {
        Sets {
            effective: CapSet::from_bits(effective),
            permitted: CapSet::from_bits(permitted),
            inheritable: CapSet::from_bits(inheritable),
        }
    }
}

/// `--keep-caps net_bind_service,sys_nice`: the named capabilities.
pub fn parse_list(option: &str, text: &str) -> Result<CapSet> {
    if text.is_empty() {
        return Err(Error::Usage(format!(
            "{option} needs at least one capability name"
        )));
    }
    text.split(',').try_fold(CapSet::EMPTY, |set, item| {
        Cap::parse(item.trim_start_matches('+'))
            .filter(|_| !item.is_empty())
            .map(|cap| set.with(cap))
            .ok_or_else(|| unknown(option, item))
    })
}

/// `--bounding-set -all,+net_bind_service` or `-net_raw,-sys_admin`: the
/// capabilities to drop from the bounding set, as setpriv reads the list
/// (left to right; `all` stands for every capability).
pub fn parse_bounding(text: &str) -> Result<CapSet> {
    let option = "--bounding-set";
    if text.is_empty() {
        return Err(Error::Usage(format!(
            "{option} needs a list such as -all or -net_raw"
        )));
    }
    let bad = |item: &str| Error::InvalidSpec {
        kind: "bounding-set item",
        value: item.to_owned(),
        reason: "each item starts with - (drop) or + (keep), as in -all,+net_bind_service".into(),
    };
    text.split(',').try_fold(CapSet::EMPTY, |drop, item| {
        let (sign, name) = item.split_at(item.chars().next().map_or(0, char::len_utf8));
        if sign != "-" && sign != "+" {
            return Err(bad(item));
        }
        let caps = if name.eq_ignore_ascii_case("all") {
            !CapSet::EMPTY
        } else {
            CapSet::of(Cap::parse(name).ok_or_else(|| unknown(option, item))?)
        };
        match sign {
            "-" => Ok(drop | caps),
            "+" => Ok(drop & !caps),
            _ => Err(bad(item)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_up_to_the_last_linux_has_a_name_that_parses_back() {
        // CAP_CHECKPOINT_RESTORE (40) is the last one, since Linux 5.9.
        let known: Vec<(Cap, &str)> = Cap::known().collect();
        assert_eq!(known.len(), 41);
        for (number, (cap, name)) in known.into_iter().enumerate() {
            assert_eq!(cap.number() as usize, number);
            assert_eq!(Cap::parse(name), Some(cap), "{name}");
            assert_eq!(cap.name(), format!("cap_{name}"));
        }
        assert_eq!(Cap::new(41).unwrap().known_name(), None);
        assert_eq!(Cap::new(41).unwrap().name(), "cap_41");
        assert_eq!(
            Cap::parse("CAP_CHECKPOINT_RESTORE").map(Cap::number),
            Some(40)
        );
    }

    #[test]
    fn the_root_equivalent_table_names_real_capabilities() {
        for cap in ROOT_EQUIVALENT.iter() {
            assert_ne!(cap.name(), format!("cap_{}", cap.number()), "a known name");
            assert!(!cap.why_root_equivalent().unwrap().is_empty());
        }
        assert_eq!(ROOT_EQUIVALENT.iter().next(), Cap::parse("chown"));
        assert_eq!(Cap::SETFCAP, Cap::parse("setfcap").unwrap());
        assert_eq!(Cap::BPF, Cap::parse("bpf").unwrap());
        assert_eq!(Cap::MKNOD, Cap::parse("mknod").unwrap());
        assert_eq!(Cap::SYS_ADMIN, Cap::parse("sys_admin").unwrap());
        assert_eq!(Cap::SYS_NICE, Cap::parse("sys_nice").unwrap());
        assert_eq!(Cap::SYS_RESOURCE, Cap::parse("sys_resource").unwrap());
        assert_eq!(Cap::KILL, Cap::parse("kill").unwrap());
        assert_eq!(ROOT_EQUIVALENT.iter().count(), 17);
        // Issue 25: kexec_load boots a kernel of the target's choice.
        assert!(
            Cap::parse("sys_boot")
                .unwrap()
                .why_root_equivalent()
                .is_some()
        );
        assert!(
            Cap::parse("sys_tty_config")
                .unwrap()
                .why_root_equivalent()
                .is_some()
        );
        assert!(
            Cap::parse("net_bind_service")
                .unwrap()
                .why_root_equivalent()
                .is_none()
        );
    }

    #[test]
    fn names_parse_in_any_case_with_or_without_prefix() {
        let number = |text| Cap::parse(text).map(Cap::number);
        assert_eq!(number("net_bind_service"), Some(10));
        assert_eq!(number("CAP_NET_BIND_SERVICE"), Some(10));
        assert_eq!(number("Sys_Nice"), Some(23));
        assert_eq!(number("checkpoint_restore"), Some(40));
        assert_eq!(number("cap_"), None);
        assert_eq!(number("net-bind-service"), None);
        assert_eq!(Cap::new(13).unwrap().name(), "cap_net_raw");
        assert_eq!(Cap::new(63).unwrap().name(), "cap_63");
        assert_eq!(Cap::new(64), None);
    }

    #[test]
    fn sets_enumerate_and_test() {
        let cap = |n| Cap::new(n).unwrap();
        let set = CapSet::of(cap(0)).with(cap(10)).with(cap(63));
        assert_eq!(set.iter().map(Cap::number).collect::<Vec<_>>(), [0, 10, 63]);
        assert!(set.has(cap(10)) && !set.has(cap(11)));
        assert_eq!(CapSet::EMPTY.iter().count(), 0);
        assert_eq!(set.bits(), 1 | 1 << 10 | 1 << 63);
        assert_eq!(CapSet::EMPTY.describe(), "none");
        assert_eq!(CapSet::of(cap(10)).describe(), "cap_net_bind_service");
    }

    #[test]
    fn lists() {
        let cap = |n| CapSet::of(Cap::new(n).unwrap());
        assert_eq!(
            parse_list("--keep-caps", "net_bind_service,sys_nice").unwrap(),
            cap(10) | cap(23)
        );
        for bad in ["", "nope", "net_raw,", "net_raw,,chown"] {
            let err = parse_list("--keep-caps", bad).unwrap_err();
            assert_eq!(err.exit_code(), 125, "{bad:?}");
        }
        assert!(
            parse_list("--keep-caps", "nope")
                .unwrap_err()
                .to_string()
                .contains("\"nope\"")
        );
    }

    #[test]
    fn bounding_lists_read_left_to_right() {
        let cap = |n| CapSet::of(Cap::new(n).unwrap());
        let all = !CapSet::EMPTY;
        assert_eq!(parse_bounding("-all").unwrap(), all);
        assert_eq!(
            parse_bounding("-all,+net_bind_service").unwrap(),
            all & !cap(10)
        );
        assert_eq!(
            parse_bounding("-net_raw,-sys_admin").unwrap(),
            cap(13) | cap(21)
        );
        for bad in ["", "net_raw", "-nope", "-all,,", "*net_raw"] {
            assert!(parse_bounding(bad).is_err(), "{bad:?}");
        }
        // A name without its sign is a missing sign, not an unknown name.
        let err = parse_bounding("net_raw").unwrap_err().to_string();
        assert!(err.contains("starts with - (drop) or + (keep)"), "{err}");
    }
}
