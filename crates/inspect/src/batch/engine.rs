//! The worker pool: a fixed number of threads take the next job from a shared
//! iterator, inspect it, and hand the outcome to the caller's sink on the calling
//! thread as soon as it is done. Memory is the pool's: the list is pulled one job
//! at a time and an outcome is dropped once the sink has it.

use super::input::Job;
use super::BatchItem;
use crate::{inspect_image, ErrorKind, ImageOptions, InspectError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

/// Most worker threads a batch runs. Inspection is CPU- and I/O-bound, so more
/// threads than cores rarely help, and each costs a stack; past this a typo
/// (`-j 5000`) would only waste memory.
pub const MAX_JOBS: usize = 256;

/// The number of threads for `requested` (`0`: one per core), checked.
pub fn thread_count(requested: usize) -> Result<usize, InspectError> {
    if requested > MAX_JOBS {
        return Err(InspectError::new(
            ErrorKind::InvalidInput,
            format!("--jobs {requested}"),
            format!(
                "at most {MAX_JOBS} worker threads (inspection is bound by the cores and \
                 the disk: one per core, the default, is usually fastest)"
            ),
        ));
    }
    Ok(if requested == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        requested
    })
}

enum Message {
    Item(BatchItem),
    Fatal(InspectError),
}

fn inspect(job: Job, opts: &ImageOptions) -> BatchItem {
    let start = Instant::now();
    let result = inspect_image(&job.path, opts);
    BatchItem {
        index: job.index,
        path: job.path,
        result,
        duration: start.elapsed(),
    }
}

fn worker<I>(
    source: &Mutex<I>,
    stop: &AtomicBool,
    out: mpsc::SyncSender<Message>,
    opts: &ImageOptions,
) where
    I: Iterator<Item = Result<Job, InspectError>>,
{
    while !stop.load(Ordering::Relaxed) {
        let next = match source.lock() {
            Ok(mut jobs) => jobs.next(),
            Err(_) => return, // another worker panicked; the scope re-raises it
        };
        let message = match next {
            None => return,
            Some(Ok(job)) => Message::Item(inspect(job, opts)),
            Some(Err(e)) => Message::Fatal(e),
        };
        if out.send(message).is_err() {
            return;
        }
    }
}

/// Inspect every job of `jobs` on `threads` threads, passing each outcome to
/// `sink` as it finishes (in completion order). Stops at the first error of the
/// list (`jobs` yielding `Err`) or of the sink, and returns it.
pub fn run<I, S>(
    jobs: &mut I,
    threads: usize,
    opts: &ImageOptions,
    mut sink: S,
) -> Result<(), InspectError>
where
    I: Iterator<Item = Result<Job, InspectError>> + Send,
    S: FnMut(BatchItem) -> Result<(), InspectError>,
{
    let threads = threads.max(1);
    let source = Mutex::new(jobs);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(threads * 2);
        for _ in 0..threads {
            let tx = tx.clone();
            let (source, stop) = (&source, &stop);
            scope.spawn(move || worker(source, stop, tx, opts));
        }
        drop(tx);
        let mut failure = None;
        for message in rx.iter() {
            let r = match message {
                Message::Item(item) => sink(item),
                Message::Fatal(e) => Err(e),
            };
            if let Err(e) = r {
                failure = Some(e);
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        // Workers blocked on a full channel see it closed and end.
        drop(rx);
        failure.map_or(Ok(()), Err)
    })
}
