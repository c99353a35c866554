//! JUnit XML of a run, written by `quick-junit`: one `<testsuite name="guestctl-perf">`
//! with one `<testcase>` per test, a `<failure>` for a regression (or a missed
//! target, when missed targets fail the run) carrying the numbers, a skipped testcase per test missing from the run,
//! and the commit and machine as properties.

use std::time::Duration;

use guestctl_perf::report::format_ns;
use guestctl_perf::{BaselineComparison, MatchStatus, RunResults, TestResult, Unit, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

/// One reason a test fails: JUnit's `type`, `message` and the details.
struct Failure {
    kind: String,
    message: String,
    details: String,
}

fn fmt_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Nanoseconds => format_ns(v),
        other => other.format(v),
    }
}

/// The regressions of `t` in `cmp`: its samples, then its memory figures (a memory
/// regression fails the test too, naming the metric).
fn regressions(t: &TestResult, cmp: Option<&BaselineComparison>) -> Vec<Failure> {
    let mut out = Vec::new();
    for tc in cmp
        .into_iter()
        .flat_map(|c| c.tests.iter().filter(|x| x.name == t.name))
    {
        let (Some(Verdict::Regression), Some(c)) = (tc.verdict(), tc.comparison.as_ref()) else {
            continue;
        };
        let samples = tc.metric.is_samples();
        let what = if samples && tc.unit == Unit::Nanoseconds {
            "slower".to_string()
        } else {
            format!("more {}", tc.metric.label(tc.unit))
        };
        out.push(Failure {
            kind: if samples {
                "regression".to_string()
            } else {
                format!("regression_{}", tc.metric.label(tc.unit))
            },
            message: format!(
                "{:+.1}% {what} than the baseline (threshold {:.1}%)",
                c.change_pct, c.threshold_pct
            ),
            details: format!(
                "baseline median {}, current median {}, ratio {:.4} (95% CI {:.4}..{:.4}), \
                 decision interval {:.4}..{:.4}, Mann-Whitney p = {:.3e} (Holm-adjusted {:.3e})",
                tc.baseline_median
                    .map_or("?".into(), |v| fmt_value(tc.unit, v)),
                tc.current_median
                    .map_or("?".into(), |v| fmt_value(tc.unit, v)),
                c.ratio,
                c.ratio_ci.lower,
                c.ratio_ci.upper,
                c.hl_ci.lower,
                c.hl_ci.upper,
                c.p_value,
                c.p_adjusted
            ),
        });
    }
    out
}

/// The missed target of `t`, if any, as a failure.
fn missed_target(t: &TestResult) -> Option<Failure> {
    let m = guestctl_perf::report::missed_target(t)?;
    let tc = t.target.as_ref()?;
    Some(Failure {
        kind: "target_missed".to_string(),
        message: format!(
            "{} of {} missed by operation {}",
            m.which,
            format_ns(m.target),
            tc.operation
        ),
        details: format!(
            "upper bound of the median's 95% CI {} is not below the {} {} (median {})",
            format_ns(tc.median_ci_upper_ns),
            m.which,
            format_ns(m.target),
            format_ns(t.summary.median)
        ),
    })
}

/// A test's status: success, or one `<failure>` naming every reason (JUnit allows
/// one per testcase), `type` the reasons' kinds joined by `, `.
fn status_of(failures: &[Failure]) -> TestCaseStatus {
    if failures.is_empty() {
        return TestCaseStatus::success();
    }
    let join =
        |f: fn(&Failure) -> &str, sep: &str| failures.iter().map(f).collect::<Vec<_>>().join(sep);
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_type(join(|f| &f.kind, ", "))
        .set_message(join(|f| &f.message, "; "))
        .set_description(join(|f| &f.details, "\n"));
    status
}

fn test_case(
    t: &TestResult,
    cmp: Option<&BaselineComparison>,
    targets_fail: bool,
) -> (TestCase, Duration) {
    let mut failures = regressions(t, cmp);
    let missed = missed_target(t);
    // A missed target that does not fail the run is said in the test's output.
    let warning = match missed {
        Some(m) if targets_fail => {
            failures.push(m);
            String::new()
        }
        Some(m) => format!("\nwarning: {} (not a failure)", m.message),
        None => String::new(),
    };
    let time = if t.unit == Unit::Nanoseconds {
        let total: f64 = t.samples.iter().filter(|v| v.is_finite()).sum();
        Duration::try_from_secs_f64(total / 1e9).unwrap_or_default()
    } else {
        Duration::ZERO
    };
    let operation = t
        .operation
        .as_deref()
        .unwrap_or_else(|| t.name.split('/').next().unwrap_or("suite"));
    let s = &t.summary;
    let mut case = TestCase::new(t.name.as_str(), status_of(&failures));
    case.set_classname(format!("guestctl.perf.{operation}"))
        .set_time(time)
        .set_system_out(
            format!(
                "n={} median={} ci=[{}, {}] mean={} p95={}",
                s.n,
                fmt_value(t.unit, s.median),
                fmt_value(t.unit, s.median_ci.lower),
                fmt_value(t.unit, s.median_ci.upper),
                fmt_value(t.unit, s.mean),
                fmt_value(t.unit, s.p95),
            ) + &warning,
        );
    (case, time)
}

fn properties(run: &RunResults, comparison: Option<&BaselineComparison>) -> Vec<Property> {
    let mut props = vec![
        Property::new("git_commit", run.git_commit.as_str()),
        Property::new("machine", run.machine.describe()),
    ];
    if let Some(c) = comparison {
        props.push(Property::new(
            "baseline_commit",
            c.baseline.git_commit.as_str(),
        ));
        props.push(Property::new("threshold_pct", c.threshold_pct.to_string()));
        if c.fingerprint_mismatch() {
            props.push(Property::new(
                "fingerprint_mismatch",
                c.fingerprint_differences.join("; "),
            ));
        }
    }
    props
}

/// JUnit XML of a report: its run, and its comparison when one was made. A test
/// fails on a regression, and on a missed target only when the report's missed
/// targets fail the run ([`Report::fail_on_target_miss`](guestctl_perf::Report));
/// `time` of a testcase is its total measured time for timings, else 0.
pub fn junit_xml(report: &guestctl_perf::Report) -> String {
    let (run, comparison) = (&report.run, report.comparison.as_ref());
    let mut suite = TestSuite::new("guestctl-perf");
    suite.add_properties(properties(run, comparison));
    if let Ok(ts) = chrono::DateTime::parse_from_rfc3339(&run.timestamp) {
        suite.set_timestamp(ts);
    }
    let mut total = Duration::ZERO;
    for t in &run.tests {
        let (case, time) = test_case(t, comparison, report.fail_on_target_miss);
        total += time;
        suite.add_test_case(case);
    }
    for m in comparison
        .into_iter()
        .flat_map(|c| c.with_status(MatchStatus::Missing))
    {
        let mut status = TestCaseStatus::skipped();
        status.set_message("in the baseline but not in this run");
        let mut case = TestCase::new(m.name.as_str(), status);
        case.set_classname("guestctl.perf.missing")
            .set_time(Duration::ZERO);
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("guestctl perf");
    report.set_time(total).add_test_suite(suite);
    // Serializing into memory cannot fail on I/O; XML names and text are escaped by
    // quick-xml, and characters XML forbids were removed on the way in.
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->\n"))
}
