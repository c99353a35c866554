//! GUID partition tables: header and entry array, both CRC-checked, with the backup
//! header at the end of the disk used when the primary is damaged.

use crate::{
    le16, le32, le64, mbr, Diagnostic, ErrorKind, PartitionInfo, RawPartition, VolumeError,
};
use guestctl_block::chain_text;
use guestctl_block::BlockDevice;
use std::fmt;

/// Most entries read from a GPT entry array. The UEFI specification's minimum array is 128 entries
/// and tools rarely make more; the bound caps the array we read into memory.
pub const GPT_MAX_ENTRIES: u32 = 1024;
/// Largest entry size accepted (the UEFI specification allows 128 × 2^n; 128 in every real table).
pub const GPT_MAX_ENTRY_SIZE: u32 = 1024;
const GPT_SIGNATURE: &[u8; 8] = b"EFI PART";
const GPT_MIN_HEADER_SIZE: u32 = 92;
const GPT_ENTRY_MIN_SIZE: u32 = 128;

/// A GUID, stored as on disk (first three fields little-endian); displayed in the
/// usual lowercase 8-4-4-4-12 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Whether all bytes are zero (an unused GPT entry).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

/// The GPT header fields guestctl uses, named as in the UEFI spec.
#[derive(Debug, Clone)]
struct GptHeader {
    first_usable_lba: u64,
    last_usable_lba: u64,
    partition_entry_lba: u64,
    num_partition_entries: u32,
    size_of_partition_entry: u32,
    partition_entry_array_crc32: u32,
}

/// Which sector size the disk's GPT uses, if it has one (or claims one through a
/// protective MBR entry).
pub(crate) fn detect(disk: &dyn BlockDevice, sector0: &[u8]) -> Result<Option<u64>, VolumeError> {
    for ss in [512u64, 4096] {
        if disk.size() < ss * 2 {
            continue;
        }
        let mut sig = [0u8; 8];
        disk.read_exact_at(ss, &mut sig)
            .map_err(|e| VolumeError::block("GPT", e))?;
        if &sig == GPT_SIGNATURE {
            return Ok(Some(ss));
        }
    }
    Ok(mbr::has_protective_entry(sector0).then_some(512))
}

fn read_header(disk: &dyn BlockDevice, ss: u64, lba: u64) -> Result<(GptHeader, Vec<u8>), String> {
    let mut sector = vec![0u8; usize::try_from(ss).map_err(|_| "sector size")?];
    let off = lba.checked_mul(ss).ok_or("header LBA overflows")?;
    disk.read_exact_at(off, &mut sector)
        .map_err(|e| format!("cannot read LBA {lba}: {}", chain_text(&e)))?;
    if sector.get(0..8) != Some(&GPT_SIGNATURE[..]) {
        return Err(format!("no \"EFI PART\" signature at LBA {lba}"));
    }
    let header_size = le32(&sector, 12).ok_or("truncated")?;
    if header_size < GPT_MIN_HEADER_SIZE || u64::from(header_size) > ss {
        return Err(format!("header_size {header_size} invalid"));
    }
    let header_crc32 = le32(&sector, 16).ok_or("truncated")?;
    let mut copy = sector
        .get(..header_size as usize)
        .ok_or("truncated")?
        .to_vec();
    if let Some(crc) = copy.get_mut(16..20) {
        crc.fill(0);
    }
    let actual = crc32fast::hash(&copy);
    if actual != header_crc32 {
        return Err(format!(
            "header CRC32 {header_crc32:#010x} does not match the computed {actual:#010x}"
        ));
    }
    let my_lba = le64(&sector, 24).ok_or("truncated")?;
    if my_lba != lba {
        return Err(format!("my_lba {my_lba} but the header is at LBA {lba}"));
    }
    let h = GptHeader {
        first_usable_lba: le64(&sector, 40).ok_or("truncated")?,
        last_usable_lba: le64(&sector, 48).ok_or("truncated")?,
        partition_entry_lba: le64(&sector, 72).ok_or("truncated")?,
        num_partition_entries: le32(&sector, 80).ok_or("truncated")?,
        size_of_partition_entry: le32(&sector, 84).ok_or("truncated")?,
        partition_entry_array_crc32: le32(&sector, 88).ok_or("truncated")?,
    };
    if h.num_partition_entries > GPT_MAX_ENTRIES {
        return Err(format!(
            "{} entries exceed the limit of {GPT_MAX_ENTRIES}",
            h.num_partition_entries
        ));
    }
    let es = h.size_of_partition_entry;
    if !(GPT_ENTRY_MIN_SIZE..=GPT_MAX_ENTRY_SIZE).contains(&es) || !es.is_multiple_of(8) {
        return Err(format!("size_of_partition_entry {es} invalid"));
    }
    // Bounded: GPT_MAX_ENTRIES × GPT_MAX_ENTRY_SIZE = 1 MiB.
    let array_len = h.num_partition_entries as usize * es as usize;
    let array_off = h
        .partition_entry_lba
        .checked_mul(ss)
        .ok_or("partition_entry_lba overflows")?;
    let mut array = vec![0u8; array_len];
    disk.read_exact_at(array_off, &mut array).map_err(|e| {
        format!(
            "cannot read the entry array at LBA {}: {}",
            h.partition_entry_lba,
            chain_text(&e)
        )
    })?;
    let actual = crc32fast::hash(&array);
    if actual != h.partition_entry_array_crc32 {
        return Err(format!(
            "entry array CRC32 {:#010x} does not match the computed {actual:#010x}",
            h.partition_entry_array_crc32
        ));
    }
    Ok((h, array))
}

/// Read the table: the primary header, or the backup at the last LBA if the primary
/// is damaged (with a diagnostic). Both damaged is an error.
pub(crate) fn parse(
    disk: &dyn BlockDevice,
    ss: u64,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<RawPartition>, VolumeError> {
    let (h, array) = match read_header(disk, ss, 1) {
        Ok(x) => x,
        Err(primary) => {
            let last = (disk.size() / ss).saturating_sub(1);
            match read_header(disk, ss, last) {
                Ok(x) => {
                    diagnostics.push(Diagnostic {
                        subject: "GPT".into(),
                        kind: ErrorKind::Corrupt,
                        message: format!(
                            "primary header unusable ({primary}); using the backup at LBA {last}"
                        ),
                    });
                    x
                }
                Err(backup) => {
                    return Err(VolumeError::corrupt(
                        "GPT",
                        format!(
                        "primary header unusable ({primary}); backup header unusable ({backup})"
                    ),
                    ))
                }
            }
        }
    };
    let mut out = Vec::new();
    let es = h.size_of_partition_entry as usize;
    for (i, e) in array.chunks_exact(es).enumerate() {
        let type_guid = guid(e, 0);
        if type_guid.is_zero() {
            continue;
        }
        let index = i as u32 + 1;
        let first = le64(e, 32).unwrap_or(0);
        let last = le64(e, 40).unwrap_or(0);
        if last < first {
            diagnostics.push(Diagnostic {
                subject: format!("GPT entry {index}"),
                kind: ErrorKind::Corrupt,
                message: format!("ending LBA {last} before starting LBA {first}"),
            });
            continue;
        }
        if first < h.first_usable_lba || last > h.last_usable_lba {
            diagnostics.push(Diagnostic {
                subject: format!("GPT entry {index}"),
                kind: ErrorKind::OutOfBounds,
                message: format!(
                    "LBAs {first}..={last} outside the usable {}..={}",
                    h.first_usable_lba, h.last_usable_lba
                ),
            });
        }
        out.push(RawPartition {
            index,
            start_lba: first,
            // last >= first: at least 1 sector; last = u64::MAX, first = 0 saturates.
            sectors: (last - first).saturating_add(1),
            info: PartitionInfo::Gpt {
                type_guid,
                part_guid: guid(e, 16),
                name: utf16_name(e.get(56..128).unwrap_or(&[])),
            },
        });
    }
    Ok(out)
}

fn guid(e: &[u8], at: usize) -> Guid {
    let mut g = [0u8; 16];
    if let Some(s) = e.get(at..at + 16) {
        g.copy_from_slice(s);
    }
    Guid(g)
}

fn utf16_name(b: &[u8]) -> String {
    let units: Vec<u16> = (0..b.len() / 2)
        .filter_map(|i| le16(b, i * 2))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}
