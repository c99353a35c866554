//! Opt-in timing report (`cargo test --release -p guestctl-fs --test timing --
//! --ignored --nocapture`): CPU time per operation on the calling thread, from
//! /proc/thread-self/schedstat, so a loaded machine does not inflate the figures
//! as wall-clock time would. The criterion bench (`benches/fs.rs`) gives wall time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{BlockDevice, FileDevice};
use guestctl_fs::open;
use std::sync::Arc;

fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

/// Mean CPU µs per call of `f`, run until 200 ms of CPU time have accumulated
/// (schedstat advances at scheduler ticks, so short totals would be noise).
fn per_op(_hint: u32, mut f: impl FnMut()) -> f64 {
    f();
    let t = cpu_ns();
    let mut n = 0u64;
    while cpu_ns() - t < 200_000_000 {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    (cpu_ns() - t) as f64 / n as f64 / 1000.0
}

#[test]
#[ignore = "timing report; needs GUESTCTL_TIMING_IMAGE=<ext4 image with /etc/os-release, /var/lib/dpkg/status>"]
fn timing_report() {
    let Some(img) = std::env::var_os("GUESTCTL_TIMING_IMAGE") else {
        return;
    };
    let dev: Arc<dyn BlockDevice> = Arc::new(FileDevice::open(std::path::Path::new(&img)).unwrap());
    let fs = open(Arc::clone(&dev)).unwrap();
    println!(
        "open+read os-release: {:8.1} µs",
        per_op(200, || {
            let fs = open(Arc::clone(&dev)).unwrap();
            fs.read_file("/etc/os-release", 1 << 20).unwrap();
        })
    );
    println!(
        "read os-release:      {:8.1} µs",
        per_op(2000, || drop(
            fs.read_file("/etc/os-release", 1 << 20).unwrap()
        ))
    );
    println!(
        "lstat /etc:           {:8.1} µs",
        per_op(2000, || {
            std::hint::black_box(fs.lstat("/etc").unwrap());
        })
    );
    println!(
        "lstat os-release:     {:8.1} µs",
        per_op(2000, || {
            std::hint::black_box(fs.lstat("/etc/os-release").unwrap());
        })
    );
    println!(
        "lstat dpkg/status:    {:8.1} µs",
        per_op(2000, || {
            std::hint::black_box(fs.lstat("/var/lib/dpkg/status").unwrap());
        })
    );
    println!(
        "read_dir /etc:        {:8.1} µs",
        per_op(200, || drop(fs.read_dir("/etc").unwrap()))
    );
    println!(
        "read dpkg/status:     {:8.1} µs",
        per_op(50, || drop(
            fs.read_file("/var/lib/dpkg/status", 1 << 30).unwrap()
        ))
    );
}
