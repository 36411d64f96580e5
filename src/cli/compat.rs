//! Drop-in gosu and su-exec modes, chosen by the name runas is invoked as:
//! their command line, turned into a request that the one resolver
//! (plan.rs) resolves with their identity rules, including the ones runas
//! itself refuses (a uid without a passwd entry keeps the caller's gid,
//! gid 0 for root), because images depend on them. What stays runas's own:
//! strict id parsing, verification, terminal safety and exit codes
//! 125/126/127 instead of 1.

use super::{Invocation, Run};
use crate::base::error::{Error, Result};
use crate::request::ids::{self, IdSpec, Kind};
use crate::request::{GroupPolicy, Identity, Rules};
use std::ffi::OsString;

/// gosu takes ids up to 2^31-1 (its user library's range).
const GOSU_MAX_ID: u32 = i32::MAX as u32;

pub fn usage(rules: Rules) -> String {
    let name = rules.name();
    format!(
        "Usage: {name} USER[:GROUP] [--] COMMAND [ARG]...\n   eg: {name} app server\n       {name} nobody:root sh -c 'whoami && id'\n       {name} 1000:1 id\n\n{name} mode of runas {}: USER and GROUP are names or decimal ids.\nExit status: 125 if the switch fails, 126 if COMMAND cannot be executed,\n127 if it is not found, otherwise COMMAND's own.\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn parse_part(text: &str, kind: Kind, rules: Rules) -> Result<Option<IdSpec>> {
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = ids::parse_id(text, kind)?;
    if rules == Rules::Gosu
        && let IdSpec::Id(id) = parsed
        && id > GOSU_MAX_ID
    {
        return Err(Error::InvalidSpec {
            kind: if kind == Kind::User { "user" } else { "group" },
            value: text.to_owned(),
            reason: format!("gosu takes ids from 0 to {GOSU_MAX_ID}"),
        });
    }
    Ok(Some(parsed))
}

/// `USER[:GROUP]` with either part possibly empty, as a request. The
/// group list each tool gives: gosu, USER alone: the groups that list the
/// user; USER:GROUP: none. su-exec, USER alone: getgrouplist (the user's
/// gid included); USER:GROUP: GROUP alone.
pub fn identity(rules: Rules, text: &str) -> Result<Identity> {
    let (user, group) = text.split_once(':').unwrap_or((text, ""));
    let parsed = parse_part(user, Kind::User, rules)
        .and_then(|user| Ok((user, parse_part(group, Kind::Group, rules)?)));
    let (user, group) = parsed.map_err(|source| Error::InCompatSpec {
        mode: rules.name(),
        spec: text.to_owned(),
        source: Box::new(source),
    })?;
    let policy = match (rules, &group) {
        (Rules::Gosu, None) => GroupPolicy::Members,
        (Rules::Gosu, Some(_)) => GroupPolicy::Clear,
        (_, None) => GroupPolicy::Init,
        (_, Some(group)) => GroupPolicy::List(vec![group.clone()]),
    };
    Ok(Identity {
        rules,
        compat_spec: text.to_owned(),
        user,
        group,
        policy,
        ..Identity::default()
    })
}

/// `NAME USER[:GROUP] [--] COMMAND [ARG]...`, `NAME --help`, `NAME --version`.
// Never inlined: a run as runas never executes it, and inlined, its 3 KiB
// sat in the middle of the code every run executes (docs/performance.md).
#[inline(never)]
pub fn parse_args(rules: Rules, args: &[OsString]) -> Result<Invocation> {
    let first = args.get(1).and_then(|a| a.to_str());
    match first {
        Some("--help" | "-h" | "-?") => return Ok(Invocation::Print(usage(rules))),
        Some("--version" | "-v") => {
            return Ok(Invocation::Print(format!(
                "runas {} ({} mode)\n",
                env!("CARGO_PKG_VERSION"),
                rules.name()
            )));
        }
        _ => {}
    }
    let missing = || {
        Error::Usage(format!(
            "missing USER[:GROUP] or COMMAND\n{}",
            usage(rules).trim_end()
        ))
    };
    let spec = args.get(1).ok_or_else(missing)?;
    let spec = spec.to_str().ok_or_else(|| Error::InvalidSpec {
        kind: "user",
        value: spec.to_string_lossy().into_owned(),
        reason: "it is not valid UTF-8".into(),
    })?;
    let mut command = &args[2.min(args.len())..];
    if command.first().is_some_and(|a| a == "--") {
        command = &command[1..];
    }
    if command.is_empty() {
        return Err(missing());
    }
    super::check_command_name(command)?;
    Ok(Invocation::Run(Box::new(Run {
        identity: identity(rules, spec)?,
        command: command.to_vec(),
        ..Run::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::Credentials;
    use crate::core::plan::{self, Plan};
    use crate::testing::{caller, db, facts};

    fn root() -> Credentials {
        caller(0, 0, &[0, 4])
    }

    fn resolve(
        rules: Rules,
        text: &str,
        current: &Credentials,
        db: &dyn crate::accounts::db::UserDb,
    ) -> Result<Plan> {
        plan::resolve(&identity(rules, text)?, &facts(current.clone()), db)
    }

    /// The ids, and the HOME that gosu and su-exec set (the only variable).
    fn ids(rules: Rules, spec: &str) -> (u32, u32, Vec<u32>, String) {
        let plan = resolve(rules, spec, &root(), &db()).unwrap();
        let record = plan.target.as_ref().and_then(|t| t.record.as_ref());
        let home = crate::options::env::home_of(record)
            .to_string_lossy()
            .into_owned();
        (
            plan.uid.raw(),
            plan.gid.raw(),
            plan.groups.iter().map(|g| g.raw()).collect(),
            home,
        )
    }

    #[test]
    fn gosu_table() {
        use Rules::Gosu;
        assert_eq!(
            ids(Gosu, "alice"),
            (1500, 1500, vec![1700, 1701], "/home/alice".into())
        );
        assert_eq!(
            ids(Gosu, "alice:jupiter"),
            (1500, 1700, vec![], "/home/alice".into())
        );
        assert_eq!(ids(Gosu, "0"), (0, 0, vec![], "/root".into()));
        assert_eq!(ids(Gosu, "root:root"), (0, 0, vec![], "/root".into()));
        assert_eq!(ids(Gosu, "1000"), (1000, 0, vec![], "/".into()));
        assert_eq!(ids(Gosu, "1000:1000"), (1000, 1000, vec![], "/".into()));
        assert_eq!(ids(Gosu, "1000:root"), (1000, 0, vec![], "/".into()));
        assert_eq!(ids(Gosu, "root:1000"), (0, 1000, vec![], "/root".into()));
        assert_eq!(ids(Gosu, "games"), (5, 60, vec![], "/usr/games".into()));
        assert_eq!(
            ids(Gosu, "daemon:games"),
            (1, 60, vec![], "/usr/sbin".into())
        );
        // An empty USER would keep root: refused for a root caller.
        for empty in ["", ":", ":1700", ":0"] {
            let err = resolve(Gosu, empty, &root(), &db()).unwrap_err();
            assert!(err.to_string().contains("write root or 0"), "{err}");
        }
        for bad in [
            "bogus",
            "0day",
            "0:bogus",
            "bogus:0",
            "-1",
            "2147483648",
            "1:2147483648",
            "+5",
        ] {
            assert!(
                resolve(Gosu, bad, &root(), &db()).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn su_exec_table() {
        use Rules::SuExec;
        assert_eq!(
            ids(SuExec, "alice"),
            (1500, 1500, vec![1500, 1700, 1701], "/home/alice".into())
        );
        assert_eq!(
            ids(SuExec, "alice:jupiter"),
            (1500, 1700, vec![1700], "/home/alice".into())
        );
        assert_eq!(
            ids(SuExec, "1500"),
            (1500, 1500, vec![1500, 1700, 1701], "/home/alice".into())
        );
        assert_eq!(ids(SuExec, "4242"), (4242, 0, vec![0], "/".into()));
        assert_eq!(
            ids(SuExec, "4242:4243"),
            (4242, 4243, vec![4243], "/".into())
        );
        assert!(resolve(SuExec, "", &root(), &db()).is_err());
        // For anyone else an empty USER is the caller, as in su-exec.
        let alice = caller(1500, 1500, &[1500]);
        let plan = resolve(SuExec, "", &alice, &db()).unwrap();
        assert_eq!((plan.uid.raw(), plan.gid.raw()), (1500, 1500));
        assert!(resolve(SuExec, "bogus", &root(), &db()).is_err());
        assert!(resolve(SuExec, "alice:bogus", &root(), &db()).is_err());
        // su-exec's strtol would take these; runas does not.
        assert!(resolve(SuExec, "-1", &root(), &db()).is_err());
        assert!(resolve(SuExec, " 5", &root(), &db()).is_err());
    }

    #[test]
    fn program_names_and_arguments() {
        use std::ffi::{OsStr, OsString};
        let mode = |name: &str| Rules::from_program_name(OsStr::new(name));
        assert_eq!(mode("/usr/local/bin/gosu"), Rules::Gosu);
        assert_eq!(mode("su-exec"), Rules::SuExec);
        assert_eq!(mode("runas"), Rules::Runas);
        assert_eq!(mode("./gosu"), Rules::Gosu);
        assert_eq!(mode("/opt/gosu/runas"), Rules::Runas);
        assert_eq!(mode("gosu-wrapper"), Rules::Runas);
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        match parse_args(Rules::Gosu, &args(&["gosu", "app", "--", "-x"])).unwrap() {
            Invocation::Run(run) => {
                assert_eq!(run.identity.user, Some(IdSpec::Name("app".into())));
                assert_eq!(run.identity.policy, GroupPolicy::Members);
                assert_eq!(run.command, ["-x"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_args(Rules::Gosu, &args(&["gosu", "--help"])).unwrap(),
            Invocation::Print(_)
        ));
        assert!(parse_args(Rules::Gosu, &args(&["gosu", "app"])).is_err());
        assert!(parse_args(Rules::Gosu, &args(&["gosu", "app", "--"])).is_err());
        assert!(parse_args(Rules::SuExec, &args(&["su-exec"])).is_err());
    }
}
