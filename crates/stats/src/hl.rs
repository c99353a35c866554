//! Hodges–Lehmann estimate of the ratio `current / baseline` and its
//! distribution-free (Moses) confidence interval — the estimator and interval that
//! belong to the Mann–Whitney U test.
//!
//! On the log scale, with `dᵢⱼ = ln cⱼ − ln bᵢ` over all `m·n` pairs, the estimate
//! is `exp(median(d))` and the interval is `[exp(d₍ₖ₎), exp(d₍ₘₙ₊₁₋ₖ₎)]` where `k`
//! comes from the null distribution of U. By the duality with the test, the lower
//! bound exceeds `1 + t` exactly when the one-sided Mann–Whitney test of `current`
//! against `baseline·(1 + t)` rejects "slowdown ≤ t" at level `(1 − level)/2`.
//!
//! Order statistics of the `m·n` differences are found without storing them (value
//! bisection with an O(m + n) count), so memory stays O(m + n) for any input size.

use serde::{Deserialize, Serialize};

use crate::mwu::{exact_pmf, normal_sf, MAX_EXACT_CELLS};
use crate::summary::check_positive;
use crate::{ConfidenceInterval, StatsError};

/// Result of [`hodges_lehmann_ratio`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HodgesLehmann {
    /// `exp(median over all pairs of (ln current_j − ln baseline_i))`.
    pub ratio: f64,
    /// Moses interval of `ratio`. Its `level` is the requested one, or the (lower)
    /// level actually reachable when the samples are too small for it.
    pub ci: ConfidenceInterval,
}

/// Standard normal quantile `Φ⁻¹(p)` for `p` in (0, 1): Acklam's rational
/// approximation refined by one Halley step (relative error ~1e-15).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let p_low = 0.02425;
    let x = if p < p_low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - p_low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on Φ(x) − p.
    let e = (1.0 - normal_sf(x)) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Number of pairs with `c[j] − b[i] ≤ x`, for ascending `b` and `c`, in O(m + n).
fn count_le(b: &[f64], c: &[f64], x: f64) -> usize {
    // For ascending c[j], the set {i : b[i] ≥ c[j] − x} shrinks as j grows.
    let mut count = 0;
    let mut i = 0; // first index with b[i] >= c[j] - x
    for &cj in c {
        let bound = cj - x;
        while i < b.len() && b[i] < bound {
            i += 1;
        }
        count += b.len() - i;
    }
    count
}

/// The `k`-th smallest (1-based) of all `c[j] − b[i]`, for ascending `b`, `c` and
/// `1 ≤ k ≤ m·n`, by bisection on the value (at most 200 halvings of a finite
/// bracket, then the bracket is below one ulp).
fn kth_difference(b: &[f64], c: &[f64], k: usize) -> f64 {
    let (Some(&b_min), Some(&b_max), Some(&c_min), Some(&c_max)) =
        (b.first(), b.last(), c.first(), c.last())
    else {
        return f64::NAN;
    };
    let mut lo = c_min - b_max; // count_le(lo) ≥ 1
    let mut hi = c_max - b_min; // count_le(hi) = m·n
    if count_le(b, c, lo) >= k {
        return lo;
    }
    for _ in 0..200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if count_le(b, c, mid) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Hodges–Lehmann ratio `current / baseline` with its Moses interval at `level`
/// (e.g. 0.90). All samples must be finite and > 0; `level` in (0, 1).
///
/// The critical value is exact (from the U null distribution) when either sample
/// has at most 8 values and `m·n ≤` [`MAX_EXACT_CELLS`], else from the normal
/// approximation with continuity correction.
pub fn hodges_lehmann_ratio(
    baseline: &[f64],
    current: &[f64],
    level: f64,
) -> Result<HodgesLehmann, StatsError> {
    check_positive(baseline)?;
    check_positive(current)?;
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidArgument(format!(
            "confidence level must be in (0, 1), got {level}"
        )));
    }
    let mut b: Vec<f64> = baseline.iter().map(|x| x.ln()).collect();
    let mut c: Vec<f64> = current.iter().map(|x| x.ln()).collect();
    b.sort_by(f64::total_cmp);
    c.sort_by(f64::total_cmp);
    let (m, n) = (b.len(), c.len());
    let mn = m * n;
    let center = if mn % 2 == 1 {
        kth_difference(&b, &c, mn / 2 + 1)
    } else {
        let lo = kth_difference(&b, &c, mn / 2);
        let hi = kth_difference(&b, &c, mn / 2 + 1);
        lo + (hi - lo) / 2.0
    };
    let tail = (1.0 - level) / 2.0;
    // u_crit: smallest u with P(U ≥ u) ≤ tail; then k = mn − u_crit + 1.
    let exact = (m <= 8 || n <= 8) && mn <= MAX_EXACT_CELLS;
    let (u_crit, sf_at): (usize, Box<dyn Fn(usize) -> f64>) = if exact {
        let pmf = exact_pmf(m, n);
        let mut sf = vec![0.0; mn + 2];
        for u in (0..=mn).rev() {
            sf[u] = sf[u + 1] + pmf[u];
        }
        let u_crit = (0..=mn + 1).find(|&u| sf[u] <= tail).unwrap_or(mn + 1);
        (u_crit, Box::new(move |u| sf.get(u).copied().unwrap_or(0.0)))
    } else {
        let (mf, nf) = (m as f64, n as f64);
        let mu = mf * nf / 2.0;
        let sigma = (mf * nf * (mf + nf + 1.0) / 12.0).sqrt();
        let z = normal_quantile(1.0 - tail);
        let u_crit = (mu + 0.5 + z * sigma).ceil().max(0.0) as usize;
        (
            u_crit.min(mn + 1),
            Box::new(move |u| normal_sf((u as f64 - mu - 0.5) / sigma)),
        )
    };
    let (k, achieved) = if u_crit > mn {
        // Even the widest interval [min d, max d] does not reach `level`.
        (1, 1.0 - 2.0 * sf_at(mn))
    } else {
        (mn - u_crit + 1, level)
    };
    let lower = kth_difference(&b, &c, k);
    let upper = kth_difference(&b, &c, mn + 1 - k);
    Ok(HodgesLehmann {
        ratio: center.exp(),
        ci: ConfidenceInterval {
            lower: lower.exp(),
            upper: upper.exp(),
            level: achieved.clamp(0.0, 1.0),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_7).abs() < 1e-12);
        assert!(normal_quantile(0.5).abs() < 1e-14);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813_6).abs() < 1e-11);
    }

    #[test]
    fn kth_difference_matches_brute_force() {
        let b = [0.1, 0.5, 0.7, 1.3, 2.0];
        let c = [0.2, 0.9, 1.1, 3.0];
        let mut all: Vec<f64> = c
            .iter()
            .flat_map(|x| b.iter().map(move |y| x - y))
            .collect();
        all.sort_by(f64::total_cmp);
        for k in 1..=all.len() {
            let got = kth_difference(&b, &c, k);
            assert!(
                (got - all[k - 1]).abs() < 1e-12,
                "k={k}: {got} vs {}",
                all[k - 1]
            );
        }
    }
}
