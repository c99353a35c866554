//! Stages 1–2 (warm-up, measure) and 3 (analyse): run a [`Routine`] under a
//! [`Measurement`], keep every raw sample, then summarise them with guestctl-stats.
//!
//! The measurement is a trait so that the pipeline, the comparison and every export
//! can be tested with [`MockMeasurement`], free of timing noise.

use std::time::Instant;

use guestctl_stats::Options;

use crate::error::PerfError;
use crate::memory::{Probe, RssWatermark};
use crate::record::{MemoryStats, Params, TestResult, Unit};

/// Largest number of iterations (warm-up plus measured) of one test: a guard against
/// a typo such as `--iterations 1000000000` that would run for days and keep a
/// sample vector of gigabytes.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// The work of one test: an optional untimed preparation before each sample, and the
/// timed work itself. Closures `FnMut() -> Result<(), PerfError>` are routines.
pub trait Routine {
    /// Untimed, before each warm-up and measured iteration (default: nothing).
    fn prepare(&mut self) -> Result<(), PerfError> {
        Ok(())
    }
    /// The measured work.
    fn run(&mut self) -> Result<(), PerfError>;
}

impl<F: FnMut() -> Result<(), PerfError>> Routine for F {
    fn run(&mut self) -> Result<(), PerfError> {
        self()
    }
}

/// How one sample is taken.
pub trait Measurement {
    /// Short name recorded in results (`wall_clock`).
    fn name(&self) -> &'static str;
    /// Unit of the values returned by [`Measurement::measure`].
    fn unit(&self) -> Unit;
    /// Runs `routine.run()` once and returns the measured value.
    fn measure(&mut self, routine: &mut dyn Routine) -> Result<f64, PerfError>;
}

/// Wall-clock time in nanoseconds, by [`std::time::Instant`] (monotonic).
#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl Measurement for WallClock {
    fn name(&self) -> &'static str {
        "wall_clock"
    }
    fn unit(&self) -> Unit {
        Unit::Nanoseconds
    }
    fn measure(&mut self, routine: &mut dyn Routine) -> Result<f64, PerfError> {
        let start = Instant::now();
        routine.run()?;
        Ok(start.elapsed().as_nanos() as f64)
    }
}

/// A measurement that runs the routine but returns scripted values, cycling through
/// them: for deterministic tests of everything after the measurement.
#[derive(Debug, Clone)]
pub struct MockMeasurement {
    values: Vec<f64>,
    next: usize,
    unit: Unit,
}

impl MockMeasurement {
    /// Returns `values` in order, starting again after the last; `values` must not be
    /// empty (an empty list yields 1.0 each time).
    pub fn new(values: Vec<f64>) -> Self {
        MockMeasurement {
            values,
            next: 0,
            unit: Unit::Nanoseconds,
        }
    }

    /// The same, reporting `unit`.
    pub fn with_unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    /// How many values were handed out so far (warm-up included).
    pub fn calls(&self) -> usize {
        self.next
    }
}

impl Measurement for MockMeasurement {
    fn name(&self) -> &'static str {
        "mock"
    }
    fn unit(&self) -> Unit {
        self.unit
    }
    fn measure(&mut self, routine: &mut dyn Routine) -> Result<f64, PerfError> {
        routine.run()?;
        let v = if self.values.is_empty() {
            1.0
        } else {
            self.values[self.next % self.values.len()]
        };
        self.next += 1;
        Ok(v)
    }
}

/// Lifecycle hooks of a run (progress bars, logs); every hook defaults to nothing.
pub trait Observer {
    /// A test starts: `warmup + iterations` iterations will follow.
    fn test_started(&mut self, _name: &str, _warmup: usize, _iterations: usize) {}
    /// One iteration (warm-up or measured) finished.
    fn iteration_finished(&mut self, _name: &str, _warmup: bool) {}
    /// A test finished and was analysed.
    fn test_finished(&mut self, _result: &TestResult) {}
    /// A test failed.
    fn test_failed(&mut self, _name: &str, _error: &PerfError) {}
}

/// An observer that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;
impl Observer for NoObserver {}

/// The raw output of the measure stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRun {
    /// Test name.
    pub name: String,
    /// Test parameters.
    pub params: Params,
    /// Unit of the samples.
    pub unit: Unit,
    /// Warm-up iterations run and discarded.
    pub warmup: usize,
    /// The measured samples, in order.
    pub samples: Vec<f64>,
    /// Per-iteration memory figures, when the counting allocator is installed.
    pub memory: Option<MemoryStats>,
    /// Peak resident set over the measured iterations, when it could be read.
    pub peak_rss_bytes: Option<u64>,
}

/// Checks an iteration count: zero, or more than [`MAX_ITERATIONS`] with the warm-up,
/// is an error naming the test.
pub fn check_iterations(name: &str, iterations: usize, warmup: usize) -> Result<(), PerfError> {
    if name.trim().is_empty() {
        return Err(PerfError::invalid("a test needs a non-empty name"));
    }
    if iterations == 0 {
        return Err(PerfError::invalid(format!(
            "test {name}: iterations must be at least 1 (10 or more recommended), got 0"
        )));
    }
    if iterations.saturating_add(warmup) > MAX_ITERATIONS {
        return Err(PerfError::invalid(format!(
            "test {name}: {iterations} iterations + {warmup} warm-up exceed the limit of {MAX_ITERATIONS}"
        )));
    }
    Ok(())
}

/// Stages 1 and 2: `warmup` discarded iterations, then `iterations` measured ones.
pub fn run_routine(
    name: &str,
    params: Params,
    iterations: usize,
    warmup: usize,
    measurement: &mut dyn Measurement,
    routine: &mut dyn Routine,
    observer: &mut dyn Observer,
) -> Result<RawRun, PerfError> {
    check_iterations(name, iterations, warmup)?;
    observer.test_started(name, warmup, iterations);
    let wrap = |e: PerfError| e.with_context(name);
    for _ in 0..warmup {
        routine.prepare().map_err(wrap)?;
        measurement.measure(routine).map_err(wrap)?;
        observer.iteration_finished(name, true);
    }
    let mut samples = Vec::with_capacity(iterations);
    // Memory is read outside the measurement (a snapshot of a few atomics before and
    // after it), so the time samples do not include the probe.
    let mut memory = crate::memory::installed().then(|| MemoryStats {
        alloc_bytes: Vec::with_capacity(iterations),
        alloc_count: Vec::with_capacity(iterations),
        peak_heap_bytes: Vec::with_capacity(iterations),
    });
    let rss = RssWatermark::start();
    for _ in 0..iterations {
        routine.prepare().map_err(wrap)?;
        let probe = memory.as_ref().map(|_| Probe::start());
        let v = measurement.measure(routine).map_err(wrap)?;
        if let (Some(m), Some(p)) = (memory.as_mut(), probe) {
            let it = p.finish();
            m.alloc_bytes.push(it.alloc_bytes as f64);
            m.alloc_count.push(it.alloc_count as f64);
            m.peak_heap_bytes.push(it.peak_heap_bytes as f64);
        }
        if !v.is_finite() || v < 0.0 {
            return Err(PerfError::operation(format!(
                "test {name}: the measurement returned {v}, not a finite non-negative value"
            )));
        }
        samples.push(v);
        observer.iteration_finished(name, false);
    }
    Ok(RawRun {
        name: name.to_string(),
        params,
        unit: measurement.unit(),
        warmup,
        samples,
        memory,
        peak_rss_bytes: rss.peak_bytes(),
    })
}

/// Stage 3: summarises a raw run (statistics from guestctl-stats) into the result
/// record; targets are checked later by the suite.
pub fn analyse(raw: RawRun, opts: &Options) -> Result<TestResult, PerfError> {
    let summary = guestctl_stats::summarize(&raw.samples, opts)
        .map_err(|e| PerfError::from(e).with_context(&raw.name))?;
    let warnings = summary.warnings();
    Ok(TestResult {
        name: raw.name,
        params: raw.params,
        unit: raw.unit,
        warmup: raw.warmup,
        samples: raw.samples,
        summary,
        warnings,
        operation: None,
        renamed_from: None,
        target: None,
        calibration_ns: None,
        peak_rss_bytes: raw.peak_rss_bytes,
        allocated_bytes: raw
            .memory
            .as_ref()
            .and_then(|m| guestctl_stats::median(&m.alloc_bytes).ok())
            .map(|b| b.round() as u64),
        memory: raw.memory,
        process: None,
    })
}
