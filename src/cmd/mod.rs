//! Subcommand families, one module each.

pub mod inspect;
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

/// Whether `e` is, somewhere in its chain, a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
