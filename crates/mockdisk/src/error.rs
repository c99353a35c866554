//! The generator's error type.

use std::path::PathBuf;

/// Why a mock disk could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockDiskError {
    /// The caller asked for something that does not exist or cannot work.
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// The content does not fit the requested size.
    #[error(
        "the content does not fit: {what} needs at least {needed} bytes but the disk has \
         {available}; choose a larger disk type or fewer files/packages"
    )]
    DoesNotFit {
        /// What did not fit.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A system tool the generator needs is not installed.
    #[error(
        "`{tool}` was not found on PATH; install the Debian package `{package}` (apt-get install \
         {package})"
    )]
    MissingTool {
        /// The program.
        tool: String,
        /// The Debian package that provides it.
        package: String,
    },
    /// A system tool ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    ToolFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Host I/O failed.
    // The cause is in the message, not also a `source`: the CLI prints the whole
    // chain and would say it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// Building the package database failed.
    #[error("package database: {0}")]
    PackageDb(String),
}

impl MockDiskError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error: source,
        }
    }
}
