//! What only a privileged caller can set, set before the switch: resource
//! limits, the nice value, the OOM score adjustment, the I/O priority and
//! the CPU affinity.
//!
//! Raising a hard limit, a negative nice value, a lower OOM score and the
//! real-time I/O class need a capability the target will not hold, so they
//! are made while runas still has it, right before the credential change,
//! and read back before exec. Values are parsed strictly (plain decimal,
//! `unlimited`), each option at most once per resource. What the caller
//! certainly has no privilege for is refused before anything changes
//! (`settings`, which a dry run runs too). Whether a lower OOM score is
//! allowed without CAP_SYS_RESOURCE depends on a floor the kernel does not
//! show, so it is tried, first of all, and a refusal stops the run before
//! anything else changed.

use crate::base::error::{Error, Result};
use crate::base::quote::quote;
use crate::core::call::{Arg, Call};
use crate::core::facts::Facts;
use crate::request::caps::{Cap, CapSet};
use crate::request::ids::Uid;
use crate::sys;
use std::fmt;

/// RLIM_INFINITY.
pub const UNLIMITED: u64 = u64::MAX;

/// The name of resource limit `resource` (its RLIMIT_ number), as
/// prlimit(1) and systemd's LimitX= spell it, lower case; `None` past the
/// last one Linux has.
// A match, not an array of names: the compiler makes it a table of
// offsets, where an array of `&str`s is pointers that the static PIE
// relocates (writes) at every start (docs/performance.md, round 9).
pub const fn known_limit(resource: u32) -> Option<&'static str> {
    Some(match resource {
        0 => "cpu",
        1 => "fsize",
        2 => "data",
        3 => "stack",
        4 => "core",
        5 => "rss",
        6 => "nproc",
        7 => "nofile",
        8 => "memlock",
        9 => "as",
        10 => "locks",
        11 => "sigpending",
        12 => "msgqueue",
        13 => "nice",
        14 => "rtprio",
        15 => "rttime",
        _ => return None,
    })
}

/// Every resource limit Linux has: its number and name.
pub fn limits() -> impl Iterator<Item = (u32, &'static str)> {
    (0..).map_while(|number| Some((number, known_limit(number)?)))
}

/// The limit number of RLIMIT_NICE and RLIMIT_NPROC.
const RLIMIT_NICE: u32 = 13;
pub const RLIMIT_NPROC: u32 = 6;

/// One --rlimit: which values to set; `None` keeps the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// The I/O scheduling classes of ioprio_set(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoClass {
    Realtime,
    BestEffort,
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoPriority {
    pub class: IoClass,
    /// 0 (highest) to 7; 0 for idle, which has no levels.
    pub level: u8,
}

impl IoPriority {
    /// The kernel's encoding: class in bits 13-15, level below.
    pub fn raw(self) -> u16 {
        let class: u16 = match self.class {
            IoClass::Realtime => 1,
            IoClass::BestEffort => 2,
            IoClass::Idle => 3,
        };
        (class << 13) | u16::from(self.level)
    }
}

impl fmt::Display for IoPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.class {
            IoClass::Realtime => write!(f, "realtime:{}", self.level),
            IoClass::BestEffort => write!(f, "best-effort:{}", self.level),
            IoClass::Idle => f.write_str("idle"),
        }
    }
}

/// All of these options: what the target starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// In command-line order, at most one per resource.
    pub rlimits: Vec<Rlimit>,
    pub nice: Option<i32>,
    pub oom_score_adj: Option<i32>,
    pub ioprio: Option<IoPriority>,
    /// Ascending, without duplicates.
    pub cpu_affinity: Option<Vec<usize>>,
}

pub fn limit_name(resource: u32) -> &'static str {
    known_limit(resource).unwrap_or("unknown")
}

// A failure's: never inlined, so that the code every run executes does
// not hold it (docs/performance.md, round 8).
#[inline(never)]
fn invalid(kind: &'static str, value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        kind,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A limit value: plain decimal below RLIM_INFINITY, or `unlimited`
/// (`infinity`, as systemd also writes it).
fn parse_limit_value(text: &str, whole: &str) -> Result<u64> {
    if text == "unlimited" || text == "infinity" {
        return Ok(UNLIMITED);
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "--rlimit value",
            whole,
            "a limit is a plain decimal number or 'unlimited' (no units, signs or spaces)",
        ));
    }
    match text.parse::<u64>() {
        Ok(value) if value < UNLIMITED => Ok(value),
        _ => Err(invalid(
            "--rlimit value",
            whole,
            "the number is too large; write 'unlimited' for no limit",
        )),
    }
}

/// `NAME=N` (soft and hard both N, as systemd's LimitX= and prlimit(1)),
/// `NAME=SOFT:HARD`, `NAME=SOFT:` (soft only) or `NAME=:HARD` (hard only).
pub fn parse_rlimit(text: &str) -> Result<Rlimit> {
    let Some((name, values)) = text.split_once('=') else {
        return Err(invalid(
            "--rlimit value",
            text,
            "expected NAME=SOFT[:HARD], e.g. nofile=1024:4096",
        ));
    };
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_prefix("rlimit_").unwrap_or(&lower);
    let resource = limits()
        .find(|(_, known)| *known == lower)
        .map(|(number, _)| number)
        .ok_or_else(|| {
            invalid(
                "resource limit",
                name,
                format!(
                    "known limits are {}",
                    limits()
                        .map(|(_, name)| name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let (soft, hard) = match values.split_once(':') {
        None => {
            let both = parse_limit_value(values, text)?;
            (Some(both), Some(both))
        }
        Some(("", "")) => {
            return Err(invalid(
                "--rlimit value",
                text,
                "give a soft limit, a hard limit, or both",
            ));
        }
        Some((soft, hard)) => (
            (!soft.is_empty())
                .then(|| parse_limit_value(soft, text))
                .transpose()?,
            (!hard.is_empty())
                .then(|| parse_limit_value(hard, text))
                .transpose()?,
        ),
    };
    if let (Some(soft), Some(hard)) = (soft, hard)
        && soft > hard
    {
        return Err(invalid(
            "--rlimit value",
            text,
            "the soft limit is above the hard limit",
        ));
    }
    Ok(Rlimit {
        resource,
        soft,
        hard,
    })
}

/// A signed decimal in `range`: `-5`, `10` (no `+`, no spaces).
fn parse_signed(
    kind: &'static str,
    text: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<i32> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let value = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<i32>().ok())
        .flatten();
    match value {
        Some(value) if range.contains(&value) => Ok(value),
        _ => Err(invalid(
            kind,
            text,
            format!(
                "give a decimal number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// --nice: the nice value itself (as systemd's Nice=), not an increment.
pub fn parse_nice(text: &str) -> Result<i32> {
    parse_signed("nice value", text, -20..=19)
}

pub fn parse_oom_score_adj(text: &str) -> Result<i32> {
    parse_signed("OOM score adjustment", text, -1000..=1000)
}

/// `realtime[:LEVEL]`, `best-effort[:LEVEL]` (level 0-7, default 4, as
/// ionice(1)), or `idle`.
pub fn parse_ioprio(text: &str) -> Result<IoPriority> {
    let (class, level) = match text.split_once(':') {
        Some((class, level)) => (class, Some(level)),
        None => (text, None),
    };
    let class = match class.to_ascii_lowercase().as_str() {
        "realtime" | "rt" => IoClass::Realtime,
        "best-effort" | "be" => IoClass::BestEffort,
        "idle" => IoClass::Idle,
        _ => {
            return Err(invalid(
                "I/O priority",
                text,
                "give realtime[:LEVEL], best-effort[:LEVEL] or idle",
            ));
        }
    };
    let level = match (class, level) {
        (IoClass::Idle, Some(_)) => {
            return Err(invalid(
                "I/O priority",
                text,
                "the idle class has no levels",
            ));
        }
        (IoClass::Idle, None) => 0,
        (_, None) => 4,
        (_, Some(level)) => match level.as_bytes() {
            [digit @ b'0'..=b'7'] => digit - b'0',
            _ => {
                return Err(invalid(
                    "I/O priority",
                    text,
                    "a level is one digit from 0 (highest) to 7",
                ));
            }
        },
    };
    Ok(IoPriority { class, level })
}

/// `0-3,6`: CPU numbers and ranges, as taskset(1) -c and systemd's
/// CPUAffinity= write them.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>> {
    let bad = |reason: &str| invalid("CPU list", text, reason);
    let number = |s: &str| -> Result<usize> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "give CPU numbers and ranges separated by commas, e.g. 0-3,6",
            ));
        }
        match s.parse::<usize>() {
            Ok(cpu) if cpu < sys::CPU_SETSIZE => Ok(cpu),
            _ => Err(bad(&format!(
                "CPU numbers go from 0 to {}",
                sys::CPU_SETSIZE - 1
            ))),
        }
    };
    let mut cpus = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            None => cpus.push(number(part)?),
            Some((first, last)) => {
                let (first, last) = (number(first)?, number(last)?);
                if first > last {
                    return Err(bad("a range goes from the lower CPU to the higher"));
                }
                cpus.extend(first..=last);
            }
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// `0-3,6`.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// What --dump shows of this process: every limit, the nice value, the
/// OOM score adjustment, the I/O priority and the CPUs.
pub struct Current {
    pub limits: Vec<(&'static str, u64, u64)>,
    pub nice: i32,
    pub oom_score_adj: Option<i32>,
    /// `None`: none set, the kernel derives it from the nice value.
    pub ioprio: Option<IoPriority>,
    pub cpu_affinity: Vec<usize>,
}

impl Current {
    pub fn read() -> Result<Current> {
        let limits = limits()
            .map(|(number, name)| {
                let (soft, hard) = getrlimit(number)?;
                Ok((name, soft, hard))
            })
            .collect::<Result<_>>()?;
        let raw = sys::get_ioprio().map_err(|e| Error::syscall("ioprio_get", e))?;
        let level = (raw & 0x7) as u8;
        let ioprio = match raw >> 13 {
            1 => Some(IoPriority {
                class: IoClass::Realtime,
                level,
            }),
            2 => Some(IoPriority {
                class: IoClass::BestEffort,
                level,
            }),
            3 => Some(IoPriority {
                class: IoClass::Idle,
                level: 0,
            }),
            _ => None,
        };
        Ok(Current {
            limits,
            nice: sys::get_nice().map_err(|e| Error::syscall("getpriority", e))?,
            // Without /proc there is nothing to show, which is no error here.
            oom_score_adj: read_oom_score_adj().ok(),
            ioprio,
            cpu_affinity: sys::get_affinity()
                .map_err(|e| Error::syscall("sched_getaffinity", e))?,
        })
    }
}

pub fn format_limit(value: u64) -> String {
    if value == UNLIMITED {
        "unlimited".into()
    } else {
        value.to_string()
    }
}

/// One change, made before the credential change, in this order (the OOM
/// score first: the kernel alone knows whether it is allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// The values as they will be: unset halves filled in from the
    /// current limit when the list is built.
    Rlimit {
        resource: u32,
        soft: u64,
        hard: u64,
    },
    Nice(i32),
    OomScoreAdj(i32),
    IoPriority(IoPriority),
    CpuAffinity(Vec<usize>),
}

/// A limit as strace shows it.
fn limit_arg(value: u64) -> Arg {
    if value == UNLIMITED {
        Arg::name("RLIM64_INFINITY")
    } else {
        Arg::Num(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

fn rlimit_name(resource: u32) -> Arg {
    Arg::name(format!(
        "RLIMIT_{}",
        limit_name(resource).to_ascii_uppercase()
    ))
}

/// The OOM score file as opened, for writing or reading.
fn oom_open(write: bool) -> Call {
    Call::new(
        "openat",
        vec![
            Arg::Text(OOM_PATH.into()),
            Arg::name(if write {
                "O_WRONLY|O_NOCTTY|O_NOFOLLOW|O_CLOEXEC"
            } else {
                "O_RDONLY|O_NOCTTY|O_NOFOLLOW|O_CLOEXEC"
            }),
        ],
    )
}

impl Setting {
    /// Its system calls, with their arguments (the read-back, which
    /// follows at once, is in [`check_calls`]).
    pub fn calls(&self) -> Vec<Call> {
        match self {
            Setting::Rlimit {
                resource,
                soft,
                hard,
            } => vec![Call::new(
                "prlimit64",
                vec![
                    Arg::Num(0),
                    rlimit_name(*resource),
                    Arg::field("rlim_cur", limit_arg(*soft)),
                    Arg::field("rlim_max", limit_arg(*hard)),
                ],
            )],
            Setting::Nice(nice) => vec![Call::new(
                "setpriority",
                vec![
                    Arg::name("PRIO_PROCESS"),
                    Arg::Num(0),
                    Arg::Num((*nice).into()),
                ],
            )],
            Setting::OomScoreAdj(score) => vec![
                oom_open(true),
                Call::new("fstatfs", vec![Arg::Later("the file")]),
                Call::new(
                    "write",
                    vec![Arg::Later("the file"), Arg::Text(score.to_string().into())],
                ),
            ],
            Setting::IoPriority(prio) => vec![Call::new(
                "ioprio_set",
                vec![
                    Arg::name("IOPRIO_WHO_PROCESS"),
                    Arg::Num(0),
                    Arg::name(format!(
                        "IOPRIO_PRIO_VALUE({}, {})",
                        match prio.class {
                            IoClass::Realtime => "IOPRIO_CLASS_RT",
                            IoClass::BestEffort => "IOPRIO_CLASS_BE",
                            IoClass::Idle => "IOPRIO_CLASS_IDLE",
                        },
                        prio.level
                    )),
                ],
            )],
            Setting::CpuAffinity(cpus) => vec![Call::new(
                "sched_setaffinity",
                vec![
                    Arg::Num(0),
                    Arg::List(cpus.iter().map(|&c| c as u32).collect()),
                ],
            )],
        }
    }

    /// What the calls alone do not say.
    pub fn note(&self) -> Option<String> {
        match self {
            Setting::OomScoreAdj(_) => Some("only if the file is procfs's".into()),
            Setting::CpuAffinity(cpus) => Some(format!("CPUs {}", format_cpu_list(cpus))),
            _ => None,
        }
    }

    /// The read-back of the setting.
    fn check_calls(&self) -> Vec<Call> {
        match self {
            Setting::Rlimit { resource, .. } => vec![Call::new(
                "prlimit64",
                vec![Arg::Num(0), rlimit_name(*resource), Arg::name("NULL")],
            )],
            Setting::Nice(_) => vec![Call::new(
                "getpriority",
                vec![Arg::name("PRIO_PROCESS"), Arg::Num(0)],
            )],
            Setting::OomScoreAdj(_) => vec![
                oom_open(false),
                Call::new("fstatfs", vec![Arg::Later("the file")]),
                Call::new("read", vec![Arg::Later("the file")]),
            ],
            Setting::IoPriority(_) => vec![Call::new(
                "ioprio_get",
                vec![Arg::name("IOPRIO_WHO_PROCESS"), Arg::Num(0)],
            )],
            Setting::CpuAffinity(_) => {
                vec![Call::new("sched_getaffinity", vec![Arg::Num(0)])]
            }
        }
    }

    /// The change, as messages name it.
    fn call_text(&self) -> String {
        match self {
            Setting::Rlimit {
                resource,
                soft,
                hard,
            } => format!(
                "prlimit64(0, RLIMIT_{}, soft={}, hard={})",
                limit_name(*resource).to_ascii_uppercase(),
                format_limit(*soft),
                format_limit(*hard)
            ),
            Setting::Nice(nice) => format!("setpriority(PRIO_PROCESS, 0, {nice})"),
            Setting::IoPriority(prio) => format!("ioprio_set(IOPRIO_WHO_PROCESS, 0, {prio})"),
            Setting::CpuAffinity(cpus) => {
                format!("sched_setaffinity(0, {})", format_cpu_list(cpus))
            }
            Setting::OomScoreAdj(score) => format!("writing {score} to {OOM_PATH}"),
        }
    }
}

/// The read-backs before exec: every setting still holds.
pub fn check_calls(settings: &[Setting]) -> Vec<Call> {
    settings.iter().flat_map(Setting::check_calls).collect()
}

fn getrlimit(resource: u32) -> Result<(u64, u64)> {
    let resource_enum = resource_of(resource)?;
    nix::sys::resource::getrlimit(resource_enum).map_err(|e| {
        Error::syscall(
            format!(
                "getrlimit(RLIMIT_{})",
                limit_name(resource).to_ascii_uppercase()
            ),
            e,
        )
    })
}

fn resource_of(resource: u32) -> Result<nix::sys::resource::Resource> {
    use nix::sys::resource::Resource as R;
    Ok(match resource {
        0 => R::RLIMIT_CPU,
        1 => R::RLIMIT_FSIZE,
        2 => R::RLIMIT_DATA,
        3 => R::RLIMIT_STACK,
        4 => R::RLIMIT_CORE,
        5 => R::RLIMIT_RSS,
        6 => R::RLIMIT_NPROC,
        7 => R::RLIMIT_NOFILE,
        8 => R::RLIMIT_MEMLOCK,
        9 => R::RLIMIT_AS,
        10 => R::RLIMIT_LOCKS,
        11 => R::RLIMIT_SIGPENDING,
        12 => R::RLIMIT_MSGQUEUE,
        13 => R::RLIMIT_NICE,
        14 => R::RLIMIT_RTPRIO,
        15 => R::RLIMIT_RTTIME,
        _ => {
            return Err(Error::Verification(format!(
                "resource limit {resource} is unknown"
            )));
        }
    })
}

/// The current soft and hard limit of every resource the options name.
pub fn current_limits(resources: &Resources) -> Result<Vec<(u32, u64, u64)>> {
    resources
        .rlimits
        .iter()
        .map(|limit| {
            let (soft, hard) = getrlimit(limit.resource)?;
            Ok((limit.resource, soft, hard))
        })
        .collect()
}

/// The settings, in the order made, with each limit's kept half filled in
/// from the current one; refuses, before anything changes, what the
/// caller's effective capabilities `caps` cannot do (the kernel would
/// refuse it halfway through the run). `mode` names the restricted newgrp
/// mode, where nothing that needs privilege is allowed.
pub fn settings(resources: &Resources, facts: &Facts) -> Result<Vec<Setting>> {
    if *resources == Resources::default() {
        return Ok(Vec::new());
    }
    checked_settings(resources, facts)
}

/// `settings` for a command line that gives at least one of these options.
// Never inlined: most runs give none, and inlined, its 3 KiB sat in the
// middle of the code every run executes (docs/performance.md).
#[inline(never)]
fn checked_settings(resources: &Resources, facts: &Facts) -> Result<Vec<Setting>> {
    let restricted = facts.restricted();
    let root = facts.credentials.uid.effective == Uid::ROOT;
    let caps = if restricted {
        CapSet::EMPTY
    } else {
        facts.caps.effective
    };
    let refuse = |what: String, cap: &str| {
        Error::NotPermitted(if restricted {
            format!(
                "{what}, which needs privilege: not allowed in newgrp mode (runas runs with a file capability for a non-root caller)"
            )
        } else if root {
            // Root in a container or a unit that dropped the capability:
            // "run as root" would be no help.
            let short = cap.trim_start_matches("CAP_");
            format!(
                "{what}, which needs {cap}, and this root does not have it (a container or a service that drops it): keep it (podman/docker run --cap-add={short}; in a systemd unit, CapabilityBoundingSet=) or ask for less"
            )
        } else {
            format!("{what}, which needs {cap}; run runas as root, or with that capability")
        })
    };
    let mut settings = Vec::new();
    if let Some(score) = resources.oom_score_adj {
        // A process that gained privilege from its file is not dumpable,
        // so its /proc files are root's: it cannot write its own score.
        if restricted {
            return Err(Error::NotPermitted(format!(
                "--oom-score-adj {score} is not available in newgrp mode: runas runs with a file capability, and such a process may not write its own /proc/self/oom_score_adj"
            )));
        }
        settings.push(Setting::OomScoreAdj(score));
    }
    let mut nice_limit = None;
    for (limit, (resource, soft_now, hard_now)) in
        resources.rlimits.iter().zip(current_limits(resources)?)
    {
        let name = limit_name(resource);
        let soft = limit.soft.unwrap_or(soft_now);
        let hard = limit.hard.unwrap_or(hard_now);
        if hard > hard_now && !caps.has(Cap::SYS_RESOURCE) {
            return Err(refuse(
                format!(
                    "--rlimit {name}: the hard limit {} is above the current hard limit {}",
                    format_limit(hard),
                    format_limit(hard_now)
                ),
                "CAP_SYS_RESOURCE",
            ));
        }
        if soft > hard {
            return Err(Error::Usage(format!(
                "--rlimit {name}: the soft limit {} would be above the hard limit {}; give both, as {name}=SOFT:HARD",
                format_limit(soft),
                format_limit(hard)
            )));
        }
        if resource == RLIMIT_NICE {
            nice_limit = Some(soft);
        }
        settings.push(Setting::Rlimit {
            resource,
            soft,
            hard,
        });
    }
    if let Some(nice) = resources.nice {
        let now = sys::get_nice().map_err(|e| Error::syscall("getpriority", e))?;
        // setpriority(2): a value below the current one needs CAP_SYS_NICE
        // or an RLIMIT_NICE soft limit of at least 20 - nice.
        let rlimit_nice = match nice_limit {
            Some(limit) => limit,
            None => getrlimit(RLIMIT_NICE)?.0,
        };
        let allowed = u64::try_from(20 - i64::from(nice)).is_ok_and(|needed| needed <= rlimit_nice);
        if nice < now && !allowed && !caps.has(Cap::SYS_NICE) {
            return Err(refuse(
                format!("--nice {nice} is below the current nice value {now}"),
                "CAP_SYS_NICE",
            ));
        }
        settings.push(Setting::Nice(nice));
    }
    if let Some(prio) = resources.ioprio {
        if prio.class == IoClass::Realtime && !caps.has(Cap::SYS_NICE) && !caps.has(Cap::SYS_ADMIN)
        {
            return Err(refuse(
                format!("--ioprio {prio} is the real-time class"),
                "CAP_SYS_NICE",
            ));
        }
        settings.push(Setting::IoPriority(prio));
    }
    if let Some(cpus) = &resources.cpu_affinity {
        settings.push(Setting::CpuAffinity(cpus.clone()));
    }
    Ok(settings)
}

/// The OOM score adjustment file, opened only if it is procfs's: a file
/// mounted over /proc would otherwise take root's write.
/// Where the OOM score adjustment is read and written.
const OOM_PATH: &str = "/proc/self/oom_score_adj";

fn oom_file(write: bool) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    const PATH: &str = OOM_PATH;
    let file = std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC | nix::libc::O_NOCTTY)
        .open(PATH)
        .map_err(|e| Error::Io {
            what: format!("opening {PATH} (is /proc mounted?)"),
            source: e,
        })?;
    let fs = nix::sys::statfs::fstatfs(&file).map_err(|e| Error::syscall("fstatfs", e))?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(Error::NotPermitted(format!(
            "{PATH} is not on procfs: refusing to write the OOM score there"
        )));
    }
    Ok(file)
}

pub fn read_oom_score_adj() -> Result<i32> {
    use std::io::Read;
    let mut text = String::new();
    oom_file(false)?
        .read_to_string(&mut text)
        .map_err(|e| Error::Io {
            what: "reading /proc/self/oom_score_adj".into(),
            source: e,
        })?;
    text.trim().parse().map_err(|_| {
        Error::Verification(format!(
            "/proc/self/oom_score_adj holds {}, not a number",
            quote(text.trim())
        ))
    })
}

/// Make one setting, then read it back: a value the kernel adjusted (CPUs
/// outside the cpuset) is an error before any credential changes.
pub fn apply(setting: &Setting) -> Result<()> {
    match setting {
        Setting::Rlimit {
            resource,
            soft,
            hard,
        } => {
            nix::sys::resource::setrlimit(resource_of(*resource)?, *soft, *hard)
                .map_err(|e| Error::syscall(setting.call_text(), e))?;
        }
        Setting::Nice(nice) => {
            sys::set_nice(*nice).map_err(|e| Error::syscall(setting.call_text(), e))?;
        }
        Setting::OomScoreAdj(score) => {
            use std::io::Write;
            oom_file(true)?
                .write_all(score.to_string().as_bytes())
                .map_err(|e| Error::Io {
                    what: format!(
                        "--oom-score-adj {score}: writing /proc/self/oom_score_adj{}",
                        if e.raw_os_error() == Some(nix::libc::EACCES) {
                            " (a lower score than the current one needs CAP_SYS_RESOURCE)"
                        } else {
                            ""
                        }
                    ),
                    source: e,
                })?;
        }
        Setting::IoPriority(prio) => {
            sys::set_ioprio(prio.raw()).map_err(|e| Error::syscall(setting.call_text(), e))?;
        }
        Setting::CpuAffinity(cpus) => {
            sys::set_affinity(cpus).map_err(|e| match e {
                nix::errno::Errno::EINVAL => Error::NotPermitted(format!(
                    "--cpu-affinity {}: none of these CPUs is available to this process (offline, or outside its cpuset)",
                    format_cpu_list(cpus)
                )),
                e => Error::syscall(setting.call_text(), e),
            })?;
        }
    }
    check(setting)
}

/// Whether the process holds what `setting` set.
fn check(setting: &Setting) -> Result<()> {
    let mismatch = |what: String| Err(Error::Verification(what));
    match setting {
        Setting::Rlimit {
            resource,
            soft,
            hard,
        } => {
            let now = getrlimit(*resource)?;
            if now != (*soft, *hard) {
                return mismatch(format!(
                    "RLIMIT_{} is soft={} hard={}, expected soft={} hard={}",
                    limit_name(*resource).to_ascii_uppercase(),
                    format_limit(now.0),
                    format_limit(now.1),
                    format_limit(*soft),
                    format_limit(*hard)
                ));
            }
        }
        Setting::Nice(nice) => {
            let now = sys::get_nice().map_err(|e| Error::syscall("getpriority", e))?;
            if now != *nice {
                return mismatch(format!("the nice value is {now}, expected {nice}"));
            }
        }
        Setting::OomScoreAdj(score) => {
            let now = read_oom_score_adj()?;
            if now != *score {
                return mismatch(format!(
                    "the OOM score adjustment is {now}, expected {score}"
                ));
            }
        }
        Setting::IoPriority(prio) => {
            let now = sys::get_ioprio().map_err(|e| Error::syscall("ioprio_get", e))?;
            if now != prio.raw() {
                return mismatch(format!(
                    "the I/O priority is {now:#x}, expected {prio} ({:#x})",
                    prio.raw()
                ));
            }
        }
        Setting::CpuAffinity(cpus) => {
            let now = sys::get_affinity().map_err(|e| Error::syscall("sched_getaffinity", e))?;
            if now != *cpus {
                return Err(Error::NotPermitted(format!(
                    "--cpu-affinity {}: this process may run only on CPUs {} (offline CPUs, or a cpuset), so it got {}",
                    format_cpu_list(cpus),
                    format_cpu_list(&now),
                    format_cpu_list(
                        &now.iter()
                            .copied()
                            .filter(|c| cpus.contains(c))
                            .collect::<Vec<_>>()
                    )
                )));
            }
        }
    }
    Ok(())
}

/// After the switch: every setting still holds (a credential change does
/// not reset them, and nothing should have).
pub fn verify(settings: &[Setting]) -> Result<()> {
    settings.iter().try_for_each(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlimit_syntax() {
        let r = |t: &str| parse_rlimit(t).unwrap();
        assert_eq!(
            r("nofile=1024:4096"),
            Rlimit {
                resource: 7,
                soft: Some(1024),
                hard: Some(4096)
            }
        );
        assert_eq!(r("NOFILE=10").soft, Some(10));
        assert_eq!(r("nofile=10").hard, Some(10));
        assert_eq!(r("RLIMIT_CORE=0").resource, 4);
        assert_eq!(r("core=unlimited").hard, Some(UNLIMITED));
        assert_eq!(r("as=1:infinity").hard, Some(UNLIMITED));
        assert_eq!(r("nproc=100:").hard, None);
        assert_eq!(r("nproc=:100").soft, None);
        assert_eq!(limits().count(), 16, "RLIMIT_NLIMITS");
        for (number, name) in limits() {
            assert_eq!(r(&format!("{name}=1")).resource, number);
        }
        for bad in [
            "nofile",
            "nofile=",
            "nofile=:",
            "bogus=1",
            "nofile=-1",
            "nofile=+1",
            "nofile= 1",
            "nofile=0x10",
            "nofile=1k",
            "nofile=18446744073709551615",
            "nofile=18446744073709551616",
            "nofile=10:5",
            "nofile=unlimited:5",
            "nofile=1:2:3",
        ] {
            assert!(parse_rlimit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signed_values_and_ranges() {
        assert_eq!(parse_nice("-20").unwrap(), -20);
        assert_eq!(parse_nice("19").unwrap(), 19);
        assert_eq!(parse_oom_score_adj("-1000").unwrap(), -1000);
        assert_eq!(parse_oom_score_adj("1000").unwrap(), 1000);
        for bad in ["20", "-21", "+1", "", "-", " 1", "1.5", "--1", "0x1"] {
            assert!(parse_nice(bad).is_err(), "{bad}");
        }
        for bad in ["1001", "-1001", "+5", "99999999999"] {
            assert!(parse_oom_score_adj(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn io_priorities() {
        let p = |t: &str| parse_ioprio(t).unwrap();
        assert_eq!(p("idle").raw(), 3 << 13);
        assert_eq!(p("best-effort").raw(), (2 << 13) | 4);
        assert_eq!(p("be:7").raw(), (2 << 13) | 7);
        assert_eq!(p("realtime:0").raw(), 1 << 13);
        assert_eq!(p("rt:3").to_string(), "realtime:3");
        for bad in ["idle:1", "be:8", "be:", "rt:-1", "none", "", "be:10"] {
            assert!(parse_ioprio(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,6").unwrap(), [0, 1, 2, 3, 6]);
        assert_eq!(parse_cpu_list("6,0,0-1").unwrap(), [0, 1, 6]);
        assert_eq!(format_cpu_list(&[0, 1, 2, 3, 6, 8, 9]), "0-3,6,8-9");
        for bad in ["", ",", "1,", "3-1", "a", "-1", "1-", "1024", " 1", "0x1"] {
            assert!(parse_cpu_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_show_their_system_calls() {
        let s = |s: Setting| s.calls()[0].to_string();
        assert_eq!(
            s(Setting::Rlimit {
                resource: 7,
                soft: 10,
                hard: UNLIMITED
            }),
            "prlimit64(0, RLIMIT_NOFILE, rlim_cur=10, rlim_max=RLIM64_INFINITY)"
        );
        assert_eq!(s(Setting::Nice(-5)), "setpriority(PRIO_PROCESS, 0, -5)");
        assert_eq!(
            s(Setting::CpuAffinity(vec![0, 1])),
            "sched_setaffinity(0, [0,1])"
        );
        assert_eq!(
            s(Setting::IoPriority(parse_ioprio("best-effort:6").unwrap())),
            "ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 6))"
        );
    }

    /// A caller other than root with these capabilities, in newgrp mode
    /// (`restricted`) or not.
    fn user(caps: CapSet, restricted: bool) -> Facts {
        let mut facts = crate::testing::facts(crate::testing::caller(1500, 1500, &[]));
        facts.caps.effective = caps;
        facts.caps.permitted = caps;
        facts.at_secure = restricted;
        facts
    }

    #[test]
    fn privilege_is_checked_before_anything_changes() {
        // Raising a hard limit without CAP_SYS_RESOURCE: refused by name.
        let (_, hard) = getrlimit(7).unwrap();
        if hard != UNLIMITED {
            let resources = Resources {
                rlimits: vec![Rlimit {
                    resource: 7,
                    soft: None,
                    hard: Some(hard + 1),
                }],
                ..Resources::default()
            };
            let err = settings(&resources, &user(CapSet::EMPTY, false)).unwrap_err();
            assert!(err.to_string().contains("CAP_SYS_RESOURCE"), "{err}");
            let err = settings(&resources, &user(CapSet::EMPTY, true)).unwrap_err();
            assert!(err.to_string().contains("newgrp mode"), "{err}");
        }
        let rt = Resources {
            ioprio: Some(parse_ioprio("realtime").unwrap()),
            ..Resources::default()
        };
        let nice = CapSet::of(Cap::SYS_NICE);
        assert!(settings(&rt, &user(CapSet::EMPTY, false)).is_err());
        assert!(settings(&rt, &user(nice, false)).is_ok());
        assert!(settings(&rt, &user(nice, true)).is_err());
    }
}
