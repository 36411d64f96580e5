//! The kernel keyring a target inherits (issue 25). After setresuid a
//! process still possesses its caller's session keyring: the target could
//! read and rewrite root's keys (a login session's, Kerberos and cifs
//! credentials, systemd's invocation keyring), and root would read back
//! what the target wrote. gosu, su-exec and setpriv leak it so; su and
//! runuser (pam_keyinit revoke) and systemd (KeyringMode=private) do not.
//! runas gives a target of another uid a new session keyring of its own.
//!
//! The keys are made and read through keyctl(2) and add_key(2) from
//! python3's ctypes (no keyutils package needed). Seccomp filters, also
//! from ctypes, stand in for Docker's default profile (keyctl refused with
//! EPERM) and for a kernel without keyrings (ENOSYS).

mod common;

use common::*;

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// Shared by both sides: the system call numbers and a keyctl wrapper.
const KEYS: &str = r#"
import ctypes, os, platform, sys, errno
NR = {"x86_64": (248, 250), "aarch64": (217, 219), "i686": (286, 288)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def keyctl(*args):
    r = libc.syscall(NR[1], *args)
    if r < 0:
        return "error " + errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return r
def read(key):
    buf = ctypes.create_string_buffer(256)
    r = keyctl(11, ctypes.c_long(key), buf, 256)
    return r if isinstance(r, str) else buf.raw[:r].decode()
"#;

/// Root: a session keyring of its own with a `user` key in it, then the
/// command (runas) in a child, then the key as root reads it afterwards.
/// A seccomp filter, when asked, is installed in the child before it execs.
const ROOT_SIDE: &str = r#"
filter = sys.argv[1]
keyctl(1, b"root-session")
key = libc.syscall(NR[0], b"user", b"secret", b"TOPSECRET-root-only", 19, ctypes.c_long(-3))
assert key > 0, "add_key failed"
print("key", key, flush=True)
pid = os.fork()
if pid == 0:
    if filter != "none":
        # struct sock_filter: code, jt, jf, k. Load the call number (and
        # for "join-only" its first argument); refuse keyctl (and add_key,
        # request_key) with the errno asked, allow everything else.
        ret_errno = 0x00050000 | {"eperm": errno.EPERM, "enosys": errno.ENOSYS, "join-only": errno.EPERM, "keyctl-only": errno.EPERM, "all-but-add-key": errno.EPERM}[filter]
        prog = []
        if filter == "join-only":
            prog += [(0x20, 0, 0, 0), (0x15, 0, 3, NR[1]), (0x20, 0, 0, 16), (0x15, 0, 1, 1), (0x06, 0, 0, ret_errno)]
        elif filter == "keyctl-only":
            prog += [(0x20, 0, 0, 0), (0x15, 0, 1, NR[1]), (0x06, 0, 0, ret_errno)]
        elif filter == "all-but-add-key":
            prog += [(0x20, 0, 0, 0), (0x15, 1, 0, NR[1]), (0x15, 0, 1, NR[0] + 1), (0x06, 0, 0, ret_errno)]
        else:
            prog += [(0x20, 0, 0, 0), (0x15, 2, 0, NR[1]), (0x15, 1, 0, NR[0]), (0x15, 0, 1, NR[0] + 1), (0x06, 0, 0, ret_errno)]
        prog += [(0x06, 0, 0, 0x7fff0000)]
        class F(ctypes.Structure):
            _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
        class P(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(F))]
        arr = (F * len(prog))(*[F(*i) for i in prog])
        p = P(len(prog), arr)
        # seccomp(SECCOMP_SET_MODE_FILTER): root has CAP_SYS_ADMIN, so no
        # no_new_privs is needed (and none is set: runas drops as usual).
        nr_seccomp = {"x86_64": 317, "aarch64": 277, "i686": 354}[platform.machine()]
        assert libc.syscall(nr_seccomp, 1, 0, ctypes.byref(p)) == 0, "seccomp failed"
    os.execv(sys.argv[2], sys.argv[2:])
_, status = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(status))
print("root reads afterwards:", read(key))
"#;

/// The target: look for root's key, read it by id, overwrite it.
const TARGET_SIDE: &str = r#"
key = int(sys.argv[1])
print("target uid", os.getuid())
print("search:", keyctl(10, ctypes.c_long(-3), b"user", b"secret", 0))
print("read:", read(key))
print("update:", keyctl(2, ctypes.c_long(key), b"pwned-by-target", 15))
"#;

/// Run runas -u alice (plus `extra`) from root's session holding the key,
/// under `filter`; returns what both sides printed.
fn attempt(w: &World, filter: &str, extra: &[&str]) -> Run {
    let target = w.file("target_side.py", &format!("{KEYS}{TARGET_SIDE}"), 0o644);
    // The root side hands the key's id to the target in its environment.
    let wrapper = w.file(
        "wrapper.py",
        &format!(
            "{KEYS}{}",
            ROOT_SIDE.replace(
                "os.execv(sys.argv[2], sys.argv[2:])",
                "os.environ['KEY'] = str(key)\n    os.execv(sys.argv[2], sys.argv[2:])"
            )
        ),
        0o644,
    );
    let mut argv: Vec<String> = vec![
        "/usr/bin/python3".into(),
        wrapper.to_str().unwrap().into(),
        filter.into(),
        w.runas.to_str().unwrap().into(),
        "-u".into(),
        "alice".into(),
    ];
    argv.extend(extra.iter().map(|s| s.to_string()));
    argv.extend([
        "--".into(),
        "/bin/sh".into(),
        "-c".into(),
        format!("exec /usr/bin/python3 {} \"$KEY\"", target.display()),
    ]);
    Run::from(w.command(&argv).output().unwrap())
}

fn line<'a>(run: &'a Run, prefix: &str) -> &'a str {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in\n{}", run.describe()))
        .trim()
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn the_target_cannot_read_or_rewrite_roots_session_keys() {
    let Some(w) = world("keyring_private") else {
        return;
    };
    let run = attempt(&w, "none", &[]);
    assert_eq!(line(&run, "status"), "0", "{}", run.describe());
    assert_eq!(line(&run, "target uid"), "1500");
    // Not possessed: not found by search, and by id it is root's, whose
    // `user` keys grant nothing to another uid.
    assert_eq!(line(&run, "search:"), "error ENOKEY", "{}", run.describe());
    assert_eq!(line(&run, "read:"), "error EACCES", "{}", run.describe());
    assert_eq!(line(&run, "update:"), "error EACCES", "{}", run.describe());
    assert_eq!(
        line(&run, "root reads afterwards:"),
        "TOPSECRET-root-only",
        "{}",
        run.describe()
    );
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn keep_keyring_shares_roots_keyring_as_asked() {
    let Some(w) = world("keyring_kept") else {
        return;
    };
    // The control, and what every peer launcher does by default.
    let run = attempt(&w, "none", &["--keep-keyring"]);
    assert_eq!(line(&run, "status"), "0", "{}", run.describe());
    assert_eq!(
        line(&run, "read:"),
        "TOPSECRET-root-only",
        "{}",
        run.describe()
    );
}

/// Docker's default seccomp profile refuses keyctl, add_key and
/// request_key with EPERM; a kernel without keyrings answers ENOSYS.
/// There the target cannot reach any keyring either: runas must start.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_seccomp_filter_or_a_kernel_without_keyrings_still_starts() {
    let Some(w) = world("keyring_refused") else {
        return;
    };
    for filter in ["eperm", "enosys"] {
        let run = attempt(&w, filter, &[]);
        assert_eq!(line(&run, "status"), "0", "{filter}: {}", run.describe());
        assert_eq!(line(&run, "target uid"), "1500", "{filter}");
        assert!(
            line(&run, "read:").starts_with("error "),
            "{filter}: {}",
            run.describe()
        );
    }
    // The dry run says why no keyring is made.
    let run = w.runas_under(
        &[
            "/usr/bin/python3",
            w.file("dry.py", &format!("{KEYS}{ROOT_SIDE}"), 0o644)
                .to_str()
                .unwrap(),
            "eperm",
        ],
        &["--dry-run", "-u", "alice", "--", "/bin/true"],
    );
    assert!(
        run.stdout
            .contains("keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("keyctl is refused here"),
        "{}",
        run.describe()
    );
}

/// A filter that refuses the join alone, or keyctl but not add_key (which
/// would update a key in root's keyring), leaves root's keyring reachable:
/// that is a failure, never a start with root's keys.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_refused_join_with_the_keyring_still_reachable_fails_closed() {
    let Some(w) = world("keyring_join_refused") else {
        return;
    };
    // keyctl refused, add_key allowed; and keyctl and request_key refused,
    // add_key still allowed: each of the three calls counts.
    for filter in ["keyctl-only", "all-but-add-key"] {
        let run = attempt(&w, filter, &[]);
        assert_eq!(line(&run, "status"), "125", "{filter}\n{}", run.describe());
        assert!(!run.stdout.contains("target uid"), "{}", run.describe());
    }
    let run = attempt(&w, "join-only", &[]);
    assert_eq!(line(&run, "status"), "125", "{}", run.describe());
    assert!(
        !run.stdout.contains("target uid"),
        "the target ran\n{}",
        run.describe()
    );
    assert!(
        run.stderr
            .contains("keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)"),
        "{}",
        run.describe()
    );
}
