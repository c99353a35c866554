//! Operation 3, package listing: find the guest's package database for its
//! package format and hand its bytes to `guestctl-pkgdb`.

use crate::error::{ErrorKind, InspectError};
use crate::guestfs::GuestFs;
use crate::types::{Application, Diagnostic};
use guestctl_pkgdb::MAX_DB_BYTES;
use std::ops::ControlFlow;

/// Where rpm keeps its sqlite database, newest layout first.
pub const RPMDB_PATHS: &[&str] = &[
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
];
/// dpkg's status file.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
/// apk's installed database.
pub const APK_INSTALLED: &str = "/lib/apk/db/installed";
/// pacman's local database directory (one `<name>-<version>/desc` per package).
pub const PACMAN_LOCAL: &str = "/var/lib/pacman/local";

fn db_limit() -> u64 {
    u64::try_from(MAX_DB_BYTES).unwrap_or(u64::MAX)
}

fn pkg_err(e: guestctl_pkgdb::PkgError, path: &str) -> InspectError {
    InspectError::new(e.kind().into(), path, "cannot parse the package database").with_source(e)
}

/// List the installed packages of the guest mounted in `g`, whose package format is
/// `format` (`deb`, `rpm`, `apk`, `pacman`), sorted by name. Packages that could
/// not be read (a bad rpm header, an unreadable pacman `desc`) are skipped and
/// reported as diagnostics.
pub fn list_applications(
    g: &GuestFs,
    format: &str,
) -> Result<(Vec<Application>, Vec<Diagnostic>), InspectError> {
    let mut diags = Vec::new();
    let mut apps = match format {
        "deb" => {
            let b = g.read_file(DPKG_STATUS, db_limit())?;
            guestctl_pkgdb::parse_dpkg_status(&b).map_err(|e| pkg_err(e, DPKG_STATUS))?
        }
        "apk" => {
            let b = g.read_file(APK_INSTALLED, db_limit())?;
            guestctl_pkgdb::parse_apk_installed(&b).map_err(|e| pkg_err(e, APK_INSTALLED))?
        }
        "rpm" => {
            let path = RPMDB_PATHS
                .iter()
                .copied()
                .find(|p| g.is_file(p))
                .ok_or_else(|| {
                    InspectError::new(
                        ErrorKind::NotFound,
                        RPMDB_PATHS.join(" or "),
                        "no rpmdb.sqlite (Berkeley DB and NDB rpm databases are not supported)",
                    )
                })?;
            let b = g.read_file(path, db_limit())?;
            let listing = guestctl_pkgdb::read_rpmdb_sqlite(&b).map_err(|e| pkg_err(e, path))?;
            diags.extend(listing.diagnostics.iter().map(|d| Diagnostic {
                subject: format!("{path}#{}", d.hnum),
                kind: "corrupt".into(),
                message: d.error.to_string(),
            }));
            listing.packages
        }
        "pacman" => list_pacman(g, &mut diags)?,
        other => {
            return Err(InspectError::new(
                ErrorKind::Unsupported,
                "",
                format!("listing {other} packages is not supported"),
            ))
        }
    };
    apps.sort();
    Ok((apps, diags))
}

fn list_pacman(g: &GuestFs, diags: &mut Vec<Diagnostic>) -> Result<Vec<Application>, InspectError> {
    // Resolve the directory once (symlinks followed inside the guest); each
    // `<pkg>/desc` is then read below it without re-walking the path and without
    // following any symlink.
    let (fs, dir) = g.resolve_dir(PACMAN_LOCAL)?;
    let limit = u64::try_from(guestctl_pkgdb::MAX_DESC_BYTES).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    let mut too_many = false;
    fs.for_each_subdir_file(&dir, "desc", limit, &mut |pkg, read| {
        if out.len() >= guestctl_pkgdb::MAX_PACKAGES {
            too_many = true;
            return ControlFlow::Break(());
        }
        let shown = || format!("{PACMAN_LOCAL}/{pkg}/desc");
        match read {
            Ok(b) => match guestctl_pkgdb::parse_pacman_desc(&b) {
                Ok(p) => out.push(p),
                Err(err) => diags.push(Diagnostic {
                    subject: shown(),
                    kind: "corrupt".into(),
                    message: err.to_string(),
                }),
            },
            Err(err) => diags.push(Diagnostic::from(&InspectError::from_fs(err, &shown()))),
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| InspectError::from_fs(e, PACMAN_LOCAL))?;
    if too_many {
        return Err(InspectError::new(
            ErrorKind::LimitExceeded,
            PACMAN_LOCAL,
            "too many packages",
        ));
    }
    Ok(out)
}
