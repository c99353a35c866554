//! guestctl-stats: the statistics of guestctl's performance framework.
//!
//! Pure functions over `f64` samples (any unit; guestctl uses nanoseconds). No I/O,
//! no clocks, no threads: every result is a deterministic function of the inputs and
//! of [`Options::seed`]. The perf crate measures and reports; this crate analyses.
//!
//! # Main items
//!
//! * [`summarize`] → [`Summary`]: n, mean, median, min, max, sample standard
//!   deviation, raw MAD, p95, p99, coefficient of variation, a bootstrap confidence
//!   interval of the median ([`ConfidenceInterval`]), Tukey [`Outliers`] (reported,
//!   never dropped), and [`Summary::warnings`] ([`Warning`]).
//! * [`compare`] / [`compare_suite`] → [`Comparison`] with a [`Verdict`]; the
//!   building blocks [`mann_whitney_u`], [`hodges_lehmann_ratio`],
//!   [`bootstrap_ratio_of_medians`], [`holm`], [`decide`], and [`geometric_mean`]
//!   for the overall change.
//! * [`paired::paired_compare`] / [`paired_compare_suite`] → [`PairedComparison`]:
//!   two builds measured in alternating rounds, the per-round log ratio of medians,
//!   a t interval and test (Holm across a suite), [`wilcoxon_signed_rank`] beside it;
//!   the paired rule is documented in [`paired`].
//! * [`linear_fit`], [`log_log_slope`] ([`LinearFit`]) for scaling curves.
//! * [`changepoint::e_divisive`] for lasting step changes in a history series.
//! * [`rng::Rng`], the seedable generator behind every resampling.
//! * [`StatsError`]: empty input, too few samples, NaN/∞, non-positive values where
//!   ratios are taken, invalid options. Nothing here panics on caller data.
//!
//! # Definitions
//!
//! * Percentiles (median, p95, p99, quartiles) use linear interpolation between
//!   closest ranks, numpy's default: sorted `x`, `h = (n − 1)·q`,
//!   `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])` ([`percentile`]).
//! * `mad` is the **raw** median absolute deviation from the median;
//!   [`Summary::mad_normal`] multiplies by 1.4826.
//! * `cv = std_dev / |mean|`, a fraction; `std_dev` divides by `n − 1`.
//! * Outliers: Tukey's fences from Q1, Q3 and IQR = Q3 − Q1: mild beyond
//!   1.5·IQR, severe beyond 3·IQR.
//! * Bootstrap intervals are percentile intervals over
//!   [`Options::bootstrap_resamples`] resamples (default 10 000) at
//!   [`Options::confidence`] (default 0.95).
//!
//! # The decision rule
//!
//! For one test, with baseline samples `b`, current samples `c` (timings: larger
//! is slower), threshold `t` (5 % by default, `threshold_pct / 100`) and
//! `α = 1 − confidence` (0.05 by default):
//!
//! * `ratio = median(c) / median(b)` — the reported change is `(ratio − 1)·100 %`;
//! * `p` = two-sided Mann–Whitney U p-value of `c` against `b`, and `p_adj` = `p`
//!   after Holm's correction across all tests of the suite ([`compare_suite`]; a
//!   single [`compare`] uses `p_adj = p`). *Significant* means `p_adj < α`;
//! * `[L, U]` = the **decision interval**: the Hodges–Lehmann estimate of the ratio
//!   with its distribution-free (Moses) interval at level `1 − 2α` (90 %). Each bound
//!   is a one-sided rank test at level α: `L > 1 + t` holds exactly when the
//!   Mann–Whitney test of `c` against `b·(1 + t)` shows, one-sided at α, that the
//!   slowdown exceeds the threshold.
//!
//! Then, checked in this order:
//!
//! 1. **Regression** — significant, `ratio > 1 + t`, and `L > 1 + t`: the
//!    difference is real *and* the slowdown beyond the threshold is itself
//!    statistically established.
//! 2. **Improvement** — significant, `ratio < 1 − t`, and `U < 1 − t` (the same
//!    rule the other way).
//! 3. **Unchanged** — `ratio` lies within `[1 − t, 1 + t]`, and either `[L, U]`
//!    lies within `[1 − t, 1 + t]` too (no change beyond the threshold,
//!    established; the interval must reach its nominal level, which samples of 2 or
//!    3 values cannot) or the difference is not significant.
//! 4. **Inconclusive** — anything else: the interval straddles a threshold, or the
//!    point estimate is beyond the threshold without significance. Reported, never
//!    failed.
//!
//! The overall change of a suite is the [`geometric_mean`] of the tests' ratios.
//! The bootstrap interval of the ratio of medians ([`Comparison::ratio_ci`], 95 %)
//! is reported beside the decision interval as the descriptive uncertainty of the
//! shown change; it does not enter the verdict, so a report should show the
//! decision interval next to the verdict (a 95 % percentile interval of two
//! medians is too wide to flag a 10 % slowdown at a 5 % threshold with 30 samples
//! and 5 % noise reliably: in simulation only ~80 % of the time, against ~97 % for
//! the rank-based rule).
//!
//! **Worked example** (threshold 5 %, α = 0.05, a suite of 4 tests). Test
//! `inspect` has baseline median 100 ms and current median 110 ms: `ratio = 1.10`,
//! change +10 %. Its Mann–Whitney p is 1·10⁻⁹, the smallest of the four, so Holm
//! multiplies it by 4: `p_adj = 4·10⁻⁹ < 0.05`, significant. Its decision interval is
//! `[1.07, 1.13]`; `L = 1.07 > 1.05`, so the verdict is **regression**. Had the
//! interval been `[1.04, 1.16]` (noisier samples), `L` would not clear the threshold
//! and the verdict would be **inconclusive**. A test with `ratio = 1.03` and
//! interval `[1.01, 1.05]` is **unchanged** (within ±5 % — even if significant); with
//! interval `[1.00, 1.06]` and `p_adj = 0.2` it is also **unchanged** (not
//! significant, point estimate within ±5 %); with interval `[1.01, 1.06]` and
//! `p_adj = 0.01` it is **inconclusive**.
//!
//! Measured on samples drawn by [`rng::Rng`] (30 per side, CV 5 %, threshold 5 %,
//! 100 repetitions each, fixed seeds; `tests/decision.rs`):
//!
//! | true change | noise      | regression | improvement | unchanged | inconclusive |
//! |-------------|------------|-----------:|------------:|----------:|-------------:|
//! | none (A/A)  | normal     | 0          | 0           | 97        | 3            |
//! | +10 %       | normal     | 97         | 0           | 0         | 3            |
//! | −10 %       | normal     | 0          | 100         | 0         | 0            |
//! | +3 %        | normal     | 0          | 0           | 51        | 49           |
//! | −3 %        | normal     | 0          | 0           | 47        | 53           |
//! | none (A/A)  | log-normal | 0          | 0           | 99        | 1            |
//! | +10 %       | log-normal | 98         | 0           | 0         | 2            |
//! | −10 %       | log-normal | 0          | 99          | 0         | 1            |
//! | +3 %        | log-normal | 0          | 0           | 46        | 54           |
//!
//! With 1 % noise and 100 samples a +3 % change is overwhelmingly significant
//! (p < 10⁻¹⁰) and still **unchanged** in 100 of 100: the threshold, not the
//! p-value, decides what matters.
//!
//! ```
//! use guestctl_stats::{compare, summarize, Options, Verdict};
//! use guestctl_stats::rng::Rng;
//!
//! let mut rng = Rng::new(7);
//! let baseline: Vec<f64> = (0..30).map(|_| rng.normal(100.0, 5.0)).collect();
//! let slower: Vec<f64> = (0..30).map(|_| rng.normal(115.0, 5.75)).collect();
//! let opts = Options { bootstrap_resamples: 2_000, ..Options::default() };
//!
//! let s = summarize(&baseline, &opts)?;
//! assert!(s.min <= s.median && s.median <= s.max);
//! assert!(s.median_ci.contains(s.median));
//!
//! let c = compare(&baseline, &slower, 5.0, &opts)?;
//! assert_eq!(c.verdict, Verdict::Regression);
//! assert!(c.hl_ci.lower > 1.05 && c.change_pct > 5.0);
//! # Ok::<(), guestctl_stats::StatsError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bootstrap;
pub mod changepoint;
mod compare;
mod error;
mod fit;
mod hl;
mod mwu;
pub mod paired;
pub mod rng;
mod summary;
mod wilcoxon;

pub use bootstrap::{bootstrap_median_ci, bootstrap_ratio_of_medians, MAX_BOOTSTRAP_RESAMPLES};
pub use compare::{
    compare, compare_suite, decide, geometric_mean, holm, Comparison, Verdict,
    DEFAULT_THRESHOLD_PCT,
};
pub use error::StatsError;
pub use fit::{linear_fit, log_log_slope, LinearFit};
pub use hl::{hodges_lehmann_ratio, HodgesLehmann};
pub use mwu::{mann_whitney_u, MannWhitney, MAX_EXACT_CELLS};
pub use paired::{paired_compare, paired_compare_suite, PairedComparison, Round};
pub use summary::{
    median, percentile, summarize, ConfidenceInterval, Options, OutlierClass, Outliers, Sample,
    Summary, TukeyFences, Warning, DEFAULT_SEED, HIGH_CV, MAD_NORMAL_SCALE,
    MIN_RECOMMENDED_SAMPLES,
};
pub use wilcoxon::{wilcoxon_signed_rank, SignedRank, MAX_EXACT_SIGNED_RANK};
