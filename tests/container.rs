//! The static build in a minimal container, without a container engine:
//! a root filesystem with busybox, fixture accounts and the static runas,
//! entered as an ENTRYPOINT would be, in new mount and pid namespaces.
//!
//! Needs RUNAS_STATIC_BIN (the x86_64-unknown-linux-musl build) and
//! /bin/busybox from Debian's busybox-static; CI provides both.

mod common;

use common::privileged;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

fn static_runas(test: &str) -> Option<PathBuf> {
    privileged(test).then(|| common::static_runas(test))
}

fn rootfs(runas: &Path) -> tempfile::TempDir {
    let root = common::container_root(
        "runas-rootfs.",
        &["bin", "etc", "app/data", "usr/local/bin"],
    );
    let r = root.path();
    common::install_busybox(r, &["sh", "id", "chown", "stat"]);
    fs::copy(runas, r.join("runas")).unwrap();
    fs::set_permissions(r.join("runas"), fs::Permissions::from_mode(0o755)).unwrap();
    symlink("/runas", r.join("usr/local/bin/runas")).unwrap();
    symlink("runas", r.join("gosu")).unwrap();
    let entrypoint = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/docker/entrypoint.sh"
    );
    fs::copy(entrypoint, r.join("entrypoint.sh")).unwrap();
    common::container_accounts(r, "/app");
    root
}

/// `unshare --mount --pid --fork --mount-proc chroot ROOT ARGS...`
fn enter(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "/usr/sbin/chroot",
        ])
        .arg(root)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/bin")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): .ci/run sets both"]
fn static_runas_drops_to_the_app_user_in_a_minimal_rootfs() {
    let Some(bin) = static_runas("container_runas") else {
        return;
    };
    let root = rootfs(&bin);
    let (code, out, err) = enter(
        root.path(),
        &["/runas", "-u", "app", "--", "/bin/busybox", "id"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "uid=1000(app) gid=1000(app) groups=1000(app),1001(media)"
    );
    // No passwd entry, no group: refused, never gid 0.
    let (code, _, err) = enter(
        root.path(),
        &["/runas", "-u", "4242", "--", "/bin/busybox", "id"],
    );
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("give --group"), "{err}");
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): .ci/run sets both"]
fn static_runas_as_gosu_in_a_minimal_rootfs() {
    let Some(bin) = static_runas("container_gosu") else {
        return;
    };
    let root = rootfs(&bin);
    let (code, out, err) = enter(root.path(), &["/gosu", "app", "/bin/busybox", "id"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("uid=1000(app) gid=1000(app)"), "{out}");
    let (code, out, err) = enter(
        root.path(),
        &["/gosu", "app:media", "/bin/busybox", "id", "-g"],
    );
    assert_eq!((code, out.trim()), (0, "1001"), "{err}");
}

#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): .ci/run sets both"]
fn docker_entrypoint_script_prepares_as_root_then_drops() {
    let Some(bin) = static_runas("container_entrypoint") else {
        return;
    };
    let root = rootfs(&bin);
    let (code, out, err) = enter(root.path(), &["/entrypoint.sh", "/bin/busybox", "id", "-u"]);
    assert_eq!((code, out.trim()), (0, "1000"), "{err}");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(root.path().join("app/data")).unwrap().uid(),
        1000,
        "the data volume was handed over"
    );
}

/// The image's home for the app (/app) once belonged to the app user, as
/// `useradd --create-home` makes it; the app then swapped its data
/// directory for a link to /etc before the next start. Root's setup must
/// not hand /etc over.
#[test]
#[ignore = "needs root and RUNAS_STATIC_BIN (the musl build): .ci/run sets both"]
fn docker_entrypoint_does_no_root_work_through_paths_the_app_controls() {
    let Some(bin) = static_runas("container_entrypoint_symlink") else {
        return;
    };
    use std::os::unix::fs::{MetadataExt, chown};
    let root = rootfs(&bin);
    let r = root.path();
    chown(r.join("app"), Some(1000), Some(1000)).unwrap();
    fs::remove_dir(r.join("app/data")).unwrap();
    symlink("/etc", r.join("app/data")).unwrap();
    let (code, out, err) = enter(r, &["/entrypoint.sh", "/bin/busybox", "id", "-u"]);
    assert_eq!(
        fs::metadata(r.join("etc")).unwrap().uid(),
        0,
        "/etc was handed to the app user"
    );
    assert_ne!(code, 0, "the entry point went on: {out}");
    assert!(err.contains("/app"), "{err}");
    // Root-owned /app, but the link is still there: refused as well.
    chown(r.join("app"), Some(0), Some(0)).unwrap();
    let (code, _, err) = enter(r, &["/entrypoint.sh", "/bin/busybox", "id", "-u"]);
    assert_eq!(fs::metadata(r.join("etc")).unwrap().uid(), 0);
    assert_ne!(code, 0);
    assert!(err.contains("/app/data"), "{err}");
}
