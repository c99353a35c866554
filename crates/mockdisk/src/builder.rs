//! The public builder: what to generate ([`MockDiskBuilder`]) and what came out
//! ([`MockDisk`]).

use crate::error::MockDiskError;
use crate::guest::OsType;
use crate::manifest::Manifest;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

const MIB: u64 = 1024 * 1024;

/// The apparent size of a mock disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MockDiskType {
    /// 1 MiB: one small ext4 root partition, for basic functionality tests.
    Minimal,
    /// 10 MiB: EFI system partition and root, for quick performance tests.
    Small,
    /// 100 MiB: for realistic scenarios.
    Medium,
    /// 1 GiB: for stress testing (the file is sparse: it uses far less on the host).
    Large,
    /// Any size in bytes (a multiple of 512, at least [`MockDiskType::MIN_CUSTOM_BYTES`]).
    Custom(u64),
}

impl MockDiskType {
    /// The smallest custom size accepted: enough for a partition table and a tiny ext4.
    pub const MIN_CUSTOM_BYTES: u64 = 512 * 1024;
    /// The largest custom size accepted (16 TiB): far beyond any test, and small
    /// enough that sector arithmetic never overflows.
    pub const MAX_CUSTOM_BYTES: u64 = 16 * 1024 * 1024 * MIB;
    /// The four named types, smallest first.
    pub const NAMED: [MockDiskType; 4] = [
        MockDiskType::Minimal,
        MockDiskType::Small,
        MockDiskType::Medium,
        MockDiskType::Large,
    ];

    /// The image's apparent size in bytes.
    pub fn size_bytes(self) -> u64 {
        match self {
            MockDiskType::Minimal => MIB,
            MockDiskType::Small => 10 * MIB,
            MockDiskType::Medium => 100 * MIB,
            MockDiskType::Large => 1024 * MIB,
            MockDiskType::Custom(n) => n,
        }
    }

    /// The lowercase name (`minimal`, …, `custom`).
    pub fn name(self) -> &'static str {
        match self {
            MockDiskType::Minimal => "minimal",
            MockDiskType::Small => "small",
            MockDiskType::Medium => "medium",
            MockDiskType::Large => "large",
            MockDiskType::Custom(_) => "custom",
        }
    }

    /// What the type is for, one line.
    pub fn purpose(self) -> &'static str {
        match self {
            MockDiskType::Minimal => "basic functionality tests",
            MockDiskType::Small => "quick performance tests",
            MockDiskType::Medium => "realistic scenarios",
            MockDiskType::Large => "stress testing",
            MockDiskType::Custom(_) => "specific requirements",
        }
    }
}

impl fmt::Display for MockDiskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockDiskType::Custom(n) => write!(f, "custom({n} bytes)"),
            t => f.write_str(t.name()),
        }
    }
}

impl FromStr for MockDiskType {
    type Err = MockDiskError;
    /// `minimal`, `small`, `medium`, `large`, or a size such as `64M`, `2G`, `4096K`,
    /// `1048576` (bytes; suffixes are powers of 1024).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(t) = MockDiskType::NAMED.into_iter().find(|t| t.name() == lower) {
            return Ok(t);
        }
        let bad = || {
            MockDiskError::InvalidInput(format!(
                "unknown disk type {s:?}; expected minimal, small, medium, large, or a size like \
                 64M or 2G"
            ))
        };
        let lower = lower.strip_prefix("custom:").unwrap_or(&lower);
        let (digits, mult) = match lower.char_indices().last() {
            Some((i, 'k')) => (&lower[..i], 1024),
            Some((i, 'm')) => (&lower[..i], MIB),
            Some((i, 'g')) => (&lower[..i], 1024 * MIB),
            Some((i, 't')) => (&lower[..i], 1024 * 1024 * MIB),
            _ => (lower, 1),
        };
        let n: u64 = digits.trim_end_matches("i").parse().map_err(|_| bad())?;
        n.checked_mul(mult)
            .map(MockDiskType::Custom)
            .ok_or_else(bad)
    }
}

/// The image file format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    /// A raw, sparse disk image.
    #[default]
    Raw,
    /// QEMU's qcow2 (made with `qemu-img convert`).
    Qcow2,
    /// VMware's VMDK, monolithicSparse (made with `qemu-img convert`).
    Vmdk,
    /// Hyper-V's VHDX, dynamic (made with `qemu-img convert`).
    Vhdx,
    /// VirtualBox's VDI, dynamic (made with `qemu-img convert`).
    Vdi,
    /// Virtual PC / Azure VHD, dynamic (made with `qemu-img convert -O vpc`).
    Vhd,
}

impl DiskFormat {
    /// `raw`, `qcow2`, `vmdk`, `vhdx`, `vdi` or `vhd`.
    pub fn name(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vmdk => "vmdk",
            DiskFormat::Vhdx => "vhdx",
            DiskFormat::Vdi => "vdi",
            DiskFormat::Vhd => "vhd",
        }
    }

    /// The `qemu-img convert` output format and options that make this format.
    pub fn qemu_img_output(self) -> (&'static str, &'static str) {
        match self {
            DiskFormat::Raw => ("raw", ""),
            DiskFormat::Qcow2 => ("qcow2", "compat=1.1"),
            DiskFormat::Vmdk => ("vmdk", "subformat=monolithicSparse"),
            DiskFormat::Vhdx => ("vhdx", "subformat=dynamic"),
            DiskFormat::Vdi => ("vdi", "static=off"),
            DiskFormat::Vhd => ("vpc", "subformat=dynamic,force_size=on"),
        }
    }
}

impl FromStr for DiskFormat {
    type Err = MockDiskError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "raw" | "img" => Ok(DiskFormat::Raw),
            "qcow2" => Ok(DiskFormat::Qcow2),
            "vmdk" => Ok(DiskFormat::Vmdk),
            "vhdx" => Ok(DiskFormat::Vhdx),
            "vdi" => Ok(DiskFormat::Vdi),
            "vhd" | "vpc" => Ok(DiskFormat::Vhd),
            _ => Err(MockDiskError::InvalidInput(format!(
                "unknown disk format {s:?}; expected raw, qcow2, vmdk, vhdx, vdi or vhd"
            ))),
        }
    }
}

/// How the guest's filesystems are laid out on the disk.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// An EFI system partition (where the size allows) and one ext4 root.
    #[default]
    Standard,
    /// An EFI system partition and one LVM2 physical volume holding a volume group
    /// with `root`, `usr` and `var` logical volumes, each ext4.
    Lvm,
    /// Like `Standard` with an ext2 root.
    Ext2,
    /// Like `Standard` with an ext3 root.
    Ext3,
    /// Two Linux roots on one disk: the requested OS and a second one of another
    /// family (see [`MockDiskBuilder::second_os_type`]), sharing the EFI partition.
    DualBoot,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 5] = [
        Layout::Standard,
        Layout::Lvm,
        Layout::Ext2,
        Layout::Ext3,
        Layout::DualBoot,
    ];

    /// The lowercase name (`standard`, `lvm`, `ext2`, `ext3`, `dualboot`).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Standard => "standard",
            Layout::Lvm => "lvm",
            Layout::Ext2 => "ext2",
            Layout::Ext3 => "ext3",
            Layout::DualBoot => "dualboot",
        }
    }
}

impl FromStr for Layout {
    type Err = MockDiskError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase().replace(['-', '_'], "");
        Layout::ALL
            .into_iter()
            .find(|l| l.name() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = Layout::ALL.iter().map(|l| l.name()).collect();
                MockDiskError::InvalidInput(format!(
                    "unknown layout {s:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// The partition table type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PartitionTable {
    /// GUID partition table (with protective MBR and backup header).
    #[default]
    Gpt,
    /// DOS/MBR partition table (BIOS-style: no EFI system partition).
    Mbr,
}

impl PartitionTable {
    /// `gpt` or `mbr`.
    pub fn name(self) -> &'static str {
        match self {
            PartitionTable::Gpt => "gpt",
            PartitionTable::Mbr => "mbr",
        }
    }
}

impl FromStr for PartitionTable {
    type Err = MockDiskError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "gpt" => Ok(PartitionTable::Gpt),
            "mbr" | "dos" | "msdos" => Ok(PartitionTable::Mbr),
            _ => Err(MockDiskError::InvalidInput(format!(
                "unknown partition table {s:?}; expected gpt or mbr"
            ))),
        }
    }
}

/// A step of generation, reported to the [`MockDiskBuilder::on_progress`] callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Writing the guest's files into a staging directory (one per guest OS).
    Populating {
        /// The OS being written.
        os: OsType,
    },
    /// Writing the partition table.
    Partitioning,
    /// Making a filesystem (`mke2fs -d` and `e2fsck -D`, `mkfs.vfat`).
    Formatting {
        /// What is being formatted (`root`, `usr`, `EFI`, …).
        what: String,
    },
    /// Writing the LVM2 label and metadata.
    Lvm,
    /// Converting to qcow2.
    Converting,
    /// Renaming into place and writing the manifest.
    Finishing,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Populating { os } => write!(f, "writing the {} guest", os.name()),
            Stage::Partitioning => f.write_str("writing the partition table"),
            Stage::Formatting { what } => write!(f, "making the {what} filesystem"),
            Stage::Lvm => f.write_str("writing LVM2 metadata"),
            Stage::Converting => f.write_str("converting to qcow2"),
            Stage::Finishing => f.write_str("finishing"),
        }
    }
}

/// A progress callback (shared, so the builder stays `Clone + Send + Sync`).
pub type ProgressFn = Arc<dyn Fn(&Stage) + Send + Sync>;

/// Describes a mock disk to generate; [`MockDiskBuilder::build`] writes it.
///
/// Cheap to clone, `Send + Sync`: a batch is a list of builders built in parallel
/// (see [`build_batch`]).
#[derive(Clone)]
pub struct MockDiskBuilder {
    pub(crate) disk_type: MockDiskType,
    pub(crate) os_type: String,
    pub(crate) second_os_type: Option<String>,
    pub(crate) hostname: String,
    pub(crate) num_files: usize,
    pub(crate) num_packages: usize,
    pub(crate) seed: u64,
    pub(crate) format: DiskFormat,
    pub(crate) layout: Layout,
    pub(crate) partition_table: PartitionTable,
    pub(crate) write_manifest: bool,
    pub(crate) tool_path: Option<Vec<PathBuf>>,
    pub(crate) progress: Option<ProgressFn>,
}

impl fmt::Debug for MockDiskBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockDiskBuilder")
            .field("disk_type", &self.disk_type)
            .field("os_type", &self.os_type)
            .field("second_os_type", &self.second_os_type)
            .field("hostname", &self.hostname)
            .field("num_files", &self.num_files)
            .field("num_packages", &self.num_packages)
            .field("seed", &self.seed)
            .field("format", &self.format)
            .field("layout", &self.layout)
            .field("partition_table", &self.partition_table)
            .field("write_manifest", &self.write_manifest)
            .field("tool_path", &self.tool_path)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for MockDiskBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MockDiskBuilder {
    /// The default seed.
    pub const DEFAULT_SEED: u64 = 42;

    /// A Small ubuntu disk named `mock-vm` with 100 files and 200 packages, raw,
    /// GPT, standard layout, seed [`Self::DEFAULT_SEED`].
    pub fn new() -> Self {
        Self {
            disk_type: MockDiskType::Small,
            os_type: "ubuntu".into(),
            second_os_type: None,
            hostname: "mock-vm".into(),
            num_files: 100,
            num_packages: 200,
            seed: Self::DEFAULT_SEED,
            format: DiskFormat::Raw,
            layout: Layout::Standard,
            partition_table: PartitionTable::Gpt,
            write_manifest: true,
            tool_path: None,
            progress: None,
        }
    }
    /// The disk's size.
    pub fn disk_type(mut self, t: MockDiskType) -> Self {
        self.disk_type = t;
        self
    }
    /// The guest OS by name: `ubuntu`, `debian`, `fedora`, `rocky`, `alpine`, `arch`
    /// (checked by [`build`](Self::build), which names the valid ones).
    pub fn os_type(mut self, os: impl Into<String>) -> Self {
        self.os_type = os.into();
        self
    }
    /// The second OS of a [`Layout::DualBoot`] disk (default: fedora, or ubuntu
    /// when the first is an rpm distro).
    pub fn second_os_type(mut self, os: impl Into<String>) -> Self {
        self.second_os_type = Some(os.into());
        self
    }
    /// The guest's hostname (`/etc/hostname`).
    pub fn hostname(mut self, h: impl Into<String>) -> Self {
        self.hostname = h.into();
        self
    }
    /// How many user files to write (besides the system files).
    pub fn num_files(mut self, n: usize) -> Self {
        self.num_files = n;
        self
    }
    /// How many packages the package database holds, exactly.
    pub fn num_packages(mut self, n: usize) -> Self {
        self.num_packages = n;
        self
    }
    /// The seed of every random choice (names, versions, UUIDs).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Raw (default) or qcow2.
    pub fn format(mut self, f: DiskFormat) -> Self {
        self.format = f;
        self
    }
    /// The filesystem layout.
    pub fn layout(mut self, l: Layout) -> Self {
        self.layout = l;
        self
    }
    /// GPT (default) or MBR.
    pub fn partition_table(mut self, t: PartitionTable) -> Self {
        self.partition_table = t;
        self
    }
    /// Whether to write `<image>.manifest.json` beside the image (default: yes).
    pub fn write_manifest(mut self, yes: bool) -> Self {
        self.write_manifest = yes;
        self
    }
    /// Look for the system tools only in `dirs` (default: `$PATH`, then
    /// `/usr/sbin` and `/sbin`).
    pub fn tool_path(mut self, dirs: Vec<PathBuf>) -> Self {
        self.tool_path = Some(dirs);
        self
    }
    /// Call `f` at each stage of generation (for progress bars).
    pub fn on_progress(mut self, f: impl Fn(&Stage) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The parsed guest OS.
    pub fn parsed_os_type(&self) -> Result<OsType, MockDiskError> {
        self.os_type.parse()
    }

    /// Generate the image at `path` (and `<path>.manifest.json`).
    ///
    /// The image is written under a temporary name in the same directory and
    /// renamed at the end; on any error nothing is left behind.
    pub fn build(&self, path: impl AsRef<Path>) -> Result<MockDisk, MockDiskError> {
        crate::assemble::build(self, path.as_ref())
    }
}

/// Build many disks in parallel (rayon's global pool); results in input order.
pub fn build_batch(jobs: &[(MockDiskBuilder, PathBuf)]) -> Vec<Result<MockDisk, MockDiskError>> {
    use rayon::prelude::*;
    jobs.par_iter().map(|(b, p)| b.build(p)).collect()
}

/// A generated mock disk: where it is and what is on it.
#[derive(Debug, Clone)]
pub struct MockDisk {
    pub(crate) path: PathBuf,
    pub(crate) manifest: Manifest,
}

impl MockDisk {
    /// The (first) guest OS's name, as given to the builder (`ubuntu`, …).
    pub fn os_type(&self) -> &str {
        self.manifest
            .guests
            .first()
            .map(|g| g.os_type.name())
            .unwrap_or("")
    }
    /// The (first) guest's hostname.
    pub fn hostname(&self) -> &str {
        self.manifest
            .guests
            .first()
            .map(|g| g.content.hostname.as_str())
            .unwrap_or("")
    }
    /// The image file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The disk's apparent (virtual) size in bytes.
    pub fn size(&self) -> u64 {
        self.manifest.disk.size_bytes
    }
    /// The image file format.
    pub fn format(&self) -> DiskFormat {
        self.manifest.disk.format
    }
    /// The ground truth of what was written.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// Where the manifest was written (`<image>.manifest.json`).
    pub fn manifest_path(&self) -> PathBuf {
        crate::manifest::manifest_path(&self.path)
    }
}
