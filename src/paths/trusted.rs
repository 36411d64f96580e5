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
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, Mode, SFlag, fstat};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
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
    /// A file system a user mounted (FUSE through fusermount3, or fstab's
    /// `user` option): what it says of ownership is the user's word.
    UserMount {
        point: PathBuf,
        /// Who mounted it, in words: "uid 1500", "user alice".
        by: String,
        /// "a FUSE file system", "a file system".
        kind: &'static str,
    },
    /// Who mounted a file system on the way cannot be told.
    MountUnknown {
        point: PathBuf,
        why: String,
    },
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
            Problem::UserMount { point, by, kind } => format!(
                "{} is {kind} mounted by {by}, which answers for what is in it (its owners and modes are that user's word)",
                quoted(point)
            ),
            Problem::MountUnknown { point, why } => format!(
                "{} is another file system, and who mounted it cannot be told: {why}",
                quoted(point)
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
                crate::base::quote::quote(name)
            ),
            Problem::Entry { name, problem } => format!(
                "its entry {}: {}",
                crate::base::quote::quote(name),
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
            Problem::UserMount { .. } => {
                "use a path on a file system root mounted, such as /run or /etc".into()
            }
            Problem::MountUnknown { .. } => {
                "mount /proc, or use a path that crosses no mount".into()
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
    crate::base::quote::quote(path)
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

/// One mount, as /proc/self/mountinfo lists it: the fields runas uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    id: u64,
    point: PathBuf,
    /// `fuse`, `fuse.sshfs`, `fuseblk`, `ext4`...
    fstype: Vec<u8>,
    /// The super block's options (FUSE's `user_id=1500`).
    options: Vec<u8>,
}

/// mountinfo's escapes: `\040` for a space, `\011`, `\012`, `\134`. Any
/// other byte, valid UTF-8 or not, is itself.
fn unescape_octal(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field.get(i + 1..i + 4).filter(|d| {
            field[i] == b'\\' && d[0] <= b'3' && d.iter().all(|c| (b'0'..=b'7').contains(c))
        });
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

/// The mounts of a mountinfo text (proc(5)): `ID PARENT MAJ:MIN ROOT POINT
/// OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`, read as bytes (a
/// user chooses mount points and FUSE names, UTF-8 or not).
fn parse_mountinfo(text: &[u8]) -> Vec<Mount> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            let dash = fields.iter().position(|&f| f == b"-")?;
            Some(Mount {
                id: std::str::from_utf8(fields.first()?).ok()?.parse().ok()?,
                point: PathBuf::from(OsString::from_vec(unescape_octal(fields.get(4)?))),
                fstype: fields.get(dash + 1)?.to_vec(),
                options: fields.get(dash + 3).copied().unwrap_or_default().to_vec(),
            })
        })
        .collect()
}

/// The mounts libmount made for a user, by id, with who: /run/mount/utab
/// records `user=NAME` for fstab's `user`, `owner` and `group` options (not
/// for `users`), and `uhelper=udisks2` for what udisks mounted for a user.
fn parse_utab(text: &[u8]) -> Vec<(u64, String)> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let mut id = None;
            let mut by = None;
            for field in line.split(|&b| b == b' ') {
                if let Some(value) = field.strip_prefix(b"ID=") {
                    id = std::str::from_utf8(value).ok()?.parse().ok();
                } else if let Some(options) = field.strip_prefix(b"OPTS=") {
                    by = options.split(|&b| b == b',').find_map(|option| {
                        if let Some(user) = option.strip_prefix(b"user=") {
                            Some(format!(
                                "user {} (fstab's user option)",
                                crate::base::quote::quote(OsStr::from_bytes(user))
                            ))
                        } else {
                            option.strip_prefix(b"uhelper=").map(|helper| {
                                format!(
                                    "a user, through {}",
                                    crate::base::quote::quote(OsStr::from_bytes(helper))
                                )
                            })
                        }
                    });
                }
            }
            Some((id?, by?))
        })
        .collect()
}

/// FUSE's file system types: `fuse` and `fuseblk`, with a subtype or not.
fn is_fuse(fstype: &[u8]) -> bool {
    fstype == b"fuse"
        || fstype == b"fuseblk"
        || fstype.starts_with(b"fuse.")
        || fstype.starts_with(b"fuseblk.")
}

/// Where libmount records the mounts it made for users.
const UTAB: &str = "/run/mount/utab";

/// Whether a user made `mount`: a FUSE file system whose `user_id` is not
/// 0, or one libmount recorded as made for a user.
fn made_by_user(mount: &Mount, utab: &[(u64, String)]) -> Option<Problem> {
    let problem = |by: String, kind| Problem::UserMount {
        point: mount.point.clone(),
        by,
        kind,
    };
    let kind = if is_fuse(&mount.fstype) {
        "a FUSE file system"
    } else {
        "a file system"
    };
    if let Some((_, by)) = utab.iter().find(|(id, _)| *id == mount.id) {
        return Some(problem(by.clone(), kind));
    }
    if !is_fuse(&mount.fstype) {
        return None;
    }
    let owner = mount
        .options
        .split(|&b| b == b',')
        .find_map(|o| o.strip_prefix(b"user_id="))
        .and_then(|uid| std::str::from_utf8(uid).ok()?.parse::<u32>().ok());
    match owner {
        Some(0) => None,
        Some(uid) => Some(problem(format!("uid {uid}"), kind)),
        None => Some(problem("an unknown user".into(), kind)),
    }
}

/// The judge of the mounts one walk reaches. Ownership and modes are what a
/// file system says they are, and a user can mount one that says anything:
/// a FUSE server answers stat itself, and a file system a user mounted
/// through fstab's `user` option holds what the user wrote to it elsewhere.
/// So every entry is first reached with O_PATH, which sends nothing to a
/// FUSE server, and its mount, found by the id the kernel gives the
/// descriptor, is judged before anything is asked of it: entering a mount
/// a user made is refused, and no stat of it can hang. The mount table
/// and libmount's record are read at the first mount judged.
pub struct Mounts {
    table: std::cell::OnceCell<Result<Known, String>>,
}

/// The mount table, and who libmount made mounts for (by mount id).
type Known = (Vec<Mount>, Vec<(u64, String)>);

/// Where a descriptor is: its mount's id where procfs answers (otherwise
/// `None`: then only a change of device tells a mount crossed, and that
/// cannot be judged), and its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    mount: Option<u64>,
    device: u64,
}

impl Mounts {
    fn new() -> Mounts {
        Mounts {
            table: std::cell::OnceCell::new(),
        }
    }

    fn read() -> Result<Known, String> {
        let table = parse_mountinfo(&read_proc("/proc/self/mountinfo")?);
        let utab = match std::fs::read(UTAB) {
            Ok(text) => parse_utab(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("{UTAB}: {}", crate::base::error::io_text(&e))),
        };
        Ok((table, utab))
    }

    /// Judge the mount `fd` is on, before anything is asked of what it
    /// refers to, unless it is `parent`'s (`None`: nothing reached before).
    fn judge(
        &self,
        fd: &impl AsRawFd,
        parent: Option<&Place>,
        shown: &Path,
    ) -> Result<Option<u64>, Problem> {
        let unknown = |why: String| Problem::MountUnknown {
            point: shown.to_owned(),
            why,
        };
        let Ok(id) = mount_id(fd.as_raw_fd()) else {
            // No procfs: `place` tells a crossing by the device, and
            // refuses it.
            return Ok(None);
        };
        if parent.is_some_and(|p| p.mount == Some(id)) {
            return Ok(Some(id));
        }
        let verdict = |(table, utab): &Known| {
            let mount = table.iter().find(|m| m.id == id)?;
            Some(match made_by_user(mount, utab) {
                Some(problem) => Err(problem),
                None => Ok(Some(id)),
            })
        };
        let known = self
            .table
            .get_or_init(Mounts::read)
            .as_ref()
            .map_err(|why| unknown(why.clone()))?;
        match verdict(known) {
            Some(outcome) => outcome,
            // Mounted since the table was read.
            None => Mounts::read().map_err(unknown).and_then(|fresh| {
                verdict(&fresh).unwrap_or_else(|| {
                    Err(unknown(format!(
                        "mount {id} is not in /proc/self/mountinfo"
                    )))
                })
            }),
        }
    }

    /// Judge `fd`'s mount, then stat it: where it is, and its status.
    fn place(
        &self,
        fd: &OwnedFd,
        parent: Option<&Place>,
        shown: &Path,
    ) -> Result<(Place, FileStat), Problem> {
        let mount = self.judge(fd, parent, shown)?;
        let stat = fstat(fd).map_err(|errno| Problem::Io {
            at: shown.to_owned(),
            errno,
        })?;
        if mount.is_none()
            && let Some(parent) = parent
            && parent.device != stat.st_dev
        {
            return Err(Problem::MountUnknown {
                point: shown.to_owned(),
                why: "there is no procfs at /proc to tell who mounted it".into(),
            });
        }
        Ok((
            Place {
                mount,
                device: stat.st_dev,
            },
            stat,
        ))
    }
}

/// A file of /proc, after making sure it comes from procfs (a file system
/// mounted over /proc could say anything).
fn read_proc(path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| format!("{path}: {}", crate::base::error::io_text(&e)))?;
    let fs = nix::sys::statfs::fstatfs(&file)
        .map_err(|e| format!("fstatfs({path}): {}", crate::sys::errno_text(e)))?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(format!("{path} is not on procfs"));
    }
    let mut text = Vec::new();
    file.read_to_end(&mut text)
        .map_err(|e| format!("{path}: {}", crate::base::error::io_text(&e)))?;
    Ok(text)
}

/// The id of the mount a descriptor is on (`mnt_id` in /proc/self/fdinfo).
fn mount_id(fd: RawFd) -> Result<u64, String> {
    let path = format!("/proc/self/fdinfo/{fd}");
    let text = read_proc(&path)?;
    text.split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"mnt_id:"))
        .and_then(|id| std::str::from_utf8(id).ok()?.trim().parse().ok())
        .ok_or_else(|| format!("{path} gives no mount id"))
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
    /// Where the directory is: an entry elsewhere is a mount point.
    place: Place,
    mounts: Mounts,
}

impl Parent {
    /// The full name of the last component, for messages.
    pub fn entry(&self) -> PathBuf {
        self.path.join(&self.name)
    }

    fn io(&self) -> impl Fn(Errno) -> Problem + '_ {
        move |errno| Problem::Io {
            at: self.entry(),
            errno,
        }
    }

    /// The last component without following a link, its mount judged
    /// before it is looked at (a mount point there must not be a user's);
    /// `None` if it does not exist.
    fn reach(&self) -> Result<Option<(OwnedFd, FileStat)>, Problem> {
        let fd = match nix::fcntl::openat(
            &self.dir,
            self.name.as_os_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(errno) => return Err(self.io()(errno)),
        };
        let (_, stat) = self.mounts.place(&fd, Some(&self.place), &self.entry())?;
        Ok(Some((fd, stat)))
    }

    /// lstat of the last component, as `reach` finds it; `None` if it does
    /// not exist.
    pub fn lstat(&self) -> Result<Option<FileStat>, Problem> {
        Ok(self.reach()?.map(|(_, stat)| stat))
    }

    /// Open the last component relative to the directory, never following
    /// a link there, never blocking (a FIFO, a device), never acquiring a
    /// terminal; its mount judged as `reach` does.
    pub fn open(&self, flags: OFlag, mode: u32) -> Result<OwnedFd, Problem> {
        let flags =
            flags | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::openat(
            &self.dir,
            self.name.as_os_str(),
            flags,
            Mode::from_bits_truncate(mode),
        )
        .map_err(|errno| match errno {
            Errno::ELOOP => Problem::Symlink,
            // O_NONBLOCK write-open of a FIFO without a reader.
            Errno::ENXIO => Problem::NotRegular("a FIFO or a device"),
            errno => self.io()(errno),
        })?;
        self.mounts.place(&fd, Some(&self.place), &self.entry())?;
        Ok(fd)
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
            let stat = fstat(&fd).map_err(self.io())?;
            self.check_shared_entry(&stat)?;
            check(&stat)?;
            return Ok((fd, stat));
        }
        Err(self.io()(Errno::EEXIST))
    }

    /// The checks for an entry of root's sticky shared directory: root's,
    /// and no mount point at all (root's own mount there would not be
    /// expected either).
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
        if stat.st_dev != self.place.device {
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

/// An entry reached with O_PATH, without following a link: a directory to
/// go on from, a link to read, or anything else. Nothing is asked of a
/// FUSE server by the open.
fn open_entry(at: impl AsFd, name: &OsStr, shown: &Path) -> Result<OwnedFd, Problem> {
    nix::fcntl::openat(
        at,
        name,
        OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| Problem::Io {
        at: shown.to_owned(),
        errno,
    })
}

/// `/`, its mount judged.
fn open_root(mounts: &Mounts) -> Result<(OwnedFd, Place, FileStat), Problem> {
    let root = Path::new("/");
    let fd = open_entry(nix::fcntl::AT_FDCWD, OsStr::new("/"), root)?;
    let (place, stat) = mounts.place(&fd, None, root)?;
    Ok((fd, place, stat))
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
    let mounts = Mounts::new();
    let (mut dir, mut place, root_stat) = open_root(&mounts)?;
    let mut shown = PathBuf::from("/");
    let mut shared = check_directory(&root_stat, &shown)?;
    let mut links = 0;
    while let Some(component) = queue.pop_front() {
        if component == ".." {
            shown.pop();
            let up = open_entry(&dir, OsStr::new(".."), &shown)?;
            let (up_place, stat) = mounts.place(&up, Some(&place), &shown)?;
            shared = check_directory(&stat, &shown)?;
            (dir, place) = (up, up_place);
            continue;
        }
        let next = shown.join(&component);
        let fd = open_entry(&dir, &component, &next)?;
        let (next_place, stat) = mounts.place(&fd, Some(&place), &next)?;
        if shared && stat.st_uid != 0 {
            return Err(Problem::SharedEntryOwner {
                entry: next,
                uid: stat.st_uid,
            });
        }
        if shared && next_place.device != place.device {
            return Err(Problem::SharedEntryMount(next));
        }
        if is_type(&stat, SFlag::S_IFLNK) {
            // Made by root: the directory holding it passed the rule.
            links += 1;
            if links > MAX_LINKS {
                return Err(Problem::TooManyLinks);
            }
            let target =
                nix::fcntl::readlinkat(&fd, OsStr::new("")).map_err(|errno| Problem::Io {
                    at: next.clone(),
                    errno,
                })?;
            let target = target.as_bytes();
            for part in components(target).collect::<Vec<_>>().into_iter().rev() {
                queue.push_front(part);
            }
            if target.starts_with(b"/") {
                let (root, root_place, stat) = open_root(&mounts)?;
                shown = PathBuf::from("/");
                shared = check_directory(&stat, &shown)?;
                (dir, place) = (root, root_place);
            }
            continue;
        }
        if !is_type(&stat, SFlag::S_IFDIR) {
            return Err(Problem::NotADirectory(next));
        }
        shared = check_directory(&stat, &next)?;
        (dir, place) = (fd, next_place);
        shown = next;
    }
    Ok(Parent {
        dir,
        path: shown,
        name,
        shared,
        place,
        mounts,
    })
}

/// The group owning `path`, for --add-group-of: the file itself, never
/// what a link in its place points to.
pub fn group_of(path: &Path) -> Result<u32, Problem> {
    let stripped = strip_trailing_slashes(path);
    if stripped.as_os_str().as_bytes() == b"/" {
        let (_, _, stat) = open_root(&Mounts::new())?;
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
pub fn read_source_dir(
    path: &Path,
    as_root: bool,
    classify: fn(&[u8]) -> super::EntryName,
) -> Result<Vec<(OsString, Vec<u8>)>, Problem> {
    let stripped = strip_trailing_slashes(path);
    let io = |at: &Path| {
        let at = at.to_owned();
        move |errno| Problem::Io { at, errno }
    };
    // As root: the judge of mounts and where the directory is, against
    // which an entry elsewhere is a mount point to judge.
    let (dir, shown, mounts) = if as_root {
        let parent = walk(&stripped)?;
        if parent
            .lstat()?
            .is_some_and(|stat| is_type(&stat, SFlag::S_IFLNK))
        {
            return Err(Problem::Symlink);
        }
        let dir = parent.open(OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)?;
        let (place, stat) = parent
            .mounts
            .place(&dir, Some(&parent.place), &parent.entry())?;
        parent.check_shared_entry(&stat)?;
        if check_directory(&stat, &parent.entry())? {
            return Err(Problem::DirectoryWritable {
                dir: parent.entry(),
                mode: stat.st_mode & 0o7777,
            });
        }
        let shown = parent.entry();
        (dir, shown, Some((parent.mounts, place)))
    } else {
        let dir = nix::fcntl::open(
            stripped.as_path(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io(&stripped))?;
        (dir, stripped.clone(), None)
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
        match classify(name.as_bytes()) {
            super::EntryName::Skip => {}
            super::EntryName::Invalid(why) => {
                return Err(Problem::BadEntryName(name, why));
            }
            super::EntryName::Ok => names.push(name),
        }
    }
    names.sort();
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let at = shown.join(&name);
        let bytes =
            read_entry(&dir, &name, &at, mounts.as_ref()).map_err(|problem| Problem::Entry {
                name: name.clone(),
                problem: Box::new(problem),
            })?;
        entries.push((name, bytes));
    }
    Ok(entries)
}

/// One file of an --envdir; `as_root`: the judge of mounts and where the
/// directory is (see read_source_dir). As root, the entry is reached and
/// judged (`open_entry`, `Mounts::place`) before it is opened, then checked
/// again as opened.
fn read_entry(
    dir: &OwnedFd,
    name: &OsStr,
    at: &Path,
    as_root: Option<&(Mounts, Place)>,
) -> Result<Vec<u8>, Problem> {
    let io = |errno| Problem::Io {
        at: at.to_owned(),
        errno,
    };
    let fd = if let Some((mounts, place)) = as_root {
        let reached = open_entry(dir, name, at)?;
        let (_, seen) = mounts.place(&reached, Some(place), at)?;
        check_roots_alone(&seen)?;
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
        if (stat.st_dev, stat.st_ino) != (seen.st_dev, seen.st_ino) {
            return Err(io(Errno::EAGAIN));
        }
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

    /// Lines as Linux 6.x writes them, a FUSE mount by uid 1500 among them,
    /// and a mount point that is not UTF-8 (any user can make one).
    const MOUNTINFO: &[u8] = b"46 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
69 46 0:40 / /var/lib/app rw,nosuid,nodev,relatime shared:7 - fuse.liar liar rw,user_id=1500,group_id=1500,allow_other\n\
70 46 0:41 / /srv/root\\040fuse rw,relatime - fuse.sshfs host:/ rw,user_id=0,group_id=0,allow_other\n\
71 46 0:42 / /media/stick rw,nosuid,nodev - vfat /dev/sdb1 rw,uid=1500\n\
72 46 0:43 / /mnt/odd rw - fuse odd rw,allow_other\n\
73 46 0:44 / /home/u/\xff rw - fuseblk.ntfs /dev/sdc1 rw,user_id=1500\n\
74 46 0:45 / /media/u/USB rw - fuseblk /dev/sdd1 rw,user_id=0,allow_other\n";

    #[test]
    fn who_mounted_a_file_system_is_read_from_the_mount_table_and_utab() {
        let table = parse_mountinfo(MOUNTINFO);
        assert_eq!(table.len(), 7, "a line that is not UTF-8 is read too");
        assert_eq!(table[2].point, Path::new("/srv/root fuse"));
        assert_eq!(table[1].fstype, b"fuse.liar");
        assert_eq!(table[5].point.as_os_str().as_bytes(), b"/home/u/\xff");
        let utab = parse_utab(
            b"ID=71 SRC=/dev/sdb1 TARGET=/media/stick ROOT=/ OPTS=user=alice\nID=74 SRC=/dev/sdd1 TARGET=/media/u/USB ROOT=/ OPTS=uhelper=udisks2\n",
        );
        let by = |i: usize| match made_by_user(&table[i], &utab) {
            Some(Problem::UserMount { by, kind, .. }) => Some((by, kind)),
            Some(other) => panic!("{other:?}"),
            None => None,
        };
        assert_eq!(by(0), None, "the root file system");
        assert_eq!(by(1), Some(("uid 1500".into(), "a FUSE file system")));
        assert_eq!(by(2), None, "a FUSE file system root mounted");
        assert_eq!(
            by(3),
            Some((
                "user \"alice\" (fstab's user option)".into(),
                "a file system"
            ))
        );
        assert_eq!(
            by(4),
            Some(("an unknown user".into(), "a FUSE file system"))
        );
        assert_eq!(
            by(5),
            Some(("uid 1500".into(), "a FUSE file system")),
            "fuseblk.X"
        );
        // udisks mounts as root for a user: utab says so, user_id=0 or not.
        assert_eq!(
            by(6),
            Some(("a user, through \"udisks2\"".into(), "a FUSE file system"))
        );
    }

    #[test]
    fn mountinfo_escapes_are_undone_and_nothing_else() {
        assert_eq!(
            unescape_octal(b"a\\040b\\011c\\012d\\134e"),
            b"a b\tc\nd\\e"
        );
        assert_eq!(unescape_octal(b"\\0"), b"\\0");
        assert_eq!(
            unescape_octal(b"\\777x"),
            b"\\777x",
            "not a byte: kept as is"
        );
        assert_eq!(unescape_octal(b"\xff\\040"), b"\xff ");
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
