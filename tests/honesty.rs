//! The dry run shows what the real run executes. For representative
//! command lines, every session mode and --daemon included, the list
//! `--dry-run --json` prints is compared with what the real run did,
//! traced by strace: each step's system calls happened, in the listed
//! order; and the process that executed the command made no credential,
//! session or process change that the list does not show.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::ffi::OsString;

/// System calls that change what the command inherits: each one the
/// process that execs makes must be in the list.
const CHANGES: &[&str] = &[
    "setgroups",
    "setresuid",
    "setresgid",
    "capset",
    "setsid",
    "setpgid",
    "chdir",
    "umask",
    "close_range",
    "prlimit64",
    "setpriority",
    "ioprio_set",
    "sched_setaffinity",
];

const TRACED: &str = "trace=open,openat,flock,write,dup2,dup3,clone,clone3,fork,vfork,setsid,setpgid,ioctl,setgroups,setresgid,setresuid,prctl,capset,capget,getresuid,getresgid,getgroups,setfsuid,setfsgid,umask,chdir,close_range,prlimit64,setpriority,ioprio_set,sched_setaffinity,execve";

/// One system call a step says it makes: its name, and for prctl and
/// ioctl the request, which strace prints first.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    name: String,
    request: Option<String>,
}

/// The calls a step's text names, in order: every `name(` of a traced
/// system call, with `fork` standing for the clone family.
fn calls_of(step: &str) -> Vec<Call> {
    let traced: Vec<&str> = TRACED.trim_start_matches("trace=").split(',').collect();
    let mut calls = Vec::new();
    let bytes = step.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_lowercase() || bytes[i] == b'_' || bytes[i].is_ascii_digit())
        {
            i += 1;
        }
        let word = &step[start..i];
        let at_word_start = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if i > start && at_word_start && i < bytes.len() && bytes[i] == b'(' {
            let name = if word == "dup2" { "dup" } else { word };
            if traced.contains(&word) || word == "fork" || word == "dup2" {
                let args = &step[i + 1..];
                let request = (word == "prctl" || word == "ioctl")
                    .then(|| args.split([')', ',']).next().unwrap_or("").to_owned());
                calls.push(Call {
                    name: name.to_owned(),
                    request,
                });
            }
        }
        i = i.max(start + 1);
    }
    calls
}

/// One line of `strace -f -o`: pid, name, arguments.
#[derive(Debug)]
struct Traced {
    pid: u32,
    name: String,
    line: String,
}

fn parse_trace(text: &str) -> Vec<Traced> {
    text.lines()
        .filter_map(|line| {
            let (pid, rest) = line.split_once(' ')?;
            let rest = rest.trim_start();
            let name: String = rest.chars().take_while(|c| *c != '(').collect();
            Some(Traced {
                pid: pid.parse().ok()?,
                name,
                line: rest.to_owned(),
            })
        })
        .filter(|t| !t.line.contains("resumed>") || t.name.starts_with('<'))
        .collect()
}

fn matches(call: &Call, traced: &Traced) -> bool {
    let name_ok = match call.name.as_str() {
        "fork" => ["clone", "clone3", "fork", "vfork"].contains(&traced.name.as_str()),
        "dup" => ["dup2", "dup3"].contains(&traced.name.as_str()),
        // musl opens with open(2), glibc with openat(2).
        "openat" => ["open", "openat"].contains(&traced.name.as_str()),
        name => traced.name == name,
    };
    name_ok
        && call.request.as_ref().is_none_or(|request| {
            traced
                .line
                .split(['(', ',', ')', ' ', '|'])
                .any(|word| word == request.trim())
        })
}

/// The steps `--dry-run --json` lists.
fn listed(run: &Run) -> Vec<String> {
    let json = run
        .stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON\n{}", run.describe()));
    let steps = json
        .split_once("\"steps\":[")
        .unwrap_or_else(|| panic!("no steps in {json}"))
        .1;
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = steps.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (false, '"') => in_string = true,
            (false, ']') => break,
            (true, '\\') => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (true, '"') => {
                in_string = false;
                out.push(std::mem::take(&mut current));
            }
            (true, c) => current.push(c),
            _ => {}
        }
    }
    out
}

/// Run `args` both ways under the same launcher and compare.
fn compare(w: &World, name: &str, launcher: &[&str], args: &[&str], command: &[&str]) {
    let trace = w.path().join(format!("{name}.trace"));
    let strace: Vec<OsString> = [
        "strace",
        "-f",
        "-qq",
        "-e",
        TRACED,
        "-o",
        trace.to_str().unwrap(),
    ]
    .iter()
    .map(OsString::from)
    .chain(launcher.iter().map(OsString::from))
    .collect();
    let mut dry: Vec<&str> = vec!["--dry-run", "--json"];
    dry.extend_from_slice(args);
    dry.push("--");
    dry.extend_from_slice(command);
    let dry_run = w.runas_under(&strace, &dry);
    assert!(
        dry_run.output.status.success(),
        "{name}: dry run\n{}",
        dry_run.describe()
    );
    let steps = listed(&dry_run);
    let mut real: Vec<&str> = args.to_vec();
    real.push("--");
    real.extend_from_slice(command);
    let run = w.runas_under(&strace, &real);
    assert!(
        run.output.status.success(),
        "{name}: real run\n{}",
        run.describe()
    );
    // A daemon's last steps may still be running: wait for its exec.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut text;
    loop {
        text = std::fs::read_to_string(&trace).unwrap();
        let execs = text.matches("execve(").count();
        if execs >= 2 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let traced = parse_trace(&text);
    // The process that exec'd the command (the last execve).
    let target = traced
        .iter()
        .rev()
        .find(|t| t.name == "execve" && t.line.contains(command[0]) && !t.line.contains("= -1"))
        .unwrap_or_else(|| panic!("{name}: the command was not exec'd\n{text}"))
        .pid;
    // Forward: every listed call happened, in the listed order.
    let mut at = traced
        .iter()
        .position(|t| t.name == "execve")
        .map_or(0, |i| i + 1);
    // Changes listed after the last fork: those the command's process made.
    let mut expected_changes: BTreeMap<String, usize> = BTreeMap::new();
    for step in &steps {
        let calls = calls_of(step);
        if calls.iter().any(|c| c.name == "fork") {
            expected_changes.clear();
        }
        for call in calls {
            let found = traced[at..]
                .iter()
                .position(|t| matches(&call, t))
                .unwrap_or_else(|| {
                    panic!(
                        "{name}: the step {step:?} lists {call:?}, which the real run did not make (in this order)\nsteps: {steps:#?}\ntrace:\n{text}"
                    )
                });
            at += found + 1;
            if CHANGES.contains(&call.name.as_str()) {
                *expected_changes.entry(call.name).or_default() += 1;
            }
        }
    }
    // Backward: the process that exec'd made no change the list does not show.
    for change in CHANGES {
        let made = traced
            .iter()
            .filter(|t| t.pid == target && t.name == *change)
            // prlimit64 with no new limit only reads one (the C library
            // asks for RLIMIT_STACK at start-up).
            .filter(|t| !(t.name == "prlimit64" && t.line.contains(", NULL, {")))
            .count();
        let listed = expected_changes.get(*change).copied().unwrap_or(0);
        // close_range is one call per range between kept descriptors.
        let within = if *change == "close_range" {
            made == 0 || listed > 0
        } else {
            made <= listed
        };
        assert!(
            within,
            "{name}: the command's process made {made} {change} call(s), the list shows {listed}\nsteps: {steps:#?}\ntrace:\n{text}"
        );
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_dry_run_lists_what_the_real_run_executes() {
    let Some(w) = privileged("honesty").then(World::new) else {
        return;
    };
    let log_dir = w.owned_dir("log", 1500, 1500);
    let log = log_dir.join("d.log");
    let pidfile = w.path().join("d.pid");
    let leader = ["perl", "-e", "setpgrp(0, 0) or die; exec @ARGV or die"];
    let cases: &[(&str, &[&str], Vec<&str>)] = &[
        ("default", &[], vec!["-u", "alice"]),
        (
            "numeric",
            &[],
            vec!["-u", "1500", "-g", "1500", "--clear-groups", "--keep-env"],
        ),
        ("group only", &[], vec!["-g", "jupiter"]),
        (
            "process options",
            &[],
            vec![
                "-u",
                "alice",
                "--no-new-privs",
                "--umask",
                "027",
                "--chdir",
                "/tmp",
                "--close-fds",
                "--pdeathsig",
                "TERM",
            ],
        ),
        (
            "capabilities",
            &[],
            vec![
                "-u",
                "nobody",
                "--keep-caps",
                "net_bind_service",
                "--bounding-set",
                "-net_raw",
            ],
        ),
        (
            "root with securebits",
            &[],
            vec!["-u", "root", "--securebits", "noroot"],
        ),
        (
            "limits and priorities",
            &[],
            vec![
                "-u",
                "alice",
                "--rlimit",
                "nofile=512:1024",
                "--rlimit",
                "core=0",
                "--nice",
                "3",
                "--oom-score-adj",
                "100",
                "--ioprio",
                "best-effort:6",
                "--cpu-affinity",
                "0",
            ],
        ),
        (
            "new process group",
            &[],
            vec!["-u", "alice", "--new-pgroup"],
        ),
        ("setsid", &[], vec!["-u", "alice", "--setsid"]),
        (
            "setsid from a group leader",
            &leader,
            vec!["-u", "alice", "--setsid"],
        ),
        (
            "daemon",
            &[],
            vec![
                "-u",
                "alice",
                "--daemon",
                "--pidfile",
                pidfile.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ],
        ),
    ];
    for (name, launcher, args) in cases {
        compare(&w, name, launcher, args, &["/bin/true"]);
        let _ = std::fs::remove_file(&pidfile);
    }
}

#[test]
fn the_step_texts_name_their_system_calls() {
    let calls = calls_of("fork(), setsid(), fork(): the caller waits");
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["fork", "setsid", "fork"]);
    let calls = calls_of("prctl(PR_SET_PDEATHSIG, SIGTERM)");
    assert_eq!(calls[0].request.as_deref(), Some("PR_SET_PDEATHSIG"));
    assert!(calls_of("LISTEN_PID=<the command's pid>").is_empty());
}
