//! Drop-in gosu and su-exec modes, chosen by the name runas is invoked as.
//!
//! Each reproduces its tool's documented identity rules, including the ones
//! runas itself refuses (a uid without a passwd entry keeps the caller's gid,
//! gid 0 for root), because images depend on them. What stays runas's own:
//! strict id parsing, verification, terminal safety and exit codes
//! 125/126/127 instead of 1.

use crate::error::{Error, Result};
use crate::plan::{
    Credentials, Entry, EnvPlan, Plan, lookup_error, normalize_groups, resolve_group, resolve_user,
};
use crate::spec::{self, IdSpec, Kind};
use crate::userdb::{UserDb, UserRecord};

/// Which tool runas is standing in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Gosu,
    SuExec,
}

impl Mode {
    /// The mode for an argv[0], by its file name.
    /// By the last component of argv[0]. (Bytes rather than std::path,
    /// whose parser is code this launch would otherwise not touch.)
    pub fn from_program_name(argv0: &std::ffi::OsStr) -> Option<Mode> {
        let path = argv0.as_encoded_bytes();
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        match name {
            b"gosu" => Some(Mode::Gosu),
            b"su-exec" => Some(Mode::SuExec),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Gosu => "gosu",
            Mode::SuExec => "su-exec",
        }
    }

    pub fn usage(self) -> String {
        let name = self.name();
        format!(
            "Usage: {name} USER[:GROUP] [--] COMMAND [ARG]...\n   eg: {name} app server\n       {name} nobody:root sh -c 'whoami && id'\n       {name} 1000:1 id\n\n{name} mode of runas {}: USER and GROUP are names or decimal ids.\nExit status: 125 if the switch fails, 126 if COMMAND cannot be executed,\n127 if it is not found, otherwise COMMAND's own.\n",
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// gosu takes ids up to 2^31-1 (its user library's range).
const GOSU_MAX_ID: u32 = i32::MAX as u32;

/// `USER[:GROUP]` with either part possibly empty.
struct CompatSpec {
    user: Option<IdSpec>,
    group: Option<IdSpec>,
}

fn parse_part(text: &str, kind: Kind, mode: Mode) -> Result<Option<IdSpec>> {
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = spec::parse_id(text, kind)?;
    if mode == Mode::Gosu
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

fn parse_compat_spec(text: &str, mode: Mode) -> Result<CompatSpec> {
    let (user, group) = text.split_once(':').unwrap_or((text, ""));
    Ok(CompatSpec {
        user: parse_part(user, Kind::User, mode)?,
        group: parse_part(group, Kind::Group, mode)?,
    })
}

/// The passwd entry of the spec's user; an empty USER is the caller.
fn user_record(
    spec: &CompatSpec,
    current: &Credentials,
    db: &dyn UserDb,
) -> Result<Option<UserRecord>> {
    let user = spec.user.clone().unwrap_or(IdSpec::Id(current.uid.real));
    Ok(resolve_user(&user, db, Entry::Wanted)?.record)
}

/// The groups that list `user` as a member, and no primary gid: gosu's
/// supplementary list. getgrouplist always adds the gid it is given, so it
/// is given (gid_t)-1, which no group can have, and that is removed again.
fn member_groups(db: &dyn UserDb, user: &str) -> Result<Vec<u32>> {
    let mut groups = db.group_list(user, u32::MAX).map_err(lookup_error(format!(
        "the groups of user {user:?} in the group database"
    )))?;
    groups.retain(|g| *g != u32::MAX);
    Ok(groups)
}

fn home_of(record: Option<&UserRecord>) -> std::ffi::OsString {
    match record {
        Some(r) if !r.home.is_empty() => r.home.clone(),
        _ => "/".into(),
    }
}

fn plan_of(uid: u32, gid: u32, groups: Vec<u32>, home: std::ffi::OsString) -> Plan {
    Plan {
        uid,
        gid,
        groups: normalize_groups(groups),
        env: EnvPlan {
            set: vec![("HOME".into(), home)],
            ..EnvPlan::default()
        },
        process: Default::default(),
    }
}

/// gosu: the user's entry by uid (numeric) or name; an empty user is the
/// caller; a numeric uid without an entry keeps the caller's gid and gets
/// HOME=/. USER alone: the database memberships; USER:GROUP: only that gid.
fn resolve_gosu(spec: &CompatSpec, current: &Credentials, db: &dyn UserDb) -> Result<Plan> {
    let record = user_record(spec, current, db)?;
    let uid = match (&record, &spec.user) {
        (Some(r), _) => r.uid,
        (None, Some(IdSpec::Id(uid))) => *uid,
        (None, _) => current.uid.real,
    };
    let (gid, groups) = match &spec.group {
        Some(group) => (resolve_group(group, db)?, Vec::new()),
        None => match &record {
            Some(r) => (r.gid, member_groups(db, &r.name)?),
            None => (current.gid.real, Vec::new()),
        },
    };
    Ok(plan_of(uid, gid, groups, home_of(record.as_ref())))
}

/// su-exec 0.3: like gosu for the ids, but USER alone gets getgrouplist
/// (memberships plus the primary gid), and without an entry the list is the
/// gid alone.
fn resolve_su_exec(spec: &CompatSpec, current: &Credentials, db: &dyn UserDb) -> Result<Plan> {
    let record = user_record(spec, current, db)?;
    let (uid, mut gid) = match (&record, &spec.user) {
        (Some(r), _) => (r.uid, r.gid),
        (None, Some(IdSpec::Id(uid))) => (*uid, current.gid.real),
        (None, _) => (current.uid.real, current.gid.real),
    };
    let home = home_of(record.as_ref());
    let groups = match (&spec.group, &record) {
        (Some(group), _) => {
            gid = resolve_group(group, db)?;
            vec![gid]
        }
        (None, Some(r)) => db.group_list(&r.name, gid).map_err(lookup_error(format!(
            "the groups of user {:?} in the group database",
            r.name
        )))?,
        (None, None) => vec![gid],
    };
    Ok(plan_of(uid, gid, groups, home))
}

/// Resolve a gosu or su-exec `USER[:GROUP]`.
pub fn resolve(mode: Mode, text: &str, current: &Credentials, db: &dyn UserDb) -> Result<Plan> {
    let resolved = parse_compat_spec(text, mode).and_then(|spec| {
        // gosu and su-exec keep the caller's user for an empty USER, so
        // `ENTRYPOINT ["gosu", "$APP_USER"]` with the variable unset runs
        // the command as root, exit 0. Keeping root must be written.
        if spec.user.is_none() && current.uid.real == 0 {
            return Err(Error::Usage(format!(
                "the USER part is empty, which would keep root: write root or 0 to keep root (is a variable such as $APP_USER unset?); usage: {} USER[:GROUP] COMMAND",
                mode.name()
            )));
        }
        match mode {
            Mode::Gosu => resolve_gosu(&spec, current, db),
            Mode::SuExec => resolve_su_exec(&spec, current, db),
        }
    });
    resolved.map_err(|source| Error::InCompatSpec {
        mode: mode.name(),
        spec: text.to_owned(),
        source: Box::new(source),
    })
}

/// What the command line of a compat mode asks for.
pub enum Invocation {
    Print(String),
    Run {
        spec: String,
        command: Vec<std::ffi::OsString>,
    },
}

/// `NAME USER[:GROUP] [--] COMMAND [ARG]...`, `NAME --help`, `NAME --version`.
pub fn parse_args(mode: Mode, args: &[std::ffi::OsString]) -> Result<Invocation> {
    let first = args.get(1).and_then(|a| a.to_str());
    match first {
        Some("--help" | "-h" | "-?") => return Ok(Invocation::Print(mode.usage())),
        Some("--version" | "-v") => {
            return Ok(Invocation::Print(format!(
                "runas {} ({} mode)\n",
                env!("CARGO_PKG_VERSION"),
                mode.name()
            )));
        }
        _ => {}
    }
    let usage = || {
        Error::Usage(format!(
            "missing USER[:GROUP] or COMMAND\n{}",
            mode.usage().trim_end()
        ))
    };
    let spec = args.get(1).ok_or_else(usage)?;
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
        return Err(usage());
    }
    Ok(Invocation::Run {
        spec: spec.to_owned(),
        command: command.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResIds;
    use crate::userdb::fake::FakeDb;

    fn db() -> FakeDb {
        FakeDb::default()
            .user("root", 0, 0, "/root", "/bin/bash")
            .user("daemon", 1, 1, "/usr/sbin", "/bin/sh")
            .user("games", 5, 60, "/usr/games", "/bin/sh")
            .user("alice", 1500, 1500, "/home/alice", "/bin/bash")
            .group("root", 0, &[])
            .group("daemon", 1, &[])
            .group("games", 60, &[])
            .group("alice", 1500, &[])
            .group("jupiter", 1700, &["alice"])
            .group("saturn", 1701, &["alice"])
    }

    fn root() -> Credentials {
        Credentials {
            uid: ResIds::all(0),
            gid: ResIds::all(0),
            groups: vec![0, 4],
        }
    }

    fn ids(mode: Mode, spec: &str) -> (u32, u32, Vec<u32>, String) {
        let plan = resolve(mode, spec, &root(), &db()).unwrap();
        let home = plan.env.set[0].1.to_string_lossy().into_owned();
        (plan.uid, plan.gid, plan.groups, home)
    }

    #[test]
    fn gosu_table() {
        use Mode::Gosu;
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
        use Mode::SuExec;
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
        let alice = Credentials {
            uid: ResIds::all(1500),
            gid: ResIds::all(1500),
            groups: vec![1500],
        };
        let plan = resolve(SuExec, "", &alice, &db()).unwrap();
        assert_eq!((plan.uid, plan.gid), (1500, 1500));
        assert!(resolve(SuExec, "bogus", &root(), &db()).is_err());
        assert!(resolve(SuExec, "alice:bogus", &root(), &db()).is_err());
        // su-exec's strtol would take these; runas does not.
        assert!(resolve(SuExec, "-1", &root(), &db()).is_err());
        assert!(resolve(SuExec, " 5", &root(), &db()).is_err());
    }

    #[test]
    fn program_names_and_arguments() {
        use std::ffi::{OsStr, OsString};
        assert_eq!(
            Mode::from_program_name(OsStr::new("/usr/local/bin/gosu")),
            Some(Mode::Gosu)
        );
        assert_eq!(
            Mode::from_program_name(OsStr::new("su-exec")),
            Some(Mode::SuExec)
        );
        assert_eq!(Mode::from_program_name(OsStr::new("runas")), None);
        assert_eq!(
            Mode::from_program_name(OsStr::new("./gosu")),
            Some(Mode::Gosu)
        );
        assert_eq!(Mode::from_program_name(OsStr::new("/opt/gosu/runas")), None);
        assert_eq!(Mode::from_program_name(OsStr::new("gosu-wrapper")), None);
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        match parse_args(Mode::Gosu, &args(&["gosu", "app", "--", "-x"])).unwrap() {
            Invocation::Run { spec, command } => {
                assert_eq!(spec, "app");
                assert_eq!(command, ["-x"]);
            }
            Invocation::Print(_) => panic!(),
        }
        assert!(matches!(
            parse_args(Mode::Gosu, &args(&["gosu", "--help"])).unwrap(),
            Invocation::Print(_)
        ));
        assert!(parse_args(Mode::Gosu, &args(&["gosu", "app"])).is_err());
        assert!(parse_args(Mode::Gosu, &args(&["gosu", "app", "--"])).is_err());
        assert!(parse_args(Mode::SuExec, &args(&["su-exec"])).is_err());
    }
}
