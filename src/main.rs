//! The `guestctl` command line: argument parsing and dispatch to the `cmd` modules.
//!
//! Each module under `src/cmd/` owns one family of subcommands and returns the
//! process exit code; errors are `anyhow` chains printed here.

mod cmd;

/// The counting allocator (guestctl-perf) over `mimalloc`: `guestctl perf validate`
/// records the bytes allocated and the peak heap of every iteration with it.
/// Counting costs a few relaxed atomic additions per allocation (measured in
/// docs/perf-methodology.md); `mimalloc` instead of the C library's allocator nearly
/// halves a cache hit's instructions (also there).
#[global_allocator]
static ALLOC: guestctl_perf::memory::CountingAlloc<mimalloc::MiMalloc> =
    guestctl_perf::memory::CountingAlloc::new(mimalloc::MiMalloc);

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "guestctl",
    version,
    about = "Inspect VM disk images without booting them, and measure how fast."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::MockDisk(c) => cmd::mock_disk::run(c),
        Command::Perf(c) => cmd::perf::run(c),
        Command::Batch(c) => cmd::batch::run(c),
        Command::Inspect(c) => cmd::inspect::run(c),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`guestctl … | head`): nothing left to say.
        Err(e) if cmd::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
