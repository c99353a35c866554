//! guestctl-pkgdb: pure parsers of the package databases found in guest images.
//!
//! One job: turn the bytes of a package database (handed over by the inspector,
//! which reads them out of the guest) into a sorted list of [`Package`]s. No
//! filesystem access, no subprocess, no unsafe code.
//!
//! - dpkg: [`parse_dpkg_status`] (`/var/lib/dpkg/status`)
//! - rpm: [`RpmHeader`] (a codec for the header blobs stored in rpmdb) and
//!   [`read_rpmdb_sqlite`] (`/var/lib/rpm/rpmdb.sqlite`, loaded in memory)
//! - apk: [`parse_apk_installed`] (`/lib/apk/db/installed`)
//! - pacman: [`parse_pacman_desc`] (`/var/lib/pacman/local/<pkg>/desc`) and
//!   [`parse_alpm_db_version`]
//!
//! Every size and count read from the input is bounded by the named constants
//! in this module; exceeding one is a [`PkgError::LimitExceeded`].
#![forbid(unsafe_code)]
#![warn(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    clippy::manual_div_ceil,
    clippy::manual_is_multiple_of
)]

mod apk;
mod dpkg;
mod error;
mod pacman;
pub mod rpm;
mod rpmdb;
mod text;

pub use apk::parse_apk_installed;
pub use dpkg::{dpkg_state_is_installed, parse_dpkg_status, DPKG_STATES};
pub use error::{PkgError, PkgErrorKind};
pub use pacman::{parse_alpm_db_version, parse_pacman_desc};
pub use rpm::{RpmHeader, RpmHeaderError};
pub use rpmdb::{detect_rpmdb_format, read_rpmdb_sqlite, RpmDbFormat, RpmDiagnostic, RpmListing};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest database file accepted, in bytes. A dpkg status of 10,000 packages is
/// about 15 MiB and an rpmdb.sqlite of 5,000 packages about 300 MiB; this leaves
/// room while keeping a hostile image from making us hold gigabytes.
pub const MAX_DB_BYTES: usize = 1 << 30;
/// Most packages listed from one database. Real systems have at most a few
/// tens of thousands; a bound keeps the result's memory proportional to sanity.
pub const MAX_PACKAGES: usize = 200_000;
/// Largest dpkg/apk stanza (one package's record), in bytes. Long descriptions
/// and Conffiles lists stay well under 1 MiB.
pub const MAX_STANZA_BYTES: usize = 1 << 20;
/// Longest name, version, release or architecture string kept, in bytes.
pub const MAX_STRING_LEN: usize = 4096;
/// Longest detail (URL, summary, description, ...) kept, in bytes; longer ones
/// are cut. Real descriptions stay under a few KiB.
pub const MAX_DETAIL_LEN: usize = 64 * 1024;
/// Largest single rpm header blob, in bytes (rpm's own `headerMaxbytes`).
pub const MAX_HEADER_BYTES: usize = 256 * 1024 * 1024;
/// Largest pacman `desc` file, in bytes (libguestfs uses 8 KiB; real ones with
/// long optdepends lists reach a few KiB).
pub const MAX_DESC_BYTES: usize = 1 << 20;

/// The package format of a guest, as virt-inspector names it (`package_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    /// Debian packages (dpkg).
    Deb,
    /// RPM packages.
    Rpm,
    /// Alpine packages (apk).
    Apk,
    /// Arch Linux packages (pacman).
    Pacman,
}

impl PackageFormat {
    /// The name virt-inspector uses: `deb`, `rpm`, `apk`, `pacman`.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageFormat::Deb => "deb",
            PackageFormat::Rpm => "rpm",
            PackageFormat::Apk => "apk",
            PackageFormat::Pacman => "pacman",
        }
    }
}

impl fmt::Display for PackageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One installed package, with its version split as virt-inspector splits it,
/// and the details the package database keeps about it.
///
/// Ordering is by name, then epoch, version, release and architecture
/// (string order, not the package manager's version order).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    /// Package name (Windows: the Uninstall subkey's name).
    pub name: String,
    /// Epoch, 0 when none.
    pub epoch: u32,
    /// Upstream version (dpkg), version (rpm, apk) or pkgver (pacman).
    pub version: String,
    /// Debian revision, rpm release, apk release (`r4`) or pacman pkgrel; `""` when none.
    pub release: String,
    /// Architecture (`amd64`, `x86_64`, `noarch`, …); `""` when the database has none.
    pub arch: String,
    /// The name shown to users (Windows' `DisplayName`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Where the application is installed (Windows' `InstallLocation`).
    #[serde(default)]
    pub install_path: Option<String>,
    /// Who publishes it (Windows' `Publisher`).
    #[serde(default)]
    pub publisher: Option<String>,
    /// Upstream home page: dpkg `Homepage`, rpm `URL`, apk `U`, pacman `%URL%`,
    /// Windows' `URLInfoAbout`.
    #[serde(default)]
    pub url: Option<String>,
    /// The source package it was built from: dpkg `Source` (its name, without a
    /// version in parentheses), rpm `SOURCERPM` (the file name less
    /// `-VERSION-RELEASE.src.rpm`), apk `o`, pacman `%BASE%`.
    #[serde(default)]
    pub source_package: Option<String>,
    /// One-line description: the first line of dpkg's `Description`, rpm
    /// `Summary`, apk `T`, pacman `%DESC%`.
    #[serde(default)]
    pub summary: Option<String>,
    /// Longer description: the body of dpkg's `Description` (continuation lines
    /// less their first space, joined by newlines), rpm `Description`, Windows'
    /// `Comments`.
    #[serde(default)]
    pub description: Option<String>,
}

impl Package {
    /// The version as the package manager prints it: `[epoch:]version[-release]`
    /// (dpkg `1:2.3-4ubuntu1`, rpm `2:1.0-3.el9`, apk `1.2.3-r4`, pacman `1:2.0-1`).
    pub fn full_version(&self) -> String {
        let mut s = String::with_capacity(
            self.version
                .len()
                .saturating_add(self.release.len())
                .saturating_add(12),
        );
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

/// Split `[epoch:]version[-release]`: the epoch is what precedes the first `:`
/// (digits only), the release what follows the last `-` (Debian policy; for rpm,
/// apk and pacman the release cannot contain `-` so first and last agree).
/// Returns `None` when the epoch is not a number or the version part is empty.
pub(crate) fn split_evr(s: &str) -> Option<(u32, &str, &str)> {
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (e.parse::<u32>().ok()?, rest)
        }
        None => (0, s),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((v, r)) => (v, r),
        None => (rest, ""),
    };
    if version.is_empty() {
        return None;
    }
    Some((epoch, version, release))
}

pub(crate) fn check_len(what: &'static str, s: &str) -> Result<(), PkgError> {
    if s.len() > MAX_STRING_LEN {
        return Err(error::limit(what, MAX_STRING_LEN, s.len()));
    }
    Ok(())
}

/// A detail string (URL, summary, description...) as kept: `None` when empty,
/// cut to [`MAX_DETAIL_LEN`] bytes at a character boundary otherwise. Details
/// are informative, so an overlong one is shortened rather than failing the
/// listing.
pub(crate) fn detail(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut end = s.len().min(MAX_DETAIL_LEN);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).map(str::to_owned)
}

pub(crate) fn check_db_size(len: usize) -> Result<(), PkgError> {
    if len > MAX_DB_BYTES {
        return Err(error::limit("database size in bytes", MAX_DB_BYTES, len));
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    clippy::manual_div_ceil,
    clippy::manual_is_multiple_of
)]
mod tests {
    use super::*;

    fn pkg(epoch: u32, version: &str, release: &str) -> Package {
        Package {
            name: "p".into(),
            epoch,
            version: version.into(),
            release: release.into(),
            arch: "x".into(),
            ..Package::default()
        }
    }

    #[test]
    fn full_version_forms() {
        assert_eq!(pkg(1, "2.3", "4ubuntu1").full_version(), "1:2.3-4ubuntu1");
        assert_eq!(pkg(0, "1.2", "").full_version(), "1.2");
        assert_eq!(pkg(0, "1.2.3", "r4").full_version(), "1.2.3-r4");
        assert_eq!(pkg(2, "1.0", "3.el9").full_version(), "2:1.0-3.el9");
    }

    #[test]
    fn details_are_cut_not_refused() {
        assert_eq!(detail(""), None);
        assert_eq!(detail("x").as_deref(), Some("x"));
        let long = "é".repeat(MAX_DETAIL_LEN);
        let cut = detail(&long).unwrap();
        assert!(cut.len() <= MAX_DETAIL_LEN && cut.len() + 2 > MAX_DETAIL_LEN);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn split_evr_rules() {
        assert_eq!(split_evr("1:2.3-4ubuntu1"), Some((1, "2.3", "4ubuntu1")));
        assert_eq!(split_evr("1.2"), Some((0, "1.2", "")));
        // Debian: the revision follows the LAST hyphen.
        assert_eq!(split_evr("1.0-beta-2"), Some((0, "1.0-beta", "2")));
        // Colons after the epoch belong to the upstream version.
        assert_eq!(split_evr("2:1:0-1"), Some((2, "1:0", "1")));
        assert_eq!(split_evr("x:1.0"), None);
        assert_eq!(split_evr(":1.0"), None);
        assert_eq!(split_evr("99999999999:1"), None);
        assert_eq!(split_evr("-1"), None);
    }

    #[test]
    fn package_serde_and_order() {
        let a = pkg(0, "1", "");
        let mut b = a.clone();
        b.name = "a".into();
        let mut v = [a.clone(), b.clone()];
        v.sort();
        assert_eq!(v[0].name, "a");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"name":"p","epoch":0,"version":"1","release":"","arch":"x","display_name":null,"install_path":null,"publisher":null,"url":null,"source_package":null,"summary":null,"description":null}"#
        );
        let back: Package = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        // The details may be absent from JSON written before they existed.
        let old = r#"{"name":"p","epoch":0,"version":"1","release":"","arch":"x"}"#;
        assert_eq!(serde_json::from_str::<Package>(old).unwrap(), a);
        assert_eq!(
            serde_json::to_string(&PackageFormat::Pacman).unwrap(),
            "\"pacman\""
        );
    }
}
