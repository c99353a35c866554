//! Tests of the whole guest tree, per distro, with the distros' own readers where
//! Debian has them (`dpkg-query`, `rpm`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use guestctl_testkit::have;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

fn spec(os: OsType, packages: usize, files: usize, seed: u64) -> GuestSpec {
    GuestSpec {
        os,
        hostname: "test-vm".into(),
        num_files: files,
        num_packages: packages,
        seed,
        fstab: vec![
            FstabLine {
                spec: "UUID=0b7c6a2e-55d1-4b8e-9a43-6f1d2c3b4a59".into(),
                mountpoint: "/".into(),
                fs_type: "ext4".into(),
                options: "defaults".into(),
                pass: 1,
            },
            FstabLine {
                spec: "UUID=3A1B-2C4D".into(),
                mountpoint: "/boot/efi".into(),
                fs_type: "vfat".into(),
                options: "umask=0077".into(),
                pass: 2,
            },
        ],
    }
}

/// A scratch directory, in RAM when the host has /dev/shm: these tests create tens
/// of thousands of small files, which a busy disk-backed /tmp makes slow.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("mdguest-").tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn make(os: OsType, packages: usize, files: usize) -> (tempfile::TempDir, GuestContent) {
    let dir = scratch();
    let c = populate(dir.path(), &spec(os, packages, files, 42)).unwrap();
    (dir, c)
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn link(root: &Path, rel: &str) -> String {
    fs::read_link(root.join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .to_string_lossy()
        .into_owned()
}

fn mode(root: &Path, rel: &str) -> u32 {
    fs::symlink_metadata(root.join(rel))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn is_elf_x86_64(root: &Path, rel: &str) -> bool {
    let b = fs::read(root.join(rel)).unwrap();
    b.len() > 20
        && &b[..4] == b"\x7fELF"
        && b[4] == 2
        && b[5] == 1
        && u16::from_le_bytes([b[18], b[19]]) == 62
}

#[test]
fn every_distro_has_its_base_files() {
    for os in OsType::ALL {
        let (dir, c) = make(os, 60, 40);
        let r = dir.path();
        // os-release at /usr/lib with a relative symlink from /etc.
        assert_eq!(link(r, "etc/os-release"), "../usr/lib/os-release", "{os:?}");
        let osr = read(r, "usr/lib/os-release");
        assert!(
            osr.contains(&format!("PRETTY_NAME=\"{}\"", c.product_name)),
            "{os:?}: {osr}"
        );
        if c.version_id.is_empty() {
            assert!(!osr.contains("VERSION_ID"));
            assert!(osr.contains("BUILD_ID=rolling"));
        } else {
            assert!(osr.contains(&c.version_id), "{os:?}");
        }
        assert_eq!(read(r, "etc/hostname"), "test-vm\n");
        assert!(read(r, "etc/hosts").contains("test-vm"));
        let fstab = read(r, "etc/fstab");
        assert!(
            fstab
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>()
                    == [
                        "UUID=0b7c6a2e-55d1-4b8e-9a43-6f1d2c3b4a59",
                        "/",
                        "ext4",
                        "defaults",
                        "0",
                        "1"
                    ]),
            "{fstab}"
        );
        assert!(fstab
            .lines()
            .any(|l| l.starts_with("UUID=3A1B-2C4D") && l.contains("/boot/efi")));
        let passwd = read(r, "etc/passwd");
        assert!(passwd.starts_with("root:x:0:0:"));
        let user = passwd.lines().find(|l| l.contains(":1000:1000:")).unwrap();
        let home = user.split(':').nth(5).unwrap();
        assert!(
            r.join(home.trim_start_matches('/')).is_dir(),
            "{os:?}: home {home}"
        );
        assert!(read(r, "etc/group").lines().count() > 10);
        let shadow_mode = mode(r, "etc/shadow");
        match os {
            OsType::Fedora | OsType::Rocky => assert_eq!(shadow_mode, 0o000),
            OsType::Arch => assert_eq!(shadow_mode, 0o600),
            _ => assert_eq!(shadow_mode, 0o640),
        }
        assert_eq!(mode(r, "tmp"), 0o1777);
        assert_eq!(mode(r, "root"), 0o700);
        if os != OsType::Alpine {
            let id = read(r, "etc/machine-id");
            assert_eq!(id.len(), 33);
            assert!(id
                .trim_end()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
        // usr-merge and the ELF binaries.
        assert_eq!(c.usr_merged, os != OsType::Alpine);
        if c.usr_merged {
            assert_eq!(link(r, "bin"), "usr/bin");
            assert_eq!(link(r, "lib"), "usr/lib");
            assert!(is_elf_x86_64(r, "usr/bin/bash"));
            assert!(is_elf_x86_64(r, "usr/bin/ls"));
            // Through the symlink, as libguestfs reads /bin/bash.
            assert!(is_elf_x86_64(r, "bin/bash"));
            assert!(
                is_elf_x86_64(r, "bin/sh"),
                "{os:?}: /bin/sh resolves to an ELF"
            );
        } else {
            assert!(fs::symlink_metadata(r.join("bin")).unwrap().is_dir());
            assert!(is_elf_x86_64(r, "bin/busybox"));
            assert_eq!(link(r, "bin/sh"), "/bin/busybox");
            assert_eq!(link(r, "bin/ls"), "/bin/busybox");
        }
        assert_eq!(c.arch, "x86_64");
        assert_eq!(c.hostname, "test-vm");
        assert_eq!(c.packages.len(), 60);
        assert_eq!(c.num_files, 40);
        assert!(
            c.packages.windows(2).all(|w| w[0].name < w[1].name),
            "sorted and unique"
        );
        for p in &c.packages {
            assert!(!p.version.contains('-') && !p.version.is_empty(), "{p:?}");
            assert!(!p.release.contains('-'), "{p:?}");
        }
    }
}

#[test]
fn distro_release_files() {
    let (d, c) = make(OsType::Ubuntu, 5, 0);
    let r = d.path();
    assert_eq!(read(r, "etc/debian_version"), "trixie/sid\n");
    assert!(read(r, "etc/lsb-release").contains("DISTRIB_RELEASE=24.04"));
    assert!(read(r, "usr/lib/os-release").contains("VERSION_CODENAME=noble"));
    assert!(r.join("boot/vmlinuz-6.8.0-41-generic").is_file());
    assert!(r.join("boot/initrd.img-6.8.0-41-generic").is_file());
    assert_eq!(link(r, "boot/vmlinuz"), "vmlinuz-6.8.0-41-generic");
    assert_eq!(
        (c.distro.as_str(), c.major_version, c.minor_version),
        ("ubuntu", 24, 4)
    );
    assert_eq!(
        (c.package_format.as_str(), c.package_management.as_str()),
        ("deb", "apt")
    );

    let (d, c) = make(OsType::Debian, 5, 0);
    let r = d.path();
    assert_eq!(read(r, "etc/debian_version"), "12.6\n");
    assert!(!r.join("etc/lsb-release").exists());
    assert_eq!(link(r, "vmlinuz"), "boot/vmlinuz-6.1.0-22-amd64");
    assert_eq!(
        (
            c.distro.as_str(),
            c.version_id.as_str(),
            c.major_version,
            c.minor_version
        ),
        ("debian", "12", 12, 6)
    );

    let (d, c) = make(OsType::Fedora, 5, 0);
    let r = d.path();
    assert_eq!(read(r, "etc/fedora-release"), "Fedora release 40 (Forty)\n");
    assert_eq!(link(r, "etc/redhat-release"), "fedora-release");
    assert_eq!(link(r, "etc/system-release"), "fedora-release");
    assert!(r.join("boot/vmlinuz-6.8.5-301.fc40.x86_64").is_file());
    assert!(r.join("boot/initramfs-6.8.5-301.fc40.x86_64.img").is_file());
    assert_eq!(
        (
            c.distro.as_str(),
            c.major_version,
            c.package_management.as_str()
        ),
        ("fedora", 40, "dnf")
    );

    let (d, c) = make(OsType::Rocky, 5, 0);
    let r = d.path();
    assert_eq!(
        read(r, "etc/rocky-release"),
        "Rocky Linux release 9.4 (Blue Onyx)\n"
    );
    assert_eq!(
        read(r, "etc/redhat-release"),
        "Rocky Linux release 9.4 (Blue Onyx)\n"
    );
    assert_eq!(link(r, "etc/system-release"), "rocky-release");
    assert!(r
        .join("boot/vmlinuz-5.14.0-427.13.1.el9_4.x86_64")
        .is_file());
    assert!(read(r, "usr/lib/os-release").contains("ID_LIKE=\"rhel centos fedora\""));
    assert_eq!(
        (c.distro.as_str(), c.major_version, c.minor_version),
        ("rocky", 9, 4)
    );

    let (d, c) = make(OsType::Alpine, 5, 0);
    let r = d.path();
    assert_eq!(read(r, "etc/alpine-release"), "3.20.3\n");
    assert!(r.join("boot/vmlinuz-lts").is_file() && r.join("boot/initramfs-lts").is_file());
    assert_eq!(
        (
            c.distro.as_str(),
            c.major_version,
            c.minor_version,
            c.package_format.as_str()
        ),
        ("alpinelinux", 3, 20, "apk")
    );

    let (d, c) = make(OsType::Arch, 5, 0);
    let r = d.path();
    assert_eq!(read(r, "etc/arch-release"), "");
    assert!(r.join("boot/vmlinuz-linux").is_file() && r.join("boot/initramfs-linux.img").is_file());
    assert_eq!(link(r, "sbin"), "usr/bin");
    assert_eq!(
        (c.distro.as_str(), c.version_id.as_str(), c.major_version),
        ("archlinux", "", 0)
    );
}

/// `dpkg-query --admindir` lists exactly the packages of the ground truth.
#[test]
fn dpkg_query_reads_the_status_file() {
    if !have("dpkg-query") {
        return;
    }
    for os in [OsType::Ubuntu, OsType::Debian] {
        let (dir, c) = make(os, 200, 0);
        let out = Command::new("dpkg-query")
            .arg(format!(
                "--admindir={}",
                dir.path().join("var/lib/dpkg").display()
            ))
            .args([
                "-W",
                "-f=${Package} ${Version} ${Architecture} ${db:Status-Abbrev}\\n",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "dpkg-query warned: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let want: Vec<String> = c
            .packages
            .iter()
            .map(|p| format!("{} {} {} ii ", p.name, p.full_version(), p.arch))
            .collect();
        assert_eq!(got, want, "{os:?}");
        assert!(c.packages.iter().any(|p| p.epoch > 0), "some epochs");
        assert!(c.packages.iter().any(|p| p.arch == "all"));
    }
}

/// `rpm --dbpath -qa` lists exactly the packages, epoch/version/release/arch included.
#[test]
fn rpm_reads_the_sqlite_database() {
    for os in [OsType::Fedora, OsType::Rocky] {
        let (dir, c) = make(os, 200, 0);
        let r = dir.path();
        assert_eq!(link(r, "var/lib/rpm"), "../../usr/lib/sysimage/rpm");
        assert!(read(r, "usr/lib/rpm/macros").contains("%_db_backend\t\tsqlite"));
        assert!(r.join("usr/lib/rpm/rpmrc").is_file());
        assert!(read(r, "etc/dnf/dnf.conf").contains("[main]"));
        // libguestfs says "dnf" (not "yum") for Fedora only if /usr/bin/dnf is a file.
        assert_eq!(link(r, "usr/bin/dnf"), "dnf-3");
        assert!(
            r.join("usr/bin/dnf").is_file(),
            "{os:?}: /usr/bin/dnf resolves to a file"
        );
        assert!(read(r, "usr/bin/dnf-3").starts_with("#!/usr/bin/python3\n"));
        check_schema(&r.join("usr/lib/sysimage/rpm/rpmdb.sqlite"), &c);
        if !have("rpm") {
            continue;
        }
        same_schema_as_rpm_initdb(&r.join("usr/lib/sysimage/rpm/rpmdb.sqlite"));
        // rpm may write -shm/-wal next to the database: query a copy.
        let q = scratch();
        fs::copy(
            r.join("usr/lib/sysimage/rpm/rpmdb.sqlite"),
            q.path().join("rpmdb.sqlite"),
        )
        .unwrap();
        let out = Command::new("rpm")
            .arg("--dbpath")
            .arg(q.path())
            .args([
                "--define",
                "_db_backend sqlite",
                "-qa",
                "--qf",
                "%{NAME} %{EPOCHNUM} %{VERSION} %{RELEASE} %{ARCH} %{SUMMARY}\\n",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
        let mut got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.splitn(6, ' ').take(5).collect::<Vec<_>>().join(" "))
            .collect();
        got.sort();
        let want: Vec<String> = c
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{} {} {} {} {}",
                    p.name, p.epoch, p.version, p.release, p.arch
                )
            })
            .collect();
        assert_eq!(got, want, "{os:?}");
        // The Name index works: query one package by name.
        let p = &c.packages[c.packages.len() / 2];
        let out = Command::new("rpm")
            .arg("--dbpath")
            .arg(q.path())
            .args([
                "--define",
                "_db_backend sqlite",
                "-q",
                "--qf",
                "%{NAME}-%{VERSION}-%{RELEASE}",
                &p.name,
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}-{}-{}", p.name, p.version, p.release)
        );
        // And the Providename index.
        let out = Command::new("rpm")
            .arg("--dbpath")
            .arg(q.path())
            .args([
                "--define",
                "_db_backend sqlite",
                "-q",
                "--whatprovides",
                &p.name,
                "--qf",
                "%{NAME}",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), p.name);
    }
}

/// Our schema is exactly the one `rpm --initdb` creates (tables, indexes, SQL text).
fn same_schema_as_rpm_initdb(ours: &Path) {
    let dir = scratch();
    let st = Command::new("rpm")
        .arg("--dbpath")
        .arg(dir.path())
        .args(["--define", "_db_backend sqlite", "--initdb"])
        .status()
        .unwrap();
    assert!(st.success());
    let schema = |p: &Path| -> Vec<(String, String, String)> {
        let conn =
            rusqlite::Connection::open_with_flags(p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut v: Vec<(String, String, String)> = conn
            .prepare("SELECT type, name, sql FROM sqlite_master")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        v.sort();
        v
    };
    assert_eq!(schema(ours), schema(&dir.path().join("rpmdb.sqlite")));
}

fn check_schema(db: &Path, c: &GuestContent) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want = [
        "Packages",
        "sqlite_sequence",
        "Name",
        "Basenames",
        "Group",
        "Requirename",
        "Providename",
        "Conflictname",
        "Obsoletename",
        "Triggername",
        "Dirnames",
        "Installtid",
        "Sigmd5",
        "Sha1header",
        "Filetriggername",
        "Transfiletriggername",
        "Recommendname",
        "Suggestname",
        "Supplementname",
        "Enhancename",
    ];
    assert_eq!(tables, want);
    let sql: String = conn
        .query_row("SELECT sql FROM sqlite_master WHERE name='Name'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        sql,
        "CREATE TABLE 'Name' (key 'TEXT' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, \
         FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))"
    );
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name='Packages'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        sql,
        "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"
    );
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='index'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 29, "the 29 indexes rpm 4.18 creates");
    let n: usize = conn
        .query_row("SELECT count(*) FROM Packages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, c.packages.len());
    let mut names: Vec<String> = conn
        .prepare("SELECT key FROM Name ORDER BY key")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names.dedup();
    assert_eq!(
        names,
        c.packages
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "readable from a read-only mount");
    let head = fs::read(db).unwrap();
    assert_eq!(&head[..16], b"SQLite format 3\0");
    assert_eq!(
        (head[18], head[19]),
        (1, 1),
        "legacy (rollback) file format versions"
    );
    assert!(!db.with_extension("sqlite-wal").exists() && !db.with_extension("sqlite-shm").exists());
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
}

fn apk_blocks(text: &str) -> Vec<BTreeMap<char, String>> {
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            let mut m = BTreeMap::new();
            for l in b.lines() {
                let (k, v) = l.split_once(':').unwrap();
                assert_eq!(k.len(), 1, "{l}");
                m.entry(k.chars().next().unwrap())
                    .or_insert_with(|| v.to_string());
            }
            m
        })
        .collect()
}

#[test]
fn apk_installed_format() {
    let (dir, c) = make(OsType::Alpine, 120, 0);
    let r = dir.path();
    let text = read(r, "lib/apk/db/installed");
    assert!(text.ends_with("\n\n"));
    let blocks = apk_blocks(&text);
    assert_eq!(blocks.len(), 120);
    let mut got: Vec<String> = blocks
        .iter()
        .map(|b| {
            for k in [
                'C', 'P', 'V', 'A', 'S', 'I', 'T', 'U', 'L', 'o', 'm', 't', 'c',
            ] {
                assert!(b.contains_key(&k), "missing {k}: in {b:?}");
            }
            assert!(b[&'C'].starts_with("Q1") && b[&'C'].len() == 30);
            format!("{} {} {}", b[&'P'], b[&'V'], b[&'A'])
        })
        .collect();
    got.sort();
    let want: Vec<String> = c
        .packages
        .iter()
        .map(|p| format!("{} {}-{} {}", p.name, p.version, p.release, p.arch))
        .collect();
    assert_eq!(got, want);
    assert!(c
        .packages
        .iter()
        .all(|p| p.release.starts_with('r') && p.epoch == 0));
    let world = read(r, "etc/apk/world");
    assert!(world
        .lines()
        .all(|w| c.packages.iter().any(|p| p.name == w)));
    assert!(read(r, "etc/apk/repositories").contains("v3.20/main"));
}

#[test]
fn pacman_local_db_format() {
    let (dir, c) = make(OsType::Arch, 120, 0);
    let local = dir.path().join("var/lib/pacman/local");
    assert_eq!(
        fs::read_to_string(local.join("ALPM_DB_VERSION")).unwrap(),
        "9\n"
    );
    let mut dirs: Vec<String> = fs::read_dir(&local)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 120);
    for p in &c.packages {
        let d = local.join(format!("{}-{}", p.name, p.full_version()));
        let desc = fs::read_to_string(d.join("desc")).unwrap();
        let sections: BTreeMap<&str, Vec<&str>> = desc
            .split("\n\n")
            .filter(|s| !s.is_empty())
            .map(|s| {
                let mut l = s.lines();
                let k = l.next().unwrap();
                assert!(k.starts_with('%') && k.ends_with('%'), "{k}");
                (k, l.collect())
            })
            .collect();
        assert_eq!(sections["%NAME%"], [p.name.as_str()]);
        assert_eq!(sections["%VERSION%"], [p.full_version().as_str()]);
        assert_eq!(sections["%ARCH%"], [p.arch.as_str()]);
        for k in [
            "%BASE%",
            "%DESC%",
            "%URL%",
            "%BUILDDATE%",
            "%INSTALLDATE%",
            "%PACKAGER%",
            "%SIZE%",
            "%LICENSE%",
            "%VALIDATION%",
        ] {
            assert_eq!(sections[k].len(), 1, "{k}");
        }
        assert!(fs::read_to_string(d.join("files"))
            .unwrap()
            .starts_with("%FILES%\n"));
    }
    let zlib = c.packages.iter().find(|p| p.name == "zlib").unwrap();
    assert_eq!(
        (zlib.epoch, zlib.version.as_str(), zlib.release.as_str()),
        (1, "1.3.1", "2")
    );
    assert!(c.packages.iter().any(|p| p.arch == "any"));
    assert!(read(dir.path(), "etc/pacman.conf").contains("[core]"));
}

/// How many packages each database really holds, read with minimal parsers.
fn db_count(root: &Path, os: OsType) -> usize {
    match os {
        OsType::Ubuntu | OsType::Debian => read(root, "var/lib/dpkg/status")
            .lines()
            .filter(|l| l.starts_with("Package: "))
            .count(),
        OsType::Fedora | OsType::Rocky => {
            let conn =
                rusqlite::Connection::open(root.join("usr/lib/sysimage/rpm/rpmdb.sqlite")).unwrap();
            conn.query_row("SELECT count(*) FROM Packages", [], |r| r.get(0))
                .unwrap()
        }
        OsType::Alpine => read(root, "lib/apk/db/installed")
            .lines()
            .filter(|l| l.starts_with("P:"))
            .count(),
        OsType::Arch => fs::read_dir(root.join("var/lib/pacman/local"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir())
            .count(),
    }
}

#[test]
fn exact_package_counts() {
    for os in OsType::ALL {
        for n in [0, 1, 200, 2000] {
            let (dir, c) = make(os, n, 0);
            assert_eq!(c.packages.len(), n, "{os:?} {n}");
            assert_eq!(db_count(dir.path(), os), n, "{os:?} {n}");
            let mut names: Vec<&str> = c.packages.iter().map(|p| p.name.as_str()).collect();
            names.dedup();
            assert_eq!(names.len(), n, "unique names");
        }
    }
}

#[derive(Debug, PartialEq)]
enum Node {
    Dir(u32, i64),
    File(u32, i64, Vec<u8>),
    Link(String, i64),
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let node = if m.file_type().is_symlink() {
                Node::Link(
                    fs::read_link(&p).unwrap().to_string_lossy().into_owned(),
                    m.mtime(),
                )
            } else if m.is_dir() {
                stack.push(p.clone());
                Node::Dir(m.mode() & 0o7777, m.mtime())
            } else {
                Node::File(m.mode() & 0o7777, m.mtime(), fs::read(&p).unwrap())
            };
            out.insert(rel, node);
        }
    }
    out
}

#[test]
fn deterministic_trees_and_mtimes() {
    for os in OsType::ALL {
        let a = scratch();
        let b = scratch();
        let s = spec(os, 150, 120, 7);
        let ca = populate(a.path(), &s).unwrap();
        let cb = populate(b.path(), &s).unwrap();
        assert_eq!(ca, cb);
        let (sa, sb) = (snapshot(a.path()), snapshot(b.path()));
        assert_eq!(sa.len(), sb.len());
        for (k, v) in &sa {
            assert_eq!(Some(v), sb.get(k), "{os:?}: {} differs", k.display());
        }
        // Every entry carries the release date as its mtime.
        let t = i64::try_from(distro::Distro::of(os).epoch_time).unwrap();
        for (k, v) in &sa {
            let m = match v {
                Node::Dir(_, m) | Node::File(_, m, _) | Node::Link(_, m) => *m,
            };
            assert_eq!(m, t, "{os:?}: mtime of {}", k.display());
        }
        assert_eq!(fs::metadata(a.path()).unwrap().mtime(), t);
        // A different seed gives different content.
        let c = scratch();
        let cc = populate(c.path(), &spec(os, 150, 120, 8)).unwrap();
        assert_ne!(snapshot(c.path()), sa, "{os:?}");
        assert_eq!(cc.packages.len(), 150);
    }
}

#[test]
fn user_files_are_spread_and_counted() {
    let (dir, c) = make(OsType::Debian, 50, 300);
    assert_eq!(c.num_files, 300);
    let with = snapshot(dir.path())
        .into_iter()
        .filter(|(_, n)| matches!(n, Node::File(..)))
        .count();
    let (dir0, _) = make(OsType::Debian, 50, 0);
    let without = snapshot(dir0.path())
        .into_iter()
        .filter(|(_, n)| matches!(n, Node::File(..)))
        .count();
    assert_eq!(with - without, 300, "exactly num_files extra regular files");
    let snap = snapshot(dir.path());
    for prefix in ["usr/share/doc/", "etc/", "var/log/", "home/debian/"] {
        let n = snap
            .iter()
            .filter(|(k, n)| matches!(n, Node::File(..)) && k.to_string_lossy().starts_with(prefix))
            .count();
        assert!(n > 20, "{prefix}: {n}");
    }
    let max = snap
        .values()
        .filter_map(|n| {
            if let Node::File(_, _, b) = n {
                Some(b.len())
            } else {
                None
            }
        })
        .max()
        .unwrap();
    assert!(max > 2000, "some files are a few KiB");
}

#[test]
fn bad_input_is_refused() {
    let dir = scratch();
    let mut s = spec(OsType::Ubuntu, 1, 1, 1);
    s.hostname = "bad host".into();
    assert!(matches!(
        populate(dir.path(), &s),
        Err(MockDiskError::InvalidInput(_))
    ));
    s.hostname = String::new();
    assert!(matches!(
        populate(dir.path(), &s),
        Err(MockDiskError::InvalidInput(_))
    ));
    let mut s = spec(OsType::Ubuntu, 1, 1, 1);
    s.fstab[0].options = "a b".into();
    assert!(matches!(
        populate(dir.path(), &s),
        Err(MockDiskError::InvalidInput(_))
    ));
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    fs::write(dir.path().join("x"), "").unwrap();
    let e = populate(dir.path(), &spec(OsType::Ubuntu, 1, 1, 1)).unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
    assert!(populate(&dir.path().join("missing"), &spec(OsType::Ubuntu, 1, 1, 1)).is_err());
    assert!("gentoo"
        .parse::<OsType>()
        .unwrap_err()
        .to_string()
        .contains("ubuntu, debian"));
    assert_eq!("Rocky".parse::<OsType>().unwrap(), OsType::Rocky);
}

#[test]
fn version_splitting_matches_virt_inspector() {
    use names::split_full_version as s;
    assert_eq!(s("1:2.3-4"), (1, "2.3".into(), "4".into()));
    assert_eq!(
        s("2.39-0ubuntu8.3"),
        (0, "2.39".into(), "0ubuntu8.3".into())
    );
    assert_eq!(s("13ubuntu10.1"), (0, "13ubuntu10.1".into(), String::new()));
    assert_eq!(s("1.2.5-r0"), (0, "1.2.5".into(), "r0".into()));
    assert_eq!(
        s("2:9.1.0016-1ubuntu7.2"),
        (2, "9.1.0016".into(), "1ubuntu7.2".into())
    );
}
