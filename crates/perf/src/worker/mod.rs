//! The worker protocol: a long-lived `guestctl perf worker` process per build,
//! driven over JSON Lines ([`protocol`]), so that two builds can be measured in
//! alternating rounds on the same workload ([`crate::paired`]).
//!
//! [`serve()`] is the worker's side, [`WorkerProcess`] the orchestrator's; both meet
//! at the [`Worker`] trait, which tests implement with scripted values.

pub mod client;
pub mod protocol;
pub mod serve;
pub mod spin;

use std::path::Path;

pub use client::WorkerProcess;
pub use protocol::{Request, Response, PROTOCOL_VERSION};
pub use serve::serve;

use crate::error::PerfError;
use crate::record::MemoryStats;

/// The samples of one `run` request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Nanoseconds per measured iteration.
    pub samples: Vec<f64>,
    /// Memory figures of the same iterations, when counted.
    pub memory: Option<MemoryStats>,
}

/// One build's measuring side.
pub trait Worker {
    /// Sets up `test` in `dir` (the workload directory both builds share).
    fn prepare(&mut self, test: &str, dir: &Path) -> Result<(), PerfError>;
    /// Runs the prepared test: `warmup` discarded iterations, then `iterations`
    /// measured ones, each with `spin_percent` % busy work added (self-check only).
    fn run(
        &mut self,
        test: &str,
        iterations: usize,
        warmup: usize,
        spin_percent: f64,
    ) -> Result<Batch, PerfError>;
}
