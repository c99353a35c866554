//! The Markdown report, in the shape docs/requirements.md gives (date, commit, results, comparison).

use std::fmt::Write as _;

use guestctl_stats::{Verdict, Warning};

use super::{
    describe_change, describe_change_in, human_timestamp, memory_medians, short_commit,
    BaselineAction, Report,
};
use crate::compare::{BaselineComparison, MatchStatus, TestComparison};
use crate::record::{RunResults, TestResult};
use crate::targets::TargetStatus;

/// The whole report: header, results, targets, baseline comparison.
pub fn markdown_report(report: &Report) -> String {
    let mut s = markdown_results(&report.run);
    let missed = report.missed_targets().len();
    if missed > 0 {
        let what = if report.fail_on_target_miss {
            "they fail the run (`--fail-on-target-miss`)"
        } else {
            "warnings, which do not fail the run (`--fail-on-target-miss` makes them fail it)"
        };
        let _ = writeln!(s, "\n**{missed} target(s) missed**: {what}.");
    }
    match (&report.baseline, &report.comparison) {
        (_, Some(c)) => {
            s.push('\n');
            s.push_str(&markdown_comparison(c));
        }
        (BaselineAction::Created { path }, None) => {
            let _ = write!(
                s,
                "\n## Baseline Comparison\n\nNo baseline existed: this run was saved as the new \
                 baseline (`{path}`). The next run is compared with it.\n"
            );
        }
        (_, None) => {}
    }
    s
}

/// Header, the results table, warnings and the targets table of one run.
pub fn markdown_results(run: &RunResults) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Performance Validation Report\n");
    let _ = writeln!(s, "**Date:** {}  ", human_timestamp(&run.timestamp));
    let _ = writeln!(s, "**Commit:** {}  ", short_commit(&run.git_commit));
    let _ = writeln!(s, "**Machine:** {}  ", run.machine.describe());
    let _ = writeln!(
        s,
        "**Settings:** {} iterations, {} warm-up, measurement `{}`\n",
        run.settings.iterations, run.settings.warmup, run.settings.measurement
    );
    for note in &run.settings.notes {
        let _ = writeln!(s, "> **Note:** {}\n", escape(note));
    }
    let _ = writeln!(s, "## Test Results\n");
    if run.tests.is_empty() {
        let _ = writeln!(s, "No tests ran.");
    } else {
        let _ = writeln!(
            s,
            "| Test Name | Iterations | Mean | Median | Min | Max | p95 | CV | Median 95% CI | Outliers |"
        );
        let _ = writeln!(
            s,
            "|-----------|-----------:|-----:|-------:|----:|----:|----:|---:|---------------|---------:|"
        );
        for t in &run.tests {
            let u = t.unit;
            let m = &t.summary;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {:.1}% | {} – {} | {} |",
                escape(&t.name),
                m.n,
                u.format(m.mean),
                u.format(m.median),
                u.format(m.min),
                u.format(m.max),
                u.format(m.p95),
                m.cv * 100.0,
                u.format(m.median_ci.lower),
                u.format(m.median_ci.upper),
                m.outliers.total()
            );
        }
        let warned: Vec<&TestResult> = run
            .tests
            .iter()
            .filter(|t| !t.warnings.is_empty())
            .collect();
        if !warned.is_empty() {
            let _ = writeln!(s, "\n### Warnings\n");
            s.push_str(&grouped_warnings(&warned));
        }
        memory_section(&mut s, run);
        targets_section(&mut s, run);
        s.push_str(&crate::scaling::markdown_scaling(run));
        s.push_str(&crate::peer::markdown_peer(run));
    }
    s
}

/// One bullet per kind of warning, naming its tests (with the figure that differs
/// from test to test, such as the CV), instead of one bullet per warning.
fn grouped_warnings(warned: &[&TestResult]) -> String {
    let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
    for t in warned {
        for w in &t.warnings {
            let (kind, detail) = match w {
                Warning::FewSamples { n } => (
                    format!(
                        "fewer than {} iterations",
                        guestctl_stats::MIN_RECOMMENDED_SAMPLES
                    ),
                    format!("{n}"),
                ),
                Warning::HighVariance { cv } => (
                    format!(
                        "high variance (CV > {:.0}%): results are noisy, close other programs \
                         or run more iterations",
                        guestctl_stats::HIGH_CV * 100.0
                    ),
                    format!("CV {:.1}%", cv * 100.0),
                ),
                Warning::Outliers { count } => (
                    "outliers beyond Tukey's fences (kept in the statistics)".to_string(),
                    format!("{count}"),
                ),
                other => (warning_text(other), String::new()),
            };
            let entry = if detail.is_empty() {
                escape(&t.name)
            } else {
                format!("{} ({detail})", escape(&t.name))
            };
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, tests)) => tests.push(entry),
                None => kinds.push((kind, vec![entry])),
            }
        }
    }
    let mut out = String::new();
    for (kind, tests) in kinds {
        let _ = writeln!(
            out,
            "- ⚠️ {kind}: {} test(s): {}",
            tests.len(),
            tests.join(", ")
        );
    }
    out
}

/// Memory per operation: the counting allocator's figures (median per iteration)
/// and the peak resident set, for the tests that have them.
fn memory_section(s: &mut String, run: &RunResults) {
    let rows: Vec<&TestResult> = run
        .tests
        .iter()
        .filter(|t| t.memory.is_some() || t.peak_rss_bytes.is_some())
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Memory\n\nPer iteration, medians: bytes allocated and allocations (every thread), \
         and the peak of live heap above its level at the start of the iteration; the peak \
         resident set is the process's over the test's iterations (or the largest of an \
         external command's runs).\n"
    );
    let _ = writeln!(
        s,
        "| Test | Allocated/iter | Allocations/iter | Peak heap/iter | Peak RSS |"
    );
    let _ = writeln!(
        s,
        "|------|---------------:|-----------------:|---------------:|---------:|"
    );
    for t in rows {
        let (a, n, p) = match memory_medians(t) {
            Some((a, n, p)) => (
                super::format_bytes(a),
                format!("{n:.0}"),
                super::format_bytes(p),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        let rss = t
            .peak_rss_bytes
            .map_or("–".to_string(), |b| super::format_bytes(b as f64));
        let _ = writeln!(s, "| {} | {a} | {n} | {p} | {rss} |", escape(&t.name));
    }
}

/// Human text of a statistics warning.
pub(crate) fn warning_text(w: &Warning) -> String {
    match w {
        Warning::FewSamples { n } => format!(
            "only {n} iterations (at least {} recommended)",
            guestctl_stats::MIN_RECOMMENDED_SAMPLES
        ),
        Warning::HighVariance { cv } => format!(
            "high variance (CV {:.1}% > {:.0}%): results are noisy, close other programs or run more iterations",
            cv * 100.0,
            guestctl_stats::HIGH_CV * 100.0
        ),
        Warning::Outliers { count } => {
            format!("{count} outlier(s) beyond Tukey's fences (kept in the statistics)")
        }
        other => format!("{other:?}"),
    }
}

fn status_cell(st: Option<TargetStatus>) -> &'static str {
    match st {
        Some(TargetStatus::Met) => "✅ met",
        Some(TargetStatus::Missed) => "❌ missed",
        None => "–",
    }
}

fn targets_section(s: &mut String, run: &RunResults) {
    let checked: Vec<&TestResult> = run.tests.iter().filter(|t| t.target.is_some()).collect();
    if checked.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n## Targets\n\nA target is met when the upper bound of the 95% confidence interval of \
         the median is below it.\n"
    );
    let _ = writeln!(
        s,
        "| Test | Operation | Median (CI upper) | Target | Status | Spec week 12 | Status | Spec baseline |"
    );
    let _ = writeln!(s, "|------|-----------|------------------:|-------:|--------|-------------:|--------|--------------:|");
    for t in checked {
        let Some(c) = &t.target else { continue };
        let f = |x: Option<f64>| x.map_or("–".to_string(), |v| t.unit.format(v));
        let _ = writeln!(
            s,
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {} |",
            escape(&t.name),
            c.operation,
            t.unit.format(t.summary.median),
            t.unit.format(c.median_ci_upper_ns),
            f(c.target_ns),
            status_cell(c.status),
            f(c.spec_week12_target_ns),
            status_cell(c.spec_week12_status),
            f(c.spec_baseline_ns),
        );
    }
}

fn comparison_line(t: &TestComparison) -> String {
    let name = match &t.baseline_name {
        Some(old) => format!("{} (was {})", escape(&t.label()), escape(old)),
        None => escape(&t.label()),
    };
    let (Some(c), Some(b), Some(cur)) = (&t.comparison, t.baseline_median, t.current_median) else {
        return name;
    };
    let mut line = format!(
        "{name}: {} ({} → {}); ratio 95% CI [{:.3}, {:.3}], decision interval [{:.3}, {:.3}], \
         p (Holm) = {:.2e}, threshold {}%",
        describe_change_in(t.unit, c.ratio),
        t.unit.format(b),
        t.unit.format(cur),
        c.ratio_ci.lower,
        c.ratio_ci.upper,
        c.hl_ci.lower,
        c.hl_ci.upper,
        c.p_adjusted,
        c.threshold_pct
    );
    match (&t.note, t.machine_drift) {
        (Some(note), _) => {
            let _ = write!(line, " — {}", escape(note));
        }
        (None, Some(d)) if (d - 1.0).abs() >= 0.05 => {
            let _ = write!(line, "; machine drift {:+.1}%", (d - 1.0) * 100.0);
        }
        _ => {}
    }
    line
}

/// The comparison section: fingerprint warning, ✅ improvements, ❌ regressions,
/// unchanged, inconclusive, new / missing / renamed / failed tests, overall change.
pub fn markdown_comparison(c: &BaselineComparison) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Baseline Comparison\n");
    let _ = writeln!(
        s,
        "Baseline: commit {} from {}; default threshold {}%.\n",
        short_commit(&c.baseline.git_commit),
        human_timestamp(&c.baseline.timestamp),
        c.threshold_pct
    );
    if c.fingerprint_mismatch() {
        let _ = writeln!(
            s,
            "> ⚠️ **WARNING: the baseline was recorded on a different machine or build.** \
             Differences (current ≠ baseline):"
        );
        for d in &c.fingerprint_differences {
            let _ = writeln!(s, "> - {}", escape(d));
        }
        let _ = writeln!(
            s,
            "> \n> Changes below may come from the environment, not the code.\n"
        );
    }
    let groups: [(&str, Verdict); 4] = [
        ("### ✅ Improvements", Verdict::Improvement),
        ("### ❌ Regressions", Verdict::Regression),
        ("### Unchanged", Verdict::Unchanged),
        ("### Inconclusive", Verdict::Inconclusive),
    ];
    for (title, v) in groups {
        if v == Verdict::Unchanged {
            s.push_str(&unchanged_section(c));
            continue;
        }
        let _ = writeln!(s, "{title}\n");
        let items: Vec<&TestComparison> =
            c.tests.iter().filter(|t| t.verdict() == Some(v)).collect();
        if items.is_empty() {
            let _ = writeln!(
                s,
                "{}\n",
                if v == Verdict::Regression || v == Verdict::Improvement {
                    "None detected"
                } else {
                    "None"
                }
            );
        } else {
            for t in items {
                let _ = writeln!(s, "- {}", comparison_line(t));
            }
            s.push('\n');
        }
    }
    let renamed = c.with_status(MatchStatus::Renamed);
    let new = c.with_status(MatchStatus::New);
    let missing = c.with_status(MatchStatus::Missing);
    let errors = c.with_status(MatchStatus::Error);
    if !renamed.is_empty() {
        let _ = writeln!(s, "### Renamed tests\n");
        for t in renamed {
            let _ = writeln!(
                s,
                "- {} (baseline: {})",
                escape(&t.name),
                escape(t.baseline_name.as_deref().unwrap_or("?"))
            );
        }
        s.push('\n');
    }
    if !new.is_empty() {
        let _ = writeln!(s, "### New tests (not in the baseline)\n");
        for t in new {
            let med = t
                .current_median
                .map(|m| t.unit.format(m))
                .unwrap_or_default();
            let _ = writeln!(s, "- {}: median {med}", escape(&t.name));
        }
        s.push('\n');
    }
    if !missing.is_empty() {
        let _ = writeln!(s, "### Missing tests (in the baseline, not run now)\n");
        for t in missing {
            let med = t
                .baseline_median
                .map(|m| t.unit.format(m))
                .unwrap_or_default();
            let _ = writeln!(s, "- {}: baseline median {med}", escape(&t.name));
        }
        s.push('\n');
    }
    if !errors.is_empty() {
        let _ = writeln!(s, "### Not comparable\n");
        for t in errors {
            let _ = writeln!(
                s,
                "- {}: {}",
                escape(&t.name),
                escape(t.error.as_deref().unwrap_or("unknown error"))
            );
        }
        s.push('\n');
    }
    match c.overall_ratio {
        Some(r) => {
            let word = if r <= 1.0 { "improvement" } else { "change" };
            let _ = writeln!(
                s,
                "**Overall {word}:** {} (geometric mean of {} ratios: {:.3})",
                describe_change(r),
                c.tests
                    .iter()
                    .filter(|t| t.metric.is_samples() && t.comparison.is_some())
                    .count(),
                r
            );
        }
        None => {
            let _ = writeln!(s, "**Overall change:** no test could be compared");
        }
    }
    s
}

/// The unchanged tests, collapsed: a `<details>` block (closed on GitHub) with one
/// line per test and its change; unchanged memory figures are only counted.
fn unchanged_section(c: &BaselineComparison) -> String {
    let unchanged = |samples: bool| -> Vec<&TestComparison> {
        c.tests
            .iter()
            .filter(|t| t.verdict() == Some(Verdict::Unchanged) && t.metric.is_samples() == samples)
            .collect()
    };
    let (tests, memory) = (unchanged(true), unchanged(false).len());
    let mut s = String::from("### Unchanged\n\n");
    if tests.is_empty() && memory == 0 {
        s.push_str("None\n\n");
        return s;
    }
    let memory_note = if memory > 0 {
        format!(", and {memory} memory figure(s)")
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "<details><summary>{} test(s) unchanged{memory_note}</summary>\n",
        tests.len()
    );
    for t in tests {
        let _ = writeln!(s, "- {}", comparison_line(t));
    }
    s.push_str("\n</details>\n\n");
    s
}

/// Escapes the characters that would break a Markdown table cell.
fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod collapse_tests {
    use crate::measure::{analyse, RawRun};
    use crate::record::{Params, Unit};
    use crate::PerfTestSuite;

    fn suite(n: usize, iterations: usize) -> PerfTestSuite {
        let mut s = PerfTestSuite::new();
        for i in 0..n {
            let samples = (0..iterations)
                .map(|k| 1e5 * (1.0 + 0.3 * (k % 2) as f64))
                .collect();
            let r = analyse(
                RawRun {
                    name: format!("test/{i}"),
                    params: Params::new(),
                    unit: Unit::Nanoseconds,
                    warmup: 0,
                    samples,
                    memory: None,
                    peak_rss_bytes: None,
                },
                &guestctl_stats::Options {
                    bootstrap_resamples: 100,
                    ..Default::default()
                },
            )
            .unwrap();
            s.push(r);
        }
        s
    }

    #[test]
    fn unchanged_tests_collapse_and_warnings_group_by_kind() {
        // 30 noisy tests with 4 iterations each: two warnings per test, all unchanged.
        let md = super::markdown_report(&suite(30, 4).report(Some(&suite(30, 4)), 5.0));
        let bullets = md.lines().filter(|l| l.starts_with("- ⚠️")).count();
        assert_eq!(bullets, 2, "{md}");
        assert!(md.contains("- ⚠️ fewer than 10 iterations: 30 test(s): test/0 (4), "));
        let unchanged = md.split("### Unchanged\n\n").nth(1).unwrap();
        assert!(
            unchanged.starts_with("<details><summary>30 test(s) unchanged</summary>\n"),
            "{unchanged}"
        );
        assert!(unchanged.contains("\n</details>\n"), "{unchanged}");
        assert!(md.lines().count() < 140, "{} lines", md.lines().count());
    }
}
