//! Volume layer: find the partitions and LVM2 logical volumes on a disk.
//!
//! [`scan`] reads a disk (any [`BlockDevice`]: raw file, qcow2, memory) and returns a
//! [`VolumeScan`]: the partition table kind ([`TableKind`]: GPT, MBR or none), every
//! [`Volume`] found (partitions, with MBR logical partitions numbered from 5, and the
//! linear logical volumes of every LVM2 volume group on the disk) and the
//! [`Diagnostic`]s for what was wrong but did not stop the scan: one bad partition
//! or volume group never fails the whole disk. Each volume carries its own device (a
//! slice of the disk, or a [`LinearDevice`](guestctl_block::LinearDevice) over PV
//! extents), so the filesystem layer reads it without knowing where it came from.
//!
//! Names follow libguestfs and Linux: `sda1`…, LVs as `vg/lv` with device paths
//! `/dev/vg/lv` and `/dev/mapper/vg-lv` (dashes doubled). The parsers are written here
//! (not shared with the mock disk generator) and every loop over on-disk data is
//! bounded by a named constant. This crate knows nothing of filesystems.
//!
//! ```
//! use guestctl_block::{BlockDevice, MemDevice};
//! use guestctl_volume::{scan, TableKind};
//! use std::sync::Arc;
//! let disk: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(vec![0u8; 1 << 20]));
//! let found = scan(disk).unwrap();
//! assert_eq!(found.table, TableKind::None);
//! assert_eq!(found.volumes.len(), 1); // the whole disk, "sda"
//! ```

#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

mod error;
mod gpt;
mod lvm;
mod mbr;

pub use error::{Diagnostic, ErrorKind, VolumeError};
pub use gpt::{Guid, GPT_MAX_ENTRIES, GPT_MAX_ENTRY_SIZE};
pub use lvm::{
    parse_metadata, ConfigNode, ConfigValue, LVM_MAX_ITEMS, LVM_MAX_METADATA_SIZE, LVM_MAX_NESTING,
    LVM_MAX_PVS, LVM_MAX_SEGMENTS, LVM_MAX_VOLUMES,
};
pub use mbr::MBR_MAX_LOGICAL_PARTITIONS;

use guestctl_block::{BlockDevice, SliceDevice};
use std::sync::Arc;

/// The default sector size (bytes). GPT disks with 4096-byte sectors are detected.
pub const SECTOR_SIZE: u64 = 512;

/// The kind of partition table on a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TableKind {
    /// GUID partition table.
    Gpt,
    /// DOS/MBR partition table (with extended/logical partitions).
    Mbr,
    /// No partition table: the whole disk is one volume.
    None,
}

impl TableKind {
    /// "gpt", "msdos" or "none", as parted and libguestfs name them.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Gpt => "gpt",
            TableKind::Mbr => "msdos",
            TableKind::None => "none",
        }
    }
}

/// What a partition table says about one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartitionInfo {
    /// A GPT entry.
    Gpt {
        /// Partition type GUID.
        type_guid: Guid,
        /// Unique partition GUID (PARTUUID).
        part_guid: Guid,
        /// Partition name (UTF-16 in the entry).
        name: String,
    },
    /// An MBR entry.
    Mbr {
        /// The system ID byte (0x83 Linux, 0x8e LVM, 0x07 NTFS, ...).
        type_byte: u8,
        /// The boot flag (0x80).
        bootable: bool,
        /// A logical partition inside the extended partition.
        logical: bool,
        /// The disk signature at MBR offset 440 (for PARTUUID).
        disk_signature: u32,
    },
}

/// What a volume is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VolumeKind {
    /// The whole disk (no partition table).
    WholeDisk,
    /// A partition, numbered as Linux numbers it (logical MBR partitions from 5).
    Partition {
        /// Partition number (1-based).
        index: u32,
        /// What the table says.
        table: PartitionInfo,
    },
    /// An LVM2 logical volume.
    LogicalVolume {
        /// Volume group name.
        vg: String,
        /// Logical volume name.
        lv: String,
        /// LV UUID as LVM writes it (with dashes).
        uuid: String,
    },
}

/// A partition, logical volume or whole disk, with a device to read it.
#[derive(Debug, Clone)]
pub struct Volume {
    /// "sda1", "sda5", "vg0/root", or "sda" for the whole disk.
    pub name: String,
    /// What it is.
    pub kind: VolumeKind,
    /// Byte offset on the disk (0 for logical volumes, which may be scattered).
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// The bytes of the volume.
    pub device: Arc<dyn BlockDevice>,
}

impl Volume {
    /// The Linux device path: `/dev/sda1`, `/dev/vg0/root`.
    pub fn device_path(&self) -> String {
        format!("/dev/{}", self.name)
    }

    /// The device-mapper path of a logical volume: `/dev/mapper/vg0-root`, with dashes
    /// inside names doubled (`my-vg/lv` → `/dev/mapper/my--vg-lv`).
    pub fn mapper_path(&self) -> Option<String> {
        match &self.kind {
            VolumeKind::LogicalVolume { vg, lv, .. } => Some(format!(
                "/dev/mapper/{}-{}",
                vg.replace('-', "--"),
                lv.replace('-', "--")
            )),
            _ => None,
        }
    }

    /// The PARTUUID the kernel gives this partition: the GPT partition GUID, or
    /// `SSSSSSSS-NN` (disk signature, partition number) on MBR disks.
    pub fn partuuid(&self) -> Option<String> {
        match &self.kind {
            VolumeKind::Partition {
                table: PartitionInfo::Gpt { part_guid, .. },
                ..
            } => Some(part_guid.to_string()),
            VolumeKind::Partition {
                index,
                table: PartitionInfo::Mbr { disk_signature, .. },
            } => Some(format!("{disk_signature:08x}-{index:02x}")),
            _ => None,
        }
    }
}

/// An LVM2 physical volume found on the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalVolume {
    /// The volume holding it ("sda2").
    pub volume: String,
    /// PV UUID with dashes, as LVM prints it.
    pub uuid: String,
    /// The VG it belongs to, if its metadata was readable.
    pub vg: Option<String>,
}

/// The result of [`scan`].
#[derive(Debug, Clone)]
pub struct VolumeScan {
    /// The partition table kind.
    pub table: TableKind,
    /// The logical sector size used (512 or 4096).
    pub sector_size: u64,
    /// Partitions in number order, then logical volumes by name.
    pub volumes: Vec<Volume>,
    /// LVM physical volumes found.
    pub physical_volumes: Vec<PhysicalVolume>,
    /// Problems that did not stop the scan.
    pub diagnostics: Vec<Diagnostic>,
}

impl VolumeScan {
    /// The volume called `name` ("sda1", "vg0/root").
    pub fn volume(&self, name: &str) -> Option<&Volume> {
        self.volumes.iter().find(|v| v.name == name)
    }
}

/// A partition as a table parser reports it, before bounds checks.
#[derive(Debug, Clone)]
pub(crate) struct RawPartition {
    pub index: u32,
    pub start_lba: u64,
    pub sectors: u64,
    pub info: PartitionInfo,
}

/// Scan a disk named `sda`. See [`scan_as`].
pub fn scan(disk: Arc<dyn BlockDevice>) -> Result<VolumeScan, VolumeError> {
    scan_as(disk, "sda")
}

/// Scan `disk`, naming it `disk_name` ("sda", "vdb"): read its partition table, then
/// look for LVM2 physical volumes on every partition (or the whole disk) and map the
/// linear logical volumes they hold.
///
/// Fails only when the disk cannot be read at all or its partition table is unusable
/// (both GPT headers bad); problems with single partitions or volume groups become
/// [`Diagnostic`]s.
pub fn scan_as(disk: Arc<dyn BlockDevice>, disk_name: &str) -> Result<VolumeScan, VolumeError> {
    let mut diagnostics = Vec::new();
    let sector0 = read_sector0(&*disk)?;
    let (table, sector_size, raw) = if let Some(sector_size) = gpt::detect(&*disk, &sector0)? {
        let parts = gpt::parse(&*disk, sector_size, &mut diagnostics)?;
        (TableKind::Gpt, sector_size, parts)
    } else if mbr::looks_like_mbr(&sector0) {
        (
            TableKind::Mbr,
            SECTOR_SIZE,
            mbr::parse(&*disk, &sector0, &mut diagnostics)?,
        )
    } else {
        (TableKind::None, SECTOR_SIZE, Vec::new())
    };

    let mut volumes = Vec::new();
    if table == TableKind::None {
        volumes.push(Volume {
            name: disk_name.to_string(),
            kind: VolumeKind::WholeDisk,
            start: 0,
            size: disk.size(),
            device: Arc::clone(&disk),
        });
    }
    for p in raw {
        let name = format!("{disk_name}{}", p.index);
        match partition_volume(&disk, sector_size, &name, p) {
            Ok((v, diag)) => {
                diagnostics.extend(diag);
                volumes.push(v);
            }
            Err(e) => diagnostics.push(e.into()),
        }
    }
    check_overlaps(&volumes, &mut diagnostics);

    let (lvs, pvs) = lvm::scan_volumes(&volumes, &mut diagnostics);
    volumes.extend(lvs);
    Ok(VolumeScan {
        table,
        sector_size,
        volumes,
        physical_volumes: pvs,
        diagnostics,
    })
}

fn read_sector0(disk: &dyn BlockDevice) -> Result<Vec<u8>, VolumeError> {
    let len = usize::try_from(disk.size().min(SECTOR_SIZE)).unwrap_or(0);
    let mut s = vec![0u8; len];
    disk.read_exact_at(0, &mut s)
        .map_err(|e| VolumeError::block("disk", e))?;
    Ok(s)
}

/// Bounds-check one partition and make its device. A partition running past the end
/// of the disk is cut at the end (as Linux does) with a diagnostic; one starting past
/// the end is an error for that partition.
fn partition_volume(
    disk: &Arc<dyn BlockDevice>,
    sector_size: u64,
    name: &str,
    p: RawPartition,
) -> Result<(Volume, Option<Diagnostic>), VolumeError> {
    let disk_size = disk.size();
    let start = p.start_lba.checked_mul(sector_size).ok_or_else(|| {
        VolumeError::new(
            ErrorKind::OutOfBounds,
            name,
            format!("start sector {} overflows", p.start_lba),
        )
    })?;
    if p.sectors == 0 {
        return Err(VolumeError::corrupt(name, "partition has zero length"));
    }
    if start >= disk_size {
        return Err(VolumeError::new(
            ErrorKind::OutOfBounds,
            name,
            format!("starts at byte {start}, past the end of the {disk_size}-byte disk"),
        ));
    }
    let want = p.sectors.saturating_mul(sector_size);
    let avail = disk_size - start;
    let mut diag = None;
    let size = if want > avail {
        diag = Some(Diagnostic {
            subject: name.to_string(),
            kind: ErrorKind::OutOfBounds,
            message: format!("{want} bytes at {start} run past the end of the {disk_size}-byte disk; cut to {avail}"),
        });
        avail
    } else {
        want
    };
    let device =
        SliceDevice::new(Arc::clone(disk), start, size).map_err(|e| VolumeError::block(name, e))?;
    let kind = VolumeKind::Partition {
        index: p.index,
        table: p.info,
    };
    Ok((
        Volume {
            name: name.to_string(),
            kind,
            start,
            size,
            device: Arc::new(device),
        },
        diag,
    ))
}

fn check_overlaps(volumes: &[Volume], diagnostics: &mut Vec<Diagnostic>) {
    // At most 4 + MBR_MAX_LOGICAL_PARTITIONS or GPT_MAX_ENTRIES partitions: quadratic is fine.
    for (i, a) in volumes.iter().enumerate() {
        for b in volumes.iter().skip(i + 1) {
            let a_end = a.start.saturating_add(a.size);
            let b_end = b.start.saturating_add(b.size);
            if a.start < b_end && b.start < a_end {
                diagnostics.push(Diagnostic {
                    subject: b.name.clone(),
                    kind: ErrorKind::Overlap,
                    message: format!(
                        "overlaps {} (bytes {}..{} and {}..{})",
                        a.name, a.start, a_end, b.start, b_end
                    ),
                });
            }
        }
    }
}

/// Little-endian field readers on a byte slice; out of range reads give `None`.
pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)?
        .try_into()
        .ok()
        .map(u16::from_le_bytes)
}
pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)?
        .try_into()
        .ok()
        .map(u32::from_le_bytes)
}
pub(crate) fn le64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at.checked_add(8)?)?
        .try_into()
        .ok()
        .map(u64::from_le_bytes)
}
