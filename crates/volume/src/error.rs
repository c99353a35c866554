//! The volume layer's error and diagnostic types.

use guestctl_block::{chain_text, BlockError};
use std::fmt;

/// What kind of failure, stable enough to match on.
///
/// Not `#[non_exhaustive]`: the inspector maps every kind with an exhaustive
/// `match`, so a new kind is a compile error there instead of silently becoming
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The host's I/O failed.
    Io,
    /// A structure is inconsistent (bad magic, bad checksum, impossible value).
    Corrupt,
    /// Valid, but a feature guestctl does not support (e.g. RAID or thin LVs).
    Unsupported,
    /// Something lies outside the disk (a partition past the end).
    OutOfBounds,
    /// A resource limit (named constant) was exceeded.
    LimitExceeded,
    /// Something referenced does not exist (a PV named by LVM metadata).
    NotFound,
    /// Two partitions share sectors.
    Overlap,
}

impl From<guestctl_block::ErrorKind> for ErrorKind {
    fn from(k: guestctl_block::ErrorKind) -> Self {
        use guestctl_block::ErrorKind as B;
        match k {
            B::Io => ErrorKind::Io,
            B::Corrupt => ErrorKind::Corrupt,
            B::OutOfBounds => ErrorKind::OutOfBounds,
            B::LimitExceeded => ErrorKind::LimitExceeded,
            B::NotFound => ErrorKind::NotFound,
            B::Unsupported | B::BackingNotAllowed => ErrorKind::Unsupported,
        }
    }
}

/// A volume-layer error: a kind, the structure it concerns ("GPT", "sda5", "vg0/root"),
/// a message, and the block error underneath (its `source()`) if any.
#[derive(Debug, thiserror::Error)]
pub struct VolumeError {
    kind: ErrorKind,
    subject: String,
    message: String,
    #[source]
    source: Option<Box<BlockError>>,
}

impl fmt::Display for VolumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.subject.is_empty() {
            write!(f, "{}: ", self.subject)?;
        }
        f.write_str(&self.message)
    }
}

impl VolumeError {
    /// A new error about `subject`.
    pub fn new(kind: ErrorKind, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject: subject.into(),
            message: message.into(),
            source: None,
        }
    }
    /// A corrupt structure.
    pub fn corrupt(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, subject, message)
    }
    /// A resource limit exceeded.
    pub fn limit(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::LimitExceeded, subject, message)
    }
    /// A block-layer failure while reading `subject`.
    pub fn block(subject: impl Into<String>, e: BlockError) -> Self {
        Self {
            kind: e.kind().into(),
            subject: subject.into(),
            message: "read failed".into(),
            source: Some(Box::new(e)),
        }
    }
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// What the error concerns.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The message without subject or source.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// This error as a diagnostic (for the scan's report).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let message = match &self.source {
            Some(s) => format!("{}: {}", self.message, chain_text(&**s)),
            None => self.message.clone(),
        };
        Diagnostic {
            subject: self.subject.clone(),
            kind: self.kind,
            message,
        }
    }
}

/// Something wrong with one partition, table or volume that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What it concerns: "MBR", "GPT", "sda5", "vg0/root", "LVM sda2".
    pub subject: String,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What is wrong, for a human.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

impl From<VolumeError> for Diagnostic {
    fn from(e: VolumeError) -> Self {
        e.to_diagnostic()
    }
}
