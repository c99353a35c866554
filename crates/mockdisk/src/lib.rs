//! Real mock VM disk images for tests and benchmarks (being written).

pub mod error;
pub mod guest;
pub mod rng;

pub use error::MockDiskError;
