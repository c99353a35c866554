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
            Unit::Nanoseconds => crate::report::format_ns(value),
            Unit::Instructions => crate::report::format_count(value, "instr"),
            Unit::Bytes => crate::report::format_bytes(value),
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
    /// Bytes allocated per iteration (when measured by a counting allocator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_bytes: Option<u64>,
    /// Whole-process figures, for external commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessStats>,
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
}

impl RunResults {
    /// The test named `name`.
    pub fn get(&self, name: &str) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.name == name)
    }
}
