//! glibc as the oracle for the account files: the calling thread enters a
//! mount namespace of its own (a thread may: CLONE_NEWNS is per task) with
//! fixture passwd, group and nsswitch.conf ("files" only) bind-mounted over
//! /etc, so glibc's own getpwnam_r, getpwuid_r, getgrnam_r, getgrgid_r and
//! getgrouplist answer for the bytes under test. Needs root.

use nix::libc;
use std::ffi::{CStr, CString};
use std::path::PathBuf;

/// A passwd entry as glibc returns it: name, uid, gid, home, shell.
pub type Passwd = (Vec<u8>, u32, u32, Vec<u8>, Vec<u8>);

pub struct Glibc {
    dir: PathBuf,
}

fn c(path: &std::path::Path) -> CString {
    CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL in a path")
}

/// A bind mount of `from` over `to`, or a tmpfs on `to` (`from` None).
fn mount(from: Option<&std::path::Path>, to: &str) {
    let to = CString::new(to).expect("no NUL");
    let from = from.map(c);
    let (source, fstype, flags) = match &from {
        Some(from) => (from.as_ptr(), std::ptr::null(), libc::MS_BIND),
        None => (c"none".as_ptr(), c"tmpfs".as_ptr(), 0),
    };
    // SAFETY: every pointer is a NUL-terminated string that outlives the
    // call, or NULL where mount(2) allows it (no type for a bind mount, no
    // data).
    let ret = unsafe { libc::mount(source, to.as_ptr(), fstype, flags, std::ptr::null()) };
    assert_eq!(
        ret,
        0,
        "mount over {to:?}: {}",
        std::io::Error::last_os_error()
    );
}

impl Glibc {
    /// Enter the namespace, on this thread only. Panics without root.
    pub fn enter() -> Glibc {
        // SAFETY: an integer argument; only this thread's mount namespace
        // (and its file-system context) is unshared.
        let ret = unsafe { libc::unshare(libc::CLONE_NEWNS) };
        assert_eq!(
            ret,
            0,
            "unshare(CLONE_NEWNS): {} (the glibc oracle needs root)",
            std::io::Error::last_os_error()
        );
        // SAFETY: "/" is a NUL-terminated string; no source, type or data
        // for a change of propagation.
        let ret = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        assert_eq!(
            ret,
            0,
            "making / private: {}",
            std::io::Error::last_os_error()
        );
        let dir = std::env::temp_dir().join(format!(
            "runas-glibc-oracle.{}.{}",
            std::process::id(),
            nix::unistd::gettid()
        ));
        std::fs::create_dir_all(&dir).expect("oracle directory");
        for (name, text) in [
            ("passwd", ""),
            ("group", ""),
            (
                "nsswitch.conf",
                "passwd: files\ngroup: files\ninitgroups: files\n",
            ),
        ] {
            std::fs::write(dir.join(name), text).expect("oracle file");
            mount(Some(&dir.join(name)), &format!("/etc/{name}"));
        }
        // A name-service cache would answer from the real databases.
        for cache in ["/run/nscd", "/var/run/nscd", "/var/lib/sss/pipes"] {
            if std::path::Path::new(cache).is_dir() {
                mount(None, cache);
            }
        }
        Glibc { dir }
    }

    /// The files glibc reads from now on (rewritten in place: the bind
    /// mounts follow the inode).
    pub fn set(&self, passwd: &[u8], group: &[u8]) {
        for (name, bytes) in [("passwd", passwd), ("group", group)] {
            std::fs::write(self.dir.join(name), bytes).expect("rewriting an oracle file");
        }
    }

    pub fn getpwnam(&self, name: &CStr) -> Option<Passwd> {
        self.passwd(|entry, buffer, size, result| {
            // SAFETY: the entry, the buffer of `size` bytes and the result
            // pointer are this frame's; the name is NUL-terminated.
            unsafe { libc::getpwnam_r(name.as_ptr(), entry, buffer, size, result) }
        })
    }

    pub fn getpwuid(&self, uid: u32) -> Option<Passwd> {
        self.passwd(|entry, buffer, size, result| {
            // SAFETY: as getpwnam's.
            unsafe { libc::getpwuid_r(uid, entry, buffer, size, result) }
        })
    }

    fn passwd(
        &self,
        call: impl Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> i32,
    ) -> Option<Passwd> {
        let text = |p: *const libc::c_char| {
            // SAFETY: glibc points the fields at NUL-terminated strings in
            // the lookup's buffer, alive while `read` runs.
            unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
        };
        reentrant(call, |entry: &libc::passwd| {
            (
                text(entry.pw_name),
                entry.pw_uid,
                entry.pw_gid,
                text(entry.pw_dir),
                text(entry.pw_shell),
            )
        })
    }

    pub fn getgrnam(&self, name: &CStr) -> Option<u32> {
        self.group(|entry, buffer, size, result| {
            // SAFETY: as getpwnam's.
            unsafe { libc::getgrnam_r(name.as_ptr(), entry, buffer, size, result) }
        })
        .map(|(_, gid)| gid)
    }

    pub fn getgrgid(&self, gid: u32) -> Option<Vec<u8>> {
        self.group(|entry, buffer, size, result| {
            // SAFETY: as getpwnam's.
            unsafe { libc::getgrgid_r(gid, entry, buffer, size, result) }
        })
        .map(|(name, _)| name)
    }

    fn group(
        &self,
        call: impl Fn(*mut libc::group, *mut libc::c_char, usize, *mut *mut libc::group) -> i32,
    ) -> Option<(Vec<u8>, u32)> {
        reentrant(call, |entry: &libc::group| {
            // SAFETY: as in `passwd`.
            let name = unsafe { CStr::from_ptr(entry.gr_name) }.to_bytes().to_vec();
            (name, entry.gr_gid)
        })
    }

    /// getgrouplist(3): the primary group first, then the memberships, as
    /// glibc lists them.
    pub fn getgrouplist(&self, user: &CStr, primary: u32) -> Vec<u32> {
        let groups = nix::unistd::getgrouplist(user, nix::unistd::Gid::from_raw(primary))
            .expect("getgrouplist");
        groups.iter().map(|g| g.as_raw()).collect()
    }
}

/// The entries get*_r fills: C structs of pointers and integers only.
trait Entry {}
impl Entry for libc::passwd {}
impl Entry for libc::group {}

/// One get*_r call (getpwnam_r and its kin): an all-zero entry and a
/// buffer of this frame's, then `read` over the entry glibc filled, while
/// the buffer its strings point into is alive; None where there is no such
/// entry.
fn reentrant<T: Entry, R>(
    call: impl Fn(*mut T, *mut libc::c_char, usize, *mut *mut T) -> i32,
    read: impl Fn(&T) -> R,
) -> Option<R> {
    let mut buffer = vec![0 as libc::c_char; 1 << 20];
    // SAFETY: T is `struct passwd` or `struct group` (Entry), C structs of
    // pointers and integers, for which all-zero bytes are a valid value
    // (null pointers and zeros) for get*_r to fill.
    let mut entry: T = unsafe { std::mem::zeroed() };
    let mut result = std::ptr::null_mut();
    let ret = call(
        &raw mut entry,
        buffer.as_mut_ptr(),
        buffer.len(),
        &raw mut result,
    );
    assert_eq!(ret, 0, "glibc's lookup failed: errno {ret}");
    (!result.is_null()).then(|| read(&entry))
}

impl Drop for Glibc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
