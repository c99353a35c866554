//! The guest operating system written into a mock disk: os-release and the distro's
//! release files, hostname, fstab, passwd/group, /boot, an ELF `/usr/bin/bash`, the
//! package database in the distro's real format, and `num_files` user files.
//!
//! [`populate`] writes all of it into a staging directory on the host (later fed
//! to `mke2fs -d`) and returns [`GuestContent`], the ground truth for the manifest.
//!
//! | OsType | release written, kernel | package database | usr-merged |
//! |---|---|---|---|
//! | Ubuntu | 24.04.1 LTS (noble), 6.8.0-41-generic | `/var/lib/dpkg/status` (amd64/all) | yes |
//! | Debian | 12.6 (bookworm), 6.1.0-22-amd64 | `/var/lib/dpkg/status` (amd64/all) | yes |
//! | Fedora | 40 (Cloud Edition), 6.8.5-301.fc40 | `rpmdb.sqlite` [^rpm] | yes |
//! | Rocky | 9.4 (Blue Onyx), 5.14.0-427.13.1.el9_4 | `rpmdb.sqlite` [^rpm] | yes |
//! | Alpine | 3.20.3, linux-lts | `/lib/apk/db/installed` (x86_64) | no (busybox) |
//! | Arch | rolling, linux | `/var/lib/pacman/local` (x86_64/any) | yes, sbin too |
//!
//! [^rpm]: in `/usr/lib/sysimage/rpm`; x86_64/noarch packages.
//!
//! Submodules: `distro` (the facts above), `system` (skeleton, release files,
//! identity, users, /boot, ELF programs), `names` (package lists), `deb`, `rpm` +
//! `rpmheader` (the header encoder), `apk`, `pacman`, `files` (user files), `elf`,
//! `tree` (the staging writer that sets modes and mtimes at the end).

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
    /// apk's keeps its `r` (`r0`) as apk prints it; libguestfs strips it (`0`).
    pub release: String,
    /// Architecture as the package manager names it (`amd64`, `x86_64`, `noarch`, `all`).
    pub arch: String,
}

/// The ground truth of the guest that was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuestContent {
    /// The distro as libguestfs names it (`ubuntu`, `debian`, `fedora`, `rocky`, `alpinelinux`,
    /// `archlinux`).
    pub distro: String,
    /// PRETTY_NAME from os-release. (virt-inspector reports Debian's as the first
    /// line of /etc/debian_version, `12.6`, since os-release's VERSION_ID has no minor.)
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
///
/// Everything is deterministic: the same `spec` gives byte-identical files, the
/// same modes, and every modification time set to the release's date. Files are
/// owned by whoever runs the generator (`mke2fs -d` copies host ownership).
pub fn populate(root: &Path, spec: &GuestSpec) -> Result<GuestContent, MockDiskError> {
    validate(spec)?;
    let meta = std::fs::metadata(root).map_err(|e| MockDiskError::io(root, e))?;
    if !meta.is_dir() {
        return Err(MockDiskError::InvalidInput(format!(
            "{} is not a directory",
            root.display()
        )));
    }
    let mut entries = std::fs::read_dir(root).map_err(|e| MockDiskError::io(root, e))?;
    if entries.next().is_some() {
        return Err(MockDiskError::InvalidInput(format!(
            "{} is not empty",
            root.display()
        )));
    }
    let d = distro::Distro::of(spec.os);
    let pkgs = names::packages(&d, spec.seed, spec.num_packages)?;
    let mut tree = tree::Tree::new(root);
    system::write(&mut tree, &d, spec)?;
    match d.family {
        distro::Family::Deb => deb::write(&mut tree, &d, &pkgs)?,
        distro::Family::Rpm => rpm::write(&mut tree, &d, &pkgs)?,
        distro::Family::Apk => apk::write(&mut tree, &d, &pkgs, spec.seed)?,
        distro::Family::Pacman => pacman::write(&mut tree, &d, &pkgs)?,
    }
    let num_files = files::write(
        &mut tree,
        &d,
        &pkgs,
        &spec.hostname,
        spec.num_files,
        spec.seed,
    )?;
    tree.finish(d.epoch_time)?;
    let mut packages: Vec<PackageInfo> = pkgs
        .iter()
        .map(|p| PackageInfo {
            name: p.name.clone(),
            epoch: p.epoch,
            version: p.version.clone(),
            release: p.release.clone(),
            arch: p.arch.to_string(),
        })
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(GuestContent {
        distro: d.distro.to_string(),
        product_name: d.pretty_name.to_string(),
        version_id: d.version_id.to_string(),
        major_version: d.major,
        minor_version: d.minor,
        arch: "x86_64".to_string(),
        hostname: spec.hostname.clone(),
        package_format: d.package_format().to_string(),
        package_management: d.package_management().to_string(),
        packages,
        num_files,
        usr_merged: d.usr_merged,
    })
}

/// Longest hostname accepted (a DNS name's limit).
const MAX_HOSTNAME_LEN: usize = 253;

fn validate(spec: &GuestSpec) -> Result<(), MockDiskError> {
    let h = &spec.hostname;
    if h.is_empty() || h.len() > MAX_HOSTNAME_LEN {
        return Err(MockDiskError::InvalidInput(format!(
            "hostname must be 1 to {MAX_HOSTNAME_LEN} characters, got {}",
            h.len()
        )));
    }
    if !h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        || h.starts_with(['-', '.'])
    {
        return Err(MockDiskError::InvalidInput(format!(
            "hostname {h:?} may only contain letters, digits, '-' and '.', and must start with a \
             letter or digit"
        )));
    }
    for l in &spec.fstab {
        for (what, v) in [
            ("spec", &l.spec),
            ("mountpoint", &l.mountpoint),
            ("fs_type", &l.fs_type),
            ("options", &l.options),
        ] {
            if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(MockDiskError::InvalidInput(format!(
                    "fstab {what} {v:?} must be non-empty without spaces"
                )));
            }
        }
    }
    Ok(())
}

impl OsType {
    /// Every supported OS.
    pub const ALL: [OsType; 6] = [
        OsType::Ubuntu,
        OsType::Debian,
        OsType::Fedora,
        OsType::Rocky,
        OsType::Alpine,
        OsType::Arch,
    ];

    /// The lowercase name used on the command line (`ubuntu`, `rocky`, …).
    pub fn name(self) -> &'static str {
        match self {
            OsType::Ubuntu => "ubuntu",
            OsType::Debian => "debian",
            OsType::Fedora => "fedora",
            OsType::Rocky => "rocky",
            OsType::Alpine => "alpine",
            OsType::Arch => "arch",
        }
    }
}

impl std::str::FromStr for OsType {
    type Err = MockDiskError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        OsType::ALL
            .into_iter()
            .find(|o| o.name() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = OsType::ALL.iter().map(|o| o.name()).collect();
                MockDiskError::InvalidInput(format!(
                    "unknown os_type {s:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

impl PackageInfo {
    /// The version as the package manager writes it: `[epoch:]version[-release]`.
    pub fn full_version(&self) -> String {
        let mut s = String::new();
        if self.epoch != 0 {
            s.push_str(&self.epoch.to_string());
            s.push(':');
        }
        s.push_str(&self.version);
        if !self.release.is_empty() {
            s.push('-');
            s.push_str(&self.release);
        }
        s
    }
}

mod apk;
mod deb;
mod distro;
mod elf;
mod files;
mod names;
mod pacman;
mod rpm;
mod rpmheader;
mod system;
mod tree;

#[cfg(test)]
mod tests;
