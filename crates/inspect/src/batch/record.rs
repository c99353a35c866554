//! One line of a batch's JSON Lines output: what happened to one image.
//!
//! ```json
//! {"schema_version":1,"index":7,"image":"/images/a.qcow2","status":"ok",
//!  "error_kind":null,"error":null,"duration_ms":1.93,
//!  "shard":{"index":0,"count":3},"host":"node-4","inspection":{…}}
//! ```
//!
//! `inspection` is the whole result (`docs/inspect-json.md`) or, with `--summary`,
//! its facts without the application list ([`InspectionSummary`]); `null` on error.

use super::{BatchItem, Shard};
use crate::types::kind_name;
use crate::{Inspection, OperatingSystem};
use serde::{Deserialize, Serialize};

/// Version of the record layout; bumped on any incompatible change.
pub const RECORD_SCHEMA_VERSION: u32 = 1;

/// Whether the image was inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Inspected; `inspection` holds the result.
    Ok,
    /// Not inspected; `error_kind` and `error` say why.
    Error,
}

/// What a record carries as its inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// The whole inspection, applications included.
    Full,
    /// The facts only ([`InspectionSummary`]).
    Summary,
}

/// One record (see the module docs).
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// [`RECORD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// 0-based position of the image in the input list.
    pub index: u64,
    /// The image path as listed.
    pub image: String,
    /// `ok` or `error`.
    pub status: Status,
    /// The error's kind (`io`, `corrupt`, `unsupported`, `not_found`, ...).
    pub error_kind: Option<&'static str>,
    /// The error message.
    pub error: Option<String>,
    /// Wall-clock time spent on this image, in milliseconds.
    pub duration_ms: f64,
    /// The shard that did the work (`null` when the list was not sharded).
    pub shard: Option<Shard>,
    /// The host that did the work.
    pub host: &'a str,
    /// The result.
    pub inspection: Option<InspectionView<'a>>,
}

/// The inspection in a record, whole or summarised.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum InspectionView<'a> {
    /// The whole inspection.
    Full(&'a Inspection),
    /// The facts only.
    Summary(InspectionSummary<'a>),
}

/// An inspection without its application list: what `--summary` writes.
#[derive(Debug, Serialize)]
pub struct InspectionSummary<'a> {
    /// Result schema version.
    pub schema_version: u32,
    /// Image format (`raw`, `qcow2`).
    pub format: &'a str,
    /// Virtual disk size in bytes.
    pub size: u64,
    /// Partition table (`gpt`, `msdos`, `none`).
    pub partition_table: &'a str,
    /// The operating systems found.
    pub operatingsystems: Vec<OsSummary<'a>>,
    /// How many problems did not stop the inspection.
    pub diagnostics: usize,
}

/// The facts of one operating system (field names as in the whole inspection).
#[derive(Debug, Serialize)]
pub struct OsSummary<'a> {
    /// Root device.
    pub root: &'a str,
    /// `linux` or `windows`.
    pub name: &'a str,
    /// Distro (`ubuntu`, `fedora`, `windows`, ...).
    pub distro: Option<&'a str>,
    /// Product name.
    pub product_name: Option<&'a str>,
    /// Major version.
    pub major_version: u32,
    /// Minor version.
    pub minor_version: u32,
    /// Architecture.
    pub arch: Option<&'a str>,
    /// Hostname.
    pub hostname: Option<&'a str>,
    /// Package format (`deb`, `rpm`, ...).
    pub package_format: Option<&'a str>,
    /// How many applications are installed (0 when not listed).
    pub applications: usize,
}

impl<'a> InspectionSummary<'a> {
    /// The facts of `ins`.
    pub fn of(ins: &'a Inspection) -> Self {
        InspectionSummary {
            schema_version: ins.schema_version,
            format: &ins.format,
            size: ins.size,
            partition_table: &ins.partition_table,
            operatingsystems: ins.operatingsystems.iter().map(OsSummary::of).collect(),
            diagnostics: ins.diagnostics.len(),
        }
    }
}

impl<'a> OsSummary<'a> {
    fn of(os: &'a OperatingSystem) -> Self {
        OsSummary {
            root: &os.root,
            name: &os.name,
            distro: os.distro.as_deref(),
            product_name: os.product_name.as_deref(),
            major_version: os.major_version,
            minor_version: os.minor_version,
            arch: os.arch.as_deref(),
            hostname: os.hostname.as_deref(),
            package_format: os.package_format.as_deref(),
            applications: os.applications.len(),
        }
    }
}

impl<'a> Record<'a> {
    /// The record of `item`, done by `host` as `shard`.
    pub fn of(item: &'a BatchItem, shard: Option<Shard>, host: &'a str, detail: Detail) -> Self {
        let (status, error_kind, error, inspection) = match &item.result {
            Ok(ins) => {
                let view = match detail {
                    Detail::Full => InspectionView::Full(ins),
                    Detail::Summary => InspectionView::Summary(InspectionSummary::of(ins)),
                };
                (Status::Ok, None, None, Some(view))
            }
            Err(e) => (
                Status::Error,
                Some(kind_name(e.kind())),
                Some(guestctl_block::chain_text(e)),
                None,
            ),
        };
        Record {
            schema_version: RECORD_SCHEMA_VERSION,
            index: item.index,
            image: item.path.display().to_string(),
            status,
            error_kind,
            error,
            duration_ms: (item.duration.as_secs_f64() * 1e6).round() / 1e3,
            shard,
            host,
            inspection,
        }
    }

    /// This record as one JSON line, newline included, ready for a single write.
    pub fn to_line(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut line = serde_json::to_vec(self)?;
        line.push(b'\n');
        Ok(line)
    }
}
