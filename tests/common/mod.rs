//! The privileged test harness: a private fixture world for real identity
//! switches.
//!
//! Every run happens inside `unshare --mount --propagation private`, with
//! fixture passwd, group and nsswitch.conf files bind-mounted over /etc, so
//! tests switch between the fixture's accounts and never read or touch the
//! machine's real users. The mounts vanish with the namespace.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How many groups the `crowd` fixture user belongs to (besides its own).
pub const CROWD_GROUPS: u32 = 2000;
/// The first gid of crowd's groups.
pub const CROWD_FIRST_GID: u32 = 20000;

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
games:x:5:60:games:/usr/games:/usr/sbin/nologin
alice:x:1500:1500:Alice:/home/alice:/bin/bash
bob:x:1501:1501:Bob:/home/bob:/bin/sh
orphan:x:1502:1999:primary gid without a group entry:/home/orphan:/bin/sh
homeless:x:1503:1503:empty home and shell fields::
crowd:x:1600:1600:member of 2000 groups:/home/crowd:/bin/sh
4242:x:0:0:digits-only name that maps to uid 0:/root:/bin/sh
1501:x:0:0:digits-only name equal to bob's uid, mapping to uid 0:/root:/bin/sh
mangled:x::1504:empty uid field (musl's libc reads it as 0):/:/bin/sh
carol:x:1505:1505:member of a group whose gid field is empty:/home/carol:/bin/sh
escapes:x:1506:1506:control characters from a directory service:/home/\x1b]2;pwned\x07:/bin/sh
";

const GROUP_HEAD: &str = "\
root:x:0:
nogroup:x:65534:
daemon:x:1:
games:x:60:
users:x:100:games
alice:x:1500:
bob:x:1501:
homeless:x:1503:
crowd:x:1600:
jupiter:x:1700:alice
saturn:x:1701:alice,bob
4243:x:0:
1700:x:0:
carol:x:1505:
mangledgroup:x::carol
escapes:x:1506:
\x1b[31mred:x:1507:escapes
";

const NSSWITCH: &str = "passwd: files\ngroup: files\nshadow: files\n";

/// The shell that runs inside the new mount namespace: bind the fixture
/// over /etc, hide any name-service cache daemon (it would answer from the
/// real databases), then exec the command so its status is the test's.
const ENTER: &str = r#"set -e
mount --bind "$RUNAS_WORLD/passwd" /etc/passwd
mount --bind "$RUNAS_WORLD/group" /etc/group
mount --bind "$RUNAS_WORLD/nsswitch.conf" /etc/nsswitch.conf
for d in /run/nscd /var/run/nscd /var/lib/sss/pipes; do
  if [ -d "$d" ]; then mount -t tmpfs none "$d"; fi
done
printf 'launcher-pid %s\n' "$$"
exec "$@""#;

/// The binary under test: the one cargo built, or RUNAS_TEST_BIN (CI points
/// it at the static musl build to run a smoke subset against it too).
pub fn runas_under_test() -> PathBuf {
    std::env::var_os("RUNAS_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_runas")), PathBuf::from)
}

/// Start `command` with descriptors 0-2 alone, whatever the test runner
/// left open (cargo-mutants and make's jobserver leave theirs): the tests
/// that count or name descriptors then mean the same under any runner.
pub fn known_descriptors(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure only makes system calls (close_range, or close
    // one at a time where the kernel lacks it), which are async-signal-safe
    // and allocate nothing, as pre_exec requires.
    unsafe {
        command.pre_exec(|| {
            let all = nix::libc::syscall(nix::libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            if all != 0 {
                for fd in 3..1024 {
                    nix::libc::close(fd);
                }
            }
            Ok(())
        });
    }
}

/// The tests that really switch identity are marked `#[ignore = "needs
/// root..."]`, so a run without root counts them as ignored, visibly. One
/// that is run anyway (`--include-ignored`) without root fails, saying why,
/// rather than passing without having run; so does one whose tools are
/// missing, naming them and their packages.
pub fn privileged(test: &str) -> bool {
    assert!(
        nix::unistd::geteuid().is_root(),
        "{test} needs root: it switches identity for real (run as root: cargo test -- --include-ignored)"
    );
    require_tools();
    true
}

/// The programs the privileged tests drive, and the Debian packages that
/// have them.
const TOOLS: &[(&str, &str)] = &[
    ("/usr/bin/unshare", "util-linux"),
    ("/usr/bin/setpriv", "util-linux"),
    ("/usr/bin/setsid", "util-linux"),
    ("/usr/bin/timeout", "coreutils"),
    ("/usr/bin/strace", "strace"),
    ("/usr/bin/perl", "perl-base"),
    ("/usr/bin/python3", "python3"),
    ("/usr/sbin/setcap", "libcap2-bin"),
    ("/usr/sbin/capsh", "libcap2-bin"),
    ("/usr/bin/pgrep", "procps"),
    ("/usr/bin/gcc", "gcc"),
];

fn require_tools() {
    let missing: Vec<String> = TOOLS
        .iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(path, package)| format!("{path} (Debian package {package})"))
        .collect();
    assert!(
        missing.is_empty(),
        "the privileged tests need {}: apt-get install the packages, or run bash .ci/run, which does",
        missing.join(", ")
    );
}

/// The static (musl) build, for tests that put runas in a root filesystem
/// of its own with /bin/busybox beside it: missing either is a failure that
/// says where it comes from.
pub fn static_runas(test: &str) -> PathBuf {
    let bin = std::env::var_os("RUNAS_STATIC_BIN").unwrap_or_else(|| {
        panic!("{test} needs RUNAS_STATIC_BIN, the musl build (scripts/test builds it and sets it)")
    });
    assert!(
        Path::new("/bin/busybox").exists(),
        "{test} needs /bin/busybox (Debian package busybox-static)"
    );
    PathBuf::from(bin)
}

/// A root filesystem for the container tests (tests/container.rs,
/// tests/engines.rs): these directories, the root itself mode 0755.
pub fn container_root(prefix: &str, dirs: &[&str]) -> tempfile::TempDir {
    let root = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    for dir in dirs {
        fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    root
}

/// Debian's static busybox at /bin/busybox in `root`, with these applets.
pub fn install_busybox(root: &Path, applets: &[&str]) {
    fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in applets {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
}

/// The containers' accounts: root, and app (uid and gid 1000, home
/// `app_home`) with the supplementary group media (1001).
pub fn container_accounts(root: &Path, app_home: &str) {
    fs::write(
        root.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:{app_home}:/bin/sh\n"),
    )
    .unwrap();
    fs::write(
        root.join("etc/group"),
        "root:x:0:\napp:x:1000:\nmedia:x:1001:app\n",
    )
    .unwrap();
}

/// A test that does not apply on this machine (a kernel that already
/// refuses what it attacks, a device that is not there): said on stderr,
/// and written to $RUNAS_SKIP_LOG, which .ci/run counts and prints, so a
/// skip is never silent.
pub fn skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("RUNAS_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut file) = fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

/// A fixture world: the account files and a world-readable copy of runas.
pub struct World {
    dir: tempfile::TempDir,
    pub runas: PathBuf,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::Builder::new()
            .prefix("runas-world.")
            .tempdir()
            .expect("temporary directory");
        // Other users must reach the copied binary and probe files.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let mut group = String::from(GROUP_HEAD);
        for i in 0..CROWD_GROUPS {
            group.push_str(&format!("crowd{i}:x:{}:crowd\n", CROWD_FIRST_GID + i));
        }
        fs::write(dir.path().join("passwd"), PASSWD).unwrap();
        fs::write(dir.path().join("group"), group).unwrap();
        fs::write(dir.path().join("nsswitch.conf"), NSSWITCH).unwrap();
        let runas = dir.path().join("runas");
        fs::copy(runas_under_test(), &runas).unwrap();
        fs::set_permissions(&runas, fs::Permissions::from_mode(0o755)).unwrap();
        World { dir, runas }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Replace the world's nsswitch.conf (the default: files only).
    pub fn set_nsswitch(&self, text: &str) {
        fs::write(self.dir.path().join("nsswitch.conf"), text).unwrap();
    }

    /// Write a file into the world, with the given mode.
    pub fn file(&self, name: &str, contents: &str, mode: u32) -> PathBuf {
        let path = self.dir.path().join(name);
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Run any command inside the fixture world.
    pub fn command<S: AsRef<OsStr>>(&self, argv: &[S]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                ENTER,
                "sh",
            ])
            .args(argv)
            .env("RUNAS_WORLD", self.dir.path())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        known_descriptors(&mut command);
        command
    }

    /// A link to runas under another name (gosu, su-exec), in the world.
    pub fn link(&self, name: &str) -> PathBuf {
        let link = self.dir.path().join(name);
        std::os::unix::fs::symlink(&self.runas, &link).unwrap();
        link
    }

    /// Run any program with these arguments inside the fixture world.
    pub fn program<S: AsRef<OsStr>>(&self, program: &Path, args: &[S]) -> Run {
        let mut argv: Vec<OsString> = vec![program.into()];
        argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
        Run::from(self.command(&argv).output().expect("run unshare"))
    }

    /// Run runas with these arguments inside the fixture world.
    pub fn runas<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let mut argv: Vec<OsString> = vec![self.runas.clone().into()];
        argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
        Run::from(self.command(&argv).output().expect("run unshare"))
    }

    /// `prefix` (a launcher such as setpriv, env or strace, with its
    /// arguments), then this world's runas, then `args`.
    pub fn under<P: AsRef<OsStr>, A: AsRef<OsStr>>(
        &self,
        prefix: &[P],
        args: &[A],
    ) -> Vec<OsString> {
        let mut argv: Vec<OsString> = prefix.iter().map(|p| p.as_ref().to_owned()).collect();
        argv.push(self.runas.clone().into());
        argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
        argv
    }

    /// Run runas started by `prefix` inside the fixture world.
    pub fn runas_under<P: AsRef<OsStr>, A: AsRef<OsStr>>(&self, prefix: &[P], args: &[A]) -> Run {
        Run::from(
            self.command(&self.under(prefix, args))
                .output()
                .expect("run unshare"),
        )
    }

    /// A directory in the world that every user may write (mode 1777), for
    /// markers and results written by the target.
    pub fn shared_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
        dir
    }

    /// A directory in the world owned by `uid`:`gid`, mode 0755, as
    /// /run/app or /var/log/app are owned by the service they serve.
    pub fn owned_dir(&self, name: &str, uid: u32, gid: u32) -> PathBuf {
        let dir = self.dir.path().join(name);
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    /// Run runas as an unprivileged caller (uid, gid, groups), started by
    /// a strictly numeric helper inside the fixture world (see caller_prefix).
    pub fn runas_from<S: AsRef<OsStr>>(
        &self,
        uid: u32,
        gid: u32,
        groups: &[u32],
        args: &[S],
    ) -> Run {
        self.runas_under(&caller_prefix(uid, gid, groups), args)
    }
}

/// Arguments that make the rest of the line run as an ordinary caller with
/// exactly these numeric ids. Not setpriv: its --groups looks digit strings
/// up as group *names* first, so the fixture's group named "1700" (gid 0)
/// would quietly give the caller gid 0.
pub fn caller_prefix(uid: u32, gid: u32, groups: &[u32]) -> Vec<OsString> {
    let groups: Vec<String> = groups.iter().map(u32::to_string).collect();
    vec![
        "/usr/bin/python3".into(),
        "-c".into(),
        "import os, sys\n\
         u, g = int(sys.argv[1]), int(sys.argv[2])\n\
         os.setgroups([int(x) for x in sys.argv[3].split(',') if x])\n\
         os.setresgid(g, g, g)\n\
         os.setresuid(u, u, u)\n\
         os.execvp(sys.argv[4], sys.argv[4:])"
            .into(),
        uid.to_string().into(),
        gid.to_string().into(),
        groups.join(",").into(),
    ]
}

/// A shell probe to run as the target: it prints its own /proc status lines,
/// its environment's identity variables and its pid.
pub const PROBE: &[&str] = &[
    "/bin/sh",
    "-c",
    // Shell builtins only: no fork, so it works under RLIMIT_NPROC too.
    r#"while read -r k v; do
  case "$k" in Uid:|Gid:|Groups:|CapInh:|CapPrm:|CapEff:|CapAmb:|NoNewPrivs:) printf '%s\t%s\n' "$k" "$v";; esac
done < /proc/$$/status
for v in HOME USER LOGNAME SHELL; do eval "printf 'env %s=%s\n' $v \"\${$v-<unset>}\""; done
printf 'target-pid %s\n' "$$""#,
];

/// runas's arguments followed by `--` and the probe.
pub fn with_probe(args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push("--".into());
    all.extend(PROBE.iter().map(|s| s.to_string()));
    all
}

/// What one run produced, with the probe's report parsed.
pub struct Run {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
        }
    }
}

/// The target's identity as the kernel reported it to the probe.
#[derive(Debug, PartialEq, Eq)]
pub struct Identity {
    /// real, effective, saved, filesystem
    pub uid: [u32; 4],
    pub gid: [u32; 4],
    pub groups: Vec<u32>,
    pub cap_inh: u64,
    pub cap_prm: u64,
    pub cap_eff: u64,
    pub cap_amb: u64,
    pub env: BTreeMap<String, String>,
    pub target_pid: u32,
    pub launcher_pid: u32,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Assert that runas failed by itself: 125, one `runas:` message that
    /// contains `needle`, and the target never ran.
    pub fn assert_refused(&self, needle: &str) {
        assert_eq!(
            self.code(),
            Some(125),
            "expected exit 125\n{}",
            self.describe()
        );
        assert!(
            self.stderr.starts_with("runas: ") && self.stderr.matches("runas: ").count() == 1,
            "expected one 'runas:' message\n{}",
            self.describe()
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        assert!(
            !self.stdout.contains("target-pid"),
            "the target ran\n{}",
            self.describe()
        );
    }

    pub fn describe(&self) -> String {
        format!(
            "status: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.output.status, self.stdout, self.stderr
        )
    }

    /// Parse the probe's report; panics with the whole output if it is absent.
    pub fn identity(&self) -> Identity {
        assert!(
            self.output.status.success(),
            "the run failed\n{}",
            self.describe()
        );
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        let mut env = BTreeMap::new();
        for line in self.stdout.lines() {
            if let Some(rest) = line.strip_prefix("env ") {
                let (k, v) = rest.split_once('=').unwrap();
                env.insert(k.to_owned(), v.to_owned());
            } else if let Some((k, v)) = line.split_once(':') {
                fields.insert(k, v.trim());
            } else if let Some((k, v)) = line.split_once(' ') {
                fields.insert(k, v.trim());
            }
        }
        let get = |k: &str| {
            *fields
                .get(k)
                .unwrap_or_else(|| panic!("no {k} in\n{}", self.describe()))
        };
        let ids = |k: &str| -> [u32; 4] {
            let v: Vec<u32> = get(k)
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            v.try_into().unwrap()
        };
        let mask = |k: &str| u64::from_str_radix(get(k), 16).unwrap();
        Identity {
            uid: ids("Uid"),
            gid: ids("Gid"),
            groups: get("Groups")
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect(),
            cap_inh: mask("CapInh"),
            cap_prm: mask("CapPrm"),
            cap_eff: mask("CapEff"),
            cap_amb: mask("CapAmb"),
            env,
            target_pid: get("target-pid").parse().unwrap(),
            launcher_pid: get("launcher-pid").parse().unwrap(),
        }
    }
}

impl Identity {
    pub fn assert_ids(&self, uid: u32, gid: u32, groups: &[u32]) {
        assert_eq!(self.uid, [uid; 4], "uid fields");
        assert_eq!(self.gid, [gid; 4], "gid fields");
        assert_eq!(self.groups, groups, "supplementary groups");
    }

    pub fn assert_no_capabilities(&self) {
        assert_eq!(
            (self.cap_inh, self.cap_prm, self.cap_eff, self.cap_amb),
            (0, 0, 0, 0),
            "capability sets inh/prm/eff/amb"
        );
    }

    pub fn env(&self, key: &str) -> &str {
        self.env.get(key).map(String::as_str).unwrap_or("<missing>")
    }
}

/// The groups of the test process itself, as /proc reports them.
pub fn own_groups() -> Vec<u32> {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Groups:")).unwrap();
    line["Groups:".len()..]
        .split_whitespace()
        .map(|g| g.parse().unwrap())
        .collect()
}

/// A command line that execs `program` with an empty argv (argc 0, as in
/// CVE-2021-4034; Linux 5.18 and later turn it into one empty argument).
pub fn exec_with_no_arguments(program: &Path) -> Vec<OsString> {
    vec![
        "/usr/bin/python3".into(),
        "-c".into(),
        "import ctypes, os, sys\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         argv = (ctypes.c_char_p * 1)(None)\n\
         env = (ctypes.c_char_p * 1)(None)\n\
         libc.execve(os.fsencode(sys.argv[1]), argv, env)\n\
         sys.exit('execve: ' + os.strerror(ctypes.get_errno()))"
            .into(),
        program.into(),
    ]
}

/// A command line that execs the rest of the line with exactly these
/// environment entries, duplicates included (env(1) and Python's os.execve
/// would merge them).
pub fn exec_with_raw_environment(entries: &[&str]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        "/usr/bin/python3".into(),
        "-c".into(),
        "import ctypes, os, sys\n\
         n = int(sys.argv[1])\n\
         env = [os.fsencode(e) for e in sys.argv[2:2 + n]] + [None]\n\
         args = [os.fsencode(a) for a in sys.argv[2 + n:]] + [None]\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         libc.execve(args[0], (ctypes.c_char_p * len(args))(*args), (ctypes.c_char_p * len(env))(*env))\n\
         sys.exit('execve: ' + os.strerror(ctypes.get_errno()))"
            .into(),
        entries.len().to_string().into(),
    ];
    argv.extend(entries.iter().map(OsString::from));
    argv
}

/// Whether the runas under test is dynamically linked (the glibc build:
/// it names its dynamic loader), not the static build.
pub fn dynamically_linked() -> bool {
    let elf = fs::read(runas_under_test()).expect("read the runas under test");
    elf.windows(b"ld-linux".len())
        .any(|window| window == b"ld-linux")
}

/// A shared library for LD_PRELOAD, compiled from `source` into the world,
/// or None (a counted skip) when the runas under test is statically linked
/// and would not load it.
pub fn preload_shim(w: &World, test: &str, name: &str, source: &str) -> Option<PathBuf> {
    if !dynamically_linked() {
        skip(
            test,
            "the runas under test is statically linked and loads no LD_PRELOAD library",
        );
        return None;
    }
    let c = w.path().join(format!("{name}.c"));
    let so = w.path().join(format!("{name}.so"));
    fs::write(&c, source).unwrap();
    match Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&c)
        .arg("-ldl")
        .status()
    {
        Ok(status) if status.success() => {
            fs::set_permissions(&so, fs::Permissions::from_mode(0o755)).unwrap();
            Some(so)
        }
        Ok(status) => panic!("gcc failed to build {name}.so: {status}"),
        Err(_) => panic!("{test} needs gcc (Debian package gcc)"),
    }
}

/// Drive a command on a fresh pseudo-terminal: python's pty.fork makes the
/// child a session leader with the pty as its controlling terminal. In
/// "job" mode the child runs `sh -c 'CMD; :'`, so CMD is a forked job in
/// the foreground process group, as a root shell runs a command; in
/// "leader" mode the child execs CMD itself, so runas is the session
/// leader (`setsid -c runas ...`, a getty, an sshd child). PREP runs first
/// in the child (hiding /dev/tty, say). Prints what the target printed, and
/// sends Ctrl-C once it printed "ready".
pub const PTY_DRIVER: &str = r#"
import os, pty, sys, time, select
mode, prep, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    if prep:
        os.system(prep)
    if mode == "leader":
        os.execv("/bin/sh", ["sh", "-c", "exec " + cmd])
    os.execv("/bin/sh", ["sh", "-c", cmd + "; :"])
out = b""
deadline = time.time() + 20
interrupted = False
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if b"ready" in out and not interrupted:
        os.write(fd, b"\x03")
        interrupted = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nelapsed-ok" if time.time() < deadline else "\ntimed-out")
"#;

/// The target tries TIOCSTI on its standard input, then waits to be
/// interrupted by Ctrl-C.
pub const TIOCSTI_PROBE: &str = r##"
import fcntl, termios, time, errno
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"#")
    print("tiocsti: injected")
except OSError as e:
    print("tiocsti:", errno.errorcode.get(e.errno, e.errno))
print("ready", flush=True)
time.sleep(15)
print("not interrupted")
"##;

pub fn legacy_tiocsti_off() -> bool {
    fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti").is_ok_and(|v| v.trim() == "0")
}

pub fn in_pty(w: &World, mode: &str, prep: &str, runas_args: &str) -> Run {
    let probe = w.file("tiocsti_probe.py", TIOCSTI_PROBE, 0o644);
    let cmd = format!(
        "{} {runas_args} -- /usr/bin/python3 {}",
        w.runas.display(),
        probe.display()
    );
    Run::from(
        w.command(&["/usr/bin/python3", "-c", PTY_DRIVER, mode, prep, &cmd])
            .output()
            .unwrap(),
    )
}

/// The injection failed and Ctrl-C still reached the target.
pub fn assert_defended(run: &Run) {
    assert!(run.stdout.contains("tiocsti: EPERM"), "{}", run.describe());
    assert!(run.stdout.contains("ready"), "{}", run.describe());
    assert!(
        !run.stdout.contains("not interrupted"),
        "Ctrl-C did not reach the target\n{}",
        run.describe()
    );
    assert!(run.stdout.contains("elapsed-ok"), "{}", run.describe());
}

/// The control case: the target could push input into the terminal.
pub fn assert_injected(run: &Run) {
    assert!(
        run.stdout.contains("tiocsti: injected"),
        "{}",
        run.describe()
    );
}

/// Run a python3 `script` with `json` on its stdin and `args` after it,
/// and return what it prints: the tests read --dump and --dry-run JSON
/// with python3 (the privileged tests need it anyway) rather than a new
/// dependency. Invalid JSON, or a failing script, fails the test.
pub fn python_on_json(script: &str, json: &str, args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("write to python3");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "python3 failed on: {json}");
    String::from_utf8(out.stdout).expect("UTF-8 from python3")
}
