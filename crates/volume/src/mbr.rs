//! DOS/MBR partition tables: four primary entries and the chain of extended boot
//! records (EBRs) holding logical partitions, numbered from 5 as Linux does.

use crate::{le32, Diagnostic, ErrorKind, PartitionInfo, RawPartition, VolumeError, SECTOR_SIZE};
use guestctl_block::chain_text;
use guestctl_block::BlockDevice;
use std::collections::HashSet;

/// Most logical partitions followed in an EBR chain. Linux's own limit for a DOS
/// table is far lower in practice; the bound stops a hostile chain from running on.
pub const MBR_MAX_LOGICAL_PARTITIONS: usize = 128;

const ENTRY_TABLE_OFFSET: usize = 446;
const ENTRY_LEN: usize = 16;
const SIGNATURE_OFFSET: usize = 510;
const DISK_SIGNATURE_OFFSET: usize = 440;
/// Protective MBR type of a GPT disk.
pub(crate) const TYPE_GPT_PROTECTIVE: u8 = 0xee;

fn is_extended(t: u8) -> bool {
    matches!(t, 0x05 | 0x0f | 0x85)
}

/// One 16-byte partition entry, fields named as in the MBR layout.
#[derive(Debug, Clone, Copy)]
struct MbrEntry {
    status: u8,
    partition_type: u8,
    lba_start: u32,
    num_sectors: u32,
}

fn entry(sector: &[u8], i: usize) -> Option<MbrEntry> {
    let at = ENTRY_TABLE_OFFSET + i * ENTRY_LEN;
    let e = sector.get(at..at + ENTRY_LEN)?;
    Some(MbrEntry {
        status: *e.first()?,
        partition_type: *e.get(4)?,
        lba_start: le32(e, 8)?,
        num_sectors: le32(e, 12)?,
    })
}

fn has_signature(sector: &[u8]) -> bool {
    sector.get(SIGNATURE_OFFSET..SIGNATURE_OFFSET + 2) == Some(&[0x55, 0xaa][..])
}

/// Whether sector 0 holds an MBR partition table, and not a FAT or NTFS boot sector
/// (which carry the same 0x55AA signature) or random bytes.
pub(crate) fn looks_like_mbr(sector0: &[u8]) -> bool {
    if !has_signature(sector0) {
        return false;
    }
    // Filesystem boot sectors on a whole (unpartitioned) disk.
    let at = |o: usize, m: &[u8]| sector0.get(o..o + m.len()) == Some(m);
    if at(3, b"NTFS    ") || at(0x36, b"FAT") || at(0x52, b"FAT32") || at(3, b"EXFAT   ") {
        return false;
    }
    (0..4).all(|i| entry(sector0, i).is_some_and(|e| e.status == 0 || e.status == 0x80))
}

/// Whether sector 0 is a protective or hybrid MBR (an entry of type 0xEE).
pub(crate) fn has_protective_entry(sector0: &[u8]) -> bool {
    has_signature(sector0)
        && (0..4)
            .any(|i| entry(sector0, i).is_some_and(|e| e.partition_type == TYPE_GPT_PROTECTIVE))
}

/// Read the primary entries and the EBR chain. Problems with single entries or with
/// the chain become diagnostics; the partitions found so far are kept.
pub(crate) fn parse(
    disk: &dyn BlockDevice,
    sector0: &[u8],
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<RawPartition>, VolumeError> {
    let disk_signature = le32(sector0, DISK_SIGNATURE_OFFSET).unwrap_or(0);
    let mut out = Vec::new();
    let mut extended: Option<(u64, u64)> = None;
    for i in 0..4 {
        let Some(e) = entry(sector0, i) else { continue };
        if e.partition_type == 0 {
            continue;
        }
        let index = i as u32 + 1;
        if is_extended(e.partition_type) {
            if extended.is_some() {
                diagnostics.push(Diagnostic {
                    subject: format!("MBR partition {index}"),
                    kind: ErrorKind::Corrupt,
                    message: "a second extended partition is ignored".into(),
                });
            } else {
                extended = Some((u64::from(e.lba_start), u64::from(e.num_sectors)));
            }
            continue;
        }
        out.push(RawPartition {
            index,
            start_lba: u64::from(e.lba_start),
            sectors: u64::from(e.num_sectors),
            info: PartitionInfo::Mbr {
                type_byte: e.partition_type,
                bootable: e.status == 0x80,
                logical: false,
                disk_signature,
            },
        });
    }
    if let Some((ext_start, ext_len)) = extended {
        walk_ebr_chain(
            disk,
            ext_start,
            ext_len,
            disk_signature,
            &mut out,
            diagnostics,
        );
    }
    Ok(out)
}

fn walk_ebr_chain(
    disk: &dyn BlockDevice,
    ext_start: u64,
    ext_len: u64,
    disk_signature: u32,
    out: &mut Vec<RawPartition>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let ext_end = ext_start.saturating_add(ext_len);
    let mut diag = |kind, message: String| {
        diagnostics.push(Diagnostic {
            subject: "MBR extended partition".into(),
            kind,
            message,
        })
    };
    let mut visited = HashSet::new();
    let mut ebr_lba = ext_start;
    let mut index = 5u32;
    let mut sector = vec![0u8; SECTOR_SIZE as usize];
    // Bounded by MBR_MAX_LOGICAL_PARTITIONS and by the visited set (no cycles).
    for n in 0..=MBR_MAX_LOGICAL_PARTITIONS {
        if n == MBR_MAX_LOGICAL_PARTITIONS {
            diag(ErrorKind::LimitExceeded, format!("more than {MBR_MAX_LOGICAL_PARTITIONS} logical partitions; the rest are ignored"));
            return;
        }
        if !visited.insert(ebr_lba) {
            diag(
                ErrorKind::Corrupt,
                format!("EBR chain loops back to sector {ebr_lba}"),
            );
            return;
        }
        let Some(offset) = ebr_lba.checked_mul(SECTOR_SIZE) else {
            diag(
                ErrorKind::OutOfBounds,
                format!("EBR at sector {ebr_lba} overflows"),
            );
            return;
        };
        if let Err(e) = disk.read_exact_at(offset, &mut sector) {
            diag(
                ErrorKind::from(e.kind()),
                format!("cannot read EBR at sector {ebr_lba}: {}", chain_text(&e)),
            );
            return;
        }
        if !has_signature(&sector) {
            diag(
                ErrorKind::Corrupt,
                format!("EBR at sector {ebr_lba} has no 0x55AA signature"),
            );
            return;
        }
        if let Some(e) = entry(&sector, 0) {
            if e.partition_type != 0 && e.num_sectors != 0 {
                let start = ebr_lba.saturating_add(u64::from(e.lba_start));
                let end = start.saturating_add(u64::from(e.num_sectors));
                if start <= ebr_lba || end > ext_end {
                    diagnostics_push_outside(&mut diag, index, start, end);
                }
                out.push(RawPartition {
                    index,
                    start_lba: start,
                    sectors: u64::from(e.num_sectors),
                    info: PartitionInfo::Mbr {
                        type_byte: e.partition_type,
                        bootable: e.status == 0x80,
                        logical: true,
                        disk_signature,
                    },
                });
                index += 1;
            }
        }
        match entry(&sector, 1) {
            Some(next) if is_extended(next.partition_type) && next.lba_start != 0 => {
                let next_lba = ext_start.saturating_add(u64::from(next.lba_start));
                if next_lba >= ext_end {
                    diag(
                        ErrorKind::OutOfBounds,
                        format!(
                            "next EBR at sector {next_lba} lies outside the extended partition"
                        ),
                    );
                    return;
                }
                ebr_lba = next_lba;
            }
            _ => return,
        }
    }
}

fn diagnostics_push_outside(
    diag: &mut impl FnMut(ErrorKind, String),
    index: u32,
    start: u64,
    end: u64,
) {
    diag(
        ErrorKind::OutOfBounds,
        format!("logical partition {index} (sectors {start}..{end}) is not inside the extended partition after its EBR"),
    );
}
