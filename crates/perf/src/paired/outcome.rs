//! From paired runs to results and a comparison: each side's samples become a
//! [`TestResult`] (the current side is `current.json`), and the rounds go through
//! guestctl-stats' paired rule, Holm-corrected across the time comparisons only;
//! memory figures are compared deterministically.

use guestctl_stats::{geometric_mean, paired_compare_suite, Comparison, PairedComparison, Round};

use crate::compare::{
    deterministic, BaselineComparison, CompareConfig, MatchStatus, Method, PairedDetail, RunInfo,
    TestComparison,
};
use crate::error::PerfError;
use crate::measure::{analyse, RawRun};
use crate::paired::run::PairedRun;
use crate::record::{Metric, Params, RunResults, TestResult, Unit};
use crate::suite::{Failure, PerfTestSuite, Suite};

/// What the results need to know of a test besides its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct TestMeta {
    /// Test name.
    pub name: String,
    /// Parameters.
    pub params: Params,
    /// Key in `perf-targets.toml`.
    pub operation: Option<String>,
}

/// The metadata of every test of `suite`, in order.
pub fn test_meta(suite: &Suite) -> Vec<TestMeta> {
    suite
        .operations()
        .iter()
        .map(|o| TestMeta {
            name: o.name().to_string(),
            params: o.params().clone(),
            operation: o.target_key().map(str::to_string),
        })
        .collect()
}

/// The paired results: each side as a run, and their comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedOutcome {
    /// The current build's run (its samples over every round).
    pub current: RunResults,
    /// The baseline build's run, measured in the same session.
    pub baseline: RunResults,
    /// The paired comparison.
    pub comparison: BaselineComparison,
}

fn side_result(
    meta: Option<&TestMeta>,
    run: &PairedRun,
    current: bool,
    suite: &PerfTestSuite,
) -> Result<TestResult, PerfError> {
    let (samples, memory) = if current {
        (run.current_samples(), run.current_memory.clone())
    } else {
        (run.baseline_samples(), run.baseline_memory.clone())
    };
    let mut r = analyse(
        RawRun {
            name: run.name.clone(),
            params: meta.map(|m| m.params.clone()).unwrap_or_default(),
            unit: Unit::Nanoseconds,
            warmup: suite.config().warmup,
            samples,
            memory,
            peak_rss_bytes: None,
        },
        &suite.config().options,
    )?;
    r.operation = meta.and_then(|m| m.operation.clone());
    Ok(r)
}

fn to_comparison(p: &PairedComparison) -> Comparison {
    let n = p.log_ratios.len().max(1) as f64;
    let signs: f64 = p.log_ratios.iter().map(|d| d.signum()).sum();
    Comparison {
        ratio: p.ratio,
        change_pct: p.change_pct,
        ratio_ci: p.ci,
        hl_ratio: p.ratio,
        hl_ci: p.ci,
        p_value: p.p_value,
        p_adjusted: p.p_adjusted,
        effect_size: signs / n,
        threshold_pct: p.threshold_pct,
        verdict: p.verdict,
    }
}

fn time_entry(cur: &TestResult, base: &TestResult) -> TestComparison {
    TestComparison {
        name: cur.name.clone(),
        baseline_name: None,
        status: MatchStatus::Compared,
        metric: Metric::Samples,
        unit: cur.unit,
        baseline_median: Some(base.summary.median),
        current_median: Some(cur.summary.median),
        comparison: None,
        error: None,
        machine_drift: None,
        note: None,
        method: Method::Paired,
        paired: None,
    }
}

fn memory_entries(cur: &TestResult, base: &TestResult, threshold: f64) -> Vec<TestComparison> {
    [Metric::AllocBytes, Metric::PeakHeapBytes]
        .into_iter()
        .filter_map(|metric| {
            let (bs, unit) = base.metric_samples(metric)?;
            let (cs, _) = cur.metric_samples(metric)?;
            if bs.iter().chain(&cs).any(|x| !(x.is_finite() && *x > 0.0)) {
                return None;
            }
            Some(TestComparison {
                metric,
                unit,
                baseline_median: guestctl_stats::median(&bs).ok(),
                current_median: guestctl_stats::median(&cs).ok(),
                comparison: deterministic(&bs, &cs, threshold),
                method: Method::Deterministic,
                ..time_entry(cur, base)
            })
        })
        .collect()
}

fn failed_entry(f: &Failure) -> TestComparison {
    TestComparison {
        name: f.name.clone(),
        baseline_name: None,
        status: MatchStatus::Error,
        metric: Metric::Samples,
        unit: Unit::Nanoseconds,
        baseline_median: None,
        current_median: None,
        comparison: None,
        error: Some(f.error.to_string()),
        machine_drift: None,
        note: None,
        method: Method::Paired,
        paired: None,
    }
}

/// Builds the outcome of paired `runs` (and the `failures` of tests that could not
/// be run paired). `current` is the configured, empty suite the current side's
/// results go into (its notes and targets are kept); `baseline_info` is the header
/// of the baseline build (its commit).
pub fn paired_outcome(
    runs: &[PairedRun],
    failures: &[Failure],
    metas: &[TestMeta],
    mut current: PerfTestSuite,
    baseline_info: RunInfo,
    cfg: &CompareConfig,
) -> Result<PairedOutcome, PerfError> {
    let mut baseline = PerfTestSuite::with_config(current.config().clone());
    let mut tests = Vec::new();
    let mut time_idx = Vec::new();
    let mut inputs: Vec<(&[Round], f64)> = Vec::new();
    for run in runs {
        let meta = metas.iter().find(|m| m.name == run.name);
        let cur = current
            .push(side_result(meta, run, true, &current)?)
            .clone();
        let base = baseline
            .push(side_result(meta, run, false, &baseline)?)
            .clone();
        let threshold =
            cfg.targets
                .threshold_for(&cur.name, cur.operation.as_deref(), cfg.threshold_pct);
        time_idx.push(tests.len());
        inputs.push((&run.rounds, threshold));
        tests.push(time_entry(&cur, &base));
        tests.extend(memory_entries(&cur, &base, threshold));
    }
    let compared = paired_compare_suite(&inputs, &cfg.options)
        .map_err(|e| PerfError::from(e).with_context("paired comparison"))?;
    for ((i, p), run) in time_idx.iter().zip(&compared).zip(runs) {
        tests[*i].comparison = Some(to_comparison(p));
        tests[*i].paired = Some(PairedDetail {
            rounds: p.rounds,
            block_iterations: run.block_iterations,
            interval: p.ci,
            wilcoxon_p: p.wilcoxon_p,
        });
    }
    tests.extend(failures.iter().map(failed_entry));
    let ratios: Vec<f64> = compared.iter().map(|p| p.ratio).collect();
    let current = current.to_run();
    let mut baseline = baseline.to_run();
    baseline.git_commit = baseline_info.git_commit.clone();
    let comparison = BaselineComparison {
        threshold_pct: cfg.threshold_pct,
        baseline: baseline_info,
        current: RunInfo::of(&current),
        fingerprint_differences: Vec::new(),
        tests,
        overall_ratio: geometric_mean(&ratios),
    };
    Ok(PairedOutcome {
        current,
        baseline,
        comparison,
    })
}
