//! Process attributes the target inherits besides its credentials: the
//! parent-death signal, no_new_privs, the umask, the working directory and
//! the open file descriptors. (The controlling terminal: terminal.rs.)

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::show::json_str;
use crate::sys;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{Pid, getpid, getppid};
use std::ffi::OsString;
use std::fmt;

/// The descriptors --close-fds keeps above 2: --keep-fd ones and, when
/// systemd passed sockets to this very process, LISTEN_FDS of them from 3.
pub fn kept_fds(
    keep: &[i32],
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    pid: i32,
) -> Vec<u32> {
    let mut kept: Vec<u32> = keep
        .iter()
        .filter_map(|fd| u32::try_from(*fd).ok())
        .collect();
    if listen_pid.and_then(|p| p.parse::<i32>().ok()) == Some(pid)
        && let Some(count) = listen_fds.and_then(|n| n.parse::<u32>().ok())
    {
        kept.extend(3..3u32.saturating_add(count));
    }
    kept.retain(|fd| *fd > 2);
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// The ranges of descriptors from 3 up that are not kept.
pub fn closing_ranges(kept: &[u32]) -> Vec<(u32, u32)> {
    let mut ranges = Vec::new();
    let mut next = 3u32;
    for &fd in kept {
        if fd > next {
            ranges.push((next, fd - 1));
        }
        next = fd.saturating_add(1);
    }
    ranges.push((next, u32::MAX));
    ranges
}

/// The descriptors open in this process, from /proc/self/fd; where /proc
/// is missing, every number below the hard RLIMIT_NOFILE is asked (a
/// descriptor cannot be above it... unless it was opened before the limit
/// was lowered, so the hard limit, not the soft one).
pub fn open_descriptors() -> Result<Vec<i32>> {
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        let mut fds: Vec<i32> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        // The directory's own descriptor was listed and is closed now.
        fds.retain(|&fd| sys::fd_flags(fd).is_ok());
        fds.sort_unstable();
        return Ok(fds);
    }
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_err(|e| Error::syscall("getrlimit(RLIMIT_NOFILE)", e))?;
    let last = i32::try_from(hard.min(1 << 24)).unwrap_or(1 << 24);
    Ok((0..last).filter(|&fd| sys::fd_flags(fd).is_ok()).collect())
}

fn kept_now(keep: &[i32]) -> Vec<u32> {
    kept_fds(
        keep,
        std::env::var("LISTEN_PID").ok().as_deref(),
        std::env::var("LISTEN_FDS").ok().as_deref(),
        getpid().as_raw(),
    )
}

fn close_fds(keep: &[i32]) -> Result<()> {
    let kept = kept_now(keep);
    let ranged = closing_ranges(&kept)
        .into_iter()
        .try_for_each(|(first, last)| sys::cloexec_range(first, last));
    match ranged {
        Ok(()) => Ok(()),
        // Before Linux 5.11 (no CLOSE_RANGE_CLOEXEC), or a seccomp filter
        // (container runtimes' default profiles) that refuses the call:
        // one descriptor at a time. Verified either way (see `verify`).
        Err(Errno::ENOSYS | Errno::EPERM | Errno::EINVAL | Errno::EACCES) => {
            for fd in open_descriptors()? {
                let kept_fd = u32::try_from(fd).is_ok_and(|fd| kept.contains(&fd));
                if fd > 2 && !kept_fd {
                    sys::set_cloexec(fd)
                        .map_err(|e| Error::syscall(format!("fcntl({fd}, F_SETFD)"), e))?;
                }
            }
            Ok(())
        }
        Err(e) => Err(Error::syscall("close_range(3.., CLOSE_RANGE_CLOEXEC)", e)),
    }
}

/// Every descriptor above 2 that is not kept will close at execve: a
/// close_range that reported success without doing its work would
/// otherwise leak every descriptor unnoticed.
fn verify_closed(keep: &[i32]) -> Result<()> {
    let kept = kept_now(keep);
    for fd in open_descriptors()? {
        let kept_fd = u32::try_from(fd).is_ok_and(|fd| kept.contains(&fd));
        if fd <= 2 || kept_fd {
            continue;
        }
        match sys::fd_flags(fd) {
            Ok(flags) if flags & nix::libc::FD_CLOEXEC != 0 => {}
            Err(Errno::EBADF) => {}
            Ok(_) => {
                return Err(Error::Verification(format!(
                    "descriptor {fd} would stay open in the target (--close-fds)"
                )));
            }
            Err(e) => return Err(Error::syscall(format!("fcntl({fd}, F_GETFD)"), e)),
        }
    }
    Ok(())
}

/// One change of a process attribute, made after the switch. `steps` lists
/// them: a real run executes the list and --dry-run prints it, so what the
/// dry run shows is what runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// After the switch: the kernel clears the setting on a credential change.
    ParentDeathSignal(Signal),
    NoNewPrivs,
    Umask(u32),
    /// As the target, so the kernel checks its access, not root's.
    Chdir(OsString),
    /// Close-on-exec every descriptor above 2 but these (and LISTEN_FDS).
    CloseFds(Vec<i32>),
}

/// The process-attribute changes the plan asks for, in the order made.
pub fn steps(plan: &Plan) -> Vec<Step> {
    let p = &plan.process;
    let mut steps = Vec::new();
    if let Some(signal) = p.pdeathsig {
        steps.push(Step::ParentDeathSignal(signal));
    }
    if p.no_new_privs {
        steps.push(Step::NoNewPrivs);
    }
    if let Some(mask) = p.umask {
        steps.push(Step::Umask(mask));
    }
    if let Some(dir) = &p.chdir {
        steps.push(Step::Chdir(dir.clone()));
    }
    if let Some(keep) = &p.close_fds {
        steps.push(Step::CloseFds(keep.clone()));
    }
    steps
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::ParentDeathSignal(signal) => write!(f, "prctl(PR_SET_PDEATHSIG, {signal})"),
            Step::NoNewPrivs => f.write_str("prctl(PR_SET_NO_NEW_PRIVS, 1)"),
            Step::Umask(mask) => write!(f, "umask({mask:04o})"),
            Step::Chdir(dir) => write!(f, "chdir({})", json_str(&dir.to_string_lossy())),
            Step::CloseFds(keep) => write!(
                f,
                "close_range(3.., CLOSE_RANGE_CLOEXEC) keeping {:?} and any LISTEN_FDS",
                kept_fds(keep, None, None, 0)
            ),
        }
    }
}

fn execute(step: &Step, original_parent: Pid) -> Result<()> {
    match step {
        Step::ParentDeathSignal(signal) => {
            let signal = *signal;
            nix::sys::prctl::set_pdeathsig(signal)
                .map_err(|e| Error::syscall(format!("prctl(PR_SET_PDEATHSIG, {signal})"), e))?;
            // A parent that died before this point sends nothing: do it now.
            if getppid() != original_parent {
                nix::sys::signal::raise(signal).map_err(|e| Error::syscall("raise", e))?;
                return Err(Error::NotPermitted(format!(
                    "the parent exited before --pdeathsig {signal} was set"
                )));
            }
        }
        Step::NoNewPrivs => nix::sys::prctl::set_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_SET_NO_NEW_PRIVS)", e))?,
        Step::Umask(mask) => {
            nix::sys::stat::umask(Mode::from_bits_truncate(*mask));
        }
        Step::Chdir(dir) => nix::unistd::chdir(dir.as_os_str())
            .map_err(|e: Errno| Error::syscall(format!("chdir({:?})", dir.to_string_lossy()), e))?,
        Step::CloseFds(keep) => close_fds(keep)?,
    }
    Ok(())
}

/// Make the plan's process-attribute changes, in order. `parent` is the
/// process the target's parent-death signal refers to: the one that
/// started runas, or the waiting parent of a new session.
pub fn apply(plan: &Plan, original_parent: Pid) -> Result<()> {
    steps(plan)
        .iter()
        .try_for_each(|step| execute(step, original_parent))
}

/// Read back what can be read back.
pub fn verify(plan: &Plan) -> Result<()> {
    let p = &plan.process;
    if let Some(keep) = &p.close_fds {
        verify_closed(keep)?;
    }
    if p.no_new_privs {
        let set = nix::sys::prctl::get_no_new_privs()
            .map_err(|e| Error::syscall("prctl(PR_GET_NO_NEW_PRIVS)", e))?;
        if !set {
            return Err(Error::Verification("no_new_privs is not set".into()));
        }
    }
    if let Some(signal) = p.pdeathsig {
        let now = nix::sys::prctl::get_pdeathsig()
            .map_err(|e| Error::syscall("prctl(PR_GET_PDEATHSIG)", e))?;
        if now != Some(signal) {
            return Err(Error::Verification(format!(
                "the parent-death signal is {now:?}, expected {signal}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_sockets_are_kept_only_for_this_pid() {
        assert_eq!(kept_fds(&[7], Some("42"), Some("2"), 42), vec![3, 4, 7]);
        assert_eq!(kept_fds(&[7], Some("41"), Some("2"), 42), vec![7]);
        assert_eq!(kept_fds(&[1, 2], None, None, 42), Vec::<u32>::new());
        assert_eq!(
            kept_fds(&[], Some("42"), Some("junk"), 42),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn steps_follow_the_plan_in_order_and_print_as_system_calls() {
        let mut plan = Plan {
            uid: 1500,
            gid: 1500,
            groups: vec![],
            env: Default::default(),
            process: Default::default(),
        };
        assert!(steps(&plan).is_empty());
        plan.process.pdeathsig = Some(Signal::SIGTERM);
        plan.process.no_new_privs = true;
        plan.process.umask = Some(0o27);
        plan.process.chdir = Some("/srv/a\"b".into());
        plan.process.close_fds = Some(vec![7, 2]);
        let printed: Vec<String> = steps(&plan).iter().map(ToString::to_string).collect();
        assert_eq!(
            printed,
            [
                "prctl(PR_SET_PDEATHSIG, SIGTERM)",
                "prctl(PR_SET_NO_NEW_PRIVS, 1)",
                "umask(0027)",
                "chdir(\"/srv/a\\\"b\")",
                "close_range(3.., CLOSE_RANGE_CLOEXEC) keeping [7] and any LISTEN_FDS",
            ]
        );
    }

    #[test]
    fn ranges_skip_the_kept_descriptors() {
        assert_eq!(closing_ranges(&[]), vec![(3, u32::MAX)]);
        assert_eq!(closing_ranges(&[3, 4, 7]), vec![(5, 6), (8, u32::MAX)]);
        assert_eq!(closing_ranges(&[5]), vec![(3, 4), (6, u32::MAX)]);
    }
}
