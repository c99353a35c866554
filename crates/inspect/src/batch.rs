//! Operation 5, parallel batch: inspect many images with a bounded thread pool,
//! results in input order, one image's failure reported for that image only.
//!
//! Sharding (`--shard K/N`, K from 1 to N): the images whose 0-based position `i`
//! in the input list has `i % N == K - 1`. N machines given the same list and
//! shards 1/N … N/N inspect every image exactly once.

use crate::{inspect_image, ImageOptions, InspectError, Inspection};
use serde::Serialize;
use std::path::PathBuf;

/// Options of [`batch`].
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Worker threads; 0 means the number of cores.
    pub jobs: usize,
    /// Take only shard `(k, n)` of the input (1-based `k`).
    pub shard: Option<(usize, usize)>,
    /// How each image is inspected (and whether the cache is used).
    pub image: ImageOptions,
}

/// One image's outcome.
#[derive(Debug, Clone)]
pub struct BatchItem {
    /// The image path as given.
    pub path: PathBuf,
    /// Its inspection, or the error message for this image.
    pub result: Result<Inspection, String>,
}

/// One line of `guestctl batch --json` (JSON Lines).
#[derive(Debug, Serialize)]
pub struct BatchLine<'a> {
    /// The image path.
    pub image: String,
    /// Whether inspection succeeded.
    pub ok: bool,
    /// The error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    /// The inspection, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection: Option<&'a Inspection>,
}

impl BatchItem {
    /// This item as a JSON Lines record.
    pub fn line(&self) -> BatchLine<'_> {
        BatchLine {
            image: self.path.display().to_string(),
            ok: self.result.is_ok(),
            error: self.result.as_ref().err().map(String::as_str),
            inspection: self.result.as_ref().ok(),
        }
    }
}

/// Parse `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), InspectError> {
    let bad = || {
        InspectError::new(
            crate::ErrorKind::InvalidInput,
            s,
            "a shard is K/N with 1 <= K <= N, e.g. --shard 2/4 for the second of four machines",
        )
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The part of `paths` that shard `(k, n)` takes (see the module docs).
pub fn shard<T: Clone>(paths: &[T], shard: Option<(usize, usize)>) -> Vec<T> {
    match shard {
        None => paths.to_vec(),
        Some((k, n)) => paths
            .iter()
            .enumerate()
            .filter(|(i, _)| n > 0 && i % n == k.saturating_sub(1))
            .map(|(_, p)| p.clone())
            .collect(),
    }
}

/// Inspect `paths` (after sharding) on a pool of `opts.jobs` threads. Results are
/// in input order; a failing image (unreadable, corrupt, not a disk) has an `Err`
/// with the message and does not affect the others.
pub fn batch(paths: &[PathBuf], opts: &BatchOptions) -> Vec<BatchItem> {
    use rayon::prelude::*;
    let selected = shard(paths, opts.shard);
    let run = |p: &PathBuf| BatchItem {
        path: p.clone(),
        result: inspect_image(p, &opts.image).map_err(|e| guestctl_block::chain_text(&e)),
    };
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.jobs
    };
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(|| selected.par_iter().map(run).collect()),
        // No threads available: do the work here, still correct.
        Err(_) => selected.iter().map(run).collect(),
    }
}
