//! In-process flamegraphs: [`profile`] samples the call stacks of this process with
//! the `pprof` crate (a `SIGPROF` timer, ~1 kHz) while a closure runs, and returns
//! the flamegraph as an SVG (drawn by `inferno`). Linux only, behind the default
//! `flamegraph` feature.
//!
//! The profiler is process-wide: only one [`profile`] can run at a time (a second
//! concurrent call returns an [`ErrorKind::Profiler`] error), and the samples include
//! every thread of the process while it runs.

use std::time::{Duration, Instant};

use crate::error::{DashboardError, ErrorKind, Result};

/// Sampling frequency in Hz (a prime, so it does not beat with periodic work).
pub const SAMPLING_HZ: i32 = 997;

/// Shortest profile: the closure is repeated beyond `iterations` until this much time
/// has passed, so a fast operation still gets a few hundred samples.
pub const MIN_PROFILE_TIME: Duration = Duration::from_millis(300);

/// Most calls of the closure in one profile (bounds the repetition of very fast work).
pub const MAX_PROFILE_ITERATIONS: usize = 10_000_000;

/// Runs `f` `iterations` times (and more, until [`MIN_PROFILE_TIME`] has passed, at
/// most [`MAX_PROFILE_ITERATIONS`] calls) under the sampling profiler, and returns
/// the flamegraph SVG titled `name`. Errors when the profiler cannot start (another
/// profile is running, the timer cannot be set) or no sample was taken.
pub fn profile<F: FnMut()>(name: &str, iterations: usize, mut f: F) -> Result<Vec<u8>> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(SAMPLING_HZ)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .map_err(|e| {
            DashboardError::new(
                ErrorKind::Profiler,
                format!("cannot start the profiler for {name}: {e}"),
            )
            .with_source(e)
        })?;
    let start = Instant::now();
    let mut calls = 0usize;
    while calls < MAX_PROFILE_ITERATIONS
        && (calls < iterations || start.elapsed() < MIN_PROFILE_TIME)
    {
        f();
        calls += 1;
    }
    let report = guard.report().build().map_err(|e| {
        DashboardError::new(
            ErrorKind::Profiler,
            format!("cannot build the profile of {name}: {e}"),
        )
        .with_source(e)
    })?;
    drop(guard);
    if report.data.is_empty() {
        return Err(DashboardError::new(
            ErrorKind::Profiler,
            format!(
                "the profile of {name} has no samples (is SIGPROF blocked, or did the work \
                 take no CPU time?)"
            ),
        ));
    }
    let mut options = pprof::flamegraph::Options::default();
    options.title = format!("guestctl perf: {name} ({calls} calls)");
    let mut svg = Vec::new();
    report
        .flamegraph_with_options(&mut svg, &mut options)
        .map_err(|e| {
            DashboardError::new(
                ErrorKind::Profiler,
                format!("cannot draw the flamegraph of {name}: {e}"),
            )
            .with_source(e)
        })?;
    Ok(svg)
}
