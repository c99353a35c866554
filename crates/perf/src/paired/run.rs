//! Running a paired test: both builds prepared on one workload directory, then
//! rounds of ABBA blocks (BAAB in odd rounds, so neither side always goes first).

use std::path::Path;

use guestctl_stats::Round;

use crate::error::PerfError;
use crate::paired::plan::PairedPlan;
use crate::record::MemoryStats;
use crate::worker::{Batch, Worker};

/// What a paired test measured.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedRun {
    /// Test name.
    pub name: String,
    /// Iterations per side per block.
    pub block_iterations: usize,
    /// The rounds, in order.
    pub rounds: Vec<Round>,
    /// The baseline build's memory figures over all its measured iterations.
    pub baseline_memory: Option<MemoryStats>,
    /// The current build's memory figures over all its measured iterations.
    pub current_memory: Option<MemoryStats>,
}

impl PairedRun {
    /// Every baseline sample, round after round.
    pub fn baseline_samples(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .flat_map(|r| r.baseline.clone())
            .collect()
    }
    /// Every current sample, round after round.
    pub fn current_samples(&self) -> Vec<f64> {
        self.rounds.iter().flat_map(|r| r.current.clone()).collect()
    }
}

fn append_memory(into: &mut Option<MemoryStats>, add: Option<MemoryStats>) {
    match (into.as_mut(), add) {
        (Some(m), Some(a)) => {
            m.alloc_bytes.extend(a.alloc_bytes);
            m.alloc_count.extend(a.alloc_count);
            m.peak_heap_bytes.extend(a.peak_heap_bytes);
        }
        (None, Some(a)) => *into = Some(a),
        _ => {}
    }
}

/// The two sides of a paired run.
pub struct Sides<'a> {
    /// The baseline build.
    pub baseline: &'a mut dyn Worker,
    /// The current build.
    pub current: &'a mut dyn Worker,
}

/// Median of one warm-up-free calibration iteration per side.
fn calibrate(name: &str, plan: &PairedPlan, sides: &mut Sides<'_>) -> Result<f64, PerfError> {
    let b = sides.baseline.run(name, 1, plan.warmup, 0.0)?;
    let c = sides.current.run(name, 1, plan.warmup, plan.spin_percent)?;
    let both: Vec<f64> = b.samples.into_iter().chain(c.samples).collect();
    Ok(both.iter().sum::<f64>() / both.len().max(1) as f64)
}

/// Sets test `name` up on both sides, in the same workload directory `dir`.
pub fn prepare_both(name: &str, sides: &mut Sides<'_>, dir: &Path) -> Result<(), PerfError> {
    std::fs::create_dir_all(dir).map_err(|e| PerfError::io("creating", dir, e))?;
    sides.baseline.prepare(name, dir)?;
    sides.current.prepare(name, dir)
}

/// Runs test `name` paired: `prepare` on both sides in `dir`, then
/// [`measure_rounds`].
pub fn run_paired_test(
    name: &str,
    plan: &PairedPlan,
    sides: &mut Sides<'_>,
    dir: &Path,
) -> Result<PairedRun, PerfError> {
    prepare_both(name, sides, dir)?;
    measure_rounds(name, plan, sides)
}

/// Measures the prepared test `name`: a calibration, then the rounds of `plan`.
pub fn measure_rounds(
    name: &str,
    plan: &PairedPlan,
    sides: &mut Sides<'_>,
) -> Result<PairedRun, PerfError> {
    let (k, rounds) = plan.schedule(calibrate(name, plan, sides)?);
    let mut out = PairedRun {
        name: name.to_string(),
        block_iterations: k,
        rounds: Vec::with_capacity(rounds),
        baseline_memory: None,
        current_memory: None,
    };
    for r in 0..rounds {
        let mut round = Round {
            baseline: Vec::with_capacity(2 * k),
            current: Vec::with_capacity(2 * k),
        };
        let order = if r % 2 == 0 {
            [false, true, true, false]
        } else {
            [true, false, false, true]
        };
        for is_current in order {
            let Batch { samples, memory } = if is_current {
                sides.current.run(name, k, 0, plan.spin_percent)?
            } else {
                sides.baseline.run(name, k, 0, 0.0)?
            };
            if is_current {
                round.current.extend(samples);
                append_memory(&mut out.current_memory, memory);
            } else {
                round.baseline.extend(samples);
                append_memory(&mut out.baseline_memory, memory);
            }
        }
        out.rounds.push(round);
    }
    Ok(out)
}
