//! Real identity switches, as root, inside the fixture world of
//! tests/common: each case reads the target's own /proc status.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

fn crowd_groups() -> Vec<u32> {
    let mut groups = vec![1600];
    groups.extend(CROWD_FIRST_GID..CROWD_FIRST_GID + CROWD_GROUPS);
    groups
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn user_by_name_gets_passwd_gid_database_groups_and_environment() {
    let Some(w) = world("user_by_name") else {
        return;
    };
    let id = w.runas(&with_probe(&["--user", "alice"])).identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
    assert_eq!(id.env("HOME"), "/home/alice");
    assert_eq!(id.env("USER"), "alice");
    assert_eq!(id.env("LOGNAME"), "alice");
    assert_eq!(id.env("SHELL"), "/bin/bash");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pid_is_unchanged_through_exec() {
    let Some(w) = world("pid_is_unchanged") else {
        return;
    };
    let id = w.runas(&with_probe(&["-u", "alice"])).identity();
    assert_eq!(id.target_pid, id.launcher_pid);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn numeric_uid_with_passwd_entry_uses_its_entry() {
    let Some(w) = world("numeric_uid") else {
        return;
    };
    let id = w.runas(&with_probe(&["-u", "1500"])).identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    assert_eq!(id.env("USER"), "alice");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn digits_only_spec_is_the_id_never_a_same_named_root_account() {
    let Some(w) = world("digits_only_names") else {
        return;
    };
    // The fixture has a user named "1501" with uid 0; uid 1501 is bob.
    let id = w.runas(&with_probe(&["-u", "1501"])).identity();
    id.assert_ids(1501, 1501, &[1501, 1701]);
    assert_eq!(id.env("USER"), "bob");
    // "4242" names a uid-0 account, but uid 4242 has no entry: refuse.
    w.runas(&with_probe(&["-u", "4242"]))
        .assert_refused("uid 4242 has no passwd entry");
    // Group "1700" has gid 0 in the fixture; -g 1700 means gid 1700.
    let id = w
        .runas(&with_probe(&["-u", "alice", "-g", "1700"]))
        .identity();
    id.assert_ids(1500, 1700, &[1700, 1701]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn uid_without_entry_needs_a_group_then_gets_root_dir_home() {
    let Some(w) = world("uid_without_entry") else {
        return;
    };
    let refused = w.runas(&with_probe(&["-u", "4242"]));
    refused.assert_refused("give --group");
    let id = w
        .runas(&with_probe(&["-u", "4242", "-g", "4243"]))
        .identity();
    // gid 4243, never the gid 0 of the group *named* 4243.
    id.assert_ids(4242, 4243, &[4243]);
    id.assert_no_capabilities();
    assert_eq!(id.env("HOME"), "/");
    assert_eq!(id.env("USER"), "4242");
    assert_eq!(id.env("LOGNAME"), "4242");
    let id = w.runas(&with_probe(&["-u", "4242:4242"])).identity();
    id.assert_ids(4242, 4242, &[4242]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn user_group_shorthand_sets_primary_and_keeps_memberships() {
    let Some(w) = world("user_group_shorthand") else {
        return;
    };
    let id = w.runas(&with_probe(&["-u", "alice:jupiter"])).identity();
    id.assert_ids(1500, 1700, &[1700, 1701]);
    let id = w
        .runas(&with_probe(&["-u", "alice", "-g", "saturn"]))
        .identity();
    id.assert_ids(1500, 1701, &[1700, 1701]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn group_alone_changes_only_the_primary_group() {
    let Some(w) = world("group_alone") else {
        return;
    };
    let id = w.runas(&with_probe(&["--group", "jupiter"])).identity();
    let before = own_groups();
    assert_eq!(id.uid, [0; 4]);
    assert_eq!(id.gid, [1700; 4]);
    assert_eq!(id.groups, before);
    // The environment is not touched without --user.
    assert_eq!(
        id.env("USER"),
        std::env::var("USER").as_deref().unwrap_or("<unset>")
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn each_group_policy() {
    let Some(w) = world("each_group_policy") else {
        return;
    };
    let id = w
        .runas(&with_probe(&["-u", "alice", "--init-groups"]))
        .identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    let id = w
        .runas(&with_probe(&["-u", "alice", "--clear-groups"]))
        .identity();
    id.assert_ids(1500, 1500, &[]);
    let id = w
        .runas(&with_probe(&["-u", "alice", "--keep-groups"]))
        .identity();
    id.assert_ids(1500, 1500, &own_groups());
    let id = w
        .runas(&with_probe(&[
            "-u",
            "alice",
            "--groups",
            "saturn,31337,1700",
        ]))
        .identity();
    id.assert_ids(1500, 1500, &[1700, 1701, 31337]);
    let id = w.runas(&with_probe(&["-u", "alice", "-G", ""])).identity();
    id.assert_ids(1500, 1500, &[]);
    let id = w.runas(&with_probe(&["--clear-groups"])).identity();
    id.assert_ids(0, 0, &[]);
}

/// Account files of several megabytes (read a window of a megabyte at a
/// time, searched for the lines that name the user): the same identity as
/// from the small fixture, with the entries far from the start of each
/// file, past the first windows.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn large_account_files_give_the_same_identity() {
    let Some(w) = world("large_account_files") else {
        return;
    };
    let small_alice = w.runas(&with_probe(&["-u", "alice"])).identity();
    let small_crowd = w.runas(&with_probe(&["-u", "crowd"])).identity();
    for (file, line) in [
        (
            "passwd",
            "filler{i}:x:{id}:{id}:a filler account, to make the file large:/home/filler{i}:/bin/sh\n",
        ),
        (
            "group",
            "fillergroup{i}:x:{id}:filler{i},filler{j},aliceX,xalice,crowdy\n",
        ),
    ] {
        let path = w.path().join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        let mut text = String::new();
        for i in 0..40_000u32 {
            text.push_str(
                &line
                    .replace("{id}", &(200_000 + i).to_string())
                    .replace("{j}", &(i + 1).to_string())
                    .replace("{i}", &i.to_string()),
            );
        }
        text.push_str(&original);
        assert!(text.len() > 2 << 20, "{file} is only {} bytes", text.len());
        std::fs::write(&path, text).unwrap();
    }
    let alice = w.runas(&with_probe(&["-u", "alice"])).identity();
    alice.assert_ids(small_alice.uid[0], small_alice.gid[0], &small_alice.groups);
    assert_eq!(alice.env, small_alice.env);
    let crowd = w.runas(&with_probe(&["-u", "crowd"])).identity();
    crowd.assert_ids(1600, 1600, &small_crowd.groups);
    assert_eq!(crowd.groups, crowd_groups());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn user_in_two_thousand_groups_gets_all_of_them() {
    let Some(w) = world("two_thousand_groups") else {
        return;
    };
    let id = w.runas(&with_probe(&["-u", "crowd"])).identity();
    id.assert_ids(1600, 1600, &crowd_groups());
    id.assert_no_capabilities();
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn primary_gid_without_group_entry_and_empty_passwd_fields() {
    let Some(w) = world("odd_passwd_entries") else {
        return;
    };
    let id = w.runas(&with_probe(&["-u", "orphan"])).identity();
    id.assert_ids(1502, 1999, &[1999]);
    let id = w.runas(&with_probe(&["-u", "homeless"])).identity();
    id.assert_ids(1503, 1503, &[1503]);
    assert_eq!(id.env("HOME"), "/");
    assert_eq!(id.env("SHELL"), "/bin/sh");
}

/// A parent that hands runas raised inheritable and ambient capabilities.
const RAISED_INHERITABLE_AND_AMBIENT: [&str; 6] = [
    "setpriv",
    "--inh-caps",
    "+net_raw",
    "--ambient-caps",
    "+net_raw",
    "--",
];

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_target_keeps_root_but_loses_inherited_inheritable_and_ambient() {
    let Some(w) = world("root_target") else {
        return;
    };
    let id = w
        .runas_under(
            &RAISED_INHERITABLE_AND_AMBIENT,
            &with_probe(&["-u", "root"]),
        )
        .identity();
    id.assert_ids(0, 0, &[0]);
    assert_eq!((id.cap_inh, id.cap_amb), (0, 0));
    assert_ne!(id.cap_prm, 0, "root keeps its permitted set");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn inherited_inheritable_and_ambient_capabilities_do_not_reach_a_non_root_target() {
    let Some(w) = world("inherited_caps") else {
        return;
    };
    let id = w
        .runas_under(
            &RAISED_INHERITABLE_AND_AMBIENT,
            &with_probe(&["-u", "alice"]),
        )
        .identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unknown_user_and_group_are_refused() {
    let Some(w) = world("unknown_names") else {
        return;
    };
    w.runas(&with_probe(&["-u", "mallory"]))
        .assert_refused("unknown user \"mallory\"");
    w.runas(&with_probe(&["-u", "alice", "-g", "pluto"]))
        .assert_refused("unknown group \"pluto\"");
    w.runas(&with_probe(&["-u", "alice:pluto"]))
        .assert_refused("unknown group \"pluto\"");
    w.runas(&with_probe(&["-g", "pluto"]))
        .assert_refused("unknown group \"pluto\"");
    w.runas(&with_probe(&["-u", "alice", "-G", "jupiter,pluto"]))
        .assert_refused("unknown group \"pluto\"");
    // A real user's name is not in the fixture world, so it is unknown here.
    w.runas(&with_probe(&["-u", "0day"]))
        .assert_refused("unknown user \"0day\"");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn invalid_ids_are_refused_before_anything_runs() {
    let Some(w) = world("invalid_ids") else {
        return;
    };
    for spec in [
        "-1",
        "4294967295",
        "4294967296",
        "+5",
        " 5",
        "0x10",
        "",
        "1500:",
        ":1500",
        "1500:-1",
    ] {
        let run = w.runas(&with_probe(&["--user", spec]));
        run.assert_refused("invalid");
        assert!(
            run.stderr.contains(&format!("{spec:?}")),
            "message does not quote {spec:?}:\n{}",
            run.stderr
        );
    }
    for spec in ["-1", "4294967295", "99999999999", "0x0"] {
        w.runas(&with_probe(&["-u", "alice", "--group", spec]))
            .assert_refused("invalid group");
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn exit_status_and_signals_of_the_target_pass_through() {
    let Some(w) = world("exit_status") else {
        return;
    };
    let run = w.runas(&["-u", "alice", "--", "/bin/sh", "-c", "exit 42"]);
    assert_eq!(run.code(), Some(42), "{}", run.describe());
    let run = w.runas(&["-u", "alice", "--", "/bin/sh", "-c", "kill -TERM $$"]);
    assert_eq!(run.output.status.signal(), Some(15), "{}", run.describe());
    let run = w.runas(&["-u", "alice", "--", "/bin/true"]);
    assert_eq!(run.code(), Some(0));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn argv_reaches_the_target_verbatim() {
    let Some(w) = world("argv_verbatim") else {
        return;
    };
    let mut args: Vec<OsString> = [
        "-u",
        "alice",
        "--",
        "/bin/sh",
        "-c",
        r#"for a; do printf '[%s]\n' "$a"; done"#,
        "sh",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let words: Vec<OsString> = vec![
        "-u".into(),
        "--".into(),
        "".into(),
        "--user=root".into(),
        " spaced  out ".into(),
        OsString::from_vec(vec![0xff, 0xfe, b'x']),
    ];
    args.extend(words.iter().cloned());
    let run = w.runas(&args);
    assert!(run.output.status.success(), "{}", run.describe());
    let mut expected = b"launcher-pid ".to_vec();
    let pid_line_end = run.output.stdout.iter().position(|&b| b == b'\n').unwrap();
    expected.extend_from_slice(&run.output.stdout[13..=pid_line_end]);
    for word in &words {
        expected.push(b'[');
        expected.extend(word.clone().into_vec());
        expected.extend(b"]\n");
    }
    assert_eq!(run.output.stdout, expected);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn not_found_is_127_and_not_executable_is_126() {
    let Some(w) = world("exec_failures") else {
        return;
    };
    let run = w.runas(&["-u", "alice", "--", "/nonexistent/program"]);
    assert_eq!(run.code(), Some(127), "{}", run.describe());
    assert!(
        run.stderr
            .contains("\"/nonexistent/program\": command not found"),
        "{}",
        run.stderr
    );
    let run = w.runas(&["-u", "alice", "--", "no-such-command-anywhere"]);
    assert_eq!(run.code(), Some(127), "{}", run.describe());
    let run = w.runas(&["-u", "alice", "--", "/etc"]);
    assert_eq!(run.code(), Some(126), "{}", run.describe());
    assert!(
        run.stderr
            .contains("\"/etc\": cannot execute: it is a directory"),
        "{}",
        run.stderr
    );
    // The dry run predicts the same words.
    let run = w.runas(&["--dry-run", "-u", "alice", "--", "/etc"]);
    assert_eq!(run.code(), Some(125), "{}", run.describe());
    assert!(run.stderr.contains("it is a directory"), "{}", run.stderr);
    // A directory in PATH named like the command does not hide the command
    // further on, as with execvp.
    let marker = w.file("marker", "", 0o644);
    let shadow_dir = marker.parent().unwrap().join("shadowbin");
    std::fs::create_dir_all(shadow_dir.join("true")).unwrap();
    let run = w.runas(&[
        OsString::from("-u"),
        "alice".into(),
        "-e".into(),
        format!("PATH={}:/usr/bin:/bin", shadow_dir.display()).into(),
        "--".into(),
        "true".into(),
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let not_executable = w.file("data.txt", "hello\n", 0o644);
    let run = w.runas(&[
        OsString::from("-u"),
        "alice".into(),
        "--".into(),
        not_executable.into(),
    ]);
    assert_eq!(run.code(), Some(126), "{}", run.describe());
    assert!(run.stderr.contains("permission denied"), "{}", run.stderr);
    let no_shebang = w.file("noshebang", "\x7fELF-not-really", 0o755);
    let run = w.runas(&[
        OsString::from("-u"),
        "alice".into(),
        "--".into(),
        no_shebang.into(),
    ]);
    assert_eq!(run.code(), Some(126), "{}", run.describe());
    // Executable by root only: the check happens as the target.
    let root_only = w.file("root-only", "#!/bin/sh\necho ran\n", 0o700);
    let run = w.runas(&[
        OsString::from("-u"),
        "alice".into(),
        "--".into(),
        root_only.into(),
    ]);
    assert_eq!(run.code(), Some(126), "{}", run.describe());
    assert!(!run.stdout.contains("ran"));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn path_lookup_happens_as_the_target_in_its_environment() {
    let Some(w) = world("path_lookup") else {
        return;
    };
    let bin = w.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(
        bin.join("hello-runas"),
        "#!/bin/sh\necho \"hello from $(id -u)\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.join("hello-runas"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = format!("PATH=/usr/bin:/bin:{}", bin.display());
    let run = w.runas_under(&["env", &path], &["-u", "alice", "--", "hello-runas"]);
    assert!(run.stdout.contains("hello from 1500"), "{}", run.describe());
}

/// The SIGPIPE bit of the SigIgn mask the target's shell reports.
fn target_ignores_sigpipe(run: &Run) -> bool {
    let ignored = run
        .stdout
        .lines()
        .find(|l| l.starts_with("SigIgn"))
        .unwrap_or_else(|| panic!("{}", run.describe()));
    let mask = u64::from_str_radix(ignored.split_whitespace().nth(1).unwrap(), 16).unwrap();
    mask & (1 << (13 - 1)) != 0
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn sigpipe_is_as_the_caller_left_it() {
    let Some(w) = world("sigpipe") else { return };
    let script = format!(
        "timeout 20 {} -u alice -- yes | head -n1",
        w.runas.display()
    );
    let run = Run::from(w.command(&["/bin/sh", "-c", &script]).output().unwrap());
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(run.stdout.ends_with("y\n"), "{}", run.describe());
    // The disposition the target sees is the caller's: "default" from a
    // default caller (Rust's start-up, which ignores SIGPIPE, never runs
    // in runas), and "ignored" from a caller that ignores it (runas does
    // not reset it either).
    let show = [
        "-u",
        "alice",
        "--",
        "/bin/sh",
        "-c",
        "grep SigIgn /proc/$$/status",
    ];
    let default = w.runas(&show);
    assert!(!target_ignores_sigpipe(&default), "{}", default.describe());
    let ignoring_caller = [
        "/usr/bin/python3",
        "-c",
        "import os, signal, sys; signal.signal(signal.SIGPIPE, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])",
    ];
    let ignored = w.runas_under(&ignoring_caller, &show);
    assert!(target_ignores_sigpipe(&ignored), "{}", ignored.describe());
}

/// A closed descriptor stays closed: runas has no start-up code that would
/// put /dev/null there, so the target inherits exactly what its caller gave.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_closed_stdin_reaches_the_target_closed() {
    let Some(w) = world("closed_stdin") else {
        return;
    };
    let closing = ["/bin/sh", "-c", "exec \"$@\" <&-", "sh"];
    let show = [
        "-u",
        "alice",
        "--",
        "/bin/sh",
        "-c",
        "if [ -e /proc/$$/fd/0 ]; then echo stdin-open; else echo stdin-closed; fi",
    ];
    let run = w.runas_under(&closing, &show);
    assert!(run.stdout.contains("stdin-closed"), "{}", run.describe());
    let run = w.runas(&show);
    assert!(run.stdout.contains("stdin-open"), "{}", run.describe());
}

/// How many times a run of runas opened each account file, from strace.
fn account_file_opens(w: &World, args: &[&str]) -> (usize, usize) {
    let dir = w.shared_dir("trace");
    let log = dir.join("opens");
    let log_arg = log.to_str().unwrap();
    let prefix = [
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=open,openat",
        "-o",
        log_arg,
    ];
    let mut all = args.to_vec();
    all.extend(["--", "/bin/true"]);
    let run = w.runas_under(&prefix, &all);
    assert!(run.output.status.success(), "{}", run.describe());
    let trace = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let count = |path: &str| trace.matches(&format!("\"{path}\"")).count();
    (count("/etc/passwd"), count("/etc/group"))
}

/// One passwd read and at most two group reads, whatever the number of
/// memberships; none at all when every id is a number and no passwd field is needed.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn account_files_are_read_once_and_only_when_needed() {
    let Some(w) = world("account_file_reads") else {
        return;
    };
    assert_eq!(account_file_opens(&w, &["-u", "alice"]), (1, 1));
    // 2,000 groups: glibc's getgrouplist needs a second scan once the
    // first buffer (1,024 groups) is too small; the static build reads once.
    let (passwd, group) = account_file_opens(&w, &["-u", "crowd"]);
    assert_eq!(passwd, 1);
    assert!((1..=2).contains(&group), "{group} group reads");
    assert_eq!(
        account_file_opens(
            &w,
            &["-u", "1500", "-g", "1500", "--clear-groups", "--keep-env"]
        ),
        (0, 0)
    );
    assert_eq!(
        account_file_opens(
            &w,
            &["-u", "1500", "-g", "1500", "-G", "1700,1701", "--keep-env"]
        ),
        (0, 0)
    );
    // The default supplementary list needs the name: one read of each.
    assert_eq!(
        account_file_opens(&w, &["-u", "1500", "-g", "1500", "--keep-env"]),
        (1, 1)
    );
    // --dry-run names every group: in one pass, not one read of the group
    // file per group (issue 25: 8,000 groups took 3 s, the run 10 ms).
    let (_, group) = account_file_opens(&w, &["--dry-run", "-u", "crowd"]);
    assert!(group <= 4, "{group} group reads to name 2,001 groups");
}

/// An empty id field is no id. musl's libc reads it as 0 (root); glibc skips
/// the line; runas's own reader (static build) refuses the entry. Whichever
/// build runs, the target never runs as uid or gid 0.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_empty_id_field_never_becomes_root() {
    let Some(w) = world("empty_id_field") else {
        return;
    };
    let run = w.runas(&with_probe(&["-u", "mangled"]));
    assert_eq!(run.code(), Some(125), "{}", run.describe());
    assert!(
        run.stderr.contains("unknown user \"mangled\"")
            || run.stderr.contains("line 12 of /etc/passwd is malformed"),
        "{}",
        run.describe()
    );
    run.assert_refused("runas: ");

    let run = w.runas(&with_probe(&["-u", "carol"]));
    if run.code() == Some(125) {
        run.assert_refused("line 15 of /etc/group is malformed: its gid is not");
    } else {
        let id = run.identity();
        assert_eq!(id.groups, [1505], "{}", run.describe());
        assert_eq!(id.gid, [1505; 4]);
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_target_cannot_regain_root() {
    let Some(w) = world("cannot_regain_root") else {
        return;
    };
    let run = w.runas(&[
        "-u",
        "alice",
        "--",
        "perl",
        "-MPOSIX",
        "-e",
        "POSIX::setuid(0) and exit 1; POSIX::setgid(0) and exit 2; $> = 0; $> == 0 and exit 3; print qq(refused\\n)",
    ]);
    assert!(run.output.status.success(), "{}", run.describe());
    assert!(run.stdout.contains("refused"));
}

/// Run what `argv` goes on to start under strace, recording every set*id
/// call in `trace`.
fn trace_setid_calls(argv: &mut Vec<OsString>, trace: &std::path::Path) {
    argv.extend(
        [
            "strace",
            "-qq",
            "-f",
            "-e",
            "trace=setgroups,setresgid,setresuid,setuid,setgid,setreuid,setregid",
            "-o",
        ]
        .map(OsString::from),
    );
    argv.push(trace.into());
}

fn assert_no_setid_calls(trace: &std::path::Path) {
    let calls = std::fs::read_to_string(trace).unwrap();
    assert!(!calls.contains("set"), "set*id calls were made:\n{calls}");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn non_root_caller_with_nothing_to_change_execs_without_setid_calls() {
    let Some(w) = world("non_root_noop") else {
        return;
    };
    let trace = w.file("trace", "", 0o644);
    std::os::unix::fs::chown(&trace, Some(1500), Some(1500)).unwrap();
    let mut argv = caller_prefix(1500, 1500, &[1500, 1700, 1701]);
    trace_setid_calls(&mut argv, &trace);
    let id = w
        .runas_under(&argv, &with_probe(&["-u", "alice"]))
        .identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    assert_no_setid_calls(&trace);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn non_root_caller_is_refused_naming_the_missing_capability() {
    let Some(w) = world("non_root_refusal") else {
        return;
    };
    let run = w.runas_from(1500, 1500, &[1500], &with_probe(&["-u", "bob"]));
    run.assert_refused(
        "switching to uid 1501 needs CAP_SETUID, which this process (uid 1500) does not have: run it as root",
    );
    assert!(
        run.stderr.trim_end().ends_with("run it as root"),
        "{}",
        run.stderr
    );
    let run = w.runas_from(1500, 1500, &[1500], &with_probe(&["-g", "jupiter"]));
    run.assert_refused("CAP_SETGID");
    let run = w.runas_from(1500, 1500, &[1500], &with_probe(&["-u", "alice"]));
    run.assert_refused("CAP_SETGID");
    assert!(
        !run.stderr.contains("Operation not permitted"),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn set_user_id_copy_refuses_to_run() {
    let Some(w) = world("setuid_copy") else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    for (mode, kind) in [
        (0o4755, "real uid 1500, effective 0"),
        (0o2755, "real gid 1500, effective 0"),
    ] {
        let copy = w.path().join(format!("runas-{mode:o}"));
        std::fs::copy(&w.runas, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut argv = caller_prefix(1500, 1500, &[1500]);
        argv.push(copy.into());
        argv.extend(with_probe(&["-u", "root"]).into_iter().map(OsString::from));
        let run = Run::from(w.command(&argv).output().unwrap());
        run.assert_refused("set-user-ID");
        assert!(run.stderr.contains(kind), "{}", run.stderr);
        assert!(run.stderr.contains("0755"), "{}", run.stderr);
    }
}

/// --if-root from root: the switch is made exactly as without it.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn if_root_from_root_switches_as_usual() {
    let Some(w) = world("if_root_from_root") else {
        return;
    };
    let id = w
        .runas(&with_probe(&["--if-root", "-u", "alice"]))
        .identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
    assert_eq!(id.env("HOME"), "/home/alice");
    let run = w.runas(&with_probe(&["--dry-run", "--if-root", "-u", "alice"]));
    assert!(
        run.stdout
            .contains("if-root: the caller is root: the switch is made"),
        "{}",
        run.describe()
    );
}

/// --if-root from an arbitrary uid with no passwd entry and gid 0 (how
/// OpenShift starts a container): the command runs as the caller, with
/// the options that need no privilege applied, and no set*id call made.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn if_root_from_a_non_root_caller_runs_as_the_caller() {
    let Some(w) = world("if_root_non_root") else {
        return;
    };
    let (uid, gid) = (1000680000, 0);
    let trace = w.file("trace", "", 0o666);
    let mut argv = caller_prefix(uid, gid, &[]);
    trace_setid_calls(&mut argv, &trace);
    let script =
        "cd_ok=$(pwd); echo \"cwd $cd_ok\"; echo \"flavour $FLAVOUR\"; ".to_owned() + PROBE[2];
    let run = w.runas_under(
        &argv,
        &[
            "--if-root",
            "-u",
            "alice",
            "-g",
            "jupiter",
            "--groups",
            "1700",
            "-e",
            "FLAVOUR=plain",
            "--chdir",
            "/tmp",
            "--",
            "/bin/sh",
            "-c",
            &script,
        ],
    );
    let id = run.identity();
    id.assert_ids(uid, gid, &[]);
    assert!(run.stdout.contains("cwd /tmp\n"), "{}", run.describe());
    assert!(run.stdout.contains("flavour plain\n"), "{}", run.describe());
    assert_no_setid_calls(&trace);

    // Without --if-root the same caller is refused, never run as itself.
    let run = w.runas_from(uid, gid, &[], &with_probe(&["-u", "alice"]));
    run.assert_refused("CAP_SETUID");

    // A caller's ambient capability (systemd's AmbientCapabilities=) stays,
    // whatever --keep-caps said for the root branch.
    let ambient = [
        "setpriv",
        "--reuid",
        "1000680000",
        "--regid",
        "0",
        "--clear-groups",
        "--inh-caps",
        "+net_bind_service",
        "--ambient-caps",
        "+net_bind_service",
    ];
    let id = w
        .runas_under(
            &ambient,
            &with_probe(&["--if-root", "-u", "alice", "--keep-caps", "net_raw"]),
        )
        .identity();
    id.assert_ids(uid, gid, &[]);
    assert_eq!((id.cap_amb, id.cap_eff), (1 << 10, 1 << 10));
    // --dump says which branch --if-root takes from here.
    let run = w.runas_from(uid, gid, &[], &["--dump"]);
    assert!(run.stdout.contains("if-root: caller"), "{}", run.describe());
    // The dry run names the branch, in text and JSON.
    let run = w.runas_from(
        uid,
        gid,
        &[],
        &with_probe(&["--dry-run", "--if-root", "-u", "alice"]),
    );
    assert!(
        run.stdout
            .contains("if-root: the caller (uid 1000680000) is not root"),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains("uid: 1000680000"), "{}", run.describe());
    assert!(
        run.stdout.contains("irreversible: yes: no ids change"),
        "{}",
        run.describe()
    );
    let run = w.runas_from(
        uid,
        gid,
        &[],
        &with_probe(&["--dry-run", "--json", "--if-root", "-u", "alice"]),
    );
    assert!(
        run.stdout.contains("\"if_root\":\"caller\""),
        "{}",
        run.describe()
    );
    // Issue 25: what the caller branch sets aside is said, not dropped
    // silently: --bounding-set and --securebits included.
    let hardened = [
        "--dry-run",
        "--if-root",
        "-u",
        "alice",
        "--bounding-set",
        "-all",
        "--securebits",
        "noroot",
    ];
    let run = w.runas_from(uid, gid, &[], &with_probe(&hardened));
    assert!(
        run.stdout
            .contains("not applied: --user, --bounding-set, --securebits"),
        "{}",
        run.describe()
    );
    let mut json = vec!["--json"];
    json.extend_from_slice(&hardened);
    let run = w.runas_from(uid, gid, &[], &with_probe(&json));
    assert!(
        run.stdout
            .contains("\"not_applied\":[\"--user\",\"--bounding-set\",\"--securebits\"]"),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_invalid_plan_still_answers_a_json_dry_run_in_json() {
    let Some(w) = world("invalid_plan_json") else {
        return;
    };
    for (args, needle) in [
        (
            &["--dry-run", "--json", "-u", "no-such-user", "--", "true"][..],
            "unknown user \\\"no-such-user\\\"",
        ),
        (
            &["--dry-run", "--json", "-u", "alice", "--", "/etc"][..],
            "it is a directory",
        ),
    ] {
        let run = w.runas(args);
        assert_eq!(run.code(), Some(125), "{}", run.describe());
        // (The harness's own line, "launcher-pid N", comes first.)
        let json: Vec<&str> = run
            .stdout
            .lines()
            .filter(|line| !line.starts_with("launcher-pid "))
            .collect();
        assert_eq!(json.len(), 1, "{}", run.describe());
        let line = json[0];
        assert!(
            line.starts_with("{\"valid\":false,\"error\":\"")
                && line.ends_with(",\"exit_status\":125}")
                && line.contains(needle),
            "{}",
            run.describe()
        );
        // The one message still goes to stderr.
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.describe());
        assert!(run.stderr.starts_with("runas: "), "{}", run.describe());
    }
    // Without --json, nothing on stdout.
    let run = w.runas(&["--dry-run", "-u", "no-such-user", "--", "true"]);
    assert_eq!(run.code(), Some(125), "{}", run.describe());
    assert!(!run.stdout.contains('{'), "{}", run.describe());
}

/// A PATH read from --env-file is the file's secret like any value in it:
/// a failed search as the target does not name its directories, in the
/// real run or the dry run; a PATH given on the command line is named.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_path_read_from_an_env_file_is_not_named_when_the_search_fails() {
    let Some(w) = world("secret_path") else {
        return;
    };
    let marker = w.file("marker2", "", 0o644);
    let hidden = marker.parent().unwrap().join("TOKEN-s3cr3t");
    std::fs::create_dir(&hidden).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o700)).unwrap();
    let env = w.file(
        "secret.env",
        &format!("PATH={}:/usr/bin\n", hidden.display()),
        0o600,
    );
    let env = env.to_str().unwrap();
    for args in [
        &["-u", "alice", "--env-file", env, "--", "no-such-program"][..],
        &[
            "--dry-run",
            "--json",
            "-u",
            "alice",
            "--env-file",
            env,
            "--",
            "no-such-program",
        ][..],
    ] {
        let run = w.runas(args);
        assert!(
            run.stderr
                .contains("read from --env-file or --envdir and is not shown"),
            "{}",
            run.describe()
        );
        assert!(!run.stderr.contains("TOKEN"), "{}", run.describe());
        assert!(!run.stdout.contains("TOKEN"), "{}", run.describe());
    }
    let path = format!("PATH={}:/usr/bin", hidden.display());
    let run = w.runas(&["-u", "alice", "-e", &path, "--", "no-such-program"]);
    assert_eq!(run.code(), Some(127), "{}", run.describe());
    assert!(run.stderr.contains("TOKEN-s3cr3t"), "{}", run.describe());
}

/// A membership service the static build cannot ask: the glibc build asks
/// getgrouplist (every membership the files give must be in its answer);
/// the static build, which reads /etc/group alone, refuses rather than run
/// with fewer groups than `id` shows.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_membership_service_only_the_c_library_can_ask() {
    let Some(w) = world("nsswitch_other_service") else {
        return;
    };
    w.set_nsswitch("passwd: files\ngroup: files nosuchservice\n");
    let glibc = dynamically_linked();
    let run = w.runas(&with_probe(&["-u", "alice"]));
    if glibc {
        run.identity().assert_ids(1500, 1500, &[1500, 1700, 1701]);
    } else {
        run.assert_refused(
            "nsswitch.conf asks \"nosuchservice\" for group memberships, which this static build cannot ask",
        );
    }
}

/// systemd's userdb drop-ins (Debian's `group: files systemd`): a
/// `USER:GROUP.membership` file gives the user a group through glibc's
/// systemd module, which the static build cannot ask; it refuses where one
/// names the user, rather than run with fewer groups than `id` shows. (The
/// drop-in here names a group alice has anyway, so the glibc build's answer
/// is the same with or without the module.)
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_userdb_membership_drop_in_is_asked_for_or_refused() {
    let Some(w) = world("userdb_drop_in") else {
        return;
    };
    w.set_nsswitch("passwd: files systemd\ngroup: files systemd\n");
    let glibc = dynamically_linked();
    let with_drop_in = |user: &str| {
        w.runas_under(
            &[
                "sh",
                "-c",
                "mount -t tmpfs none /run && mkdir /run/userdb && : > /run/userdb/alice:saturn.membership && exec \"$@\"",
                "sh",
            ],
            &with_probe(&["-u", user]),
        )
    };
    let alice = with_drop_in("alice");
    if glibc {
        alice.identity().assert_ids(1500, 1500, &[1500, 1700, 1701]);
    } else {
        alice.assert_refused("/run/userdb/alice:saturn.membership\" gives the user a group through systemd's userdb, which this static build cannot read");
    }
    // A drop-in for another user changes nothing for bob.
    with_drop_in("bob")
        .identity()
        .assert_ids(1501, 1501, &[1501, 1701]);
}

/// The dry run names each id from the databases, as `id` does.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_dry_run_names_the_ids() {
    let Some(w) = world("dry_run_names") else {
        return;
    };
    let run = w.runas(&["--dry-run", "-u", "alice", "--", "true"]);
    assert!(run.output.status.success(), "{}", run.describe());
    for line in [
        "uid: 1500(alice)",
        "gid: 1500(alice)",
        "groups: 1500(alice),1700(jupiter),1701(saturn)",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.describe());
    }
}

/// The strict reader opens each account file with O_NOCTTY and O_CLOEXEC
/// and reads it in one read(2): fstat's size and one byte more, so a read
/// that stops at the size is the end, with no read that returns 0.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_account_files_are_read_in_one_read_each() {
    let Some(w) = world("one_read") else {
        return;
    };
    let trace = w.path().join("trace");
    let prefix: Vec<OsString> = [
        "strace",
        "-qq",
        "-y",
        "-e",
        "trace=openat,read",
        "-o",
        trace.to_str().unwrap(),
    ]
    .map(OsString::from)
    .to_vec();
    let run = w.runas_under(&prefix, &["-u", "alice", "--", "true"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let opened = lines
        .iter()
        // (musl adds O_LARGEFILE between them.)
        .position(|l| l.contains(r#""/etc/group", O_RDONLY|O_NOCTTY|"#) && l.contains("O_CLOEXEC)"))
        .unwrap_or_else(|| panic!("no strict open of /etc/group in\n{text}"));
    let reads = lines[opened + 1..]
        .iter()
        .take_while(|l| l.starts_with("read(") && l.contains("</etc/group>"))
        .count();
    assert_eq!(reads, 1, "{text}");
}
