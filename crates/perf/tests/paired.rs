//! The paired orchestration (plan → run → outcome) with scripted workers: ABBA
//! order, a machine whose speed changes between rounds, verdicts and exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use guestctl_perf::compare::{Method, RunInfo};
use guestctl_perf::paired::{paired_outcome, run_paired_suite, PairedPlan, Sides, TestMeta};
use guestctl_perf::worker::{Batch, Worker};
use guestctl_perf::{
    CompareConfig, MemoryStats, NoObserver, PerfError, PerfTestSuite, Verdict, EXIT_OK,
    EXIT_REGRESSION,
};
use guestctl_stats::rng::Rng;

/// The shared machine: its speed changes every 4 requests (a round's length), by
/// up to ±40 %, with ±2 % from block to block; every call is logged as
/// `(side, test)`.
struct Machine {
    rng: Rng,
    log: Vec<(&'static str, String)>,
    factor: f64,
}

struct MockWorker {
    side: &'static str,
    machine: Rc<RefCell<Machine>>,
    /// Slowdown of this build per test name (fraction).
    slower: Vec<(&'static str, f64)>,
    fail_prepare: Option<&'static str>,
}

impl Worker for MockWorker {
    fn prepare(&mut self, test: &str, dir: &Path) -> Result<(), PerfError> {
        assert!(dir.is_dir());
        if self.fail_prepare == Some(test) {
            return Err(PerfError::operation("setup failed"));
        }
        Ok(())
    }
    fn run(&mut self, test: &str, n: usize, _warmup: usize, spin: f64) -> Result<Batch, PerfError> {
        let mut m = self.machine.borrow_mut();
        m.log.push((self.side, test.to_string()));
        if m.log.len() % 4 == 1 {
            m.factor = 0.6 + 0.8 * m.rng.next_f64();
        }
        let factor = m.factor * (0.98 + 0.04 * m.rng.next_f64());
        let slow = self
            .slower
            .iter()
            .find(|(t, _)| *t == test)
            .map_or(0.0, |x| x.1);
        let samples = (0..n)
            .map(|_| {
                1e6 * factor * (1.0 + slow) * (1.0 + spin / 100.0) * m.rng.log_normal(0.0, 0.01)
            })
            .collect();
        Ok(Batch {
            samples,
            memory: Some(MemoryStats {
                alloc_bytes: vec![1000.0 * (1.0 + slow); n],
                alloc_count: vec![10.0; n],
                peak_heap_bytes: vec![500.0; n],
            }),
        })
    }
}

fn run(
    slower: Vec<(&'static str, f64)>,
    fail: Option<&'static str>,
) -> (
    guestctl_perf::paired::PairedOutcome,
    Vec<(&'static str, String)>,
) {
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let machine = Rc::new(RefCell::new(Machine {
        rng: Rng::new(9),
        log: Vec::new(),
        factor: 1.0,
    }));
    let mut base = MockWorker {
        side: "A",
        machine: machine.clone(),
        slower: Vec::new(),
        fail_prepare: None,
    };
    let mut cur = MockWorker {
        side: "B",
        machine: machine.clone(),
        slower,
        fail_prepare: fail,
    };
    let tmp = tempfile::tempdir().unwrap();
    let plan = PairedPlan {
        block_iterations: Some(2),
        ..PairedPlan::default()
    };
    let mut sides = Sides {
        baseline: &mut base,
        current: &mut cur,
    };
    let (runs, failures) = run_paired_suite(&names, &plan, &mut sides, tmp.path(), &mut NoObserver);
    let metas: Vec<TestMeta> = names
        .iter()
        .map(|n| TestMeta {
            name: n.clone(),
            params: Default::default(),
            operation: None,
        })
        .collect();
    let info = RunInfo {
        timestamp: "2026-01-01T00:00:00Z".into(),
        git_commit: "abc".into(),
        machine: guestctl_perf::Fingerprint::current(),
    };
    let out = paired_outcome(
        &runs,
        &failures,
        &metas,
        PerfTestSuite::new(),
        info,
        &CompareConfig::new(5.0),
    )
    .unwrap();
    let log = machine.borrow().log.clone();
    (out, log)
}

#[test]
fn rounds_alternate_abba_and_baab() {
    let (out, log) = run(Vec::new(), None);
    // Per test: 2 calibration calls, then 10 rounds of 4 blocks.
    let a: Vec<&str> = log
        .iter()
        .filter(|(_, t)| t == "a")
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(a.len(), 2 + 40);
    assert_eq!(&a[2..10], ["A", "B", "B", "A", "B", "A", "A", "B"]);
    let t = &out.comparison.tests[0];
    assert_eq!(t.method, Method::Paired);
    let p = t.paired.as_ref().unwrap();
    assert_eq!((p.rounds, p.block_iterations), (10, 2));
    assert_eq!(out.current.tests[0].samples.len(), 40);
}

#[test]
fn a_a_under_a_wildly_varying_machine_exits_0() {
    let (out, _) = run(Vec::new(), None);
    for t in &out.comparison.tests {
        assert_eq!(t.verdict(), Some(Verdict::Unchanged), "{t:?}");
    }
    assert_eq!(out.comparison.exit_code(), EXIT_OK);
}

#[test]
fn a_ten_percent_slowdown_of_one_test_is_the_only_regression() {
    let (out, _) = run(vec![("b", 0.10)], None);
    assert_eq!(out.comparison.exit_code(), EXIT_REGRESSION);
    let flagged: Vec<String> = out
        .comparison
        .regressions()
        .iter()
        .map(|t| format!("{} {}", t.label(), t.method.as_str()))
        .collect();
    // Time (paired) and allocation bytes (deterministic, 10 % more) of b only.
    assert_eq!(flagged, ["b paired", "b [alloc_bytes] deterministic"]);
}

#[test]
fn a_failing_test_is_reported_and_the_others_compared() {
    let (out, _) = run(Vec::new(), Some("c"));
    let c = out.comparison.tests.iter().find(|t| t.name == "c").unwrap();
    assert!(c.error.as_deref().unwrap().contains("setup failed"));
    assert_eq!(out.current.tests.len(), 2);
}

#[test]
fn self_check_reports_false_alarms_and_detection_per_level() {
    use guestctl_perf::paired::{run_self_check, self_check_notes, SELF_CHECK_SPINS};
    let names: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    let machine = Rc::new(RefCell::new(Machine {
        rng: Rng::new(11),
        log: Vec::new(),
        factor: 1.0,
    }));
    let worker = |side| MockWorker {
        side,
        machine: machine.clone(),
        slower: Vec::new(),
        fail_prepare: None,
    };
    let (mut base, mut cur) = (worker("A"), worker("B"));
    let mut sides = Sides {
        baseline: &mut base,
        current: &mut cur,
    };
    let tmp = tempfile::tempdir().unwrap();
    let plan = PairedPlan {
        block_iterations: Some(2),
        ..PairedPlan::default()
    };
    let scenarios = run_self_check(
        &names,
        &plan,
        &SELF_CHECK_SPINS,
        &mut sides,
        tmp.path(),
        &mut NoObserver,
    );
    let metas: Vec<TestMeta> = names
        .iter()
        .map(|n| TestMeta {
            name: n.clone(),
            params: Default::default(),
            operation: None,
        })
        .collect();
    let info = RunInfo {
        timestamp: "2026-01-01T00:00:00Z".into(),
        git_commit: "abc".into(),
        machine: guestctl_perf::Fingerprint::current(),
    };
    let comparisons: Vec<_> = scenarios
        .iter()
        .map(|s| {
            paired_outcome(
                &s.runs,
                &s.failures,
                &metas,
                PerfTestSuite::new(),
                info.clone(),
                &CompareConfig::new(5.0),
            )
            .unwrap()
            .comparison
        })
        .collect();
    let notes = self_check_notes(&SELF_CHECK_SPINS, &comparisons);
    // +5 % at a 5 % threshold is a coin toss by construction: only its line is checked.
    assert_eq!(
        [&notes[0], &notes[2], &notes[3]],
        [
            "self-check A/A (no change): false alarms in 0 of 2 tests (0%)",
            "self-check injected +10%: detected in 2 of 2 tests (100%)",
            "self-check injected +30%: detected in 2 of 2 tests (100%)",
        ]
    );
    assert!(notes[1].starts_with("self-check injected +5%: detected in "));
    assert!(
        notes[4].starts_with("self-check a: +0% unchanged; +5% "),
        "{}",
        notes[4]
    );
    assert!(
        notes[4].ends_with("; +10% regression; +30% regression"),
        "{}",
        notes[4]
    );
    assert_eq!(notes.len(), 6);
}
