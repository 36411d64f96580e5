//! Paths root opens or inspects on the target's behalf (--pidfile, the
//! group of --add-group-of, --log for a root target), walked so that
//! nothing the target user, or anyone but root, controls can redirect them.
//!
//! A service account usually owns the directories its files live in
//! (/run/app, /var/log/app, its home), and can plant a symbolic link, a
//! hard link, a FIFO or a device node there before the next start.
//! `fs.protected_symlinks` only covers sticky world-writable directories,
//! and `fs.protected_hardlinks` may be off. So the walk:
//!
//! - starts at `/` (a relative path is taken from the current directory's
//!   absolute name), and enters every directory with O_PATH|O_NOFOLLOW,
//!   checking the directory it actually opened;
//! - accepts a directory only if root owns it and neither its group nor
//!   others may write it (an ACL that grants writing shows in the group
//!   bits), or if it is root's sticky directory (/tmp), whose entries only
//!   their owners can replace: there the next entry must be root's too;
//! - follows a symbolic link in the middle of the path only where the rule
//!   above already holds (so root made it), as in /var/run -> /run, and
//!   never one in the last component.
//!
//! The caller then opens or stats the last component relative to the
//! directory descriptor, with O_NOFOLLOW, and checks what it got.

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Linux's limit on symbolic links followed in one lookup.
const MAX_LINKS: usize = 40;

/// Why a path is not one root may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A directory on the way is not root's.
    DirectoryOwner {
        dir: PathBuf,
        uid: u32,
    },
    /// A directory on the way may be written by its group or by others.
    DirectoryWritable {
        dir: PathBuf,
        mode: u32,
    },
    /// A mount point in root's sticky shared directory.
    SharedEntryMount(PathBuf),
    /// An entry of root's sticky shared directory (/tmp) that is not root's.
    SharedEntryOwner {
        entry: PathBuf,
        uid: u32,
    },
    /// The last component is a symbolic link.
    Symlink,
    /// The last component exists but is not a regular file.
    NotRegular(&'static str),
    /// The last component has more than one name.
    HardLinks(nix::libc::nlink_t),
    /// The file itself may be changed by someone other than root.
    FileOwner(u32),
    FileWritable(u32),
    /// A component in the middle is not a directory.
    NotADirectory(PathBuf),
    /// The path names no file (empty, or ends in `/` or `..`).
    NoFileName,
    TooManyLinks,
    /// A file read whole is larger than this many bytes.
    TooLarge(u64),
    /// --envdir: an entry whose name cannot be a variable's.
    BadEntryName(OsString, &'static str),
    /// --envdir: what is wrong with one of the directory's entries.
    Entry {
        name: OsString,
        problem: Box<Problem>,
    },
    /// A system call failed; `at` says on what.
    Io {
        at: PathBuf,
        errno: Errno,
    },
}

impl Problem {
    /// What is wrong, as a sentence fragment.
    pub fn what(&self) -> String {
        match self {
            Problem::DirectoryOwner { dir, uid } => format!(
                "{} is owned by uid {uid}, who could replace what root opens there",
                quoted(dir)
            ),
            Problem::DirectoryWritable { dir, mode } => format!(
                "{} is writable by its group or by others (mode {mode:04o}), who could replace what root opens there",
                quoted(dir)
            ),
            Problem::SharedEntryOwner { entry, uid } => format!(
                "{} is owned by uid {uid} in a directory everyone may write",
                quoted(entry)
            ),
            Problem::SharedEntryMount(entry) => format!(
                "{} is a mount point in a directory everyone may write",
                quoted(entry)
            ),
            Problem::Symlink => "it is a symbolic link, which runas does not follow".into(),
            Problem::NotRegular(kind) => format!("it is {kind}, not a regular file"),
            Problem::HardLinks(n) => {
                format!("it has {n} hard links, so it may be another file under a second name")
            }
            Problem::FileOwner(uid) => format!("it is owned by uid {uid}, not root"),
            Problem::FileWritable(mode) => {
                format!("it is writable by its group or by others (mode {mode:04o})")
            }
            Problem::TooLarge(limit) => format!("it is larger than {limit} bytes"),
            Problem::BadEntryName(name, why) => format!(
                "the directory holds {}, which cannot name a variable: {why}",
                crate::quote::quote(name)
            ),
            Problem::Entry { name, problem } => format!(
                "its entry {}: {}",
                crate::quote::quote(name),
                problem.what()
            ),
            Problem::NotADirectory(dir) => format!("{} is not a directory", quoted(dir)),
            Problem::NoFileName => "it does not name a file".into(),
            Problem::TooManyLinks => "too many levels of symbolic links".into(),
            Problem::Io { at, errno } => {
                format!("{}: {}", quoted(at), crate::sys::errno_text(*errno))
            }
        }
    }

    /// How to make the path acceptable, for the option that named it (a
    /// pidfile runas makes itself; a file runas only reads, the caller must
    /// make root's).
    pub fn fix(&self, option: &str) -> String {
        match self {
            Problem::DirectoryOwner { dir, .. } | Problem::DirectoryWritable { dir, .. } => {
                let d = dir.display();
                format!(
                    "make {d} root-owned and not writable by group or others (chown root: {d}; chmod go-w {d}), or use a path in a root-owned directory such as /run"
                )
            }
            Problem::SharedEntryOwner { .. } | Problem::SharedEntryMount(_) => {
                "use a path in a root-owned directory such as /run".into()
            }
            Problem::Symlink => "give the path of the file itself".into(),
            Problem::NotRegular(_) | Problem::HardLinks(_) => {
                "remove it, or give another path".into()
            }
            Problem::FileOwner(_) | Problem::FileWritable(_) if option == "--pidfile" => {
                "remove it; runas creates it root-owned, mode 0644".into()
            }
            Problem::FileOwner(_) | Problem::FileWritable(_) => {
                "make it root's and writable by root alone (chown root: FILE; chmod go-w FILE): runas reads it as root, so whoever may write it chooses the target's environment".into()
            }
            Problem::TooLarge(_) => "give a smaller file".into(),
            Problem::BadEntryName(..) => {
                "remove or rename that file (names starting with '.' are passed over)".into()
            }
            Problem::Entry { problem, .. } => problem.fix(option),
            Problem::NotADirectory(_) | Problem::NoFileName | Problem::TooManyLinks => {
                "give the path of a file".into()
            }
            Problem::Io { .. } => "check the path".into(),
        }
    }
}

/// A path for a message: quoted, with control characters escaped.
fn quoted(path: &Path) -> String {
    crate::quote::quote(path)
}

/// The kind of a file, for messages.
pub fn kind_of(stat: &FileStat) -> &'static str {
    match SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => "a regular file",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFLNK => "a symbolic link",
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        _ => "a file of unknown type",
    }
}

pub fn is_type(stat: &FileStat, kind: SFlag) -> bool {
    stat.st_mode & SFlag::S_IFMT.bits() == kind.bits()
}

/// The directory that holds the last component, reached safely.
pub struct Parent {
    pub dir: OwnedFd,
    /// Its absolute name, as resolved (for messages).
    pub path: PathBuf,
    /// The last component.
    pub name: OsString,
    /// The directory is root's sticky shared one: the entry must be root's.
    pub shared: bool,
    /// The directory's device, which an entry of a shared one must share.
    device: u64,
}

impl Parent {
    /// The full name of the last component, for messages.
    pub fn entry(&self) -> PathBuf {
        self.path.join(&self.name)
    }

    /// lstat of the last component; `None` if it does not exist.
    pub fn lstat(&self) -> Result<Option<FileStat>, Problem> {
        match fstatat(
            &self.dir,
            self.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(stat) => Ok(Some(stat)),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(Problem::Io {
                at: self.entry(),
                errno,
            }),
        }
    }

    /// Open the last component relative to the directory, never following
    /// a link there, never blocking (a FIFO, a device), never acquiring a
    /// terminal.
    pub fn open(&self, flags: OFlag, mode: u32) -> Result<OwnedFd, Problem> {
        let flags =
            flags | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        nix::fcntl::openat(
            &self.dir,
            self.name.as_os_str(),
            flags,
            Mode::from_bits_truncate(mode),
        )
        .map_err(|errno| match errno {
            Errno::ELOOP => Problem::Symlink,
            // O_NONBLOCK write-open of a FIFO without a reader.
            Errno::ENXIO => Problem::NotRegular("a FIFO or a device"),
            errno => Problem::Io {
                at: self.entry(),
                errno,
            },
        })
    }

    /// Open the last component for writing: created new when absent
    /// (O_EXCL: whatever someone creates in between, in root's sticky
    /// /tmp say, is looked at again, not used), otherwise opened without
    /// following a link once `check` accepts what is there. What was
    /// opened is then checked again, as opened (`check` and the shared
    /// directory rule), and returned with its status.
    pub fn create_or_open(
        &self,
        flags: OFlag,
        mode: u32,
        check: impl Fn(&FileStat) -> Result<(), Problem>,
    ) -> Result<(OwnedFd, FileStat), Problem> {
        for _ in 0..2 {
            let fd = match self.lstat()? {
                None => match self.open(flags | OFlag::O_CREAT | OFlag::O_EXCL, mode) {
                    Ok(fd) => fd,
                    Err(Problem::Io {
                        errno: Errno::EEXIST,
                        ..
                    }) => continue,
                    Err(problem) => return Err(problem),
                },
                Some(stat) => {
                    self.check_shared_entry(&stat)?;
                    check(&stat)?;
                    self.open(flags, 0)?
                }
            };
            let stat = fstat(&fd).map_err(|errno| Problem::Io {
                at: self.entry(),
                errno,
            })?;
            self.check_shared_entry(&stat)?;
            check(&stat)?;
            return Ok((fd, stat));
        }
        Err(Problem::Io {
            at: self.entry(),
            errno: Errno::EEXIST,
        })
    }

    /// The checks for an entry of root's sticky shared directory: root's,
    /// and no mount point (a user's FUSE mount there could claim to be
    /// root's).
    pub fn check_shared_entry(&self, stat: &FileStat) -> Result<(), Problem> {
        if !self.shared {
            return Ok(());
        }
        if stat.st_uid != 0 {
            return Err(Problem::SharedEntryOwner {
                entry: self.entry(),
                uid: stat.st_uid,
            });
        }
        if stat.st_dev != self.device {
            return Err(Problem::SharedEntryMount(self.entry()));
        }
        Ok(())
    }
}

/// Whether a directory's content is root's alone; `Ok(true)` for root's
/// sticky shared directory, whose entries must then be checked one by one.
fn check_directory(stat: &FileStat, path: &Path) -> Result<bool, Problem> {
    if stat.st_uid != 0 {
        return Err(Problem::DirectoryOwner {
            dir: path.to_owned(),
            uid: stat.st_uid,
        });
    }
    let mode = stat.st_mode & 0o7777;
    if mode & 0o022 == 0 {
        return Ok(false);
    }
    if mode & 0o1000 != 0 {
        return Ok(true);
    }
    Err(Problem::DirectoryWritable {
        dir: path.to_owned(),
        mode,
    })
}

fn open_directory(
    at: impl AsFd,
    name: &OsStr,
    shown: &Path,
) -> Result<(OwnedFd, FileStat), Problem> {
    let io = |errno| Problem::Io {
        at: shown.to_owned(),
        errno,
    };
    let fd = nix::fcntl::openat(
        at,
        name,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| match errno {
        Errno::ENOTDIR | Errno::ELOOP => Problem::NotADirectory(shown.to_owned()),
        errno => io(errno),
    })?;
    let stat = fstat(&fd).map_err(io)?;
    Ok((fd, stat))
}

fn components(bytes: &[u8]) -> impl Iterator<Item = OsString> + '_ {
    bytes
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsString::from_vec(c.to_vec()))
}

/// Walk to the directory that holds `path`'s last component.
pub fn walk(path: &Path) -> Result<Parent, Problem> {
    let absolute;
    let path = if path.is_absolute() {
        path
    } else {
        let cwd = nix::unistd::getcwd().map_err(|errno| Problem::Io {
            at: ".".into(),
            errno,
        })?;
        absolute = cwd.join(path);
        &absolute
    };
    let bytes = path.as_os_str().as_bytes();
    // The last component as written: a path ending in "/", "/." or "/.."
    // names a directory, not a file.
    let last = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    if last.is_empty() || last == b"." || last == b".." {
        return Err(Problem::NoFileName);
    }
    let mut queue: VecDeque<OsString> = components(bytes).collect();
    let Some(name) = queue.pop_back() else {
        return Err(Problem::NoFileName);
    };
    let (mut dir, root_stat) =
        open_directory(nix::fcntl::AT_FDCWD, OsStr::new("/"), Path::new("/"))?;
    let mut shown = PathBuf::from("/");
    let mut shared = check_directory(&root_stat, &shown)?;
    let mut device = root_stat.st_dev;
    let mut links = 0;
    while let Some(component) = queue.pop_front() {
        if component == ".." {
            shown.pop();
            let (up, stat) = open_directory(&dir, OsStr::new(".."), &shown)?;
            shared = check_directory(&stat, &shown)?;
            device = stat.st_dev;
            dir = up;
            continue;
        }
        let next = shown.join(&component);
        let stat = fstatat(&dir, component.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW).map_err(
            |errno| Problem::Io {
                at: next.clone(),
                errno,
            },
        )?;
        if shared && stat.st_uid != 0 {
            return Err(Problem::SharedEntryOwner {
                entry: next,
                uid: stat.st_uid,
            });
        }
        if shared && stat.st_dev != device {
            return Err(Problem::SharedEntryMount(next));
        }
        if is_type(&stat, SFlag::S_IFLNK) {
            // Made by root: the directory holding it passed the rule.
            links += 1;
            if links > MAX_LINKS {
                return Err(Problem::TooManyLinks);
            }
            let target = nix::fcntl::readlinkat(&dir, component.as_os_str()).map_err(|errno| {
                Problem::Io {
                    at: next.clone(),
                    errno,
                }
            })?;
            let target = target.as_bytes();
            for part in components(target).collect::<Vec<_>>().into_iter().rev() {
                queue.push_front(part);
            }
            if target.starts_with(b"/") {
                let (root, stat) =
                    open_directory(nix::fcntl::AT_FDCWD, OsStr::new("/"), Path::new("/"))?;
                shown = PathBuf::from("/");
                shared = check_directory(&stat, &shown)?;
                device = stat.st_dev;
                dir = root;
            }
            continue;
        }
        let (child, opened) = open_directory(&dir, &component, &next)?;
        // The entry checked above must be the directory opened.
        if (opened.st_dev, opened.st_ino) != (stat.st_dev, stat.st_ino) {
            return Err(Problem::Io {
                at: next,
                errno: Errno::EAGAIN,
            });
        }
        shared = check_directory(&opened, &next)?;
        device = opened.st_dev;
        dir = child;
        shown = next;
    }
    Ok(Parent {
        dir,
        path: shown,
        name,
        shared,
        device,
    })
}

/// The group owning `path`, for --add-group-of: the file itself, never
/// what a link in its place points to.
pub fn group_of(path: &Path) -> Result<u32, Problem> {
    let stripped = strip_trailing_slashes(path);
    if stripped.as_os_str().as_bytes() == b"/" {
        let (_, stat) = open_directory(nix::fcntl::AT_FDCWD, OsStr::new("/"), Path::new("/"))?;
        return Ok(stat.st_gid);
    }
    let parent = walk(&stripped)?;
    let stat = parent.lstat()?.ok_or(Problem::Io {
        at: parent.entry(),
        errno: Errno::ENOENT,
    })?;
    if is_type(&stat, SFlag::S_IFLNK) {
        return Err(Problem::Symlink);
    }
    // A second name of another file (a hard link planted where
    // fs.protected_hardlinks is off) would hand out that file's group.
    if !is_type(&stat, SFlag::S_IFDIR) && stat.st_nlink != 1 {
        return Err(Problem::HardLinks(stat.st_nlink));
    }
    parent.check_shared_entry(&stat)?;
    Ok(stat.st_gid)
}

/// The most a file root reads whole for the target may hold.
pub const MAX_READ: u64 = 1 << 20;

/// A file root trusts for the target (an existing pidfile, which stop
/// scripts believe; an environment file) must be root's alone: not a
/// link, a regular file with one name, owned by root, writable by root
/// alone.
pub fn check_roots_alone(stat: &FileStat) -> Result<(), Problem> {
    if is_type(stat, SFlag::S_IFLNK) {
        return Err(Problem::Symlink);
    }
    if !is_type(stat, SFlag::S_IFREG) {
        return Err(Problem::NotRegular(kind_of(stat)));
    }
    if stat.st_nlink != 1 {
        return Err(Problem::HardLinks(stat.st_nlink));
    }
    if stat.st_uid != 0 {
        return Err(Problem::FileOwner(stat.st_uid));
    }
    if stat.st_mode & 0o022 != 0 {
        return Err(Problem::FileWritable(stat.st_mode & 0o7777));
    }
    Ok(())
}

/// Read what `fd` holds, at most MAX_READ bytes.
fn read_all(fd: OwnedFd, at: &Path) -> Result<Vec<u8>, Problem> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_READ + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Problem::Io {
            at: at.to_owned(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)),
        })?;
    if bytes.len() as u64 > MAX_READ {
        return Err(Problem::TooLarge(MAX_READ));
    }
    Ok(bytes)
}

/// Open a regular file as the caller (no privilege is used, so its own
/// rights decide, links included), never blocking on a FIFO.
fn open_as_caller(at: impl AsFd, name: &OsStr, shown: &Path) -> Result<OwnedFd, Problem> {
    let fd = nix::fcntl::openat(
        at,
        name,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| Problem::Io {
        at: shown.to_owned(),
        errno,
    })?;
    let stat = fstat(&fd).map_err(|errno| Problem::Io {
        at: shown.to_owned(),
        errno,
    })?;
    if !is_type(&stat, SFlag::S_IFREG) {
        return Err(Problem::NotRegular(kind_of(&stat)));
    }
    Ok(fd)
}

/// Read a file root uses for the target (--env-file): `as_root`, through
/// root-owned directories, the file itself never a link and root's alone
/// (check_roots_alone); otherwise with the caller's own rights.
pub fn read_source(path: &Path, as_root: bool) -> Result<Vec<u8>, Problem> {
    if !as_root {
        let fd = open_as_caller(nix::fcntl::AT_FDCWD, path.as_os_str(), path)?;
        return read_all(fd, path);
    }
    let parent = walk(path)?;
    // Looked at before it is opened (root opens nothing someone else
    // planted, not even a FIFO without blocking), then checked again as
    // opened.
    let seen = parent.lstat()?.ok_or(Problem::Io {
        at: parent.entry(),
        errno: Errno::ENOENT,
    })?;
    if is_type(&seen, SFlag::S_IFLNK) {
        return Err(Problem::Symlink);
    }
    parent.check_shared_entry(&seen)?;
    check_roots_alone(&seen)?;
    let fd = parent.open(OFlag::O_RDONLY, 0)?;
    let stat = fstat(&fd).map_err(|errno| Problem::Io {
        at: parent.entry(),
        errno,
    })?;
    parent.check_shared_entry(&stat)?;
    check_roots_alone(&stat)?;
    if (stat.st_dev, stat.st_ino) != (seen.st_dev, seen.st_ino) {
        return Err(Problem::Io {
            at: parent.entry(),
            errno: Errno::EAGAIN,
        });
    }
    read_all(fd, &parent.entry())
}

/// The entries of a directory root reads for the target (--envdir), with
/// what each file holds, by name; `.` files are left out, as envdir does.
/// `as_root`: the directory is reached as `read_source` reaches a file,
/// must itself be root's alone (not a shared sticky one), and each entry
/// is opened without following a link and must pass check_roots_alone.
pub fn read_source_dir(path: &Path, as_root: bool) -> Result<Vec<(OsString, Vec<u8>)>, Problem> {
    let stripped = strip_trailing_slashes(path);
    let io = |at: &Path| {
        let at = at.to_owned();
        move |errno| Problem::Io { at, errno }
    };
    let (dir, shown) = if as_root {
        let parent = walk(&stripped)?;
        if parent
            .lstat()?
            .is_some_and(|stat| is_type(&stat, SFlag::S_IFLNK))
        {
            return Err(Problem::Symlink);
        }
        let dir = parent.open(OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)?;
        let stat = fstat(&dir).map_err(io(&parent.entry()))?;
        parent.check_shared_entry(&stat)?;
        if check_directory(&stat, &parent.entry())? {
            return Err(Problem::DirectoryWritable {
                dir: parent.entry(),
                mode: stat.st_mode & 0o7777,
            });
        }
        (dir, parent.entry())
    } else {
        let dir = nix::fcntl::open(
            stripped.as_path(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io(&stripped))?;
        (dir, stripped.clone())
    };
    let listing = nix::dir::Dir::from_fd(dir.try_clone().map_err(|e| Problem::Io {
        at: shown.clone(),
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)),
    })?)
    .map_err(io(&shown))?;
    let mut names = Vec::new();
    for entry in listing {
        let entry = entry.map_err(io(&shown))?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes()).to_owned();
        match crate::envfile::classify_envdir_name(name.as_bytes()) {
            crate::envfile::EnvdirName::Skip => {}
            crate::envfile::EnvdirName::Invalid(why) => {
                return Err(Problem::BadEntryName(name, why));
            }
            crate::envfile::EnvdirName::Ok => names.push(name),
        }
    }
    names.sort();
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let at = shown.join(&name);
        let bytes = read_entry(&dir, &name, &at, as_root).map_err(|problem| Problem::Entry {
            name: name.clone(),
            problem: Box::new(problem),
        })?;
        entries.push((name, bytes));
    }
    Ok(entries)
}

fn read_entry(dir: &OwnedFd, name: &OsStr, at: &Path, as_root: bool) -> Result<Vec<u8>, Problem> {
    let io = |errno| Problem::Io {
        at: at.to_owned(),
        errno,
    };
    let fd = if as_root {
        let fd = nix::fcntl::openat(
            dir,
            name,
            OFlag::O_RDONLY
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_NOCTTY
                | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| match errno {
            Errno::ELOOP => Problem::Symlink,
            errno => io(errno),
        })?;
        let stat = fstat(&fd).map_err(io)?;
        check_roots_alone(&stat)?;
        fd
    } else {
        open_as_caller(dir, name, at)?
    };
    read_all(fd, at)
}

/// `/dev/dri/` names the directory /dev/dri.
fn strip_trailing_slashes(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    let end = bytes.iter().rposition(|&b| b != b'/').map_or(1, |i| i + 1);
    PathBuf::from(OsStr::from_bytes(&bytes[..end.min(bytes.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_component_must_name_a_file() {
        assert_eq!(walk(Path::new("/")).err(), Some(Problem::NoFileName));
        assert_eq!(walk(Path::new("/tmp/")).err(), Some(Problem::NoFileName));
        assert_eq!(walk(Path::new("/tmp/..")).err(), Some(Problem::NoFileName));
        assert_eq!(walk(Path::new("/tmp/x/.")).err(), Some(Problem::NoFileName));
    }

    #[test]
    fn trailing_slashes_are_stripped_for_groups() {
        assert_eq!(
            strip_trailing_slashes(Path::new("/dev/dri/")),
            Path::new("/dev/dri")
        );
        assert_eq!(strip_trailing_slashes(Path::new("///")), Path::new("/"));
        assert_eq!(strip_trailing_slashes(Path::new("a")), Path::new("a"));
    }

    #[test]
    fn directory_rule() {
        let stat = |uid, mode| {
            let mut s = blank_stat();
            s.st_uid = uid;
            s.st_mode = SFlag::S_IFDIR.bits() | mode;
            s
        };
        let p = Path::new("/x");
        assert_eq!(check_directory(&stat(0, 0o755), p), Ok(false));
        assert_eq!(check_directory(&stat(0, 0o1777), p), Ok(true));
        assert!(matches!(
            check_directory(&stat(0, 0o775), p),
            Err(Problem::DirectoryWritable { mode: 0o775, .. })
        ));
        assert!(matches!(
            check_directory(&stat(1500, 0o755), p),
            Err(Problem::DirectoryOwner { uid: 1500, .. })
        ));
        assert!(matches!(
            check_directory(&stat(0, 0o757), p),
            Err(Problem::DirectoryWritable { .. })
        ));
    }

    /// A FileStat to fill in: stat of /, with owner and mode cleared.
    fn blank_stat() -> FileStat {
        let mut s = nix::sys::stat::stat("/").unwrap();
        s.st_uid = 0;
        s.st_gid = 0;
        s.st_mode = 0;
        s
    }

    #[test]
    fn root_directories_on_this_machine_pass() {
        // / and /tmp (sticky) are root's on any sane machine.
        let parent = walk(Path::new("/tmp/runas-trusted-path-unit-test")).unwrap();
        assert_eq!(parent.path, Path::new("/tmp"));
        assert!(parent.shared);
        assert_eq!(group_of(Path::new("/")).unwrap(), 0);
    }
}
