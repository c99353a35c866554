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
///
/// `Display` says the subject and message only; the cause is the `source()`, so a
/// chain printer (`anyhow`'s `{:#}`, [`guestctl_block::chain_text`]) says each part
/// once.
#[derive(Debug, thiserror::Error)]
pub struct InspectError {
    kind: ErrorKind,
    subject: String,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.subject.is_empty(), self.message.is_empty()) {
            (false, false) => write!(f, "{}: {}", self.subject, self.message),
            (false, true) => f.write_str(&self.subject),
            (true, _) => f.write_str(&self.message),
        }
    }
}

impl InspectError {
    /// A new error of `kind` about `subject`.
    pub fn new(kind: ErrorKind, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            subject: subject.into(),
            message: message.into(),
            source: None,
        }
    }
    /// Attach the lower-layer cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
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

    /// A filesystem error about `path` as the guest sees it. The error's own path
    /// (relative to its filesystem) gives way to `path`; its message and cause stay.
    pub(crate) fn from_fs(e: guestctl_fs::FsError, path: &str) -> Self {
        Self {
            kind: e.kind.into(),
            subject: path.to_string(),
            message: e.message,
            source: e.source,
        }
    }

    /// A block-layer error opening `image`: the block error, which never names the
    /// file it was asked to open, is the cause.
    pub(crate) fn from_block(e: guestctl_block::BlockError, image: &str) -> Self {
        Self::new(e.kind().into(), image, "").with_source(e)
    }
}

impl From<guestctl_block::ErrorKind> for ErrorKind {
    fn from(k: guestctl_block::ErrorKind) -> Self {
        use guestctl_block::ErrorKind as B;
        match k {
            B::Io => ErrorKind::Io,
            B::Corrupt | B::OutOfBounds => ErrorKind::Corrupt,
            B::Unsupported | B::BackingNotAllowed => ErrorKind::Unsupported,
            B::LimitExceeded => ErrorKind::LimitExceeded,
            B::NotFound => ErrorKind::NotFound,
        }
    }
}

impl From<guestctl_fs::FsErrorKind> for ErrorKind {
    fn from(k: guestctl_fs::FsErrorKind) -> Self {
        use guestctl_fs::FsErrorKind as F;
        match k {
            F::NotFound => ErrorKind::NotFound,
            F::WrongType => ErrorKind::WrongType,
            F::Io => ErrorKind::Io,
            F::Corrupt => ErrorKind::Corrupt,
            F::Unsupported => ErrorKind::Unsupported,
            F::LimitExceeded => ErrorKind::LimitExceeded,
            F::InvalidPath => ErrorKind::InvalidPath,
        }
    }
}

impl From<guestctl_hive::HiveErrorKind> for ErrorKind {
    fn from(k: guestctl_hive::HiveErrorKind) -> Self {
        use guestctl_hive::HiveErrorKind as H;
        match k {
            H::Corrupt => ErrorKind::Corrupt,
            H::Unsupported => ErrorKind::Unsupported,
            H::LimitExceeded => ErrorKind::LimitExceeded,
        }
    }
}

impl From<guestctl_pkgdb::PkgErrorKind> for ErrorKind {
    fn from(k: guestctl_pkgdb::PkgErrorKind) -> Self {
        use guestctl_pkgdb::PkgErrorKind as P;
        match k {
            P::Corrupt => ErrorKind::Corrupt,
            P::Unsupported => ErrorKind::Unsupported,
            P::LimitExceeded => ErrorKind::LimitExceeded,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// The image is named by the inspect layer, the header problem by the block
    /// layer, the host error by the block error's source: each once, in order.
    #[test]
    fn each_layer_says_its_own_part_and_the_chain_says_each_once() {
        let io = std::io::Error::other("disk on fire");
        let block = guestctl_block::BlockError::new(guestctl_block::ErrorKind::Io, "cannot open")
            .with_source(io);
        let e = InspectError::from_block(block, "vm.img");
        assert_eq!(e.to_string(), "vm.img");
        assert_eq!(e.kind(), ErrorKind::Io);
        let cause = e.source().unwrap();
        assert_eq!(cause.to_string(), "cannot open");
        assert_eq!(cause.source().unwrap().to_string(), "disk on fire");
        assert_eq!(
            guestctl_block::chain_text(&e),
            "vm.img: cannot open: disk on fire"
        );
    }

    /// A filesystem error takes the guest's path instead of its own; its cause
    /// stays the source.
    #[test]
    fn a_filesystem_error_is_named_by_the_guest_path_once() {
        let mut fs = guestctl_fs::FsError::new(guestctl_fs::FsErrorKind::InvalidPath, "/x", "bad");
        fs.source = Some(Box::new(std::io::Error::other("under")));
        let e = InspectError::from_fs(fs, "/boot/x");
        assert_eq!(e.kind(), ErrorKind::InvalidPath);
        assert_eq!(guestctl_block::chain_text(&e), "/boot/x: bad: under");
    }
}
