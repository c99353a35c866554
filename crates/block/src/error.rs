//! The block layer's error type, and [`chain_text`], which renders any error with
//! its causes.
//!
//! Errors in guestctl form a chain: each layer's `Display` says only its own part
//! (what it was doing, on which device, volume or path) and returns the error
//! underneath from `source()`. Whoever prints an error prints the chain once
//! (`anyhow`'s `{:#}` in the binary, [`chain_text`] where a library keeps text).

use std::fmt;

/// What kind of failure, stable enough to match on.
///
/// Not `#[non_exhaustive]`: the layers above map every kind to one of theirs with
/// an exhaustive `match`, so a new kind is a compile error there instead of
/// silently becoming another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The host's I/O failed.
    Io,
    /// The image's structures are inconsistent.
    Corrupt,
    /// Valid, but a feature guestctl does not support.
    Unsupported,
    /// A read outside the device.
    OutOfBounds,
    /// A resource limit (named constant) was exceeded.
    LimitExceeded,
    /// A file or structure that should exist does not.
    NotFound,
    /// The image names a backing file and the caller did not allow backing files
    /// (`--allow-backing`).
    BackingNotAllowed,
}

/// A block-layer error: a kind, an optional offset, context and a source. `Display`
/// shows the context, message and offset; the cause is the `source()`.
#[derive(Debug, thiserror::Error)]
pub struct BlockError {
    kind: ErrorKind,
    offset: Option<u64>,
    context: Vec<String>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.context.iter().rev() {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(o) = self.offset {
            write!(f, " (at offset {o})")?;
        }
        Ok(())
    }
}

/// `e` and each of its causes, joined by `": "`: the text of a whole error chain,
/// for places that keep an error as text (diagnostics, batch lines).
pub fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl BlockError {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            offset: None,
            context: Vec::new(),
            message: message.into(),
            source: None,
        }
    }
    /// An I/O error from the host.
    pub fn io(e: std::io::Error) -> Self {
        let mut err = Self::new(ErrorKind::Io, "I/O error");
        err.source = Some(Box::new(e));
        err
    }
    /// A read of `offset` outside a device of `size` bytes.
    pub fn out_of_bounds(offset: u64, size: u64) -> Self {
        Self::new(
            ErrorKind::OutOfBounds,
            format!("read outside the device of {size} bytes"),
        )
        .with_offset(offset)
    }
    /// A corrupt structure.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }
    /// An unsupported feature.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    /// A resource limit was exceeded.
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::LimitExceeded, message)
    }
    /// Attach a source error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// Attach the offset.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
    /// Add context (outermost last).
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context.push(context.into());
        self
    }
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message without context, offset or source.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The offset, where known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_is_its_own_part_and_the_cause_is_the_source() {
        let e = BlockError::io(std::io::Error::other("gone"))
            .with_offset(512)
            .with_context("a.img");
        assert_eq!(e.to_string(), "a.img: I/O error (at offset 512)");
        assert_eq!(e.source().unwrap().to_string(), "gone");
        assert_eq!(chain_text(&e), "a.img: I/O error (at offset 512): gone");
    }
}
