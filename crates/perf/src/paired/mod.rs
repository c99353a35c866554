//! Paired A/B runs: the baseline's own binary and the current one, each a
//! [`crate::worker`] process, measured in alternating ABBA rounds of one session so
//! that the machine's state of the moment cancels out of every round's ratio.
//!
//! plan ([`PairedPlan`]) → run ([`run_paired_suite`], any [`Worker`] pair: real
//! processes, or scripted ones in tests) → outcome ([`paired_outcome`]: results
//! files and a [`crate::BaselineComparison`] under guestctl-stats' paired rule).

pub mod outcome;
pub mod plan;
pub mod run;
pub mod selfcheck;

use std::path::Path;

pub use outcome::{paired_outcome, test_meta, PairedOutcome, TestMeta};
pub use plan::PairedPlan;
pub use run::{measure_rounds, prepare_both, run_paired_test, PairedRun, Sides};
pub use selfcheck::{run_self_check, self_check_notes, Scenario, SELF_CHECK_SPINS};

use crate::measure::Observer;
use crate::suite::Failure;
#[cfg(doc)]
use crate::worker::Worker;

/// Runs every test of `names` paired, each in its own subdirectory of `workdir`
/// (removed after the test); a failing test is recorded and the others go on.
/// `observer` hears `test_started` / `test_failed` per test.
pub fn run_paired_suite(
    names: &[String],
    plan: &PairedPlan,
    sides: &mut Sides<'_>,
    workdir: &Path,
    observer: &mut dyn Observer,
) -> (Vec<PairedRun>, Vec<Failure>) {
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for (i, name) in names.iter().enumerate() {
        observer.test_started(name, plan.warmup, plan.rounds);
        let dir = workdir.join(format!("test-{i}"));
        let r = run_paired_test(name, plan, sides, &dir);
        // Best effort: the workload directory holds generated images only.
        let _ = std::fs::remove_dir_all(&dir);
        match r {
            Ok(run) => {
                observer.iteration_finished(name, false);
                runs.push(run);
            }
            Err(error) => {
                observer.test_failed(name, &error);
                failures.push(Failure {
                    name: name.clone(),
                    error,
                });
            }
        }
    }
    (runs, failures)
}
