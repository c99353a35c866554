//! The machine-drift guard through the whole comparison and its reports: a
//! slowdown the reference workload explains is inconclusive (with a note), one
//! beyond it is still a regression, and runs without calibration are unaffected.
//! Deterministic: samples and calibrations are fixed, not timed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_perf::report::{markdown_report, terminal_table};
use guestctl_perf::*;

fn run(factor: f64, calibration: Option<f64>) -> RunResults {
    let mut s = PerfTestSuite::new();
    let values: Vec<f64> = (0..30)
        .map(|i| factor * 1.0e6 * (0.95 + 0.1 * f64::from(i) / 29.0))
        .collect();
    s.run_with(
        "op",
        Params::new(),
        30,
        &mut MockMeasurement::new(values),
        &mut || Ok(()),
        &mut NoObserver,
    )
    .unwrap();
    let mut r = s.to_run();
    r.tests[0].calibration_ns = calibration;
    r
}

#[test]
fn drift_explains_a_slowdown_on_a_slower_machine() {
    let base = run(1.0, Some(500_000.0));
    let cur = run(1.25, Some(600_000.0)); // the machine itself ran 20% slower
    let c = compare_runs(&cur, &base, &CompareConfig::new(5.0));
    let t = &c.tests[0];
    assert!((t.machine_drift.unwrap() - 1.2).abs() < 1e-9);
    assert_eq!(t.verdict(), Some(Verdict::Inconclusive));
    assert!(
        t.note.as_deref().unwrap().contains("+20.0%"),
        "{:?}",
        t.note
    );
    assert!(!c.has_regressions());
    let report = Report::new(cur.clone(), BaselineAction::None, Some(c));
    assert!(markdown_report(&report).contains("the machine itself ran +20.0%"));
    assert!(terminal_table(&report).contains("machine drift: op:"));
}

#[test]
fn a_regression_beyond_the_drift_still_fails() {
    let base = run(1.0, Some(500_000.0));
    let cur = run(1.40, Some(550_000.0));
    let c = compare_runs(&cur, &base, &CompareConfig::new(5.0));
    assert_eq!(c.tests[0].verdict(), Some(Verdict::Regression));
    assert!(c.tests[0].note.is_none());
    assert!(c.has_regressions());
}

#[test]
fn without_calibration_on_either_side_the_verdict_is_the_statistics_alone() {
    let base = run(1.0, None);
    let cur = run(1.25, Some(600_000.0));
    let c = compare_runs(&cur, &base, &CompareConfig::new(5.0));
    assert_eq!(c.tests[0].machine_drift, None);
    assert_eq!(c.tests[0].verdict(), Some(Verdict::Regression));
}
