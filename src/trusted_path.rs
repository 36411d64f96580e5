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

/// One mount, as /proc/self/mountinfo lists it: the fields runas uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    id: u64,
    point: PathBuf,
    /// `fuse`, `fuse.sshfs`, `fuseblk`, `ext4`...
    fstype: String,
    /// The super block's options (FUSE's `user_id=1500`).
    options: String,
}

/// mountinfo's escapes: `\040` for a space, `\011`, `\012`, `\134`.
fn unescape_octal(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// The mounts of a mountinfo text (proc(5)): `ID PARENT MAJ:MIN ROOT POINT
/// OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`.
fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|&f| f == "-")?;
            Some(Mount {
                id: fields.first()?.parse().ok()?,
                point: unescape_octal(fields.get(4)?),
                fstype: (*fields.get(dash + 1)?).to_owned(),
                options: (*fields.get(dash + 3).unwrap_or(&"")).to_owned(),
            })
        })
        .collect()
}

/// The mounts libmount made for a user (/run/mount/utab: `user=NAME` from
/// fstab's user and users options, `uhelper=udisks2` for udisks), by id.
fn parse_utab(text: &str) -> Vec<(u64, String)> {
    text.lines()
        .filter_map(|line| {
            let mut id = None;
            let mut by = None;
            for field in line.split(' ') {
                if let Some(value) = field.strip_prefix("ID=") {
                    id = value.parse().ok();
                } else if let Some(options) = field.strip_prefix("OPTS=") {
                    by = options.split(',').find_map(|option| {
                        if let Some(user) = option.strip_prefix("user=") {
                            Some(format!(
                                "user {} (fstab's user option)",
                                crate::quote::quote(user)
                            ))
                        } else {
                            option.strip_prefix("uhelper=").map(|helper| {
                                format!("a user, through {}", crate::quote::quote(helper))
                            })
                        }
                    });
                }
            }
            Some((id?, by?))
        })
        .collect()
}

fn is_fuse(fstype: &str) -> bool {
    fstype == "fuse" || fstype == "fuseblk" || fstype.starts_with("fuse.")
}

/// Where libmount records the mounts it made for users.
const UTAB: &str = "/run/mount/utab";

/// The mount table, read when a walk starts: which file systems a user
/// mounted, so that root never takes their word for who owns what. A FUSE
/// server answers stat itself (any owner, any mode, one link); a file
/// system a user mounted through fstab's `user` option holds what the user
/// wrote to it elsewhere.
pub struct Mounts {
    table: Result<Vec<Mount>, String>,
    user_made: Vec<(u64, String)>,
}

impl Mounts {
    pub fn read() -> Mounts {
        Mounts {
            table: read_proc_text("/proc/self/mountinfo").map(|text| parse_mountinfo(&text)),
            user_made: std::fs::read_to_string(UTAB)
                .map(|text| parse_utab(&text))
                .unwrap_or_default(),
        }
    }

    /// Whether a user made this mount, and how to say so.
    fn made_by_user(&self, mount: &Mount) -> Option<Problem> {
        let problem = |by: String, kind| Problem::UserMount {
            point: mount.point.clone(),
            by,
            kind,
        };
        if is_fuse(&mount.fstype) {
            let owner = mount
                .options
                .split(',')
                .find_map(|o| o.strip_prefix("user_id="))
                .and_then(|uid| uid.parse::<u32>().ok());
            return match owner {
                Some(0) => None,
                Some(uid) => Some(problem(format!("uid {uid}"), "a FUSE file system")),
                None => Some(problem("an unknown user".into(), "a FUSE file system")),
            };
        }
        self.user_made
            .iter()
            .find(|(id, _)| *id == mount.id)
            .map(|(_, by)| problem(by.clone(), "a file system"))
    }

    /// A mount a user made whose mount point is `path`: refused before
    /// root so much as stats it (a FUSE server may never answer).
    fn user_mount_at(&self, path: &Path) -> Result<(), Problem> {
        let Ok(table) = &self.table else {
            return Ok(());
        };
        match table
            .iter()
            .filter(|m| m.point == path)
            .find_map(|m| self.made_by_user(m))
        {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// The checks for a descriptor on another file system than the
    /// directory it was reached from (a mount crossed): its mount, found
    /// by the id the kernel gives the descriptor, must not be a user's.
    fn check_crossing(&self, fd: &impl AsRawFd, shown: &Path) -> Result<(), Problem> {
        let unknown = |why: String| Problem::MountUnknown {
            point: shown.to_owned(),
            why,
        };
        let id = mount_id(fd.as_raw_fd()).map_err(unknown)?;
        let verdict = |mounts: &Mounts| -> Option<Result<(), Problem>> {
            let table = match &mounts.table {
                Ok(table) => table,
                Err(why) => return Some(Err(unknown(why.clone()))),
            };
            let mount = table.iter().find(|m| m.id == id)?;
            Some(match mounts.made_by_user(mount) {
                Some(problem) => Err(problem),
                None => Ok(()),
            })
        };
        verdict(self)
            // Mounted since the walk began: read the table again.
            .or_else(|| verdict(&Mounts::read()))
            .unwrap_or_else(|| {
                Err(unknown(format!(
                    "mount {id} is not in /proc/self/mountinfo"
                )))
            })
    }
}

/// A text of /proc, after making sure it comes from procfs (a file system
/// mounted over /proc could say anything).
fn read_proc_text(path: &str) -> Result<String, String> {
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("{path}: {}", crate::error::io_text(&e)))?;
    let fs = nix::sys::statfs::fstatfs(&file)
        .map_err(|e| format!("fstatfs({path}): {}", crate::sys::errno_text(e)))?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(format!("{path} is not on procfs"));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("{path}: {}", crate::error::io_text(&e)))?;
    Ok(text)
}

/// The id of the mount a descriptor is on (`mnt_id` in /proc/self/fdinfo).
fn mount_id(fd: RawFd) -> Result<u64, String> {
    let path = format!("/proc/self/fdinfo/{fd}");
    read_proc_text(&path)?
        .lines()
        .find_map(|line| line.strip_prefix("mnt_id:"))
        .and_then(|id| id.trim().parse().ok())
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
    /// The directory's device, which an entry of a shared one must share.
    device: u64,
    /// The mount table: an entry on another device is a mount point.
    mounts: Mounts,
}

impl Parent {
    /// The full name of the last component, for messages.
    pub fn entry(&self) -> PathBuf {
        self.path.join(&self.name)
    }

    /// lstat of the last component; `None` if it does not exist. A mount
    /// point there must not be a user's: refused by its path before the
    /// stat (a FUSE server may never answer), and checked by its mount id
    /// after.
    pub fn lstat(&self) -> Result<Option<FileStat>, Problem> {
        self.mounts.user_mount_at(&self.entry())?;
        let stat = match fstatat(
            &self.dir,
            self.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(stat) => stat,
            Err(Errno::ENOENT) => return Ok(None),
            Err(errno) => {
                return Err(Problem::Io {
                    at: self.entry(),
                    errno,
                });
            }
        };
        if stat.st_dev != self.device {
            let fd = nix::fcntl::openat(
                &self.dir,
                self.name.as_os_str(),
                OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|errno| Problem::Io {
                at: self.entry(),
                errno,
            })?;
            self.check_mounted(&fd)?;
        }
        Ok(Some(stat))
    }

    /// An opened entry on another file system than its directory is a
    /// mount point: not a user's.
    fn check_mounted(&self, fd: &OwnedFd) -> Result<(), Problem> {
        let stat = fstat(fd).map_err(|errno| Problem::Io {
            at: self.entry(),
            errno,
        })?;
        if stat.st_dev == self.device {
            return Ok(());
        }
        self.mounts.check_crossing(fd, &self.entry())
    }

    /// Open the last component relative to the directory, never following
    /// a link there, never blocking (a FIFO, a device), never acquiring a
    /// terminal.
    pub fn open(&self, flags: OFlag, mode: u32) -> Result<OwnedFd, Problem> {
        self.mounts.user_mount_at(&self.entry())?;
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
            errno => Problem::Io {
                at: self.entry(),
                errno,
            },
        })?;
        self.check_mounted(&fd)?;
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
    let mounts = Mounts::read();
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
            if stat.st_dev != device {
                mounts.check_crossing(&up, &shown)?;
            }
            shared = check_directory(&stat, &shown)?;
            device = stat.st_dev;
            dir = up;
            continue;
        }
        let next = shown.join(&component);
        mounts.user_mount_at(&next)?;
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
        // A mount crossed: not one a user made, whose owners and modes
        // would be that user's word.
        if opened.st_dev != device {
            mounts.check_crossing(&child, &next)?;
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
        mounts,
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
    // As root: the mount table and the directory's device, against which
    // an entry on another file system is a mount point to check.
    let (dir, shown, mounts) = if as_root {
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
        let shown = parent.entry();
        (dir, shown, Some((parent.mounts, stat.st_dev)))
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
        let bytes =
            read_entry(&dir, &name, &at, mounts.as_ref()).map_err(|problem| Problem::Entry {
                name: name.clone(),
                problem: Box::new(problem),
            })?;
        entries.push((name, bytes));
    }
    Ok(entries)
}

/// One file of an --envdir; `as_root`: the mount table and the
/// directory's device (see read_source_dir).
fn read_entry(
    dir: &OwnedFd,
    name: &OsStr,
    at: &Path,
    as_root: Option<&(Mounts, u64)>,
) -> Result<Vec<u8>, Problem> {
    let io = |errno| Problem::Io {
        at: at.to_owned(),
        errno,
    };
    let fd = if let Some((mounts, device)) = as_root {
        mounts.user_mount_at(at)?;
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
        if stat.st_dev != *device {
            mounts.check_crossing(&fd, at)?;
        }
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

    /// Lines as Linux 6.x wrote them, a FUSE mount by uid 1500 among them.
    const MOUNTINFO: &str = "46 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
69 46 0:40 / /var/lib/app rw,nosuid,nodev,relatime shared:7 - fuse.liar liar rw,user_id=1500,group_id=1500,allow_other\n\
70 46 0:41 / /srv/root\\040fuse rw,relatime - fuse.sshfs host:/ rw,user_id=0,group_id=0,allow_other\n\
71 46 0:42 / /media/stick rw,nosuid,nodev - vfat /dev/sdb1 rw,uid=1500\n\
72 46 0:43 / /mnt/odd rw - fuse odd rw,allow_other\n";

    #[test]
    fn the_mount_table_says_who_mounted_a_fuse_file_system() {
        let table = parse_mountinfo(MOUNTINFO);
        assert_eq!(table.len(), 5);
        assert_eq!(table[2].point, Path::new("/srv/root fuse"));
        assert_eq!(table[1].fstype, "fuse.liar");
        let mounts = Mounts {
            table: Ok(table.clone()),
            user_made: parse_utab(
                "ID=71 SRC=/dev/sdb1 TARGET=/media/stick ROOT=/ OPTS=user=alice\n",
            ),
        };
        let by = |i: usize| match mounts.made_by_user(&table[i]) {
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
        // By path, before any stat: only a user's mount point.
        assert!(mounts.user_mount_at(Path::new("/var/lib/app")).is_err());
        assert!(mounts.user_mount_at(Path::new("/var/lib/app/x")).is_ok());
        assert!(mounts.user_mount_at(Path::new("/srv/root fuse")).is_ok());
        assert!(mounts.user_mount_at(Path::new("/media/stick")).is_err());
    }

    #[test]
    fn udisks_mounts_are_a_users() {
        let utab = parse_utab(
            "ID=80 SRC=/dev/sdc1 TARGET=/media/alice/USB ROOT=/ OPTS=uhelper=udisks2\nID=81 SRC=x TARGET=/y ROOT=/\n",
        );
        assert_eq!(utab.len(), 1);
        assert_eq!(utab[0].0, 80);
        assert!(utab[0].1.contains("udisks2"), "{utab:?}");
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
