//! What a command says on stderr besides its results, warnings and errors: progress
//! bars and notes. `--no-progress` hides the bars, `--quiet` the bars and the notes;
//! both are global flags, so any command accepts them.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static NO_PROGRESS: AtomicBool = AtomicBool::new(false);

/// The global flags, accepted before or after any subcommand.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ChatterArgs {
    /// Print only results, warnings and errors: no progress bars, no notes.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    /// Never show a progress bar.
    #[arg(long, global = true)]
    no_progress: bool,
}

impl ChatterArgs {
    /// Makes these flags the process's.
    pub fn apply(self) {
        QUIET.store(self.quiet, Ordering::Relaxed);
        NO_PROGRESS.store(self.no_progress, Ordering::Relaxed);
    }
}

/// Whether a progress bar may be drawn: not asked away, and stderr is a terminal.
pub fn progress_allowed() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && !NO_PROGRESS.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
}

/// Prints `message` on stderr unless `--quiet`.
pub fn note(message: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("{message}");
    }
}
