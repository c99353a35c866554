//! The standard suite run by `guestctl perf validate` (being written).
use crate::suite::Suite;

/// The standard suite.
pub fn standard_suite() -> Suite {
    Suite::new()
}
