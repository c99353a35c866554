//! In-process flamegraphs: [`profile`] samples the call stacks of this process with
//! the `pprof` crate (a `SIGPROF` timer, ~1 kHz) while a closure runs, and returns
//! the flamegraph as an SVG (drawn by `inferno`). Linux only, behind the default
//! `flamegraph` feature.
//!
//! The profiler is process-wide: concurrent [`profile`] calls wait for each other (a
//! lock), and the samples include every thread of the process while it runs.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use guestctl_perf::measure::Routine;

use crate::error::{DashboardError, ErrorKind, Result};

/// Folder of flamegraphs inside the results directory.
pub const FLAMEGRAPH_DIR: &str = "flamegraphs";

/// Path of `test`'s flamegraph relative to the results directory (and to
/// `report.html`, which lives there): `flamegraphs/<name>.svg`, with every character
/// other than ASCII letters, digits, `-`, `_` and `.` replaced by `_` (test names
/// hold `/`), and at most 150 characters of name.
pub fn flamegraph_path(test: &str) -> String {
    let mut name: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    format!("{FLAMEGRAPH_DIR}/{name}.svg")
}

/// [`profile`] of a guestctl-perf [`Routine`]: each call runs `prepare()` then
/// `run()` (both are sampled); the first error stops the profile and is returned.
pub fn profile_routine(
    name: &str,
    iterations: usize,
    routine: &mut dyn Routine,
) -> Result<Vec<u8>> {
    let mut failed: Option<guestctl_perf::PerfError> = None;
    let svg = sample(name, iterations, || {
        match routine.prepare().and_then(|_| routine.run()) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    });
    if let Some(e) = failed {
        return Err(DashboardError::new(
            ErrorKind::Profiler,
            format!("profiling {name}: the operation failed: {e}"),
        )
        .with_source(e));
    }
    svg
}

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
    sample(name, iterations, || {
        f();
        true
    })
}

/// [`profile`] of `f`, which returns `false` to stop (then no report is built and an
/// error is returned).
fn sample<F: FnMut() -> bool>(name: &str, iterations: usize, mut f: F) -> Result<Vec<u8>> {
    // pprof allows one profiler per process; a panic while profiling poisons nothing
    // we rely on, so a poisoned lock is simply taken over.
    static PROFILER: Mutex<()> = Mutex::new(());
    let _one_at_a_time = PROFILER.lock().unwrap_or_else(|p| p.into_inner());
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
        if !f() {
            return Err(DashboardError::new(
                ErrorKind::Profiler,
                format!("profiling {name} stopped after {calls} calls"),
            ));
        }
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
