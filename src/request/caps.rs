//! Capability names (capabilities(7)) and lists of them.

use crate::base::error::{Error, Result};

/// Index = capability number.
pub const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_TTY_CONFIG: u32 = 26;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_BPF: u32 = 39;

/// Capabilities that amount to root: a target that keeps one can make
/// itself root again (or do what root does), so keeping one means the
/// switch can be undone. Each with how.
pub const ROOT_EQUIVALENT: [(u32, &str); 17] = [
    (
        CAP_CHOWN,
        "it can take ownership of any file, /etc/shadow included",
    ),
    (
        CAP_DAC_OVERRIDE,
        "it can write any file, /etc/shadow and /etc/sudoers included",
    ),
    (
        CAP_DAC_READ_SEARCH,
        "it can read any file and open any inode by handle (open_by_handle_at)",
    ),
    (
        CAP_FOWNER,
        "it can change the mode of any file, making /etc/shadow writable",
    ),
    (
        CAP_SETGID,
        "it can switch to any group, gid 0 and disk included",
    ),
    (CAP_SETUID, "it can switch back to uid 0"),
    (
        CAP_SETPCAP,
        "it can add any bounding-set capability to its inheritable set and change securebits",
    ),
    (CAP_SYS_MODULE, "it can load code into the kernel"),
    (
        CAP_SYS_RAWIO,
        "it can read and write kernel memory and raw devices",
    ),
    (
        CAP_SYS_CHROOT,
        "it can run a set-user-ID program in a root of its own, with libraries it chose",
    ),
    (
        CAP_SYS_PTRACE,
        "it can trace and so run code in any process, root's included",
    ),
    (
        CAP_SYS_ADMIN,
        "it can mount over any path and do most of what root does",
    ),
    (
        CAP_SYS_BOOT,
        "it can boot a kernel of its choice (kexec_load), which then runs as root",
    ),
    (
        CAP_SYS_TTY_CONFIG,
        "it can remap the keys of any virtual console (KDSKBENT, KDSKBSENT), so root's next keystrokes there type what it chose",
    ),
    (
        CAP_MKNOD,
        "it can create a device node for the root disk and write it",
    ),
    (
        CAP_SETFCAP,
        "it can give any program any capability and run it (cap_sys_admin, cap_setuid)",
    ),
    (
        CAP_BPF,
        "it can load BPF programs, with kernel memory access through them",
    ),
];

/// The mask of [`ROOT_EQUIVALENT`].
pub fn root_equivalent() -> u64 {
    ROOT_EQUIVALENT
        .iter()
        .fold(0, |mask, (cap, _)| mask | bit(*cap))
}

/// Why `cap` amounts to root, if it does.
pub fn why_root_equivalent(cap: u32) -> Option<&'static str> {
    ROOT_EQUIVALENT
        .iter()
        .find(|(c, _)| *c == cap)
        .map(|(_, why)| *why)
}

/// The bit of one capability in a 64-bit mask.
pub fn bit(cap: u32) -> u64 {
    1u64 << cap
}

/// Whether `mask` holds capability `cap`.
pub fn has(mask: u64, cap: u32) -> bool {
    mask & bit(cap) != 0
}

/// The capabilities in `mask`, lowest first.
pub fn each(mask: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |cap| has(mask, *cap))
}

/// `net_bind_service`, `CAP_NET_BIND_SERVICE` or `Net_Bind_Service`.
pub fn parse_name(text: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let name = lower.strip_prefix("cap_").unwrap_or(&lower);
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

/// `cap_net_bind_service` for messages.
pub fn name(cap: u32) -> String {
    NAMES
        .get(cap as usize)
        .map_or_else(|| format!("cap_{cap}"), |n| format!("cap_{n}"))
}

/// The names in a mask, comma-separated.
pub fn describe(mask: u64) -> String {
    let names: Vec<String> = each(mask).map(name).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(",")
    }
}

fn unknown(option: &str, item: &str) -> Error {
    Error::InvalidSpec {
        kind: "capability",
        value: item.to_owned(),
        reason: format!("not a capability name (see capabilities(7)), in {option}"),
    }
}

/// `--keep-caps net_bind_service,sys_nice`: a mask of named capabilities.
pub fn parse_list(option: &str, text: &str) -> Result<u64> {
    if text.is_empty() {
        return Err(Error::Usage(format!(
            "{option} needs at least one capability name"
        )));
    }
    text.split(',').try_fold(0u64, |mask, item| {
        parse_name(item.trim_start_matches('+'))
            .filter(|_| !item.is_empty())
            .map(|cap| mask | bit(cap))
            .ok_or_else(|| unknown(option, item))
    })
}

/// `--bounding-set -all,+net_bind_service` or `-net_raw,-sys_admin`: the
/// capabilities to drop from the bounding set, as setpriv reads the list
/// (left to right; `all` stands for every capability).
pub fn parse_bounding(text: &str, known: u64) -> Result<u64> {
    let option = "--bounding-set";
    if text.is_empty() {
        return Err(Error::Usage(format!(
            "{option} needs a list such as -all or -net_raw"
        )));
    }
    text.split(',').try_fold(0u64, |drop, item| {
        let (sign, name) = item.split_at(item.chars().next().map_or(0, char::len_utf8));
        if sign != "-" && sign != "+" {
            return Err(Error::InvalidSpec {
                kind: "bounding-set item",
                value: item.to_owned(),
                reason: "each item starts with - (drop) or + (keep), as in -all,+net_bind_service"
                    .into(),
            });
        }
        let caps = if name.eq_ignore_ascii_case("all") {
            known
        } else {
            bit(parse_name(name).ok_or_else(|| unknown(option, item))?)
        };
        match sign {
            "-" => Ok(drop | caps),
            "+" => Ok(drop & !caps),
            _ => Err(Error::InvalidSpec {
                kind: "bounding-set item",
                value: item.to_owned(),
                reason: "each item starts with - (drop) or + (keep), as in -all,+net_bind_service"
                    .into(),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_equivalent_table_names_real_capabilities() {
        for (cap, why) in ROOT_EQUIVALENT {
            assert_ne!(name(cap), format!("cap_{cap}"), "a known name");
            assert!(!why.is_empty());
        }
        assert_eq!(ROOT_EQUIVALENT[0].0, parse_name("chown").unwrap());
        assert_eq!(CAP_SETFCAP, parse_name("setfcap").unwrap());
        assert_eq!(CAP_BPF, parse_name("bpf").unwrap());
        assert_eq!(CAP_MKNOD, parse_name("mknod").unwrap());
        assert_eq!(CAP_SYS_ADMIN, parse_name("sys_admin").unwrap());
        assert_eq!(root_equivalent().count_ones(), 17);
        // Issue 25: kexec_load boots a kernel of the target's choice.
        assert!(why_root_equivalent(parse_name("sys_boot").unwrap()).is_some());
        assert!(why_root_equivalent(parse_name("sys_tty_config").unwrap()).is_some());
        assert!(why_root_equivalent(parse_name("net_bind_service").unwrap()).is_none());
    }

    #[test]
    fn names_parse_in_any_case_with_or_without_prefix() {
        assert_eq!(parse_name("net_bind_service"), Some(10));
        assert_eq!(parse_name("CAP_NET_BIND_SERVICE"), Some(10));
        assert_eq!(parse_name("Sys_Nice"), Some(23));
        assert_eq!(parse_name("checkpoint_restore"), Some(40));
        assert_eq!(parse_name("cap_"), None);
        assert_eq!(parse_name("net-bind-service"), None);
        assert_eq!(name(13), "cap_net_raw");
    }

    #[test]
    fn masks_enumerate_and_test() {
        let mask = bit(0) | bit(10) | bit(63);
        assert_eq!(each(mask).collect::<Vec<_>>(), [0, 10, 63]);
        assert!(has(mask, 10) && !has(mask, 11));
        assert_eq!(each(0).count(), 0);
    }

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("--keep-caps", "net_bind_service,sys_nice").unwrap(),
            bit(10) | bit(23)
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
        let known = (1u64 << 41) - 1;
        assert_eq!(parse_bounding("-all", known).unwrap(), known);
        assert_eq!(
            parse_bounding("-all,+net_bind_service", known).unwrap(),
            known & !bit(10)
        );
        assert_eq!(
            parse_bounding("-net_raw,-sys_admin", known).unwrap(),
            bit(13) | bit(21)
        );
        for bad in ["", "net_raw", "-nope", "-all,,", "*net_raw"] {
            assert!(parse_bounding(bad, known).is_err(), "{bad:?}");
        }
    }
}
