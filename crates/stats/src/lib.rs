//! guestctl-stats: the statistics of guestctl's performance framework.
//!
//! DRAFT DOC (decision rule being finalized).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bootstrap;
pub mod changepoint;
mod compare;
mod error;
mod fit;
mod mwu;
pub mod rng;
mod summary;

pub use bootstrap::{bootstrap_median_ci, bootstrap_ratio_of_medians, MAX_BOOTSTRAP_RESAMPLES};
pub use compare::{
    compare, compare_suite, decide, geometric_mean, holm, Comparison, Verdict,
    DEFAULT_THRESHOLD_PCT,
};
pub use error::StatsError;
pub use fit::{linear_fit, log_log_slope, LinearFit};
pub use mwu::{mann_whitney_u, MannWhitney, MAX_EXACT_CELLS};
pub use summary::{
    median, percentile, summarize, ConfidenceInterval, Options, OutlierClass, Outliers, Sample,
    Summary, TukeyFences, Warning, DEFAULT_SEED, HIGH_CV, MAD_NORMAL_SCALE,
    MIN_RECOMMENDED_SAMPLES,
};
