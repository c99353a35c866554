//! Package listing benchmarks: 2,000-package dpkg status and rpmdb.sqlite
//! inputs generated in code (no files), parsed from memory.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use guestctl_pkgdb::{parse_apk_installed, parse_dpkg_status, read_rpmdb_sqlite};
use rusqlite::Connection;
use std::hint::black_box;

const N: usize = 2000;

fn dpkg_status(n: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "Package: package-{i:05}\nStatus: install ok installed\nPriority: optional\nSection: libs\n\
             Installed-Size: {}\nMaintainer: Debian Developers <debian-devel@lists.debian.org>\n\
             Architecture: amd64\nMulti-Arch: same\nSource: src-{i}\nVersion: {}:{}.{}.{}-{}ubuntu{}\n\
             Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), zlib1g (>= 1:1.2.0)\n\
             Conffiles:\n /etc/package-{i}/main.conf 0123456789abcdef0123456789abcdef\n\
             \x20/etc/package-{i}/extra.conf fedcba9876543210fedcba9876543210\n\
             Description: package number {i}, a library for tests\n",
            100 + i,
            i % 3,
            i % 10,
            i % 7,
            i % 13,
            i % 5 + 1,
            i % 4
        ));
        for l in 0..12 {
            s.push_str(&format!(
                " Line {l} of a long description that goes on for a while to look like a real one, with words.\n"
            ));
        }
        s.push_str(" .\n Homepage-ish trailer text.\n\n");
    }
    s.into_bytes()
}

fn apk_installed(n: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "C:Q1abcdefabcdefabcdefabcdefabcdef=\nP:pkg-{i}\nV:1.{}.{}-r{}\nA:x86_64\nS:12345\nI:65536\n\
             T:package {i}\nU:https://example.org/\nL:MIT\no:pkg-{i}\nF:usr/lib\nR:libpkg{i}.so.1\n\
             a:0:0:755\nZ:Q1zzzzzzzzzzzzzzzzzzzzzzzzzz=\n\n",
            i % 10,
            i % 7,
            i % 5
        ));
    }
    s.into_bytes()
}

/// Minimal rpm header encoder (region 63 + string/int32/i18n/string-array tags).
fn rpm_header(i: usize) -> Vec<u8> {
    let s = |v: String| {
        let mut d = v.into_bytes();
        d.push(0);
        d
    };
    let files: Vec<u8> = (0..60)
        .flat_map(|f| s(format!("file-{f}-of-package-{i}.so")))
        .collect();
    let tags: Vec<(u32, u32, u32, Vec<u8>)> = vec![
        (1000, 6, 1, s(format!("package-{i:05}"))),
        (1001, 6, 1, s(format!("{}.{}", i % 10, i % 7))),
        (1002, 6, 1, s(format!("{}.el9", i % 5 + 1))),
        (1003, 4, 1, ((i % 3) as u32).to_be_bytes().to_vec()),
        (1004, 9, 1, s(format!("Summary of package {i}"))),
        (1021, 6, 1, s("linux".into())),
        (1022, 6, 1, s("x86_64".into())),
        (1044, 6, 1, s(format!("package-{i}-1.0-1.el9.src.rpm"))),
        (1117, 8, 60, files),
    ];
    let mut index = Vec::new();
    let mut data = Vec::new();
    for (tag, ty, count, d) in &tags {
        let align = if *ty == 4 { 4 } else { 1 };
        while data.len() % align != 0 {
            data.push(0);
        }
        index.push([*tag, *ty, data.len() as u32, *count]);
        data.extend_from_slice(d);
    }
    let ril = index.len() as u32 + 1;
    let trailer = data.len() as u32;
    for w in [63u32, 7, (-(ril as i32 * 16)) as u32, 16] {
        data.extend_from_slice(&w.to_be_bytes());
    }
    index.insert(0, [63, 7, trailer, 16]);
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for e in &index {
        for w in e {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    out.extend_from_slice(&data);
    out
}

fn rpmdb(n: usize) -> Vec<u8> {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 0..n {
        tx.execute("INSERT INTO Packages (blob) VALUES (?1)", [rpm_header(i)])
            .unwrap();
    }
    tx.commit().unwrap();
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

fn benches(c: &mut Criterion) {
    let dpkg = dpkg_status(N);
    assert_eq!(parse_dpkg_status(&dpkg).unwrap().len(), N);
    c.bench_function(
        &format!("dpkg_status_{N}_pkgs_{}KiB", dpkg.len() / 1024),
        |b| b.iter(|| parse_dpkg_status(black_box(&dpkg)).unwrap()),
    );
    let db = rpmdb(N);
    assert_eq!(read_rpmdb_sqlite(&db).unwrap().packages.len(), N);
    c.bench_function(
        &format!("rpmdb_sqlite_{N}_headers_{}KiB", db.len() / 1024),
        |b| b.iter(|| read_rpmdb_sqlite(black_box(&db)).unwrap()),
    );
    let apk = apk_installed(N);
    assert_eq!(parse_apk_installed(&apk).unwrap().len(), N);
    c.bench_function(&format!("apk_installed_{N}_pkgs"), |b| {
        b.iter(|| parse_apk_installed(black_box(&apk)).unwrap())
    });
}

criterion_group! {
    name = pkgdb;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(pkgdb);
