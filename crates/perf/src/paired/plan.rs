//! How many rounds, and how many iterations per block, a paired test gets.

/// Settings of a paired run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedPlan {
    /// Rounds per test when time allows.
    pub rounds: usize,
    /// Fewest rounds per test, whatever the time.
    pub min_rounds: usize,
    /// Iterations per side per block; `None` calibrates from one iteration so that a
    /// block lasts about `target_block_ns`.
    pub block_iterations: Option<usize>,
    /// Target duration of one block when calibrating.
    pub target_block_ns: f64,
    /// Most iterations per block when calibrating.
    pub max_block_iterations: usize,
    /// Measured time per test (both sides) above which rounds are cut down to
    /// `min_rounds`.
    pub test_budget_ns: f64,
    /// Discarded iterations per side before the first round.
    pub warmup: usize,
    /// Busy work added to the current side's iterations, in percent (self-check
    /// only; 0 otherwise).
    pub spin_percent: f64,
}

impl Default for PairedPlan {
    fn default() -> Self {
        PairedPlan {
            rounds: 10,
            min_rounds: 6,
            block_iterations: None,
            target_block_ns: 2e7,
            max_block_iterations: 5,
            test_budget_ns: 2.5e9,
            warmup: 1,
            spin_percent: 0.0,
        }
    }
}

impl PairedPlan {
    /// `(iterations per block, rounds)` for a test whose iteration takes about
    /// `iteration_ns`: blocks of about `target_block_ns`, and as many rounds as fit
    /// the budget, between `min_rounds` and `rounds`.
    pub fn schedule(&self, iteration_ns: f64) -> (usize, usize) {
        let t = if iteration_ns.is_finite() && iteration_ns > 0.0 {
            iteration_ns
        } else {
            1.0
        };
        let k = self.block_iterations.unwrap_or_else(|| {
            let want = (self.target_block_ns / t).round() as usize;
            want.clamp(1, self.max_block_iterations.max(1))
        });
        let per_round = 4.0 * k as f64 * t;
        let fit = (self.test_budget_ns / per_round).floor() as usize;
        let min = self.min_rounds.min(self.rounds);
        (k.max(1), fit.clamp(min, self.rounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tests_get_full_blocks_and_rounds_slow_ones_the_minimum() {
        let p = PairedPlan::default();
        assert_eq!(p.schedule(10_000.0), (5, 10));
        // 5 ms: 4 per block (20 ms), 80 ms per round: all 10 rounds fit.
        assert_eq!(p.schedule(5e6), (4, 10));
        assert_eq!(p.schedule(2e7), (1, 10));
        // 200 ms per iteration: one per block, rounds cut to the minimum.
        assert_eq!(p.schedule(2e8), (1, 6));
        // 80 ms: 0.32 s per round, 7 rounds fit 2.5 s.
        assert_eq!(p.schedule(8e7), (1, 7));
        let fixed = PairedPlan {
            block_iterations: Some(3),
            ..p
        };
        assert_eq!(fixed.schedule(1.0).0, 3);
        assert_eq!(p.schedule(f64::NAN), (5, 10));
    }
}
