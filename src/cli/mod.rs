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
use crate::report::model::Value;
use crate::report::show::Outcome;
use crate::request::ids::IdSpec;
use crate::request::{GroupPolicy, Identity};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
pub use table::OPTIONS;

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
    pub heading: &'static str,
    pub help: &'static str,
    pub complete: Complete,
    pub conflicts: &'static [&'static str],
    pub requires: &'static [&'static str],
    pub store: Store,
    /// Its fields in --dry-run's `options`, from what was resolved.
    pub report: &'static [(&'static str, fn(&Outcome<'_>) -> Value)],
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

fn find(long: &str) -> Option<(usize, &'static Opt)> {
    OPTIONS.iter().enumerate().find(|(_, opt)| opt.long == long)
}

fn usage(message: String) -> Error {
    Error::Usage(format!("{message}; see 'runas --help'"))
}

fn unknown_long(arg: &OsStr, name: &[u8]) -> Error {
    let shown = crate::base::quote::quote(arg);
    let candidates: Vec<String> = OPTIONS
        .iter()
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

fn unknown_short(arg: &OsStr) -> Error {
    let shown = crate::base::quote::quote(arg);
    usage(format!(
        "unknown option {shown}; to run a command named {shown}, put '--' before it"
    ))
}

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
    for (i, opt) in OPTIONS.iter().enumerate() {
        if seen & (1 << i) == 0 {
            continue;
        }
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
type Words = (Vec<(&'static Opt, Option<OsString>)>, Vec<OsString>);

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
            let (index, opt) = OPTIONS
                .iter()
                .enumerate()
                .find(|(_, opt)| opt.long.as_bytes() == name)
                .ok_or_else(|| unknown_long(&arg, name))?;
            (index, opt, inline)
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            let (index, opt) = OPTIONS
                .iter()
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
                None => return Err(missing_value(opt, None)),
                Some(next) if next.as_bytes() == b"--" => return Err(missing_value(opt, None)),
                Some(next) if !opt.dash_ok && next.len() > 1 && next.as_bytes()[0] == b'-' => {
                    return Err(missing_value(opt, Some(&next)));
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
        store(&mut wanted, opt, value)?;
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
    r.identity.entry_wanted = r.options.wants_entry();
    Ok(w.run)
}

/// Each option's report fields, in table order, for --dry-run.
pub fn report_fields(outcome: &Outcome<'_>) -> Vec<(&'static str, Value)> {
    OPTIONS
        .iter()
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

/// The --help text, made from `OPTIONS`.
pub fn help() -> String {
    let mut out =
        format!("{ABOUT}\n\nUsage: {USAGE}\n\nArguments:\n  [COMMAND]...  {COMMAND_HELP}\n");
    let mut headings: Vec<&str> = Vec::new();
    for opt in OPTIONS {
        if !headings.contains(&opt.heading) {
            headings.push(opt.heading);
        }
    }
    for heading in headings {
        let rows: Vec<(String, &str)> = OPTIONS
            .iter()
            .filter(|opt| opt.heading == heading)
            .map(|opt| (definition(opt), opt.help))
            .collect();
        let width = rows.iter().map(|(left, _)| left.len()).max().unwrap_or(0);
        let _ = write!(out, "\n{heading}:\n");
        for (left, help) in rows {
            let _ = writeln!(out, "  {left:width$}  {help}");
        }
    }
    let _ = write!(out, "\n{AFTER_HELP}\n");
    out
}

pub const COMMAND_HELP: &str = "The program to run, then its arguments, passed on verbatim";
