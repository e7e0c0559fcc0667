//! Hints about memory for big inputs: where the kernel should back ipt's memory with 2 MiB pages
//! (one page fault per 2 MiB instead of one per 4 KiB). Hints only: the kernel may keep small
//! pages, and nothing changes but the time taken.
//!
//! Loading a 16 MB dump faults in some 60 MB: at 4 KiB a fault, 11 500 page faults and a quarter
//! of `ipt check`'s time; with these hints, about 5 000. The machines ipt runs on mostly have
//! transparent huge pages in `madvise` mode (Debian's and Ubuntu's default), where only memory a
//! program asks for gets them.

/// The size of a huge page on x86-64 and of the usual one on arm64.
const HUGE: usize = 2 << 20;

/// From this size on (8 MiB) a dump's tables are built in memory backed by 2 MiB pages
/// ([`HeapRoom`], while glibc's malloc gives the blocks: `ipt check`).
pub const BIG: usize = 8 << 20;

/// Asks for 2 MiB pages over the part of `[start, end)` that whole huge pages cover.
fn advise_huge(start: usize, end: usize) {
    let (first, last) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
    if last > first {
        // SAFETY: MADV_HUGEPAGE changes how pages are backed, never what they hold, and the
        // kernel refuses (with an error we do not need) a range that is not mapped
        unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE) };
    }
}

/// Asks for 2 MiB pages over the room a buffer has not used yet.
pub fn huge_room(buffer: &mut Vec<u8>) {
    let spare = buffer.spare_capacity_mut();
    let start = spare.as_mut_ptr() as usize;
    advise_huge(start, start + spare.len());
}

/// While it lives, the heap of the main thread grows by `room` bytes at a time, and the room it
/// has now is backed by 2 MiB pages: the memory a big load builds its tables in. (glibc's heap of
/// the main thread grows at its top, one `brk` at a time; other threads' heaps grow by as little
/// as they need, and the pad spares them a system call per 4 KiB.)
///
/// Only with glibc on Linux, and only on the main thread; elsewhere it does nothing. Dropping it
/// sets glibc's default growth back.
pub struct HeapRoom {
    set: bool,
}

impl HeapRoom {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn new(room: usize) -> HeapRoom {
        // once mimalloc gives the blocks (every command but `ipt check`: src/allocator.rs),
        // glibc's heap holds little, and mimalloc asks for huge pages for its own memory
        if crate::allocator::favours_speed() {
            return HeapRoom { set: false };
        }
        // SAFETY: `mallopt`, `malloc`, `free` and `sbrk(0)` are glibc's, called as documented;
        // each block is freed once, and `sbrk(0)` only reads where the heap ends
        unsafe {
            // the main thread's heap is the one below the break
            let probe = libc::malloc(1);
            let on_brk_heap = !probe.is_null() && (probe as usize) < libc::sbrk(0) as usize;
            libc::free(probe);
            if !on_brk_heap {
                return HeapRoom { set: false };
            }
            libc::mallopt(libc::M_TOP_PAD, room.min(1 << 30) as libc::c_int);
            // make the heap grow now, by the new pad: take blocks until the break moves, then
            // give them back to the room at the top of the heap
            let before = libc::sbrk(0) as usize;
            let mut blocks = [std::ptr::null_mut(); 64];
            let mut taken = 0;
            while taken < blocks.len() {
                blocks[taken] = libc::malloc(96 << 10);
                taken += 1;
                if libc::sbrk(0) as usize != before {
                    break;
                }
            }
            for &block in &blocks[..taken] {
                libc::free(block);
            }
            let after = libc::sbrk(0) as usize;
            if after > before {
                advise_huge(before, after);
            }
        }
        HeapRoom { set: true }
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn new(_room: usize) -> HeapRoom {
        HeapRoom { set: false }
    }
}

impl Drop for HeapRoom {
    fn drop(&mut self) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if self.set {
            /// glibc's default `M_TOP_PAD` (mallopt(3)): 128 KiB.
            const DEFAULT_TOP_PAD: libc::c_int = 128 << 10;
            // SAFETY: glibc's `mallopt`, called as documented
            unsafe { libc::mallopt(libc::M_TOP_PAD, DEFAULT_TOP_PAD) };
        }
    }
}

/// Before a pass works on chain `c`: asks the processor to start loading the rules of the chain
/// four ahead and, with `matches`, the matches of the rules of the chain two ahead (whose rules
/// the call two before asked for). A pass over every rule of a big table otherwise waits on
/// memory most of the time: each chain's rules are an allocation of their own, and so are each
/// rule's matches.
pub fn prefetch_ahead(chains: &[crate::model::Chain], c: usize, matches: bool) {
    if let Some(far) = chains.get(c + 4) {
        prefetch(far.rules.as_ptr());
    }
    if matches && let Some(near) = chains.get(c + 2) {
        for rule in &near.rules {
            prefetch(rule.matches.as_ptr());
        }
    }
}

/// Asks the processor to start loading every cache line of `items`.
pub fn prefetch_slice<T>(items: &[T]) {
    let start = items.as_ptr().cast::<u8>();
    for offset in (0..std::mem::size_of_val(items)).step_by(64) {
        prefetch(start.wrapping_add(offset));
    }
}

/// Asks the processor to start loading the cache line at `p` (x86-64 only: elsewhere nothing).
/// A hint: it never faults, whatever `p` is.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE, which `_mm_prefetch` needs, is part of x86-64; a prefetch reads nothing the
    // program sees and never faults, whatever the address
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
