//! The command line, and nothing else: clap definitions and the raw values.
//! Meaning is given to them in spec.rs.

use crate::error::{Error, Result};
use clap::{Arg, ArgAction, ArgGroup, Command, value_parser};
use std::ffi::OsString;

/// The options as typed, before any parsing of ids or names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub user: Option<String>,
    pub group: Option<String>,
    pub groups: Option<String>,
    pub init_groups: bool,
    pub keep_groups: bool,
    pub clear_groups: bool,
    pub add_group_of: Vec<OsString>,
    pub keep_caps: Option<String>,
    pub bounding_set: Option<String>,
    pub securebits: Option<String>,
    pub no_new_privs: bool,
    pub pdeathsig: Option<String>,
    pub keep_tty: bool,
    pub reset_env: bool,
    pub keep_env: bool,
    pub env: Vec<OsString>,
    pub unset: Vec<String>,
    pub chdir: Option<OsString>,
    pub umask: Option<String>,
    pub close_fds: bool,
    pub keep_fd: Vec<String>,
    pub new_pgroup: bool,
    pub setsid: bool,
    pub daemon: bool,
    pub pidfile: Option<OsString>,
    pub log: Option<OsString>,
    pub dump: bool,
    pub dry_run: bool,
    pub json: bool,
    /// The target's argv, verbatim.
    pub command: Vec<OsString>,
}

/// Either options to act on, or text to print and exit 0 (--help, --version).
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Options>),
    Print(String),
}

const ABOUT: &str = "Run a command as another user and/or group, in place.";

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

Terminal safety: when runas lowers privileges and has a controlling
terminal, it detaches from it before running COMMAND, so COMMAND cannot push
input into the caller's terminal (TIOCSTI); Ctrl-C still reaches it. Use
--keep-tty for interactive shells that need job control.

Examples:
  runas --user app -- server --port 8080
  runas -u www --keep-caps net_bind_service --no-new-privs -- server
  runas -u app:www-data -- id
  runas --group jupiter -- make
  runas -u 1000 -g 1000 --clear-groups -- ./build.sh";

pub fn command() -> Command {
    Command::new("runas")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .override_usage("runas [OPTIONS] [--] COMMAND [ARG]...")
        .after_help(AFTER_HELP)
        .infer_long_args(false)
        .arg(
            Arg::new("user")
                .short('u')
                .long("user")
                .value_name("USER[:GROUP]")
                // Let "-1" reach the id parser, which says why it is refused.
                .allow_hyphen_values(true)
                .help("Run as USER (name or uid); USER:GROUP also sets the primary group"),
        )
        .arg(
            Arg::new("group")
                .short('g')
                .long("group")
                .value_name("GROUP")
                .allow_hyphen_values(true)
                .help(
                    "Primary group (name or gid); alone, switches only the group, as newgrp does",
                ),
        )
        .arg(
            Arg::new("groups")
                .short('G')
                .long("groups")
                .value_name("LIST")
                .allow_hyphen_values(true)
                .help(
                    "Supplementary groups, exactly: comma-separated names or gids (\"\" for none)",
                ),
        )
        .arg(
            Arg::new("init-groups")
                .long("init-groups")
                .action(ArgAction::SetTrue)
                .help(
                    "Supplementary groups from the group database for USER (default with --user)",
                ),
        )
        .arg(
            Arg::new("keep-groups")
                .long("keep-groups")
                .action(ArgAction::SetTrue)
                .help("Keep the caller's supplementary groups"),
        )
        .arg(
            Arg::new("clear-groups")
                .long("clear-groups")
                .action(ArgAction::SetTrue)
                .help("No supplementary groups"),
        )
        .group(
            ArgGroup::new("group-policy")
                .args(["groups", "init-groups", "keep-groups", "clear-groups"])
                .multiple(false),
        )
        .arg(
            Arg::new("add-group-of")
                .long("add-group-of")
                .value_name("PATH")
                .action(ArgAction::Append)
                .value_parser(value_parser!(OsString))
                .help("Also add the group that owns PATH (a device, a socket) to the supplementary groups"),
        )
        .next_help_heading("Capabilities and privileges")
        .arg(
            Arg::new("keep-caps")
                .long("keep-caps")
                .value_name("CAPS")
                .help("Give the (non-root) target exactly these capabilities, e.g. net_bind_service,sys_nice"),
        )
        .arg(
            Arg::new("bounding-set")
                .long("bounding-set")
                .value_name("LIST")
                .allow_hyphen_values(true)
                .help("Drop capabilities from the bounding set: -all, -net_raw,-sys_admin, -all,+net_bind_service"),
        )
        .arg(
            Arg::new("securebits")
                .long("securebits")
                .value_name("BITS")
                .allow_hyphen_values(true)
                .help("Set (or with -, clear) securebits: noroot, no-setuid-fixup, no-cap-ambient-raise, keep-caps-locked, ...-locked"),
        )
        .arg(
            Arg::new("no-new-privs")
                .long("no-new-privs")
                .action(ArgAction::SetTrue)
                .help("Set no_new_privs: the target and its children can never gain privileges through exec"),
        )
        .arg(
            Arg::new("pdeathsig")
                .long("pdeathsig")
                .value_name("SIGNAL")
                .allow_hyphen_values(true)
                .help("Signal the target receives when its parent dies (set after the identity change)"),
        )
        .arg(
            Arg::new("keep-tty")
                .long("keep-tty")
                .action(ArgAction::SetTrue)
                .help("Keep the controlling terminal (risky: the target may type into it, see TIOCSTI)"),
        )
        .next_help_heading("Environment and process")
        .arg(
            Arg::new("reset-env")
                .long("reset-env")
                .action(ArgAction::SetTrue)
                .conflicts_with("keep-env")
                .help("Start from an empty environment but TERM, COLORTERM, NO_COLOR; set HOME, USER, LOGNAME, SHELL, PATH"),
        )
        .arg(
            Arg::new("keep-env")
                .long("keep-env")
                .action(ArgAction::SetTrue)
                .help("Do not set HOME, USER, LOGNAME and SHELL for the target user"),
        )
        .arg(
            Arg::new("env")
                .short('e')
                .long("env")
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .value_parser(value_parser!(OsString))
                .help("Set a variable in the target's environment (repeatable)"),
        )
        .arg(
            Arg::new("unset")
                .long("unset")
                .value_name("NAME")
                .action(ArgAction::Append)
                .help("Remove a variable from the target's environment (repeatable)"),
        )
        .arg(
            Arg::new("chdir")
                .long("chdir")
                .value_name("DIR")
                .value_parser(value_parser!(OsString))
                .help("Change directory after the switch, as the target (~ is the target's home)"),
        )
        .arg(
            Arg::new("umask")
                .long("umask")
                .value_name("MODE")
                .allow_hyphen_values(true)
                .help("Set the file mode creation mask (octal, e.g. 027)"),
        )
        .arg(
            Arg::new("close-fds")
                .long("close-fds")
                .action(ArgAction::SetTrue)
                .help("Close inherited file descriptors above 2 (not --keep-fd ones, nor systemd's LISTEN_FDS)"),
        )
        .arg(
            Arg::new("keep-fd")
                .long("keep-fd")
                .value_name("FD")
                .allow_hyphen_values(true)
                .action(ArgAction::Append)
                .requires("fd-closing")
                .help("With --close-fds or --daemon, keep this descriptor open (repeatable)"),
        )
        .group(ArgGroup::new("fd-closing").args(["close-fds", "daemon"]).multiple(true))
        .next_help_heading("Session and process group")
        .arg(
            Arg::new("new-pgroup")
                .long("new-pgroup")
                .action(ArgAction::SetTrue)
                .help("Run the command as the leader of a new process group"),
        )
        .arg(
            Arg::new("setsid")
                .long("setsid")
                .action(ArgAction::SetTrue)
                .conflicts_with("new-pgroup")
                .help("Run the command in a new session, without a controlling terminal"),
        )
        .arg(
            Arg::new("daemon")
                .long("daemon")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["new-pgroup", "setsid"])
                .help("Detach as a daemon (fork, setsid, fork); exit 0 once the command is running"),
        )
        .arg(
            Arg::new("pidfile")
                .long("pidfile")
                .value_name("FILE")
                .requires("daemon")
                .value_parser(value_parser!(OsString))
                .help("With --daemon: write the daemon's pid to FILE, locked, so a second start fails"),
        )
        .arg(
            Arg::new("log")
                .long("log")
                .value_name("FILE")
                .requires("daemon")
                .value_parser(value_parser!(OsString))
                .help("With --daemon: append the command's stdout and stderr to FILE (opened before the switch)"),
        )
        .next_help_heading("Showing credentials")
        .arg(
            Arg::new("dump")
                .long("dump")
                .action(ArgAction::SetTrue)
                .help("Print this process's identity and process model, and exit"),
        )
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .help("Resolve everything and print the plan and its system calls instead of running"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("With --dump or --dry-run: one JSON object"),
        )
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .help("The program to run, then its arguments, passed on verbatim")
                .num_args(1..)
                .trailing_var_arg(true)
                .value_parser(value_parser!(OsString)),
        )
}

/// Turn clap's error text into one line: its first sentence and any tip.
fn usage_error(err: &clap::Error) -> Error {
    let text = err.to_string();
    let mut parts = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line.trim_start_matches("error: ").to_owned());
        }
    }
    Error::Usage(format!("{}; see 'runas --help'", parts.join("; ")))
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed> {
    let mut command = command();
    let matches = match command.try_get_matches_from_mut(args) {
        Ok(matches) => matches,
        Err(err) => {
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Ok(Parsed::Print(err.to_string()))
                }
                _ => Err(usage_error(&err)),
            };
        }
    };
    Ok(Parsed::Run(Box::new(Options {
        user: matches.get_one::<String>("user").cloned(),
        group: matches.get_one::<String>("group").cloned(),
        groups: matches.get_one::<String>("groups").cloned(),
        init_groups: matches.get_flag("init-groups"),
        keep_groups: matches.get_flag("keep-groups"),
        clear_groups: matches.get_flag("clear-groups"),
        add_group_of: many_os(&matches, "add-group-of"),
        keep_caps: matches.get_one::<String>("keep-caps").cloned(),
        bounding_set: matches.get_one::<String>("bounding-set").cloned(),
        securebits: matches.get_one::<String>("securebits").cloned(),
        no_new_privs: matches.get_flag("no-new-privs"),
        pdeathsig: matches.get_one::<String>("pdeathsig").cloned(),
        keep_tty: matches.get_flag("keep-tty"),
        reset_env: matches.get_flag("reset-env"),
        keep_env: matches.get_flag("keep-env"),
        env: many_os(&matches, "env"),
        unset: matches
            .get_many::<String>("unset")
            .map(|values| values.cloned().collect())
            .unwrap_or_default(),
        chdir: matches.get_one::<OsString>("chdir").cloned(),
        umask: matches.get_one::<String>("umask").cloned(),
        close_fds: matches.get_flag("close-fds"),
        keep_fd: matches
            .get_many::<String>("keep-fd")
            .map(|values| values.cloned().collect())
            .unwrap_or_default(),
        new_pgroup: matches.get_flag("new-pgroup"),
        setsid: matches.get_flag("setsid"),
        daemon: matches.get_flag("daemon"),
        pidfile: matches.get_one::<OsString>("pidfile").cloned(),
        log: matches.get_one::<OsString>("log").cloned(),
        dump: matches.get_flag("dump"),
        dry_run: matches.get_flag("dry-run"),
        json: matches.get_flag("json"),
        command: many_os(&matches, "command"),
    })))
}

fn many_os(matches: &clap::ArgMatches, id: &str) -> Vec<OsString> {
    matches
        .get_many::<OsString>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options> {
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
    fn help_and_version_are_printed() {
        let help = parse(["runas", "--help"].map(OsString::from)).unwrap();
        assert!(matches!(help, Parsed::Print(ref t) if t.contains("--clear-groups")));
        let version = parse(["runas", "--version"].map(OsString::from)).unwrap();
        assert!(matches!(version, Parsed::Print(ref t) if t.contains(env!("CARGO_PKG_VERSION"))));
    }
}
