//! Wilcoxon's signed-rank test of paired differences: exact for small samples
//! without ties, normal approximation (tie and continuity corrected) otherwise.

use crate::mwu::normal_sf;
use crate::summary::check_finite;
use crate::StatsError;

/// Largest number of non-zero differences whose null distribution is enumerated
/// exactly (the subset-sum table has `n(n+1)/2 + 1` cells; above this the normal
/// approximation is within 0.001 of it).
pub const MAX_EXACT_SIGNED_RANK: usize = 25;

/// The signed-rank test of differences against zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedRank {
    /// Sum of the ranks of the positive differences (`|d|` ranked, midranks for ties).
    pub w_plus: f64,
    /// Number of non-zero differences (zeros are dropped, Wilcoxon's convention).
    pub n: usize,
    /// Two-sided p-value (1 when every difference is zero).
    pub p_two_sided: f64,
    /// Whether `p_two_sided` comes from the exact null distribution.
    pub exact: bool,
}

/// Midranks of `values` (1-based; tied values share the mean of their ranks) and
/// the tie correction `Σ(t³ − t)` over groups of `t` tied values.
fn midranks(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = mid;
        }
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    (ranks, ties)
}

/// `P(W⁺ = w)` for `w = 0 ..= n(n+1)/2` under the null: every sign equally likely,
/// so the count of subsets of `{1..n}` summing to `w`, over `2ⁿ`.
fn exact_pmf(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0f64; max + 1];
    counts[0] = 1.0;
    for r in 1..=n {
        for w in (r..=max).rev() {
            counts[w] += counts[w - r];
        }
    }
    let total = 2f64.powi(n as i32);
    counts.iter().map(|c| c / total).collect()
}

fn exact_p(w_plus: f64, n: usize) -> f64 {
    let pmf = exact_pmf(n);
    // Without ties W⁺ is an integer.
    let w = w_plus.round() as usize;
    let lower: f64 = pmf.iter().take(w + 1).sum();
    let upper: f64 = pmf.iter().skip(w).sum();
    (2.0 * lower.min(upper)).min(1.0)
}

fn normal_p(w_plus: f64, n: usize, ties: f64) -> f64 {
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    if var <= 0.0 {
        return 1.0;
    }
    let dev = ((w_plus - mean).abs() - 0.5).max(0.0);
    (2.0 * normal_sf(dev / var.sqrt())).min(1.0)
}

/// Wilcoxon's signed-rank test of `differences` (finite) against a zero median.
pub fn wilcoxon_signed_rank(differences: &[f64]) -> Result<SignedRank, StatsError> {
    if differences.is_empty() {
        return Err(StatsError::Empty);
    }
    check_finite(differences)?;
    let nonzero: Vec<f64> = differences.iter().copied().filter(|d| *d != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return Ok(SignedRank {
            w_plus: 0.0,
            n,
            p_two_sided: 1.0,
            exact: true,
        });
    }
    let abs: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    let (ranks, ties) = midranks(&abs);
    let w_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let exact = ties == 0.0 && n <= MAX_EXACT_SIGNED_RANK;
    let p_two_sided = if exact {
        exact_p(w_plus, n)
    } else {
        normal_p(w_plus, n, ties)
    };
    Ok(SignedRank {
        w_plus,
        n,
        p_two_sided,
        exact,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `P(W⁺ ≤ w)` by enumerating every sign pattern.
    fn brute_cdf(w: usize, n: usize) -> f64 {
        let hits = (0u32..1 << n)
            .filter(|mask| {
                let s: usize = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).sum();
                s <= w
            })
            .count();
        hits as f64 / (1u64 << n) as f64
    }

    #[test]
    fn exact_distribution_matches_enumeration() {
        for n in 1..=10 {
            let pmf = exact_pmf(n);
            for w in 0..pmf.len() {
                let cdf: f64 = pmf[..=w].iter().sum();
                assert!((cdf - brute_cdf(w, n)).abs() < 1e-12, "n={n} w={w}");
            }
        }
    }

    #[test]
    fn all_positive_reaches_the_smallest_p() {
        let d = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        let r = wilcoxon_signed_rank(&d).unwrap();
        assert!(r.exact);
        assert_eq!(r.w_plus, 21.0);
        // Two-sided: 2 · 1/64.
        assert!((r.p_two_sided - 2.0 / 64.0).abs() < 1e-12);
    }

    #[test]
    fn balanced_signs_are_not_significant_and_zeros_are_dropped() {
        let d = [0.1, -0.1, 0.2, -0.2, 0.0, 0.3, -0.3];
        let r = wilcoxon_signed_rank(&d).unwrap();
        assert_eq!(r.n, 6);
        assert!(!r.exact, "ties use the normal approximation");
        assert!(r.p_two_sided > 0.9, "{r:?}");
        assert_eq!(wilcoxon_signed_rank(&[0.0, 0.0]).unwrap().p_two_sided, 1.0);
        assert!(wilcoxon_signed_rank(&[]).is_err());
        assert!(wilcoxon_signed_rank(&[f64::NAN]).is_err());
    }

    #[test]
    fn normal_approximation_agrees_with_exact_at_the_switch() {
        let n = MAX_EXACT_SIGNED_RANK;
        let d: Vec<f64> = (1..=n)
            .map(|i| if i % 3 == 0 { -(i as f64) } else { i as f64 })
            .collect();
        let r = wilcoxon_signed_rank(&d).unwrap();
        assert!(r.exact);
        let approx = normal_p(r.w_plus, n, 0.0);
        assert!(
            (r.p_two_sided - approx).abs() < 0.005,
            "{} {approx}",
            r.p_two_sided
        );
    }
}
