//! Change-point detection over a history series: E-divisive means (Matteson &
//! James 2014, as used by Apache Otava / hunter), with a seeded permutation test.
//!
//! The series is split recursively (hierarchical bisection). At each step, every
//! current segment `[s, e)` is scanned for the split `τ` maximizing
//!
//! ```text
//! Q(τ) = m·k/(m+k) · ( 2/(m·k)·Σ|xᵢ−yⱼ| − 1/C(m,2)·Σ|xᵢ−xₗ| − 1/C(k,2)·Σ|yⱼ−yₗ| )
//! ```
//!
//! (`x` the `m` values left of `τ`, `y` the `k` values right of it, both at least
//! `min_segment`), i.e. the scaled energy distance between the two sides. The best
//! split over all segments is kept if a permutation test finds it significant: the
//! values of each segment are shuffled within the segment `permutations` times and
//! the same maximum is computed; `p = (1 + #{permuted ≥ observed}) / (1 + permutations)`.
//! Splitting stops at the first non-significant step or at `max_change_points`.
//!
//! A single noisy run does not make a change point: shuffling moves the outlier
//! everywhere, so the permuted statistics are as large as the observed one.
//! Cost: O(n²) memory and O(permutations·n²) time per change point found; series
//! longer than [`MAX_SERIES_LEN`] are refused.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::summary::check_finite;
use crate::StatsError;

/// Longest series accepted: the algorithm keeps an n×n distance matrix, so this caps
/// it at 32 MB.
pub const MAX_SERIES_LEN: usize = 2_000;

/// Most permutations accepted per step (bounds the running time).
pub const MAX_PERMUTATIONS: usize = 100_000;

/// Knobs of [`e_divisive`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChangePointOptions {
    /// Fewest points on each side of a change point (default 3, at least 2).
    pub min_segment: usize,
    /// Most change points reported (default 10).
    pub max_change_points: usize,
    /// Permutations of the significance test per step (default 199).
    pub permutations: usize,
    /// A split is accepted when its permutation p-value is at most this (default
    /// 0.01; with 199 permutations the smallest attainable p is 0.005).
    pub significance: f64,
    /// Seed of the permutation generator.
    pub seed: u64,
}

impl Default for ChangePointOptions {
    fn default() -> Self {
        ChangePointOptions {
            min_segment: 3,
            max_change_points: 10,
            permutations: 199,
            significance: 0.01,
            seed: crate::summary::DEFAULT_SEED,
        }
    }
}

/// One detected lasting change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// Index of the first value of the new level (the change happened between
    /// `index − 1` and `index`).
    pub index: usize,
    /// Permutation p-value of the step that found it.
    pub p_value: f64,
    /// E-divisive statistic `Q` of the split when it was found, in the units of the
    /// series (capped at `f64::MAX`).
    pub statistic: f64,
    /// Mean of the segment ending just before `index` (bounded by the neighbouring
    /// change points or the series' ends).
    pub mean_before: f64,
    /// Mean of the segment starting at `index`.
    pub mean_after: f64,
}

impl ChangePoint {
    /// `(mean_after / mean_before − 1)·100`; NaN-free: 0 when `mean_before` is 0.
    pub fn change_pct(&self) -> f64 {
        if self.mean_before == 0.0 {
            0.0
        } else {
            (self.mean_after / self.mean_before - 1.0) * 100.0
        }
    }
}

/// Best split `(τ, Q)` of the segment `idx[s..e]`, by the incremental O(len²) scan.
fn best_split(
    dist: &[f64],
    n: usize,
    idx: &[usize],
    s: usize,
    e: usize,
    min_seg: usize,
) -> Option<(usize, f64)> {
    let len = e - s;
    if len < 2 * min_seg {
        return None;
    }
    let d = |a: usize, b: usize| dist[idx[a] * n + idx[b]];
    // Left empty, everything right.
    let mut w_left = 0.0;
    let mut w_right = 0.0;
    for a in s..e {
        for b in a + 1..e {
            w_right += d(a, b);
        }
    }
    let mut between = 0.0;
    let mut best: Option<(usize, f64)> = None;
    // Move point `p` from the right side to the left; afterwards the split is p + 1.
    for p in s..e - min_seg {
        let sum_left: f64 = (s..p).map(|a| d(a, p)).sum();
        let sum_right: f64 = (p + 1..e).map(|b| d(p, b)).sum();
        w_left += sum_left;
        w_right -= sum_right;
        between += sum_right - sum_left;
        let tau = p + 1;
        let m = (tau - s) as f64;
        let k = (e - tau) as f64;
        if tau - s < min_seg {
            continue;
        }
        let energy = 2.0 * between / (m * k)
            - w_left / (m * (m - 1.0) / 2.0)
            - w_right / (k * (k - 1.0) / 2.0);
        let q = m * k / (m + k) * energy;
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((tau, q));
        }
    }
    best
}

/// Best split over all segments delimited by `bounds` (sorted, starting at 0 and
/// ending at n).
fn best_over_segments(
    dist: &[f64],
    n: usize,
    idx: &[usize],
    bounds: &[usize],
    min_seg: usize,
) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for w in bounds.windows(2) {
        if let Some((tau, q)) = best_split(dist, n, idx, w[0], w[1], min_seg) {
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((tau, q));
            }
        }
    }
    best
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Finds lasting step changes in `series` (e.g. one test's medians, oldest first).
/// Returns them sorted by index; empty when nothing is significant or the series is
/// shorter than `2·min_segment`.
///
/// Errors: a non-finite value, an empty series, `min_segment < 2`, `permutations`
/// of 0 or above [`MAX_PERMUTATIONS`], `significance` outside (0, 1), or a series
/// longer than [`MAX_SERIES_LEN`].
pub fn e_divisive(
    series: &[f64],
    opts: &ChangePointOptions,
) -> Result<Vec<ChangePoint>, StatsError> {
    check_finite(series)?;
    if opts.min_segment < 2 {
        return Err(StatsError::InvalidArgument(
            "min_segment must be at least 2".into(),
        ));
    }
    if opts.permutations == 0 || opts.permutations > MAX_PERMUTATIONS {
        return Err(StatsError::InvalidArgument(format!(
            "permutations must be in 1..={MAX_PERMUTATIONS}, got {}",
            opts.permutations
        )));
    }
    if !(opts.significance > 0.0 && opts.significance < 1.0) {
        return Err(StatsError::InvalidArgument(format!(
            "significance must be in (0, 1), got {}",
            opts.significance
        )));
    }
    let n = series.len();
    if n > MAX_SERIES_LEN {
        return Err(StatsError::InvalidArgument(format!(
            "series has {n} values, more than the {MAX_SERIES_LEN} supported"
        )));
    }
    // Distances are computed on the series scaled into [−1, 1] (the test is scale
    // invariant), so that they cannot overflow for huge values.
    let scale = series.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let scaled: Vec<f64> = series.iter().map(|x| x / scale).collect();
    let mut dist = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            dist[i * n + j] = (scaled[i] - scaled[j]).abs();
        }
    }
    let identity: Vec<usize> = (0..n).collect();
    let mut bounds = vec![0, n];
    let mut found: Vec<(usize, f64, f64)> = Vec::new();
    let mut rng = Rng::new(opts.seed);
    let mut perm = identity.clone();
    // Each accepted split adds a bound, so the loop runs at most max_change_points times.
    while found.len() < opts.max_change_points {
        let Some((tau, q_obs)) = best_over_segments(&dist, n, &identity, &bounds, opts.min_segment)
        else {
            break;
        };
        // Permutation test: shuffle within each segment, recompute the maximum.
        // Stop early once the p-value can no longer reach the significance level.
        let max_exceed = (opts.significance * (opts.permutations + 1) as f64).floor() as usize;
        let mut exceed = 0usize;
        for _ in 0..opts.permutations {
            perm.copy_from_slice(&identity);
            for w in bounds.windows(2) {
                rng.shuffle(&mut perm[w[0]..w[1]]);
            }
            let q_perm = best_over_segments(&dist, n, &perm, &bounds, opts.min_segment)
                .map_or(f64::NEG_INFINITY, |(_, q)| q);
            if q_perm >= q_obs {
                exceed += 1;
                if exceed >= max_exceed {
                    break;
                }
            }
        }
        // When stopped early this is a lower bound of the full test's p-value, and
        // already above the significance level.
        let p = (1 + exceed) as f64 / (1 + opts.permutations) as f64;
        if p > opts.significance {
            break;
        }
        found.push((tau, p, q_obs));
        let pos = bounds.partition_point(|&b| b < tau);
        bounds.insert(pos, tau);
    }
    found.sort_by_key(|f| f.0);
    let mut out = Vec::with_capacity(found.len());
    for (i, &(index, p_value, statistic)) in found.iter().enumerate() {
        let start = if i == 0 { 0 } else { found[i - 1].0 };
        let end = found.get(i + 1).map_or(n, |f| f.0);
        out.push(ChangePoint {
            index,
            p_value,
            statistic: (statistic * scale).min(f64::MAX),
            mean_before: mean(&scaled[start..index]) * scale,
            mean_after: mean(&scaled[index..end]) * scale,
        });
    }
    Ok(out)
}
