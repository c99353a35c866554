//! Run one test of the current test binary again in a child process under
//! `prlimit`, and check what it cost: peak resident memory under
//! [`PEAK_MEMORY_LIMIT`], wall time under [`HANG_GUARD`].
//!
//! The time bound is a hang guard, not a speed test: it is tens of times what the
//! work takes on a quiet machine, so a shared, noisy one stays far below it,
//! while a regression to the unbounded behaviour (minutes, gigabytes) fails.
//! `prlimit` also caps the child's address space and CPU time, so a regression
//! fails fast instead of swapping the machine.
//!
//! Self-contained (std only); crates include it with
//! `#[path = "…/tests/helpers/bounded_child.rs"] mod bounded_child;`. The child
//! test is `#[ignore]`d (it runs only through [`run_test_in_child`]) and ends with
//! [`report_peak`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Most resident memory a bounded operation may use.
pub const PEAK_MEMORY_LIMIT: u64 = 256 << 20;
/// Most address space the child may map (a regression aborts instead of swapping).
pub const ADDRESS_SPACE_LIMIT: u64 = 1 << 30;
/// Most wall time the child may take: a hang guard (see the module doc).
pub const HANG_GUARD: Duration = Duration::from_secs(5);
/// Printed by the child: its peak resident set in bytes.
const PEAK_LINE: &str = "bounded-child-peak-rss-bytes: ";

/// What the child used.
#[derive(Debug)]
pub struct ChildCost {
    /// Peak resident set size, in bytes (the child's `VmHWM`).
    pub peak_bytes: u64,
    /// Wall time, spawn to exit.
    pub wall: Duration,
}

/// True when `prlimit` is installed; panics when it is not and
/// `GUESTCTL_REQUIRE_TOOLS` is set.
pub fn have_prlimit() -> bool {
    let found = ["/usr/bin/prlimit", "/bin/prlimit"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !found {
        assert!(
            std::env::var_os("GUESTCTL_REQUIRE_TOOLS").is_none(),
            "prlimit (util-linux) is required but missing"
        );
        eprintln!("skipping: prlimit not installed");
    }
    found
}

/// The `prlimit` command with this module's limits, ready for the program to run.
pub fn prlimit() -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={ADDRESS_SPACE_LIMIT}"))
        .arg(format!("--cpu={}", HANG_GUARD.as_secs()))
        .arg("--")
        // One malloc arena: glibc reserves 64 MiB of address space per arena.
        .env("MALLOC_ARENA_MAX", "1");
    c
}

/// Run the `#[ignore]`d test `name` of this test binary under [`prlimit`]; assert
/// that it passed, peaked under [`PEAK_MEMORY_LIMIT`] and ended within
/// [`HANG_GUARD`]. `None` when `prlimit` is missing (and not required).
pub fn run_test_in_child(name: &str) -> Option<ChildCost> {
    if !have_prlimit() {
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let start = Instant::now();
    let out = prlimit()
        .arg(exe)
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} failed in its bounded child ({:?}, after {wall:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_bytes = stdout
        .lines()
        .find_map(|l| l.split_once(PEAK_LINE).map(|(_, v)| v))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} did not report its peak memory:\n{stdout}"));
    let cost = ChildCost { peak_bytes, wall };
    check(name, &cost);
    Some(cost)
}

/// Assert `cost` is within the bounds.
pub fn check(what: &str, cost: &ChildCost) {
    eprintln!(
        "{what}: peak {} KiB, {:?}",
        cost.peak_bytes >> 10,
        cost.wall
    );
    assert!(
        cost.peak_bytes < PEAK_MEMORY_LIMIT,
        "{what} peaked at {} MiB (limit {} MiB)",
        cost.peak_bytes >> 20,
        PEAK_MEMORY_LIMIT >> 20
    );
    assert!(
        cost.wall < HANG_GUARD,
        "{what} took {:?}, over the hang guard of {HANG_GUARD:?}",
        cost.wall
    );
}

/// In the child: print this process's peak resident set (`VmHWM`) for the parent.
pub fn report_peak() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    // On its own line: the test harness has printed "test NAME ... " without one.
    println!("\n{PEAK_LINE}{}", kib * 1024);
}
