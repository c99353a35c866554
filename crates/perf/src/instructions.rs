//! `perf validate --metric instructions`: every test of a suite measured under
//! callgrind, each in its own child process, `jobs` at a time on a rayon pool
//! (instruction counts do not depend on the machine's load, so running tests side
//! by side changes no figure), then recorded in the suite's order.

use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::callgrind::Runner;
use crate::error::PerfError;
use crate::measure::Observer;
use crate::record::Unit;
use crate::suite::{Failure, PerfTestSuite, RunPlan, Suite};

/// Measures `suite`'s instruction counts with `exe perf run-routine` under
/// callgrind into `into`; `done(name, iterations)` is called from the pool's
/// threads as each test finishes (for a progress bar). Failed tests are returned.
pub fn measure_instructions(
    exe: PathBuf,
    suite: Suite,
    into: &mut PerfTestSuite,
    plan: RunPlan,
    jobs: usize,
    observer: &mut dyn Observer,
    done: &(dyn Fn(&str, usize) + Sync),
) -> Result<Vec<Failure>, PerfError> {
    let runner = Runner::new(exe)?;
    let warmup = into.config().warmup;
    let work: Vec<(String, usize)> = suite
        .names()
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), suite.iterations_of(i, plan)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.clamp(1, work.len().max(1)))
        .build()
        .map_err(|e| PerfError::operation(format!("starting {jobs} callgrind jobs: {e}")))?;
    let mut measured: HashMap<String, Result<Vec<f64>, PerfError>> = pool.install(|| {
        work.par_iter()
            .map(|(name, iterations)| {
                let r = runner.measure(name, *iterations, warmup);
                done(name, *iterations + warmup);
                (name.clone(), r)
            })
            .collect()
    });
    Ok(suite.run_external(
        into,
        plan,
        Unit::Instructions,
        "callgrind_instructions",
        observer,
        &mut |name, _| {
            measured.remove(name).unwrap_or_else(|| {
                Err(PerfError::operation(format!(
                    "test {name} was not measured"
                )))
            })
        },
    ))
}
