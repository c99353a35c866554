//! guestctl-dashboard: guestctl's performance over time and for other eyes.
//!
//! Built on the records of guestctl-perf ([`RunResults`], [`BaselineComparison`]) and
//! the statistics of guestctl-stats, with no CLI of its own; `guestctl perf` calls it:
//!
//! * [`history`]: the history store `performance-results/history.jsonl` —
//!   [`History::open`], [`History::append_run`] ([`EntryKind::Run`] /
//!   [`EntryKind::Baseline`]), [`History::entries`] → [`HistoryRead`] with
//!   [`HistoryRead::series`] ([`Point`]) and [`HistoryRead::find_baseline`].
//! * [`changes`]: [`detect`] lasting step changes in a series (E-divisive means on
//!   the per-run medians) → [`ChangePointReport`], naming the commit.
//! * [`terminal`]: [`render_history_terminal`], the table and sparkline of
//!   `guestctl perf history [TEST]`.
//! * [`html`]: [`render_html`] of an [`HtmlInput`] — one self-contained HTML file with
//!   inline SVG charts ([`charts`], drawn with `plotters`).
//! * [`export`]: [`bmf_json`] (Bencher), [`github_benchmark_json`]
//!   (github-action-benchmark `customSmallerIsBetter`); [`junit`]: [`junit_xml`].
//! * [`accept`]: [`should_accept`], the rule of `baseline accept --if-no-regressions`.
//! * `flamegraph` (feature `flamegraph`, Linux): `profile(name, iterations, f)` and
//!   `profile_routine(name, iterations, &mut dyn Routine)` → flamegraph SVG bytes, by
//!   in-process sampling with `pprof`; `flamegraph_path(test)` names the file.
//!
//! Renderers and exporters do no I/O and return strings or bytes; only
//! [`History`] reads and writes a file. See `docs/dashboard.md`.
//!
//! ```
//! use guestctl_dashboard::{detect, render_history_terminal, History, EntryKind};
//! # fn main() -> Result<(), guestctl_dashboard::DashboardError> {
//! let dir = std::env::temp_dir().join(format!("dash-doc-{}", std::process::id()));
//! let history = History::open(&dir);
//! let read = history.entries()?; // a missing file is an empty history
//! let series = read.series("cache_lookup");
//! let cps = detect(&series)?;
//! print!("{}", render_history_terminal("cache_lookup", &series, &cps));
//! # let _ = EntryKind::Run;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accept;
pub mod changes;
pub mod charts;
mod error;
pub mod export;
#[cfg(all(feature = "flamegraph", target_os = "linux"))]
pub mod flamegraph;
pub mod history;
pub mod html;
pub mod junit;
pub mod terminal;

pub use accept::{refusal_reasons, should_accept};
pub use changes::{detect, detect_with, ChangePointReport, DetectOptions};
pub use error::{DashboardError, ErrorKind, Result};
pub use export::{bmf_json, github_benchmark_json};
#[cfg(all(feature = "flamegraph", target_os = "linux"))]
pub use flamegraph::{flamegraph_path, profile, profile_routine, FLAMEGRAPH_DIR};
pub use history::{EntryKind, History, HistoryEntry, HistoryRead, Point, HISTORY_FILE};
pub use html::{render_html, HtmlInput, REPORT_HTML_FILE};
pub use junit::junit_xml;
pub use terminal::{render_history_overview, render_history_terminal, sparkline};

pub use guestctl_perf::{BaselineComparison, RunResults};
