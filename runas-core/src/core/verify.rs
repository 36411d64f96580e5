//! Proof, before exec, that the process is exactly what the plan says and
//! cannot return to what it was. Any failed check stops runas (exit 125);
//! the target never runs with credentials nobody checked.
//!
//! A set*id call can report success without doing the work (a buggy LSM, a
//! seccomp filter returning 0, a fault injector), so the only trustworthy
//! evidence is what the kernel reports afterwards.

use crate::base::error::{Error, Result};
use crate::core::call::{Arg, Call};
use crate::core::facts::{Credentials, read_caps, read_credentials};
use crate::core::plan::Plan;
use crate::core::transition::{self, Keyring, planned_caps};
use crate::request::caps::{Cap, Sets};
use crate::request::ids::{Gid, ResIds, Uid};
use crate::sys;
use nix::errno::Errno;
use std::fmt::Display;

fn check_ids<T: Copy + PartialEq + Display>(
    kind: &str,
    found: ResIds<T>,
    expected: T,
    unset: T,
) -> Result<()> {
    for (which, value) in [
        ("real", found.real),
        ("effective", found.effective),
        ("saved", found.saved),
    ] {
        if value == unset {
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

fn format_list(groups: &[Gid]) -> String {
    if groups.len() <= 16 {
        let items: Vec<String> = groups.iter().map(ToString::to_string).collect();
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
    for (kind, found, expected) in [
        ("uid", fsuid, plan.uid.raw()),
        ("gid", fsgid, plan.gid.raw()),
    ] {
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
    check_ids("uid", now.uid, plan.uid, Uid::new(sys::UNSET_ID))?;
    check_ids("gid", now.gid, plan.gid, Gid::new(sys::UNSET_ID))?;
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
    let now = read_caps()?;
    let wanted: Sets = planned_caps(plan, now);
    for (set, found, expected) in [
        ("permitted", now.permitted, wanted.permitted),
        ("effective", now.effective, wanted.effective),
        ("inheritable", now.inheritable, wanted.inheritable),
    ] {
        if found != expected {
            return Err(Error::Verification(format!(
                "{set} capability set is {:#x}, expected {:#x}",
                found.bits(),
                expected.bits()
            )));
        }
    }
    let p = &plan.privileges;
    // The kernel keeps the ambient set a subset of permitted ∩ inheritable,
    // both just proven to be --keep-caps (or empty): only the kept
    // capabilities can be ambient, and each of them must be.
    if plan.uid != Uid::ROOT {
        for cap in p.keep_caps.iter() {
            let set = sys::ambient_cap_is_set(cap.number())
                .map_err(|e| Error::syscall("prctl(PR_CAP_AMBIENT_IS_SET)", e))?;
            if !set {
                return Err(Error::Verification(format!(
                    "{} is not in the ambient set",
                    cap.name()
                )));
            }
        }
    }
    for cap in p.bounding_drop.iter() {
        match sys::bounding_has(cap.number()) {
            Ok(false) | Err(Errno::EINVAL) => {}
            Ok(true) => {
                return Err(Error::Verification(format!(
                    "{} is still in the bounding set",
                    cap.name()
                )));
            }
            Err(e) => return Err(Error::syscall("prctl(PR_CAPBSET_READ)", e)),
        }
    }
    let wanted = p.securebits;
    if !wanted.is_none() {
        let bits =
            sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
        if bits & wanted.set.bits() != wanted.set.bits() || bits & wanted.clear.bits() != 0 {
            return Err(Error::Verification(format!(
                "securebits are {bits:#x}, expected {:#x} set and {:#x} clear",
                wanted.set.bits(),
                wanted.clear.bits()
            )));
        }
    }
    if p.no_new_privs {
        let set = nix::sys::prctl::get_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_GET_NO_NEW_PRIVS)", e))?;
        if !set {
            return Err(Error::Verification("no_new_privs is not set".into()));
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
    pub uid: Option<Uid>,
    pub gid: Option<Gid>,
}

pub fn regain(plan: &Plan, before: &Credentials, caps_before: Sets) -> Regain {
    let keeps = |cap| plan.privileges.keep_caps.has(cap);
    if !caps_before.effective.has(Cap::SETUID) || plan.uid == Uid::ROOT {
        return Regain::default();
    }
    Regain {
        uid: (before.uid.effective != plan.uid && !keeps(Cap::SETUID))
            .then_some(before.uid.effective),
        gid: (before.gid.effective != plan.gid && !keeps(Cap::SETGID))
            .then_some(before.gid.effective),
    }
}

/// What the proof checks, beyond the plan itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub regain: Regain,
    /// The session keyring must be the target's own.
    pub keyring: bool,
    /// The prctl reads the plan's privileges need.
    reads: Vec<Call>,
}

impl Proof {
    pub fn new(plan: &Plan, before: &Credentials, caps_before: Sets, keyring: bool) -> Proof {
        let p = &plan.privileges;
        let read = |args: Vec<Arg>| Call::new("prctl", args);
        let mut reads = Vec::new();
        if plan.uid != Uid::ROOT {
            for cap in p.keep_caps.iter() {
                reads.push(read(vec![
                    Arg::name("PR_CAP_AMBIENT"),
                    Arg::name("PR_CAP_AMBIENT_IS_SET"),
                    Arg::name(cap.name()),
                ]));
            }
        }
        for cap in p.bounding_drop.iter() {
            reads.push(read(vec![
                Arg::name("PR_CAPBSET_READ"),
                Arg::name(cap.name()),
            ]));
        }
        if !p.securebits.is_none() {
            reads.push(read(vec![Arg::name("PR_GET_SECUREBITS")]));
        }
        if p.no_new_privs {
            reads.push(read(vec![Arg::name("PR_GET_NO_NEW_PRIVS")]));
        }
        Proof {
            regain: regain(plan, before, caps_before),
            keyring,
            reads,
        }
    }

    /// Its system calls: the read-backs and the attempts to regain.
    pub fn calls(&self) -> Vec<Call> {
        let none = |name: &'static str| Call::new(name, Vec::new());
        let mut calls = vec![
            none("getresuid"),
            none("getresgid"),
            none("getgroups"),
            Call::new("setfsuid", vec![Arg::Num(-1)]),
            Call::new("setfsgid", vec![Arg::Num(-1)]),
            none("capget"),
        ];
        calls.extend(self.reads.iter().cloned());
        if self.keyring {
            calls.push(Call::new(
                "keyctl",
                vec![
                    Arg::name("KEYCTL_GET_KEYRING_ID"),
                    Arg::name("KEY_SPEC_SESSION_KEYRING"),
                ],
            ));
            calls.push(Call::new(
                "keyctl",
                vec![
                    Arg::name("KEYCTL_DESCRIBE"),
                    Arg::name("KEY_SPEC_SESSION_KEYRING"),
                ],
            ));
        }
        if let Some(uid) = self.regain.uid {
            calls
                .push(Call::new("setresuid", vec![Arg::Num(uid.raw().into()); 3]).failing("EPERM"));
        }
        if let Some(gid) = self.regain.gid {
            calls
                .push(Call::new("setresgid", vec![Arg::Num(gid.raw().into()); 3]).failing("EPERM"));
        }
        calls
    }

    pub fn note(&self) -> String {
        let mut note = String::from("the ids, groups and capability sets equal the plan");
        if self.keyring {
            note.push_str(", the session keyring is the target's own");
        }
        if self.regain != Regain::default() {
            note.push_str(", and the old ids cannot be taken back");
        }
        note
    }
}

/// The session keyring, after keyctl(KEYCTL_JOIN_SESSION_KEYRING): the very
/// one it made (its serial), owned by the target; or, where it made none,
/// still no keyring any call can reach. The caller's keyring, still
/// possessed, would have another serial and describe as the caller's.
fn check_keyring(plan: &Plan, made: Option<Keyring>) -> Result<()> {
    match made {
        None => Err(Error::Verification(
            "the new session keyring was never made".into(),
        )),
        Some(Keyring::Joined(serial)) => {
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
            if owner != plan.uid.raw() {
                return Err(Error::Verification(format!(
                    "the session keyring is uid {owner}'s, expected uid {}'s",
                    plan.uid
                )));
            }
            Ok(())
        }
        Some(Keyring::Unreachable) => {
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

/// Everything the core verifies before exec: what `proof` lists, with
/// `keyring` what the session keyring became.
pub fn verify(plan: &Plan, proof: &Proof, keyring: Option<Keyring>) -> Result<()> {
    check_credentials(plan, &read_credentials(plan.groups.len())?)?;
    check_filesystem_ids(plan)?;
    check_caps(plan)?;
    if proof.keyring {
        check_keyring(plan, keyring)?;
    }
    if let Some(old) = proof.regain.uid {
        expect_refused("uid", old.raw(), transition::attempt_setresuid(old))?;
    }
    if let Some(old) = proof.regain.gid {
        expect_refused("gid", old.raw(), transition::attempt_setresgid(old))?;
    }
    if proof.regain != Regain::default() {
        // The ids must still be the planned ones after the attempts.
        check_credentials(plan, &read_credentials(plan.groups.len())?)?;
    }
    Ok(())
}

/// What a forked child proves before exec (`in_child`): the same proof
/// as [`verify`], prepared before the fork so that the child allocates
/// nothing and formats nothing. The expectations come from the plan and the
/// list of changes, as the launcher's do.
#[derive(Debug, Clone)]
pub struct ChildProof {
    uid: u32,
    gid: u32,
    /// Sorted, without duplicates, as the plan holds them.
    groups: Vec<u32>,
    /// Room for the groups the kernel reports, and one more (a list longer
    /// than planned then fails to fit: EINVAL).
    scratch: Vec<u32>,
    caps: Sets,
    ambient: crate::request::caps::CapSet,
    bounding_drop: crate::request::caps::CapSet,
    no_new_privs: bool,
    regain: Regain,
    keyring: bool,
}

/// What a child whose proof failed reports: the spawn fails with this
/// errno (ENOTRECOVERABLE, "State not recoverable"), and the command never
/// runs. A failing system call reports its own errno instead.
pub const CHILD_MISMATCH: Errno = Errno::ENOTRECOVERABLE;

impl ChildProof {
    /// `caps`: the sets the changes give the process (their capset). A
    /// plan with securebits is refused: no `Target` asks for them (only
    /// the launcher's --securebits does, proved by [`verify`]), so the
    /// child's proof has no check for them.
    pub fn new(plan: &Plan, proof: &Proof, caps: Sets) -> Result<ChildProof> {
        let p = &plan.privileges;
        if !p.securebits.is_none() {
            return Err(Error::Usage(
                "securebits cannot be set in a child (Switch::command)".into(),
            ));
        }
        let groups: Vec<u32> = plan.groups.iter().map(|g| g.raw()).collect();
        Ok(ChildProof {
            uid: plan.uid.raw(),
            gid: plan.gid.raw(),
            scratch: vec![sys::UNSET_ID; groups.len() + 1],
            groups,
            caps,
            ambient: if plan.uid == Uid::ROOT {
                crate::request::caps::CapSet::EMPTY
            } else {
                p.keep_caps
            },
            bounding_drop: p.bounding_drop,
            no_new_privs: p.no_new_privs,
            regain: proof.regain,
            keyring: proof.keyring,
        })
    }
}

/// The ids, read back: each of real, effective and saved must be `uid` and
/// `gid`.
fn child_ids(uid: u32, gid: u32) -> std::result::Result<(), Errno> {
    let u = nix::unistd::getresuid()?;
    let g = nix::unistd::getresgid()?;
    let same = [u.real, u.effective, u.saved]
        .iter()
        .all(|id| id.as_raw() == uid)
        && [g.real, g.effective, g.saved]
            .iter()
            .all(|id| id.as_raw() == gid);
    if same { Ok(()) } else { Err(CHILD_MISMATCH) }
}

/// The proof in a forked child, before exec (see [`ChildProof`]); `keyring`:
/// the serial of the session keyring the changes made, if they made one.
pub fn in_child(proof: &mut ChildProof, keyring: Option<i64>) -> std::result::Result<(), Errno> {
    let mismatch = |ok: bool| if ok { Ok(()) } else { Err(CHILD_MISMATCH) };
    child_ids(proof.uid, proof.gid)?;
    // Filled with an id no plan holds, before each read: a getgroups that
    // reports a count without writing the list then reads as no plan's.
    proof.scratch.fill(sys::UNSET_ID);
    let n = match sys::getgroups_into(&mut proof.scratch) {
        Ok(n) => n,
        Err(Errno::EINVAL) => return Err(CHILD_MISMATCH),
        Err(e) => return Err(e),
    };
    let found = &mut proof.scratch[..n];
    found.sort_unstable();
    let mut kept = 0;
    for i in 0..found.len() {
        if i == 0 || found[i] != found[kept - 1] {
            found[kept] = found[i];
            kept += 1;
        }
    }
    mismatch(found[..kept] == proof.groups[..])?;
    mismatch(sys::filesystem_ids() == (proof.uid, proof.gid))?;
    let raw = sys::capget()?;
    mismatch(Sets::from_raw(raw.effective, raw.permitted, raw.inheritable) == proof.caps)?;
    for cap in proof.ambient.iter() {
        mismatch(sys::ambient_cap_is_set(cap.number())?)?;
    }
    for cap in proof.bounding_drop.iter() {
        match sys::bounding_has(cap.number()) {
            Ok(false) | Err(Errno::EINVAL) => {}
            Ok(true) => return Err(CHILD_MISMATCH),
            Err(e) => return Err(e),
        }
    }
    if proof.no_new_privs {
        mismatch(nix::sys::prctl::get_no_new_privs()?)?;
    }
    if proof.keyring {
        match keyring {
            Some(serial) => {
                mismatch(sys::session_keyring_id()? == serial)?;
                mismatch(sys::session_keyring_owner()? == proof.uid)?;
            }
            None => mismatch(transition::keyrings_unreachable())?,
        }
    }
    if let Some(old) = proof.regain.uid {
        mismatch(transition::attempt_setresuid(old) == Err(Errno::EPERM))?;
    }
    if let Some(old) = proof.regain.gid {
        mismatch(transition::attempt_setresgid(old) == Err(Errno::EPERM))?;
    }
    child_ids(proof.uid, proof.gid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ids::ResIds;

    fn plan() -> Plan {
        crate::testing::plan_of(1500, 1500, &[1500, 1700])
    }

    fn ids(real: u32, effective: u32, saved: u32) -> ResIds<u32> {
        ResIds {
            real,
            effective,
            saved,
        }
    }

    fn creds(uid: ResIds<u32>, gid: ResIds<u32>, groups: Vec<u32>) -> Credentials {
        Credentials {
            uid: ResIds {
                real: Uid::new(uid.real),
                effective: Uid::new(uid.effective),
                saved: Uid::new(uid.saved),
            },
            gid: ResIds {
                real: Gid::new(gid.real),
                effective: Gid::new(gid.effective),
                saved: Gid::new(gid.saved),
            },
            groups: groups.into_iter().map(Gid::new).collect(),
        }
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
                creds(ids(1500, 1500, 0), ResIds::all(1500), vec![1500, 1700]),
                "saved uid is 0, expected 1500",
            ),
            (
                creds(ResIds::all(1500), ids(1500, 0, 1500), vec![1500, 1700]),
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
