//! The verdict as a feature, on controlled samples (fixed seeds, fixed
//! distributions, nothing timing-dependent): the acceptance numbers of docs/perf-methodology.md.

#![allow(clippy::unwrap_used)]

use guestctl_stats::rng::Rng;
use guestctl_stats::*;

const REPS: u64 = 100;
const N: usize = 30;

/// Bootstrap resamples only shape the descriptive `ratio_ci`, not the verdict; fewer
/// keep 100 repetitions fast.
fn opts() -> Options {
    Options {
        bootstrap_resamples: 500,
        ..Options::default()
    }
}

/// `n` samples with median `m` and coefficient of variation `cv` (normal noise).
fn draw(rng: &mut Rng, m: f64, cv: f64, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.normal(m, cv * m)).collect()
}

/// Verdict counts `[regression, improvement, unchanged, inconclusive]` over `REPS`
/// independent baseline/current pairs whose true ratio is `factor`.
fn tally(seed: u64, factor: f64, cv: f64, n: usize, threshold: f64) -> [usize; 4] {
    let mut counts = [0; 4];
    for rep in 0..REPS {
        let mut rng = Rng::new(seed.wrapping_mul(1_000).wrapping_add(rep));
        let b = draw(&mut rng, 1_000.0, cv, n);
        let c = draw(&mut rng, 1_000.0 * factor, cv, n);
        let cmp = compare(&b, &c, threshold, &opts()).unwrap();
        let slot = match cmp.verdict {
            Verdict::Regression => 0,
            Verdict::Improvement => 1,
            Verdict::Unchanged => 2,
            Verdict::Inconclusive => 3,
        };
        counts[slot] += 1;
    }
    eprintln!(
        "factor {factor}, cv {cv}, n {n}, threshold {threshold}%: \
         regression {}, improvement {}, unchanged {}, inconclusive {}",
        counts[0], counts[1], counts[2], counts[3]
    );
    counts
}

#[test]
fn a_a_comparisons_flag_no_regression() {
    let [reg, imp, unchanged, _] = tally(1, 1.0, 0.05, N, 5.0);
    assert!(reg <= 1, "A/A regressions: {reg}/100");
    assert!(imp <= 1, "A/A improvements: {imp}/100");
    assert!(unchanged >= 90, "A/A unchanged: {unchanged}/100");
}

#[test]
fn ten_percent_slowdown_is_a_regression() {
    let [reg, imp, _, _] = tally(2, 1.10, 0.05, N, 5.0);
    assert!(reg >= 95, "regressions: {reg}/100");
    assert_eq!(imp, 0);
}

#[test]
fn ten_percent_speedup_is_an_improvement() {
    let [reg, imp, _, _] = tally(3, 0.90, 0.05, N, 5.0);
    assert!(imp >= 95, "improvements: {imp}/100");
    assert_eq!(reg, 0);
}

#[test]
fn three_percent_change_is_never_a_regression_at_five_percent() {
    let [reg, _, _, _] = tally(4, 1.03, 0.05, N, 5.0);
    assert_eq!(reg, 0, "3% slowdown flagged {reg}/100 times");
    let [_, imp, _, _] = tally(5, 0.97, 0.05, N, 5.0);
    assert_eq!(imp, 0, "3% speed-up flagged {imp}/100 times");
}

#[test]
fn significant_but_small_change_is_not_a_regression() {
    // 1 % noise and 100 samples make a 3 % slowdown overwhelmingly significant; the
    // threshold still keeps it from being a regression: it is unchanged.
    let [reg, _, unchanged, _] = tally(6, 1.03, 0.01, 100, 5.0);
    assert_eq!(reg, 0);
    assert!(unchanged >= 95, "unchanged {unchanged}/100");
    let mut rng = Rng::new(6);
    let b = draw(&mut rng, 1_000.0, 0.01, 100);
    let c = draw(&mut rng, 1_030.0, 0.01, 100);
    let cmp = compare(&b, &c, 5.0, &opts()).unwrap();
    assert!(cmp.p_value < 1e-10, "{cmp:?}");
    assert_eq!(cmp.verdict, Verdict::Unchanged);
}

#[test]
fn too_few_samples_to_tell_is_inconclusive_not_a_regression() {
    // Three noisy samples each with a 20 % slowdown: not significant, beyond threshold.
    let b = [100.0, 130.0, 90.0];
    let c = [125.0, 105.0, 150.0];
    let cmp = compare(&b, &c, 5.0, &opts()).unwrap();
    assert!(cmp.change_pct > 5.0);
    assert!(cmp.p_value > 0.05);
    assert_eq!(cmp.verdict, Verdict::Inconclusive);
}

#[test]
fn comparison_fields_are_consistent() {
    let mut rng = Rng::new(9);
    let b = draw(&mut rng, 500.0, 0.05, 40);
    let c = draw(&mut rng, 560.0, 0.05, 40);
    let cmp = compare(&b, &c, 5.0, &Options::default()).unwrap();
    let want_ratio = median(&c).unwrap() / median(&b).unwrap();
    assert!((cmp.ratio - want_ratio).abs() < 1e-12);
    assert!((cmp.change_pct - (want_ratio - 1.0) * 100.0).abs() < 1e-9);
    assert!(cmp.ratio_ci.contains(cmp.ratio));
    assert_eq!(cmp.ratio_ci.level, 0.95);
    assert!(cmp.hl_ci.contains(cmp.hl_ratio));
    assert!((cmp.hl_ci.level - 0.90).abs() < 1e-12);
    assert_eq!(cmp.p_value, cmp.p_adjusted);
    assert!(cmp.effect_size > 0.5 && cmp.effect_size <= 1.0, "{cmp:?}");
    assert_eq!(cmp.threshold_pct, 5.0);
    assert_eq!(cmp.verdict, Verdict::Regression);
    // Deterministic for a seed.
    assert_eq!(cmp, compare(&b, &c, 5.0, &Options::default()).unwrap());
    let json = serde_json::to_value(&cmp).unwrap();
    assert_eq!(json["verdict"], "regression");
    assert_eq!(Verdict::Inconclusive.to_string(), "inconclusive");
}

#[test]
fn holm_across_the_suite_can_withdraw_a_marginal_regression() {
    // Find a seed where a borderline slowdown is a regression alone (p < 0.05) but
    // its p-value times the number of tests is not: in a suite of 10 with nine
    // unchanged tests, Holm multiplies the smallest p by 10.
    let o = opts();
    let mut shown = false;
    for seed in 0..200 {
        let mut rng = Rng::new(seed);
        let b = draw(&mut rng, 1_000.0, 0.08, 12);
        let c = draw(&mut rng, 1_150.0, 0.08, 12);
        let alone = compare(&b, &c, 5.0, &o).unwrap();
        if alone.verdict != Verdict::Regression || alone.p_value * 10.0 < 0.05 {
            continue;
        }
        let same: Vec<Vec<f64>> = (0..18).map(|_| draw(&mut rng, 1_000.0, 0.01, 12)).collect();
        let mut pairs: Vec<(&[f64], &[f64], f64)> = vec![(&b, &c, 5.0)];
        for k in 0..9 {
            pairs.push((&same[2 * k], &same[2 * k + 1], 5.0));
        }
        let suite = compare_suite(&pairs, &o).unwrap();
        assert_eq!(suite.len(), 10);
        assert_eq!(suite[0].p_value, alone.p_value);
        assert!(suite[0].p_adjusted >= 0.05, "{:?}", suite[0]);
        assert_ne!(suite[0].verdict, Verdict::Regression);
        for s in &suite {
            assert!(s.p_adjusted >= s.p_value && s.p_adjusted <= 1.0);
        }
        shown = true;
        break;
    }
    assert!(shown, "no marginal case found in 200 seeds");
}

#[test]
fn suite_with_clear_changes_keeps_its_verdicts_and_order() {
    let mut rng = Rng::new(12);
    let data: Vec<(Vec<f64>, Vec<f64>)> = [1.0, 1.2, 0.8, 1.0]
        .iter()
        .map(|&f| {
            (
                draw(&mut rng, 100.0, 0.03, 30),
                draw(&mut rng, 100.0 * f, 0.03, 30),
            )
        })
        .collect();
    let pairs: Vec<(&[f64], &[f64], f64)> = data
        .iter()
        .map(|(b, c)| (b.as_slice(), c.as_slice(), 5.0))
        .collect();
    let suite = compare_suite(&pairs, &opts()).unwrap();
    let verdicts: Vec<Verdict> = suite.iter().map(|c| c.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Unchanged,
            Verdict::Regression,
            Verdict::Improvement,
            Verdict::Unchanged
        ]
    );
    let overall = geometric_mean(&suite.iter().map(|c| c.ratio).collect::<Vec<_>>()).unwrap();
    assert!(
        (overall - (1.2f64 * 0.8).powf(0.25)).abs() < 0.02,
        "{overall}"
    );
    assert!(compare_suite(&[], &opts()).unwrap().is_empty());
}

#[test]
fn decide_follows_the_documented_worked_example() {
    let ci = |lower, upper| ConfidenceInterval {
        lower,
        upper,
        level: 0.9,
    };
    assert_eq!(
        decide(1.10, &ci(1.07, 1.13), 4e-9, 5.0, 0.05),
        Verdict::Regression
    );
    assert_eq!(
        decide(1.10, &ci(1.04, 1.16), 4e-9, 5.0, 0.05),
        Verdict::Inconclusive
    );
    assert_eq!(
        decide(1.03, &ci(1.01, 1.05), 1e-6, 5.0, 0.05),
        Verdict::Unchanged
    );
    assert_eq!(
        decide(1.03, &ci(1.00, 1.06), 0.2, 5.0, 0.05),
        Verdict::Unchanged
    );
    assert_eq!(
        decide(1.03, &ci(1.01, 1.06), 0.01, 5.0, 0.05),
        Verdict::Inconclusive
    );
    assert_eq!(
        decide(0.90, &ci(0.87, 0.93), 1e-5, 5.0, 0.05),
        Verdict::Improvement
    );
    // Interval beyond the threshold but the point estimate is not: inconclusive.
    assert_eq!(
        decide(1.04, &ci(1.06, 1.12), 1e-5, 5.0, 0.05),
        Verdict::Inconclusive
    );
    // Not significant after Holm: never a regression.
    assert_eq!(
        decide(1.10, &ci(1.07, 1.13), 0.06, 5.0, 0.05),
        Verdict::Inconclusive
    );
}

#[test]
fn bad_comparison_input_is_an_error() {
    let o = opts();
    assert_eq!(
        compare(&[], &[1.0], 5.0, &o).unwrap_err(),
        StatsError::Empty
    );
    assert_eq!(
        compare(&[1.0, f64::NAN], &[1.0], 5.0, &o).unwrap_err(),
        StatsError::NonFinite { index: 1 }
    );
    assert_eq!(
        compare(&[1.0, 2.0], &[0.0, 1.0], 5.0, &o).unwrap_err(),
        StatsError::NonPositive { index: 0 }
    );
    assert!(matches!(
        compare(&[1.0], &[1.0], -1.0, &o),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        compare(
            &[1.0],
            &[1.0],
            5.0,
            &Options {
                confidence: 0.4,
                ..o
            }
        ),
        Err(StatsError::InvalidArgument(_))
    ));
    // One sample each works (and cannot be significant).
    let one = compare(&[1.0], &[2.0], 5.0, &o).unwrap();
    assert_eq!(one.verdict, Verdict::Inconclusive);
    assert!(compare_suite(&[(&[1.0][..], &[][..], 5.0)], &o).is_err());
}

#[test]
fn log_normal_noise_gives_the_same_rates() {
    // Timing noise is skewed; log-normal with σ = 0.05 ≈ 5 % CV.
    let run = |seed: u64, factor: f64| {
        let mut counts = [0usize; 4];
        for rep in 0..REPS {
            let mut rng = Rng::new(seed * 1_000 + rep);
            let b: Vec<f64> = (0..N).map(|_| 1e6 * rng.log_normal(0.0, 0.05)).collect();
            let c: Vec<f64> = (0..N)
                .map(|_| 1e6 * factor * rng.log_normal(0.0, 0.05))
                .collect();
            let v = compare(&b, &c, 5.0, &opts()).unwrap().verdict;
            counts[v as usize] += 1;
        }
        eprintln!("log-normal factor {factor}: {counts:?} [improvement, regression, unchanged, inconclusive]");
        counts
    };
    let aa = run(21, 1.0);
    assert!(aa[1] <= 1 && aa[0] <= 1, "{aa:?}");
    assert!(run(22, 1.10)[1] >= 95);
    assert!(run(23, 0.90)[0] >= 95);
    assert_eq!(run(24, 1.03)[1], 0);
}

/// Property-style: on random pairs of every size and shape the comparison's figures
/// are consistent.
#[test]
fn comparison_invariants_on_random_pairs() {
    let mut rng = Rng::new(404);
    let o = Options {
        bootstrap_resamples: 200,
        ..Options::default()
    };
    for case in 0..300u64 {
        let (nb, nc) = (1 + rng.below(40), 1 + rng.below(40));
        let shape = case % 3;
        let factor = 0.7 + 0.6 * rng.next_f64();
        let mut gen = |n: usize, f: f64| -> Vec<f64> {
            (0..n)
                .map(|_| match shape {
                    0 => f * rng.log_normal(5.0, 0.3),
                    1 => f * (1 + rng.below(4)) as f64, // heavy ties
                    _ => f * rng.normal(100.0, 5.0).abs().max(1.0),
                })
                .collect()
        };
        let b = gen(nb, 1.0);
        let c = gen(nc, factor);
        let cmp = compare(&b, &c, 5.0, &Options { seed: case, ..o }).unwrap();
        assert!(cmp.ratio_ci.contains(cmp.ratio), "case {case}: {cmp:?}");
        assert!(cmp.hl_ci.contains(cmp.hl_ratio), "case {case}: {cmp:?}");
        assert!((0.0..=1.0).contains(&cmp.p_value), "case {case}");
        assert!((-1.0..=1.0).contains(&cmp.effect_size), "case {case}");
        assert!(
            cmp.hl_ci.level > 0.0 && cmp.hl_ci.level <= 0.9 + 1e-12,
            "case {case}"
        );
        if cmp.verdict == Verdict::Regression {
            assert!(cmp.change_pct > 5.0 && cmp.hl_ci.lower > 1.05 && cmp.p_value < 0.05);
        }
        if cmp.verdict == Verdict::Improvement {
            assert!(cmp.change_pct < -5.0 && cmp.hl_ci.upper < 0.95 && cmp.p_value < 0.05);
        }
        assert_eq!(
            cmp,
            compare(&b, &c, 5.0, &Options { seed: case, ..o }).unwrap()
        );
    }
}
