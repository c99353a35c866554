//! Stage 5 (report): exporters that turn a [`Report`] into bytes — Markdown, JSON, a
//! terminal table, GitHub annotations. Exporters do no I/O; [`crate::store`] writes.

mod github;
mod markdown;
mod terminal;

pub use github::github_annotations;
pub use markdown::{markdown_comparison, markdown_report, markdown_results};
pub use terminal::{terminal_output, terminal_table, verdict_line, TableStyle, TerminalOutput};

use serde::{Deserialize, Serialize};

use crate::compare::BaselineComparison;
use crate::error::{ErrorKind, PerfError};
use crate::record::{RunResults, SCHEMA_VERSION};

/// The `format` tag of `report.json`.
pub const REPORT_FORMAT: &str = "guestctl-perf-report";

/// What happened to the baseline in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum BaselineAction {
    /// There was no baseline: this run was saved as the baseline.
    Created {
        /// Where.
        path: String,
    },
    /// The run was compared with the baseline at `path`.
    Compared {
        /// Where.
        path: String,
    },
    /// No comparison was made.
    None,
}

/// Everything a report shows; the content of `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// The current run, samples included.
    pub run: RunResults,
    /// What happened to the baseline.
    pub baseline: BaselineAction,
    /// The comparison, when one was made.
    pub comparison: Option<BaselineComparison>,
    /// Whether a missed target fails the run (`--fail-on-target-miss`): exit status
    /// 2, a JUnit failure, a GitHub error. Otherwise a missed target is a warning
    /// everywhere, and only a regression fails.
    #[serde(default)]
    pub fail_on_target_miss: bool,
}

/// A target a test missed: the target, in the test's unit, and which one (the
/// test's own `target`, else the required `spec week-12 target`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MissedTarget {
    /// The target value.
    pub target: f64,
    /// `target` or `spec week-12 target`.
    pub which: &'static str,
}

/// The target `t` missed, if any: its own target decides; without one, the required
/// week-12 target (docs/requirements.md).
pub fn missed_target(t: &crate::record::TestResult) -> Option<MissedTarget> {
    use crate::targets::TargetStatus;
    let tc = t.target.as_ref()?;
    let (target, status, which) = match (tc.target_ns, tc.status) {
        (Some(v), Some(s)) => (Some(v), Some(s), "target"),
        _ => (
            tc.spec_week12_target_ns,
            tc.spec_week12_status,
            "spec week-12 target",
        ),
    };
    match (target, status) {
        (Some(target), Some(TargetStatus::Missed)) => Some(MissedTarget { target, which }),
        _ => None,
    }
}

impl Report {
    /// A report of `run` with an optional comparison.
    pub fn new(
        run: RunResults,
        baseline: BaselineAction,
        comparison: Option<BaselineComparison>,
    ) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            format: REPORT_FORMAT.into(),
            run,
            baseline,
            comparison,
            fail_on_target_miss: false,
        }
    }

    /// The tests that missed a target, with the target.
    pub fn missed_targets(&self) -> Vec<(&crate::record::TestResult, MissedTarget)> {
        self.run
            .tests
            .iter()
            .filter_map(|t| missed_target(t).map(|m| (t, m)))
            .collect()
    }

    /// Pretty JSON bytes (with a final newline).
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        to_json_bytes(self)
    }

    /// Parses `report.json` bytes; `origin` names the file in errors.
    pub fn from_json(bytes: &[u8], origin: &std::path::Path) -> Result<Report, PerfError> {
        let r: Report = serde_json::from_slice(bytes).map_err(|e| {
            PerfError::new(
                ErrorKind::Corrupt,
                format!("{} is not a valid report: {e}", origin.display()),
            )
            .with_path(origin)
        })?;
        if r.schema_version != SCHEMA_VERSION || r.format != REPORT_FORMAT {
            return Err(PerfError::new(
                ErrorKind::Corrupt,
                format!(
                    "{} is a {} v{} file, expected {REPORT_FORMAT} v{SCHEMA_VERSION}",
                    origin.display(),
                    r.format,
                    r.schema_version
                ),
            )
            .with_path(origin));
        }
        Ok(r)
    }

    /// The exit status the report calls for: 2 with a regression, or with a missed
    /// target under [`Report::fail_on_target_miss`]; else 0.
    pub fn exit_code(&self) -> u8 {
        let compared = self
            .comparison
            .as_ref()
            .map_or(crate::EXIT_OK, |c| c.exit_code());
        if compared == crate::EXIT_OK
            && self.fail_on_target_miss
            && !self.missed_targets().is_empty()
        {
            return crate::EXIT_REGRESSION;
        }
        compared
    }
}

/// Pretty JSON of any serialisable value, with a final newline: what every JSON
/// file and every `--json` output of guestctl is written with. A value serde cannot
/// represent (a map with non-string keys) is an error, never a made-up body.
pub fn to_json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut v = serde_json::to_vec_pretty(value)?;
    v.push(b'\n');
    Ok(v)
}

/// A duration in nanoseconds, humanly: `850 ns`, `12.3 µs`, `85.0 ms`, `2.50 s`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return format!("{ns}");
    }
    let a = ns.abs();
    let (v, unit) = if a < 1e3 {
        (ns, "ns")
    } else if a < 1e6 {
        (ns / 1e3, "µs")
    } else if a < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(v))
}

/// A count with an SI prefix: `4.50 M instr`.
pub fn format_count(x: f64, unit: &str) -> String {
    let a = x.abs();
    let (v, p) = if a < 1e3 {
        (x, "")
    } else if a < 1e6 {
        (x / 1e3, "k")
    } else if a < 1e9 {
        (x / 1e6, "M")
    } else {
        (x / 1e9, "G")
    };
    if p.is_empty() {
        format!("{} {unit}", three_digits(v))
    } else {
        format!("{} {p} {unit}", three_digits(v))
    }
}

/// Bytes with binary prefixes: `12.0 MiB`.
pub fn format_bytes(x: f64) -> String {
    let a = x.abs();
    let (v, unit) = if a < 1024.0 {
        return format!("{x:.0} B");
    } else if a < 1024.0 * 1024.0 {
        (x / 1024.0, "KiB")
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        (x / (1024.0 * 1024.0), "MiB")
    } else {
        (x / (1024.0 * 1024.0 * 1024.0), "GiB")
    };
    format!("{} {unit}", three_digits(v))
}

/// Three significant digits for values from 1 to 999 (fewer decimals as it grows).
fn three_digits(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `12.3% slower` / `45.6% faster` / `no change` for a ratio current/baseline.
pub fn describe_change(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    if pct > 0.0 {
        format!("{pct:.1}% slower")
    } else if pct < 0.0 {
        format!("{:.1}% faster", -pct)
    } else {
        "no change".to_string()
    }
}

/// [`describe_change`] in words fit for `unit`: `slower`/`faster` for time,
/// `more`/`less` for counts and bytes (`12.3% more`).
pub fn describe_change_in(unit: crate::record::Unit, ratio: f64) -> String {
    if unit == crate::record::Unit::Nanoseconds {
        return describe_change(ratio);
    }
    let pct = (ratio - 1.0) * 100.0;
    if pct > 0.0 {
        format!("{pct:.1}% more")
    } else if pct < 0.0 {
        format!("{:.1}% less", -pct)
    } else {
        "no change".to_string()
    }
}

/// The medians of a test's memory figures, for the report tables:
/// `(alloc bytes, allocations, peak heap bytes)` per iteration.
pub fn memory_medians(t: &crate::record::TestResult) -> Option<(f64, f64, f64)> {
    let m = t.memory.as_ref()?;
    let med = |v: &[f64]| guestctl_stats::median(v).ok();
    Some((
        med(&m.alloc_bytes)?,
        med(&m.alloc_count)?,
        med(&m.peak_heap_bytes)?,
    ))
}

/// A signed change in percent, `+12.3%` / `-4.0%`.
pub fn signed_pct(ratio: f64) -> String {
    format!("{:+.1}%", (ratio - 1.0) * 100.0)
}

/// `2026-01-26T10:30:00Z` → `2026-01-26 10:30:00 UTC`: any RFC 3339 time, shown in
/// UTC (other strings unchanged).
pub fn human_timestamp(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// The first 12 characters of a commit id.
pub fn short_commit(c: &str) -> &str {
    c.get(..12).unwrap_or(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_human() {
        assert_eq!(format_ns(850.0), "850 ns");
        assert_eq!(format_ns(12_345.0), "12.3 µs");
        assert_eq!(format_ns(85_000_000.0), "85.0 ms");
        assert_eq!(format_ns(2_500_000_000.0), "2.50 s");
        assert_eq!(format_ns(1.5), "1.50 ns");
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(12.0 * 1024.0 * 1024.0), "12.0 MiB");
        assert_eq!(format_count(4_500_000.0, "instr"), "4.50 M instr");
    }

    #[test]
    fn changes_and_stamps() {
        assert_eq!(describe_change(0.17), "83.0% faster");
        assert_eq!(describe_change(1.123), "12.3% slower");
        assert_eq!(signed_pct(0.96), "-4.0%");
        assert_eq!(
            human_timestamp("2026-01-26T10:30:00Z"),
            "2026-01-26 10:30:00 UTC"
        );
        assert_eq!(
            human_timestamp("2026-01-26T12:30:00+02:00"),
            "2026-01-26 10:30:00 UTC"
        );
        assert_eq!(human_timestamp("yesterday"), "yesterday");
        assert_eq!(short_commit("abc"), "abc");
        assert_eq!(short_commit("0123456789abcdef"), "0123456789ab");
    }
}
