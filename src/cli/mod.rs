//! The command line, and nothing else: the option table, a parser for it,
//! and the raw values. Meaning is given to them in spec.rs.
//!
//! Hand-written rather than clap: a launcher's parser runs at every start of
//! the program it wraps, and clap's (about 70,000 instructions and a few
//! dozen pages touched here) was a large part of runas's launch cost
//! (docs/performance.md). One table, `OPTIONS`, is the single definition:
//! the parser, `--help` and the shell completions (examples/completions.rs)
//! are all made from it.

pub mod compat;
pub mod completion;

use crate::base::error::{Error, Result};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

/// The options as typed, before any parsing of ids or names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub user: Option<String>,
    pub group: Option<String>,
    pub groups: Option<String>,
    pub init_groups: bool,
    pub keep_groups: bool,
    pub clear_groups: bool,
    pub add_group_of: Vec<OsString>,
    pub if_root: bool,
    pub keep_caps: Option<String>,
    pub allow_root_caps: Option<String>,
    pub bounding_set: Option<String>,
    pub securebits: Option<String>,
    pub no_new_privs: bool,
    pub pdeathsig: Option<String>,
    pub keep_tty: bool,
    pub keep_keyring: bool,
    pub reset_env: bool,
    pub keep_env: bool,
    /// -e, --unset, --env-file and --envdir, in command-line order: they
    /// apply in that order (later wins).
    pub env_changes: Vec<(Id, OsString)>,
    pub rlimit: Vec<String>,
    pub nice: Option<String>,
    pub oom_score_adj: Option<String>,
    pub ioprio: Option<String>,
    pub cpu_affinity: Option<String>,
    pub chdir: Option<OsString>,
    pub umask: Option<String>,
    pub close_fds: bool,
    pub keep_fd: Vec<String>,
    pub new_pgroup: bool,
    pub setsid: bool,
    pub daemon: bool,
    pub daemon_timeout: Option<String>,
    pub pidfile: Option<OsString>,
    pub log: Option<OsString>,
    pub dump: bool,
    pub dry_run: bool,
    pub show_env_values: bool,
    pub json: bool,
    /// The target's argv, verbatim.
    pub command: Vec<OsString>,
}

/// Either options to act on, or text to print and exit 0 (--help, --version).
#[derive(Debug)]
pub enum Parsed {
    Run(Box<CommandLine>),
    Print(String),
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

/// Which option an entry of `OPTIONS` is. At most 64 (a seen-set is a u64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    User,
    Group,
    Groups,
    InitGroups,
    KeepGroups,
    ClearGroups,
    AddGroupOf,
    IfRoot,
    Help,
    Version,
    KeepCaps,
    AllowRootCaps,
    BoundingSet,
    Securebits,
    NoNewPrivs,
    Pdeathsig,
    KeepTty,
    KeepKeyring,
    ResetEnv,
    KeepEnv,
    Env,
    Unset,
    EnvFile,
    Envdir,
    Chdir,
    Umask,
    CloseFds,
    KeepFd,
    NewPgroup,
    Setsid,
    Daemon,
    DaemonTimeout,
    Pidfile,
    Log,
    Rlimit,
    Nice,
    OomScoreAdj,
    Ioprio,
    CpuAffinity,
    Dump,
    DryRun,
    ShowEnvValues,
    Json,
}

impl Id {
    fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

/// What an option takes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Nothing: a switch such as `--keep-env`.
    Nothing,
    /// One value: `--user alice`, `--user=alice`, `-u alice`, `-ualice`.
    Value(Value),
}

/// How an option's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    /// As --help shows it: `USER[:GROUP]`.
    pub name: Text,
    /// The next word is taken even when it starts with '-': `--bounding-set
    /// -all`, and `--user -1` reaches the id parser, which says why -1 is
    /// refused. Otherwise such a word means the value was forgotten.
    pub may_start_with_dash: bool,
    /// May be given more than once (`-e A=1 -e B=2`); otherwise twice is
    /// an error, never "the last one wins".
    pub repeatable: bool,
    /// Any bytes (paths, environment values); otherwise it must be UTF-8.
    pub any_bytes: bool,
}

/// One option: the parser, --help and the completions all read this.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub id: Id,
    pub long: Text,
    pub short: Option<char>,
    pub takes: Takes,
    /// The --help section it is listed under.
    pub heading: Text,
    pub help: Text,
}

/// A string of the option table: a place in one text that holds them all.
/// A table of `&'static str` is a table of pointers, which a static PIE
/// relocates, and so writes, at every start: the option table was 3.5 KiB
/// of them, a page faulted in by every run (docs/performance.md). Offsets
/// need no relocation.
#[derive(Clone, Copy)]
pub struct Text {
    at: u16,
    len: u16,
}

impl Text {
    pub fn as_str(self) -> &'static str {
        let at = usize::from(self.at);
        TEXT.get(at..at + usize::from(self.len)).unwrap_or("")
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &'static str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// An option as the table below writes it. Used only at compile time:
/// [`compile`] turns the table into `OPTIONS` and `TEXT`.
#[derive(Clone, Copy)]
struct Definition {
    id: Id,
    long: &'static str,
    short: Option<char>,
    /// The value's name, for an option that takes one.
    value: Option<&'static str>,
    may_start_with_dash: bool,
    repeatable: bool,
    any_bytes: bool,
    heading: &'static str,
    help: &'static str,
}

const fn switch(
    id: Id,
    long: &'static str,
    heading: &'static str,
    help: &'static str,
) -> Definition {
    Definition {
        id,
        long,
        short: None,
        value: None,
        may_start_with_dash: false,
        repeatable: false,
        any_bytes: false,
        heading,
        help,
    }
}

const fn valued(
    id: Id,
    long: &'static str,
    name: &'static str,
    heading: &'static str,
    help: &'static str,
) -> Definition {
    let mut definition = switch(id, long, heading, help);
    definition.value = Some(name);
    definition
}

impl Definition {
    const fn short(mut self, short: char) -> Self {
        self.short = Some(short);
        self
    }

    const fn dash_ok(mut self) -> Self {
        self.may_start_with_dash = true;
        self
    }

    const fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    const fn any_bytes(mut self) -> Self {
        self.any_bytes = true;
        self
    }

    const fn text_len(&self) -> usize {
        let value = match self.value {
            Some(name) => name.len(),
            None => 0,
        };
        self.long.len() + value + self.heading.len() + self.help.len()
    }
}

impl OptionSpec {
    /// `'--user <USER[:GROUP]>'`, as messages quote it.
    fn quoted(&self) -> String {
        match self.takes {
            Takes::Nothing => format!("'--{}'", self.long),
            Takes::Value(value) => format!("'--{} <{}>'", self.long, value.name),
        }
    }
}

/// Append `text` to `pool` at `*used`; where it went.
const fn append<const T: usize>(pool: &mut [u8; T], used: &mut usize, text: &str) -> Text {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        pool[*used + i] = bytes[i];
        i += 1;
    }
    assert!(
        *used + bytes.len() <= u16::MAX as usize,
        "the option text outgrew u16 offsets"
    );
    let place = Text {
        at: *used as u16,
        len: bytes.len() as u16,
    };
    *used += bytes.len();
    place
}

/// The table as written, turned into one text and a table of places in it
/// (at compile time).
const fn compile<const T: usize, const N: usize>(
    definitions: &[Definition],
) -> ([u8; T], [OptionSpec; N]) {
    let empty = Text { at: 0, len: 0 };
    let mut pool = [0u8; T];
    let mut table = [OptionSpec {
        id: Id::Help,
        long: empty,
        short: None,
        takes: Takes::Nothing,
        heading: empty,
        help: empty,
    }; N];
    let mut used = 0;
    let mut i = 0;
    while i < N {
        let d = definitions[i];
        table[i].id = d.id;
        table[i].long = append(&mut pool, &mut used, d.long);
        table[i].short = d.short;
        if let Some(name) = d.value {
            table[i].takes = Takes::Value(Value {
                name: append(&mut pool, &mut used, name),
                may_start_with_dash: d.may_start_with_dash,
                repeatable: d.repeatable,
                any_bytes: d.any_bytes,
            });
        }
        table[i].heading = append(&mut pool, &mut used, d.heading);
        table[i].help = append(&mut pool, &mut used, d.help);
        i += 1;
    }
    assert!(used == T);
    (pool, table)
}

const fn text_len(definitions: &[Definition]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < definitions.len() {
        total += definitions[i].text_len();
        i += 1;
    }
    total
}

const COMPILED: ([u8; text_len(DEFINITIONS)], [OptionSpec; DEFINITIONS.len()]) =
    compile(DEFINITIONS);

/// Every string of the option table, one after the other.
static TEXT: &str = match std::str::from_utf8(&COMPILED.0) {
    Ok(text) => text,
    Err(_) => panic!("the option table's text is not UTF-8"),
};

/// Every option, in --help order.
pub static OPTIONS: &[OptionSpec] = &COMPILED.1;

const GENERAL: &str = "Options";
const PRIVILEGES: &str = "Capabilities and privileges";
const PROCESS: &str = "Environment and process";
const SESSION: &str = "Session and process group";
const RESOURCES: &str = "Limits and priorities (set before the switch)";
const SHOWING: &str = "Showing credentials";

/// Every option, in --help order, as written; compiled into `OPTIONS`.
const DEFINITIONS: &[Definition] = &[
    valued(Id::User, "user", "USER[:GROUP]", GENERAL, "Run as USER (name or uid); USER:GROUP also sets the primary group").short('u').dash_ok(),
    valued(Id::Group, "group", "GROUP", GENERAL, "Primary group (name or gid); alone, switches only the group, as newgrp does").short('g').dash_ok(),
    valued(Id::Groups, "groups", "LIST", GENERAL, "Supplementary groups, exactly: comma-separated names or gids (\"\" for none)").short('G').dash_ok(),
    switch(Id::InitGroups, "init-groups", GENERAL, "Supplementary groups from the group database for USER (default with --user)"),
    switch(Id::KeepGroups, "keep-groups", GENERAL, "Keep the caller's supplementary groups"),
    switch(Id::ClearGroups, "clear-groups", GENERAL, "No supplementary groups"),
    valued(Id::AddGroupOf, "add-group-of", "PATH", GENERAL, "Also add the group that owns PATH (a device, a socket) to the supplementary groups").repeatable().any_bytes(),
    switch(Id::IfRoot, "if-root", GENERAL, "Switch only when started as root; otherwise run COMMAND as the caller, as it is (a container started with --user)"),
    switch(Id::Help, "help", GENERAL, "Print help").short('h'),
    switch(Id::Version, "version", GENERAL, "Print version").short('V'),
    valued(Id::KeepCaps, "keep-caps", "CAPS", PRIVILEGES, "Give the (non-root) target exactly these capabilities, e.g. net_bind_service,sys_nice"),
    valued(Id::AllowRootCaps, "allow-root-caps", "CAPS", PRIVILEGES, "Allow --keep-caps to keep these capabilities that amount to root (setfcap, sys_admin, dac_override...); the switch can then be undone"),
    valued(Id::BoundingSet, "bounding-set", "LIST", PRIVILEGES, "Drop capabilities from the bounding set: -all, -net_raw,-sys_admin, -all,+net_bind_service").dash_ok(),
    valued(Id::Securebits, "securebits", "BITS", PRIVILEGES, "Set (or with -, clear) securebits: noroot, no-setuid-fixup, no-cap-ambient-raise, keep-caps-locked, ...-locked").dash_ok(),
    switch(Id::NoNewPrivs, "no-new-privs", PRIVILEGES, "Set no_new_privs: the target and its children can never gain privileges through exec"),
    valued(Id::Pdeathsig, "pdeathsig", "SIGNAL", PRIVILEGES, "Signal the target receives when its parent dies (set after the identity change)").dash_ok(),
    switch(Id::KeepTty, "keep-tty", PRIVILEGES, "Keep the controlling terminal (risky: the target may type into it, see TIOCSTI)"),
    switch(Id::KeepKeyring, "keep-keyring", PRIVILEGES, "Keep the caller's session keyring (by default a target of another uid gets a new one of its own)"),
    switch(Id::ResetEnv, "reset-env", PROCESS, "Start from an empty environment but TERM, COLORTERM, NO_COLOR; set HOME, USER, LOGNAME, SHELL, PATH"),
    switch(Id::KeepEnv, "keep-env", PROCESS, "Do not set HOME, USER, LOGNAME and SHELL for the target user"),
    valued(Id::Env, "env", "NAME=VALUE", PROCESS, "Set a variable in the target's environment (repeatable)").short('e').repeatable().any_bytes(),
    valued(Id::Unset, "unset", "NAME", PROCESS, "Remove a variable from the target's environment (repeatable)").repeatable(),
    valued(Id::EnvFile, "env-file", "FILE", PROCESS, "Set variables from FILE: NAME=VALUE lines, systemd EnvironmentFile= quoting; read before the switch, root-owned (repeatable)").repeatable().any_bytes(),
    valued(Id::Envdir, "envdir", "DIR", PROCESS, "Set variables from DIR as envdir does: one file per variable, its first line; an empty file unsets (repeatable)").repeatable().any_bytes(),
    valued(Id::Chdir, "chdir", "DIR", PROCESS, "Change directory after the switch, as the target (~ is the target's home)").any_bytes(),
    valued(Id::Umask, "umask", "MODE", PROCESS, "Set the file mode creation mask (octal, e.g. 027)").dash_ok(),
    switch(Id::CloseFds, "close-fds", PROCESS, "Close inherited file descriptors above 2 (not --keep-fd ones, nor systemd's LISTEN_FDS)"),
    valued(Id::KeepFd, "keep-fd", "FD", PROCESS, "With --close-fds or --daemon, keep this descriptor open (repeatable)").dash_ok().repeatable(),
    switch(Id::NewPgroup, "new-pgroup", SESSION, "Run the command as the leader of a new process group"),
    switch(Id::Setsid, "setsid", SESSION, "Run the command in a new session, without a controlling terminal"),
    switch(Id::Daemon, "daemon", SESSION, "Detach as a daemon (fork, setsid, fork); exit 0 once the command is running"),
    valued(Id::DaemonTimeout, "daemon-timeout", "SECONDS", SESSION, "With --daemon: how long to wait for the daemon to reach its exec before killing it and failing (default 30; 0 waits for ever)"),
    valued(Id::Pidfile, "pidfile", "FILE", SESSION, "With --daemon: write the daemon's pid to FILE, locked, so a second start fails (FILE in a root-owned directory)").any_bytes(),
    valued(Id::Log, "log", "FILE", SESSION, "With --daemon: append the command's stdout and stderr to FILE (opened with the target's rights)").any_bytes(),
    valued(Id::Rlimit, "rlimit", "NAME=SOFT[:HARD]", RESOURCES, "Set a resource limit (nofile, nproc, core, memlock, as, stack, cpu, ...): a number or unlimited; one value sets both (repeatable)").repeatable(),
    valued(Id::Nice, "nice", "N", RESOURCES, "Set the nice value, from -20 (highest priority) to 19").dash_ok(),
    valued(Id::OomScoreAdj, "oom-score-adj", "N", RESOURCES, "Set the OOM killer's score adjustment, from -1000 (never kill) to 1000").dash_ok(),
    valued(Id::Ioprio, "ioprio", "CLASS[:LEVEL]", RESOURCES, "Set the I/O priority: realtime, best-effort (level 0-7, default 4) or idle"),
    valued(Id::CpuAffinity, "cpu-affinity", "LIST", RESOURCES, "Run only on these CPUs, e.g. 0-3,6"),
    switch(Id::Dump, "dump", SHOWING, "Print this process's identity and process model, and exit"),
    switch(Id::DryRun, "dry-run", SHOWING, "Resolve everything and print the plan and every step of the run, in order, instead of running"),
    switch(Id::ShowEnvValues, "show-env-values", SHOWING, "With --dry-run: also print the values read from --env-file and --envdir (hidden otherwise: they are often secrets)"),
    switch(Id::Json, "json", SHOWING, "With --dump or --dry-run: one JSON object"),
];

/// The positional part, as --help describes it.
pub const COMMAND_HELP: &str = "The program to run, then its arguments, passed on verbatim";

/// Options that exclude each other.
pub const CONFLICTS: &[(Id, Id)] = &[
    (Id::Groups, Id::InitGroups),
    (Id::Groups, Id::KeepGroups),
    (Id::Groups, Id::ClearGroups),
    (Id::InitGroups, Id::KeepGroups),
    (Id::InitGroups, Id::ClearGroups),
    (Id::KeepGroups, Id::ClearGroups),
    (Id::ResetEnv, Id::KeepEnv),
    (Id::Setsid, Id::NewPgroup),
    (Id::Daemon, Id::NewPgroup),
    (Id::Daemon, Id::Setsid),
];

/// Options that mean nothing without one of some others.
pub const REQUIRES: &[(Id, &[Id])] = &[
    (Id::AllowRootCaps, &[Id::KeepCaps]),
    (Id::KeepFd, &[Id::CloseFds, Id::Daemon]),
    (Id::DaemonTimeout, &[Id::Daemon]),
    (Id::Pidfile, &[Id::Daemon]),
    (Id::Log, &[Id::Daemon]),
    (Id::ShowEnvValues, &[Id::DryRun]),
];

fn spec_of(id: Id) -> &'static OptionSpec {
    // Every Id has its entry: the unit test
    // `every_id_has_exactly_one_entry_and_fits_the_seen_set` checks.
    OPTIONS
        .iter()
        .find(|spec| spec.id == id)
        .unwrap_or(&OPTIONS[0])
}

fn usage(message: String) -> Error {
    Error::Usage(format!("{message}; see 'runas --help'"))
}

/// `--us`, `--bogus`: never guessed from a prefix, but a prefix is named.
fn unknown_long(arg: &OsStr, name: &[u8]) -> Error {
    let shown = crate::base::quote::quote(arg);
    let candidates: Vec<String> = OPTIONS
        .iter()
        .filter(|spec| !name.is_empty() && spec.long.as_bytes().starts_with(name))
        .map(|spec| format!("'--{}'", spec.long))
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

fn missing_value(spec: &OptionSpec, next: Option<&OsStr>) -> Error {
    let mut message = format!(
        "a value is required for {} but none was supplied",
        spec.quoted()
    );
    if let Some(next) = next {
        message.push_str(&format!(
            "; for a value that starts with '-', write --{}={}",
            spec.long,
            crate::base::quote::text_str(&next.to_string_lossy())
        ));
    }
    usage(message)
}

fn utf8(spec: &OptionSpec, value: OsString) -> Result<String> {
    value.into_string().map_err(|bad| {
        usage(format!(
            "the value of {} is not valid UTF-8: {}",
            spec.quoted(),
            crate::base::quote::quote(&bad)
        ))
    })
}

/// Put one option's value where it belongs.
fn store(options: &mut CommandLine, spec: &OptionSpec, value: Option<OsString>) -> Result<()> {
    let value = value.unwrap_or_default();
    match spec.id {
        Id::User => options.user = Some(utf8(spec, value)?),
        Id::Group => options.group = Some(utf8(spec, value)?),
        Id::Groups => options.groups = Some(utf8(spec, value)?),
        Id::InitGroups => options.init_groups = true,
        Id::KeepGroups => options.keep_groups = true,
        Id::ClearGroups => options.clear_groups = true,
        Id::AddGroupOf => options.add_group_of.push(value),
        Id::IfRoot => options.if_root = true,
        // Acted on as soon as they are seen, in `parse`.
        Id::Help | Id::Version => {}
        Id::KeepCaps => options.keep_caps = Some(utf8(spec, value)?),
        Id::AllowRootCaps => options.allow_root_caps = Some(utf8(spec, value)?),
        Id::BoundingSet => options.bounding_set = Some(utf8(spec, value)?),
        Id::Securebits => options.securebits = Some(utf8(spec, value)?),
        Id::NoNewPrivs => options.no_new_privs = true,
        Id::Pdeathsig => options.pdeathsig = Some(utf8(spec, value)?),
        Id::KeepTty => options.keep_tty = true,
        Id::KeepKeyring => options.keep_keyring = true,
        Id::ResetEnv => options.reset_env = true,
        Id::KeepEnv => options.keep_env = true,
        Id::Env | Id::EnvFile | Id::Envdir => options.env_changes.push((spec.id, value)),
        Id::Unset => {
            let name = utf8(spec, value)?;
            options.env_changes.push((spec.id, name.into()));
        }
        Id::Rlimit => options.rlimit.push(utf8(spec, value)?),
        Id::Nice => options.nice = Some(utf8(spec, value)?),
        Id::OomScoreAdj => options.oom_score_adj = Some(utf8(spec, value)?),
        Id::Ioprio => options.ioprio = Some(utf8(spec, value)?),
        Id::CpuAffinity => options.cpu_affinity = Some(utf8(spec, value)?),
        Id::Chdir => options.chdir = Some(value),
        Id::Umask => options.umask = Some(utf8(spec, value)?),
        Id::CloseFds => options.close_fds = true,
        Id::KeepFd => options.keep_fd.push(utf8(spec, value)?),
        Id::NewPgroup => options.new_pgroup = true,
        Id::Setsid => options.setsid = true,
        Id::Daemon => options.daemon = true,
        Id::DaemonTimeout => options.daemon_timeout = Some(utf8(spec, value)?),
        Id::Pidfile => options.pidfile = Some(value),
        Id::Log => options.log = Some(value),
        Id::Dump => options.dump = true,
        Id::DryRun => options.dry_run = true,
        Id::ShowEnvValues => options.show_env_values = true,
        Id::Json => options.json = true,
    }
    Ok(())
}

/// Conflicts and requirements, once every option is known.
fn check_combinations(seen: u64) -> Result<()> {
    let has = |id: Id| seen & id.bit() != 0;
    for &(a, b) in CONFLICTS {
        if has(a) && has(b) {
            return Err(usage(format!(
                "the argument {} cannot be used with {}",
                spec_of(a).quoted(),
                spec_of(b).quoted()
            )));
        }
    }
    for &(option, needs) in REQUIRES {
        if has(option) && !needs.iter().any(|&id| has(id)) {
            let needs: Vec<String> = needs
                .iter()
                .map(|&id| format!("--{}", spec_of(id).long))
                .collect();
            return Err(usage(format!(
                "{} needs {}",
                spec_of(option).quoted(),
                needs.join(" or ")
            )));
        }
    }
    Ok(())
}

/// Parse argv (argv[0] first). Options come before the command; the first
/// word that is not an option, or whatever follows `--`, starts it, and
/// every word from there on is passed on verbatim.
// Never inlined (nor Facts::observe, plan::resolve): inlined, their
// locals stayed in the frame of lib.rs's run for the whole run, under
// everything called later: the stack reached a third page, a fault.
#[inline(never)]
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed> {
    let mut args = args.into_iter().skip(1);
    let mut options = CommandLine::default();
    let mut seen = 0u64;
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        let (spec, inline) = if bytes == b"--" {
            options.command.extend(args);
            break;
        } else if let Some(rest) = bytes.strip_prefix(b"--") {
            let (name, inline) = match rest.iter().position(|&b| b == b'=') {
                Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                None => (rest, None),
            };
            let spec = OPTIONS
                .iter()
                .find(|spec| spec.long.as_bytes() == name)
                .ok_or_else(|| unknown_long(&arg, name))?;
            (spec, inline)
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            let spec = OPTIONS
                .iter()
                .find(|spec| spec.short.is_some_and(|s| u32::from(bytes[1]) == s as u32))
                .ok_or_else(|| unknown_short(&arg))?;
            // -ualice and -u=alice are -u alice.
            let rest = &bytes[2..];
            let inline = (!rest.is_empty()).then(|| rest.strip_prefix(b"=").unwrap_or(rest));
            (spec, inline)
        } else {
            options.command.push(arg);
            options.command.extend(args);
            break;
        };
        let value = match (spec.takes, inline) {
            (Takes::Nothing, None) => None,
            (Takes::Nothing, Some(extra)) => {
                return Err(usage(format!(
                    "unexpected value {} for {}; it takes none",
                    crate::base::quote::quote(OsStr::from_bytes(extra)),
                    spec.quoted()
                )));
            }
            (Takes::Value(_), Some(inline)) => Some(OsStr::from_bytes(inline).to_owned()),
            (Takes::Value(value), None) => match args.next() {
                None => return Err(missing_value(spec, None)),
                Some(next) if next.as_bytes() == b"--" => {
                    return Err(missing_value(spec, None));
                }
                Some(next)
                    if !value.may_start_with_dash
                        && next.len() > 1
                        && next.as_bytes()[0] == b'-' =>
                {
                    return Err(missing_value(spec, Some(&next)));
                }
                Some(next) => Some(next),
            },
        };
        match spec.id {
            Id::Help => return Ok(Parsed::Print(help())),
            Id::Version => return Ok(Parsed::Print(version())),
            _ => {}
        }
        let repeatable = matches!(spec.takes, Takes::Value(value) if value.repeatable);
        if seen & spec.id.bit() != 0 && !repeatable {
            return Err(usage(format!(
                "the argument {} cannot be used multiple times",
                spec.quoted()
            )));
        }
        seen |= spec.id.bit();
        store(&mut options, spec, value)?;
    }
    check_combinations(seen)?;
    Ok(Parsed::Run(Box::new(options)))
}

/// `runas 0.1.0`
pub fn version() -> String {
    format!("runas {}\n", env!("CARGO_PKG_VERSION"))
}

/// `-u, --user <USER[:GROUP]>` or `    --keep-env`, as --help lists it.
fn definition(spec: &OptionSpec) -> String {
    let mut text = match spec.short {
        Some(short) => format!("-{short}, --{}", spec.long),
        None => format!("    --{}", spec.long),
    };
    if let Takes::Value(value) = spec.takes {
        let _ = write!(text, " <{}>", value.name);
    }
    text
}

/// The --help text, made from `OPTIONS`.
pub fn help() -> String {
    let mut out =
        format!("{ABOUT}\n\nUsage: {USAGE}\n\nArguments:\n  [COMMAND]...  {COMMAND_HELP}\n");
    let mut headings: Vec<&str> = Vec::new();
    for spec in OPTIONS {
        if !headings.contains(&spec.heading.as_str()) {
            headings.push(spec.heading.as_str());
        }
    }
    for heading in headings {
        let rows: Vec<(String, &str)> = OPTIONS
            .iter()
            .filter(|spec| spec.heading.as_str() == heading)
            .map(|spec| (definition(spec), spec.help.as_str()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<CommandLine> {
        let args = std::iter::once("runas")
            .chain(args.iter().copied())
            .map(OsString::from);
        match parse(args)? {
            Parsed::Run(options) => Ok(*options),
            Parsed::Print(text) => panic!("printed {text}"),
        }
    }

    #[test]
    fn command_words_after_the_first_are_verbatim() {
        let o = run(&["-u", "alice", "ls", "-l", "--user", "", "--"]).unwrap();
        assert_eq!(o.user.as_deref(), Some("alice"));
        assert_eq!(o.command, ["ls", "-l", "--user", "", "--"]);
        let o = run(&["-u", "alice", "--", "-x", "-u"]).unwrap();
        assert_eq!(o.command, ["-x", "-u"]);
    }

    #[test]
    fn long_options_are_never_guessed_from_prefixes() {
        assert!(run(&["--use", "alice", "id"]).is_err());
        assert!(run(&["--clear", "id"]).is_err());
    }

    #[test]
    fn unknown_options_before_the_command_are_errors_not_commands() {
        let err = run(&["--bogus", "id"]).unwrap_err();
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
            assert!(run(&args).is_err(), "{pair:?} accepted");
        }
    }

    #[test]
    fn repeated_options_are_errors() {
        assert!(run(&["-u", "a", "-u", "b", "id"]).is_err());
    }

    #[test]
    fn every_id_has_exactly_one_entry_and_fits_the_seen_set() {
        for spec in OPTIONS {
            assert!((spec.id as u32) < 64);
            assert_eq!(OPTIONS.iter().filter(|s| s.id == spec.id).count(), 1);
            assert_eq!(OPTIONS.iter().filter(|s| s.long == spec.long).count(), 1);
            if let Some(short) = spec.short {
                assert_eq!(OPTIONS.iter().filter(|s| s.short == Some(short)).count(), 1);
            }
            assert!(std::ptr::eq(spec_of(spec.id), spec));
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
            let o = run(&args).unwrap();
            assert_eq!(o.user.as_deref(), Some("alice"), "{form:?}");
            assert_eq!(o.command, ["id"], "{form:?}");
        }
        // An '=' after the first is part of the value.
        let o = run(&["--env=A=b=c", "id"]).unwrap();
        assert_eq!(o.env_changes, [(Id::Env, "A=b=c".into())]);
        let o = run(&["--user=", "id"]).unwrap();
        assert_eq!(o.user.as_deref(), Some(""), "empty reaches the id parser");
    }

    #[test]
    fn values_starting_with_a_dash_only_where_they_make_sense() {
        let o = run(&["-u", "-1", "--bounding-set", "-all", "id"]).unwrap();
        assert_eq!(o.user.as_deref(), Some("-1"));
        assert_eq!(o.bounding_set.as_deref(), Some("-all"));
        // --env --keep-env is a forgotten value, not a variable named so.
        let err = run(&["--env", "--keep-env", "id"]).unwrap_err().to_string();
        assert!(err.contains("a value is required for '--env"), "{err}");
        assert!(err.contains("write --env=--keep-env"), "{err}");
        let o = run(&["--env=-x=1", "--chdir", "-", "id"]).unwrap();
        assert_eq!(o.env_changes, [(Id::Env, "-x=1".into())]);
        assert_eq!(o.chdir.as_deref(), Some(OsStr::new("-")));
        let o = run(&["--nice", "-5", "--oom-score-adj", "-1000", "id"]).unwrap();
        assert_eq!(o.nice.as_deref(), Some("-5"));
        assert_eq!(o.oom_score_adj.as_deref(), Some("-1000"));
        // "--" is never a value.
        let err = run(&["-u", "--", "id"]).unwrap_err().to_string();
        assert!(err.contains("a value is required"), "{err}");
    }

    #[test]
    fn switches_take_no_value() {
        let err = run(&["--keep-env=yes", "id"]).unwrap_err().to_string();
        assert!(
            err.contains("\"yes\"") && err.contains("'--keep-env'"),
            "{err}"
        );
        assert!(run(&["-hV"]).is_err());
    }

    #[test]
    fn repeatable_options_collect_in_order() {
        let o = run(&[
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
        let ids: Vec<Id> = o.env_changes.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [
                Id::Env,
                Id::Env,
                Id::Unset,
                Id::Unset,
                Id::EnvFile,
                Id::Env,
                Id::Envdir
            ]
        );
        assert_eq!(o.env_changes[3].1, "D");
        assert_eq!(o.env_changes[6].1, "/etc/a.d");
        let o = run(&["--close-fds", "--keep-fd", "3", "--keep-fd=4", "id"]).unwrap();
        assert_eq!(o.keep_fd, ["3", "4"]);
        assert!(run(&["--keep-env", "--keep-env", "id"]).is_err());
        assert!(run(&["-u", "a", "--user=a", "id"]).is_err());
    }

    #[test]
    fn requirements_and_conflicts_are_order_independent() {
        assert!(run(&["--keep-fd", "3", "--close-fds", "id"]).is_ok());
        assert!(run(&["--keep-fd", "3", "--daemon", "id"]).is_ok());
        assert!(run(&["--pidfile", "/p", "id"]).is_err());
        assert!(run(&["--log", "/l", "--daemon", "id"]).is_ok());
        assert!(run(&["--keep-env", "--reset-env", "id"]).is_err());
        assert!(run(&["--setsid", "--daemon", "id"]).is_err());
        assert!(run(&["--new-pgroup", "--setsid", "id"]).is_err());
    }

    #[test]
    fn a_lone_dash_or_an_empty_word_starts_the_command() {
        assert_eq!(run(&["-u", "a", "-", "x"]).unwrap().command, ["-", "x"]);
        assert_eq!(run(&["-u", "a", "", "x"]).unwrap().command, ["", "x"]);
        assert_eq!(
            run(&["-u", "a", "--", "--", "x"]).unwrap().command,
            ["--", "x"]
        );
        assert!(run(&["-u", "a"]).unwrap().command.is_empty());
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        let bad = OsStr::from_bytes(b"ali\xffce").to_owned();
        let parse_with = |option: &str| {
            parse([
                OsString::from("runas"),
                option.into(),
                bad.clone(),
                "id".into(),
            ])
        };
        // Paths and environment values may hold any bytes...
        for option in ["--chdir", "-e", "--add-group-of"] {
            assert!(parse_with(option).is_ok(), "{option}");
        }
        // ...names and numbers may not.
        let err = parse_with("--user").unwrap_err().to_string();
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
            Parsed::Run(o) => assert_eq!(o.command, [bad]),
            Parsed::Print(text) => panic!("{text}"),
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
            let err = run(args).unwrap_err().to_string();
            assert!(!err.contains('\x1b'), "{err:?}");
            assert!(err.contains("\\u001b"), "{err:?}");
        }
    }

    #[test]
    fn an_abbreviation_names_what_it_might_mean() {
        let err = run(&["--keep", "id"]).unwrap_err().to_string();
        for candidate in [
            "'--keep-groups'",
            "'--keep-caps'",
            "'--keep-tty'",
            "'--keep-env'",
        ] {
            assert!(err.contains(candidate), "{err}");
        }
        let err = run(&["--bogus", "id"]).unwrap_err().to_string();
        assert!(err.contains("put '--' before it"), "{err}");
    }

    #[test]
    fn help_lists_each_option_once_under_its_heading() {
        let text = help();
        for spec in OPTIONS {
            let definition = definition(spec);
            assert_eq!(
                text.matches(&format!("  {definition} ")).count(),
                1,
                "{definition}"
            );
            let heading = text.find(&format!("\n{}:\n", spec.heading)).unwrap();
            assert!(text.find(&format!("  {definition} ")).unwrap() > heading);
        }
        assert!(text.contains("Usage: runas [OPTIONS] [--] COMMAND [ARG]..."));
    }

    #[test]
    fn help_and_version_are_printed() {
        let help = parse(["runas", "--help"].map(OsString::from)).unwrap();
        assert!(matches!(help, Parsed::Print(ref t) if t.contains("--clear-groups")));
        let version = parse(["runas", "--version"].map(OsString::from)).unwrap();
        assert!(matches!(version, Parsed::Print(ref t) if t.contains(env!("CARGO_PKG_VERSION"))));
    }
}
