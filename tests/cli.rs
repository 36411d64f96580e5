//! The command line as a user meets it: usage errors, help, version and
//! rejected input. None of these reach a credential change, so they need no
//! privilege and no fixture world.

use assert_cmd::Command;
use predicates::prelude::*;

fn runas() -> Command {
    Command::cargo_bin("runas").unwrap()
}

/// runas's own failure: exit 125, exactly one `runas:` line on stderr that
/// contains `needle`, nothing on stdout.
fn assert_usage_error(args: &[&str], needle: &str) {
    let output = runas().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(125),
        "args {args:?}\nstderr: {stderr}"
    );
    assert!(
        stderr.starts_with("runas: "),
        "args {args:?}\nstderr: {stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line only, args {args:?}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "args {args:?}: {stderr:?} lacks {needle:?}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn help_lists_every_option_and_exit_codes() {
    let assert = runas().arg("--help").assert().success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for option in [
        "--user",
        "--group",
        "--groups",
        "--init-groups",
        "--keep-groups",
        "--clear-groups",
        "--help",
        "--version",
        "125",
        "126",
        "127",
    ] {
        assert!(out.contains(option), "--help lacks {option}");
    }
    runas()
        .arg("-h")
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: runas"));
}

#[test]
fn version_prints_the_package_version() {
    runas()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("runas {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn nothing_to_change_says_what_to_add() {
    assert_usage_error(&[], "add --user USER, --group GROUP");
    assert_usage_error(&["--", "id"], "add --user USER");
    assert_usage_error(&["id"], "add --user USER");
}

#[test]
fn missing_command_is_a_usage_error() {
    assert_usage_error(&["-u", "nobody"], "missing the command");
    assert_usage_error(&["-u", "nobody", "--"], "missing the command");
}

#[test]
fn allow_root_caps_names_only_kept_root_equivalent_capabilities() {
    assert_usage_error(
        &[
            "-u",
            "nobody",
            "--keep-caps",
            "net_bind_service",
            "--allow-root-caps",
            "sys_admin",
            "--",
            "true",
        ],
        "--allow-root-caps cap_sys_admin: each must be a capability that amounts to root and is in --keep-caps",
    );
}

#[test]
fn an_empty_command_name_is_refused_before_anything_changes() {
    assert_usage_error(&["-u", "nobody", "--", ""], "empty command name");
    assert_usage_error(&["-u", "nobody", "", "arg"], "empty command name");
}

#[test]
fn unknown_and_abbreviated_options_are_refused() {
    assert_usage_error(&["--bogus", "id"], "\"--bogus\"");
    assert_usage_error(&["--us", "nobody", "id"], "\"--us\"");
    assert_usage_error(&["--clear", "id"], "\"--clear\"");
    assert_usage_error(&["-u"], "a value is required");
}

#[test]
fn conflicting_options_are_refused() {
    assert_usage_error(
        &["-u", "nobody", "--keep-groups", "--clear-groups", "id"],
        "cannot be used with",
    );
    assert_usage_error(
        &["-u", "nobody", "-G", "1", "--init-groups", "id"],
        "cannot be used with",
    );
    assert_usage_error(
        &["-u", "nobody:nogroup", "-g", "nogroup", "id"],
        "given twice",
    );
    assert_usage_error(
        &["-u", "a", "-u", "b", "id"],
        "cannot be used multiple times",
    );
    assert_usage_error(
        &["-g", "0", "--init-groups", "id"],
        "--init-groups needs --user",
    );
}

#[test]
fn invalid_ids_are_refused_quoting_the_value() {
    let table = [
        ("-1", "without a sign"),
        ("+5", "without a sign"),
        ("4294967295", "leave unchanged"),
        ("4294967296", "0 to 4294967294"),
        ("18446744073709551616", "0 to 4294967294"),
        (" 5", "white space"),
        ("5 ", "white space"),
        ("0x10", "hexadecimal"),
        ("", "empty"),
        ("al\tice", "white space"),
    ];
    for (value, reason) in table {
        for option in ["--user", "--group"] {
            let arg = format!("{option}={value}");
            assert_usage_error(&[&arg, "id"], &format!("{value:?}"));
            assert_usage_error(&[&arg, "id"], reason);
        }
    }
    assert_usage_error(&["-u", "nobody:", "id"], "after ':' is empty");
    assert_usage_error(&["-u", ":nogroup", "id"], "before ':' is empty");
    assert_usage_error(&["-u", "nobody", "-G", "1,,2", "id"], "empty item");
    assert_usage_error(&["-u", "nobody", "-G", "1,-1", "id"], "\"-1\"");
}

#[test]
fn non_utf8_user_is_refused_not_mangled() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let output = runas()
        .arg("-u")
        .arg(OsStr::from_bytes(b"ali\xffce"))
        .arg("id")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("runas: "));
}

#[test]
fn unknown_user_is_refused_before_anything_runs() {
    let output = runas()
        .args(["-u", "no-such-user-runas-test", "--", "/bin/echo", "ran"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    assert!(output.stdout.is_empty(), "the target ran");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("unknown user \"no-such-user-runas-test\"")
    );
}

#[test]
fn invalid_values_of_hardening_and_process_options_are_refused() {
    let table: &[(&[&str], &str)] = &[
        (&["--keep-caps", "net_bind_servic"], "\"net_bind_servic\""),
        (&["--keep-caps", ""], "needs at least one capability"),
        (
            &["--bounding-set", "net_raw"],
            "starts with - (drop) or + (keep)",
        ),
        (&["--bounding-set", "-bogus"], "\"-bogus\""),
        (&["--securebits", "keep-caps"], "\"keep-caps\""),
        (&["--pdeathsig", "NOPE"], "\"NOPE\""),
        (&["--pdeathsig", "-9"], "\"-9\""),
        (&["--umask", "999"], "\"999\""),
        (&["--umask", "-1"], "\"-1\""),
        (&["-e", "NOEQUALS"], "expected NAME=VALUE"),
        (&["-e", "=v"], "\"=v\""),
        (&["--unset", "A=B"], "\"A=B\""),
        (&["--close-fds", "--keep-fd", "-3"], "\"-3\""),
        (&["--keep-fd", "3"], "--close-fds"),
        (&["--reset-env", "--keep-env"], "cannot be used with"),
    ];
    for (options, needle) in table {
        let mut args = vec!["-u", "nobody"];
        args.extend_from_slice(options);
        args.extend(["--", "/bin/echo", "ran"]);
        assert_usage_error(&args, needle);
    }
}

#[test]
#[allow(clippy::too_many_lines, reason = "a table of cases")]
fn invalid_values_of_limit_and_priority_options_are_refused_quoting_the_value() {
    // Each bad value is named, quoted (control characters escaped), and why.
    let table: &[(&[&str], &str)] = &[
        (
            &["--rlimit", "nofile"],
            "\"nofile\": expected NAME=SOFT[:HARD]",
        ),
        (
            &["--rlimit", "bogus=1"],
            "invalid resource limit \"bogus\": known limits are",
        ),
        (
            &["--rlimit", "nofile="],
            "\"nofile=\": a limit is a plain decimal number",
        ),
        (
            &["--rlimit", "nofile=:"],
            "\"nofile=:\": give a soft limit, a hard limit, or both",
        ),
        (
            &["--rlimit", "nofile=-1"],
            "\"nofile=-1\": a limit is a plain decimal number",
        ),
        (&["--rlimit", "nofile=+1"], "\"nofile=+1\""),
        (&["--rlimit", "nofile=1k"], "\"nofile=1k\""),
        (&["--rlimit", "nofile=0x10"], "\"nofile=0x10\""),
        (&["--rlimit", "nofile= 1"], "\"nofile= 1\""),
        (&["--rlimit", "nofile=1:2:3"], "\"nofile=1:2:3\""),
        (
            &["--rlimit", "nofile=10:5"],
            "\"nofile=10:5\": the soft limit is above the hard limit",
        ),
        (
            &["--rlimit", "nofile=unlimited:5"],
            "\"nofile=unlimited:5\": the soft limit is above",
        ),
        (
            &["--rlimit", "nofile=18446744073709551615"],
            "write 'unlimited' for no limit",
        ),
        (
            &["--rlimit", "nofile=99999999999999999999"],
            "\"nofile=99999999999999999999\"",
        ),
        (
            &["--rlimit", "nofile=1", "--rlimit", "nofile=2"],
            "--rlimit nofile is given twice",
        ),
        (
            &["--nice", "20"],
            "invalid nice value \"20\": give a decimal number from -20 to 19",
        ),
        (&["--nice", "-21"], "invalid nice value \"-21\""),
        (&["--nice", "+1"], "invalid nice value \"+1\""),
        (&["--nice", ""], "invalid nice value \"\""),
        (&["--nice", "1.5"], "invalid nice value \"1.5\""),
        (&["--nice", "--1"], "invalid nice value \"--1\""),
        (
            &["--nice", "1", "--nice", "2"],
            "cannot be used multiple times",
        ),
        (
            &["--oom-score-adj", "1001"],
            "invalid OOM score adjustment \"1001\": give a decimal number from -1000 to 1000",
        ),
        (
            &["--oom-score-adj", "-1001"],
            "invalid OOM score adjustment \"-1001\"",
        ),
        (
            &["--oom-score-adj", "+5"],
            "invalid OOM score adjustment \"+5\"",
        ),
        (
            &["--oom-score-adj", "99999999999"],
            "invalid OOM score adjustment \"99999999999\"",
        ),
        (
            &["--ioprio", "none"],
            "invalid I/O priority \"none\": give realtime[:LEVEL], best-effort[:LEVEL] or idle",
        ),
        (
            &["--ioprio", "idle:1"],
            "invalid I/O priority \"idle:1\": the idle class has no levels",
        ),
        (
            &["--ioprio", "be:8"],
            "invalid I/O priority \"be:8\": a level is one digit from 0 (highest) to 7",
        ),
        (&["--ioprio", "be:"], "invalid I/O priority \"be:\""),
        (&["--ioprio", "rt:-1"], "invalid I/O priority \"rt:-1\""),
        (
            &["--ioprio", "best-effort:10"],
            "invalid I/O priority \"best-effort:10\"",
        ),
        (&["--cpu-affinity", ""], "invalid CPU list \"\""),
        (
            &["--cpu-affinity", "3-1"],
            "invalid CPU list \"3-1\": a range goes from the lower CPU to the higher",
        ),
        (&["--cpu-affinity", "a"], "invalid CPU list \"a\""),
        (&["--cpu-affinity", "1,"], "invalid CPU list \"1,\""),
        (&["--cpu-affinity=-1"], "invalid CPU list \"-1\""),
        (
            &["--cpu-affinity", "1024"],
            "invalid CPU list \"1024\": CPU numbers go from 0 to 1023",
        ),
        (&["--cpu-affinity", "0x1"], "invalid CPU list \"0x1\""),
        // Text from the command line is escaped in the message.
        (&["--nice", "\x1b[2J"], "invalid nice value \"\\u001b[2J\""),
        (
            &["--ioprio", "idle\x07"],
            "invalid I/O priority \"idle\\u0007\"",
        ),
        (
            &["--rlimit", "\x1b]2;x\x07=1"],
            "invalid resource limit \"\\u001b]2;x\\u0007\"",
        ),
    ];
    for (options, needle) in table {
        let mut args = vec!["-u", "nobody"];
        args.extend_from_slice(options);
        args.extend(["--", "/bin/echo", "ran"]);
        assert_usage_error(&args, needle);
        let stderr = runas().args(&args).output().unwrap().stderr;
        let stderr = String::from_utf8_lossy(&stderr);
        assert!(
            !stderr.chars().any(|c| c != '\n' && c.is_control()),
            "raw control characters: {stderr:?}"
        );
    }
}

#[test]
fn env_files_that_cannot_be_used_are_refused_naming_the_file() {
    // Missing, the wrong type, or bad syntax: `runas: --env-file "PATH": ...`,
    // whether the file is read as root or with the caller's own rights.
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let no_equals = file("no-equals.env", "A=1\nfoo\n");
    let export = file("export.env", "export A=1\n");
    let bad_name = file("bad-name.env", "A-B=1\n");
    let quote = file("quote.env", "A=\"open\nB=1\n");
    let escape = file("escape.env", "\x1b[2J\n");
    let table: &[(&[&str], String)] = &[
        (
            &["--env-file", "/nonexistent-runas-test.env"],
            "--env-file \"/nonexistent-runas-test.env\": No such file or directory".into(),
        ),
        (
            &["--env-file", "/etc"],
            "--env-file \"/etc\": it is a directory, not a regular file".into(),
        ),
        (
            &["--envdir", "/etc/passwd"],
            "--envdir \"/etc/passwd\": Not a directory".into(),
        ),
        (
            &["--env-file", "/x\x1b[2J"],
            "--env-file \"/x\\u001b[2J\": No such file or directory".into(),
        ),
        (
            &["--env-file", &no_equals],
            format!(
                "--env-file \"{no_equals}\": line 2: expected NAME=value, found a line of 3 characters without '=' (its text is not shown: it may be a secret)"
            ),
        ),
        (
            &["--env-file", &export],
            format!(
                "--env-file \"{export}\": line 1: it starts with 'export': runas does not take shell syntax such as 'export'"
            ),
        ),
        (
            &["--env-file", &bad_name],
            format!(
                "--env-file \"{bad_name}\": line 1: invalid variable name (3 characters; character 2 is '-')"
            ),
        ),
        (
            &["--env-file", &quote],
            format!("--env-file \"{quote}\": line 1: the double quote is never closed"),
        ),
        (
            &["--env-file", &escape],
            format!(
                "--env-file \"{escape}\": line 1: expected NAME=value, found a line of 4 characters without '='"
            ),
        ),
    ];
    for (options, needle) in table {
        let mut args = vec!["-u", "nobody"];
        args.extend_from_slice(options);
        args.extend(["--", "/bin/echo", "ran"]);
        assert_usage_error(&args, &format!("runas: {needle}"));
    }
}
