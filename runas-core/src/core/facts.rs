//! The process as it is before any change, read once: what the plan and
//! the list of steps are decided from. A dry run reads exactly the same,
//! and reading changes nothing.

use crate::base::error::{Error, Result};
use crate::request::caps::{CapSet, Sets};
use crate::request::ids::{Gid, ResIds, Uid};
use crate::sys;
use nix::unistd::{Pid, getpgrp, getpid, getppid};

/// The process's credentials at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub uid: ResIds<Uid>,
    pub gid: ResIds<Gid>,
    /// Sorted, without duplicates.
    pub groups: Vec<Gid>,
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub credentials: Credentials,
    pub caps: Sets,
    /// The ambient set: what a non-root caller's command keeps through
    /// exec, so what --if-root's caller branch keeps "as it is".
    pub ambient: CapSet,
    pub pid: Pid,
    /// The process a parent-death signal refers to.
    pub parent: Pid,
    /// The kernel started runas in secure-execution mode: it gained
    /// privilege from its file (set-ID bits, file capabilities).
    pub at_secure: bool,
    /// setsid(2) is refused to a process-group leader: a new session then
    /// needs a fork.
    pub leads_process_group: bool,
}

impl Facts {
    // Never inlined: its locals would otherwise stay in the frame of
    // lib.rs's run for the whole run.
    #[inline(never)]
    pub fn observe() -> Result<Facts> {
        let parent = getppid();
        let pid = getpid();
        let credentials = read_credentials(0)?;
        let caps = read_caps()?;
        // Only a capability both permitted and inheritable can be ambient:
        // ask for those alone (none, for most callers).
        let mut ambient = CapSet::EMPTY;
        for cap in (caps.permitted & caps.inheritable).iter() {
            match sys::ambient_cap_is_set(cap.number()) {
                Ok(true) => ambient = ambient.with(cap),
                Ok(false) => {}
                // Past the last capability this kernel knows: none of those
                // can be ambient (and capget's sets are then not to be
                // believed; verification says so).
                Err(nix::errno::Errno::EINVAL) => break,
                Err(e) => return Err(Error::syscall("prctl(PR_CAP_AMBIENT_IS_SET)", e)),
            }
        }
        Ok(Facts {
            credentials,
            caps,
            ambient,
            pid,
            parent,
            at_secure: sys::at_secure(),
            leads_process_group: getpgrp() == pid,
        })
    }

    /// runas is PID 1 of its pid namespace: every process of the namespace
    /// dies with it.
    pub fn pid_one(&self) -> bool {
        self.pid.as_raw() == 1
    }

    /// runas runs with privilege it gained at exec from its file (not from
    /// the caller): secure-execution mode, same real and effective uid, and
    /// a caller other than root. Only newgrp mode may run so.
    pub fn restricted(&self) -> bool {
        let uid = self.credentials.uid;
        self.at_secure && uid.real == uid.effective && uid.real != Uid::ROOT
    }
}

/// Read this process's ids and supplementary groups; `expected` groups
/// (a plan's count, 0 when nothing is expected) size the first getgroups.
pub fn read_credentials(expected: usize) -> Result<Credentials> {
    let uid = nix::unistd::getresuid().map_err(|e| Error::syscall("getresuid", e))?;
    let gid = nix::unistd::getresgid().map_err(|e| Error::syscall("getresgid", e))?;
    let groups = sys::getgroups(expected).map_err(|e| Error::syscall("getgroups", e))?;
    // nix starts the three at (uid_t)-1, so a call that reports success
    // without writing them gives ids that match no plan.
    let as_uid = |id: nix::unistd::Uid| Uid::new(id.as_raw());
    let as_gid = |id: nix::unistd::Gid| Gid::new(id.as_raw());
    Ok(Credentials {
        uid: ResIds {
            real: as_uid(uid.real),
            effective: as_uid(uid.effective),
            saved: as_uid(uid.saved),
        },
        gid: ResIds {
            real: as_gid(gid.real),
            effective: as_gid(gid.effective),
            saved: as_gid(gid.saved),
        },
        groups: normalize_groups(groups.into_iter().map(Gid::new).collect()),
    })
}

/// The three capability sets, as capget(2) gives them.
pub fn read_caps() -> Result<Sets> {
    let raw = sys::capget().map_err(|e| Error::syscall("capget", e))?;
    Ok(Sets::from_raw(
        raw.effective,
        raw.permitted,
        raw.inheritable,
    ))
}

/// Sort and remove duplicates: the kernel keeps the list as a set. (The
/// kernel's getgroups, and most plans, give it so already: one pass sees
/// that, where a sort of 1,000 sorted gids takes 14,000 instructions.)
pub fn normalize_groups(mut groups: Vec<Gid>) -> Vec<Gid> {
    if !groups.is_sorted_by(|a, b| a < b) {
        groups.sort_unstable();
        groups.dedup();
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_is_sorting_and_deduplicating_for_every_short_list() {
        // Every list of up to five gids from 0-3: sorted or not, with
        // duplicates or without, the one-pass check must give what a sort
        // and a dedup give.
        for len in 0..=5u32 {
            for code in 0..4u32.pow(len) {
                let list: Vec<Gid> = (0..len).map(|i| Gid::new(code / 4u32.pow(i) % 4)).collect();
                let mut expected = list.clone();
                expected.sort_unstable();
                expected.dedup();
                assert_eq!(normalize_groups(list.clone()), expected, "{list:?}");
            }
        }
    }
}
