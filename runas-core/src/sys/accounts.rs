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

/// Where `byte` first occurs in `haystack`, found a word (8 bytes) at a
/// time, as musl's memchr(3) does, in safe code and without a call: each
/// word is XORed with the byte in every lane, so a lane that held it is
/// zero, and `(x - 0x01..) & !x & 0x80..` flags the zero lanes (the lowest
/// flag is always a true one: a borrow only runs upwards). Every line end
/// of the account files and nsswitch.conf is found here: 121 instructions a
/// call through the C library, about 60 here (docs/performance.md, round 9).
pub fn memchr(haystack: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(byte);
    let (words, tail) = haystack.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ pattern;
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(index * 8 + (zero.trailing_zeros() / 8) as usize);
        }
    }
    tail.iter()
        .position(|&b| b == byte)
        .map(|at| words.len() * 8 + at)
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
        while let Some(at) = memchr(&haystack[from..], first) {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn memchr_finds_the_first_occurrence_in_every_lane_and_the_tail() {
        let naive = |h: &[u8], b: u8| h.iter().position(|&x| x == b);
        // Every position of the byte in haystacks of 0 to 40 bytes (five
        // words and a tail), before and after other occurrences, next to
        // the bytes one above and one below it (where a wrong borrow would
        // flag a lane), and for the bytes 0x00, 0x01, 0x7f, 0x80 and 0xff.
        for byte in [b'\n', 0x00, 0x01, 0x7f, 0x80, 0xff] {
            for len in 0..=40 {
                for at in 0..=len {
                    let mut haystack: Vec<u8> = (0..len)
                        .map(|i| match i % 3 {
                            0 => byte.wrapping_add(1),
                            1 => byte.wrapping_sub(1),
                            _ => byte ^ 0x80,
                        })
                        .collect();
                    if at < len {
                        haystack[at] = byte;
                        if at + 3 < len {
                            haystack[at + 3] = byte;
                        }
                    }
                    assert_eq!(
                        memchr(&haystack, byte),
                        naive(&haystack, byte),
                        "{byte} {len} {at}"
                    );
                    // At every alignment of the slice too.
                    if len > 1 {
                        assert_eq!(memchr(&haystack[1..], byte), naive(&haystack[1..], byte));
                    }
                }
            }
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
