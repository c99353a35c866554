//! `guestctl perf history [TEST]` in the terminal: a table of runs and a unicode
//! sparkline with the change points marked.

use std::fmt::Write as _;

use guestctl_perf::report::{human_timestamp, short_commit};

use crate::changes::ChangePointReport;
use crate::history::Point;

/// The eight block heights of a sparkline, lowest first.
const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Most rows of the table (the newest runs); the sparkline covers the whole series.
pub const MAX_TABLE_ROWS: usize = 50;

/// A sparkline of `values` (`▁▂▃▄▅▆▇█`), scaled between their minimum and maximum.
pub fn sparkline(values: &[f64]) -> String {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if hi > lo {
                let level = ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0) as usize;
                SPARK.get(level).copied().unwrap_or('?')
            } else {
                SPARK[3]
            }
        })
        .collect()
}

/// The trend of `test`: a sparkline with `^` under each change point, the change
/// points explained, then a table of the newest [`MAX_TABLE_ROWS`] runs (date,
/// commit, median, confidence interval, n, change versus the previous run). Rows
/// where a lasting change begins are marked `◆`; rows measured on another machine
/// than the previous one are marked `*`.
pub fn render_history_terminal(
    test: &str,
    series: &[Point],
    change_points: &[ChangePointReport],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "History of {test}: {} runs", series.len());
    if series.is_empty() {
        out.push_str("  (no runs of this test in the history)\n");
        return out;
    }
    let medians: Vec<f64> = series.iter().map(|p| p.median).collect();
    let fmt = |v: f64| series.first().map_or(format!("{v}"), |p| p.unit.format(v));
    let _ = writeln!(out, "  {}", sparkline(&medians));
    if !change_points.is_empty() {
        let marks: String = (0..series.len())
            .map(|i| {
                if change_points.iter().any(|c| c.index == i) {
                    '^'
                } else {
                    ' '
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", marks.trim_end());
    }
    let (lo, hi) = medians
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let _ = writeln!(out, "  min {}  max {}", fmt(lo), fmt(hi));
    if change_points.is_empty() {
        out.push_str("  No lasting change detected.\n");
    } else {
        for c in change_points {
            let _ = writeln!(
                out,
                "  ◆ lasting change at run {} (commit {}, {}): {} → {} ({:+.1}%, p = {:.3})",
                c.index + 1,
                short_commit(&c.commit),
                human_timestamp(&c.timestamp),
                fmt(c.before_median),
                fmt(c.after_median),
                c.change_pct,
                c.p_value
            );
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "  {:>4}  {:<23} {:<12}  {:>10}  {:>23}  {:>5}  {:>7}",
        "run", "date", "commit", "median", "95% CI", "n", "change"
    );
    let start = series.len().saturating_sub(MAX_TABLE_ROWS);
    if start > 0 {
        let _ = writeln!(out, "  … {start} older runs not shown");
    }
    for (i, p) in series.iter().enumerate().skip(start) {
        let change = i
            .checked_sub(1)
            .and_then(|j| series.get(j))
            .filter(|prev| prev.median != 0.0)
            .map_or(String::new(), |prev| {
                format!("{:+.1}%", (p.median / prev.median - 1.0) * 100.0)
            });
        let mark = if change_points.iter().any(|c| c.index == i) {
            '◆'
        } else {
            ' '
        };
        let machine = if p.machine_changed { '*' } else { ' ' };
        let _ = writeln!(
            out,
            "{mark}{machine}{:>4}  {:<23} {:<12}  {:>10}  {:>23}  {:>5}  {:>7}",
            i + 1,
            human_timestamp(&p.timestamp),
            short_commit(&p.commit),
            fmt(p.median),
            format!("[{}, {}]", fmt(p.ci_lower), fmt(p.ci_upper)),
            p.n,
            change
        );
    }
    if series.iter().any(|p| p.machine_changed) {
        out.push_str("\n  * measured on another machine or build than the run before\n");
    }
    out
}

/// `guestctl perf history` without a test: one line per test of the history — runs,
/// a sparkline of its newest 40 medians, the latest median, and its lasting changes
/// (detected with [`crate::detect`]; a test whose detection fails shows `?`).
pub fn render_history_overview(read: &crate::history::HistoryRead) -> String {
    let names = read.test_names();
    let mut out = String::new();
    if names.is_empty() {
        out.push_str("The history is empty: run `guestctl perf validate` to start it.\n");
        return out;
    }
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    let _ = writeln!(
        out,
        "{:<width$}  {:>4}  {:<40}  {:>10}  changes",
        "test", "runs", "trend (newest 40)", "latest"
    );
    for name in &names {
        let series = read.series(name);
        let tail = series
            .get(series.len().saturating_sub(40)..)
            .unwrap_or_default();
        let medians: Vec<f64> = tail.iter().map(|p| p.median).collect();
        let latest = series
            .last()
            .map_or(String::new(), |p| p.unit.format(p.median));
        let changes = match crate::changes::detect(&series) {
            Ok(cps) if cps.is_empty() => "none".to_string(),
            Ok(cps) => cps
                .iter()
                .map(|c| format!("{:+.1}% at {}", c.change_pct, short_commit(&c.commit)))
                .collect::<Vec<_>>()
                .join(", "),
            Err(_) => "?".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>4}  {:<40}  {:>10}  {}",
            name,
            series.len(),
            sparkline(&medians),
            latest,
            changes
        );
    }
    for w in &read.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
