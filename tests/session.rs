//! Process groups, sessions, daemon mode, --dump and --dry-run, each read
//! back from /proc of the target.

mod common;

use common::*;
use std::ffi::OsString;
use std::time::{Duration, Instant};

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// The target prints its /proc/self/stat fields: pid ppid pgrp session tty_nr.
const STAT: &str = r#"read -r line < /proc/$$/stat; rest=${line##*) }; set -- $rest; echo "stat pid=$$ ppid=$2 pgid=$3 sid=$4 tty=$5""#;

#[derive(Debug)]
struct Stat {
    pid: i64,
    ppid: i64,
    pgid: i64,
    sid: i64,
    tty: i64,
}

fn stat_of(text: &str) -> Stat {
    let line = text
        .lines()
        .find(|l| l.starts_with("stat "))
        .unwrap_or_else(|| panic!("no stat line in\n{text}"));
    let get = |key: &str| -> i64 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{key}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    Stat {
        pid: get("pid"),
        ppid: get("ppid"),
        pgid: get("pgid"),
        sid: get("sid"),
        tty: get("tty"),
    }
}

fn launcher_pid(run: &Run) -> i64 {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("launcher-pid "))
        .unwrap()
        .parse()
        .unwrap()
}

/// runas, made the leader of its own process group first (as an interactive
/// shell does for every job), so setsid(2) would fail with EPERM.
fn as_group_leader(w: &World, args: &[&str]) -> Vec<OsString> {
    w.under(
        &["perl", "-e", "setpgrp(0, 0) or die; exec @ARGV or die"],
        args,
    )
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn new_pgroup_makes_the_target_lead_its_own_process_group() {
    let Some(w) = world("new_pgroup") else { return };
    let run = w.runas(&["-u", "alice", "--new-pgroup", "--", "/bin/sh", "-c", STAT]);
    let stat = stat_of(&run.stdout);
    assert_eq!(stat.pgid, stat.pid, "{}", run.describe());
    assert_eq!(stat.pid, launcher_pid(&run), "exec in place");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setsid_from_a_non_leader_needs_no_fork() {
    let Some(w) = world("setsid_direct") else {
        return;
    };
    let run = w.runas(&["-u", "alice", "--setsid", "--", "/bin/sh", "-c", STAT]);
    let stat = stat_of(&run.stdout);
    assert_eq!(
        (stat.sid, stat.pgid),
        (stat.pid, stat.pid),
        "{}",
        run.describe()
    );
    assert_eq!(stat.tty, 0);
    assert_eq!(stat.pid, launcher_pid(&run), "no fork was needed");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setsid_from_a_group_leader_forks_waits_and_passes_the_status_on() {
    let Some(w) = world("setsid_fork") else {
        return;
    };
    let run = Run::from(
        w.command(&as_group_leader(
            &w,
            &["-u", "alice", "--setsid", "--", "/bin/sh", "-c", STAT],
        ))
        .output()
        .unwrap(),
    );
    let stat = stat_of(&run.stdout);
    assert_eq!(
        (stat.sid, stat.pgid),
        (stat.pid, stat.pid),
        "{}",
        run.describe()
    );
    assert_eq!(stat.tty, 0);
    assert_ne!(stat.pid, launcher_pid(&run), "the fork path was not taken");
    assert_eq!(stat.ppid, launcher_pid(&run), "the waiting parent is runas");
    let run = Run::from(
        w.command(&as_group_leader(
            &w,
            &["-u", "alice", "--setsid", "--", "/bin/sh", "-c", "exit 7"],
        ))
        .output()
        .unwrap(),
    );
    assert_eq!(run.code(), Some(7), "{}", run.describe());
    let run = Run::from(
        w.command(&as_group_leader(
            &w,
            &[
                "-u",
                "alice",
                "--setsid",
                "--",
                "/bin/sh",
                "-c",
                "kill -TERM $$",
            ],
        ))
        .output()
        .unwrap(),
    );
    assert_eq!(run.code(), Some(128 + 15), "{}", run.describe());
}

/// A caller that ignores SIGCHLD (the disposition survives execve) must
/// not make the waiting parent miss the command's exit; the command still
/// gets the caller's disposition.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setsid_waiter_returns_the_status_when_the_caller_ignores_sigchld() {
    let Some(w) = world("setsid_sigchld_ignored") else {
        return;
    };
    // Python, not a shell: a shell sets up SIGCHLD for itself.
    let script = "import sys; sys.stdout.write(open('/proc/self/status').read()); sys.exit(3)";
    let argv = w.under(
        &[
            "/usr/bin/timeout",
            "-k",
            "5",
            "20",
            "perl",
            "-e",
            "$SIG{CHLD} = 'IGNORE'; setpgrp(0, 0) or die; exec @ARGV or die",
        ],
        &[
            "-u",
            "alice",
            "--setsid",
            "--",
            "/usr/bin/python3",
            "-c",
            script,
        ],
    );
    let run = Run::from(w.command(&argv).output().unwrap());
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    let ignored = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap_or_else(|| panic!("no SigIgn line\n{}", run.describe()));
    assert_ne!(ignored & (1 << (17 - 1)), 0, "SIGCHLD is no longer ignored");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setsid_fork_path_forwards_sigterm_to_the_target() {
    let Some(w) = world("setsid_forward") else {
        return;
    };
    let script = "trap 'echo got-term; exit 3' TERM; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo not-signalled";
    let mut child = w
        .command(&as_group_leader(
            &w,
            &["-u", "alice", "--setsid", "--", "/bin/sh", "-c", script],
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The launcher pid is the waiting runas parent (unshare, sh and perl exec in place).
    let pid = child.id() as i32;
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    use std::io::Read;
    let mut buf = [0u8; 256];
    while !seen.contains("ready") && Instant::now() < deadline {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(
        rest.contains("got-term"),
        "target did not get SIGTERM: {seen}{rest}"
    );
    assert_eq!(status.code(), Some(3));
}

fn wait_for(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The shell's open descriptors, one `fd N TARGET` line each.
const LIST_FDS: &str = r"ls -l /proc/$$/fd | sed -n 's/.* \([0-9]*\) -> /fd \1 /p'";

/// runas's arguments for a daemon run as alice with a pidfile and a log.
fn daemon_args<'a>(pidfile: &'a str, log: &'a str, script: &'a str) -> [&'a str; 11] {
    [
        "-u",
        "alice",
        "--daemon",
        "--pidfile",
        pidfile,
        "--log",
        log,
        "--",
        "/bin/sh",
        "-c",
        script,
    ]
}

/// A second daemon start on the same pidfile: refused while the first runs.
fn second_start(w: &World, pidfile: &str) -> Run {
    let second = w.runas(&[
        "-u",
        "alice",
        "--daemon",
        "--pidfile",
        pidfile,
        "--",
        "/bin/true",
    ]);
    second.assert_refused("is locked by a running instance");
    second
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn daemon_detaches_records_its_pid_logs_and_refuses_a_second_start() {
    let Some(w) = world("daemon") else { return };
    // The log is opened with the target's rights: in a directory of its own.
    let log = w.owned_dir("log", 1500, 1500).join("daemon.log");
    let pidfile = w.path().join("daemon.pid");
    let script = format!("{STAT}; {LIST_FDS}; echo cwd=$(pwd); sleep 2");
    let (log_s, pid_s) = (log.to_str().unwrap(), pidfile.to_str().unwrap());
    let run = w.runas(&daemon_args(pid_s, log_s, &script));
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let text = wait_for(&log, "cwd=");
    let stat = stat_of(&text);
    // Double fork: the daemon is in a session of its own but does not lead
    // it, so it can never acquire a controlling terminal.
    assert_eq!(stat.sid, stat.pgid, "{text}");
    assert_ne!(stat.sid, stat.pid, "{text}");
    assert_eq!(stat.tty, 0);
    // runas has returned: the daemon's parent is init (or a subreaper), not
    // the caller.
    let now = std::fs::read_to_string(format!("/proc/{}/stat", stat.pid)).unwrap();
    let ppid: i64 = now
        .rsplit_once(") ")
        .unwrap()
        .1
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        ppid,
        launcher_pid(&run),
        "the caller is the daemon's parent"
    );
    assert!(text.contains("fd 0 /dev/null"), "{text}");
    assert!(
        text.contains(&format!("fd 1 {log_s}")) && text.contains(&format!("fd 2 {log_s}")),
        "{text}"
    );
    assert!(text.contains("cwd=/\n"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap().trim(),
        stat.pid.to_string()
    );
    // While it runs, a second start is refused.
    let second = second_start(&w, pid_s);
    assert!(
        second.stderr.contains(&stat.pid.to_string()),
        "{}",
        second.describe()
    );
}

/// runas has no std start-up code to reopen closed descriptors 0-2, so a
/// caller that closed them must not cost the daemon its pidfile lock (the
/// pidfile would otherwise be opened as descriptor 0 and replaced by
/// /dev/null).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn daemon_started_with_closed_standard_descriptors_keeps_its_lock() {
    let Some(w) = world("daemon_closed_stdio") else {
        return;
    };
    let log = w.owned_dir("log", 1500, 1500).join("daemon.log");
    let pidfile = w.path().join("daemon.pid");
    let (log_s, pid_s) = (log.to_str().unwrap(), pidfile.to_str().unwrap());
    let script = format!("{LIST_FDS}; echo done; sleep 2");
    let closing = ["/bin/sh", "-c", "exec \"$@\" <&- >&- 2>&-", "sh"];
    let run = w.runas_under(&closing, &daemon_args(pid_s, log_s, &script));
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let text = wait_for(&log, "done");
    assert!(text.contains("fd 0 /dev/null"), "{text}");
    assert!(text.contains(&format!("fd 1 {log_s}")), "{text}");
    assert!(
        text.lines()
            .any(|l| l.ends_with(pid_s) && !l.starts_with("fd 0 ")),
        "the pidfile's locked descriptor is gone\n{text}"
    );
    second_start(&w, pid_s);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn daemon_failures_reach_the_caller() {
    let Some(w) = world("daemon_failures") else {
        return;
    };
    let run = w.runas(&["-u", "alice", "--daemon", "--", "/no/such/program"]);
    assert_eq!(run.code(), Some(127), "{}", run.describe());
    assert!(
        run.stderr
            .contains("runas: \"/no/such/program\": command not found"),
        "{}",
        run.describe()
    );
    w.runas(&["-u", "mallory", "--daemon", "--", "/bin/true"])
        .assert_refused("unknown user \"mallory\"");
    let run = w.runas(&[
        "-u",
        "alice",
        "--daemon",
        "--chdir",
        "/root",
        "--",
        "/bin/true",
    ]);
    run.assert_refused("Permission denied");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dump_reports_what_proc_says() {
    let Some(w) = world("dump") else { return };
    let runas = w.runas.to_str().unwrap().to_owned();
    let run = w.runas(&["-u", "alice", "--", &runas, "--dump"]);
    assert!(run.output.status.success(), "{}", run.describe());
    let out = &run.stdout;
    assert!(
        out.contains(&format!("pid: {}\n", launcher_pid(&run))),
        "{out}"
    );
    assert!(
        out.contains(&format!("ppid: {}\n", std::process::id())),
        "{out}"
    );
    assert!(
        out.contains(
            "uid: real=1500(alice) effective=1500(alice) saved=1500(alice) filesystem=1500(alice)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "gid: real=1500(alice) effective=1500(alice) saved=1500(alice) filesystem=1500(alice)"
        ),
        "{out}"
    );
    assert!(
        out.contains("groups: 1500(alice),1700(jupiter),1701(saturn)"),
        "{out}"
    );
    for set in ["effective", "permitted", "inheritable", "ambient"] {
        assert!(out.contains(&format!("capabilities {set}: none")), "{out}");
    }
    assert!(out.contains("no_new_privs: 0"), "{out}");
    assert!(out.contains("tty: none"), "{out}");
    let run = w.runas(&[
        "-u",
        "alice",
        "--no-new-privs",
        "--umask",
        "027",
        "--",
        &runas,
        "--dump",
    ]);
    assert!(
        run.stdout.contains("no_new_privs: 1") && run.stdout.contains("umask: 0027"),
        "{}",
        run.describe()
    );
    w.runas(&["--dump", "-u", "alice"])
        .assert_refused("--dump takes no other option");
}

/// The JSON object runas printed (the harness's launcher-pid line aside).
fn json_line(run: &Run) -> String {
    run.stdout.lines().filter(|l| l.starts_with('{')).collect()
}

/// Load JSON with python and print its keys (dotted, sorted) and values.
fn json_fields(json: &str) -> String {
    let script = r#"
import json, sys
def walk(prefix, v):
    if isinstance(v, dict):
        for k in sorted(v): walk(prefix + k + ".", v[k])
    else:
        print(prefix[:-1] + "=" + json.dumps(v))
walk("", json.loads(sys.stdin.read()))
"#;
    python_on_json(script, json, &[])
}

fn keys(fields: &str) -> Vec<&str> {
    fields
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect()
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn json_field_names_are_stable() {
    let Some(w) = world("json_fields") else {
        return;
    };
    let runas = w.runas.to_str().unwrap().to_owned();
    let dump = w.runas(&["-u", "alice", "--", &runas, "--dump", "--json"]);
    let json = json_line(&dump);
    let fields = json_fields(&json);
    assert_eq!(
        keys(&fields),
        [
            "capabilities.ambient",
            "capabilities.bounding",
            "capabilities.effective",
            "capabilities.inheritable",
            "capabilities.permitted",
            "capabilities.root_equivalent",
            "cpu_affinity",
            "foreground_pgid",
            "gid.effective.id",
            "gid.effective.name",
            "gid.filesystem.id",
            "gid.filesystem.name",
            "gid.real.id",
            "gid.real.name",
            "gid.saved.id",
            "gid.saved.name",
            "groups",
            "if_root",
            "ioprio",
            "limits.as.hard",
            "limits.as.soft",
            "limits.core.hard",
            "limits.core.soft",
            "limits.cpu.hard",
            "limits.cpu.soft",
            "limits.data.hard",
            "limits.data.soft",
            "limits.fsize.hard",
            "limits.fsize.soft",
            "limits.locks.hard",
            "limits.locks.soft",
            "limits.memlock.hard",
            "limits.memlock.soft",
            "limits.msgqueue.hard",
            "limits.msgqueue.soft",
            "limits.nice.hard",
            "limits.nice.soft",
            "limits.nofile.hard",
            "limits.nofile.soft",
            "limits.nproc.hard",
            "limits.nproc.soft",
            "limits.rss.hard",
            "limits.rss.soft",
            "limits.rtprio.hard",
            "limits.rtprio.soft",
            "limits.rttime.hard",
            "limits.rttime.soft",
            "limits.sigpending.hard",
            "limits.sigpending.soft",
            "limits.stack.hard",
            "limits.stack.soft",
            "nice",
            "no_new_privs",
            "oom_score_adj",
            "pgid",
            "pid",
            "ppid",
            "securebits",
            "sid",
            "tty",
            "uid.effective.id",
            "uid.effective.name",
            "uid.filesystem.id",
            "uid.filesystem.name",
            "uid.real.id",
            "uid.real.name",
            "uid.saved.id",
            "uid.saved.name",
            "umask",
        ]
    );
    // With one limit, so that the object of limits has a member to show.
    let plan = w.runas(&[
        "--dry-run",
        "--json",
        "-u",
        "alice",
        "--rlimit",
        "nofile=1024",
        "--",
        "id",
    ]);
    let json = json_line(&plan);
    let fields = json_fields(&json);
    assert_eq!(
        keys(&fields),
        [
            "command",
            "environment.clear",
            "environment.from_files",
            "environment.set.HOME",
            "environment.set.LOGNAME",
            "environment.set.SHELL",
            "environment.set.USER",
            "environment.unset",
            "gid.id",
            "gid.name",
            "groups",
            "if_root",
            "irreversible",
            "not_applied",
            "options.allow_root_caps",
            "options.bounding_drop",
            "options.chdir",
            "options.close_fds",
            "options.cpu_affinity",
            "options.detach_terminal",
            "options.ioprio",
            "options.keep_caps",
            "options.nice",
            "options.no_new_privs",
            "options.oom_score_adj",
            "options.pdeathsig",
            "options.rlimits.nofile.hard",
            "options.rlimits.nofile.soft",
            "options.securebits_clear",
            "options.securebits_set",
            "options.session",
            "options.umask",
            "steps",
            "uid.id",
            "uid.name",
            "valid",
            "warnings",
        ]
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dry_run_changes_nothing_and_matches_a_real_run() {
    let Some(w) = world("dry_run") else { return };
    let trace = w.path().join("trace");
    let mut argv: Vec<OsString> = [
        "strace",
        "-qq",
        "-f",
        "-e",
        "trace=setgroups,setresgid,setresuid,capset,prctl,execve",
        "-o",
    ]
    .map(OsString::from)
    .to_vec();
    argv.push(trace.clone().into());
    let run = w.runas_under(
        &argv,
        &["--dry-run", "--json", "-u", "alice:jupiter", "--", "id"],
    );
    assert!(run.output.status.success(), "{}", run.describe());
    let calls = std::fs::read_to_string(&trace).unwrap();
    let changes: Vec<&str> = calls
        .lines()
        .filter(|l| {
            ["setgroups", "setresgid", "setresuid", "capset", "prctl"]
                .iter()
                .any(|c| l.contains(c))
        })
        // Reading is not changing.
        .filter(|l| {
            !["PR_GET_", "PR_CAPBSET_READ", "PR_CAP_AMBIENT_IS_SET"]
                .iter()
                .any(|read| l.contains(read))
        })
        .collect();
    assert!(
        changes.is_empty(),
        "the dry run changed credentials:\n{calls}"
    );
    assert_eq!(
        calls.matches("execve(").count(),
        1,
        "only runas itself was executed:\n{calls}"
    );
    let json = json_line(&run);
    let fields = json_fields(&json);
    let id = w.runas(&with_probe(&["-u", "alice:jupiter"])).identity();
    assert!(
        fields.contains(&format!("uid.id={}", id.uid[0])),
        "{fields}"
    );
    assert!(
        fields.contains(&format!("gid.id={}", id.gid[0])),
        "{fields}"
    );
    let groups: Vec<String> = id.groups.iter().map(|g| g.to_string()).collect();
    let line = fields.lines().find(|l| l.starts_with("groups=")).unwrap();
    for g in &groups {
        assert!(line.contains(&format!("\"id\": {g}")), "{line} lacks {g}");
    }
    assert_eq!(line.matches("\"id\"").count(), groups.len(), "{line}");
    assert!(
        fields.contains("{\"call\": \"setresuid\", \"args\": [1500, 1500, 1500]}"),
        "{fields}"
    );
    // An invalid plan is a 125, with the usual message.
    w.runas(&["--dry-run", "-u", "mallory", "--", "id"])
        .assert_refused("unknown user \"mallory\"");
}

/// A daemon killed before it ran the command is a failure, reported with
/// the signal (here: killed at its first credential change).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_daemon_that_dies_before_exec_is_reported() {
    let Some(w) = world("daemon_dies_before_exec") else {
        return;
    };
    let run = w.runas_under(
        &[
            "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "inject=setresuid:signal=SIGKILL",
        ],
        &["-u", "alice", "--daemon", "--", "/bin/true"],
    );
    run.assert_refused("the daemon died before it ran the command (killed by SIGKILL)");
    // --pdeathsig means nothing for a daemon, whose parent is init.
    w.runas(&[
        "-u",
        "alice",
        "--daemon",
        "--pdeathsig",
        "TERM",
        "--",
        "/bin/true",
    ])
    .assert_refused("--pdeathsig cannot be used with --daemon");
}

/// --setsid from a process-group leader: the waiting parent dies with the
/// parent-death signal, and the target (whose parent is the waiter) too;
/// the waiter holds none of the caller's descriptors (a lock is free).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setsid_waiter_dies_with_the_parent_and_holds_no_descriptor() {
    let Some(w) = world("setsid_pdeathsig") else {
        return;
    };
    let out = w.shared_dir("shared");
    let lock = out.join("lock");
    // A parent (python) starts runas as a group leader holding a lock on
    // descriptor 7, waits until the target runs, checks the lock, exits.
    let driver = r#"
import os, sys, time, fcntl, subprocess
out = sys.argv[1]
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.dup2(fd, 7); os.close(fd)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.execv(sys.argv[3], [sys.argv[3], "-u", "alice", "--setsid", "--close-fds", "--pdeathsig", "KILL", "--",
             "/bin/sh", "-c", "echo $$ > " + out + "/target; exec sleep 30"])
os.close(7)
for _ in range(200):
    if os.path.exists(out + "/target") and open(out + "/target").read().strip(): break
    time.sleep(0.02)
t = int(open(out + "/target").read())
probe = os.open(sys.argv[2], os.O_RDWR)
try:
    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("lock-free")
except OSError:
    print("lock-held")
print("target", t)
sys.stdout.flush()
os._exit(0)
"#;
    let run = w.program(
        std::path::Path::new("/usr/bin/python3"),
        &[
            "-c",
            driver,
            out.to_str().unwrap(),
            lock.to_str().unwrap(),
            w.runas.to_str().unwrap(),
        ],
    );
    assert!(run.stdout.contains("lock-free"), "{}", run.describe());
    let target: i32 = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("target "))
        .unwrap()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        std::path::Path::new(&format!("/proc/{target}")).exists()
            && !std::fs::read_to_string(format!("/proc/{target}/stat"))
                .unwrap_or_default()
                .contains(") Z")
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the target outlived its parent");
}

/// PID 1 of a container and every systemd service is a session leader, so
/// it already leads its process group: --new-pgroup is satisfied as it is,
/// where setpgid(0, 0) would fail with EPERM; the dry run agrees.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn new_pgroup_from_a_session_leader_is_already_satisfied() {
    let Some(w) = world("new_pgroup_session_leader") else {
        return;
    };
    let args = ["-u", "alice", "--new-pgroup", "--", "/bin/sh", "-c", STAT];
    let run = Run::from(w.command(&w.under(&["setsid"], &args)).output().unwrap());
    let stat = stat_of(&run.stdout);
    assert_eq!(
        (stat.sid, stat.pgid),
        (stat.pid, stat.pid),
        "{}",
        run.describe()
    );
    let mut dry = vec!["--dry-run"];
    dry.extend(args);
    let run = Run::from(w.command(&w.under(&["setsid"], &dry)).output().unwrap());
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(!run.stdout.contains("setpgid"), "{}", run.describe());
    // Not a leader: the step is planned and shown.
    let run = w.runas(&dry);
    assert!(run.stdout.contains("setpgid(0, 0)"), "{}", run.describe());
}
