//! The only unsafe code of the crate: `wait4(2)` to reap a child with its resource
//! usage (user and system time, peak RSS), which `std` does not expose.
#![allow(unsafe_code)]

use std::io;
use std::process::Child;
use std::time::Duration;

/// How a child ended and what it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUsage {
    /// Exit code, when it exited normally.
    pub exit_code: Option<i32>,
    /// Terminating signal, when killed by one.
    pub signal: Option<i32>,
    /// User CPU time.
    pub user: Duration,
    /// System CPU time.
    pub sys: Duration,
    /// Peak resident set size in bytes.
    pub max_rss_bytes: u64,
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0).min(999_999);
    Duration::new(secs, micros * 1000)
}

/// Waits for `child` with `wait4`, returning its status and resource usage. The child
/// is reaped here; `child` must not have been waited for.
pub fn wait_with_usage(child: Child) -> io::Result<ChildUsage> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| io::Error::other("child pid out of range"))?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is a plain C struct of integers and timevals, for which the
    // all-zero bit pattern is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own un-reaped child (we own its `Child`, which has not
        // been waited for); `status` and `usage` are valid, exclusive pointers to
        // initialised memory that live across the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if r == -1 && err.kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return Err(err);
    }
    // The child is reaped; dropping `Child` neither waits nor kills.
    drop(child);
    let exited = libc::WIFEXITED(status);
    let signaled = libc::WIFSIGNALED(status);
    // ru_maxrss is in kilobytes on Linux.
    let max_rss_bytes = u64::try_from(usage.ru_maxrss)
        .unwrap_or(0)
        .saturating_mul(1024);
    Ok(ChildUsage {
        exit_code: exited.then(|| libc::WEXITSTATUS(status)),
        signal: signaled.then(|| libc::WTERMSIG(status)),
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        max_rss_bytes,
    })
}
