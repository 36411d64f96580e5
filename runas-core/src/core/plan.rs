//! Pure resolution of the identity a request asks for: the uid, the gid,
//! the full supplementary list and the privileges the target starts with,
//! every lookup made before any credential changes, behind a trait with a
//! fake. Nothing here touches the process.

use crate::accounts::db::{LookupError, UserDb, UserRecord};
use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::facts::{Credentials, Facts, normalize_groups};
use crate::request::caps::{CapSet, ROOT_EQUIVALENT};
use crate::request::ids::{Gid, IdSpec, ResIds, Uid};
use crate::request::securebits::Securebits;
use crate::request::{GroupPolicy, Identity, Privileges, Rules};
use crate::sys::KERNEL_NGROUPS_MAX;

/// Everything the transition, the verification and the exec need of the
/// identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub uid: Uid,
    pub gid: Gid,
    /// Sorted, without duplicates: the set the kernel will report.
    pub groups: Vec<Gid>,
    /// The user the request named, when it named one.
    pub target: Option<Target>,
    /// Validated against the identity, with containment added.
    pub privileges: Privileges,
    /// Which rules made it, and what --if-root decided.
    pub branch: Branch,
}

/// The user a request named: its uid and, when the passwd database has it
/// (and it was needed), its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub uid: Uid,
    pub record: Option<UserRecord>,
}

/// How the plan came about, for messages and --dry-run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branch {
    pub rules: Rules,
    /// --if-root: `Some(true)` when the caller is root and the switch is
    /// made, `Some(false)` when it is not and the command runs as the
    /// caller.
    pub if_root: Option<bool>,
    /// --if-root's caller branch: the options given that it does not apply.
    pub not_applied: Vec<&'static str>,
}

impl Plan {
    /// Add the groups an option names (--add-group-of) to the list.
    pub fn add_groups(&mut self, extra: impl IntoIterator<Item = Gid>) -> Result<()> {
        let mut groups = std::mem::take(&mut self.groups);
        groups.extend(extra);
        self.groups = checked_list(groups)?;
        Ok(())
    }

    /// Whether the switch can be undone: a root target, or one that keeps
    /// a capability amounting to root.
    pub fn irreversible(&self) -> bool {
        self.uid != Uid::ROOT && (self.privileges.keep_caps & ROOT_EQUIVALENT).is_empty()
    }
}

/// The list as the kernel will hold it: sorted, without duplicates, within
/// its limit.
fn checked_list(groups: Vec<Gid>) -> Result<Vec<Gid>> {
    let groups = normalize_groups(groups);
    if groups.len() > KERNEL_NGROUPS_MAX {
        return Err(Error::NotPermitted(format!(
            "the supplementary list has {} groups, more than the kernel's limit of {KERNEL_NGROUPS_MAX}",
            groups.len()
        )));
    }
    Ok(groups)
}

/// Turn a name-service failure into an error that says what was looked up.
/// The words are made only on failure: a lookup that succeeds (every run)
/// does not format and quote a message it never prints.
fn lookup_error(what: impl FnOnce() -> String) -> impl FnOnce(LookupError) -> Error {
    move |source| Error::Lookup {
        what: what(),
        why: source.to_string(),
    }
}

/// Whether a numeric uid's passwd entry is worth a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Look it up: some field of it is used.
    Wanted,
    /// No field of it is used (the group, the supplementary list and the
    /// environment are all given): a numeric uid is not looked up at all.
    NotNeeded,
}

fn resolve_user(spec: &IdSpec, db: &dyn UserDb, entry: Entry) -> Result<Target> {
    match spec {
        IdSpec::Id(uid) if entry == Entry::NotNeeded => Ok(Target {
            uid: Uid::new(*uid),
            record: None,
        }),
        IdSpec::Id(uid) => Ok(Target {
            uid: Uid::new(*uid),
            record: db
                .user_by_uid(Uid::new(*uid))
                .map_err(lookup_error(|| format!("uid {uid} in the passwd database")))?,
        }),
        IdSpec::Name(name) => {
            let record = db
                .user_by_name(name)
                .map_err(lookup_error(|| {
                    format!("user {} in the passwd database", quote(name))
                }))?
                .ok_or_else(|| Error::UnknownUser(name.clone()))?;
            Ok(Target {
                uid: record.uid,
                record: Some(record),
            })
        }
    }
}

/// The passwd entry of a uid, for what the options use of it (the HOME
/// of a caller that names no user).
pub fn resolve_uid(uid: Uid, db: &dyn UserDb) -> Result<Target> {
    resolve_user(&IdSpec::Id(uid.raw()), db, Entry::Wanted)
}

/// A group spec to its gid: ids as they are, names through the database.
pub fn resolve_group(spec: &IdSpec, db: &dyn UserDb) -> Result<Gid> {
    match spec {
        IdSpec::Id(gid) => Ok(Gid::new(*gid)),
        IdSpec::Name(name) => db
            .group_by_name(name)
            .map_err(lookup_error(|| {
                format!("group {} in the group database", quote(name))
            }))?
            .ok_or_else(|| Error::UnknownGroup(name.clone())),
    }
}

/// The one resolver: a request (runas's, or gosu's and su-exec's, whose
/// rules differ where the table in cli/compat.rs says) against the account
/// database and the process as it is, into a plan. Every lookup happens
/// here, before any change.
// Never inlined: its locals would otherwise stay in the frame of lib.rs's
// run for the whole run.
#[inline(never)]
pub fn resolve(request: &Identity, facts: &Facts, db: &dyn UserDb) -> Result<Plan> {
    resolve_rules(request, facts, db).map_err(|source| match request.rules {
        Rules::Runas => source,
        rules => match source {
            already @ Error::InCompatSpec { .. } => already,
            source => Error::InCompatSpec {
                mode: rules.name(),
                spec: request.compat_spec.clone(),
                source: Box::new(source),
            },
        },
    })
}

fn resolve_rules(request: &Identity, facts: &Facts, db: &dyn UserDb) -> Result<Plan> {
    let current = &facts.credentials;
    let compat = request.rules != Rules::Runas;
    // --if-root from a caller other than root (a container started with
    // --user, OpenShift's arbitrary uids): the command runs as the caller,
    // as it is; what needs no privilege still applies.
    let if_root = request.if_root;
    let switching = !if_root || if_root_switches(current.uid.real);
    let as_caller_request;
    let mut not_applied = Vec::new();
    let request = if switching {
        request
    } else {
        // The whole request must still be one the root branch accepts, so a
        // configuration tried under --user fails the same way it would as
        // root (an unknown user, a capability that amounts to root).
        let mut full = request.clone();
        full.if_root = false;
        resolve_rules(&full, &root_caller(facts), db)?;
        not_applied = not_applied_as_caller(request);
        as_caller_request = as_caller(request, facts.ambient);
        &as_caller_request
    };
    // gosu and su-exec keep the caller's user for an empty USER, so
    // `ENTRYPOINT ["gosu", "$APP_USER"]` with the variable unset would run
    // the command as root, exit 0. Keeping root must be written.
    if compat && request.user.is_none() && current.uid.real == Uid::ROOT {
        return Err(Error::Usage(format!(
            "the USER part is empty, which would keep root: write root or 0 to keep root (is a variable such as $APP_USER unset?); usage: {} USER[:GROUP] COMMAND",
            request.rules.name()
        )));
    }
    let user = match (&request.user, compat) {
        (None, true) => Some(IdSpec::Id(current.uid.real.raw())),
        (user, _) => user.clone(),
    };
    // The entry gives the primary group, the name for the group database,
    // and what the options use of it; with all of those given otherwise, a
    // numeric uid needs no lookup at all.
    let entry = if compat
        || request.group.is_none()
        || matches!(
            request.policy,
            GroupPolicy::Init | GroupPolicy::Default | GroupPolicy::Members
        )
        || request.entry_wanted
    {
        Entry::Wanted
    } else {
        Entry::NotNeeded
    };
    let target = user
        .as_ref()
        .map(|spec| resolve_user(spec, db, entry))
        .transpose()?;
    let gid = match (&request.group, &target) {
        (Some(spec), _) => resolve_group(spec, db)?,
        (
            None,
            Some(Target {
                record: Some(record),
                ..
            }),
        ) => record.gid,
        // gosu and su-exec: the caller's gid (0 for root), as they do.
        (None, Some(Target { record: None, .. })) if compat => current.gid.real,
        (None, Some(Target { uid, record: None })) => {
            return Err(Error::UidWithoutEntry(uid.raw()));
        }
        (None, None) => current.gid.effective,
    };
    let uid = target.as_ref().map_or(current.uid.effective, |t| t.uid);
    let groups = checked_list(resolve_groups(request, &target, gid, current, compat, db)?)?;
    let mut privileges = request.privileges.clone();
    check_privileges(&privileges, uid)?;
    if switching {
        contain_root_equivalent(&mut privileges)?;
    }
    Ok(Plan {
        uid,
        gid,
        groups,
        target,
        privileges,
        branch: Branch {
            rules: request.rules,
            if_root: if_root.then_some(switching),
            not_applied,
        },
    })
}

/// The supplementary list the policy asks for: with a user, the default is
/// --init-groups; without one, --keep-groups.
fn resolve_groups(
    request: &Identity,
    target: &Option<Target>,
    gid: Gid,
    current: &Credentials,
    compat: bool,
    db: &dyn UserDb,
) -> Result<Vec<Gid>> {
    let memberships = |record: &UserRecord, primary: Gid| {
        db.group_list(&record.name, primary)
            .map_err(lookup_error(|| {
                format!(
                    "the groups of user {} in the group database",
                    quote(&record.name)
                )
            }))
    };
    Ok(match (&request.policy, target) {
        (
            GroupPolicy::Init | GroupPolicy::Default,
            Some(Target {
                record: Some(record),
                ..
            }),
        ) => memberships(record, gid)?,
        // No passwd entry means no name, and group membership is by name:
        // by default (and in su-exec's rules) the primary group alone; an
        // explicit --init-groups cannot be done, so it is an error.
        (GroupPolicy::Init, Some(Target { uid, record: None })) if !compat => {
            return Err(Error::Usage(format!(
                "--init-groups: uid {uid} has no passwd entry, so it has no name to find its memberships by in the group database; give them with --groups, or use --clear-groups"
            )));
        }
        (GroupPolicy::Init | GroupPolicy::Default, Some(Target { record: None, .. })) => {
            vec![gid]
        }
        // getgrouplist always adds the gid it is given: given (gid_t)-1,
        // which no group can have, it is removed again.
        (
            GroupPolicy::Members,
            Some(Target {
                record: Some(record),
                ..
            }),
        ) => {
            let none = Gid::new(u32::MAX);
            let mut groups = memberships(record, none)?;
            groups.retain(|g| *g != none);
            groups
        }
        (GroupPolicy::Members, _) => Vec::new(),
        (GroupPolicy::Init, None) => {
            return Err(Error::Usage(
                "--init-groups needs --user: it reads the user's memberships from the group database".into(),
            ));
        }
        (GroupPolicy::Keep | GroupPolicy::Default, _) => current.groups.clone(),
        (GroupPolicy::Clear, _) => Vec::new(),
        (GroupPolicy::List(items), _) => items
            .iter()
            .map(|item| resolve_group(item, db))
            .collect::<Result<_>>()?,
    })
}

/// Whether --if-root makes the switch for a caller with this real uid
/// (--dump reports the same decision).
pub fn if_root_switches(real_uid: Uid) -> bool {
    real_uid == Uid::ROOT
}

/// The request without what switches identity or needs privilege: --if-root
/// for a caller other than root. The capabilities are the caller's ambient
/// ones, kept as they are (a service with AmbientCapabilities= keeps
/// binding port 80), whatever --keep-caps said for the root branch. No
/// containment is added for a root-equivalent one: nothing is dropped, so
/// nothing could be undone, and the caller already holds it.
fn as_caller(request: &Identity, ambient: CapSet) -> Identity {
    let mut request = request.clone();
    request.user = None;
    request.group = None;
    request.policy = GroupPolicy::Keep;
    let p = &mut request.privileges;
    p.keep_caps = ambient;
    p.allow_root_caps = ambient & ROOT_EQUIVALENT;
    p.bounding_drop = CapSet::EMPTY;
    p.securebits = Default::default();
    request
}

/// The options of `request` that `as_caller` sets aside, as the command
/// line names them, so --dry-run can say which.
fn not_applied_as_caller(request: &Identity) -> Vec<&'static str> {
    let p = &request.privileges;
    [
        (request.user.is_some(), "--user"),
        (request.group.is_some(), "--group"),
        (matches!(request.policy, GroupPolicy::List(_)), "--groups"),
        (request.policy == GroupPolicy::Init, "--init-groups"),
        (request.policy == GroupPolicy::Clear, "--clear-groups"),
        (
            !p.keep_caps.is_empty(),
            "--keep-caps (the caller's ambient capabilities are kept instead)",
        ),
        (!p.allow_root_caps.is_empty(), "--allow-root-caps"),
        (!p.bounding_drop.is_empty(), "--bounding-set"),
        (!p.securebits.is_none(), "--securebits"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect()
}

/// The facts of a root caller in the same process: what the root branch of
/// --if-root would resolve against.
fn root_caller(facts: &Facts) -> Facts {
    let mut root = facts.clone();
    root.credentials = Credentials {
        uid: ResIds::all(Uid::ROOT),
        gid: ResIds::all(Gid::ROOT),
        groups: Vec::new(),
    };
    root.at_secure = false;
    root
}

/// --keep-caps with a capability that amounts to root
/// (caps::ROOT_EQUIVALENT) is refused unless --allow-root-caps names
/// it. Where one is allowed, the target still cannot gain more through
/// file capabilities: no_new_privs, and a bounding set of exactly what it
/// keeps.
fn contain_root_equivalent(p: &mut Privileges) -> Result<()> {
    let root = ROOT_EQUIVALENT;
    let stray = p.allow_root_caps & !(p.keep_caps & root);
    if !stray.is_empty() {
        return Err(Error::Usage(format!(
            "--allow-root-caps {}: each must be a capability that amounts to root and is in --keep-caps",
            stray.describe()
        )));
    }
    let refused = p.keep_caps & root & !p.allow_root_caps;
    if let Some(cap) = refused.iter().next() {
        return Err(Error::NotPermitted(format!(
            "--keep-caps {} amounts to root: {}, so the switch could be undone; to keep it anyway, add --allow-root-caps {}",
            cap.name(),
            cap.why_root_equivalent().unwrap_or("it amounts to root"),
            cap.name().trim_start_matches("cap_")
        )));
    }
    if !p.allow_root_caps.is_empty() {
        p.no_new_privs = true;
        p.bounding_drop = p.bounding_drop | !p.keep_caps;
    }
    Ok(())
}

/// Combinations that cannot do what they say.
fn check_privileges(p: &Privileges, uid: Uid) -> Result<()> {
    if !p.keep_caps.is_empty() && uid == Uid::ROOT {
        return Err(Error::Usage(
            "--keep-caps is for a target other than root: root already keeps its capabilities"
                .into(),
        ));
    }
    let both = p.keep_caps & p.bounding_drop;
    if !both.is_empty() {
        return Err(Error::Usage(format!(
            "{} would be both kept (--keep-caps) and dropped from the bounding set (--bounding-set)",
            both.describe()
        )));
    }
    if !p.keep_caps.is_empty()
        && p.securebits
            .set
            .intersects(Securebits::NO_CAP_AMBIENT_RAISE)
    {
        return Err(Error::Usage(
            "--securebits no-cap-ambient-raise forbids the ambient capabilities --keep-caps needs"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::caps::Cap;
    use crate::testing::{FakeDb, caller, db, facts, root};

    fn name(s: &str) -> IdSpec {
        IdSpec::Name(s.into())
    }

    fn identity(user: Option<IdSpec>, group: Option<IdSpec>, policy: GroupPolicy) -> Identity {
        Identity {
            user,
            group,
            policy,
            entry_wanted: true,
            ..Identity::default()
        }
    }

    fn resolve(identity: &Identity, current: &Credentials, db: &dyn UserDb) -> Result<Plan> {
        super::resolve(identity, &facts(current.clone()), db)
    }

    #[test]
    fn the_kernel_limit_on_supplementary_groups_is_exact() {
        let list = |n: u32| (1..=n).map(Gid::new).collect::<Vec<_>>();
        let limit = u32::try_from(KERNEL_NGROUPS_MAX).unwrap();
        assert_eq!(checked_list(list(limit)).unwrap().len(), KERNEL_NGROUPS_MAX);
        let err = checked_list(list(limit + 1)).unwrap_err().to_string();
        assert!(
            err.contains(
                "the supplementary list has 65537 groups, more than the kernel's limit of 65536"
            ),
            "{err}"
        );
        // Duplicates count once, as the kernel will hold them.
        let mut doubled = list(limit);
        doubled.extend(list(limit));
        assert!(checked_list(doubled).is_ok());
    }

    #[test]
    fn the_callers_branch_keeps_its_ambient_capabilities_and_allows_only_those() {
        let ambient = CapSet::EMPTY.with(Cap::parse("net_bind_service").unwrap());
        let request = identity(Some(name("alice")), None, GroupPolicy::Default);
        let kept = as_caller(&request, ambient);
        assert_eq!(kept.privileges.keep_caps, ambient);
        // Not root-equivalent: nothing to allow.
        assert!(kept.privileges.allow_root_caps.is_empty());
        let with_root_equivalent = ambient.with(Cap::SYS_ADMIN);
        let kept = as_caller(&request, with_root_equivalent);
        assert_eq!(
            kept.privileges.allow_root_caps,
            CapSet::EMPTY.with(Cap::SYS_ADMIN)
        );
        assert!(kept.user.is_none() && kept.group.is_none());
        assert_eq!(kept.policy, GroupPolicy::Keep);
    }

    /// uid, gid and the supplementary list, as numbers.
    fn ids(plan: &Plan) -> (u32, u32, Vec<u32>) {
        (
            plan.uid.raw(),
            plan.gid.raw(),
            plan.groups.iter().map(|g| g.raw()).collect(),
        )
    }

    fn if_root(user: &str) -> Identity {
        let mut i = identity(Some(name(user)), None, GroupPolicy::Default);
        i.if_root = true;
        i
    }

    #[test]
    fn if_root_from_root_is_the_plain_switch() {
        let plain = resolve(
            &identity(Some(name("alice")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        let plan = resolve(&if_root("alice"), &root(), &db()).unwrap();
        assert_eq!(plan.branch.if_root, Some(true));
        assert_eq!(ids(&plan), ids(&plain));
        assert_eq!(plan.target, plain.target);
        assert_eq!(plan.privileges, plain.privileges);
    }

    #[test]
    fn if_root_from_another_uid_keeps_the_caller_and_its_ambient_caps() {
        let mut f = facts(caller(1000680000, 0, &[]));
        let kept = CapSet::of(Cap::new(10).unwrap()).with(Cap::SYS_ADMIN);
        f.caps.permitted = kept;
        f.ambient = kept;
        let mut request = if_root("alice");
        request.policy = GroupPolicy::Clear;
        request.privileges.bounding_drop = !CapSet::of(Cap::new(10).unwrap());
        let plan = super::resolve(&request, &f, &db()).unwrap();
        assert_eq!(plan.branch.if_root, Some(false));
        assert_eq!(ids(&plan), (1000680000, 0, vec![]));
        assert_eq!(plan.target, None);
        // Kept as they are: no containment added, nothing dropped.
        assert_eq!(plan.privileges.keep_caps, kept);
        assert!(plan.privileges.bounding_drop.is_empty());
        assert!(!plan.privileges.no_new_privs);
        assert!(plan.branch.not_applied.contains(&"--user"));
        assert!(plan.branch.not_applied.contains(&"--clear-groups"));
    }

    #[test]
    fn if_root_from_another_uid_still_checks_the_whole_request() {
        let caller = caller(1000, 1000, &[1000]);
        let err = resolve(&if_root("nobody-here"), &caller, &db()).unwrap_err();
        assert!(err.to_string().contains("nobody-here"), "{err}");
        let mut request = if_root("alice");
        request.privileges.keep_caps = CapSet::of(Cap::SYS_ADMIN);
        let err = resolve(&request, &caller, &db()).unwrap_err();
        assert!(err.to_string().contains("amounts to root"), "{err}");
    }

    #[test]
    fn init_groups_for_a_uid_without_an_entry_is_refused_not_ignored() {
        let mut r = identity(
            Some(IdSpec::Id(4242)),
            Some(IdSpec::Id(4242)),
            GroupPolicy::Init,
        );
        let err = resolve(&r, &root(), &db()).unwrap_err().to_string();
        assert!(
            err.contains("--init-groups: uid 4242 has no passwd entry"),
            "{err}"
        );
        // Unasked, the primary group alone, as before.
        r.policy = GroupPolicy::Default;
        assert_eq!(ids(&resolve(&r, &root(), &db()).unwrap()).2, [4242]);
    }

    #[test]
    fn user_by_name_gets_primary_and_database_groups() {
        let plan = resolve(
            &identity(Some(name("alice")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (1500, 1500, vec![1500, 1700, 1701]));
        let record = plan.target.and_then(|t| t.record).unwrap();
        assert_eq!(record.name, "alice");
    }

    #[test]
    fn user_with_group_uses_that_group_as_primary_and_keeps_memberships() {
        let plan = resolve(
            &identity(
                Some(name("alice")),
                Some(name("jupiter")),
                GroupPolicy::Default,
            ),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (1500, 1700, vec![1700, 1701]));
    }

    #[test]
    fn all_digit_spec_is_an_id_even_when_a_user_has_that_name() {
        // "4242" is the name of a uid-0 account; the spec must mean uid 4242.
        let err = resolve(
            &identity(Some(IdSpec::Id(4242)), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::UidWithoutEntry(4242)), "{err}");
        assert!(err.to_string().contains("give --group"));
        let plan = resolve(
            &identity(
                Some(IdSpec::Id(4242)),
                Some(IdSpec::Id(4243)),
                GroupPolicy::Default,
            ),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (4242, 4243, vec![4243]));
        assert_eq!(plan.target.unwrap().record, None);
    }

    #[test]
    fn numeric_uid_with_entry_uses_its_passwd_fields() {
        let plan = resolve(
            &identity(Some(IdSpec::Id(1500)), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (1500, 1500, vec![1500, 1700, 1701]));
        assert_eq!(plan.target.unwrap().record.unwrap().name, "alice");
    }

    #[test]
    fn primary_gid_without_group_entry_is_kept() {
        let plan = resolve(
            &identity(Some(name("orphan")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (1502, 1999, vec![1999]));
    }

    #[test]
    fn group_alone_keeps_uid_and_list() {
        let plan = resolve(
            &identity(None, Some(name("jupiter")), GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(ids(&plan), (0, 1700, vec![0, 4, 27]));
        assert_eq!(plan.target, None);
    }

    #[test]
    fn numeric_group_named_like_root_group_is_still_the_id() {
        let plan = resolve(
            &identity(None, Some(IdSpec::Id(4243)), GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(plan.gid.raw(), 4243);
    }

    #[test]
    fn explicit_policies() {
        let alice = || Some(name("alice"));
        let groups =
            |policy| ids(&resolve(&identity(alice(), None, policy), &root(), &db()).unwrap()).2;
        assert_eq!(groups(GroupPolicy::Keep), [0, 4, 27]);
        assert_eq!(groups(GroupPolicy::Clear), Vec::<u32>::new());
        assert_eq!(
            groups(GroupPolicy::List(vec![
                name("saturn"),
                IdSpec::Id(31337),
                IdSpec::Id(31337)
            ])),
            [1701, 31337]
        );
        assert_eq!(groups(GroupPolicy::Init), [1500, 1700, 1701]);
        let clear_only =
            resolve(&identity(None, None, GroupPolicy::Clear), &root(), &db()).unwrap();
        assert_eq!(ids(&clear_only), (0, 0, vec![]));
    }

    #[test]
    fn init_groups_without_user_is_a_usage_error() {
        let err = resolve(
            &identity(None, Some(name("jupiter")), GroupPolicy::Init),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
    }

    #[test]
    fn unknown_names_fail_and_are_quoted() {
        let err = resolve(
            &identity(Some(name("mallory")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown user \"mallory\": there is no such entry in the passwd database"
        );
        let err = resolve(
            &identity(
                Some(name("alice")),
                Some(name("pluto")),
                GroupPolicy::Default,
            ),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::UnknownGroup(ref g) if g == "pluto"));
        let err = resolve(
            &identity(
                Some(name("alice")),
                None,
                GroupPolicy::List(vec![name("pluto")]),
            ),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::UnknownGroup(_)));
    }

    #[test]
    fn database_errors_fail_closed() {
        let broken = FakeDb {
            broken: true,
            ..db()
        };
        for req in [
            identity(Some(name("alice")), None, GroupPolicy::Default),
            identity(
                Some(IdSpec::Id(1500)),
                Some(IdSpec::Id(1500)),
                GroupPolicy::Default,
            ),
            identity(None, Some(name("jupiter")), GroupPolicy::Default),
        ] {
            let err = resolve(&req, &root(), &broken).unwrap_err();
            assert!(matches!(err, Error::Lookup { .. }), "{err}");
        }
    }

    #[test]
    fn numeric_ids_with_nothing_else_to_look_up_never_touch_the_database() {
        let broken = FakeDb {
            broken: true,
            ..db()
        };
        let mut req = identity(
            Some(IdSpec::Id(1500)),
            Some(IdSpec::Id(1700)),
            GroupPolicy::List(vec![IdSpec::Id(1701)]),
        );
        req.entry_wanted = false;
        for policy in [
            GroupPolicy::List(vec![IdSpec::Id(1701)]),
            GroupPolicy::Clear,
            GroupPolicy::Keep,
        ] {
            req.policy = policy;
            let plan = resolve(&req, &root(), &broken).unwrap();
            assert_eq!((plan.uid.raw(), plan.gid.raw()), (1500, 1700));
        }
        // Each thing the entry would give makes the lookup necessary again.
        let mut needs_group = req.clone();
        needs_group.group = None;
        let mut needs_memberships = req.clone();
        needs_memberships.policy = GroupPolicy::Init;
        let mut wanted_by_an_option = req.clone();
        wanted_by_an_option.entry_wanted = true;
        for req in [needs_group, needs_memberships, wanted_by_an_option] {
            let err = resolve(&req, &root(), &broken).unwrap_err();
            assert!(matches!(err, Error::Lookup { .. }), "{req:?}: {err}");
        }
    }

    #[test]
    fn added_groups_join_the_list_once_within_the_limit() {
        let mut plan = resolve(
            &identity(Some(name("alice")), None, GroupPolicy::Clear),
            &root(),
            &db(),
        )
        .unwrap();
        plan.add_groups([Gid::new(44), Gid::new(44)]).unwrap();
        assert_eq!(ids(&plan).2, [44]);
        let err = plan
            .add_groups((0..KERNEL_NGROUPS_MAX as u32 + 1).map(Gid::new))
            .unwrap_err();
        assert!(err.to_string().contains("kernel's limit"), "{err}");
    }

    #[test]
    fn capability_option_conflicts_are_refused() {
        let net_bind_service = CapSet::of(Cap::new(10).unwrap());
        let mut req = identity(Some(name("root")), None, GroupPolicy::Default);
        req.privileges.keep_caps = net_bind_service;
        assert!(
            resolve(&req, &root(), &db())
                .unwrap_err()
                .to_string()
                .contains("other than root")
        );
        let mut req = identity(Some(name("alice")), None, GroupPolicy::Default);
        req.privileges.keep_caps = net_bind_service;
        req.privileges.bounding_drop = CapSet::from_bits(u64::MAX);
        assert!(
            resolve(&req, &root(), &db())
                .unwrap_err()
                .to_string()
                .contains("cap_net_bind_service")
        );
        req.privileges.bounding_drop = CapSet::EMPTY;
        req.privileges.securebits.set = Securebits::NO_CAP_AMBIENT_RAISE;
        assert!(resolve(&req, &root(), &db()).is_err());
    }

    #[test]
    fn a_root_equivalent_capability_is_contained_when_allowed() {
        let mut req = identity(Some(name("alice")), None, GroupPolicy::Default);
        req.privileges.keep_caps = CapSet::of(Cap::SYS_ADMIN);
        req.privileges.allow_root_caps = CapSet::of(Cap::SYS_ADMIN);
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert!(plan.privileges.no_new_privs);
        assert_eq!(plan.privileges.bounding_drop, !CapSet::of(Cap::SYS_ADMIN));
        assert!(!plan.irreversible());
        // Allowing one it does not keep is a mistake.
        req.privileges.allow_root_caps = CapSet::of(Cap::SYS_MODULE);
        assert!(resolve(&req, &root(), &db()).is_err());
    }

    #[test]
    fn a_user_in_two_thousand_groups_keeps_them_all() {
        let mut big = db().user("crowd", 1600, 1600, "/", "/bin/sh");
        for i in 0..2000 {
            big = big.group(&format!("g{i}"), 20000 + i, &["crowd"]);
        }
        let plan = resolve(
            &identity(Some(name("crowd")), None, GroupPolicy::Default),
            &root(),
            &big,
        )
        .unwrap();
        assert_eq!(plan.groups.len(), 2001);
    }
}
