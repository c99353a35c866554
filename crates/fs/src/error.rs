//! The error type of every driver: a small kind to match on, the path concerned,
//! a message and the cause.

use std::fmt;

/// What kind of filesystem failure.
///
/// Not `#[non_exhaustive]`: the inspector maps every kind with an exhaustive
/// `match`, so a new kind is a compile error there instead of silently becoming
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsErrorKind {
    /// No such file or directory.
    NotFound,
    /// A directory was expected, or a file, and the other was found.
    WrongType,
    /// The underlying device failed.
    Io,
    /// The filesystem's structures are inconsistent.
    Corrupt,
    /// Valid but unsupported by this driver.
    Unsupported,
    /// A named resource limit was exceeded (file too large, too many entries).
    LimitExceeded,
    /// The path itself is malformed (not absolute, NUL byte).
    InvalidPath,
}

/// A filesystem error: kind, path and message, with the lower-level cause as its
/// `source()`.
#[derive(Debug, thiserror::Error)]
pub struct FsError {
    /// The kind.
    pub kind: FsErrorKind,
    /// The path concerned.
    pub path: String,
    /// What went wrong.
    pub message: String,
    /// The cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl FsError {
    /// A new error.
    pub fn new(kind: FsErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
            message: message.into(),
            source: None,
        }
    }
    /// `path` does not exist.
    pub fn not_found(path: impl Into<String>) -> Self {
        Self::new(FsErrorKind::NotFound, path, "no such file or directory")
    }
    /// The kind of failure.
    pub fn kind(&self) -> FsErrorKind {
        self.kind
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl From<guestctl_block::ErrorKind> for FsErrorKind {
    /// A read of the device failed: structures pointing outside it are corrupt; a
    /// missing or refused backing file is the device failing, not a missing path.
    fn from(k: guestctl_block::ErrorKind) -> Self {
        use guestctl_block::ErrorKind as B;
        match k {
            B::Io | B::NotFound | B::BackingNotAllowed => FsErrorKind::Io,
            B::Corrupt | B::OutOfBounds => FsErrorKind::Corrupt,
            B::Unsupported => FsErrorKind::Unsupported,
            B::LimitExceeded => FsErrorKind::LimitExceeded,
        }
    }
}
