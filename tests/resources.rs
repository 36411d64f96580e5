//! --rlimit, --nice, --oom-score-adj, --ioprio and --cpu-affinity: set
//! before the switch, held by the target, and refused up front, by the
//! capability's name, when the caller lacks the privilege they need.
//! Each target reads its own values (shell builtins and /proc) and prints
//! them; a target that must not run would create a marker file.

mod common;

use common::*;
use nix::sys::resource::Resource;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// The fixture world plus a marker the target creates first thing.
struct Case {
    w: World,
    marker: PathBuf,
}

fn case(test: &str) -> Option<Case> {
    let w = world(test)?;
    if !start_limits_fit(test) {
        return None;
    }
    let marker = w.shared_dir("out").join("target-ran");
    Some(Case { w, marker })
}

/// Known limits for runas to start from: `prlimit` sets them on the
/// (root) shell that starts everything else. Both only lower what a test
/// process usually has (nofile hard 1000, core soft 0, core hard kept), so
/// they need no CAP_SYS_RESOURCE, which root in a container may lack.
const START_LIMITS: &[&str] = &["/usr/bin/prlimit", "--nofile=100:1000", "--core=0:", "--"];

const CAP_SYS_NICE: u32 = 23;
const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this (test) process holds the capability.
fn has_cap(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .unwrap();
    u64::from_str_radix(eff.trim(), 16).unwrap() & (1 << cap) != 0
}

/// Whether this process's hard limit, inherited by runas, may be set to
/// `value`: at or below it, or above it with CAP_SYS_RESOURCE.
fn hard_allows(resource: Resource, value: u64) -> bool {
    let (_, hard) = nix::sys::resource::getrlimit(resource).unwrap();
    hard == nix::sys::resource::RLIM_INFINITY || value <= hard || has_cap(CAP_SYS_RESOURCE)
}

/// START_LIMITS fit under this process's own hard limits; otherwise the
/// test says so and does not run.
fn start_limits_fit(test: &str) -> bool {
    let fit = hard_allows(Resource::RLIMIT_NOFILE, 1000);
    if !fit {
        skip(test, "the RLIMIT_NOFILE hard limit here is below 1000");
    }
    fit
}

/// What the target printed, without the harness's own line.
fn printed(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|line| !line.starts_with("launcher-pid "))
        .collect()
}

impl Case {
    /// `prefix... runas ARGS -- sh -c ': > marker; SCRIPT'`.
    fn run(&self, prefix: &[OsString], args: &[&str], script: &str) -> Run {
        let script = format!(": > '{}'; {script}", self.marker.display());
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--", "/bin/sh", "-c", &script]);
        self.w.runas_under(prefix, &all)
    }

    /// `run` from the START_LIMITS, as root.
    fn as_root(&self, args: &[&str], script: &str) -> Run {
        let prefix: Vec<OsString> = START_LIMITS.iter().map(OsString::from).collect();
        self.run(&prefix, args, script)
    }

    /// `run` from the START_LIMITS (set while still root), then as uid and
    /// gid 1500 with no groups and no capability at all.
    fn as_alice(&self, args: &[&str], script: &str) -> Run {
        let mut prefix: Vec<OsString> = START_LIMITS.iter().map(OsString::from).collect();
        prefix.extend(caller_prefix(1500, 1500, &[]));
        let mut all = vec!["-u", "alice", "--keep-groups"];
        all.extend_from_slice(args);
        self.run(&prefix, &all, script)
    }

    /// The target ran and printed exactly `expected`.
    fn assert_printed(&self, run: &Run, expected: &[&str]) {
        assert_eq!(run.code(), Some(0), "{}", run.describe());
        assert_eq!(printed(run), expected, "{}", run.describe());
        assert!(self.marker.exists(), "the target did not run");
        std::fs::remove_file(&self.marker).unwrap();
    }

    /// Refused before anything ran: 125, one message with every needle.
    fn assert_refused(&self, run: &Run, needles: &[&str]) {
        for needle in needles {
            run.assert_refused(needle);
        }
        assert!(!self.marker.exists(), "the target ran\n{}", run.describe());
    }
}

/// The target's soft and hard RLIMIT_NOFILE, one per line, as its shell
/// says them (`ulimit -n` means the same to every shell).
fn ulimit_n() -> String {
    "ulimit -Sn; ulimit -Hn".into()
}

/// The target's soft and hard limit for a /proc/PID/limits row ("Max
/// processes"), one per line, read with shell builtins (no fork).
fn proc_limit(row: &str) -> String {
    format!(
        r#"while read -r l; do case "$l" in "{row} "*) set -- ${{l#"{row}"}}; echo "$1"; echo "$2";; esac; done < /proc/$$/limits"#
    )
}

const CORE: &str = "Max core file size";
const NPROC: &str = "Max processes";

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn limits_land_in_the_target_and_hold() {
    // Set before the switch, kept through it; the target cannot raise them back.
    let Some(c) = case("rlimits_in_the_target") else {
        return;
    };
    if !(hard_allows(Resource::RLIMIT_CORE, 2048) && hard_allows(Resource::RLIMIT_NPROC, 600)) {
        skip(
            "rlimits_in_the_target",
            "RLIMIT_CORE or RLIMIT_NPROC's hard limit is too low here",
        );
        return;
    }
    let script = format!(
        "{}; {}; {}; if ulimit -Hn 1000 2>/dev/null; then echo raised; else echo held; fi; id -u",
        ulimit_n(),
        proc_limit(CORE),
        proc_limit(NPROC)
    );
    let run = c.as_root(
        &[
            "-u",
            "alice",
            "--rlimit",
            "nofile=200:300",
            "--rlimit",
            "core=0",
            "--rlimit",
            "nproc=500:600",
        ],
        &script,
    );
    c.assert_printed(
        &run,
        &["200", "300", "0", "0", "500", "600", "held", "1500"],
    );
    // RLIMIT_ prefixes and upper case name the same limits.
    let run = c.as_root(
        &[
            "-u",
            "alice",
            "--rlimit",
            "RLIMIT_NOFILE=150",
            "--rlimit",
            "CORE=1024:2048",
        ],
        &format!("{}; {}", ulimit_n(), proc_limit(CORE)),
    );
    c.assert_printed(&run, &["150", "150", "1024", "2048"]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unlimited_soft_only_and_hard_only_forms() {
    // From nofile 100:1000: each form changes the half it names, no other.
    let Some(c) = case("rlimit_forms") else {
        return;
    };
    let table: &[(&str, [&str; 2])] = &[
        ("nofile=50:", ["50", "1000"]),
        ("nofile=1000:", ["1000", "1000"]),
        ("nofile=:500", ["100", "500"]),
        ("nofile=:100", ["100", "100"]),
        ("nofile=20:20", ["20", "20"]),
    ];
    for (limit, expected) in table {
        let run = c.as_root(&["-u", "alice", "--rlimit", limit], &ulimit_n());
        c.assert_printed(&run, expected);
    }
    // A half that would cross the one kept: refused, saying to give both.
    let run = c.as_root(&["-u", "alice", "--rlimit", "nofile=2000:"], &ulimit_n());
    c.assert_refused(
        &run,
        &[
            "the soft limit 2000 would be above the hard limit 1000",
            "nofile=SOFT:HARD",
        ],
    );
    let run = c.as_root(&["-u", "alice", "--rlimit", "nofile=:50"], &ulimit_n());
    c.assert_refused(
        &run,
        &["the soft limit 100 would be above the hard limit 50"],
    );
    // unlimited (and systemd's infinity), where the hard limit allows it.
    if !hard_allows(Resource::RLIMIT_CORE, nix::sys::resource::RLIM_INFINITY) {
        skip(
            "rlimit_forms",
            "RLIMIT_CORE's hard limit is not unlimited here, and raising it needs CAP_SYS_RESOURCE",
        );
        return;
    }
    let table: &[(&str, [&str; 2])] = &[
        ("core=unlimited", ["unlimited", "unlimited"]),
        ("core=infinity", ["unlimited", "unlimited"]),
        ("core=1024:unlimited", ["1024", "unlimited"]),
        ("core=unlimited:", ["unlimited", "unlimited"]),
        ("core=:unlimited", ["0", "unlimited"]),
    ];
    for (limit, expected) in table {
        let run = c.as_root(&["-u", "alice", "--rlimit", limit], &proc_limit(CORE));
        c.assert_printed(&run, expected);
    }
}

/// The target's nice value, from /proc/self/stat (field 19), by builtins.
const READ_NICE: &str = r#"read -r stat < /proc/$$/stat; set -- ${stat##*) }; shift 16; echo "$1""#;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn nice_positive_and_negative() {
    // --nice is the value itself, not an increment; root may go below 0.
    let Some(c) = case("nice") else {
        return;
    };
    for nice in ["10", "19", "0"] {
        let run = c.as_root(&["-u", "alice", "--nice", nice], READ_NICE);
        c.assert_printed(&run, &[nice]);
    }
    // Absolute, whatever the caller's own value.
    let run = c.run(
        &["/usr/bin/nice".into(), "-n".into(), "5".into()],
        &["-u", "alice", "--nice", "7"],
        READ_NICE,
    );
    c.assert_printed(&run, &["7"]);
    if !has_cap(CAP_SYS_NICE) {
        skip(
            "nice",
            "root here lacks CAP_SYS_NICE: negative values not checked",
        );
        return;
    }
    for nice in ["-5", "-20"] {
        let run = c.as_root(&["-u", "alice", "--nice", nice], READ_NICE);
        c.assert_printed(&run, &[nice]);
    }
    let run = c.run(
        &["/usr/bin/nice".into(), "-n".into(), "5".into()],
        &["-u", "alice", "--nice", "3"],
        READ_NICE,
    );
    c.assert_printed(&run, &["3"]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn oom_score_adj_lands_in_the_target() {
    // Both directions; the target reads its own /proc file. Below the
    // current value needs CAP_SYS_RESOURCE, which root in a container may
    // lack: then the run is refused by that name and the target never runs.
    let Some(c) = case("oom_score_adj") else {
        return;
    };
    let own: i32 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let read = "read -r v < /proc/$$/oom_score_adj; echo \"$v\"";
    for score in ["500", "1000", "-500", "-1000"] {
        let run = c.as_root(&["-u", "alice", "--oom-score-adj", score], read);
        if score.parse::<i32>().unwrap() >= own || has_cap(CAP_SYS_RESOURCE) {
            c.assert_printed(&run, &[score]);
        } else {
            c.assert_refused(&run, &["--oom-score-adj", "CAP_SYS_RESOURCE"]);
            skip(
                "oom_score_adj",
                &format!("root here lacks CAP_SYS_RESOURCE: {score} checked as a refusal only"),
            );
        }
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn ioprio_classes_land_in_the_target() {
    // idle, best-effort:7 and realtime:0, as util-linux's ionice reads them.
    let Some(c) = case("ioprio") else {
        return;
    };
    if !Path::new("/usr/bin/ionice").exists() {
        skip("ioprio", "no /usr/bin/ionice (Debian package util-linux)");
        return;
    }
    let table = [
        ("idle", "idle"),
        ("best-effort:7", "best-effort: prio 7"),
        ("be:2", "best-effort: prio 2"),
        ("best-effort", "best-effort: prio 4"),
        ("realtime:0", "realtime: prio 0"),
        ("rt", "realtime: prio 4"),
    ];
    for (ioprio, shown) in table {
        let run = c.as_root(&["-u", "alice", "--ioprio", ioprio], "ionice -p $$");
        c.assert_printed(&run, &[shown]);
    }
}

/// The CPUs this process may use, from /proc/self/status.
fn own_cpus() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn cpu_affinity_lands_in_the_target() {
    // The target may run on CPU 0 only.
    let Some(c) = case("cpu_affinity") else {
        return;
    };
    let cpus = own_cpus();
    if !(cpus == "0" || cpus.starts_with("0-") || cpus.starts_with("0,")) {
        skip(
            "cpu_affinity",
            &format!("CPU 0 is not available here ({cpus})"),
        );
        return;
    }
    let read = r#"while read -r k v; do case "$k" in Cpus_allowed_list:) echo "$v";; esac; done < /proc/$$/status"#;
    let run = c.as_root(&["-u", "alice", "--cpu-affinity", "0"], read);
    c.assert_printed(&run, &["0"]);
    // And back to every CPU this test may use, as a list.
    let run = c.as_root(&["-u", "alice", "--cpu-affinity", &cpus], read);
    c.assert_printed(&run, &[cpus.as_str()]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_caller_without_cap_sys_resource_cannot_raise_a_hard_limit() {
    // A non-root caller (no capability) asks for more than its hard limit 1000.
    let Some(c) = case("rlimit_unprivileged") else {
        return;
    };
    for limit in [
        "nofile=:2000",
        "nofile=100:1001",
        "nofile=unlimited",
        "nofile=:unlimited",
    ] {
        let run = c.as_alice(&["--rlimit", limit], "echo ran");
        c.assert_refused(
            &run,
            &[
                "--rlimit nofile: the hard limit",
                "is above the current hard limit 1000",
                "CAP_SYS_RESOURCE",
            ],
        );
    }
    // The control: lowering needs no privilege.
    let run = c.as_alice(
        &["--rlimit", "nofile=50:500", "--rlimit", "core=0:0"],
        &format!("{}; {}", ulimit_n(), proc_limit(CORE)),
    );
    c.assert_printed(&run, &["50", "500", "0", "0"]);
}

/// The START_LIMITS, then root without CAP_SYS_RESOURCE (a container
/// started with --cap-drop SYS_RESOURCE).
fn root_without_cap_sys_resource() -> Vec<OsString> {
    let mut prefix: Vec<OsString> = START_LIMITS.iter().map(OsString::from).collect();
    prefix.extend(
        [
            "/usr/sbin/capsh",
            "--drop=cap_sys_resource",
            "--",
            "-c",
            "exec \"$0\" \"$@\"",
        ]
        .map(OsString::from),
    );
    prefix
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_without_cap_sys_resource_is_refused_by_name() {
    // Root in a container started with --cap-drop SYS_RESOURCE: uid 0 is not enough.
    let Some(c) = case("rlimit_root_without_cap") else {
        return;
    };
    let prefix = root_without_cap_sys_resource();
    let run = c.run(
        &prefix,
        &["-u", "alice", "--rlimit", "nofile=:2000"],
        "echo ran",
    );
    c.assert_refused(
        &run,
        &[
            "is above the current hard limit 1000",
            "CAP_SYS_RESOURCE, and this root does not have it",
            "--cap-add=SYS_RESOURCE",
        ],
    );
    // A lower OOM score: the next test (the run is refused by the kernel).
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn without_cap_sys_resource_the_dry_run_warns_of_what_the_run_refuses() {
    // A hard limit above is certain to fail, so the dry run fails too; a
    // lower OOM score depends on what a privileged process allowed before
    // (oom_score_adj_min), so the dry run warns, and here the run refuses.
    let Some(c) = case("resources_dry_run_privilege") else {
        return;
    };
    let prefix = root_without_cap_sys_resource();
    let dry = |args: &[&str]| {
        let mut all = vec!["--dry-run", "-u", "alice"];
        all.extend_from_slice(args);
        c.run(&prefix, &all, "echo ran")
    };
    c.assert_refused(&dry(&["--rlimit", "nofile=:2000"]), &["CAP_SYS_RESOURCE"]);
    let run = dry(&["--oom-score-adj", "-500"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        run.stdout
            .contains("--oom-score-adj -500 is below the current")
            && run.stdout.contains("CAP_SYS_RESOURCE"),
        "{}",
        run.describe()
    );
    let run = c.run(
        &prefix,
        &["-u", "alice", "--oom-score-adj", "-500"],
        "echo ran",
    );
    c.assert_refused(&run, &["--oom-score-adj -500", "CAP_SYS_RESOURCE"]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_caller_without_cap_sys_nice_cannot_raise_its_priority() {
    // A non-root caller asks for a negative nice value or the real-time I/O class.
    let Some(c) = case("nice_unprivileged") else {
        return;
    };
    let run = c.as_alice(&["--nice", "-5"], READ_NICE);
    c.assert_refused(
        &run,
        &[
            "CAP_SYS_NICE",
            "--nice -5 is below the current nice value 0",
        ],
    );
    let run = c.as_alice(&["--ioprio", "realtime:0"], "echo ran");
    c.assert_refused(
        &run,
        &["CAP_SYS_NICE", "--ioprio realtime:0 is the real-time class"],
    );
    // The controls: a lower priority needs no privilege.
    let run = c.as_alice(&["--nice", "5"], READ_NICE);
    c.assert_printed(&run, &["5"]);
    let run = c.as_alice(&["--ioprio", "idle"], "echo ran");
    c.assert_printed(&run, &["ran"]);
    // RLIMIT_NICE: a caller whose hard limit is 25 may raise its soft
    // limit to 25 and then go down to 20 - 25 = -5, and no further.
    if !hard_allows(Resource::RLIMIT_NICE, 25) {
        skip(
            "nice_unprivileged",
            "RLIMIT_NICE's hard limit here is below 25 and root lacks CAP_SYS_RESOURCE to raise it: the RLIMIT_NICE path is not checked",
        );
        return;
    }
    let mut prefix: Vec<OsString> = ["/usr/bin/prlimit", "--nice=0:25", "--"]
        .map(OsString::from)
        .to_vec();
    prefix.extend(caller_prefix(1500, 1500, &[]));
    let run = c.run(
        &prefix,
        &[
            "-u",
            "alice",
            "--keep-groups",
            "--rlimit",
            "nice=25",
            "--nice",
            "-5",
        ],
        READ_NICE,
    );
    c.assert_printed(&run, &["-5"]);
    let run = c.run(
        &prefix,
        &[
            "-u",
            "alice",
            "--keep-groups",
            "--rlimit",
            "nice=25",
            "--nice",
            "-6",
        ],
        READ_NICE,
    );
    c.assert_refused(&run, &["CAP_SYS_NICE", "--nice -6"]);
}

/// One of each limit and priority option, for the dry-run tests.
const EVERY_SETTING: &[&str] = &[
    "--rlimit",
    "nofile=100:200",
    "--nice",
    "-5",
    "--oom-score-adj",
    "-500",
    "--ioprio",
    "best-effort:7",
    "--cpu-affinity",
    "0",
];

/// `runas --dry-run [--json] -u alice EVERY_SETTING EXTRA -- /bin/true`.
fn dry_run_with_every_setting(w: &World, json: bool, extra: &[&str]) -> Run {
    let mut args = vec!["--dry-run", "-u", "alice"];
    if json {
        args.push("--json");
    }
    args.extend_from_slice(EVERY_SETTING);
    args.extend_from_slice(extra);
    args.extend(["--", "/bin/true"]);
    w.runas(&args)
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dry_run_lists_the_settings_before_the_switch() {
    // The steps are the system calls, in order, all before setgroups.
    let Some(w) = world("resources_dry_run") else {
        return;
    };
    let run = dry_run_with_every_setting(&w, false, &[]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let steps: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| *l != "steps, in order:")
        .skip(1)
        .map(str::trim)
        .collect();
    let at = |prefix: &str| {
        steps
            .iter()
            .position(|s| s.starts_with(prefix))
            .unwrap_or_else(|| panic!("no step {prefix:?}\n{}", run.describe()))
    };
    let check = steps
        .iter()
        .position(|s| s.contains("prlimit64(0, RLIMIT_NOFILE, NULL)"))
        .unwrap_or_else(|| panic!("no read-back\n{}", run.describe()));
    // The OOM score first: whether a lower one is allowed is the kernel's
    // to say, and a refusal then stops the run before anything changed.
    let order = [
        at("openat(\"/proc/self/oom_score_adj\""),
        at("prlimit64(0, RLIMIT_NOFILE, rlim_cur=100, rlim_max=200)"),
        at("setpriority(PRIO_PROCESS, 0, -5)"),
        at("ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7))"),
        at("sched_setaffinity(0, [0])"),
        at("setgroups("),
        at("setresgid("),
        at("setresuid("),
        at("getresuid()"),
        check,
        at("execve("),
    ];
    assert!(order.windows(2).all(|p| p[0] < p[1]), "{steps:#?}");
    assert!(
        steps[check].contains("the limits and priorities set before the switch still hold"),
        "{steps:#?}"
    );
}

/// `expr` (Python, over the parsed document `d`) of a JSON text, as JSON.
fn json_at(json: &str, expr: &str) -> String {
    python_on_json(
        "import json, sys\nd = json.load(sys.stdin)\nprint(json.dumps(eval(sys.argv[1]), separators=(',', ':')))",
        json,
        &[expr],
    )
    .trim()
    .to_owned()
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dry_run_json_options_carry_every_setting() {
    // The "options" object of --dry-run --json has each new option's value.
    let Some(w) = world("resources_dry_run_json") else {
        return;
    };
    let run = dry_run_with_every_setting(&w, true, &["--rlimit", "core=unlimited"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let json = printed(&run).join("\n");
    let options = |key: &str| json_at(&json, &format!("d['options']['{key}']"));
    assert_eq!(
        options("rlimits"),
        r#"{"nofile":{"soft":100,"hard":200},"core":{"soft":"unlimited","hard":"unlimited"}}"#
    );
    assert_eq!(options("nice"), "-5");
    assert_eq!(options("oom_score_adj"), "-500");
    assert_eq!(options("ioprio"), r#""best-effort:7""#);
    assert_eq!(options("cpu_affinity"), r#""0""#);
    // Without them: empty and null.
    let run = w.runas(&["--dry-run", "--json", "-u", "alice", "--", "/bin/true"]);
    let json = printed(&run).join("\n");
    assert_eq!(
        json_at(
            &json,
            "[d['options'][k] for k in ('rlimits', 'nice', 'oom_score_adj', 'ioprio', 'cpu_affinity')]"
        ),
        "[{},null,null,null,null]"
    );
}

#[test]
fn crossed_or_repeated_limits_are_usage_errors() {
    // Caught while parsing, before any lookup or change: no root needed.
    for (args, needle) in [
        (
            &["--rlimit", "nofile=10:5"][..],
            "\"nofile=10:5\": the soft limit is above the hard limit",
        ),
        (
            &["--rlimit", "nofile=1", "--rlimit", "nofile=2"],
            "--rlimit nofile is given twice",
        ),
        (
            &["--rlimit", "nofile=1", "--rlimit", "RLIMIT_NOFILE=1"],
            "--rlimit nofile is given twice",
        ),
    ] {
        let mut all = vec!["-u", "nobody"];
        all.extend_from_slice(args);
        all.extend(["--", "/bin/echo", "target-pid"]);
        let run = Run::from(
            Command::new(runas_under_test())
                .args(&all)
                .output()
                .unwrap(),
        );
        run.assert_refused(needle);
        assert!(run.stdout.is_empty(), "{}", run.describe());
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn rlimit_nproc_below_the_targets_process_count_fails_the_exec() {
    // The kernel defers RLIMIT_NPROC to execve after setresuid: 126, named.
    let Some(c) = case("rlimit_nproc_exec") else {
        return;
    };
    // alice already runs two processes. (A switch is over the limit when
    // the user's count, not counting runas itself, is above it: with one
    // other process and nproc=1 the kernel lets the exec through.)
    let script = format!(
        r#"R={runas}
$R -u alice -- /bin/sleep 30 & one=$!
$R -u alice -- /bin/sleep 30 & two=$!
for i in $(seq 100); do
  [ "$(stat -c %u /proc/$one)" = 1500 ] && [ "$(stat -c %u /proc/$two)" = 1500 ] && break
  sleep 0.05
done
$R --rlimit nproc=1 -u alice -- /bin/sh -c ": > {marker}; echo target-pid \$\$"
echo "rc=$?"
$R --rlimit nproc=1000 -u alice -- /bin/sh -c 'echo control-ran'
kill $one $two
wait"#,
        runas = c.w.runas.display(),
        marker = c.marker.display()
    );
    let run = c.w.program(Path::new("/bin/sh"), &["-c", &script]);
    assert!(run.stdout.contains("rc=126"), "{}", run.describe());
    assert!(
        run.stderr.contains(
            "runas: \"/bin/sh\": cannot execute: the target user has reached its process limit (RLIMIT_NPROC)"
        ),
        "{}",
        run.describe()
    );
    assert!(!c.marker.exists(), "the target ran\n{}", run.describe());
    assert!(!run.stdout.contains("target-pid"), "{}", run.describe());
    assert!(run.stdout.contains("control-ran"), "{}", run.describe());
}

/// A copy of runas with cap_setgid=ep: newgrp mode for a non-root caller.
fn newgrp_copy(w: &World) -> PathBuf {
    let copy = w.path().join("runas-setgid");
    std::fs::copy(&w.runas, &copy).unwrap();
    let status = Command::new("setcap")
        .arg("cap_setgid=ep")
        .arg(&copy)
        .status()
        .expect("setcap (libcap2-bin)");
    assert!(
        status.success(),
        "setcap failed: does this filesystem keep xattrs?"
    );
    copy
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn newgrp_mode_refuses_what_needs_privilege() {
    // The file capability must not lend itself to limits or priorities.
    let Some(c) = case("resources_newgrp") else {
        return;
    };
    let runas = newgrp_copy(&c.w);
    let newgrp = |args: &[&str], script: &str| {
        let script = format!(": > '{}'; {script}", c.marker.display());
        let mut argv: Vec<OsString> = START_LIMITS.iter().map(OsString::from).collect();
        argv.extend(caller_prefix(1500, 1500, &[1700, 1701]));
        argv.push(runas.clone().into());
        argv.extend(["-g", "jupiter"].map(OsString::from));
        argv.extend(args.iter().map(OsString::from));
        argv.extend(["--", "/bin/sh", "-c"].map(OsString::from));
        argv.push(script.into());
        Run::from(c.w.command(&argv).output().unwrap())
    };
    for args in [
        &["--rlimit", "nofile=:2000"][..],
        &["--nice", "-5"],
        &["--ioprio", "realtime:0"],
        &["--oom-score-adj", "-100"],
    ] {
        let run = newgrp(args, "echo ran");
        c.assert_refused(&run, &["newgrp mode", args[0]]);
    }
    // The controls: what any process may do to itself is allowed.
    let run = newgrp(
        &[
            "--rlimit",
            "nofile=50:500",
            "--nice",
            "5",
            "--ioprio",
            "idle",
        ],
        &format!("{}; {READ_NICE}", ulimit_n()),
    );
    c.assert_printed(&run, &["50", "500", "5"]);
    // A higher OOM score needs no privilege either, but a process with a
    // file capability is not dumpable, so its /proc/self files are root's
    // and it cannot write its own oom_score_adj: whatever the message, the
    // target must not run.
    let run = newgrp(&["--oom-score-adj", "100"], "echo ran");
    assert_eq!(run.code(), Some(125), "{}", run.describe());
    assert!(run.stderr.contains("oom_score_adj"), "{}", run.describe());
    assert!(!c.marker.exists(), "the target ran\n{}", run.describe());
}
