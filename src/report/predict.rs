//! What a dry run can tell before running, beyond the plan itself.
//!
//! Some failures of a real run happen after the switch, as the target: the
//! command not found or not executable, a --chdir the target may not enter.
//! A dry run changes nothing, so it cannot try them; it reads file modes
//! instead, as root, and judges them for the target's uid and groups. Where
//! the modes decide (no ACL on the way, the target keeps no capability that
//! overrides them) the failure is certain and the dry run fails with the
//! message the real run would give (status 125: the dry run failed).
//! Anything less certain, and what will work but maybe not as meant (HOME
//! missing, a limit that the target's other processes already exceed), is
//! a warning, listed and never fatal.

use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::exec::EnvPlan;
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::steps::Step;
use crate::options::resources::{self, Setting as Resource};
use crate::options::session::Session;
use crate::report::Outcome;
use crate::request::caps::Cap;
use crate::request::ids::{Gid, Uid};
use nix::errno::Errno;
use nix::sys::stat::{FileStat, SFlag};
use std::cell::Cell;
use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// RLIMIT_DATA, RLIMIT_STACK, RLIMIT_AS.
const DATA: u32 = 2;
const STACK: u32 = 3;
const AS: u32 = 9;

/// Who the target will be, for permission checks.
struct Who {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
    /// Root, or a target that keeps CAP_DAC_OVERRIDE.
    overrides: bool,
    /// ... or CAP_DAC_READ_SEARCH: directories only.
    searches_any: bool,
}

const SEARCH: u32 = 1;
const WRITE: u32 = 2;

impl Who {
    fn of(plan: &Plan) -> Who {
        Who {
            uid: plan.uid,
            gid: plan.gid,
            groups: plan.groups.clone(),
            // CAP_DAC_OVERRIDE overrides every mode bit but a file's
            // execute bits; CAP_DAC_READ_SEARCH only the search (and read)
            // bits of directories.
            overrides: plan.uid == Uid::ROOT || plan.privileges.keep_caps.has(Cap::DAC_OVERRIDE),
            searches_any: plan.privileges.keep_caps.has(Cap::DAC_READ_SEARCH),
        }
    }

    /// What the mode bits grant, the class chosen as the kernel does.
    fn may(&self, stat: &FileStat, bit: u32) -> bool {
        if self.searches_any && bit == SEARCH && is_type(stat, SFlag::S_IFDIR) {
            return true;
        }
        if self.overrides {
            // Root may execute a file only if someone may.
            let file = !is_type(stat, SFlag::S_IFDIR);
            return !(file && bit == SEARCH && stat.st_mode & 0o111 == 0);
        }
        let (owner, group) = (Uid::new(stat.st_uid), Gid::new(stat.st_gid));
        let class = if owner == self.uid {
            stat.st_mode >> 6
        } else if group == self.gid || self.groups.contains(&group) {
            stat.st_mode >> 3
        } else {
            stat.st_mode
        };
        class & bit != 0
    }
}

fn is_type(stat: &FileStat, kind: SFlag) -> bool {
    stat.st_mode & SFlag::S_IFMT.bits() == kind.bits()
}

/// A failure the target would meet, and whether the modes alone decide it.
struct Failure {
    errno: Errno,
    certain: bool,
}

fn c_path(path: &Path) -> Option<CString> {
    CString::new(path.as_os_str().as_bytes()).ok()
}

/// Whether an object's mode bits are all there is to its permissions.
fn modes_decide(path: &Path) -> bool {
    c_path(path).is_some_and(|c| !crate::sys::has_access_acl(&c))
}

/// Reach `path` as `who` would: search permission on every directory on
/// the way, then the object itself (links followed, as the kernel does).
/// Paths into /proc and /dev/fd mean something else in the process that
/// will look them up (/proc/self is the dry run here, the command there):
/// nothing about them is certain.
fn reach(path: &Path, who: &Who) -> std::result::Result<FileStat, Failure> {
    if means_another_process(path) {
        return nix::sys::stat::stat(path).map_err(|errno| Failure {
            errno,
            certain: false,
        });
    }
    let stat_of = |p: &Path| {
        nix::sys::stat::stat(p).map_err(|errno| Failure {
            errno,
            certain: matches!(errno, Errno::ENOENT | Errno::ENOTDIR),
        })
    };
    let mut walked = PathBuf::from("/");
    let parts: Vec<&OsStr> = path
        .as_os_str()
        .as_bytes()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(OsStr::from_bytes)
        .collect();
    let Some((last, dirs)) = parts.split_last() else {
        return stat_of(Path::new("/"));
    };
    for part in dirs {
        walked.push(part);
        let stat = stat_of(&walked)?;
        if !is_type(&stat, SFlag::S_IFDIR) {
            return Err(Failure {
                errno: Errno::ENOTDIR,
                certain: true,
            });
        }
        if !who.may(&stat, SEARCH) {
            return Err(Failure {
                errno: Errno::EACCES,
                certain: modes_decide(&walked),
            });
        }
    }
    walked.push(last);
    stat_of(&walked)
}

/// Whether `path` names something of the process that looks it up
/// (/proc/self, /dev/fd): the dry run's, not the command's.
fn means_another_process(path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    bytes.starts_with(b"/proc/") || bytes.starts_with(b"/dev/fd/")
}

fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    }
}

/// execve(2) of `path` as `who`, judged from modes.
fn exec_as(path: &Path, who: &Who) -> std::result::Result<(), Failure> {
    let stat = reach(path, who)?;
    let denied = |certain| {
        Err(Failure {
            errno: Errno::EACCES,
            certain,
        })
    };
    let special = means_another_process(path);
    if is_type(&stat, SFlag::S_IFDIR) {
        // Certain only where the path is what it says: /proc/self/... and
        // /dev/fd/... name another process's view.
        return Err(Failure {
            errno: Errno::EISDIR,
            certain: !special,
        });
    }
    if !is_type(&stat, SFlag::S_IFREG) {
        return denied(!special);
    }
    if !who.may(&stat, SEARCH) {
        return denied(!special && modes_decide(path));
    }
    let noexec = nix::sys::statvfs::statvfs(path)
        .is_ok_and(|fs| fs.flags().contains(nix::sys::statvfs::FsFlags::ST_NOEXEC));
    if noexec {
        return denied(true);
    }
    Ok(())
}

/// The dry run's warnings; `Err(Error::Predicted)` for a certain failure.
pub fn predict(outcome: &Outcome<'_>, promise: crate::sys::WholeProgram) -> Result<Vec<String>> {
    let (plan, facts, command) = (outcome.plan, outcome.facts, outcome.command);
    let steps = outcome.steps;
    let who = Who::of(plan);
    let mut warnings = Vec::new();
    let p = &outcome.options.request;
    let env = &outcome.options.env;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));

    // The files root opens for the target before the switch.
    if let Some(daemon) = &p.daemon {
        if let Some(pidfile) = &daemon.pidfile {
            crate::options::session::check_pidfile_path(pidfile)
                .map_err(|e| Error::Predicted(Box::new(e)))?;
        }
        if let Some(log) = &daemon.log {
            if plan.uid == Uid::ROOT {
                crate::options::session::check_root_log_path(log)
                    .map_err(|e| Error::Predicted(Box::new(e)))?;
            } else {
                log_warning(log, &cwd, &who, &mut warnings);
            }
        }
    }

    // --chdir, as the target.
    if let Some(dir) = &p.chdir {
        let path = absolute(Path::new(dir), &cwd);
        let failure = match reach(&path, &who) {
            Ok(stat) if !is_type(&stat, SFlag::S_IFDIR) => Some(Failure {
                errno: Errno::ENOTDIR,
                certain: true,
            }),
            Ok(stat) if !who.may(&stat, SEARCH) => Some(Failure {
                errno: Errno::EACCES,
                certain: modes_decide(&path),
            }),
            Ok(_) => None,
            Err(failure) => Some(failure),
        };
        if let Some(failure) = failure {
            let error = Error::syscall(format!("chdir({})", quote(dir)), failure.errno);
            if failure.certain {
                return Err(Error::Predicted(Box::new(error)));
            }
            warnings.push(format!(
                "--chdir may fail as uid {}: {error} (judged from file modes; an ACL or a security module decides)",
                plan.uid
            ));
        }
    }
    let cwd_after = p
        .chdir
        .as_ref()
        .map_or(cwd.clone(), |dir| absolute(Path::new(dir), &cwd));

    // The command, searched in the target's PATH.
    if let Some(program) = command.first() {
        // The very environment the real run will exec with, and its PATH.
        let env = crate::core::exec::build_environment(crate::sys::environ(promise), env)
            .map_err(|e| Error::Predicted(Box::new(e)))?;
        let path = crate::core::exec::lookup(&env, b"PATH");
        let candidates: Vec<CString> = crate::core::exec::search_candidates(program, path)
            .into_iter()
            .filter_map(|c| CString::new(c).ok())
            .collect();
        let uncertain = Cell::new(false);
        let as_path = |c: &CStr| absolute(Path::new(OsStr::from_bytes(c.to_bytes())), &cwd_after);
        let outcome = crate::core::exec::search(
            program,
            &candidates,
            |candidate| {
                exec_as(&as_path(candidate), &who).map_err(|failure| {
                    if !failure.certain {
                        uncertain.set(true);
                    }
                    failure.errno
                })
            },
            |candidate| reach(&as_path(candidate), &who).is_ok(),
        )
        .map_err(|error| crate::core::exec::shown_error(error, &outcome.options.env));
        if let Err(error) = outcome {
            if uncertain.get() {
                warnings.push(format!(
                    "the command may fail as uid {}: {error} (judged from file modes; an ACL or a security module decides)",
                    plan.uid
                ));
            } else {
                return Err(Error::Predicted(Box::new(error)));
            }
        }
    }

    keyring_warnings(steps, &mut warnings);
    home_warnings(plan, env, &mut warnings);
    session_warnings(p, facts, &mut warnings);
    resource_warnings(plan, steps, facts, &mut warnings)?;
    Ok(warnings)
}

fn log_warning(log: &Path, cwd: &Path, who: &Who, warnings: &mut Vec<String>) {
    let path = absolute(log, cwd);
    let Some(parent) = path.parent() else {
        return;
    };
    let problem = match nix::sys::stat::stat(&path) {
        Ok(stat) if !who.may(&stat, WRITE) => Some("may not write it"),
        Ok(_) => None,
        Err(_) => match reach(parent, who) {
            Ok(dir) if !who.may(&dir, WRITE) => Some("may not create it in its directory"),
            Ok(_) => None,
            Err(_) => Some("may not reach its directory"),
        },
    };
    if let Some(problem) = problem {
        warnings.push(format!(
            "--log {}: uid {} {problem} (judged from file modes); the log is opened with the target's rights",
            quote(log),
            who.uid
        ));
    }
}

/// Where keyctl cannot be used, the new session keyring is not made: say
/// why (the real run goes on, as verify.rs checks that no keyring is
/// reachable at all).
fn keyring_warnings(steps: &[Step<crate::options::Step>], warnings: &mut Vec<String>) {
    let joins = steps.iter().any(|step| {
        matches!(
            step,
            Step::Credential(crate::core::transition::Change::NewSessionKeyring)
        )
    });
    if !joins {
        return;
    }
    if !crate::core::transition::keyrings_unreachable() {
        return;
    }
    warnings.push(match crate::sys::session_keyring_id() {
        Err(Errno::ENOSYS) => "this kernel has no keyrings (keyctl: ENOSYS): no session keyring is made, and the target can reach none".into(),
        _ => "keyctl is refused here (a seccomp filter, such as Docker's default profile): no session keyring is made, and the target, under the same filter, can reach none".into(),
    });
}

fn home_warnings(plan: &Plan, env: &EnvPlan, warnings: &mut Vec<String>) {
    let Some((_, home)) = env.set.iter().rev().find(|(k, _)| k == "HOME") else {
        return;
    };
    if home.as_bytes() == b"/" {
        return;
    }
    // A value read from a file is not shown (it may be a secret; the dry
    // run prints such values only with --show-env-values).
    let shown = if env.from_files.iter().any(|n| n == "HOME") {
        "HOME (read from a file)".to_owned()
    } else {
        format!("HOME={}", quote(home))
    };
    match nix::sys::stat::stat(Path::new(home)) {
        Err(_) => warnings.push(format!(
            "{shown} does not exist: programs that write there (a shell's history, caches) will fail"
        )),
        Ok(stat) if Uid::new(stat.st_uid) != plan.uid => warnings.push(format!(
            "{shown} is owned by uid {}, not by the target (uid {})",
            stat.st_uid, plan.uid
        )),
        Ok(_) => {}
    }
}

fn session_warnings(request: &crate::options::Request, facts: &Facts, warnings: &mut Vec<String>) {
    let leads_session = nix::unistd::getsid(None).is_ok_and(|sid| sid == facts.pid);
    match request.session {
        Session::NewProcessGroup if request.daemon.is_none() && facts.leads_process_group => {
            warnings.push(format!(
                "--new-pgroup: runas already leads its process group{} (pid {}), so the command leads it: nothing to change",
                if leads_session { " and session" } else { "" },
                facts.pid
            ));
        }
        Session::Setsid if facts.leads_process_group => warnings.push(
            "--setsid: runas leads its process group, where setsid(2) is refused: runas forks, and a parent stays to wait for the command (the command's pid is not runas's)".into(),
        ),
        _ => {}
    }
}

fn resource_warnings(
    plan: &Plan,
    steps: &[Step<crate::options::Step>],
    facts: &Facts,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for step in steps {
        let Step::Extra(crate::options::Step::Resource(setting)) = step else {
            continue;
        };
        match setting {
            Resource::OomScoreAdj(score) if !facts.caps.effective.has(Cap::SYS_RESOURCE) => {
                let now = resources::read_oom_score_adj()?;
                if *score < now {
                    warnings.push(format!(
                        "--oom-score-adj {score} is below the current {now}: without CAP_SYS_RESOURCE the kernel refuses it unless a privileged process allowed it before"
                    ));
                }
            }
            Resource::CpuAffinity(cpus) => {
                let now = crate::sys::get_affinity()
                    .map_err(|e| Error::syscall("sched_getaffinity", e))?;
                // The CPUs the kernel knows of (0 if it will not say).
                let configured = nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_CONF)
                    .ok()
                    .flatten()
                    .unwrap_or(0) as usize;
                let missing: Vec<usize> =
                    cpus.iter().copied().filter(|&c| configured > 0 && c >= configured).collect();
                let outside: Vec<usize> = cpus
                    .iter()
                    .copied()
                    .filter(|c| !now.contains(c) && !missing.contains(c))
                    .collect();
                if !missing.is_empty() {
                    warnings.push(format!(
                        "--cpu-affinity: this machine has no CPU {} (it has {configured}): the run will fail",
                        resources::format_cpu_list(&missing)
                    ));
                }
                if !outside.is_empty() {
                    warnings.push(format!(
                        "--cpu-affinity: CPUs {} are not among this process's CPUs ({}): the run fails if its cpuset excludes them",
                        resources::format_cpu_list(&outside),
                        resources::format_cpu_list(&now)
                    ));
                }
            }
            Resource::Rlimit {
                resource: resource @ (STACK | DATA | AS),
                soft,
                ..
            } if *soft < 1 << 20 => warnings.push(format!(
                "--rlimit {}={}: below 1 MiB, the command may die as it starts (the kernel or the dynamic loader cannot map it), with no message from runas",
                resources::limit_name(*resource),
                resources::format_limit(*soft)
            )),
            Resource::Rlimit {
                resource: resources::RLIMIT_NPROC,
                soft,
                ..
            } if plan.uid != Uid::ROOT => {
                let running = processes_of(plan.uid);
                // The kernel flags the switch when the new uid already
                // runs more than the limit, and execve then fails.
                if running > *soft {
                    warnings.push(format!(
                        "--rlimit nproc: uid {} already runs {running} processes, more than the limit {}: the kernel refuses the command's execve (EAGAIN) unless some exit first",
                        plan.uid,
                        resources::format_limit(*soft)
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// How many processes `uid` runs (real uid, as RLIMIT_NPROC counts them).
fn processes_of(uid: Uid) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().as_bytes().iter().all(u8::is_ascii_digit))
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next())
                .and_then(|real| real.parse::<u32>().ok())
                == Some(uid.raw())
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat_with(uid: u32, gid: u32, mode: u32) -> FileStat {
        let mut s = nix::sys::stat::stat("/").unwrap();
        s.st_uid = uid;
        s.st_gid = gid;
        s.st_mode = SFlag::S_IFREG.bits() | mode;
        s
    }

    #[test]
    fn the_class_is_chosen_as_the_kernel_does() {
        let who = Who {
            uid: Uid::new(1500),
            gid: Gid::new(1500),
            groups: vec![Gid::new(1700)],
            overrides: false,
            searches_any: false,
        };
        // The owner class decides even when it grants less than others.
        assert!(!who.may(&stat_with(1500, 0, 0o077), SEARCH));
        assert!(who.may(&stat_with(1, 1700, 0o010), SEARCH));
        assert!(!who.may(&stat_with(1, 1700, 0o001), SEARCH));
        assert!(who.may(&stat_with(1, 1, 0o001), SEARCH));
        let root = Who {
            overrides: true,
            ..who
        };
        assert!(root.may(&stat_with(1, 1, 0o100), SEARCH));
        assert!(!root.may(&stat_with(1, 1, 0o644), SEARCH));
        assert!(root.may(&stat_with(1, 1, 0o000), WRITE));
    }
}
