//! GitHub Actions workflow commands (`::warning ...::`) for regressions and for a
//! comparison across different machines.

use super::Report;

/// Escapes workflow-command data (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value (data escapes plus `:` and `,`).
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::warning title=…::…` line per regression, plus one for a fingerprint
/// mismatch, plus one per missed target (`::error` when missed targets fail the
/// run); empty when there is nothing to flag.
pub fn github_annotations(report: &Report) -> String {
    let mut out = String::new();
    let level = if report.fail_on_target_miss {
        "error"
    } else {
        "warning"
    };
    for (t, m) in report.missed_targets() {
        out.push_str(&format!(
            "::{level} title={}::{}\n",
            prop(&format!("Target missed: {}", t.name)),
            data(&format!(
                "{}: the median's 95% CI reaches {}, not below the {} {}",
                t.name,
                t.unit.format(t.summary.median_ci.upper),
                m.which,
                t.unit.format(m.target)
            ))
        ));
    }
    let Some(c) = &report.comparison else {
        return out;
    };
    if c.fingerprint_mismatch() {
        out.push_str(&format!(
            "::warning title={}::{}\n",
            prop("Performance baseline from another machine"),
            data(&format!(
                "The baseline differs in: {}",
                c.fingerprint_differences.join("; ")
            ))
        ));
    }
    for t in c.regressions() {
        let (Some(cmp), Some(b), Some(cur)) = (&t.comparison, t.baseline_median, t.current_median)
        else {
            continue;
        };
        out.push_str(&format!(
            "::warning title={}::{}\n",
            prop(&format!("Performance regression: {}", t.label())),
            data(&format!(
                "{} is {} ({} → {}), decision interval [{:.3}, {:.3}], threshold {}%",
                t.label(),
                super::describe_change_in(t.unit, cmp.ratio),
                t.unit.format(b),
                t.unit.format(cur),
                cmp.hl_ci.lower,
                cmp.hl_ci.upper,
                cmp.threshold_pct
            ))
        ));
    }
    out
}
