//! `perf-targets.toml`: the required target table (docs/requirements.md), our own tighter targets, and
//! per-test regression thresholds; and the met/missed check of a result.
//!
//! **Rule**: a target is *met* when the upper bound of the 95 % bootstrap confidence
//! interval of the median lies below it — the typical run is below the target with
//! confidence, not by luck of one fast sample. Otherwise it is *missed*.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, PerfError};
use crate::record::TestResult;

/// Largest targets file accepted (it is a hand-written table of a few KiB).
const MAX_TARGETS_FILE: u64 = 1 << 20;

/// Nanoseconds per millisecond.
const NS_PER_MS: f64 = 1e6;

/// Targets of one operation, in milliseconds as docs/requirements.md writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OperationTargets {
    /// What the operation is.
    #[serde(default)]
    pub description: String,
    /// The required table's "baseline" column (docs/requirements.md).
    pub spec_baseline_ms: Option<f64>,
    /// The required "week 4 target" column (an upper bound).
    pub spec_week4_target_ms: Option<f64>,
    /// The required "week 12 target" column (an upper bound).
    pub spec_week12_target_ms: Option<f64>,
    /// Our own, tighter target (an upper bound).
    pub target_ms: Option<f64>,
    /// Regression threshold for tests of this operation, in percent.
    pub regression_threshold_pct: Option<f64>,
}

/// Per-test overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TestOverrides {
    /// Regression threshold of this test, in percent.
    pub regression_threshold_pct: Option<f64>,
}

/// The content of `perf-targets.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Format version of the file (1).
    pub schema_version: u32,
    /// Default regression threshold in percent (5 when absent).
    pub default_threshold_pct: Option<f64>,
    /// Targets by operation key (`cache_lookup`, `appliance_launch`, ...).
    #[serde(default)]
    pub operations: BTreeMap<String, OperationTargets>,
    /// Overrides by exact test name.
    #[serde(default)]
    pub tests: BTreeMap<String, TestOverrides>,
}

/// Met or missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    /// The upper CI bound of the median is below the target.
    Met,
    /// It is not.
    Missed,
}

impl TargetStatus {
    /// `met` / `missed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetStatus::Met => "met",
            TargetStatus::Missed => "missed",
        }
    }
}

/// One result checked against its operation's targets (all figures in nanoseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// Operation key in `perf-targets.toml`.
    pub operation: String,
    /// The figure compared: upper bound of the median's confidence interval.
    pub median_ci_upper_ns: f64,
    /// Our own target, and whether it is met.
    pub target_ns: Option<f64>,
    /// Status against `target_ns`.
    pub status: Option<TargetStatus>,
    /// The required table's baseline (for "x× faster than the baseline").
    pub spec_baseline_ns: Option<f64>,
    /// The required week-12 target, and whether it is met.
    pub spec_week12_target_ns: Option<f64>,
    /// Status against `spec_week12_target_ns`.
    pub spec_week12_status: Option<TargetStatus>,
    /// The required week-4 target.
    pub spec_week4_target_ns: Option<f64>,
    /// Status against `spec_week4_target_ns`.
    pub spec_week4_status: Option<TargetStatus>,
}

impl Targets {
    /// Parses the TOML text of a targets file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Targets, PerfError> {
        let t: Targets = toml::from_str(text).map_err(|e| {
            PerfError::new(
                ErrorKind::Corrupt,
                format!("{} is not a valid targets file: {e}", origin.display()),
            )
            .with_path(origin)
        })?;
        if t.schema_version != 1 {
            return Err(PerfError::new(
                ErrorKind::Corrupt,
                format!(
                    "{} has schema_version {}, this guestctl reads version 1",
                    origin.display(),
                    t.schema_version
                ),
            )
            .with_path(origin));
        }
        t.validate(origin)?;
        Ok(t)
    }

    /// Loads `path`; a missing file gives empty targets (no checks).
    pub fn load_or_default(path: &Path) -> Result<Targets, PerfError> {
        use std::io::Read;
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Targets::default()),
            Err(e) => return Err(PerfError::io("reading", path, e)),
        };
        let mut text = String::new();
        f.take(MAX_TARGETS_FILE)
            .read_to_string(&mut text)
            .map_err(|e| PerfError::io("reading", path, e))?;
        Targets::parse(&text, path)
    }

    fn validate(&self, origin: &Path) -> Result<(), PerfError> {
        let bad = |what: String| {
            Err(
                PerfError::new(ErrorKind::Corrupt, format!("{}: {what}", origin.display()))
                    .with_path(origin),
            )
        };
        let thresholds = self
            .default_threshold_pct
            .iter()
            .map(|t| ("default_threshold_pct".to_string(), *t))
            .chain(self.operations.iter().filter_map(|(k, o)| {
                o.regression_threshold_pct
                    .map(|t| (format!("operations.{k}.regression_threshold_pct"), t))
            }))
            .chain(self.tests.iter().filter_map(|(k, o)| {
                o.regression_threshold_pct
                    .map(|t| (format!("tests.{k}.regression_threshold_pct"), t))
            }));
        for (key, t) in thresholds {
            if !(t.is_finite() && (0.0..100.0).contains(&t)) {
                return bad(format!("{key} must be in [0, 100), got {t}"));
            }
        }
        for (k, o) in &self.operations {
            for v in [
                o.spec_baseline_ms,
                o.spec_week4_target_ms,
                o.spec_week12_target_ms,
                o.target_ms,
            ]
            .into_iter()
            .flatten()
            {
                if !(v.is_finite() && v > 0.0) {
                    return bad(format!("operations.{k}: targets must be positive, got {v}"));
                }
            }
        }
        Ok(())
    }

    /// The default threshold in percent.
    pub fn default_threshold(&self) -> f64 {
        self.default_threshold_pct
            .unwrap_or(guestctl_stats::DEFAULT_THRESHOLD_PCT)
    }

    /// The operation key of `result`: its `operation` field, else its name, else the
    /// part of its name before the first `/` — when that key has targets.
    pub fn operation_of(&self, result: &TestResult) -> Option<String> {
        let candidates = [
            result.operation.as_deref(),
            Some(result.name.as_str()),
            result.name.split('/').next(),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|k| self.operations.contains_key(*k))
            .map(str::to_string)
    }

    /// The regression threshold of the test `name` (with `operation` key): the test's
    /// override, else the operation's, else `fallback`.
    pub fn threshold_for(&self, name: &str, operation: Option<&str>, fallback: f64) -> f64 {
        self.tests
            .get(name)
            .and_then(|t| t.regression_threshold_pct)
            .or_else(|| {
                operation
                    .and_then(|o| self.operations.get(o))
                    .and_then(|o| o.regression_threshold_pct)
            })
            .unwrap_or(fallback)
    }

    /// Checks a wall-clock `result` against its operation's targets; `None` when the
    /// result has no operation with targets or is not in nanoseconds.
    pub fn check(&self, result: &TestResult) -> Option<TargetCheck> {
        if result.unit != crate::record::Unit::Nanoseconds {
            return None;
        }
        let key = self.operation_of(result)?;
        let op = self.operations.get(&key)?;
        let upper = result.summary.median_ci.upper;
        let status = |ms: Option<f64>| {
            ms.map(|ms| {
                if upper < ms * NS_PER_MS {
                    TargetStatus::Met
                } else {
                    TargetStatus::Missed
                }
            })
        };
        let ns = |ms: Option<f64>| ms.map(|ms| ms * NS_PER_MS);
        Some(TargetCheck {
            operation: key.clone(),
            median_ci_upper_ns: upper,
            target_ns: ns(op.target_ms),
            status: status(op.target_ms),
            spec_baseline_ns: ns(op.spec_baseline_ms),
            spec_week12_target_ns: ns(op.spec_week12_target_ms),
            spec_week12_status: status(op.spec_week12_target_ms),
            spec_week4_target_ns: ns(op.spec_week4_target_ms),
            spec_week4_status: status(op.spec_week4_target_ms),
        })
    }
}
