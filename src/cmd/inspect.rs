//! (being written)
use std::process::ExitCode;

/// Subcommands.
#[derive(clap::Subcommand)]
pub enum Command {}

/// Run a subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {}
}
