//! Attacks by the target user on what root does for it. Each test plants
//! what a compromised service account could plant (a symlink, a hard link,
//! a FIFO, a device node, a hostile pidfile) or drives a real terminal, and
//! checks that root was not steered: nothing outside the target's reach
//! changed, and runas refused with a message naming the path and the fix.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// A directory owned by alice (uid 1500), the target of these attacks.
fn alice_dir(w: &World, name: &str) -> PathBuf {
    w.owned_dir(name, 1500, 1500)
}

/// A root-only file, standing in for /etc/shadow.
fn root_secret(w: &World, name: &str) -> PathBuf {
    w.file(name, "root:$6$secret:19000:0:99999:7:::\n", 0o600)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The file is exactly as `root_secret` made it.
fn assert_untouched(secret: &Path) {
    let meta = fs::metadata(secret).unwrap();
    assert_eq!(
        fs::read_to_string(secret).unwrap(),
        "root:$6$secret:19000:0:99999:7:::\n",
        "root's file was changed"
    );
    assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o600));
}

/// A daemon start as alice with these extra arguments, bounded in time so
/// a runas that blocks fails the test instead of hanging it.
fn daemon(w: &World, extra: &[&str], script: &str) -> Run {
    let mut args = vec!["20", s(&w.runas), "-u", "alice", "--daemon"];
    args.extend_from_slice(extra);
    args.extend(["--", "/bin/sh", "-c", script]);
    w.program(Path::new("/usr/bin/timeout"), &args)
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pidfile_symlink_planted_by_the_target_is_not_followed() {
    let Some(w) = world("attack_pidfile_symlink") else {
        return;
    };
    let run_dir = alice_dir(&w, "run-app");
    let secret = root_secret(&w, "shadow");
    let pidfile = run_dir.join("app.pid");
    symlink(&secret, &pidfile).unwrap();
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "sleep 1");
    run.assert_refused(s(&pidfile));
    assert_untouched(&secret);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pidfile_in_a_directory_the_target_can_write_is_refused_naming_the_fix() {
    let Some(w) = world("attack_pidfile_directory") else {
        return;
    };
    let run_dir = alice_dir(&w, "run-app");
    let pidfile = run_dir.join("app.pid");
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "sleep 1");
    run.assert_refused(s(&run_dir));
    assert!(run.stderr.contains("root-owned"), "{}", run.describe());
    assert!(
        !pidfile.exists(),
        "root created a file in alice's directory"
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn hard_link_at_the_pidfile_path_is_refused() {
    let Some(w) = world("attack_pidfile_hardlink") else {
        return;
    };
    // What alice plants with fs.protected_hardlinks=0; root makes the link
    // here so the test does not depend on (or change) that sysctl.
    let secret = root_secret(&w, "shadow");
    let pidfile = w.path().join("app.pid");
    fs::hard_link(&secret, &pidfile).unwrap();
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "sleep 1");
    run.assert_refused("hard link");
    assert_untouched(&secret);
    // And in the target's own directory.
    let run_dir = alice_dir(&w, "run-app");
    let planted = run_dir.join("app.pid");
    fs::hard_link(&secret, &planted).unwrap();
    daemon(&w, &["--pidfile", s(&planted)], "sleep 1").assert_refused(s(&planted));
    assert_untouched(&secret);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn device_node_at_the_pidfile_path_is_refused() {
    let Some(w) = world("attack_pidfile_device") else {
        return;
    };
    let pidfile = w.path().join("app.pid");
    nix::sys::stat::mknod(
        &pidfile,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .unwrap();
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "sleep 1");
    run.assert_refused("character device");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn fifo_at_the_log_path_does_not_block_the_start() {
    let Some(w) = world("attack_log_fifo") else {
        return;
    };
    let log_dir = alice_dir(&w, "log-app");
    let log = log_dir.join("app.log");
    nix::unistd::mkfifo(&log, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    std::os::unix::fs::chown(&log, Some(1500), Some(1500)).unwrap();
    let run = daemon(&w, &["--log", s(&log)], "echo hello");
    assert_ne!(run.code(), Some(124), "runas blocked opening the FIFO");
    run.assert_refused("FIFO");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn log_symlink_planted_by_the_target_creates_no_root_file() {
    let Some(w) = world("attack_log_symlink") else {
        return;
    };
    let log_dir = alice_dir(&w, "log-app");
    // A file only root could create: the world's directory is root's 0755.
    let target = w.path().join("cron-job");
    let log = log_dir.join("app.log");
    symlink(&target, &log).unwrap();
    let run = daemon(&w, &["--log", s(&log)], "echo '* * * * * root id'");
    run.assert_refused(s(&log));
    assert!(!target.exists(), "root created {}", target.display());
    // Appending to an existing root file through the link fails the same way.
    let secret = root_secret(&w, "shadow");
    fs::remove_file(&log).unwrap();
    symlink(&secret, &log).unwrap();
    daemon(&w, &["--log", s(&log)], "echo 'root::0:0:::/bin/sh'").assert_refused(s(&log));
    assert_untouched(&secret);
    // A hard link to root's file in the target's directory.
    fs::remove_file(&log).unwrap();
    fs::hard_link(&secret, &log).unwrap();
    daemon(&w, &["--log", s(&log)], "echo 'root::0:0:::/bin/sh'").assert_refused(s(&log));
    assert_untouched(&secret);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_log_is_opened_with_the_targets_rights() {
    let Some(w) = world("log_as_target") else {
        return;
    };
    let log_dir = alice_dir(&w, "log-app");
    let log = log_dir.join("app.log");
    let run = daemon(&w, &["--log", s(&log)], "echo logged");
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let text = wait_for_text(&log, "logged");
    assert_eq!(text, "logged\n");
    // Created by the target, as if it had opened the file itself.
    assert_eq!(fs::metadata(&log).unwrap().uid(), 1500);
    // A root-only directory is out of the target's reach, so out of its log's.
    let root_log = w.path().join("root.log");
    let run = daemon(&w, &["--log", s(&root_log)], "echo logged");
    run.assert_refused("Permission denied");
    assert!(!root_log.exists());
}

fn wait_for_text(path: &Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_daemon_cannot_write_its_pidfile() {
    let Some(w) = world("attack_pidfile_descriptor") else {
        return;
    };
    let pidfile = w.path().join("app.pid");
    let log_dir = alice_dir(&w, "log-app");
    let log = log_dir.join("app.log");
    // The daemon looks for a descriptor of its pidfile and tries to write
    // through it, and to reopen it for writing through /proc.
    let script = format!(
        r#"for f in /proc/$$/fd/*; do
  n=${{f##*/}}
  [ "$(readlink "$f")" = "{pidfile}" ] || continue
  echo "pidfile-fd $n"
  if (eval "echo 'root::0:0:::/bin/sh' >&$n") 2>/dev/null; then echo wrote-through-fd; fi
  if (echo 'root::0:0:::/bin/sh' >> "$f") 2>/dev/null; then echo reopened-for-writing; fi
done
echo done
sleep 2"#,
        pidfile = s(&pidfile)
    );
    let run = daemon(&w, &["--pidfile", s(&pidfile), "--log", s(&log)], &script);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let text = wait_for_text(&log, "done");
    assert!(
        text.contains("pidfile-fd"),
        "the daemon holds no lock\n{text}"
    );
    assert!(!text.contains("wrote-through-fd"), "{text}");
    assert!(!text.contains("reopened-for-writing"), "{text}");
    let pid = fs::read_to_string(&pidfile).unwrap();
    assert!(
        pid.trim().parse::<u32>().is_ok() && pid.ends_with('\n') && pid.lines().count() == 1,
        "the pidfile holds {pid:?}"
    );
    let meta = fs::metadata(&pidfile).unwrap();
    assert_eq!(
        (meta.uid(), meta.mode() & 0o022),
        (0, 0),
        "pidfile owner/mode"
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pidfile_text_is_never_printed_raw() {
    let Some(w) = world("attack_pidfile_text") else {
        return;
    };
    let pidfile = w.file("app.pid", "\x1b]2;pwned\x07\x1b[2J4242\n", 0o644);
    // Another instance holds the lock.
    let held = fs::File::open(&pidfile).unwrap();
    let _lock = nix::fcntl::Flock::lock(held, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| e)
        .unwrap();
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "true");
    run.assert_refused("locked by a running instance");
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\x07'),
        "raw control characters reached the terminal\n{:?}",
        run.stderr
    );
    // A number is shown.
    fs::write(&pidfile, "4242\n").unwrap();
    let run = daemon(&w, &["--pidfile", s(&pidfile)], "true");
    run.assert_refused("(pid 4242)");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn add_group_of_does_not_follow_a_symlink_the_target_planted() {
    let Some(w) = world("attack_add_group_of") else {
        return;
    };
    let run_dir = alice_dir(&w, "run-app");
    // Stands in for /dev/sda (group disk) or /etc/shadow (group shadow):
    // a root file whose group the target must not get.
    let device = w.file("disk", "", 0o660);
    std::os::unix::fs::chown(&device, Some(0), Some(0)).unwrap();
    let socket = run_dir.join("app.sock");
    symlink(&device, &socket).unwrap();
    let run = w.runas(&with_probe(&["-u", "alice", "--add-group-of", s(&socket)]));
    run.assert_refused(s(&socket));
    // A real file in the target's own directory: the target could swap it
    // for a link at any time, so its group is not taken either.
    fs::remove_file(&socket).unwrap();
    fs::write(&socket, "").unwrap();
    std::os::unix::fs::chown(&socket, Some(1500), Some(31337)).unwrap();
    let run = w.runas(&with_probe(&["-u", "alice", "--add-group-of", s(&socket)]));
    run.assert_refused(s(&run_dir));
}

fn tiocsti_world(test: &str) -> Option<World> {
    let w = world(test)?;
    if legacy_tiocsti_off() {
        skip(
            test,
            "legacy_tiocsti is 0, the kernel refuses TIOCSTI to everyone",
        );
        return None;
    }
    Some(w)
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn root_target_without_capabilities_cannot_type_into_the_root_terminal() {
    let Some(w) = tiocsti_world("attack_tty_bounding_set") else {
        return;
    };
    // uid 0 stays, but the target holds no capability after execve.
    assert_defended(&in_pty(&w, "job", "", "-u root --bounding-set -all"));
    assert_defended(&in_pty(&w, "job", "", "-u root --securebits noroot"));
    // The control: root with every capability stays attached.
    assert_injected(&in_pty(
        &w,
        "job",
        "",
        "-u root --bounding-set -net_raw,+net_raw",
    ));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_root_filesystem_without_dev_tty_still_detaches() {
    let Some(w) = tiocsti_world("attack_tty_no_dev_tty") else {
        return;
    };
    // A minimal /dev, as in a hand-built chroot: no tty node at all, but
    // descriptors 0-2 still are the controlling terminal.
    let prep = "mount -t tmpfs -o mode=755 none /dev && mknod -m 666 /dev/null c 1 3";
    assert_defended(&in_pty(&w, "job", prep, "-u alice"));
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn runas_as_session_leader_gives_the_target_a_session_of_its_own() {
    let Some(w) = tiocsti_world("attack_tty_session_leader") else {
        return;
    };
    assert_defended(&in_pty(&w, "leader", "", "-u alice"));
}

/// Issue 26's counter-case: `unshare --pid --fork --mount-proc setsid -c
/// runas ...` from root's shell makes runas PID 1 of a pid namespace and
/// the leader of a session that holds root's terminal, which root's shell
/// reads again afterwards. "PID 1" alone must not mean "a container's
/// init": the terminal is not the namespace's console, so the defence
/// stays.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pid_1_of_a_namespace_on_roots_terminal_keeps_the_defence() {
    let Some(w) = tiocsti_world("attack_tty_pid_namespace") else {
        return;
    };
    let probe = w.file("tiocsti_probe.py", TIOCSTI_PROBE, 0o644);
    let cmd = format!(
        "unshare --pid --fork --mount-proc setsid -c -w {} -u alice -- /usr/bin/python3 {}",
        w.runas.display(),
        probe.display()
    );
    let run = Run::from(
        w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, "job", "", &cmd])
            .output()
            .unwrap(),
    );
    assert_defended(&run);
}

/// From the review of issue 26: the "container console" rule must not be
/// met by root's own terminal bound over /dev/console of a pid namespace
/// (a target as PID 1 then typed into root's shell), nor by a terminal of
/// the same number from another devpts instance (bwrap --dev binds the
/// caller's terminal over /dev/console next to a devpts of its own).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn roots_terminal_bound_over_dev_console_is_not_a_container_console() {
    let Some(w) = tiocsti_world("attack_tty_bound_console") else {
        return;
    };
    let probe = w.file("tiocsti_probe.py", TIOCSTI_PROBE, 0o644);
    let runas = format!(
        "{} -u alice -- /usr/bin/python3 {}",
        w.runas.display(),
        probe.display()
    );
    for setup in [
        // runas PID 1, but not leading the terminal's session.
        format!("mount --bind $(tty) /dev/console; exec {runas}"),
        // ... and leading it, with a devpts of the namespace's own.
        format!(
            "mount --bind $(tty) /dev/console; mount -t devpts -o newinstance,ptmxmode=666 devpts /dev/pts; exec setsid -c {runas}"
        ),
    ] {
        let cmd = format!("unshare --pid --fork --mount /bin/sh -c '{setup}'");
        let run = Run::from(
            w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, "job", "", &cmd])
                .output()
                .unwrap(),
        );
        assert_defended(&run);
    }
}

/// TIOCLINUX (paste the selection, among others) is refused to a process
/// whose controlling terminal the console is not; the same detach covers
/// it. Needs a virtual console, which only the kernel's console provides.
const TIOCLINUX_PROBE: &str = r#"
import fcntl, errno
try:
    fcntl.ioctl(0, 0x541C, bytearray([6, 0]))  # TIOCLINUX, TIOCL_GETSHIFTSTATE
    print("tioclinux: allowed")
except OSError as e:
    print("tioclinux:", errno.errorcode.get(e.errno, e.errno))
"#;

/// Make /dev/ttyN the controlling terminal of a new session, run `cmd`
/// with it on descriptors 0-2 as a job of that session, print what it said.
const VT_DRIVER: &str = r#"
import os, sys, fcntl, termios
vt, cmd, out = sys.argv[1], sys.argv[2], sys.argv[3]
pid = os.fork()
if pid == 0:
    os.setsid()
    fd = os.open(vt, os.O_RDWR)
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
    os.dup2(fd, 0)
    o = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(o, 1)
    os.dup2(o, 2)
    os.execv("/bin/sh", ["sh", "-c", cmd + "; :"])
_, status = os.waitpid(pid, 0)
print(open(out).read())
"#;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn tioclinux_is_refused_to_a_detached_target() {
    let Some(w) = world("attack_tioclinux") else {
        return;
    };
    let vt = "/dev/tty9";
    if !Path::new(vt).exists() {
        skip(
            "attack_tioclinux",
            &format!("no virtual console {vt} on this machine"),
        );
        return;
    }
    let probe = w.file("tioclinux_probe.py", TIOCLINUX_PROBE, 0o644);
    let out = w.shared_dir("vt").join("out");
    let run_with = |args: &str| {
        let cmd = format!(
            "{} {args} -- /usr/bin/python3 {}",
            w.runas.display(),
            probe.display()
        );
        w.program(
            Path::new("/usr/bin/python3"),
            &["-c", VT_DRIVER, vt, &cmd, s(&out)],
        )
    };
    let run = run_with("-u alice");
    assert!(
        run.stdout.contains("tioclinux: EPERM"),
        "{}",
        run.describe()
    );
    // The control: the same target keeping the terminal may use it.
    let run = run_with("-u alice --keep-tty");
    assert!(
        run.stdout.contains("tioclinux: allowed"),
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dry_run_and_dump_escape_control_characters() {
    let Some(w) = world("attack_escapes") else {
        return;
    };
    // A home field from a directory service, and a value from the caller.
    let run = w.runas(&[
        "--dry-run",
        "-u",
        "escapes",
        "-e",
        "GREETING=\x1b]2;pwned\x07",
        "--",
        "/bin/true",
    ]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        !run.stdout.contains('\x1b') && !run.stdout.contains('\x07'),
        "{:?}",
        run.stdout
    );
    assert!(run.stdout.contains("\\u001b"), "{:?}", run.stdout);
    let runas = s(&w.runas).to_owned();
    let run = w.runas(&["-u", "escapes", "--", &runas, "--dump"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        !run.stdout.contains('\x1b') && !run.stdout.contains('\x07'),
        "{:?}",
        run.stdout
    );
}

/// `setsid -c -w runas ...` from root's shell: runas's session takes the
/// terminal, and ends with runas. A process the target leaves behind
/// waits for the terminal to belong to no session, takes it with
/// TIOCSCTTY and types into root's shell, which reads the terminal again.
/// The waiting parent revokes the terminal (TIOCVHANGUP) first; and the
/// target cannot kill it (it keeps the caller's uid) to end it early.
const LEFTOVER_PROBE: &str = r#"
import os, fcntl, termios, time, signal
tty = int(os.environ.get("TTY_FD", "0"))
try:
    os.kill(os.getppid(), signal.SIGKILL)
    print("killed the waiting parent", flush=True)
except OSError as e:
    print("kill waiter:", e.strerror, flush=True)
if os.fork() == 0:
    os.setsid()
    for _ in range(100):
        try:
            fcntl.ioctl(tty, termios.TIOCSCTTY, 0)
            break
        except OSError:
            time.sleep(0.05)
    try:
        for c in b"echo pwned-by-leftover\n":
            fcntl.ioctl(tty, termios.TIOCSTI, bytes([c]))
    except OSError:
        pass
    os._exit(0)
print("target done", flush=True)
"#;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_session_leaders_target_cannot_take_the_terminal_back() {
    let Some(w) = tiocsti_world("attack_tty_leftover") else {
        return;
    };
    leftover_cannot_type_into_roots_shell(&w, "", "-u alice", "");
}

/// Issue 26: --setsid as a session leader took no defence at all: its
/// waiting parent exited without revoking, and the leftover typed
/// `echo pwned-by-leftover` into root's shell.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_session_leaders_setsid_target_cannot_take_the_terminal_back() {
    let Some(w) = tiocsti_world("attack_tty_leftover_setsid") else {
        return;
    };
    leftover_cannot_type_into_roots_shell(&w, "", "--setsid -u alice", "");
    // The same without a /dev/tty node: the terminal is found on 0-2.
    let no_tty = "mount -t tmpfs -o mode=755 none /dev && mknod -m 666 /dev/null c 1 3";
    leftover_cannot_type_into_roots_shell(&w, no_tty, "--setsid -u alice", "");
    leftover_cannot_type_into_roots_shell(&w, no_tty, "-u alice", "");
}

/// Issue 26, the low variant: a session leader whose only descriptor of
/// its terminal is 3 (no /dev/tty node, 0-2 elsewhere) took the
/// "unreachable" path and never revoked it.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_session_leader_holding_its_terminal_on_descriptor_3_revokes_it() {
    let Some(w) = tiocsti_world("attack_tty_leftover_fd3") else {
        return;
    };
    let no_tty = "mount -t tmpfs -o mode=755 none /dev && mknod -m 666 /dev/null c 1 3";
    leftover_cannot_type_into_roots_shell(
        &w,
        no_tty,
        "-u alice",
        "exec 3<&0 </dev/null >/dev/null 2>/dev/null; export TTY_FD=3;",
    );
}

/// A /dev/tty that is not a terminal (a /dev/null node in its place) is
/// closed before the fallback looks further: round 8 had kept it open
/// while /proc/self/stat was read, so with one descriptor free that read
/// failed (EMFILE), "no terminal" became "one runas cannot reach", and a
/// session leader without a terminal was refused. Here runas leads a new
/// session without a controlling terminal, with descriptors 0-2 open and
/// room for one more.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_dev_tty_that_is_no_terminal_is_closed_before_the_fallback_reads() {
    let Some(w) = tiocsti_world("attack_tty_null_node") else {
        return;
    };
    let script = format!(
        "mount -t tmpfs -o mode=755 none /dev && mknod -m 666 /dev/null c 1 3 \
         && mknod -m 666 /dev/tty c 1 3 && ulimit -n 4 \
         && exec setsid -w {} --dry-run -u alice -- /bin/true",
        w.runas.display()
    );
    let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    assert!(
        !run.stdout.contains("terminal safety"),
        "no terminal, yet a defence was planned\n{}",
        run.describe()
    );
}

/// From root's "shell" on a pseudo-terminal: `setsid -c -w` makes runas
/// (`runas_args`, after `before` in the same shell) the leader of a new
/// session with the terminal, and the LEFTOVER_PROBE target leaves a
/// process that tries to take the terminal and type into it once runas's
/// session ends; then root's shell reads a line from the terminal.
fn leftover_cannot_type_into_roots_shell(w: &World, prep: &str, runas_args: &str, before: &str) {
    let probe = w.file("leftover.py", LEFTOVER_PROBE, 0o644);
    let command = format!("/usr/bin/python3 {}", probe.display());
    leftover_in(w, prep, "", runas_args, before, &command, 6, "out");
}

/// Root's "shell" after the command: it reads what is waiting in the
/// terminal's input queue, every byte of it, a line or not (a canonical
/// read would not see a half line that a leftover killed in the middle of
/// its typing left there), after `argv[1]` seconds, into `argv[2]`.
const READER: &str = "import os, sys, termios, time
time.sleep(float(sys.argv[1]))
try:
    a = termios.tcgetattr(0)
    a[3] &= ~(termios.ICANON | termios.ECHO)
    termios.tcsetattr(0, termios.TCSANOW, a)
    os.set_blocking(0, False)
    try:
        got = os.read(0, 4096).decode(errors=\"replace\").strip()
    except BlockingIOError:
        got = \"\"
except (OSError, termios.error):
    got = \"hung up\"
open(sys.argv[2], \"w\").write(\"[%s]\" % got)";

/// `leftover_cannot_type_into_roots_shell` with `setsid` started by
/// `wrap` (unshare), `command` as the target, root's shell reading for
/// `wait` seconds, results in the world's directory named from `name`.
#[allow(clippy::too_many_arguments)]
fn leftover_in(
    w: &World,
    prep: &str,
    wrap: &str,
    runas_args: &str,
    before: &str,
    command: &str,
    wait: u32,
    name: &str,
) {
    let out = w.shared_dir(&format!(
        "{name}{}",
        runas_args.len() + before.len() + prep.len()
    ));
    // Results go to files: once revoked, the terminal takes no output.
    let cmd = format!(
        "{wrap} setsid -c -w /bin/sh -c '{before} exec {runas} {runas_args} -- {command} >{out}/said 2>&1'; echo $? > {out}/status; /usr/bin/python3 -c '{READER}' {wait} {out}/read 2>{out}/reader-err",
        runas = w.runas.display(),
        out = out.display()
    );
    let run = Run::from(
        w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, "job", prep, &cmd])
            .output()
            .unwrap(),
    );
    let said = fs::read_to_string(out.join("said")).unwrap_or_default();
    let context = || {
        format!(
            "{runas_args} ({prep:?}, {before:?}): said {said:?}\n{}",
            run.describe()
        )
    };
    assert!(said.contains("target done"), "{}", context());
    assert!(
        said.contains("kill waiter: Operation not permitted"),
        "the target could kill its waiting parent: {}",
        context()
    );
    let status = fs::read_to_string(out.join("status")).unwrap_or_default();
    assert_eq!(status.trim(), "0", "{}", context());
    // Nothing at all: bash keeps what it read before its timeout, so a
    // leftover killed halfway through its line shows too.
    let read = fs::read_to_string(out.join("read")).unwrap_or_default();
    assert!(
        ["[]", "[hung up]"].contains(&read.trim()),
        "the leftover typed into root's shell: {read} {:?}\n{}",
        fs::read_to_string(out.join("reader-err")),
        context()
    );
}

/// LEFTOVER_PROBE's leftover, in C, spinning on TIOCSCTTY without a pause.
const LEFTOVER_SPIN: &str = r#"
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
int main(void) {
    if (kill(getppid(), SIGKILL) == 0) puts("killed the waiting parent");
    else puts("kill waiter: Operation not permitted");
    fflush(stdout);
    if (fork() == 0) {
        setsid();
        signal(SIGHUP, SIG_IGN);
        time_t end = time(NULL) + 5;
        while (time(NULL) < end && ioctl(0, TIOCSCTTY, 0) != 0) {}
        for (const char *s = "echo pwned-by-leftover\n"; *s; s++) ioctl(0, TIOCSTI, s);
        _exit(0);
    }
    puts("target done");
    return 0;
}
"#;

/// Issue 26, from its review: as PID 1 of a pid namespace runas's waiting
/// parent revoked nothing, trusting that every process dies with it; but
/// its exit frees the terminal before the kernel kills the others, and a
/// leftover spinning on TIOCSCTTY took it in that gap and typed into root's
/// shell (about one run in four). Now the waiter kills and reaps them all
/// first. Several runs, to meet the race.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn pid_1_of_a_namespace_leaves_no_process_to_take_the_terminal() {
    let Some(w) = tiocsti_world("attack_tty_leftover_pid_1") else {
        return;
    };
    // In C, to take the terminal within the gap: the Python probe is too
    // slow to meet it.
    let source = w.file("spin.c", LEFTOVER_SPIN, 0o644);
    let spin = w.path().join("spin");
    let built = std::process::Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&spin)
        .arg(&source)
        .status()
        .expect("gcc");
    assert!(built.success());
    for run in 0..8 {
        leftover_in(
            &w,
            "",
            "unshare --pid --fork --mount-proc",
            "-u alice",
            "",
            s(&spin),
            2,
            &format!("run{run}-"),
        );
    }
}

/// A root target's log in root's sticky /tmp: another user creates the
/// file between runas's look and its open (strace makes the look say "no
/// such file" while alice's file is there, which makes the race certain);
/// root must not write into that user's file.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_root_log_in_a_shared_directory_is_not_raced() {
    let Some(w) = world("attack_log_race") else {
        return;
    };
    let shared = w.shared_dir("shared");
    let log = shared.join("root.log");
    let script = format!(
        "setpriv --reuid=1500 --regid=1500 --clear-groups -- sh -c 'umask 077; : > {log}' && \
         strace -f -qq -o /dev/null -P root.log -e inject=newfstatat:error=ENOENT:when=1 \
         {runas} -u root --daemon --log {log} -- /bin/sh -c 'echo ROOT-SECRET'; echo rc=$?",
        log = log.display(),
        runas = w.runas.display()
    );
    let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
    let text = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains("ROOT-SECRET"),
        "root wrote into alice's file\n{}",
        run.describe()
    );
    assert!(run.stdout.contains("rc=125"), "{}", run.describe());
    assert!(
        run.stderr.contains("owned by uid 1500"),
        "{}",
        run.describe()
    );
}

/// Holds every execve for 3 s: the window between the daemon's switch and
/// its exec, made wide enough to hit.
const SLOW_EXECVE: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>
int execve(const char *path, char *const argv[], char *const envp[]) {
    int (*real)(const char *, char *const[], char *const[]) = dlsym(RTLD_NEXT, "execve");
    sleep(3);
    return real(path, argv, envp);
}
"#;

/// The target stops the daemon between its switch and its exec (it may:
/// the daemon has its uid by then); runas must not wait for ever.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_daemon_stopped_before_exec_does_not_hang_the_start() {
    let Some(w) = world("attack_daemon_stopped") else {
        return;
    };
    let Some(shim) = preload_shim(&w, "attack_daemon_stopped", "slow_execve", SLOW_EXECVE) else {
        return;
    };
    let out = w.shared_dir("shared");
    // "alice" stops her daemon while it waits in execve.
    let script = format!(
        "(sleep 1; for p in $(pgrep -u 1500 -f {runas}); do setpriv --reuid=1500 --regid=1500 --clear-groups kill -STOP $p; done) & \
         LD_PRELOAD={shim} timeout -k 2 20 {runas} -u alice --daemon -- /bin/sh -c 'echo ran > {out}/ran'; echo rc=$?; wait",
        runas = w.runas.display(),
        shim = shim.display(),
        out = out.display()
    );
    let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
    assert!(
        !run.stdout.contains("rc=124"),
        "runas hung\n{}",
        run.describe()
    );
    assert!(run.stdout.contains("rc=125"), "{}", run.describe());
    assert!(
        run.stderr.contains("the daemon was stopped"),
        "{}",
        run.describe()
    );
    assert!(!out.join("ran").exists());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn add_group_of_refuses_a_hard_link_and_a_mount_in_a_shared_directory() {
    let Some(w) = world("attack_add_group_of_shared") else {
        return;
    };
    let shared = w.shared_dir("shared");
    // A root file of group 0, linked into /tmp-like shared space (what the
    // target can do with fs.protected_hardlinks=0).
    let secret = root_secret(&w, "secret");
    let link = shared.join("app.sock");
    fs::hard_link(&secret, &link).unwrap();
    w.runas(&with_probe(&["-u", "alice", "--add-group-of", s(&link)]))
        .assert_refused("hard links");
    // A mount point there (a user's FUSE mount would claim to be root's;
    // a tmpfs stands in for it).
    let mount = shared.join("mnt");
    fs::create_dir(&mount).unwrap();
    let script = format!(
        "mount -t tmpfs -o mode=755 none {mount} && : > {mount}/device && exec {runas} -u alice --add-group-of {mount}/device -- /bin/true",
        mount = mount.display(),
        runas = w.runas.display()
    );
    let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
    run.assert_refused("is a mount point");
}

// --env-file and --envdir: files root reads, as root, for the target. The
// target (alice) controls its own directories and may plant links, FIFOs
// and files in root's sticky shared directory (/tmp); whatever it can
// write or replace, it could use to choose what root hands the next start
// of the service (LD_PRELOAD, PATH), or to have root read it a root-only
// file. Each refusal below has a control: the same content where only
// root could have put it is accepted, so the refusal comes from the rule
// under test and from nothing else.

/// A root-only environment file, standing in for another service's secrets.
const SECRET_ENV: &str = "DB_PASSWORD=hunter2-root-only\n";

/// What the target would like root to hand it.
const HOSTILE_ENV: &str = "LD_PRELOAD=/home/alice/evil.so\n";

fn root_secret_env(w: &World, name: &str) -> PathBuf {
    w.file(name, SECRET_ENV, 0o600)
}

/// Run a shell script as alice (uid and gid 1500, no groups) in the world:
/// what she plants is hers, made with her own rights.
fn as_alice(w: &World, script: &str) -> Run {
    w.program(
        Path::new("/usr/bin/setpriv"),
        &[
            "--reuid=1500",
            "--regid=1500",
            "--clear-groups",
            "--",
            "/bin/sh",
            "-c",
            script,
        ],
    )
}

/// `path` as runas quotes it in messages (quote.rs: JSON, control
/// characters as \uXXXX).
fn quoted(path: &Path) -> String {
    let mut out = String::from("\"");
    for c in path.to_string_lossy().chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// No C0, DEL or C1 control character but the line ends.
fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        !text.chars().any(|c| c != '\n' && c.is_control()),
        "raw control characters in {what}: {text:?}"
    );
}

/// A world with a marker the target creates first thing.
struct EnvCase {
    w: World,
    marker: PathBuf,
}

fn env_case(test: &str) -> Option<EnvCase> {
    let w = world(test)?;
    let marker = w.shared_dir("out").join("target-ran");
    Some(EnvCase { w, marker })
}

impl EnvCase {
    /// `runas -u alice ARGS -- sh` that creates the marker, says it ran and
    /// prints its environment; bounded in time, so a runas that blocks (on
    /// a FIFO) fails the test with 124 instead of hanging it.
    fn run(&self, args: &[&str]) -> Run {
        let script = format!(": > '{}'; echo target-pid $$; env", self.marker.display());
        let mut argv = vec!["20", s(&self.w.runas), "-u", "alice"];
        argv.extend_from_slice(args);
        argv.extend(["--", "/bin/sh", "-c", &script]);
        self.w.program(Path::new("/usr/bin/timeout"), &argv)
    }

    /// Refused, promptly: 125, one message `runas: OPTION "PATH": ...`
    /// containing `needle`, no raw control character, the target never ran.
    fn assert_refused(&self, run: &Run, option: &str, path: &Path, needle: &str) {
        assert_ne!(run.code(), Some(124), "runas blocked\n{}", run.describe());
        run.assert_refused(needle);
        let prefix = format!("runas: {option} {}: ", quoted(path));
        assert!(
            run.stderr.starts_with(&prefix),
            "expected a message starting {prefix:?}\n{}",
            run.describe()
        );
        assert_no_raw_controls("stderr", &run.stderr);
        assert!(!self.marker.exists(), "the target ran\n{}", run.describe());
        for secret in ["hunter2", "$6$secret"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "root-only text reached the output\n{}",
                run.describe()
            );
        }
    }

    /// The target ran: its environment, by name.
    fn env(&self, run: &Run) -> BTreeMap<String, String> {
        assert_eq!(run.code(), Some(0), "{}", run.describe());
        assert!(self.marker.exists(), "the target did not run");
        fs::remove_file(&self.marker).unwrap();
        run.stdout
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The control: `contents` as a root-owned 0644 file in a root-owned
    /// 0755 directory is accepted and reaches the target.
    fn assert_accepted_from_root(&self, name: &str, contents: &str, var: &str, value: &str) {
        let file = self.w.file(name, contents, 0o644);
        let env = self.env(&self.run(&["--env-file", s(&file)]));
        assert_eq!(env.get(var).map(String::as_str), Some(value), "{env:?}");
        fs::remove_file(file).unwrap();
    }
}

/// A root-owned 0755 directory in the world.
fn root_dir(w: &World, name: &str) -> PathBuf {
    let dir = w.path().join(name);
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A root-owned file at `path` with this mode.
fn root_file(path: &Path, contents: &str, mode: u32) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_in_a_directory_the_target_controls_is_refused() {
    // (a) alice owns /run/app or her home: she can swap root's file there.
    let Some(c) = env_case("attack_env_file_target_directory") else {
        return;
    };
    let w = &c.w;
    // The file itself is root's, 0644, one link: only the directory is wrong.
    let run_dir = alice_dir(w, "run-app");
    let file = run_dir.join("app.env");
    root_file(&file, HOSTILE_ENV, 0o644);
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(&run, "--env-file", &file, &quoted(&run_dir));
    assert!(
        run.stderr.contains("owned by uid 1500"),
        "{}",
        run.describe()
    );
    // A root-owned directory inside hers: she can rename it and put her own.
    let home = alice_dir(w, "home-alice");
    let conf = home.join("conf");
    fs::create_dir(&conf).unwrap();
    let file = conf.join("app.env");
    root_file(&file, HOSTILE_ENV, 0o644);
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(&run, "--env-file", &file, &quoted(&home));
    // Root's directory, writable by alice's group.
    let group_dir = root_dir(w, "etc-app-group");
    chown(&group_dir, 0, 1500);
    fs::set_permissions(&group_dir, fs::Permissions::from_mode(0o775)).unwrap();
    let file = group_dir.join("app.env");
    root_file(&file, HOSTILE_ENV, 0o644);
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(
        &run,
        "--env-file",
        &file,
        "writable by its group or by others",
    );
    c.assert_accepted_from_root("app.env", HOSTILE_ENV, "LD_PRELOAD", "/home/alice/evil.so");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_symlink_planted_by_the_target_is_not_followed() {
    // (b) a link to a root-only file: root would read it and hand it over.
    let Some(c) = env_case("attack_env_file_symlink") else {
        return;
    };
    let w = &c.w;
    let secret = root_secret_env(w, "db.env");
    let shadow = root_secret(w, "shadow");
    // In root's sticky shared directory, where she may create entries: the
    // link is the only thing wrong (what it points to is root's, 0600, one
    // link), and fs.protected_symlinks may be off.
    let shared = w.shared_dir("shared");
    for (name, target) in [("app.env", &secret), ("shadow.env", &shadow)] {
        let link = shared.join(name);
        let planted = as_alice(w, &format!("ln -s '{}' '{}'", s(target), s(&link)));
        assert_eq!(planted.code(), Some(0), "{}", planted.describe());
        let run = c.run(&["--env-file", s(&link)]);
        c.assert_refused(&run, "--env-file", &link, "symbolic link");
    }
    // In her own directory.
    let run_dir = alice_dir(w, "run-app");
    let link = run_dir.join("app.env");
    let planted = as_alice(w, &format!("ln -s '{}' '{}'", s(&secret), s(&link)));
    assert_eq!(planted.code(), Some(0), "{}", planted.describe());
    let run = c.run(&["--env-file", s(&link)]);
    c.assert_refused(&run, "--env-file", &link, &quoted(&run_dir));
    // Even root's own link in root's directory is not followed.
    let link = w.path().join("root-link.env");
    symlink(&secret, &link).unwrap();
    let run = c.run(&["--env-file", s(&link)]);
    c.assert_refused(
        &run,
        "--env-file",
        &link,
        "symbolic link, which runas does not follow",
    );
    assert_untouched(&shadow);
    // The control: the secret itself, named directly, is read (root asked).
    let env = c.env(&c.run(&["--env-file", s(&secret)]));
    assert_eq!(env["DB_PASSWORD"], "hunter2-root-only");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_fifo_planted_by_the_target_is_refused_without_blocking() {
    // (c) a FIFO nobody writes: an open without O_NONBLOCK hangs the start.
    let Some(c) = env_case("attack_env_file_fifo") else {
        return;
    };
    let w = &c.w;
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
    let shared = w.shared_dir("shared");
    let fifo = shared.join("app.env");
    let planted = as_alice(w, &format!("mkfifo '{}'", s(&fifo)));
    assert_eq!(planted.code(), Some(0), "{}", planted.describe());
    let run_dir = alice_dir(w, "run-app");
    let fifo_in_her_dir = run_dir.join("app.env");
    nix::unistd::mkfifo(&fifo_in_her_dir, mode).unwrap();
    chown(&fifo_in_her_dir, 1500, 1500);
    // Root's own FIFO in root's directory: the file type alone refuses it.
    let root_fifo = w.path().join("root.env");
    nix::unistd::mkfifo(&root_fifo, mode).unwrap();
    for (path, needle) in [
        (&fifo, "owned by uid 1500"),
        (&fifo_in_her_dir, "owned by uid 1500"),
        (&root_fifo, "it is a FIFO, not a regular file"),
    ] {
        let start = std::time::Instant::now();
        let run = c.run(&["--env-file", s(path)]);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "runas took {:?}\n{}",
            start.elapsed(),
            run.describe()
        );
        c.assert_refused(&run, "--env-file", path, needle);
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_hard_link_to_a_root_file_is_refused() {
    // (d) a second name of root's file: its owner, mode and the sticky
    // directory's rule all say "root's", only the link count tells.
    let Some(c) = env_case("attack_env_file_hardlink") else {
        return;
    };
    let w = &c.w;
    let secret = root_secret_env(w, "db.env");
    let shared = w.shared_dir("shared");
    let link = shared.join("app.env");
    // alice may make it where fs.protected_hardlinks is 0; otherwise root
    // makes it for her, to the same effect.
    let planted = as_alice(
        w,
        &format!("ln '{}' '{}' 2>/dev/null", s(&secret), s(&link)),
    );
    if planted.code() != Some(0) {
        fs::hard_link(&secret, &link).unwrap();
    }
    assert_eq!(fs::symlink_metadata(&link).unwrap().uid(), 0);
    let run = c.run(&["--env-file", s(&link)]);
    c.assert_refused(&run, "--env-file", &link, "it has 2 hard links");
    // In a root-owned directory, and in hers.
    let root_link = w.path().join("second-name.env");
    fs::hard_link(&secret, &root_link).unwrap();
    let run = c.run(&["--env-file", s(&root_link)]);
    c.assert_refused(&run, "--env-file", &root_link, "it has 3 hard links");
    let run_dir = alice_dir(w, "run-app");
    let her_link = run_dir.join("app.env");
    fs::hard_link(&secret, &her_link).unwrap();
    let run = c.run(&["--env-file", s(&her_link)]);
    c.assert_refused(&run, "--env-file", &her_link, &quoted(&run_dir));
    // The control: with one name again, the same file is read.
    for name in [&link, &root_link, &her_link] {
        fs::remove_file(name).unwrap();
    }
    let env = c.env(&c.run(&["--env-file", s(&secret)]));
    assert_eq!(env["DB_PASSWORD"], "hunter2-root-only");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_the_target_can_write_is_refused() {
    // (e) root's directory, but a file alice may rewrite before the next start.
    let Some(c) = env_case("attack_env_file_writable") else {
        return;
    };
    let w = &c.w;
    let dir = root_dir(w, "etc-app");
    let file = dir.join("app.env");
    let cases: &[(u32, u32, u32, &str)] = &[
        (
            0,
            0,
            0o666,
            "writable by its group or by others (mode 0666)",
        ),
        (
            0,
            0,
            0o646,
            "writable by its group or by others (mode 0646)",
        ),
        (
            0,
            1500,
            0o664,
            "writable by its group or by others (mode 0664)",
        ),
        (1500, 1500, 0o644, "it is owned by uid 1500, not root"),
        (1500, 0, 0o400, "it is owned by uid 1500, not root"),
    ];
    for &(uid, gid, mode, needle) in cases {
        root_file(&file, HOSTILE_ENV, mode);
        chown(&file, uid, gid);
        let run = c.run(&["--env-file", s(&file)]);
        c.assert_refused(&run, "--env-file", &file, needle);
        assert!(
            run.stderr.contains("chown root: FILE; chmod go-w FILE"),
            "{}",
            run.describe()
        );
        fs::remove_file(&file).unwrap();
    }
    // Her own file in root's sticky shared directory.
    let shared = w.shared_dir("shared");
    let file = shared.join("app.env");
    let planted = as_alice(
        w,
        &format!(
            "umask 022; printf '{}' > '{}'",
            HOSTILE_ENV.trim_end(),
            s(&file)
        ),
    );
    assert_eq!(planted.code(), Some(0), "{}", planted.describe());
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(&run, "--env-file", &file, "owned by uid 1500");
    // The control: root's 0644 file in root's directory, and in the sticky one.
    root_file(&dir.join("app.env"), HOSTILE_ENV, 0o644);
    let env = c.env(&c.run(&["--env-file", s(&dir.join("app.env"))]));
    assert_eq!(env["LD_PRELOAD"], "/home/alice/evil.so");
    let root_in_shared = shared.join("root.env");
    root_file(&root_in_shared, "FROM_TMP=yes\n", 0o644);
    let env = c.env(&c.run(&["--env-file", s(&root_in_shared)]));
    assert_eq!(env["FROM_TMP"], "yes");
}

/// What to plant as an envdir entry: its name in messages, how, and the
/// refusal expected.
type Plant<'a> = (&'a str, &'a dyn Fn(&Path), &'a str);

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn envdir_entries_the_target_could_steer_are_refused() {
    // (f) each entry is a file root reads: a link, a FIFO or a file that is
    // not root's alone is refused like an --env-file would be.
    let Some(c) = env_case("attack_envdir_entries") else {
        return;
    };
    let w = &c.w;
    let secret = root_secret_env(w, "db.env");
    let dir = root_dir(w, "app.d");
    root_file(&dir.join("A"), "fine\n", 0o644);
    // The control: the directory as it is.
    let env = c.env(&c.run(&["--envdir", s(&dir)]));
    assert_eq!(env["A"], "fine");
    let entry = dir.join("B");
    let plant: &[Plant] = &[
        (
            "symlink",
            &|p| symlink(&secret, p).unwrap(),
            "it is a symbolic link",
        ),
        (
            "FIFO",
            &|p| nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap(),
            "it is a FIFO, not a regular file",
        ),
        (
            "target's file",
            &|p| {
                root_file(p, "/home/alice/evil.so\n", 0o644);
                chown(p, 1500, 1500);
            },
            "it is owned by uid 1500, not root",
        ),
        (
            "writable file",
            &|p| root_file(p, "/home/alice/evil.so\n", 0o666),
            "it is writable by its group or by others (mode 0666)",
        ),
        (
            "hard link",
            &|p| fs::hard_link(&secret, p).unwrap(),
            "it has 2 hard links",
        ),
        (
            "directory",
            &|p| fs::create_dir(p).unwrap(),
            "it is a directory, not a regular file",
        ),
    ];
    for (what, make, needle) in plant {
        make(&entry);
        let start = std::time::Instant::now();
        let run = c.run(&["--envdir", s(&dir)]);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{what}: runas took {:?}",
            start.elapsed()
        );
        c.assert_refused(
            &run,
            "--envdir",
            &dir,
            &format!("its entry \"B\": {needle}"),
        );
        if fs::symlink_metadata(&entry).unwrap().is_dir() {
            fs::remove_dir(&entry).unwrap();
        } else {
            fs::remove_file(&entry).unwrap();
        }
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn envdir_the_target_controls_is_refused() {
    // (g) a directory alice owns (or may write) is hers to fill.
    let Some(c) = env_case("attack_envdir_directory") else {
        return;
    };
    let w = &c.w;
    // Her directory, holding root's files.
    let dir = alice_dir(w, "app.d");
    root_file(&dir.join("LD_PRELOAD"), "/home/alice/evil.so\n", 0o644);
    let run = c.run(&["--envdir", s(&dir)]);
    c.assert_refused(
        &run,
        "--envdir",
        &dir,
        &format!("{} is owned by uid 1500", quoted(&dir)),
    );
    // Root's directory inside hers.
    let home = alice_dir(w, "home-alice");
    let inner = home.join("app.d");
    fs::create_dir(&inner).unwrap();
    root_file(&inner.join("LD_PRELOAD"), "/home/alice/evil.so\n", 0o644);
    let run = c.run(&["--envdir", s(&inner)]);
    c.assert_refused(&run, "--envdir", &inner, &quoted(&home));
    // Root's, but writable by her group, or sticky and writable by all.
    let group_dir = root_dir(w, "group.d");
    root_file(
        &group_dir.join("LD_PRELOAD"),
        "/home/alice/evil.so\n",
        0o644,
    );
    chown(&group_dir, 0, 1500);
    fs::set_permissions(&group_dir, fs::Permissions::from_mode(0o775)).unwrap();
    let run = c.run(&["--envdir", s(&group_dir)]);
    c.assert_refused(&run, "--envdir", &group_dir, "(mode 0775)");
    let sticky = w.shared_dir("sticky.d");
    root_file(&sticky.join("LD_PRELOAD"), "/home/alice/evil.so\n", 0o644);
    let run = c.run(&["--envdir", s(&sticky)]);
    c.assert_refused(&run, "--envdir", &sticky, "(mode 1777)");
    // Her link, in the shared directory, to root's directory: not followed.
    let good = root_dir(w, "root.d");
    root_file(&good.join("GOOD"), "yes\n", 0o644);
    let shared = w.shared_dir("shared");
    let link = shared.join("app.d");
    let planted = as_alice(w, &format!("ln -s '{}' '{}'", s(&good), s(&link)));
    assert_eq!(planted.code(), Some(0), "{}", planted.describe());
    let run = c.run(&["--envdir", s(&link)]);
    c.assert_refused(&run, "--envdir", &link, "");
    // The control: root's own 0755 directory.
    let env = c.env(&c.run(&["--envdir", s(&good)]));
    assert_eq!(env["GOOD"], "yes");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_file_text_is_never_printed_raw() {
    // (h) terminal escapes in a file's text, name or path reach no message raw.
    let Some(c) = env_case("attack_env_file_escapes") else {
        return;
    };
    let w = &c.w;
    // Invalid files in a trusted place: the message names the line and
    // its length, never its text (issue 25: it may be a secret).
    let invalid: &[(&str, &str, &str)] = &[
        (
            "\x1b[2J\x1b]2;pwned\x07\n",
            "line 1: expected NAME=value, found a line of 14 characters without '='",
            "no '='",
        ),
        (
            "A=1\nB\x1b[31m=2\n",
            "line 2: invalid variable name (6 characters; character 2 is a control character)",
            "name",
        ),
        (
            "\u{9b}2J\x7f\n",
            "line 1: expected NAME=value, found a line of 4 characters",
            "C1 and DEL",
        ),
        (
            "export \x1b[2JX=1\n",
            "line 1: it starts with 'export'",
            "export",
        ),
        (
            "A=1\nghp_0123456789abcdefSECRETTOKEN\n",
            "line 2: expected NAME=value, found a line of 31 characters",
            "a token pasted on a line of its own",
        ),
        (
            "DB-PASSWORD=SECRETTOKEN\n",
            "line 1: invalid variable name (11 characters; character 3 is '-')",
            "a secret under a name with a dash",
        ),
    ];
    for (i, (text, needle, what)) in invalid.iter().enumerate() {
        let file = w.file(&format!("bad{i}.env"), text, 0o644);
        let run = c.run(&["--env-file", s(&file)]);
        assert!(run.stderr.contains(needle), "{what}: {}", run.describe());
        for secret in ["pwned", "SECRET", "2J", "31m", "PASSWORD"] {
            assert!(!run.stderr.contains(secret), "{what}: {}", run.describe());
        }
        c.assert_refused(&run, "--env-file", &file, needle);
    }
    // A refused file full of escapes: never read, so never shown.
    let run_dir = alice_dir(w, "run-app");
    let file = run_dir.join("app.env");
    root_file(&file, "\x1b]2;pwned\x07\x1b[2J\n", 0o644);
    chown(&file, 1500, 1500);
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(&run, "--env-file", &file, "owned by uid 1500");
    // Escapes in the path itself.
    let file = w.file("app\x1b]2;pwned\x07.env", "A=1\n", 0o666);
    let run = c.run(&["--env-file", s(&file)]);
    c.assert_refused(&run, "--env-file", &file, "\\u001b]2;pwned\\u0007");
    // An envdir entry whose name is an escape sequence.
    let dir = root_dir(w, "app.d");
    root_file(&dir.join("X\x1b[2J"), "1\n", 0o644);
    let run = c.run(&["--envdir", s(&dir)]);
    c.assert_refused(
        &run,
        "--envdir",
        &dir,
        "\"X\\u001b[2J\", which cannot name a variable",
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn dry_run_escapes_control_characters_from_env_files() {
    // (h) values are data: the target gets them byte for byte, but a
    // --dry-run showing them to a terminal escapes every control character.
    let Some(c) = env_case("attack_env_file_dry_run_escapes") else {
        return;
    };
    let w = &c.w;
    let file = w.file(
        "app.env",
        "TITLE=\"\x1b]2;pwned\x07\x1b[2J\"\nCSI=\u{9b}31m\nDEL=a\x7fb\n",
        0o644,
    );
    let dir = root_dir(w, "app.d");
    root_file(&dir.join("FROM_DIR"), "\x1b[31mred\n", 0o644);
    let args = ["--env-file", s(&file), "--envdir", s(&dir)];
    for (json, show) in [(false, true), (true, true), (false, false), (true, false)] {
        let mut all = vec!["--dry-run"];
        if json {
            all.push("--json");
        }
        if show {
            all.push("--show-env-values");
        }
        all.extend_from_slice(&args);
        let run = c.run(&all);
        assert_eq!(run.code(), Some(0), "{}", run.describe());
        assert!(!c.marker.exists(), "--dry-run ran the target");
        assert_no_raw_controls("--dry-run output", &run.stdout);
        assert_no_raw_controls("--dry-run stderr", &run.stderr);
        for escaped in [
            "\\u001b]2;pwned\\u0007\\u001b[2J",
            "\\u009b31m",
            "a\\u007fb",
            "\\u001b[31mred",
        ] {
            assert_eq!(
                run.stdout.contains(escaped),
                show,
                "json={json}, --show-env-values={show}: {escaped:?}\n{}",
                run.describe()
            );
        }
        // Issue 25: values read from files are secrets until asked for;
        // the names are always there.
        for name in ["TITLE", "CSI", "DEL", "FROM_DIR"] {
            assert!(run.stdout.contains(name), "{name}\n{}", run.describe());
        }
    }
    let env = c.env(&c.run(&args));
    assert_eq!(env["TITLE"], "\x1b]2;pwned\x07\x1b[2J");
    assert_eq!(env["CSI"], "\u{9b}31m");
    assert_eq!(env["DEL"], "a\x7fb");
    assert_eq!(env["FROM_DIR"], "\x1b[31mred");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_files_from_root_owned_places_apply_in_command_line_order() {
    // The working case: root's 0644 files in root's 0755 directories reach
    // the target, applied in order with -e and --unset (the last one wins).
    let Some(c) = env_case("env_file_order") else {
        return;
    };
    let w = &c.w;
    let dir = root_dir(w, "etc-app");
    let f = dir.join("app.env");
    root_file(&f, "# a comment\nA=2\nB='two words'\n", 0o644);
    let g = dir.join("override.env");
    root_file(&g, "A=4\n", 0o644);
    let d = dir.join("app.d");
    fs::create_dir(&d).unwrap();
    root_file(&d.join("A"), "5  \nsecond line\n", 0o644);
    root_file(&d.join("B"), "", 0o644);
    root_file(&d.join(".hidden"), "not a variable\n", 0o644);
    let (f, g, d) = (s(&f), s(&g), s(&d));
    let cases: &[(&[&str], Option<&str>, Option<&str>)] = &[
        (&["--env-file", f], Some("2"), Some("two words")),
        (
            &["-e", "A=1", "--env-file", f],
            Some("2"),
            Some("two words"),
        ),
        (
            &["--env-file", f, "-e", "A=3"],
            Some("3"),
            Some("two words"),
        ),
        (&["--env-file", f, "--unset", "A"], None, Some("two words")),
        (
            &["--unset", "A", "--env-file", f],
            Some("2"),
            Some("two words"),
        ),
        (
            &["--env-file", f, "--env-file", g],
            Some("4"),
            Some("two words"),
        ),
        (
            &["--env-file", g, "--env-file", f],
            Some("2"),
            Some("two words"),
        ),
        // envdir: the first line, trailing blanks cut; an empty file unsets.
        (&["--env-file", f, "--envdir", d], Some("5"), None),
        (
            &["--envdir", d, "--env-file", f],
            Some("2"),
            Some("two words"),
        ),
        (&["-e", "B=1", "--envdir", d, "-e", "A=6"], Some("6"), None),
    ];
    for (args, a, b) in cases {
        let env = c.env(&c.run(args));
        assert_eq!(env.get("A").map(String::as_str), *a, "{args:?}: A");
        assert_eq!(env.get("B").map(String::as_str), *b, "{args:?}: B");
        assert_eq!(env["USER"], "alice", "{args:?}");
        assert!(!env.contains_key(".hidden"), "{args:?}");
    }
}

/// A launcher that is not root but may switch users (systemd's `User=` with
/// `AmbientCapabilities=CAP_SETUID CAP_SETGID`): the target plants a link
/// to the launcher's own secret as its env file and envdir entry. Reading
/// "with the caller's rights" would hand the target the secret; the
/// trusted-path rules apply to any switch to another uid.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn env_files_of_a_launcher_with_cap_setuid_alone_are_not_steered_by_the_target() {
    let Some(w) = world("env_files_cap_setuid_launcher") else {
        return;
    };
    // bob (1501) is the launcher; his secret, readable by him alone.
    let bobs = w.owned_dir("bob-private", 1501, 1501);
    fs::set_permissions(&bobs, fs::Permissions::from_mode(0o700)).unwrap();
    let secret = bobs.join("secret.env");
    fs::write(&secret, "TOKEN=bobs-secret\n").unwrap();
    chown(&secret, 1501, 1501);
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    // alice (the target) plants links in a directory of hers.
    let alices = alice_dir(&w, "alice-run");
    let planted = as_alice(
        &w,
        &format!(
            "ln -s '{secret}' '{dir}/app.env' && mkdir '{dir}/env.d' && ln -s '{secret}' '{dir}/env.d/TOKEN'",
            secret = s(&secret),
            dir = s(&alices)
        ),
    );
    assert!(planted.output.status.success(), "{}", planted.describe());
    // By name: in the fixture, the account *named* "1501" is uid 0, and
    // setpriv looks digit strings up as names first.
    let launcher = [
        "/usr/bin/setpriv",
        "--reuid=bob",
        "--regid=bob",
        "--clear-groups",
        "--inh-caps=+setuid,+setgid",
        "--ambient-caps=+setuid,+setgid",
    ];
    let env_file = format!("{}/app.env", s(&alices));
    let env_dir = format!("{}/env.d", s(&alices));
    for (option, path) in [("--env-file", &env_file), ("--envdir", &env_dir)] {
        let run = w.runas_under(
            &launcher,
            &[
                "-u",
                "alice",
                option,
                path,
                "--",
                "/bin/sh",
                "-c",
                "echo target-pid $$ TOKEN=$TOKEN",
            ],
        );
        assert!(
            !run.stdout.contains("bobs-secret"),
            "the secret reached the target\n{}",
            run.describe()
        );
        run.assert_refused(option);
    }
    // The control: the same launcher runs alice without the files, as
    // bob with the two capabilities only.
    let run = w.runas_under(
        &launcher,
        &["-u", "alice", "--", "/bin/sh", "-c", "echo target-pid $$"],
    );
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let launched = w.program(
        Path::new(launcher[0]),
        &[&launcher[1..], &["/usr/bin/id", "-u"]].concat(),
    );
    assert!(
        launched.stdout.lines().any(|l| l == "1501"),
        "{}",
        launched.describe()
    );
}

/// An inherited descriptor (root's file, open for appending) must be gone
/// before the target runs with --close-fds or --daemon, even when
/// --rlimit nofile leaves no descriptor to list /proc/self/fd with and
/// close_range is refused (old kernels, seccomp) or reports success
/// without acting: runas fails closed rather than trust a partial list.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_low_descriptor_limit_cannot_blind_the_close_fds_check() {
    let Some(w) = world("low_nofile_close_fds") else {
        return;
    };
    let log = w.file("root.log", "", 0o644);
    let probe = w.file(
        "write-7.sh",
        "#!/bin/sh\necho written-by-the-target >&7 && echo target-pid $$\n",
        0o755,
    );
    for (inject, extra) in [
        ("inject=close_range:error=EINVAL", "--close-fds"),
        ("inject=close_range:error=EPERM", "--close-fds"),
        ("inject=close_range:retval=0", "--close-fds"),
        ("inject=close_range:error=EPERM", "--daemon"),
    ] {
        let script = format!(
            "exec 7>>'{log}'; exec strace -f -qq -o /dev/null -e '{inject}' '{runas}' -u alice {extra} --rlimit nofile=3 -- '{probe}'",
            log = s(&log),
            runas = s(&w.runas),
            probe = s(&probe),
        );
        let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
        // A daemon's caller reports the daemon's failure.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            !fs::read_to_string(&log)
                .unwrap()
                .contains("written-by-the-target"),
            "{inject} {extra}: the target wrote through an inherited descriptor\n{}",
            run.describe()
        );
        assert_eq!(
            run.code(),
            Some(125),
            "{inject} {extra}\n{}",
            run.describe()
        );
    }
}

/// An NSS module (glibc build) that starts a thread, as modules built on
/// threaded runtimes do: the thread waits until the main thread has
/// dropped root, then records its own ids. A credential change made by
/// the plain system call changes the calling thread only, so this thread
/// would still be root until the execve: "the switch cannot be undone"
/// would not hold for the whole process.
const THREADED_NSS_MODULE: &str = r#"
#define _GNU_SOURCE
#include <nss.h>
#include <pwd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *watch(void *arg) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", (long)arg);
    const char *out = getenv("NSS_THREAD_OUT");
    /* Until the switch is seen, or the thread's task is gone (the execve
       ends every thread): no count of tries, which a loaded machine could
       use up before the switch. */
    while (out) {
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        char line[256];
        unsigned real = 0, effective = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Uid:\t%u\t%u", &real, &effective) == 2) break;
        fclose(f);
        if (effective != 0) {
            uid_t r, e, s;
            getresuid(&r, &e, &s);
            FILE *o = fopen(out, "w");
            if (o) { fprintf(o, "%u %u %u\n", r, e, s); fclose(o); }
            return 0;
        }
    }
    return 0;
}

enum nss_status _nss_thr_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                    size_t len, int *err) {
    static int started;
    (void)name; (void)pw; (void)buf; (void)len; (void)err;
    if (!started) {
        started = 1;
        pthread_t t;
        if (pthread_create(&t, 0, watch, (void *)(long)getpid()) == 0) pthread_detach(t);
    }
    return NSS_STATUS_NOTFOUND;
}
"#;

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_thread_started_by_an_nss_module_is_switched_too() {
    let test = "nss_module_thread";
    let Some(w) = world(test) else {
        return;
    };
    if !dynamically_linked() {
        skip(
            test,
            "the static build loads no NSS module (it reads the files itself)",
        );
        return;
    }
    let libs = w.path().join("nss-lib");
    fs::create_dir(&libs).unwrap();
    let source = w.path().join("nss_thr.c");
    fs::write(&source, THREADED_NSS_MODULE).unwrap();
    let built = std::process::Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(libs.join("libnss_thr.so.2"))
        .arg(&source)
        .arg("-lpthread")
        .status()
        .expect("gcc (Debian package gcc)");
    assert!(built.success());
    fs::set_permissions(&libs, fs::Permissions::from_mode(0o755)).unwrap();
    w.set_nsswitch("passwd: thr files\ngroup: files\nshadow: files\n");
    let out = w.shared_dir("thread").join("ids");
    let ld_path = format!("LD_LIBRARY_PATH={}", s(&libs));
    let thread_out = format!("NSS_THREAD_OUT={}", s(&out));
    // The execve is held back for 3 s, so the thread sees the switch even on
    // a loaded machine (it watches until then, and no longer).
    let run = w.runas_under(
        &[
            "env",
            &ld_path,
            &thread_out,
            "strace",
            "-qq",
            "-f",
            "-o",
            "/dev/null",
            "-e",
            "trace=execve",
            "-e",
            "inject=execve:delay_enter=3000000:when=2",
        ],
        &["-u", "alice", "--", "/bin/true"],
    );
    if run.code() == Some(125) {
        // Refusing to go on with a thread it did not start is also safe.
        return;
    }
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    let ids = fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!(
            "the module's thread never saw the switch\n{}",
            run.describe()
        )
    });
    assert_eq!(
        ids.trim(),
        "1500 1500 1500",
        "the module's thread kept other ids than the main thread's"
    );
}

/// --oom-score-adj writes /proc/self/oom_score_adj as root. Whoever can
/// put something else at that path (a mount over /proc in a container's
/// namespace) must not get root's write: the file is written only when it
/// is procfs's own.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_oom_score_is_written_only_to_procfs() {
    let Some(w) = world("oom_score_not_procfs") else {
        return;
    };
    let marker = w.shared_dir("out").join("target-ran");
    let script = format!(
        "mount -t tmpfs none /proc && mkdir /proc/self && echo 0 > /proc/self/oom_score_adj && \
         exec '{}' -u alice --oom-score-adj 500 -- /bin/sh -c ': > {}; echo target-pid $$'",
        s(&w.runas),
        s(&marker)
    );
    let run = w.program(Path::new("/bin/sh"), &["-c", &script]);
    run.assert_refused("is not on procfs");
    assert!(!marker.exists(), "the target ran\n{}", run.describe());
}

// File systems a user mounted (issue 25). A service account that owns
// /var/lib/app mounts a FUSE file system on it with the set-user-ID
// fusermount3; the server answers root's stat calls itself: the mount
// point and every file in it claim to be root's, one link, any group, any
// content. With `user_allow_other` in /etc/fuse.conf (set for sshfs and
// rclone) root may enter it; without, root gets EACCES.

/// A FUSE file system that lies: every entry root:LIAR_GID (default 6,
/// disk), directories 0755, files 0644 with one link; `hang` never answers,
/// nor the root itself when LIAR_HANG is set.
const LIAR_FS: &str = r#"
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
static const char *content = "INJECTED=by-alice\n";
static gid_t gid = 6;
static int is_dir(const char *p) { return !strcmp(p, "/") || !strcmp(p, "/sub"); }
static int is_file(const char *p) {
  return !strcmp(p, "/app.env") || !strcmp(p, "/dev") || !strcmp(p, "/app.pid")
      || !strcmp(p, "/app.log") || !strcmp(p, "/sub/app.env");
}
static int fs_getattr(const char *p, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (!strcmp(p, "/hang") || (getenv("LIAR_HANG") && !strcmp(p, "/"))) { for (;;) pause(); }
  st->st_uid = 0; st->st_gid = gid;
  if (is_dir(p)) { st->st_mode = S_IFDIR | 0755; st->st_nlink = 2; return 0; }
  if (is_file(p)) { st->st_mode = S_IFREG | 0644; st->st_nlink = 1; st->st_size = strlen(content); return 0; }
  return -ENOENT;
}
static int fs_readdir(const char *p, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags fl) {
  (void)off; (void)fi; (void)fl;
  if (!is_dir(p)) return -ENOENT;
  fill(buf, ".", NULL, 0, 0); fill(buf, "..", NULL, 0, 0); fill(buf, "app.env", NULL, 0, 0);
  return 0;
}
static int fs_open(const char *p, struct fuse_file_info *fi) { (void)fi; return is_file(p) ? 0 : -ENOENT; }
static int fs_create(const char *p, mode_t m, struct fuse_file_info *fi) { (void)p; (void)m; (void)fi; return 0; }
static int fs_truncate(const char *p, off_t o, struct fuse_file_info *fi) { (void)p; (void)o; (void)fi; return 0; }
static int fs_read(const char *p, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)p; (void)fi;
  size_t len = strlen(content);
  if ((size_t)off >= len) return 0;
  if (off + size > len) size = len - off;
  memcpy(buf, content + off, size);
  return size;
}
static int fs_write(const char *p, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)p; (void)buf; (void)off; (void)fi; return size;
}
static const struct fuse_operations ops = {
  .getattr = fs_getattr, .readdir = fs_readdir, .open = fs_open, .read = fs_read,
  .write = fs_write, .create = fs_create, .truncate = fs_truncate,
};
int main(int argc, char *argv[]) {
  if (getenv("LIAR_GID")) gid = atoi(getenv("LIAR_GID"));
  return fuse_main(argc, argv, &ops, NULL);
}
"#;

/// The FUSE server, built, or None (a counted skip) where this kernel
/// offers no /dev/fuse. Missing tools fail, naming their packages.
fn liar_fs(w: &World, test: &str) -> Option<PathBuf> {
    if !Path::new("/dev/fuse").exists() {
        skip(test, "this kernel has no /dev/fuse");
        return None;
    }
    for (path, package) in [
        ("/usr/bin/fusermount3", "fuse3"),
        ("/usr/include/fuse3/fuse.h", "libfuse3-dev"),
    ] {
        assert!(
            Path::new(path).exists(),
            "{test} needs {path} (Debian package {package})"
        );
    }
    let source = w.path().join("liar.c");
    let binary = w.path().join("liar");
    fs::write(&source, LIAR_FS).unwrap();
    let built = std::process::Command::new("gcc")
        .args(["-Wall", "-o"])
        .arg(&binary)
        .arg(&source)
        .args(["-I/usr/include/fuse3", "-lfuse3", "-lpthread"])
        .status()
        .expect("gcc");
    assert!(built.success(), "gcc failed to build the FUSE server");
    fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
    Some(binary)
}

/// Run `script` in the fixture world with alice's lying FUSE file system
/// mounted on `mount` (a directory alice owns), `allow_other` or not. The
/// world's /etc/fuse.conf says user_allow_other; /dev/fuse is a node of
/// mode 0666, as udev makes it on a host (this machine's may be 0600).
fn with_liar(w: &World, liar: &Path, mount: &Path, allow_other: bool, script: &str) -> Run {
    with_liar_as(
        w,
        liar,
        mount,
        allow_other,
        "setpriv --reuid 1500 --regid 1500 --clear-groups",
        script,
    )
}

/// `with_liar`, the server started by `launcher` (root's own: "").
fn with_liar_as(
    w: &World,
    liar: &Path,
    mount: &Path,
    allow_other: bool,
    launcher: &str,
    script: &str,
) -> Run {
    let conf = w.file("fuse.conf", "user_allow_other\n", 0o644);
    let node = w.path().join("fuse-node");
    let made = std::process::Command::new("mknod")
        .args(["-m", "666"])
        .arg(&node)
        .args(["c", "10", "229"])
        .status()
        .unwrap();
    assert!(made.success(), "mknod /dev/fuse's twin");
    let options = if allow_other { "-o allow_other" } else { "" };
    let full = format!(
        "set -e
mount --bind {conf} /etc/fuse.conf
mount --bind {node} /dev/fuse
{launcher} {liar} {options} {mount}
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q ' {mount} .* - fuse' /proc/self/mountinfo && break; sleep 0.2; done
set +e
{script}
# The server first: a process its mount holds in a request it never
# answers (SIGKILL does not end such a wait) is then released.
pkill -KILL -f '^{liar}' 2>/dev/null
fusermount3 -u {mount} 2>/dev/null || umount -l {mount} 2>/dev/null
true",
        conf = conf.display(),
        node = node.display(),
        liar = liar.display(),
        mount = mount.display(),
    );
    w.program(Path::new("/bin/sh"), &["-c", &full])
}

/// One runas in a `with_liar` script: its status and stderr on a line
/// marked with the case's name, its stdout on the lines after.
fn liar_case(w: &World, name: &str, args: &str) -> String {
    format!(
        "err=$({runas} {args} 2>&1 >\"$RUNAS_WORLD/liar-out\"); status=$?; echo \"case {name} $status $err\"; sed 's/^/  out /' \"$RUNAS_WORLD/liar-out\"\n",
        runas = w.runas.display()
    )
}

fn case_line<'a>(run: &'a Run, name: &str) -> &'a str {
    let marker = format!("case {name} ");
    run.stdout
        .lines()
        .find_map(|line| line.strip_prefix(&marker))
        .unwrap_or_else(|| panic!("no case {name}\n{}", run.describe()))
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_users_fuse_mount_that_claims_to_be_roots_is_refused() {
    let Some(w) = world("attack_fuse_liar") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_fuse_liar") else {
        return;
    };
    let app = alice_dir(&w, "var-lib-app");
    let a = s(&app);
    let marker = w.shared_dir("out").join("ran");
    let script = [
        liar_case(
            &w,
            "group-of-file",
            &format!("-u alice --add-group-of {a}/dev -- /usr/bin/id -G"),
        ),
        liar_case(
            &w,
            "group-of-mount",
            &format!("-u alice --add-group-of {a} -- /usr/bin/id -G"),
        ),
        liar_case(
            &w,
            "env-file",
            &format!("-u alice --env-file {a}/app.env -- /usr/bin/env"),
        ),
        liar_case(
            &w,
            "env-file-deeper",
            &format!("-u alice --env-file {a}/sub/app.env -- /usr/bin/env"),
        ),
        liar_case(
            &w,
            "envdir",
            &format!("-u alice --envdir {a}/sub -- /usr/bin/env"),
        ),
        liar_case(
            &w,
            "pidfile",
            &format!(
                "-u alice --daemon --pidfile {a}/app.pid -- /bin/sh -c ': > {}'",
                marker.display()
            ),
        ),
        liar_case(
            &w,
            "root-log",
            &format!("-u root --bounding-set -all --daemon --log {a}/app.log -- /bin/true"),
        ),
        liar_case(
            &w,
            "dry-run",
            &format!("--dry-run -u alice --add-group-of {a}/dev -- /bin/true"),
        ),
    ]
    .concat();
    let run = with_liar(&w, &liar, &app, true, &script);
    for case in [
        "group-of-file",
        "group-of-mount",
        "env-file",
        "env-file-deeper",
        "envdir",
        "pidfile",
        "root-log",
        "dry-run",
    ] {
        let line = case_line(&run, case);
        assert!(
            line.starts_with("125 runas: "),
            "{case}: {line}\n{}",
            run.describe()
        );
        // The message names the mount and who mounted it.
        assert!(
            line.contains(&format!("{a}\" is a FUSE file system mounted by uid 1500")),
            "{case}: {line}"
        );
    }
    assert!(!run.stdout.contains("INJECTED"), "{}", run.describe());
    assert!(!marker.exists(), "the daemon ran");
}

/// A server that never answers, not even for its root: root's walk refuses
/// the mount before it asks it anything, so it cannot be held (it would
/// wait for ever in a stat).
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_users_fuse_mount_that_never_answers_cannot_hold_root() {
    let Some(w) = world("attack_fuse_silent") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_fuse_silent") else {
        return;
    };
    let app = alice_dir(&w, "var-lib-app");
    let a = s(&app);
    let script = [
        liar_case(
            &w,
            "env-file",
            &format!("-u alice --env-file {a}/app.env -- /usr/bin/env"),
        ),
        liar_case(
            &w,
            "group-of-mount",
            &format!("-u alice --add-group-of {a} -- /usr/bin/id -G"),
        ),
    ]
    .concat()
    .replace(
        &w.runas.display().to_string(),
        &format!("timeout 10 {}", w.runas.display()),
    );
    let run = with_liar_as(
        &w,
        &liar,
        &app,
        true,
        "env LIAR_HANG=1 setpriv --reuid 1500 --regid 1500 --clear-groups",
        &script,
    );
    for case in ["env-file", "group-of-mount"] {
        let line = case_line(&run, case);
        assert!(
            line.starts_with("125 runas: "),
            "{case}: {line}\n{}",
            run.describe()
        );
        assert!(line.contains("mounted by uid 1500"), "{case}: {line}");
    }
}

/// Without user_allow_other, root may not even look (EACCES), and runas
/// fails closed, as before; it now says why before it tries.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_users_fuse_mount_root_may_not_enter_fails_closed() {
    let Some(w) = world("attack_fuse_private") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_fuse_private") else {
        return;
    };
    let app = alice_dir(&w, "var-lib-app");
    let a = s(&app);
    let script = [
        liar_case(
            &w,
            "group-of",
            &format!("-u alice --add-group-of {a}/dev -- /usr/bin/id -G"),
        ),
        liar_case(
            &w,
            "env-file",
            &format!("-u alice --env-file {a}/app.env -- /usr/bin/env"),
        ),
    ]
    .concat();
    let run = with_liar(&w, &liar, &app, false, &script);
    for case in ["group-of", "env-file"] {
        let line = case_line(&run, case);
        assert!(
            line.starts_with("125 runas: "),
            "{case}: {line}\n{}",
            run.describe()
        );
        assert!(
            line.contains("Permission denied") || line.contains("mounted by uid 1500"),
            "{case}: {line}"
        );
    }
    assert!(!run.stdout.contains("INJECTED"), "{}", run.describe());
}

/// The controls: the same lying server mounted by root (user_id=0), and a
/// tmpfs root mounted, are root's own: crossing them is accepted. So the
/// refusals above come from who mounted, and from nothing else.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_file_system_root_mounted_is_trusted_as_roots_own() {
    let Some(w) = world("attack_fuse_root_mounted") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_fuse_root_mounted") else {
        return;
    };
    let mount = w.path().join("root-fuse");
    fs::create_dir(&mount).unwrap();
    let m = s(&mount);
    let tmpfs = w.path().join("root-tmpfs");
    fs::create_dir(&tmpfs).unwrap();
    let t = s(&tmpfs);
    let script = [
        format!("mount -t tmpfs -o mode=755 none {t} && printf 'FROM_TMPFS=yes\\n' > {t}/app.env && chmod 644 {t}/app.env\n"),
        liar_case(&w, "fuse-env-file", &format!("-u alice --env-file {m}/app.env -- /usr/bin/env")),
        liar_case(&w, "fuse-group-of", &format!("-u alice --add-group-of {m}/dev -- /usr/bin/id -G")),
        liar_case(&w, "tmpfs-env-file", &format!("-u alice --env-file {t}/app.env -- /usr/bin/env")),
    ]
    .concat();
    let run = with_liar_as(&w, &liar, &mount, true, "", &script);
    for case in ["fuse-env-file", "fuse-group-of", "tmpfs-env-file"] {
        assert!(
            case_line(&run, case).starts_with("0 "),
            "{case}\n{}",
            run.describe()
        );
    }
    assert!(
        run.stdout.contains("  out INJECTED=by-alice"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("  out 1500 6 1700 1701"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("  out FROM_TMPFS=yes"),
        "{}",
        run.describe()
    );
}

/// Where who mounted a crossed file system cannot be told (no procfs at
/// /proc, so neither the mount table nor a descriptor's mount id), the
/// crossing is refused rather than trusted.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_mount_crossed_without_procfs_to_judge_it_is_refused() {
    let Some(w) = world("attack_fuse_no_proc") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_fuse_no_proc") else {
        return;
    };
    let app = alice_dir(&w, "var-lib-app");
    let a = s(&app);
    let script = [
        "mount -t tmpfs -o mode=755 none /proc\n".to_owned(),
        liar_case(
            &w,
            "env-file",
            &format!("-u alice --env-file {a}/app.env -- /usr/bin/env"),
        ),
        "umount /proc\n".to_owned(),
    ]
    .concat();
    let run = with_liar(&w, &liar, &app, true, &script);
    let line = case_line(&run, "env-file");
    assert!(
        line.starts_with("125 runas: "),
        "{line}\n{}",
        run.describe()
    );
    assert!(line.contains("who mounted it cannot be told"), "{line}");
    assert!(!run.stdout.contains("INJECTED"), "{}", run.describe());
}

/// The daemon runs as the target between its switch and its exec: a FUSE
/// file system of the target's own (no user_allow_other needed) that never
/// answers held its --chdir, and the caller's start script waited for ever,
/// holding the pidfile's lock. Now the caller kills it after
/// --daemon-timeout seconds and fails, clearing the pidfile.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_daemon_held_by_the_targets_own_file_system_is_killed_at_the_deadline() {
    let Some(w) = world("attack_daemon_deadline") else {
        return;
    };
    let Some(liar) = liar_fs(&w, "attack_daemon_deadline") else {
        return;
    };
    let app = alice_dir(&w, "home-alice");
    let pidfile = w.path().join("app.pid");
    let a = app.display();
    // Held in its --chdir, before its word; and in the execve of a command
    // on that file system, after its word "exec".
    let cases = [
        ("chdir", format!("--chdir {a}/hang -- /bin/true")),
        ("execve", format!("-- {a}/hang")),
    ];
    // Bounded: a runas that waits for ever is killed by timeout(1) (124).
    let script: String = cases
        .iter()
        .map(|(name, rest)| {
            format!(
                "start=$(date +%s); timeout 20 {} -u alice --daemon --daemon-timeout 2 --pidfile {}.{name} {rest}; status=$?; echo \"case {name} $status $(( $(date +%s) - start ))\"\n",
                w.runas.display(),
                pidfile.display(),
            )
        })
        .collect();
    let run = with_liar(&w, &liar, &app, false, &script);
    for (name, _) in &cases {
        let line = case_line(&run, name);
        let mut fields = line.split(' ');
        let (status, seconds) = (fields.next().unwrap(), fields.next().unwrap());
        assert_eq!(status, "125", "{name}\n{}", run.describe());
        let seconds: u32 = seconds.parse().unwrap();
        assert!(seconds < 15, "{name}: {seconds} s\n{}", run.describe());
    }
    assert_eq!(
        run.stderr
            .matches("the daemon did not reach its exec within 2 s, so it was killed")
            .count(),
        2,
        "{}",
        run.describe()
    );
    // No pid left for a stop script to kill. (The killed daemon, held in a
    // request its server read and never answers, keeps the lock until
    // the server answers or goes: a second start says it is locked.)
    for (name, _) in cases {
        let pidfile = format!("{}.{name}", pidfile.display());
        assert_eq!(
            fs::read_to_string(&pidfile).unwrap_or_default(),
            "",
            "{name}"
        );
    }
}
