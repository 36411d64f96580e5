//! A kernel that refuses TIOCSTI to every unprivileged process
//! (`dev.tty.legacy_tiocsti = 0`, the default on newer distributions): no
//! injection is possible, so runas takes no defence and keeps no waiting
//! parent, even as the leader of a session that holds root's terminal
//! (issue 26). The test sets the sysctl for its own duration and puts it
//! back; it is a test binary of its own so that no other test runs
//! meanwhile (cargo runs test binaries one after another).

mod common;

use common::*;

const SYSCTL: &str = "/proc/sys/dev/tty/legacy_tiocsti";

/// Puts the sysctl back as it was, whatever happens to the test.
struct Restore(String);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(SYSCTL, &self.0);
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn with_tiocsti_closed_to_everyone_a_session_leader_execs_in_place() {
    if !privileged("tiocsti_off") {
        return;
    }
    let Ok(was) = std::fs::read_to_string(SYSCTL) else {
        skip(
            "tiocsti_off",
            "this kernel has no dev.tty.legacy_tiocsti (before Linux 6.2)",
        );
        return;
    };
    let _restore = Restore(was);
    if std::fs::write(SYSCTL, "0").is_err() {
        skip(
            "tiocsti_off",
            "dev.tty.legacy_tiocsti cannot be set here (a read-only /proc/sys)",
        );
        return;
    }
    let w = World::new();
    let probe = w.file("tiocsti_probe.py", TIOCSTI_PROBE, 0o644);
    // runas leads the session (setsid -c, as a getty or sshd starts it):
    // with injection possible it would fork a waiter; here the command
    // takes runas's place, pid and all, and still cannot inject.
    let cmd = format!(
        "setsid -c -w /bin/sh -c 'echo runas-pid $$; exec {} -u alice -- /bin/sh -c \"echo target-pid \\$\\$; exec /usr/bin/python3 {}\"'",
        w.runas.display(),
        probe.display()
    );
    let run = Run::from(
        w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, "job", "", &cmd])
            .output()
            .unwrap(),
    );
    let pid = |key: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in\n{}", run.describe()))
            .trim()
            .to_owned()
    };
    assert_eq!(pid("runas-pid"), pid("target-pid"), "{}", run.describe());
    assert!(run.stdout.contains("tiocsti: EIO"), "{}", run.describe());
    // The dry run says why.
    let dry = Run::from(
        w.command(&[
            "/usr/bin/python3",
            "-c",
            PTY_DRIVER,
            "job",
            "",
            &format!(
                "setsid -c -w {} --dry-run -u alice -- /bin/true",
                w.runas.display()
            ),
        ])
        .output()
        .unwrap(),
    );
    assert!(
        dry.stdout
            .contains("this kernel refuses TIOCSTI to unprivileged processes"),
        "{}",
        dry.describe()
    );
}
