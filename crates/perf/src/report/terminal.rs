//! The terminal output of a report, in two parts: the results for stdout (a table of
//! the tests, memory changes, the verdict line) and the diagnostics for stderr
//! (warnings, notes, machine drift, missing tests, missed targets), so that
//! `guestctl perf validate >out 2>err` keeps them apart.
//!
//! The table is plain aligned columns, never wrapped inside a word: compact by
//! default (test, median, its 95% interval, change, verdict), every column with
//! [`TableStyle::wide`]. When the terminal is narrower than the compact table, each
//! test takes two lines (its name, then its figures); when the width is unknown
//! (a pipe, a log, a pseudo-terminal that reports 0), the table is as wide as it
//! needs.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

use super::{
    describe_change_in, format_bytes, markdown::warning_text, memory_medians, signed_pct, Report,
};
use crate::compare::{BaselineComparison, MatchStatus, TestComparison};
use crate::record::TestResult;
use crate::targets::TargetStatus;

/// How to lay out the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStyle {
    /// Every column (N, mean, min, max, p95, CV, memory, target) instead of the
    /// compact five.
    pub wide: bool,
    /// The terminal's width in columns; `None` or 0 when unknown.
    pub width: Option<u16>,
}

/// A report's terminal output: what goes to stdout and what to stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalOutput {
    /// The table, memory changes and the verdict line (stdout).
    pub results: String,
    /// Warnings, notes, drift, missing tests, missed targets (stderr); empty when
    /// there are none.
    pub diagnostics: String,
}

/// The report for a terminal: results and diagnostics apart.
pub fn terminal_output(report: &Report, style: TableStyle) -> TerminalOutput {
    let rows: Vec<Row> = report
        .run
        .tests
        .iter()
        .map(|t| Row::of(t, report.comparison.as_ref()))
        .collect();
    let mut results = table(&rows, style);
    results.push_str(&results_tail(report));
    TerminalOutput {
        results,
        diagnostics: diagnostics(report),
    }
}

/// Every column and every line in one string (results, then diagnostics): for a
/// file or a test.
pub fn terminal_table(report: &Report) -> String {
    let out = terminal_output(
        report,
        TableStyle {
            wide: true,
            width: None,
        },
    );
    out.results + &out.diagnostics
}

/// One test's cells.
struct Row {
    name: String,
    n: String,
    median: String,
    interval: String,
    mean: String,
    min: String,
    max: String,
    p95: String,
    cv: String,
    alloc: String,
    heap: String,
    target: String,
    change: String,
    verdict: String,
}

/// `lower – upper` with the unit once when both share it (`12.1–12.6 ms`).
fn interval(t: &TestResult) -> String {
    let (lo, hi) = (
        t.unit.format(t.summary.median_ci.lower),
        t.unit.format(t.summary.median_ci.upper),
    );
    match (lo.split_once(' '), hi.split_once(' ')) {
        (Some((a, ua)), Some((b, ub))) if ua == ub => format!("{a}–{b} {ua}"),
        _ => format!("{lo} – {hi}"),
    }
}

/// The comparison of `t`'s own samples, if one was made.
fn samples_comparison<'a>(
    t: &TestResult,
    cmp: Option<&'a BaselineComparison>,
) -> Option<&'a TestComparison> {
    cmp?.tests
        .iter()
        .find(|x| x.name == t.name && x.metric.is_samples())
}

impl Row {
    fn of(t: &TestResult, cmp: Option<&BaselineComparison>) -> Row {
        let (u, m) = (t.unit, &t.summary);
        let target = match t.target.as_ref().and_then(|c| c.target_ns.zip(c.status)) {
            Some((ns, TargetStatus::Met)) => format!("✓ < {}", u.format(ns)),
            Some((ns, TargetStatus::Missed)) => format!("✗ < {}", u.format(ns)),
            None => "–".to_string(),
        };
        let (alloc, heap) = match memory_medians(t) {
            Some((a, _, p)) => (format_bytes(a), format_bytes(p)),
            None => ("–".to_string(), "–".to_string()),
        };
        let (change, verdict) = match samples_comparison(t, cmp) {
            Some(x) => match (&x.comparison, x.status) {
                (Some(c), _) if x.note.is_some() => {
                    (signed_pct(c.ratio), format!("{} (drift)", c.verdict))
                }
                (Some(c), _) => (signed_pct(c.ratio), c.verdict.to_string()),
                (None, MatchStatus::New) => ("–".into(), "new".into()),
                (None, MatchStatus::Error) => ("–".into(), "error".into()),
                (None, s) => ("–".into(), format!("{s:?}").to_lowercase()),
            },
            None => ("–".into(), "–".into()),
        };
        Row {
            name: t.name.clone(),
            n: m.n.to_string(),
            median: u.format(m.median),
            interval: interval(t),
            mean: u.format(m.mean),
            min: u.format(m.min),
            max: u.format(m.max),
            p95: u.format(m.p95),
            cv: format!("{:.1}%", m.cv * 100.0),
            alloc,
            heap,
            target,
            change,
            verdict,
        }
    }

    fn compact(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.median.clone(),
            self.interval.clone(),
            self.change.clone(),
            self.verdict.clone(),
        ]
    }

    fn wide(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.n.clone(),
            self.median.clone(),
            self.interval.clone(),
            self.mean.clone(),
            self.min.clone(),
            self.max.clone(),
            self.p95.clone(),
            self.cv.clone(),
            self.alloc.clone(),
            self.heap.clone(),
            self.target.clone(),
            self.change.clone(),
            self.verdict.clone(),
        ]
    }
}

const COMPACT_HEADER: [&str; 5] = ["Test", "Median", "95% CI", "Change", "Verdict"];
const WIDE_HEADER: [&str; 14] = [
    "Test",
    "N",
    "Median",
    "95% CI",
    "Mean",
    "Min",
    "Max",
    "p95",
    "CV",
    "Alloc/iter",
    "Heap peak",
    "Target",
    "Change",
    "Verdict",
];

/// Columns two spaces apart, each as wide as its widest cell, never wrapped,
/// numbers right-aligned (every column but the first and the last); no trailing
/// spaces.
fn plain(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if !header.is_empty() {
        t.set_header(header.to_vec());
    }
    t.add_rows(rows);
    let last = t.column_count().saturating_sub(1);
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, if i == last { 0 } else { 2 }));
        if i != 0 && i != last {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut s = t.trim_fmt();
    s.push('\n');
    s
}

fn widest_line(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn table(rows: &[Row], style: TableStyle) -> String {
    if style.wide {
        return plain(&WIDE_HEADER, rows.iter().map(Row::wide).collect());
    }
    let compact = plain(&COMPACT_HEADER, rows.iter().map(Row::compact).collect());
    match style.width.filter(|w| *w > 0) {
        Some(w) if widest_line(&compact) > usize::from(w) => stacked(rows),
        _ => compact,
    }
}

/// For a narrow terminal: each test's name on its own line, its figures indented on
/// the next, the figures aligned across tests.
fn stacked(rows: &[Row]) -> String {
    let mut header = vec![""];
    header.extend(&COMPACT_HEADER[1..]);
    let figures = plain(
        &header,
        rows.iter()
            .map(|r| {
                let mut cells = r.compact();
                cells[0] = "   ".to_string();
                cells
            })
            .collect(),
    );
    let mut lines = figures.lines();
    let mut out = String::new();
    if let Some(h) = lines.next() {
        out.push_str(&format!("Test\n{h}\n"));
    }
    for (r, figures) in rows.iter().zip(lines) {
        out.push_str(&format!("{}\n{figures}\n", r.name));
    }
    out
}

/// Memory figures that moved, the verdict line, or the baseline just created.
fn results_tail(report: &Report) -> String {
    let mut out = String::new();
    let Some(c) = &report.comparison else {
        if let super::BaselineAction::Created { path } = &report.baseline {
            out.push_str(&format!("baseline created: {path}\n"));
        }
        return out;
    };
    for t in c.tests.iter().filter(|t| !t.metric.is_samples()) {
        let (Some(v), Some(x)) = (t.verdict(), &t.comparison) else {
            continue;
        };
        if matches!(
            v,
            guestctl_stats::Verdict::Regression | guestctl_stats::Verdict::Improvement
        ) {
            out.push_str(&format!(
                "{}: {}: {} ({} → {})\n",
                v,
                t.label(),
                describe_change_in(t.unit, x.ratio),
                t.baseline_median.map_or("?".into(), |b| t.unit.format(b)),
                t.current_median.map_or("?".into(), |b| t.unit.format(b)),
            ));
        }
    }
    out.push_str(&verdict_line(c));
    out
}

/// `N test(s): r regression(s), i improvement(s), u unchanged, k inconclusive[, new,
/// missing, not comparable]`: every test counted once, by its own samples; memory
/// figures are counted apart on a `memory:` line, and the overall change (geometric
/// mean of the ratios) is on an `overall:` line.
pub fn verdict_line(c: &BaselineComparison) -> String {
    use guestctl_stats::Verdict as V;
    let count = |samples: bool, v: V| {
        c.tests
            .iter()
            .filter(|t| t.metric.is_samples() == samples && t.verdict() == Some(v))
            .count()
    };
    let status = |s: MatchStatus| {
        c.tests
            .iter()
            .filter(|t| t.metric.is_samples() && t.status == s && t.comparison.is_none())
            .count()
    };
    let tests = c.tests.iter().filter(|t| t.metric.is_samples()).count();
    let mut line = format!(
        "{tests} test(s): {} regression(s), {} improvement(s), {} unchanged, {} inconclusive",
        count(true, V::Regression),
        count(true, V::Improvement),
        count(true, V::Unchanged),
        count(true, V::Inconclusive),
    );
    for (n, what) in [
        (status(MatchStatus::New), "new"),
        (status(MatchStatus::Missing), "missing"),
        (status(MatchStatus::Error), "not comparable"),
    ] {
        if n > 0 {
            line.push_str(&format!(", {n} {what}"));
        }
    }
    line.push('\n');
    let (mr, mi) = (count(false, V::Regression), count(false, V::Improvement));
    if mr + mi > 0 {
        line.push_str(&format!(
            "memory: {mr} regression(s), {mi} improvement(s)\n"
        ));
    }
    if let Some(r) = c.overall_ratio {
        line.push_str(&format!("overall: {}\n", signed_pct(r)));
    }
    line
}

/// Everything for stderr: warnings on the measurements, notes on the run, a
/// different machine, drift, missing or incomparable tests, missed targets.
fn diagnostics(report: &Report) -> String {
    let mut out = warning_lines(&report.run.tests);
    for note in &report.run.settings.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let fails = if report.fail_on_target_miss {
        "fails the run"
    } else {
        "a warning; --fail-on-target-miss fails the run"
    };
    for (t, m) in report.missed_targets() {
        out.push_str(&format!(
            "target missed: {}: the median's 95% CI reaches {}, not below the {} {} ({fails})\n",
            t.name,
            t.unit.format(t.summary.median_ci.upper),
            m.which,
            t.unit.format(m.target),
        ));
    }
    let Some(c) = &report.comparison else {
        return out;
    };
    if c.fingerprint_mismatch() {
        out.push_str(
            "warning: the baseline was recorded on a different machine or build; changes may \
             come from the environment:\n",
        );
        for d in &c.fingerprint_differences {
            out.push_str(&format!("  {d}\n"));
        }
    }
    for t in &c.tests {
        if let Some(note) = &t.note {
            out.push_str(&format!("machine drift: {}: {note}\n", t.name));
        }
    }
    for t in c.with_status(MatchStatus::Missing) {
        out.push_str(&format!(
            "missing: {} is in the baseline but did not run\n",
            t.name
        ));
    }
    for t in c.with_status(MatchStatus::Error) {
        out.push_str(&format!(
            "not comparable: {}: {}\n",
            t.name,
            t.error.as_deref().unwrap_or("?")
        ));
    }
    out
}

/// Tests listed per kind of warning before the list is cut short.
const MAX_LISTED: usize = 4;

/// Warning lines: one per warning for a few, one per kind listing the tests when
/// many tests warn (the Markdown report keeps every warning in full).
fn warning_lines(tests: &[TestResult]) -> String {
    let total: usize = tests.iter().map(|t| t.warnings.len()).sum();
    let mut out = String::new();
    if total <= 2 * MAX_LISTED {
        for t in tests {
            for w in &t.warnings {
                out.push_str(&format!("warning: {}: {}\n", t.name, warning_text(w)));
            }
        }
        return out;
    }
    /// A kind of warning: its text and how to recognise it.
    type Kind = (&'static str, fn(&guestctl_stats::Warning) -> bool);
    let kinds: [Kind; 3] = [
        (
            "high variance (CV > 10%): results are noisy, close other programs or run more \
             iterations",
            |w| matches!(w, guestctl_stats::Warning::HighVariance { .. }),
        ),
        ("fewer than 10 iterations", |w| {
            matches!(w, guestctl_stats::Warning::FewSamples { .. })
        }),
        (
            "outliers beyond Tukey's fences (kept in the statistics)",
            |w| matches!(w, guestctl_stats::Warning::Outliers { .. }),
        ),
    ];
    for (what, is) in kinds {
        let names: Vec<&str> = tests
            .iter()
            .filter(|t| t.warnings.iter().any(is))
            .map(|t| t.name.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let shown = names
            .iter()
            .take(MAX_LISTED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if names.len() > MAX_LISTED {
            format!(" and {} more", names.len() - MAX_LISTED)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "warning: {} test(s) with {what}: {shown}{more} (see report.md)\n",
            names.len()
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::measure::{analyse, RawRun};
    use crate::record::{Params, Unit};
    use crate::PerfTestSuite;

    /// Names as long as the standard suite's longest.
    const NAMES: [&str; 6] = [
        "cache_lookup",
        "appliance_launch/medium",
        "package_listing/arch",
        "package_listing/scaling/pacman/2000",
        "parallel_batch/4",
        "mock_disk_generation/medium_lvm_qcow2",
    ];

    fn suite(scale: f64) -> PerfTestSuite {
        let mut s = PerfTestSuite::new();
        for (i, name) in NAMES.iter().enumerate() {
            let base = 1e4 * 10f64.powi(i as i32 % 4) * scale;
            let samples = (0..12).map(|k| base * (1.0 + 0.002 * k as f64)).collect();
            let r = analyse(
                RawRun {
                    name: (*name).into(),
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

    fn output(width: Option<u16>, wide: bool) -> TerminalOutput {
        let report = suite(1.3).report(Some(&suite(1.0)), 5.0);
        terminal_output(report_ref(&report), TableStyle { wide, width })
    }

    fn report_ref(r: &Report) -> &Report {
        r
    }

    /// The table's lines (the results without the verdict line).
    fn table_lines(out: &TerminalOutput) -> Vec<&str> {
        out.results
            .lines()
            .filter(|l| !l.contains(" test(s): ") && !l.starts_with("overall: "))
            .collect()
    }

    #[test]
    fn unknown_width_is_one_plain_line_per_test_never_one_char_columns() {
        for width in [None, Some(0)] {
            let out = output(width, false);
            let lines = table_lines(&out);
            assert_eq!(lines.len(), NAMES.len() + 1, "{}", out.results);
            let header: Vec<&str> = lines[0].split_whitespace().collect();
            assert_eq!(header, ["Test", "Median", "95%", "CI", "Change", "Verdict"]);
            for (line, name) in lines[1..].iter().zip(NAMES) {
                assert!(line.starts_with(&format!("{name} ")), "{line}");
                assert!(line.ends_with("regression"), "{line}");
                assert!(line.contains("+30.0%"), "{line}");
            }
        }
    }

    #[test]
    fn at_120_columns_the_compact_table_fits_on_one_line_per_test() {
        let out = output(Some(120), false);
        assert_eq!(out, output(None, false));
        assert!(widest_line(&out.results) <= 120, "{}", out.results);
    }

    #[test]
    fn at_80_columns_no_line_is_longer_and_no_word_is_broken() {
        let out = output(Some(80), false);
        for l in out.results.lines() {
            assert!(l.chars().count() <= 80, "{} chars: {l}", l.chars().count());
        }
        // Every name whole at the start of a line, the header's words whole.
        for name in NAMES {
            assert!(
                out.results.lines().any(|l| l.starts_with(name)),
                "{name} broken in\n{}",
                out.results
            );
        }
        for word in ["Median", "95% CI", "Change", "Verdict"] {
            assert!(out.results.contains(word), "{}", out.results);
        }
    }

    #[test]
    fn narrower_than_the_table_each_test_takes_two_lines() {
        let out = output(Some(60), false);
        for l in out.results.lines().filter(|l| !l.contains(" test(s): ")) {
            assert!(l.chars().count() <= 60, "{} chars: {l}", l.chars().count());
        }
        let lines = table_lines(&out);
        for name in NAMES {
            let at = lines.iter().position(|l| *l == name).expect(name);
            let figures = lines[at + 1];
            assert!(
                figures.starts_with("   ") && figures.ends_with("regression"),
                "{figures}"
            );
        }
        assert!(lines[1].contains("Median") && lines[1].contains("Verdict"));
    }

    #[test]
    fn wide_has_every_column_and_ignores_the_width() {
        let out = output(Some(80), true);
        let header = table_lines(&out)[0];
        for col in [
            "N",
            "Mean",
            "p95",
            "CV",
            "Alloc/iter",
            "Heap peak",
            "Target",
        ] {
            assert!(header.contains(col), "{header}");
        }
        assert_eq!(table_lines(&out).len(), NAMES.len() + 1);
    }

    #[test]
    fn the_verdict_line_counts_tests_and_warnings_stay_out_of_the_results() {
        let mut base = suite(1.0);
        let extra = base.results()[0].clone();
        let mut missing = extra;
        missing.name = "gone".into();
        base.push(missing);
        let report = suite(1.3).report(Some(&base), 5.0);
        let out = terminal_output(&report, TableStyle::default());
        assert!(
            out.results
                .contains("7 test(s): 6 regression(s), 0 improvement(s), 0 unchanged, 0 inconclusive, 1 missing"),
            "{}",
            out.results
        );
        assert!(out.diagnostics.contains("missing: gone is in the baseline"));
        assert!(!out.results.contains("missing:"));
        assert!(!out.results.contains("warning"));
    }
}
