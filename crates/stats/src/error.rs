//! The one error type of this crate.

/// Why a statistical computation could not be carried out.
///
/// Every public function that takes samples validates them and returns one of
/// these instead of panicking or producing `NaN`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// No samples at all were given.
    #[error("no samples")]
    Empty,
    /// Fewer samples than the computation needs.
    #[error("too few samples: needed at least {needed}, got {got}")]
    TooFewSamples {
        /// Minimum number of samples required.
        needed: usize,
        /// Number of samples given.
        got: usize,
    },
    /// A sample is NaN or infinite.
    #[error("sample {index} is not a finite number")]
    NonFinite {
        /// Position of the offending sample in its slice.
        index: usize,
    },
    /// A sample is zero or negative where a ratio or logarithm needs positive values
    /// (timings compared by ratio must be > 0).
    #[error("sample {index} is not strictly positive")]
    NonPositive {
        /// Position of the offending sample in its slice.
        index: usize,
    },
    /// An option or argument is out of its valid range (the message says which).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}
