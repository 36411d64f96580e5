//! gosu and su-exec modes: runas invoked through a link with their name.

mod common;

use common::*;

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// uid, gid, supplementary groups (as /proc shows them) and HOME.
fn outcome(run: &Run) -> (u32, u32, Vec<u32>, String) {
    let id = run.identity();
    assert_eq!(id.uid, [id.uid[0]; 4], "uid fields differ");
    assert_eq!(id.gid, [id.gid[0]; 4], "gid fields differ");
    (
        id.uid[0],
        id.gid[0],
        id.groups.clone(),
        id.env("HOME").to_owned(),
    )
}

fn probe_args(spec: &str) -> Vec<String> {
    let mut args = vec![spec.to_owned()];
    args.extend(PROBE.iter().map(|s| s.to_string()));
    args
}

/// A spec and the uid, gid, supplementary groups and HOME it must give.
type Expected = (&'static str, (u32, u32, &'static [u32], &'static str));

/// gosu's own table (its Dockerfile.test cases), in the fixture world.
const GOSU_TABLE: &[Expected] = &[
    ("0", (0, 0, &[], "/root")),
    ("0:0", (0, 0, &[], "/root")),
    ("root", (0, 0, &[], "/root")),
    ("root:root", (0, 0, &[], "/root")),
    ("1000", (1000, 0, &[], "/")),
    ("1000:1000", (1000, 1000, &[], "/")),
    ("1000:root", (1000, 0, &[], "/")),
    ("root:1000", (0, 1000, &[], "/root")),
    ("games", (5, 60, &[100], "/usr/games")),
    ("games:daemon", (5, 1, &[], "/usr/games")),
    ("daemon:games", (1, 60, &[], "/usr/sbin")),
    ("alice", (1500, 1500, &[1700, 1701], "/home/alice")),
    ("alice:jupiter", (1500, 1700, &[], "/home/alice")),
];

const GOSU_FAILURES: &[&str] = &["bogus", "0day", "0:bogus", "bogus:0"];

/// gosu's table also has "" and ":0", which keep root; runas refuses an
/// empty USER from a root caller (an unset $APP_USER), a deliberate
/// difference.
const EMPTY_USER: &[&str] = &["", ":", ":0", ":1700"];

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn gosu_mode_follows_gosus_table() {
    let Some(w) = world("gosu_table") else { return };
    let gosu = w.link("gosu");
    for (spec, (uid, gid, groups, home)) in GOSU_TABLE {
        let run = w.program(&gosu, &probe_args(spec));
        assert_eq!(
            outcome(&run),
            (*uid, *gid, groups.to_vec(), home.to_string()),
            "gosu {spec:?}\n{}",
            run.describe()
        );
        // USER and LOGNAME are left as they were.
        assert_eq!(
            run.identity().env("USER"),
            std::env::var("USER").as_deref().unwrap_or("<unset>")
        );
    }
    for spec in GOSU_FAILURES {
        w.program(&gosu, &probe_args(spec))
            .assert_refused(&format!("{spec:?}"));
    }
}

/// `ENTRYPOINT ["gosu", "$APP_USER", ...]` with the variable unset: gosu
/// and su-exec run the command as root with exit 0.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_empty_user_from_root_is_refused_in_both_modes() {
    let Some(w) = world("compat_empty_user") else {
        return;
    };
    for name in ["gosu", "su-exec"] {
        let link = w.link(name);
        for spec in EMPTY_USER {
            w.program(&link, &probe_args(spec))
                .assert_refused("write root or 0 to keep root");
        }
    }
    // An ordinary caller's empty USER is itself, as in gosu (alice holds
    // exactly what gosu gives alice, so nothing needs privilege).
    let mut argv = caller_prefix(1500, 1500, &[1700, 1701]);
    argv.push(w.path().join("gosu").into());
    argv.extend(probe_args("").into_iter().map(Into::into));
    let id = Run::from(w.command(&argv).output().unwrap()).identity();
    id.assert_ids(1500, 1500, &[1700, 1701]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn gosu_mode_matches_real_gosu_line_by_line() {
    let Some(w) = world("gosu_oracle") else {
        return;
    };
    let real = std::path::Path::new("/usr/sbin/gosu");
    assert!(
        real.exists(),
        "gosu_oracle compares with Debian's gosu: install the package gosu"
    );
    let ours = w.link("gosu");
    for (spec, _) in GOSU_TABLE {
        let theirs = w.program(real, &probe_args(spec));
        let mine = w.program(&ours, &probe_args(spec));
        assert_eq!(
            outcome(&mine),
            outcome(&theirs),
            "gosu {spec:?}\nreal gosu:\n{}",
            theirs.describe()
        );
    }
    for spec in GOSU_FAILURES {
        let theirs = w.program(real, &probe_args(spec));
        assert!(
            !theirs.output.status.success(),
            "real gosu accepted {spec:?}"
        );
        w.program(&ours, &probe_args(spec))
            .assert_refused(&format!("{spec:?}"));
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn gosu_mode_usage_help_version_and_separator() {
    let Some(w) = world("gosu_cli") else { return };
    let gosu = w.link("gosu");
    let help = w.program(&gosu, &["--help"]);
    assert!(
        help.output.status.success() && help.stdout.contains("Usage: gosu USER[:GROUP]"),
        "{}",
        help.describe()
    );
    let version = w.program(&gosu, &["--version"]);
    assert!(
        version.stdout.contains("gosu mode"),
        "{}",
        version.describe()
    );
    w.program(&gosu, &["alice"])
        .assert_refused("missing USER[:GROUP] or COMMAND");
    let mut args = vec!["alice".to_owned(), "--".to_owned()];
    args.extend(PROBE.iter().map(|s| s.to_string()));
    let run = w.program(&gosu, &args);
    assert_eq!(outcome(&run).0, 1500);
    // Exit codes are runas's: 127 for a missing command, not gosu's 1.
    let run = w.program(&gosu, &["alice", "/no/such/command"]);
    assert_eq!(run.code(), Some(127), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn su_exec_mode_follows_su_exec() {
    let Some(w) = world("su_exec") else { return };
    let su_exec = w.link("su-exec");
    let table: &[Expected] = &[
        ("alice", (1500, 1500, &[1500, 1700, 1701], "/home/alice")),
        ("1500", (1500, 1500, &[1500, 1700, 1701], "/home/alice")),
        ("alice:jupiter", (1500, 1700, &[1700], "/home/alice")),
        ("alice:1999", (1500, 1999, &[1999], "/home/alice")),
        ("4242", (4242, 0, &[0], "/")),
        ("4242:4243", (4242, 4243, &[4243], "/")),
        ("games", (5, 60, &[60, 100], "/usr/games")),
        ("root", (0, 0, &[0], "/root")),
    ];
    for (spec, (uid, gid, groups, home)) in table {
        let run = w.program(&su_exec, &probe_args(spec));
        assert_eq!(
            outcome(&run),
            (*uid, *gid, groups.to_vec(), home.to_string()),
            "su-exec {spec:?}\n{}",
            run.describe()
        );
    }
    for spec in ["bogus", "alice:bogus", "-1", "4294967295"] {
        w.program(&su_exec, &probe_args(spec))
            .assert_refused(&format!("{spec:?}"));
    }
}
