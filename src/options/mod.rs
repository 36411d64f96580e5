//! What the options add around the switch: the environment and its files,
//! groups of paths, limits and priorities, sessions and daemons, the
//! terminal defence, process attributes, newgrp mode. Each option resolves
//! what it needs (before any change, as the core resolves the identity) and
//! hands the core its steps as [`Step`]s, through `core::steps::Extra`: the core
//! places them and runs them with its own. No option reaches into another.

pub mod env;
pub mod groups;
pub mod newgrp;
pub mod process;
pub mod resources;
pub mod session;
pub mod terminal;

use crate::base::error::{Error, Result};
use crate::core::call::{Arg, Call};
use crate::core::exec::EnvPlan;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Extras;
use crate::core::steps::{Context, Extra, Flow};
use crate::paths::Files;
use nix::sys::signal::Signal;
use nix::unistd::{getpid, getppid};
use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// What the command line asks of the options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub env: env::Request,
    /// --add-group-of: paths whose owning group joins the supplementary list.
    pub add_group_of: Vec<PathBuf>,
    pub pdeathsig: Option<Signal>,
    pub keep_tty: bool,
    pub chdir: Option<OsString>,
    pub umask: Option<u32>,
    /// With --close-fds: the descriptors named by --keep-fd.
    pub close_fds: Option<Vec<i32>>,
    pub session: session::Session,
    /// --daemon, with its pidfile, log and deadline.
    pub daemon: Option<session::Daemon>,
    /// --rlimit, --nice, --oom-score-adj, --ioprio, --cpu-affinity.
    pub resources: resources::Resources,
}

impl Request {
    /// Whether the options use the target's passwd entry: its HOME, USER,
    /// LOGNAME and SHELL for the environment, its home for `--chdir ~`.
    pub fn wants_entry(&self) -> bool {
        !self.env.keep_identity || process::needs_home(self.chdir.as_deref())
    }
}

/// What the options need to know of the process as runas found it, before
/// it opened anything.
#[derive(Debug, Clone)]
pub struct Inherited {
    /// systemd's socket-activation descriptors.
    pub listen: process::Listen,
}

impl Inherited {
    pub fn observe(facts: &Facts, promise: crate::sys::WholeProgram) -> Inherited {
        Inherited {
            listen: process::Listen::observe(facts.pid, promise),
        }
    }
}

/// What the options resolved to, before any change.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub request: Request,
    /// The environment the command gets.
    pub env: EnvPlan,
    /// systemd's socket-activation descriptors for this process (3 and up),
    /// kept through --close-fds while the target sees LISTEN_FDS.
    pub listen_fds: u32,
}

/// Resolve the options against the identity plan, before any change: read
/// the environment files, add the groups of --add-group-of to the plan,
/// find systemd's sockets, expand `--chdir ~`; in newgrp mode, check the
/// result against its rules.
pub fn resolve(
    mut request: Request,
    plan: &mut Plan,
    facts: &Facts,
    inherited: &Inherited,
    db: &dyn crate::accounts::db::UserDb,
    files: &dyn Files,
) -> Result<Resolved> {
    let caller_branch = plan.branch.if_root == Some(false);
    if caller_branch && !request.add_group_of.is_empty() {
        plan.branch.not_applied.push("--add-group-of");
        request.add_group_of.clear();
    }
    plan.add_groups(groups::of_paths(&request.add_group_of, files)?)?;
    let needs_home = process::needs_home(request.chdir.as_deref());
    let env = env::plan(&request.env, plan, facts, db, files, needs_home)?;
    if facts.restricted() {
        newgrp::check_files(&env.from_files)?;
        newgrp::check_plan(plan, &facts.credentials)?;
    }
    if let Some(dir) = &request.chdir {
        request.chdir = Some(process::expand_tilde(dir, &env.home));
    }
    if request.daemon.is_some() {
        // A daemon holds no directory busy: / unless --chdir.
        request.chdir.get_or_insert_with(|| "/".into());
    }
    let listen_fds = inherited.listen.kept(&env.env)?;
    Ok(Resolved {
        request,
        env: env.env,
        listen_fds,
    })
}

/// The options' steps, before any change; refuses what the caller has no
/// privilege for.
pub fn steps(resolved: &Resolved, plan: &Plan, facts: &Facts) -> Result<Extras<Step>> {
    let r = &resolved.request;
    let mut extras = Extras::default();
    if let Some(daemon) = &r.daemon {
        extras.before.push(Step::OccupyStdio);
        if let Some(path) = &daemon.pidfile {
            extras.before.push(Step::LockPidfile(path.clone()));
        }
        extras.before.push(Step::Daemonize {
            timeout: daemon.timeout,
        });
        extras.before.push(Step::DaemonStdio {
            pidfile: daemon.pidfile.is_some(),
        });
    }
    // The terminal defence and --setsid: one new session serves both (a
    // detach in place is then not needed: setsid leaves the terminal too).
    let setsid = r.session == session::Session::Setsid;
    let new_session = match terminal::decide(plan, r, facts)? {
        terminal::Defence::NewSession(why, revoke) => {
            Some((Some(why.text()), revoke.map(terminal::Terminal::keep_open)))
        }
        terminal::Defence::Detach(_) if setsid => Some((None, None)),
        terminal::Defence::Detach(tty) => {
            extras.before.push(Step::DetachTerminal(tty));
            None
        }
        terminal::Defence::None(kept) => {
            if let Some(note) = kept.note() {
                extras.before.push(Step::KeepTerminal(note));
            }
            setsid.then_some((None, None))
        }
    };
    let forks = facts.leads_process_group;
    if let Some((why, revoke)) = new_session {
        extras.before.push(Step::NewSession(session::NewSession {
            fork: forks,
            pid_one: facts.pid_one(),
            why,
            revoke,
            pdeathsig: r.pdeathsig,
        }));
    }
    // Limits and priorities need privilege the target will not have: set
    // before the switch, in the process that will exec (after any fork).
    let limits = resources::settings(&r.resources, facts)?;
    extras
        .before
        .extend(limits.iter().cloned().map(Step::Resource));
    if let Some(log) = r.daemon.as_ref().and_then(|d| d.log.clone()) {
        extras.after.push(Step::OpenLog {
            path: log,
            as_target: plan.uid != crate::request::ids::Uid::ROOT,
        });
    }
    // A process that leads its group already has what --new-pgroup asks
    // (setpgid would fail there: a session leader always leads one).
    if r.session == session::Session::NewProcessGroup
        && new_session.is_none()
        && !facts.leads_process_group
    {
        extras.after.push(Step::NewProcessGroup);
    }
    let forked = r.daemon.is_some() || (new_session.is_some() && forks);
    if forked && resolved.listen_fds > 0 {
        extras.after.push(Step::ListenPid);
    }
    let settings = process::settings(r, resolved.listen_fds);
    extras
        .after
        .extend(settings.iter().cloned().map(Step::Setting));
    if !limits.is_empty() {
        extras.checks.push(Step::CheckResources(limits));
    }
    if !settings.is_empty() {
        extras.checks.push(Step::CheckSettings(settings));
    }
    if r.daemon.is_some() {
        extras.checks.push(Step::Notify);
    }
    Ok(extras)
}

/// One step of an option.
#[derive(Debug)]
pub enum Step {
    /// A daemon's descriptors 0-2 are taken by /dev/null where the caller
    /// left them closed, so that nothing runas opens lands there.
    OccupyStdio,
    /// --pidfile: opened and write-locked by root, through root-owned
    /// directories, before anything else.
    LockPidfile(PathBuf),
    /// --daemon: fork (the caller waits for the daemon's word, for at most
    /// this many seconds), setsid, fork again.
    Daemonize { timeout: Option<u32> },
    /// In the daemon: its pid into the pidfile; standard descriptors to
    /// /dev/null (stdout and stderr until --log replaces them).
    DaemonStdio { pidfile: bool },
    /// The terminal defence, in place.
    DetachTerminal(terminal::Terminal),
    /// No terminal defence, although there is a terminal: why.
    KeepTerminal(String),
    /// A session of its own for the target.
    NewSession(session::NewSession),
    /// A limit or priority, set while runas may, read back.
    Resource(resources::Setting),
    /// --log: opened, then made stdout and stderr.
    OpenLog { path: PathBuf, as_target: bool },
    /// --new-pgroup.
    NewProcessGroup,
    /// A forked target is told its own pid as LISTEN_PID: systemd passed
    /// the sockets to runas's.
    ListenPid,
    /// One process setting (process.rs).
    Setting(process::Setting),
    /// Before exec: the limits and priorities set before the switch still
    /// hold.
    CheckResources(Vec<resources::Setting>),
    /// Before exec: the process settings read back.
    CheckSettings(Vec<process::Setting>),
    /// The daemon tells its caller it is about to exec.
    Notify,
}

/// What the option steps leave for the next ones.
#[derive(Default)]
pub struct State {
    /// The pidfile, from its lock to the daemon's record of its pid.
    pidfile: Option<session::Pidfile>,
    /// The daemon's read-only, locked descriptor of its pidfile.
    lock: Option<RawFd>,
    /// The daemon's report to its caller.
    status: Option<session::StatusPipe>,
}

impl Extra for Step {
    type State = State;

    fn calls(&self) -> Vec<Call> {
        match self {
            Step::OccupyStdio => session::occupy_calls(),
            Step::LockPidfile(path) => session::lock_calls(path),
            Step::Daemonize { .. } => session::daemonize_calls(),
            Step::DaemonStdio { pidfile } => session::daemon_stdio_calls(*pidfile),
            Step::DetachTerminal(tty) => vec![
                Call::new(
                    "ioctl",
                    vec![Arg::Num(tty.fd().into()), Arg::name("TIOCNOTTY")],
                ),
                // The proof: it answers only on one's own terminal.
                Call::new(
                    "ioctl",
                    vec![Arg::Num(tty.fd().into()), Arg::name("TIOCGPGRP")],
                )
                .failing("ENOTTY"),
            ],
            Step::KeepTerminal(_) => Vec::new(),
            Step::NewSession(new) => new.calls(),
            Step::Resource(setting) => setting.calls(),
            Step::OpenLog { path, as_target } => session::log_calls(path, *as_target),
            Step::NewProcessGroup => vec![Call::new("setpgid", vec![Arg::Num(0), Arg::Num(0)])],
            Step::ListenPid => Vec::new(),
            Step::Setting(setting) => setting.calls(),
            Step::CheckResources(settings) => resources::check_calls(settings),
            Step::CheckSettings(settings) => process::check_calls(settings),
            Step::Notify => vec![Call::new(
                "write",
                vec![Arg::Later("the status pipe"), Arg::Text("exec\n".into())],
            )],
        }
    }

    fn elsewhere(&self) -> Vec<(&'static str, Vec<Call>)> {
        match self {
            Step::NewSession(new) if new.fork => {
                vec![("the waiting parent", new.waiter_calls())]
            }
            Step::Daemonize { .. } => vec![("the middle process", session::middle_calls())],
            _ => Vec::new(),
        }
    }

    fn note(&self) -> Option<String> {
        match self {
            Step::OccupyStdio => Some("for each of 0-2 the caller left closed".into()),
            Step::Daemonize { timeout } => Some(match timeout {
                Some(seconds) => format!(
                    "the caller waits for the daemon's word for {seconds} s at most, then kills it"
                ),
                None => {
                    "the caller waits for the daemon's word for ever (--daemon-timeout 0)".into()
                }
            }),
            Step::DetachTerminal(_) => Some("the controlling terminal, given up in place".into()),
            Step::KeepTerminal(note) => Some(note.clone()),
            Step::NewSession(new) => Some(new.note()),
            Step::Resource(setting) => setting.note(),
            Step::ListenPid => Some(
                "LISTEN_PID=<the command's pid> (runas forked: systemd's sockets follow)".into(),
            ),
            Step::Setting(setting) => setting.note(),
            Step::CheckResources(_) => {
                Some("the limits and priorities set before the switch still hold".into())
            }
            Step::CheckSettings(_) => Some("the process settings read back".into()),
            Step::Notify => Some("the daemon tells its caller it is about to exec".into()),
            _ => None,
        }
    }

    fn apply(self, context: &mut Context<'_>, state: &mut State) -> Result<Flow> {
        match self {
            Step::OccupyStdio => session::occupy_standard_fds()?,
            Step::LockPidfile(path) => state.pidfile = Some(session::Pidfile::open_locked(&path)?),
            Step::Daemonize { timeout } => {
                match session::daemonize(state.pidfile.take(), timeout, context.promise)? {
                    session::Forked::Caller => return Ok(Flow::Done),
                    session::Forked::Daemon { status, pidfile } => {
                        state.status = Some(status);
                        state.pidfile = pidfile;
                        // Its parent is init (or the nearest subreaper).
                        context.parent = getppid();
                    }
                }
            }
            Step::DaemonStdio { .. } => {
                if let Some(pidfile) = state.pidfile.take() {
                    state.lock = Some(pidfile.record(getpid())?);
                }
                session::stdio_to_null()?;
            }
            Step::DetachTerminal(tty) => terminal::detach(&tty)?,
            Step::KeepTerminal(_) => {}
            Step::NewSession(new) => {
                context.parent = session::enter_new_session(new, context.parent, context.promise)?;
            }
            Step::Resource(setting) => resources::apply(&setting)?,
            Step::OpenLog { path, .. } => session::redirect_to_log(&path, context.plan.uid)?,
            Step::NewProcessGroup => session::enter_process_group()?,
            Step::ListenPid => context
                .env
                .set
                .push(("LISTEN_PID".into(), getpid().to_string().into())),
            Step::Setting(setting) => process::apply(&setting, context.parent, state.lock)?,
            Step::CheckResources(settings) => resources::verify(&settings)?,
            Step::CheckSettings(settings) => process::verify(&settings, state.lock)?,
            Step::Notify => {
                if let Some(status) = &state.status {
                    status.about_to_exec();
                }
            }
        }
        Ok(Flow::Next)
    }

    /// In the daemon, a failure goes to the caller, which prints it.
    fn failed(state: &State, error: Error) -> Error {
        match &state.status {
            Some(status) => status.fail(&error),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::Error;
    use crate::request::ids::IdSpec;
    use crate::request::{GroupPolicy, Identity};
    use crate::testing::{FakeDb, caller, db, facts, resolve_all, root};
    use env::Change::{Dir, File, Set, Unset};

    fn alice(policy: GroupPolicy) -> Identity {
        Identity {
            user: Some(IdSpec::Name("alice".into())),
            policy,
            ..Identity::default()
        }
    }

    fn value(env: &EnvPlan, key: &str) -> Option<String> {
        env.set
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string_lossy().into_owned())
    }

    fn groups(plan: &Plan) -> Vec<u32> {
        plan.groups.iter().map(|g| g.raw()).collect()
    }

    #[test]
    fn add_group_of_joins_every_policy() {
        let mut req = Request {
            add_group_of: vec!["/dev/kvm".into(), "/dev/kvm".into()],
            ..Request::default()
        };
        let f = facts(root());
        let (plan, _) = resolve_all(&alice(GroupPolicy::Clear), req.clone(), &f, &db()).unwrap();
        assert_eq!(groups(&plan), [44]);
        let group_only = Identity::default();
        req.add_group_of = vec!["/dev/kvm".into()];
        let (plan, _) = resolve_all(&group_only, req.clone(), &f, &db()).unwrap();
        assert_eq!(groups(&plan), [0, 4, 27, 44]);
        req.add_group_of = vec!["/no/such".into()];
        assert!(matches!(
            resolve_all(&group_only, req, &f, &db()).unwrap_err(),
            Error::UnsafePath { .. }
        ));
    }

    #[test]
    fn add_group_of_is_not_applied_in_the_caller_branch_of_if_root() {
        let mut identity = alice(GroupPolicy::Default);
        identity.if_root = true;
        let req = Request {
            add_group_of: vec!["/dev/kvm".into()],
            ..Request::default()
        };
        let (plan, _) =
            resolve_all(&identity, req, &facts(caller(1000, 1000, &[1000])), &db()).unwrap();
        assert_eq!(groups(&plan), [1000]);
        assert!(plan.branch.not_applied.contains(&"--add-group-of"));
    }

    #[test]
    fn environment_changes_apply_in_command_line_order_after_the_identity() {
        let db = db()
            .file("/etc/app.env", "A=file\nB=file\nHOME=/srv/app\n")
            .file("/etc/app.d/B", "")
            .file("/etc/app.d/C", "dir\n");
        let mut req = Request::default();
        req.env.changes = vec![
            Set("A".into(), "option".into()),
            File("/etc/app.env".into()),
            Unset("SHELL".into()),
            Dir("/etc/app.d".into()),
            Set("C".into(), "last".into()),
        ];
        let (_, resolved) =
            resolve_all(&alice(GroupPolicy::Default), req, &facts(root()), &db).unwrap();
        let env = &resolved.env;
        assert_eq!(value(env, "A").as_deref(), Some("file"));
        assert_eq!(value(env, "HOME").as_deref(), Some("/srv/app"));
        assert_eq!(value(env, "C").as_deref(), Some("last"));
        assert_eq!(value(env, "B"), None);
        // An identity variable removed after it was set stays removed, and
        // no name is both set and removed.
        assert_eq!(value(env, "SHELL"), None);
        assert!(env.unset.contains(&"SHELL".into()));
        assert!(env.unset.contains(&"B".into()));
        for (name, _) in &env.set {
            assert!(!env.unset.contains(name), "{name:?}");
        }
        // Each name once, the last value.
        let names: Vec<_> = env.set.iter().map(|(k, _)| k).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len());
    }

    #[test]
    fn an_env_file_is_read_for_both_branches_of_if_root() {
        let mut identity = alice(GroupPolicy::Default);
        identity.if_root = true;
        let mut req = Request::default();
        req.env.changes = vec![File("/missing.env".into())];
        let err = resolve_all(&identity, req, &facts(caller(1000, 1000, &[])), &db()).unwrap_err();
        assert!(err.to_string().contains("--env-file"), "{err}");
    }

    #[test]
    fn reset_keep_and_explicit_environment() {
        let mut req = Request::default();
        req.env.reset = true;
        req.env.changes = vec![Set("HOME".into(), "/elsewhere".into())];
        let (_, resolved) =
            resolve_all(&alice(GroupPolicy::Default), req, &facts(root()), &db()).unwrap();
        assert!(resolved.env.clear);
        assert_eq!(
            value(&resolved.env, "PATH").as_deref(),
            Some(env::USER_PATH)
        );
        assert_eq!(value(&resolved.env, "HOME").as_deref(), Some("/elsewhere"));

        let mut keep = Request::default();
        keep.env.keep_identity = true;
        let (_, resolved) =
            resolve_all(&alice(GroupPolicy::Default), keep, &facts(root()), &db()).unwrap();
        assert!(resolved.env.set.is_empty());

        // No --user: the caller's own HOME with a reset.
        let group_only = Identity {
            group: Some(IdSpec::Name("jupiter".into())),
            ..Identity::default()
        };
        let mut reset = Request::default();
        reset.env.reset = true;
        let (_, resolved) = resolve_all(&group_only, reset, &facts(root()), &db()).unwrap();
        assert_eq!(
            value(&resolved.env, "PATH").as_deref(),
            Some(env::ROOT_PATH)
        );
        assert_eq!(value(&resolved.env, "HOME").as_deref(), Some("/root"));
        // Without a reset, a group switch sets nothing.
        let (_, resolved) =
            resolve_all(&group_only, Request::default(), &facts(root()), &db()).unwrap();
        assert_eq!(resolved.env, EnvPlan::default());
    }

    #[test]
    fn tilde_is_the_target_home() {
        let chdir = |user: &str, dir: &str| {
            let identity = Identity {
                user: Some(IdSpec::Name(user.into())),
                ..Identity::default()
            };
            let req = Request {
                chdir: Some(dir.into()),
                ..Request::default()
            };
            resolve_all(&identity, req, &facts(root()), &db())
                .unwrap()
                .1
                .request
                .chdir
                .unwrap()
        };
        assert_eq!(chdir("alice", "~/src"), "/home/alice/src");
        assert_eq!(chdir("alice", "~"), "/home/alice");
        assert_eq!(chdir("alice", "/tmp/~x"), "/tmp/~x");
        // A relative home is no home.
        assert_eq!(chdir("relative", "~/src"), "/src");
    }

    #[test]
    fn the_home_and_environment_need_the_entry_of_a_numeric_uid() {
        let broken = FakeDb {
            broken: true,
            ..db()
        };
        let numeric = Identity {
            user: Some(IdSpec::Id(1500)),
            group: Some(IdSpec::Id(1700)),
            policy: GroupPolicy::Clear,
            ..Identity::default()
        };
        let mut nothing = Request::default();
        nothing.env.keep_identity = true;
        let (_, resolved) =
            resolve_all(&numeric, nothing.clone(), &facts(root()), &broken).unwrap();
        assert!(resolved.env.set.is_empty());
        let mut home = nothing.clone();
        home.chdir = Some("~/src".into());
        for req in [home, Request::default()] {
            let err = resolve_all(&numeric, req, &facts(root()), &broken).unwrap_err();
            assert!(matches!(err, Error::Lookup { .. }), "{err}");
        }
    }

    #[test]
    fn a_daemon_runs_in_slash_unless_told_otherwise() {
        let req = Request {
            daemon: Some(session::Daemon::default()),
            ..Request::default()
        };
        let (_, resolved) =
            resolve_all(&alice(GroupPolicy::Default), req, &facts(root()), &db()).unwrap();
        assert_eq!(
            resolved.request.chdir.as_deref(),
            Some(std::ffi::OsStr::new("/"))
        );
    }

    #[test]
    fn systemd_sockets_are_kept_only_while_the_target_sees_their_variables() {
        let listen = process::Listen::Sockets(2);
        let mut env = EnvPlan::default();
        assert_eq!(listen.kept(&env).unwrap(), 2);
        env.unset.push("LISTEN_FDS".into());
        assert_eq!(listen.kept(&env).unwrap(), 0);
        let reset = EnvPlan {
            clear: true,
            ..EnvPlan::default()
        };
        assert_eq!(listen.kept(&reset).unwrap(), 0);
        assert!(
            process::Listen::Invalid("bad".into())
                .kept(&EnvPlan::default())
                .is_err()
        );
    }
}
