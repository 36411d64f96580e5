//! The complete, ordered list of what a run does: the daemon's forks, the
//! terminal, the credential changes, the session, the process settings,
//! the proof and the exec. Built once, from the plan and the process as it
//! is (facts.rs), before any change; the real run executes exactly this
//! list (run.rs) and --dry-run prints exactly this list (show.rs), so what
//! the dry run shows is what runs, by construction. Each step's text
//! starts with the system calls it makes, in order.

use crate::base::error::Result;
use crate::base::quote::quote;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::transition::{self, Change};
use crate::core::verify::{self, Regain};
use crate::options::process::Setting;
use crate::options::terminal::{self, Defence, Terminal, Why};
use crate::request::spec::Session;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Step {
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
    DetachTerminal(Terminal),
    /// No terminal defence, although there is a terminal: why (no system
    /// call; the dry run says it).
    KeepTerminal(String),
    /// A session of its own for the target: a fork first when runas leads
    /// its process group (the parent waits), then setsid.
    NewSession {
        fork: bool,
        /// runas is PID 1: the waiting parent kills the namespace's other
        /// processes before it exits.
        pid_one: bool,
        /// Why, when it is the terminal defence rather than --setsid.
        why: Option<Why>,
        /// The terminal the waiting parent revokes after the command.
        revoke: Option<Terminal>,
    },
    /// A limit or priority (resources.rs), set while runas may, read back.
    Resource(crate::options::resources::Setting),
    /// One credential change (transition.rs).
    Credential(Change),
    /// --log: opened, then made stdout and stderr.
    OpenLog { path: PathBuf, as_target: bool },
    /// --new-pgroup.
    NewProcessGroup,
    /// A forked target is told its own pid as LISTEN_PID: systemd passed
    /// the sockets to runas's.
    ListenPid,
    /// One process setting (process.rs).
    Setting(Setting),
    /// The proof (verify.rs), with the old ids it tries to take back, the
    /// limits and priorities to read back, and whether the session keyring
    /// must be the target's own.
    Verify(Regain, Vec<crate::options::resources::Setting>, bool),
    /// execve, after a PATH search as the target.
    Exec { program: OsString, uid: u32 },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::LockPidfile(path) => write!(
                f,
                "openat({}, O_RDWR|O_CREAT|O_NOFOLLOW) through root-owned directories, then flock(LOCK_EX|LOCK_NB) on a read-only descriptor",
                quote(path)
            ),
            Step::Daemonize { timeout } => {
                f.write_str("fork(), setsid(), fork(): the caller waits for the daemon's word")?;
                match timeout {
                    Some(seconds) => write!(
                        f,
                        " for {seconds} s at most, then kills the daemon (kill(SIGKILL))"
                    ),
                    None => f.write_str(" for ever (--daemon-timeout 0)"),
                }
            }
            Step::DaemonStdio { pidfile } => {
                if *pidfile {
                    f.write_str("write(the daemon's pid into the pidfile), ")?;
                }
                f.write_str("dup2(/dev/null) onto stdin, stdout and stderr")
            }
            Step::DetachTerminal(_) => f.write_str("ioctl(TIOCNOTTY) on the controlling terminal"),
            Step::KeepTerminal(why) => f.write_str(why),
            Step::NewSession {
                fork,
                pid_one,
                why,
                revoke,
            } => {
                if *fork {
                    f.write_str(
                        "fork(): the parent keeps the caller's uid with CAP_KILL only, waits for the command and forwards signals",
                    )?;
                    if *pid_one {
                        f.write_str(
                            ", then, as PID 1, kills every other process of the namespace (kill(-1, SIGKILL)) and reaps them",
                        )?;
                    }
                    if revoke.is_some() {
                        f.write_str(
                            ", then revokes the terminal (ioctl(TIOCVHANGUP), with CAP_SYS_ADMIN)",
                        )?;
                    }
                    f.write_str("; the child: ")?;
                }
                f.write_str("setsid()")?;
                match why {
                    None => Ok(()),
                    Some(Why::SessionLeader) => f.write_str(
                        " (terminal safety: runas leads its session, which has a controlling terminal)",
                    ),
                    Some(Why::Unreachable) => f.write_str(
                        " (terminal safety: a controlling terminal runas cannot open to detach from)",
                    ),
                }
            }
            Step::Resource(setting) => setting.fmt(f),
            Step::Credential(change) => change.fmt(f),
            Step::OpenLog { path, as_target } => write!(
                f,
                "openat({}, O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW) with {}, then dup2 onto stdout and stderr",
                quote(path),
                if *as_target {
                    "the target's rights"
                } else {
                    "root's rights through root-owned directories"
                }
            ),
            Step::NewProcessGroup => f.write_str("setpgid(0, 0)"),
            Step::ListenPid => f.write_str(
                "LISTEN_PID=<the command's pid> (runas forked: systemd's sockets follow)",
            ),
            Step::Setting(setting) => setting.fmt(f),
            Step::Verify(regain, resources, keyring) => {
                f.write_str(
                    "verify: getresuid(), getresgid(), getgroups(), setfsuid(-1), setfsgid(-1), capget() equal the plan",
                )?;

                if let Some(uid) = regain.uid {
                    write!(f, "; setresuid({uid}, {uid}, {uid}) refused with EPERM")?;
                }
                if let Some(gid) = regain.gid {
                    write!(f, "; setresgid({gid}, {gid}, {gid}) refused with EPERM")?;
                }
                if *keyring {
                    f.write_str(
                        "; keyctl(KEYCTL_DESCRIBE) shows the session keyring is the target's own",
                    )?;
                }
                if !resources.is_empty() {
                    f.write_str("; the limits and priorities set before the switch still hold")?;
                }
                Ok(())
            }
            Step::Exec { program, uid } => write!(
                f,
                "execve({}), searched in the new environment's PATH as uid {uid}",
                quote(program)
            ),
        }
    }
}

/// Every step of a run, in order. Reads what it needs of the process
/// (the terminal, securebits), changes nothing, and refuses before any
/// change what the caller has no privilege for.
pub fn build(plan: &Plan, facts: &Facts, command: &[OsString]) -> Result<Vec<Step>> {
    let before = &facts.credentials;
    transition::check_privilege(plan, before, facts.caps)?;
    let p = &plan.process;
    let mut steps = Vec::new();
    if let Some(daemon) = &p.daemon {
        if let Some(path) = &daemon.pidfile {
            steps.push(Step::LockPidfile(path.clone()));
        }
        steps.push(Step::Daemonize {
            timeout: daemon.timeout,
        });
        steps.push(Step::DaemonStdio {
            pidfile: daemon.pidfile.is_some(),
        });
    }
    // The terminal defence, and --setsid: one new session serves both (a
    // detach in place is then not needed: setsid leaves the terminal too).
    let setsid = p.session == Session::Setsid;
    let new_session = match terminal::decide(plan, before, facts.caps)? {
        Defence::NewSession(why, revoke) => Some((Some(why), revoke)),
        Defence::Detach(_) if setsid => Some((None, None)),
        Defence::Detach(tty) => {
            steps.push(Step::DetachTerminal(tty));
            None
        }
        Defence::None(kept) => {
            if let Some(note) = kept.note() {
                steps.push(Step::KeepTerminal(note));
            }
            setsid.then_some((None, None))
        }
    };
    let new_session = match new_session {
        Some((why, revoke)) => {
            steps.push(Step::NewSession {
                fork: facts.leads_process_group,
                pid_one: facts.pid_one(),
                why,
                revoke,
            });
            true
        }
        None => false,
    };
    // Limits and priorities need privilege the target will not have: set
    // before the switch, in the process that will exec (after any fork).
    let restricted = crate::options::newgrp::is_restricted(before, facts.at_secure);
    let resources = crate::options::resources::settings(
        &p.resources,
        facts.caps.effective,
        before.uid.effective == 0,
        restricted,
    )?;
    steps.extend(resources.iter().cloned().map(Step::Resource));
    let securebits = transition::read_securebits(plan)?;
    let changes = transition::changes(plan, before, facts.caps, securebits);
    let keyring = changes.contains(&Change::NewSessionKeyring);
    steps.extend(changes.into_iter().map(Step::Credential));
    if let Some(log) = p.daemon.as_ref().and_then(|d| d.log.clone()) {
        steps.push(Step::OpenLog {
            path: log,
            as_target: plan.uid != 0,
        });
    }
    // A process that leads its group already has what --new-pgroup asks
    // (setpgid would fail there: a session leader always leads one).
    if p.session == Session::NewProcessGroup && !new_session && !facts.leads_process_group {
        steps.push(Step::NewProcessGroup);
    }
    let forked = p.daemon.is_some() || (new_session && facts.leads_process_group);
    if forked && p.listen_fds > 0 {
        steps.push(Step::ListenPid);
    }
    steps.extend(
        crate::options::process::settings(plan)
            .into_iter()
            .map(Step::Setting),
    );
    steps.push(Step::Verify(
        verify::regain(plan, before, facts.caps),
        resources,
        keyring,
    ));
    steps.push(Step::Exec {
        program: command.first().cloned().unwrap_or_default(),
        uid: plan.uid,
    });
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn plan_of(args: &[&str]) -> (Plan, crate::core::facts::Facts) {
        let mut argv = vec!["runas"];
        argv.extend_from_slice(args);
        argv.extend(["--", "id"]);
        let parsed = crate::cli::parse(argv.iter().map(std::ffi::OsString::from)).unwrap();
        let crate::request::spec::Invocation::Run { request, .. } =
            crate::request::spec::interpret(parsed).unwrap()
        else {
            panic!("not a run")
        };
        let facts = testing::facts(testing::root());
        let plan = crate::core::plan::resolve(&request, &facts, &testing::db()).unwrap();
        (plan, facts)
    }

    fn texts(args: &[&str]) -> Vec<String> {
        let (plan, facts) = plan_of(args);
        build(&plan, &facts, &["id".into()])
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_default_switch_is_credentials_proof_and_exec() {
        let steps = texts(&["-u", "alice"]);
        assert_eq!(
            steps,
            [
                "setgroups(1500,1700,1701)",
                "setresgid(1500, 1500, 1500)",
                "setresuid(1500, 1500, 1500)",
                "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)",
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
                "capset(effective=0x0, permitted=0x0, inheritable=0x0)",
                &steps[6],
                "execve(\"id\"), searched in the new environment's PATH as uid 1500",
            ]
        );
        assert!(steps[6].starts_with("verify:"));
        assert!(steps[6].contains("session keyring is the target's own"));
        // --keep-keyring: neither the new keyring nor its check.
        let kept = texts(&["-u", "alice", "--keep-keyring"]);
        assert!(
            !kept
                .iter()
                .any(|s| s.contains("KEYRING") || s.contains("keyring")),
            "{kept:?}"
        );
    }

    #[test]
    fn a_daemon_lists_its_forks_files_and_defaults() {
        let steps = texts(&[
            "-u",
            "alice",
            "--daemon",
            "--pidfile",
            "/run/app.pid",
            "--log",
            "/var/log/app/app.log",
        ]);
        assert!(steps[0].starts_with("openat(\"/run/app.pid\""), "{steps:?}");
        assert!(
            steps[1].starts_with("fork(), setsid(), fork()"),
            "{steps:?}"
        );
        assert!(steps[2].starts_with("write(the daemon's pid"), "{steps:?}");
        let log = steps.iter().position(|s| s.contains("app.log")).unwrap();
        let uid = steps
            .iter()
            .position(|s| s.starts_with("setresuid"))
            .unwrap();
        assert!(log > uid, "the log is opened after the switch: {steps:?}");
        // The daemon's defaults are in the list, not added later.
        assert!(steps.contains(&"chdir(\"/\")".to_owned()), "{steps:?}");
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("close_range") && s.contains("the pidfile's lock")),
            "{steps:?}"
        );
    }

    #[test]
    fn new_process_group_and_setsid_are_listed_where_they_happen() {
        let steps = texts(&["-u", "alice", "--new-pgroup"]);
        let pgid = steps.iter().position(|s| s == "setpgid(0, 0)").unwrap();
        let uid = steps
            .iter()
            .position(|s| s.starts_with("setresuid"))
            .unwrap();
        assert!(pgid > uid);
        // Before the switch: the waiting parent keeps the caller's uid.
        let steps = texts(&["-u", "alice", "--setsid"]);
        assert_eq!(steps[0], "setsid()");
    }
}
