//! Attacks by the target user on what root does for it. Each test plants
//! what a compromised service account could plant (a symlink, a hard link,
//! a FIFO, a device node, a hostile pidfile) or drives a real terminal, and
//! checks that root was not steered: nothing outside the target's reach
//! changed, and runas refused with a message naming the path and the fix.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
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
try:
    os.kill(os.getppid(), signal.SIGKILL)
    print("killed the waiting parent", flush=True)
except OSError as e:
    print("kill waiter:", e.strerror, flush=True)
if os.fork() == 0:
    os.setsid()
    for _ in range(100):
        try:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            break
        except OSError:
            time.sleep(0.05)
    try:
        for c in b"echo pwned-by-leftover\n":
            fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))
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
    let probe = w.file("leftover.py", LEFTOVER_PROBE, 0o644);
    let out = w.shared_dir("out");
    // Root's "shell" reads one line from the terminal after the command.
    // (Results go to files: once revoked, the terminal takes no output.)
    let cmd = format!(
        "setsid -c -w {runas} -u alice -- /usr/bin/python3 {probe}; echo $? > {out}/status; /bin/bash -c 'read -t 6 -r line; echo \"[$line]\" > {out}/read'",
        runas = w.runas.display(),
        probe = probe.display(),
        out = out.display()
    );
    let run = Run::from(
        w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, "job", "", &cmd])
            .output()
            .unwrap(),
    );
    assert!(run.stdout.contains("target done"), "{}", run.describe());
    assert!(
        run.stdout.contains("kill waiter: Operation not permitted"),
        "the target could kill its waiting parent\n{}",
        run.describe()
    );
    let status = fs::read_to_string(out.join("status")).unwrap_or_default();
    assert_eq!(status.trim(), "0", "{}", run.describe());
    let read = fs::read_to_string(out.join("read")).unwrap_or_default();
    assert!(
        !read.contains("pwned"),
        "the leftover typed into root's shell: {read}\n{}",
        run.describe()
    );
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
