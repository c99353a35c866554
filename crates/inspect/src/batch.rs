//! Operation 5, batch: inspect many images on a bounded pool of threads, each
//! outcome handed over as soon as it is done, one image's failure reported for
//! that image only.
//!
//! The pieces, in the order a run uses them:
//! - [`input`]: the list (arguments, or a file or stdin read one line at a time);
//! - [`shard`]: which positions of the list this worker takes;
//! - [`resume`]: which images an earlier, interrupted run already recorded;
//! - [`engine`]: the pool;
//! - [`record`] and [`output`]: one JSON line per image, one write each;
//! - [`stored`] and [`report`]: records read back, counted by distro, version and
//!   failure kind.

pub mod engine;
pub mod input;
pub mod output;
pub mod record;
pub mod report;
pub mod resume;
pub mod shard;
pub mod stored;

pub use engine::MAX_JOBS;
pub use input::{Job, ListReader};
pub use resume::Done;
pub use shard::Shard;

use crate::{ImageOptions, InspectError, Inspection};
use std::path::PathBuf;
use std::time::Duration;

/// Options of a batch run.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Worker threads; 0 means one per core. At most [`MAX_JOBS`], and never more
    /// than there are images.
    pub jobs: usize,
    /// Take only this shard of the list.
    pub shard: Option<Shard>,
    /// How each image is inspected (and whether the cache is used).
    pub image: ImageOptions,
}

/// One image's outcome.
#[derive(Debug)]
pub struct BatchItem {
    /// Position of the image in the list.
    pub index: u64,
    /// The image path as given.
    pub path: PathBuf,
    /// Its inspection, or why it failed (the error keeps its kind).
    pub result: Result<Inspection, InspectError>,
    /// Time spent on this image.
    pub duration: Duration,
}

/// What a run did besides the outcomes it handed over.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    /// Images of this shard skipped because the output already records them.
    pub skipped: u64,
}

/// The jobs of `input` this run does: those of its shard not already done.
struct Selected<'a, I> {
    input: I,
    shard: Option<Shard>,
    done: &'a Done,
    skipped: u64,
}

impl<I: Iterator<Item = Result<Job, InspectError>>> Iterator for Selected<'_, I> {
    type Item = Result<Job, InspectError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let job = match self.input.next()? {
                Ok(job) => job,
                Err(e) => return Some(Err(e)),
            };
            if self.shard.is_some_and(|s| !s.takes(job.index)) {
                continue;
            }
            match self.done.contains(&job) {
                Ok(true) => self.skipped += 1,
                Ok(false) => return Some(Ok(job)),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.input.size_hint().1)
    }
}

/// Inspect the images of `input` that `opts.shard` takes and `done` does not
/// hold, handing each outcome to `sink` as it finishes (completion order; the
/// item's `index` is its list position). Threads: `opts.jobs`, but no more than
/// there are images. Stops at the first error of the list or of the sink.
pub fn run<I, S>(
    input: I,
    opts: &BatchOptions,
    done: &Done,
    sink: S,
) -> Result<RunSummary, InspectError>
where
    I: Iterator<Item = Result<Job, InspectError>> + Send,
    S: FnMut(BatchItem) -> Result<(), InspectError>,
{
    let mut selected = Selected {
        input,
        shard: opts.shard,
        done,
        skipped: 0,
    };
    // A list of known length (arguments) gets no more threads than it has images.
    // A streamed list is not read ahead for that: a pipe that brings one path at a
    // time must get that image's record before it sends the next.
    let threads = engine::thread_count(opts.jobs)?;
    let threads = selected.size_hint().1.map_or(threads, |n| threads.min(n));
    engine::run(&mut selected, threads, &opts.image, sink)?;
    Ok(RunSummary {
        skipped: selected.skipped,
    })
}

/// Inspect `paths` (those of `opts.shard`) and return the outcomes in list order.
/// A `jobs` above [`MAX_JOBS`] is lowered to it.
pub fn batch(paths: &[PathBuf], opts: &BatchOptions) -> Vec<BatchItem> {
    let opts = BatchOptions {
        jobs: opts.jobs.min(MAX_JOBS),
        ..opts.clone()
    };
    let mut items = Vec::new();
    let collect = |item| {
        items.push(item);
        Ok(())
    };
    // Neither the list (a slice) nor the sink can fail.
    let _ = run(
        input::from_paths(paths.to_vec()),
        &opts,
        &Done::default(),
        collect,
    );
    items.sort_by_key(|i| i.index);
    items
}
