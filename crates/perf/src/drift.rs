//! Machine drift: on a shared machine the whole machine can be slower in one run than
//! in another (other tenants, CPU steal, frequency), which shifts every test of the
//! run by the same factor. Within-run statistics cannot see that: a second run of
//! the same binary can then show significant "regressions".
//!
//! So around each wall-clock test the suite times a fixed reference workload that
//! does not depend on guestctl's code ([`reference_workload`]: integer mixing and a
//! sort over a fixed buffer, no allocation), and records its median as the test's
//! `calibration_ns`. When both runs have it, the comparison divides the test's
//! change by the reference's change ([`guard`]): a regression (or improvement) that
//! the machine's own slowdown (speed-up) explains is reported as inconclusive with a
//! note, never as a regression. The guard only ever weakens a verdict.

use std::time::Instant;

use guestctl_stats::{Comparison, Verdict};

/// Reference-workload iterations timed before and after each test.
pub const CALIBRATION_RUNS: usize = 5;

/// Words in the reference workload's buffer (128 KiB: fits in L2).
const WORDS: usize = 16 * 1024;

/// The reference workload: fills `buf` from a fixed xorshift stream, sorts it and
/// folds it into a checksum. Fixed work, independent of guestctl's code, no
/// allocation (the buffer is the caller's).
pub fn reference_workload(buf: &mut [u64]) -> u64 {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for w in buf.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *w = x;
    }
    buf.sort_unstable();
    buf.iter()
        .fold(0u64, |acc, w| acc.rotate_left(5) ^ w.wrapping_mul(31))
}

/// A timer of the reference workload.
#[derive(Debug)]
pub struct Calibrator {
    buf: Vec<u64>,
    samples: Vec<f64>,
}

impl Default for Calibrator {
    fn default() -> Self {
        Self::new()
    }
}

impl Calibrator {
    /// A calibrator with its buffer allocated once.
    pub fn new() -> Self {
        Calibrator {
            buf: vec![0; WORDS],
            samples: Vec::new(),
        }
    }

    /// Times the reference workload `runs` times, keeping the samples.
    pub fn sample(&mut self, runs: usize) {
        for _ in 0..runs {
            let start = Instant::now();
            std::hint::black_box(reference_workload(std::hint::black_box(&mut self.buf)));
            self.samples.push(start.elapsed().as_nanos() as f64);
        }
    }

    /// The median of the samples so far (and forgets them); `None` without samples.
    pub fn take_median(&mut self) -> Option<f64> {
        let s = std::mem::take(&mut self.samples);
        guestctl_stats::median(&s).ok()
    }
}

/// How many times the machine's own change the change left after dividing by it
/// must exceed for a verdict to stand (see [`guard`]).
pub const DRIFT_MARGIN_FACTOR: f64 = 2.0;

/// The machine-drift guard of one compared test. `drift` is the reference
/// workload's current/baseline ratio around this test.
///
/// The test's change is first divided by the drift. That correction assumes the
/// test slowed exactly as the reference did; the reference is CPU-bound and the test
/// is not, so the correction's own error grows with the drift. A regression
/// therefore stands only if the corrected change exceeds both the threshold and
/// [`DRIFT_MARGIN_FACTOR`] times the machine's own change (`|drift − 1|`); an
/// improvement likewise. With a steady machine (drift within half the threshold)
/// this is the threshold alone. Returns the note to report when the verdict was
/// weakened.
pub fn guard(c: &mut Comparison, drift: f64) -> Option<String> {
    if !drift.is_finite() || drift <= 0.0 {
        return None;
    }
    let t = c.threshold_pct / 100.0;
    let margin = t.max(DRIFT_MARGIN_FACTOR * (drift - 1.0).abs());
    let adjusted = c.hl_ratio / drift;
    let weaken = match c.verdict {
        Verdict::Regression => adjusted <= 1.0 + margin,
        Verdict::Improvement => adjusted >= 1.0 - margin,
        _ => false,
    };
    if !weaken {
        return None;
    }
    let was = c.verdict.as_str();
    c.verdict = Verdict::Inconclusive;
    let why = if (adjusted - 1.0).abs() <= t {
        "within the threshold".to_string()
    } else {
        format!(
            "within {DRIFT_MARGIN_FACTOR}x the machine's own change, too close to tell \
             from it; rerun on a quieter machine or use --metric instructions"
        )
    };
    Some(format!(
        "{was} of {:+.1}% not confirmed: the machine itself ran {:+.1}% (reference \
         workload around this test), leaving {:+.1}%, {why}",
        (c.hl_ratio - 1.0) * 100.0,
        (drift - 1.0) * 100.0,
        (adjusted - 1.0) * 100.0
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_workload_is_fixed_work() {
        let mut a = vec![0u64; 1024];
        let mut b = vec![7u64; 1024];
        assert_eq!(reference_workload(&mut a), reference_workload(&mut b));
        let mut c = Calibrator::new();
        assert_eq!(c.take_median(), None);
        c.sample(3);
        let m = c.take_median().unwrap();
        assert!(m > 0.0);
        assert_eq!(c.take_median(), None, "samples are consumed");
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;
    use guestctl_stats::{compare_suite, Options};

    fn comparison(slowdown: f64) -> Comparison {
        // Deterministic samples: a spread of ±5% around 100 µs.
        let base: Vec<f64> = (0..30)
            .map(|i| 100_000.0 * (0.95 + 0.1 * f64::from(i) / 29.0))
            .collect();
        let cur: Vec<f64> = base.iter().map(|v| v * slowdown).collect();
        let pairs = [(base.as_slice(), cur.as_slice(), 5.0)];
        compare_suite(&pairs, &Options::default())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_slowdown_the_machine_explains_is_not_a_regression() {
        let mut c = comparison(1.20);
        assert_eq!(c.verdict, Verdict::Regression);
        let note = guard(&mut c, 1.18).expect("weakened");
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(note.contains("+20.0%") && note.contains("+18.0%"), "{note}");
    }

    #[test]
    fn a_slowdown_beyond_the_drift_stays_a_regression() {
        // +27% left after dividing by +10%: over the threshold and over 2 x 10%.
        let mut c = comparison(1.40);
        assert_eq!(guard(&mut c, 1.10), None);
        assert_eq!(c.verdict, Verdict::Regression);
        let mut c = comparison(1.20);
        assert_eq!(guard(&mut c, 1.0), None, "no drift: verdict kept");
        assert_eq!(c.verdict, Verdict::Regression);
        let mut c = comparison(1.20);
        assert_eq!(guard(&mut c, f64::NAN), None);
    }

    #[test]
    fn improvements_are_guarded_the_same_way() {
        let mut c = comparison(0.80);
        assert_eq!(c.verdict, Verdict::Improvement);
        assert!(guard(&mut c, 0.82).is_some());
        assert_eq!(c.verdict, Verdict::Inconclusive);
        let mut c = comparison(0.80);
        assert_eq!(guard(&mut c, 1.0), None);
        assert_eq!(c.verdict, Verdict::Improvement);
    }

    /// Seen in an A/A run of the same binary: medians +71% with the machine itself
    /// at +46%. Divided, +17% is over the threshold, but far inside the error of
    /// the correction; a large change during a small drift still stands.
    #[test]
    fn a_change_within_twice_the_drift_is_not_confirmed() {
        let mut c = comparison(1.71);
        assert_eq!(c.verdict, Verdict::Regression);
        let note = guard(&mut c, 1.459).expect("weakened");
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(note.contains("quieter machine"), "{note}");
        let mut c = comparison(3.0);
        assert_eq!(guard(&mut c, 1.10), None, "+173% left, far beyond 2 x 10%");
        assert_eq!(c.verdict, Verdict::Regression);
        let mut c = comparison(1.20);
        assert_eq!(
            guard(&mut c, 1.02),
            None,
            "a steady machine: the threshold alone"
        );
        assert_eq!(c.verdict, Verdict::Regression);
        let mut c = comparison(0.30);
        assert_eq!(guard(&mut c, 0.95), None, "-68% left, beyond 2 x 5%");
        assert_eq!(c.verdict, Verdict::Improvement);
    }

    #[test]
    fn unchanged_is_never_touched() {
        let mut c = comparison(1.0);
        let before = c.verdict;
        assert_eq!(guard(&mut c, 1.5), None);
        assert_eq!(c.verdict, before);
    }
}
