//! Hardening and process options, each checked from inside the target.

mod common;

use common::*;

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// Run runas with `args`, then `--` and a shell script as the target.
fn sh(w: &World, args: &[&str], script: &str) -> Run {
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend(["--", "/bin/sh", "-c", script]);
    w.runas(&argv)
}

fn status_line<'a>(run: &'a Run, key: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} line\n{}", run.describe()))
}

fn mask(run: &Run, key: &str) -> u64 {
    u64::from_str_radix(status_line(run, key).split_whitespace().nth(1).unwrap(), 16).unwrap()
}

const STATUS: &str = "grep -E '^(Cap|NoNewPrivs|Umask)' /proc/$$/status";
const NET_BIND_SERVICE: u64 = 1 << 10;
const SYS_NICE: u64 = 1 << 23;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn keep_caps_gives_a_nobody_target_exactly_those_capabilities() {
    let Some(w) = world("keep_caps") else { return };
    let run = sh(
        &w,
        &[
            "-u",
            "nobody",
            "--keep-caps",
            "NET_BIND_SERVICE,cap_sys_nice",
        ],
        STATUS,
    );
    assert!(run.output.status.success(), "{}", run.describe());
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            mask(&run, set),
            NET_BIND_SERVICE | SYS_NICE,
            "{set}\n{}",
            run.describe()
        );
    }
    // And it can use them: bind a privileged port.
    let bind = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0 if False else 81)); print('bound')";
    let run = w.runas(&[
        "-u",
        "nobody",
        "--keep-caps",
        "net_bind_service",
        "--",
        "/usr/bin/python3",
        "-c",
        bind,
    ]);
    assert!(run.stdout.contains("bound"), "{}", run.describe());
    let run = w.runas(&["-u", "nobody", "--", "/usr/bin/python3", "-c", bind]);
    assert!(
        !run.stdout.contains("bound"),
        "bound without the capability\n{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn keep_caps_refuses_bad_names_root_targets_and_conflicts() {
    let Some(w) = world("keep_caps_invalid") else {
        return;
    };
    sh(
        &w,
        &["-u", "nobody", "--keep-caps", "net_bind_servic"],
        "true",
    )
    .assert_refused("\"net_bind_servic\"");
    sh(&w, &["-u", "root", "--keep-caps", "net_raw"], "true").assert_refused("other than root");
    sh(
        &w,
        &[
            "-u",
            "nobody",
            "--keep-caps",
            "net_raw",
            "--bounding-set",
            "-net_raw",
        ],
        "true",
    )
    .assert_refused("both kept");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn bounding_set_drop_is_visible_in_capbnd() {
    let Some(w) = world("bounding_set") else {
        return;
    };
    let run = sh(
        &w,
        &["-u", "nobody", "--bounding-set", "-all,+net_bind_service"],
        STATUS,
    );
    assert_eq!(mask(&run, "CapBnd"), NET_BIND_SERVICE, "{}", run.describe());
    let run = sh(
        &w,
        &["-u", "root", "--bounding-set", "-net_raw,-sys_admin"],
        STATUS,
    );
    let bnd = mask(&run, "CapBnd");
    assert_eq!(bnd & ((1 << 13) | (1 << 21)), 0, "{}", run.describe());
    assert_ne!(bnd & NET_BIND_SERVICE, 0);
    // Root's permitted set follows the bounding set at exec.
    assert_eq!(mask(&run, "CapPrm") & (1 << 13), 0);
    sh(&w, &["-u", "nobody", "--bounding-set", "net_raw"], "true")
        .assert_refused("starts with - (drop) or + (keep)");
    sh(&w, &["-u", "nobody", "--bounding-set", "-nope"], "true").assert_refused("\"-nope\"");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn no_new_privs_is_visible_in_proc() {
    let Some(w) = world("no_new_privs") else {
        return;
    };
    let run = sh(&w, &["-u", "nobody", "--no-new-privs"], STATUS);
    assert_eq!(status_line(&run, "NoNewPrivs"), "NoNewPrivs:\t1");
    let run = sh(&w, &["-u", "nobody"], STATUS);
    assert_eq!(status_line(&run, "NoNewPrivs"), "NoNewPrivs:\t0");
    // Works without an identity change too.
    let run = sh(&w, &["--no-new-privs"], STATUS);
    assert_eq!(status_line(&run, "NoNewPrivs"), "NoNewPrivs:\t1");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn securebits_are_set_in_the_target() {
    let Some(w) = world("securebits") else { return };
    // Read them back from the target with perl's prctl-free view: capsh.
    let run = sh(
        &w,
        &[
            "-u",
            "nobody",
            "--securebits",
            "noroot,noroot-locked,no-setuid-fixup",
        ],
        "capsh --print",
    );
    assert!(run.output.status.success(), "{}", run.describe());
    let line = status_line(&run, "Securebits:");
    // 0x7 = noroot | noroot-locked | no-setuid-fixup
    assert!(line.contains("07/0x7"), "{line}");
    sh(&w, &["-u", "nobody", "--securebits", "keep-caps"], "true").assert_refused("\"keep-caps\"");
}

/// --securebits with --keep-caps: the keep-capabilities flag is added to
/// the bits asked for, so the kept capability survives the uid change and
/// reaches the target (ambient), while the bits asked for are set.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn securebits_with_keep_caps_keeps_the_capability() {
    let Some(w) = world("securebits_keep_caps") else {
        return;
    };
    let run = sh(
        &w,
        &[
            "-u",
            "nobody",
            "--securebits",
            "no-setuid-fixup",
            "--keep-caps",
            "net_bind_service",
        ],
        STATUS,
    );
    assert!(run.output.status.success(), "{}", run.describe());
    for set in ["CapEff", "CapPrm", "CapAmb"] {
        assert_eq!(
            mask(&run, set),
            NET_BIND_SERVICE,
            "{set}\n{}",
            run.describe()
        );
    }
    let run = sh(
        &w,
        &[
            "-u",
            "nobody",
            "--securebits",
            "no-setuid-fixup",
            "--keep-caps",
            "net_bind_service",
        ],
        "capsh --print",
    );
    let line = status_line(&run, "Securebits:");
    // no-setuid-fixup (0x4) stays; keep-caps (0x10) is cleared by execve.
    assert!(line.contains("04/0x4"), "{line}");
}

/// A target that keeps CAP_SETGID (allowed by name) can change its gid
/// back on purpose: the proof does not try the gid, and says so in the
/// dry run; one that keeps nothing is proved unable to, in both ids.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_kept_setgid_is_not_a_failed_proof() {
    let Some(w) = world("keep_setgid") else {
        return;
    };
    let args = [
        "-u",
        "nobody",
        "--keep-caps",
        "setgid",
        "--allow-root-caps",
        "setgid",
    ];
    let run = sh(&w, &args, STATUS);
    assert!(run.output.status.success(), "{}", run.describe());
    assert_eq!(mask(&run, "CapEff"), 1 << 6, "{}", run.describe());
    let mut dry = vec!["--dry-run"];
    dry.extend(args);
    dry.extend(["--", "true"]);
    let run = w.runas(&dry);
    assert!(
        run.stdout.contains("setresuid(0, 0, 0) = -1 EPERM"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stdout.contains("setresgid(0, 0, 0) = -1 EPERM"),
        "{}",
        run.describe()
    );
    // Keeping nothing: both regain attempts, and the note that says why.
    let run = w.runas(&["--dry-run", "-u", "nobody", "--", "true"]);
    assert!(
        run.stdout.contains("setresgid(0, 0, 0) = -1 EPERM"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout
            .contains(", and the old ids cannot be taken back)"),
        "{}",
        run.describe()
    );
    // Root as the target can always switch back: no attempt, no such note.
    let run = w.runas(&["--dry-run", "-u", "root", "--", "true"]);
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(
        !run.stdout.contains("cannot be taken back)"),
        "{}",
        run.describe()
    );
}

/// `runas ARGS -- sh -c SCRIPT` started with no_setuid_fixup already set
/// (setpriv), as a parent with its own securebits starts it.
fn sh_with_inherited_no_setuid_fixup(w: &World, args: &[&str], script: &str) -> Run {
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend(["--", "/bin/sh", "-c", script]);
    w.runas_under(
        &["setpriv", "--securebits", "+no_setuid_fixup", "--"],
        &argv,
    )
}

/// The securebits runas starts with count: bits asked for that are
/// already set need no change (the dry run lists none), bits to clear are
/// cleared, and the proof accepts bits beyond those asked for.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn securebits_already_set_are_read_first() {
    let Some(w) = world("securebits_inherited") else {
        return;
    };
    // no-setuid-fixup inherited, noroot asked: both held, and verified.
    let run = sh_with_inherited_no_setuid_fixup(
        &w,
        &["-u", "nobody", "--securebits", "noroot"],
        "capsh --print",
    );
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(
        status_line(&run, "Securebits:").contains("05/0x5"),
        "{}",
        run.describe()
    );
    // Inherited, and asked to be cleared: cleared.
    let run = sh_with_inherited_no_setuid_fixup(
        &w,
        &["-u", "nobody", "--securebits", "-no-setuid-fixup"],
        "capsh --print",
    );
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(
        status_line(&run, "Securebits:").contains("00/0x0"),
        "{}",
        run.describe()
    );
    // Inherited and asked for: no change to make, none listed.
    let dry = |prefix: &[&str]| {
        w.runas_under(
            prefix,
            &[
                "--dry-run",
                "--json",
                "-u",
                "nobody",
                "--securebits",
                "no-setuid-fixup",
                "--",
                "true",
            ],
        )
    };
    let run = dry(&["setpriv", "--securebits", "+no_setuid_fixup", "--"]);
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(
        !run.stdout.contains("PR_SET_SECUREBITS"),
        "{}",
        run.describe()
    );
    let run = dry(&["env", "--"]);
    assert!(
        run.stdout.contains("PR_SET_SECUREBITS"),
        "{}",
        run.describe()
    );
}

/// prctl(PR_SET_SECUREBITS) that reports success without doing anything (a
/// seccomp filter answering 0): the proof reads the bits back and refuses.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn securebits_reported_set_but_not_set_are_refused() {
    let Some(w) = world("securebits_faked") else {
        return;
    };
    // Load the call number; for prctl, load its first argument; for
    // PR_SET_SECUREBITS (28) return "success" (SECCOMP_RET_ERRNO with 0)
    // without running it; allow everything else.
    let filter = r#"
import ctypes, os, platform, sys
libc = ctypes.CDLL(None, use_errno=True)
nr_prctl = {"x86_64": 157, "aarch64": 167}[platform.machine()]
nr_seccomp = {"x86_64": 317, "aarch64": 277}[platform.machine()]
prog = [(0x20, 0, 0, 0), (0x15, 0, 3, nr_prctl), (0x20, 0, 0, 16), (0x15, 0, 1, 28),
        (0x06, 0, 0, 0x00050000), (0x06, 0, 0, 0x7fff0000)]
class F(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
class P(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(F))]
arr = (F * len(prog))(*[F(*i) for i in prog])
assert libc.syscall(nr_seccomp, 1, 0, ctypes.byref(P(len(prog), arr))) == 0, "seccomp"
os.execv(sys.argv[1], sys.argv[1:])
"#;
    let run = w.runas_under(
        &["python3", "-c", filter],
        &[
            "-u",
            "nobody",
            "--securebits",
            "noroot",
            "--",
            "/bin/sh",
            "-c",
            "echo target-ran",
        ],
    );
    run.assert_refused("verification failed: securebits are 0x0, expected 0x1 set");
    assert!(!run.stdout.contains("target-ran"), "{}", run.describe());
}

/// The parent-death signal, watched from outside: a parent shell (after
/// `prep`) starts `runas --pdeathsig USR1` in the background and exits at
/// once; the target traps USR1 and records it.
fn parent_dies_and_usr1_arrives(w: &World, prep: &str) {
    let out = w.shared_dir("shared");
    let script = format!(
        r#"{prep}
        sh -c '{runas} -u nobody --pdeathsig USR1 -- /bin/sh -c "trap \"echo got-usr1 > {out}/result; exit 0\" USR1; echo started > {out}/started; sleep 15 >/dev/null 2>&1 & wait" & while [ ! -e {out}/started ]; do sleep 0.02; done; exit 0'
        for i in $(seq 100); do [ -e {out}/result ] && break; sleep 0.05; done
        cat {out}/result"#,
        runas = w.runas.display(),
        out = out.display()
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    assert!(run.stdout.contains("got-usr1"), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pdeathsig_is_set_after_the_switch_and_fires() {
    let Some(w) = world("pdeathsig") else { return };
    parent_dies_and_usr1_arrives(&w, "");
    sh(&w, &["-u", "nobody", "--pdeathsig", "NOTASIGNAL"], "true").assert_refused("\"NOTASIGNAL\"");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn reset_env_keeps_exactly_the_listed_variables() {
    let Some(w) = world("reset_env") else { return };
    let run = w.runas_under(
        &[
            "env",
            "TERM=xterm-test",
            "NO_COLOR=1",
            "LD_LIBRARY_PATH=/evil",
            "SECRET=x",
        ],
        &[
            "-u",
            "alice",
            "--reset-env",
            "-e",
            "EXTRA=1",
            "--",
            "/usr/bin/env",
        ],
    );
    let mut vars: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with("launcher-pid"))
        .collect();
    vars.sort_unstable();
    assert_eq!(
        vars,
        [
            "EXTRA=1",
            "HOME=/home/alice",
            "LOGNAME=alice",
            "NO_COLOR=1",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "SHELL=/bin/bash",
            "TERM=xterm-test",
            "USER=alice",
        ],
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_unset_and_keep_env() {
    let Some(w) = world("env_options") else {
        return;
    };
    let run = w.runas_under(
        &["env", "USER=caller", "HOME=/caller", "DROPME=1"],
        &[
            "-u",
            "alice",
            "--keep-env",
            "--unset",
            "DROPME",
            "--env",
            "A=b=c",
            "--",
            "/usr/bin/env",
        ],
    );
    assert!(
        run.stdout.lines().any(|l| l == "USER=caller"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.lines().any(|l| l == "HOME=/caller"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.lines().any(|l| l == "A=b=c"),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("DROPME"), "{}", run.describe());
    sh(&w, &["-u", "alice", "-e", "=x"], "true").assert_refused("\"=x\"");
    sh(&w, &["-u", "alice", "-e", "NOVALUE"], "true").assert_refused("expected NAME=VALUE");
    sh(&w, &["-u", "alice", "--unset", "A=B"], "true").assert_refused("\"A=B\"");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn chdir_happens_as_the_target() {
    let Some(w) = world("chdir") else { return };
    let private = w.path().join("root-only");
    std::fs::create_dir(&private).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let dir = private.to_str().unwrap();
    let run = sh(&w, &["-u", "alice", "--chdir", dir], "pwd");
    run.assert_refused("Permission denied");
    assert!(
        run.stderr.contains(&format!("chdir({dir:?})")),
        "{}",
        run.describe()
    );
    // Root may enter it.
    let run = sh(&w, &["-u", "root", "--chdir", dir], "pwd");
    assert!(run.stdout.contains(dir), "{}", run.describe());
    // ~ is the target's home (the fixture's homes do not exist: the error names it).
    sh(&w, &["-u", "alice", "--chdir", "~/src"], "pwd").assert_refused("\"/home/alice/src\"");
    let run = sh(&w, &["-u", "alice", "--chdir", "/"], "pwd");
    assert!(run.stdout.lines().any(|l| l == "/"), "{}", run.describe());
    sh(&w, &["-u", "alice", "--chdir", "/no/such/dir"], "pwd")
        .assert_refused("No such file or directory");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn umask_is_applied_and_validated() {
    let Some(w) = world("umask") else { return };
    let run = sh(&w, &["-u", "alice", "--umask", "027"], "umask");
    assert!(
        run.stdout.lines().any(|l| l == "0027"),
        "{}",
        run.describe()
    );
    for bad in ["888", "0x22", "-1", "12345", ""] {
        sh(&w, &["-u", "alice", "--umask", bad], "true").assert_refused(&format!("{bad:?}"));
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn close_fds_keeps_stdio_keep_fd_and_listen_fds() {
    let Some(w) = world("close_fds") else { return };
    let list = "cd /proc/self/fd && echo *";
    let script = format!(
        "exec 5</dev/null 6</dev/null 7</dev/null 9</dev/null; {} -u alice --close-fds --keep-fd 6 -- /bin/sh -c '{list}'",
        w.runas.display()
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    // sh's own directory fd for the glob may appear as well; 5, 7 and 9 must not.
    let fds: Vec<&str> = status_line(&run, "0 ").split_whitespace().collect();
    assert!(fds.contains(&"6"), "{}", run.describe());
    for closed in ["5", "7", "9"] {
        assert!(
            !fds.contains(&closed),
            "fd {closed} survived\n{}",
            run.describe()
        );
    }
    // systemd socket activation: LISTEN_PID is runas's own pid (kept through exec).
    let script = format!(
        "exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null 7</dev/null; export LISTEN_FDS=2; exec /bin/sh -c 'export LISTEN_PID=$$; exec {} -u alice --close-fds -- /bin/sh -c \"{list}\"'",
        w.runas.display()
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    let fds: Vec<&str> = status_line(&run, "0 ").split_whitespace().collect();
    assert!(
        fds.contains(&"3") && fds.contains(&"4"),
        "{}",
        run.describe()
    );
    // 5 is taken again by sh's own directory fd for the glob; 6 and 7 are gone.
    assert!(
        !fds.contains(&"6") && !fds.contains(&"7"),
        "{}",
        run.describe()
    );
    sh(
        &w,
        &["-u", "alice", "--close-fds", "--keep-fd", "x"],
        "true",
    )
    .assert_refused("\"x\"");
    sh(&w, &["-u", "alice", "--keep-fd", "3"], "true").assert_refused("--close-fds");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn add_group_of_adds_the_owning_group() {
    let Some(w) = world("add_group_of") else {
        return;
    };
    let device = w.file("device", "", 0o660);
    std::os::unix::fs::chown(&device, Some(0), Some(31337)).unwrap();
    let id = w
        .runas(&with_probe(&[
            "-u",
            "alice",
            "--add-group-of",
            device.to_str().unwrap(),
        ]))
        .identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701, 31337]);
    let id = w
        .runas(&with_probe(&[
            "-u",
            "alice",
            "--clear-groups",
            "--add-group-of",
            device.to_str().unwrap(),
        ]))
        .identity();
    id.assert_ids(1500, 1500, &[31337]);
    w.runas(&with_probe(&[
        "-u",
        "alice",
        "--add-group-of",
        "/no/such/device",
    ]))
    .assert_refused("\"/no/such/device\"");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn tiocsti_fails_in_the_target_and_ctrl_c_still_interrupts_it() {
    let Some(w) = world("tiocsti") else { return };
    // With legacy_tiocsti=0 the kernel refuses TIOCSTI itself: EPERM too.
    assert_defended(&in_pty(&w, "job", "", "-u alice"));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn keep_tty_leaves_the_terminal_attached() {
    let Some(w) = world("keep_tty") else { return };
    if legacy_tiocsti_off() {
        skip(
            "keep_tty",
            "legacy_tiocsti is 0, TIOCSTI cannot succeed on this kernel",
        );
        return;
    }
    // The control case: without the defence the probe can inject, which is
    // what makes the test above meaningful.
    let run = in_pty(&w, "job", "", "-u alice --keep-tty");
    assert!(
        run.stdout.contains("tiocsti: injected"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stdout.contains("not interrupted"),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn no_detach_when_not_lowering_privileges() {
    let Some(w) = world("no_detach_same_privilege") else {
        return;
    };
    // Root staying root (only the group changes) keeps its terminal.
    assert_injected(&in_pty(&w, "job", "", "-g jupiter"));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pdeathsig_the_caller_ignored_still_fires() {
    let Some(w) = world("pdeathsig_ignored") else {
        return;
    };
    // A caller that ignores USR1 (which survives execve; a shell cannot
    // even trap a signal ignored on entry): --pdeathsig USR1 still fires.
    parent_dies_and_usr1_arrives(&w, "trap '' USR1");
}

/// Capabilities that amount to root (setfcap, sys_admin, dac_override...)
/// are refused by --keep-caps unless named by --allow-root-caps; allowed,
/// the target still cannot gain more through file capabilities.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_equivalent_capabilities_need_an_explicit_opt_in_and_are_contained() {
    let Some(w) = world("keep_root_caps") else {
        return;
    };
    for cap in [
        "setfcap",
        "sys_admin",
        "dac_override",
        "setpcap",
        "sys_ptrace",
        "chown",
    ] {
        sh(&w, &["-u", "nobody", "--keep-caps", cap], "true")
            .assert_refused(&format!("--keep-caps cap_{cap} amounts to root"));
    }
    // The attack it stops: with setfcap, give a copy of a program every
    // capability and run it.
    let shared = w.shared_dir("shared");
    let copy = shared.join("python3");
    std::fs::copy("/usr/bin/python3", &copy).unwrap();
    let attack = format!(
        "setcap cap_sys_admin,cap_setuid+ep {copy} && {copy} -c \"import os; os.setuid(0); print('became', os.getuid())\"; grep -E '^(NoNewPrivs|CapBnd)' /proc/$$/status",
        copy = copy.display()
    );
    let run = sh(
        &w,
        &[
            "-u",
            "nobody",
            "--keep-caps",
            "setfcap",
            "--allow-root-caps",
            "setfcap",
        ],
        &attack,
    );
    assert!(!run.stdout.contains("became 0"), "{}", run.describe());
    assert!(run.stdout.contains("NoNewPrivs:\t1"), "{}", run.describe());
    assert_eq!(mask(&run, "CapBnd"), 1 << 31, "{}", run.describe());
    // --allow-root-caps names only what --keep-caps keeps and amounts to root.
    sh(
        &w,
        &[
            "-u",
            "nobody",
            "--keep-caps",
            "net_raw",
            "--allow-root-caps",
            "net_raw",
        ],
        "true",
    )
    .assert_refused("--allow-root-caps cap_net_raw");
    // The dry run says the switch can be undone.
    let run = w.runas(&[
        "--dry-run",
        "-u",
        "nobody",
        "--keep-caps",
        "setfcap",
        "--allow-root-caps",
        "setfcap",
        "--",
        "true",
    ]);
    assert!(
        run.stdout
            .contains("irreversible: no: the target keeps cap_setfcap"),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn listen_fds_is_trusted_only_within_bounds_and_for_a_target_that_sees_it() {
    let Some(w) = world("listen_fds_bounds") else {
        return;
    };
    let list = "cd /proc/self/fd && echo *";
    let runas = w.runas.display();
    // A huge count with a matching LISTEN_PID: refused, no 16 GiB allocation.
    let script = format!(
        "exec /bin/sh -c 'export LISTEN_PID=$$ LISTEN_FDS=4294967295; exec {runas} -u alice --close-fds -- /bin/true'"
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    run.assert_refused("descriptor 3 is not open");
    // A count beyond the descriptors actually open.
    let script = format!(
        "exec 3</dev/null; exec /bin/sh -c 'export LISTEN_PID=$$ LISTEN_FDS=3; exec {runas} -u alice --close-fds -- /bin/true'"
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    run.assert_refused("descriptor 4 is not open");
    // Sockets are not kept for a target that will not see LISTEN_FDS.
    let script = format!(
        "exec 3</dev/null 4</dev/null; export LISTEN_FDS=2; exec /bin/sh -c 'export LISTEN_PID=$$; exec {runas} -u alice --close-fds --unset LISTEN_FDS -- /bin/sh -c \"{list}\"'"
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    let fds: Vec<&str> = status_line(&run, "0 ").split_whitespace().collect();
    assert!(!fds.contains(&"4"), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_variable_given_twice_reaches_the_target_once() {
    let Some(w) = world("env_twice") else { return };
    let launcher =
        exec_with_raw_environment(&["PATH=/usr/bin:/bin", "PATH=/nonexistent", "SHELL=/bin/sh"]);
    let run = w.runas_under(&launcher, &["-u", "alice", "--", "/usr/bin/env"]);
    assert!(run.output.status.success(), "{}", run.describe());
    let paths: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("PATH="))
        .collect();
    assert_eq!(paths, ["PATH=/usr/bin:/bin"], "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn output_that_cannot_be_written_is_a_failure() {
    let Some(w) = world("output_full") else {
        return;
    };
    for args in [
        vec!["--help"],
        vec!["--dry-run", "-u", "alice", "--", "true"],
        vec!["--dump"],
    ] {
        let mut argv = vec!["/bin/sh", "-c", "exec \"$@\" > /dev/full", "sh"];
        let runas = w.runas.to_str().unwrap().to_owned();
        argv.push(&runas);
        argv.extend(args.iter().copied());
        let run = Run::from(w.command(&argv).output().unwrap());
        assert_eq!(run.code(), Some(125), "{args:?}\n{}", run.describe());
        assert!(
            run.stderr.contains("No space left on device"),
            "{}",
            run.describe()
        );
    }
}
