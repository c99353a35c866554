//! rpmdb: the sqlite backend (`/var/lib/rpm/rpmdb.sqlite`, rpm ≥ 4.16), loaded
//! from bytes into an in-memory, read-only sqlite connection; the legacy
//! BerkeleyDB `Packages` and the ndb `Packages.db` formats are recognised and
//! reported as unsupported.
//!
//! Only the main database file is read: rows still in a `-wal` file next to it
//! (a guest shut down uncleanly) are not seen.

use crate::error::limit;
use crate::rpm::RpmHeader;
use crate::{check_len, Package, PkgError, MAX_PACKAGES};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, MAIN_DB};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The on-disk format of an rpm database file, recognised by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpmDbFormat {
    /// `rpmdb.sqlite` (rpm ≥ 4.16): read by [`read_rpmdb_sqlite`].
    Sqlite,
    /// BerkeleyDB hash `Packages` (rpm < 4.16, RHEL ≤ 8): not read.
    BerkeleyDb,
    /// ndb `Packages.db` (openSUSE): not read.
    Ndb,
}

/// Recognise an rpm database file by its magic.
pub fn detect_rpmdb_format(bytes: &[u8]) -> Option<RpmDbFormat> {
    if bytes.starts_with(b"SQLite format 3\0") {
        return Some(RpmDbFormat::Sqlite);
    }
    if bytes.starts_with(b"RpmP") {
        return Some(RpmDbFormat::Ndb);
    }
    // BerkeleyDB metadata page: magic at offset 12, hash 0x061561 or btree 0x053162, either byte order.
    if let Some(m) = bytes.get(12..16) {
        let mut w = [0u8; 4];
        w.copy_from_slice(m);
        let (le, be) = (u32::from_le_bytes(w), u32::from_be_bytes(w));
        if [le, be]
            .iter()
            .any(|v| *v == 0x0006_1561 || *v == 0x0005_3162)
        {
            return Some(RpmDbFormat::BerkeleyDb);
        }
    }
    None
}

/// One header that could not be listed.
#[derive(Debug)]
pub struct RpmDiagnostic {
    /// The row's `hnum` (rpm's header instance number).
    pub hnum: i64,
    /// What was wrong with it.
    pub error: PkgError,
}

/// The packages of an rpmdb, with the headers that could not be read.
#[derive(Debug, Default)]
pub struct RpmListing {
    /// Packages, sorted by name.
    pub packages: Vec<Package>,
    /// One entry per corrupt header; the other headers are still listed.
    pub diagnostics: Vec<RpmDiagnostic>,
}

/// SQLite virtual-machine steps allowed for the whole read, checked every
/// [`PROGRESS_STEP`] steps: a scan of 200,000 rows is far below it, a hostile
/// schema that makes the query loop is stopped by it.
const MAX_VM_STEPS: u64 = 2_000_000_000;
const PROGRESS_STEP: i32 = 10_000;
/// `PRAGMA mmap_size` for the in-memory copy (no file is mapped; it only lets
/// sqlite reference its own buffer).
const MAX_MMAP: i64 = 1 << 30;

fn db_err(reason: &str, e: rusqlite::Error) -> PkgError {
    PkgError::Database {
        reason: reason.to_owned(),
        source: Some(e),
    }
}

/// Read the `Packages` table of an `rpmdb.sqlite` file given as bytes.
///
/// The bytes are copied into sqlite's memory (the image is never touched),
/// opened read-only with the defensive flags on and untrusted schema off;
/// every `blob` is parsed with [`RpmHeader::parse`]. A corrupt header becomes
/// a diagnostic and the rest are still listed.
pub fn read_rpmdb_sqlite(bytes: &[u8]) -> Result<RpmListing, PkgError> {
    crate::check_db_size(bytes.len())?;
    match detect_rpmdb_format(bytes) {
        Some(RpmDbFormat::Sqlite) => {}
        Some(RpmDbFormat::BerkeleyDb) => {
            return Err(PkgError::Unsupported("rpm BerkeleyDB Packages database"))
        }
        Some(RpmDbFormat::Ndb) => {
            return Err(PkgError::Unsupported("rpm ndb Packages.db database"))
        }
        None => {
            return Err(PkgError::Database {
                reason: "not an sqlite database (bad magic)".to_owned(),
                source: None,
            })
        }
    }
    // A database in WAL mode has file format versions 2/2 in bytes 18..20; an
    // in-memory database cannot use WAL, so it is read as a rollback-journal one.
    // The patch is applied while copying into sqlite's buffer (one copy).
    let (head, rest) = bytes.split_at(bytes.len().min(18));
    let (versions, tail) = rest.split_at(rest.len().min(2));
    let patched: Vec<u8> = versions
        .iter()
        .map(|b| if *b == 2 { 1 } else { *b })
        .collect();
    let reader = std::io::Read::chain(std::io::Read::chain(head, &patched[..]), tail);
    let mut conn =
        Connection::open_in_memory().map_err(|e| db_err("opening sqlite in memory", e))?;
    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true);
    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false);
    let steps = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&steps);
    conn.progress_handler(
        PROGRESS_STEP,
        Some(move || {
            let n = counter.fetch_add(PROGRESS_STEP.unsigned_abs().into(), Ordering::Relaxed);
            n > MAX_VM_STEPS
        }),
    );
    conn.deserialize_read_exact(MAIN_DB, reader, bytes.len(), true)
        .map_err(|e| db_err("loading the database", e))?;
    // Let sqlite read pages in place from its in-memory copy instead of
    // copying each page into its page cache.
    let _ = conn.pragma_update(None, "mmap_size", MAX_MMAP);
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| db_err("reading the schema", e))
        .ok();
    if kind.as_deref() != Some("table") {
        return Err(PkgError::Database {
            reason: "no Packages table".to_owned(),
            source: None,
        });
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| db_err("preparing the query", e))?;
    let mut rows = stmt.query([]).map_err(|e| db_err("querying Packages", e))?;
    let mut out = RpmListing::default();
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(db_err("reading Packages", e)),
        };
        let seen = out.packages.len().saturating_add(out.diagnostics.len());
        if seen >= MAX_PACKAGES {
            return Err(limit(
                "rpm header count",
                MAX_PACKAGES,
                seen.saturating_add(1),
            ));
        }
        let hnum: i64 = row.get(0).unwrap_or(-1);
        let blob = match row.get_ref(1).map(|v| v.as_blob()) {
            Ok(Ok(b)) => b,
            _ => {
                out.diagnostics.push(RpmDiagnostic {
                    hnum,
                    error: PkgError::Database {
                        reason: "blob column is not a BLOB".to_owned(),
                        source: None,
                    },
                });
                continue;
            }
        };
        match header_to_package(blob) {
            Ok(p) => out.packages.push(p),
            Err(error) => out.diagnostics.push(RpmDiagnostic { hnum, error }),
        }
    }
    if steps.load(Ordering::Relaxed) > MAX_VM_STEPS {
        return Err(limit("sqlite steps", usize::MAX, usize::MAX));
    }
    out.packages.sort_unstable();
    Ok(out)
}

/// Parse one header blob into a package, applying the string-length limits.
pub(crate) fn header_to_package(blob: &[u8]) -> Result<Package, PkgError> {
    let h = RpmHeader::parse(blob)?;
    let p = h.to_package()?;
    check_len("rpm package name length", &p.name)?;
    check_len("rpm version length", &p.version)?;
    check_len("rpm release length", &p.release)?;
    check_len("rpm architecture length", &p.arch)?;
    Ok(p)
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
    use crate::rpm::tests::{encode, sample_tags};
    use crate::PkgErrorKind;
    use crate::RpmHeaderError;

    fn make_db(blobs: &[Vec<u8>]) -> Vec<u8> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL);",
        )
        .unwrap();
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                .unwrap();
        }
        conn.serialize(MAIN_DB).unwrap().to_vec()
    }

    #[test]
    fn lists_sorted_and_reports_corrupt_header() {
        let good_b = encode(&sample_tags("bash", Some(1)), &[]);
        let good_a = encode(&sample_tags("acl", None), &[]);
        let mut bad = good_a.clone();
        bad[0..4].copy_from_slice(&0u32.to_be_bytes());
        let db = make_db(&[good_b, bad, good_a]);
        let l = read_rpmdb_sqlite(&db).unwrap();
        let names: Vec<_> = l
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.full_version()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("acl", "1.0-3.el9".to_owned()),
                ("bash", "1:1.0-3.el9".to_owned())
            ]
        );
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].hnum, 2);
        assert!(matches!(
            l.diagnostics[0].error,
            PkgError::RpmHeader(RpmHeaderError::IndexCount { il: 0 })
        ));
    }

    #[test]
    fn wal_mode_file_is_read() {
        let mut db = make_db(&[encode(&sample_tags("zsh", None), &[])]);
        db[18] = 2;
        db[19] = 2;
        assert_eq!(read_rpmdb_sqlite(&db).unwrap().packages.len(), 1);
    }

    #[test]
    fn formats_detected() {
        assert_eq!(
            detect_rpmdb_format(b"SQLite format 3\0rest"),
            Some(RpmDbFormat::Sqlite)
        );
        let mut bdb = vec![0u8; 64];
        bdb[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
        assert_eq!(detect_rpmdb_format(&bdb), Some(RpmDbFormat::BerkeleyDb));
        assert_eq!(
            read_rpmdb_sqlite(&bdb).unwrap_err().kind(),
            PkgErrorKind::Unsupported
        );
        assert_eq!(detect_rpmdb_format(b"RpmP\0\0\0\0"), Some(RpmDbFormat::Ndb));
        assert_eq!(
            read_rpmdb_sqlite(b"RpmP\0\0\0\0").unwrap_err().kind(),
            PkgErrorKind::Unsupported
        );
        assert_eq!(
            read_rpmdb_sqlite(b"hello").unwrap_err().kind(),
            PkgErrorKind::Corrupt
        );
        assert_eq!(
            read_rpmdb_sqlite(b"").unwrap_err().kind(),
            PkgErrorKind::Corrupt
        );
    }

    #[test]
    fn truncated_and_garbled_sqlite_is_an_error_not_a_panic() {
        let db = make_db(&[encode(&sample_tags("zsh", None), &[])]);
        for cut in [16usize, 100, 512, 4096] {
            let r = read_rpmdb_sqlite(&db[..cut.min(db.len())]);
            assert!(r.is_err() || r.unwrap().packages.len() <= 1);
        }
        let mut g = db.clone();
        for b in g.iter_mut().skip(100).step_by(7) {
            *b ^= 0x5a;
        }
        let _ = read_rpmdb_sqlite(&g);
    }

    #[test]
    fn no_packages_table_or_view_instead() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE Other (x); CREATE VIEW Packages AS SELECT 1 AS hnum, x'00' AS blob;",
        )
        .unwrap();
        let db = conn.serialize(MAIN_DB).unwrap().to_vec();
        let e = read_rpmdb_sqlite(&db).unwrap_err();
        assert!(matches!(e, PkgError::Database { .. }), "{e}");
    }

    /// Differential test against Debian's `rpm`: build a tiny noarch package with
    /// rpmbuild, install it with `--justdb` into a private sqlite rpmdb, read that
    /// back. Skipped when rpmbuild is not installed (a failure under
    /// `GUESTCTL_REQUIRE_TOOLS`).
    #[test]
    fn real_rpmdb_made_by_rpm() {
        use std::process::Command;
        if !guestctl_testkit::have("rpmbuild") {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("top");
        let dbp = tmp.path().join("db");
        std::fs::create_dir_all(&dbp).unwrap();
        let spec = tmp.path().join("t.spec");
        std::fs::write(
            &spec,
            "Name: hello-guestctl\nVersion: 1.2\nRelease: 3.fc40\nEpoch: 2\nSummary: test package\n\
             License: MIT\nBuildArch: noarch\n%description\ntest\n%files\n",
        )
        .unwrap();
        let topdef = format!("_topdir {}", top.display());
        let st = Command::new("rpmbuild")
            .args(["--quiet", "--define", &topdef, "-bb"])
            .arg(&spec)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "rpmbuild: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let rpm = top.join("RPMS/noarch/hello-guestctl-1.2-3.fc40.noarch.rpm");
        let dbdef = [
            "--dbpath",
            dbp.to_str().unwrap(),
            "--define",
            "_db_backend sqlite",
        ];
        let st = Command::new("rpm")
            .args(dbdef)
            .arg("--initdb")
            .output()
            .unwrap();
        assert!(st.status.success());
        let st = Command::new("rpm")
            .args(dbdef)
            .args(["--justdb", "--nodeps", "--noscripts", "-i"])
            .arg(&rpm)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "rpm -i: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let q = Command::new("rpm")
            .args(dbdef)
            .args([
                "-qa",
                "--qf",
                "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH}\\n",
            ])
            .output()
            .unwrap();
        let want = String::from_utf8_lossy(&q.stdout).trim().to_owned();
        let bytes = std::fs::read(dbp.join("rpmdb.sqlite")).unwrap();
        let l = read_rpmdb_sqlite(&bytes).unwrap();
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        let got: Vec<String> = l
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{} {}:{}-{} {}",
                    p.name, p.epoch, p.version, p.release, p.arch
                )
            })
            .collect();
        assert_eq!(got.join("\n"), want);
        assert_eq!(l.packages[0].full_version(), "2:1.2-3.fc40");
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
        let h = crate::rpm::tests::sample(Some(3));
        assert!(RpmHeader::parse(&h).is_ok());
        let db = make_db(&[h.clone(), encode(&sample_tags("zsh", None), &[])]);
        assert_eq!(read_rpmdb_sqlite(&db).unwrap().packages.len(), 2);
        write_seed("pkg_rpm", "header", &h);
        write_seed("pkg_rpm", "rpmdb.sqlite", &db);
    }
}
