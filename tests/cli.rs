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
fn unknown_and_abbreviated_options_are_refused() {
    assert_usage_error(&["--bogus", "id"], "'--bogus'");
    assert_usage_error(&["--us", "nobody", "id"], "'--us'");
    assert_usage_error(&["--clear", "id"], "'--clear'");
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
