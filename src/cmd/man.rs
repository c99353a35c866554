//! `guestctl man DIR` (hidden): one man page per command and subcommand
//! (`guestctl.1`, `guestctl-inspect.1`, `guestctl-perf-validate.1`, …), generated
//! from the command-line definition by `clap_mangen`.
//!
//! Packagers run it at build time, e.g. `guestctl man /usr/share/man/man1`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cmd::write_stdout;

/// Writes the man pages of the command line `cli` into `dir` (created if missing)
/// and names them on stdout.
pub fn run(dir: &Path, cli: clap::Command) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(cli, dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("guestctl") && n.ends_with(".1"))
        .collect();
    pages.sort();
    let text = format!(
        "wrote {} man pages into {}: {}\n",
        pages.len(),
        dir.display(),
        pages.join(" ")
    );
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
