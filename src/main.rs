//! The `guestctl` command line: argument parsing and dispatch to the `cmd` modules.
//!
//! Each module under `src/cmd/` owns one family of subcommands and returns the
//! process exit code; errors are `anyhow` chains printed here.

mod build_info;
mod cmd;

/// The counting allocator (guestctl-perf) over `mimalloc`: `guestctl perf validate`
/// records the bytes allocated and the peak heap of every iteration with it.
/// Counting costs a few relaxed atomic additions per allocation (measured in
/// docs/perf-methodology.md); `mimalloc` instead of the C library's allocator nearly
/// halves a cache hit's instructions (also there).
#[global_allocator]
static ALLOC: guestctl_perf::memory::CountingAlloc<mimalloc::MiMalloc> =
    guestctl_perf::memory::CountingAlloc::new(mimalloc::MiMalloc);

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "guestctl",
    version = build_info::long_version(),
    about = "Inspect VM disk images without booting them, and measure how fast."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    chatter: cmd::chatter::ChatterArgs,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Generate real mock VM disk images for tests and benchmarks.
    #[command(name = "mock-disk", subcommand)]
    MockDisk(cmd::mock_disk::Command),
    /// The performance validation framework.
    #[command(subcommand)]
    Perf(cmd::perf::Command),
    /// Inspect many disk images, one JSON record per image as each is done
    /// (resumable, shardable); `batch report` counts the records.
    Batch(cmd::batch::Args),
    #[command(flatten)]
    Inspect(cmd::inspect::Command),
    /// Print a shell completion script (bash, zsh or fish) on stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: cmd::completions::Shell,
    },
    /// Write one man page per command and subcommand into DIR.
    #[command(hide = true)]
    Man {
        /// The directory to write the pages into (created if missing).
        dir: std::path::PathBuf,
    },
}

/// Exit status of a usage error (an unknown flag, a bad value): 1, like any other
/// error. Clap's own 2 would read as "a regression was detected" to every script
/// that calls `perf validate`.
const EXIT_USAGE: u8 = 1;

/// Parses the command line; `--help` and `--version` print and exit 0, a usage error
/// prints clap's message and exits [`EXIT_USAGE`].
fn parse_cli() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        // Printing can only fail when the terminal is gone: nothing left to tell.
        let _ = e.print();
        if e.use_stderr() {
            ExitCode::from(EXIT_USAGE)
        } else {
            ExitCode::SUCCESS
        }
    })
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    guestctl_perf::fingerprint::set_git_commit(build_info::git_commit());
    cli.chatter.apply();
    let result = match cli.command {
        Command::MockDisk(c) => cmd::mock_disk::run(c),
        Command::Perf(c) => cmd::perf::run(c),
        Command::Batch(c) => cmd::batch::run(c),
        Command::Inspect(c) => cmd::inspect::run(c),
        Command::Completions { shell } => cmd::completions::run(shell, Cli::command()),
        Command::Man { dir } => cmd::man::run(&dir, Cli::command()),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`guestctl … | head`): nothing left to say.
        Err(e) if cmd::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cmd::escape::shown(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}
