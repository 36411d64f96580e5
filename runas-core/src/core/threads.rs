//! The other threads of a process that switches in place (the library's
//! `Switch::apply`; the launcher has one thread, and a forked child has
//! one).
//!
//! The C libraries' setgroups, setresgid and setresuid change every thread
//! (glibc signals each one and waits for all; musl's __synccall does the
//! same), and setresuid from a root uid to non-root ones makes the kernel
//! clear each thread's permitted, effective and ambient capability sets as
//! that thread's call runs. Nothing else the switch does reaches another
//! thread: capset(2), the ambient and bounding sets, securebits, keepcaps
//! and the session keyring are each the calling thread's own. So a switch
//! with other threads is made only where those need no change in them, and
//! refused before any change otherwise; and after it, every thread's
//! credentials are read back from /proc/self/task and must equal those of
//! the calling thread, which the launcher's whole proof has checked.

use crate::base::error::{Error, Result};
use crate::core::facts::Facts;
use crate::core::plan::Plan;
use crate::core::transition::Change;
use crate::request::caps::{CapSet, Sets};
use crate::request::ids::Uid;
use crate::request::securebits::Securebits;
use crate::sys;

/// The lines of a thread's status that are its credentials.
const FIELDS: [&str; 9] = [
    "Uid:",
    "Gid:",
    "Groups:",
    "CapInh:",
    "CapPrm:",
    "CapEff:",
    "CapBnd:",
    "CapAmb:",
    "NoNewPrivs:",
];

/// One thread's credentials: the values of `FIELDS`, in that order, with
/// runs of white space made one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCreds(Vec<String>);

impl ThreadCreds {
    /// From the text of /proc/.../status; `None` if a field is missing.
    pub fn parse(status: &str) -> Option<ThreadCreds> {
        let mut values = Vec::with_capacity(FIELDS.len());
        for field in FIELDS {
            let value = status
                .lines()
                .find_map(|line| line.strip_prefix(field))?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            values.push(value);
        }
        Some(ThreadCreds(values))
    }

    /// What differs from `other`, in words: "Uid: 0 0 0 0, not 1000 1000
    /// 1000 1000".
    fn difference(&self, other: &ThreadCreds) -> String {
        FIELDS
            .iter()
            .zip(self.0.iter().zip(&other.0))
            .filter(|(_, (mine, theirs))| mine != theirs)
            .map(|(field, (mine, theirs))| format!("{field} {mine}, not {theirs}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn unreadable(what: &str, e: &std::io::Error) -> Error {
    Error::NotPermitted(format!(
        "reading {what}: {e} (an in-place switch checks every thread through /proc: mount procfs there)"
    ))
}

fn lacking(tid: u32) -> Error {
    Error::Verification(format!(
        "/proc/self/task/{tid}/status lacks a credential line"
    ))
}

/// One reading of the process's threads: this thread's credentials, and
/// every other live thread's, by thread id.
struct Reading {
    me: ThreadCreds,
    others: Vec<(u32, ThreadCreds)>,
    /// Every thread listed, the exited ones included.
    listed: Vec<u32>,
    /// Whether the reading holds every thread: none listed was gone when
    /// read (a thread that exits may have started another meanwhile, which
    /// the listing missed), and the kernel's count of the threads was the
    /// same before and after, and the number listed (a listing made while
    /// threads exit can skip a live one).
    complete: bool,
}

/// What a reading takes from /proc/self/task: `sys::Tasks`, or in the unit
/// tests a scripted directory, in which threads start and exit exactly
/// where a race a real process cannot place on demand would put them.
trait TaskDir {
    /// The thread ids listed.
    fn ids(&mut self) -> std::io::Result<Vec<u32>>;
    /// `TID/status` or `../status`; `Ok(None)` where the thread is gone.
    fn read(&self, name: &str) -> std::io::Result<Option<String>>;
}

impl TaskDir for sys::Tasks {
    fn ids(&mut self) -> std::io::Result<Vec<u32>> {
        sys::Tasks::ids(self)
    }
    fn read(&self, name: &str) -> std::io::Result<Option<String>> {
        sys::Tasks::read(self, name)
    }
}

/// The `Threads:` count of the process's status.
fn count(tasks: &impl TaskDir) -> Result<Option<usize>> {
    let status = tasks
        .read("../status")
        .map_err(|e| unreadable("/proc/self/status", &e))?
        .unwrap_or_default();
    Ok(status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok()))
}

/// Whether a status is that of a thread that has exited (a zombie: the
/// main thread that returned while others run), which holds nothing.
fn exited(status: &str) -> bool {
    status
        .lines()
        .find_map(|line| line.strip_prefix("State:"))
        .is_some_and(|state| matches!(state.trim_start().chars().next(), Some('Z' | 'X')))
}

/// One reading of the real /proc/self/task.
fn reading() -> Result<Reading> {
    let mut tasks = sys::Tasks::open().map_err(|e| unreadable("/proc/self/task", &e))?;
    reading_of(&mut tasks, sys::thread_id())
}

/// One reading of `tasks`, made by thread `me`.
fn reading_of(tasks: &mut impl TaskDir, me: u32) -> Result<Reading> {
    let listed = tasks.ids().map_err(|e| unreadable("/proc/self/task", &e))?;
    let mut own = None;
    let mut others = Vec::new();
    let mut complete = true;
    for &tid in &listed {
        let status = match tasks.read(&format!("{tid}/status")) {
            Ok(Some(status)) => status,
            Ok(None) => {
                complete = false;
                continue;
            }
            Err(e) => return Err(unreadable(&format!("/proc/self/task/{tid}/status"), &e)),
        };
        if tid == me {
            own = Some(ThreadCreds::parse(&status).ok_or_else(|| lacking(tid))?);
        } else if !exited(&status) {
            others.push((
                tid,
                ThreadCreds::parse(&status).ok_or_else(|| lacking(tid))?,
            ));
        }
    }
    // Complete: no listed thread vanished before it was read, and none was
    // made that the listing missed (the count, read after every status,
    // equals the number listed). A count read before the listing as well
    // would add nothing: a thread that exits before the listing reaches it
    // and one made behind it leave the count unequal to the list, and one
    // that exits after being listed is found missing when read.
    let after = count(tasks)?;
    complete = complete && after == Some(listed.len());
    let me = own
        .ok_or_else(|| Error::Verification("this thread is missing from /proc/self/task".into()))?;
    Ok(Reading {
        me,
        others,
        listed,
        complete,
    })
}

/// How many readings are tried before the threads are taken to change too
/// fast to be read.
const TRIES: usize = 16;

/// What the kernel leaves of the capability sets of a thread whose
/// setresuid runs with nothing but the broadcast: cleared (but for the
/// inheritable set) on a change from a root uid to non-root ones, unless
/// securebits keep them; otherwise as they are.
fn broadcast_leaves(plan: &Plan, facts: &Facts, securebits: Securebits) -> (Sets, CapSet) {
    let from_root = [
        facts.credentials.uid.real,
        facts.credentials.uid.effective,
        facts.credentials.uid.saved,
    ]
    .contains(&Uid::ROOT);
    let keeps = securebits.contains(Securebits::KEEP_CAPS)
        || securebits.contains(Securebits::NO_SETUID_FIXUP);
    if from_root && plan.uid != Uid::ROOT && !keeps {
        let cleared = Sets {
            effective: CapSet::EMPTY,
            permitted: CapSet::EMPTY,
            inheritable: facts.caps.inheritable,
        };
        (cleared, CapSet::EMPTY)
    } else {
        (facts.caps, facts.ambient)
    }
}

/// Capability sets in words, as masks.
fn masks(sets: Sets) -> String {
    format!(
        "effective {:#x}, permitted {:#x}, inheritable {:#x}",
        sets.effective.bits(),
        sets.permitted.bits(),
        sets.inheritable.bits()
    )
}

/// Before any change: refuse a switch that would leave another thread
/// with what this one sheds. Returns how many other threads there are.
pub fn before(plan: &Plan, facts: &Facts, changes: &[&Change]) -> Result<usize> {
    let mut complete = None;
    for _ in 0..TRIES {
        let reading = reading()?;
        if reading.complete {
            complete = Some(reading);
            break;
        }
    }
    let Some(Reading { me, others, .. }) = complete else {
        return Err(Error::NotPermitted(format!(
            "the threads of this process kept starting and exiting while they were read ({TRIES} readings): drop privileges before starting any thread, or give the work to a child (Switch::command)"
        )));
    };
    if others.is_empty() {
        return Ok(0);
    }
    let refuse = |why: String| {
        Error::NotPermitted(format!(
            "this process has {} other thread(s), and {why}: drop privileges before starting any thread (an async runtime, a thread pool), or give the work to a child (Switch::command)",
            others.len()
        ))
    };
    if let Some((tid, creds)) = others.iter().find(|(_, creds)| *creds != me) {
        return Err(refuse(format!(
            "thread {tid} holds other credentials than this one ({}), which the switch cannot account for",
            creds.difference(&me)
        )));
    }
    let securebits =
        Securebits::from_bits(sys::get_securebits().map_err(|errno| Error::Syscall {
            call: "prctl(PR_GET_SECUREBITS)".into(),
            errno,
        })?);
    let (caps, ambient) = broadcast_leaves(plan, facts, securebits);
    for change in changes {
        let stays = match change {
            Change::SetGroups(_) | Change::SetResGid(_) | Change::SetResUid(_) => None,
            Change::Capset(planned) if *planned == caps => None,
            Change::Capset(planned) => Some(format!(
                "their capability sets would stay {} where this thread's become {} (capset(2) changes the calling thread alone)",
                masks(caps),
                masks(*planned)
            )),
            Change::ClearAmbient if ambient.is_empty() => None,
            Change::ClearAmbient => Some(format!(
                "their ambient set would keep {:#x} (it is each thread's own)",
                ambient.bits()
            )),
            Change::NewSessionKeyring => Some(
                "a session keyring of the target's own would be this thread's alone (each thread has its own; keep the keyring where the process's session keyring is its own, as under systemd's default KeyringMode=private: Target::keep_keyring)"
                    .to_string(),
            ),
            Change::KeepCaps | Change::RaiseAmbient(_) => Some(
                "capabilities are kept by each thread for itself (keep_capabilities needs one thread)"
                    .to_string(),
            ),
            Change::DropBounding(_) | Change::SetSecurebits(_) | Change::NoNewPrivs => {
                Some(format!("{change:?} changes the calling thread alone"))
            }
        };
        if let Some(why) = stays {
            return Err(refuse(why));
        }
    }
    Ok(others.len())
}

/// After the switch and this thread's proof: every live thread, those
/// started meanwhile included, holds exactly this thread's credentials,
/// in two complete readings in a row that list the same threads.
pub fn after() -> Result<()> {
    after_of(reading)
}

/// [`after`], over the readings `next` makes.
fn after_of(mut next: impl FnMut() -> Result<Reading>) -> Result<()> {
    let mut seen: Option<Vec<u32>> = None;
    for _ in 0..TRIES {
        let reading = next()?;
        if let Some((tid, creds)) = reading.others.iter().find(|(_, c)| *c != reading.me) {
            return Err(Error::Verification(format!(
                "thread {tid} was not switched with this one: {}",
                creds.difference(&reading.me)
            )));
        }
        if !reading.complete {
            seen = None;
            continue;
        }
        if seen.as_ref() == Some(&reading.listed) {
            return Ok(());
        }
        seen = Some(reading.listed);
    }
    Err(Error::Verification(format!(
        "the threads of this process kept starting and exiting while they were checked ({TRIES} readings): whether each was switched cannot be told"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nGroups:\t10 20 \nNoNewPrivs:\t0\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";

    #[test]
    fn a_status_gives_its_credential_lines_and_their_differences() {
        let a = ThreadCreds::parse(STATUS).unwrap();
        assert_eq!(a.0[0], "1000 1000 1000 1000");
        assert_eq!(a.0[2], "10 20");
        let b =
            ThreadCreds::parse(&STATUS.replace("Uid:\t1000\t1000\t1000\t1000", "Uid:\t0\t0\t0\t0"))
                .unwrap();
        assert_ne!(a, b);
        assert_eq!(b.difference(&a), "Uid: 0 0 0 0, not 1000 1000 1000 1000");
        let empty = ThreadCreds::parse(&STATUS.replace("Groups:\t10 20 ", "Groups:\t")).unwrap();
        assert_eq!(empty.0[2], "");
        assert!(ThreadCreds::parse(&STATUS.replace("CapAmb", "CapXyz")).is_none());
    }

    /// A /proc/self/task as a script says: the ids listed, each thread's
    /// status (`None`: gone when read), and the process's `Threads:` count.
    struct Scripted {
        listed: Vec<u32>,
        statuses: Vec<(u32, Option<String>)>,
        count: usize,
    }

    impl TaskDir for Scripted {
        fn ids(&mut self) -> std::io::Result<Vec<u32>> {
            Ok(self.listed.clone())
        }
        fn read(&self, name: &str) -> std::io::Result<Option<String>> {
            if name == "../status" {
                return Ok(Some(format!("Name:\tx\nThreads:\t{}\n", self.count)));
            }
            let tid: u32 = name.trim_end_matches("/status").parse().unwrap();
            Ok(self
                .statuses
                .iter()
                .find(|(t, _)| *t == tid)
                .and_then(|(_, status)| status.clone()))
        }
    }

    fn live() -> Option<String> {
        Some(format!("State:\tS (sleeping)\n{STATUS}"))
    }

    fn scripted(statuses: Vec<(u32, Option<String>)>, count: usize) -> Scripted {
        Scripted {
            listed: statuses.iter().map(|(tid, _)| *tid).collect(),
            statuses,
            count,
        }
    }

    #[test]
    fn a_reading_is_complete_only_when_no_listed_thread_vanished_and_the_count_matches() {
        let all = scripted(vec![(10, live()), (11, live()), (12, live())], 3);
        let reading = reading_of(&mut { all }, 10).unwrap();
        assert!(reading.complete);
        assert_eq!(reading.listed, [10, 11, 12]);
        assert_eq!(
            reading.others.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            [11, 12]
        );
        // Thread 12 exited between the listing and its read, while another
        // started that the listing missed: the count still says 3.
        let vanished = scripted(vec![(10, live()), (11, live()), (12, None)], 3);
        assert!(!reading_of(&mut { vanished }, 10).unwrap().complete);
        // Every listed thread read, but the kernel counts one more: the
        // listing skipped a live thread.
        let skipped = scripted(vec![(10, live()), (11, live())], 3);
        assert!(!reading_of(&mut { skipped }, 10).unwrap().complete);
        // An exited main thread (a zombie) is listed and counted, and holds
        // nothing to check.
        let zombie = Some(format!("State:\tZ (zombie)\n{STATUS}"));
        let reading = reading_of(&mut scripted(vec![(10, zombie), (11, live())], 2), 11).unwrap();
        assert!(reading.complete);
        assert!(reading.others.is_empty());
        // The reading thread must be among those listed.
        assert!(reading_of(&mut scripted(vec![(11, live())], 1), 10).is_err());
    }

    fn made(listed: &[u32], complete: bool, other: Option<&str>) -> Reading {
        let me = ThreadCreds::parse(STATUS).unwrap();
        let others = listed[1..]
            .iter()
            .map(|&tid| {
                let creds = match other {
                    Some(uid) if tid == *listed.last().unwrap() => {
                        ThreadCreds::parse(&STATUS.replace("Uid:\t1000\t1000\t1000\t1000", uid))
                            .unwrap()
                    }
                    _ => me.clone(),
                };
                (tid, creds)
            })
            .collect();
        Reading {
            me,
            others,
            listed: listed.to_vec(),
            complete,
        }
    }

    fn after_with(readings: Vec<Reading>) -> Result<()> {
        let mut readings = readings.into_iter();
        after_of(|| Ok(readings.next().expect("more readings than scripted")))
    }

    #[test]
    fn after_needs_two_complete_readings_in_a_row_that_list_the_same_threads() {
        assert!(
            after_with(vec![
                made(&[10, 11], true, None),
                made(&[10, 11], true, None)
            ])
            .is_ok()
        );
        // One complete reading is not enough: the next shows a thread that
        // the first missed, still root.
        let unswitched = after_with(vec![
            made(&[10, 11], true, None),
            made(&[10, 11, 12], true, Some("Uid:\t0\t0\t0\t0")),
        ]);
        assert!(
            matches!(&unswitched, Err(Error::Verification(why)) if why.starts_with("thread 12 was not switched")),
            "{unswitched:?}"
        );
        // Two complete readings apart, or listing different threads, prove
        // nothing until two in a row agree.
        assert!(
            after_with(vec![
                made(&[10, 11], true, None),
                made(&[10, 11], false, None),
                made(&[10, 12], true, None),
                made(&[10, 12, 13], true, None),
                made(&[10, 12, 13], true, None),
            ])
            .is_ok()
        );
        let churning: Vec<Reading> = (0..TRIES as u32)
            .map(|i| made(&[10, 11 + i], true, None))
            .collect();
        assert!(
            matches!(after_with(churning), Err(Error::Verification(why)) if why.contains("kept starting and exiting"))
        );
    }
}
