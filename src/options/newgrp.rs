//! Restricted group mode: newgrp without set-user-ID root.
//!
//! Installed with `setcap cap_setgid=ep`, runas starts with CAP_SETGID in a
//! non-root caller's process. That one capability could set any gid and
//! any group list, so in this mode runas allows exactly one thing: making a
//! group the caller already holds (its real gid or a member of its current,
//! kernel-held list) the primary group. The list never shrinks (losing a
//! group can grant access through deny-by-group permissions); the old real
//! gid joins it. Every capability is dropped before the target runs.

use crate::base::error::{Error, Result};
use crate::core::facts::{Credentials, Facts, normalize_groups};
use crate::core::plan::{self, Plan};
use crate::options::env::Change;
use crate::request::ids::{Gid, IdSpec, ResIds, Uid};
use crate::request::securebits::Securebits;
use crate::request::{GroupPolicy, Identity, Rules};
use crate::sys;

/// The variables glibc removes from the environment of a program started in
/// secure-execution mode (its UNSECURE_ENVVARS). A static musl build does
/// not remove them, so this mode removes them itself: the target never
/// receives what the caller meant for a privileged process.
pub const UNSECURE_ENV: [&str; 29] = [
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LD_AUDIT",
    "LD_DEBUG",
    "LD_DEBUG_OUTPUT",
    "LD_DYNAMIC_WEAK",
    "LD_HWCAP_MASK",
    "LD_LIBRARY_PATH",
    "LD_ORIGIN_PATH",
    "LD_PRELOAD",
    "LD_PROFILE",
    "LD_SHOW_AUXV",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_ARENA_MAX",
    "MALLOC_ARENA_TEST",
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_PERTURB_",
    "MALLOC_TOP_PAD_",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
];

/// How runas may run at all when its file grants privilege: never
/// set-user-ID or set-group-ID (every local user would get the owner's
/// identity through runas's options), and never with file capabilities
/// gained without secure-execution mode. Checked before anything is read
/// from the command line.
pub fn check_install(facts: &Facts) -> Result<()> {
    let before = &facts.credentials;
    let (uid, gid) = (before.uid, before.gid);
    for (kind, real, effective) in [
        ("uid", uid.real.raw(), uid.effective.raw()),
        ("gid", gid.real.raw(), gid.effective.raw()),
    ] {
        if real != effective {
            return Err(Error::SetIdInstall {
                kind,
                real,
                effective,
            });
        }
    }
    refuse_gain_without_secure_mode(before, facts.at_secure)
}

/// A uid-0 caller whose root is not special (SECBIT_NOROOT: systemd
/// `User=root` with `SecureBits=noroot-locked`, a setpriv sandbox) gains
/// the capabilities of runas's file at exec, but the kernel enters
/// secure-execution mode only for a caller other than uid 0: the C
/// library kept LD_PRELOAD and the other unsafe variables, and the dynamic
/// loader honoured them. runas cannot undo what ran before main: it
/// refuses to go on.
fn refuse_gain_without_secure_mode(before: &Credentials, at_secure: bool) -> Result<()> {
    if at_secure || before.uid.real != Uid::ROOT {
        return Ok(());
    }
    let bits = sys::get_securebits().map_err(|e| Error::syscall("prctl(PR_GET_SECUREBITS)", e))?;
    if !Securebits::from_bits(bits).contains(Securebits::NOROOT) {
        return Ok(());
    }
    let gained = match sys::has_file_capabilities(c"/proc/self/exe") {
        Ok(has) => has,
        // Cannot tell (no /proc): any capability held may be the file's.
        Err(_) => {
            sys::capget()
                .map_err(|e| Error::syscall("capget", e))?
                .permitted
                != 0
        }
    };
    if gained {
        return Err(Error::NotPermitted(
            "runas has file capabilities and was started by uid 0 with SECBIT_NOROOT: the kernel did not enter secure-execution mode, so the dynamic loader honoured LD_PRELOAD and the environment was not cleaned; refusing. Remove the file capability (setcap -r), or start runas as root with capabilities".into(),
        ));
    }
    Ok(())
}

/// Whether glibc would remove `name` in secure-execution mode.
pub fn is_unsecure(name: &std::ffi::OsStr) -> bool {
    UNSECURE_ENV.iter().any(|unsafe_name| name == *unsafe_name)
}

pub fn refuse(option: &str) -> Error {
    Error::NotPermitted(format!(
        "{option} is not allowed in newgrp mode: runas runs with a file capability for a non-root caller, and may only switch the primary group to one the caller already holds (see \"newgrp mode\" in runas(1))"
    ))
}

/// The caller's list plus its old real gid: what the target gets.
pub fn kept_list(before: &Credentials) -> Vec<Gid> {
    let mut groups = before.groups.clone();
    groups.push(before.gid.real);
    normalize_groups(groups)
}

/// Check a request against the mode's rules and pin its group list; the
/// variables the C library removes in secure-execution mode are removed
/// last. Where --if-root runs the command as the caller, the identity
/// options are not applied (the core resolves them only to check them), so
/// only their privileges are refused.
pub fn restrict(
    identity: &mut Identity,
    options: &mut super::Request,
    facts: &Facts,
) -> Result<()> {
    let before = &facts.credentials;
    if identity.rules != Rules::Runas {
        // gosu's and su-exec's rules would let a file capability set any gid.
        return Err(Error::NotPermitted(format!(
            "{} mode is not available when runas runs with a file capability for a non-root caller; use runas --group GROUP (newgrp mode)",
            identity.rules.name()
        )));
    }
    let caller_branch = identity.if_root && !plan::if_root_switches(before.uid.real);
    if !caller_branch {
        match &identity.user {
            None => {}
            Some(IdSpec::Id(uid)) if Uid::new(*uid) == before.uid.real => {}
            // A name is checked after resolution, when its uid is known.
            Some(IdSpec::Name(_)) => {}
            Some(IdSpec::Id(_)) => return Err(refuse("--user with another user")),
        }
        match &identity.policy {
            GroupPolicy::Default | GroupPolicy::Keep => {}
            GroupPolicy::Init => return Err(refuse("--init-groups")),
            GroupPolicy::Clear => return Err(refuse("--clear-groups")),
            GroupPolicy::List(_) => return Err(refuse("--groups")),
            GroupPolicy::Members => return Err(refuse("gosu mode")),
        }
        if !options.add_group_of.is_empty() {
            return Err(refuse("--add-group-of"));
        }
    }
    let p = &identity.privileges;
    if !p.keep_caps.is_empty() {
        return Err(refuse("--keep-caps"));
    }
    if !p.bounding_drop.is_empty() {
        return Err(refuse("--bounding-set"));
    }
    if !p.securebits.is_none() {
        return Err(refuse("--securebits"));
    }
    // The files are read with the caller's own rights: a file capability
    // that reads any file would read them with more.
    if crate::paths::reads_any_file(facts.caps.effective)
        && let Some(change) = options.env.changes.iter().find_map(|change| match change {
            Change::File(_) => Some("--env-file"),
            Change::Dir(_) => Some("--envdir"),
            _ => None,
        })
    {
        return Err(refuse(&format!(
            "{change} with a file capability that reads any file"
        )));
    }
    // The variables the C library removes in secure-execution mode must
    // not come back through --env either.
    if let Some(name) = options.env.changes.iter().find_map(|change| match change {
        Change::Set(name, _) if is_unsecure(name) => Some(name),
        _ => None,
    }) {
        return Err(refuse(&format!(
            "--env {}",
            crate::base::quote::text_str(&name.to_string_lossy())
        )));
    }
    if !caller_branch {
        identity.policy = GroupPolicy::List(
            kept_list(before)
                .into_iter()
                .map(|gid| IdSpec::Id(gid.raw()))
                .collect(),
        );
    }
    // Last, so that nothing given before (a file included) sets them.
    options
        .env
        .changes
        .extend(UNSECURE_ENV.iter().map(|name| Change::Unset(name.into())));
    Ok(())
}

/// No file may set what the C library removes in secure-execution mode:
/// `from_files`, each variable a file set, with the file.
pub fn check_files(from_files: &[super::env::FromFile]) -> Result<()> {
    match from_files.iter().find(|(_, _, name)| is_unsecure(name)) {
        Some((option, path, name)) => Err(refuse(&format!(
            "{option} {} setting {}",
            crate::base::quote::quote(path),
            crate::base::quote::text_str(&name.to_string_lossy())
        ))),
        None => Ok(()),
    }
}

/// After resolution: the uid is the caller's, the gid one it holds, and the
/// list the caller's plus its old gid (or, where --if-root runs the command
/// as the caller, the caller's own, unchanged).
pub fn check_plan(plan: &Plan, before: &Credentials) -> Result<()> {
    if ResIds::all(plan.uid) != before.uid {
        return Err(refuse("--user with another user"));
    }
    let held = plan.gid == before.gid.real || before.groups.contains(&plan.gid);
    if !held {
        return Err(Error::NotPermitted(format!(
            "newgrp mode switches only to a group you hold now, and gid {} is not among them ({}); if you were added to it since you logged in, log in again",
            plan.gid,
            kept_list(before)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    let caller_branch = plan.branch.if_root == Some(false);
    let unchanged = caller_branch && plan.groups == before.groups;
    if plan.groups != kept_list(before) && !unchanged {
        return Err(Error::Verification(
            "the planned group list is not the caller's list".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{caller as credentials, facts};

    fn caller() -> Credentials {
        credentials(1500, 1500, &[1700, 1701])
    }

    /// The caller in newgrp mode: secure-execution, no root.
    fn restricted() -> Facts {
        let mut facts = facts(caller());
        facts.at_secure = true;
        facts
    }

    fn identity(user: Option<IdSpec>, policy: GroupPolicy) -> Identity {
        Identity {
            user,
            group: Some(IdSpec::Id(1700)),
            policy,
            ..Identity::default()
        }
    }

    fn restrict_one(
        mut i: Identity,
        mut o: super::super::Request,
    ) -> Result<(Identity, super::super::Request)> {
        restrict(&mut i, &mut o, &restricted())?;
        Ok((i, o))
    }

    #[test]
    fn mode_needs_gained_privilege_and_a_non_root_caller() {
        assert!(restricted().restricted());
        assert!(!facts(caller()).restricted());
        let mut root = facts(crate::testing::root());
        root.at_secure = true;
        assert!(!root.restricted());
    }

    #[test]
    fn identity_options_are_refused_by_name() {
        let refused = |i: Identity, o: super::super::Request, name: &str| {
            let err = restrict_one(i, o).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.exit_code(), 125);
        };
        let none = super::super::Request::default;
        refused(
            identity(Some(IdSpec::Id(0)), GroupPolicy::Default),
            none(),
            "--user",
        );
        refused(identity(None, GroupPolicy::Clear), none(), "--clear-groups");
        refused(
            identity(None, GroupPolicy::List(vec![])),
            none(),
            "--groups",
        );
        refused(identity(None, GroupPolicy::Init), none(), "--init-groups");
        let mut i = identity(None, GroupPolicy::Default);
        i.privileges.keep_caps = crate::request::caps::CapSet::from_bits(1);
        refused(i, none(), "--keep-caps");
        let mut i = identity(None, GroupPolicy::Default);
        i.privileges.bounding_drop = crate::request::caps::CapSet::from_bits(1);
        refused(i, none(), "--bounding-set");
        let mut o = none();
        o.add_group_of = vec!["/dev/null".into()];
        refused(identity(None, GroupPolicy::Default), o, "--add-group-of");
        let mut gosu = identity(None, GroupPolicy::Default);
        gosu.rules = Rules::Gosu;
        refused(gosu, none(), "gosu mode");
    }

    #[test]
    fn the_list_is_pinned_to_the_callers_plus_its_old_gid() {
        let (i, _) = restrict_one(
            identity(Some(IdSpec::Id(1500)), GroupPolicy::Keep),
            super::super::Request::default(),
        )
        .unwrap();
        assert_eq!(
            i.policy,
            GroupPolicy::List(vec![IdSpec::Id(1500), IdSpec::Id(1700), IdSpec::Id(1701)])
        );
    }

    #[test]
    fn unsafe_variables_are_removed_whatever_the_c_library() {
        let (_, o) = restrict_one(
            identity(None, GroupPolicy::Default),
            super::super::Request::default(),
        )
        .unwrap();
        for name in ["LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH"] {
            assert!(
                o.env
                    .changes
                    .iter()
                    .any(|c| *c == Change::Unset(name.into())),
                "{name}"
            );
        }
    }

    #[test]
    fn unsafe_variables_cannot_be_set_again() {
        let with = |change: Change| {
            let mut o = super::super::Request::default();
            o.env.changes = vec![change];
            restrict_one(identity(None, GroupPolicy::Default), o)
        };
        let err = with(Change::Set("LD_PRELOAD".into(), "/tmp/x.so".into())).unwrap_err();
        assert!(err.to_string().contains("--env LD_PRELOAD"), "{err}");
        assert!(with(Change::Set("EDITOR".into(), "vi".into())).is_ok());
        // Nor through a file.
        let err = check_files(&[("--env-file", "/home/u/app.env".into(), "LD_PRELOAD".into())])
            .unwrap_err();
        assert!(err.to_string().contains("LD_PRELOAD"), "{err}");
        assert!(err.to_string().contains("newgrp mode"), "{err}");
        assert!(check_files(&[("--envdir", "/home/u/d".into(), "EDITOR".into())]).is_ok());
    }

    #[test]
    fn files_are_refused_to_a_capability_that_reads_any_file() {
        let mut facts = restricted();
        facts.caps.effective = facts
            .caps
            .effective
            .with(crate::request::caps::Cap::DAC_READ_SEARCH);
        let mut o = super::super::Request::default();
        o.env.changes = vec![Change::File("/home/u/app.env".into())];
        let err = restrict(&mut identity(None, GroupPolicy::Default), &mut o, &facts).unwrap_err();
        assert!(err.to_string().contains("reads any file"), "{err}");
    }

    #[test]
    fn only_held_groups_pass() {
        let plan = |gid: u32| Plan {
            uid: Uid::new(1500),
            gid: Gid::new(gid),
            groups: [1500, 1700, 1701].map(Gid::new).to_vec(),
            target: None,
            privileges: Default::default(),
            branch: Default::default(),
        };
        assert!(check_plan(&plan(1700), &caller()).is_ok());
        assert!(check_plan(&plan(1500), &caller()).is_ok());
        let err = check_plan(&plan(31337), &caller()).unwrap_err();
        assert!(err.to_string().contains("log in again"), "{err}");
    }
}
