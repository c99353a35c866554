//! Subcommand families, one module each.
//!
//! Everything a command prints on stdout goes through [`write_stdout`] (or
//! [`write_stdout_keep_status`]), never `println!`: a reader that goes away early
//! (`guestctl … | head -1`) makes a write fail with `BrokenPipe`, which `main` ends
//! quietly, where `println!` would panic with "failed printing to stdout".

pub mod batch;
pub mod bench;
pub mod chatter;
pub mod columns;
pub mod completions;
pub mod escape;
pub mod inspect;
pub mod man;
pub mod mock_disk;
pub mod perf;

use std::io::Write as _;

/// Writes `bytes` to stdout and flushes. A closed pipe (`guestctl … | head`) is an
/// error of kind `BrokenPipe`, which `main` ends quietly instead of panicking as
/// `println!` would.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// [`write_stdout`] for commands whose exit status is a verdict (`perf validate`:
/// 2 on a regression; `batch`: 1 when an image failed): a closed pipe is not an
/// error, so the command still ends with its own status rather than `main`'s quiet 0.
pub fn write_stdout_keep_status(bytes: &[u8]) -> anyhow::Result<()> {
    match write_stdout(bytes) {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        r => r,
    }
}

/// Whether `e` is, somewhere in its chain, a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_recognised_through_context() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let e = anyhow::Error::from(io).context("writing to stdout");
        assert!(is_broken_pipe(&e));
        let other = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(!is_broken_pipe(&other));
    }
}
