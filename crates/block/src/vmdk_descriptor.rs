//! The VMDK text descriptor: which extent files hold the disk, in order.
//!
//! ```text
//! # Disk DescriptorFile
//! version=1
//! CID=fffffffe
//! parentCID=ffffffff
//! createType="twoGbMaxExtentFlat"
//! RW 4192256 FLAT "disk-f001.vmdk" 0
//! RW 2048 ZERO
//! ```
//!
//! Only what reading needs is kept: the extents (access, length in sectors, type, file
//! name, offset in sectors) and whether the disk is a snapshot over a parent.

use crate::BlockError;

/// Largest descriptor file read (64 KiB; qemu-img writes under 1 KiB, VMware a few).
pub const VMDK_MAX_DESCRIPTOR_LEN: u64 = 64 * 1024;
/// Most extents in one descriptor (a 2 TiB twoGbMaxExtent* disk has 1 024).
pub const VMDK_MAX_EXTENTS: usize = 4096;

/// `parentCID` of a disk without a parent.
const NO_PARENT: &str = "ffffffff";

/// How an extent stores its sectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExtentKind {
    /// Sectors as they are, in a file from an offset (FLAT, VMFS).
    Flat,
    /// A hosted sparse extent file (SPARSE).
    Sparse,
    /// Zeros, no file (ZERO).
    Zero,
}

/// One extent line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extent {
    pub(crate) kind: ExtentKind,
    pub(crate) sectors: u64,
    pub(crate) file: Option<String>,
    pub(crate) offset_sectors: u64,
}

/// A parsed descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descriptor {
    pub(crate) extents: Vec<Extent>,
}

fn unquote(v: &str) -> &str {
    v.trim().trim_matches('"')
}

/// The kind of an extent type word, or an error naming what is not supported.
fn kind_of(word: &str) -> Result<ExtentKind, BlockError> {
    match word {
        "FLAT" | "VMFS" => Ok(ExtentKind::Flat),
        "SPARSE" => Ok(ExtentKind::Sparse),
        "ZERO" => Ok(ExtentKind::Zero),
        other => Err(BlockError::unsupported(format!(
            "VMDK extent type {other} (guestctl reads FLAT, VMFS, SPARSE and ZERO extents)"
        ))),
    }
}

/// `RW 2048 FLAT "name with spaces.vmdk" 0` → an extent.
fn parse_extent(line: &str) -> Result<Extent, BlockError> {
    let bad = || BlockError::corrupt(format!("bad VMDK extent line {line:?}"));
    let mut words = line.splitn(4, char::is_whitespace);
    let access = words.next().ok_or_else(bad)?;
    if access == "NOACCESS" {
        return Err(BlockError::unsupported("VMDK extent with NOACCESS"));
    }
    let sectors = words.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let kind = kind_of(words.next().ok_or_else(bad)?)?;
    let rest = words.next().unwrap_or("").trim();
    let (file, tail) = match rest.strip_prefix('"') {
        Some(r) => {
            let end = r.find('"').ok_or_else(bad)?;
            (
                Some(r.get(..end).ok_or_else(bad)?.to_string()),
                r.get(end + 1..).unwrap_or(""),
            )
        }
        None => (None, rest),
    };
    let offset_sectors = match tail.trim() {
        "" => 0,
        t => t.parse().map_err(|_| bad())?,
    };
    if kind != ExtentKind::Zero && file.is_none() {
        return Err(bad());
    }
    Ok(Extent {
        kind,
        sectors,
        file,
        offset_sectors,
    })
}

/// Parse a descriptor's text.
pub(crate) fn parse_descriptor(text: &str) -> Result<Descriptor, BlockError> {
    let mut extents = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "parentCID" && unquote(value) != NO_PARENT {
                return Err(BlockError::unsupported(
                    "a VMDK snapshot (delta) over a parent disk; consolidate the snapshots \
                     or convert with `qemu-img convert -O raw` first",
                ));
            }
            continue;
        }
        if ["RW ", "RDONLY ", "NOACCESS "]
            .iter()
            .any(|a| line.starts_with(a))
        {
            if extents.len() == VMDK_MAX_EXTENTS {
                return Err(BlockError::limit(format!(
                    "more than {VMDK_MAX_EXTENTS} extents"
                )));
            }
            extents.push(parse_extent(line)?);
        }
    }
    if extents.is_empty() {
        return Err(BlockError::corrupt("VMDK descriptor lists no extents"));
    }
    Ok(Descriptor { extents })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parses_qemu_img_descriptor() {
        let d = parse_descriptor(
            "# Disk DescriptorFile\nversion=1\nCID=52c2b8e4\nparentCID=ffffffff\n\
             createType=\"twoGbMaxExtentFlat\"\n\n# Extent description\n\
             RW 4192256 FLAT \"d f001.vmdk\" 0\nRW 2048 FLAT \"d-f002.vmdk\" 16\n\
             RDONLY 8 ZERO\nRW 64 SPARSE \"s.vmdk\"\n\nddb.adapterType = \"ide\"\n",
        )
        .unwrap();
        assert_eq!(d.extents.len(), 4);
        assert_eq!(d.extents[0].file.as_deref(), Some("d f001.vmdk"));
        assert_eq!(d.extents[0].sectors, 4192256);
        assert_eq!(d.extents[1].offset_sectors, 16);
        assert_eq!(d.extents[2].kind, ExtentKind::Zero);
        assert_eq!(d.extents[3].kind, ExtentKind::Sparse);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let cases = [
            (
                "parentCID=1234abcd\nRW 8 FLAT \"a\" 0",
                ErrorKind::Unsupported,
            ),
            ("RW 8 VMFSSPARSE \"a\"", ErrorKind::Unsupported),
            ("NOACCESS 8 FLAT \"a\" 0", ErrorKind::Unsupported),
            ("RW x FLAT \"a\" 0", ErrorKind::Corrupt),
            ("RW 8 FLAT \"a 0", ErrorKind::Corrupt),
            ("RW 8 FLAT", ErrorKind::Corrupt),
            ("RW 8 FLAT \"a\" nope", ErrorKind::Corrupt),
            ("version=1", ErrorKind::Corrupt),
        ];
        for (text, kind) in cases {
            let err = parse_descriptor(text).expect_err(text);
            assert_eq!(err.kind(), kind, "{text}: {err}");
        }
        let many = "RW 1 ZERO\n".repeat(VMDK_MAX_EXTENTS + 1);
        assert_eq!(
            parse_descriptor(&many).unwrap_err().kind(),
            ErrorKind::LimitExceeded
        );
    }
}
