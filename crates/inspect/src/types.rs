//! The inspection result: serde types whose field names follow virt-inspector's.
//! The JSON schema is documented in `docs/inspect-json.md`.

use serde::{Deserialize, Serialize};

/// Version of the JSON result layout. Bump on any incompatible change; the cache
/// key includes it, so old cache entries are never served after a change.
pub const SCHEMA_VERSION: u32 = 1;

/// One installed package, as virt-inspector's `applications` (name, epoch,
/// version, release, arch).
pub type Application = guestctl_pkgdb::Package;

/// A filesystem (or other recognised content: swap, LUKS, LVM PV) found on a volume,
/// as `virt-filesystems --long` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemInfo {
    /// Device name: `/dev/sda1`, `/dev/vg0/root`, or `/dev/sda` for a whole disk.
    pub device: String,
    /// Type as `blkid` names it (`ext4`, `vfat`, `ntfs`, `xfs`, `btrfs`, `swap`,
    /// `crypto_LUKS`, `LVM2_member`); `unknown` when nothing was recognised.
    #[serde(rename = "type")]
    pub fs_type: String,
    /// Filesystem UUID, if any.
    pub uuid: Option<String>,
    /// Label, if any.
    pub label: Option<String>,
    /// Size of the volume in bytes.
    pub size: u64,
}

/// A mountpoint of an operating system: where its fstab mounts a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mountpoint {
    /// The mountpoint (`/`, `/usr`, `/boot/efi`).
    pub mountpoint: String,
    /// The device mounted there (`/dev/sda2`, `/dev/vg0/usr`).
    pub device: String,
}

/// One operating system found on the image (one per root filesystem).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatingSystem {
    /// The root filesystem's device (`/dev/sda2`, `/dev/vg0/root`).
    pub root: String,
    /// `linux` or `windows`.
    pub name: String,
    /// The distro as libguestfs names it (`ubuntu`, `debian`, `fedora`, `rocky`,
    /// `alpinelinux`, `archlinux`, `windows`, ...); `null` if unknown.
    pub distro: Option<String>,
    /// Product name (`PRETTY_NAME`, or Windows' `ProductName`).
    pub product_name: Option<String>,
    /// Windows' `InstallationType` (`Client`, `Server`); `null` on Linux.
    pub product_variant: Option<String>,
    /// Major version (0 when unknown or a rolling release).
    pub major_version: u32,
    /// Minor version.
    pub minor_version: u32,
    /// Windows build number (`CurrentBuildNumber`); `null` on Linux.
    pub build_id: Option<String>,
    /// Architecture (`x86_64`, `aarch64`, `i386`, ...); `null` if unknown.
    pub arch: Option<String>,
    /// Hostname; `null` if none is configured.
    pub hostname: Option<String>,
    /// `deb`, `rpm`, `apk`, `pacman`, ...; `null` if unknown.
    pub package_format: Option<String>,
    /// `apt`, `dnf`, `yum`, `apk`, `pacman`, `zypper`, ...; `null` if unknown.
    pub package_management: Option<String>,
    /// Windows' system root (`/Windows`); `null` on Linux.
    pub windows_systemroot: Option<String>,
    /// Mountpoints from fstab mapped to the devices found, `/` first.
    pub mountpoints: Vec<Mountpoint>,
    /// The filesystems belonging to this OS (its mountpoints and swap).
    pub filesystems: Vec<FilesystemInfo>,
    /// Installed packages sorted by name; empty when not listed (`--no-packages`)
    /// or the package database was not readable (see diagnostics).
    pub applications: Vec<Application>,
}

/// Something wrong that did not stop the inspection (a bad partition, an
/// unreadable package database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// What it concerns (`sda3`, `/dev/sda2:/var/lib/dpkg/status`).
    pub subject: String,
    /// A short machine-readable kind (`corrupt`, `unsupported`, `io`, ...).
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

/// The result of inspecting one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The image path as given.
    pub image: String,
    /// Image format (`raw`, `qcow2`).
    pub format: String,
    /// Virtual disk size in bytes.
    pub size: u64,
    /// Partition table (`gpt`, `msdos`, `none`).
    pub partition_table: String,
    /// Every volume with what it holds.
    pub filesystems: Vec<FilesystemInfo>,
    /// The operating systems found (empty if none).
    pub operatingsystems: Vec<OperatingSystem>,
    /// Problems that did not stop the inspection.
    pub diagnostics: Vec<Diagnostic>,
}

impl Inspection {
    /// Parse an inspection from JSON (as `guestctl inspect --json` prints it).
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
    /// This inspection as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

pub(crate) fn kind_name(k: crate::ErrorKind) -> &'static str {
    use crate::ErrorKind as K;
    match k {
        K::Io => "io",
        K::Corrupt => "corrupt",
        K::Unsupported => "unsupported",
        K::NotFound => "not_found",
        K::LimitExceeded => "limit_exceeded",
        K::SymlinkLoop => "symlink_loop",
        K::WrongType => "wrong_type",
        K::InvalidPath => "invalid_path",
        K::InvalidInput => "invalid_input",
    }
}

impl From<&crate::InspectError> for Diagnostic {
    fn from(e: &crate::InspectError) -> Self {
        Diagnostic {
            subject: e.subject().to_string(),
            kind: kind_name(e.kind()).to_string(),
            message: guestctl_block::chain_text(e),
        }
    }
}
