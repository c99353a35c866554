//! Baseline-versus-current comparison: ratio, interval, test, verdict; Holm's
//! correction across a suite; the geometric mean of ratios.

use serde::{Deserialize, Serialize};

use crate::bootstrap::bootstrap_ratio_of_medians;
use crate::hl::hodges_lehmann_ratio;
use crate::mwu::mann_whitney_u;
use crate::summary::{check_positive, median_in_place};
use crate::{ConfidenceInterval, Options, StatsError};

/// Default regression threshold of the spec, in percent.
pub const DEFAULT_THRESHOLD_PCT: f64 = 5.0;

/// Classification of one test's change (see the crate documentation for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Faster beyond the threshold, and significantly so.
    Improvement,
    /// Slower beyond the threshold, and significantly so.
    Regression,
    /// No change worth reporting.
    Unchanged,
    /// The data cannot tell: reported, never failed.
    Inconclusive,
}

impl Verdict {
    /// The lowercase name used in JSON: `improvement`, `regression`, `unchanged`,
    /// `inconclusive`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Improvement => "improvement",
            Verdict::Regression => "regression",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The comparison of one test's current samples with its baseline samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `median(current) / median(baseline)`; above 1 means slower (for timings).
    pub ratio: f64,
    /// `(ratio − 1)·100`, in percent.
    pub change_pct: f64,
    /// Percentile-bootstrap interval of `ratio` at `Options::confidence`.
    pub ratio_ci: ConfidenceInterval,
    /// Hodges–Lehmann estimate of the ratio (median of all pairwise ratios
    /// `current_j / baseline_i`, computed on the log scale): the rank-based estimate
    /// that goes with the Mann–Whitney test.
    pub hl_ratio: f64,
    /// The decision interval: distribution-free (Moses) interval of `hl_ratio` at
    /// level `1 − 2α` (0.90 by default), so that each of its bounds is a one-sided
    /// test at level α. See the crate documentation for how it is used.
    pub hl_ci: ConfidenceInterval,
    /// Two-sided Mann–Whitney U p-value of this test alone.
    pub p_value: f64,
    /// `p_value` after Holm's correction across the suite (equal to `p_value` for a
    /// single comparison).
    pub p_adjusted: f64,
    /// Cliff's delta of current against baseline, in [−1, 1]:
    /// `P(c > b) − P(c < b)` over all pairs; positive means current is larger (slower).
    pub effect_size: f64,
    /// Threshold used, in percent.
    pub threshold_pct: f64,
    /// The verdict.
    pub verdict: Verdict,
}

/// Holm's step-down adjustment of `p_values` (family-wise error control), returned
/// in the input order: with the p-values sorted ascending `p(1) ≤ … ≤ p(m)`,
/// `adj(i) = max_{j ≤ i} min(1, (m − j + 1)·p(j))`. The result is monotone in the
/// sorted order and capped at 1. NaN inputs are treated as 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean: Vec<f64> = p_values
        .iter()
        .map(|&p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| clean[i].total_cmp(&clean[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &idx) in order.iter().enumerate() {
        let factor = (m - rank) as f64;
        running = running.max((factor * clean[idx]).min(1.0));
        adjusted[idx] = running;
    }
    adjusted
}

/// Geometric mean of `ratios`: `exp(mean(ln r))`. `None` when empty or when any
/// ratio is not finite or not > 0.
pub fn geometric_mean(ratios: &[f64]) -> Option<f64> {
    if ratios.is_empty() || ratios.iter().any(|r| !r.is_finite() || *r <= 0.0) {
        return None;
    }
    let mean_ln = ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64;
    Some(mean_ln.exp())
}

/// The decision rule of the crate documentation, on already computed figures.
///
/// `ratio` is `median(current)/median(baseline)`, `decision_ci` the interval
/// [`Comparison::hl_ci`], `p_adjusted` the Holm-adjusted two-sided Mann–Whitney
/// p-value, `threshold_pct` in percent and `alpha` the significance level.
pub fn decide(
    ratio: f64,
    decision_ci: &ConfidenceInterval,
    p_adjusted: f64,
    threshold_pct: f64,
    alpha: f64,
) -> Verdict {
    let t = threshold_pct / 100.0;
    let slow_limit = 1.0 + t;
    let fast_limit = 1.0 - t;
    let significant = p_adjusted < alpha;
    let within = |x: f64| (fast_limit..=slow_limit).contains(&x);
    // Tiny samples cannot reach the nominal level; such an interval proves no
    // equivalence (hodges_lehmann_ratio reports the level it reached).
    let full_level = decision_ci.level >= 1.0 - 2.0 * alpha - 1e-9;
    if significant && ratio > slow_limit && decision_ci.lower > slow_limit {
        Verdict::Regression
    } else if significant && ratio < fast_limit && decision_ci.upper < fast_limit {
        Verdict::Improvement
    } else if within(ratio)
        && ((full_level && within(decision_ci.lower) && within(decision_ci.upper)) || !significant)
    {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// Figures of one pair before the multiple-testing correction.
struct Partial {
    ratio: f64,
    ci: ConfidenceInterval,
    hl_ratio: f64,
    hl_ci: ConfidenceInterval,
    p: f64,
    delta: f64,
    threshold_pct: f64,
}

fn analyse_pair(
    baseline: &[f64],
    current: &[f64],
    threshold_pct: f64,
    opts: &Options,
) -> Result<Partial, StatsError> {
    check_positive(baseline)?;
    check_positive(current)?;
    if !(0.0..100.0).contains(&threshold_pct) {
        return Err(StatsError::InvalidArgument(format!(
            "threshold must be in [0, 100) percent, got {threshold_pct}"
        )));
    }
    if opts.confidence <= 0.5 {
        return Err(StatsError::InvalidArgument(format!(
            "comparisons need confidence above 0.5 (the decision interval has level \
             2·confidence − 1), got {}",
            opts.confidence
        )));
    }
    let mut b = baseline.to_vec();
    let mut c = current.to_vec();
    let ratio = median_in_place(&mut c) / median_in_place(&mut b);
    let ci = bootstrap_ratio_of_medians(baseline, current, opts)?;
    // Level 1 − 2α: each bound is a one-sided test at α.
    let hl = hodges_lehmann_ratio(baseline, current, 1.0 - 2.0 * opts.alpha())?;
    let mw = mann_whitney_u(current, baseline)?;
    let pairs = current.len() as f64 * baseline.len() as f64;
    let delta = 2.0 * mw.u / pairs - 1.0;
    let figures = [
        ratio,
        ci.lower,
        ci.upper,
        hl.ratio,
        hl.ci.lower,
        hl.ci.upper,
    ];
    if figures.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::InvalidArgument(
            "samples differ by too many orders of magnitude: the ratio overflows f64".into(),
        ));
    }
    Ok(Partial {
        ratio,
        ci,
        hl_ratio: hl.ratio,
        hl_ci: hl.ci,
        p: mw.p_two_sided,
        delta,
        threshold_pct,
    })
}

fn finish(part: Partial, p_adjusted: f64, opts: &Options) -> Comparison {
    let verdict = decide(
        part.ratio,
        &part.hl_ci,
        p_adjusted,
        part.threshold_pct,
        opts.alpha(),
    );
    Comparison {
        ratio: part.ratio,
        change_pct: (part.ratio - 1.0) * 100.0,
        ratio_ci: part.ci,
        hl_ratio: part.hl_ratio,
        hl_ci: part.hl_ci,
        p_value: part.p,
        p_adjusted,
        effect_size: part.delta,
        threshold_pct: part.threshold_pct,
        verdict,
    }
}

/// Compares one test's `current` samples with its `baseline` samples (all finite and
/// > 0) at `threshold_pct` percent, without multiple-testing correction.
pub fn compare(
    baseline: &[f64],
    current: &[f64],
    threshold_pct: f64,
    opts: &Options,
) -> Result<Comparison, StatsError> {
    opts.validate()?;
    let part = analyse_pair(baseline, current, threshold_pct, opts)?;
    let p = part.p;
    Ok(finish(part, p, opts))
}

/// Compares every `(baseline, current, threshold_pct)` of a suite, adjusting the
/// p-values with [`holm`] across the suite before deciding. The results are in input
/// order. Every test uses the same `opts` (and so the same bootstrap seed).
pub fn compare_suite(
    pairs: &[(&[f64], &[f64], f64)],
    opts: &Options,
) -> Result<Vec<Comparison>, StatsError> {
    opts.validate()?;
    let parts = pairs
        .iter()
        .map(|(b, c, t)| analyse_pair(b, c, *t, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let p: Vec<f64> = parts.iter().map(|x| x.p).collect();
    let adjusted = holm(&p);
    Ok(parts
        .into_iter()
        .zip(adjusted)
        .map(|(part, pa)| finish(part, pa, opts))
        .collect())
}
