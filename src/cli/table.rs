//! The option table: one entry per option, the only place an option is
//! defined. Each entry carries its help, how its value is read and stored
//! (the store function gives it meaning at once, through the parsers of
//! request/ and options/), what it conflicts with or needs, how a shell
//! completes its value, and the field it adds to --dry-run's `options`.
//! Adding an option touches its entry here and the code that applies it.

use super::{Complete, Opt, ReportField, Store, Wanted};
use crate::base::error::{Error, Result};
use crate::core::steps::Step;
use crate::options::env::Change;
use crate::options::session::{self, Daemon, Session};
use crate::options::{Step as Extra, process, resources};
use crate::report::Outcome;
use crate::report::model::Value;
use crate::report::show::caps;
use crate::request::ids::{self, Kind};
use crate::request::{GroupPolicy, caps as capability, securebits};
use std::path::PathBuf;

/// The --help section an option is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    General,
    Privileges,
    Process,
    Session,
    Resources,
    Showing,
}

impl Heading {
    /// Its title in --help.
    // A name in each entry rather than a `&'static str`: the option table
    // is relocated (written) at every start of the static PIE, 16 bytes
    // and a pointer an entry more (docs/performance.md, round 9).
    pub const fn title(self) -> &'static str {
        match self {
            Heading::General => "Options",
            Heading::Privileges => "Capabilities and privileges",
            Heading::Process => "Environment and process",
            Heading::Session => "Session and process group",
            Heading::Resources => "Limits and priorities (set before the switch)",
            Heading::Showing => "Showing credentials",
        }
    }
}

/// A switch: no value.
const fn switch(
    long: &'static str,
    heading: Heading,
    help: &'static str,
    store: fn(&mut Wanted),
) -> Opt {
    Opt {
        long,
        short: None,
        value: None,
        dash_ok: false,
        repeatable: false,
        heading,
        help,
        complete: Complete::None,
        conflicts: &[],
        requires: &[],
        store: Store::Switch(store),
        report: &[],
    }
}

/// An option with a value, which must be UTF-8.
const fn text(
    long: &'static str,
    value: &'static str,
    heading: Heading,
    help: &'static str,
    store: fn(&mut Wanted, &str) -> Result<()>,
) -> Opt {
    let mut opt = switch(long, heading, help, |_| {});
    opt.value = Some(value);
    opt.store = Store::Text(store);
    opt
}

/// An option whose value may hold any bytes (a path, an environment value).
const fn bytes(
    long: &'static str,
    value: &'static str,
    heading: Heading,
    help: &'static str,
    store: fn(&mut Wanted, std::ffi::OsString) -> Result<()>,
) -> Opt {
    let mut opt = switch(long, heading, help, |_| {});
    opt.value = Some(value);
    opt.store = Store::Bytes(store);
    opt
}

impl Opt {
    const fn short(mut self, short: char) -> Opt {
        self.short = Some(short);
        self
    }

    /// The next word is taken even when it starts with '-': `--bounding-set
    /// -all`, and `--user -1` reaches the id parser, which says why -1 is
    /// refused. Otherwise such a word means the value was forgotten.
    const fn dash_ok(mut self) -> Opt {
        self.dash_ok = true;
        self
    }

    /// May be given more than once (`-e A=1 -e B=2`); otherwise twice is
    /// an error, never "the last one wins".
    const fn repeatable(mut self) -> Opt {
        self.repeatable = true;
        self
    }

    const fn complete(mut self, complete: Complete) -> Opt {
        self.complete = complete;
        self
    }

    /// Options it cannot be given with (either way round: each pair is
    /// checked from both of its entries).
    const fn conflicts(mut self, with: &'static [&'static str]) -> Opt {
        self.conflicts = with;
        self
    }

    /// Given, it needs one of these.
    const fn requires(mut self, one_of: &'static [&'static str]) -> Opt {
        self.requires = one_of;
        self
    }

    /// Its fields in --dry-run's `options`.
    const fn report(mut self, fields: &'static [ReportField]) -> Opt {
        self.report = fields;
        self
    }
}

fn set_policy(w: &mut Wanted, policy: GroupPolicy) {
    w.run.identity.policy = policy;
}

fn env_change(w: &mut Wanted, change: Change) -> Result<()> {
    w.run.options.env.changes.push(change);
    Ok(())
}

/// The steps' resource settings.
fn resource_settings<'a>(o: &'a Outcome<'_>) -> impl Iterator<Item = &'a resources::Setting> {
    o.steps.iter().filter_map(|step| match step {
        Step::Extra(Extra::Resource(setting)) => Some(setting),
        _ => None,
    })
}

fn int(n: i32) -> Value {
    Value::Int(n.into())
}

/// The option table: the entry at `index`, in --help's order; `None`
/// past the last.
// A match rather than a `static [Opt]`: every `&'static str` and function
// in a static table is a pointer the static PIE relocates (writes) at every
// start, 5 KiB here, where each arm of a match builds its entry in code
// with addresses relative to it. Arms are numbered from 0 without a gap
// (a test holds that). Never inlined: the callers loop over it.
#[inline(never)]
#[expect(clippy::too_many_lines, reason = "the option table: an arm per option")]
pub fn option(index: usize) -> Option<Opt> {
    Some(match index {
        0 => text("user", "USER[:GROUP]", Heading::General, "Run as USER (name or uid); USER:GROUP also sets the primary group", |w, v| {
            let spec = ids::parse_user_spec(v)?;
            w.run.identity.user = Some(spec.user);
            w.shorthand_group = spec.group;
            Ok(())
        })
        .short('u')
        .dash_ok()
        .complete(Complete::User),
        1 => text("group", "GROUP", Heading::General, "Primary group (name or gid); alone, switches only the group, as newgrp does", |w, v| {
            w.group = Some(ids::parse_id(v, Kind::Group)?);
            Ok(())
        })
        .short('g')
        .dash_ok()
        .complete(Complete::Group),
        2 => text("groups", "LIST", Heading::General, "Supplementary groups, exactly: comma-separated names or gids (\"\" for none)", |w, v| {
            set_policy(w, GroupPolicy::List(ids::parse_group_list(v)?));
            Ok(())
        })
        .short('G')
        .dash_ok()
        .complete(Complete::GroupList)
        .conflicts(&["init-groups", "keep-groups", "clear-groups"]),
        3 => switch("init-groups", Heading::General, "Supplementary groups from the group database for USER (default with --user)", |w| set_policy(w, GroupPolicy::Init))
            .conflicts(&["groups", "keep-groups", "clear-groups"]),
        4 => switch("keep-groups", Heading::General, "Keep the caller's supplementary groups", |w| set_policy(w, GroupPolicy::Keep))
            .conflicts(&["groups", "init-groups", "clear-groups"]),
        5 => switch("clear-groups", Heading::General, "No supplementary groups", |w| set_policy(w, GroupPolicy::Clear))
            .conflicts(&["groups", "init-groups", "keep-groups"]),
        6 => bytes("add-group-of", "PATH", Heading::General, "Also add the group that owns PATH (a device, a socket) to the supplementary groups", |w, v| {
            w.run.options.add_group_of.push(PathBuf::from(v));
            Ok(())
        })
        .repeatable()
        .complete(Complete::File),
        7 => switch("if-root", Heading::General, "Switch only when started as root; otherwise run COMMAND as the caller, as it is (a container started with --user)", |w| w.run.identity.if_root = true),
        8 => switch("help", Heading::General, "Print help", |_| {}).short('h'),
        9 => switch("version", Heading::General, "Print version", |_| {}).short('V'),
        10 => text("keep-caps", "CAPS", Heading::Privileges, "Give the (non-root) target exactly these capabilities, e.g. net_bind_service,sys_nice", |w, v| {
            w.run.identity.privileges.keep_caps = capability::parse_list("--keep-caps", v)?;
            Ok(())
        })
        .complete(Complete::CapList)
        .report(&[("keep_caps", |o| caps(o.plan.privileges.keep_caps))]),
        11 => text("allow-root-caps", "CAPS", Heading::Privileges, "Allow --keep-caps to keep these capabilities that amount to root (setfcap, sys_admin, dac_override...); the switch can then be undone", |w, v| {
            w.run.identity.privileges.allow_root_caps = capability::parse_list("--allow-root-caps", v)?;
            Ok(())
        })
        .complete(Complete::CapList)
        .requires(&["keep-caps"])
        .report(&[("allow_root_caps", |o| caps(o.plan.privileges.allow_root_caps))]),
        12 => text("bounding-set", "LIST", Heading::Privileges, "Drop capabilities from the bounding set: -all, -net_raw,-sys_admin, -all,+net_bind_service", |w, v| {
            w.run.identity.privileges.bounding_drop = capability::parse_bounding(v)?;
            Ok(())
        })
        .dash_ok()
        .complete(Complete::BoundingList)
        .report(&[("bounding_drop", |o| caps(o.plan.privileges.bounding_drop))]),
        13 => text("securebits", "BITS", Heading::Privileges, "Set (or with -, clear) securebits: noroot, no-setuid-fixup, no-cap-ambient-raise, keep-caps-locked, ...-locked", |w, v| {
            w.run.identity.privileges.securebits = securebits::parse(v)?;
            Ok(())
        })
        .dash_ok()
        .complete(Complete::SecurebitList)
        .report(&[
            ("securebits_set", |o| Value::Int(o.plan.privileges.securebits.set.bits().into())),
            ("securebits_clear", |o| Value::Int(o.plan.privileges.securebits.clear.bits().into())),
        ]),
        14 => switch("no-new-privs", Heading::Privileges, "Set no_new_privs: the target and its children can never gain privileges through exec", |w| w.run.identity.privileges.no_new_privs = true)
            .report(&[("no_new_privs", |o| Value::Bool(o.plan.privileges.no_new_privs))]),
        15 => text("pdeathsig", "SIGNAL", Heading::Privileges, "Signal the target receives when its parent dies (set after the identity change)", |w, v| {
            w.run.options.pdeathsig = Some(process::parse_signal(v)?);
            Ok(())
        })
        .dash_ok()
        .complete(Complete::Signal)
        .report(&[("pdeathsig", |o| Value::opt(o.options.request.pdeathsig, |s| Value::str(s.as_str())))]),
        16 => switch("keep-tty", Heading::Privileges, "Keep the controlling terminal (risky: the target may type into it, see TIOCSTI)", |w| w.run.options.keep_tty = true)
            .report(&[("detach_terminal", |o| {
                Value::Bool(o.steps.iter().any(|s| {
                    matches!(
                        s,
                        Step::Extra(Extra::DetachTerminal(_))
                    ) || matches!(s, Step::Extra(Extra::NewSession(new)) if new.why.is_some())
                }))
            })]),
        17 => switch("keep-keyring", Heading::Privileges, "Keep the caller's session keyring (by default a target of another uid gets a new one of its own)", |w| w.run.identity.privileges.keep_keyring = true),
        18 => switch("reset-env", Heading::Process, "Start from an empty environment but TERM, COLORTERM, NO_COLOR; set HOME, USER, LOGNAME, SHELL, PATH", |w| w.run.options.env.reset = true)
            .conflicts(&["keep-env"]),
        19 => switch("keep-env", Heading::Process, "Do not set HOME, USER, LOGNAME and SHELL for the target user", |w| w.run.options.env.keep_identity = true)
            .conflicts(&["reset-env"]),
        20 => bytes("env", "NAME=VALUE", Heading::Process, "Set a variable in the target's environment (repeatable)", |w, v| {
            let (name, value) = crate::options::env::parse_assignment(&v)?;
            env_change(w, Change::Set(name, value))
        })
        .short('e')
        .repeatable()
        .complete(Complete::Assignment),
        21 => text("unset", "NAME", Heading::Process, "Remove a variable from the target's environment (repeatable)", |w, v| {
            crate::options::env::check_name(v.as_bytes(), v.as_ref())?;
            env_change(w, Change::Unset(v.into()))
        })
        .repeatable()
        .complete(Complete::Variable),
        22 => bytes("env-file", "FILE", Heading::Process, "Set variables from FILE: NAME=VALUE lines, systemd EnvironmentFile= quoting; read before the switch, root-owned (repeatable)", |w, v| env_change(w, Change::File(v.into())))
            .repeatable()
            .complete(Complete::File),
        23 => bytes("envdir", "DIR", Heading::Process, "Set variables from DIR as envdir does: one file per variable, its first line; an empty file unsets (repeatable)", |w, v| env_change(w, Change::Dir(v.into())))
            .repeatable()
            .complete(Complete::Dir),
        24 => bytes("chdir", "DIR", Heading::Process, "Change directory after the switch, as the target (~ is the target's home)", |w, v| {
            w.run.options.chdir = Some(v);
            Ok(())
        })
        .complete(Complete::Dir)
        .report(&[("chdir", |o| {
            Value::opt(o.options.request.chdir.as_ref(), |d| Value::str(d.to_string_lossy()))
        })]),
        25 => text("umask", "MODE", Heading::Process, "Set the file mode creation mask (octal, e.g. 027)", |w, v| {
            w.run.options.umask = Some(process::parse_umask(v)?);
            Ok(())
        })
        .dash_ok()
        .report(&[("umask", |o| Value::opt(o.options.request.umask, |m| Value::str(format!("{m:04o}"))))]),
        26 => switch("close-fds", Heading::Process, "Close inherited file descriptors above 2 (not --keep-fd ones, nor systemd's LISTEN_FDS)", |w| w.close_fds = true)
            .report(&[("close_fds", |o| {
                Value::opt(o.options.request.close_fds.as_ref(), |fds| {
                    Value::List(fds.iter().map(|&fd| int(fd)).collect())
                })
            })]),
        27 => text("keep-fd", "FD", Heading::Process, "With --close-fds or --daemon, keep this descriptor open (repeatable)", |w, v| {
            w.keep_fds.push(process::parse_fd(v)?);
            Ok(())
        })
        .dash_ok()
        .repeatable()
        .requires(&["close-fds", "daemon"]),
        28 => switch("new-pgroup", Heading::Session, "Run the command as the leader of a new process group", |w| w.run.options.session = Session::NewProcessGroup)
            .conflicts(&["setsid", "daemon"])
            .report(&[("session", |o| {
                let r = &o.options.request;
                Value::str(match (r.session, &r.daemon) {
                    (_, Some(_)) => "daemon",
                    (Session::Inherit, None) => "inherit",
                    (Session::NewProcessGroup, None) => "new-pgroup",
                    (Session::Setsid, None) => "setsid",
                })
            })]),
        29 => switch("setsid", Heading::Session, "Run the command in a new session, without a controlling terminal", |w| w.run.options.session = Session::Setsid)
            .conflicts(&["new-pgroup", "daemon"]),
        30 => switch("daemon", Heading::Session, "Detach as a daemon (fork, setsid, fork); exit 0 once the command is running", |w| {
            w.daemon.get_or_insert_with(Daemon::default);
        })
        .conflicts(&["new-pgroup", "setsid"]),
        31 => text("daemon-timeout", "SECONDS", Heading::Session, "With --daemon: how long to wait for the daemon to reach its exec before killing it and failing (default 30; 0 waits for ever)", |w, v| {
            w.daemon_timeout = Some(session::parse_daemon_timeout(v)?);
            Ok(())
        })
        .requires(&["daemon"]),
        32 => bytes("pidfile", "FILE", Heading::Session, "With --daemon: write the daemon's pid to FILE, locked, so a second start fails (FILE in a root-owned directory)", |w, v| {
            w.pidfile = Some(v.into());
            Ok(())
        })
        .complete(Complete::File)
        .requires(&["daemon"]),
        33 => bytes("log", "FILE", Heading::Session, "With --daemon: append the command's stdout and stderr to FILE (opened with the target's rights)", |w, v| {
            w.log = Some(v.into());
            Ok(())
        })
        .complete(Complete::File)
        .requires(&["daemon"]),
        34 => text("rlimit", "NAME=SOFT[:HARD]", Heading::Resources, "Set a resource limit (nofile, nproc, core, memlock, as, stack, cpu, ...): a number or unlimited; one value sets both (repeatable)", |w, v| {
            let limit = resources::parse_rlimit(v)?;
            let rlimits = &mut w.run.options.resources.rlimits;
            if rlimits.iter().any(|l| l.resource == limit.resource) {
                return Err(Error::Usage(format!(
                    "--rlimit {} is given twice: give each limit once",
                    resources::limit_name(limit.resource)
                )));
            }
            rlimits.push(limit);
            Ok(())
        })
        .repeatable()
        .complete(Complete::Rlimit)
        .report(&[("rlimits", |o| {
            Value::Object(
                resource_settings(o)
                    .filter_map(|setting| match setting {
                        resources::Setting::Rlimit { resource, soft, hard } => Some((
                            resources::limit_name(*resource),
                            Value::Object(vec![
                                ("soft", limit(*soft)),
                                ("hard", limit(*hard)),
                            ]),
                        )),
                        _ => None,
                    })
                    .collect(),
            )
        })]),
        35 => text("nice", "N", Heading::Resources, "Set the nice value, from -20 (highest priority) to 19", |w, v| {
            w.run.options.resources.nice = Some(resources::parse_nice(v)?);
            Ok(())
        })
        .dash_ok()
        .report(&[("nice", |o| Value::opt(o.options.request.resources.nice, int))]),
        36 => text("oom-score-adj", "N", Heading::Resources, "Set the OOM killer's score adjustment, from -1000 (never kill) to 1000", |w, v| {
            w.run.options.resources.oom_score_adj = Some(resources::parse_oom_score_adj(v)?);
            Ok(())
        })
        .dash_ok()
        .report(&[("oom_score_adj", |o| Value::opt(o.options.request.resources.oom_score_adj, int))]),
        37 => text("ioprio", "CLASS[:LEVEL]", Heading::Resources, "Set the I/O priority: realtime, best-effort (level 0-7, default 4) or idle", |w, v| {
            w.run.options.resources.ioprio = Some(resources::parse_ioprio(v)?);
            Ok(())
        })
        .complete(Complete::Ioprio)
        .report(&[("ioprio", |o| Value::opt(o.options.request.resources.ioprio, |p| Value::str(p.to_string())))]),
        38 => text("cpu-affinity", "LIST", Heading::Resources, "Run only on these CPUs, e.g. 0-3,6", |w, v| {
            w.run.options.resources.cpu_affinity = Some(resources::parse_cpu_list(v)?);
            Ok(())
        })
        .report(&[("cpu_affinity", |o| {
            Value::opt(o.options.request.resources.cpu_affinity.as_ref(), |c| {
                Value::str(resources::format_cpu_list(c))
            })
        })]),
        39 => switch("dump", Heading::Showing, "Print this process's identity and process model, and exit", |w| w.dump = true),
        40 => switch("dry-run", Heading::Showing, "Resolve everything and print the plan and every step of the run, in order, instead of running", |w| w.run.dry_run = true),
        41 => switch("show-env-values", Heading::Showing, "With --dry-run: also print the values read from --env-file and --envdir (hidden otherwise: they are often secrets)", |w| w.run.show_env_values = true)
            .requires(&["dry-run"]),
        42 => switch("json", Heading::Showing, "With --dump or --dry-run: one JSON object", |w| w.run.json = true),
        _ => return None,
    })
}

/// Every option, in table order.
pub fn options() -> impl Iterator<Item = Opt> {
    (0..).map_while(option)
}

/// A limit: a number, or the string "unlimited".
fn limit(value: u64) -> Value {
    if value == resources::UNLIMITED {
        Value::str("unlimited")
    } else {
        Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}
