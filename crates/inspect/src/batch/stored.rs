//! Records read back from a batch output file (by `--resume` and `batch report`):
//! only the fields those need; the rest of each line is skipped.

use super::record::Status;
use serde::Deserialize;

/// The head of a record: enough to know which image it was and how it went.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredRecord {
    /// Record layout version.
    pub schema_version: u32,
    /// Position of the image in its list.
    pub index: u64,
    /// The image path.
    pub image: String,
    /// `ok` or `error`.
    pub status: Status,
    /// The error's kind, on error.
    #[serde(default)]
    pub error_kind: Option<String>,
    /// The inspection (whole or summary), reduced to what a report counts.
    #[serde(default)]
    pub inspection: Option<StoredInspection>,
}

/// The part of an inspection a report counts.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredInspection {
    /// The operating systems found.
    #[serde(default)]
    pub operatingsystems: Vec<StoredOs>,
}

/// The part of an operating system a report counts.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredOs {
    /// Distro, if known.
    #[serde(default)]
    pub distro: Option<String>,
    /// Major version.
    #[serde(default)]
    pub major_version: u32,
    /// Minor version.
    #[serde(default)]
    pub minor_version: u32,
}

impl StoredRecord {
    /// Parse one line (without its newline); `None` if it is not a record.
    pub fn parse(line: &[u8]) -> Option<StoredRecord> {
        serde_json::from_slice(line).ok()
    }
}
