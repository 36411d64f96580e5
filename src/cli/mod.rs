//! The command line: the option table (table.rs, one entry per option),
//! a parser for it, --help, and the shell completions (completion.rs) made
//! from the same table. Each value gets its meaning as it is stored (the
//! parsers of request/ and options/), into the identity the core resolves
//! and the options' request.
//!
//! Hand-written rather than clap: a launcher's parser runs at every start of
//! the program it wraps, and clap's (about 70,000 instructions and a few
//! dozen pages touched here) was a large part of runas's launch cost
//! (docs/performance.md).

pub mod compat;
pub mod completion;
pub mod table;

use crate::base::error::{Error, Result};
use crate::options::session::Daemon;
use crate::report::Outcome;
use crate::report::model::Value;
use crate::request::ids::IdSpec;
use crate::request::{GroupPolicy, Identity};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
pub use table::{option, options};

/// What a command line asks runas to do.
#[derive(Debug)]
pub enum Invocation {
    /// Print this (--help, --version) and exit 0.
    Print(String),
    /// --dump: this process's identity and process model.
    Dump { json: bool },
    /// Switch and run the command, or with --dry-run show how.
    Run(Box<Run>),
}

/// A command line that runs a command (or shows how, --dry-run).
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub identity: Identity,
    pub options: crate::options::Request,
    pub command: Vec<OsString>,
    pub dry_run: bool,
    /// --show-env-values: the dry run shows values read from files.
    pub show_env_values: bool,
    pub json: bool,
}

/// How a shell completes an option's value (completion.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complete {
    None,
    User,
    Group,
    GroupList,
    CapList,
    BoundingList,
    SecurebitList,
    Signal,
    File,
    Dir,
    Rlimit,
    Ioprio,
    Variable,
    Assignment,
}

/// A field of --dry-run's `options`: its name, and its value from what was
/// resolved.
pub type ReportField = (&'static str, fn(&Outcome<'_>) -> Value);

/// How an option's value is stored.
#[derive(Clone, Copy)]
pub enum Store {
    /// A switch: no value.
    Switch(fn(&mut Wanted)),
    /// A value that must be UTF-8 (names, numbers).
    Text(fn(&mut Wanted, &str) -> Result<()>),
    /// A value of any bytes (paths, environment values).
    Bytes(fn(&mut Wanted, OsString) -> Result<()>),
}

/// One option: the parser, --help, the completions and the dry run's
/// report all read this (table.rs).
#[derive(Clone, Copy)]
pub struct Opt {
    pub long: &'static str,
    pub short: Option<char>,
    /// Its value, as --help shows it (`USER[:GROUP]`); `None` for a switch.
    pub value: Option<&'static str>,
    pub dash_ok: bool,
    pub repeatable: bool,
    /// The --help section it is listed under.
    pub heading: table::Heading,
    pub help: &'static str,
    pub complete: Complete,
    pub conflicts: &'static [&'static str],
    pub requires: &'static [&'static str],
    pub store: Store,
    /// Its fields in --dry-run's `options`, from what was resolved.
    pub report: &'static [ReportField],
}

impl Opt {
    fn quoted(&self) -> String {
        match self.value {
            None => format!("'--{}'", self.long),
            Some(value) => format!("'--{} <{value}>'", self.long),
        }
    }
}

/// What the stores build, before the checks that need the whole command
/// line.
#[derive(Default)]
pub struct Wanted {
    pub run: Run,
    /// --group, and the GROUP of --user USER:GROUP (given twice is an error).
    group: Option<IdSpec>,
    shorthand_group: Option<IdSpec>,
    close_fds: bool,
    keep_fds: Vec<i32>,
    daemon: Option<Daemon>,
    daemon_timeout: Option<Option<u32>>,
    pidfile: Option<PathBuf>,
    log: Option<PathBuf>,
    dump: bool,
}

const ABOUT: &str = "Run a command as another user and/or group, in place.";

const USAGE: &str = "runas [OPTIONS] [--] COMMAND [ARG]...";

const AFTER_HELP: &str = "\
USER and GROUP are names, or decimal ids from 0 to 4294967294. A string of
digits is always an id, never a name. Without --group, the user's primary
group from the passwd database is used; a uid with no passwd entry needs one.

With --user, the supplementary groups default to --init-groups and HOME,
USER, LOGNAME and SHELL are set from the user's passwd entry. Without
--user (newgrp style) the uid, the supplementary groups and the environment
stay as they are unless an option says otherwise.

Before running COMMAND, runas checks that every id and group is what was
asked for, that the old ids cannot be taken back and that no capability is
left over. COMMAND is found through the PATH of its new environment, after
the switch, and replaces runas (same process id).

Exit status: 125 if runas itself fails, 126 if COMMAND cannot be executed,
127 if it is not found; otherwise the status of COMMAND.

Terminal safety: when COMMAND will be less privileged than the caller and
runas has a controlling terminal, COMMAND does not keep it, so it cannot push
input into the caller's terminal (TIOCSTI); Ctrl-C still reaches it. Use
--keep-tty for interactive shells that need job control.

Paths root opens for the target (--pidfile, --add-group-of, --env-file,
--envdir) must be in directories only root can write; a symbolic link as the
last component is never followed; files root reads must be root's alone.
Limits and priorities are set before the switch and read back before COMMAND
runs. --dry-run also predicts what the real run meets as the target. See
runas(1) and docs/security.md.

Examples:
  runas --user app -- server --port 8080
  runas -u www --keep-caps net_bind_service --no-new-privs -- server
  runas -u app:www-data -- id
  runas --group jupiter -- make
  runas -u 1000 -g 1000 --clear-groups -- ./build.sh";

fn find(long: &str) -> Option<(usize, Opt)> {
    options().enumerate().find(|(_, opt)| opt.long == long)
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn usage(message: String) -> Error {
    Error::Usage(format!("{message}; see 'runas --help'"))
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn unknown_long(arg: &OsStr, name: &[u8]) -> Error {
    let shown = crate::base::quote::quote(arg);
    let candidates: Vec<String> = options()
        .filter(|opt| !name.is_empty() && opt.long.as_bytes().starts_with(name))
        .map(|opt| format!("'--{}'", opt.long))
        .collect();
    let hint = if candidates.is_empty() {
        format!("to run a command named {shown}, put '--' before it")
    } else {
        format!(
            "options are never abbreviated: did you mean {}?",
            candidates.join(" or ")
        )
    };
    usage(format!("unknown option {shown}; {hint}"))
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn unknown_short(arg: &OsStr) -> Error {
    let shown = crate::base::quote::quote(arg);
    usage(format!(
        "unknown option {shown}; to run a command named {shown}, put '--' before it"
    ))
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn missing_value(opt: &Opt, next: Option<&OsStr>) -> Error {
    let mut message = format!(
        "a value is required for {} but none was supplied",
        opt.quoted()
    );
    if let Some(next) = next {
        let _ = write!(
            message,
            "; for a value that starts with '-', write --{}={}",
            opt.long,
            crate::base::quote::text_str(&next.to_string_lossy())
        );
    }
    usage(message)
}

/// Conflicts and requirements, whatever the order given.
fn check_combinations(seen: u64) -> Result<()> {
    let has = |long: &str| find(long).is_some_and(|(i, _)| seen & (1 << i) != 0);
    // The options given only: each entry is built when asked for.
    let given = (0..64).filter(|i| seen & (1u64 << i) != 0);
    for (i, opt) in given.filter_map(|i| Some((i, option(i)?))) {
        if let Some(other) = opt.conflicts.iter().find(|other| has(other)) {
            let (_, other) = find(other).unwrap_or((i, opt));
            return Err(usage(format!(
                "the argument {} cannot be used with {}",
                opt.quoted(),
                other.quoted()
            )));
        }
        if !opt.requires.is_empty() && !opt.requires.iter().any(|need| has(need)) {
            let needs: Vec<String> = opt.requires.iter().map(|n| format!("--{n}")).collect();
            return Err(usage(format!(
                "{} needs {}",
                opt.quoted(),
                needs.join(" or ")
            )));
        }
    }
    Ok(())
}

/// The words, split: each option with its value, in order, and the command.
type Words = (Vec<(Opt, Option<OsString>)>, Vec<OsString>);

/// Split the words (argv[0] first) into options and the command, checking
/// what needs no meaning: unknown options, missing values, repeats,
/// conflicts. --help and --version answer at once.
fn split(args: impl IntoIterator<Item = OsString>) -> Result<std::result::Result<Words, String>> {
    let mut args = args.into_iter().skip(1);
    let mut given = Vec::new();
    let mut command = Vec::new();
    let mut seen = 0u64;
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        let (index, opt, inline) = if bytes == b"--" {
            command.extend(args);
            break;
        } else if let Some(rest) = bytes.strip_prefix(b"--") {
            let (name, inline) = match rest.iter().position(|&b| b == b'=') {
                Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                None => (rest, None),
            };
            let (index, opt) = options()
                .enumerate()
                .find(|(_, opt)| opt.long.as_bytes() == name)
                .ok_or_else(|| unknown_long(&arg, name))?;
            (index, opt, inline)
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            let (index, opt) = options()
                .enumerate()
                .find(|(_, opt)| opt.short.is_some_and(|s| u32::from(bytes[1]) == s as u32))
                .ok_or_else(|| unknown_short(&arg))?;
            // -ualice and -u=alice are -u alice.
            let rest = &bytes[2..];
            let inline = (!rest.is_empty()).then(|| rest.strip_prefix(b"=").unwrap_or(rest));
            (index, opt, inline)
        } else {
            command.push(arg);
            command.extend(args);
            break;
        };
        let value = match (opt.value, inline) {
            (None, None) => None,
            (None, Some(extra)) => {
                return Err(usage(format!(
                    "unexpected value {} for {}; it takes none",
                    crate::base::quote::quote(OsStr::from_bytes(extra)),
                    opt.quoted()
                )));
            }
            (Some(_), Some(inline)) => Some(OsStr::from_bytes(inline).to_owned()),
            (Some(_), None) => match args.next() {
                None => return Err(missing_value(&opt, None)),
                Some(next) if next.as_bytes() == b"--" => return Err(missing_value(&opt, None)),
                Some(next) if !opt.dash_ok && next.len() > 1 && next.as_bytes()[0] == b'-' => {
                    return Err(missing_value(&opt, Some(&next)));
                }
                Some(next) => Some(next),
            },
        };
        match opt.long {
            "help" => return Ok(Err(help())),
            "version" => return Ok(Err(version())),
            _ => {}
        }
        if seen & (1 << index) != 0 && !opt.repeatable {
            return Err(usage(format!(
                "the argument {} cannot be used multiple times",
                opt.quoted()
            )));
        }
        seen |= 1 << index;
        given.push((opt, value));
    }
    check_combinations(seen)?;
    Ok(Ok((given, command)))
}

fn store(wanted: &mut Wanted, opt: &Opt, value: Option<OsString>) -> Result<()> {
    let value = value.unwrap_or_default();
    match opt.store {
        Store::Switch(store) => {
            store(wanted);
            Ok(())
        }
        Store::Bytes(store) => store(wanted, value),
        Store::Text(store) => match value.to_str() {
            Some(text) => store(wanted, text),
            None => Err(usage(format!(
                "the value of {} is not valid UTF-8: {}",
                opt.quoted(),
                crate::base::quote::quote(&value)
            ))),
        },
    }
}

/// Parse a runas command line (argv[0] first).
// Never inlined (nor Facts::observe, plan::resolve): inlined, their
// locals stayed in the frame of lib.rs's run for the whole run, under
// everything called later: the stack reached a third page, a fault.
#[inline(never)]
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation> {
    let (given, command) = match split(args)? {
        Ok(words) => words,
        Err(text) => return Ok(Invocation::Print(text)),
    };
    if given.iter().any(|(opt, _)| opt.long == "dump") {
        let json = given.iter().any(|(opt, _)| opt.long == "json");
        if given.len() > 1 + usize::from(json) || !command.is_empty() {
            return Err(Error::Usage(
                "--dump takes no other option than --json, and no command".into(),
            ));
        }
        return Ok(Invocation::Dump { json });
    }
    let mut wanted = Wanted::default();
    for (opt, value) in given {
        store(&mut wanted, &opt, value)?;
    }
    wanted.run.command = command;
    finish(wanted).map(|run| Invocation::Run(Box::new(run)))
}

/// The checks that need the whole command line.
fn finish(mut w: Wanted) -> Result<Run> {
    let r = &mut w.run;
    r.identity.group = match (w.shorthand_group, w.group) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "the group is given twice: use either --user USER:GROUP or --user USER --group GROUP"
                    .into(),
            ));
        }
        (shorthand, group) => shorthand.or(group),
    };
    crate::options::env::check_contradiction(&r.options.env.changes)?;
    if let Some(mut daemon) = w.daemon {
        daemon.pidfile = w.pidfile;
        daemon.log = w.log;
        if let Some(timeout) = w.daemon_timeout {
            daemon.timeout = timeout;
        }
        r.options.daemon = Some(daemon);
    }
    if w.close_fds || r.options.daemon.is_some() {
        r.options.close_fds = Some(w.keep_fds);
    }
    if r.options.daemon.is_some() && r.options.pdeathsig.is_some() {
        return Err(Error::Usage(
            "--pdeathsig cannot be used with --daemon: a daemon's parent is init (or the nearest subreaper), not the process that started it, and the intermediate process of the double fork exits by design".into(),
        ));
    }
    let identity = &r.identity;
    let nothing_asked = identity.user.is_none()
        && identity.group.is_none()
        && identity.policy == GroupPolicy::Default
        && identity.privileges == crate::request::Privileges::default()
        && r.options == crate::options::Request::default();
    if nothing_asked {
        return Err(Error::Usage(
            "nothing to change: add --user USER, --group GROUP, or a group option (--groups, --keep-groups, --clear-groups); see 'runas --help'"
                .into(),
        ));
    }
    if r.json && !r.dry_run {
        return Err(Error::Usage("--json goes with --dump or --dry-run".into()));
    }
    if r.command.is_empty() {
        return Err(Error::Usage(
            "missing the command to run: runas [OPTIONS] [--] COMMAND [ARG]...".into(),
        ));
    }
    check_command_name(&r.command)?;
    r.identity.entry_wanted = r.options.wants_entry();
    Ok(w.run)
}

/// An empty command name is refused before anything changes: the PATH
/// search would turn "" into each PATH directory, which execve refuses as
/// "permission denied", a message that points nowhere.
pub(crate) fn check_command_name(command: &[OsString]) -> Result<()> {
    match command.first() {
        Some(name) if name.is_empty() => Err(Error::Usage(
            "empty command name: the command after the options is \"\" (an unset variable?); name the program to run".into(),
        )),
        _ => Ok(()),
    }
}

/// Each option's report fields, in table order, for --dry-run.
pub fn report_fields(outcome: &Outcome<'_>) -> Vec<(&'static str, Value)> {
    options()
        .flat_map(|opt| opt.report.iter())
        .map(|(key, field)| (*key, field(outcome)))
        .collect()
}

/// `runas 0.1.0`
pub fn version() -> String {
    format!("runas {}\n", env!("CARGO_PKG_VERSION"))
}

/// `-u, --user <USER[:GROUP]>` or `    --keep-env`, as --help lists it.
fn definition(opt: &Opt) -> String {
    let mut text = match opt.short {
        Some(short) => format!("-{short}, --{}", opt.long),
        None => format!("    --{}", opt.long),
    };
    if let Some(value) = opt.value {
        let _ = write!(text, " <{value}>");
    }
    text
}

/// The --help text, made from the option table.
pub fn help() -> String {
    let mut out =
        format!("{ABOUT}\n\nUsage: {USAGE}\n\nArguments:\n  [COMMAND]...  {COMMAND_HELP}\n");
    let mut headings: Vec<table::Heading> = Vec::new();
    for opt in options() {
        if !headings.contains(&opt.heading) {
            headings.push(opt.heading);
        }
    }
    for heading in headings {
        let rows: Vec<(String, &str)> = options()
            .filter(|opt| opt.heading == heading)
            .map(|opt| (definition(&opt), opt.help))
            .collect();
        let width = rows.iter().map(|(left, _)| left.len()).max().unwrap_or(0);
        let _ = write!(out, "\n{}:\n", heading.title());
        for (left, help) in rows {
            let _ = writeln!(out, "  {left:width$}  {help}");
        }
    }
    let _ = write!(out, "\n{AFTER_HELP}\n");
    out
}

pub const COMMAND_HELP: &str = "The program to run, then its arguments, passed on verbatim";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::env::Change;
    use crate::options::session::Session;
    use crate::request::caps::{Cap, CapSet};

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("runas")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The command line as far as words go: options and their raw values.
    fn words(args: &[&str]) -> Result<Vec<(&'static str, Option<OsString>)>> {
        match split(argv(args))? {
            Ok((given, _)) => Ok(given.into_iter().map(|(o, v)| (o.long, v)).collect()),
            Err(text) => panic!("printed {text}"),
        }
    }

    fn command(args: &[&str]) -> Vec<OsString> {
        match split(argv(args)).unwrap() {
            Ok((_, command)) => command,
            Err(text) => panic!("printed {text}"),
        }
    }

    fn run(args: &[&str]) -> Result<Run> {
        match parse(argv(args))? {
            Invocation::Run(run) => Ok(*run),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn command_words_after_the_first_are_verbatim() {
        let r = run(&["-u", "alice", "ls", "-l", "--user", "", "--"]).unwrap();
        assert_eq!(r.identity.user, Some(IdSpec::Name("alice".into())));
        assert_eq!(r.command, ["ls", "-l", "--user", "", "--"]);
        assert_eq!(command(&["-u", "alice", "--", "-x", "-u"]), ["-x", "-u"]);
    }

    #[test]
    fn long_options_are_never_guessed_from_prefixes() {
        assert!(words(&["--use", "alice", "id"]).is_err());
        assert!(words(&["--clear", "id"]).is_err());
    }

    #[test]
    fn unknown_options_before_the_command_are_errors_not_commands() {
        let err = words(&["--bogus", "id"]).unwrap_err();
        assert!(err.to_string().contains("--bogus"), "{err}");
    }

    #[test]
    fn group_policies_exclude_each_other() {
        for pair in [
            ["--keep-groups", "--clear-groups"],
            ["--init-groups", "--keep-groups"],
            ["--groups=1", "--clear-groups"],
            ["--groups=1", "--init-groups"],
        ] {
            let mut args = vec!["-u", "alice"];
            args.extend(pair);
            args.push("id");
            assert!(words(&args).is_err(), "{pair:?} accepted");
        }
    }

    #[test]
    fn repeated_options_are_errors() {
        assert!(words(&["-u", "a", "-u", "b", "id"]).is_err());
    }

    #[test]
    fn every_option_has_exactly_one_entry_and_fits_the_seen_set() {
        // The table's arms are numbered without a gap: past the first
        // index without an entry there is none.
        let count = options().count();
        assert!((count..count + 1000).all(|i| option(i).is_none()));
        assert!(count <= 64);
        for opt in options() {
            assert_eq!(options().filter(|o| o.long == opt.long).count(), 1);
            if let Some(short) = opt.short {
                assert_eq!(options().filter(|o| o.short == Some(short)).count(), 1);
            }
            // What an entry names exists, and conflicts go both ways.
            for other in opt.conflicts {
                let (_, other) = find(other).unwrap_or_else(|| panic!("{other}"));
                assert!(
                    other.conflicts.contains(&opt.long),
                    "{} {}",
                    opt.long,
                    other.long
                );
            }
            for need in opt.requires {
                assert!(find(need).is_some(), "{need}");
            }
            // A value, and only a value, is completed.
            assert_eq!(
                opt.value.is_none(),
                matches!(opt.store, Store::Switch(_)),
                "{}",
                opt.long
            );
            if opt.value.is_none() {
                assert_eq!(opt.complete, Complete::None, "{}", opt.long);
            }
        }
    }

    #[test]
    fn every_way_of_giving_a_value_gives_the_same_value() {
        for form in [
            &["--user", "alice"][..],
            &["--user=alice"],
            &["-u", "alice"],
            &["-ualice"],
            &["-u=alice"],
        ] {
            let mut args = form.to_vec();
            args.push("id");
            let r = run(&args).unwrap();
            assert_eq!(
                r.identity.user,
                Some(IdSpec::Name("alice".into())),
                "{form:?}"
            );
            assert_eq!(r.command, ["id"], "{form:?}");
        }
        // An '=' after the first is part of the value.
        let r = run(&["--env=A=b=c", "id"]).unwrap();
        assert_eq!(
            r.options.env.changes,
            [Change::Set("A".into(), "b=c".into())]
        );
        let err = run(&["--user=", "id"]).unwrap_err().to_string();
        assert!(
            err.contains("it is empty"),
            "empty reaches the id parser: {err}"
        );
    }

    #[test]
    fn values_starting_with_a_dash_only_where_they_make_sense() {
        assert_eq!(
            words(&["-u", "-1", "--bounding-set", "-all", "id"]).unwrap(),
            [
                ("user", Some("-1".into())),
                ("bounding-set", Some("-all".into()))
            ]
        );
        // --env --keep-env is a forgotten value, not a variable named so.
        let err = words(&["--env", "--keep-env", "id"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("a value is required for '--env"), "{err}");
        assert!(err.contains("write --env=--keep-env"), "{err}");
        let r = run(&["--env=-x=1", "--chdir", "-", "id"]).unwrap();
        assert_eq!(
            r.options.env.changes,
            [Change::Set("-x".into(), "1".into())]
        );
        assert_eq!(r.options.chdir.as_deref(), Some(OsStr::new("-")));
        let r = run(&["--nice", "-5", "--oom-score-adj", "-1000", "id"]).unwrap();
        assert_eq!(r.options.resources.nice, Some(-5));
        assert_eq!(r.options.resources.oom_score_adj, Some(-1000));
        // "--" is never a value.
        let err = words(&["-u", "--", "id"]).unwrap_err().to_string();
        assert!(err.contains("a value is required"), "{err}");
    }

    #[test]
    fn switches_take_no_value() {
        let err = words(&["--keep-env=yes", "id"]).unwrap_err().to_string();
        assert!(
            err.contains("\"yes\"") && err.contains("'--keep-env'"),
            "{err}"
        );
        assert!(split(argv(&["-hV"])).is_err());
    }

    #[test]
    fn repeatable_options_collect_in_order() {
        let r = run(&[
            "-e",
            "A=1",
            "--env",
            "B=2",
            "--unset",
            "C",
            "--unset=D",
            "--env-file",
            "/etc/a.env",
            "-e",
            "E=3",
            "--envdir=/etc/a.d",
            "id",
        ])
        .unwrap();
        assert_eq!(
            r.options.env.changes,
            [
                Change::Set("A".into(), "1".into()),
                Change::Set("B".into(), "2".into()),
                Change::Unset("C".into()),
                Change::Unset("D".into()),
                Change::File("/etc/a.env".into()),
                Change::Set("E".into(), "3".into()),
                Change::Dir("/etc/a.d".into()),
            ]
        );
        let r = run(&["--close-fds", "--keep-fd", "3", "--keep-fd=4", "id"]).unwrap();
        assert_eq!(r.options.close_fds, Some(vec![3, 4]));
        assert!(words(&["--keep-env", "--keep-env", "id"]).is_err());
        assert!(words(&["-u", "a", "--user=a", "id"]).is_err());
    }

    #[test]
    fn requirements_and_conflicts_are_order_independent() {
        assert!(run(&["--keep-fd", "3", "--close-fds", "id"]).is_ok());
        assert!(run(&["--keep-fd", "3", "--daemon", "id"]).is_ok());
        assert!(words(&["--pidfile", "/p", "id"]).is_err());
        assert!(run(&["--log", "/l", "--daemon", "id"]).is_ok());
        assert!(words(&["--keep-env", "--reset-env", "id"]).is_err());
        assert!(words(&["--setsid", "--daemon", "id"]).is_err());
        assert!(words(&["--new-pgroup", "--setsid", "id"]).is_err());
        let err = run(&["--daemon", "--pdeathsig", "TERM", "id"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("--pdeathsig cannot be used with --daemon"),
            "{err}"
        );
    }

    #[test]
    fn a_lone_dash_or_an_empty_word_starts_the_command() {
        assert_eq!(command(&["-u", "a", "-", "x"]), ["-", "x"]);
        assert_eq!(command(&["-u", "a", "", "x"]), ["", "x"]);
        assert_eq!(command(&["-u", "a", "--", "--", "x"]), ["--", "x"]);
        assert!(command(&["-u", "a"]).is_empty());
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        let bad = OsStr::from_bytes(b"ali\xffce").to_owned();
        let parse_with = |option: &str| {
            parse([
                OsString::from("runas"),
                "-u".into(),
                "alice".into(),
                option.into(),
                bad.clone(),
                "id".into(),
            ])
        };
        // Paths and environment values may hold any bytes...
        for option in ["--chdir", "--add-group-of", "--env-file"] {
            assert!(parse_with(option).is_ok(), "{option}");
        }
        // ...names and numbers may not.
        let err = parse_with("--group").unwrap_err().to_string();
        assert!(
            err.contains("not valid UTF-8") && err.contains("ali"),
            "{err}"
        );
        // The command's words are passed on untouched.
        let args = [
            OsString::from("runas"),
            "-u".into(),
            "a".into(),
            bad.clone(),
        ];
        match parse(args).unwrap() {
            Invocation::Run(r) => assert_eq!(r.command, [bad]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn control_characters_of_a_bad_argument_never_reach_the_terminal_raw() {
        for args in [
            &["--\x1b]2;pwned\x07", "id"][..],
            &["-\x1b[2J", "id"],
            &["--keep-env=\x1b[2J", "id"],
            &["--env", "-\x1b[2J", "id"],
        ] {
            let err = words(args).unwrap_err().to_string();
            assert!(!err.contains('\x1b'), "{err:?}");
            assert!(err.contains("\\u001b"), "{err:?}");
        }
    }

    #[test]
    fn an_abbreviation_names_what_it_might_mean() {
        let err = words(&["--keep", "id"]).unwrap_err().to_string();
        for candidate in [
            "'--keep-groups'",
            "'--keep-caps'",
            "'--keep-tty'",
            "'--keep-env'",
        ] {
            assert!(err.contains(candidate), "{err}");
        }
        let err = words(&["--bogus", "id"]).unwrap_err().to_string();
        assert!(err.contains("put '--' before it"), "{err}");
    }

    #[test]
    fn help_lists_each_option_once_under_its_heading() {
        let text = help();
        for opt in options() {
            let definition = definition(&opt);
            assert_eq!(
                text.matches(&format!("  {definition} ")).count(),
                1,
                "{definition}"
            );
            let heading = text.find(&format!("\n{}:\n", opt.heading.title())).unwrap();
            assert!(text.find(&format!("  {definition} ")).unwrap() > heading);
        }
        assert!(text.contains("Usage: runas [OPTIONS] [--] COMMAND [ARG]..."));
    }

    #[test]
    fn help_and_version_are_printed_whatever_comes_before() {
        let help = parse(argv(&["-u", "-1", "--help"])).unwrap();
        assert!(matches!(help, Invocation::Print(ref t) if t.contains("--clear-groups")));
        let version = parse(argv(&["--version"])).unwrap();
        assert!(
            matches!(version, Invocation::Print(ref t) if t.contains(env!("CARGO_PKG_VERSION")))
        );
    }

    #[test]
    fn request_combines_shorthand_and_group_option() {
        let r = run(&["-u", "alice:jupiter", "id"]).unwrap();
        assert_eq!(r.identity.user, Some(IdSpec::Name("alice".into())));
        assert_eq!(r.identity.group, Some(IdSpec::Name("jupiter".into())));
        let r = run(&["-u", "alice", "-g", "7", "id"]).unwrap();
        assert_eq!(r.identity.group, Some(IdSpec::Id(7)));
        let err = run(&["-u", "alice:jupiter", "-g", "saturn", "id"]).unwrap_err();
        assert!(err.to_string().contains("given twice"));
    }

    #[test]
    fn a_request_needs_something_to_change_and_a_command() {
        let err = run(&["id"]).unwrap_err();
        assert!(err.to_string().contains("--user USER"), "{err}");
        let err = run(&["-u", "alice"]).unwrap_err();
        assert!(err.to_string().contains("missing the command"), "{err}");
        assert_eq!(
            run(&["--clear-groups", "id"]).unwrap().identity.policy,
            GroupPolicy::Clear
        );
        assert_eq!(
            run(&["-u", "alice", "--groups", "", "id"])
                .unwrap()
                .identity
                .policy,
            GroupPolicy::List(vec![])
        );
        // An option alone is something to do.
        let r = run(&["--no-new-privs", "id"]).unwrap();
        assert!(r.identity.privileges.no_new_privs);
        let r = run(&["--close-fds", "--keep-fd", "3", "--keep-fd", "7", "id"]).unwrap();
        assert_eq!(r.options.close_fds, Some(vec![3, 7]));
        assert!(run(&["--close-fds", "--keep-fd", "-1", "id"]).is_err());
        assert!(run(&["-u", "alice", "--json", "id"]).is_err());
        assert!(matches!(
            parse(argv(&["--dump", "--json"])).unwrap(),
            Invocation::Dump { json: true }
        ));
        assert!(
            parse(argv(&["--dump", "-u", "-1"]))
                .unwrap_err()
                .to_string()
                .contains("--dump takes no other option")
        );
    }

    #[test]
    fn env_assignments_and_contradictions() {
        assert!(run(&["-u", "a", "-e", "=x", "id"]).is_err());
        assert!(run(&["-u", "a", "-e", "NOEQUALS", "id"]).is_err());
        assert!(run(&["-u", "a", "-e", "X=1", "--unset", "X", "id"]).is_err());
        assert!(run(&["-u", "a", "--unset", "A=B", "id"]).is_err());
        // A file and -e are an order, not a contradiction.
        let r = run(&[
            "-u",
            "a",
            "--env-file",
            "/etc/app.env",
            "--unset",
            "X",
            "--envdir",
            "/etc/app.d",
            "id",
        ])
        .unwrap();
        assert_eq!(
            r.options.env.changes,
            [
                Change::File("/etc/app.env".into()),
                Change::Unset("X".into()),
                Change::Dir("/etc/app.d".into())
            ]
        );
    }

    #[test]
    fn values_are_typed_as_they_are_stored() {
        let r = run(&[
            "-u",
            "alice",
            "--keep-caps",
            "net_bind_service",
            "--securebits",
            "noroot",
            "--setsid",
            "--daemon-timeout",
            "5",
            "id",
        ]);
        assert!(r.is_err(), "--daemon-timeout needs --daemon");
        let r = run(&[
            "-u",
            "alice",
            "--keep-caps",
            "net_bind_service",
            "--daemon",
            "--daemon-timeout",
            "0",
            "--pidfile",
            "/run/a.pid",
            "id",
        ])
        .unwrap();
        assert_eq!(
            r.identity.privileges.keep_caps,
            CapSet::of(Cap::new(10).unwrap())
        );
        let daemon = r.options.daemon.unwrap();
        assert_eq!(daemon.timeout, None);
        assert_eq!(
            daemon.pidfile.as_deref(),
            Some(std::path::Path::new("/run/a.pid"))
        );
        assert_eq!(
            r.options.close_fds,
            Some(vec![]),
            "a daemon closes descriptors"
        );
        let r = run(&["-u", "alice", "--setsid", "id"]).unwrap();
        assert_eq!(r.options.session, Session::Setsid);
        assert!(r.identity.entry_wanted);
        let r = run(&[
            "-u",
            "1500",
            "-g",
            "1500",
            "--keep-env",
            "--clear-groups",
            "id",
        ])
        .unwrap();
        assert!(!r.identity.entry_wanted);
        assert!(
            run(&[
                "-u", "a", "--rlimit", "nofile=1", "--rlimit", "nofile=2", "id"
            ])
            .is_err()
        );
    }
}

/// The list of steps for whole command lines, as the dry run shows it.
#[cfg(test)]
mod step_tests {
    use super::*;
    use crate::core::steps::Step;
    use crate::testing;

    fn texts(args: &[&str]) -> Vec<String> {
        let mut argv = vec!["runas"];
        argv.extend_from_slice(args);
        argv.extend(["--", "id"]);
        let Invocation::Run(run) = parse(argv.iter().map(OsString::from)).unwrap() else {
            panic!("not a run")
        };
        let facts = testing::facts(testing::root());
        let db = testing::db();
        let mut plan = crate::core::plan::resolve(&run.identity, &facts, &db).unwrap();
        let inherited = crate::options::Inherited {
            listen: crate::options::process::Listen::None,
        };
        let resolved =
            crate::options::resolve(run.options, &mut plan, &facts, &inherited, &db, &db).unwrap();
        let extras = crate::options::steps(&resolved, &plan, &facts).unwrap();
        crate::core::steps::build(&plan, &facts, &run.command, extras)
            .unwrap()
            .iter()
            // Whatever terminal the test runs on is no part of these.
            .filter(|step| {
                !matches!(
                    step,
                    Step::Extra(
                        crate::options::Step::DetachTerminal(_)
                            | crate::options::Step::KeepTerminal(_)
                    )
                )
            })
            .map(|step| step.shown().to_string())
            .collect()
    }

    #[test]
    fn a_default_switch_is_credentials_proof_and_exec() {
        let steps = texts(&["-u", "alice"]);
        assert_eq!(
            steps[..6],
            [
                "setgroups([1500,1700,1701])",
                "setresgid(1500, 1500, 1500)",
                "setresuid(1500, 1500, 1500)",
                "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)",
                "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
                "capset(effective=0x0, permitted=0x0, inheritable=0x0)",
            ]
        );
        assert!(
            steps[6].starts_with("getresuid(), getresgid(), getgroups()"),
            "{steps:?}"
        );
        assert!(steps[6].contains("session keyring is the target's own"));
        assert_eq!(
            steps[7],
            "execve(\"id\") (searched in the new environment's PATH as uid 1500)"
        );
        assert_eq!(steps.len(), 8);
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
        assert!(steps[0].starts_with("openat(\"/dev/null\""), "{steps:?}");
        assert!(
            steps[1].starts_with("openat(<its directory>, \"app.pid\", O_RDWR|O_NOFOLLOW)"),
            "{steps:?}"
        );
        assert!(
            steps[2].starts_with("pipe2(O_CLOEXEC), prctl(PR_SET_CHILD_SUBREAPER, 1), fork(), setsid(), fork(); the middle process: write("),
            "{steps:?}"
        );
        assert!(
            steps[3].starts_with("ftruncate(<the pidfile>, 0), write(<the pidfile>"),
            "{steps:?}"
        );
        let log = steps.iter().position(|s| s.contains("app.log")).unwrap();
        let uid = steps
            .iter()
            .position(|s| s.starts_with("setresuid"))
            .unwrap();
        assert!(log > uid, "the log is opened after the switch: {steps:?}");
        // The daemon's defaults are in the list, not added later.
        assert!(
            steps.iter().any(|s| s.starts_with("chdir(\"/\")")),
            "{steps:?}"
        );
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("close_range(<each range")
                    && s.contains("the pidfile's lock")),
            "{steps:?}"
        );
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("write(<the status pipe>, \"exec\\n\")")),
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
        assert!(steps[0].starts_with("setsid(), getsid(0)"), "{steps:?}");
    }

    #[test]
    fn limits_are_set_before_the_switch_and_read_back_before_exec() {
        let steps = texts(&["-u", "alice", "--rlimit", "core=0", "--umask", "027"]);
        let limit = steps
            .iter()
            .position(|s| s.starts_with("prlimit64(0, RLIMIT_CORE, rlim_cur=0, rlim_max=0)"))
            .unwrap();
        let uid = steps
            .iter()
            .position(|s| s.starts_with("setresuid"))
            .unwrap();
        let umask = steps.iter().position(|s| s == "umask(027)").unwrap();
        let check = steps
            .iter()
            .position(|s| s.starts_with("prlimit64(0, RLIMIT_CORE, NULL)"))
            .unwrap();
        let exec = steps.iter().position(|s| s.starts_with("execve")).unwrap();
        assert!(
            limit < uid && uid < umask && umask < check && check < exec,
            "{steps:?}"
        );
    }
}
