//! The only module that changes credentials.
//!
//! Order matters and is fixed: supplementary groups, then gids, then uids
//! (setgroups and setresgid need privilege that setresuid gives up), then
//! the capability sets. Every call is checked; a call is skipped only when
//! the kernel already holds exactly the planned value, which is what lets a
//! non-root caller with nothing to change run, and what keeps runas working
//! in a user namespace where setgroups is denied but the list is unchanged.

use crate::base::error::{Error, Result};
use crate::core::plan::{Credentials, Plan, ResIds};
use crate::sys::WholeProgram;
use crate::sys::{self, CapMasks};
use nix::errno::Errno;

use crate::request::caps::{self, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, has as has_cap};
use crate::request::spec::{Rules, Securebits};

/// SECBIT_KEEP_CAPS: keep the permitted set across setresuid from root.
const SECBIT_KEEP_CAPS: u32 = 1 << 4;

/// `setgroups(1500,1700,1701)`, shortened for long lists.
fn describe_groups(groups: &[u32]) -> String {
    if groups.len() <= 8 {
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        format!("setgroups({})", list.join(","))
    } else {
        format!("setgroups({} groups)", groups.len())
    }
}

/// What to do about a missing capability, for the message: root that
/// lacks it was started without it (a container with --cap-drop), and is
/// told how to give it back or not to need it; anyone else is told to run
/// as root (in gosu's and su-exec's modes, without naming runas options
/// their command line does not have).
fn fix_for(before: &Credentials, caps: &str, rules: Option<Rules>, runas_fix: &str) -> String {
    let compat = matches!(rules, Some(Rules::Gosu | Rules::SuExec));
    if before.uid.effective == 0 {
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
pub fn check_privilege(plan: &Plan, before: &Credentials, caps: CapMasks) -> Result<()> {
    let rules = plan.branch.rules;
    // Name only what is missing of the two a switch needs.
    let setid = match (
        has_cap(caps.effective, CAP_SETUID),
        has_cap(caps.effective, CAP_SETGID),
    ) {
        (false, false) => "CAP_SETUID and CAP_SETGID",
        (false, true) => "CAP_SETUID",
        _ => "CAP_SETGID",
    };
    let uid_change = before.uid != ResIds::all(plan.uid);
    // Without CAP_SETUID the kernel lets setresuid pick only among the
    // current real, effective and saved ids; likewise for gids.
    if uid_change && !before.uid.contains(plan.uid) && !has_cap(caps.effective, CAP_SETUID) {
        return Err(Error::NotPermitted(format!(
            "switching to uid {} needs CAP_SETUID, which this process (uid {}) does not have: {}",
            plan.uid,
            before.uid.effective,
            fix_for(before, setid, rules, "")
        )));
    }
    let gid_change = before.gid != ResIds::all(plan.gid);
    if gid_change && !before.gid.contains(plan.gid) && !has_cap(caps.effective, CAP_SETGID) {
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
    let p = &plan.process;
    if (p.bounding_drop != 0 || p.securebits != Securebits::default())
        && !has_cap(caps.effective, CAP_SETPCAP)
    {
        return Err(Error::NotPermitted(format!(
            "--bounding-set and --securebits need CAP_SETPCAP, which this process (uid {}) does not have: {}",
            before.uid.effective,
            fix_for(before, "CAP_SETPCAP", rules, "")
        )));
    }
    let missing = p.keep_caps & !caps.permitted;
    if missing != 0 {
        return Err(Error::NotPermitted(format!(
            "cannot keep {}: this process does not hold it (not in its permitted set)",
            caps::describe(missing)
        )));
    }
    if before.groups != plan.groups && !has_cap(caps.effective, CAP_SETGID) {
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
        && !id_is_mapped(&map, plan.uid)
    {
        return Err(unmapped("uid", "uid_map", plan.uid));
    }
    if let Some(map) = read("gid_map") {
        if !id_is_mapped(&map, plan.gid) {
            return Err(unmapped("gid", "gid_map", plan.gid));
        }
        if before.groups != plan.groups
            && let Some(&gid) = plan.groups.iter().find(|&&g| !id_is_mapped(&map, g))
        {
            return Err(unmapped("supplementary gid", "gid_map", gid));
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
pub fn planned_caps(plan: &Plan, now: CapMasks) -> CapMasks {
    if plan.uid == 0 {
        CapMasks {
            inheritable: 0,
            ..now
        }
    } else {
        let keep = plan.process.keep_caps;
        CapMasks {
            effective: keep,
            permitted: keep,
            inheritable: keep,
        }
    }
}

/// The securebits after the change: the current ones with the requested
/// set and cleared.
pub fn planned_securebits(current: u32, wanted: Securebits) -> u32 {
    (current | wanted.set) & !wanted.clear
}

/// Drop the requested capabilities from the bounding set, stopping at the
/// last capability this kernel has (PR_CAPBSET_READ answers EINVAL past it).
fn drop_bounding(mask: u64) -> Result<()> {
    for cap in caps::each(mask) {
        match sys::bounding_has(cap) {
            Ok(false) => {}
            Ok(true) => sys::bounding_drop(cap).map_err(|e| {
                Error::syscall(format!("prctl(PR_CAPBSET_DROP, {})", caps::name(cap)), e)
            })?,
            Err(Errno::EINVAL) => break,
            Err(e) => return Err(Error::syscall("prctl(PR_CAPBSET_READ)", e)),
        }
    }
    Ok(())
}

/// One credential change, in the order [`changes`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Remove these capabilities from the bounding set.
    DropBounding(u64),
    /// PR_SET_KEEPCAPS: keep the permitted set across setresuid (--keep-caps).
    KeepCaps,
    SetSecurebits(u32),
    SetGroups(Vec<u32>),
    SetResGid(u32),
    SetResUid(u32),
    /// A session keyring of the target's own, after setresuid (it is
    /// owned by the process's uid when made), so it keeps no key of the
    /// caller's session (systemd's KeyringMode=private).
    NewSessionKeyring,
    ClearAmbient,
    Capset(CapMasks),
    RaiseAmbient(u32),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::DropBounding(mask) => {
                write!(f, "prctl(PR_CAPBSET_DROP) for {}", caps::describe(*mask))
            }
            Change::KeepCaps => write!(f, "prctl(PR_SET_KEEPCAPS, 1)"),
            Change::SetSecurebits(bits) => write!(f, "prctl(PR_SET_SECUREBITS, {bits:#x})"),
            Change::SetGroups(groups) => write!(f, "{}", describe_groups(groups)),
            Change::SetResGid(g) => write!(f, "setresgid({g}, {g}, {g})"),
            Change::SetResUid(u) => write!(f, "setresuid({u}, {u}, {u})"),
            Change::NewSessionKeyring => write!(f, "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)"),
            Change::ClearAmbient => write!(f, "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)"),
            Change::Capset(m) => write!(
                f,
                "capset(effective={:#x}, permitted={:#x}, inheritable={:#x})",
                m.effective, m.permitted, m.inheritable
            ),
            Change::RaiseAmbient(cap) => write!(
                f,
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, {})",
                caps::name(*cap)
            ),
        }
    }
}

/// The credential changes the plan needs, in order, given the state before.
/// Both the real run and --dry-run use this list, so the dry run shows
/// exactly what would be done.
pub fn changes(
    plan: &Plan,
    before: &Credentials,
    caps_before: CapMasks,
    securebits: u32,
) -> Vec<Change> {
    let p = &plan.process;
    let mut changes = Vec::new();
    // The bounding set and securebits need CAP_SETPCAP, which a non-root
    // target loses at setresuid: they come first.
    if p.bounding_drop != 0 {
        changes.push(Change::DropBounding(p.bounding_drop));
    }
    if p.securebits != Securebits::default() {
        let mut wanted = planned_securebits(securebits, p.securebits);
        if p.keep_caps != 0 {
            wanted |= SECBIT_KEEP_CAPS;
        }
        if wanted != securebits {
            changes.push(Change::SetSecurebits(wanted));
        }
    } else if p.keep_caps != 0 && securebits & SECBIT_KEEP_CAPS == 0 {
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
    if plan.uid != 0 {
        changes.extend(caps::each(p.keep_caps).map(Change::RaiseAmbient));
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

fn apply_change(change: &Change, promise: WholeProgram) -> Result<Option<Keyring>> {
    if let Change::NewSessionKeyring = change {
        return join_session_keyring(change).map(Some);
    }
    apply_credential(change, promise).map(|()| None)
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL), or where keyrings cannot be
/// reached at all, nothing (see `keyrings_unreachable`).
fn join_session_keyring(change: &Change) -> Result<Keyring> {
    match sys::join_new_session_keyring() {
        Ok(serial) => Ok(Keyring::Joined(serial)),
        Err(Errno::ENOSYS | Errno::EPERM) if keyrings_unreachable() => Ok(Keyring::Unreachable),
        Err(errno) => Err(Error::Syscall {
            call: format!(
                "{change} (a session keyring of the target's own{})",
                match errno {
                    Errno::EDQUOT => ": the target user's key quota is full, see /proc/key-users",
                    Errno::EPERM | Errno::EACCES | Errno::ENOSYS =>
                        ": refused, while keyrings can still be reached",
                    _ => "",
                }
            ),
            errno,
        }),
    }
}

fn apply_credential(change: &Change, promise: WholeProgram) -> Result<()> {
    match change {
        Change::DropBounding(mask) => drop_bounding(*mask),
        Change::KeepCaps => {
            nix::sys::prctl::set_keepcaps(true).map_err(|e| Error::syscall(change.to_string(), e))
        }
        Change::SetSecurebits(bits) => {
            sys::set_securebits(*bits).map_err(|e| Error::syscall(change.to_string(), e))
        }
        Change::SetGroups(groups) => {
            sys::set_groups(promise, groups).map_err(|e| setgroups_error(groups, e))
        }
        Change::SetResGid(gid) => {
            sys::set_resgid(promise, *gid).map_err(|e| id_error("setresgid", *gid, "gid", e))
        }
        Change::SetResUid(uid) => {
            sys::set_resuid(promise, *uid).map_err(|e| id_error("setresuid", *uid, "uid", e))
        }
        // Made by apply_change.
        Change::NewSessionKeyring => Ok(()),
        Change::ClearAmbient => sys::clear_ambient_caps()
            .map_err(|e| Error::syscall("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", e)),
        Change::Capset(masks) => sys::capset(*masks).map_err(|e| Error::syscall("capset", e)),
        Change::RaiseAmbient(cap) => sys::raise_ambient_cap(*cap).map_err(|e| {
            Error::syscall(
                format!("prctl(PR_CAP_AMBIENT_RAISE, {})", caps::name(*cap)),
                e,
            )
        }),
    }
}

/// Whether no keyring can be reached at all (the join being refused): a kernel without keyrings (ENOSYS), or a seccomp filter that
/// refuses keyctl, add_key and request_key (Docker's default profile, with
/// EPERM), which the target inherits. Then there is no keyring to leave
/// behind and none to make, and runas must still start. Anything else is a
/// failure: a filter that refuses only some operations leaves the caller's
/// session keyring reachable (add_key would update a key in it), so each
/// of the three calls is tried, the session keyring asked for by id and
/// the other two with no arguments (EFAULT where they are allowed).
pub fn keyrings_unreachable() -> bool {
    let refused = |outcome: std::result::Result<i64, Errno>| {
        matches!(outcome, Err(Errno::ENOSYS | Errno::EPERM))
    };
    refused(sys::session_keyring_id())
        && refused(sys::add_key_probe())
        && refused(sys::request_key_probe())
}

/// Make one change; for the new session keyring, what it became. A
/// failure inside a user namespace is best explained by its maps: they are
/// read only then (the first access to /proc/self costs a new process
/// about 25 us).
pub fn execute(
    change: &Change,
    plan: &Plan,
    before: &Credentials,
    promise: WholeProgram,
) -> Result<Option<Keyring>> {
    apply_change(change, promise).map_err(|failure| match check_namespace(plan, before) {
        Err(explained) => explained,
        Ok(()) => failure,
    })
}

/// Read the securebits when the changes depend on them (--securebits,
/// --keep-caps); otherwise 0, and no system call.
pub fn read_securebits(plan: &Plan) -> Result<u32> {
    let p = &plan.process;
    if p.securebits == Securebits::default() && p.keep_caps == 0 {
        return Ok(0);
    }
    sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))
}

fn setgroups_error(groups: &[u32], errno: Errno) -> Error {
    let hint = match errno {
        Errno::EPERM if setgroups_denied() => {
            " (setgroups is denied in this user namespace: /proc/self/setgroups is \"deny\"; use --keep-groups)"
        }
        Errno::EINVAL => {
            " (more groups than the kernel allows, or a gid not mapped in this user namespace: see /proc/self/gid_map)"
        }
        _ => "",
    };
    Error::Syscall {
        call: format!("{}{hint}", describe_groups(groups)),
        errno,
    }
}

fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

fn id_error(call: &str, id: u32, kind: &str, errno: Errno) -> Error {
    let hint = match errno {
        // setres[ug]id fails with EINVAL for an id outside this namespace's map.
        Errno::EINVAL => format!(
            " ({kind} {id} is not mapped in this user namespace: see /proc/self/{}_map)",
            &kind[..1]
        ),
        Errno::EAGAIN => format!(" (the target {kind} has reached RLIMIT_NPROC)"),
        _ => String::new(),
    };
    Error::Syscall {
        call: format!("{call}({id}){hint}"),
        errno,
    }
}

/// Try to take back an old uid. Verification calls this after the drop and
/// requires it to fail with EPERM.
pub fn attempt_setresuid(uid: u32, promise: WholeProgram) -> nix::Result<()> {
    sys::set_resuid(promise, uid)
}

/// Try to take back an old gid; must fail with EPERM after a drop.
pub fn attempt_setresgid(gid: u32, promise: WholeProgram) -> nix::Result<()> {
    sys::set_resgid(promise, gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(uid: u32, gid: u32, groups: Vec<u32>) -> Plan {
        Plan {
            uid,
            gid,
            groups,
            env: Default::default(),
            process: Default::default(),
            branch: Default::default(),
        }
    }

    fn user(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        Credentials {
            uid: ResIds::all(uid),
            gid: ResIds::all(gid),
            groups,
        }
    }

    #[test]
    fn unprivileged_caller_may_only_keep_what_it_has() {
        let no_caps = CapMasks::default();
        let me = user(1500, 1500, vec![1500, 1700]);
        assert!(check_privilege(&plan(1500, 1500, vec![1500, 1700]), &me, no_caps).is_ok());
        let err = check_privilege(&plan(0, 1500, vec![1500, 1700]), &me, no_caps).unwrap_err();
        assert!(err.to_string().contains("CAP_SETUID"), "{err}");
        let err = check_privilege(&plan(1500, 1700, vec![1500, 1700]), &me, no_caps).unwrap_err();
        assert!(err.to_string().contains("CAP_SETGID"), "{err}");
        let err = check_privilege(&plan(1500, 1500, vec![]), &me, no_caps).unwrap_err();
        assert!(err.to_string().contains("CAP_SETGID"), "{err}");
    }

    #[test]
    fn capabilities_allow_any_change() {
        let caps = CapMasks {
            effective: (1 << CAP_SETUID) | (1 << CAP_SETGID),
            ..CapMasks::default()
        };
        assert!(check_privilege(&plan(1, 2, vec![3]), &user(0, 0, vec![0]), caps).is_ok());
        let only_setgid = CapMasks {
            effective: 1 << CAP_SETGID,
            ..CapMasks::default()
        };
        assert!(check_privilege(&plan(1, 2, vec![3]), &user(0, 0, vec![0]), only_setgid).is_err());
    }

    #[test]
    fn non_root_target_gets_no_capabilities_root_keeps_its_own_but_no_inheritable() {
        let full = CapMasks {
            effective: u64::MAX >> 23,
            permitted: u64::MAX >> 23,
            inheritable: 1 << 13,
        };
        assert_eq!(
            planned_caps(&plan(1500, 1500, vec![]), full),
            CapMasks::default()
        );
        let root = planned_caps(&plan(0, 0, vec![]), full);
        assert_eq!(root.inheritable, 0);
        assert_eq!(root.permitted, full.permitted);
    }

    #[test]
    fn kept_capabilities_fill_every_set_of_a_non_root_target() {
        let mut p = plan(1500, 1500, vec![]);
        p.process.keep_caps = 1 << 10;
        let full = CapMasks {
            effective: u64::MAX >> 23,
            permitted: u64::MAX >> 23,
            inheritable: 0,
        };
        assert_eq!(
            planned_caps(&p, full),
            CapMasks {
                effective: 1 << 10,
                permitted: 1 << 10,
                inheritable: 1 << 10
            }
        );
        let setid = (1 << CAP_SETUID) | (1 << CAP_SETGID);
        let without_it = CapMasks {
            effective: setid,
            permitted: setid,
            inheritable: 0,
        };
        let err = check_privilege(&p, &user(0, 0, vec![]), without_it).unwrap_err();
        assert!(err.to_string().contains("cap_net_bind_service"), "{err}");
    }

    #[test]
    fn securebits_are_merged() {
        let wanted = Securebits { set: 1, clear: 4 };
        assert_eq!(planned_securebits(0b100, wanted), 0b001);
        assert_eq!(planned_securebits(0b010, Securebits::default()), 0b010);
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

    #[test]
    fn long_group_lists_are_summarised() {
        assert_eq!(describe_groups(&[1, 2]), "setgroups(1,2)");
        assert_eq!(
            describe_groups(&(0..2000).collect::<Vec<_>>()),
            "setgroups(2000 groups)"
        );
    }
}
