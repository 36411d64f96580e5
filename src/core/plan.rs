//! Pure resolution of a request into a complete plan: every id, the full
//! supplementary list and the environment, decided before any credential
//! changes. Nothing here touches the process.

use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::accounts::db::{UserDb, UserRecord};
use crate::core::facts::{Facts, Listen};
use crate::options::newgrp;
use crate::request::caps;
use crate::request::spec::{self, GroupPolicy, IdSpec, ProcessRequest, Request, Rules};
use crate::sys::KERNEL_NGROUPS_MAX;
use std::ffi::OsString;

/// Real, effective and saved ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResIds {
    pub real: u32,
    pub effective: u32,
    pub saved: u32,
}

impl ResIds {
    pub fn all(id: u32) -> Self {
        ResIds {
            real: id,
            effective: id,
            saved: id,
        }
    }

    pub fn contains(&self, id: u32) -> bool {
        self.real == id || self.effective == id || self.saved == id
    }
}

/// The process's credentials at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: ResIds,
    pub gid: ResIds,
    /// Sorted, without duplicates.
    pub groups: Vec<u32>,
}

/// Everything the transition, the verification and the exec need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub uid: u32,
    pub gid: u32,
    /// Sorted, without duplicates: the set the kernel will report.
    pub groups: Vec<u32>,
    pub env: EnvPlan,
    /// Hardening and process options, validated against the identity.
    pub process: ProcessRequest,
    /// Which rules made it, and what --if-root decided.
    pub branch: Branch,
}

/// How the plan came about, for messages and --dry-run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branch {
    pub rules: Option<Rules>,
    /// --if-root: `Some(true)` when the caller is root and the switch is
    /// made, `Some(false)` when it is not and the command runs as the
    /// caller.
    pub if_root: Option<bool>,
    /// --if-root's caller branch: the options given that it does not apply.
    pub not_applied: Vec<&'static str>,
}

/// How the target's environment is made from runas's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvPlan {
    /// Start from nothing but [`RESET_ENV_KEPT`].
    pub clear: bool,
    /// Remove these...
    pub unset: Vec<OsString>,
    /// ...then set these, in order (later wins).
    pub set: Vec<(OsString, OsString)>,
    /// The names in `set` whose value was read from --env-file or --envdir:
    /// often secrets, which --dry-run shows only when asked.
    pub from_files: Vec<OsString>,
}

/// What --reset-env keeps: how the terminal looks, nothing that changes
/// what a program does.
pub const RESET_ENV_KEPT: [&str; 3] = ["TERM", "COLORTERM", "NO_COLOR"];

/// PATH after --reset-env, as login(1) and su set it.
pub const ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub const USER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Sort and remove duplicates: the kernel keeps the list as a set.
pub fn normalize_groups(mut groups: Vec<u32>) -> Vec<u32> {
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// Turn a name-service failure into an error that says what was looked up.
/// The words are made only on failure: a lookup that succeeds (every run)
/// does not format and quote a message it never prints.
fn lookup_error(
    what: impl FnOnce() -> String,
) -> impl FnOnce(crate::core::accounts::db::LookupError) -> Error {
    move |source| Error::Lookup {
        what: what(),
        source,
    }
}

/// The target user: its uid and, when the passwd database has it (and it
/// was needed), its entry.
struct Target {
    uid: u32,
    record: Option<UserRecord>,
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
            uid: *uid,
            record: None,
        }),
        IdSpec::Id(uid) => Ok(Target {
            uid: *uid,
            record: db
                .user_by_uid(*uid)
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

/// A group spec to its gid: ids as they are, names through the database.
fn resolve_group(spec: &IdSpec, db: &dyn UserDb) -> Result<u32> {
    match spec {
        IdSpec::Id(gid) => Ok(*gid),
        IdSpec::Name(name) => db
            .group_by_name(name)
            .map_err(lookup_error(|| {
                format!("group {} in the group database", quote(name))
            }))?
            .ok_or_else(|| Error::UnknownGroup(name.clone())),
    }
}

/// The home of an entry as runas uses it: empty means "/", as login(1)
/// reads it; so does a home that is not absolute, which would otherwise
/// be found from the caller's working directory (--chdir ~, a shell's cd).
fn home_of(record: Option<&UserRecord>) -> OsString {
    match record {
        Some(r) if r.home.as_encoded_bytes().first() == Some(&b'/') => r.home.clone(),
        _ => "/".into(),
    }
}

/// HOME, USER, LOGNAME and SHELL for the target user, as login(1) sets them.
fn user_environment(target: &Target) -> Vec<(OsString, OsString)> {
    let (name, shell) = match &target.record {
        Some(record) => (OsString::from(&record.name), record.shell.clone()),
        None => (OsString::from(target.uid.to_string()), OsString::new()),
    };
    // An empty shell field means /bin/sh, as login(1) reads it.
    let shell = if shell.is_empty() {
        "/bin/sh".into()
    } else {
        shell
    };
    vec![
        ("HOME".into(), home_of(target.record.as_ref())),
        ("USER".into(), name.clone()),
        ("LOGNAME".into(), name),
        ("SHELL".into(), shell),
    ]
}

/// The one resolver: a request (runas's, or gosu's and su-exec's, whose
/// rules differ where the table in compat.rs says) against the account
/// database and the process as it is, into a complete plan. Every lookup
/// happens here, before any change; newgrp mode's rules apply here too.
// Never inlined: see cli::parse.
#[inline(never)]
pub fn resolve(request: &Request, facts: &Facts, db: &dyn UserDb) -> Result<Plan> {
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

fn resolve_rules(request: &Request, facts: &Facts, db: &dyn UserDb) -> Result<Plan> {
    let current = &facts.credentials;
    let compat = request.rules != Rules::Runas;
    let restricted = newgrp::is_restricted(current, facts.at_secure);
    if restricted && compat {
        // gosu's and su-exec's rules would let a file capability set any gid.
        return Err(Error::NotPermitted(format!(
            "{} mode is not available when runas runs with a file capability for a non-root caller; use runas --group GROUP (newgrp mode)",
            request.rules.name()
        )));
    }
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
        not_applied = options_not_applied(request);
        as_caller_request = as_caller(request, facts.ambient);
        &as_caller_request
    };
    let restricted_request;
    let request = if restricted {
        restricted_request = newgrp::restrict(request.clone(), current)?;
        &restricted_request
    } else {
        request
    };
    // gosu and su-exec keep the caller's user for an empty USER, so
    // `ENTRYPOINT ["gosu", "$APP_USER"]` with the variable unset would run
    // the command as root, exit 0. Keeping root must be written.
    if compat && request.user.is_none() && current.uid.real == 0 {
        return Err(Error::Usage(format!(
            "the USER part is empty, which would keep root: write root or 0 to keep root (is a variable such as $APP_USER unset?); usage: {} USER[:GROUP] COMMAND",
            request.rules.name()
        )));
    }
    let user = match (&request.user, compat) {
        (None, true) => Some(IdSpec::Id(current.uid.real)),
        (user, _) => user.clone(),
    };
    // The entry gives the primary group, the name for the group database,
    // and HOME, USER, LOGNAME and SHELL; with all of those given otherwise,
    // a numeric uid needs no lookup at all.
    let entry = if compat
        || request.group.is_none()
        || matches!(
            request.policy,
            GroupPolicy::Init | GroupPolicy::Default | GroupPolicy::Members
        )
        || !request.env.keep_identity
        || needs_home(&request.process)
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
        (None, Some(Target { uid, record: None })) => return Err(Error::UidWithoutEntry(*uid)),
        (None, None) => current.gid.effective,
    };
    let uid = target.as_ref().map_or(current.uid.effective, |t| t.uid);

    // With a user, the default is --init-groups; without one, --keep-groups.
    let memberships = |record: &UserRecord, primary: u32| {
        db.group_list(&record.name, primary)
            .map_err(lookup_error(|| {
                format!(
                    "the groups of user {} in the group database",
                    quote(&record.name)
                )
            }))
    };
    let groups = match (&request.policy, &target) {
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
        (GroupPolicy::Init | GroupPolicy::Default, Some(Target { record: None, .. })) => vec![gid],
        // getgrouplist always adds the gid it is given: given (gid_t)-1,
        // which no group can have, it is removed again.
        (
            GroupPolicy::Members,
            Some(Target {
                record: Some(record),
                ..
            }),
        ) => {
            let mut groups = memberships(record, u32::MAX)?;
            groups.retain(|g| *g != u32::MAX);
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
    };
    let extra_groups = request
        .add_group_of
        .iter()
        .map(|path| {
            db.group_of_path(path).map_err(|problem| Error::UnsafePath {
                option: "--add-group-of",
                path: path.clone(),
                problem,
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    let groups = normalize_groups(groups.into_iter().chain(extra_groups).collect());
    if groups.len() > KERNEL_NGROUPS_MAX {
        return Err(Error::NotPermitted(format!(
            "the supplementary list has {} groups, more than the kernel's limit of {KERNEL_NGROUPS_MAX}",
            groups.len()
        )));
    }

    let (env, identity) = if compat {
        // gosu and su-exec set HOME alone.
        let home = home_of(target.as_ref().and_then(|t| t.record.as_ref()));
        let env = EnvPlan {
            set: vec![("HOME".into(), home)],
            ..EnvPlan::default()
        };
        (env, None)
    } else {
        let trusted = crate::options::env_sources::trusted_rules(facts, uid);
        environment(request, &target, uid, db, trusted, restricted)?
    };

    let mut process = request.process.clone();
    if let Some(dir) = &process.chdir {
        let home = identity
            .iter()
            .flatten()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| v.clone());
        process.chdir = Some(expand_tilde(dir, home.as_deref()));
    }
    if process.daemon.is_some() {
        // A daemon holds no directory busy: / unless --chdir.
        process.chdir.get_or_insert_with(|| "/".into());
    }
    process.listen_fds = systemd_sockets(facts, &env)?;
    check_process_options(&process, uid)?;
    if switching {
        contain_root_equivalent(&mut process)?;
    }

    let plan = Plan {
        uid,
        gid,
        groups,
        env,
        process,
        branch: Branch {
            rules: Some(request.rules),
            if_root: if_root.then_some(switching),
            not_applied,
        },
    };
    if restricted {
        newgrp::check_plan(&plan, current)?;
    }
    Ok(plan)
}

/// Whether --if-root makes the switch for a caller with this real uid
/// (--dump reports the same decision).
pub fn if_root_switches(real_uid: u32) -> bool {
    real_uid == 0
}

/// The request without what switches identity or needs privilege: --if-root
/// for a caller other than root. The environment, session and process
/// options stay; the capabilities are the caller's ambient ones, kept as
/// they are (a service with AmbientCapabilities= keeps binding port 80),
/// whatever --keep-caps said for the root branch. No containment is added
/// for a root-equivalent one: nothing is dropped, so nothing could be
/// undone, and the caller already holds it.
fn as_caller(request: &Request, ambient: u64) -> Request {
    let mut request = request.clone();
    request.user = None;
    request.group = None;
    request.policy = GroupPolicy::Keep;
    request.add_group_of.clear();
    let p = &mut request.process;
    p.keep_caps = ambient;
    p.allow_root_caps = ambient & caps::root_equivalent();
    p.bounding_drop = 0;
    p.securebits = Default::default();
    request
}

/// The options of `request` that `as_caller` sets aside, as the command
/// line names them, so --dry-run can say which.
fn options_not_applied(request: &Request) -> Vec<&'static str> {
    let p = &request.process;
    [
        (request.user.is_some(), "--user"),
        (request.group.is_some(), "--group"),
        (
            request.policy != GroupPolicy::Default,
            "the group list option",
        ),
        (!request.add_group_of.is_empty(), "--add-group-of"),
        (
            p.keep_caps != 0,
            "--keep-caps (the caller's ambient capabilities are kept instead)",
        ),
        (p.allow_root_caps != 0, "--allow-root-caps"),
        (p.bounding_drop != 0, "--bounding-set"),
        (p.securebits != Default::default(), "--securebits"),
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
        uid: ResIds::all(0),
        gid: ResIds::all(0),
        groups: Vec::new(),
    };
    root.at_secure = false;
    root
}

/// systemd's sockets are kept only for a target that sees LISTEN_PID and
/// LISTEN_FDS as they came: a target told nothing of them would hold them
/// without knowing. An invalid count is an error: which descriptors are
/// sockets would be a guess.
fn systemd_sockets(facts: &Facts, env: &EnvPlan) -> Result<u32> {
    let hidden = |name: &str| {
        env.clear || env.unset.iter().any(|n| n == name) || env.set.iter().any(|(n, _)| n == name)
    };
    match &facts.listen {
        Listen::None => Ok(0),
        Listen::Invalid(message) => Err(Error::Usage(message.clone())),
        Listen::Sockets(_) if hidden("LISTEN_PID") || hidden("LISTEN_FDS") => Ok(0),
        Listen::Sockets(count) => Ok(*count),
    }
}

/// runas's environment rules: the target's identity variables (or, with
/// --reset-env and no --user, the current user's: a reset environment
/// still needs a HOME), PATH after a reset, then -e, --unset, --env-file
/// and --envdir in command-line order, each later one winning.
#[allow(clippy::type_complexity)]
fn environment(
    request: &Request,
    target: &Option<Target>,
    uid: u32,
    db: &dyn UserDb,
    trusted: bool,
    restricted: bool,
) -> Result<(EnvPlan, Option<Vec<(OsString, OsString)>>)> {
    let identity = match target {
        Some(target) => Some(user_environment(target)),
        None if request.env.reset || needs_home(&request.process) => Some(user_environment(
            &resolve_user(&IdSpec::Id(uid), db, Entry::Wanted)?,
        )),
        None => None,
    };
    let mut set = Vec::new();
    if !request.env.keep_identity
        && (target.is_some() || request.env.reset)
        && let Some(identity) = &identity
    {
        set.extend(identity.iter().cloned());
    }
    if request.env.reset {
        let path = if uid == 0 { ROOT_PATH } else { USER_PATH };
        set.push(("PATH".into(), path.into()));
    }
    let mut unset: Vec<OsString> = Vec::new();
    let mut from_files: Vec<OsString> = Vec::new();
    for change in
        crate::options::env_sources::resolve(&request.env.changes, db, trusted, restricted)?
    {
        set.retain(|(name, _)| *name != change.name);
        unset.retain(|name| *name != change.name);
        from_files.retain(|name| *name != change.name);
        match change.value {
            Some(value) => {
                if change.file.is_some() {
                    from_files.push(change.name.clone());
                }
                set.push((change.name, value));
            }
            None => unset.push(change.name),
        }
    }
    let env = EnvPlan {
        clear: request.env.reset,
        unset,
        set,
        from_files,
    };
    Ok((env, identity))
}

fn needs_home(process: &ProcessRequest) -> bool {
    process
        .chdir
        .as_ref()
        .is_some_and(|dir| dir.as_encoded_bytes().first() == Some(&b'~'))
}

/// `~` and `~/dir` name the target's home; anything else is taken as given.
pub fn expand_tilde(dir: &std::ffi::OsStr, home: Option<&std::ffi::OsStr>) -> OsString {
    let bytes = dir.as_encoded_bytes();
    let home = home.unwrap_or(std::ffi::OsStr::new("/"));
    if bytes == b"~" {
        home.to_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"~/") {
        let mut path = std::path::PathBuf::from(home);
        path.push(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rest));
        path.into_os_string()
    } else {
        dir.to_owned()
    }
}

/// --keep-caps with a capability that amounts to root
/// (caps::ROOT_EQUIVALENT) is refused unless --allow-root-caps names
/// it. Where one is allowed, the target still cannot gain more through
/// file capabilities: no_new_privs, and a bounding set of exactly what it
/// keeps.
fn contain_root_equivalent(process: &mut ProcessRequest) -> Result<()> {
    let root = caps::root_equivalent();
    let stray = process.allow_root_caps & !(process.keep_caps & root);
    if stray != 0 {
        return Err(Error::Usage(format!(
            "--allow-root-caps {}: each must be a capability that amounts to root and is in --keep-caps",
            caps::describe(stray)
        )));
    }
    let refused = process.keep_caps & root & !process.allow_root_caps;
    if let Some(cap) = caps::each(refused).next() {
        return Err(Error::NotPermitted(format!(
            "--keep-caps {} amounts to root: {}, so the switch could be undone; to keep it anyway, add --allow-root-caps {}",
            caps::name(cap),
            caps::why_root_equivalent(cap).unwrap_or("it amounts to root"),
            caps::name(cap).trim_start_matches("cap_")
        )));
    }
    if process.allow_root_caps != 0 {
        process.no_new_privs = true;
        process.bounding_drop |= !process.keep_caps;
    }
    Ok(())
}

/// Combinations that cannot do what they say.
fn check_process_options(process: &ProcessRequest, uid: u32) -> Result<()> {
    if process.keep_caps != 0 && uid == 0 {
        return Err(Error::Usage(
            "--keep-caps is for a target other than root: root already keeps its capabilities"
                .into(),
        ));
    }
    let both = process.keep_caps & process.bounding_drop;
    if both != 0 {
        return Err(Error::Usage(format!(
            "{} would be both kept (--keep-caps) and dropped from the bounding set (--bounding-set)",
            caps::describe(both)
        )));
    }
    if process.keep_caps != 0 && process.securebits.set & spec::SECBIT_NO_CAP_AMBIENT_RAISE != 0 {
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
    use crate::testing::{FakeDb, db, facts, root};

    fn name(s: &str) -> IdSpec {
        IdSpec::Name(s.into())
    }

    fn request(user: Option<IdSpec>, group: Option<IdSpec>, policy: GroupPolicy) -> Request {
        Request {
            user,
            group,
            policy,
            ..Request::new(Rules::Runas)
        }
    }

    fn resolve(request: &Request, current: &Credentials, db: &dyn UserDb) -> Result<Plan> {
        super::resolve(request, &facts(current.clone()), db)
    }

    fn env_of(plan: &Plan, key: &str) -> Option<String> {
        plan.env
            .set
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string_lossy().into_owned())
    }

    fn if_root(user: &str) -> Request {
        let mut r = request(Some(name(user)), None, GroupPolicy::Default);
        r.if_root = true;
        r
    }

    #[test]
    fn if_root_from_root_is_the_plain_switch() {
        let plain = resolve(
            &request(Some(name("alice")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        let plan = resolve(&if_root("alice"), &root(), &db()).unwrap();
        assert_eq!(plan.branch.if_root, Some(true));
        assert_eq!(
            (plan.uid, plan.gid, &plan.groups),
            (plain.uid, plain.gid, &plain.groups)
        );
        assert_eq!(plan.env, plain.env);
        assert_eq!(plan.process, plain.process);
    }

    #[test]
    fn if_root_from_another_uid_keeps_the_caller_and_its_ambient_caps() {
        let caller = crate::testing::caller(1000680000, 0, &[]);
        let mut f = facts(caller);
        let net_bind_service = 1u64 << 10;
        let sys_admin = 1u64 << 21;
        f.caps.permitted = net_bind_service | sys_admin;
        f.ambient = net_bind_service | sys_admin;
        let mut request = if_root("alice");
        request.policy = GroupPolicy::Clear;
        request.process.bounding_drop = !net_bind_service;
        let plan = super::resolve(&request, &f, &db()).unwrap();
        assert_eq!(plan.branch.if_root, Some(false));
        assert_eq!(
            (plan.uid, plan.gid, plan.groups.as_slice()),
            (1000680000, 0, &[][..])
        );
        // Kept as they are: no containment added, nothing dropped.
        assert_eq!(plan.process.keep_caps, net_bind_service | sys_admin);
        assert_eq!(plan.process.bounding_drop, 0);
        assert!(!plan.process.no_new_privs);
    }

    #[test]
    fn if_root_from_another_uid_still_checks_the_whole_request() {
        let caller = crate::testing::caller(1000, 1000, &[1000]);
        let err = resolve(&if_root("nobody-here"), &caller, &db()).unwrap_err();
        assert!(err.to_string().contains("nobody-here"), "{err}");
        let mut request = if_root("alice");
        request.process.keep_caps = 1 << 21; // sys_admin, without --allow-root-caps
        let err = resolve(&request, &caller, &db()).unwrap_err();
        assert!(err.to_string().contains("amounts to root"), "{err}");
    }

    #[test]
    fn init_groups_for_a_uid_without_an_entry_is_refused_not_ignored() {
        let mut r = request(
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
        assert_eq!(resolve(&r, &root(), &db()).unwrap().groups, [4242]);
    }

    #[test]
    fn user_by_name_gets_primary_and_database_groups() {
        let plan = resolve(
            &request(Some(name("alice")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (1500, 1500));
        assert_eq!(plan.groups, vec![1500, 1700, 1701]);
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/home/alice"));
        assert_eq!(env_of(&plan, "USER").as_deref(), Some("alice"));
        assert_eq!(env_of(&plan, "LOGNAME").as_deref(), Some("alice"));
        assert_eq!(env_of(&plan, "SHELL").as_deref(), Some("/bin/bash"));
    }

    #[test]
    fn user_with_group_uses_that_group_as_primary_and_keeps_memberships() {
        let plan = resolve(
            &request(
                Some(name("alice")),
                Some(name("jupiter")),
                GroupPolicy::Default,
            ),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (1500, 1700));
        assert_eq!(plan.groups, vec![1700, 1701]);
    }

    #[test]
    fn all_digit_spec_is_an_id_even_when_a_user_has_that_name() {
        // "4242" is the name of a uid-0 account; the spec must mean uid 4242.
        let err = resolve(
            &request(Some(IdSpec::Id(4242)), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::UidWithoutEntry(4242)), "{err}");
        assert!(err.to_string().contains("give --group"));

        let plan = resolve(
            &request(
                Some(IdSpec::Id(4242)),
                Some(IdSpec::Id(4243)),
                GroupPolicy::Default,
            ),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (4242, 4243));
        assert_eq!(plan.groups, vec![4243]);
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/"));
        assert_eq!(env_of(&plan, "USER").as_deref(), Some("4242"));
        assert_eq!(env_of(&plan, "LOGNAME").as_deref(), Some("4242"));
        assert_eq!(env_of(&plan, "SHELL").as_deref(), Some("/bin/sh"));
    }

    #[test]
    fn numeric_uid_with_entry_uses_its_passwd_fields() {
        let plan = resolve(
            &request(Some(IdSpec::Id(1500)), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (1500, 1500));
        assert_eq!(plan.groups, vec![1500, 1700, 1701]);
        assert_eq!(env_of(&plan, "USER").as_deref(), Some("alice"));
    }

    #[test]
    fn empty_home_and_shell_fields_become_root_dir_and_bin_sh() {
        let plan = resolve(
            &request(Some(name("bob")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/"));
        assert_eq!(env_of(&plan, "SHELL").as_deref(), Some("/bin/sh"));
        // A relative home is no home either, for HOME and for --chdir ~.
        let mut req = request(Some(name("relative")), None, GroupPolicy::Default);
        req.process.chdir = Some("~/src".into());
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/"));
        assert_eq!(
            plan.process.chdir.as_deref(),
            Some(std::ffi::OsStr::new("/src"))
        );
    }

    #[test]
    fn primary_gid_without_group_entry_is_kept() {
        let plan = resolve(
            &request(Some(name("orphan")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (1502, 1999));
        assert_eq!(plan.groups, vec![1999]);
    }

    #[test]
    fn group_alone_keeps_uid_and_list_and_environment() {
        let plan = resolve(
            &request(None, Some(name("jupiter")), GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!((plan.uid, plan.gid), (0, 1700));
        assert_eq!(plan.groups, vec![0, 4, 27]);
        assert_eq!(plan.env, EnvPlan::default());
    }

    #[test]
    fn numeric_group_named_like_root_group_is_still_the_id() {
        let plan = resolve(
            &request(None, Some(IdSpec::Id(4243)), GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(plan.gid, 4243);
    }

    #[test]
    fn explicit_policies() {
        let alice = || Some(name("alice"));
        let keep = resolve(&request(alice(), None, GroupPolicy::Keep), &root(), &db()).unwrap();
        assert_eq!(keep.groups, vec![0, 4, 27]);
        let clear = resolve(&request(alice(), None, GroupPolicy::Clear), &root(), &db()).unwrap();
        assert_eq!(clear.groups, Vec::<u32>::new());
        let list = resolve(
            &request(
                alice(),
                None,
                GroupPolicy::List(vec![name("saturn"), IdSpec::Id(31337), IdSpec::Id(31337)]),
            ),
            &root(),
            &db(),
        )
        .unwrap();
        assert_eq!(list.groups, vec![1701, 31337]);
        let init = resolve(&request(alice(), None, GroupPolicy::Init), &root(), &db()).unwrap();
        assert_eq!(init.groups, vec![1500, 1700, 1701]);
        let clear_only = resolve(&request(None, None, GroupPolicy::Clear), &root(), &db()).unwrap();
        assert_eq!(
            (clear_only.uid, clear_only.gid, clear_only.groups.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn init_groups_without_user_is_a_usage_error() {
        let err = resolve(
            &request(None, Some(name("jupiter")), GroupPolicy::Init),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
    }

    #[test]
    fn unknown_names_fail_and_are_quoted() {
        let err = resolve(
            &request(Some(name("mallory")), None, GroupPolicy::Default),
            &root(),
            &db(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown user \"mallory\": there is no such entry in the passwd database"
        );
        let err = resolve(
            &request(
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
            &request(
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
            request(Some(name("alice")), None, GroupPolicy::Default),
            request(
                Some(IdSpec::Id(1500)),
                Some(IdSpec::Id(1500)),
                GroupPolicy::Default,
            ),
            request(None, Some(name("jupiter")), GroupPolicy::Default),
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
        let mut req = request(
            Some(IdSpec::Id(1500)),
            Some(IdSpec::Id(1700)),
            GroupPolicy::List(vec![IdSpec::Id(1701)]),
        );
        req.env.keep_identity = true;
        for policy in [
            GroupPolicy::List(vec![IdSpec::Id(1701)]),
            GroupPolicy::Clear,
            GroupPolicy::Keep,
        ] {
            req.policy = policy;
            let plan = resolve(&req, &root(), &broken).unwrap();
            assert_eq!((plan.uid, plan.gid), (1500, 1700));
            assert!(plan.env.set.is_empty(), "{:?}", plan.env);
        }
        // Each thing the entry would give makes the lookup necessary again.
        let mut needs_group = req.clone();
        needs_group.group = None;
        let mut needs_memberships = req.clone();
        needs_memberships.policy = GroupPolicy::Init;
        let mut needs_environment = req.clone();
        needs_environment.env.keep_identity = false;
        let mut needs_home = req.clone();
        needs_home.process.chdir = Some("~/src".into());
        for req in [
            needs_group,
            needs_memberships,
            needs_environment,
            needs_home,
        ] {
            let err = resolve(&req, &root(), &broken).unwrap_err();
            assert!(matches!(err, Error::Lookup { .. }), "{req:?}: {err}");
        }
    }

    #[test]
    fn add_group_of_joins_every_policy() {
        let mut req = request(Some(name("alice")), None, GroupPolicy::Clear);
        req.add_group_of = vec!["/dev/kvm".into(), "/dev/kvm".into()];
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert_eq!(plan.groups, vec![44]);
        let mut req = request(None, None, GroupPolicy::Default);
        req.add_group_of = vec!["/dev/kvm".into()];
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert_eq!(plan.groups, vec![0, 4, 27, 44]);
        req.add_group_of = vec!["/no/such".into()];
        assert!(matches!(
            resolve(&req, &root(), &db()).unwrap_err(),
            Error::UnsafePath { .. }
        ));
    }

    #[test]
    fn environment_changes_apply_in_command_line_order_after_the_identity() {
        use crate::request::spec::EnvChange::{Dir, File, Set, Unset};
        let db = db()
            .file("/etc/app.env", "A=file\nB=file\nHOME=/srv/app\n")
            .file("/etc/app.d/B", "")
            .file("/etc/app.d/C", "dir\n");
        let mut req = request(Some(name("alice")), None, GroupPolicy::Default);
        req.env.changes = vec![
            Set("A".into(), "option".into()),
            File("/etc/app.env".into()),
            Unset("SHELL".into()),
            Dir("/etc/app.d".into()),
            Set("C".into(), "last".into()),
        ];
        let plan = resolve(&req, &root(), &db).unwrap();
        assert_eq!(env_of(&plan, "A").as_deref(), Some("file"));
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/srv/app"));
        assert_eq!(env_of(&plan, "C").as_deref(), Some("last"));
        assert_eq!(env_of(&plan, "B"), None);
        // An identity variable removed after it was set stays removed, and
        // no name is both set and removed.
        assert_eq!(env_of(&plan, "SHELL"), None);
        assert!(plan.env.unset.contains(&"SHELL".into()));
        assert!(plan.env.unset.contains(&"B".into()));
        for (name, _) in &plan.env.set {
            assert!(!plan.env.unset.contains(name), "{name:?}");
        }
        // Each name once, the last value.
        let names: Vec<_> = plan.env.set.iter().map(|(k, _)| k).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len());
    }

    #[test]
    fn an_env_file_is_read_for_both_branches_of_if_root() {
        // The caller branch still resolves the whole request as root would:
        // a file root would refuse fails for the non-root caller too.
        let mut req = if_root("alice");
        req.env.changes = vec![crate::request::spec::EnvChange::File("/missing.env".into())];
        let err = resolve(&req, &crate::testing::caller(1000, 1000, &[]), &db()).unwrap_err();
        assert!(err.to_string().contains("--env-file"), "{err}");
    }

    #[test]
    fn reset_keep_and_explicit_environment() {
        let mut req = request(Some(name("alice")), None, GroupPolicy::Default);
        req.env.reset = true;
        req.env.changes = vec![crate::request::spec::EnvChange::Set(
            "HOME".into(),
            "/elsewhere".into(),
        )];
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert!(plan.env.clear);
        assert_eq!(env_of(&plan, "PATH").as_deref(), Some(USER_PATH));
        // -e is applied last, so it wins over the identity variables.
        let homes: Vec<_> = plan.env.set.iter().filter(|(k, _)| k == "HOME").collect();
        assert_eq!(homes.last().unwrap().1, "/elsewhere");

        let mut keep = request(Some(name("alice")), None, GroupPolicy::Default);
        keep.env.keep_identity = true;
        assert!(resolve(&keep, &root(), &db()).unwrap().env.set.is_empty());

        let mut root_reset = request(None, Some(name("jupiter")), GroupPolicy::Default);
        root_reset.env.reset = true;
        let plan = resolve(&root_reset, &root(), &db()).unwrap();
        assert_eq!(env_of(&plan, "PATH").as_deref(), Some(ROOT_PATH));
        assert_eq!(env_of(&plan, "HOME").as_deref(), Some("/root"));
    }

    #[test]
    fn tilde_is_the_target_home() {
        let mut req = request(Some(name("alice")), None, GroupPolicy::Default);
        req.process.chdir = Some("~/src".into());
        let plan = resolve(&req, &root(), &db()).unwrap();
        assert_eq!(plan.process.chdir.unwrap(), "/home/alice/src");
        req.process.chdir = Some("~".into());
        assert_eq!(
            resolve(&req, &root(), &db())
                .unwrap()
                .process
                .chdir
                .unwrap(),
            "/home/alice"
        );
        req.process.chdir = Some("/tmp/~x".into());
        assert_eq!(
            resolve(&req, &root(), &db())
                .unwrap()
                .process
                .chdir
                .unwrap(),
            "/tmp/~x"
        );
    }

    #[test]
    fn capability_option_conflicts_are_refused() {
        let mut req = request(Some(name("root")), None, GroupPolicy::Default);
        req.process.keep_caps = 1 << 10;
        assert!(
            resolve(&req, &root(), &db())
                .unwrap_err()
                .to_string()
                .contains("other than root")
        );
        let mut req = request(Some(name("alice")), None, GroupPolicy::Default);
        req.process.keep_caps = 1 << 10;
        req.process.bounding_drop = u64::MAX;
        assert!(
            resolve(&req, &root(), &db())
                .unwrap_err()
                .to_string()
                .contains("cap_net_bind_service")
        );
        req.process.bounding_drop = 0;
        req.process.securebits.set = spec::SECBIT_NO_CAP_AMBIENT_RAISE;
        assert!(resolve(&req, &root(), &db()).is_err());
    }

    #[test]
    fn a_user_in_two_thousand_groups_keeps_them_all() {
        let mut big = db().user("crowd", 1600, 1600, "/", "/bin/sh");
        for i in 0..2000 {
            big = big.group(&format!("g{i}"), 20000 + i, &["crowd"]);
        }
        let plan = resolve(
            &request(Some(name("crowd")), None, GroupPolicy::Default),
            &root(),
            &big,
        )
        .unwrap();
        assert_eq!(plan.groups.len(), 2001);
    }
}
