//! The rule of `guestctl perf baseline accept --if-no-regressions`.

use guestctl_perf::{BaselineComparison, MatchStatus, Verdict};

/// Whether the current run may replace the baseline automatically (CI on the main
/// branch): true when no test regressed, no test of the baseline is missing from the
/// current run (accepting would silently drop it from every later comparison), and
/// no test failed to compare (status `error`). Improvements, unchanged, inconclusive,
/// new and renamed tests do not block. A fingerprint mismatch does not block either:
/// a new machine needs a new baseline, and the history keeps the old one.
pub fn should_accept(comparison: &BaselineComparison) -> bool {
    refusal_reasons(comparison).is_empty()
}

/// Why [`should_accept`] refuses, one line per test (empty when it accepts), for the
/// CLI to print.
pub fn refusal_reasons(comparison: &BaselineComparison) -> Vec<String> {
    let mut out = Vec::new();
    for t in &comparison.tests {
        match t.status {
            MatchStatus::Missing => out.push(format!(
                "{}: in the baseline but missing from this run",
                t.name
            )),
            MatchStatus::Error => out.push(format!(
                "{}: could not be compared ({})",
                t.name,
                t.error.as_deref().unwrap_or("unknown reason")
            )),
            _ => {}
        }
        if let (Some(Verdict::Regression), Some(c)) = (t.verdict(), &t.comparison) {
            out.push(format!("{}: regressed {:+.1}%", t.label(), c.change_pct));
        }
    }
    out
}
