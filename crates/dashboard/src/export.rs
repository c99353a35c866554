//! Exports for existing dashboards and CI, each returning bytes (no I/O):
//!
//! * [`bmf_json`]: Bencher Metric Format, for `bencher run --adapter json --file`.
//! * [`github_benchmark_json`]: github-action-benchmark's `customSmallerIsBetter`.
//! * [`junit_xml`]: JUnit XML, one `<testcase>` per test; a regression or a missed
//!   target is a `<failure>` carrying the numbers.

use std::fmt::Write as _;

use guestctl_perf::report::format_ns;
use guestctl_perf::targets::TargetStatus;
use guestctl_perf::{BaselineComparison, MatchStatus, RunResults, TestResult, Unit, Verdict};
use serde_json::{json, Map, Value};

/// Bencher's measure slug and the unit name for a [`Unit`]: `latency` (ns, built into
/// every Bencher project), `instructions`, `bytes` (created on first use).
pub fn measure_of(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::Nanoseconds => ("latency", "ns"),
        Unit::Instructions => ("instructions", "instructions"),
        Unit::Bytes => ("bytes", "bytes"),
        _ => ("value", "units"),
    }
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Bencher Metric Format JSON of `run`: `{ "<test>": { "latency": { "value": median,
/// "lower_value": CI lower, "upper_value": CI upper } } }` (medians and the 95 %
/// bootstrap interval of the median, in the test's unit). Tests whose figures are
/// not finite are left out.
pub fn bmf_json(run: &RunResults) -> Vec<u8> {
    let mut root = Map::new();
    for t in &run.tests {
        let s = &t.summary;
        if ![s.median, s.median_ci.lower, s.median_ci.upper]
            .iter()
            .all(|v| v.is_finite())
        {
            continue;
        }
        let (measure, _) = measure_of(t.unit);
        let mut m = Map::new();
        m.insert(
            measure.into(),
            json!({
                "value": number(s.median),
                "lower_value": number(s.median_ci.lower),
                "upper_value": number(s.median_ci.upper),
            }),
        );
        root.insert(t.name.clone(), Value::Object(m));
    }
    pretty(&Value::Object(root))
}

/// github-action-benchmark `customSmallerIsBetter` JSON of `run`:
/// `[{"name", "unit", "value", "range", "extra"}]` with the median as value, `± half
/// the CI width` as range and n, the interval, the commit in `extra`.
pub fn github_benchmark_json(run: &RunResults) -> Vec<u8> {
    let items: Vec<Value> = run
        .tests
        .iter()
        .filter(|t| t.summary.median.is_finite())
        .map(|t| {
            let s = &t.summary;
            let (_, unit) = measure_of(t.unit);
            let half = (s.median_ci.upper - s.median_ci.lower) / 2.0;
            json!({
                "name": t.name,
                "unit": unit,
                "value": number(s.median),
                "range": format!("± {}", trim_float(half)),
                "extra": format!(
                    "n={}, median 95% CI [{}, {}], mean {}, p95 {}\ncommit {}",
                    s.n,
                    trim_float(s.median_ci.lower),
                    trim_float(s.median_ci.upper),
                    trim_float(s.mean),
                    trim_float(s.p95),
                    run.git_commit
                ),
            })
        })
        .collect();
    pretty(&Value::Array(items))
}

/// Pretty JSON with a final newline. A `Value` always serialises (its `Display`
/// cannot fail), so there is no error to report.
fn pretty(v: &Value) -> Vec<u8> {
    format!("{v:#}\n").into_bytes()
}

/// A float with at most 3 decimals, trailing zeros removed.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Escapes `s` for XML text and attribute values; characters XML 1.0 forbids
/// (control characters other than tab, newline, carriage return) become `?`.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn fmt_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Nanoseconds => format_ns(v),
        other => other.format(v),
    }
}

/// Why a test fails in JUnit terms: `(type, message, details)`.
fn failures(t: &TestResult, cmp: Option<&BaselineComparison>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    // The test's own samples, then its memory figures (a memory regression fails the
    // test too, naming the metric).
    for tc in cmp
        .into_iter()
        .flat_map(|c| c.tests.iter().filter(|x| x.name == t.name))
    {
        if let (Some(Verdict::Regression), Some(c)) = (tc.verdict(), tc.comparison.as_ref()) {
            let what = if tc.metric.is_samples() && tc.unit == Unit::Nanoseconds {
                "slower".to_string()
            } else {
                format!("more {}", tc.metric.label(tc.unit))
            };
            out.push((
                if tc.metric.is_samples() {
                    "regression".to_string()
                } else {
                    format!("regression_{}", tc.metric.label(tc.unit))
                },
                format!(
                    "{:+.1}% {what} than the baseline (threshold {:.1}%)",
                    c.change_pct, c.threshold_pct
                ),
                format!(
                    "baseline median {}, current median {}, ratio {:.4} (95% CI {:.4}..{:.4}), \
                     decision interval {:.4}..{:.4}, Mann-Whitney p = {:.3e} (Holm-adjusted {:.3e})",
                    tc.baseline_median
                        .map_or("?".into(), |v| fmt_value(tc.unit, v)),
                    tc.current_median.map_or("?".into(), |v| fmt_value(tc.unit, v)),
                    c.ratio,
                    c.ratio_ci.lower,
                    c.ratio_ci.upper,
                    c.hl_ci.lower,
                    c.hl_ci.upper,
                    c.p_value,
                    c.p_adjusted
                ),
            ));
        }
    }
    if let Some(tc) = &t.target {
        // Our own target decides; without one, the required week-12 target (docs/requirements.md).
        let (target, status, which) = match (tc.target_ns, tc.status) {
            (Some(v), Some(s)) => (Some(v), Some(s), "target"),
            _ => (
                tc.spec_week12_target_ns,
                tc.spec_week12_status,
                "spec week-12 target",
            ),
        };
        if let (Some(target), Some(TargetStatus::Missed)) = (target, status) {
            out.push((
                "target_missed".to_string(),
                format!(
                    "{which} of {} missed by operation {}",
                    format_ns(target),
                    tc.operation
                ),
                format!(
                    "upper bound of the median's 95% CI {} is not below the {which} {} \
                     (median {})",
                    format_ns(tc.median_ci_upper_ns),
                    format_ns(target),
                    format_ns(t.summary.median)
                ),
            ));
        }
    }
    out
}

/// JUnit XML of `run` (and its comparison, when one was made): one `<testsuite
/// name="guestctl-perf">` with one `<testcase name classname time>` per test (`time`
/// is the total measured time in seconds for timings, else 0), a `<failure>` per
/// regression or missed target with the numbers, a `<skipped>` testcase per test
/// missing from the current run, and the commit and machine as `<properties>`.
pub fn junit_xml(run: &RunResults, comparison: Option<&BaselineComparison>) -> String {
    let mut cases = String::new();
    let mut n_tests = 0usize;
    let mut n_failures = 0usize;
    let mut n_skipped = 0usize;
    let mut total_time = 0.0f64;
    for t in &run.tests {
        n_tests += 1;
        let time = if t.unit == Unit::Nanoseconds {
            t.samples.iter().filter(|v| v.is_finite()).sum::<f64>() / 1e9
        } else {
            0.0
        };
        total_time += time;
        let classname = format!(
            "guestctl.perf.{}",
            t.operation
                .as_deref()
                .unwrap_or_else(|| t.name.split('/').next().unwrap_or("suite"))
        );
        let _ = writeln!(
            cases,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6}\">",
            xml_escape(&t.name),
            xml_escape(&classname),
            time
        );
        let fails = failures(t, comparison);
        if !fails.is_empty() {
            n_failures += 1;
        }
        for (kind, message, details) in fails {
            let _ = writeln!(
                cases,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                xml_escape(&kind),
                xml_escape(&message),
                xml_escape(&details)
            );
        }
        let s = &t.summary;
        let _ = write!(
            cases,
            "      <system-out>n={} median={} ci=[{}, {}] mean={} p95={}</system-out>\n    </testcase>\n",
            s.n,
            xml_escape(&fmt_value(t.unit, s.median)),
            xml_escape(&fmt_value(t.unit, s.median_ci.lower)),
            xml_escape(&fmt_value(t.unit, s.median_ci.upper)),
            xml_escape(&fmt_value(t.unit, s.mean)),
            xml_escape(&fmt_value(t.unit, s.p95)),
        );
    }
    if let Some(c) = comparison {
        for m in c.with_status(MatchStatus::Missing) {
            n_tests += 1;
            n_skipped += 1;
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"guestctl.perf.missing\" time=\"0\">\n      \
                 <skipped message=\"in the baseline but not in this run\"/>\n    </testcase>\n",
                xml_escape(&m.name)
            );
        }
    }
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"guestctl perf\" tests=\"{n_tests}\" failures=\"{n_failures}\" \
         errors=\"0\" skipped=\"{n_skipped}\" time=\"{total_time:.6}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"guestctl-perf\" tests=\"{n_tests}\" failures=\"{n_failures}\" \
         errors=\"0\" skipped=\"{n_skipped}\" time=\"{total_time:.6}\" timestamp=\"{}\">",
        xml_escape(run.timestamp.trim_end_matches('Z'))
    );
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("git_commit", run.git_commit.clone()),
        ("machine", run.machine.describe()),
    ];
    if let Some(c) = comparison {
        props.push(("baseline_commit", c.baseline.git_commit.clone()));
        props.push(("threshold_pct", format!("{}", c.threshold_pct)));
        if c.fingerprint_mismatch() {
            props.push(("fingerprint_mismatch", c.fingerprint_differences.join("; ")));
        }
    }
    for (k, v) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            xml_escape(k),
            xml_escape(&v)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_covers_markup_and_control_characters() {
        assert_eq!(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml_escape("x\u{1}y\tz\n"), "x?y\tz\n");
        assert_eq!(trim_float(1.5), "1.5");
        assert_eq!(trim_float(2.0), "2");
    }
}
