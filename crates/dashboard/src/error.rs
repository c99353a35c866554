//! The one error type of this crate: a small kind plus context (the file, the test).

use std::path::{Path, PathBuf};

/// What went wrong, coarsely; the [`DashboardError`] carries the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A caller mistake (an empty test name, an unusable argument).
    InvalidArgument,
    /// Reading or writing a file failed.
    Io,
    /// Nothing matched (no such baseline in the history).
    NotFound,
    /// A record could not be serialised (e.g. a non-finite number).
    Serialize,
    /// The statistics could not be computed.
    Stats,
    /// Drawing a chart failed.
    Chart,
    /// The profiler could not be started or its report built.
    Profiler,
}

/// An error of the dashboard crate, with a message naming the file or test.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DashboardError {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DashboardError {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DashboardError {
            kind,
            message: message.into(),
            path: None,
            source: None,
        }
    }

    /// An I/O error on `path` while doing `what` ("appending to", "reading", ...).
    pub fn io(what: &str, path: &Path, err: std::io::Error) -> Self {
        DashboardError {
            kind: ErrorKind::Io,
            message: format!("{what} {}: {err}", path.display()),
            path: Some(path.to_path_buf()),
            source: Some(Box::new(err)),
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Attaches the file this error is about.
    pub fn with_path(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
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

impl From<guestctl_stats::StatsError> for DashboardError {
    fn from(e: guestctl_stats::StatsError) -> Self {
        DashboardError::new(ErrorKind::Stats, format!("statistics: {e}")).with_source(e)
    }
}

/// Result of this crate.
pub type Result<T, E = DashboardError> = std::result::Result<T, E>;
