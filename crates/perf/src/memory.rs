//! Memory per operation: a counting global allocator ([`CountingAlloc`]) and the
//! per-iteration figures the measure stage reads from it ([`Probe`]), plus the
//! process's resident-set high-water mark ([`RssWatermark`], Linux `/proc`).
//!
//! The binary that runs the suite installs the allocator (guestctl's `main.rs`):
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: CountingAlloc<mimalloc::MiMalloc> = CountingAlloc::new(mimalloc::MiMalloc);
//! ```
//!
//! It wraps another allocator (the binary's, `mimalloc`; [`System`] in tests) and,
//! while counting is enabled ([`set_counting`]; off until
//! turned on, so that other commands of the binary pay one relaxed load per
//! allocation), adds the bytes and number of allocations and the net heap bytes with
//! their peak to counters of the allocating thread (one cache line per thread, written
//! only by it with plain loads and stores — no locked instruction, so counting costs a
//! few nanoseconds per allocation). Readers sum the threads' counters: every thread's
//! allocations (rayon workers of a batch included) are counted. The peak is the sum
//! of each thread's own peak: exact for single-threaded work, an upper bound when
//! several threads allocate at once. A `realloc` counts as
//! an allocation of the new size (the bytes a program asks for, as dhat counts them).
//! Where the allocator is not installed (e.g. a library's unit tests),
//! [`installed`] is false and no memory figures are recorded.
//!
//! This is the crate's second module with unsafe code (implementing [`GlobalAlloc`]
//! is unsafe by definition); every block says why it is sound.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Threads with a counter slot of their own; later threads share the last slot.
const SLOTS: usize = 128;

/// One thread's counters, on a cache line of its own. Only the owning thread writes
/// `allocated`, `count` and `net` (plain load + store, no locked instruction: this
/// is what keeps counting cheap); readers sum all slots. The shared overflow slot
/// uses atomic read-modify-writes instead.
#[repr(align(64))]
struct Slot {
    allocated: AtomicU64,
    count: AtomicU64,
    /// Bytes allocated minus bytes freed by this thread (negative when it frees
    /// memory another thread allocated).
    net: AtomicI64,
    /// Highest `net` since the last reset.
    peak: AtomicI64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            allocated: AtomicU64::new(0),
            count: AtomicU64::new(0),
            net: AtomicI64::new(0),
            peak: AtomicI64::new(0),
        }
    }
}

static COUNTERS: [Slot; SLOTS + 1] = [const { Slot::new() }; SLOTS + 1];
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A `const` initialiser and no destructor: reading it never allocates, so it is
    // usable inside the allocator, even while the thread exits.
    static MY_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// A global allocator that delegates to `A` and counts (see the module docs).
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc<A = System> {
    inner: A,
}

impl<A> CountingAlloc<A> {
    /// Count the allocations made through `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

#[inline]
fn slot() -> usize {
    MY_SLOT.with(|c| {
        let s = c.get();
        if s != usize::MAX {
            return s;
        }
        let s = NEXT_SLOT.fetch_add(1, Relaxed).min(SLOTS);
        c.set(s);
        s
    })
}

#[inline]
fn on_alloc(size: usize) {
    if !ENABLED.load(Relaxed) {
        return;
    }
    let i = slot();
    let s = &COUNTERS[i];
    let size64 = size as i64;
    if i == SLOTS {
        // The shared overflow slot: atomic read-modify-writes.
        s.allocated.fetch_add(size as u64, Relaxed);
        s.count.fetch_add(1, Relaxed);
        let net = s.net.fetch_add(size64, Relaxed).wrapping_add(size64);
        s.peak.fetch_max(net, Relaxed);
        return;
    }
    s.allocated
        .store(s.allocated.load(Relaxed).wrapping_add(size as u64), Relaxed);
    s.count
        .store(s.count.load(Relaxed).wrapping_add(1), Relaxed);
    let net = s.net.load(Relaxed).wrapping_add(size64);
    s.net.store(net, Relaxed);
    if net > s.peak.load(Relaxed) {
        s.peak.store(net, Relaxed);
    }
}

#[inline]
fn on_free(size: usize) {
    if !ENABLED.load(Relaxed) {
        return;
    }
    let i = slot();
    let s = &COUNTERS[i];
    if i == SLOTS {
        s.net.fetch_sub(size as i64, Relaxed);
        return;
    }
    // Freeing never raises the peak.
    s.net
        .store(s.net.load(Relaxed).wrapping_sub(size as i64), Relaxed);
}

// SAFETY: every method forwards to `self.inner` with the caller's own arguments, so
// the contract of `GlobalAlloc` (valid layouts, pointers from this allocator, sizes)
// is exactly the one the inner allocator is given; the counting touches only atomics
// and never allocates (which would recurse).
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout (non-zero size, per the contract).
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `self.inner`, with
        // `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        on_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `self.inner` with `layout`; `new_size` is the
        // caller's, valid per the contract.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            on_free(layout.size());
            on_alloc(new_size);
        }
        p
    }
}

/// The allocator's counters at one moment, summed over threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Bytes allocated since the start (never decreases).
    pub allocated: u64,
    /// Allocations since the start.
    pub count: u64,
    /// Net heap bytes: allocated minus freed while counting.
    pub live: i64,
    /// Sum over threads of each thread's highest net bytes since the last
    /// [`Probe::start`] (exact for one thread; an upper bound of the process's peak
    /// when several threads allocate at once).
    pub peak: i64,
}

fn used_slots() -> &'static [Slot] {
    &COUNTERS[..NEXT_SLOT.load(Relaxed).min(SLOTS)]
}

/// The counters now.
pub fn counters() -> Counters {
    let mut c = Counters::default();
    for s in used_slots().iter().chain(std::iter::once(&COUNTERS[SLOTS])) {
        c.allocated = c.allocated.wrapping_add(s.allocated.load(Relaxed));
        c.count = c.count.wrapping_add(s.count.load(Relaxed));
        c.live = c.live.wrapping_add(s.net.load(Relaxed));
        c.peak = c.peak.wrapping_add(s.peak.load(Relaxed));
    }
    c
}

/// Restarts every thread's peak from its current net bytes.
fn reset_peaks() {
    for s in used_slots().iter().chain(std::iter::once(&COUNTERS[SLOTS])) {
        s.peak.store(s.net.load(Relaxed), Relaxed);
    }
}

/// Turns counting on or off (off at start); returns the previous state. Off, the
/// allocator costs one relaxed load per call.
pub fn set_counting(on: bool) -> bool {
    ENABLED.swap(on, Relaxed)
}

/// Whether counting is on.
pub fn counting() -> bool {
    ENABLED.load(Relaxed)
}

/// Whether [`CountingAlloc`] is this process's global allocator (and counting is on):
/// an allocation made here moves the counters.
pub fn installed() -> bool {
    if !counting() {
        return false;
    }
    let before = counters().allocated;
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(64));
    let after = counters().allocated;
    drop(v);
    after > before
}

/// One iteration's memory figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IterationMemory {
    /// Bytes allocated during the iteration.
    pub alloc_bytes: u64,
    /// Allocations during the iteration.
    pub alloc_count: u64,
    /// Peak heap bytes during the iteration above the level at its start (see
    /// [`Counters::peak`]).
    pub peak_heap_bytes: u64,
}

/// Brackets one iteration: [`Probe::start`] before, [`Probe::finish`] after.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    start: Counters,
}

impl Probe {
    /// Snapshots the counters and restarts the peak from the live bytes now.
    pub fn start() -> Probe {
        reset_peaks();
        Probe { start: counters() }
    }

    /// The figures since [`Probe::start`].
    pub fn finish(&self) -> IterationMemory {
        let now = counters();
        IterationMemory {
            alloc_bytes: now.allocated.saturating_sub(self.start.allocated),
            alloc_count: now.count.saturating_sub(self.start.count),
            peak_heap_bytes: u64::try_from(now.peak.saturating_sub(self.start.live)).unwrap_or(0),
        }
    }
}

/// The resident-set high-water mark of this process over a stretch of work: reset
/// by writing `5` to `/proc/self/clear_refs` (Linux ≥ 4.0), read as `VmHWM` from
/// `/proc/self/status`. `None` where either is unavailable.
#[derive(Debug, Clone, Copy)]
pub struct RssWatermark {
    reset: bool,
}

impl RssWatermark {
    /// Resets the high-water mark to the current resident set (when possible).
    pub fn start() -> RssWatermark {
        let reset = std::fs::write("/proc/self/clear_refs", b"5").is_ok();
        RssWatermark { reset }
    }

    /// The peak resident set since [`RssWatermark::start`], in bytes; `None` when it
    /// could not be reset or read (the process-lifetime peak would be misleading).
    pub fn peak_bytes(&self) -> Option<u64> {
        if !self.reset {
            return None;
        }
        read_vm_hwm()
    }
}

/// `VmHWM` of `/proc/self/status`, in bytes.
pub fn read_vm_hwm() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&s)
}

/// The `VmHWM:   1234 kB` line of a `/proc/<pid>/status` text, in bytes.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut it = line["VmHWM:".len()..].split_whitespace();
    let kb: u64 = it.next()?.parse().ok()?;
    match it.next() {
        Some("kB") | None => kb.checked_mul(1024),
        Some(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_parsed() {
        let s = "Name:\tx\nVmPeak:\t  100 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 10 kB\n";
        assert_eq!(parse_vm_hwm(s), Some(2048 * 1024));
        assert_eq!(parse_vm_hwm("VmHWM: lots kB\n"), None);
        assert_eq!(parse_vm_hwm("VmRSS: 1 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM: 1 MB\n"), None);
    }

    #[test]
    fn not_installed_in_unit_tests() {
        // This test binary uses the system allocator: nothing is counted, and the
        // measure stage must therefore record no memory figures.
        assert!(!installed());
    }

    #[test]
    fn rss_watermark_reads_on_linux() {
        let w = RssWatermark::start();
        let v = vec![1u8; 8 << 20];
        std::hint::black_box(&v);
        if cfg!(target_os = "linux") {
            let peak = w.peak_bytes().expect("VmHWM after clear_refs");
            assert!(peak >= 8 << 20, "{peak}");
        }
    }
}
