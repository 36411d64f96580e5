//! What a command line can ask of the identity, given meaning but not yet
//! looked up: the id rules, capability and securebit names, and the
//! identity request the core resolves. Leaves: nothing here reads the
//! system.

pub mod caps;
pub mod ids;
pub mod securebits;

use caps::CapSet;
use ids::IdSpec;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// Whose identity rules a request follows: runas's own, or those of the
/// tool runas stands in for when invoked under its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    #[default]
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GroupPolicy {
    /// Nothing said: `Init` when a user is given, otherwise keep the list.
    #[default]
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

/// The capabilities, securebits and keyring the target starts with, as
/// asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// Capabilities the (non-root) target keeps in all four sets.
    pub keep_caps: CapSet,
    /// Root-equivalent capabilities --keep-caps may keep (--allow-root-caps).
    pub allow_root_caps: CapSet,
    /// Capabilities to drop from the bounding set.
    pub bounding_drop: CapSet,
    pub securebits: securebits::Change,
    pub no_new_privs: bool,
    /// --keep-keyring: the target keeps the caller's session keyring.
    pub keep_keyring: bool,
}

/// What the command line asks of the identity: the core's part of a
/// request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub rules: Rules,
    /// gosu's and su-exec's `USER[:GROUP]` as written, for messages.
    pub compat_spec: String,
    pub user: Option<IdSpec>,
    pub group: Option<IdSpec>,
    pub policy: GroupPolicy,
    /// --if-root: switch only when the caller is root.
    pub if_root: bool,
    pub privileges: Privileges,
    /// The options use the target's passwd entry (HOME, USER, LOGNAME and
    /// SHELL, the home for `--chdir ~`): a numeric uid is looked up even
    /// when the group and the list are given.
    pub entry_wanted: bool,
}
