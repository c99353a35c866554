//! The inspection layer's error type.

use std::fmt;

/// What kind of failure, stable enough to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host's I/O failed (the image file, the cache directory).
    Io,
    /// The image's structures are inconsistent.
    Corrupt,
    /// Valid, but something guestctl does not support.
    Unsupported,
    /// A file or directory does not exist (in the guest or on the host).
    NotFound,
    /// A named resource limit was exceeded (file size, path depth, entries).
    LimitExceeded,
    /// Too many levels of symbolic links (ELOOP): a symlink loop in the guest.
    SymlinkLoop,
    /// A directory was expected and something else was found, or the reverse.
    WrongType,
    /// The path is malformed.
    InvalidPath,
    /// The caller's input is invalid (bad shard, unknown device name).
    InvalidInput,
}

impl ErrorKind {
    /// The kind's stable snake_case name (`io`, `corrupt`, `not_found`, ...), as
    /// diagnostics and batch records spell it.
    pub fn name(self) -> &'static str {
        crate::types::kind_name(self)
    }
}

/// An inspection error: a kind, what it concerns (an image, a device, a guest path),
/// a message and the lower-layer cause.
#[derive(Debug, thiserror::Error)]
pub struct InspectError {
    kind: ErrorKind,
    subject: String,
    message: String,
    /// The cause. Shown by `Display` (so a diagnostic or a batch line, which keep
    /// only the text, still say it), and for that reason not returned by
    /// `Error::source`: a chain printer (anyhow's `{:#}`) would print it twice.
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.subject.is_empty() {
            write!(f, "{}: ", self.subject)?;
        }
        f.write_str(&self.message)?;
        if let Some(s) = &self.cause {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl InspectError {
    /// A new error of `kind` about `subject`.
    pub fn new(kind: ErrorKind, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject: subject.into(),
            message: message.into(),
            cause: None,
        }
    }
    /// Attach the lower-layer cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Box::new(source));
        self
    }
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// What the error concerns.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    pub(crate) fn from_fs(e: guestctl_fs::FsError, path: &str) -> Self {
        use guestctl_fs::FsErrorKind as F;
        let kind = match e.kind {
            F::NotFound => ErrorKind::NotFound,
            F::WrongType => ErrorKind::WrongType,
            F::Io => ErrorKind::Io,
            F::Corrupt => ErrorKind::Corrupt,
            F::Unsupported => ErrorKind::Unsupported,
            F::LimitExceeded => ErrorKind::LimitExceeded,
            _ => ErrorKind::InvalidPath,
        };
        let message = e.message.clone();
        Self {
            kind,
            subject: path.to_string(),
            message,
            cause: e.source,
        }
    }

    pub(crate) fn from_block(e: guestctl_block::BlockError, subject: &str) -> Self {
        use guestctl_block::ErrorKind as B;
        let kind = match e.kind() {
            B::Io => ErrorKind::Io,
            B::Corrupt | B::OutOfBounds => ErrorKind::Corrupt,
            B::LimitExceeded => ErrorKind::LimitExceeded,
            B::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Unsupported,
        };
        let message = e.to_string();
        // Block errors about a file already start with its path (its context).
        let named = message
            .strip_prefix(subject)
            .is_some_and(|rest| rest.starts_with(':'));
        Self {
            kind,
            subject: if named {
                String::new()
            } else {
                subject.to_string()
            },
            message,
            cause: None,
        }
    }
}
