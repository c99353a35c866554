//! Summaries: hand-computed values, Tukey classification, errors, warnings, and
//! property-style invariants over samples drawn with the crate's own generator.

#![allow(clippy::unwrap_used)]

use guestctl_stats::rng::Rng;
use guestctl_stats::*;

fn quick() -> Options {
    Options {
        bootstrap_resamples: 2_000,
        ..Options::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn hand_example_matches_numpy() {
    // numpy: mean 5, std(ddof=1) 2.138089935299395, median 4.5,
    // percentile 95 → 8.3, 99 → 8.86, median(|x − median|) → 0.5
    let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
    let s = summarize(&x, &quick()).unwrap();
    assert_eq!(s.n, 8);
    assert!(close(s.mean, 5.0));
    assert!(close(s.std_dev, 2.138_089_935_299_395));
    assert!(close(s.median, 4.5));
    assert!(close(s.p95, 8.3));
    assert!(close(s.p99, 8.86));
    assert!(close(s.mad, 0.5));
    assert!(close(s.mad_normal(), 0.5 * 1.4826));
    assert!(close(s.cv, 2.138_089_935_299_395 / 5.0));
    assert_eq!((s.min, s.max), (2.0, 9.0));
}

#[test]
fn percentile_is_linear_interpolation() {
    let x = [4.0, 1.0, 3.0, 2.0];
    assert!(close(percentile(&x, 0.95).unwrap(), 3.85));
    assert!(close(percentile(&x, 0.5).unwrap(), 2.5));
    assert_eq!(percentile(&x, 0.0).unwrap(), 1.0);
    assert_eq!(percentile(&x, 1.0).unwrap(), 4.0);
    assert!(percentile(&x, 1.5).is_err());
    assert!(close(median(&[3.0, 1.0, 2.0]).unwrap(), 2.0));
    assert!(close(median(&[3.0, 1.0, 2.0, 10.0]).unwrap(), 2.5));
}

#[test]
fn tukey_classification_hand_example() {
    // numpy quartiles: Q1 = 10.5, Q3 = 14.5, IQR = 4 → fences −1.5, 4.5, 20.5, 26.5.
    let t = [
        10.0, 12.0, 12.0, 13.0, 12.0, 11.0, 14.0, 13.0, 15.0, 10.0, 10.0, 50.0, 12.0, 14.0, 25.0,
        -20.0, 30.0, 20.0, 4.0,
    ];
    let s = summarize(&t, &quick()).unwrap();
    let o = &s.outliers;
    assert!(close(o.fences.lo_severe, -1.5));
    assert!(close(o.fences.lo_mild, 4.5));
    assert!(close(o.fences.hi_mild, 20.5));
    assert!(close(o.fences.hi_severe, 26.5));
    assert_eq!(
        o.indices,
        vec![
            (11, OutlierClass::HighSevere),
            (14, OutlierClass::HighMild),
            (15, OutlierClass::LowSevere),
            (16, OutlierClass::HighSevere),
            (18, OutlierClass::LowMild),
        ]
    );
    assert_eq!(
        (o.low_severe, o.low_mild, o.high_mild, o.high_severe),
        (1, 1, 1, 2)
    );
    assert_eq!(o.total(), 5);
    // Reported, never dropped: all 19 samples count.
    assert_eq!(s.n, 19);
    assert_eq!((s.min, s.max), (-20.0, 50.0));
    assert!(s.warnings().contains(&Warning::Outliers { count: 5 }));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let o = Options::default();
    assert_eq!(summarize(&[], &o), Err(StatsError::Empty));
    assert_eq!(
        summarize(&[1.0, f64::NAN, 2.0], &o),
        Err(StatsError::NonFinite { index: 1 })
    );
    assert_eq!(
        summarize(&[1.0, 2.0, f64::INFINITY], &o),
        Err(StatsError::NonFinite { index: 2 })
    );
    assert!(matches!(
        summarize(
            &[1.0, 2.0],
            &Options {
                bootstrap_resamples: 0,
                ..o
            }
        ),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        summarize(
            &[1.0, 2.0],
            &Options {
                confidence: 1.0,
                ..o
            }
        ),
        Err(StatsError::InvalidArgument(_))
    ));
    assert_eq!(
        Sample::new(&[1.0]).unwrap_err(),
        StatsError::TooFewSamples { needed: 2, got: 1 }
    );
    assert_eq!(Sample::new(&[]).unwrap_err(), StatsError::Empty);
    assert_eq!(Sample::new(&[1.0, 2.0]).unwrap().len(), 2);
    assert_eq!(median(&[]), Err(StatsError::Empty));
    assert!(bootstrap_median_ci(&[f64::NAN], &o).is_err());
}

#[test]
fn one_sample_gives_zero_spread_and_degenerate_interval() {
    let s = summarize(&[42.0], &Options::default()).unwrap();
    assert_eq!(
        (s.n, s.mean, s.median, s.min, s.max),
        (1, 42.0, 42.0, 42.0, 42.0)
    );
    assert_eq!((s.std_dev, s.mad, s.cv), (0.0, 0.0, 0.0));
    assert_eq!((s.median_ci.lower, s.median_ci.upper), (42.0, 42.0));
    assert_eq!(s.outliers.total(), 0);
    assert_eq!(s.warnings(), vec![Warning::FewSamples { n: 1 }]);
}

#[test]
fn warnings_classify_noise_and_sample_count() {
    let mut rng = Rng::new(3);
    let clean: Vec<f64> = (0..30).map(|_| rng.normal(100.0, 2.0)).collect();
    let s = summarize(&clean, &quick()).unwrap();
    assert!(
        !s.warnings()
            .iter()
            .any(|w| matches!(w, Warning::HighVariance { .. } | Warning::FewSamples { .. })),
        "{:?}",
        s.warnings()
    );
    let noisy: Vec<f64> = (0..30).map(|_| rng.normal(100.0, 30.0).abs()).collect();
    let s = summarize(&noisy, &quick()).unwrap();
    assert!(s
        .warnings()
        .iter()
        .any(|w| matches!(w, Warning::HighVariance { cv } if *cv > HIGH_CV)));
    let few = summarize(&clean[..5], &quick()).unwrap();
    assert!(few.warnings().contains(&Warning::FewSamples { n: 5 }));
}

#[test]
fn summary_roundtrips_through_json() {
    let mut rng = Rng::new(11);
    let x: Vec<f64> = (0..25).map(|_| rng.log_normal(10.0, 0.3)).collect();
    let s = summarize(&x, &quick()).unwrap();
    // Exact only with serde_json's `float_roundtrip` feature (enabled for these tests).
    let json = serde_json::to_string(&s).unwrap();
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(s, back);
    assert!(json.contains("\"median_ci\""));
    let w = serde_json::to_string(&Warning::FewSamples { n: 3 }).unwrap();
    assert_eq!(w, r#"{"kind":"few_samples","n":3}"#);
}

/// Property-style: over many random samples of several shapes and sizes, the
/// invariants hold.
#[test]
fn invariants_hold_on_random_samples() {
    let mut rng = Rng::new(2024);
    let opts = Options {
        bootstrap_resamples: 300,
        ..Options::default()
    };
    for case in 0..300u64 {
        let n = 1 + rng.below(60);
        let shape = case % 4;
        let x: Vec<f64> = (0..n)
            .map(|_| match shape {
                0 => rng.normal(50.0, 10.0),
                1 => rng.log_normal(3.0, 1.0),
                2 => (rng.below(5) as f64) * 10.0, // heavy ties
                _ => {
                    if rng.next_f64() < 0.1 {
                        1e6
                    } else {
                        rng.next_f64()
                    }
                }
            })
            .collect();
        let s = summarize(&x, &Options { seed: case, ..opts }).unwrap();
        assert!(s.min <= s.median && s.median <= s.max, "case {case}");
        assert!(s.min <= s.mean && s.mean <= s.max, "case {case}");
        assert!(
            s.median <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max,
            "case {case}"
        );
        assert!(
            s.std_dev >= 0.0 && s.mad >= 0.0 && s.cv >= 0.0,
            "case {case}"
        );
        assert!(
            s.median_ci.contains(s.median),
            "case {case}: {:?}",
            s.median_ci
        );
        assert!(
            s.median_ci.lower >= s.min && s.median_ci.upper <= s.max,
            "case {case}"
        );
        assert_eq!(s.outliers.total(), s.outliers.indices.len(), "case {case}");
        for &(i, class) in &s.outliers.indices {
            assert_eq!(s.outliers.fences.classify(x[i]), Some(class));
        }
    }
}

#[test]
fn bootstrap_is_deterministic_for_a_seed() {
    let mut rng = Rng::new(5);
    let x: Vec<f64> = (0..40).map(|_| rng.log_normal(0.0, 0.5)).collect();
    let y: Vec<f64> = (0..40).map(|_| rng.log_normal(0.1, 0.5)).collect();
    let o = quick();
    assert_eq!(
        bootstrap_median_ci(&x, &o).unwrap(),
        bootstrap_median_ci(&x, &o).unwrap()
    );
    assert_eq!(
        bootstrap_ratio_of_medians(&x, &y, &o).unwrap(),
        bootstrap_ratio_of_medians(&x, &y, &o).unwrap()
    );
    let other = Options { seed: 99, ..o };
    assert_ne!(
        bootstrap_ratio_of_medians(&x, &y, &o).unwrap(),
        bootstrap_ratio_of_medians(&x, &y, &other).unwrap()
    );
    let ci = bootstrap_ratio_of_medians(&x, &y, &o).unwrap();
    let point = median(&y).unwrap() / median(&x).unwrap();
    assert!(ci.contains(point));
    assert_eq!(ci.level, 0.95);
}

#[test]
fn bootstrap_covers_the_true_median_about_95_percent_of_the_time() {
    // Normal(100, 10): true median 100. 200 independent samples of 40.
    let mut rng = Rng::new(77);
    let opts = Options {
        bootstrap_resamples: 1_000,
        ..Options::default()
    };
    let mut covered = 0;
    for _ in 0..200 {
        let x: Vec<f64> = (0..40).map(|_| rng.normal(100.0, 10.0)).collect();
        if bootstrap_median_ci(&x, &opts).unwrap().contains(100.0) {
            covered += 1;
        }
    }
    assert!((180..=200).contains(&covered), "covered {covered}/200");
}

/// The default 10,000 resamples on 100 samples a side: the interval of the
/// ratio of medians holds the true 5 % and excludes "no change".
#[test]
fn bootstrap_of_10000_resamples_on_100_samples_brackets_the_true_ratio() {
    let mut rng = Rng::new(8);
    let x: Vec<f64> = (0..100).map(|_| rng.normal(1000.0, 50.0)).collect();
    let y: Vec<f64> = (0..100).map(|_| rng.normal(1050.0, 50.0)).collect();
    let ci = bootstrap_ratio_of_medians(&x, &y, &Options::default()).unwrap();
    assert!(
        1.0 < ci.lower && ci.lower < 1.05 && 1.05 < ci.upper,
        "{ci:?}"
    );
}

/// Hostile inputs: every function returns an error or finite figures, never panics,
/// and whatever it returns survives JSON.
#[test]
fn extreme_values_give_errors_or_finite_results() {
    let o = Options {
        bootstrap_resamples: 200,
        ..Options::default()
    };
    let cases: Vec<Vec<f64>> = vec![
        vec![f64::MAX, -f64::MAX],
        vec![f64::MAX, f64::MAX, f64::MAX],
        vec![f64::MIN_POSITIVE, 5e-324, 1e-300],
        vec![0.0; 10],
        vec![-1.0, 1.0],
        vec![1e308, 1e308, -1e308, 3.0],
        vec![1.0, 1e300, 1e-300],
        (0..300).map(|i| i as f64).collect(),
    ];
    for (i, x) in cases.iter().enumerate() {
        if let Ok(s) = summarize(x, &o) {
            assert!(s.is_finite(), "case {i}: {s:?}");
            assert!(s.min <= s.median && s.median <= s.max, "case {i}");
            let json = serde_json::to_string(&s).unwrap();
            assert!(!json.contains("null"), "case {i}: {json}");
        }
        for y in &cases {
            if let Ok(c) = compare(x, y, 5.0, &o) {
                let json = serde_json::to_string(&c).unwrap();
                assert!(!json.contains("null"), "case {i}: {json}");
            }
            let _ = mann_whitney_u(x, y);
            let _ = linear_fit(x, y);
            let _ = log_log_slope(x, y);
        }
        let cp = guestctl_stats::changepoint::ChangePointOptions {
            permutations: 19,
            significance: 0.1,
            ..Default::default()
        };
        if let Ok(found) = guestctl_stats::changepoint::e_divisive(x, &cp) {
            let json = serde_json::to_string(&found).unwrap();
            assert!(!json.contains("null"), "case {i}: {json}");
        }
    }
}
