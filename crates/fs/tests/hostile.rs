//! Hostile images: truncated, zeroed, random, bit-flipped and looping structures.
//! Every case must end with an error of a stated kind or a bounded walk, never a
//! panic or a hang. Images come from the real tools (skipped when missing, unless
//! `GUESTCTL_REQUIRE_TOOLS` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{BlockDevice, MemDevice};
use guestctl_fs::{exercise, open, open_as, probe, FsErrorKind, FAT_MAX_DIR_ENTRIES};
use guestctl_testkit::have;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mem(b: Vec<u8>) -> Arc<dyn BlockDevice> {
    Arc::new(MemDevice::new(b))
}

/// xorshift64: deterministic "random" bytes and positions.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn small_tree(dir: &Path) {
    use std::os::unix::fs::symlink;
    std::fs::create_dir_all(dir.join("etc/sub")).unwrap();
    std::fs::write(dir.join("etc/os-release"), "ID=alpine\n").unwrap();
    std::fs::write(dir.join("etc/sub/data"), vec![7u8; 20_000]).unwrap();
    for i in 0..60 {
        std::fs::write(dir.join(format!("etc/f{i}")), "x").unwrap();
    }
    symlink("sub", dir.join("etc/link")).unwrap();
    symlink("/etc/loop", dir.join("etc/loop")).unwrap();
}

fn ext4_image(kind: &str) -> Option<Vec<u8>> {
    if !have("mke2fs") {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    small_tree(&src);
    let img = tmp.path().join("img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", kind, "-b", "1024", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("2M"));
    Some(std::fs::read(img).unwrap())
}

fn fat_image() -> Option<Vec<u8>> {
    if !have("mkfs.vfat") || !have("mcopy") {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("img");
    run(Command::new("mkfs.vfat")
        .args(["-C", "-F", "16", "-s", "1"])
        .arg(&img)
        .arg("8192"));
    let f = tmp.path().join("f");
    std::fs::write(&f, vec![3u8; 10_000]).unwrap();
    run(Command::new("mmd").arg("-i").arg(&img).arg("::/DIR"));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg(&f)
        .arg("::/DIR/FILE.BIN"));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg(&f)
        .arg("::/Top Level.txt"));
    Some(std::fs::read(img).unwrap())
}

#[test]
fn zeroed_random_and_tiny_devices() {
    for size in [0usize, 1, 511, 1024, 2048, 4096, 1 << 20] {
        let d = mem(vec![0; size]);
        assert_eq!(probe(&*d).unwrap(), None);
        assert_eq!(
            open(Arc::clone(&d)).unwrap_err().kind,
            FsErrorKind::Unsupported
        );
        for ty in ["ext4", "vfat", "ntfs"] {
            assert!(
                open_as(Arc::clone(&d), ty).is_err(),
                "{ty} opened {size} zero bytes"
            );
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rnd: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let d = mem(rnd);
    assert_eq!(probe(&*d).unwrap(), None);
    for ty in ["ext4", "vfat", "ntfs"] {
        assert!(open_as(Arc::clone(&d), ty).is_err());
    }
}

#[test]
fn ext4_truncated_and_zeroed_superblock() {
    let Some(img) = ext4_image("ext4") else {
        return;
    };
    // A zeroed superblock: not ext, nothing recognised.
    let mut z = img.clone();
    z[1024..2048].fill(0);
    assert_eq!(probe(&*mem(z.clone())).unwrap(), None);
    assert_eq!(
        open_as(mem(z), "ext4").unwrap_err().kind,
        FsErrorKind::Corrupt
    );
    // Truncated: the superblock says more blocks than there are.
    for len in [1500usize, 4096, 64 * 1024, img.len() / 2] {
        let d = mem(img[..len].to_vec());
        match open_as(d, "ext4") {
            Err(e) => assert!(
                matches!(e.kind, FsErrorKind::Io | FsErrorKind::Corrupt),
                "{len}: {e:?}"
            ),
            Ok(fs) => {
                exercise(&*fs, 2000);
            }
        }
    }
}

fn mutate_and_walk(
    img: &[u8],
    ty: &str,
    rounds: usize,
    region: std::ops::Range<usize>,
    seed: u64,
) -> usize {
    let mut rng = Rng(seed);
    let mut opened = 0;
    for _ in 0..rounds {
        let mut m = img.to_vec();
        for _ in 0..1 + rng.below(8) {
            let at = region.start + rng.below(region.len());
            m[at] = rng.next() as u8;
        }
        let _ = probe(&*mem(m.clone()));
        if let Ok(fs) = open_as(mem(m), ty) {
            opened += 1;
            exercise(&*fs, 300);
        }
    }
    opened
}

#[test]
fn ext4_bit_flips_in_metadata_never_panic() {
    let Some(img) = ext4_image("ext4") else {
        return;
    };
    // Superblock, group descriptors, bitmaps, inode table, first directories.
    let opened = mutate_and_walk(&img, "ext4", 150, 1024..256 * 1024, 1);
    assert!(
        opened > 0,
        "no mutant even opened: the test exercises nothing"
    );
}

#[test]
fn ext2_bit_flips_in_metadata_never_panic() {
    let Some(img) = ext4_image("ext2") else {
        return;
    };
    mutate_and_walk(&img, "ext4", 100, 1024..256 * 1024, 2);
}

#[test]
fn fat_bit_flips_never_panic() {
    let Some(img) = fat_image() else { return };
    // Boot sector, FATs, root directory and the first data clusters.
    let opened = mutate_and_walk(&img, "vfat", 300, 0..96 * 1024, 3);
    assert!(opened > 0);
    // Truncations.
    for len in [512usize, 4096, 40_000, img.len() / 2] {
        if let Ok(fs) = open_as(mem(img[..len].to_vec()), "vfat") {
            exercise(&*fs, 300);
        }
    }
}

/// Locate the 32-byte root-directory entry named `name11` in a FAT16 image and
/// return (first cluster, FAT offset, offset of cluster 2, cluster size).
fn fat16_layout(img: &[u8], name11: &[u8; 11]) -> (usize, usize, usize, usize) {
    let le16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]) as usize;
    let bps = le16(11);
    let spc = img[13] as usize;
    let reserved = le16(14);
    let fats = img[16] as usize;
    let root_entries = le16(17);
    let fat_len = le16(22);
    let fat_off = reserved * bps;
    let root_off = fat_off + fats * fat_len * bps;
    let data_off = root_off + root_entries * 32;
    let entry = (0..root_entries)
        .map(|i| root_off + i * 32)
        .find(|&o| &img[o..o + 11] == name11)
        .unwrap();
    (le16(entry + 26), fat_off, data_off, spc * bps)
}

#[test]
fn fat_directory_cluster_loop_is_bounded() {
    let Some(img) = fat_image() else { return };
    let (cl, fat_off, data_off, csize) = fat16_layout(&img, b"DIR        ");
    let dir_at = data_off + (cl - 2) * csize;
    // Variant 1: the directory's cluster chain loops onto itself, and the cluster is
    // full of live entries: the scan would yield entries forever.
    let mut live = img.clone();
    live[fat_off + 2 * cl..fat_off + 2 * cl + 2].copy_from_slice(&(cl as u16).to_le_bytes());
    let file_entry: Vec<u8> = img[dir_at + 64..dir_at + 96].to_vec(); // after . and ..
    for slot in (dir_at..dir_at + csize).step_by(32).skip(2) {
        live[slot..slot + 32].copy_from_slice(&file_entry);
    }
    let fs = open_as(mem(live), "vfat").unwrap();
    let e = fs.read_dir("/DIR").unwrap_err();
    assert_eq!(e.kind, FsErrorKind::LimitExceeded, "{e}");
    assert!(e.message.contains(&FAT_MAX_DIR_ENTRIES.to_string()));
    assert_eq!(
        fs.lstat("/DIR/none").unwrap_err().kind,
        FsErrorKind::LimitExceeded
    );
    // Variant 2: the looping cluster holds only deleted entries: nothing is ever
    // yielded, and only the read budget stops the scan.
    let mut dead = img.clone();
    dead[fat_off + 2 * cl..fat_off + 2 * cl + 2].copy_from_slice(&(cl as u16).to_le_bytes());
    for slot in (dir_at..dir_at + csize).step_by(32) {
        dead[slot] = 0xE5;
    }
    let fs = open_as(mem(dead), "vfat").unwrap();
    let e = fs.read_dir("/DIR").unwrap_err();
    assert_eq!(e.kind, FsErrorKind::LimitExceeded, "{e}");
    assert!(e.message.contains("budget"), "{e}");
}

#[test]
fn fat_file_longer_than_its_cluster_chain_is_corrupt() {
    let Some(img) = fat_image() else { return };
    let (cl, fat_off, _, _) = fat16_layout(&img, b"TOPLEV~1TXT");
    // Cut the 10,000-byte file's chain after its first cluster.
    let mut m = img.clone();
    m[fat_off + 2 * cl..fat_off + 2 * cl + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
    let fs = open_as(mem(m), "vfat").unwrap();
    let e = fs.read_file("/Top Level.txt", 1 << 20).unwrap_err();
    assert_eq!(e.kind, FsErrorKind::Corrupt, "{e}");
}

#[test]
fn ntfs_bit_flips_in_the_mft_never_panic() {
    if !have("mkntfs") || !have("ntfscp") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    run(Command::new("mkntfs").args(["-F", "-Q", "-q"]).arg(&img));
    let f = tmp.path().join("f");
    std::fs::write(&f, vec![9u8; 5000]).unwrap();
    run(Command::new("ntfscp")
        .args(["-f", "-q"])
        .arg(&img)
        .arg(&f)
        .arg("/file"));
    let bytes = std::fs::read(&img).unwrap();
    let cluster = u64::from(u16::from_le_bytes([bytes[11], bytes[12]])) * u64::from(bytes[13]);
    let mft_lcn = u64::from_le_bytes(bytes[0x30..0x38].try_into().unwrap());
    let mft = (mft_lcn * cluster) as usize;
    let opened = mutate_and_walk(&bytes, "ntfs", 150, mft..mft + 64 * 1024, 4);
    assert!(opened > 0);
    // Boot sector flips.
    mutate_and_walk(&bytes, "ntfs", 100, 0..512, 5);
    // Truncated: the MFT is gone.
    let e = open_as(mem(bytes[..mft].to_vec()), "ntfs").unwrap_err();
    assert!(
        matches!(e.kind, FsErrorKind::Corrupt | FsErrorKind::Io),
        "{e:?}"
    );
}

use guestctl_testkit::bounded as bounded_child;

/// Size the inode of the sparse file claims: a gigabyte on a 10 MiB image.
const SPARSE_CLAIM: u64 = 1_000_000_000;

/// A 10 MiB ext4 image holding `/var/lib/dpkg/status` whose inode claims
/// [`SPARSE_CLAIM`] bytes (set with debugfs `sif`): all holes past its first block.
fn sparse_claim_image(dir: &Path) -> Option<std::path::PathBuf> {
    if !have("mke2fs") || !have("debugfs") {
        return None;
    }
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("var/lib/dpkg")).unwrap();
    std::fs::write(src.join("var/lib/dpkg/status"), "Package: a\n\n").unwrap();
    let img = dir.join("sparse.img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("10M"));
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("sif /var/lib/dpkg/status size {SPARSE_CLAIM}"))
        .arg(&img));
    Some(img)
}

/// A 16 MiB ext4 image whose `/big` holds `n` empty files in a directory without
/// a hash-tree index (`^dir_index`): every lookup by name scans it.
fn unindexed_dir_image(dir: &Path, n: usize) -> Option<std::path::PathBuf> {
    if !have("mke2fs") {
        return None;
    }
    let big = dir.join("src/big");
    std::fs::create_dir_all(&big).unwrap();
    for i in 0..n {
        std::fs::File::create(big.join(format!("file-{i:05}"))).unwrap();
    }
    std::os::unix::fs::symlink("file-00000", big.join("link")).unwrap();
    let img = dir.join("dir.img");
    run(Command::new("mke2fs")
        .args([
            "-q",
            "-F",
            "-t",
            "ext4",
            "-O",
            "^dir_index",
            "-N",
            "30000",
            "-d",
        ])
        .arg(dir.join("src"))
        .arg(&img)
        .arg("16M"));
    Some(img)
}

fn open_file_image(img: &Path) -> Box<dyn guestctl_fs::Filesystem> {
    let dev = guestctl_block::open_image(img, &guestctl_block::OpenOptions::default()).unwrap();
    open(dev).unwrap()
}

#[test]
fn a_sparse_file_larger_than_its_device_is_refused_whole_and_streamed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = sparse_claim_image(tmp.path()) else {
        return;
    };
    let fs = open_file_image(&img);
    let path = "/var/lib/dpkg/status";
    assert_eq!(fs.lstat(path).unwrap().len, SPARSE_CLAIM);
    let e = fs.read_file(path, guestctl_fs::MAX_FILE_READ).unwrap_err();
    assert_eq!(e.kind, FsErrorKind::LimitExceeded, "{e}");
    assert!(
        e.to_string()
            .contains("larger than the 10485760-byte device"),
        "{e}"
    );
    // The head is still readable (bounded by its own length).
    assert_eq!(fs.read_file_head(path, 11).unwrap(), b"Package: a\n");
    // Streaming hands over the first block's data then the holes, a chunk at a time.
    let mut first = Vec::new();
    let mut chunks = 0usize;
    fs.read_file_chunks(path, &mut |c| {
        assert!(c.len() <= guestctl_fs::READ_CHUNK_LEN);
        if first.is_empty() {
            first = c.to_vec();
        }
        chunks += 1;
        if chunks == 100 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(chunks, 100, "stopped when asked");
    assert!(first.starts_with(b"Package: a\n\n\0"), "{:?}", &first[..20]);
}

#[test]
fn sparse_claim_reads_stay_within_memory_and_time() {
    bounded_child::run_test_in_child("sparse_claim_child");
}

#[test]
#[ignore = "run by sparse_claim_reads_stay_within_memory_and_time under prlimit"]
fn sparse_claim_child() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = sparse_claim_image(tmp.path()) else {
        return bounded_child::report_peak();
    };
    let fs = open_file_image(&img);
    assert!(fs
        .read_file("/var/lib/dpkg/status", guestctl_fs::MAX_FILE_READ)
        .is_err());
    // Streaming all of it: one chunk of memory for a gigabyte of holes.
    let mut total = 0u64;
    fs.read_file_chunks("/var/lib/dpkg/status", &mut |c| {
        total += c.len() as u64;
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(total, SPARSE_CLAIM);
    bounded_child::report_peak();
}

/// Entries of the unindexed directory: `mke2fs -d` itself links them in
/// quadratic time, so few enough to build in about a second.
const BIG_DIR_ENTRIES: usize = 5_000;
/// Where the parent tells the child which image to list.
const IMAGE_ENV: &str = "GUESTCTL_TEST_UNINDEXED_IMAGE";

#[test]
fn listing_an_unindexed_directory_in_detail_is_linear() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = unindexed_dir_image(tmp.path(), BIG_DIR_ENTRIES) else {
        return;
    };
    let fs = open_file_image(&img);
    // Warm both paths once, then compare within this run: the names alone against
    // names with metadata and link targets. Looking each entry up by name scans
    // the directory per entry (thousands of times the plain listing); through
    // the entries it is an inode read each (a few times the plain listing).
    fs.read_dir("/big").unwrap();
    fs.read_dir_detailed("/big").unwrap();
    let t = std::time::Instant::now();
    fs.read_dir("/big").unwrap();
    let plain = t.elapsed();
    let t = std::time::Instant::now();
    fs.read_dir_detailed("/big").unwrap();
    let detailed = t.elapsed();
    let ratio = detailed.as_secs_f64() / plain.as_secs_f64().max(1e-6);
    eprintln!("plain {plain:?}, detailed {detailed:?}, ratio {ratio:.1}");
    assert!(ratio < 200.0, "detailed listing {ratio:.0}x the plain one");
    bounded_child::run_test_in_child_with("unindexed_dir_listing_child", &[(IMAGE_ENV, &img)]);
}

#[test]
#[ignore = "run by listing_an_unindexed_directory_in_detail_is_linear under prlimit"]
fn unindexed_dir_listing_child() {
    let tmp = tempfile::tempdir().unwrap();
    let img = match std::env::var_os(IMAGE_ENV) {
        Some(p) => std::path::PathBuf::from(p),
        None => match unindexed_dir_image(tmp.path(), BIG_DIR_ENTRIES) {
            Some(p) => p,
            None => return bounded_child::report_peak(),
        },
    };
    let fs = open_file_image(&img);
    let entries = fs.read_dir_detailed("/big").unwrap();
    assert_eq!(entries.len(), BIG_DIR_ENTRIES + 1);
    for d in &entries {
        let md = d.metadata.as_ref().unwrap();
        let expected = if d.entry.name == "link" {
            (guestctl_fs::FileType::Symlink, 10)
        } else {
            (guestctl_fs::FileType::File, 0)
        };
        assert_eq!((md.file_type, md.len), expected, "{}", d.entry.name);
        assert_eq!(md.file_type, d.entry.file_type);
    }
    let link = entries.iter().find(|d| d.entry.name == "link").unwrap();
    assert_eq!(
        link.target.as_ref().unwrap().as_ref().unwrap(),
        "file-00000"
    );
    assert_eq!(entries.iter().filter(|d| d.target.is_some()).count(), 1);
    bounded_child::report_peak();
}
