//! newgrp mode: a copy of runas with a real file capability, run by an
//! unprivileged caller (uid 1500, gid 1500, holding groups 1700 and 1701).

mod common;

use common::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const CALLER_GROUPS: &[u32] = &[1700, 1701];

fn world(test: &str) -> Option<World> {
    privileged(test).then(World::new)
}

/// A copy of runas carrying `caps` (setcap syntax), or none when empty.
fn capable_copy(w: &World, name: &str, caps: &str) -> PathBuf {
    let copy = w.path().join(name);
    std::fs::copy(&w.runas, &copy).unwrap();
    if !caps.is_empty() {
        let status = Command::new("setcap")
            .arg(caps)
            .arg(&copy)
            .status()
            .expect("setcap (libcap2-bin)");
        assert!(
            status.success(),
            "setcap {caps} failed: does this filesystem keep xattrs?"
        );
    }
    copy
}

fn as_caller(w: &World, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut argv: Vec<OsString> = vec!["env".into()];
    argv.extend(env.iter().map(|(k, v)| OsString::from(format!("{k}={v}"))));
    argv.extend(caller_prefix(1500, 1500, CALLER_GROUPS));
    argv.push(program.into());
    argv.extend(args.iter().map(OsString::from));
    Run::from(w.command(&argv).output().unwrap())
}

fn with_probe_args(args: &[&str]) -> Vec<String> {
    with_probe(args)
}

fn run_probe(w: &World, program: &Path, args: &[&str]) -> Run {
    let all = with_probe_args(args);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    as_caller(w, program, &all, &[])
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn switches_to_a_held_group_keeping_every_group_and_no_capability() {
    let Some(w) = world("newgrp_held_group") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    let id = run_probe(&w, &runas, &["--group", "jupiter"]).identity();
    assert_eq!(id.uid, [1500; 4]);
    assert_eq!(id.gid, [1700; 4]);
    // The old real gid 1500 joins the list; nothing is lost.
    assert_eq!(id.groups, [1500, 1700, 1701]);
    id.assert_no_capabilities();
    // By number too, and the caller's own real gid is held as well.
    let id = run_probe(&w, &runas, &["-g", "1701"]).identity();
    assert_eq!(id.gid, [1701; 4]);
    let id = run_probe(&w, &runas, &["-g", "1500"]).identity();
    assert_eq!(id.gid, [1500; 4]);
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_group_not_held_is_refused() {
    let Some(w) = world("newgrp_not_held") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    run_probe(&w, &runas, &["--group", "31337"]).assert_refused("log in again");
    run_probe(&w, &runas, &["--group", "root"]).assert_refused("gid 0 is not among them");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn every_identity_or_capability_option_is_refused_by_name() {
    let Some(w) = world("newgrp_refusals") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    let cases: &[(&[&str], &str)] = &[
        (&["--user", "root"], "--user"),
        (&["--user", "0"], "--user"),
        (&["--user", "bob"], "--user"),
        (&["-g", "jupiter", "--groups", "1700"], "--groups"),
        (&["-g", "jupiter", "--clear-groups"], "--clear-groups"),
        (&["-g", "jupiter", "--init-groups"], "--init-groups"),
        (&["-g", "jupiter", "--keep-caps", "net_raw"], "--keep-caps"),
        (
            &["-g", "jupiter", "--bounding-set", "-net_raw"],
            "--bounding-set",
        ),
        (&["-g", "jupiter", "--securebits", "noroot"], "--securebits"),
        (
            &["-g", "jupiter", "--add-group-of", "/etc/passwd"],
            "--add-group-of",
        ),
    ];
    for (args, option) in cases {
        let run = run_probe(&w, &runas, args);
        run.assert_refused(option);
        assert!(run.stderr.contains("newgrp mode"), "{}", run.describe());
    }
    // gosu/su-exec rules would let the capability set any gid.
    let gosu = w.path().join("gosu");
    std::os::unix::fs::symlink(&runas, &gosu).unwrap();
    let mut args = vec![":0".to_string()];
    args.extend(PROBE.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    as_caller(&w, &gosu, &args, &[]).assert_refused("gosu mode is not available");
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_copy_with_cap_setuid_too_never_changes_the_uid() {
    let Some(w) = world("newgrp_setuid_cap") else {
        return;
    };
    let runas = capable_copy(&w, "runas-both", "cap_setuid,cap_setgid=ep");
    run_probe(&w, &runas, &["--user", "root"]).assert_refused("--user");
    run_probe(&w, &runas, &["-u", "alice:jupiter"])
        .identity()
        .assert_ids(1500, 1700, &[1500, 1700, 1701]);
    let id = run_probe(&w, &runas, &["-g", "jupiter"]).identity();
    id.assert_ids(1500, 1700, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn ld_preload_does_not_reach_runas_or_the_target() {
    let Some(w) = world("newgrp_ld_preload") else {
        return;
    };
    let marker = w.shared_dir("shared");
    let source = w.file(
        "evil.c",
        &format!(
            "#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n__attribute__((constructor)) static void evil(void) {{\n  char exe[256] = {{0}}; readlink(\"/proc/self/exe\", exe, sizeof exe - 1);\n  char *base = strrchr(exe, '/'); base = base ? base + 1 : exe;\n  char p[512]; snprintf(p, sizeof p, \"{}/loaded-into-%s\", base);\n  FILE *f = fopen(p, \"w\"); if (f) fclose(f);\n}}\n",
            marker.display()
        ),
        0o644,
    );
    let library = w.path().join("evil.so");
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("gcc, to build the preload library (Debian package gcc)");
    assert!(status.success());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&library, std::fs::Permissions::from_mode(0o755)).unwrap();
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    let args = with_probe_args(&["-g", "jupiter"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let lib = library.to_str().unwrap();
    let loaded = || -> Vec<String> {
        std::fs::read_dir(&marker)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    // The library works: a plain program run the same way loads it.
    let control = as_caller(&w, Path::new("/bin/true"), &[], &[("LD_PRELOAD", lib)]);
    assert!(control.output.status.success());
    assert!(
        loaded().contains(&"loaded-into-true".to_owned()),
        "control: {:?}",
        loaded()
    );
    let run = as_caller(&w, &runas, &args, &[("LD_PRELOAD", lib)]);
    let id = run.identity();
    id.assert_ids(1500, 1700, &[1500, 1700, 1701]);
    id.assert_no_capabilities();
    assert!(!run.stdout.contains("LD_PRELOAD"), "{}", run.describe());
    // The helper that starts the caller (python3) loads it; runas, which
    // runs in secure mode, and the target (sh) must not.
    for process in ["runas-setgid", "dash", "sh"] {
        assert!(
            !loaded().contains(&format!("loaded-into-{process}")),
            "the library was loaded into {process}: {:?}",
            loaded()
        );
    }
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn without_the_file_capability_the_caller_is_told_how_to_install_it() {
    let Some(w) = world("newgrp_not_installed") else {
        return;
    };
    let plain = capable_copy(&w, "runas-plain", "");
    let run = run_probe(&w, &plain, &["--group", "jupiter"]);
    run.assert_refused("setcap cap_setgid=ep");
    assert!(run.stderr.contains("CAP_SETGID"), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn unsafe_variables_cannot_be_set_with_env() {
    let Some(w) = world("newgrp_env_unsafe") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    for name in ["LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH"] {
        let assignment = format!("{name}=/tmp/x");
        run_probe(&w, &runas, &["--group", "jupiter", "-e", &assignment])
            .assert_refused(&format!("--env {name} is not allowed in newgrp mode"));
    }
}

/// uid 0 whose root is not special (SECBIT_NOROOT, as systemd's
/// `SecureBits=noroot` or a setpriv sandbox makes it) gains the copy's
/// capability at exec, but the kernel enters secure-execution mode only
/// for other uids: the loader honoured LD_PRELOAD. Refused outright.
#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn a_uid_0_caller_without_root_privilege_gaining_file_capabilities_is_refused() {
    let Some(w) = world("newgrp_noroot_uid0") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    let runas_s = runas.to_str().unwrap();
    let run = w.program(
        Path::new("/usr/bin/setpriv"),
        &[
            "--securebits",
            "+noroot",
            "--inh-caps",
            "-all",
            "--",
            runas_s,
            "--groups",
            "0,4",
            "-g",
            "0",
            "--",
            "/bin/true",
        ],
    );
    run.assert_refused("SECBIT_NOROOT");
    // The same copy, run by root with its capabilities, is just root.
    let run = w.program(&runas, &["-g", "jupiter", "--", "/bin/true"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
}

#[test]
#[ignore = "needs root: run as root with cargo test -- --include-ignored"]
fn an_empty_argument_list_is_refused_by_the_file_capability_copy() {
    let Some(w) = world("newgrp_argc0") else {
        return;
    };
    let runas = capable_copy(&w, "runas-setgid", "cap_setgid=ep");
    let mut argv = caller_prefix(1500, 1500, CALLER_GROUPS);
    argv.extend(exec_with_no_arguments(&runas));
    let run = Run::from(w.command(&argv).output().unwrap());
    run.assert_refused("empty argument list");
}
