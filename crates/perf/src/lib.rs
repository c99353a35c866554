//! guestctl-perf: guestctl's performance validation framework.
//!
//! A run goes through five stages, each its own module:
//!
//! 1. **warm-up** and 2. **measure** ([`measure`]): a [`Routine`] runs under a
//!    [`Measurement`] ([`WallClock`], or [`MockMeasurement`] in tests); warm-up
//!    iterations are discarded, every measured sample is kept (nanoseconds). Where
//!    the counting allocator of [`memory`] is installed, each iteration's bytes
//!    allocated and peak heap are recorded beside it, and compared like time.
//! 3. **analyse** ([`measure::analyse`]): guestctl-stats summarises the samples into a
//!    [`TestResult`] — the one record every later stage reads — with warnings
//!    (few iterations, high CV, outliers) and the check against `perf-targets.toml`
//!    ([`Targets`]).
//! 4. **compare** ([`compare`]): a current [`RunResults`] against a baseline, with
//!    guestctl-stats' decision rule and Holm's correction, into a
//!    [`BaselineComparison`]; new, missing and renamed tests are reported as such.
//! 5. **report** ([`report`]): Markdown, JSON, terminal and GitHub-annotation
//!    exporters that return strings or bytes; [`store`] writes files atomically under a
//!    lock.
//!
//! The API the requirements (docs/requirements.md) describe is [`PerfTestSuite`] (`run_test`, `bench`, `generate_report`,
//! `compare_with_baseline`) and [`WorkloadGenerator`]; `guestctl perf validate` runs
//! the registry [`standard::standard_suite`] of [`Operation`]s, and
//! [`process::bench_command`] measures external commands as whole processes.
//!
//! ```
//! use guestctl_perf::{MockMeasurement, NoObserver, PerfTestSuite, Params};
//!
//! let mut base = PerfTestSuite::new();
//! let mut cur = PerfTestSuite::new();
//! let fast: Vec<f64> = (0..30).map(|i| 1e6 + (i % 7) as f64 * 1e3).collect();
//! let slow: Vec<f64> = fast.iter().map(|x| x * 1.25).collect();
//! let mut work = || Ok(());
//! base.run_with("op", Params::new(), 30, &mut MockMeasurement::new(fast), &mut work, &mut NoObserver)?;
//! cur.run_with("op", Params::new(), 30, &mut MockMeasurement::new(slow), &mut work, &mut NoObserver)?;
//! let cmp = cur.compare_with_baseline(&base, 5.0);
//! assert!(cmp.has_regressions());
//! assert!(cmp.generate_report().contains("### ❌ Regressions\n\n- op: 25.0% slower"));
//! # Ok::<(), guestctl_perf::PerfError>(())
//! ```
#![deny(missing_docs)]

pub mod binaries;
pub mod callgrind;
pub mod compare;
pub mod drift;
mod error;
pub mod fingerprint;
pub mod instructions;
pub mod measure;
pub mod memory;
pub mod paired;
pub mod peer;
pub mod process;
pub mod record;
pub mod report;
pub mod scaling;
pub mod standard;
pub mod store;
pub mod suite;
pub mod targets;
pub mod units;
pub mod worker;
pub mod workload;

pub use compare::{compare_runs, BaselineComparison, CompareConfig, MatchStatus, TestComparison};
pub use error::{ErrorKind, PerfError};
pub use fingerprint::Fingerprint;
pub use guestctl_stats::{Comparison, Options, Summary, Verdict};
pub use measure::{Measurement, MockMeasurement, NoObserver, Observer, Routine, WallClock};
pub use memory::CountingAlloc;
pub use record::{MemoryStats, Metric, Params, RunResults, TestResult, Unit, SCHEMA_VERSION};
pub use report::{BaselineAction, Report};
pub use store::ResultsDir;
pub use suite::{Operation, PerfTestSuite, RunPlan, Suite, SuiteConfig};
pub use targets::{TargetStatus, Targets};
pub use workload::WorkloadGenerator;

/// Exit status: nothing regressed.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error (unreadable baseline, failed test, bad arguments).
pub const EXIT_ERROR: u8 = 1;
/// Exit status: at least one regression was detected.
pub const EXIT_REGRESSION: u8 = 2;
