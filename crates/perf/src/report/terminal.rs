//! The terminal table (comfy-table): one row per test, with its comparison if any.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::{describe_change_in, format_bytes, memory_medians, signed_pct, Report};
use crate::compare::MatchStatus;
use crate::targets::TargetStatus;
use crate::units::warning_text;

/// The results as a table for a terminal, followed by warnings and the verdict lines.
pub fn terminal_table(report: &Report) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "Test",
            "N",
            "Median",
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
        ]);
    let cmp = report.comparison.as_ref();
    for t in &report.run.tests {
        let u = t.unit;
        let m = &t.summary;
        let target = match t.target.as_ref().and_then(|c| c.target_ns.zip(c.status)) {
            Some((ns, TargetStatus::Met)) => format!("✓ < {}", u.format(ns)),
            Some((ns, TargetStatus::Missed)) => format!("✗ < {}", u.format(ns)),
            None => "–".to_string(),
        };
        let tc = cmp.and_then(|c| {
            c.tests
                .iter()
                .find(|x| x.name == t.name && x.metric.is_samples())
        });
        let (alloc, heap) = match memory_medians(t) {
            Some((a, _, p)) => (format_bytes(a), format_bytes(p)),
            None => ("–".to_string(), "–".to_string()),
        };
        let (change, verdict) = match tc {
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
        table.add_row(vec![
            t.name.clone(),
            m.n.to_string(),
            u.format(m.median),
            u.format(m.mean),
            u.format(m.min),
            u.format(m.max),
            u.format(m.p95),
            format!("{:.1}%", m.cv * 100.0),
            alloc,
            heap,
            target,
            change,
            verdict,
        ]);
    }
    let mut out = table.to_string();
    out.push('\n');
    out.push_str(&warning_lines(&report.run.tests));
    // Notes on the run: tests skipped (and why), a peer comparison not made.
    for note in &report.run.settings.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if let Some(c) = cmp {
        if c.fingerprint_mismatch() {
            out.push_str(
                "WARNING: the baseline was recorded on a different machine or build; changes may \
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
        // Memory figures that moved: named with their metric, like time.
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
        out.push_str(&format!("{}\n", super::how_compared(c)));
        let time = |v: Vec<&crate::compare::TestComparison>| {
            v.into_iter()
                .filter(|t| t.method != crate::compare::Method::Deterministic)
                .count()
        };
        let r = time(c.regressions());
        let i = time(c.improvements());
        let overall = c
            .overall_ratio
            .map(|r| format!(", overall {}", signed_pct(r)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{r} regression(s), {i} improvement(s), {} unchanged, {} inconclusive{overall}\n",
            time(c.unchanged()),
            time(c.inconclusive())
        ));
        let beyond = c
            .tests
            .iter()
            .filter(|t| t.method == crate::compare::Method::Deterministic)
            .filter(|t| t.verdict() == Some(guestctl_stats::Verdict::Regression))
            .count();
        if beyond > 0 {
            out.push_str(&format!(
                "{beyond} deterministic figure(s) above the threshold (a regression too)\n"
            ));
        }
    } else if let super::BaselineAction::Created { path } = &report.baseline {
        out.push_str(&format!("baseline created: {path}\n"));
    }
    out
}

/// Tests listed per kind of warning before the list is cut short.
const MAX_LISTED: usize = 4;

/// Warning lines: one per warning for a few, one per kind listing the tests when
/// many tests warn (the Markdown report keeps every warning in full).
fn warning_lines(tests: &[crate::record::TestResult]) -> String {
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
