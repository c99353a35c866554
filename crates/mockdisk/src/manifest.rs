//! The manifest: the ground truth of what a mock disk holds, written beside the
//! image as `<image>.manifest.json`. Inspection tests compare their findings to it.

use crate::builder::{DiskFormat, Layout, PartitionTable};
use crate::error::MockDiskError;
use crate::guest::{GuestContent, OsType};
use std::path::{Path, PathBuf};

/// The manifest format's version; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything that was written, as a plain record (serde).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// [`SCHEMA_VERSION`] of this record.
    pub schema_version: u32,
    /// `guestctl-mockdisk <version>`.
    pub generator: String,
    /// The seed that made every random choice.
    pub seed: u64,
    /// Wall-clock seconds the generation took (the only field that differs between
    /// two runs with the same settings).
    pub generation_seconds: f64,
    /// The disk as a whole.
    pub disk: DiskManifest,
    /// Partitions in table order.
    pub partitions: Vec<PartitionManifest>,
    /// The LVM2 volume group, for [`Layout::Lvm`].
    pub lvm: Option<LvmManifest>,
    /// One entry per installed OS (two for [`Layout::DualBoot`]); the first is the
    /// one the builder was asked for.
    pub guests: Vec<GuestManifest>,
}

/// The disk as a whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskManifest {
    /// `minimal`, `small`, `medium`, `large` or `custom`.
    pub disk_type: String,
    /// Apparent (virtual) size in bytes.
    pub size_bytes: u64,
    /// Image file format.
    pub format: DiskFormat,
    /// Filesystem layout.
    pub layout: Layout,
    /// Partition table type.
    pub partition_table: PartitionTable,
    /// GPT disk GUID, or the MBR disk identifier as `0x1234abcd`.
    pub disk_id: String,
    /// Logical sector size (always 512).
    pub sector_size: u32,
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartitionManifest {
    /// 1-based partition number (`/dev/sda<index>`).
    pub index: u32,
    /// Byte offset of the first sector.
    pub start_bytes: u64,
    /// Size in bytes.
    pub size_bytes: u64,
    /// GPT partition type GUID (upper case), or the MBR type byte as `0x83`.
    pub type_id: String,
    /// GPT unique partition GUID (lower case), or for MBR the PARTUUID Linux
    /// derives (`<disk id>-<index as 2 hex digits>`).
    pub uuid: String,
    /// GPT partition name (empty for MBR).
    pub name: String,
    /// What the partition is for: `efi`, `root`, `lvm`.
    pub role: String,
    /// The filesystem directly on the partition (none for an LVM PV).
    pub filesystem: Option<FilesystemManifest>,
}

/// A filesystem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilesystemManifest {
    /// `ext2`, `ext3`, `ext4` or `vfat`.
    pub fs_type: String,
    /// The UUID as blkid prints it (`xxxxxxxx-…` for ext, `ABCD-1234` for FAT).
    pub uuid: String,
    /// The volume label.
    pub label: String,
    /// Size in bytes (the whole partition or LV).
    pub size_bytes: u64,
    /// Where the guest mounts it (`/`, `/usr`, `/boot/efi`); `None` if unmounted.
    pub mountpoint: Option<String>,
    /// Index into [`Manifest::guests`] of the OS that mounts it; `None` when
    /// several do (a shared EFI partition).
    pub guest: Option<usize>,
}

/// The LVM2 volume group (one PV, linear LVs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LvmManifest {
    /// VG name.
    pub vg_name: String,
    /// VG UUID in LVM's dashed form.
    pub vg_uuid: String,
    /// PV UUID in LVM's dashed form.
    pub pv_uuid: String,
    /// The partition index holding the PV.
    pub pv_partition: u32,
    /// Extent size in bytes.
    pub extent_size_bytes: u64,
    /// Offset of the first extent from the start of the PV, in bytes.
    pub pe_start_bytes: u64,
    /// Number of extents on the PV.
    pub pe_count: u64,
    /// The logical volumes, in metadata order.
    pub logical_volumes: Vec<LvManifest>,
}

/// One linear logical volume.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LvManifest {
    /// LV name.
    pub name: String,
    /// LV UUID in LVM's dashed form.
    pub uuid: String,
    /// The device-mapper path (`/dev/mapper/<vg>-<lv>`, dashes doubled).
    pub device: String,
    /// First physical extent on the PV.
    pub start_extent: u64,
    /// Number of extents.
    pub extent_count: u64,
    /// Absolute byte offset of the LV's data in the disk image.
    pub disk_offset_bytes: u64,
    /// Size in bytes.
    pub size_bytes: u64,
    /// The filesystem on the LV.
    pub filesystem: FilesystemManifest,
}

/// One installed OS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuestManifest {
    /// The OS type.
    pub os_type: OsType,
    /// The root filesystem's device as the guest names it (`/dev/sda2`,
    /// `/dev/mapper/vg-root`).
    pub root_device: String,
    /// The root filesystem's UUID.
    pub root_filesystem_uuid: String,
    /// Every mount of this guest, as in its /etc/fstab.
    pub mounts: Vec<MountManifest>,
    /// What the guest holds: OS identity, hostname, packages, file count.
    pub content: GuestContent,
}

/// One fstab entry of a guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MountManifest {
    /// The mountpoint.
    pub mountpoint: String,
    /// The fstab spec (`UUID=…`, `/dev/mapper/…`).
    pub spec: String,
    /// The filesystem's UUID.
    pub filesystem_uuid: String,
    /// The filesystem type.
    pub fs_type: String,
}

impl Manifest {
    /// The first (requested) guest.
    pub fn primary(&self) -> Option<&GuestManifest> {
        self.guests.first()
    }

    /// Every filesystem on the disk: on partitions, then on LVs.
    pub fn filesystems(&self) -> Vec<&FilesystemManifest> {
        let mut v: Vec<&FilesystemManifest> = self
            .partitions
            .iter()
            .filter_map(|p| p.filesystem.as_ref())
            .collect();
        if let Some(lvm) = &self.lvm {
            v.extend(lvm.logical_volumes.iter().map(|l| &l.filesystem));
        }
        v
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Read a manifest written by [`crate::MockDiskBuilder::build`].
    pub fn load(path: &Path) -> Result<Manifest, MockDiskError> {
        let text = std::fs::read_to_string(path).map_err(|e| MockDiskError::io(path, e))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            MockDiskError::InvalidInput(format!(
                "{}: not a mock disk manifest: {e}",
                path.display()
            ))
        })?;
        if m.schema_version != SCHEMA_VERSION {
            return Err(MockDiskError::InvalidInput(format!(
                "{}: manifest schema_version {} (this build reads {SCHEMA_VERSION})",
                path.display(),
                m.schema_version
            )));
        }
        Ok(m)
    }
}

/// `<image>.manifest.json` for an image path.
pub fn manifest_path(image: &Path) -> PathBuf {
    let mut s = image.as_os_str().to_os_string();
    s.push(".manifest.json");
    PathBuf::from(s)
}
