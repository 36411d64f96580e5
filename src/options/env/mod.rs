//! The target's environment: the identity variables, PATH after a reset,
//! then -e, --unset, --env-file and --envdir in command-line order, each
//! later one winning.
//!
//! --env-file and --envdir are read before the switch, while runas still
//! has root's rights, on the target's behalf: a file the target (or anyone
//! but root) could write or replace would let it choose what root hands
//! the next start of the service (LD_PRELOAD, PATH, ...). So with root's
//! rights the files are read under the rules of src/paths/: reached
//! through root-owned directories, never through a link in the last
//! component, a regular file with one name, root's and writable by root
//! alone. The same rules hold for any caller that switches to another uid,
//! privileged for reading files or not: a launcher with CAP_SETUID alone
//! still reads on behalf of a target that could plant a link to the
//! launcher's own secrets. Only where the target is the caller itself
//! (newgrp mode, --if-root's caller branch, a group switch) is a file read
//! with the caller's own rights, as the caller could read it anyway. The
//! syntax of each is in file.rs.

pub mod file;

use crate::accounts::db::{UserDb, UserRecord};
use crate::base::error::{Error, Result};
use crate::core::exec::EnvPlan;
use crate::core::facts::Facts;
use crate::core::plan::{self, Plan};
use crate::paths::{self, Files};
use crate::request::Rules;
use crate::request::ids::Uid;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// PATH after --reset-env, for root and for anyone else: sudo's
/// secure_path and login.defs' ENV_SUPATH / ENV_PATH.
pub const ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub const USER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// One change to the target's environment, as the command line gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// -e NAME=VALUE
    Set(OsString, OsString),
    /// --unset NAME
    Unset(OsString),
    /// --env-file FILE: read before the switch.
    File(PathBuf),
    /// --envdir DIR
    Dir(PathBuf),
}

/// What the command line asks of the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// --reset-env
    pub reset: bool,
    /// --keep-env: do not set HOME, USER, LOGNAME, SHELL.
    pub keep_identity: bool,
    /// -e, --unset, --env-file and --envdir, in command-line order, which
    /// is the order they apply in (later wins).
    pub changes: Vec<Change>,
}

pub fn check_name(name: &[u8], shown: &OsStr) -> Result<()> {
    if name.is_empty() || name.contains(&b'=') {
        return Err(Error::InvalidSpec {
            kind: "environment variable name",
            value: shown.to_string_lossy().into_owned(),
            reason: "a name is not empty and has no '='".into(),
        });
    }
    Ok(())
}

/// `-e NAME=VALUE`.
pub fn parse_assignment(text: &OsStr) -> Result<(OsString, OsString)> {
    let bytes = text.as_bytes();
    let Some(eq) = bytes.iter().position(|&b| b == b'=') else {
        return Err(Error::InvalidSpec {
            kind: "--env value",
            value: text.to_string_lossy().into_owned(),
            reason: "expected NAME=VALUE".into(),
        });
    };
    check_name(&bytes[..eq], text)?;
    Ok((
        OsStr::from_bytes(&bytes[..eq]).to_owned(),
        OsStr::from_bytes(&bytes[eq + 1..]).to_owned(),
    ))
}

/// Both set with -e and removed with --unset, on the command line itself:
/// a contradiction, not an order.
pub fn check_contradiction(changes: &[Change]) -> Result<()> {
    let set = |name: &OsString| {
        changes
            .iter()
            .any(|c| matches!(c, Change::Set(n, _) if n == name))
    };
    match changes
        .iter()
        .find(|c| matches!(c, Change::Unset(n) if set(n)))
    {
        Some(Change::Unset(name)) => Err(Error::Usage(format!(
            "{} is both set with --env and removed with --unset: keep one",
            crate::base::quote::quote(name)
        ))),
        _ => Ok(()),
    }
}

/// The environment, resolved.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    pub env: EnvPlan,
    /// The target's home from its passwd entry (`/` without one), which
    /// `--chdir ~` names whatever HOME the options set.
    pub home: OsString,
    /// Each variable a file set, with the file.
    pub from_files: Vec<FromFile>,
}

/// A variable a file set: the option that named the file, the file, the
/// variable's name.
pub type FromFile = (&'static str, PathBuf, OsString);

/// The home of an entry as runas uses it: empty means "/", as login(1)
/// reads it; so does a home that is not absolute, which would otherwise
/// be found from the caller's working directory (--chdir ~, a shell's cd).
pub fn home_of(record: Option<&UserRecord>) -> OsString {
    match record {
        Some(r) if r.home.as_encoded_bytes().first() == Some(&b'/') => r.home.clone(),
        _ => "/".into(),
    }
}

/// HOME, USER, LOGNAME and SHELL for a user, as login(1) sets them; for a
/// uid without an entry, HOME=/ and the uid as the name.
pub fn user_environment(uid: Uid, record: Option<&UserRecord>) -> Vec<(OsString, OsString)> {
    let (name, shell) = match record {
        Some(record) => (OsString::from(&record.name), record.shell.clone()),
        None => (OsString::from(uid.to_string()), OsString::new()),
    };
    // An empty shell field means /bin/sh, as login(1) reads it.
    let shell = if shell.is_empty() {
        "/bin/sh".into()
    } else {
        shell
    };
    vec![
        ("HOME".into(), home_of(record)),
        ("USER".into(), name.clone()),
        ("LOGNAME".into(), name),
        ("SHELL".into(), shell),
    ]
}

/// Whether the files must pass the trusted-path rules: this process reads
/// with more than a user's rights, or on behalf of another uid.
pub fn trusted_rules(facts: &Facts, target: Uid) -> bool {
    facts.credentials.uid.effective == Uid::ROOT
        || paths::reads_any_file(facts.caps.effective)
        || target != facts.credentials.uid.effective
}

/// Resolve the environment against the plan: every file read, before any
/// change. `needs_home`: an option uses the target's home (`--chdir ~`).
pub fn plan(
    request: &Request,
    plan: &Plan,
    facts: &Facts,
    db: &dyn UserDb,
    files: &dyn Files,
    needs_home: bool,
) -> Result<Planned> {
    let record = plan.target.as_ref().and_then(|t| t.record.as_ref());
    if plan.branch.rules != Rules::Runas {
        // gosu and su-exec set HOME alone.
        return Ok(Planned {
            env: EnvPlan {
                set: vec![("HOME".into(), home_of(record))],
                ..EnvPlan::default()
            },
            home: home_of(record),
            from_files: Vec::new(),
        });
    }
    // Without --user, a reset environment still needs a HOME: the current
    // user's, as `~` does.
    let caller_target;
    let identity = match &plan.target {
        Some(target) => Some(user_environment(target.uid, record)),
        None if request.reset || needs_home => {
            caller_target = plan::resolve_uid(plan.uid, db)?;
            Some(user_environment(plan.uid, caller_target.record.as_ref()))
        }
        None => None,
    };
    let home = identity
        .iter()
        .flatten()
        .find(|(k, _)| k == "HOME")
        .map_or_else(|| "/".into(), |(_, v)| v.clone());
    let mut set = Vec::new();
    if !request.keep_identity
        && (plan.target.is_some() || request.reset)
        && let Some(identity) = identity
    {
        set.extend(identity);
    }
    if request.reset {
        let path = if plan.uid == Uid::ROOT {
            ROOT_PATH
        } else {
            USER_PATH
        };
        set.push(("PATH".into(), path.into()));
    }
    let mut unset: Vec<OsString> = Vec::new();
    let mut from_files: Vec<FromFile> = Vec::new();
    if !request.changes.is_empty() {
        let trusted = trusted_rules(facts, plan.uid);
        apply(
            &request.changes,
            files,
            trusted,
            &mut set,
            &mut unset,
            &mut from_files,
        )?;
    }
    Ok(Planned {
        env: EnvPlan {
            clear: request.reset,
            unset,
            set,
            from_files: from_files.iter().map(|(_, _, n)| n.clone()).collect(),
        },
        home,
        from_files,
    })
}

/// The changes applied in command-line order over the identity variables:
/// each later one wins.
// Never inlined: most runs give no -e, --unset, --env-file or --envdir,
// and inlined, its 11 KiB of code (reading and parsing files) sat in the
// middle of the code every run executes (docs/performance.md).
#[inline(never)]
fn apply(
    changes: &[Change],
    files: &dyn Files,
    trusted: bool,
    set: &mut Vec<(OsString, OsString)>,
    unset: &mut Vec<OsString>,
    from_files: &mut Vec<FromFile>,
) -> Result<()> {
    for (name, value, file) in read(changes, files, trusted)? {
        set.retain(|(n, _)| *n != name);
        unset.retain(|n| *n != name);
        from_files.retain(|(_, _, n)| *n != name);
        match value {
            Some(value) => {
                if let Some((option, path)) = file {
                    from_files.push((option, path, name.clone()));
                }
                set.push((name, value));
            }
            None => unset.push(name),
        }
    }
    Ok(())
}

/// One variable set (`Some`) or removed (`None`), and the option and file
/// it came from (`None` for -e and --unset).
type Resolved = (OsString, Option<OsString>, Option<(&'static str, PathBuf)>);

/// The changes with every file read, in command-line order.
fn read(changes: &[Change], files: &dyn Files, trusted: bool) -> Result<Vec<Resolved>> {
    let mut resolved = Vec::new();
    for change in changes {
        match change {
            Change::Set(name, value) => resolved.push((name.clone(), Some(value.clone()), None)),
            Change::Unset(name) => resolved.push((name.clone(), None, None)),
            Change::File(path) => {
                let text = files
                    .read(path, trusted)
                    .map_err(paths::refuse("--env-file", path))?;
                let pairs = file::parse_environment_file(&text).map_err(|e| {
                    Error::Usage(format!(
                        "--env-file {}: {e}",
                        crate::base::quote::quote(path)
                    ))
                })?;
                resolved.extend(
                    pairs.into_iter().map(|(name, value)| {
                        (name, Some(value), Some(("--env-file", path.clone())))
                    }),
                );
            }
            Change::Dir(path) => {
                let entries = files
                    .read_dir(path, trusted, file::classify_envdir_name)
                    .map_err(paths::refuse("--envdir", path))?;
                resolved.extend(entries.into_iter().map(|(name, bytes)| {
                    (
                        name,
                        file::envdir_value(&bytes),
                        Some(("--envdir", path.clone())),
                    )
                }));
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeDb, db, facts, root};

    fn resolved(changes: &[Change], files: &FakeDb) -> Vec<(String, Option<String>)> {
        read(changes, files, true)
            .unwrap()
            .into_iter()
            .map(|(name, value, _)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect()
    }

    #[test]
    fn files_expand_in_place_in_command_line_order() {
        let files = FakeDb::default()
            .file("/etc/app.env", "A=from-file\nB='two words'\n")
            .file("/etc/app.d/C", "dir value  \nsecond line")
            .file("/etc/app.d/A", "");
        let changes = vec![
            Change::Set("A".into(), "first".into()),
            Change::File("/etc/app.env".into()),
            Change::Dir("/etc/app.d".into()),
            Change::Set("B".into(), "last".into()),
        ];
        let pair = |n: &str, v: Option<&str>| (n.to_owned(), v.map(str::to_owned));
        assert_eq!(
            resolved(&changes, &files),
            [
                pair("A", Some("first")),
                pair("A", Some("from-file")),
                pair("B", Some("two words")),
                pair("A", None),
                pair("C", Some("dir value")),
                pair("B", Some("last")),
            ]
        );
    }

    #[test]
    fn a_missing_file_or_bad_syntax_is_an_error_naming_the_file() {
        let files = FakeDb::default().file("/etc/bad.env", "export A=1\n");
        let err = read(&[Change::File("/etc/none".into())], &files, true).unwrap_err();
        assert!(
            err.to_string().starts_with("--env-file \"/etc/none\""),
            "{err}"
        );
        let err = read(&[Change::File("/etc/bad.env".into())], &files, true).unwrap_err();
        assert!(err.to_string().contains("\"/etc/bad.env\""), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    fn target_plan(user: &str) -> Plan {
        let identity = crate::request::Identity {
            user: Some(crate::request::ids::IdSpec::Name(user.into())),
            ..Default::default()
        };
        plan::resolve(&identity, &facts(root()), &db()).unwrap()
    }

    fn value<'a>(env: &'a EnvPlan, name: &str) -> Option<&'a str> {
        env.set
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.to_str())
    }

    #[test]
    fn the_identity_variables_come_from_the_entry_and_later_changes_win() {
        let request = Request {
            changes: vec![
                Change::Set("HOME".into(), "/srv".into()),
                Change::Unset("SHELL".into()),
            ],
            ..Request::default()
        };
        let got = plan(
            &request,
            &target_plan("alice"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert_eq!(value(&got.env, "HOME"), Some("/srv"));
        assert_eq!(value(&got.env, "USER"), Some("alice"));
        assert_eq!(value(&got.env, "SHELL"), None);
        assert!(got.env.unset.iter().any(|n| n == "SHELL"));
        // `~` is the entry's home, whatever HOME the options set.
        assert_eq!(got.home, "/home/alice");
        assert!(!got.env.clear);
    }

    #[test]
    fn reset_sets_path_by_target_and_keep_env_sets_no_identity() {
        let reset = Request {
            reset: true,
            ..Request::default()
        };
        let got = plan(
            &reset,
            &target_plan("alice"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert!(got.env.clear);
        assert_eq!(value(&got.env, "PATH"), Some(USER_PATH));
        let got = plan(
            &reset,
            &target_plan("root"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert_eq!(value(&got.env, "PATH"), Some(ROOT_PATH));
        let keep = Request {
            keep_identity: true,
            ..Request::default()
        };
        let got = plan(
            &keep,
            &target_plan("alice"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert!(got.env.set.is_empty());
    }

    #[test]
    fn an_empty_or_relative_home_is_slash() {
        let got = plan(
            &Request::default(),
            &target_plan("bob"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert_eq!(value(&got.env, "HOME"), Some("/"));
        assert_eq!(value(&got.env, "SHELL"), Some("/bin/sh"));
        let got = plan(
            &Request::default(),
            &target_plan("relative"),
            &facts(root()),
            &db(),
            &db(),
            false,
        )
        .unwrap();
        assert_eq!(value(&got.env, "HOME"), Some("/"));
    }

    #[test]
    fn a_uid_without_an_entry_is_its_own_name_at_home_in_slash() {
        assert_eq!(
            user_environment(Uid::new(4242), None),
            [
                ("HOME".into(), "/".into()),
                ("USER".into(), "4242".into()),
                ("LOGNAME".into(), "4242".into()),
                ("SHELL".into(), "/bin/sh".into()),
            ]
        );
        let bob = db().user_by_name("bob").unwrap().unwrap();
        let env = user_environment(bob.uid, Some(&bob));
        assert_eq!(
            (env[0].1.as_os_str(), env[3].1.as_os_str()),
            ("/".as_ref(), "/bin/sh".as_ref())
        );
        let relative = db().user_by_name("relative").unwrap().unwrap();
        assert_eq!(home_of(Some(&relative)), "/");
    }

    #[test]
    fn values_from_files_are_marked_and_a_later_change_unmarks_them() {
        let files = db().file("/etc/app.env", "TOKEN=secret\nA=1\n");
        let request = Request {
            changes: vec![
                Change::File("/etc/app.env".into()),
                Change::Set("A".into(), "2".into()),
            ],
            ..Request::default()
        };
        let got = plan(
            &request,
            &target_plan("alice"),
            &facts(root()),
            &db(),
            &files,
            false,
        )
        .unwrap();
        assert_eq!(got.env.from_files, ["TOKEN"]);
        assert_eq!(
            got.from_files,
            [("--env-file", PathBuf::from("/etc/app.env"), "TOKEN".into())]
        );
    }
}
