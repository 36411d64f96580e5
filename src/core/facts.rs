//! The process as it is before any change, read once: what the plan and
//! the list of steps are decided from. A dry run reads exactly the same,
//! and reading changes nothing.

use crate::base::error::{Error, Result};
use crate::core::plan::{Credentials, ResIds, normalize_groups};
use crate::sys::{self, CapMasks};
use nix::unistd::{Pid, getpgrp, getpid, getppid};

/// systemd's socket-activation descriptors, as the environment gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// None for this process (no LISTEN_PID, or another process's).
    None,
    /// LISTEN_FDS descriptors from 3, all open.
    Sockets(u32),
    /// LISTEN_PID names this process but LISTEN_FDS is not a count of open
    /// descriptors: the message says why.
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct Facts {
    pub credentials: Credentials,
    pub caps: CapMasks,
    /// The ambient set: what a non-root caller's command keeps through
    /// exec, so what --if-root's caller branch keeps "as it is".
    pub ambient: u64,
    pub pid: Pid,
    /// The process a parent-death signal refers to.
    pub parent: Pid,
    /// The kernel started runas in secure-execution mode: it gained
    /// privilege from its file (set-ID bits, file capabilities).
    pub at_secure: bool,
    /// setsid(2) is refused to a process-group leader: a new session then
    /// needs a fork.
    pub leads_process_group: bool,
    pub listen: Listen,
}

impl Facts {
    // Never inlined: see cli::parse.
    #[inline(never)]
    pub fn observe() -> Result<Facts> {
        let parent = getppid();
        let pid = getpid();
        let credentials = read_credentials()?;
        let caps = sys::capget().map_err(|e| Error::syscall("capget", e))?;
        let listen = match crate::options::process::systemd_sockets(
            std::env::var("LISTEN_PID").ok().as_deref(),
            std::env::var("LISTEN_FDS").ok().as_deref(),
            pid.as_raw(),
            |fd| sys::fd_flags(fd).is_ok(),
        ) {
            Ok(0) => Listen::None,
            Ok(count) => Listen::Sockets(count),
            Err(e) => Listen::Invalid(e.to_string()),
        };
        // Only a capability both permitted and inheritable can be ambient:
        // ask for those alone (none, for most callers).
        let mut ambient = 0;
        for cap in crate::request::caps::each(caps.permitted & caps.inheritable) {
            match sys::ambient_cap_is_set(cap) {
                Ok(true) => ambient |= 1 << cap,
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
            listen,
        })
    }

    /// runas is PID 1 of its pid namespace: every process of the namespace
    /// dies with it.
    pub fn pid_one(&self) -> bool {
        self.pid.as_raw() == 1
    }
}

/// Read this process's ids and supplementary groups.
pub fn read_credentials() -> Result<Credentials> {
    let uid = nix::unistd::getresuid().map_err(|e| Error::syscall("getresuid", e))?;
    let gid = nix::unistd::getresgid().map_err(|e| Error::syscall("getresgid", e))?;
    let groups = sys::getgroups().map_err(|e| Error::syscall("getgroups", e))?;
    Ok(Credentials {
        // nix starts the three at (uid_t)-1, so a call that reports success
        // without writing them gives ids that match no plan.
        uid: ResIds {
            real: uid.real.as_raw(),
            effective: uid.effective.as_raw(),
            saved: uid.saved.as_raw(),
        },
        gid: ResIds {
            real: gid.real.as_raw(),
            effective: gid.effective.as_raw(),
            saved: gid.saved.as_raw(),
        },
        groups: normalize_groups(groups),
    })
}
