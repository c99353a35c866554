//! Timing report for one ext4 image holding `/etc/os-release` and
//! `/var/lib/dpkg/status`:
//!
//! ```text
//! cargo run --release -p guestctl-fs --example timing -- IMAGE
//! ```
//!
//! Prints CPU time per operation on the calling thread, from
//! /proc/thread-self/schedstat, so a loaded machine does not inflate the figures
//! as wall-clock time would. A report to read, not a test: the criterion bench
//! (`benches/fs.rs`) gives wall time.

use guestctl_block::{BlockDevice, FileDevice};
use guestctl_fs::open;
use std::error::Error;
use std::sync::Arc;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// CPU nanoseconds this thread has run (the first field of schedstat).
fn cpu_ns() -> Result<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let first = s.split_whitespace().next().ok_or("empty schedstat")?;
    Ok(first.parse()?)
}

/// Mean CPU µs per call of `f`, run until 200 ms of CPU time have accumulated
/// (schedstat advances at scheduler ticks, so short totals would be noise).
fn per_op(mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let t = cpu_ns()?;
    let mut n = 0u64;
    while cpu_ns()? - t < 200_000_000 {
        for _ in 0..10 {
            f()?;
        }
        n += 10;
    }
    Ok((cpu_ns()? - t) as f64 / n as f64 / 1000.0)
}

fn report(name: &str, f: impl FnMut() -> Result<()>) -> Result<()> {
    println!("{name:<22}{:8.1} µs", per_op(f)?);
    Ok(())
}

fn main() -> Result<()> {
    let img = std::env::args_os()
        .nth(1)
        .ok_or("usage: timing IMAGE (an ext4 image)")?;
    let dev: Arc<dyn BlockDevice> = Arc::new(FileDevice::open(std::path::Path::new(&img))?);
    let fs = open(Arc::clone(&dev))?;
    report("open+read os-release:", || {
        let fs = open(Arc::clone(&dev))?;
        fs.read_file("/etc/os-release", 1 << 20)?;
        Ok(())
    })?;
    report("read os-release:", || {
        fs.read_file("/etc/os-release", 1 << 20)?;
        Ok(())
    })?;
    for path in ["/etc", "/etc/os-release", "/var/lib/dpkg/status"] {
        report(&format!("lstat {path}:"), || {
            std::hint::black_box(fs.lstat(path)?);
            Ok(())
        })?;
    }
    report("read_dir /etc:", || {
        fs.read_dir("/etc")?;
        Ok(())
    })?;
    report("read dpkg/status:", || {
        fs.read_file("/var/lib/dpkg/status", 1 << 30)?;
        Ok(())
    })
}
