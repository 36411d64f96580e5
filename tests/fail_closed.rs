//! Fail closed: what runas does when system calls fail or lie, when the
//! parent hands it hostile state, and inside user namespaces.
//!
//! Faults come from strace's injector: `error=E` makes a call fail, and
//! `retval=0` skips it while reporting success (the silent failure that
//! verification exists to catch). Each case is one named test. The target
//! would create a marker file; for a refusal the marker must not exist.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

/// The fixture world plus a directory any user may write the marker into.
struct Case {
    world: World,
    marker: PathBuf,
}

fn case(test: &str) -> Option<Case> {
    if !privileged(test) {
        return None;
    }
    let world = World::new();
    let shared = world.shared_dir("shared");
    Some(Case {
        marker: shared.join("target-ran"),
        world,
    })
}

impl Case {
    /// `prefix... runas -u alice -- <probe that also creates the marker>`.
    fn run(&self, prefix: &[&str], runas_args: &[&str]) -> Run {
        let mut argv: Vec<OsString> = prefix.iter().map(OsString::from).collect();
        argv.push(self.world.runas.clone().into());
        argv.extend(runas_args.iter().map(OsString::from));
        argv.extend(["--", "/bin/sh", "-c"].map(OsString::from));
        argv.push(
            format!(
                ": > '{}'; {}",
                self.marker.display(),
                PROBE[2] // the probe script: ids, capabilities, environment
            )
            .into(),
        );
        Run::from(self.world.command(&argv).output().unwrap())
    }

    /// `run` as root whose bounding set lost `caps` (capsh's --drop list),
    /// so its exec of runas lacks them, as in a container started with
    /// --cap-drop.
    fn run_without(&self, caps: &str, runas_args: &[&str]) -> Run {
        let drop = format!("--drop={caps}");
        self.run(
            &["capsh", &drop, "--", "-c", "exec \"$0\" \"$@\""],
            runas_args,
        )
    }

    fn target_ran(&self) -> bool {
        self.marker.exists()
    }

    /// Refused: exit 125, the message names the step, the target never ran.
    fn assert_refused(&self, run: &Run, needle: &str) {
        run.assert_refused(needle);
        assert!(!self.target_ran(), "the target ran\n{}", run.describe());
    }
}

fn strace(inject: &str) -> Vec<String> {
    ["strace", "-f", "-qq", "-o", "/dev/null", "-e"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("inject={inject}")])
        .collect()
}

impl Case {
    /// `runas -u USER` under one injected fault.
    fn run_under(&self, inject: &str, user: &str) -> Run {
        let prefix = strace(inject);
        let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
        self.run(&prefix, &["-u", user])
    }
}

/// Run `runas -u alice` under one injected fault and expect a refusal.
fn injected(test: &str, inject: &str, needle: &str) {
    injected_as(test, "alice", inject, needle);
}

/// Run `runas -u USER` under one injected fault and expect a refusal.
fn injected_as(test: &str, user: &str, inject: &str, needle: &str) {
    let Some(c) = case(test) else { return };
    let run = c.run_under(inject, user);
    c.assert_refused(&run, needle);
}

macro_rules! refused_under {
    ($($name:ident: $inject:literal => $needle:literal;)*) => {
        $(
            #[test]
            #[ignore = "needs root: run as root with cargo test -- --include-ignored"]
            fn $name() {
                injected(stringify!($name), $inject, $needle);
            }
        )*
    };
}

refused_under! {
    setgroups_failing_stops_runas: "setgroups:error=EPERM" => "runas: setgroups(1500,1700,1701): Operation not permitted";
    setgroups_skipped_is_caught_by_verification: "setgroups:retval=0" => "verification failed: supplementary groups are";
    setresgid_failing_stops_runas: "setresgid:error=EPERM" => "runas: setresgid(1500): Operation not permitted";
    setresgid_skipped_is_caught_by_verification: "setresgid:retval=0" => "verification failed: real gid is 0, expected 1500";
    setresuid_failing_stops_runas: "setresuid:error=EPERM" => "runas: setresuid(1500): Operation not permitted";
    setresuid_skipped_is_caught_by_verification: "setresuid:retval=0" => "verification failed: real uid is 0, expected 1500";
    getgroups_failing_stops_runas: "getgroups:error=EPERM" => "runas: getgroups: Operation not permitted";
    getgroups_lying_is_caught_by_verification: "getgroups:retval=0" => "verification failed: supplementary groups are [], expected [1500,1700,1701]";
    getresuid_failing_stops_runas: "getresuid:error=EPERM" => "runas: getresuid: Operation not permitted";
    getresuid_not_reporting_is_caught_by_verification: "getresuid:retval=0" => "verification failed: the kernel did not report the real uid";
    getresgid_failing_stops_runas: "getresgid:error=EPERM" => "runas: getresgid: Operation not permitted";
    getresgid_not_reporting_is_caught_by_verification: "getresgid:retval=0" => "verification failed: the kernel did not report the real gid";
    capset_failing_stops_runas: "capset:error=EPERM" => "runas: capset: Operation not permitted";
    capget_failing_stops_runas: "capget:error=EPERM" => "runas: capget: Operation not permitted";
    capget_not_reporting_reads_as_all_capabilities_and_is_refused: "capget:retval=0" => "verification failed: permitted capability set is 0xffffffffffffffff, expected 0x0";
    prctl_failing_stops_runas: "prctl:error=EPERM" => "runas: prctl(PR_GET_SECUREBITS): Operation not permitted";
    prctl_failing_at_the_switch_stops_runas: "prctl:error=EPERM:when=2+" => "runas: prctl(PR_CAP_AMBIENT_CLEAR_ALL): Operation not permitted";
    regain_attempt_reported_as_success_is_refused: "setresuid:retval=0:when=2" => "verification failed: the uid change can be undone";
    gid_regain_attempt_reported_as_success_is_refused: "setresgid:retval=0:when=2" => "verification failed: the gid change can be undone";
    setgroups_einval_names_the_kernel_limit_and_the_map: "setgroups:error=EINVAL" => "runas: setgroups(1500,1700,1701) (more groups than the kernel allows, or a gid not mapped in this user namespace: see /proc/self/gid_map): Invalid argument";
    setresgid_einval_names_the_map: "setresgid:error=EINVAL" => "runas: setresgid(1500) (gid 1500 is not mapped in this user namespace: see /proc/self/gid_map): Invalid argument";
    setresuid_einval_names_the_map: "setresuid:error=EINVAL" => "runas: setresuid(1500) (uid 1500 is not mapped in this user namespace: see /proc/self/uid_map): Invalid argument";
    setresuid_eagain_names_the_process_limit: "setresuid:error=EAGAIN" => "runas: setresuid(1500) (the target uid has reached RLIMIT_NPROC): Resource temporarily unavailable";
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn capset_skipped_with_no_setuid_fixup_is_caught_by_verification() {
    // With SECBIT_NO_SETUID_FIXUP the kernel keeps root's capabilities
    // across setresuid; only runas's own capset removes them.
    let Some(c) = case("capset_skipped_with_no_setuid_fixup") else {
        return;
    };
    let mut prefix = vec!["setpriv", "--securebits", "+no_setuid_fixup", "--"];
    let trace = strace("capset:retval=0");
    prefix.extend(trace.iter().map(String::as_str));
    let run = c.run(&prefix, &["-u", "alice"]);
    c.assert_refused(&run, "verification failed: permitted capability set is 0x");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn capset_skipped_without_hostile_securebits_still_leaves_no_capability() {
    // Not a refusal, and rightly so: with ordinary securebits the kernel
    // itself empties the sets when uid 0 becomes 1500, so the skipped capset
    // changes nothing and verification proves the sets empty. The target runs.
    let Some(c) = case("capset_skipped_plain") else {
        return;
    };
    let trace = strace("capset:retval=0");
    let prefix: Vec<&str> = trace.iter().map(String::as_str).collect();
    let id = c.run(&prefix, &["-u", "alice"]).identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn prctl_skipped_with_ambient_capabilities_still_leaves_none() {
    // Not a refusal: the kernel keeps ambient ⊆ permitted ∩ inheritable, and
    // runas's capset empties inheritable, which empties ambient with it.
    let Some(c) = case("prctl_skipped") else {
        return;
    };
    let mut prefix = vec![
        "setpriv",
        "--inh-caps",
        "+net_raw",
        "--ambient-caps",
        "+net_raw",
        "--",
    ];
    let trace = strace("prctl:retval=0");
    prefix.extend(trace.iter().map(String::as_str));
    let id = c.run(&prefix, &["-u", "alice"]).identity();
    id.assert_no_capabilities();
}

/// execve failures map to 127 (not found) and 126 (not executable).
fn exec_fault(test: &str, errno: &str, code: i32, needle: &str) {
    let Some(c) = case(test) else { return };
    let trace = strace(&format!("execve:error={errno}"));
    let prefix: Vec<&str> = trace.iter().map(String::as_str).collect();
    let run = c.run(&prefix, &["-u", "alice"]);
    assert_eq!(run.code(), Some(code), "{}", run.describe());
    assert!(
        run.stderr.starts_with("runas: \"/bin/sh\": "),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains(needle), "{}", run.describe());
    assert!(!c.target_ran());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn execve_enoent_is_127() {
    exec_fault("execve_enoent", "ENOENT", 127, "command not found");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn execve_eacces_is_126() {
    exec_fault("execve_eacces", "EACCES", 126, "permission denied");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn execve_enoexec_is_126() {
    exec_fault("execve_enoexec", "ENOEXEC", 126, "not a valid executable");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn execve_e2big_is_126() {
    exec_fault("execve_e2big", "E2BIG", 126, "Argument list too long");
}

/// A signal arriving in the middle of the switch kills runas there; the
/// target never runs half-switched.
fn signal_during(test: &str, inject: &str, signal: i32) {
    let Some(c) = case(test) else { return };
    let trace = strace(inject);
    let prefix: Vec<&str> = trace.iter().map(String::as_str).collect();
    let run = c.run(&prefix, &["-u", "alice"]);
    assert_eq!(
        run.output.status.signal(),
        Some(signal),
        "{}",
        run.describe()
    );
    assert!(!c.target_ran(), "the target ran\n{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn sigterm_while_reading_the_group_database_stops_everything() {
    signal_during("sigterm_resolving", "openat:signal=SIGTERM:when=3+", 15);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn sigint_between_setgroups_and_setresgid_stops_everything() {
    signal_during("sigint_setgroups", "setgroups:signal=SIGINT", 2);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn sigterm_at_setresuid_stops_everything() {
    signal_during("sigterm_setresuid", "setresuid:signal=SIGTERM", 15);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn hostile_securebits_and_raised_capabilities_are_cleared() {
    // SECBIT_KEEP_CAPS is not in the mix because it cannot be: the kernel
    // clears it on every execve, so no parent can hand it to runas (setpriv
    // refuses to set it for that reason). SECBIT_NO_SETUID_FIXUP survives
    // execve and has the same effect on setresuid: capabilities are kept.
    let Some(c) = case("hostile_securebits") else {
        return;
    };
    let prefix = [
        "setpriv",
        "--securebits",
        "+no_setuid_fixup",
        "--inh-caps",
        "+net_raw,+sys_admin",
        "--ambient-caps",
        "+net_raw,+sys_admin",
        "--",
    ];
    let id = c.run(&prefix, &["-u", "alice"]).identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
}

/// Root whose bounding set lost `cap` (so its exec of runas lacks it too)
/// is refused before any change, with the capability named.
fn root_without(test: &str, cap: &str, name: &str) {
    let Some(c) = case(test) else { return };
    let run = c.run_without(&format!("cap_{cap}"), &["-u", "alice"]);
    c.assert_refused(
        &run,
        &format!("needs {name}, which this process (uid 0) does not have"),
    );
    // The fix names exactly the one that is missing.
    let short = name.trim_start_matches("CAP_");
    assert!(
        run.stderr
            .contains(&format!("was started without {name} (")),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains(&format!(
            "add it back (podman or docker run --cap-add={short})"
        )),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_without_cap_setuid_is_refused_naming_it() {
    root_without("root_without_cap_setuid", "setuid", "CAP_SETUID");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_without_cap_setgid_is_refused_naming_it() {
    root_without("root_without_cap_setgid", "setgid", "CAP_SETGID");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn no_new_privs_set_by_the_parent_still_works_and_stays_set() {
    let Some(c) = case("no_new_privs") else {
        return;
    };
    let run = c.run(&["setpriv", "--no-new-privs", "--"], &["-u", "alice"]);
    let id = run.identity();
    id.assert_ids(1500, 1500, &[1500, 1700, 1701]);
    assert!(run.stdout.contains("NoNewPrivs:\t1"), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn small_rlimit_nproc_never_runs_the_target_with_the_wrong_identity() {
    let Some(c) = case("rlimit_nproc") else {
        return;
    };
    for limit in ["--nproc=0", "--nproc=1"] {
        let _ = std::fs::remove_file(&c.marker);
        let run = c.run(&["prlimit", limit, "--"], &["-u", "alice"]);
        if c.target_ran() {
            // The kernel let the exec through: it must be alice, fully.
            run.identity().assert_ids(1500, 1500, &[1500, 1700, 1701]);
        } else {
            assert_ne!(run.code(), Some(0), "{}", run.describe());
            assert!(run.stderr.contains("RLIMIT_NPROC"), "{}", run.describe());
        }
    }
}

/// Run `runas` inside a new user namespace whose maps root writes from
/// outside: `uid_map`/`gid_map` text, and whether setgroups is denied.
fn in_user_namespace(
    c: &Case,
    uid_map: &str,
    gid_map: &str,
    deny_setgroups: bool,
    runas_args: &[&str],
) -> Run {
    let go = c.world.path().join("go");
    let script = r#"
        go="$1"; uid_map="$2"; gid_map="$3"; deny="$4"; shift 4
        mkfifo "$go"
        unshare --user -- /bin/sh -c 'read _ < "$0"; exec "$@"' "$go" "$@" &
        pid=$!
        while [ "$(readlink /proc/$pid/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
        printf '%s\n' "$uid_map" > /proc/$pid/uid_map
        if [ "$deny" = yes ]; then echo deny > /proc/$pid/setgroups; fi
        printf '%s\n' "$gid_map" > /proc/$pid/gid_map
        echo go > "$go"
        wait $pid
    "#;
    let mut argv: Vec<OsString> = ["/bin/sh", "-c", script, "sh"].map(OsString::from).to_vec();
    argv.push(go.into());
    argv.extend([uid_map, gid_map, if deny_setgroups { "yes" } else { "no" }].map(OsString::from));
    argv.push(c.world.runas.clone().into());
    argv.extend(runas_args.iter().map(OsString::from));
    argv.extend(["--", "/bin/sh", "-c"].map(OsString::from));
    argv.push(format!(": > '{}'; {}", c.marker.display(), PROBE[2]).into());
    Run::from(c.world.command(&argv).output().unwrap())
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unmapped_target_uid_is_refused_naming_the_map() {
    let Some(c) = case("userns_unmapped_uid") else {
        return;
    };
    let run = in_user_namespace(
        &c,
        "0 0 1\n1700 1700 1",
        "0 0 1\n1500 1500 1\n1700 1700 2",
        false,
        &["-u", "alice"],
    );
    c.assert_refused(
        &run,
        "uid 1500 is not mapped in this user namespace (see /proc/self/uid_map)",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unmapped_target_gid_is_refused_naming_the_map() {
    let Some(c) = case("userns_unmapped_gid") else {
        return;
    };
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1700 1700 2",
        false,
        &["-u", "alice"],
    );
    c.assert_refused(
        &run,
        "gid 1500 is not mapped in this user namespace (see /proc/self/gid_map)",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unmapped_supplementary_gid_is_refused_naming_the_map() {
    let Some(c) = case("userns_unmapped_group") else {
        return;
    };
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1",
        false,
        &["-u", "alice"],
    );
    c.assert_refused(
        &run,
        "supplementary gid 1700 is not mapped in this user namespace (see /proc/self/gid_map)",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn fully_mapped_switch_in_a_user_namespace_works() {
    let Some(c) = case("userns_mapped") else {
        return;
    };
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1\n1700 1700 2",
        false,
        &["-u", "alice"],
    );
    run.identity().assert_ids(1500, 1500, &[1500, 1700, 1701]);
}

/// A list longer than getgroups' first guess (64): verification asks with
/// room for the plan's count. A getgroups that writes nothing
/// there is caught; one that claims more than the room it was given is not
/// believed (the list is then read again, count first).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn getgroups_lying_about_a_long_list_is_caught_by_verification() {
    injected_as(
        "getgroups_lying_long",
        "crowd",
        "getgroups:retval=0:when=2+",
        "verification failed: supplementary groups are [], expected 2001 groups",
    );
}

/// Verification's call, with room for 2,001, says 2,001 and writes
/// nothing: what it left must be no gid of the plan's.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn getgroups_counting_a_long_list_without_writing_it_is_caught() {
    injected_as(
        "getgroups_unwritten_long",
        "crowd",
        "getgroups:retval=2001:when=2",
        "verification failed: supplementary groups are [4294967295], expected 2001 groups",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn getgroups_claiming_more_than_its_room_is_read_again() {
    let Some(c) = case("getgroups_claiming_more") else {
        return;
    };
    // The second call is verification's first, with room for 2,001.
    let run = c.run_under("getgroups:retval=5000:when=2", "crowd");
    let id = run.identity();
    assert_eq!(id.groups.len(), 2001, "{}", run.describe());
    assert!(c.target_ran());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setgroups_denied_but_list_unchanged_skips_setgroups_and_succeeds() {
    let Some(c) = case("userns_deny_unchanged") else {
        return;
    };
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1",
        true,
        &["-u", "alice", "--keep-groups"],
    );
    let id = run.identity();
    assert_eq!(
        (id.uid, id.gid),
        ([1500; 4], [1500; 4]),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn setgroups_denied_and_list_changing_is_refused_saying_so() {
    let Some(c) = case("userns_deny_changed") else {
        return;
    };
    // The caller (root) never holds exactly 1500 and 1700, so the list changes.
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1\n1700 1700 1",
        true,
        &["-u", "alice", "--groups", "1500,1700"],
    );
    // Refused before any change, by the check of the maps, not by the
    // failing setgroups call's hint.
    c.assert_refused(
        &run,
        "setgroups is denied in this user namespace (/proc/self/setgroups is \"deny\"), so the supplementary groups cannot change: add --keep-groups",
    );
    // The dry run reads the maps as well: refused with the same words,
    // and valid with the list kept.
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1\n1700 1700 1",
        true,
        &["--dry-run", "-u", "alice", "--groups", "1500,1700"],
    );
    assert!(
        run.stderr
            .contains("so the supplementary groups cannot change"),
        "{}",
        run.describe()
    );
    let run = in_user_namespace(
        &c,
        "0 0 1\n1500 1500 1",
        "0 0 1\n1500 1500 1",
        true,
        &["--dry-run", "-u", "alice", "--keep-groups"],
    );
    assert!(
        run.output.status.success() && run.stdout.contains("uid: 1500"),
        "{}",
        run.describe()
    );
}

/// getgrouplist cannot report a group file it could not read: it gives the
/// primary group alone. Whether the files are the only source (the strict
/// reader) or one among others (getgrouplist, checked against the strict
/// reader), a failing first open of /etc/group must never mean fewer groups.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_group_file_that_cannot_be_read_never_loses_memberships() {
    let Some(c) = case("group_file_unreadable") else {
        return;
    };
    for nsswitch in [
        "passwd: files\ngroup: files\n",
        "passwd: files\ngroup: files nosuchservice\n",
    ] {
        c.world.set_nsswitch(nsswitch);
        for error in ["EIO", "EACCES", "EMFILE"] {
            // open(2) too: musl opens with it.
            let inject = format!("inject=open,openat:error={error}:when=1");
            let prefix = [
                "strace",
                "-f",
                "-qq",
                "-o",
                "/dev/null",
                "-P",
                "/etc/group",
                "-e",
                &inject,
            ];
            let run = c.run(&prefix, &["-u", "alice"]);
            assert_eq!(
                run.code(),
                Some(125),
                "{nsswitch:?} {error}\n{}",
                run.describe()
            );
            assert!(
                !c.target_ran(),
                "{nsswitch:?} {error}: the target ran\n{}",
                run.describe()
            );
            assert!(run.stderr.contains("group"), "{}", run.describe());
        }
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn close_range_refused_falls_back_to_one_descriptor_at_a_time() {
    let Some(c) = case("close_range_enosys") else {
        return;
    };
    // runas --close-fds with descriptor 7 open, under one injected fault.
    let with_fd_7 = |inject: &str| {
        let prefix: Vec<String> = ["/bin/sh", "-c", "exec 7</dev/null; exec \"$@\"", "sh"]
            .iter()
            .map(|s| s.to_string())
            .chain(strace(inject))
            .collect();
        let args = [
            "-u",
            "alice",
            "--close-fds",
            "--",
            "/bin/sh",
            "-c",
            "ls /proc/$$/fd",
        ];
        c.world.runas_under(&prefix, &args)
    };
    for error in ["ENOSYS", "EPERM"] {
        let run = with_fd_7(&format!("close_range:error={error}"));
        assert_eq!(run.code(), Some(0), "{error}\n{}", run.describe());
        assert!(
            !run.stdout.lines().any(|l| l == "7"),
            "{error}: fd 7 leaked\n{}",
            run.describe()
        );
    }
    // A close_range that reports success without doing it is caught.
    with_fd_7("close_range:retval=0").assert_refused("descriptor 7 would stay open");
}

refused_under! {
    filesystem_uid_not_reported_is_refused: "setfsuid:retval=0" => "verification failed: filesystem uid is 0, expected 1500";
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_empty_argument_list_is_refused() {
    let Some(c) = case("argc0") else { return };
    let argv = exec_with_no_arguments(&c.world.runas);
    let run = Run::from(c.world.command(&argv).output().unwrap());
    run.assert_refused("empty argument list");
}

/// A container started with --cap-drop=ALL is root without CAP_SETUID:
/// --if-root never takes that for "not root" and continues as root; the
/// message names the real cause and the fix.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_without_cap_setuid_is_refused_even_with_if_root() {
    let Some(c) = case("root_without_cap_setuid_if_root") else {
        return;
    };
    let run = c.run_without("cap_setuid,cap_setgid", &["--if-root", "-u", "alice"]);
    c.assert_refused(&run, "--cap-add=SETUID,SETGID");
    assert!(
        run.stderr.contains("is root but was started without"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains("run runas as root"),
        "{}",
        run.describe()
    );
}

/// The proof reads the ids again after its regain attempts: a regain that
/// reports EPERM but happened must not pass. A preload shim makes the
/// switch keep root as the saved uid while getresuid hides it, then lets
/// the regain attempt (setresuid(0, 0, 0), allowed to the saved uid)
/// happen and report EPERM; only the read after the attempts sees root.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_regain_that_happened_but_reported_eperm_is_caught() {
    let Some(c) = case("regain_lies") else { return };
    const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>
static long (*real_syscall)(long, ...);
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real_syscall(n, a, b, c, d, e, f);
}
#define sys3(n, a, b, c) sys6(n, a, b, c, 0, 0, 0)
/* The switch: keeps root as the saved uid. */
int setresuid(uid_t r, uid_t e, uid_t s) {
    if (r == 1500 && e == 1500 && s == 1500) return sys3(SYS_setresuid, 1500, 1500, 0);
    return sys3(SYS_setresuid, r, e, s);
}
/* Hides the saved root. */
int getresuid(uid_t *r, uid_t *e, uid_t *s) {
    long ret = sys3(SYS_getresuid, (long)r, (long)e, (long)s);
    if (ret == 0 && *r == 1500 && *e == 1500 && *s == 0) *s = 1500;
    return ret;
}
/* The regain probe (a plain syscall): happens, and reports EPERM. */
long syscall(long n, ...) {
    va_list ap;
    va_start(ap, n);
    /* As glibc's own syscall(): six argument registers, used or not. */
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if (n == SYS_setresuid && a == 0 && b == 0 && c == 0 && geteuid() != 0) {
        sys3(SYS_setresuid, 0, 0, 0);
        errno = EPERM;
        return -1;
    }
    return sys6(n, a, b, c, d, e, f);
}
"#;
    let Some(shim) = preload_shim(&c.world, "regain_lies", "regain_lies", SHIM) else {
        return;
    };
    let preload = format!("LD_PRELOAD={}", shim.display());
    let run = c.run(&["env", &preload], &["-u", "alice"]);
    c.assert_refused(&run, "verification failed: real uid is 0, expected 1500");
}
