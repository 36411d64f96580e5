//! Capability names (capabilities(7)) and lists of them.

use crate::error::{Error, Result};

/// Index = capability number.
const NAMES: [&str; 41] = [
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

pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;

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
