//! `perf validate --self-check`: the detector measured on itself. The current
//! build is paired with itself, first as is (A/A: every regression is a false
//! alarm), then with a slowdown injected into the current side (the worker spins
//! for a given percentage of each measured iteration): the share of tests flagged
//! at each level is the detection rate (the detector's power curve).

use std::fmt::Write as _;
use std::path::Path;

use guestctl_stats::Verdict;

use crate::compare::BaselineComparison;
use crate::error::PerfError;
use crate::measure::Observer;
use crate::paired::plan::PairedPlan;
use crate::paired::run::{measure_rounds, prepare_both, PairedRun, Sides};
use crate::suite::Failure;

/// Injected slowdowns of the self-check, in percent (0 is the A/A run).
pub const SELF_CHECK_SPINS: [f64; 4] = [0.0, 5.0, 10.0, 30.0];

/// The runs of one scenario (one injected slowdown).
#[derive(Debug)]
pub struct Scenario {
    /// Injected slowdown, percent.
    pub spin_percent: f64,
    /// Paired runs of the tests that worked.
    pub runs: Vec<PairedRun>,
    /// Tests that failed.
    pub failures: Vec<Failure>,
}

/// Runs every test once set up, then every scenario of `spins` on it.
pub fn run_self_check(
    names: &[String],
    plan: &PairedPlan,
    spins: &[f64],
    sides: &mut Sides<'_>,
    workdir: &Path,
    observer: &mut dyn Observer,
) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = spins
        .iter()
        .map(|&spin_percent| Scenario {
            spin_percent,
            runs: Vec::new(),
            failures: Vec::new(),
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        observer.test_started(name, plan.warmup, plan.rounds);
        let dir = workdir.join(format!("test-{i}"));
        let prepared = prepare_both(name, sides, &dir);
        for s in out.iter_mut() {
            let p = PairedPlan {
                spin_percent: s.spin_percent,
                ..*plan
            };
            let r = match &prepared {
                Ok(()) => measure_rounds(name, &p, sides),
                Err(e) => Err(PerfError::operation(e.to_string())),
            };
            match r {
                Ok(run) => s.runs.push(run),
                Err(error) => {
                    observer.test_failed(name, &error);
                    s.failures.push(Failure {
                        name: name.clone(),
                        error,
                    });
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        observer.iteration_finished(name, false);
    }
    out
}

fn verdict_of(c: &BaselineComparison, test: &str) -> Option<Verdict> {
    c.tests
        .iter()
        .find(|t| t.name == test && t.metric.is_samples())
        .and_then(|t| t.verdict())
}

/// The self-check's result lines for the run's notes (they appear in report.md,
/// report.html and the terminal): one summary line per scenario, then one line per
/// test with its verdict at every level.
pub fn self_check_notes(spins: &[f64], comparisons: &[BaselineComparison]) -> Vec<String> {
    let mut notes = Vec::new();
    for (spin, c) in spins.iter().zip(comparisons) {
        let time: Vec<_> = c.tests.iter().filter(|t| t.metric.is_samples()).collect();
        let flagged = time
            .iter()
            .filter(|t| t.verdict() == Some(Verdict::Regression))
            .count();
        let rate = 100.0 * flagged as f64 / time.len().max(1) as f64;
        let what = if *spin == 0.0 {
            "A/A (no change): false alarms".to_string()
        } else {
            format!("injected +{spin}%: detected")
        };
        notes.push(format!(
            "self-check {what} in {flagged} of {} tests ({rate:.0}%)",
            time.len()
        ));
    }
    let Some(first) = comparisons.first() else {
        return notes;
    };
    for t in first.tests.iter().filter(|t| t.metric.is_samples()) {
        let mut line = format!("self-check {}:", t.name);
        for (spin, c) in spins.iter().zip(comparisons) {
            let v = verdict_of(c, &t.name).map_or("error".to_string(), |v| v.to_string());
            let _ = write!(line, " +{spin}% {v};");
        }
        notes.push(line.trim_end_matches(';').to_string());
    }
    notes
}
