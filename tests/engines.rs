//! runas as the entry point of a real container engine: Debian's rootful
//! podman with runc, running a minimal root filesystem directory (no image
//! registry). Each case reads the target's own /proc/self/status inside
//! the container.
//!
//! Needs root, RUNAS_STATIC_BIN (the musl build), podman and runc (Debian
//! packages podman, runc) and busybox-static. Where podman is missing
//! outside CI, each case says so and is counted as not applicable; in CI
//! (CI=true) a missing engine is a failure.

mod common;

use common::{privileged, skip};
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

const PODMAN: &str = "/usr/bin/podman";
const RUNC: &str = "/usr/bin/runc";

/// The static runas, or None (with the reason logged) where podman is not
/// installed outside CI.
fn engine(test: &str) -> Option<PathBuf> {
    if !privileged(test) {
        return None;
    }
    let missing: Vec<&str> = [(PODMAN, "podman"), (RUNC, "runc")]
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        let reason = format!(
            "no container engine: apt-get install {} (CI installs them)",
            missing.join(" ")
        );
        assert!(std::env::var_os("CI").is_none(), "{test}: {reason}");
        skip(test, &reason);
        return None;
    }
    let bin = std::env::var_os("RUNAS_STATIC_BIN").unwrap_or_else(|| {
        panic!("{test} needs RUNAS_STATIC_BIN, the musl build (scripts/test builds it and sets it)")
    });
    assert!(
        Path::new("/bin/busybox").exists(),
        "{test} needs /bin/busybox (Debian package busybox-static)"
    );
    Some(PathBuf::from(bin))
}

/// busybox, fixture accounts (app in a supplementary group), the static
/// runas at /usr/local/bin/runas and a gosu link to it.
fn rootfs(runas: &Path) -> tempfile::TempDir {
    let root = tempfile::Builder::new()
        .prefix("runas-engine.")
        .tempdir()
        .unwrap();
    let r = root.path();
    for dir in [
        "bin",
        "etc",
        "app",
        "usr/local/bin",
        "proc",
        "sys",
        "dev",
        "tmp",
        "run",
    ] {
        fs::create_dir_all(r.join(dir)).unwrap();
    }
    fs::set_permissions(r, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(r.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::copy("/bin/busybox", r.join("bin/busybox")).unwrap();
    for applet in ["sh", "id", "cat", "grep", "sleep"] {
        symlink("busybox", r.join("bin").join(applet)).unwrap();
    }
    let installed = r.join("usr/local/bin/runas");
    fs::copy(runas, &installed).unwrap();
    fs::set_permissions(&installed, fs::Permissions::from_mode(0o755)).unwrap();
    symlink("runas", r.join("usr/local/bin/gosu")).unwrap();
    fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        r.join("etc/group"),
        "root:x:0:\napp:x:1000:\nmedia:x:1001:app\n",
    )
    .unwrap();
    root
}

/// What the target reports: its ids, capabilities and no_new_privs.
const PROBE: &str = "echo target-ran; grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapAmb|NoNewPrivs):' /proc/self/status";

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn field(&self, key: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .unwrap_or_else(|| panic!("no {key} in\n{}", self.describe()))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The target ran with these ids in all four fields, these groups and
    /// no capabilities.
    fn assert_dropped_to(&self, uid: u32, gid: u32, groups: &str) {
        assert_eq!(self.code, 0, "{}", self.describe());
        assert_eq!(self.field("Uid"), format!("{uid} {uid} {uid} {uid}"));
        assert_eq!(self.field("Gid"), format!("{gid} {gid} {gid} {gid}"));
        assert_eq!(self.field("Groups"), groups, "{}", self.describe());
        for caps in ["CapEff", "CapPrm", "CapAmb"] {
            assert_eq!(self.field(caps), "0000000000000000", "{}", self.describe());
        }
    }

    fn assert_refused(&self, needle: &str) {
        assert_eq!(self.code, 125, "{}", self.describe());
        assert!(!self.stdout.contains("target-ran"), "{}", self.describe());
        assert!(
            self.stderr.starts_with("runas: ") && self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
    }
}

/// `podman run --rootfs ROOT` with the options this machine needs (runc,
/// explicit rlimits, no network), then `engine_args`, then the command.
fn podman(root: &Path, engine_args: &[&str], command: &[&str]) -> Outcome {
    let out = Command::new(PODMAN)
        .args([
            "run",
            "--rm",
            "--runtime",
            "runc",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1000:1000",
            "--network",
            "none",
            "--env",
            "PATH=/usr/local/bin:/bin",
        ])
        .args(engine_args)
        .arg("--rootfs")
        .arg(root)
        .args(command)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runas_probe(args: &[&str]) -> Vec<String> {
    let mut argv = vec!["runas".to_owned()];
    argv.extend(args.iter().map(|s| s.to_string()));
    argv.extend(["--", "/bin/sh", "-c", PROBE].map(String::from));
    argv
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_default_capabilities_drop_to_app() {
    let Some(bin) = engine("podman_default") else {
        return;
    };
    let root = rootfs(&bin);
    let argv = runas_probe(&["-u", "app"]);
    podman(root.path(), &[], &strs(&argv)).assert_dropped_to(1000, 1000, "1000 1001");
    // Exactly the two capabilities a switch needs.
    podman(
        root.path(),
        &["--cap-drop=ALL", "--cap-add=SETUID,SETGID"],
        &strs(&argv),
    )
    .assert_dropped_to(1000, 1000, "1000 1001");
    // gosu's command line, through the link.
    let out = podman(root.path(), &[], &["gosu", "app", "/bin/sh", "-c", PROBE]);
    out.assert_dropped_to(1000, 1000, "1001");
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_cap_drop_all_is_refused_never_root() {
    let Some(bin) = engine("podman_cap_drop_all") else {
        return;
    };
    let root = rootfs(&bin);
    for args in [&["-u", "app"][..], &["--if-root", "-u", "app"][..]] {
        let argv = runas_probe(args);
        let out = podman(root.path(), &["--cap-drop=ALL"], &strs(&argv));
        out.assert_refused("--cap-add=SETUID,SETGID");
        assert!(
            out.stderr.contains("is root but was started without"),
            "{}",
            out.describe()
        );
    }
    let out = podman(
        root.path(),
        &["--cap-drop=ALL"],
        &["gosu", "app", "/bin/sh", "-c", PROBE],
    );
    out.assert_refused("--cap-add=SETUID,SETGID");
    assert!(
        !out.stderr.contains("--if-root"),
        "gosu mode names a runas option\n{}",
        out.describe()
    );
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_no_new_privileges_and_read_only_root() {
    let Some(bin) = engine("podman_no_new_privs") else {
        return;
    };
    let root = rootfs(&bin);
    let argv = runas_probe(&["-u", "app"]);
    let out = podman(
        root.path(),
        &["--security-opt", "no-new-privileges", "--read-only"],
        &strs(&argv),
    );
    out.assert_dropped_to(1000, 1000, "1000 1001");
    assert_eq!(out.field("NoNewPrivs"), "1");
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_user_runs_as_the_caller_only_with_if_root() {
    let Some(bin) = engine("podman_user_if_root") else {
        return;
    };
    let root = rootfs(&bin);
    // podman -u with an arbitrary uid: without --if-root, refused.
    let argv = runas_probe(&["-u", "app"]);
    podman(root.path(), &["--user", "1000680000:0"], &strs(&argv)).assert_refused("CAP_SETUID");
    // With it, the command runs as the caller (podman gave uid 1000 app's
    // groups from the image's files); -e still applies.
    let argv = runas_probe(&["--if-root", "-u", "app", "-e", "MODE=caller"]);
    let mut argv_env = argv.clone();
    let last = argv_env.len() - 1;
    argv_env[last] = format!("echo mode=$MODE; {PROBE}");
    let out = podman(root.path(), &["--user", "1000"], &strs(&argv_env));
    out.assert_dropped_to(1000, 1000, "1000 1001");
    assert!(out.stdout.contains("mode=caller"), "{}", out.describe());
    // OpenShift's arbitrary uid with gid 0 and no passwd entry.
    let out = podman(root.path(), &["--user", "1000680000:0"], &strs(&argv));
    out.assert_dropped_to(1000680000, 0, "0");
    // From root the same entry point switches.
    podman(root.path(), &[], &strs(&argv)).assert_dropped_to(1000, 1000, "1000 1001");
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_default_seccomp_with_close_fds_daemon_and_new_pgroup() {
    let Some(bin) = engine("podman_seccomp_session") else {
        return;
    };
    let root = rootfs(&bin);
    // PID 1 of the container is a session leader: --new-pgroup is already
    // satisfied there.
    let argv = runas_probe(&["-u", "app", "--close-fds", "--new-pgroup"]);
    podman(root.path(), &[], &strs(&argv)).assert_dropped_to(1000, 1000, "1000 1001");
    // --daemon under the default seccomp profile: runas reports success once
    // the daemon runs; the daemon's report is read back from a file.
    let script = "runas -u app --close-fds --daemon -- /bin/sh -c \
        \"grep -E '^(Uid|Groups):' /proc/self/status > /tmp/report\"; \
        echo daemon-status=$?; \
        for i in 1 2 3 4 5 6 7 8 9 10; do [ -s /tmp/report ] && break; sleep 0.2; done; \
        cat /tmp/report";
    let out = podman(root.path(), &[], &["/bin/sh", "-c", script]);
    assert_eq!(out.code, 0, "{}", out.describe());
    assert!(out.stdout.contains("daemon-status=0"), "{}", out.describe());
    assert_eq!(
        out.field("Uid"),
        "1000 1000 1000 1000",
        "{}",
        out.describe()
    );
    assert_eq!(out.field("Groups"), "1000 1001", "{}", out.describe());
}
