//! Paired comparison of two builds measured in alternating rounds.
//!
//! Each round measures the baseline and the current build back to back (ABBA
//! order, `k` iterations per side), so both share the machine's state of that
//! moment. The unit of analysis is the round's **log ratio of medians**,
//! `dᵢ = ln(median(currentᵢ) / median(baselineᵢ))`: whatever slows the whole
//! machine during a round multiplies both medians and cancels out of `dᵢ`.
//!
//! # The paired decision rule
//!
//! With `n` rounds, `d̄` the mean of the `dᵢ` and `s` their standard deviation:
//!
//! * `ratio = exp(d̄)` (the geometric mean of the per-round ratios), reported as
//!   `(ratio − 1)·100 %`;
//! * `p` = two-sided one-sample t-test of `d̄ = 0` (`t = d̄ / (s/√n)`, `n − 1`
//!   degrees of freedom); `p_adj` = `p` after Holm's correction across the time
//!   comparisons of a suite ([`paired_compare_suite`]); *significant* means
//!   `p_adj < α`;
//! * the interval is `exp(d̄ ± t₁₋α/₂,ₙ₋₁ · s/√n)`, the t interval at `confidence`:
//!   it excludes 1 exactly when `p < α`;
//! * Wilcoxon's signed-rank p-value of the `dᵢ` is reported beside it, a check that
//!   does not assume normal differences.
//!
//! Then: **regression** when significant and `ratio > 1 + t`; **improvement** when
//! significant and `ratio < 1 − t`; **unchanged** when `ratio` lies within
//! `[1 − t, 1 + t]`; **inconclusive** otherwise (beyond the threshold, not
//! significant). A t-test is used for the decision rather than an exact rank test
//! because with 6–10 rounds an exact test cannot reach a Holm-corrected level over
//! dozens of tests (its smallest p-value is `2/2ⁿ`), while a consistent change gives
//! a small t-test p-value. One wild round inflates `s` as much as `d̄`, so it does not
//! make a difference significant.

use serde::{Deserialize, Serialize};

use crate::compare::{holm, Verdict};
use crate::summary::{check_positive, median_in_place};
use crate::wilcoxon::wilcoxon_signed_rank;
use crate::{ConfidenceInterval, Options, StatsError};

/// Fewest rounds a paired comparison accepts (a t interval of fewer is useless).
pub const MIN_ROUNDS: usize = 3;

/// One round of a paired run: the samples of each side taken in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Samples of the baseline build in this round.
    pub baseline: Vec<f64>,
    /// Samples of the current build in this round.
    pub current: Vec<f64>,
}

/// The paired comparison of one test (see the module documentation for the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedComparison {
    /// Number of rounds.
    pub rounds: usize,
    /// `ln(median(current)/median(baseline))` of each round, in round order.
    pub log_ratios: Vec<f64>,
    /// `exp(mean log ratio)`; above 1 means slower.
    pub ratio: f64,
    /// `(ratio − 1)·100`, in percent.
    pub change_pct: f64,
    /// The t interval of `ratio` at `Options::confidence`.
    pub ci: ConfidenceInterval,
    /// Two-sided one-sample t-test p-value of this test alone.
    pub p_value: f64,
    /// `p_value` after Holm's correction across the suite's time comparisons.
    pub p_adjusted: f64,
    /// Two-sided Wilcoxon signed-rank p-value of the log ratios (not corrected).
    pub wilcoxon_p: f64,
    /// Threshold used, in percent.
    pub threshold_pct: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// The log ratio of medians of every round; every sample must be finite and > 0.
pub fn round_log_ratios(rounds: &[Round]) -> Result<Vec<f64>, StatsError> {
    rounds
        .iter()
        .map(|r| {
            check_positive(&r.baseline)?;
            check_positive(&r.current)?;
            let mut b = r.baseline.clone();
            let mut c = r.current.clone();
            Ok((median_in_place(&mut c) / median_in_place(&mut b)).ln())
        })
        .collect()
}

/// Mean, and standard error of the mean, of `d` (at least 2 values).
fn mean_and_se(d: &[f64]) -> (f64, f64) {
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Two-sided p-value of the one-sample t-test of `mean = 0`.
fn t_test_p(mean: f64, se: f64, df: f64) -> f64 {
    if se == 0.0 {
        return if mean == 0.0 { 1.0 } else { 0.0 };
    }
    let t = (mean / se).abs();
    (2.0 * (1.0 - distrs::StudentsT::cdf(t, df))).clamp(0.0, 1.0)
}

/// The paired decision rule of the module documentation, on computed figures.
pub fn decide_paired(ratio: f64, p_adjusted: f64, threshold_pct: f64, alpha: f64) -> Verdict {
    let t = threshold_pct / 100.0;
    let significant = p_adjusted < alpha;
    if significant && ratio > 1.0 + t {
        Verdict::Regression
    } else if significant && ratio < 1.0 - t {
        Verdict::Improvement
    } else if (1.0 - t..=1.0 + t).contains(&ratio) {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// Figures of one test before Holm's correction.
fn analyse(
    rounds: &[Round],
    threshold_pct: f64,
    opts: &Options,
) -> Result<PairedComparison, StatsError> {
    if rounds.len() < MIN_ROUNDS {
        return Err(StatsError::TooFewSamples {
            needed: MIN_ROUNDS,
            got: rounds.len(),
        });
    }
    if !(0.0..100.0).contains(&threshold_pct) {
        return Err(StatsError::InvalidArgument(format!(
            "threshold must be in [0, 100) percent, got {threshold_pct}"
        )));
    }
    let d = round_log_ratios(rounds)?;
    let (mean, se) = mean_and_se(&d);
    let df = (d.len() - 1) as f64;
    let half = if se == 0.0 {
        0.0
    } else {
        distrs::StudentsT::ppf(1.0 - opts.alpha() / 2.0, df) * se
    };
    let ratio = mean.exp();
    let p = t_test_p(mean, se, df);
    Ok(PairedComparison {
        rounds: d.len(),
        ratio,
        change_pct: (ratio - 1.0) * 100.0,
        ci: ConfidenceInterval {
            lower: (mean - half).exp(),
            upper: (mean + half).exp(),
            level: opts.confidence,
        },
        p_value: p,
        p_adjusted: p,
        wilcoxon_p: wilcoxon_signed_rank(&d)?.p_two_sided,
        log_ratios: d,
        threshold_pct,
        verdict: Verdict::Inconclusive,
    })
}

/// Compares one test's paired `rounds` at `threshold_pct` percent, without
/// multiple-testing correction.
pub fn paired_compare(
    rounds: &[Round],
    threshold_pct: f64,
    opts: &Options,
) -> Result<PairedComparison, StatsError> {
    let mut all = paired_compare_suite(&[(rounds, threshold_pct)], opts)?;
    all.pop().ok_or(StatsError::Empty)
}

/// Compares every `(rounds, threshold_pct)` of a suite, adjusting the t-test
/// p-values with [`holm`] across them (pass the time comparisons only: deterministic
/// figures are not hypothesis-tested). Results are in input order.
pub fn paired_compare_suite(
    tests: &[(&[Round], f64)],
    opts: &Options,
) -> Result<Vec<PairedComparison>, StatsError> {
    opts.validate()?;
    let mut parts = tests
        .iter()
        .map(|(r, t)| analyse(r, *t, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let p: Vec<f64> = parts.iter().map(|c| c.p_value).collect();
    for (c, pa) in parts.iter_mut().zip(holm(&p)) {
        c.p_adjusted = pa;
        c.verdict = decide_paired(c.ratio, pa, c.threshold_pct, opts.alpha());
    }
    Ok(parts)
}
