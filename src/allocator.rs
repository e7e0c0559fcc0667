//! The `ipt` binary's memory allocator: glibc's malloc until a command asks for speed, mimalloc
//! from then on.
//!
//! Translating the 16 MB kube-proxy dump makes about 1.2 million allocations (a string per
//! address, port, comment and jump target of the nft rules), and glibc's malloc and free are an
//! eighth of its instructions. With mimalloc the translation takes a fifth less time, but more
//! memory: `ipt check` of that dump peaks at 80 MB with it against 60 MB with glibc, over the
//! 4 × the file that `ipt check` promises. So `ipt check` keeps glibc, and so does `ipt explain`,
//! which is mostly the same load and is faster with glibc's heap in 2 MiB pages
//! ([`crate::memory::HeapRoom`]) than with mimalloc. Every other command calls [`favour_speed`]
//! first (docs/benchmarks.md, "Allocators").
//!
//! The switch is one way and may come at any time: a block goes back to the allocator it came
//! from, which mimalloc tells by its address ([`libmimalloc_sys::mi_is_in_heap_region`], a
//! lookup in its page map). Blocks taken before the switch (the command line, the standard
//! library's own) stay glibc's to the end.
//!
//! Only the binary installs [`Allocator`] (`#[global_allocator]` in `main.rs`); a program that
//! uses the library with another allocator loses nothing, and [`favour_speed`] does nothing for
//! it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

use mimalloc::MiMalloc;

/// Whether new blocks come from mimalloc. Set once, never cleared: while it is false no block
/// is mimalloc's, so a block is freed by glibc without asking.
static FAST: AtomicBool = AtomicBool::new(false);

/// From now on, new blocks come from mimalloc (when [`Allocator`] is the global allocator).
pub fn favour_speed() {
    FAST.store(true, Ordering::Relaxed);
}

/// Whether [`favour_speed`] was called: tuning glibc's heap is then of no use.
pub fn favours_speed() -> bool {
    FAST.load(Ordering::Relaxed)
}

/// glibc's malloc (through the standard library's [`System`]), or mimalloc once
/// [`favour_speed`] is called; each block is freed and resized by the one it came from.
pub struct Allocator;

impl Allocator {
    /// Whether `ptr` came from mimalloc. (A thread that frees a block another thread allocated
    /// learnt of it through some synchronisation, which also makes the switch, made before the
    /// allocation, visible to it: the relaxed load cannot miss it.)
    fn is_mimallocs(ptr: *mut u8) -> bool {
        // SAFETY: `mi_is_in_heap_region` only looks `ptr` up in mimalloc's page map, whatever it
        // points to, and answers false before mimalloc has allocated anything
        favours_speed() && unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast_const().cast()) }
    }
}

// SAFETY: every block comes from `System` or `MiMalloc`, both global allocators that uphold
// `GlobalAlloc`'s contract, and goes back to the one it came from (`is_mimallocs`) with the
// layout it was allocated with, as the caller passes it
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` is passed on as it is
        unsafe { if favours_speed() { MiMalloc.alloc(layout) } else { System.alloc(layout) } }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`
        unsafe { if favours_speed() { MiMalloc.alloc_zeroed(layout) } else { System.alloc_zeroed(layout) } }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` are a block of this allocator's, which came from the
        // allocator it goes back to
        unsafe { if Self::is_mimallocs(ptr) { MiMalloc.dealloc(ptr, layout) } else { System.dealloc(ptr, layout) } }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`; the new size is the caller's
        unsafe {
            if Self::is_mimallocs(ptr) {
                MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary's own allocator is not [`Allocator`]: here it is called directly, and
    /// switching it changes nothing for the other tests.
    #[test]
    fn blocks_go_back_to_the_allocator_they_came_from() {
        let small = Layout::from_size_align(24, 8).unwrap();
        let aligned = Layout::from_size_align(100, 64).unwrap();
        let fill = |ptr: *mut u8, len: usize, byte: u8| unsafe { std::ptr::write_bytes(ptr, byte, len) };
        let holds = |ptr: *mut u8, len: usize, byte: u8| unsafe {
            std::slice::from_raw_parts(ptr, len).iter().all(|&b| b == byte)
        };
        unsafe {
            // before the switch: glibc's
            let before = Allocator.alloc(small);
            fill(before, 24, 1);
            assert!(!Allocator::is_mimallocs(before));
            favour_speed();
            assert!(favours_speed());
            assert!(!Allocator::is_mimallocs(before), "a block from before stays glibc's");
            // after: mimalloc's, aligned as asked, zeroed when asked
            let after = Allocator.alloc(small);
            let over = Allocator.alloc(aligned);
            let zeroed = Allocator.alloc_zeroed(aligned);
            assert!(Allocator::is_mimallocs(after) && Allocator::is_mimallocs(over));
            assert_eq!(over as usize % 64, 0);
            assert!(holds(zeroed, 100, 0));
            fill(after, 24, 2);
            // a resized block keeps its bytes and its allocator
            let before = Allocator.realloc(before, small, 1 << 20);
            assert!(holds(before, 24, 1));
            assert!(!Allocator::is_mimallocs(before));
            let after = Allocator.realloc(after, small, 1 << 20);
            assert!(holds(after, 24, 2));
            assert!(Allocator::is_mimallocs(after));
            // and is freed by it, on whichever thread
            let big = Layout::from_size_align(1 << 20, 8).unwrap();
            let (before, after) = (before as usize, after as usize);
            std::thread::spawn(move || {
                Allocator.dealloc(before as *mut u8, big);
                Allocator.dealloc(after as *mut u8, big);
            })
            .join()
            .unwrap();
            Allocator.dealloc(over, aligned);
            Allocator.dealloc(zeroed, aligned);
        }
    }
}
