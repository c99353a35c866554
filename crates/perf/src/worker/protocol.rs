//! The messages of `guestctl perf worker`: JSON Lines, one message per line, each an
//! externally tagged object (`{"run":{"test":"cache_lookup","iterations":3,...}}`).
//!
//! The worker speaks first ([`Response::Hello`]); then every [`Request`] gets exactly
//! one [`Response`]. A new protocol version is a new [`PROTOCOL_VERSION`]: the
//! orchestrator refuses a worker of another version and falls back to an unpaired
//! comparison.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::record::MemoryStats;

/// Version of the worker protocol spoken by this build.
pub const PROTOCOL_VERSION: u32 = 1;

/// What the orchestrator asks a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Run a test's setup in `dir` (shared by both builds, so they work on the same
    /// image files); the worker keeps the routine until the next `prepare`.
    Prepare {
        /// Test name.
        test: String,
        /// Workload directory.
        dir: PathBuf,
    },
    /// Run the prepared test: `warmup` discarded iterations, then `iterations`
    /// measured ones.
    Run {
        /// Test name (must be the prepared one).
        test: String,
        /// Measured iterations.
        iterations: usize,
        /// Discarded iterations before them.
        #[serde(default)]
        warmup: usize,
        /// Self-check only: busy work added inside each measured iteration, in
        /// percent of the iteration's own time (an injected slowdown).
        #[serde(default, skip_serializing_if = "is_zero")]
        spin_percent: f64,
    },
    /// End the worker.
    Quit,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// What a worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// First line of every worker: its protocol version and its suite.
    Hello {
        /// [`PROTOCOL_VERSION`] of the worker's build.
        protocol: u32,
        /// The test names of its standard suite.
        tests: Vec<String>,
    },
    /// The test is set up.
    Prepared {
        /// Test name.
        test: String,
    },
    /// The measured samples (nanoseconds) and, where the worker counts
    /// allocations, the memory figures of the same iterations.
    Samples {
        /// Test name.
        test: String,
        /// One value per measured iteration.
        samples: Vec<f64>,
        /// Memory figures per iteration.
        #[serde(default)]
        memory: Option<MemoryStats>,
    },
    /// The request failed (the worker goes on).
    Error {
        /// Why.
        message: String,
    },
}
