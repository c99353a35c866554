//! Percentile-bootstrap confidence intervals of the median and of the ratio of
//! medians, deterministic for a given [`Options::seed`].

use crate::rng::Rng;
use crate::summary::{check_finite, check_positive, median_in_place, percentile_sorted};
use crate::{ConfidenceInterval, Options, StatsError};

/// Upper bound on `Options::bootstrap_resamples`: the bootstrap keeps one `f64` per
/// resample, so this caps that buffer at 80 MB whatever a caller passes.
pub const MAX_BOOTSTRAP_RESAMPLES: usize = 10_000_000;

fn check_resamples(opts: &Options) -> Result<(), StatsError> {
    opts.validate()?;
    if opts.bootstrap_resamples > MAX_BOOTSTRAP_RESAMPLES {
        return Err(StatsError::InvalidArgument(format!(
            "bootstrap_resamples must be at most {MAX_BOOTSTRAP_RESAMPLES}, got {}",
            opts.bootstrap_resamples
        )));
    }
    Ok(())
}

/// Fills `buf` (same length as `data`) with a resample of `data` drawn with
/// replacement and returns its median.
fn resampled_median(data: &[f64], buf: &mut [f64], rng: &mut Rng) -> f64 {
    for slot in buf.iter_mut() {
        *slot = data[rng.below(data.len())];
    }
    median_in_place(buf)
}

/// Percentile interval of the bootstrap distribution `stats` (sorted here), widened
/// if needed so that it contains `point` (which can only matter for tiny, very
/// lumpy samples).
fn percentile_interval(stats: &mut [f64], point: f64, level: f64) -> ConfidenceInterval {
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let lower = percentile_sorted(stats, tail).min(point);
    let upper = percentile_sorted(stats, 1.0 - tail).max(point);
    ConfidenceInterval {
        lower,
        upper,
        level,
    }
}

/// Percentile-bootstrap confidence interval of the median of `samples` at
/// `opts.confidence`, from `opts.bootstrap_resamples` resamples seeded by `opts.seed`.
/// One sample gives the degenerate interval `[x, x]`.
pub fn bootstrap_median_ci(
    samples: &[f64],
    opts: &Options,
) -> Result<ConfidenceInterval, StatsError> {
    check_finite(samples)?;
    check_resamples(opts)?;
    let mut buf = samples.to_vec();
    let point = median_in_place(&mut buf);
    if samples.len() == 1 {
        return Ok(ConfidenceInterval {
            lower: point,
            upper: point,
            level: opts.confidence,
        });
    }
    let mut rng = Rng::new(opts.seed);
    let mut stats = Vec::with_capacity(opts.bootstrap_resamples);
    for _ in 0..opts.bootstrap_resamples {
        stats.push(resampled_median(samples, &mut buf, &mut rng));
    }
    Ok(percentile_interval(&mut stats, point, opts.confidence))
}

/// Percentile-bootstrap confidence interval of `median(current) / median(baseline)`:
/// each resample draws both samples with replacement, independently, and takes the
/// ratio of their medians. All samples must be finite and > 0.
pub fn bootstrap_ratio_of_medians(
    baseline: &[f64],
    current: &[f64],
    opts: &Options,
) -> Result<ConfidenceInterval, StatsError> {
    check_positive(baseline)?;
    check_positive(current)?;
    check_resamples(opts)?;
    let mut buf_b = baseline.to_vec();
    let mut buf_c = current.to_vec();
    let point = median_in_place(&mut buf_c) / median_in_place(&mut buf_b);
    let mut rng = Rng::new(opts.seed);
    let mut stats = Vec::with_capacity(opts.bootstrap_resamples);
    for _ in 0..opts.bootstrap_resamples {
        let mb = resampled_median(baseline, &mut buf_b, &mut rng);
        let mc = resampled_median(current, &mut buf_c, &mut rng);
        stats.push(mc / mb);
    }
    Ok(percentile_interval(&mut stats, point, opts.confidence))
}
