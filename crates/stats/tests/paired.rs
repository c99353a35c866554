//! The paired rule on simulated ABBA rounds: every round is multiplied by a random
//! machine factor of up to ±40 % (plus a drift of up to ±10 % within the round), which
//! the per-round log ratio cancels. Fixed seeds: the counts below are exact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_stats::rng::Rng;
use guestctl_stats::{paired_compare, paired_compare_suite, Options, Round, Verdict};

const ROUNDS: usize = 10;
/// Iterations per side per half-round (ABBA: each side gets `2·K` per round).
const K: usize = 3;

/// One ABBA round of `K` iterations per block: baseline time 100, current
/// `100·(1 + slowdown)`, each iteration with log-normal noise `noise`, all scaled by
/// the round's machine factor drifting linearly across the round.
fn abba_round(rng: &mut Rng, slowdown: f64, noise: f64) -> Round {
    let factor = 0.6 + 0.8 * rng.next_f64();
    let drift = 0.2 * rng.next_f64() - 0.1;
    let positions = 4 * K;
    let mut r = Round {
        baseline: Vec::new(),
        current: Vec::new(),
    };
    for j in 0..positions {
        let machine = factor * (1.0 + drift * (j as f64 / (positions - 1) as f64 - 0.5));
        let block = j / K; // 0 A, 1 B, 2 B, 3 A
        let is_current = block == 1 || block == 2;
        let true_time = if is_current {
            100.0 * (1.0 + slowdown)
        } else {
            100.0
        };
        let v = true_time * machine * rng.log_normal(0.0, noise);
        if is_current {
            r.current.push(v);
        } else {
            r.baseline.push(v);
        }
    }
    r
}

fn rounds(rng: &mut Rng, slowdown: f64, noise: f64) -> Vec<Round> {
    (0..ROUNDS)
        .map(|_| abba_round(rng, slowdown, noise))
        .collect()
}

fn verdicts(seed: u64, slowdown: f64, noise: f64, threshold: f64) -> [usize; 4] {
    let mut rng = Rng::new(seed);
    let mut counts = [0usize; 4];
    for _ in 0..100 {
        let c = paired_compare(
            &rounds(&mut rng, slowdown, noise),
            threshold,
            &Options::default(),
        )
        .unwrap();
        counts[match c.verdict {
            Verdict::Regression => 0,
            Verdict::Improvement => 1,
            Verdict::Unchanged => 2,
            Verdict::Inconclusive => 3,
        }] += 1;
    }
    counts
}

#[test]
fn a_a_is_clean_in_at_least_99_of_100() {
    for (seed, threshold) in [(1, 3.0), (2, 3.0), (3, 5.0)] {
        let [reg, imp, _, _] = verdicts(seed, 0.0, 0.05, threshold);
        assert!(
            reg + imp <= 1,
            "threshold {threshold}: {reg} regressions, {imp} improvements"
        );
    }
}

#[test]
fn five_percent_slowdown_under_five_percent_noise_is_caught_95_of_100() {
    // A 3 % threshold: the slowdown to catch is above it (at a 5 % threshold a true
    // 5 % change is a coin toss by construction).
    let [reg, imp, unchanged, inconclusive] = verdicts(11, 0.05, 0.05, 3.0);
    assert!(
        reg >= 95,
        "{reg} caught, {unchanged} unchanged, {inconclusive} inconclusive"
    );
    assert_eq!(imp, 0);
}

#[test]
fn ten_percent_slowdown_at_the_default_threshold_is_caught() {
    let [reg, ..] = verdicts(4, 0.10, 0.05, 5.0);
    assert!(reg >= 95, "{reg}");
    let [_, imp, ..] = verdicts(5, -0.10, 0.05, 5.0);
    assert!(imp >= 95, "{imp}");
}

#[test]
fn the_unpaired_view_of_the_same_data_is_much_noisier() {
    // What pairing buys: the spread of per-round log ratios against the spread of
    // the baseline's own per-round medians (the machine factor).
    let mut rng = Rng::new(6);
    let r = rounds(&mut rng, 0.0, 0.05);
    let c = paired_compare(&r, 5.0, &Options::default()).unwrap();
    let sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let base_medians: Vec<f64> = r
        .iter()
        .map(|x| guestctl_stats::median(&x.baseline).unwrap().ln())
        .collect();
    let (machine, paired) = (sd(&base_medians), sd(&c.log_ratios));
    assert!(machine > 3.0 * paired, "{machine} {paired}");
}

#[test]
fn holm_runs_across_the_suite_and_one_slow_test_stands_out() {
    let mut rng = Rng::new(7);
    let tests: Vec<Vec<Round>> = (0..30)
        .map(|i| rounds(&mut rng, if i == 17 { 0.15 } else { 0.0 }, 0.05))
        .collect();
    let input: Vec<(&[Round], f64)> = tests.iter().map(|r| (r.as_slice(), 5.0)).collect();
    let out = paired_compare_suite(&input, &Options::default()).unwrap();
    for (i, c) in out.iter().enumerate() {
        assert!(c.p_adjusted >= c.p_value);
        let expected = if i == 17 {
            Verdict::Regression
        } else {
            Verdict::Unchanged
        };
        assert_eq!(c.verdict, expected, "test {i}: {c:?}");
        assert_eq!(c.rounds, ROUNDS);
        assert!(c.ci.lower <= c.ratio && c.ratio <= c.ci.upper);
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let r = Round {
        baseline: vec![1.0],
        current: vec![1.0],
    };
    let two = vec![r.clone(), r.clone()];
    assert!(paired_compare(&two, 5.0, &Options::default()).is_err());
    let mut three = vec![r.clone(), r.clone(), r];
    assert!(paired_compare(&three, 100.0, &Options::default()).is_err());
    three[1].current = vec![0.0];
    assert!(paired_compare(&three, 5.0, &Options::default()).is_err());
    three[1].current = vec![1.0];
    // Identical sides: ratio 1, unchanged, p = 1.
    let c = paired_compare(&three, 5.0, &Options::default()).unwrap();
    assert_eq!(
        (c.ratio, c.p_value, c.verdict),
        (1.0, 1.0, Verdict::Unchanged)
    );
    // A constant 10 % difference in every round is certain.
    for x in three.iter_mut() {
        x.current = vec![1.1];
    }
    let c = paired_compare(&three, 5.0, &Options::default()).unwrap();
    assert_eq!(c.verdict, Verdict::Regression);
}
