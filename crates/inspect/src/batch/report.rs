//! `guestctl batch report`: the records of one or more output files (the shards of
//! a run) counted by distro, by version and by failure kind, reading one line at a
//! time.

use super::record::Status;
use super::stored::{StoredOs, StoredRecord};
use crate::cache::hash64;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

/// Version of the report's JSON layout.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Counts over batch records.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Records read.
    pub records: u64,
    /// Records with status `ok`.
    pub ok: u64,
    /// Records with status `error`.
    pub failed: u64,
    /// Records of an image already seen in an earlier record (0 for the merged
    /// shards of a run, resumed or not).
    pub duplicates: u64,
    /// Lines that are not records (a torn last line of a killed run not resumed).
    pub unparseable_lines: u64,
    /// Operating systems per distro (`(no OS)` for an image without one).
    pub by_distro: BTreeMap<String, u64>,
    /// Operating systems per distro and version (`ubuntu 22.04`).
    pub by_version: BTreeMap<String, u64>,
    /// Failed images per error kind.
    pub by_failure_kind: BTreeMap<String, u64>,
    /// Hashes of the images seen, to count duplicates.
    #[serde(skip)]
    seen: HashSet<u64>,
}

/// What an operating system counts as when its distro is unknown.
const UNKNOWN: &str = "(unknown)";

fn version_key(os: &StoredOs) -> String {
    format!(
        "{} {}.{}",
        os.distro.as_deref().unwrap_or(UNKNOWN),
        os.major_version,
        os.minor_version
    )
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            ..Report::default()
        }
    }

    /// Count every line of `reader`.
    pub fn read(&mut self, reader: impl BufRead) -> std::io::Result<()> {
        for line in reader.split(b'\n') {
            self.add_line(&line?);
        }
        Ok(())
    }

    /// Count one line (without its newline).
    pub fn add_line(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match StoredRecord::parse(line) {
            Some(rec) => self.add(&rec),
            None => self.unparseable_lines += 1,
        }
    }

    /// Count one record.
    pub fn add(&mut self, rec: &StoredRecord) {
        self.records += 1;
        if !self.seen.insert(hash64(rec.image.as_bytes(), 0)) {
            self.duplicates += 1;
        }
        match rec.status {
            Status::Ok => {
                self.ok += 1;
                let oses = rec
                    .inspection
                    .as_ref()
                    .map(|i| i.operatingsystems.as_slice())
                    .unwrap_or_default();
                if oses.is_empty() {
                    *self.by_distro.entry("(no OS)".into()).or_default() += 1;
                }
                for os in oses {
                    let distro = os.distro.as_deref().unwrap_or(UNKNOWN).to_string();
                    *self.by_distro.entry(distro).or_default() += 1;
                    *self.by_version.entry(version_key(os)).or_default() += 1;
                }
            }
            Status::Error => {
                self.failed += 1;
                let kind = rec.error_kind.as_deref().unwrap_or(UNKNOWN).to_string();
                *self.by_failure_kind.entry(kind).or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OK_UBUNTU: &str = r#"{"schema_version":1,"index":0,"image":"/a","status":"ok","error_kind":null,"error":null,"duration_ms":1.0,"shard":null,"host":"h","inspection":{"operatingsystems":[{"distro":"ubuntu","major_version":22,"minor_version":4}]}}"#;
    const FAILED: &str = r#"{"schema_version":1,"index":1,"image":"/b","status":"error","error_kind":"corrupt","error":"bad","duration_ms":1.0,"shard":null,"host":"h","inspection":null}"#;

    #[test]
    fn records_are_counted_by_distro_version_and_failure_kind() {
        let text = format!("{OK_UBUNTU}\n{FAILED}\n{OK_UBUNTU}\n{{\"schema_vers");
        let mut r = Report::new();
        r.read(text.as_bytes()).unwrap();
        assert_eq!((r.records, r.ok, r.failed), (3, 2, 1));
        assert_eq!((r.duplicates, r.unparseable_lines), (1, 1));
        assert_eq!(r.by_distro["ubuntu"], 2);
        assert_eq!(r.by_version["ubuntu 22.4"], 2);
        assert_eq!(r.by_failure_kind["corrupt"], 1);
    }
}
