//! The HTML report (`performance-results/report.html`): one self-contained file —
//! inline CSS, inline SVG charts ([`crate::charts`]), no script, no network, no
//! external fonts. Every text from a record (test names, parameters, machine, commit)
//! is escaped with [`html_escape`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use guestctl_perf::report::{format_bytes, human_timestamp, short_commit};
use guestctl_perf::scaling::scaling_series;
use guestctl_perf::targets::{TargetCheck, TargetStatus};
use guestctl_perf::{
    BaselineComparison, MatchStatus, Metric, RunResults, TestComparison, TestResult, Unit, Verdict,
};
use guestctl_stats::Warning;

use crate::changes::{detect, ChangePointReport};
use crate::charts::{distribution_svg, scaling_svg, trend_svg, RefLine, ScalingPoint};
use crate::history::{series_of, HistoryEntry, Point};

/// File name of the HTML report inside the results directory.
pub const REPORT_HTML_FILE: &str = "report.html";

/// Most history runs charted per test (the newest): keeps the page light and the
/// change-point detection fast.
pub const MAX_CHART_HISTORY: usize = 200;

/// Most tests drawn with charts (the summary table lists every test).
pub const MAX_CHARTED_TESTS: usize = 200;

/// Everything the report shows.
#[derive(Debug, Clone, Copy)]
pub struct HtmlInput<'a> {
    /// The run reported.
    pub current: &'a RunResults,
    /// The baseline it was compared with, for its sample distributions.
    pub baseline: Option<&'a RunResults>,
    /// The comparison (verdicts, changes, fingerprint differences).
    pub comparison: Option<&'a BaselineComparison>,
    /// History entries, oldest first (append the current run first so it is the last
    /// point of the trends). Change points are detected here, per test.
    pub history: &'a [HistoryEntry],
    /// `(test name, path relative to the report)` of flamegraph SVGs to link.
    pub flamegraphs: &'a [(String, String)],
}

/// Escapes `s` for HTML text and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target made safe: only relative paths (no scheme, no `//`), percent-encoded
/// where needed. `None` when the path is not a plain relative path.
fn safe_href(path: &str) -> Option<String> {
    if path.is_empty() || path.contains(':') || path.starts_with('/') || path.starts_with('\\') {
        return None;
    }
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Some(out)
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
h3{margin:28px 0 6px;font-family:ui-monospace,monospace;font-size:1.1em}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f4f4f4}td.name,th.name{text-align:left;font-family:ui-monospace,monospace}
.regression{background:#fdd;color:#900;font-weight:bold}.improvement{background:#dfd;color:#060;font-weight:bold}
.unchanged{color:#555}.inconclusive{background:#ffe9b3;color:#7a5200}.new,.missing,.error{background:#eef}
.met{color:#060}.missed{color:#900;font-weight:bold}td.target{white-space:nowrap}td.target span{display:block}
.warn{background:#fff3cd;border:2px solid #e0a800;padding:10px 14px;margin:12px 0;border-radius:4px}
.meta{color:#555;font-size:.92em}.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{border:1px solid #eee;padding:4px}.chart p{margin:2px 6px;font-size:.85em;color:#555}
ul.cp{margin:4px 0;font-size:.9em}code{font-size:.95em}
"#;

/// Renders the report. Charts that cannot be drawn are replaced by a note saying why;
/// this function does no I/O and does not fail.
pub fn render_html(input: &HtmlInput<'_>) -> String {
    let cur = input.current;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        h,
        "<title>guestctl performance report — {}</title>",
        html_escape(short_commit(&cur.git_commit))
    );
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");
    h.push_str("<h1>guestctl performance report</h1>\n");
    let _ = writeln!(
        h,
        "<p class=\"meta\">Run {} · commit <code>{}</code> · {} tests · {} measured iterations, {} warm-up ({})</p>",
        html_escape(&human_timestamp(&cur.timestamp)),
        html_escape(&cur.git_commit),
        cur.tests.len(),
        cur.settings.iterations,
        cur.settings.warmup,
        html_escape(&cur.settings.measurement)
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">Machine: {}</p>",
        html_escape(&cur.machine.describe())
    );
    // Notes on the run (tests skipped and why, a peer comparison not made).
    for note in &cur.settings.notes {
        let _ = writeln!(
            h,
            "<p class=\"warn note\"><strong>Note:</strong> {}</p>",
            html_escape(note)
        );
    }

    // Baseline header and the machine mismatch warning.
    let differences: Vec<String> = match (input.comparison, input.baseline) {
        (Some(c), _) => c.fingerprint_differences.clone(),
        (None, Some(b)) => cur.machine.differences(&b.machine),
        _ => Vec::new(),
    };
    if let Some(c) = input.comparison {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Baseline: {} · commit <code>{}</code> · threshold {:.1}% · overall change {}</p>",
            html_escape(&human_timestamp(&c.baseline.timestamp)),
            html_escape(&c.baseline.git_commit),
            c.threshold_pct,
            c.overall_change_pct()
                .map_or("n/a".to_string(), |p| format!("{p:+.1}% (geometric mean of ratios)"))
        );
    } else if let Some(b) = input.baseline {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Baseline: {} · commit <code>{}</code></p>",
            html_escape(&human_timestamp(&b.timestamp)),
            html_escape(&b.git_commit)
        );
    }
    if !differences.is_empty() {
        h.push_str("<div class=\"warn\" id=\"fingerprint-mismatch\"><strong>Warning: the baseline was measured on a different machine or build.</strong> Changes below may come from the machine, not the code:<ul>");
        for d in &differences {
            let _ = write!(h, "<li>{}</li>", html_escape(d));
        }
        h.push_str("</ul></div>\n");
    }

    // Change points per test, from the history.
    let mut histories: BTreeMap<&str, (Vec<Point>, Vec<ChangePointReport>)> = BTreeMap::new();
    for t in &cur.tests {
        let mut s = series_of(input.history, &t.name);
        let drop = s.len().saturating_sub(MAX_CHART_HISTORY);
        s.drain(..drop);
        let cps = detect(&s).unwrap_or_default();
        histories.insert(t.name.as_str(), (s, cps));
    }

    summary_table(&mut h, input, &histories);
    memory_section(&mut h, input);
    scaling_section(&mut h, input);

    h.push_str("<h2>Tests</h2>\n");
    for (i, t) in cur.tests.iter().enumerate() {
        if i >= MAX_CHARTED_TESTS {
            let _ = writeln!(
                h,
                "<p>{} more tests are listed in the summary only.</p>",
                cur.tests.len() - MAX_CHARTED_TESTS
            );
            break;
        }
        let (series, cps) = histories
            .get(t.name.as_str())
            .map(|(s, c)| (s.as_slice(), c.as_slice()))
            .unwrap_or_default();
        test_section(&mut h, input, t, series, cps, i);
    }
    h.push_str("<p class=\"meta\">Generated by guestctl perf (guestctl-dashboard). Medians with 95% bootstrap confidence intervals; verdicts by the Mann–Whitney test with Holm's correction and the Hodges–Lehmann decision interval; change points by E-divisive means over the per-run medians.</p>\n");
    h.push_str("</body>\n</html>\n");
    h
}

fn fmt(unit: Unit, v: f64) -> String {
    unit.format(v)
}

fn params_text(t: &TestResult) -> String {
    t.params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_cell(status: MatchStatus, verdict: Option<Verdict>) -> (String, &'static str) {
    match (status, verdict) {
        (MatchStatus::New, _) => ("new".into(), "new"),
        (MatchStatus::Missing, _) => ("missing".into(), "missing"),
        (MatchStatus::Error, _) => ("error".into(), "error"),
        (_, Some(v)) => {
            let label = match v {
                Verdict::Regression => "regression",
                Verdict::Improvement => "improvement",
                Verdict::Unchanged => "unchanged",
                Verdict::Inconclusive => "inconclusive",
            };
            (label.into(), v.as_str())
        }
        _ => ("—".into(), ""),
    }
}

fn target_cell(t: Option<&TargetCheck>) -> String {
    let Some(tc) = t else { return "—".into() };
    let mut parts = Vec::new();
    for (label, v, s) in [
        ("target", tc.target_ns, tc.status),
        ("spec wk12", tc.spec_week12_target_ns, tc.spec_week12_status),
    ] {
        if let (Some(v), Some(s)) = (v, s) {
            let class = match s {
                TargetStatus::Met => "met",
                TargetStatus::Missed => "missed",
            };
            parts.push(format!(
                "<span class=\"{class}\">{label} {} {}</span>",
                html_escape(&guestctl_perf::report::format_ns(v)),
                s.as_str()
            ));
        }
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("<br>")
    }
}

fn summary_table(
    h: &mut String,
    input: &HtmlInput<'_>,
    histories: &BTreeMap<&str, (Vec<Point>, Vec<ChangePointReport>)>,
) {
    let cur = input.current;
    h.push_str("<h2>Summary</h2>\n");
    if let Some(c) = input.comparison {
        let _ = writeln!(
            h,
            "<p>{} regressions · {} improvements · {} unchanged · {} inconclusive · {} new · {} missing</p>",
            c.regressions().len(),
            c.improvements().len(),
            c.unchanged().len(),
            c.inconclusive().len(),
            c.with_status(MatchStatus::New).len(),
            c.with_status(MatchStatus::Missing).len()
        );
    }
    h.push_str("<table id=\"summary\">\n<tr><th class=\"name\">Test</th><th class=\"name\">Params</th><th>n</th><th>Median</th><th>95% CI of median</th><th>Baseline median</th><th>Change</th><th>Verdict</th><th>Target</th><th>History</th></tr>\n");
    for (i, t) in cur.tests.iter().enumerate() {
        let s = &t.summary;
        let tc = comparison_of(input, &t.name, Metric::Samples);
        let (verdict, class) = match tc {
            Some(tc) => verdict_cell(tc.status, tc.verdict()),
            None => ("—".into(), ""),
        };
        let baseline = tc
            .and_then(|x| x.baseline_median)
            .map_or("—".into(), |v| fmt(t.unit, v));
        let change = tc
            .and_then(|x| x.comparison.as_ref())
            .map_or("—".into(), |c| format!("{:+.1}%", c.change_pct));
        let hist = histories
            .get(t.name.as_str())
            .map_or("—".into(), |(s, cps)| {
                if cps.is_empty() {
                    format!("{} runs", s.len())
                } else {
                    format!("{} runs, {} change point(s)", s.len(), cps.len())
                }
            });
        let _ = writeln!(
            h,
            "<tr><td class=\"name\"><a href=\"#test-{i}\">{}</a></td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>[{}, {}]</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td class=\"target\">{}</td><td>{}</td></tr>",
            html_escape(&t.name),
            html_escape(&params_text(t)),
            s.n,
            html_escape(&fmt(t.unit, s.median)),
            html_escape(&fmt(t.unit, s.median_ci.lower)),
            html_escape(&fmt(t.unit, s.median_ci.upper)),
            html_escape(&baseline),
            html_escape(&change),
            html_escape(&verdict),
            target_cell(t.target.as_ref()),
            html_escape(&hist)
        );
    }
    if let Some(c) = input.comparison {
        for m in c.with_status(MatchStatus::Missing) {
            let _ = writeln!(
                h,
                "<tr><td class=\"name\">{}</td><td></td><td>—</td><td>—</td><td>—</td><td>{}</td><td>—</td><td class=\"missing\">missing</td><td>—</td><td>—</td></tr>",
                html_escape(&m.name),
                m.baseline_median.map_or("—".into(), |v| html_escape(&fmt(m.unit, v)))
            );
        }
    }
    h.push_str("</table>\n");
}

/// The comparison entry of test `name` for `metric`, when the report has one.
fn comparison_of<'a>(
    input: &HtmlInput<'a>,
    name: &str,
    metric: Metric,
) -> Option<&'a TestComparison> {
    input
        .comparison?
        .tests
        .iter()
        .find(|x| x.name == name && x.metric == metric)
}

/// One memory figure of a test: what it is, its median, and the metric under which
/// the comparison may have it.
struct MemoryFigure {
    label: &'static str,
    text: String,
    metric: Option<Metric>,
}

/// The memory figures of `t` (medians per iteration from the counting allocator, and
/// the peak resident set); empty when it has none.
fn memory_figures(t: &TestResult) -> Vec<MemoryFigure> {
    let mut out = Vec::new();
    if let Some((alloc, count, heap)) = guestctl_perf::report::memory_medians(t) {
        out.push(MemoryFigure {
            label: "allocated/iter",
            text: format_bytes(alloc),
            metric: Some(Metric::AllocBytes),
        });
        out.push(MemoryFigure {
            label: "allocations/iter",
            text: format!("{count:.0}"),
            metric: None,
        });
        out.push(MemoryFigure {
            label: "peak heap/iter",
            text: format_bytes(heap),
            metric: Some(Metric::PeakHeapBytes),
        });
    }
    // An external command's runs: the median of their peaks (compared); an
    // in-process test: the process's peak over the test.
    let rss = t
        .metric_samples(Metric::PeakRssBytes)
        .and_then(|(v, _)| guestctl_stats::median(&v).ok())
        .or(t.peak_rss_bytes.map(|b| b as f64));
    if let Some(rss) = rss {
        out.push(MemoryFigure {
            label: "peak RSS",
            text: format_bytes(rss),
            metric: Some(Metric::PeakRssBytes),
        });
    }
    out
}

/// The baseline change of a memory figure, as time's is shown: baseline median,
/// change and verdict (empty without a comparison of that figure).
fn memory_change(input: &HtmlInput<'_>, t: &TestResult, metric: Option<Metric>) -> String {
    let Some(tc) = metric.and_then(|m| comparison_of(input, &t.name, m)) else {
        return String::new();
    };
    let Some(c) = &tc.comparison else {
        return String::new();
    };
    let (verdict, class) = verdict_cell(tc.status, tc.verdict());
    format!(
        "<br><span class=\"{class}\">{:+.1}% ({}; baseline {})</span>",
        c.change_pct,
        html_escape(&verdict),
        html_escape(&tc.baseline_median.map_or("—".into(), |v| fmt(tc.unit, v)))
    )
}

/// The "Memory" table: every test with memory figures, with their baseline change.
fn memory_section(h: &mut String, input: &HtmlInput<'_>) {
    let rows: Vec<(&TestResult, Vec<MemoryFigure>)> = input
        .current
        .tests
        .iter()
        .map(|t| (t, memory_figures(t)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if rows.is_empty() {
        return;
    }
    h.push_str("<h2>Memory</h2>\n<p class=\"meta\">Per iteration, medians: bytes allocated and allocations (every thread), and the peak of live heap above its level at the start of the iteration (counting allocator); the peak resident set is the process's over the test (or the median of an external command's runs). Changes are against the baseline, decided like time's.</p>\n");
    h.push_str("<table id=\"memory\">\n<tr><th class=\"name\">Test</th><th>Allocated/iter</th><th>Allocations/iter</th><th>Peak heap/iter</th><th>Peak RSS</th></tr>\n");
    for (t, figures) in rows {
        let _ = write!(h, "<tr><td class=\"name\">{}</td>", html_escape(&t.name));
        for label in [
            "allocated/iter",
            "allocations/iter",
            "peak heap/iter",
            "peak RSS",
        ] {
            match figures.iter().find(|f| f.label == label) {
                Some(f) => {
                    let _ = write!(
                        h,
                        "<td>{}{}</td>",
                        html_escape(&f.text),
                        memory_change(input, t, f.metric)
                    );
                }
                None => h.push_str("<td>—</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn ref_lines(t: &TestResult) -> Vec<RefLine> {
    let Some(tc) = &t.target else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(v) = tc.target_ns {
        out.push(RefLine {
            value: v,
            label: format!("target {}", guestctl_perf::report::format_ns(v)),
        });
    }
    if let Some(v) = tc.spec_week12_target_ns {
        out.push(RefLine {
            value: v,
            label: format!("spec week-12 {}", guestctl_perf::report::format_ns(v)),
        });
    }
    out
}

fn chart_block(h: &mut String, title: &str, chart: Result<String, String>, note: &str) {
    h.push_str("<div class=\"chart\">");
    let _ = write!(h, "<p><strong>{}</strong></p>", html_escape(title));
    match chart {
        Ok(svg) => h.push_str(&svg),
        Err(why) => {
            let _ = write!(h, "<p><em>not drawn: {}</em></p>", html_escape(&why));
        }
    }
    if !note.is_empty() {
        let _ = write!(h, "<p>{note}</p>");
    }
    h.push_str("</div>\n");
}

fn warning_text(w: &Warning, unit: Unit) -> String {
    let _ = unit;
    match w {
        Warning::HighVariance { cv } => format!("high variance (CV {:.1}%)", cv * 100.0),
        Warning::FewSamples { n } => format!("only {n} samples (10 or more recommended)"),
        Warning::Outliers { count } => format!("{count} outliers (Tukey's fences; kept)"),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

fn test_section(
    h: &mut String,
    input: &HtmlInput<'_>,
    t: &TestResult,
    series: &[Point],
    cps: &[ChangePointReport],
    i: usize,
) {
    let s = &t.summary;
    let _ = writeln!(h, "<h3 id=\"test-{i}\">{}</h3>", html_escape(&t.name));
    let params = params_text(t);
    let _ = writeln!(
        h,
        "<p class=\"meta\">{}n = {} · median {} · mean {} · min {} · max {} · p95 {} · CV {:.1}%</p>",
        if params.is_empty() {
            String::new()
        } else {
            format!("{} · ", html_escape(&params))
        },
        s.n,
        html_escape(&fmt(t.unit, s.median)),
        html_escape(&fmt(t.unit, s.mean)),
        html_escape(&fmt(t.unit, s.min)),
        html_escape(&fmt(t.unit, s.max)),
        html_escape(&fmt(t.unit, s.p95)),
        s.cv * 100.0
    );
    let figures = memory_figures(t);
    if !figures.is_empty() {
        let list: Vec<String> = figures
            .iter()
            .map(|f| {
                format!(
                    "{} {}{}",
                    f.label,
                    html_escape(&f.text),
                    memory_change(input, t, f.metric).replacen("<br>", " ", 1)
                )
            })
            .collect();
        let _ = writeln!(
            h,
            "<p class=\"meta memory\">Memory: {}</p>",
            list.join(" · ")
        );
    }
    if !t.warnings.is_empty() {
        let list: Vec<String> = t
            .warnings
            .iter()
            .map(|w| html_escape(&warning_text(w, t.unit)))
            .collect();
        let _ = writeln!(h, "<p class=\"meta\">Warnings: {}</p>", list.join("; "));
    }
    if let Some((_, path)) = input.flamegraphs.iter().find(|(name, _)| name == &t.name) {
        if let Some(href) = safe_href(path) {
            let _ = writeln!(
                h,
                "<p><a class=\"flamegraph\" href=\"{}\">flamegraph (SVG)</a></p>",
                html_escape(&href)
            );
        }
    }
    let baseline = baseline_of(input, t);
    let lines = ref_lines(t);
    h.push_str("<div class=\"charts\">\n");
    let dist_title = if baseline.is_some() {
        "Samples: baseline vs current (box Q1–Q3, bar median, band 95% CI)"
    } else {
        "Samples (box Q1–Q3, bar median, band 95% CI)"
    };
    chart_block(h, dist_title, distribution_svg(t, baseline, &lines), "");
    if series.len() >= 2 {
        let mut note = String::new();
        if cps.is_empty() {
            note.push_str("No lasting change detected.");
        } else {
            note.push_str("<ul class=\"cp\">");
            for c in cps {
                let _ = write!(
                    note,
                    "<li>lasting change at run {} (commit <code>{}</code>, {}): {} → {} ({:+.1}%)</li>",
                    c.index + 1,
                    html_escape(short_commit(&c.commit)),
                    html_escape(&human_timestamp(&c.timestamp)),
                    html_escape(&fmt(t.unit, c.before_median)),
                    html_escape(&fmt(t.unit, c.after_median)),
                    c.change_pct
                );
            }
            note.push_str("</ul>");
        }
        chart_block(
            h,
            &format!(
                "History: median per run ({} runs), change points dashed red",
                series.len()
            ),
            trend_svg(series, cps, &lines),
            &note,
        );
    }
    h.push_str("</div>\n");
}

/// The "Scaling" charts: one per series of [`guestctl_perf::scaling::scaling_series`]
/// — tests that declare the parameter they vary with `scaling` (the same rule as the
/// Markdown report's scaling section and its fitted growth). Tests that merely
/// differ in one parameter (the same operation on two distros) are not a series.
fn scaling_section(h: &mut String, input: &HtmlInput<'_>) {
    let series = scaling_series(input.current);
    if series.is_empty() {
        return;
    }
    h.push_str("<h2>Scaling</h2>\n<div class=\"charts\">\n");
    for ser in &series {
        let pairs: Vec<(&guestctl_perf::scaling::ScalingPoint, &TestResult)> = ser
            .points
            .iter()
            .filter_map(|p| Some((p, input.current.get(&p.test)?)))
            .collect();
        let points: Vec<ScalingPoint> = pairs
            .iter()
            .map(|&(p, t)| ScalingPoint {
                label: t.params.get(&ser.param).cloned().unwrap_or_default(),
                x: Some(p.x),
                median: p.median,
                ci: (t.summary.median_ci.lower, t.summary.median_ci.upper),
                baseline_median: baseline_of(input, t).map(|b| b.summary.median),
            })
            .collect();
        let lines = pairs.first().map(|(_, t)| ref_lines(t)).unwrap_or_default();
        let note = format!(
            "growth <strong>{}</strong>: exponent {:.2} over the series, {:.2} between the two largest points; fitted {} per {} plus {} fixed (r² {:.2})",
            ser.growth.name(),
            ser.exponent,
            ser.tail_exponent,
            html_escape(&fmt(ser.unit, ser.slope)),
            html_escape(&ser.param),
            html_escape(&fmt(ser.unit, ser.intercept)),
            ser.r_squared
        );
        chart_block(
            h,
            &format!(
                "{}: median vs {} (blue current, grey dashed baseline)",
                ser.operation, ser.param
            ),
            scaling_svg(&ser.param, ser.unit, &points, &lines),
            &note,
        );
    }
    h.push_str("</div>\n");
}

/// The baseline's result for `t` (under its former name when it was renamed).
fn baseline_of<'a>(input: &HtmlInput<'a>, t: &TestResult) -> Option<&'a TestResult> {
    let b = input.baseline?;
    let name = comparison_of(input, &t.name, Metric::Samples)
        .and_then(|x| x.baseline_name.clone())
        .unwrap_or_else(|| t.name.clone());
    b.get(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_safe_links() {
        assert_eq!(
            html_escape("<a href='x'>\"&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(
            safe_href("flamegraphs/a_b.svg").as_deref(),
            Some("flamegraphs/a_b.svg")
        );
        assert_eq!(
            safe_href("flame graphs/<x>.svg").as_deref(),
            Some("flame%20graphs/%3Cx%3E.svg")
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("https://evil/x.svg"), None);
        assert_eq!(safe_href("//evil/x.svg"), None);
        assert_eq!(safe_href(""), None);
    }
}
