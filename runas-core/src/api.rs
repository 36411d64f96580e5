//! The library's API: name a target, resolve it, switch this process or a
//! child to it, with the proof the runas launcher makes before its exec.

use crate::accounts::db::SystemDb;
use crate::base::error::Result;
use crate::core::facts::Facts;
use crate::core::plan::{self, Plan};
use crate::core::run;
use crate::request::caps;
use crate::request::ids::{self, Gid, IdSpec, Kind, Uid};
use crate::request::{GroupPolicy, Identity};

/// Who to become: a user, and optionally its primary group, its
/// supplementary groups and capabilities to keep. Names and ids follow the
/// runas command line's rules: a string of digits is always an id (from 0
/// to 4294967294), anything else a name; signs, spaces, hex, `-1` and ids
/// past the range are refused, never looked up.
#[derive(Debug, Clone)]
pub struct Target {
    identity: Identity,
}

/// Where the supplementary groups come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Groups<'a> {
    /// The user's groups in the group database, with its primary group
    /// (initgroups(3)): the default.
    Database,
    /// None at all.
    None,
    /// The caller's, as they are.
    Keep,
    /// Exactly these, names or ids.
    List(&'a [&'a str]),
}

impl Target {
    /// The user `user`: a name, or a uid. Without [`Target::group`], its
    /// primary group is the passwd entry's (a uid without an entry then
    /// needs one: it is never gid 0 by default).
    pub fn user(user: &str) -> Result<Target> {
        Ok(Target {
            identity: Identity {
                user: Some(ids::parse_id(user, Kind::User)?),
                ..Identity::default()
            },
        })
    }

    /// Keep this process's user and change its primary group to `group`
    /// (a name, or a gid), keeping the supplementary list unless
    /// [`Target::groups`] says otherwise: `runas --group GROUP`.
    pub fn group_only(group: &str) -> Result<Target> {
        Ok(Target {
            identity: Identity {
                group: Some(ids::parse_id(group, Kind::Group)?),
                ..Identity::default()
            },
        })
    }

    /// The primary group: a name, or a gid.
    pub fn group(mut self, group: &str) -> Result<Target> {
        self.identity.group = Some(ids::parse_id(group, Kind::Group)?);
        Ok(self)
    }

    /// Where the supplementary groups come from (by default, the group
    /// database).
    pub fn groups(mut self, groups: Groups<'_>) -> Result<Target> {
        self.identity.policy = match groups {
            Groups::Database => GroupPolicy::Init,
            Groups::None => GroupPolicy::Clear,
            Groups::Keep => GroupPolicy::Keep,
            Groups::List(items) => GroupPolicy::List(
                items
                    .iter()
                    .map(|item| ids::parse_id(item, Kind::Group))
                    .collect::<Result<Vec<IdSpec>>>()?,
            ),
        };
        Ok(self)
    }

    /// Capabilities the (non-root) target keeps, by name
    /// (`"net_bind_service,sys_nice"`), in every set, the ambient one
    /// included. One that amounts to root (`sys_admin`, `dac_override`...)
    /// is refused, as runas's `--keep-caps` refuses it without
    /// `--allow-root-caps`.
    pub fn keep_capabilities(mut self, names: &str) -> Result<Target> {
        self.identity.privileges.keep_caps = caps::parse_list("keep_capabilities", names)?;
        Ok(self)
    }

    /// Keep the process's session keyring rather than join a new one of
    /// the target's own after the switch (runas's `--keep-keyring`). The
    /// default new keyring keeps the keys of the caller's session (a root
    /// login's, for one) out of the target's reach; a service whose session
    /// keyring is already its own (systemd's default, KeyringMode=private)
    /// loses nothing by keeping it. A process with other threads needs
    /// this (see [`Switch::apply`]).
    pub fn keep_keyring(mut self) -> Target {
        self.identity.privileges.keep_keyring = true;
        self
    }

    /// Look everything up, before any change: the uid, the gid, the full
    /// supplementary list. Any doubt (an unreachable directory, a malformed
    /// line) is an error, never fewer groups.
    pub fn resolve(&self) -> Result<Switch> {
        let facts = Facts::observe()?;
        let plan = plan::resolve(&self.identity, &facts, &SystemDb::default())?;
        Ok(Switch { plan, facts })
    }
}

/// A target resolved against the account databases and this process,
/// ready to be applied here ([`Switch::apply`]) or in a child
/// ([`Switch::command`]).
#[derive(Debug, Clone)]
pub struct Switch {
    plan: Plan,
    facts: Facts,
}

impl Switch {
    pub fn uid(&self) -> Uid {
        self.plan.uid
    }

    pub fn gid(&self) -> Gid {
        self.plan.gid
    }

    /// The supplementary groups, sorted, without duplicates.
    pub fn groups(&self) -> &[Gid] {
        &self.plan.groups
    }

    /// Switch this process: setgroups, setresgid, setresuid, a session
    /// keyring of the target's own, the capability sets; then prove it, as
    /// runas does before its exec: real, effective, saved and filesystem
    /// ids and the group list read back, the capability sets (none left
    /// unless kept), the old ids refused when tried again, and every
    /// thread of the process read back from /proc/self/task and found
    /// holding exactly the same credentials. Returns only once all of that
    /// holds.
    ///
    /// With other threads: the C library's set*id calls switch every
    /// thread's ids, and the kernel clears each thread's capabilities on a
    /// change from root to another user; nothing else reaches another
    /// thread (capability sets, the ambient set, the session keyring are
    /// each thread's own). So with other threads the switch is refused,
    /// before any change, unless the other threads need nothing else:
    /// their credentials equal this thread's, no capability is kept, no
    /// inheritable capability is held, and the session keyring is kept
    /// ([`Target::keep_keyring`]). Better: drop before starting threads.
    ///
    /// The threads are read from /proc/self/task, which must be procfs; a
    /// reading counts only when no thread vanished during it and the
    /// `Threads:` count matches. Another thread's securebits are not visible
    /// there: a thread that set its own is found only after the switch
    /// ([`Error::PartlySwitched`](crate::Error::PartlySwitched)). When a new
    /// session keyring is to be joined, keys in the process (`@p`) or this
    /// thread's (`@t`) keyring refuse the switch before any change, since
    /// they would stay with the process. Processes sharing this one's memory
    /// without being its threads (`clone(CLONE_VM)`, `vfork`) are not seen,
    /// nor are credentials captured before the switch: an io_uring
    /// personality registered as root, descriptors opened as root. Close
    /// them first.
    ///
    /// An error after the first change is [`Error::PartlySwitched`](crate::Error::PartlySwitched): the
    /// process must exit rather than go on.
    pub fn apply(self) -> Result<Verified> {
        run::in_place(&self.plan, &self.facts)?;
        Ok(Verified {
            uid: self.plan.uid,
            gid: self.plan.gid,
            groups: self.plan.groups,
        })
    }

    /// Have `command`'s child make the switch between fork and exec, and
    /// prove it there. Everything is prepared here, before the fork; in the
    /// child only system calls run (no allocation, no lock), so this works
    /// from a process with threads. If a call fails, or the proof does, the
    /// child never execs and `spawn` fails: with that call's error, or with
    /// `ENOTRECOVERABLE` ("State not recoverable") for a failed proof.
    pub fn command(&self, command: &mut std::process::Command) -> Result<()> {
        run::Child::prepare(&self.plan, &self.facts)?.install(command);
        Ok(())
    }
}

/// What [`Switch::apply`] proved this process now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
}

impl Verified {
    pub fn uid(&self) -> Uid {
        self.uid
    }

    pub fn gid(&self) -> Gid {
        self.gid
    }

    pub fn groups(&self) -> &[Gid] {
        &self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_follow_the_command_lines_rules() {
        assert!(Target::user("app").is_ok());
        assert!(Target::user("1000").is_ok());
        for bad in ["-1", "4294967295", "+5", "0x10", " 1", ""] {
            assert!(Target::user(bad).is_err(), "{bad:?}");
        }
        assert!(Target::user("app").unwrap().group("-1").is_err());
        assert!(
            Target::user("app")
                .unwrap()
                .groups(Groups::List(&["video", "4294967296"]))
                .is_err()
        );
        assert!(
            Target::user("app")
                .unwrap()
                .keep_capabilities("net_bind_srvice")
                .is_err()
        );
    }
}
