//! The static build's allocator.

/// A bump allocator for this short-lived process (the static build's; see
/// src/main.rs for the figures).
///
/// runas allocates a few hundred small blocks and then replaces itself
/// with execve, so freeing memory buys nothing. musl's allocator, by
/// contrast, maps and unmaps pages for many of these blocks, and each
/// munmap costs a TLB flush: replacing this allocator with musl's costs
/// about 16 us per launch (bench/run). Blocks come from a zero-initialised
/// static arena (its pages are touched only as it fills); what does not fit
/// goes to the system allocator.
pub struct BumpAllocator;

const ARENA_SIZE: usize = 1 << 20;

// The count comes first: the page it is on is written at the first
// allocation anyway, so the count costs no page of its own (after the
// arena, it would: 1 MiB away).
#[repr(C)]
struct Arena {
    used: std::sync::atomic::AtomicUsize,
    bytes: std::cell::UnsafeCell<[u8; ARENA_SIZE]>,
}

// SAFETY: the arena hands out disjoint ranges, reserved with an atomic
// compare-and-swap, so no two threads ever get the same bytes.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena {
    used: std::sync::atomic::AtomicUsize::new(0),
    bytes: std::cell::UnsafeCell::new([0; ARENA_SIZE]),
};

impl Arena {
    fn contains(&self, ptr: *mut u8) -> bool {
        let start = self.bytes.get() as usize;
        (start..start + ARENA_SIZE).contains(&(ptr as usize))
    }
}

// SAFETY: every pointer returned is either a fresh, suitably aligned,
// exclusively reserved range of the arena, or comes from System, and
// dealloc/realloc pass System's pointers back to System only.
unsafe impl std::alloc::GlobalAlloc for BumpAllocator {
    // alloc and dealloc are never inlined: inlined at each of the
    // program's allocations and drops, their copies came to 18 KiB of the
    // code every run executes, most of it never reached (the fallback to
    // System); a call costs a few cycles (docs/performance.md).
    #[inline(never)]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use std::sync::atomic::Ordering;
        let base = ARENA.bytes.get() as usize;
        let mut used = ARENA.used.load(Ordering::Relaxed);
        loop {
            let start = (base + used).next_multiple_of(layout.align()) - base;
            let Some(end) = start
                .checked_add(layout.size())
                .filter(|end| *end <= ARENA_SIZE)
            else {
                // SAFETY: forwarded unchanged to the system allocator.
                return unsafe { std::alloc::System.alloc(layout) };
            };
            match ARENA
                .used
                .compare_exchange_weak(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: start..end lies inside the arena and is now ours.
                Ok(_) => return unsafe { (ARENA.bytes.get() as *mut u8).add(start) },
                Err(now) => used = now,
            }
        }
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if !ARENA.contains(ptr) {
            // SAFETY: not an arena block, so System allocated it with this layout.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use std::sync::atomic::Ordering;
        // The block allocated last (a Vec being pushed to, as most are)
        // grows where it is: every page of the arena touched is a page
        // fault, and a copy would leave the old block unused. A block never
        // shrinks back into the arena: bytes handed out once may have been
        // written, and alloc_zeroed counts on the rest being zero. Shrunk,
        // it keeps its place (dealloc of an arena block is a no-op).
        if ARENA.contains(ptr) && new_size <= layout.size() {
            return ptr;
        }
        if ARENA.contains(ptr) {
            let base = ARENA.bytes.get() as usize;
            let start = ptr as usize - base;
            let end = start + layout.size();
            if let Some(new_end) = start
                .checked_add(new_size)
                .filter(|new_end| *new_end <= ARENA_SIZE)
                && ARENA
                    .used
                    .compare_exchange(end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return ptr;
            }
        }
        // SAFETY: the default: a new block of the new size (same alignment),
        // the old contents copied, the old block released.
        unsafe {
            let new_layout =
                std::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // Zeroed blocks of any size come from the arena while it has room
        // (what does not fit goes to the system, zeroed, through alloc):
        // its pages are zero until written, and each costs one page fault,
        // when written. musl's calloc, which had the blocks over 4 KiB (the
        // account files' buffers), reads every page of a fresh mapping to
        // see that it is zero, then the read(2) into it writes it: two
        // faults a page (docs/performance.md). A block of four pages or
        // more (an account file's buffer) is mapped in one system call
        // instead of a fault per page (prefault).
        // SAFETY: as alloc; arena bytes are zero until handed out, and
        // never handed out twice.
        let block = unsafe { self.alloc(layout) };
        if ARENA.contains(block) {
            if layout.size() >= PREFAULT {
                prefault(block, layout.size());
            }
        } else if !block.is_null() {
            // SAFETY: a fresh block of layout.size() bytes from System.
            unsafe { std::ptr::write_bytes(block, 0, layout.size()) };
        }
        block
    }
}

/// From this size up (four pages), a zeroed arena block's pages are mapped
/// in one system call: the account files' buffers (docs/performance.md).
const PREFAULT: usize = 16 << 10;

/// Maps the pages under the writable block of `len` bytes at `start` with
/// one madvise(MADV_POPULATE_WRITE) (Linux 5.14), where the read(2) that
/// fills the block would take a fault on each page inside the kernel. The
/// bytes stay as they are (a zeroed block stays zero): populating writes
/// nothing into them. Where the kernel refuses (older than 5.14), the
/// pages fault in as before; the result says which.
fn prefault(start: *mut u8, len: usize) -> bool {
    const PAGE: usize = 4096;
    let first = start as usize & !(PAGE - 1);
    let end = (start as usize + len).next_multiple_of(PAGE);
    // SAFETY: every page the range covers holds bytes of the writable block,
    // so it is mapped writable (part of a page may belong to a neighbour in
    // the same mapping); populating maps pages without changing a byte.
    unsafe { nix::libc::madvise(first as *mut _, end - first, nix::libc::MADV_POPULATE_WRITE) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout};

    /// The tests share the one arena, and "the last block" is only the
    /// last while no other test allocates: one at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn the_arena_grows_its_last_block_in_place_and_hands_out_zeroes() {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let a = BumpAllocator;
        let small = Layout::from_size_align(16, 8).unwrap();
        // SAFETY: (a test) blocks are used within their layouts only.
        unsafe {
            let p = a.alloc(small);
            p.write_bytes(0xaa, 16);
            let grown = a.realloc(p, small, 64);
            assert_eq!(grown, p, "the last block grows in place");
            assert_eq!(*grown.add(15), 0xaa);
            // Shrunk, it stays; its bytes never come back zeroed.
            let shrunk = a.realloc(grown, Layout::from_size_align(64, 8).unwrap(), 8);
            assert_eq!(shrunk, p);
            let next = a.alloc_zeroed(Layout::from_size_align(64, 8).unwrap());
            assert!((0..64).all(|i| *next.add(i) == 0));
            // A large zeroed block (an account file's buffer) comes from
            // the arena too while it has room, zero.
            let buffer = a.alloc_zeroed(Layout::from_size_align(64 * 1024, 1).unwrap());
            assert!(ARENA.contains(buffer));
            // Its pages are mapped before anything writes them, where the
            // kernel has MADV_POPULATE_WRITE (Linux 5.14; CI's has).
            let mut probe = vec![0u8; 8192];
            if prefault(probe.as_mut_ptr(), probe.len()) {
                let page = buffer.add(4096 - buffer as usize % 4096);
                let mut resident = [0u8; 15];
                assert_eq!(
                    nix::libc::mincore(page.cast(), 15 * 4096, resident.as_mut_ptr()),
                    0
                );
                assert!(resident.iter().all(|r| r & 1 == 1), "{resident:?}");
            } else {
                eprintln!("not checked: this kernel has no MADV_POPULATE_WRITE (Linux 5.14)");
            }
            assert!((0..64 * 1024).all(|i| *buffer.add(i) == 0));
            // Not the last block any more: moved, contents kept.
            let moved = a.realloc(shrunk, Layout::from_size_align(64, 8).unwrap(), 128);
            assert_ne!(moved, p);
            assert_eq!(*moved.add(7), 0xaa);
        }
    }

    #[test]
    fn bump_blocks_are_aligned_disjoint_and_large_ones_fall_back() {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let a = BumpAllocator;
        let mut blocks = Vec::new();
        for (size, align) in [(1, 1), (3, 2), (24, 8), (100, 64), (7, 4096), (4096, 16)] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: valid non-zero layouts; freed below with the same layout.
            let p = unsafe { a.alloc(layout) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0, "alignment {align}");
            // SAFETY: the block has `size` writable bytes.
            unsafe { std::ptr::write_bytes(p, 0xAB, size) };
            blocks.push((p as usize, size, layout, p));
        }
        let mut ranges: Vec<(usize, usize)> = blocks.iter().map(|b| (b.0, b.0 + b.1)).collect();
        ranges.sort_unstable();
        assert!(
            ranges.windows(2).all(|w| w[0].1 <= w[1].0),
            "overlapping blocks"
        );
        let big = Layout::from_size_align(ARENA_SIZE * 2, 8).unwrap();
        // SAFETY: valid layout; freed with the same layout.
        let p = unsafe { a.alloc_zeroed(big) };
        assert!(!p.is_null() && !ARENA.contains(p));
        // SAFETY: zeroed block of that size.
        assert_eq!(unsafe { *p.add(ARENA_SIZE) }, 0);
        // SAFETY: each pointer came from this allocator with this layout.
        unsafe {
            a.dealloc(p, big);
            for (_, _, layout, p) in blocks {
                a.dealloc(p, layout);
            }
        }
    }
}
