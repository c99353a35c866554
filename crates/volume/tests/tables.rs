//! Partition tables made by `sfdisk` and `sgdisk` on sparse temp files, and tables
//! built in code with one field broken at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{BlockDevice, FileDevice, MemDevice};
use guestctl_volume::{scan, ErrorKind, PartitionInfo, TableKind, VolumeKind, VolumeScan};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

const MIB: u64 = 1 << 20;

fn sparse(dir: &Path, name: &str, size: u64) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(size).unwrap();
    p
}

fn sfdisk(path: &Path, script: &str) {
    let mut c = Command::new("sfdisk")
        .arg("-q")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sfdisk installed");
    c.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sfdisk: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sgdisk(path: &Path, args: &[&str]) {
    let out = Command::new("sgdisk")
        .args(args)
        .arg(path)
        .output()
        .expect("sgdisk installed");
    assert!(
        out.status.success(),
        "sgdisk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scan_file(path: &Path) -> VolumeScan {
    scan(Arc::new(FileDevice::open(path).unwrap())).unwrap()
}

/// (name, start sector, sectors) of every partition.
fn layout(s: &VolumeScan) -> Vec<(String, u64, u64)> {
    s.volumes
        .iter()
        .map(|v| (v.name.clone(), v.start / 512, v.size / 512))
        .collect()
}

/// Write a marker at the start of each partition and read it back through its device.
fn markers_read_back(path: &Path, s: &VolumeScan) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    use std::os::unix::fs::FileExt;
    for v in &s.volumes {
        f.write_all_at(v.name.as_bytes(), v.start).unwrap();
        f.write_all_at(b"END", v.start + v.size - 3).unwrap();
    }
    let s = scan_file(path);
    for v in &s.volumes {
        let mut b = vec![0u8; v.name.len()];
        v.device.read_exact_at(0, &mut b).unwrap();
        assert_eq!(b, v.name.as_bytes());
        let mut e = [0u8; 3];
        v.device.read_exact_at(v.size - 3, &mut e).unwrap();
        assert_eq!(&e, b"END");
        assert!(
            v.device.read_exact_at(v.size - 2, &mut e).is_err(),
            "{} reads past its end",
            v.name
        );
    }
}

#[test]
fn sfdisk_mbr_with_logical_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let p = sparse(dir.path(), "mbr.img", 64 * MIB);
    sfdisk(
        &p,
        "label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=8192, type=83, bootable\nstart=10240, size=40960, type=5\n\
         start=12288, size=4096, type=83\nstart=18432, size=4096, type=82\nstart=24576, size=8192, type=8e\n\
         start=51200, size=8192, type=7\n",
    );
    let s = scan_file(&p);
    assert_eq!(s.table, TableKind::Mbr);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let want = [
        ("sda1", 2048, 8192),
        ("sda3", 51200, 8192),
        ("sda5", 12288, 4096),
        ("sda6", 18432, 4096),
        ("sda7", 24576, 8192),
    ];
    let got = layout(&s);
    assert_eq!(
        got,
        want.iter()
            .map(|(n, a, b)| (n.to_string(), *a, *b))
            .collect::<Vec<_>>()
    );
    match &s.volume("sda1").unwrap().kind {
        VolumeKind::Partition {
            index: 1,
            table:
                PartitionInfo::Mbr {
                    type_byte: 0x83,
                    bootable: true,
                    logical: false,
                    disk_signature,
                },
        } => {
            assert_eq!(*disk_signature, 0x1234abcd)
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(
        &s.volume("sda6").unwrap().kind,
        VolumeKind::Partition {
            index: 6,
            table: PartitionInfo::Mbr {
                type_byte: 0x82,
                logical: true,
                ..
            }
        }
    ));
    assert_eq!(
        s.volume("sda5").unwrap().partuuid().as_deref(),
        Some("1234abcd-05")
    );
    markers_read_back(&p, &s);
}

#[test]
fn sgdisk_gpt_and_backup_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = sparse(dir.path(), "gpt.img", 64 * MIB);
    sgdisk(
        &p,
        &[
            "-n1:2048:+1M",
            "-t1:ef00",
            "-c1:EFI System",
            "-n2:0:+20M",
            "-t2:8300",
            "-c2:root",
            "-u2:0FC63DAF-8483-4772-8E79-3D69D8477DE4",
            "-n3:0:+10M",
            "-t3:8e00",
        ],
    );
    let s = scan_file(&p);
    assert_eq!(s.table, TableKind::Gpt);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    assert_eq!(
        layout(&s),
        [
            ("sda1".to_string(), 2048, 2048),
            ("sda2".into(), 4096, 40960),
            ("sda3".into(), 45056, 20480)
        ]
    );
    match &s.volume("sda2").unwrap().kind {
        VolumeKind::Partition {
            index: 2,
            table:
                PartitionInfo::Gpt {
                    type_guid,
                    part_guid,
                    name,
                },
        } => {
            assert_eq!(
                type_guid.to_string(),
                "0fc63daf-8483-4772-8e79-3d69d8477de4"
            );
            assert_eq!(
                part_guid.to_string(),
                "0fc63daf-8483-4772-8e79-3d69d8477de4"
            );
            assert_eq!(name, "root");
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        s.volume("sda2").unwrap().partuuid().as_deref(),
        Some("0fc63daf-8483-4772-8e79-3d69d8477de4")
    );
    markers_read_back(&p, &s);

    // Break the primary header's CRC: the backup is used, with a diagnostic.
    let mut img = std::fs::read(&p).unwrap();
    img[512 + 16] ^= 0xff;
    let s2 = scan(Arc::new(MemDevice::new(img.clone()))).unwrap();
    assert_eq!(layout(&s2), layout(&s));
    assert_eq!(s2.diagnostics.len(), 1);
    assert_eq!(s2.diagnostics[0].subject, "GPT");
    assert!(
        s2.diagnostics[0].message.contains("backup"),
        "{}",
        s2.diagnostics[0]
    );
    // Break the primary's entry array too (the backup has its own copy).
    img[1024 + 40] ^= 1;
    assert_eq!(
        layout(&scan(Arc::new(MemDevice::new(img.clone()))).unwrap()),
        layout(&s)
    );
    // Both gone: an error for the disk.
    let n = img.len();
    img[n - 512] = b'X';
    let e = scan(Arc::new(MemDevice::new(img))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.to_string().contains("backup header unusable"), "{e}");
}

#[test]
fn hybrid_mbr_uses_gpt() {
    let dir = tempfile::tempdir().unwrap();
    let p = sparse(dir.path(), "hybrid.img", 32 * MIB);
    sgdisk(
        &p,
        &["-n1:2048:+4M", "-t1:0700", "-n2:0:+4M", "-t2:8300", "-h1"],
    );
    let s = scan_file(&p);
    assert_eq!(s.table, TableKind::Gpt);
    assert_eq!(s.volumes.len(), 2);
}

#[test]
fn no_table_is_whole_disk_and_fat_boot_sector_is_not_an_mbr() {
    let mut fat = vec![0u8; 4 * MIB as usize];
    fat[0..3].copy_from_slice(&[0xeb, 0x3c, 0x90]);
    fat[0x36..0x3b].copy_from_slice(b"FAT16");
    // A FAT boot sector's code would put non-0/0x80 bytes where MBR status bytes live.
    fat[446] = 0x12;
    fat[510] = 0x55;
    fat[511] = 0xaa;
    let s = scan(Arc::new(MemDevice::new(fat))).unwrap();
    assert_eq!(s.table, TableKind::None);
    assert_eq!(layout(&s), [("sda".to_string(), 0, 8192)]);
    assert!(matches!(s.volumes[0].kind, VolumeKind::WholeDisk));
}

/// An MBR sector with `entries` (status, type, start, sectors).
fn mbr(entries: &[(u8, u8, u32, u32)]) -> [u8; 512] {
    let mut s = [0u8; 512];
    for (i, (status, t, start, n)) in entries.iter().enumerate() {
        let e = 446 + i * 16;
        s[e] = *status;
        s[e + 4] = *t;
        s[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        s[e + 12..e + 16].copy_from_slice(&n.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xaa;
    s
}

fn disk_with(sectors: usize, at: &[(usize, [u8; 512])]) -> Arc<dyn BlockDevice> {
    let mut d = vec![0u8; sectors * 512];
    for (lba, s) in at {
        d[lba * 512..lba * 512 + 512].copy_from_slice(s);
    }
    Arc::new(MemDevice::new(d))
}

#[test]
fn looping_ebr_chain_is_a_diagnostic() {
    // Extended partition at 100..1100 (next-EBR links are relative to its start);
    // EBR at 100 → EBR at 200 → EBR at 200 again.
    let ebr1 = mbr(&[(0, 0x83, 10, 50), (0, 0x05, 100, 100)]);
    let ebr2 = mbr(&[(0, 0x83, 10, 50), (0, 0x05, 100, 100)]);
    let d = disk_with(
        2048,
        &[(0, mbr(&[(0, 0x05, 100, 1000)])), (100, ebr1), (200, ebr2)],
    );
    let s = scan(d).unwrap();
    assert_eq!(
        layout(&s),
        [("sda5".to_string(), 110, 50), ("sda6".into(), 210, 50)]
    );
    let d = &s.diagnostics;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].kind, ErrorKind::Corrupt);
    assert!(d[0].message.contains("loops"), "{}", d[0]);
}

#[test]
fn long_ebr_chain_is_bounded() {
    // 200 EBRs each pointing at the next: stops at the limit.
    let mut at = vec![(0usize, mbr(&[(0, 0x0f, 1, 4000)]))];
    for i in 0..200u32 {
        at.push((
            1 + i as usize * 10,
            mbr(&[(0, 0x83, 1, 5), (0, 0x05, (i + 1) * 10, 10)]),
        ));
    }
    let s = scan(disk_with(4096, &at)).unwrap();
    assert_eq!(s.volumes.len(), guestctl_volume::MBR_MAX_LOGICAL_PARTITIONS);
    assert!(s
        .diagnostics
        .iter()
        .any(|d| d.kind == ErrorKind::LimitExceeded));
}

#[test]
fn overlapping_and_out_of_bounds_partitions_are_diagnostics() {
    let d = disk_with(
        1000,
        &[(
            0,
            mbr(&[
                (0x80, 0x83, 10, 100),
                (0, 0x83, 50, 100),
                (0, 0x83, 900, 500),
                (0, 0x83, 5000, 10),
            ]),
        )],
    );
    let s = scan(d).unwrap();
    // sda3 is cut at the disk's end; sda4 starts past it and is dropped.
    assert_eq!(
        layout(&s),
        [
            ("sda1".to_string(), 10, 100),
            ("sda2".into(), 50, 100),
            ("sda3".into(), 900, 100)
        ]
    );
    let by = |subject: &str| {
        s.diagnostics
            .iter()
            .filter(|d| d.subject == subject)
            .map(|d| d.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(by("sda2"), [ErrorKind::Overlap]);
    assert_eq!(by("sda3"), [ErrorKind::OutOfBounds]);
    assert_eq!(by("sda4"), [ErrorKind::OutOfBounds]);
    assert!(s
        .diagnostics
        .iter()
        .any(|d| d.message.contains("overlaps sda1")));
}

#[test]
fn ebr_without_signature_stops_the_chain() {
    let mut bad = mbr(&[(0, 0x83, 10, 50)]);
    bad[510] = 0;
    let s = scan(disk_with(
        2048,
        &[
            (0, mbr(&[(0, 0x83, 1, 50), (0, 0x05, 100, 1000)])),
            (100, bad),
        ],
    ))
    .unwrap();
    assert_eq!(layout(&s), [("sda1".to_string(), 1, 50)]);
    assert_eq!(s.diagnostics.len(), 1);
    assert!(
        s.diagnostics[0].message.contains("0x55AA"),
        "{}",
        s.diagnostics[0]
    );
}

/// A GPT built in code: header at LBA 1, one entry, CRCs computed here.
fn gpt_disk(tweak: impl Fn(&mut [u8], &mut [u8])) -> Vec<u8> {
    let mut d = vec![0u8; 2048 * 512];
    d[..512].copy_from_slice(&mbr(&[(0, 0xee, 1, 2047)]));
    let mut entries = vec![0u8; 128 * 128];
    entries[0..16].copy_from_slice(&[
        0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d,
        0xe4,
    ]);
    entries[16] = 1; // partition GUID
    entries[32..40].copy_from_slice(&100u64.to_le_bytes()); // starting LBA
    entries[40..48].copy_from_slice(&199u64.to_le_bytes()); // ending LBA
    for (i, c) in "data".encode_utf16().enumerate() {
        entries[56 + 2 * i..58 + 2 * i].copy_from_slice(&c.to_le_bytes());
    }
    let mut h = vec![0u8; 512];
    h[0..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes()); // revision
    h[12..16].copy_from_slice(&92u32.to_le_bytes()); // header_size
    h[24..32].copy_from_slice(&1u64.to_le_bytes()); // my_lba
    h[32..40].copy_from_slice(&2047u64.to_le_bytes()); // alternate_lba
    h[40..48].copy_from_slice(&34u64.to_le_bytes()); // first_usable_lba
    h[48..56].copy_from_slice(&2014u64.to_le_bytes()); // last_usable_lba
    h[72..80].copy_from_slice(&2u64.to_le_bytes()); // partition_entry_lba
    h[80..84].copy_from_slice(&128u32.to_le_bytes()); // num_partition_entries
    h[84..88].copy_from_slice(&128u32.to_le_bytes()); // size_of_partition_entry
    tweak(&mut h, &mut entries);
    if h[88..92] == [0; 4] {
        let c = crc32fast::hash(&entries);
        h[88..92].copy_from_slice(&c.to_le_bytes());
    }
    if h[16..20] == [0; 4] {
        let c = crc32fast::hash(&h[..92]);
        h[16..20].copy_from_slice(&c.to_le_bytes());
    }
    d[512..1024].copy_from_slice(&h);
    let n = entries.len().min(d.len() - 1024);
    d[1024..1024 + n].copy_from_slice(&entries[..n]);
    d
}

#[test]
fn gpt_built_in_code_and_each_bad_field() {
    let s = scan(Arc::new(MemDevice::new(gpt_disk(|_, _| {})))).unwrap();
    assert_eq!(layout(&s), [("sda1".to_string(), 100, 100)]);
    assert!(
        matches!(&s.volumes[0].kind, VolumeKind::Partition { table: PartitionInfo::Gpt { name, .. }, .. } if name == "data")
    );
    // No backup header exists, so a bad primary is an error naming the primary's fault.
    type Tweak = Box<dyn Fn(&mut [u8], &mut [u8])>;
    let cases: Vec<(&str, Tweak)> = vec![
        ("header CRC", Box::new(|h, _| h[16] = 1)),
        ("header_size", Box::new(|h, _| h[12] = 10)),
        ("my_lba", Box::new(|h, _| h[24] = 5)),
        (
            "entries exceed the limit",
            Box::new(|h, _| h[80..84].copy_from_slice(&5000u32.to_le_bytes())),
        ),
        (
            "size_of_partition_entry",
            Box::new(|h, _| h[84..88].copy_from_slice(&100u32.to_le_bytes())),
        ),
        ("entry array CRC", Box::new(|h, _| h[88] = 1)),
        (
            "cannot read the entry array",
            Box::new(|h, _| h[72..80].copy_from_slice(&4000u64.to_le_bytes())),
        ),
    ];
    for (what, tweak) in cases {
        let e = scan(Arc::new(MemDevice::new(gpt_disk(tweak)))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}");
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    // Entry-level problems are diagnostics.
    let s = scan(Arc::new(MemDevice::new(gpt_disk(|_, e| {
        e[40..48].copy_from_slice(&50u64.to_le_bytes())
    }))))
    .unwrap();
    assert!(s.volumes.is_empty());
    assert_eq!(s.diagnostics[0].subject, "GPT entry 1");
    let s = scan(Arc::new(MemDevice::new(gpt_disk(|_, e| {
        e[40..48].copy_from_slice(&5000u64.to_le_bytes())
    }))))
    .unwrap();
    assert_eq!(layout(&s), [("sda1".to_string(), 100, 1948)]);
    let kinds: Vec<_> = s
        .diagnostics
        .iter()
        .map(|d| (d.subject.as_str(), d.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("GPT entry 1", ErrorKind::OutOfBounds),
            ("sda1", ErrorKind::OutOfBounds)
        ]
    );
}

#[test]
fn truncated_zeroed_and_random_disks_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = sparse(dir.path(), "t.img", 8 * MIB);
    sgdisk(&p, &["-n1:2048:+1M", "-n2:0:+1M"]);
    let img = std::fs::read(&p).unwrap();
    for len in [
        0usize,
        1,
        511,
        512,
        513,
        1023,
        1024,
        1100,
        4096,
        17408,
        1 << 20,
    ] {
        let _ = scan(Arc::new(MemDevice::new(img[..len].to_vec())));
    }
    assert_eq!(
        scan(Arc::new(MemDevice::new(vec![0; 1 << 20])))
            .unwrap()
            .table,
        TableKind::None
    );
    let mut x = 0x9e37_79b9u32;
    for _ in 0..50 {
        let mut d = vec![0u8; 64 * 1024];
        for b in d.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        d[510] = 0x55;
        d[511] = 0xaa;
        let _ = scan(Arc::new(MemDevice::new(d)));
    }
}
