//! The Mann–Whitney U test (Wilcoxon rank-sum), two-sided.

use serde::{Deserialize, Serialize};

use crate::summary::check_finite;
use crate::StatsError;

/// The exact null distribution is used only when `n1·n2` is at most this: it needs
/// one `f64` per possible value of U, so this caps that table at ~1.6 MB.
pub const MAX_EXACT_CELLS: usize = 200_000;

/// Result of [`mann_whitney_u`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U statistic of the first sample `a`: the number of pairs `(a_i, b_j)` with
    /// `a_i > b_j`, ties counting one half (scipy's `statistic`).
    pub u: f64,
    /// Standardized U of `a`, `(u - n1·n2/2) / σ_U` with the tie-corrected σ_U and no
    /// continuity correction; positive when `a` tends to be larger. 0 when σ_U is 0.
    pub z: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// Whether `p_two_sided` comes from the exact null distribution (no ties and a
    /// sample of at most 8 values) rather than the normal approximation.
    pub exact: bool,
}

/// Upper tail of the standard normal distribution, `P(Z > z)`.
pub(crate) fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Two-sided Mann–Whitney U test of `a` against `b`, with scipy's
/// (`scipy.stats.mannwhitneyu`, `method="auto"`, `use_continuity=True`) choice of
/// method, so its p-values can be checked against scipy:
///
/// * **exact** when there are no ties and either sample has at most 8 values (and
///   `n1·n2 ≤` [`MAX_EXACT_CELLS`]): `p = 2·P(U ≥ max(U1, U2))` under the null,
///   capped at 1;
/// * otherwise the **normal approximation** with tie correction
///   `σ² = n1·n2/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1)))` and continuity correction:
///   `z = (max(U1, U2) − n1·n2/2 − 0.5)/σ`, `p = 2·P(Z > z)` capped at 1 (p = 1 when
///   all values are equal).
///
/// Errors: either sample empty ([`StatsError::Empty`]) or non-finite.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Result<MannWhitney, StatsError> {
    check_finite(a)?;
    check_finite(b)?;
    let n1 = a.len();
    let n2 = b.len();
    let n = n1 + n2;
    // Pool, sort, assign average ranks to tie groups.
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // Positions i..j (0-based) share the average of ranks i+1..=j.
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        rank_sum_a += avg_rank * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = rank_sum_a - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;
    let u_big = u1.max(u2);
    let mu = n1f * n2f / 2.0;
    let var = if n > 1 {
        n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))
    } else {
        0.0
    };
    let sigma = var.max(0.0).sqrt();
    let z = if sigma > 0.0 { (u1 - mu) / sigma } else { 0.0 };
    let has_ties = tie_term > 0.0;
    let exact = !has_ties && (n1 <= 8 || n2 <= 8) && n1 * n2 <= MAX_EXACT_CELLS;
    let p = if exact {
        2.0 * exact_sf(u_big.round() as usize, n1, n2)
    } else if sigma > 0.0 {
        2.0 * normal_sf((u_big - mu - 0.5) / sigma)
    } else {
        1.0
    };
    Ok(MannWhitney {
        u: u1,
        z,
        p_two_sided: p.clamp(0.0, 1.0),
        exact,
    })
}

/// Null distribution of U for sample sizes `m`, `n` without ties, as probabilities
/// `pmf[u]` for `u` in `0..=m·n`.
///
/// The counts of U are the coefficients of the Gaussian binomial coefficient
/// `[m+n choose k]_q = ∏_{i=1..k} (1 − q^{N−k+i}) / (1 − q^i)` with `k = min(m, n)`;
/// each factor is applied in O(m·n), so the whole is O(min(m,n)·m·n). Callers keep
/// `m·n ≤ MAX_EXACT_CELLS`.
pub(crate) fn exact_pmf(m: usize, n: usize) -> Vec<f64> {
    let small = m.min(n);
    let total_n = m + n;
    let max_u = m * n;
    // Intermediate products overshoot the final degree by at most total_n.
    let len = max_u + total_n + 1;
    let mut c = vec![0.0f64; len];
    c[0] = 1.0;
    for i in 1..=small {
        let up = total_n - small + i;
        for d in (up..len).rev() {
            c[d] -= c[d - up];
        }
        for d in i..len {
            c[d] += c[d - i];
        }
    }
    c.truncate(max_u + 1);
    let total: f64 = c.iter().sum();
    for x in &mut c {
        *x = (*x / total).max(0.0);
    }
    c
}

/// `P(U ≥ k)` under the null hypothesis for sample sizes `m`, `n` without ties.
fn exact_sf(k: usize, m: usize, n: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > m * n {
        return 0.0;
    }
    let pmf = exact_pmf(m, n);
    pmf[k..].iter().sum::<f64>().clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Null distribution by brute force over all subsets, for comparison.
    fn brute_sf(k: usize, m: usize, n: usize) -> f64 {
        let total_n = m + n;
        let mut count = 0u64;
        let mut hits = 0u64;
        for mask in 0u32..(1 << total_n) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // a = positions in mask (ranks 0..N); U = Σ rank_a − m(m−1)/2 with 0-based ranks
            let rank_sum: usize = (0..total_n).filter(|&r| mask & (1 << r) != 0).sum();
            let u = rank_sum - m * (m - 1) / 2;
            count += 1;
            if u >= k {
                hits += 1;
            }
        }
        hits as f64 / count as f64
    }

    #[test]
    fn exact_distribution_matches_enumeration() {
        for (m, n) in [(1, 1), (2, 3), (3, 3), (4, 6), (5, 7), (8, 4)] {
            for k in 0..=m * n + 1 {
                let e = exact_sf(k, m, n);
                let b = brute_sf(k, m, n);
                assert!((e - b).abs() < 1e-12, "m={m} n={n} k={k}: {e} vs {b}");
            }
        }
    }
}
