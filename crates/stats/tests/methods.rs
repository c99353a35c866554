//! The building blocks against known values: Mann–Whitney U (scipy), Holm (by
//! hand), Hodges–Lehmann/Moses (brute force and test duality), geometric mean,
//! least squares (scipy's linregress).

#![allow(clippy::unwrap_used)]

use guestctl_stats::rng::Rng;
use guestctl_stats::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn mann_whitney_matches_scipy() {
    // scipy.stats.mannwhitneyu(x, y) (scipy 1.17, defaults: two-sided, method="auto",
    // use_continuity=True).
    // (x, y, scipy statistic, scipy p-value, exact method)
    type Case<'a> = (&'a [f64], &'a [f64], f64, f64, bool);
    let cases: &[Case] = &[
        // scipy's documentation example: exact (no ties, n ≤ 8)
        (
            &[19.0, 22.0, 16.0, 29.0, 24.0],
            &[20.0, 11.0, 17.0, 12.0],
            17.0,
            0.111_111_111_111_111_1,
            true,
        ),
        (&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], 0.0, 0.1, true),
        // one small side, other side 20: still exact
        (
            &[5.5, 1.2, 9.9],
            &[
                1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
                16.0, 17.0, 18.0, 19.0, 20.0,
            ],
            15.0,
            0.196_499_153_020_892_13,
            true,
        ),
        // ties → normal approximation with tie and continuity corrections
        (
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 6.0, 7.0],
            &[3.0, 4.0, 4.0, 5.0, 6.0, 6.0, 7.0, 8.0, 8.0, 9.0, 10.0],
            24.5,
            0.033_354_537_099_246_226,
            false,
        ),
        // both sides > 8 → normal approximation
        (
            &[1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9, 10.5],
            &[
                3.0, 3.5, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
            ],
            30.0,
            0.051_754_232_886_530_64,
            false,
        ),
    ];
    for (i, &(a, b, u, p, exact)) in cases.iter().enumerate() {
        let r = mann_whitney_u(a, b).unwrap();
        assert_eq!(r.u, u, "case {i}");
        assert!(
            close(r.p_two_sided, p, 1e-10),
            "case {i}: {} vs {p}",
            r.p_two_sided
        );
        assert_eq!(r.exact, exact, "case {i}");
        // Swapping the samples gives U2 = n1·n2 − U1 and the same p.
        let s = mann_whitney_u(b, a).unwrap();
        assert_eq!(s.u, (a.len() * b.len()) as f64 - u);
        assert!(close(s.p_two_sided, r.p_two_sided, 1e-12));
        assert!(close(s.z, -r.z, 1e-12));
    }
    // The documentation example, asymptotic (scipy method="asymptotic"):
    // 0.11134688653314041. Our z without continuity: (17 − 10)/√(20·10/12) ≈ 1.7146.
    let r = mann_whitney_u(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).unwrap();
    assert!(close(r.z, 7.0 / (200.0f64 / 12.0).sqrt(), 1e-12));
}

#[test]
fn mann_whitney_edge_cases() {
    let all_equal = mann_whitney_u(&[3.0, 3.0, 3.0], &[3.0, 3.0]).unwrap();
    assert_eq!((all_equal.p_two_sided, all_equal.z), (1.0, 0.0));
    assert_eq!(mann_whitney_u(&[], &[1.0]).unwrap_err(), StatsError::Empty);
    assert_eq!(
        mann_whitney_u(&[1.0], &[f64::NAN]).unwrap_err(),
        StatsError::NonFinite { index: 0 }
    );
    let one_each = mann_whitney_u(&[1.0], &[2.0]).unwrap();
    assert_eq!(one_each.p_two_sided, 1.0);
    // Large clearly different samples: tiny p, z sign says which is larger.
    let mut rng = Rng::new(1);
    let a: Vec<f64> = (0..200).map(|_| rng.normal(10.0, 1.0)).collect();
    let b: Vec<f64> = (0..200).map(|_| rng.normal(12.0, 1.0)).collect();
    let r = mann_whitney_u(&a, &b).unwrap();
    assert!(r.p_two_sided < 1e-20 && r.z < -10.0, "{r:?}");
}

#[test]
fn holm_matches_hand_computation() {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running
    // max 0.02, 0.03, 0.06, 0.06; back in input order:
    let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
    let want = [0.03, 0.06, 0.06, 0.02];
    for (a, w) in adj.iter().zip(want) {
        assert!(close(*a, w, 1e-12), "{adj:?}");
    }
    // Capped at 1, monotone, NaN treated as 1, empty is empty.
    assert_eq!(holm(&[0.5, 0.6]), vec![1.0, 1.0]);
    assert_eq!(holm(&[0.01, f64::NAN]), vec![0.02, 1.0]);
    assert!(holm(&[]).is_empty());
    assert_eq!(holm(&[0.2]), vec![0.2]);
}

#[test]
fn geometric_mean_of_ratios() {
    assert!(close(geometric_mean(&[2.0, 0.5]).unwrap(), 1.0, 1e-12));
    assert!(close(geometric_mean(&[1.1, 1.1, 1.1]).unwrap(), 1.1, 1e-12));
    assert!(close(geometric_mean(&[1.0, 4.0]).unwrap(), 2.0, 1e-12));
    assert_eq!(geometric_mean(&[]), None);
    assert_eq!(geometric_mean(&[1.0, 0.0]), None);
    assert_eq!(geometric_mean(&[1.0, f64::NAN]), None);
}

#[test]
fn hodges_lehmann_is_the_median_pairwise_ratio() {
    let b = [10.0, 12.0, 11.0, 15.0];
    let c = [13.0, 11.5, 16.0];
    let mut ratios: Vec<f64> = c
        .iter()
        .flat_map(|x| b.iter().map(move |y| x / y))
        .collect();
    ratios.sort_by(f64::total_cmp);
    // 12 ratios: median of ln = mean of the 6th and 7th on the log scale.
    let want = (ratios[5].ln() + ratios[6].ln()) / 2.0;
    let hl = hodges_lehmann_ratio(&b, &c, 0.9).unwrap();
    assert!(
        close(hl.ratio, want.exp(), 1e-12),
        "{} vs {}",
        hl.ratio,
        want.exp()
    );
    assert!(hl.ci.contains(hl.ratio));
    // Tiny samples cannot reach 90 %: the widest interval is returned with its true level.
    let tiny = hodges_lehmann_ratio(&[1.0, 2.0], &[3.0, 4.0], 0.9).unwrap();
    assert!(close(tiny.ci.lower, 1.5, 1e-12) && close(tiny.ci.upper, 4.0, 1e-12));
    assert!(
        close(tiny.ci.level, 1.0 - 2.0 / 6.0, 1e-12),
        "{:?}",
        tiny.ci
    );
    assert_eq!(
        hodges_lehmann_ratio(&[1.0, 0.0], &[1.0], 0.9).unwrap_err(),
        StatsError::NonPositive { index: 1 }
    );
}

/// The Moses bound and the shifted one-sided rank test agree: `L > s` exactly when
/// the exact one-sided test of `current` against `baseline·s` rejects at α.
#[test]
fn moses_interval_is_dual_to_the_shifted_rank_test() {
    let mut rng = Rng::new(31);
    let alpha = 0.05;
    let mut checked = 0;
    for case in 0..200 {
        let b: Vec<f64> = (0..6).map(|_| rng.log_normal(0.0, 0.1)).collect();
        let c: Vec<f64> = (0..7).map(|_| rng.log_normal(0.12, 0.1)).collect();
        let hl = hodges_lehmann_ratio(&b, &c, 1.0 - 2.0 * alpha).unwrap();
        for s in [1.0, 1.05, 1.1, 1.15] {
            let shifted: Vec<f64> = b.iter().map(|x| x * s).collect();
            let r = mann_whitney_u(&c, &shifted).unwrap();
            assert!(r.exact);
            let upper_tail_u = r.u >= (b.len() * c.len()) as f64 / 2.0;
            let one_sided = if upper_tail_u {
                r.p_two_sided / 2.0
            } else {
                1.0
            };
            assert_eq!(
                hl.ci.lower > s,
                one_sided <= alpha,
                "case {case} shift {s}: L = {}, p = {one_sided}",
                hl.ci.lower
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 800);
}

#[test]
fn linear_fit_matches_scipy_linregress() {
    // scipy.stats.linregress: slope 1.99, intercept 0.05, r 0.9986517555689656.
    let f = linear_fit(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.1, 3.9, 6.2, 7.8, 10.1]).unwrap();
    assert!(close(f.slope, 1.99, 1e-12));
    assert!(close(f.intercept, 0.05, 1e-10));
    assert!(close(
        f.r_squared,
        0.998_651_755_568_965_6f64.powi(2),
        1e-12
    ));
    assert!(close(f.predict(10.0), 19.95, 1e-10));
    // Flat: slope 0, R² 1 by definition.
    let flat = linear_fit(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).unwrap();
    assert_eq!((flat.slope, flat.r_squared), (0.0, 1.0));
    // Errors.
    assert!(matches!(
        linear_fit(&[1.0, 1.0], &[1.0, 2.0]),
        Err(StatsError::InvalidArgument(_))
    ));
    assert!(matches!(
        linear_fit(&[1.0, 2.0], &[1.0]),
        Err(StatsError::InvalidArgument(_))
    ));
    assert_eq!(
        linear_fit(&[1.0], &[1.0]).unwrap_err(),
        StatsError::TooFewSamples { needed: 2, got: 1 }
    );
    assert_eq!(linear_fit(&[], &[]).unwrap_err(), StatsError::Empty);
}

#[test]
fn log_log_slope_tells_flat_from_linear_from_quadratic() {
    let xs: [f64; 6] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
    let mut rng = Rng::new(4);
    let noisy = |k: f64, p: f64, rng: &mut Rng| -> Vec<f64> {
        xs.iter()
            .map(|x| k * x.powf(p) * rng.log_normal(0.0, 0.02))
            .collect()
    };
    let flat = log_log_slope(&xs, &noisy(50.0, 0.0, &mut rng)).unwrap();
    let linear = log_log_slope(&xs, &noisy(3.0, 1.0, &mut rng)).unwrap();
    let quad = log_log_slope(&xs, &noisy(0.5, 2.0, &mut rng)).unwrap();
    assert!(flat.slope.abs() < 0.05, "{flat:?}");
    assert!(
        (linear.slope - 1.0).abs() < 0.05 && linear.r_squared > 0.99,
        "{linear:?}"
    );
    assert!(
        (quad.slope - 2.0).abs() < 0.05 && quad.r_squared > 0.99,
        "{quad:?}"
    );
    assert_eq!(
        log_log_slope(&[1.0, -2.0], &[1.0, 2.0]).unwrap_err(),
        StatsError::NonPositive { index: 1 }
    );
}
