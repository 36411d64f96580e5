//! The only module that changes credentials: the ids, the supplementary
//! groups, the capability sets, the bounding set, securebits, no_new_privs
//! and the session keyring (a new session's waiting parent drops what it
//! does not need through here too).
//!
//! Order matters and is fixed: the bounding set and securebits (they need
//! CAP_SETPCAP, which a non-root target loses at setresuid), supplementary
//! groups, then gids, then uids (setgroups and setresgid need privilege
//! that setresuid gives up), then the session keyring and the capability
//! sets. Every call is checked; a call is skipped only when the kernel
//! already holds exactly the planned value, which is what lets a non-root
//! caller with nothing to change run, and what keeps runas working in a
//! user namespace where setgroups is denied but the list is unchanged.

use crate::base::error::{Error, Result};
use crate::core::call::{Arg, Call};
use crate::core::facts::Credentials;
use crate::core::plan::Plan;
use crate::request::Rules;
use crate::request::caps::{Cap, CapSet, Sets};
use crate::request::ids::{Gid, ResIds, Uid};
use crate::request::securebits::Securebits;
use crate::sys;
use nix::errno::Errno;

/// What to do about a missing capability, for the message: root that
/// lacks it was started without it (a container with --cap-drop), and is
/// told how to give it back or not to need it; anyone else is told to run
/// as root (in gosu's and su-exec's modes, without naming runas options
/// their command line does not have).
fn fix_for(before: &Credentials, caps: &str, rules: Rules, runas_fix: &str) -> String {
    let compat = rules != Rules::Runas;
    if before.uid.effective == Uid::ROOT {
        // Starting as the target user instead is advice only for the
        // identity switch: what CAP_SETPCAP is for (--bounding-set,
        // --securebits) would then not be applied at all.
        let without = if caps.contains("CAP_SETPCAP") {
            ""
        } else if compat {
            ", or start the container as the target user"
        } else {
            ", or start the container as the target user (--user), where runas --if-root runs the command as it is"
        };
        format!(
            "this process is root but was started without {caps} (a container run with --cap-drop=ALL?): add {} back (podman or docker run --cap-add={}){without}",
            if caps.contains(" and ") { "them" } else { "it" },
            caps.replace("CAP_", "").replace(" and ", ",")
        )
    } else if compat || runas_fix.is_empty() {
        "run it as root".into()
    } else {
        format!("run runas as root{runas_fix}")
    }
}

/// Refuse before the first change when the caller cannot make all of them,
/// so a missing privilege is named instead of surfacing as a bare EPERM
/// halfway through.
pub fn check_privilege(plan: &Plan, before: &Credentials, caps: Sets) -> Result<()> {
    let rules = plan.branch.rules;
    let can = |cap| caps.effective.has(cap);
    // Name only what is missing of the two a switch needs.
    let setid = match (can(Cap::SETUID), can(Cap::SETGID)) {
        (false, false) => "CAP_SETUID and CAP_SETGID",
        (false, true) => "CAP_SETUID",
        _ => "CAP_SETGID",
    };
    // Without CAP_SETUID the kernel lets setresuid pick only among the
    // current real, effective and saved ids; likewise for gids.
    if before.uid != ResIds::all(plan.uid) && !before.uid.contains(plan.uid) && !can(Cap::SETUID) {
        return Err(Error::NotPermitted(format!(
            "switching to uid {} needs CAP_SETUID, which this process (uid {}) does not have: {}",
            plan.uid,
            before.uid.effective,
            fix_for(before, setid, rules, "")
        )));
    }
    if before.gid != ResIds::all(plan.gid) && !before.gid.contains(plan.gid) && !can(Cap::SETGID) {
        return Err(Error::NotPermitted(format!(
            "switching to gid {} needs CAP_SETGID, which this process (uid {}) does not have: {}",
            plan.gid,
            before.uid.effective,
            fix_for(
                before,
                setid,
                rules,
                "; to switch to a group you already hold without root, install runas with 'setcap cap_setgid=ep' (newgrp mode, see runas(1))"
            )
        )));
    }
    let p = &plan.privileges;
    if (!p.bounding_drop.is_empty() || !p.securebits.is_none()) && !can(Cap::SETPCAP) {
        return Err(Error::NotPermitted(format!(
            "--bounding-set and --securebits need CAP_SETPCAP, which this process (uid {}) does not have: {}",
            before.uid.effective,
            fix_for(before, "CAP_SETPCAP", rules, "")
        )));
    }
    let missing = p.keep_caps & !caps.permitted;
    if !missing.is_empty() {
        return Err(Error::NotPermitted(format!(
            "cannot keep {}: this process does not hold it (not in its permitted set)",
            missing.describe()
        )));
    }
    if before.groups != plan.groups && !can(Cap::SETGID) {
        return Err(Error::NotPermitted(format!(
            "changing the supplementary groups needs CAP_SETGID, which this process (uid {}) does not have: {}",
            before.uid.effective,
            fix_for(before, setid, rules, ", or add --keep-groups")
        )));
    }
    Ok(())
}

/// Whether `id` is mapped by a /proc/self/{uid,gid}_map text ("inside
/// outside count" lines). In the initial namespace the map is "0 0 4294967295".
pub fn id_is_mapped(map: &str, id: u32) -> bool {
    map.lines().any(|line| {
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        match (fields.next(), fields.next(), fields.next()) {
            (Some(Ok(inside)), Some(Ok(_)), Some(Ok(count))) => {
                (inside..inside.saturating_add(count)).contains(&u64::from(id))
            }
            _ => false,
        }
    })
}

/// In a user namespace, ids outside its maps cannot be set (EINVAL), and
/// setgroups may be denied outright. Say which, naming the file to look at.
/// Where /proc is not mounted this cannot be known; the calls' own checked
/// errors then stand.
///
/// --dry-run asks before any change. A real run asks only once a credential
/// call has failed: the first access to /proc/self costs a new process about
/// 25 us here (the kernel builds its /proc entries), a fifth of a whole
/// launch, and a failed call stops runas before the target runs either way.
pub fn check_namespace(plan: &Plan, before: &Credentials) -> Result<()> {
    let read = |file: &str| std::fs::read_to_string(format!("/proc/self/{file}")).ok();
    let unmapped = |kind: &str, file: &str, id: u32| {
        Error::NotPermitted(format!(
            "{kind} {id} is not mapped in this user namespace (see /proc/self/{file})"
        ))
    };
    if let Some(map) = read("uid_map")
        && !id_is_mapped(&map, plan.uid.raw())
    {
        return Err(unmapped("uid", "uid_map", plan.uid.raw()));
    }
    if let Some(map) = read("gid_map") {
        if !id_is_mapped(&map, plan.gid.raw()) {
            return Err(unmapped("gid", "gid_map", plan.gid.raw()));
        }
        if before.groups != plan.groups
            && let Some(gid) = plan.groups.iter().find(|g| !id_is_mapped(&map, g.raw()))
        {
            return Err(unmapped("supplementary gid", "gid_map", gid.raw()));
        }
    }
    if before.groups != plan.groups && setgroups_denied() {
        return Err(Error::NotPermitted(
            "setgroups is denied in this user namespace (/proc/self/setgroups is \"deny\"), so the supplementary groups cannot change: add --keep-groups".into(),
        ));
    }
    Ok(())
}

/// The capability sets the target must start with. A target other than
/// root gets exactly --keep-caps (usually nothing) in every set, the ambient
/// one included, so the capabilities survive its execve; root keeps its
/// permitted and effective sets. Inheritable is otherwise cleared: whatever
/// the caller's parent put there must not leak into the target (and
/// clearing it clears the ambient set too, which the kernel keeps a subset
/// of permitted ∩ inheritable).
pub fn planned_caps(plan: &Plan, now: Sets) -> Sets {
    if plan.uid == Uid::ROOT {
        Sets {
            inheritable: CapSet::EMPTY,
            ..now
        }
    } else {
        let keep = plan.privileges.keep_caps;
        Sets {
            effective: keep,
            permitted: keep,
            inheritable: keep,
        }
    }
}

/// One credential change, in the order [`changes`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Remove these capabilities from the bounding set: the ones asked for
    /// that it holds now.
    DropBounding(CapSet),
    /// PR_SET_KEEPCAPS: keep the permitted set across setresuid (--keep-caps).
    KeepCaps,
    SetSecurebits(Securebits),
    SetGroups(Vec<Gid>),
    SetResGid(Gid),
    SetResUid(Uid),
    /// A session keyring of the target's own, after setresuid (it is
    /// owned by the process's uid when made), so it keeps no key of the
    /// caller's session (systemd's KeyringMode=private).
    NewSessionKeyring,
    ClearAmbient,
    Capset(Sets),
    RaiseAmbient(Cap),
    /// no_new_privs: no privilege gained through execve, by the target or
    /// its children.
    NoNewPrivs,
}

fn prctl(args: &[&str]) -> Call {
    Call::new("prctl", args.iter().map(|a| Arg::name(*a)).collect())
}

impl Change {
    /// Its system calls, with their arguments.
    pub fn calls(&self) -> Vec<Call> {
        let ids = |id: u32| vec![Arg::Num(id.into()); 3];
        match self {
            Change::DropBounding(set) => set
                .iter()
                .map(|cap| {
                    Call::new(
                        "prctl",
                        vec![Arg::name("PR_CAPBSET_DROP"), Arg::name(cap.name())],
                    )
                })
                .collect(),
            Change::KeepCaps => vec![Call::new(
                "prctl",
                vec![Arg::name("PR_SET_KEEPCAPS"), Arg::Num(1)],
            )],
            Change::SetSecurebits(bits) => vec![Call::new(
                "prctl",
                vec![Arg::name("PR_SET_SECUREBITS"), Arg::name(bits.c_names())],
            )],
            Change::SetGroups(groups) => vec![Call::new(
                "setgroups",
                vec![Arg::List(groups.iter().map(|g| g.raw()).collect())],
            )],
            Change::SetResGid(gid) => vec![Call::new("setresgid", ids(gid.raw()))],
            Change::SetResUid(uid) => vec![Call::new("setresuid", ids(uid.raw()))],
            Change::NewSessionKeyring => vec![Call::new(
                "keyctl",
                vec![Arg::name("KEYCTL_JOIN_SESSION_KEYRING"), Arg::name("NULL")],
            )],
            Change::ClearAmbient => vec![prctl(&["PR_CAP_AMBIENT", "PR_CAP_AMBIENT_CLEAR_ALL"])],
            Change::Capset(sets) => vec![capset_call(*sets)],
            Change::RaiseAmbient(cap) => vec![Call::new(
                "prctl",
                vec![
                    Arg::name("PR_CAP_AMBIENT"),
                    Arg::name("PR_CAP_AMBIENT_RAISE"),
                    Arg::name(cap.name()),
                ],
            )],
            Change::NoNewPrivs => vec![Call::new(
                "prctl",
                vec![Arg::name("PR_SET_NO_NEW_PRIVS"), Arg::Num(1)],
            )],
        }
    }
}

fn capset_call(sets: Sets) -> Call {
    Call::new(
        "capset",
        vec![
            Arg::field("effective", Arg::Hex(sets.effective.bits())),
            Arg::field("permitted", Arg::Hex(sets.permitted.bits())),
            Arg::field("inheritable", Arg::Hex(sets.inheritable.bits())),
        ],
    )
}

/// The credential changes the plan needs, in order, given the state before
/// (its securebits and, for --bounding-set, its bounding set). Both the real
/// run and --dry-run use this list, so the dry run shows exactly what would
/// be done.
pub fn changes(
    plan: &Plan,
    before: &Credentials,
    caps_before: Sets,
    securebits: Securebits,
    bounding: CapSet,
) -> Vec<Change> {
    let p = &plan.privileges;
    let mut changes = Vec::new();
    let drop = p.bounding_drop & bounding;
    if !drop.is_empty() {
        changes.push(Change::DropBounding(drop));
    }
    let keep_caps = !p.keep_caps.is_empty();
    if !p.securebits.is_none() {
        let mut wanted = p.securebits.applied_to(securebits);
        if keep_caps {
            wanted = wanted | Securebits::KEEP_CAPS;
        }
        if wanted != securebits {
            changes.push(Change::SetSecurebits(wanted));
        }
    } else if keep_caps && !securebits.contains(Securebits::KEEP_CAPS) {
        changes.push(Change::KeepCaps);
    }
    if before.groups != plan.groups {
        changes.push(Change::SetGroups(plan.groups.clone()));
    }
    if before.gid != ResIds::all(plan.gid) {
        changes.push(Change::SetResGid(plan.gid));
    }
    if before.uid != ResIds::all(plan.uid) {
        changes.push(Change::SetResUid(plan.uid));
        if !p.keep_keyring {
            changes.push(Change::NewSessionKeyring);
        }
    }
    // Securebits a parent set (SECBIT_NO_SETUID_FIXUP) can keep capabilities
    // across setresuid; never rely on the kernel's automatic clearing: set
    // the sets explicitly, always.
    changes.push(Change::ClearAmbient);
    changes.push(Change::Capset(planned_caps(plan, caps_before)));
    if plan.uid != Uid::ROOT {
        changes.extend(p.keep_caps.iter().map(Change::RaiseAmbient));
    }
    if p.no_new_privs {
        changes.push(Change::NoNewPrivs);
    }
    changes
}

/// What the session keyring became, once `Change::NewSessionKeyring` ran:
/// verification checks exactly that (verify.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyring {
    /// A new one, with this serial number.
    Joined(i64),
    /// None can be reached at all (see `keyrings_unreachable`).
    Unreachable,
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL), or where keyrings cannot be
/// reached at all, nothing (see `keyrings_unreachable`).
fn join_session_keyring() -> Result<Keyring> {
    match sys::join_new_session_keyring() {
        Ok(serial) => Ok(Keyring::Joined(serial)),
        Err(Errno::ENOSYS | Errno::EPERM) if keyrings_unreachable() => Ok(Keyring::Unreachable),
        Err(errno) => Err(Error::Syscall {
            call: format!(
                "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) (a session keyring of the target's own{})",
                match errno {
                    Errno::EDQUOT => ": the target user's key quota is full, see /proc/key-users",
                    Errno::EPERM | Errno::EACCES | Errno::ENOSYS => {
                        ": refused, while keyrings can still be reached"
                    }
                    _ => "",
                }
            ),
            errno,
        }),
    }
}

/// Whether no keyring can be reached at all (the join being refused): a
/// kernel without keyrings (ENOSYS), or a seccomp filter that refuses
/// keyctl, add_key and request_key (Docker's default profile, with EPERM),
/// which the target inherits. Then there is no keyring to leave behind and
/// none to make, and runas must still start. Anything else is a failure: a
/// filter that refuses only some operations leaves the caller's session
/// keyring reachable (add_key would update a key in it), so each of the
/// three calls is tried, the session keyring asked for by id and the other
/// two with no arguments (EFAULT where they are allowed).
pub fn keyrings_unreachable() -> bool {
    let refused = |outcome: std::result::Result<i64, Errno>| {
        matches!(outcome, Err(Errno::ENOSYS | Errno::EPERM))
    };
    refused(sys::session_keyring_id())
        && refused(sys::add_key_probe())
        && refused(sys::request_key_probe())
}

/// Drop the capabilities of the set from the bounding set, each checked.
fn drop_bounding(set: CapSet) -> Result<()> {
    for cap in set.iter() {
        sys::bounding_drop(cap.number())
            .map_err(|e| Error::syscall(format!("prctl(PR_CAPBSET_DROP, {})", cap.name()), e))?;
    }
    Ok(())
}

fn apply(change: &Change) -> Result<Option<Keyring>> {
    let call = || {
        change
            .calls()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match change {
        Change::DropBounding(set) => drop_bounding(*set)?,
        Change::KeepCaps => {
            nix::sys::prctl::set_keepcaps(true).map_err(|e| Error::syscall(call(), e))?;
        }
        Change::SetSecurebits(bits) => {
            sys::set_securebits(bits.bits()).map_err(|e| Error::syscall(call(), e))?;
        }
        Change::SetGroups(groups) => {
            let raw: Vec<u32> = groups.iter().map(|g| g.raw()).collect();
            sys::set_groups(&raw).map_err(|e| setgroups_error(groups, e))?;
        }
        Change::SetResGid(gid) => {
            sys::set_resgid(gid.raw()).map_err(|e| id_error("setresgid", gid.raw(), "gid", e))?
        }
        Change::SetResUid(uid) => {
            sys::set_resuid(uid.raw()).map_err(|e| id_error("setresuid", uid.raw(), "uid", e))?
        }
        Change::NewSessionKeyring => return join_session_keyring().map(Some),
        Change::ClearAmbient => sys::clear_ambient_caps()
            .map_err(|e| Error::syscall("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", e))?,
        Change::Capset(sets) => set_caps(*sets)?,
        Change::RaiseAmbient(cap) => sys::raise_ambient_cap(cap.number()).map_err(|e| {
            Error::syscall(format!("prctl(PR_CAP_AMBIENT_RAISE, {})", cap.name()), e)
        })?,
        Change::NoNewPrivs => nix::sys::prctl::set_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_SET_NO_NEW_PRIVS)", e))?,
    }
    Ok(None)
}

fn set_caps(sets: Sets) -> Result<()> {
    sys::capset(sys::CapMasks {
        effective: sets.effective.bits(),
        permitted: sets.permitted.bits(),
        inheritable: sets.inheritable.bits(),
    })
    .map_err(|e| Error::syscall("capset", e))
}

/// Make one change; for the new session keyring, what it became. A
/// failure inside a user namespace is best explained by its maps: they are
/// read only then (the first access to /proc/self costs a new process
/// about 25 us).
pub fn execute(change: &Change, plan: &Plan, before: &Credentials) -> Result<Option<Keyring>> {
    apply(change).map_err(|failure| match check_namespace(plan, before) {
        Err(explained) => explained,
        Ok(()) => failure,
    })
}

/// A waiting parent (a new session's, options/session.rs) keeps no
/// capability but `keep` of those it holds, and none inheritable or
/// ambient: its own credential change, made here like every other.
pub fn drop_to(keep: CapSet) -> Result<()> {
    let now = crate::core::facts::read_caps()?;
    let keep = keep & now.permitted;
    set_caps(Sets {
        effective: keep,
        permitted: keep,
        inheritable: CapSet::EMPTY,
    })?;
    sys::clear_ambient_caps().map_err(|e| Error::syscall("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", e))
}

/// The calls of [`drop_to`], for the step that makes a waiting parent.
pub fn drop_to_calls(keep: CapSet) -> Vec<Call> {
    vec![
        Call::new("capget", Vec::new()),
        capset_call(Sets {
            effective: keep,
            permitted: keep,
            inheritable: CapSet::EMPTY,
        }),
        prctl(&["PR_CAP_AMBIENT", "PR_CAP_AMBIENT_CLEAR_ALL"]),
    ]
}

/// Read the securebits when the changes depend on them (--securebits,
/// --keep-caps); otherwise none, and no system call.
pub fn read_securebits(plan: &Plan) -> Result<Securebits> {
    let p = &plan.privileges;
    if p.securebits.is_none() && p.keep_caps.is_empty() {
        return Ok(Securebits::NONE);
    }
    sys::get_securebits()
        .map(Securebits::from_bits)
        .map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))
}

/// The capabilities of --bounding-set still in the bounding set, read
/// capability by capability (none of those past the last one this kernel
/// has, where PR_CAPBSET_READ answers EINVAL); no system call without it.
pub fn read_bounding(plan: &Plan) -> Result<CapSet> {
    let mut held = CapSet::EMPTY;
    for cap in plan.privileges.bounding_drop.iter() {
        match sys::bounding_has(cap.number()) {
            Ok(true) => held = held.with(cap),
            Ok(false) => {}
            Err(Errno::EINVAL) => break,
            Err(e) => return Err(Error::syscall("prctl(PR_CAPBSET_READ)", e)),
        }
    }
    Ok(held)
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn setgroups_error(groups: &[Gid], errno: Errno) -> Error {
    // (EPERM where /proc/self/setgroups says "deny" never reaches here:
    // check_namespace explains every failure first, in those words.)
    let hint = match errno {
        Errno::EINVAL => {
            " (more groups than the kernel allows, or a gid not mapped in this user namespace: see /proc/self/gid_map)"
        }
        _ => "",
    };
    // The list itself only when it is short.
    let call = if groups.len() <= 8 {
        let list: Vec<String> = groups.iter().map(ToString::to_string).collect();
        format!("setgroups({})", list.join(","))
    } else {
        format!("setgroups({} groups)", groups.len())
    };
    Error::Syscall {
        call: format!("{call}{hint}"),
        errno,
    }
}

fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn id_error(call: &str, id: u32, kind: &str, errno: Errno) -> Error {
    let hint = match errno {
        // setres[ug]id fails with EINVAL for an id outside this namespace's map.
        Errno::EINVAL => format!(
            " ({kind} {id} is not mapped in this user namespace: see /proc/self/{kind}_map)"
        ),
        Errno::EAGAIN => format!(" (the target {kind} has reached RLIMIT_NPROC)"),
        _ => String::new(),
    };
    Error::Syscall {
        call: format!("{call}({id}){hint}"),
        errno,
    }
}

/// Make one change in a forked child, before exec: the same change as
/// [`execute`], by the plain system calls (`groups`: the list of a
/// `SetGroups`, as the kernel takes it, prepared before the fork). Allocates
/// nothing and formats nothing: the caller reports the errno. For the
/// session keyring, the new keyring's serial.
pub fn make_in_child(change: &Change, groups: &[u32]) -> std::result::Result<Option<i64>, Errno> {
    match change {
        Change::DropBounding(set) => {
            for cap in set.iter() {
                sys::bounding_drop(cap.number())?;
            }
        }
        Change::KeepCaps => nix::sys::prctl::set_keepcaps(true)?,
        Change::SetSecurebits(bits) => sys::set_securebits(bits.bits())?,
        Change::SetGroups(_) => sys::child_setgroups(groups)?,
        Change::SetResGid(gid) => sys::child_setresgid(gid.raw())?,
        Change::SetResUid(uid) => sys::child_setresuid(uid.raw())?,
        Change::NewSessionKeyring => return sys::join_new_session_keyring().map(Some),
        Change::ClearAmbient => sys::clear_ambient_caps()?,
        Change::Capset(sets) => sys::capset(sys::CapMasks {
            effective: sets.effective.bits(),
            permitted: sets.permitted.bits(),
            inheritable: sets.inheritable.bits(),
        })?,
        Change::RaiseAmbient(cap) => sys::raise_ambient_cap(cap.number())?,
        Change::NoNewPrivs => nix::sys::prctl::set_no_new_privs()?,
    }
    Ok(None)
}

/// Try to take back an old uid. Verification calls this after the drop and
/// requires it to fail with EPERM (sys::probe_setresuid: a question to the
/// kernel about this thread).
pub fn attempt_setresuid(uid: Uid) -> nix::Result<()> {
    sys::probe_setresuid(uid.raw())
}

/// Try to take back an old gid; must fail with EPERM after a drop.
pub fn attempt_setresgid(gid: Gid) -> nix::Result<()> {
    sys::probe_setresgid(gid.raw())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{caller, plan_of};

    fn sets(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> Sets {
        Sets {
            effective,
            permitted,
            inheritable,
        }
    }

    fn none() -> Sets {
        sets(CapSet::EMPTY, CapSet::EMPTY, CapSet::EMPTY)
    }

    #[test]
    fn unprivileged_caller_may_only_keep_what_it_has() {
        let me = caller(1500, 1500, &[1500, 1700]);
        assert!(check_privilege(&plan_of(1500, 1500, &[1500, 1700]), &me, none()).is_ok());
        let err = check_privilege(&plan_of(0, 1500, &[1500, 1700]), &me, none()).unwrap_err();
        assert!(err.to_string().contains("CAP_SETUID"), "{err}");
        let err = check_privilege(&plan_of(1500, 1700, &[1500, 1700]), &me, none()).unwrap_err();
        assert!(err.to_string().contains("CAP_SETGID"), "{err}");
        let err = check_privilege(&plan_of(1500, 1500, &[]), &me, none()).unwrap_err();
        assert!(err.to_string().contains("CAP_SETGID"), "{err}");
    }

    #[test]
    fn capabilities_allow_any_change() {
        let setid = CapSet::of(Cap::SETUID).with(Cap::SETGID);
        let root = caller(0, 0, &[0]);
        let target = plan_of(1, 2, &[3]);
        assert!(check_privilege(&target, &root, sets(setid, CapSet::EMPTY, CapSet::EMPTY)).is_ok());
        let only_setgid = sets(CapSet::of(Cap::SETGID), CapSet::EMPTY, CapSet::EMPTY);
        assert!(check_privilege(&target, &root, only_setgid).is_err());
        let mut bounding = target.clone();
        bounding.privileges.bounding_drop = CapSet::of(Cap::SYS_ADMIN);
        let err = check_privilege(&bounding, &root, sets(setid, setid, CapSet::EMPTY)).unwrap_err();
        assert!(err.to_string().contains("CAP_SETPCAP"), "{err}");
    }

    #[test]
    fn non_root_target_gets_no_capabilities_root_keeps_its_own_but_no_inheritable() {
        let all = CapSet::from_bits(u64::MAX >> 23);
        let full = sets(all, all, CapSet::of(Cap::new(13).unwrap()));
        assert_eq!(planned_caps(&plan_of(1500, 1500, &[]), full), none());
        let root = planned_caps(&plan_of(0, 0, &[]), full);
        assert!(root.inheritable.is_empty());
        assert_eq!(root.permitted, full.permitted);
    }

    #[test]
    fn kept_capabilities_fill_every_set_of_a_non_root_target() {
        let net_bind_service = CapSet::of(Cap::new(10).unwrap());
        let mut p = plan_of(1500, 1500, &[]);
        p.privileges.keep_caps = net_bind_service;
        let all = CapSet::from_bits(u64::MAX >> 23);
        assert_eq!(
            planned_caps(&p, sets(all, all, CapSet::EMPTY)),
            sets(net_bind_service, net_bind_service, net_bind_service)
        );
        let setid = CapSet::of(Cap::SETUID).with(Cap::SETGID);
        let err =
            check_privilege(&p, &caller(0, 0, &[]), sets(setid, setid, CapSet::EMPTY)).unwrap_err();
        assert!(err.to_string().contains("cap_net_bind_service"), "{err}");
    }

    #[test]
    fn the_changes_come_in_order_each_with_its_calls() {
        let mut p = plan_of(1500, 1500, &[1500]);
        p.privileges.keep_caps = CapSet::of(Cap::new(10).unwrap());
        p.privileges.bounding_drop = CapSet::of(Cap::SYS_ADMIN);
        p.privileges.no_new_privs = true;
        let all = CapSet::from_bits(u64::MAX >> 23);
        let calls: Vec<String> = changes(
            &p,
            &caller(0, 0, &[0]),
            sets(all, all, CapSet::EMPTY),
            Securebits::NONE,
            CapSet::of(Cap::SYS_ADMIN),
        )
        .iter()
        .flat_map(Change::calls)
        .map(|c| c.to_string())
        .collect();
        let position = |prefix: &str| {
            calls
                .iter()
                .position(|c| c.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {calls:?}"))
        };
        assert!(position("prctl(PR_CAPBSET_DROP, cap_sys_admin)") < position("setgroups"));
        assert!(position("prctl(PR_SET_KEEPCAPS, 1)") < position("setresuid"));
        assert!(position("setgroups([1500])") < position("setresgid(1500, 1500, 1500)"));
        assert!(position("setresgid") < position("setresuid(1500, 1500, 1500)"));
        assert!(position("setresuid") < position("keyctl(KEYCTL_JOIN_SESSION_KEYRING"));
        assert!(
            position("capset(effective=0x400, permitted=0x400, inheritable=0x400)")
                < position("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap_net_bind_service)")
        );
        assert!(calls.contains(&"prctl(PR_SET_NO_NEW_PRIVS, 1)".to_owned()));
        // A capability no longer in the bounding set is not dropped again.
        let again = changes(
            &p,
            &caller(0, 0, &[0]),
            sets(all, all, CapSet::EMPTY),
            Securebits::NONE,
            CapSet::EMPTY,
        );
        assert!(!again.iter().any(|c| matches!(c, Change::DropBounding(_))));
    }

    #[test]
    fn id_maps() {
        let initial = "         0          0 4294967295\n";
        assert!(id_is_mapped(initial, 0));
        assert!(id_is_mapped(initial, 4294967294));
        assert!(!id_is_mapped(initial, 4294967295));
        let partial = "0 0 1\n1000 100000 10\n";
        assert!(id_is_mapped(partial, 0));
        assert!(!id_is_mapped(partial, 1));
        assert!(id_is_mapped(partial, 1009));
        assert!(!id_is_mapped(partial, 1010));
        assert!(!id_is_mapped("", 0));
        assert!(!id_is_mapped("garbage\n", 0));
    }
}
