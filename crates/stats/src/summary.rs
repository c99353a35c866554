//! Descriptive statistics of one test's samples: [`summarize`] → [`Summary`].

use serde::{Deserialize, Serialize};

use crate::bootstrap::bootstrap_median_ci;
use crate::StatsError;

/// Coefficient of variation above which [`Summary::warnings`] reports
/// [`Warning::HighVariance`] (10 %: the run is too noisy to resolve a 5 % threshold well).
pub const HIGH_CV: f64 = 0.10;

/// Sample count below which [`Summary::warnings`] reports [`Warning::FewSamples`]
/// (docs/requirements.md: at least 10 iterations).
pub const MIN_RECOMMENDED_SAMPLES: usize = 10;

/// Knobs shared by every resampling computation of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Number of bootstrap resamples (default 10 000). Must be at least 1.
    pub bootstrap_resamples: usize,
    /// Confidence level of every interval, in (0, 1) (default 0.95). The significance
    /// level of the tests is `alpha = 1 - confidence`.
    pub confidence: f64,
    /// Seed of the resampling generator: equal inputs and seed give equal outputs.
    pub seed: u64,
}

/// Default bootstrap seed (any fixed value; chosen once so results are reproducible).
pub const DEFAULT_SEED: u64 = 0x6775_6573_7463_746c; // "guestctl"

impl Default for Options {
    fn default() -> Self {
        Options {
            bootstrap_resamples: 10_000,
            confidence: 0.95,
            seed: DEFAULT_SEED,
        }
    }
}

impl Options {
    /// Significance level of the hypothesis tests: `1 - confidence`.
    pub fn alpha(&self) -> f64 {
        1.0 - self.confidence
    }

    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), StatsError> {
        if self.bootstrap_resamples == 0 {
            return Err(StatsError::InvalidArgument(
                "bootstrap_resamples must be at least 1".into(),
            ));
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(StatsError::InvalidArgument(format!(
                "confidence must be in (0, 1), got {}",
                self.confidence
            )));
        }
        Ok(())
    }
}

/// A two-sided confidence interval `[lower, upper]` at `level` (e.g. 0.95).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level in (0, 1).
    pub level: f64,
}

impl ConfidenceInterval {
    /// Whether `x` lies within the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// `upper - lower`.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }
}

/// Tukey's fences, computed from the quartiles Q1, Q3 and `IQR = Q3 - Q1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TukeyFences {
    /// `Q1 - 3·IQR`: below it a sample is a severe low outlier.
    pub lo_severe: f64,
    /// `Q1 - 1.5·IQR`: below it a sample is (at least) a mild low outlier.
    pub lo_mild: f64,
    /// `Q3 + 1.5·IQR`: above it a sample is (at least) a mild high outlier.
    pub hi_mild: f64,
    /// `Q3 + 3·IQR`: above it a sample is a severe high outlier.
    pub hi_severe: f64,
}

impl TukeyFences {
    /// Fences from the first and third quartiles.
    pub fn from_quartiles(q1: f64, q3: f64) -> Self {
        let iqr = q3 - q1;
        TukeyFences {
            lo_severe: q1 - 3.0 * iqr,
            lo_mild: q1 - 1.5 * iqr,
            hi_mild: q3 + 1.5 * iqr,
            hi_severe: q3 + 3.0 * iqr,
        }
    }

    /// Class of `x`, or `None` when it lies within the mild fences (inclusive).
    pub fn classify(&self, x: f64) -> Option<OutlierClass> {
        if x < self.lo_severe {
            Some(OutlierClass::LowSevere)
        } else if x < self.lo_mild {
            Some(OutlierClass::LowMild)
        } else if x > self.hi_severe {
            Some(OutlierClass::HighSevere)
        } else if x > self.hi_mild {
            Some(OutlierClass::HighMild)
        } else {
            None
        }
    }
}

/// Which of Tukey's four outlier classes a sample falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutlierClass {
    /// Below `Q1 - 3·IQR`.
    LowSevere,
    /// In `[Q1 - 3·IQR, Q1 - 1.5·IQR)`.
    LowMild,
    /// In `(Q3 + 1.5·IQR, Q3 + 3·IQR]`.
    HighMild,
    /// Above `Q3 + 3·IQR`.
    HighSevere,
}

/// Outliers by Tukey's fences. They are reported, never removed from the samples:
/// every other statistic of the [`Summary`] is computed over all samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outliers {
    /// Count of [`OutlierClass::LowSevere`].
    pub low_severe: usize,
    /// Count of [`OutlierClass::LowMild`].
    pub low_mild: usize,
    /// Count of [`OutlierClass::HighMild`].
    pub high_mild: usize,
    /// Count of [`OutlierClass::HighSevere`].
    pub high_severe: usize,
    /// The fences used.
    pub fences: TukeyFences,
    /// Each outlier as (index into the input slice, class), in input order.
    pub indices: Vec<(usize, OutlierClass)>,
}

impl Outliers {
    /// Classifies every sample of `samples` (which must be finite and non-empty).
    fn classify(samples: &[f64], sorted: &[f64]) -> Self {
        let q1 = percentile_sorted(sorted, 0.25);
        let q3 = percentile_sorted(sorted, 0.75);
        let fences = TukeyFences::from_quartiles(q1, q3);
        let mut out = Outliers {
            low_severe: 0,
            low_mild: 0,
            high_mild: 0,
            high_severe: 0,
            fences,
            indices: Vec::new(),
        };
        for (i, &x) in samples.iter().enumerate() {
            if let Some(class) = fences.classify(x) {
                match class {
                    OutlierClass::LowSevere => out.low_severe += 1,
                    OutlierClass::LowMild => out.low_mild += 1,
                    OutlierClass::HighMild => out.high_mild += 1,
                    OutlierClass::HighSevere => out.high_severe += 1,
                }
                out.indices.push((i, class));
            }
        }
        out
    }

    /// Number of outliers of all four classes.
    pub fn total(&self) -> usize {
        self.low_severe + self.low_mild + self.high_mild + self.high_severe
    }
}

/// A condition that makes a summary less trustworthy; the perf crate turns these
/// into report lines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Warning {
    /// Coefficient of variation above [`HIGH_CV`].
    HighVariance {
        /// The coefficient of variation (a fraction, 0.12 = 12 %).
        cv: f64,
    },
    /// Fewer than [`MIN_RECOMMENDED_SAMPLES`] samples.
    FewSamples {
        /// Number of samples.
        n: usize,
    },
    /// At least one sample beyond Tukey's mild fences.
    Outliers {
        /// Number of outliers (mild and severe).
        count: usize,
    },
}

/// Summary of one test's samples (units are the caller's, e.g. nanoseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (the 50th percentile, see [`percentile`]).
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Sample standard deviation (divisor `n - 1`); 0 when `n == 1`.
    pub std_dev: f64,
    /// Median absolute deviation from the median, **raw** (not scaled by 1.4826);
    /// see [`Summary::mad_normal`] for the normal-consistent value.
    pub mad: f64,
    /// 95th percentile (linear interpolation, see [`percentile`]).
    pub p95: f64,
    /// 99th percentile (linear interpolation, see [`percentile`]).
    pub p99: f64,
    /// Coefficient of variation `std_dev / |mean|` as a fraction (0.05 = 5 %);
    /// 0 when the mean is 0.
    pub cv: f64,
    /// Percentile-bootstrap confidence interval of the median
    /// (`Options::confidence`, `Options::bootstrap_resamples`); degenerate
    /// `[x, x]` when `n == 1`.
    pub median_ci: ConfidenceInterval,
    /// Tukey outliers (reported, never removed).
    pub outliers: Outliers,
}

/// Scale factor making the MAD a consistent estimator of σ for normal data.
pub const MAD_NORMAL_SCALE: f64 = 1.4826;

impl Summary {
    /// Whether every floating-point field is finite (always true for a summary
    /// returned by [`summarize`]; JSON cannot carry NaN or ∞).
    pub fn is_finite(&self) -> bool {
        let f = &self.outliers.fences;
        [
            self.mean,
            self.median,
            self.min,
            self.max,
            self.std_dev,
            self.mad,
            self.p95,
            self.p99,
            self.cv,
            self.median_ci.lower,
            self.median_ci.upper,
            f.lo_severe,
            f.lo_mild,
            f.hi_mild,
            f.hi_severe,
        ]
        .iter()
        .all(|x| x.is_finite())
    }

    /// MAD scaled by [`MAD_NORMAL_SCALE`] (≈ σ for normally distributed samples).
    pub fn mad_normal(&self) -> f64 {
        self.mad * MAD_NORMAL_SCALE
    }

    /// The conditions worth a warning, in a fixed order: few samples, high variance,
    /// outliers. Empty when the summary is clean.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut w = Vec::new();
        if self.n < MIN_RECOMMENDED_SAMPLES {
            w.push(Warning::FewSamples { n: self.n });
        }
        if self.cv > HIGH_CV {
            w.push(Warning::HighVariance { cv: self.cv });
        }
        let count = self.outliers.total();
        if count > 0 {
            w.push(Warning::Outliers { count });
        }
        w
    }
}

/// Samples checked once: at least two values, all finite.
///
/// Functions of this crate take plain `&[f64]` and validate themselves; `Sample` is
/// for callers that want to check early and carry the proof around.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    values: &'a [f64],
}

impl<'a> Sample<'a> {
    /// Validates `values`: [`StatsError::Empty`], [`StatsError::TooFewSamples`] (fewer
    /// than 2), or [`StatsError::NonFinite`].
    pub fn new(values: &'a [f64]) -> Result<Self, StatsError> {
        check_finite(values)?;
        if values.len() < 2 {
            return Err(StatsError::TooFewSamples {
                needed: 2,
                got: values.len(),
            });
        }
        Ok(Sample { values })
    }

    /// The validated values.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// Number of values (always ≥ 2).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always `false` (a `Sample` has at least two values); present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// [`summarize`] of these values.
    pub fn summarize(&self, opts: &Options) -> Result<Summary, StatsError> {
        summarize(self.values, opts)
    }
}

/// `Err(Empty)` for no samples, `Err(NonFinite{index})` for the first NaN/±∞.
pub(crate) fn check_finite(samples: &[f64]) -> Result<(), StatsError> {
    if samples.is_empty() {
        return Err(StatsError::Empty);
    }
    match samples.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { index }),
        None => Ok(()),
    }
}

/// Like [`check_finite`], and every sample must also be > 0.
pub(crate) fn check_positive(samples: &[f64]) -> Result<(), StatsError> {
    check_finite(samples)?;
    match samples.iter().position(|&x| x <= 0.0) {
        Some(index) => Err(StatsError::NonPositive { index }),
        None => Ok(()),
    }
}

/// Percentile of already sorted, non-empty, finite data; `q` in [0, 1].
///
/// Linear interpolation between closest ranks, numpy's default (`method="linear"`,
/// Hyndman & Fan type 7): with `h = (n - 1)·q`, the result is
/// `x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋])`.
pub(crate) fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let frac = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    if frac == 0.0 {
        a
    } else {
        let step = b - a;
        if step.is_finite() {
            a + frac * step
        } else {
            // |b − a| overflows only for values near ±f64::MAX.
            a * (1.0 - frac) + b * frac
        }
    }
}

/// The `q`-quantile (`q` in [0, 1]) of `samples`, by linear interpolation between
/// closest ranks — numpy's default `percentile` definition (Hyndman & Fan type 7):
/// sorted `x`, `h = (n - 1)·q`, result `x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋])`.
///
/// ```
/// let p = guestctl_stats::percentile(&[1.0, 2.0, 3.0, 4.0], 0.95).unwrap();
/// assert!((p - 3.85).abs() < 1e-12);
/// ```
pub fn percentile(samples: &[f64], q: f64) -> Result<f64, StatsError> {
    check_finite(samples)?;
    if !(0.0..=1.0).contains(&q) {
        return Err(StatsError::InvalidArgument(format!(
            "quantile must be in [0, 1], got {q}"
        )));
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Ok(percentile_sorted(&sorted, q))
}

/// Median of `buf`, reordering it (O(n) by `select_nth_unstable`). `buf` must be
/// non-empty and finite.
pub(crate) fn median_in_place(buf: &mut [f64]) -> f64 {
    let n = buf.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (left, m, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *m;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Halving first cannot overflow, unlike (lower + upper) / 2.
        lower / 2.0 + upper / 2.0
    }
}

/// Median of `samples` (average of the two middle values for even `n`).
pub fn median(samples: &[f64]) -> Result<f64, StatsError> {
    check_finite(samples)?;
    let mut buf = samples.to_vec();
    Ok(median_in_place(&mut buf))
}

/// Summarizes `samples`: see [`Summary`] for the definition of each field.
///
/// One sample is allowed (spread 0, degenerate interval `[x, x]`, and a
/// [`Warning::FewSamples`]); zero samples are [`StatsError::Empty`]; a NaN or
/// infinity is [`StatsError::NonFinite`].
pub fn summarize(samples: &[f64], opts: &Options) -> Result<Summary, StatsError> {
    check_finite(samples)?;
    opts.validate()?;
    let n = samples.len();
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let nf = n as f64;
    // Mean and standard deviation are computed on values scaled into [−1, 1], so
    // that neither the sum nor the squared deviations overflow for huge inputs.
    let scale = samples.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let (mean, std_dev) = if scale == 0.0 {
        (0.0, 0.0)
    } else {
        let scaled_mean = samples.iter().map(|x| x / scale).sum::<f64>() / nf;
        let sd = if n > 1 {
            let ss: f64 = samples
                .iter()
                .map(|x| (x / scale - scaled_mean).powi(2))
                .sum();
            (ss / (nf - 1.0)).sqrt()
        } else {
            0.0
        };
        (scaled_mean * scale, sd * scale)
    };
    let median = percentile_sorted(&sorted, 0.5);
    let mut dev: Vec<f64> = samples.iter().map(|x| (x - median).abs()).collect();
    let mut mad = median_in_place(&mut dev);
    if !mad.is_finite() && scale > 0.0 {
        // Deviations overflowed (values near ±f64::MAX): redo them scaled.
        for (d, x) in dev.iter_mut().zip(samples) {
            *d = (x / scale - median / scale).abs();
        }
        mad = median_in_place(&mut dev) * scale;
    }
    let cv = if mean == 0.0 {
        0.0
    } else {
        std_dev / mean.abs()
    };
    let median_ci = bootstrap_median_ci(samples, opts)?;
    let summary = Summary {
        n,
        mean,
        median,
        min: sorted[0],
        max: sorted[n - 1],
        std_dev,
        mad,
        p95: percentile_sorted(&sorted, 0.95),
        p99: percentile_sorted(&sorted, 0.99),
        cv,
        median_ci,
        outliers: Outliers::classify(samples, &sorted),
    };
    if summary.is_finite() {
        Ok(summary)
    } else {
        Err(StatsError::InvalidArgument(
            "samples too large in magnitude: a statistic overflows f64".into(),
        ))
    }
}
