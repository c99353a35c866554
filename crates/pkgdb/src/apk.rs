//! apk installed database (`/lib/apk/db/installed`): one `K:value` line per
//! field, packages separated by blank lines. `P:` name, `V:` version
//! (`1.2.3-r4`), `A:` architecture, `U:` URL, `o:` origin (the source
//! package), `T:` the one-line description; other keys (file lists `F:`/`R:`/`Z:`, …)
//! are skipped.
//!
//! The release keeps its `r` (`r4`) so that [`Package::full_version`] prints
//! what `apk` prints (libguestfs strips the `r` in its `release` field).

use crate::error::limit;
use crate::text::{text, Lines};
use crate::{
    check_len, detail, split_evr, Package, PackageFormat, PkgError, MAX_PACKAGES, MAX_STANZA_BYTES,
};

#[derive(Default)]
struct Record<'a> {
    start_line: usize,
    bytes: usize,
    name: Option<&'a [u8]>,
    version: Option<&'a [u8]>,
    arch: Option<&'a [u8]>,
    url: Option<&'a [u8]>,
    origin: Option<&'a [u8]>,
    summary: Option<&'a [u8]>,
    any: bool,
}

/// Parse an apk `installed` database; packages sorted by name.
///
/// Tolerates unknown keys, lines that are not `K:value` (skipped, as libguestfs
/// does), CRLF line ends and a missing final newline. A record with a `P:` but
/// no `V:` is an error.
pub fn parse_apk_installed(bytes: &[u8]) -> Result<Vec<Package>, PkgError> {
    crate::check_db_size(bytes.len())?;
    let mut out = Vec::new();
    let mut rec = Record::default();
    for (line_no, line) in Lines::new(bytes) {
        if line.is_empty() {
            finish(&mut rec, &mut out)?;
            continue;
        }
        if !rec.any {
            rec.start_line = line_no;
            rec.any = true;
        }
        rec.bytes = rec.bytes.saturating_add(line.len()).saturating_add(1);
        if rec.bytes > MAX_STANZA_BYTES {
            return Err(limit(
                "apk record size in bytes",
                MAX_STANZA_BYTES,
                rec.bytes,
            ));
        }
        let (Some(key), Some(b':')) = (line.first(), line.get(1)) else {
            continue;
        };
        let value = line.get(2..).unwrap_or_default();
        match key {
            b'P' => rec.name = Some(value),
            b'V' => rec.version = Some(value),
            b'A' => rec.arch = Some(value),
            b'U' => rec.url = Some(value),
            b'o' => rec.origin = Some(value),
            b'T' => rec.summary = Some(value),
            _ => {}
        }
    }
    finish(&mut rec, &mut out)?;
    out.sort_unstable();
    Ok(out)
}

fn finish(rec: &mut Record<'_>, out: &mut Vec<Package>) -> Result<(), PkgError> {
    let r = std::mem::take(rec);
    let Some(name) = r.name else {
        // A record without a package name (e.g. stray lines) names nothing.
        return Ok(());
    };
    let name = text(name).into_owned();
    let version = text(r.version.ok_or(PkgError::MissingField {
        format: PackageFormat::Apk,
        line: r.start_line,
        field: "V",
    })?);
    let arch = r.arch.map(|a| text(a).into_owned()).unwrap_or_default();
    check_len("apk package name length", &name)?;
    check_len("apk version length", &version)?;
    check_len("apk architecture length", &arch)?;
    let Some((epoch, v, rel)) = split_evr(&version).filter(|_| !name.is_empty()) else {
        return Err(PkgError::Syntax {
            format: PackageFormat::Apk,
            line: r.start_line,
            reason: format!("malformed package {name:?} version {version:?}"),
        });
    };
    if out.len() >= MAX_PACKAGES {
        return Err(limit(
            "package count",
            MAX_PACKAGES,
            out.len().saturating_add(1),
        ));
    }
    let keep = |b: Option<&[u8]>| b.and_then(|b| detail(&text(b)));
    out.push(Package {
        name,
        epoch,
        version: v.to_owned(),
        release: rel.to_owned(),
        arch,
        url: keep(r.url),
        source_package: keep(r.origin),
        summary: keep(r.summary),
        ..Package::default()
    });
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

    const SAMPLE: &str = "\
C:Q1fHpLMQfDm6Y0P9PnUUU3HdpHYrI=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1695135840
c:12e9d7f3b6e0e7aa1fa8a3a8a0c3c8bb3b5c2a41
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1kzqL0Ch5lkd2hYU0OZFBhqs6UQ4=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

P:busybox
V:1.36.1-r15
A:x86_64
T:Size optimized toolbox of many common UNIX utilities
F:bin
R:busybox

P:alpine-baselayout-data
V:3.4.3-r1
A:x86_64
garbage line without colon
X:unknown key
F:etc
R:fstab";

    #[test]
    fn real_world_sample() {
        let p = parse_apk_installed(SAMPLE.as_bytes()).unwrap();
        let names: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.full_version(), p.arch.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("alpine-baselayout-data", "3.4.3-r1".to_owned(), "x86_64"),
                ("busybox", "1.36.1-r15".to_owned(), "x86_64"),
                ("musl", "1.2.4-r2".to_owned(), "x86_64"),
            ]
        );
        assert_eq!(
            (p[2].version.as_str(), p[2].release.as_str(), p[2].epoch),
            ("1.2.4", "r2", 0)
        );
        assert_eq!(p[2].url.as_deref(), Some("https://musl.libc.org/"));
        assert_eq!(p[2].source_package.as_deref(), Some("musl"));
        assert_eq!(
            p[2].summary.as_deref(),
            Some("the musl c library (libc) implementation")
        );
        assert_eq!((&p[0].url, &p[0].summary), (&None, &None));
        assert_eq!(p[1].url, None);
    }

    #[test]
    fn crlf_and_missing_version() {
        let p = parse_apk_installed(b"P:a\r\nV:1-r0\r\n\r\n").unwrap();
        assert_eq!(p[0].full_version(), "1-r0");
        assert_eq!(p[0].arch, "");
        let e = parse_apk_installed(b"P:a\nA:x86_64\n\nP:b\nV:1-r0\n").unwrap_err();
        assert!(
            matches!(
                e,
                PkgError::MissingField {
                    field: "V",
                    line: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(parse_apk_installed(b"").unwrap().is_empty());
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
        assert_eq!(parse_apk_installed(SAMPLE.as_bytes()).unwrap().len(), 3);
        write_seed("pkg_apk", "sample", SAMPLE.as_bytes());
    }
}
