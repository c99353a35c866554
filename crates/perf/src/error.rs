//! The one error type of this crate: a small kind plus context (the file and the way out).

use std::path::{Path, PathBuf};

/// What went wrong, coarsely; the [`PerfError`] carries the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A caller mistake: zero iterations, an empty name, a bad threshold.
    InvalidArgument,
    /// Reading or writing a file failed.
    Io,
    /// A results or targets file does not exist.
    NotFound,
    /// A results or targets file exists but cannot be used (truncated, not JSON,
    /// wrong schema, wrong `schema_version`).
    Corrupt,
    /// The statistics could not be computed (see the message).
    Stats,
    /// A measured operation or command failed.
    Operation,
}

/// An error of the performance framework, with a message that names the file and
/// says how to get out of the situation where one exists.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PerfError {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl PerfError {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PerfError {
            kind,
            message: message.into(),
            path: None,
            source: None,
        }
    }

    /// An [`ErrorKind::InvalidArgument`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// An [`ErrorKind::Operation`] error: a measured operation failed.
    pub fn operation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Operation, message)
    }

    /// An I/O error on `path` while doing `what` ("writing", "locking", ...).
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        PerfError {
            kind: if err.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::NotFound
            } else {
                ErrorKind::Io
            },
            message: format!("{what} {}: {err}", path.display()),
            path: Some(path.to_path_buf()),
            // The message already carries the I/O error's text; a source would
            // print it twice in `{:#}` chains.
            source: None,
        }
    }

    /// Attaches the file this error is about.
    pub fn with_path(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// Attaches the underlying cause (only when the message does not already
    /// include its text, or chains print it twice).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Prefixes the message with `test NAME: ` (keeps kind, path and source).
    pub fn with_context(mut self, test: &str) -> Self {
        self.message = format!("test {test}: {}", self.message);
        self
    }

    /// The coarse kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file this error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl From<guestctl_stats::StatsError> for PerfError {
    fn from(e: guestctl_stats::StatsError) -> Self {
        PerfError::new(ErrorKind::Stats, format!("statistics: {e}"))
    }
}
