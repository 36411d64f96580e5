//! /etc/passwd and /etc/group, read as glibc's files backend reads them,
//! or refused.
//!
//! The static (musl) build reads the account files itself, and the shipped
//! Dockerfile puts it into glibc images, where `id`, `su`, `useradd` and
//! runas must agree on who a user is. musl's own reader disagrees with
//! glibc in dangerous ways (an empty uid field is uid 0; a commented-out or
//! indented line is a live entry), and its lookups cost a probe of the nscd
//! socket and page mappings per call. This reader opens each file once per
//! run (and reads a small one once; a large one again at each lookup, a
//! window at a time: `Text`) and gives, for every lookup, exactly glibc's
//! answer or a refusal
//! naming the line; never another uid or gid, never a group glibc does not
//! give, never fewer groups, never an entry where glibc finds none.
//!
//! glibc's rules (glibc 2.36 as Debian ships it: nss/nss_readline.c,
//! nss/nss_files/files-parse.c, pwd/fgetpwent_r.c, grp/fgetgrent_r.c,
//! nss/nss_files/files-initgroups.c), and what this reader does with each:
//!
//! - getpwnam, getpwuid, getgrnam, getgrgid strip leading white space (C
//!   locale), skip blank lines and lines then starting with `#`, cut a line
//!   at its first NUL, skip lines that do not parse, skip names starting
//!   with `+` or `-` (NIS compat lines), and take the first match.
//! - getgrouplist (initgroups) reads the *raw* lines: no stripping, no
//!   comment or NIS skipping. A `#wheel:x:10:app` line gives app group 10.
//! - Numbers are read with strtoul: leading white space, a sign and leading
//!   zeros are accepted, trailing characters invalidate the line; Debian
//!   refuses values above 4294967295, upstream clamps them.
//! - `\r` is data (a CRLF file gives the shell `/bin/sh\r`); a member list
//!   is split on `,`, leading white space of each member skipped, trailing
//!   white space kept, empty members dropped.
//!
//! This reader accepts only *canonical* lines where a line could matter:
//! no leading white space, no NUL, no `\r`, all fields present, ids as
//! plain decimal numbers without leading zeros from 0 to 4294967294, no
//! white space in a member list, a name that is not a NIS compat line. On
//! a canonical line both readers agree by construction. A line that is not
//! canonical is refused if glibc might read it as the entry asked for: the
//! same name, a uid field that might be the uid asked for, a member list
//! that might list the user; otherwise it cannot change glibc's answer and
//! is passed over as glibc passes it over. In particular a commented-out
//! or NIS group line that lists the user is refused, not taken as a
//! comment: glibc's getgrouplist counts it, and running with fewer groups
//! than the C library gives is never right (a lost group can grant access
//! through deny-by-group permissions).

use crate::request::ids::MAX_ID;
use nix::errno::Errno;

/// The account files, as the system calls take them (a `&str` would be
/// copied into a 1 KiB stack buffer first, at the deepest point of a run)...
pub const PASSWD_PATH: &std::ffi::CStr = c"/etc/passwd";
pub const GROUP_PATH: &std::ffi::CStr = c"/etc/group";
/// ...and as messages name them.
pub const PASSWD: &str = text_of(PASSWD_PATH);
pub const GROUP: &str = text_of(GROUP_PATH);

const fn text_of(path: &'static std::ffi::CStr) -> &'static str {
    match path.to_str() {
        Ok(text) => text,
        Err(_) => panic!("an account file's path is not UTF-8"),
    }
}

/// Why an entry could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub file: &'static str,
    /// 1-based.
    pub line: usize,
    pub why: &'static str,
}

impl Malformed {
    /// Found in a piece of the file that `lines` lines come before.
    pub fn after(self, lines: usize) -> Malformed {
        Malformed {
            line: self.line + lines,
            ..self
        }
    }
}

/// A passwd entry, borrowed from the file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    pub name: &'a [u8],
    pub uid: u32,
    pub gid: u32,
    pub home: &'a [u8],
    pub shell: &'a [u8],
}

/// A group entry, borrowed from the file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry<'a> {
    pub name: &'a [u8],
    pub gid: u32,
    /// The member list, as written: comma-separated, no white space around
    /// a name.
    pub members: &'a [u8],
}

impl GroupEntry<'_> {
    /// Whether `user` is a member (empty items are not members, as glibc
    /// drops them).
    pub fn lists(&self, user: &[u8]) -> bool {
        self.members
            .split(|&b| b == b',')
            .any(|member| !member.is_empty() && member == user)
    }
}

/// An account file's contents: read whole, or for a large file kept open
/// and read again, a window at a time, at each lookup, so that the memory
/// a run takes does not grow with the file (a million users' /etc/passwd is
/// 60 MB).
pub enum Text {
    /// A file smaller than `LARGE` (1 MiB), read whole once.
    Whole(Vec<u8>),
    /// A file of `LARGE` bytes or more, read in windows of `window`
    /// bytes (`WINDOW`, 256 KiB; smaller in the unit tests).
    Large {
        fd: std::os::fd::OwnedFd,
        window: usize,
    },
}

/// From this size on, a file is read in windows.
const LARGE: usize = 1 << 20;

/// The size of a window (grown only to hold a line longer than itself).
/// At a million users (a 47 MB /etc/passwd, an 18 MB /etc/group), 256 KiB
/// was 4% faster than 1 MiB (fewer pages to fault in: 212 faults a run
/// against 594) and 2-6% faster than 128 KiB (fewer reads), in three
/// interleaved runs each.
const WINDOW: usize = 256 << 10;

impl Text {
    /// Calls `look` with the text in pieces of whole lines, in file order,
    /// each with its offset in the file, until `look` answers: the whole
    /// text at once, or for a large file one window after another, read
    /// with pread(2) from its start (the file offset is never moved, so
    /// every lookup reads the same open file from the beginning). A lookup
    /// that goes line by line answers over the pieces what it would over
    /// the whole text: no line is ever split between two pieces (of a file
    /// that does not change while it is read: one replaced by rename, as
    /// useradd and vipw do, is not seen, the descriptor keeping the old
    /// file; one rewritten in place during a lookup may be read half old,
    /// half new, as a single read(2) of it could be).
    pub fn scan<T>(&self, look: impl FnMut(&[u8], u64) -> Option<T>) -> Result<Option<T>, Errno> {
        use std::os::fd::AsFd;
        match self {
            Text::Whole(bytes) => Ok({ look }(bytes, 0)),
            Text::Large { fd, window } => scan_windows(fd.as_fd(), *window, look),
        }
    }

    /// How many lines come before `offset`, for a message that numbers a
    /// line found in a piece that starts there (counted only then: a scan
    /// that counted every piece's newlines would cost a large file's
    /// lookups a quarter of their time).
    pub fn lines_before(&self, offset: u64) -> Result<usize, Errno> {
        let mut lines = 0;
        // The whole file, on a path taken only for a message: pieces past
        // the offset count nothing.
        self.scan(|piece, at| {
            let rest = offset.saturating_sub(at);
            let end = usize::try_from(rest).map_or(piece.len(), |rest| rest.min(piece.len()));
            lines += piece[..end].iter().filter(|&&b| b == b'\n').count();
            None::<()>
        })?;
        Ok(lines)
    }
}

/// [`Text::scan`] of an open file, in windows of `window` bytes.
fn scan_windows<T>(
    fd: std::os::fd::BorrowedFd<'_>,
    window: usize,
    mut look: impl FnMut(&[u8], u64) -> Option<T>,
) -> Result<Option<T>, Errno> {
    let mut buffer = vec![0u8; window];
    // buffer[..filled] is the file from `at` on.
    let (mut filled, mut at) = (0, 0u64);
    loop {
        if filled == buffer.len() {
            // No newline in a whole window: one line longer than it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let offset = i64::try_from(at + filled as u64).map_err(|_| Errno::EOVERFLOW)?;
        let n = match nix::sys::uio::pread(fd, &mut buffer[filled..], offset) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        };
        filled += n;
        // The whole lines read so far; at the end of the file, the rest.
        let end = if n == 0 {
            filled
        } else {
            match buffer[..filled].iter().rposition(|&b| b == b'\n') {
                Some(newline) => newline + 1,
                None => continue,
            }
        };
        if let Some(found) = look(&buffer[..end], at) {
            return Ok(Some(found));
        }
        if n == 0 {
            return Ok(None);
        }
        buffer.copy_within(end..filled, 0);
        filled -= end;
        at += end as u64;
    }
}

/// An account file's contents; a missing file reads as empty, as both C
/// libraries treat it ("no entries"), any other failure is an error.
pub fn read(path: &std::ffi::CStr) -> Result<Text, Errno> {
    let (fd, size) = match open(path) {
        Ok(opened) => opened,
        Err(Errno::ENOENT | Errno::ENOTDIR) => return Ok(Text::Whole(Vec::new())),
        Err(errno) => return Err(errno),
    };
    if size >= LARGE {
        return Ok(Text::Large { fd, window: WINDOW });
    }
    read_fd(&fd, size).map(Text::Whole)
}

/// One open (at: musl's open adds an fcntl for O_CLOEXEC) for reading,
/// and the size fstat gives.
fn open(path: &std::ffi::CStr) -> Result<(std::os::fd::OwnedFd, usize), Errno> {
    use nix::fcntl::{AT_FDCWD, OFlag, openat};
    let fd = openat(
        AT_FDCWD,
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
        nix::sys::stat::Mode::empty(),
    )?;
    let size = usize::try_from(nix::sys::stat::fstat(&fd)?.st_size).unwrap_or(0);
    Ok((fd, size))
}

/// A file read whole, in as few system calls as it takes (openat, fstat,
/// one read); a missing file is ENOENT.
pub fn read_whole(path: &std::ffi::CStr) -> Result<Vec<u8>, Errno> {
    let (fd, size) = open(path)?;
    read_fd(&fd, size)
}

/// All of `fd`, whose fstat gave `size`.
fn read_fd(fd: &std::os::fd::OwnedFd, size: usize) -> Result<Vec<u8>, Errno> {
    // Room for one byte more than fstat said: a read that stops short at
    // exactly the announced size is the end of the file, without the
    // extra read that would return 0. A file whose size says 0 but that
    // has text (procfs, sysfs) is read a page at a time, not a byte (some
    // end the file at the first read past offset 0). (Not a page for
    // every file: the buffers are the allocation arena's largest blocks,
    // and each page of it touched is a page fault.)
    let mut bytes = vec![0u8; if size == 0 { 4096 } else { size + 1 }];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(len * 2, 0);
        }
        match nix::unistd::read(fd, &mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len == size && len < bytes.len() {
                    break;
                }
            }
            Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// isspace(3) in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// One physical line, without its newline.
#[derive(Clone, Copy)]
struct Line<'a> {
    /// The whole text the line is part of, for its number.
    text: &'a [u8],
    raw: &'a [u8],
}

impl Line<'_> {
    /// 1-based; counted when asked (for a message), not for every line.
    fn number(&self) -> usize {
        let start = self.raw.as_ptr() as usize - self.text.as_ptr() as usize;
        1 + self.text[..start].iter().filter(|&&b| b == b'\n').count()
    }
}

/// The physical lines of `text`, in order, each end found by sys::memchr
/// (a word at a time, where a split tests each byte).
fn lines(text: &[u8]) -> impl Iterator<Item = Line<'_>> {
    // A newline at the end of the file does not start another line.
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let mut rest = (!text.is_empty()).then_some(text);
    std::iter::from_fn(move || {
        let piece = rest?;
        let raw = match crate::sys::memchr(piece, b'\n') {
            Some(at) => {
                rest = Some(&piece[at + 1..]);
                &piece[..at]
            }
            None => {
                rest = None;
                piece
            }
        };
        Some(Line { text, raw })
    })
}

/// A line as glibc's lookups (getpwnam and friends) see it: cut at the
/// first NUL, leading white space stripped; `None` for a blank line or a
/// comment, which they skip.
fn lookup_view(raw: &[u8]) -> Option<&[u8]> {
    let c_string = raw.split(|&b| b == 0).next().unwrap_or(raw);
    let start = c_string.iter().position(|&b| !is_c_space(b))?;
    let view = &c_string[start..];
    (view[0] != b'#').then_some(view)
}

/// The `index`th `:`-separated field of a line, if it has one.
fn field(line: &[u8], index: usize) -> Option<&[u8]> {
    line.split(|&b| b == b':').nth(index)
}

/// A NIS compat entry (`+name`, `-name`, `+`, `+@netgroup`): glibc's
/// lookups never return it.
fn is_nis(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'+' | b'-'))
}

/// An id as runas writes it and as every reader reads it the same way:
/// ASCII digits, no leading zero, at most MAX_ID (4294967295 is "-1").
fn canonical_id(field: &[u8]) -> Option<u32> {
    if field.is_empty()
        || field.len() > 10
        || !field.iter().all(u8::is_ascii_digit)
        || (field.len() > 1 && field[0] == b'0')
    {
        return None;
    }
    let value = field
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    u32::try_from(value).ok().filter(|&id| id <= MAX_ID)
}

/// Whether some reader could take this id field for `id`: strtoul's
/// leading white space, sign and zeros, trailing junk, wrapping or clamping
/// of large values, musl's empty field as 0.
fn could_be(field: Option<&[u8]>, id: u32) -> bool {
    let Some(field) = field else {
        return false;
    };
    let start = field
        .iter()
        .position(|&b| !is_c_space(b))
        .unwrap_or(field.len());
    let mut rest = &field[start..];
    if let Some((&sign, after)) = rest.split_first()
        && (sign == b'+' || sign == b'-')
    {
        if sign == b'-' {
            // Negation is modular in strtoul: any value is possible.
            return true;
        }
        rest = after;
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return id == 0;
    }
    if digits > 10 {
        return true;
    }
    let value = rest[..digits]
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    value as u32 == id || value.min(u64::from(u32::MAX)) == u64::from(id)
}

/// What makes a line unusable for the entry it would be, in words.
fn common_checks(raw: &[u8]) -> Result<(), &'static str> {
    if raw.contains(&0) {
        return Err("it contains a NUL byte (the file is corrupt)");
    }
    if raw.contains(&b'\r') {
        return Err("it contains a carriage return (DOS line endings?)");
    }
    match raw.first() {
        Some(&b) if is_c_space(b) => Err("it starts with white space"),
        Some(b'#') => Err("it is commented out, but glibc's getgrouplist still reads it"),
        Some(b'+' | b'-') => Err("it is a NIS compat line, which the files backend does not use"),
        _ => Ok(()),
    }
}

/// A name is data to both readers once the line is canonical (other bytes
/// do not change how the line splits); only an empty one is refused.
fn check_name(name: &[u8]) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("its name is empty");
    }
    Ok(())
}

/// `name:password:uid:gid:gecos:home:shell`, canonical; the shell is the
/// rest of the line, colons included, as glibc reads it. Missing trailing
/// fields after the gid read as empty, as glibc reads them
/// (`svc:x:1001:1001` has no gecos, home or shell): container tooling's
/// own fixtures write such lines.
fn passwd_entry(raw: &[u8]) -> Result<PasswdEntry<'_>, &'static str> {
    common_checks(raw)?;
    let mut fields = raw.splitn(7, |&b| b == b':');
    let mut next = || fields.next();
    let (Some(name), Some(_password), Some(uid), Some(gid)) = (next(), next(), next(), next())
    else {
        return Err("it has fewer than 4 fields");
    };
    let (_gecos, home, shell) = (next(), next(), next());
    check_name(name)?;
    Ok(PasswdEntry {
        name,
        uid: canonical_id(uid)
            .ok_or("its uid is not a plain decimal number from 0 to 4294967294")?,
        gid: canonical_id(gid)
            .ok_or("its gid is not a plain decimal number from 0 to 4294967294")?,
        home: home.unwrap_or_default(),
        shell: shell.unwrap_or_default(),
    })
}

/// `name:password:gid:member,member,...`, canonical: a member may hold
/// white space inside its name (glibc splits on commas alone, and `sp ace`
/// is a member named so), but not around it (glibc skips white space
/// before a member and keeps it after; musl keeps both).
fn group_entry(raw: &[u8]) -> Result<GroupEntry<'_>, &'static str> {
    common_checks(raw)?;
    let mut fields = raw.splitn(4, |&b| b == b':');
    let (Some(name), Some(_password), Some(gid), Some(members)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err("it has fewer than 4 fields");
    };
    check_name(name)?;
    let padded = |member: &[u8]| {
        member.first().is_some_and(|&b| is_c_space(b))
            || member.last().is_some_and(|&b| is_c_space(b))
    };
    if members.split(|&b| b == b',').any(padded) {
        return Err("a member in its list has white space before or after the name");
    }
    Ok(GroupEntry {
        name,
        gid: canonical_id(gid)
            .ok_or("its gid is not a plain decimal number from 0 to 4294967294")?,
        members,
    })
}

/// The lines of `text` that contain `needle`, in file order, each once: a
/// line that does not contain a name can be neither its entry nor list it
/// as a member, so the others need not be looked at. (A 100,000-line file
/// is searched with memmem instead of split and parsed line by line; the
/// line number, for a message, is counted only when one is needed.)
fn lines_containing<'a, 'n>(
    text: &'a [u8],
    needle: &'n [u8],
) -> impl Iterator<Item = Line<'a>> + use<'a, 'n> {
    // As `lines`: a final newline does not start another line.
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let mut from = 0;
    std::iter::from_fn(move || {
        if needle.is_empty() || from > text.len() {
            return None;
        }
        let at = from + crate::sys::memmem(&text[from..], needle)?;
        let start = text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = text[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| at + i);
        from = end + 1;
        Some(Line {
            text,
            raw: &text[start..end],
        })
    })
}

/// The lines of `text` that start with `prefix` after their leading white
/// space, in file order: every line whose first field is a name starts
/// with that name (and the others need no closer look). A few instructions
/// a line (`lines` finds each end with memchr), where a search for the
/// name stops at each of its first byte's many occurrences.
fn lines_starting_with<'a, 'p>(
    text: &'a [u8],
    prefix: &'p [u8],
) -> impl Iterator<Item = Line<'a>> + use<'a, 'p> {
    lines(text).filter(move |line| {
        let start = line
            .raw
            .iter()
            .position(|&b| !is_c_space(b))
            .unwrap_or(line.raw.len());
        line.raw[start..].starts_with(prefix)
    })
}

fn malformed(file: &'static str, line: Line<'_>) -> impl FnOnce(&'static str) -> Malformed {
    move |why| Malformed {
        file,
        line: line.number(),
        why,
    }
}

/// The first entry named `name`, as getpwnam and getgrnam find it: a line
/// glibc reads as that name must be canonical, or it is refused.
fn by_name<'a, T>(
    text: &'a [u8],
    name: &str,
    file: &'static str,
    entry: fn(&'a [u8]) -> Result<T, &'static str>,
) -> Result<Option<T>, Malformed> {
    let name = name.as_bytes();
    if is_nis(name) {
        return Ok(None);
    }
    let named = |line: Line<'a>| {
        let view = lookup_view(line.raw)?;
        (field(view, 0) == Some(name)).then(|| entry(line.raw).map_err(malformed(file, line)))
    };
    // A file of an ordinary system's size line by line (the entry's name
    // starts its line, and is found in a few instructions a line); a large
    // one through memmem, which skips the lines without the name faster
    // than they can be split (docs/performance.md).
    if text.len() <= LINE_BY_LINE {
        lines_starting_with(text, name).find_map(named).transpose()
    } else {
        lines_containing(text, name).find_map(named).transpose()
    }
}

/// Up to this size, a lookup by name splits the text into lines.
const LINE_BY_LINE: usize = 64 * 1024;

/// The first entry with this id (third field), as getpwuid and getgrgid
/// find it: an earlier line that is not canonical but that some reader
/// might take for this id is refused.
fn by_id<'a, T>(
    text: &'a [u8],
    id: u32,
    file: &'static str,
    entry: fn(&'a [u8]) -> Result<T, &'static str>,
    id_of: fn(&T) -> u32,
) -> Result<Option<T>, Malformed> {
    for line in lines(text) {
        let Some(view) = lookup_view(line.raw) else {
            continue;
        };
        if field(view, 0).is_some_and(is_nis) {
            continue;
        }
        match entry(line.raw) {
            Ok(found) if id_of(&found) == id => return Ok(Some(found)),
            Ok(_) => {}
            Err(why) if could_be(field(view, 2), id) => return Err(malformed(file, line)(why)),
            Err(_) => {}
        }
    }
    Ok(None)
}

/// The entry named `name` (getpwnam).
pub fn user_by_name<'a>(text: &'a [u8], name: &str) -> Result<Option<PasswdEntry<'a>>, Malformed> {
    by_name(text, name, PASSWD, passwd_entry)
}

/// The first entry with this uid (getpwuid).
pub fn user_by_uid(text: &[u8], uid: u32) -> Result<Option<PasswdEntry<'_>>, Malformed> {
    by_id(text, uid, PASSWD, passwd_entry, |e| e.uid)
}

/// The group named `name` (getgrnam).
pub fn group_by_name<'a>(text: &'a [u8], name: &str) -> Result<Option<GroupEntry<'a>>, Malformed> {
    by_name(text, name, GROUP, group_entry)
}

/// The first group with this gid (getgrgid).
pub fn group_by_gid(text: &[u8], gid: u32) -> Result<Option<GroupEntry<'_>>, Malformed> {
    by_id(text, gid, GROUP, group_entry, |e| e.gid)
}

/// What `group_by_gid` decides for one gid: nothing yet (`None`), or its
/// name, or no name where a line that might be it was refused.
pub type Decided = Option<Option<Vec<u8>>>;

/// The names of many gids in one pass over the file, for display (--dry-run
/// and --dump of a user in thousands of groups), where one lookup per gid
/// would read the file once per gid. Called on each piece of the file in
/// order: `wanted` is sorted without duplicates, `decided` holds a slot per
/// gid of it, which the first line that decides it fills in, as
/// `group_by_gid` would. Returns whether every gid is decided.
pub fn decide_group_names(text: &[u8], wanted: &[u32], decided: &mut [Decided]) -> bool {
    let mut open = decided.iter().filter(|d| d.is_none()).count();
    for line in lines(text) {
        if open == 0 {
            break;
        }
        let Some(view) = lookup_view(line.raw) else {
            continue;
        };
        if field(view, 0).is_some_and(is_nis) {
            continue;
        }
        match group_entry(line.raw) {
            Ok(entry) => {
                if let Ok(at) = wanted.binary_search(&entry.gid)
                    && decided[at].is_none()
                {
                    decided[at] = Some(Some(entry.name.to_vec()));
                    open -= 1;
                }
            }
            Err(_) => {
                for (at, &gid) in wanted.iter().enumerate() {
                    if decided[at].is_none() && could_be(field(view, 2), gid) {
                        decided[at] = Some(None);
                        open -= 1;
                    }
                }
            }
        }
    }
    open == 0
}

/// For each gid of `gids`, in order, what `group_by_gid` would give over
/// the whole of `text`, `None` where it finds nothing or refuses.
pub fn group_names(text: &Text, gids: &[u32]) -> Result<Vec<Option<Vec<u8>>>, Errno> {
    let mut wanted: Vec<u32> = gids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut decided: Vec<Decided> = vec![None; wanted.len()];
    text.scan(|piece, _| decide_group_names(piece, &wanted, &mut decided).then_some(()))?;
    Ok(gids
        .iter()
        .map(|gid| {
            wanted
                .binary_search(gid)
                .ok()
                .and_then(|at| decided[at].clone().flatten())
        })
        .collect())
}

/// Whether some reader could take `user` for a member of this raw line:
/// glibc's getgrouplist parses raw lines, and its member list is what
/// follows the third `:`, split on commas alone, white space before a
/// member skipped; musl splits on commas and skips nothing. So a token
/// between commas (or, to be safe, colons and NUL bytes) that is the user
/// once the white space around it is taken away might list it; white space
/// inside a token is part of a name (`ap p`), never a separator.
fn might_list(raw: &[u8], user: &[u8]) -> bool {
    let mut colons = raw.iter().enumerate().filter(|(_, b)| **b == b':');
    let Some((third, _)) = colons.nth(2) else {
        return false;
    };
    // Both trimmed: a name with white space at an end (`app `, which glibc
    // keeps after a member) is then refused by group_entry, never skipped.
    let user = trim_c_space(user);
    raw[third + 1..]
        .split(|&b| b == b',' || b == b':' || b == 0)
        .any(|token| trim_c_space(token) == user)
}

/// A byte string without the C-locale white space at either end.
fn trim_c_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_c_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_c_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `primary`, then the gid of every group that lists `user` as a member,
/// in file order, groups whose gid is `primary` left out: what glibc's
/// getgrouplist(3) returns over the files backend (duplicates included).
/// A line that might list the user but is not canonical is an error.
pub fn group_list(text: &[u8], user: &str, primary: u32) -> Result<Vec<u32>, Malformed> {
    let user = user.as_bytes();
    // A canonical line that lists a name without a `:` has it as a token
    // too, which is all might_list looks for: only a line that is not
    // canonical needs that question (is it an error, or not the user's?).
    // A name with a `:` is never one of might_list's tokens, so never
    // listed (no account name holds one: it is passwd's separator).
    let plain = !user.contains(&b':');
    let mut list = vec![primary];
    for line in lines_containing(text, user) {
        match group_entry(line.raw) {
            Ok(entry) => {
                if entry.gid != primary && entry.lists(user) && plain {
                    list.push(entry.gid);
                }
            }
            Err(why) if might_list(line.raw, user) => {
                return Err(malformed(GROUP, line)(why));
            }
            Err(_) => {}
        }
    }
    Ok(list)
}

/// Whether some line of /etc/passwd might be read as an entry named
/// `name` or with uid `uid` by a reader other than glibc's (musl's, which
/// reads raw lines): used to check an answer that did not come from this
/// reader (see userdb.rs).
pub fn passwd_mentions(text: &[u8], name: Option<&str>, uid: Option<u32>) -> bool {
    lines(text).any(|line| {
        let raw_name = field(line.raw, 0);
        name.is_some_and(|n| raw_name == Some(n.as_bytes()))
            || uid.is_some_and(|u| could_be(field(line.raw, 2), u))
    })
}

/// The same for /etc/group: a line that might be the group `name`.
pub fn group_mentions(text: &[u8], name: &str) -> bool {
    lines(text).any(|line| field(line.raw, 0) == Some(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch path of this test process's own.
    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("runas-files-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_file_whose_size_says_nothing_is_read_to_its_end() {
        // A FIFO: fstat says 0, and the text comes in pieces.
        let path = scratch("fifo");
        let _ = std::fs::remove_file(&path);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let text: Vec<u8> = (0..20_000u32)
            .map(|i| b"abcdefghij\n"[(i % 11) as usize])
            .collect();
        let writer = {
            let (path, text) = (path.clone(), text.clone());
            std::thread::spawn(move || {
                use std::io::Write;
                let mut fifo = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                for piece in text.chunks(3_000) {
                    fifo.write_all(piece).unwrap();
                    fifo.flush().unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
        };
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let read = read_whole(&c_path).unwrap();
        writer.join().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&read[..], &text[..]);
    }

    /// The pieces a scan of `text` in windows of `window` bytes gives, each
    /// with the number of lines before it.
    fn pieces(text: &[u8], window: usize) -> Vec<(Vec<u8>, usize)> {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, text).unwrap();
        let large = Text::Large {
            fd: file.into(),
            window,
        };
        let mut pieces = Vec::new();
        let none: Option<()> = large
            .scan(|piece, at| {
                pieces.push((piece.to_vec(), at));
                None
            })
            .unwrap();
        assert!(none.is_none());
        // Each piece's count of the lines before it.
        pieces
            .into_iter()
            .map(|(piece, at)| {
                let before = large.lines_before(at).unwrap();
                assert_eq!(
                    before,
                    text[..usize::try_from(at).unwrap()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                );
                (piece, before)
            })
            .collect()
    }

    #[test]
    fn large_files_are_kept_open_and_small_ones_read_whole() {
        for size in [100, LARGE - 1, LARGE] {
            let path = scratch(&format!("size-{size}"));
            let text: Vec<u8> = (0..size)
                .map(|i| if i % 50 == 49 { b'\n' } else { b'x' })
                .collect();
            std::fs::write(&path, &text).unwrap();
            let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            let read = read(&c_path).unwrap();
            std::fs::remove_file(&path).unwrap();
            assert_eq!(matches!(read, Text::Large { .. }), size >= LARGE, "{size}");
            let mut whole = Vec::new();
            read.scan(|piece, _| {
                whole.extend_from_slice(piece);
                None::<()>
            })
            .unwrap();
            assert!(whole == text, "{size}");
        }
    }

    #[test]
    fn windows_are_whole_lines_in_order_and_count_the_lines_before() {
        use proptest::prelude::*;
        proptest!(|(text in proptest::collection::vec(prop_oneof![
                Just(b'a'), Just(b':'), Just(b'\n')
            ], 0..300),
            window in 1usize..40)| {
            let pieces = pieces(&text, window);
            let joined: Vec<u8> = pieces.iter().flat_map(|(p, _)| p.clone()).collect();
            prop_assert_eq!(&joined, &text);
            let mut lines_before = 0;
            for (at, (piece, before)) in pieces.iter().enumerate() {
                prop_assert_eq!(*before, lines_before);
                // Whole lines: every piece but the last ends a line, and
                // none is empty but the only one.
                if at + 1 < pieces.len() {
                    prop_assert_eq!(piece.last(), Some(&b'\n'));
                    prop_assert!(!piece.is_empty());
                }
                lines_before += piece.iter().filter(|&&b| b == b'\n').count();
            }
        });
    }

    #[test]
    fn a_line_longer_than_the_window_is_one_piece_and_the_scan_stops_at_an_answer() {
        let text = b"ab\nabcdefghijklmnop\nc\nd\n";
        let pieces = pieces(text, 4);
        // The long line lies whole in one piece (which the window, grown to
        // hold it, fills with the lines after it).
        assert!(
            pieces
                .iter()
                .any(|(p, _)| p.starts_with(b"abcdefghijklmnop\n")),
            "{pieces:?}"
        );
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, text).unwrap();
        let large = Text::Large {
            fd: file.into(),
            window: 4,
        };
        let mut seen = 0;
        let found = large
            .scan(|piece, at| {
                seen += 1;
                // The number of the line `c`, counted in the whole file.
                lines(piece)
                    .find(|line| line.raw == b"c")
                    .map(|line| (at, line.number()))
            })
            .unwrap()
            .unwrap();
        assert_eq!(large.lines_before(found.0).unwrap() + found.1, 3);
        // And a second scan reads the same file from its start.
        let again = large.scan(|piece, _| Some(piece.to_vec())).unwrap();
        assert_eq!(again.as_deref(), Some(&b"ab\n"[..]));
        assert!(seen <= 3, "{seen} pieces for an answer in the third");
    }

    const PASSWD_TEXT: &[u8] = b"root:x:0:0:root:/root:/bin/bash
#old:x:1500:1500::/home/old:/bin/sh

alice:x:1500:1500:Alice:/home/alice:/bin/sh
1700:x:0:0:digits:/:/bin/sh
broken:x::1:::
short:x:1:1
alice:x:9:9::/second:/bin/sh
colons:x:7:7::/h:/bin/sh:extra
last:x:8:8::/l:/bin/dash";

    #[test]
    fn users_by_name_take_the_first_entry() {
        let alice = user_by_name(PASSWD_TEXT, "alice").unwrap().unwrap();
        assert_eq!((alice.uid, alice.gid), (1500, 1500));
        assert_eq!(alice.home, b"/home/alice");
        assert_eq!(alice.shell, b"/bin/sh");
        // A name of digits is a name here; spec.rs decided that already.
        assert_eq!(user_by_name(PASSWD_TEXT, "1700").unwrap().unwrap().uid, 0);
        assert_eq!(user_by_name(PASSWD_TEXT, "nobody").unwrap(), None);
        assert_eq!(user_by_name(PASSWD_TEXT, "ali").unwrap(), None);
    }

    #[test]
    fn the_shell_is_the_rest_of_the_line_and_the_last_line_needs_no_newline() {
        assert_eq!(
            user_by_name(PASSWD_TEXT, "colons").unwrap().unwrap().shell,
            b"/bin/sh:extra"
        );
        assert_eq!(
            user_by_name(PASSWD_TEXT, "last").unwrap().unwrap().shell,
            b"/bin/dash"
        );
    }

    #[test]
    fn a_malformed_entry_for_the_name_asked_about_is_an_error() {
        let err = user_by_name(PASSWD_TEXT, "broken").unwrap_err();
        assert_eq!((err.file, err.line), (PASSWD, 6));
        assert!(err.why.contains("uid"), "{err:?}");
        assert_eq!(
            user_by_name(b"three:x:3000\n", "three").unwrap_err().why,
            "it has fewer than 4 fields"
        );
    }

    #[test]
    fn a_member_list_starts_after_the_third_colon() {
        // A user named "7" (asked for by uid: an all-digit name is an id)
        // is not listed by a line whose gid ends in 7: a commented-out
        // line that does not list it is no reason to refuse.
        let text = b"#old:x:17:\nseven:x:27:7\n";
        assert_eq!(group_list(text, "7", 1500).unwrap(), vec![1500, 27]);
    }

    #[test]
    fn a_line_that_lists_another_name_is_not_judged() {
        // " alicx" is not canonical (white space before a member), but it
        // cannot list alice: no reason to refuse alice's list.
        let text = b"g:x:20: alicx\nwheel:x:10:alice\n";
        assert_eq!(group_list(text, "alice", 1500).unwrap(), vec![1500, 10]);
        assert!(group_list(text, "alicx", 1500).is_err());
    }

    #[test]
    fn mentions_find_any_line_that_might_be_the_entry() {
        let passwd =
            b"root:x:0:0::/:/bin/sh\n#alice:x:1500:1500::/:/bin/sh\nbob:x: 1501:1501::/:/bin/sh\n";
        assert!(passwd_mentions(passwd, Some("root"), None));
        assert!(passwd_mentions(passwd, None, Some(1501)));
        assert!(passwd_mentions(passwd, Some("nobody"), Some(0)));
        assert!(!passwd_mentions(passwd, Some("alice"), None));
        assert!(!passwd_mentions(passwd, Some("nobody"), Some(65534)));
        assert!(!passwd_mentions(passwd, None, None));
        let group = b"root:x:0:\nwheel:x:10:alice\n";
        assert!(group_mentions(group, "wheel"));
        assert!(!group_mentions(group, "alice"));
        assert!(!group_mentions(group, "whee"));
    }

    #[test]
    fn an_entry_without_a_name_is_an_error_where_it_could_answer() {
        // glibc's getpwuid would return it, with an empty name.
        let err = user_by_uid(b":x:1600:1600::/:/bin/sh\n", 1600).unwrap_err();
        assert_eq!(err.why, "its name is empty");
        let err = group_by_gid(b":x:1600:alice\n", 1600).unwrap_err();
        assert_eq!(err.why, "its name is empty");
    }

    #[test]
    fn missing_trailing_fields_read_as_empty_as_glibc_reads_them() {
        // glibc: `short:x:1:1` is short:x:1:1:::, `six` has no shell.
        let short = user_by_name(PASSWD_TEXT, "short").unwrap().unwrap();
        assert_eq!(
            (short.uid, short.gid, short.home, short.shell),
            (1, 1, &b""[..], &b""[..])
        );
        let six = user_by_name(b"six:x:6000:6000:g:/h\n", "six")
            .unwrap()
            .unwrap();
        assert_eq!((six.home, six.shell), (&b"/h"[..], &b""[..]));
        let five = user_by_uid(b"five:x:5000:5000:g\n", 5000).unwrap().unwrap();
        assert_eq!((five.name, five.home), (&b"five"[..], &b""[..]));
    }

    #[test]
    fn commented_out_lines_are_not_entries() {
        assert_eq!(user_by_name(PASSWD_TEXT, "#old").unwrap(), None);
        assert_eq!(
            user_by_uid(PASSWD_TEXT, 1500).unwrap().unwrap().name,
            b"alice"
        );
    }

    #[test]
    fn by_uid_an_earlier_line_that_might_be_the_uid_is_an_error() {
        assert_eq!(user_by_uid(PASSWD_TEXT, 0).unwrap().unwrap().name, b"root");
        // "broken" has an empty uid, which musl reads as 0.
        assert!(user_by_uid(b"broken:x::1:::\nroot:x:0:0::/:/bin/sh\n", 0).is_err());
        // ...but it cannot be uid 9.
        assert_eq!(
            user_by_uid(PASSWD_TEXT, 9).unwrap().unwrap().home,
            b"/second"
        );
        assert_eq!(user_by_uid(PASSWD_TEXT, 4242).unwrap(), None);
        for earlier in [
            &b" app:x:1001:0::/:/bin/sh\n"[..],
            b"app:x:+1001:0::/:/bin/sh\n",
            b"app:x: 1001:0::/:/bin/sh\n",
            b"app:x:01001:0::/:/bin/sh\n",
            b"app:x:1001abc:0::/:/bin/sh\n",
            b"app:x:1001\n",
            b"app:x:1001:0:::/bin/sh\r\n",
            b"app:x:4294968297:0::/:/bin/sh\n",
            b"app:x:-4294966295:0::/:/bin/sh\n",
            b"app:x:1001:0::/:/bin/sh\0x\n",
        ] {
            let mut text = earlier.to_vec();
            text.extend_from_slice(b"app:x:1001:1001::/home/app:/bin/sh\n");
            assert!(
                user_by_uid(&text, 1001).is_err(),
                "{:?}",
                String::from_utf8_lossy(earlier)
            );
            // A line that cannot be the uid is passed over, as glibc does.
            let other = user_by_uid(&text, 7);
            assert!(
                matches!(other, Ok(None)) || earlier.contains(&b'-'),
                "{other:?}"
            );
        }
    }

    #[test]
    fn nis_lines_are_never_entries() {
        let text = b"+alice:x:1000:1000::/:/bin/sh\n+\n-bob:x:1001::::\n+@ng\nalice:x:2000:2000::/a:/bin/sh\n";
        assert_eq!(user_by_name(text, "alice").unwrap().unwrap().uid, 2000);
        assert_eq!(user_by_name(text, "+alice").unwrap(), None);
        assert_eq!(user_by_uid(text, 1000).unwrap(), None);
        assert_eq!(user_by_uid(text, 0).unwrap(), None);
    }

    #[test]
    fn indented_lines_are_entries_for_glibc_so_they_are_refused() {
        let text = b"    #app:x:1000:0::/:/bin/sh\n  app:x:1000:1000::/:/bin/sh\n";
        // The indented comment is a comment for glibc; the indented entry
        // is app for glibc, so it is refused, by name and by uid.
        assert!(user_by_name(text, "app").is_err());
        assert!(user_by_uid(text, 1000).is_err());
        assert_eq!(user_by_uid(text, 0).unwrap(), None);
    }

    #[test]
    fn id_fields_are_canonical() {
        for (field, id) in [
            (&b"0"[..], Some(0)),
            (b"4294967294", Some(4294967294)),
            (b"4294967295", None),
            (b"4294967296", None),
            (b"99999999999", None),
            (b"", None),
            (b"-1", None),
            (b"+1", None),
            (b" 1", None),
            (b"01", None),
            (b"00", None),
            (b"0x10", None),
            (b"12a", None),
        ] {
            assert_eq!(
                canonical_id(field),
                id,
                "{:?}",
                String::from_utf8_lossy(field)
            );
        }
    }

    const GROUP_TEXT: &[u8] = b"root:x:0:
wheel:x:10:root,alice
staff:x:50:bob,alice,carol
empty:x:60:
alicegroup:x:70:alice2,xalice
broken:x:bad:bob
odd:x:80:alice:more";

    #[test]
    fn group_lists_start_with_the_primary_group_and_follow_the_file() {
        assert_eq!(
            group_list(GROUP_TEXT, "alice", 1500).unwrap(),
            [1500, 10, 50]
        );
        assert_eq!(group_list(GROUP_TEXT, "carol", 1502).unwrap(), [1502, 50]);
        assert_eq!(group_list(GROUP_TEXT, "nobody", 65534).unwrap(), [65534]);
        // Members compare whole: "alice2" and "xalice" are not "alice".
        assert_eq!(group_list(GROUP_TEXT, "alice2", 1).unwrap(), [1, 70]);
        // The member list is the rest of the line, colons included, so
        // "odd" lists "alice:more", not alice (checked by the first line).
        // The primary group's own line is left out, as glibc does.
        assert_eq!(group_list(GROUP_TEXT, "alice", 10).unwrap(), [10, 50]);
    }

    #[test]
    fn a_group_that_might_list_the_user_but_is_not_canonical_is_an_error() {
        let err = group_list(GROUP_TEXT, "bob", 1501).unwrap_err();
        assert_eq!((err.file, err.line), (GROUP, 6));
        for line in [
            &b"#wheel:x:10:app"[..],
            b"   #wheel:x:10:app",
            b"  wheel:x:10:app",
            b"+:::app",
            b"+wheel:x:10:app",
            b"-wheel:x:10:app",
            b"wheel:x:10:root, app",
            b"wheel:x:10:app ,root",
            b"wheel:x:10:bob\0,app",
            b"wheel:x:10:app\r",
            b"wheel:x: 10:app",
            b"wheel:x:010:app",
            b"wheel:x::app",
            b"# x:y:503:app",
        ] {
            assert!(
                group_list(line, "app", 1).is_err(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        // Lines that cannot list app are passed over.
        for line in [
            &b"# app is our admin"[..],
            b"app",
            b"app:x:1000:",
            b"#wheel:x:10:bob",
            b"  wheel:x:10:approver",
        ] {
            assert_eq!(
                group_list(line, "app", 1).unwrap(),
                [1],
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn groups_by_name_and_gid() {
        assert_eq!(group_by_name(GROUP_TEXT, "staff").unwrap().unwrap().gid, 50);
        assert_eq!(group_by_name(GROUP_TEXT, "none").unwrap(), None);
        assert!(group_by_name(GROUP_TEXT, "broken").is_err());
        assert_eq!(group_by_name(b"short:x:5", "short").unwrap_err().line, 1);
        assert_eq!(
            group_by_gid(GROUP_TEXT, 50).unwrap().unwrap().name,
            b"staff"
        );
        assert_eq!(group_by_gid(GROUP_TEXT, 51).unwrap(), None);
        assert!(group_by_gid(b"g:x:+51:\ng2:x:51:\n", 51).is_err());
        assert_eq!(
            group_by_name(b"#c:x:1:\n  c:x:2:\n", "c").unwrap_err().line,
            2
        );
    }

    #[test]
    fn white_space_inside_a_member_name_is_part_of_it() {
        // glibc: `wheel:x:10:ap p` lists the user `ap p` (id "ap p" shows
        // group 10), and not `p` nor `ap`.
        let text = b"wheel:x:10:ap p\nstaff:x:50:bob,ap p,carol\n";
        assert_eq!(group_list(text, "ap p", 1000).unwrap(), [1000, 10, 50]);
        assert_eq!(group_list(text, "p", 1000).unwrap(), [1000]);
        assert_eq!(group_list(text, "ap", 1000).unwrap(), [1000]);
        // White space around a name is refused where it might list the
        // user: glibc skips it before a name, musl does not.
        assert!(group_list(b"wheel:x:10:bob, ap p\n", "ap p", 1).is_err());
        assert!(group_list(b"wheel:x:10:ap p \n", "ap p", 1).is_err());
        assert_eq!(group_list(b"wheel:x:10: bob\n", "ap p", 1).unwrap(), [1]);
        // A name that ends in white space: glibc keeps it after a member,
        // so `app ` may be listed; refused, never skipped.
        assert!(group_list(b"g:x:10:app \n", "app ", 1).is_err());
    }

    #[test]
    fn many_names_in_one_pass_are_what_one_lookup_each_gives() {
        let text = b"a:x:1:\nb:x:2:\n#c:x:3:\n b:x:4:\nd:x:4:\ne:x:1:\n+f:x:5:\ng:x:5:\n";
        let gids = [5, 1, 2, 3, 4, 9, 1];
        let one_each: Vec<Option<&[u8]>> = gids
            .iter()
            .map(|&gid| group_by_gid(text, gid).ok().flatten().map(|e| e.name))
            .collect();
        let names = group_names(&Text::Whole(text.to_vec()), &gids).unwrap();
        assert_eq!(
            names.iter().map(|n| n.as_deref()).collect::<Vec<_>>(),
            one_each
        );
        // In pieces as small as a line, the same.
        for window in [1, 4, 8] {
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, text).unwrap();
            let large = Text::Large {
                fd: file.into(),
                window,
            };
            assert_eq!(group_names(&large, &gids).unwrap(), names, "{window}");
        }
        assert_eq!(one_each[0], Some(&b"g"[..]));
        assert_eq!(one_each[4], None, "an earlier indented line might be gid 4");
    }

    #[test]
    fn empty_members_are_dropped_and_trailing_commas_allowed() {
        assert_eq!(group_list(b"g:x:5:,,app,", "app", 1).unwrap(), [1, 5]);
    }

    #[test]
    fn a_large_membership_is_read_in_one_pass() {
        let mut text = Vec::new();
        for gid in 0..3000u32 {
            text.extend(format!("g{gid}:x:{}:a,b,t{}\n", 100_000 + gid, gid % 2).as_bytes());
        }
        let list = group_list(&text, "t1", 7).unwrap();
        assert_eq!(list.len(), 1 + 1500);
        assert_eq!(list[1], 100_001);
    }

    #[test]
    fn candidate_lines_are_exactly_the_lines_that_contain_the_name() {
        use proptest::prelude::*;
        let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        proptest!(|(text in proptest::collection::vec(prop_oneof![
                Just(b'a'), Just(b'b'), Just(b'\n'), Just(b':'), Just(b','), Just(0u8)
            ], 0..200),
            needle in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b')], 1..4))| {
            let expected: Vec<(usize, &[u8])> = lines(&text)
                .filter(|l| contains(l.raw, &needle))
                .map(|l| (l.number(), l.raw))
                .collect();
            let found: Vec<(usize, &[u8])> = lines_containing(&text, &needle)
                .map(|l| (l.number(), l.raw))
                .collect();
            prop_assert_eq!(found, expected);
        });
    }

    /// group_list as first written: might_list asked of every line that
    /// holds the name, before it is parsed.
    fn group_list_asking_first(
        text: &[u8],
        user: &str,
        primary: u32,
    ) -> Result<Vec<u32>, Malformed> {
        let user = user.as_bytes();
        let mut list = vec![primary];
        for line in lines_containing(text, user) {
            if !might_list(line.raw, user) {
                continue;
            }
            let entry = group_entry(line.raw).map_err(malformed(GROUP, line))?;
            if entry.gid != primary && entry.lists(user) {
                list.push(entry.gid);
            }
        }
        Ok(list)
    }

    #[test]
    fn the_membership_search_answers_as_asking_might_list_first_did() {
        use proptest::prelude::*;
        // Lines built from pieces, so that many are canonical, some list the
        // user, and others are wrong in one place (white space, a NUL, a
        // comment, a `:` in a member, a gid that is not plain).
        const NAMES: [&str; 6] = ["g", "a", "ab", " a", "#g", "+a"];
        const GIDS: [&str; 6] = ["1", "0", "01", "", "x", "7"];
        const MEMBERS: [&str; 9] = ["a", "ab", "a b", " a", "a ", "b", "", "a:b", "a\0"];
        const TAILS: [&str; 4] = ["", "\r", ":", "\na"];
        let line = (
            0..NAMES.len(),
            0..GIDS.len(),
            proptest::collection::vec(0..MEMBERS.len(), 0..4),
            0..TAILS.len(),
        );
        let key = |r: Result<Vec<u32>, Malformed>| r.map_err(|m| (m.line, m.why));
        proptest!(|(lines in proptest::collection::vec(line, 0..8),
            user in prop_oneof![Just("a"), Just("ab"), Just("a b"), Just(" a"), Just("a "), Just("a:b"), Just("b")],
            primary in 0u32..8)| {
            let mut text = Vec::new();
            for (name, gid, members, tail) in &lines {
                let members: Vec<&str> = members.iter().map(|&m| MEMBERS[m]).collect();
                text.extend_from_slice(
                    format!("{}:x:{}:{}{}\n", NAMES[*name], GIDS[*gid], members.join(","), TAILS[*tail]).as_bytes(),
                );
            }
            prop_assert_eq!(
                key(group_list(&text, user, primary)),
                key(group_list_asking_first(&text, user, primary))
            );
        });
    }

    #[test]
    fn lines_are_numbered_and_a_final_newline_adds_none() {
        let numbers: Vec<usize> = lines(b"a\nb\n").map(|l| l.number()).collect();
        assert_eq!(numbers, [1, 2]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(
            lines(b"a\n\nb").map(|l| l.number()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }
}
