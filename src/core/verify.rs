//! Proof, before exec, that the process is exactly what the plan says and
//! cannot return to what it was. Any failed check stops runas (exit 125);
//! the target never runs with credentials nobody checked.
//!
//! A set*id call can report success without doing the work (a buggy LSM, a
//! seccomp filter returning 0, a fault injector), so the only trustworthy
//! evidence is what the kernel reports afterwards.

use crate::base::error::{Error, Result};
use crate::core::facts::read_credentials;
use crate::core::plan::{Credentials, Plan, ResIds};
use crate::core::transition::{self, planned_caps};
use crate::options::process;
use crate::request::caps;
use crate::sys::{self, CapMasks};
use nix::errno::Errno;
use std::os::fd::RawFd;

fn check_ids(kind: &str, found: ResIds, expected: u32) -> Result<()> {
    for (which, value) in [
        ("real", found.real),
        ("effective", found.effective),
        ("saved", found.saved),
    ] {
        if value == sys::UNSET_ID {
            return Err(Error::Verification(format!(
                "the kernel did not report the {which} {kind}, expected {expected}"
            )));
        }
        if value != expected {
            return Err(Error::Verification(format!(
                "{which} {kind} is {value}, expected {expected}"
            )));
        }
    }
    Ok(())
}

fn format_list(groups: &[u32]) -> String {
    if groups.len() <= 16 {
        let items: Vec<String> = groups.iter().map(u32::to_string).collect();
        format!("[{}]", items.join(","))
    } else {
        format!("{} groups", groups.len())
    }
}

/// The filesystem ids, which the kernel uses for file access: set with
/// the effective ids by setresuid and setresgid, and checked on their own
/// (a kernel or LSM that kept them would leave root's file access).
fn check_filesystem_ids(plan: &Plan) -> Result<()> {
    let (fsuid, fsgid) = sys::filesystem_ids();
    for (kind, found, expected) in [("uid", fsuid, plan.uid), ("gid", fsgid, plan.gid)] {
        if found != expected {
            return Err(Error::Verification(format!(
                "filesystem {kind} is {found}, expected {expected}"
            )));
        }
    }
    Ok(())
}

/// Compare what the kernel reports with the plan.
pub fn check_credentials(plan: &Plan, now: &Credentials) -> Result<()> {
    check_ids("uid", now.uid, plan.uid)?;
    check_ids("gid", now.gid, plan.gid)?;
    if now.groups != plan.groups {
        return Err(Error::Verification(format!(
            "supplementary groups are {}, expected {}",
            format_list(&now.groups),
            format_list(&plan.groups)
        )));
    }
    Ok(())
}

fn check_caps(plan: &Plan) -> Result<()> {
    let now = sys::capget().map_err(|e| Error::syscall("capget", e))?;
    let wanted = planned_caps(plan, now);
    for (set, found, expected) in [
        ("permitted", now.permitted, wanted.permitted),
        ("effective", now.effective, wanted.effective),
        ("inheritable", now.inheritable, wanted.inheritable),
    ] {
        if found != expected {
            return Err(Error::Verification(format!(
                "{set} capability set is {found:#x}, expected {expected:#x}"
            )));
        }
    }
    // The kernel keeps the ambient set a subset of permitted ∩ inheritable,
    // both just proven to be --keep-caps (or empty): only the kept
    // capabilities can be ambient, and each of them must be.
    if plan.uid != 0 {
        for cap in caps::each(plan.process.keep_caps) {
            let set = sys::ambient_cap_is_set(cap)
                .map_err(|e| Error::syscall("prctl(PR_CAP_AMBIENT_IS_SET)", e))?;
            if !set {
                return Err(Error::Verification(format!(
                    "{} is not in the ambient set",
                    caps::name(cap)
                )));
            }
        }
    }
    let dropped = plan.process.bounding_drop;
    for cap in caps::each(dropped) {
        match sys::bounding_has(cap) {
            Ok(false) | Err(Errno::EINVAL) => {}
            Ok(true) => {
                return Err(Error::Verification(format!(
                    "{} is still in the bounding set",
                    caps::name(cap)
                )));
            }
            Err(e) => return Err(Error::syscall("prctl(PR_CAPBSET_READ)", e)),
        }
    }
    let wanted = plan.process.securebits;
    if wanted != Default::default() {
        let bits =
            sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
        if bits & wanted.set != wanted.set || bits & wanted.clear != 0 {
            return Err(Error::Verification(format!(
                "securebits are {bits:#x}, expected {:#x} set and {:#x} clear",
                wanted.set, wanted.clear
            )));
        }
    }
    Ok(())
}

/// A regain attempt must be refused with EPERM; success means the drop can
/// be undone, and any other error means the test proved nothing.
fn expect_refused(kind: &str, old: u32, outcome: nix::Result<()>) -> Result<()> {
    match outcome {
        Err(Errno::EPERM) => Ok(()),
        Ok(()) => Err(Error::Verification(format!(
            "the {kind} change can be undone: switching back to {kind} {old} succeeded"
        ))),
        Err(other) => Err(Error::Verification(format!(
            "switching back to {kind} {old} failed with {} instead of EPERM",
            crate::sys::errno_text(other)
        ))),
    }
}

/// The old ids to try to take back after the switch, each of which must
/// be refused with EPERM: only a caller that could change ids at will
/// (CAP_SETUID) had anything to give up, and root as the target can always
/// switch back, by design; a kept CAP_SETUID or CAP_SETGID makes the change
/// undoable on purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Regain {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

pub fn regain(plan: &Plan, before: &Credentials, caps_before: CapMasks) -> Regain {
    let keeps = |cap| caps::has(plan.process.keep_caps, cap);
    let caller_could_setuid = caps::has(caps_before.effective, caps::CAP_SETUID);
    if !caller_could_setuid || plan.uid == 0 {
        return Regain::default();
    }
    Regain {
        uid: (before.uid.effective != plan.uid && !keeps(caps::CAP_SETUID))
            .then_some(before.uid.effective),
        gid: (before.gid.effective != plan.gid && !keeps(caps::CAP_SETGID))
            .then_some(before.gid.effective),
    }
}

/// The session keyring, after keyctl(KEYCTL_JOIN_SESSION_KEYRING): the very
/// one it made (its serial), owned by the target; or, where it made none,
/// still no keyring any call can reach. The caller's keyring, still
/// possessed, would have another serial and describe as the caller's.
fn check_keyring(plan: &Plan, made: Option<transition::Keyring>) -> Result<()> {
    match made {
        None => Err(Error::Verification(
            "the new session keyring was never made".into(),
        )),
        Some(transition::Keyring::Joined(serial)) => {
            let now = sys::session_keyring_id().map_err(|e| {
                Error::syscall("keyctl(KEYCTL_GET_KEYRING_ID) of the session keyring", e)
            })?;
            if now != serial {
                return Err(Error::Verification(format!(
                    "the session keyring is {now}, not the new one ({serial})"
                )));
            }
            let owner = sys::session_keyring_owner()
                .map_err(|e| Error::syscall("keyctl(KEYCTL_DESCRIBE) of the session keyring", e))?;
            if owner != plan.uid {
                return Err(Error::Verification(format!(
                    "the session keyring is uid {owner}'s, expected uid {}'s",
                    plan.uid
                )));
            }
            Ok(())
        }
        Some(transition::Keyring::Unreachable) => {
            if transition::keyrings_unreachable() {
                Ok(())
            } else {
                Err(Error::Verification(
                    "no new session keyring was made, yet a keyring can be reached".into(),
                ))
            }
        }
    }
}

/// Everything verified before exec. `keyring`: the session keyring is to
/// be checked, and what it became. `lock` is a daemon's pidfile lock,
/// which --close-fds keeps.
pub fn verify(
    plan: &Plan,
    regain: Regain,
    keyring: Option<Option<transition::Keyring>>,
    lock: Option<RawFd>,
    promise: crate::sys::WholeProgram,
) -> Result<()> {
    check_credentials(plan, &read_credentials()?)?;
    check_filesystem_ids(plan)?;
    check_caps(plan)?;
    if let Some(made) = keyring {
        check_keyring(plan, made)?;
    }
    if let Some(old) = regain.uid {
        expect_refused("uid", old, transition::attempt_setresuid(old, promise))?;
    }
    if let Some(old) = regain.gid {
        expect_refused("gid", old, transition::attempt_setresgid(old, promise))?;
    }
    if regain != Regain::default() {
        // The ids must still be the planned ones after the attempts.
        check_credentials(plan, &read_credentials()?)?;
    }
    process::verify(plan, lock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            uid: 1500,
            gid: 1500,
            groups: vec![1500, 1700],
            env: Default::default(),
            process: Default::default(),
            branch: Default::default(),
        }
    }

    fn creds(uid: ResIds, gid: ResIds, groups: Vec<u32>) -> Credentials {
        Credentials { uid, gid, groups }
    }

    #[test]
    fn exact_credentials_pass() {
        let ok = creds(ResIds::all(1500), ResIds::all(1500), vec![1500, 1700]);
        assert!(check_credentials(&plan(), &ok).is_ok());
    }

    #[test]
    fn each_mismatch_is_named_with_found_and_expected() {
        let cases = [
            (
                creds(
                    ResIds {
                        saved: 0,
                        ..ResIds::all(1500)
                    },
                    ResIds::all(1500),
                    vec![1500, 1700],
                ),
                "saved uid is 0, expected 1500",
            ),
            (
                creds(
                    ResIds::all(1500),
                    ResIds {
                        effective: 0,
                        ..ResIds::all(1500)
                    },
                    vec![1500, 1700],
                ),
                "effective gid is 0, expected 1500",
            ),
            (
                creds(ResIds::all(1500), ResIds::all(1500), vec![0, 1500, 1700]),
                "supplementary groups are [0,1500,1700], expected [1500,1700]",
            ),
        ];
        for (found, message) in cases {
            let err = check_credentials(&plan(), &found).unwrap_err();
            assert_eq!(err.to_string(), format!("verification failed: {message}"));
            assert_eq!(err.exit_code(), 125);
        }
    }

    #[test]
    fn regain_must_fail_with_eperm_exactly() {
        assert!(expect_refused("uid", 0, Err(Errno::EPERM)).is_ok());
        let err = expect_refused("uid", 0, Ok(())).unwrap_err();
        assert!(err.to_string().contains("can be undone"));
        assert!(expect_refused("uid", 0, Err(Errno::EINVAL)).is_err());
    }
}
