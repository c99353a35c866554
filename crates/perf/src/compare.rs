//! Stage 4 (compare): pair the tests of a current run with a baseline run, classify
//! each with guestctl-stats ([`compare_suite`], Holm-corrected across the suite), and
//! report new, missing and renamed tests as such. The classification lives here, not
//! in any reporter.

use guestctl_stats::{compare_suite, geometric_mean, Comparison, Options, Verdict};
use serde::{Deserialize, Serialize};

use crate::fingerprint::Fingerprint;
use crate::record::{Metric, RunResults, TestResult, Unit};
use crate::targets::Targets;

/// Where a run came from (the header of a results file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// RFC 3339 timestamp.
    pub timestamp: String,
    /// Git commit.
    pub git_commit: String,
    /// Machine fingerprint.
    pub machine: Fingerprint,
}

impl RunInfo {
    /// The header of `run`.
    pub fn of(run: &RunResults) -> RunInfo {
        RunInfo {
            timestamp: run.timestamp.clone(),
            git_commit: run.git_commit.clone(),
            machine: run.machine.clone(),
        }
    }
}

/// How a test of either run was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchStatus {
    /// In both runs under the same name: compared.
    Compared,
    /// In both runs, under its former name in the baseline: compared.
    Renamed,
    /// Only in the current run.
    New,
    /// Only in the baseline.
    Missing,
    /// In both, but the comparison could not be made (see `error`).
    Error,
}

/// How a figure was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Samples of two separate runs, rank test and Holm: run-to-run machine noise
    /// is not controlled ([`UNPAIRED_LABEL`]).
    #[default]
    Unpaired,
    /// Both builds measured in alternating rounds of one session (the per-round log
    /// ratio of medians, t interval and test, Holm across the time comparisons).
    Paired,
    /// A deterministic figure (allocation bytes and counts, peak heap, instruction
    /// counts): the ratio of medians against the threshold, not hypothesis-tested,
    /// outside the Holm family and the verdict counts.
    Deterministic,
}

impl Method {
    /// The name in reports: `unpaired`, `paired`, `deterministic`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Unpaired => "unpaired",
            Method::Paired => "paired",
            Method::Deterministic => "deterministic",
        }
    }
}

/// What every report says of an unpaired comparison.
pub const UNPAIRED_LABEL: &str = "unpaired: run-to-run machine noise not controlled";

/// The paired figures of a test compared in rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedDetail {
    /// Number of ABBA rounds.
    pub rounds: usize,
    /// Iterations per side per block (each round has two blocks per side).
    pub block_iterations: usize,
    /// The t interval of the ratio (also in `comparison.hl_ci`).
    pub interval: guestctl_stats::ConfidenceInterval,
    /// Wilcoxon signed-rank p-value of the per-round log ratios (not corrected).
    pub wilcoxon_p: f64,
}

/// One test of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestComparison {
    /// Current name (the baseline name for a missing test).
    pub name: String,
    /// Name in the baseline, when it differs (renamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_name: Option<String>,
    /// How the test was matched.
    pub status: MatchStatus,
    /// The figure compared: the test's samples (time or instructions), or one of its
    /// memory figures (a test has one entry per metric both runs recorded).
    #[serde(default, skip_serializing_if = "Metric::is_samples")]
    pub metric: Metric,
    /// Unit of the medians.
    pub unit: Unit,
    /// Median of the baseline samples.
    pub baseline_median: Option<f64>,
    /// Median of the current samples.
    pub current_median: Option<f64>,
    /// The statistical comparison (compared and renamed tests).
    pub comparison: Option<Comparison>,
    /// Why the comparison could not be made (status `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The machine's own change around this test: the drift reference workload's
    /// current/baseline ratio (see [`crate::drift`]), when both runs measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_drift: Option<f64>,
    /// Why the statistical verdict was weakened to inconclusive (machine drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How the figure was compared.
    #[serde(default)]
    pub method: Method,
    /// Rounds and interval of a paired comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<PairedDetail>,
}

impl TestComparison {
    /// The test's name, followed by the metric in brackets for a memory figure
    /// (`cache_lookup [alloc_bytes]`).
    pub fn label(&self) -> String {
        if self.metric.is_samples() {
            self.name.clone()
        } else {
            format!("{} [{}]", self.name, self.metric.label(self.unit))
        }
    }

    /// The verdict, for compared and renamed tests.
    pub fn verdict(&self) -> Option<Verdict> {
        self.comparison.as_ref().map(|c| c.verdict)
    }
}

/// Settings of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareConfig {
    /// Default regression threshold in percent.
    pub threshold_pct: f64,
    /// Per-test and per-operation threshold overrides.
    pub targets: Targets,
    /// Statistics options (confidence, resamples, seed).
    pub options: Options,
}

impl CompareConfig {
    /// `threshold_pct` with no overrides and default statistics options.
    pub fn new(threshold_pct: f64) -> Self {
        CompareConfig {
            threshold_pct,
            targets: Targets::default(),
            options: Options::default(),
        }
    }
}

/// The comparison of a current run with a baseline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// Default threshold used, in percent.
    pub threshold_pct: f64,
    /// The baseline's header.
    pub baseline: RunInfo,
    /// The current run's header.
    pub current: RunInfo,
    /// Fingerprint fields that differ (`field: current ≠ baseline`); when not empty
    /// the comparison is of different machines or builds, and says so loudly.
    pub fingerprint_differences: Vec<String>,
    /// Every test of either run: current order first, then missing ones.
    pub tests: Vec<TestComparison>,
    /// Geometric mean of the ratios of the compared tests' samples (current/baseline;
    /// memory figures are not included).
    pub overall_ratio: Option<f64>,
}

impl BaselineComparison {
    /// Whether any test regressed.
    pub fn has_regressions(&self) -> bool {
        self.tests
            .iter()
            .any(|t| t.verdict() == Some(Verdict::Regression))
    }

    fn with_verdict(&self, v: Verdict) -> Vec<&TestComparison> {
        self.tests
            .iter()
            .filter(|t| t.verdict() == Some(v))
            .collect()
    }

    /// Tests significantly faster beyond their threshold.
    pub fn improvements(&self) -> Vec<&TestComparison> {
        self.with_verdict(Verdict::Improvement)
    }
    /// Tests significantly slower beyond their threshold.
    pub fn regressions(&self) -> Vec<&TestComparison> {
        self.with_verdict(Verdict::Regression)
    }
    /// Tests without a change worth reporting.
    pub fn unchanged(&self) -> Vec<&TestComparison> {
        self.with_verdict(Verdict::Unchanged)
    }
    /// Tests whose data cannot tell (reported, never failed).
    pub fn inconclusive(&self) -> Vec<&TestComparison> {
        self.with_verdict(Verdict::Inconclusive)
    }
    /// Tests with status `s`.
    pub fn with_status(&self, s: MatchStatus) -> Vec<&TestComparison> {
        self.tests.iter().filter(|t| t.status == s).collect()
    }

    /// Whether the two runs come from different machines or builds.
    pub fn fingerprint_mismatch(&self) -> bool {
        !self.fingerprint_differences.is_empty()
    }

    /// Overall change in percent, `(geometric mean of ratios − 1)·100`.
    pub fn overall_change_pct(&self) -> Option<f64> {
        self.overall_ratio.map(|r| (r - 1.0) * 100.0)
    }

    /// The process exit status this comparison calls for: 2 with a regression, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.has_regressions() {
            crate::EXIT_REGRESSION
        } else {
            crate::EXIT_OK
        }
    }

    /// The Markdown comparison section (see [`crate::report::markdown_comparison`]).
    pub fn generate_report(&self) -> String {
        crate::report::markdown_comparison(self)
    }
}

/// Why a pair cannot be compared, checked before the statistics so that one bad test
/// does not prevent the others (and Holm counts only the comparable ones).
fn unusable(base: &TestResult, cur: &TestResult, threshold: f64) -> Option<String> {
    if base.unit != cur.unit {
        return Some(format!(
            "units differ: baseline {:?}, current {:?}",
            base.unit, cur.unit
        ));
    }
    if !(threshold.is_finite() && (0.0..100.0).contains(&threshold)) {
        return Some(format!(
            "threshold must be in [0, 100) percent, got {threshold}"
        ));
    }
    for (which, t) in [("baseline", base), ("current", cur)] {
        if t.samples.is_empty() {
            return Some(format!("the {which} has no samples"));
        }
        if let Some(i) = t.samples.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
            return Some(format!(
                "{which} sample {i} is {} (ratios need positive values; a 0 ns sample means the \
                 work is below the timer's resolution: measure more work per iteration)",
                t.samples[i]
            ));
        }
    }
    None
}

/// The deterministic rule: `ratio = median(current)/median(baseline)` against the
/// threshold, with no hypothesis test. A figure that repeats exactly on both sides
/// (allocations of single-threaded work) is decided by the ratio alone. One that
/// varies within a run (the peak heap of work spread over threads depends on their
/// scheduling) counts as a regression only when every current value exceeds every
/// baseline value by more than the threshold (`min(current) > max(baseline)·(1 + t)`),
/// as an improvement the other way, and is inconclusive when its ratio is beyond the
/// threshold but the ranges do not separate. The interval shown is the ratio itself;
/// the p-values are 0 for a change beyond the threshold and 1 otherwise.
pub fn deterministic(baseline: &[f64], current: &[f64], threshold_pct: f64) -> Option<Comparison> {
    let b = guestctl_stats::median(baseline).ok()?;
    let c = guestctl_stats::median(current).ok()?;
    let ratio = c / b;
    if !(ratio.is_finite() && ratio > 0.0) {
        return None;
    }
    let t = threshold_pct / 100.0;
    let range = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (b_lo, b_hi) = range(baseline);
    let (c_lo, c_hi) = range(current);
    let verdict = if ratio > 1.0 + t && c_lo > b_hi * (1.0 + t) {
        Verdict::Regression
    } else if ratio < 1.0 - t && c_hi < b_lo * (1.0 - t) {
        Verdict::Improvement
    } else if (1.0 - t..=1.0 + t).contains(&ratio) {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    };
    let p = if matches!(verdict, Verdict::Regression | Verdict::Improvement) {
        0.0
    } else {
        1.0
    };
    let point = guestctl_stats::ConfidenceInterval {
        lower: ratio,
        upper: ratio,
        level: 1.0,
    };
    Some(Comparison {
        ratio,
        change_pct: (ratio - 1.0) * 100.0,
        ratio_ci: point,
        hl_ratio: ratio,
        hl_ci: point,
        p_value: p,
        p_adjusted: p,
        effect_size: (ratio - 1.0).signum(),
        threshold_pct,
        verdict,
    })
}

/// Whether both sides are instruction counts that repeat exactly within each run
/// (then they are a deterministic figure, not a sample to test).
fn repeats_exactly(base: &TestResult, cur: &TestResult) -> bool {
    let constant = |v: &[f64]| v.windows(2).all(|w| w[0] == w[1]);
    base.unit == Unit::Instructions && constant(&base.samples) && constant(&cur.samples)
}

/// Compares `current` with `baseline` under `cfg`.
pub fn compare_runs(
    current: &RunResults,
    baseline: &RunResults,
    cfg: &CompareConfig,
) -> BaselineComparison {
    let mut tests: Vec<TestComparison> = Vec::new();
    // (index into tests, baseline samples, current samples, threshold)
    let mut pending: Vec<(usize, Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let mut used_baseline: Vec<&str> = Vec::new();

    for cur in &current.tests {
        let (base, status) = match baseline.get(&cur.name) {
            Some(b) => (Some(b), MatchStatus::Compared),
            None => match cur
                .renamed_from
                .as_deref()
                .and_then(|old| baseline.get(old))
            {
                Some(b) => (Some(b), MatchStatus::Renamed),
                None => (None, MatchStatus::New),
            },
        };
        let mut tc = TestComparison {
            name: cur.name.clone(),
            baseline_name: base.filter(|b| b.name != cur.name).map(|b| b.name.clone()),
            status,
            metric: Metric::Samples,
            unit: cur.unit,
            baseline_median: base.map(|b| b.summary.median),
            current_median: Some(cur.summary.median),
            comparison: None,
            error: None,
            machine_drift: match (base.and_then(|b| b.calibration_ns), cur.calibration_ns) {
                (Some(b), Some(c)) if b > 0.0 && c > 0.0 => Some(c / b),
                _ => None,
            },
            note: None,
            method: Method::Unpaired,
            paired: None,
        };
        if let Some(b) = base {
            used_baseline.push(&b.name);
            let op = cfg.targets.operation_of(cur);
            let threshold = cfg
                .targets
                .threshold_for(&cur.name, op.as_deref(), cfg.threshold_pct);
            let status = tc.status;
            let base_name = tc.baseline_name.clone();
            match unusable(b, cur, threshold) {
                Some(why) => {
                    tc.status = MatchStatus::Error;
                    tc.error = Some(why);
                }
                None if repeats_exactly(b, cur) => {
                    tc.method = Method::Deterministic;
                    tc.comparison = deterministic(&b.samples, &cur.samples, threshold);
                }
                None => pending.push((
                    tests.len(),
                    b.samples.clone(),
                    cur.samples.clone(),
                    threshold,
                )),
            }
            tests.push(tc);
            // Memory figures recorded by both runs: deterministic, against the
            // threshold directly (not in the Holm family).
            for metric in Metric::MEMORY {
                let (Some((bs, unit)), Some((cs, _))) =
                    (b.metric_samples(metric), cur.metric_samples(metric))
                else {
                    continue;
                };
                // Ratios need positive values: a figure that is zero on either side
                // (an operation that allocates nothing) is not compared.
                if bs.iter().chain(&cs).any(|x| !(x.is_finite() && *x > 0.0)) {
                    continue;
                }
                let comparison = deterministic(&bs, &cs, threshold);
                tests.push(TestComparison {
                    name: cur.name.clone(),
                    baseline_name: base_name.clone(),
                    status,
                    metric,
                    unit,
                    baseline_median: guestctl_stats::median(&bs).ok(),
                    current_median: guestctl_stats::median(&cs).ok(),
                    comparison,
                    error: None,
                    // Allocation counts do not move with the machine's speed.
                    machine_drift: None,
                    note: None,
                    method: Method::Deterministic,
                    paired: None,
                });
            }
            continue;
        }
        tests.push(tc);
    }
    for b in &baseline.tests {
        if !used_baseline.contains(&b.name.as_str()) {
            tests.push(TestComparison {
                name: b.name.clone(),
                baseline_name: None,
                status: MatchStatus::Missing,
                metric: Metric::Samples,
                unit: b.unit,
                baseline_median: Some(b.summary.median),
                current_median: None,
                comparison: None,
                error: None,
                machine_drift: None,
                note: None,
                method: Method::Unpaired,
                paired: None,
            });
        }
    }

    let pairs: Vec<(&[f64], &[f64], f64)> = pending
        .iter()
        .map(|p| (p.1.as_slice(), p.2.as_slice(), p.3))
        .collect();
    if !pairs.is_empty() {
        match compare_suite(&pairs, &cfg.options) {
            Ok(results) => {
                for (p, mut c) in pending.iter().zip(results) {
                    let t = &mut tests[p.0];
                    if let Some(d) = t.machine_drift {
                        t.note = crate::drift::guard(&mut c, d);
                    }
                    t.comparison = Some(c);
                }
            }
            Err(e) => {
                for p in &pending {
                    tests[p.0].status = MatchStatus::Error;
                    tests[p.0].error = Some(format!("statistics: {e}"));
                }
            }
        }
    }
    // The overall change is of the tests' own samples (time), not of memory.
    let ratios: Vec<f64> = tests
        .iter()
        .filter(|t| t.metric.is_samples())
        .filter_map(|t| t.comparison.as_ref().map(|c| c.ratio))
        .collect();

    BaselineComparison {
        threshold_pct: cfg.threshold_pct,
        baseline: RunInfo::of(baseline),
        current: RunInfo::of(current),
        fingerprint_differences: current.machine.differences(&baseline.machine),
        tests,
        overall_ratio: geometric_mean(&ratios),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(b: &[f64], c: &[f64]) -> Option<Verdict> {
        deterministic(b, c, 5.0).map(|x| x.verdict)
    }

    #[test]
    fn exact_figures_are_decided_by_the_ratio_varying_ones_by_separated_ranges() {
        assert_eq!(verdict(&[100.0; 4], &[110.0; 4]), Some(Verdict::Regression));
        assert_eq!(verdict(&[100.0; 4], &[90.0; 4]), Some(Verdict::Improvement));
        assert_eq!(verdict(&[100.0; 4], &[103.0; 4]), Some(Verdict::Unchanged));
        // A peak heap that depends on thread scheduling: +20 % in the median, but
        // the ranges overlap.
        let b = [100.0, 130.0, 95.0, 125.0];
        let c = [120.0, 118.0, 140.0, 99.0];
        assert_eq!(verdict(&b, &c), Some(Verdict::Inconclusive));
        // Separated by more than the threshold: a regression.
        let c = [150.0, 160.0, 155.0, 158.0];
        assert_eq!(verdict(&b, &c), Some(Verdict::Regression));
        assert_eq!(verdict(&[0.0], &[1.0]), None);
    }
}
