//! pacman local database: one `desc` file per package
//! (`/var/lib/pacman/local/<name>-<ver>/desc`) made of `%SECTION%` headers each
//! followed by value lines up to a blank line; and `ALPM_DB_VERSION`.

use crate::error::limit;
use crate::text::{text, Lines};
use crate::{check_len, detail, split_evr, Package, PackageFormat, PkgError, MAX_DESC_BYTES};

fn syntax(line: usize, reason: String) -> PkgError {
    PkgError::Syntax {
        format: PackageFormat::Pacman,
        line,
        reason,
    }
}

/// Parse one pacman `desc` file: `%NAME%`, `%VERSION%` (`[epoch:]pkgver-pkgrel`)
/// and `%ARCH%` are required (as libguestfs requires them), a pkgrel too;
/// `%URL%`, `%BASE%` and `%DESC%` are kept when present.
pub fn parse_pacman_desc(bytes: &[u8]) -> Result<Package, PkgError> {
    if bytes.len() > MAX_DESC_BYTES {
        return Err(limit(
            "pacman desc size in bytes",
            MAX_DESC_BYTES,
            bytes.len(),
        ));
    }
    let mut name = None;
    let mut version = None;
    let mut arch = None;
    let mut url = None;
    let mut base = None;
    let mut desc = None;
    // Which section the following value lines belong to; only the first value is kept.
    let mut current: Option<&mut Option<(usize, &[u8])>> = None;
    for (line_no, line) in Lines::new(bytes) {
        if line.is_empty() {
            current = None;
            continue;
        }
        if let Some(slot) = current.take() {
            if slot.is_none() {
                *slot = Some((line_no, line));
            }
            // Further lines of a multi-value section (e.g. %LICENSE%) are skipped.
            current = None;
            continue;
        }
        current = match line {
            b"%NAME%" => Some(&mut name),
            b"%VERSION%" => Some(&mut version),
            b"%ARCH%" => Some(&mut arch),
            b"%URL%" => Some(&mut url),
            b"%BASE%" => Some(&mut base),
            b"%DESC%" => Some(&mut desc),
            _ => None,
        };
    }
    let missing = |field| PkgError::MissingField {
        format: PackageFormat::Pacman,
        line: 0,
        field,
    };
    let (_, name) = name.ok_or_else(|| missing("%NAME%"))?;
    let (vline, version) = version.ok_or_else(|| missing("%VERSION%"))?;
    let (_, arch) = arch.ok_or_else(|| missing("%ARCH%"))?;
    let name = text(name).into_owned();
    let version = text(version);
    let arch = text(arch).into_owned();
    check_len("pacman package name length", &name)?;
    check_len("pacman version length", &version)?;
    check_len("pacman architecture length", &arch)?;
    let keep = |v: Option<(usize, &[u8])>| v.and_then(|(_, b)| detail(&text(b)));
    match split_evr(&version) {
        Some((epoch, v, rel)) if !rel.is_empty() => Ok(Package {
            name,
            epoch,
            version: v.to_owned(),
            release: rel.to_owned(),
            arch,
            url: keep(url),
            source_package: keep(base),
            summary: keep(desc),
            ..Package::default()
        }),
        _ => Err(syntax(
            vline,
            format!("malformed %VERSION% {version:?} (want [epoch:]pkgver-pkgrel)"),
        )),
    }
}

/// Parse `/var/lib/pacman/local/ALPM_DB_VERSION` (a decimal number, e.g. `9`).
pub fn parse_alpm_db_version(bytes: &[u8]) -> Result<u32, PkgError> {
    let s = text(bytes.get(..64).unwrap_or(bytes));
    let t = s.trim();
    t.parse::<u32>()
        .map_err(|_| syntax(1, format!("ALPM_DB_VERSION is not a number: {t:?}")))
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

    const DESC: &str = "%NAME%
linux-firmware

%VERSION%
20240312.3b128b60-1

%BASE%
linux-firmware

%DESC%
Firmware files for Linux

%URL%
https://git.kernel.org/?p=linux/kernel/git/firmware/linux-firmware.git;a=summary

%ARCH%
any

%BUILDDATE%
1710340432

%LICENSE%
GPL2
GPL3
custom

%VALIDATION%
pgp
";

    #[test]
    fn desc_sample() {
        let p = parse_pacman_desc(DESC.as_bytes()).unwrap();
        assert_eq!(p.name, "linux-firmware");
        assert_eq!(
            (p.epoch, p.version.as_str(), p.release.as_str()),
            (0, "20240312.3b128b60", "1")
        );
        assert_eq!(p.arch, "any");
        assert_eq!(p.full_version(), "20240312.3b128b60-1");
        assert_eq!(p.source_package.as_deref(), Some("linux-firmware"));
        assert_eq!(p.summary.as_deref(), Some("Firmware files for Linux"));
        assert_eq!(
            p.url.as_deref(),
            Some(
                "https://git.kernel.org/?p=linux/kernel/git/firmware/linux-firmware.git;a=summary"
            )
        );
        assert_eq!(p.description, None);
    }

    #[test]
    fn desc_with_epoch_and_crlf() {
        let d = "%NAME%\r\nlibjpeg-turbo\r\n\r\n%VERSION%\r\n1:3.0.2-1\r\n\r\n%ARCH%\r\nx86_64";
        let p = parse_pacman_desc(d.as_bytes()).unwrap();
        assert_eq!(
            (p.epoch, p.version.as_str(), p.release.as_str()),
            (1, "3.0.2", "1")
        );
        assert_eq!(p.full_version(), "1:3.0.2-1");
        assert_eq!(p.arch, "x86_64");
    }

    #[test]
    fn desc_errors() {
        let e = parse_pacman_desc(b"%NAME%\na\n\n%ARCH%\nany\n").unwrap_err();
        assert!(
            matches!(
                e,
                PkgError::MissingField {
                    field: "%VERSION%",
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_pacman_desc(b"%NAME%\na\n\n%VERSION%\n1.0\n\n%ARCH%\nany\n").unwrap_err();
        assert!(matches!(e, PkgError::Syntax { line: 5, .. }), "{e}");
        // A section header with no value line does not take the next header as its value.
        let e = parse_pacman_desc(b"%NAME%\n\n%VERSION%\n1-1\n%ARCH%\nany\n").unwrap_err();
        assert!(
            matches!(
                e,
                PkgError::MissingField {
                    field: "%NAME%",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn db_version() {
        assert_eq!(parse_alpm_db_version(b"9\n").unwrap(), 9);
        assert!(parse_alpm_db_version(b"nine").is_err());
        assert!(parse_alpm_db_version(b"").is_err());
    }

    /// Writes seed inputs for the fuzz targets when `GUESTCTL_FUZZ_SEEDS` names a
    /// directory (`<dir>/<target>/`); always checks that the seeds parse.
    fn write_seed(target: &str, name: &str, bytes: &[u8]) {
        if let Some(dir) = std::env::var_os("GUESTCTL_FUZZ_SEEDS") {
            let d = std::path::Path::new(&dir).join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn fuzz_seed() {
        assert!(parse_pacman_desc(DESC.as_bytes()).is_ok());
        write_seed("pkg_pacman", "desc", DESC.as_bytes());
        write_seed("pkg_pacman", "dbversion", b"9\n");
    }
}
