//! The dry run predicts the real run. For each failure a dry run can know
//! beforehand, `--dry-run` fails (125) with exactly the message the real
//! run then gives; for what it can only suspect, or what will work but
//! maybe not as meant, it lists a warning and exits 0. Each case runs both,
//! in the fixture world, as root dropping to alice (uid 1500) unless said.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A root-owned directory of the world with this mode.
fn root_dir(w: &World, name: &str, mode: u32) -> PathBuf {
    let dir = w.owned_dir(name, 0, 0);
    fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// A shell script that says it ran.
fn script(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, "#!/bin/sh\necho the-command-ran\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn with_dry_run(args: &[&str]) -> Vec<String> {
    let mut all = vec!["--dry-run".to_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

/// The dry run fails with 125 and one message; the real run fails with the
/// very same message, and the command never runs.
fn assert_certain(w: &World, prefix: &[&str], args: &[&str], needle: &str) {
    let dry = w.runas_under(prefix, &with_dry_run(args));
    dry.assert_refused(needle);
    let real = w.runas_under(prefix, args);
    assert!(
        !real.output.status.success() && !real.stdout.contains("the-command-ran"),
        "the real run should fail\n{}",
        real.describe()
    );
    assert_eq!(
        dry.stderr,
        real.stderr,
        "the dry run's message is not the real run's\ndry:\n{}\nreal:\n{}",
        dry.describe(),
        real.describe()
    );
}

/// The dry run says nothing against the plan, and the real run indeed
/// runs the command.
fn assert_predicts_success(w: &World, args: &[&str]) {
    let dry = w.runas(&with_dry_run(args));
    assert_eq!(dry.code(), Some(0), "{}", dry.describe());
    let real = w.runas(args);
    assert!(
        real.stdout.contains("the-command-ran"),
        "{}",
        real.describe()
    );
}

/// The dry run succeeds and its JSON warnings contain `needle`.
fn assert_warned(w: &World, prefix: &[&str], args: &[&str], needle: &str) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let dry = w.runas_under(prefix, &with_dry_run(&all));
    assert_eq!(dry.code(), Some(0), "{}", dry.describe());
    // The world's launcher reports its pid first; the JSON is the last line.
    let line = dry.stdout.lines().last().unwrap_or_default();
    let printed = python_on_json(
        "import json,sys\nfor w in json.load(sys.stdin)['warnings']: print(json.dumps(w))",
        line,
        &[],
    );
    let warnings: Vec<String> = printed
        .lines()
        .map(|l| l.trim_matches('"').to_owned())
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains(needle)),
        "no warning with {needle:?} in {warnings:?}"
    );
    warnings.join("\n")
}

const NONE: &[&str] = &[];

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_command_that_is_nowhere_fails_the_dry_run_as_it_fails_the_run() {
    let Some(w) = world("a_command_that_is_nowhere_fails_the_dry_run_as_it_fails_the_run") else {
        return;
    };
    assert_certain(
        &w,
        NONE,
        &[
            "-u",
            "alice",
            "-e",
            "PATH=/usr/bin:/bin",
            "--",
            "no-such-command-here",
        ],
        "command not found",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_command_in_a_directory_the_target_cannot_search_is_predicted() {
    let Some(w) = world("a_command_in_a_directory_the_target_cannot_search_is_predicted") else {
        return;
    };
    let private = root_dir(&w, "private", 0o700);
    let tool = script(&private, "tool", 0o755);
    // By path, and through the target's PATH.
    assert_certain(&w, NONE, &["-u", "alice", "--", s(&tool)], "may not search");
    let path = format!("PATH={}:/usr/bin:/bin", s(&private));
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "-e", &path, "--", "tool"],
        "may not search",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_command_the_target_may_not_execute_is_predicted() {
    let Some(w) = world("a_command_the_target_may_not_execute_is_predicted") else {
        return;
    };
    let bin = root_dir(&w, "bin", 0o755);
    // Root may run it (0744); alice may only read it.
    let tool = script(&bin, "tool", 0o744);
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "--", s(&tool)],
        "permission denied",
    );
    // A directory is not a command, and is named for what it is.
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "--", s(&bin)],
        "cannot execute: it is a directory",
    );
    // The same file is fine for its group's members: no prediction.
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o754)).unwrap();
    std::os::unix::fs::chown(&tool, Some(0), Some(1700)).unwrap();
    assert_predicts_success(&w, &["-u", "alice", "--", s(&tool)]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_chdir_the_target_cannot_enter_is_predicted() {
    let Some(w) = world("a_chdir_the_target_cannot_enter_is_predicted") else {
        return;
    };
    let private = root_dir(&w, "private", 0o700);
    let inner = root_dir(&w, "private/inner", 0o755);
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "--chdir", s(&inner), "--", "true"],
        "Permission denied",
    );
    let file = w.file("plain", "", 0o644);
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "--chdir", s(&file), "--", "true"],
        "Not a directory",
    );
    assert_certain(
        &w,
        NONE,
        &[
            "-u",
            "alice",
            "--chdir",
            &format!("{}/none", s(&private)),
            "--",
            "true",
        ],
        "chdir(",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_acl_makes_a_failure_a_warning_not_a_verdict() {
    let test = "an_acl_makes_a_failure_a_warning_not_a_verdict";
    let Some(w) = world(test) else {
        return;
    };
    if !Path::new("/usr/bin/setfacl").exists() {
        skip(test, "needs /usr/bin/setfacl (Debian package acl)");
        return;
    }
    let private = root_dir(&w, "private", 0o700);
    let tool = script(&private, "tool", 0o755);
    let acl = std::process::Command::new("/usr/bin/setfacl")
        .args(["-m", "u:1500:x", s(&private)])
        .status()
        .unwrap();
    if !acl.success() {
        skip(test, "the file system of the test directory takes no ACLs");
        return;
    }
    assert_warned(&w, NONE, &["-u", "alice", "--", s(&tool)], "an ACL");
    // And indeed the ACL lets alice in.
    let real = w.runas(&["-u", "alice", "--", s(&tool)]);
    assert!(
        real.stdout.contains("the-command-ran"),
        "{}",
        real.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn files_root_opens_for_the_target_are_judged_before_the_run() {
    let Some(w) = world("files_root_opens_for_the_target_are_judged_before_the_run") else {
        return;
    };
    let alices = w.owned_dir("run-app", 1500, 1500);
    let pidfile = format!("{}/app.pid", s(&alices));
    assert_certain(
        &w,
        NONE,
        &[
            "-u",
            "alice",
            "--daemon",
            "--pidfile",
            &pidfile,
            "--",
            "true",
        ],
        "--pidfile",
    );
    let log = format!("{}/root.log", s(&alices));
    assert_certain(
        &w,
        NONE,
        &["-u", "root", "--daemon", "--log", &log, "--", "true"],
        "--log",
    );
    let env = alices.join("app.env");
    fs::write(&env, "A=1\n").unwrap();
    assert_certain(
        &w,
        NONE,
        &["-u", "alice", "--env-file", s(&env), "--", "true"],
        "--env-file",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_hard_limit_above_the_callers_is_refused_alike() {
    let Some(w) = world("a_hard_limit_above_the_callers_is_refused_alike") else {
        return;
    };
    // A caller without CAP_SYS_RESOURCE (alice herself, no switch asked).
    let raise = format!("nofile=:{}", hard_nofile() + 1);
    let prefix = caller_prefix(1500, 1500, &[]);
    let prefix: Vec<&str> = prefix.iter().map(|a| a.to_str().unwrap()).collect();
    assert_certain(
        &w,
        &prefix,
        &["--rlimit", &raise, "--", "true"],
        "CAP_SYS_RESOURCE",
    );
}

fn hard_nofile() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .unwrap()
        .1
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn what_works_but_maybe_not_as_meant_is_a_warning() {
    let Some(w) = world("what_works_but_maybe_not_as_meant_is_a_warning") else {
        return;
    };
    // alice's home is not there in the fixture world.
    assert_warned(&w, NONE, &["-u", "alice", "--", "true"], "does not exist");
    // A HOME owned by someone else.
    let roots = root_dir(&w, "roots-home", 0o755);
    let home = format!("HOME={}", s(&roots));
    assert_warned(
        &w,
        NONE,
        &["-u", "alice", "-e", &home, "--", "true"],
        "owned by uid 0",
    );
    // A process-group (and session) leader: --setsid forks, --new-pgroup
    // has nothing to do.
    assert_warned(
        &w,
        &["setsid"],
        &["-u", "alice", "--setsid", "--", "true"],
        "forks",
    );
    assert_warned(
        &w,
        &["setsid"],
        &["-u", "alice", "--new-pgroup", "--", "true"],
        "nothing to change",
    );
    // RLIMIT_NPROC 0 while alice already runs a process: the kernel
    // refuses the command's execve.
    let mut busy = std::process::Command::new("/usr/bin/setpriv")
        .args([
            "--reuid=1500",
            "--regid=1500",
            "--clear-groups",
            "sleep",
            "30",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_warned(
        &w,
        NONE,
        &["-u", "alice", "--rlimit", "nproc=0", "--", "true"],
        "EAGAIN",
    );
    let real = w.runas(&["-u", "alice", "--rlimit", "nproc=0", "--", "true"]);
    let _ = busy.kill();
    let _ = busy.wait();
    assert_eq!(real.code(), Some(126), "{}", real.describe());
    assert!(real.stderr.contains("RLIMIT_NPROC"), "{}", real.describe());
    // A plan without surprises has no warnings.
    let home = root_dir(&w, "home-alice", 0o755);
    std::os::unix::fs::chown(&home, Some(1500), Some(1500)).unwrap();
    let dry = w.runas(&[
        "--dry-run",
        "--json",
        "-u",
        "alice",
        "-e",
        &format!("HOME={}", s(&home)),
        "--",
        "true",
    ]);
    assert!(dry.stdout.contains("\"warnings\":[]"), "{}", dry.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn paths_that_mean_another_process_are_never_a_verdict() {
    let Some(w) = world("paths_that_mean_another_process_are_never_a_verdict") else {
        return;
    };
    // /proc/self/cwd is the dry run's directory there, the command's after
    // --chdir in the real run.
    let app = root_dir(&w, "app", 0o755);
    script(&app, "run", 0o755);
    let args = [
        "-u",
        "alice",
        "--chdir",
        s(&app),
        "--",
        "/proc/self/cwd/run",
    ];
    assert_predicts_success(&w, &args);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_kept_capability_is_judged_for_what_it_overrides() {
    let Some(w) = world("a_kept_capability_is_judged_for_what_it_overrides") else {
        return;
    };
    // CAP_DAC_READ_SEARCH lets alice through a 0700 directory, but does not
    // let her execute a file without execute permission for her.
    let private = root_dir(&w, "private", 0o700);
    let tool = script(&private, "tool", 0o755);
    let keep = [
        "-u",
        "alice",
        "--keep-caps",
        "dac_read_search",
        "--allow-root-caps",
        "dac_read_search",
    ];
    let mut args = keep.to_vec();
    args.extend(["--", s(&tool)]);
    assert_predicts_success(&w, &args);
    let locked = script(&private, "locked", 0o700);
    let mut args = keep.to_vec();
    args.extend(["--", s(&locked)]);
    assert_certain(&w, NONE, &args, "permission denied");
}
