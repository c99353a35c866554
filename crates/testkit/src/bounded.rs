//! Run one test of the current test binary again in a child process under
//! `prlimit`, and check what it cost: peak resident memory under
//! [`PEAK_MEMORY_LIMIT`], CPU time under [`CPU_LIMIT`], wall time under
//! [`HANG_GUARD`].
//!
//! The time bounds are hang guards, not speed tests: the CPU bound is tens of
//! times what the work takes (CPU time, not wall time, so a loaded shared machine
//! does not count against it), and the wall bound only catches a child blocked
//! for good; a regression to the unbounded behaviour (minutes, gigabytes) fails
//! either. `prlimit` also caps the child's address space and CPU time, so a
//! regression fails fast instead of swapping the machine.
//!
//! The child test is `#[ignore]`d (it runs only through [`run_test_in_child`])
//! and ends with [`report_peak`]. Without `prlimit` the rule of
//! [`tool`](crate::tool) applies: skipped, or failed under
//! [`REQUIRE_TOOLS`](crate::REQUIRE_TOOLS).
// Test support: a failed expectation is a panic, as in the tests that call it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Most resident memory a bounded operation may use.
pub const PEAK_MEMORY_LIMIT: u64 = 256 << 20;
/// Most address space the child may map (a regression aborts instead of swapping).
pub const ADDRESS_SPACE_LIMIT: u64 = 1 << 30;
/// Most CPU time the child may use (see the module doc).
pub const CPU_LIMIT: Duration = Duration::from_secs(5);
/// Most wall time the child may take: a guard against a child that blocks.
pub const HANG_GUARD: Duration = Duration::from_secs(60);
/// Printed by the child: its peak resident set in bytes.
const PEAK_LINE: &str = "bounded-child-peak-rss-bytes: ";
/// Printed by the child: its CPU time so far, in nanoseconds.
const CPU_LINE: &str = "bounded-child-cpu-ns: ";

/// What the child used.
#[derive(Debug)]
pub struct ChildCost {
    /// Peak resident set size, in bytes (the child's `VmHWM`).
    pub peak_bytes: u64,
    /// CPU time (user and system) of the work.
    pub cpu: Duration,
    /// Wall time, spawn to exit.
    pub wall: Duration,
}

/// The `prlimit` command (at `program`) with this module's limits, ready for the
/// program to run.
pub fn prlimit(program: &Path) -> Command {
    let mut c = Command::new(program);
    c.arg(format!("--as={ADDRESS_SPACE_LIMIT}"))
        .arg(format!("--cpu={}", CPU_LIMIT.as_secs()))
        .arg("--")
        // One malloc arena: glibc reserves 64 MiB of address space per arena.
        .env("MALLOC_ARENA_MAX", "1");
    c
}

/// Run the `#[ignore]`d test `name` of this test binary under [`prlimit`]; assert
/// that it passed, peaked under [`PEAK_MEMORY_LIMIT`], used less than
/// [`CPU_LIMIT`] and ended within [`HANG_GUARD`]. `None` when `prlimit` is
/// missing (and not required).
pub fn run_test_in_child(name: &str) -> Option<ChildCost> {
    run_test_in_child_with(name, &[])
}

/// [`run_test_in_child`] with extra environment for the child (inputs the parent
/// prepared, so that their making is not counted).
pub fn run_test_in_child_with(name: &str, env: &[(&str, &Path)]) -> Option<ChildCost> {
    let prlimit_bin = crate::tool("prlimit")?;
    let exe = std::env::current_exe().unwrap();
    let start = Instant::now();
    let out = prlimit(&prlimit_bin)
        .arg(exe)
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().copied())
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
    let reported = |line: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.split_once(line).map(|(_, v)| v))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} did not report {line}:\n{stdout}"))
    };
    let cost = ChildCost {
        peak_bytes: reported(PEAK_LINE),
        cpu: Duration::from_nanos(reported(CPU_LINE)),
        wall,
    };
    check(name, &cost);
    Some(cost)
}

/// Assert `cost` is within the bounds.
pub fn check(what: &str, cost: &ChildCost) {
    eprintln!(
        "{what}: peak {} KiB, CPU {:?}, wall {:?}",
        cost.peak_bytes >> 10,
        cost.cpu,
        cost.wall
    );
    assert!(
        cost.peak_bytes < PEAK_MEMORY_LIMIT,
        "{what} peaked at {} MiB (limit {} MiB)",
        cost.peak_bytes >> 20,
        PEAK_MEMORY_LIMIT >> 20
    );
    assert!(
        cost.cpu < CPU_LIMIT,
        "{what} used {:?} of CPU, over {CPU_LIMIT:?}",
        cost.cpu
    );
    assert!(
        cost.wall < HANG_GUARD,
        "{what} took {:?}, over the hang guard of {HANG_GUARD:?}",
        cost.wall
    );
}

/// In the child: print this process's peak resident set (`VmHWM`) and CPU time
/// (user and system, from `/proc/self/stat`) for the parent.
pub fn report_peak() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    // On its own line: the test harness has printed "test NAME ... " without one.
    println!("\n{PEAK_LINE}{}", kib * 1024);
    // utime and stime (fields 14 and 15, all threads) in USER_HZ ticks: 100 a
    // second on Linux. Counted after the command name, which may hold spaces.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = stat.rsplit_once(')').expect("/proc/self/stat").1;
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse::<u64>().expect("utime/stime"))
        .sum();
    let cpu_ns = ticks * 10_000_000;
    println!("{CPU_LINE}{cpu_ns}");
}
