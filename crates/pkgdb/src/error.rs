//! Error type of the package database parsers.

use crate::rpm::RpmHeaderError;
use crate::PackageFormat;

/// What went wrong, in one word (whose fault it is).
///
/// Not `#[non_exhaustive]`: the inspector maps every kind with an exhaustive
/// `match`, so a new kind is a compile error there instead of silently becoming
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkgErrorKind {
    /// The database is malformed.
    Corrupt,
    /// The database is valid but in a format this crate does not read.
    Unsupported,
    /// A size or count exceeded one of this crate's limits.
    LimitExceeded,
}

/// An error parsing a package database.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum PkgError {
    /// A line or record could not be parsed.
    #[error("{format} database, line {line}: {reason}")]
    Syntax {
        /// Database format.
        format: PackageFormat,
        /// 1-based line number (0 when not line oriented).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A required field is missing from a record.
    #[error("{format} database, record at line {line}: missing field {field}")]
    MissingField {
        /// Database format.
        format: PackageFormat,
        /// 1-based line where the record starts.
        line: usize,
        /// Name of the missing field.
        field: &'static str,
    },
    /// A limit of this crate was exceeded.
    #[error("{what}: {actual} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The value found (or a lower bound of it).
        actual: u64,
    },
    /// An RPM header blob is malformed.
    #[error("rpm header: {0}")]
    RpmHeader(#[from] RpmHeaderError),
    /// The rpm sqlite database could not be read.
    #[error("rpm database: {reason}")]
    Database {
        /// What went wrong.
        reason: String,
        /// The sqlite error, if any.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// A valid database in a format this crate does not read.
    #[error("unsupported package database: {0}")]
    Unsupported(&'static str),
}

impl PkgError {
    /// The broad kind of this error.
    pub fn kind(&self) -> PkgErrorKind {
        match self {
            PkgError::Syntax { .. }
            | PkgError::MissingField { .. }
            | PkgError::RpmHeader(_)
            | PkgError::Database { .. } => PkgErrorKind::Corrupt,
            PkgError::LimitExceeded { .. } => PkgErrorKind::LimitExceeded,
            PkgError::Unsupported(_) => PkgErrorKind::Unsupported,
        }
    }
}

pub(crate) fn limit(what: &'static str, limit: usize, actual: usize) -> PkgError {
    PkgError::LimitExceeded {
        what,
        limit: u64::try_from(limit).unwrap_or(u64::MAX),
        actual: u64::try_from(actual).unwrap_or(u64::MAX),
    }
}
