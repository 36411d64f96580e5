//! Pure parsing of user, group and group-list specifications.
//!
//! The one rule (README, "Identity rules"): a string of ASCII digits only is a numeric
//! id and must lie in 0..=4294967294; anything else is a name. Strings that a
//! person or another tool could read as a number in some other notation
//! (signs, hex, surrounding spaces) are rejected rather than looked up, so a
//! typo can never become a lookup of a strangely named account, and the
//! value 4294967295 (-1, "leave unchanged" to the kernel) can never be passed on.

use crate::base::error::{Error, Result};
use crate::cli::{CommandLine, Parsed};
use crate::request::caps;
use nix::sys::signal::Signal;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The largest valid id: 2^32 - 2. 2^32 - 1 is (uid_t)-1, which the set*id
/// calls read as "do not change".
pub const MAX_ID: u32 = u32::MAX - 1;

/// What a user or group was given as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSpec {
    Id(u32),
    Name(String),
}

/// Whether a spec names a user or a group; used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }
}

/// `--user USER` or `--user USER:GROUP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: IdSpec,
    pub group: Option<IdSpec>,
}

/// Whose identity rules a request follows: runas's own, or those of the
/// tool runas stands in for when invoked under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    Runas,
    Gosu,
    SuExec,
}

impl Rules {
    /// The mode for an argv[0], by its last component. (Bytes rather than
    /// std::path, whose parser is code this launch would otherwise not
    /// touch.)
    pub fn from_program_name(argv0: &OsStr) -> Rules {
        let path = argv0.as_bytes();
        match path.rsplit(|&b| b == b'/').next().unwrap_or(path) {
            b"gosu" => Rules::Gosu,
            b"su-exec" => Rules::SuExec,
            _ => Rules::Runas,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rules::Runas => "runas",
            Rules::Gosu => "gosu",
            Rules::SuExec => "su-exec",
        }
    }
}

/// Where the supplementary group list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupPolicy {
    /// Nothing said: `Init` when a user is given, otherwise keep the list.
    Default,
    /// The user's groups from the group database, plus the primary gid.
    Init,
    /// The groups that list the user, without the primary gid (gosu).
    Members,
    /// The caller's current list.
    Keep,
    /// No supplementary groups.
    Clear,
    /// Exactly these groups.
    List(Vec<IdSpec>),
}

/// What the command line asked for, parsed but not yet looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub rules: Rules,
    /// gosu's and su-exec's `USER[:GROUP]` as written, for messages.
    pub compat_spec: String,
    pub user: Option<IdSpec>,
    pub group: Option<IdSpec>,
    pub policy: GroupPolicy,
    /// Paths whose owning group joins the supplementary list.
    pub add_group_of: Vec<PathBuf>,
    /// --if-root: switch only when the caller is root.
    pub if_root: bool,
    pub env: EnvRequest,
    pub process: ProcessRequest,
}

impl Request {
    /// A request with runas's rules and nothing asked yet.
    pub fn new(rules: Rules) -> Request {
        Request {
            rules,
            compat_spec: String::new(),
            user: None,
            group: None,
            policy: GroupPolicy::Default,
            add_group_of: Vec::new(),
            if_root: false,
            env: EnvRequest::default(),
            process: ProcessRequest::default(),
        }
    }
}

/// What a command line asks runas to do.
#[derive(Debug)]
pub enum Invocation {
    /// Print this (--help, --version) and exit 0.
    Print(String),
    /// --dump: this process's identity and process model.
    Dump { json: bool },
    /// Switch and run the command, or with --dry-run show how.
    Run {
        request: Box<Request>,
        command: Vec<OsString>,
        dry_run: bool,
        /// --show-env-values: the dry run shows values read from files.
        show_env_values: bool,
        json: bool,
    },
}

/// Where the target's process group and session come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Session {
    /// The caller's (the default).
    #[default]
    Inherit,
    /// --new-pgroup: a process group of its own, same session.
    NewProcessGroup,
    /// --setsid: a session of its own, no controlling terminal.
    Setsid,
}

/// --daemon, with its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonRequest {
    pub pidfile: Option<PathBuf>,
    pub log: Option<PathBuf>,
    /// --daemon-timeout: seconds the caller waits for the daemon's word
    /// before it kills it; `None` for ever.
    pub timeout: Option<u32>,
}

/// How long the caller of --daemon waits for the daemon to reach its exec
/// by default: the daemon does only --chdir, --log and the PATH search in
/// that time, milliseconds unless a file system does not answer.
pub const DAEMON_TIMEOUT: u32 = 30;

/// `--daemon-timeout SECONDS`: 0 (for ever) to 86400.
pub fn parse_daemon_timeout(text: &str) -> Result<Option<u32>> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    match text.parse::<u32>() {
        Ok(0) if plain => Ok(None),
        Ok(seconds) if plain && seconds <= 86_400 => Ok(Some(seconds)),
        _ => Err(Error::InvalidSpec {
            kind: "--daemon-timeout",
            value: text.to_owned(),
            reason: "give whole seconds, from 1 to 86400, or 0 to wait for ever".into(),
        }),
    }
}

/// One change to the target's environment, as the command line gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChange {
    /// -e NAME=VALUE
    Set(OsString, OsString),
    /// --unset NAME
    Unset(OsString),
    /// --env-file FILE: read before the switch (env_sources.rs).
    File(PathBuf),
    /// --envdir DIR
    Dir(PathBuf),
}

/// Environment options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvRequest {
    /// --reset-env
    pub reset: bool,
    /// --keep-env: do not set HOME, USER, LOGNAME, SHELL.
    pub keep_identity: bool,
    /// -e, --unset, --env-file and --envdir, in command-line order, which
    /// is the order they apply in (later wins).
    pub changes: Vec<EnvChange>,
}

/// securebits(7) flags to set and to clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Securebits {
    pub set: u32,
    pub clear: u32,
}

/// Hardening and process options, each applied at its place around the switch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessRequest {
    /// Capabilities the target keeps in all four sets.
    pub keep_caps: u64,
    /// Root-equivalent capabilities --keep-caps may keep (--allow-root-caps).
    pub allow_root_caps: u64,
    /// Capabilities to drop from the bounding set.
    pub bounding_drop: u64,
    pub securebits: Securebits,
    pub no_new_privs: bool,
    pub pdeathsig: Option<Signal>,
    pub keep_tty: bool,
    /// --keep-keyring: the target keeps the caller's session keyring.
    pub keep_keyring: bool,
    pub chdir: Option<OsString>,
    pub umask: Option<u32>,
    /// With --close-fds: the descriptors named by --keep-fd.
    pub close_fds: Option<Vec<i32>>,
    /// systemd's socket-activation descriptors for this process (3 and
    /// up), kept through --close-fds while the target sees LISTEN_FDS.
    pub listen_fds: u32,
    pub session: Session,
    /// --daemon, with its pidfile and log.
    pub daemon: Option<DaemonRequest>,
    /// --rlimit, --nice, --oom-score-adj, --ioprio, --cpu-affinity.
    pub resources: crate::options::resources::Resources,
}

/// securebits(7) names, as setpriv spells them (underscores also accepted).
/// keep-caps itself is absent: the kernel clears it at execve, so setting
/// it for the target would do nothing.
pub const SECUREBITS: [(&str, u32); 7] = [
    ("noroot", 1 << 0),
    ("noroot-locked", 1 << 1),
    ("no-setuid-fixup", 1 << 2),
    ("no-setuid-fixup-locked", 1 << 3),
    ("keep-caps-locked", 1 << 5),
    ("no-cap-ambient-raise", 1 << 6),
    ("no-cap-ambient-raise-locked", 1 << 7),
];

/// The securebits flag that forbids raising ambient capabilities.
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;

/// `--securebits noroot,+no-setuid-fixup,-keep-caps-locked`.
pub fn parse_securebits(text: &str) -> Result<Securebits> {
    let mut bits = Securebits::default();
    for item in text.split(',') {
        let (clear, name) = match item.as_bytes().first() {
            Some(b'-') => (true, &item[1..]),
            Some(b'+') => (false, &item[1..]),
            _ => (false, item),
        };
        let name = name.to_ascii_lowercase().replace('_', "-");
        let bit = SECUREBITS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, bit)| *bit)
            .ok_or_else(|| Error::InvalidSpec {
                kind: "securebit",
                value: item.to_owned(),
                reason: format!(
                    "known bits are {}",
                    SECUREBITS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        if clear {
            bits.clear |= bit;
            bits.set &= !bit;
        } else {
            bits.set |= bit;
            bits.clear &= !bit;
        }
    }
    Ok(bits)
}

/// `TERM`, `SIGTERM`, `sigterm` or `15`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    let invalid = || Error::InvalidSpec {
        kind: "signal",
        value: text.to_owned(),
        reason: "give a signal name such as TERM or KILL, or its number".into(),
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i32>()
            .ok()
            .and_then(|n| Signal::try_from(n).ok())
            .ok_or_else(invalid);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

/// An octal file mode creation mask: 1 to 4 octal digits, at most 0777.
pub fn parse_umask(text: &str) -> Result<u32> {
    let invalid = |reason: &str| Error::InvalidSpec {
        kind: "umask",
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(invalid("give an octal mode such as 022 or 0027"));
    }
    let mode = u32::from_str_radix(text, 8).map_err(|_| invalid("not an octal number"))?;
    if mode > 0o777 {
        return Err(invalid("a umask holds permission bits only, at most 0777"));
    }
    Ok(mode)
}

fn check_env_name(name: &[u8], shown: &OsStr) -> Result<()> {
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
pub fn parse_env_assignment(text: &OsStr) -> Result<(OsString, OsString)> {
    let bytes = text.as_bytes();
    let Some(eq) = bytes.iter().position(|&b| b == b'=') else {
        return Err(Error::InvalidSpec {
            kind: "--env value",
            value: text.to_string_lossy().into_owned(),
            reason: "expected NAME=VALUE".into(),
        });
    };
    check_env_name(&bytes[..eq], text)?;
    Ok((
        OsStr::from_bytes(&bytes[..eq]).to_owned(),
        OsStr::from_bytes(&bytes[eq + 1..]).to_owned(),
    ))
}

/// A file descriptor number for --keep-fd.
pub fn parse_fd(text: &str) -> Result<i32> {
    text.parse::<i32>()
        .ok()
        .filter(|fd| *fd >= 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::InvalidSpec {
            kind: "file descriptor",
            value: text.to_owned(),
            reason: "give a non-negative decimal number".into(),
        })
}

fn parse_process_options(options: &CommandLine) -> Result<ProcessRequest> {
    Ok(ProcessRequest {
        keep_caps: options
            .keep_caps
            .as_deref()
            .map(|text| caps::parse_list("--keep-caps", text))
            .transpose()?
            .unwrap_or(0),
        allow_root_caps: options
            .allow_root_caps
            .as_deref()
            .map(|text| caps::parse_list("--allow-root-caps", text))
            .transpose()?
            .unwrap_or(0),
        bounding_drop: options
            .bounding_set
            .as_deref()
            .map(|text| caps::parse_bounding(text, u64::MAX))
            .transpose()?
            .unwrap_or(0),
        securebits: options
            .securebits
            .as_deref()
            .map(parse_securebits)
            .transpose()?
            .unwrap_or_default(),
        no_new_privs: options.no_new_privs,
        pdeathsig: options.pdeathsig.as_deref().map(parse_signal).transpose()?,
        keep_tty: options.keep_tty,
        keep_keyring: options.keep_keyring,
        chdir: options.chdir.clone(),
        umask: options.umask.as_deref().map(parse_umask).transpose()?,
        close_fds: if options.close_fds || options.daemon {
            Some(
                options
                    .keep_fd
                    .iter()
                    .map(|fd| parse_fd(fd))
                    .collect::<Result<_>>()?,
            )
        } else {
            None
        },
        // Filled in by the caller, which knows the environment and pid.
        listen_fds: 0,
        session: if options.setsid {
            Session::Setsid
        } else if options.new_pgroup {
            Session::NewProcessGroup
        } else {
            Session::Inherit
        },
        daemon: if options.daemon {
            Some(DaemonRequest {
                pidfile: options.pidfile.as_ref().map(PathBuf::from),
                log: options.log.as_ref().map(PathBuf::from),
                timeout: match &options.daemon_timeout {
                    Some(text) => parse_daemon_timeout(text)?,
                    None => Some(DAEMON_TIMEOUT),
                },
            })
        } else {
            None
        },
        resources: parse_resources(options)?,
    })
}

fn parse_resources(options: &CommandLine) -> Result<crate::options::resources::Resources> {
    use crate::options::resources;
    let mut rlimits: Vec<resources::Rlimit> = Vec::new();
    for text in &options.rlimit {
        let limit = resources::parse_rlimit(text)?;
        if rlimits.iter().any(|l| l.resource == limit.resource) {
            return Err(Error::Usage(format!(
                "--rlimit {} is given twice: give each limit once",
                resources::limit_name(limit.resource)
            )));
        }
        rlimits.push(limit);
    }
    Ok(resources::Resources {
        rlimits,
        nice: options
            .nice
            .as_deref()
            .map(resources::parse_nice)
            .transpose()?,
        oom_score_adj: options
            .oom_score_adj
            .as_deref()
            .map(resources::parse_oom_score_adj)
            .transpose()?,
        ioprio: options
            .ioprio
            .as_deref()
            .map(resources::parse_ioprio)
            .transpose()?,
        cpu_affinity: options
            .cpu_affinity
            .as_deref()
            .map(resources::parse_cpu_list)
            .transpose()?,
    })
}

fn parse_env_request(options: &CommandLine) -> Result<EnvRequest> {
    use crate::cli::Id;
    let changes = options
        .env_changes
        .iter()
        .map(|(id, value)| {
            Ok(match id {
                Id::Unset => {
                    check_env_name(value.as_bytes(), value)?;
                    EnvChange::Unset(value.clone())
                }
                Id::EnvFile => EnvChange::File(PathBuf::from(value)),
                Id::Envdir => EnvChange::Dir(PathBuf::from(value)),
                _ => {
                    let (name, value) = parse_env_assignment(value)?;
                    EnvChange::Set(name, value)
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Both on the command line itself is a contradiction, not an order.
    let set = |name: &OsString| {
        changes
            .iter()
            .any(|c| matches!(c, EnvChange::Set(n, _) if n == name))
    };
    if let Some(EnvChange::Unset(name)) = changes
        .iter()
        .find(|c| matches!(c, EnvChange::Unset(n) if set(n)))
    {
        return Err(Error::Usage(format!(
            "{} is both set with --env and removed with --unset: keep one",
            crate::base::quote::quote(name)
        )));
    }
    Ok(EnvRequest {
        reset: options.reset_env,
        keep_identity: options.keep_env,
        changes,
    })
}

fn invalid(kind: Kind, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        kind: kind.noun(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// Parse one user or group: an id or a name.
pub fn parse_id(value: &str, kind: Kind) -> Result<IdSpec> {
    if value.is_empty() {
        return Err(invalid(kind, value, "it is empty"));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return parse_decimal(value, kind).map(IdSpec::Id);
    }
    check_name(value, kind)?;
    Ok(IdSpec::Name(value.to_owned()))
}

fn parse_decimal(value: &str, kind: Kind) -> Result<u32> {
    // Digits only, so the only possible failure of u64 parsing is overflow.
    let id = value.parse::<u64>().ok();
    match id {
        Some(id) if id <= u64::from(MAX_ID) => Ok(id as u32),
        Some(id) if id == u64::from(u32::MAX) => Err(invalid(
            kind,
            value,
            "4294967295 is (uid_t)-1, which the kernel reads as \"leave unchanged\"; ids go from 0 to 4294967294",
        )),
        _ => Err(invalid(
            kind,
            value,
            "ids go from 0 to 4294967294 (it would wrap around to a different id)",
        )),
    }
}

/// Reject strings that are not plausible names, above all those that look
/// like numbers in a notation other than plain decimal.
fn check_name(value: &str, kind: Kind) -> Result<()> {
    let looks_signed = (value.starts_with('-') || value.starts_with('+'))
        && value[1..].bytes().all(|b| b.is_ascii_digit());
    if looks_signed {
        return Err(invalid(
            kind,
            value,
            "ids are plain decimal numbers from 0 to 4294967294, without a sign",
        ));
    }
    let looks_hex = (value.starts_with("0x") || value.starts_with("0X"))
        && value.len() > 2
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if looks_hex {
        return Err(invalid(
            kind,
            value,
            "ids are plain decimal numbers; hexadecimal is not accepted",
        ));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(invalid(kind, value, "it contains white space"));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(kind, value, "it contains a control character"));
    }
    if value.starts_with('-') {
        return Err(invalid(kind, value, "names cannot start with '-'"));
    }
    if let Some(bad) = value.chars().find(|c| matches!(c, ':' | ',' | '/')) {
        return Err(invalid(
            kind,
            value,
            format!(
                "names cannot contain {}",
                crate::base::quote::quote(bad.to_string())
            ),
        ));
    }
    Ok(())
}

/// Parse `--user`: `USER` or `USER:GROUP`.
pub fn parse_user_spec(value: &str) -> Result<UserSpec> {
    match value.split_once(':') {
        None => Ok(UserSpec {
            user: parse_id(value, Kind::User)?,
            group: None,
        }),
        Some((user, group)) => {
            if user.is_empty() {
                return Err(invalid(
                    Kind::User,
                    value,
                    "the part before ':' is empty; write USER:GROUP, or use --group GROUP alone",
                ));
            }
            if group.is_empty() {
                return Err(invalid(
                    Kind::User,
                    value,
                    "the part after ':' is empty; write USER:GROUP, or just USER",
                ));
            }
            // Name the whole --user value as well as the bad part.
            let in_spec = |err| match err {
                Error::InvalidSpec {
                    kind,
                    value: part,
                    reason,
                } => Error::InvalidSpec {
                    kind,
                    value: part,
                    reason: format!("{reason} (in --user {})", crate::base::quote::quote(value)),
                },
                other => other,
            };
            Ok(UserSpec {
                user: parse_id(user, Kind::User).map_err(in_spec)?,
                group: Some(parse_id(group, Kind::Group).map_err(in_spec)?),
            })
        }
    }
}

/// Parse `--groups LIST`: comma-separated ids or names. The empty string is
/// the empty list (no supplementary groups); empty items are rejected.
pub fn parse_group_list(value: &str) -> Result<Vec<IdSpec>> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|item| {
            if item.is_empty() {
                Err(Error::InvalidSpec {
                    kind: "group list",
                    value: value.to_owned(),
                    reason: "it has an empty item (two commas in a row, or a comma at an end)"
                        .into(),
                })
            } else {
                parse_id(item, Kind::Group)
            }
        })
        .collect()
}

/// Give meaning to the words: what to print, --dump, or a request.
pub fn interpret(parsed: Parsed) -> Result<Invocation> {
    let options = match parsed {
        Parsed::Print(text) => return Ok(Invocation::Print(text)),
        Parsed::Run(options) => options,
    };
    if options.dump {
        let mut others = (*options).clone();
        others.dump = false;
        others.json = false;
        if others != CommandLine::default() {
            return Err(Error::Usage(
                "--dump takes no other option than --json, and no command".into(),
            ));
        }
        return Ok(Invocation::Dump { json: options.json });
    }
    let request = parse_request(&options)?;
    Ok(Invocation::Run {
        request: Box::new(request),
        command: options.command.clone(),
        dry_run: options.dry_run,
        show_env_values: options.show_env_values,
        json: options.json,
    })
}

/// Give meaning to the typed options: parse every id and name, combine the
/// `USER:GROUP` shorthand with `--group`, and pick the group policy.
pub fn parse_request(options: &CommandLine) -> Result<Request> {
    let user = options.user.as_deref().map(parse_user_spec).transpose()?;
    let group = options
        .group
        .as_deref()
        .map(|g| parse_id(g, Kind::Group))
        .transpose()?;
    let (user, group) = match (user, group) {
        (Some(UserSpec { group: Some(_), .. }), Some(_)) => {
            return Err(Error::Usage(
                "the group is given twice: use either --user USER:GROUP or --user USER --group GROUP"
                    .into(),
            ));
        }
        (
            Some(UserSpec {
                user,
                group: shorthand,
            }),
            group,
        ) => (Some(user), shorthand.or(group)),
        (None, group) => (None, group),
    };
    let policy = if let Some(list) = &options.groups {
        GroupPolicy::List(parse_group_list(list)?)
    } else if options.init_groups {
        GroupPolicy::Init
    } else if options.keep_groups {
        GroupPolicy::Keep
    } else if options.clear_groups {
        GroupPolicy::Clear
    } else {
        GroupPolicy::Default
    };
    let env = parse_env_request(options)?;
    let process = parse_process_options(options)?;
    if process.daemon.is_some() && process.pdeathsig.is_some() {
        return Err(Error::Usage(
            "--pdeathsig cannot be used with --daemon: a daemon's parent is init (or the nearest subreaper), not the process that started it, and the intermediate process of the double fork exits by design".into(),
        ));
    }
    let add_group_of: Vec<PathBuf> = options.add_group_of.iter().map(PathBuf::from).collect();
    let nothing_asked = user.is_none()
        && group.is_none()
        && policy == GroupPolicy::Default
        && add_group_of.is_empty()
        && env == EnvRequest::default()
        && process == ProcessRequest::default();
    if nothing_asked {
        return Err(Error::Usage(
            "nothing to change: add --user USER, --group GROUP, or a group option (--groups, --keep-groups, --clear-groups); see 'runas --help'"
                .into(),
        ));
    }
    if options.json && !options.dry_run {
        return Err(Error::Usage("--json goes with --dump or --dry-run".into()));
    }
    if options.command.is_empty() {
        return Err(Error::Usage(
            "missing the command to run: runas [OPTIONS] [--] COMMAND [ARG]...".into(),
        ));
    }
    Ok(Request {
        user,
        group,
        policy,
        add_group_of,
        if_root: options.if_root,
        env,
        process,
        ..Request::new(Rules::Runas)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Id;

    fn id(s: &str) -> Result<IdSpec> {
        parse_id(s, Kind::User)
    }

    #[test]
    fn all_digit_strings_are_ids_in_range() {
        let table: &[(&str, u32)] = &[
            ("0", 0),
            ("00", 0),
            ("1000", 1000),
            ("65534", 65534),
            ("2147483648", 2147483648),
            ("4294967294", 4294967294),
            ("0004294967294", 4294967294),
        ];
        for (input, want) in table {
            assert_eq!(id(input).unwrap(), IdSpec::Id(*want), "input {input:?}");
        }
    }

    #[test]
    fn reference_rejections_are_rejected_naming_the_value() {
        for input in [
            "-1",
            "4294967295",
            "4294967296",
            "18446744073709551616",
            "99999999999999999999999",
            "+5",
            " 5",
            "5 ",
            "0x10",
            "0XfF",
            "",
            "-5",
            "+0",
            "al ice",
            "a\tb",
            "a\nb",
            "-alice",
            "a/b",
            "a,b",
        ] {
            let err = id(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("{input:?}")),
                "message {msg:?} does not quote {input:?}"
            );
            assert_eq!(err.exit_code(), 125);
        }
    }

    #[test]
    fn other_strings_are_names() {
        for input in [
            "alice",
            "www-data",
            "a.b",
            "_apt",
            "5abc",
            "0day",
            "x0x10",
            "0x",
            "Ünïcode",
        ] {
            assert_eq!(id(input).unwrap(), IdSpec::Name(input.to_owned()));
        }
    }

    #[test]
    fn user_group_shorthand() {
        assert_eq!(
            parse_user_spec("alice:jupiter").unwrap(),
            UserSpec {
                user: IdSpec::Name("alice".into()),
                group: Some(IdSpec::Name("jupiter".into()))
            }
        );
        assert_eq!(
            parse_user_spec("1000:1000").unwrap(),
            UserSpec {
                user: IdSpec::Id(1000),
                group: Some(IdSpec::Id(1000))
            }
        );
        assert_eq!(
            parse_user_spec("alice").unwrap(),
            UserSpec {
                user: IdSpec::Name("alice".into()),
                group: None
            }
        );
        for bad in [
            ":",
            "alice:",
            ":jupiter",
            "alice:jupiter:x",
            "alice:-1",
            "-1:0",
            "1:4294967295",
        ] {
            assert!(parse_user_spec(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn group_lists() {
        assert_eq!(parse_group_list("").unwrap(), vec![]);
        assert_eq!(
            parse_group_list("1,jupiter,4294967294").unwrap(),
            vec![
                IdSpec::Id(1),
                IdSpec::Name("jupiter".into()),
                IdSpec::Id(4294967294)
            ]
        );
        for bad in [
            ",",
            "1,",
            ",1",
            "1,,2",
            "1, 2",
            "1,-1",
            "1,4294967295",
            "0x1",
        ] {
            assert!(parse_group_list(bad).is_err(), "{bad:?} accepted");
        }
    }

    fn options(user: Option<&str>, group: Option<&str>) -> CommandLine {
        CommandLine {
            user: user.map(str::to_owned),
            group: group.map(str::to_owned),
            command: vec!["id".into()],
            ..CommandLine::default()
        }
    }

    #[test]
    fn request_combines_shorthand_and_group_option() {
        let r = parse_request(&options(Some("alice:jupiter"), None)).unwrap();
        assert_eq!(r.user, Some(IdSpec::Name("alice".into())));
        assert_eq!(r.group, Some(IdSpec::Name("jupiter".into())));
        let r = parse_request(&options(Some("alice"), Some("7"))).unwrap();
        assert_eq!(r.group, Some(IdSpec::Id(7)));
        let err = parse_request(&options(Some("alice:jupiter"), Some("saturn"))).unwrap_err();
        assert!(err.to_string().contains("given twice"));
    }

    #[test]
    fn request_needs_something_to_change_and_a_command() {
        let err = parse_request(&options(None, None)).unwrap_err();
        assert!(err.to_string().contains("--user USER"), "{err}");
        let mut no_command = options(Some("alice"), None);
        no_command.command.clear();
        assert!(
            parse_request(&no_command)
                .unwrap_err()
                .to_string()
                .contains("missing the command")
        );
        let clear_only = CommandLine {
            clear_groups: true,
            ..options(None, None)
        };
        assert_eq!(
            parse_request(&clear_only).unwrap().policy,
            GroupPolicy::Clear
        );
        let empty_list = CommandLine {
            groups: Some(String::new()),
            ..options(Some("alice"), None)
        };
        assert_eq!(
            parse_request(&empty_list).unwrap().policy,
            GroupPolicy::List(vec![])
        );
    }

    #[test]
    fn securebits_names() {
        let bits = parse_securebits("noroot,+no_setuid_fixup,-keep-caps-locked").unwrap();
        assert_eq!(bits.set, 1 | 4);
        assert_eq!(bits.clear, 1 << 5);
        assert_eq!(parse_securebits("NOROOT-LOCKED").unwrap().set, 2);
        for bad in ["", "keep-caps", "nope", "noroot,"] {
            assert!(parse_securebits(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM").unwrap(), Signal::SIGTERM);
        assert_eq!(parse_signal("sigkill").unwrap(), Signal::SIGKILL);
        assert_eq!(parse_signal("9").unwrap(), Signal::SIGKILL);
        for bad in ["", "0", "99", "-9", "TERMINATE", "SIG", "+9"] {
            let err = parse_signal(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn umasks() {
        assert_eq!(parse_umask("022").unwrap(), 0o22);
        assert_eq!(parse_umask("0027").unwrap(), 0o27);
        assert_eq!(parse_umask("7").unwrap(), 7);
        for bad in ["", "8", "0x22", "-022", "1000", "00000", "abc", " 022"] {
            assert!(parse_umask(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_assignments() {
        let (k, v) = parse_env_assignment(OsStr::new("A=b=c")).unwrap();
        assert_eq!(
            (k.as_os_str(), v.as_os_str()),
            (OsStr::new("A"), OsStr::new("b=c"))
        );
        let (_, v) = parse_env_assignment(OsStr::new("EMPTY=")).unwrap();
        assert!(v.is_empty());
        for bad in ["=x", "NOEQUALS", ""] {
            assert!(parse_env_assignment(OsStr::new(bad)).is_err(), "{bad:?}");
        }
        let mut both = options(Some("alice"), None);
        both.env_changes = vec![(Id::Env, "X=1".into()), (Id::Unset, "X".into())];
        assert!(parse_request(&both).is_err());
        let mut bad_unset = options(Some("alice"), None);
        bad_unset.env_changes = vec![(Id::Unset, "A=B".into())];
        assert!(parse_request(&bad_unset).is_err());
        // A file and -e are an order, not a contradiction.
        let mut ordered = options(Some("alice"), None);
        ordered.env_changes = vec![
            (Id::EnvFile, "/etc/app.env".into()),
            (Id::Unset, "X".into()),
            (Id::Envdir, "/etc/app.d".into()),
        ];
        let env = parse_request(&ordered).unwrap().env;
        assert_eq!(
            env.changes,
            [
                EnvChange::File("/etc/app.env".into()),
                EnvChange::Unset("X".into()),
                EnvChange::Dir("/etc/app.d".into())
            ]
        );
    }

    #[test]
    fn daemon_timeouts_are_plain_seconds() {
        assert_eq!(parse_daemon_timeout("0").unwrap(), None);
        assert_eq!(parse_daemon_timeout("30").unwrap(), Some(30));
        assert_eq!(parse_daemon_timeout("86400").unwrap(), Some(86_400));
        for bad in ["", "00", "010", "86401", "-1", "+5", " 5", "1.5", "1s"] {
            assert!(parse_daemon_timeout(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn process_options_alone_are_something_to_do() {
        let nnp = CommandLine {
            no_new_privs: true,
            ..options(None, None)
        };
        assert!(parse_request(&nnp).unwrap().process.no_new_privs);
        let fds = CommandLine {
            close_fds: true,
            keep_fd: vec!["3".into(), "7".into()],
            ..options(None, None)
        };
        assert_eq!(
            parse_request(&fds).unwrap().process.close_fds,
            Some(vec![3, 7])
        );
        let bad_fd = CommandLine {
            close_fds: true,
            keep_fd: vec!["-1".into()],
            ..options(None, None)
        };
        assert!(parse_request(&bad_fd).is_err());
    }
}
