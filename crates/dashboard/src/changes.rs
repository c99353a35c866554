//! Change-point detection over a test's history: E-divisive means
//! ([`guestctl_stats::changepoint::e_divisive`]) on the per-run medians.
//!
//! A change point is the first run of a new, lasting level: the permutation test
//! compares the best split with splits of shuffled series, so a single noisy run
//! (which shuffling moves anywhere) does not make one, and each side of a split must
//! hold at least [`DetectOptions::min_segment`] runs. Steps smaller than
//! [`DetectOptions::min_change_pct`] are not reported (they are real but too small
//! to act on). Only the newest [`MAX_DETECT_POINTS`] runs are analysed.

use guestctl_stats::changepoint::{e_divisive, ChangePointOptions};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::history::Point;

/// Most runs analysed (the newest ones): E-divisive costs O(permutations · n²), and
/// 500 runs take well under a second.
pub const MAX_DETECT_POINTS: usize = 500;

/// Knobs of [`detect_with`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectOptions {
    /// Fewest runs on each side of a change point (default 3): a change must last.
    pub min_segment: usize,
    /// Permutations of the significance test (default 199).
    pub permutations: usize,
    /// Largest permutation p-value accepted (default 0.01).
    pub significance: f64,
    /// Smallest step reported, in percent of the level before it (default 2).
    pub min_change_pct: f64,
    /// Seed of the permutations (results are reproducible).
    pub seed: u64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        let cp = ChangePointOptions::default();
        DetectOptions {
            min_segment: cp.min_segment,
            permutations: cp.permutations,
            significance: cp.significance,
            min_change_pct: 2.0,
            seed: cp.seed,
        }
    }
}

/// One lasting step change in a test's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePointReport {
    /// Index in the series given to [`detect`] of the first run of the new level.
    pub index: usize,
    /// Commit of that run: where the change began (it lies between the previous
    /// run's commit and this one).
    pub commit: String,
    /// Commit of the run just before (the last one of the old level).
    pub previous_commit: String,
    /// Timestamp of the first run of the new level.
    pub timestamp: String,
    /// Median of the per-run medians of the segment before the change.
    pub before_median: f64,
    /// Median of the per-run medians of the segment from the change on.
    pub after_median: f64,
    /// `(after / before − 1)·100`; positive means slower for timings.
    pub change_pct: f64,
    /// Permutation p-value of the split.
    pub p_value: f64,
}

/// [`detect_with`] with the default options.
pub fn detect(series: &[Point]) -> Result<Vec<ChangePointReport>> {
    detect_with(series, &DetectOptions::default())
}

/// The lasting step changes of `series` (oldest first), sorted by index. Empty when
/// the series is too short (fewer than `2·min_segment` runs) or nothing is
/// significant.
pub fn detect_with(series: &[Point], opts: &DetectOptions) -> Result<Vec<ChangePointReport>> {
    let offset = series.len().saturating_sub(MAX_DETECT_POINTS);
    let series = series.get(offset..).unwrap_or_default();
    let values: Vec<f64> = series.iter().map(|p| p.median).collect();
    if values.len() < 2 * opts.min_segment.max(2) {
        return Ok(Vec::new());
    }
    let cp_opts = ChangePointOptions {
        min_segment: opts.min_segment,
        permutations: opts.permutations,
        significance: opts.significance,
        seed: opts.seed,
        ..ChangePointOptions::default()
    };
    let found = e_divisive(&values, &cp_opts)?;
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(found.iter().map(|c| c.index))
        .chain(std::iter::once(values.len()))
        .collect();
    let mut out = Vec::new();
    for (i, cp) in found.iter().enumerate() {
        let (Some(&start), Some(&end)) = (bounds.get(i), bounds.get(i + 2)) else {
            continue;
        };
        let (Some(before), Some(after)) = (values.get(start..cp.index), values.get(cp.index..end))
        else {
            continue;
        };
        let (Ok(before_median), Ok(after_median)) = (
            guestctl_stats::median(before),
            guestctl_stats::median(after),
        ) else {
            continue;
        };
        let change_pct = if before_median == 0.0 {
            0.0
        } else {
            (after_median / before_median - 1.0) * 100.0
        };
        if change_pct.abs() < opts.min_change_pct {
            continue;
        }
        let (Some(first), Some(prev)) =
            (series.get(cp.index), series.get(cp.index.wrapping_sub(1)))
        else {
            continue;
        };
        out.push(ChangePointReport {
            index: cp.index + offset,
            commit: first.commit.clone(),
            previous_commit: prev.commit.clone(),
            timestamp: first.timestamp.clone(),
            before_median,
            after_median,
            change_pct,
            p_value: cp.p_value,
        });
    }
    Ok(out)
}
