//! The C library's account lookups, and reading large account files.

use nix::errno::Errno;
use nix::libc;
use std::ffi::CStr;

/// libc getgrouplist(3): the gids `user` belongs to in the group database,
/// plus `primary`.
///
/// Sized from the count the call reports rather than by doubling: glibc
/// rescans the group database on every call, so a doubling loop costs
/// log(n) scans. The first call offers room for 1024 groups (one page);
/// a user in more costs exactly one more scan, at the reported size.
pub fn getgrouplist(user: &CStr, primary: u32) -> Result<Vec<u32>, Errno> {
    let mut capacity = 1024;
    // The database can grow between two calls; give up after a few tries
    // rather than loop forever.
    for _ in 0..4 {
        let mut groups: Vec<libc::gid_t> = vec![0; capacity];
        let mut count = libc::c_int::try_from(capacity).map_err(|_| Errno::EOVERFLOW)?;
        // SAFETY: `user` is a valid NUL-terminated string; `groups` has room
        // for exactly `count` gids and getgrouplist writes at most `count`
        // entries, storing the number it found in `count`.
        let ret = unsafe {
            libc::getgrouplist(user.as_ptr(), primary, groups.as_mut_ptr(), &raw mut count)
        };
        let found = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
        if ret >= 0 {
            if found > groups.len() {
                return Err(Errno::EOVERFLOW);
            }
            groups.truncate(found);
            return Ok(groups);
        }
        if found <= capacity {
            // -1 without a larger count is not "buffer too small": fail closed.
            return Err(match Errno::last() {
                Errno::UnknownErrno => Errno::EIO,
                errno => errno,
            });
        }
        capacity = found;
    }
    Err(Errno::EAGAIN)
}

/// The names of these gids, for display, from one enumeration of the
/// group database (setgrent, getgrent_r, endgrent) instead of one lookup
/// per gid, each of which reads the whole database: `None` where the
/// enumeration has none (a service that does not enumerate, such as sssd
/// by default, answers only lookups). The first entry of a gid wins, as
/// getgrgid's does over the files.
#[cfg(not(target_env = "musl"))]
pub fn group_names(gids: &[u32]) -> Vec<Option<String>> {
    let mut wanted: Vec<u32> = gids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut names: Vec<Option<String>> = vec![None; wanted.len()];
    let mut buffer = vec![0u8; 4096];
    // SAFETY: setgrent and endgrent take no arguments; the enumeration's
    // state is the C library's, used by this one thread alone (runas
    // starts no thread).
    unsafe { libc::setgrent() };
    loop {
        // SAFETY: `entry` is written by getgrent_r, and its pointers point
        // into `buffer`, which outlives every use below; `found` is set to
        // `&mut entry` or null.
        let (ret, name, gid) = unsafe {
            let mut entry: libc::group = std::mem::zeroed();
            let mut found: *mut libc::group = std::ptr::null_mut();
            let ret = libc::getgrent_r(
                &raw mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &raw mut found,
            );
            if ret != 0 || found.is_null() || entry.gr_name.is_null() {
                (ret, None, 0)
            } else {
                let name = CStr::from_ptr(entry.gr_name).to_string_lossy().into_owned();
                (ret, Some(name), entry.gr_gid)
            }
        };
        match (ret, name) {
            (libc::ERANGE, _) if buffer.len() < 1 << 24 => {
                let len = buffer.len() * 2;
                buffer.resize(len, 0);
            }
            (0, Some(name)) => {
                if let Ok(at) = wanted.binary_search(&gid)
                    && names[at].is_none()
                {
                    names[at] = Some(name);
                }
            }
            _ => break,
        }
    }
    // SAFETY: as setgrent above.
    unsafe { libc::endgrent() };
    gids.iter()
        .map(|gid| {
            wanted
                .binary_search(gid)
                .ok()
                .and_then(|at| names[at].clone())
        })
        .collect()
}

/// The static build never asks the C library for names alone (userdb.rs).
#[cfg(target_env = "musl")]
pub fn group_names(gids: &[u32]) -> Vec<Option<String>> {
    vec![None; gids.len()]
}

/// memmem(3): where `needle` first occurs in `haystack`. The C library's
/// (SIMD in glibc, two-way in musl) finds a name in a 10 MB account file
/// several times faster than a byte loop. A haystack of an ordinary
/// system's size is searched here instead: musl's two-way search puts a
/// 2 KiB table on the stack, at the deepest point of a run, where it cost
/// a page fault of its own. Only for a short needle (a name and a colon):
/// this search's worst case is the product of the two lengths.
pub fn memmem(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    const SMALL: usize = 64 * 1024;
    const SHORT: usize = 64;
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if haystack.len() <= SMALL && needle.len() <= SHORT {
        let mut from = 0;
        while let Some(at) = haystack[from..].iter().position(|&b| b == first) {
            let start = from + at;
            if haystack[start + 1..].starts_with(rest) {
                return Some(start);
            }
            from = start + 1;
        }
        return None;
    }
    // SAFETY: both pointers and lengths describe live slices, which memmem
    // only reads; the result is null or points into `haystack`.
    let found = unsafe {
        libc::memmem(
            haystack.as_ptr().cast(),
            haystack.len(),
            needle.as_ptr().cast(),
            needle.len(),
        )
    };
    (!found.is_null()).then(|| found as usize - haystack.as_ptr() as usize)
}

/// A large file's contents in anonymous memory backed by transparent huge
/// pages where the kernel allows them (madvise mode, the default of most
/// distributions): a 10 MB /etc/group read into ordinary pages costs a
/// page fault per 4 KiB (about 2,500 of them, several milliseconds), into
/// 2 MiB pages a handful. The mapping is private and anonymous, so nobody
/// can change it under runas (a file mapping could change, or raise
/// SIGBUS, if the file did).
pub struct FileBuffer {
    map: *mut u8,
    map_len: usize,
    /// Where the contents start: the first 2 MiB boundary in the mapping.
    start: usize,
    len: usize,
}

const HUGE_PAGE: usize = 2 << 20;

impl FileBuffer {
    /// Read all of `fd` (a regular file of about `size` bytes) into a new
    /// buffer. The file may have grown since its size was taken: reading
    /// goes on until read(2) returns 0, into a bigger buffer if need be.
    pub fn read(fd: std::os::fd::BorrowedFd<'_>, size: usize) -> Result<FileBuffer, Errno> {
        use std::os::fd::AsRawFd;
        let mut buffer = FileBuffer::with_capacity(size + 1)?;
        loop {
            if buffer.len == buffer.capacity() {
                let mut bigger = FileBuffer::with_capacity(buffer.capacity() * 2)?;
                bigger.spare()[..buffer.len].copy_from_slice(buffer.as_slice());
                bigger.len = buffer.len;
                buffer = bigger;
            }
            let spare = buffer.spare();
            // SAFETY: the pointer and length describe the writable, unused
            // part of the mapping, which nothing else refers to.
            let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), spare.len()) };
            match Errno::result(n) {
                Ok(0) => return Ok(buffer),
                Ok(n) => buffer.len += n as usize,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn with_capacity(capacity: usize) -> Result<FileBuffer, Errno> {
        // Room to start at a 2 MiB boundary.
        let map_len = capacity.div_ceil(HUGE_PAGE) * HUGE_PAGE + HUGE_PAGE;
        // SAFETY: a new private anonymous mapping; no existing memory is
        // named.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let start = (map as usize).next_multiple_of(HUGE_PAGE) - map as usize;
        // SAFETY: the range lies inside the mapping just made. Advice only:
        // where the kernel has no huge pages, ordinary ones serve.
        unsafe {
            libc::madvise(
                map.cast::<u8>().add(start).cast(),
                map_len - start,
                libc::MADV_HUGEPAGE,
            );
        }
        Ok(FileBuffer {
            map: map.cast(),
            map_len,
            start,
            len: 0,
        })
    }

    fn capacity(&self) -> usize {
        self.map_len - self.start
    }

    fn spare(&mut self) -> &mut [u8] {
        // SAFETY: [start + len, map_len) lies inside the mapping, which this
        // buffer alone owns; &mut self makes the borrow exclusive.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.map.add(self.start + self.len),
                self.capacity() - self.len,
            )
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: [start, start + len) lies inside the mapping and was
        // written by read(2).
        unsafe { std::slice::from_raw_parts(self.map.add(self.start), self.len) }
    }
}

impl Drop for FileBuffer {
    fn drop(&mut self) {
        // SAFETY: the mapping this buffer made, unmapped once.
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}

// SAFETY: the buffer owns its mapping outright and hands out shared
// slices only through &self; nothing in it is tied to a thread.
unsafe impl Send for FileBuffer {}

// SAFETY: as above: &self hands out only shared slices of memory nothing
// writes once the file is read.
unsafe impl Sync for FileBuffer {}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_large_file_is_read_whole_even_past_its_announced_size() {
        use std::io::Write;
        use std::os::fd::AsFd;
        let mut file = tempfile::tempfile().unwrap();
        let text: Vec<u8> = (0..3 * HUGE_PAGE + 12345)
            .map(|i| (i % 251) as u8)
            .collect();
        file.write_all(&text).unwrap();
        use std::io::Seek;
        for hint in [text.len(), 10, HUGE_PAGE - 1] {
            file.rewind().unwrap();
            let buffer = FileBuffer::read(file.as_fd(), hint).unwrap();
            assert_eq!(buffer.as_slice().len(), text.len(), "hint {hint}");
            assert!(buffer.as_slice() == &text[..], "hint {hint}");
            assert_eq!(buffer.as_slice().as_ptr() as usize % HUGE_PAGE, 0);
        }
    }

    #[test]
    fn memmem_finds_the_first_occurrence() {
        assert_eq!(memmem(b"abcabc", b"ca"), Some(2));
        assert_eq!(memmem(b"abcabc", b"x"), None);
        assert_eq!(memmem(b"", b"a"), None);
        assert_eq!(memmem(b"ab", b""), Some(0));
        assert_eq!(memmem(b"aab", b"ab"), Some(1));
        assert_eq!(memmem(b"a", b"ab"), None);
    }

    #[test]
    fn memmem_agrees_with_a_plain_search_on_both_sides_of_the_size_switch() {
        let naive = |h: &[u8], n: &[u8]| h.windows(n.len()).position(|w| w == n);
        for size in [10, 1000, 64 * 1024, 64 * 1024 + 1, 200_000] {
            // Lines of names that share prefixes, as an account file's do.
            let haystack: Vec<u8> = (0..)
                .flat_map(|i: u32| format!("t{}:x:{i}:{i}::/:/bin/sh\n", i % 977).into_bytes())
                .take(size)
                .collect();
            for needle in [&b"\nt976:"[..], b"t97", b"nothere", b"h\n", b"\n"] {
                assert_eq!(
                    memmem(&haystack, needle),
                    naive(&haystack, needle),
                    "{size}"
                );
            }
            let tail = &haystack[size - 3..];
            assert_eq!(memmem(&haystack, tail), naive(&haystack, tail), "{size}");
            // Long needles go to the C library whatever the haystack.
            let long = &haystack[size.saturating_sub(100)..];
            assert_eq!(memmem(&haystack, long), naive(&haystack, long), "{size}");
            assert_eq!(memmem(&haystack, &[b'x'; 100]), None, "{size}");
        }
    }

    #[test]
    fn getgrouplist_reports_the_primary_gid_even_for_an_unknown_user() {
        let groups = getgrouplist(c"no-such-user-runas-unit-test", 4242).unwrap();
        assert_eq!(groups, vec![4242]);
    }
}
