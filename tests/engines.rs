//! runas in real engines: Debian's podman with runc, rootful and rootless,
//! running a minimal root filesystem directory (no image registry), and
//! systemd booted as PID 1 inside podman. Each case reads the target's own
//! /proc/self/status.
//!
//! Needs root, RUNAS_STATIC_BIN (the musl build), podman, runc and
//! newuidmap (Debian packages podman, runc, uidmap), busybox-static, and
//! systemd and python3 in the host's /usr (mounted into the systemd case). Where podman is missing
//! outside CI, each case says so and is counted as not applicable; in CI
//! (CI=true) a missing engine is a failure.

mod common;

use common::{privileged, skip, static_runas};
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
    let missing: Vec<&str> = [
        (PODMAN, "podman"),
        (RUNC, "runc"),
        ("/usr/bin/newuidmap", "uidmap"),
    ]
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
    Some(static_runas(test))
}

/// busybox, fixture accounts (app in a supplementary group), the static
/// runas at /usr/local/bin/runas and a gosu link to it.
fn rootfs(runas: &Path) -> tempfile::TempDir {
    let root = common::container_root(
        "runas-engine.",
        &[
            "bin",
            "etc",
            "app",
            "usr/local/bin",
            "proc",
            "sys",
            "dev",
            "tmp",
            "run",
        ],
    );
    let r = root.path();
    fs::set_permissions(r.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    common::install_busybox(r, &["sh", "id", "cat", "grep", "sleep", "stat", "chown"]);
    // The packaged image's entry point, and the data directory it hands over.
    fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/packaging/docker/entrypoint.sh"
        ),
        r.join("entrypoint.sh"),
    )
    .unwrap();
    fs::set_permissions(r.join("entrypoint.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir(r.join("app/data")).unwrap();
    let installed = r.join("usr/local/bin/runas");
    fs::copy(runas, &installed).unwrap();
    fs::set_permissions(&installed, fs::Permissions::from_mode(0o755)).unwrap();
    symlink("runas", r.join("usr/local/bin/gosu")).unwrap();
    // What podman would otherwise create in the root, which rootless
    // podman (whose root is not the owner of this directory) cannot.
    symlink("../proc/self/mounts", r.join("etc/mtab")).unwrap();
    for file in ["hosts", "hostname", "resolv.conf"] {
        fs::write(r.join("etc").join(file), "").unwrap();
    }
    common::container_accounts(r, "/app");
    root
}

/// What the target reports: its ids, capabilities and no_new_privs.
const PROBE: &str = "echo target-ran; grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapAmb|NoNewPrivs):' /proc/self/status";

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<std::process::Output> for Outcome {
    fn from(out: std::process::Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
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
    Outcome::from(
        Command::new(PODMAN)
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
            .unwrap(),
    )
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

/// The packaged entry point under --cap-drop=ALL: runas names the missing
/// capability before the script's own root work (chown) can fail with a
/// bare "Operation not permitted"; with the default capabilities it hands
/// the data over and drops.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_packaged_entrypoint_lets_runas_speak_first() {
    let Some(bin) = engine("podman_packaged_entrypoint") else {
        return;
    };
    let root = rootfs(&bin);
    let out = podman(
        root.path(),
        &["--cap-drop=ALL"],
        &["/entrypoint.sh", "/bin/sh", "-c", PROBE],
    );
    out.assert_refused("--cap-add=SETUID,SETGID");
    assert!(!out.stderr.contains("chown"), "{}", out.describe());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.describe());
    let out = podman(
        root.path(),
        &[],
        &["/entrypoint.sh", "/bin/sh", "-c", PROBE],
    );
    out.assert_dropped_to(1000, 1000, "1000 1001");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(root.path().join("app/data")).unwrap().uid(),
        1000
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
    // podman -u 1000 already gives app's ids and groups (from the image's
    // files): nothing to change, so even without --if-root it runs.
    let argv = runas_probe(&["-u", "app"]);
    podman(root.path(), &["--user", "1000"], &strs(&argv)).assert_dropped_to(
        1000,
        1000,
        "1000 1001",
    );
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

/// A container booted with systemd as PID 1 (`--systemd=always`): a root
/// filesystem of fixture accounts and the static runas at /opt/runas, with
/// the host's /usr (systemd, python3) mounted read-only. Removed on drop.
struct SystemdContainer {
    name: String,
    root: tempfile::TempDir,
}

impl SystemdContainer {
    fn boot(runas: &Path, test: &str) -> SystemdContainer {
        let root = common::container_root(
            "runas-systemd.",
            &[
                "proc",
                "sys",
                "dev",
                "run",
                "tmp",
                "etc/systemd/system",
                "var/log",
                "var/lib",
                "root",
                "opt",
                "home/app",
            ],
        );
        let r = root.path();
        fs::set_permissions(r.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
        // podman mounts tmpfs on /tmp and /run under --systemd=always; the
        // services report into /srv, app's, which the test reads directly.
        fs::create_dir_all(r.join("srv")).unwrap();
        for dir in ["home/app", "srv"] {
            std::os::unix::fs::chown(r.join(dir), Some(1000), Some(1000)).unwrap();
        }
        for dir in ["bin", "lib", "lib64", "sbin"] {
            symlink(format!("usr/{dir}"), r.join(dir)).unwrap();
        }
        fs::copy("/usr/lib/os-release", r.join("etc/os-release")).unwrap();
        common::container_accounts(r, "/home/app");
        fs::write(r.join("etc/nsswitch.conf"), "passwd: files\ngroup: files\n").unwrap();
        fs::copy(runas, r.join("opt/runas")).unwrap();
        fs::set_permissions(r.join("opt/runas"), fs::Permissions::from_mode(0o755)).unwrap();
        let name = format!("runas-{test}-{}", std::process::id());
        let out = Command::new(PODMAN)
            .args([
                "run",
                "-d",
                "--name",
                &name,
                "--runtime",
                "runc",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1000:1000",
                "--network",
                "none",
                "--systemd=always",
                "-v",
                "/usr:/usr:ro",
                "--rootfs",
            ])
            .arg(r)
            // Only the basic system: not the host's services that /usr
            // also holds.
            .args(["/lib/systemd/systemd", "--unit=basic.target"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman could not boot systemd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let container = SystemdContainer { name, root };
        // "degraded" (a unit this bare root lacks failed) is booted too;
        // until systemd's bus is up, systemctl cannot ask.
        let mut state = container.exec(&["true"]);
        for _ in 0..300 {
            state = container.exec(&["systemctl", "is-system-running", "--wait"]);
            if state.stdout.contains("running") || state.stdout.contains("degraded") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(
            state.stdout.contains("running") || state.stdout.contains("degraded"),
            "systemd did not finish booting\n{}",
            state.describe()
        );
        container
    }

    fn exec(&self, command: &[&str]) -> Outcome {
        Outcome::from(
            Command::new(PODMAN)
                .args(["exec", &self.name])
                .args(command)
                .output()
                .unwrap(),
        )
    }

    fn install_unit(&self, name: &str, text: &str) {
        fs::write(self.root.path().join("etc/systemd/system").join(name), text).unwrap();
        let out = self.exec(&["systemctl", "daemon-reload"]);
        assert_eq!(out.code, 0, "{}", out.describe());
    }

    /// Wait until the report file the service writes appears, and read it.
    fn report(&self, file: &str) -> Outcome {
        let path = self.root.path().join("srv").join(file);
        for _ in 0..100 {
            if let Ok(text) = fs::read_to_string(&path)
                && text.ends_with("end\n")
            {
                return Outcome {
                    code: 0,
                    stdout: text,
                    stderr: String::new(),
                };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let status = self.exec(&["journalctl", "--no-pager", "-n", "40"]);
        panic!("no report {file} from the service\n{}", status.describe());
    }
}

impl Drop for SystemdContainer {
    fn drop(&mut self) {
        let _ = Command::new(PODMAN)
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
    }
}

/// The service's report: its status fields, the start of its main PID's
/// command line as systemd sees it, and its environment.
const SERVICE_REPORT: &str = r#"import os, sys
out = open(sys.argv[1], "w")
for line in open("/proc/self/status"):
    if line.split(":")[0] in ("Uid", "Gid", "Groups", "CapEff", "CapPrm", "CapAmb", "NoNewPrivs"):
        out.write(line)
for k in ("HOME", "USER", "LOGNAME", "SHELL"):
    out.write("env-%s: %s\n" % (k, os.environ.get(k, "<unset>")))
out.write("pid: %d\n" % os.getpid())
"#;

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn systemd_in_podman_runs_the_packaged_unit_notify_and_socket_activation() {
    let Some(bin) = engine("systemd_in_podman") else {
        return;
    };
    let c = SystemdContainer::boot(&bin, "systemd");
    fs::write(
        c.root.path().join("opt/report.py"),
        format!(
            "{SERVICE_REPORT}out.write(\"end\\n\")\nout.close()\nimport time\ntime.sleep(600)\n"
        ),
    )
    .unwrap();

    // The shipped unit, with only the two paths pointed into this root.
    let shipped = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/systemd/runas-example.service"
    ))
    .unwrap();
    assert!(shipped.contains("ExecStart=runas --user app --no-new-privs -- /usr/bin/app"));
    let unit = shipped.replace(
        "=runas --user app --no-new-privs -- /usr/bin/app",
        "=/opt/runas --user app --no-new-privs -- /usr/bin/python3 /opt/report.py /srv/example",
    );
    c.install_unit("runas-example.service", &unit);
    let out = c.exec(&["systemctl", "start", "runas-example.service"]);
    assert_eq!(out.code, 0, "{}", out.describe());
    let report = c.report("example");
    assert_eq!(
        report.field("Uid"),
        "1000 1000 1000 1000",
        "{}",
        report.describe()
    );
    assert_eq!(report.field("Groups"), "1000 1001");
    assert_eq!(report.field("NoNewPrivs"), "1");
    assert_eq!(report.field("CapEff"), "0000000000000000");
    assert_eq!(report.field("env-HOME"), "/home/app");
    // runas exec'd in place: the service's main PID is the target.
    let main = c.exec(&[
        "systemctl",
        "show",
        "-P",
        "MainPID",
        "runas-example.service",
    ]);
    assert_eq!(
        main.stdout.trim(),
        report.field("pid"),
        "{}",
        main.describe()
    );

    // Type=notify: the target itself (the main PID) says READY=1.
    let notify = "[Service]\nType=notify\nExecStart=/opt/runas -u app -- /usr/bin/python3 -c \"import os, socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(os.environ['NOTIFY_SOCKET']); s.send(b'READY=1'); time.sleep(600)\"\nTimeoutStartSec=20\n";
    c.install_unit("runas-notify.service", notify);
    let out = c.exec(&["systemctl", "start", "runas-notify.service"]);
    assert_eq!(
        out.code,
        0,
        "Type=notify did not reach READY\n{}",
        out.describe()
    );
    let state = c.exec(&[
        "systemctl",
        "show",
        "-P",
        "SubState",
        "runas-notify.service",
    ]);
    assert_eq!(state.stdout.trim(), "running", "{}", state.describe());

    // Socket activation with --close-fds: LISTEN_FDS and fd 3 survive.
    c.install_unit(
        "runas-sock.socket",
        "[Socket]\nListenStream=/run/runas-sock.sock\n",
    );
    let check = r#"import os, socket, stat
ok = os.environ.get("LISTEN_FDS") == "1" and os.environ.get("LISTEN_PID") == str(os.getpid()) and stat.S_ISSOCK(os.fstat(3).st_mode)
s = socket.socket(fileno=3)
conn, _ = s.accept()
conn.sendall(("listen-ok %s uid %d fds %s\n" % (ok, os.getuid(), sorted(int(f) for f in os.listdir("/proc/self/fd")))).encode())
conn.close()"#;
    fs::write(c.root.path().join("opt/listen.py"), check).unwrap();
    c.install_unit(
        "runas-sock.service",
        "[Service]\nExecStart=/opt/runas -u app --close-fds -- /usr/bin/python3 /opt/listen.py\n",
    );
    let out = c.exec(&["systemctl", "start", "runas-sock.socket"]);
    assert_eq!(out.code, 0, "{}", out.describe());
    let out = c.exec(&[
        "timeout",
        "20",
        "/usr/bin/python3",
        "-c",
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/runas-sock.sock'); print(s.makefile().read())",
    ]);
    assert!(
        out.stdout.contains("listen-ok True uid 1000"),
        "{}",
        out.describe()
    );

    // systemd-run through runas and with User= give the same identity.
    let probe = "grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' /proc/self/status; env | grep -E '^(HOME|USER|LOGNAME|SHELL)=' | sort";
    let through = c.exec(&[
        "systemd-run",
        "--quiet",
        "--wait",
        "--pipe",
        "/opt/runas",
        "-u",
        "app",
        "--",
        "/bin/sh",
        "-c",
        probe,
    ]);
    let native = c.exec(&[
        "systemd-run",
        "--quiet",
        "--wait",
        "--pipe",
        "-p",
        "User=app",
        "/bin/sh",
        "-c",
        probe,
    ]);
    assert_eq!(through.code, 0, "{}", through.describe());
    assert_eq!(native.code, 0, "{}", native.describe());
    assert!(
        through.stdout.contains("Groups:\t1000 1001"),
        "{}",
        through.describe()
    );
    assert_eq!(
        through.stdout, native.stdout,
        "runas:\n{}\nUser=:\n{}",
        through.stdout, native.stdout
    );
}

/// Rootless podman: an unprivileged user with a subordinate id range runs
/// the container, so the container's root is that user and app (1000) is
/// one of its subordinate ids. The user exists only in this test's private
/// mount namespace (fixture passwd, group, subuid and subgid bound over
/// /etc); the machine's accounts are not touched.
fn rootless(root: &Path, home: &Path, uid: u32, command: &[&str]) -> Outcome {
    let etc = home.join("etc");
    fs::create_dir_all(&etc).unwrap();
    let mut passwd = fs::read_to_string("/etc/passwd").unwrap();
    let mut group = fs::read_to_string("/etc/group").unwrap();
    assert!(
        !passwd
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&uid.to_string())),
        "uid {uid} is taken on this machine"
    );
    passwd.push_str(&format!(
        "rootless:x:{uid}:{uid}:rootless:{}:/bin/sh\n",
        home.display()
    ));
    group.push_str(&format!("rootless:x:{uid}:\n"));
    fs::write(etc.join("passwd"), passwd).unwrap();
    fs::write(etc.join("group"), group).unwrap();
    fs::write(etc.join("subuid"), "rootless:200000:65536\n").unwrap();
    fs::write(etc.join("subgid"), "rootless:200000:65536\n").unwrap();
    let runtime = home.join("run");
    fs::create_dir_all(&runtime).unwrap();
    fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(home, fs::Permissions::from_mode(0o755)).unwrap();
    for dir in [home, runtime.as_path()] {
        std::os::unix::fs::chown(dir, Some(uid), Some(uid)).unwrap();
    }
    // /etc/subuid and /etc/subgid are bound over only if they exist.
    let script = r#"set -e
for f in passwd group subuid subgid; do
  if [ -e "/etc/$f" ]; then mount --bind "$HOME_DIR/etc/$f" "/etc/$f"; else exit 97; fi
done
exec setpriv --reuid "$ROOTLESS" --regid "$ROOTLESS" --clear-groups --reset-env \
  env HOME="$HOME_DIR" XDG_RUNTIME_DIR="$HOME_DIR/run" PATH=/usr/bin:/bin \
  podman --log-level=error run --rm --runtime runc --network none --ulimit nofile=1024:1024 \
  --ulimit nproc=1000:1000 --env PATH=/usr/local/bin:/bin --rootfs "$ROOTFS" "$@""#;
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            script,
            "sh",
        ])
        .args(command)
        .env("HOME_DIR", home)
        .env("ROOTLESS", uid.to_string())
        .env("ROOTFS", root)
        .output()
        .unwrap();
    // The user's pause process keeps its user namespace alive; end it.
    let _ = Command::new("pkill")
        .args(["-KILL", "-U", &uid.to_string()])
        .status();
    let outcome = Outcome::from(out);
    assert_ne!(
        outcome.code, 97,
        "/etc/subuid or /etc/subgid is missing on this machine (package uidmap, passwd)"
    );
    outcome
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn rootless_podman_drops_to_app_and_names_an_unmapped_id() {
    let Some(bin) = engine("rootless_podman") else {
        return;
    };
    let root = rootfs(&bin);
    let home = tempfile::Builder::new()
        .prefix("runas-rootless.")
        .tempdir()
        .unwrap();
    let uid = 2_000_000_000 + std::process::id() % 1000;
    // A rootless user's root filesystem is its own: root inside.
    let owner = format!("{uid}:{uid}");
    let status = Command::new("chown")
        .args(["-R", "-h", &owner])
        .arg(root.path())
        .status()
        .unwrap();
    assert!(status.success());
    let argv = runas_probe(&["-u", "app"]);
    let out = rootless(root.path(), home.path(), uid, &strs(&argv));
    out.assert_dropped_to(1000, 1000, "1000 1001");
    // 70000 is beyond the 65536 subordinate ids: the kernel's EINVAL is
    // explained, before any change.
    let argv = runas_probe(&["-u", "70000", "-g", "70000"]);
    let out = rootless(root.path(), home.path(), uid, &strs(&argv));
    out.assert_refused("uid 70000 is not mapped in this user namespace");
}

/// A named container of `rootfs`, removed on drop.
struct Running {
    name: String,
}

impl Running {
    /// `podman run -d --name NAME` with the options `podman` uses.
    fn start(root: &Path, name: &str, engine_args: &[&str], command: &[&str]) -> Running {
        let _ = Command::new(PODMAN).args(["rm", "-f", name]).output();
        let out = Command::new(PODMAN)
            .args([
                "run",
                "-d",
                "--name",
                name,
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
        assert!(out.status.success(), "{}", Outcome::from(out).describe());
        Running {
            name: name.to_owned(),
        }
    }

    fn podman(&self, args: &[&str]) -> Outcome {
        Outcome::from(Command::new(PODMAN).args(args).output().unwrap())
    }

    /// `podman stop -t SECONDS`: how long it took, and the exit status.
    fn stop(&self, seconds: u32) -> (std::time::Duration, i32) {
        // Until the command is up: podman stop on a container whose PID 1
        // has not installed its handler yet would say nothing of it.
        std::thread::sleep(std::time::Duration::from_millis(700));
        let started = std::time::Instant::now();
        let stopped = self.podman(&["stop", "-t", &seconds.to_string(), &self.name]);
        let elapsed = started.elapsed();
        assert_eq!(stopped.code, 0, "{}", stopped.describe());
        let status = self.podman(&["inspect", "-f", "{{.State.ExitCode}}", &self.name]);
        (elapsed, status.stdout.trim().parse().unwrap_or(-1))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new(PODMAN).args(["rm", "-f", &self.name]).output();
    }
}

/// Issue 26: `podman run -t IMAGE runas -u app -- CMD`, the way people debug
/// an image, kept runas as PID 1 (a root waiter) and the command as PID 6
/// without a terminal (busybox sh: "can't access tty; job control turned
/// off"). On its container's console, as PID 1, nobody remains to read
/// what the command types once it exits: runas execs in place, as gosu
/// does, and the command keeps the terminal.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_run_t_makes_the_command_pid_1_with_its_terminal() {
    let Some(bin) = engine("podman_run_t") else {
        return;
    };
    let root = rootfs(&bin);
    let shows = "echo pid=$$; set -o | grep monitor";
    for command in [
        &["runas", "-u", "app", "--", "/bin/sh", "-i", "-c", shows][..],
        &["gosu", "app", "/bin/sh", "-i", "-c", shows],
    ] {
        let out = podman(root.path(), &["-t"], command);
        assert_eq!(out.code, 0, "{command:?}\n{}", out.describe());
        assert!(
            out.stdout.contains("pid=1"),
            "{command:?}\n{}",
            out.describe()
        );
        assert!(
            out.stdout.contains("monitor") && out.stdout.contains("on"),
            "no job control: {command:?}\n{}",
            out.describe()
        );
        assert!(
            !out.stdout.contains("job control turned off"),
            "{}",
            out.describe()
        );
    }
    // The dry run says why.
    let out = podman(
        root.path(),
        &["-t"],
        &["runas", "--dry-run", "-u", "app", "--", "/bin/sh"],
    );
    assert!(
        out.stdout
            .contains("runas is PID 1 on its container's console (/dev/console"),
        "{}",
        out.describe()
    );
    // Without -t there is no terminal: in place, as always.
    let out = podman(
        root.path(),
        &[],
        &["runas", "-u", "app", "--", "/bin/sh", "-c", "echo pid=$$"],
    );
    assert!(out.stdout.contains("pid=1"), "{}", out.describe());
}

/// `podman exec -t`: runas leads the exec session, on a terminal it cannot
/// prove no one else reads (a root shell in the container could have made
/// it, with script or tmux), so the full defence applies: a new session,
/// and a revoke afterwards that needs CAP_SYS_ADMIN, which podman does not
/// give. runas refuses and names --keep-tty, which is safe there: the exec
/// session's terminal has no other reader.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_exec_t_refuses_without_a_revoke_and_keep_tty_runs() {
    let Some(bin) = engine("podman_exec_t") else {
        return;
    };
    let root = rootfs(&bin);
    let ctr = Running::start(root.path(), "runas-exec-t", &["-t"], &["sleep", "60"]);
    let out = ctr.podman(&[
        "exec", "-t", &ctr.name, "runas", "-u", "app", "--", "/bin/sh", "-c", PROBE,
    ]);
    // Through a terminal, stderr is the terminal too: one stream.
    assert_eq!(out.code, 125, "{}", out.describe());
    assert!(!out.stdout.contains("target-ran"), "{}", out.describe());
    assert!(
        out.stdout.contains("no CAP_SYS_ADMIN") && out.stdout.contains("--keep-tty"),
        "{}",
        out.describe()
    );
    let out = ctr.podman(&[
        "exec",
        "-t",
        &ctr.name,
        "runas",
        "--keep-tty",
        "-u",
        "app",
        "--",
        "/bin/sh",
        "-c",
        PROBE,
    ]);
    // Through a terminal, lines end in CRLF.
    let out = Outcome {
        stdout: out.stdout.replace('\r', ""),
        ..out
    };
    out.assert_dropped_to(1000, 1000, "1000 1001");
    // Without -t: no terminal, nothing to defend.
    let out = ctr.podman(&[
        "exec", &ctr.name, "runas", "-u", "app", "--", "/bin/sh", "-c", PROBE,
    ]);
    out.assert_dropped_to(1000, 1000, "1000 1001");
}

/// Issue 26, signals as PID 1: `podman stop` sends SIGTERM to PID 1. The
/// command in runas's place, handling SIGTERM, stops at once with its own
/// status; one that does not handle it ignores it, as every PID 1 does, and
/// is killed when the stop's time is up (use `podman run --init` there).
/// Where runas's waiting parent is PID 1 (--setsid), it passes SIGTERM on
/// and exits with the command's status, at once.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn podman_stop_reaches_the_command_as_pid_1() {
    let Some(bin) = engine("podman_stop") else {
        return;
    };
    let root = rootfs(&bin);
    let trapping = "trap 'exit 42' TERM; while :; do sleep 0.1; done";
    struct Case<'a> {
        what: &'a str,
        engine_args: &'a [&'a str],
        command: &'a [&'a str],
        status: i32,
        stop_after: u64,
    }
    let cases = [
        Case {
            what: "handles SIGTERM",
            engine_args: &["-t"],
            command: &["runas", "-u", "app", "--", "/bin/sh", "-c", trapping],
            status: 42,
            stop_after: 5,
        },
        Case {
            what: "handles SIGTERM, no terminal",
            engine_args: &[],
            command: &["runas", "-u", "app", "--", "/bin/sh", "-c", trapping],
            status: 42,
            stop_after: 5,
        },
        Case {
            what: "ignores SIGTERM as PID 1",
            engine_args: &["-t"],
            command: &["runas", "-u", "app", "--", "sleep", "60"],
            status: 137,
            stop_after: 2,
        },
        Case {
            what: "--setsid: the waiter passes it on",
            engine_args: &[],
            command: &["runas", "--setsid", "-u", "app", "--", "sleep", "60"],
            status: 143,
            stop_after: 5,
        },
    ];
    for Case {
        what,
        engine_args,
        command,
        status,
        stop_after,
    } in cases
    {
        let ctr = Running::start(root.path(), "runas-stop", engine_args, command);
        let (elapsed, code) = ctr.stop(stop_after as u32);
        assert_eq!(code, status, "{what}");
        if status == 137 {
            assert!(elapsed.as_secs() >= stop_after, "{what}: {elapsed:?}");
        } else {
            assert!(
                elapsed.as_secs() < stop_after,
                "{what}: not at once: {elapsed:?}"
            );
        }
    }
}

/// A Pod manifest run with `podman kube play` (the pause image built
/// locally from catatonit), the image imported from the test's root
/// filesystem: what Kubernetes does with the same securityContext. The
/// rlimits this machine needs come from a containers.conf of the test's.
struct Pod {
    name: String,
    image: String,
    dir: tempfile::TempDir,
}

impl Pod {
    fn new(name: &str, root: &Path) -> Pod {
        let image = format!("localhost/runas-pod-test:{name}");
        let tar = Command::new("tar")
            .arg("-C")
            .arg(root)
            .args(["-c", "."])
            .output()
            .unwrap();
        assert!(tar.status.success());
        let mut import = Command::new(PODMAN)
            .args(["import", "--quiet", "-", &image])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        import.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
        assert!(import.wait().unwrap().success(), "podman import {image}");
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1000:1000\"]\n",
        )
        .unwrap();
        Pod {
            name: format!("runas-{}", name.replace('_', "-")),
            image,
            dir,
        }
    }

    /// Play a pod of one container with these security contexts (YAML
    /// flow mappings) and this command; wait for it and return its output.
    fn run(&self, pod_context: &str, container_context: &str, command: &[&str]) -> Outcome {
        let command = command
            .iter()
            .map(|w| format!("'{}'", w.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let manifest = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: Never\n  securityContext: {pod_context}\n  containers:\n  - name: app\n    image: {image}\n    command: [{command}]\n    env:\n    - name: PATH\n      value: /usr/local/bin:/bin\n    securityContext: {container_context}\n",
            name = self.name,
            image = self.image,
        );
        let path = self.dir.path().join("pod.yaml");
        fs::write(&path, &manifest).unwrap();
        let podman = |args: &[&str]| {
            Command::new(PODMAN)
                .env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
                .args(["--runtime", "runc"])
                .args(args)
                .output()
                .unwrap()
        };
        let play = podman(&[
            "kube",
            "play",
            "--replace",
            "--network",
            "none",
            path.to_str().unwrap(),
        ]);
        assert!(
            play.status.success(),
            "podman kube play:\n{manifest}\n{}",
            Outcome::from(play).describe()
        );
        let container = format!("{}-app", self.name);
        let waited = podman(&["wait", &container]);
        let code: i32 = String::from_utf8_lossy(&waited.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("podman wait: {}", Outcome::from(waited).describe()));
        let logs = podman(&["logs", &container]);
        let _ = podman(&["pod", "rm", "--force", &self.name]);
        Outcome {
            code,
            ..Outcome::from(logs)
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = Command::new(PODMAN)
            .args(["pod", "rm", "--force", &self.name])
            .output();
        let _ = Command::new(PODMAN)
            .args(["rmi", "--force", &self.image])
            .output();
    }
}

/// The securityContexts docs/containers.md recommends, and the ones it
/// warns about, as `podman kube play` runs them.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): scripts/test sets both"]
fn pods_run_runas_under_each_security_context() {
    let Some(bin) = engine("pods_security_contexts") else {
        return;
    };
    if !Path::new("/usr/bin/catatonit").exists() {
        let reason = "podman kube play builds its pause image from catatonit: apt-get install catatonit (CI installs it)";
        assert!(std::env::var_os("CI").is_none(), "pods: {reason}");
        skip("pods_security_contexts", reason);
        return;
    }
    let root = rootfs(&bin);
    let pod = Pod::new("pods", root.path());
    let drop_probe = runas_probe(&["-u", "app"]);
    let if_root_probe = runas_probe(&["--if-root", "-u", "app"]);

    // Root, the least a switch needs, no escalation, a read-only root.
    let out = pod.run(
        "{}",
        "{capabilities: {drop: [ALL], add: [SETUID, SETGID]}, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}",
        &strs(&drop_probe),
    );
    out.assert_dropped_to(1000, 1000, "1000 1001");
    assert_eq!(out.field("NoNewPrivs"), "1", "{}", out.describe());

    // Every capability dropped: refused, never root.
    let out = pod.run("{}", "{capabilities: {drop: [ALL]}}", &strs(&drop_probe));
    out.assert_refused("--cap-add=SETUID,SETGID");

    // runAsNonRoot with a uid: --if-root runs the command as it is given.
    let out = pod.run(
        "{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}",
        "{}",
        &strs(&if_root_probe),
    );
    assert_eq!(out.code, 0, "{}", out.describe());
    assert_eq!(
        out.field("Uid"),
        "1000 1000 1000 1000",
        "{}",
        out.describe()
    );
    // Without --if-root, no switch is possible: refused.
    let out = pod.run(
        "{runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}",
        "{}",
        &strs(&drop_probe),
    );
    assert_eq!(out.code, 125, "{}", out.describe());
    assert!(!out.stdout.contains("target-ran"), "{}", out.describe());

    // OpenShift: an arbitrary uid with gid 0 and no passwd entry.
    let out = pod.run(
        "{runAsUser: 1000680000, runAsGroup: 0}",
        "{}",
        &strs(&if_root_probe),
    );
    assert_eq!(out.code, 0, "{}", out.describe());
    assert_eq!(
        out.field("Uid"),
        "1000680000 1000680000 1000680000 1000680000",
        "{}",
        out.describe()
    );
    assert_eq!(out.field("Gid"), "0 0 0 0", "{}", out.describe());
}
