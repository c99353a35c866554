//! The plain records that are the contract between the stages: one [`TestResult`] per
//! test, and one [`RunResults`] per run (the content of `current.json` and
//! `baseline.json`).

use std::collections::BTreeMap;

use guestctl_stats::{Summary, Warning};
use serde::{Deserialize, Serialize};

use crate::fingerprint::Fingerprint;
use crate::targets::TargetCheck;

/// Version of the results file format (`schema_version`); bumped on any incompatible
/// change. Files with another version are refused with a clear error.
pub const SCHEMA_VERSION: u32 = 1;

/// The `format` tag of results files, so a stray JSON file is recognised as foreign.
pub const RESULTS_FORMAT: &str = "guestctl-perf-results";

/// Parameters of a test (disk type, package count, ...), recorded with its samples.
pub type Params = BTreeMap<String, String>;

/// Unit of the samples of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unit {
    /// Wall-clock nanoseconds (the default).
    #[default]
    Nanoseconds,
    /// Retired instructions (a deterministic count, e.g. from callgrind).
    Instructions,
    /// Bytes (memory).
    Bytes,
}

impl Unit {
    /// Formats `value` of this unit for humans (`1.23 ms`, `4.5 M instr`, `12.0 MiB`).
    pub fn format(&self, value: f64) -> String {
        match self {
            Unit::Nanoseconds => crate::units::format_ns(value),
            Unit::Instructions => crate::units::format_count(value, "instr"),
            Unit::Bytes => crate::units::format_bytes(value),
        }
    }
}

/// Whole-process figures of an external command (`guestctl perf bench`), one entry per
/// measured run, in the order of `TestResult::samples`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProcessStats {
    /// User CPU time of each run, in nanoseconds.
    pub user_ns: Vec<f64>,
    /// System CPU time of each run, in nanoseconds.
    pub sys_ns: Vec<f64>,
    /// Peak resident set size of each run, in bytes.
    pub max_rss_bytes: Vec<u64>,
    /// Exit code of each run (`None` when killed by a signal).
    pub exit_codes: Vec<Option<i32>>,
    /// The command line, for the record.
    pub command: Vec<String>,
}

/// Memory figures of an in-process test, measured by the counting allocator
/// ([`crate::memory`]): one entry per measured iteration, in the order of
/// `TestResult::samples`. Compared with a baseline like time ([`Metric`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MemoryStats {
    /// Bytes allocated by each iteration (every thread; a realloc counts its new size).
    pub alloc_bytes: Vec<f64>,
    /// Number of allocations of each iteration.
    pub alloc_count: Vec<f64>,
    /// Peak live heap bytes during each iteration, above the live bytes at its start.
    pub peak_heap_bytes: Vec<f64>,
}

/// A figure of a test that is compared with its baseline: time (or whatever the
/// samples hold) and the memory figures recorded beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Metric {
    /// The test's samples, in its unit (wall-clock time, or instructions).
    #[default]
    Samples,
    /// Bytes allocated per iteration (`memory.alloc_bytes`).
    AllocBytes,
    /// Peak live heap bytes per iteration (`memory.peak_heap_bytes`).
    PeakHeapBytes,
    /// Peak resident set per run of an external command (`process.max_rss_bytes`).
    PeakRssBytes,
}

impl Metric {
    /// The metrics compared besides the samples, in report order.
    pub const MEMORY: [Metric; 3] = [
        Metric::AllocBytes,
        Metric::PeakHeapBytes,
        Metric::PeakRssBytes,
    ];

    /// The metric's name in reports (`time` for nanosecond samples).
    pub fn label(&self, unit: Unit) -> &'static str {
        match self {
            Metric::Samples => match unit {
                Unit::Nanoseconds => "time",
                Unit::Instructions => "instructions",
                Unit::Bytes => "bytes",
            },
            Metric::AllocBytes => "alloc_bytes",
            Metric::PeakHeapBytes => "peak_heap_bytes",
            Metric::PeakRssBytes => "peak_rss_bytes",
        }
    }

    /// Whether this is the test's own samples (not a memory figure).
    pub fn is_samples(&self) -> bool {
        *self == Metric::Samples
    }
}

/// One test's result: everything later stages (compare, report, export) need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Unique test name, e.g. `mock_disk_generation/minimal`.
    pub name: String,
    /// Parameters the test ran with.
    #[serde(default)]
    pub params: Params,
    /// Unit of `samples`.
    #[serde(default)]
    pub unit: Unit,
    /// Number of warm-up iterations run and discarded before the samples.
    pub warmup: usize,
    /// Every measured sample, in `unit`, in measurement order (outliers included).
    pub samples: Vec<f64>,
    /// Statistics of `samples` (guestctl-stats).
    pub summary: Summary,
    /// Conditions that make the summary less trustworthy.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// Key of this test's operation in `perf-targets.toml`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The test's former name, when it was renamed (so the comparison pairs them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The result against the targets of `perf-targets.toml`, when the operation has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetCheck>,
    /// Peak resident set size seen while the test ran, in bytes (when measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    /// Median wall time of the machine-drift reference workload timed around this
    /// test (see [`crate::drift`]); compared runs use it to tell a slower machine
    /// from slower code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration_ns: Option<f64>,
    /// Median bytes allocated per iteration (when measured by the counting
    /// allocator; the samples are in `memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_bytes: Option<u64>,
    /// Per-iteration memory figures (when the counting allocator is installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
    /// Whole-process figures, for external commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessStats>,
}

impl TestResult {
    /// The per-iteration (or per-run) values of `metric` with their unit, when the
    /// test has them.
    pub fn metric_samples(&self, metric: Metric) -> Option<(Vec<f64>, Unit)> {
        let bytes = |v: &Vec<f64>| (!v.is_empty()).then(|| (v.clone(), Unit::Bytes));
        match metric {
            Metric::Samples => Some((self.samples.clone(), self.unit)),
            Metric::AllocBytes => self.memory.as_ref().and_then(|m| bytes(&m.alloc_bytes)),
            Metric::PeakHeapBytes => self.memory.as_ref().and_then(|m| bytes(&m.peak_heap_bytes)),
            Metric::PeakRssBytes => self.process.as_ref().and_then(|p| {
                let v: Vec<f64> = p.max_rss_bytes.iter().map(|b| *b as f64).collect();
                bytes(&v)
            }),
        }
    }
}

/// Settings a run was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Measured iterations per test requested (a test may override it).
    pub iterations: usize,
    /// Warm-up iterations per test.
    pub warmup: usize,
    /// The name of the measurement (`wall_clock`, ...).
    pub measurement: String,
    /// Notes on the run for the report (e.g. a peer comparison that was skipped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            iterations: 10,
            warmup: 1,
            measurement: "wall_clock".into(),
            notes: Vec::new(),
        }
    }
}

/// One run: the content of `current.json` / `baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// Always [`RESULTS_FORMAT`].
    pub format: String,
    /// When the run finished, RFC 3339 UTC (`2026-01-26T10:30:00Z`).
    pub timestamp: String,
    /// `git rev-parse HEAD` of the working tree, or `unknown`.
    pub git_commit: String,
    /// Where the run was made.
    pub machine: Fingerprint,
    /// How the run was made.
    pub settings: RunSettings,
    /// The tests, in run order.
    pub tests: Vec<TestResult>,
    /// The binary that measured the current side (`perf validate`), kept under
    /// `bin/` for later paired runs; absent in files written by other commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<crate::binaries::BinaryInfo>,
}

impl RunResults {
    /// The test named `name`.
    pub fn get(&self, name: &str) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.name == name)
    }
}
