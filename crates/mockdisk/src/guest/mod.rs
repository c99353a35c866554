//! The guest operating system written into a mock disk: os-release and the distro's
//! release files, hostname, fstab, passwd/group, /boot, an ELF `/usr/bin/bash`, the
//! package database in the distro's real format, and `num_files` user files.
//!
//! [`populate`] writes all of it into a staging directory on the host (later fed
//! to `mke2fs -d`) and returns [`GuestContent`], the ground truth for the manifest.

use crate::error::MockDiskError;
use std::path::Path;

/// The guest operating systems the generator can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsType {
    /// Ubuntu (deb, usr-merged).
    Ubuntu,
    /// Debian (deb, usr-merged).
    Debian,
    /// Fedora (rpm, rpmdb.sqlite).
    Fedora,
    /// Rocky Linux, RHEL family (rpm, rpmdb.sqlite).
    Rocky,
    /// Alpine Linux (apk).
    Alpine,
    /// Arch Linux (pacman).
    Arch,
}

/// One line of the guest's /etc/fstab.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FstabLine {
    /// First field: `UUID=...`, `LABEL=...`, `/dev/mapper/...`.
    pub spec: String,
    /// Mount point.
    pub mountpoint: String,
    /// Filesystem type (`ext4`, `vfat`).
    pub fs_type: String,
    /// Mount options.
    pub options: String,
    /// fsck pass number.
    pub pass: u8,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    /// Which OS.
    pub os: OsType,
    /// /etc/hostname.
    pub hostname: String,
    /// How many user files to write.
    pub num_files: usize,
    /// How many packages the package database holds, exactly.
    pub num_packages: usize,
    /// Seed for every random choice.
    pub seed: u64,
    /// The fstab lines (the disk assembler knows the UUIDs).
    pub fstab: Vec<FstabLine>,
}

/// One installed package, with fields as virt-inspector reports applications.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageInfo {
    /// Package name.
    pub name: String,
    /// Epoch (0 when none).
    pub epoch: u32,
    /// Upstream version.
    pub version: String,
    /// Release (rpm release, Debian revision, apk/pacman pkgrel); empty when none.
    pub release: String,
    /// Architecture as the package manager names it (`amd64`, `x86_64`, `noarch`, `all`).
    pub arch: String,
}

/// The ground truth of the guest that was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuestContent {
    /// The distro as libguestfs names it (`ubuntu`, `debian`, `fedora`, `rocky`, `alpinelinux`, `archlinux`).
    pub distro: String,
    /// PRETTY_NAME from os-release.
    pub product_name: String,
    /// VERSION_ID from os-release (empty for rolling releases).
    pub version_id: String,
    /// Major version (0 when none).
    pub major_version: u32,
    /// Minor version.
    pub minor_version: u32,
    /// Guest architecture (`x86_64`).
    pub arch: String,
    /// Hostname written.
    pub hostname: String,
    /// `deb`, `rpm`, `apk` or `pacman`.
    pub package_format: String,
    /// `apt`, `dnf`, `apk` or `pacman`.
    pub package_management: String,
    /// Every package in the database, sorted by name.
    pub packages: Vec<PackageInfo>,
    /// Number of user files written (`num_files`).
    pub num_files: usize,
    /// Whether /bin, /sbin, /lib are symlinks into /usr.
    pub usr_merged: bool,
}

/// Write the guest into `root` (an empty directory on the host).
pub fn populate(root: &Path, spec: &GuestSpec) -> Result<GuestContent, MockDiskError> {
    let _ = (root, spec);
    Err(MockDiskError::InvalidInput("guest content generator not written yet".into()))
}
