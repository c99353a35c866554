//! Real images built with the distribution's tools (e2fsprogs, dosfstools + mtools,
//! ntfs-3g's mkntfs/ntfscp, util-linux's mkswap, xfsprogs), read back through
//! `guestctl_fs`. Each image's bytes are hashed before and after the operations to
//! prove nothing was written. A test whose tool is missing says so and fails only
//! if `GUESTCTL_REQUIRE_TOOLS` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{BlockDevice, FileDevice, MemDevice, SliceDevice};
use guestctl_fs::{open, probe, DirEntry, FileType, Filesystem, FsErrorKind};
use guestctl_testkit::have;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hash_file(p: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    std::fs::read(p).unwrap().hash(&mut h);
    h.finish()
}

fn names(mut v: Vec<DirEntry>) -> Vec<(String, FileType)> {
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v.into_iter().map(|e| (e.name, e.file_type)).collect()
}

fn dev(p: &Path) -> Arc<dyn BlockDevice> {
    Arc::new(FileDevice::open(p).unwrap())
}

/// A guest-like tree: files, nested dirs, every kind of symlink, a large file and a
/// directory big enough for an ext4 htree.
fn linux_tree(root: &Path) -> Vec<u8> {
    use std::os::unix::fs::symlink;
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("many")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/hostname"), "guest\n").unwrap();
    std::fs::write(root.join("usr/bin/bash"), b"\x7fELF\x02\x01\x01").unwrap();
    // 1.5 MiB, like a dpkg status file; varied content catches misplaced blocks.
    let big: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(root.join("var/lib/dpkg/status"), &big).unwrap();
    for i in 0..400 {
        std::fs::write(
            root.join(format!("many/file-with-a-longish-name-{i:04}")),
            i.to_string(),
        )
        .unwrap();
    }
    symlink("usr/bin", root.join("bin")).unwrap();
    symlink("/etc/os-release", root.join("etc/abs-link")).unwrap();
    symlink("../nonexistent", root.join("etc/dangling")).unwrap();
    symlink("loop2", root.join("etc/loop1")).unwrap();
    symlink("loop1", root.join("etc/loop2")).unwrap();
    // A slow (non-inline) symlink: target longer than 60 bytes.
    symlink(
        "/".to_string() + &"x".repeat(100),
        root.join("etc/long-link"),
    )
    .unwrap();
    big
}

fn mke2fs(kind: &str, src: &Path, img: &Path, extra: &[&str]) {
    let mut cmd = Command::new("mke2fs");
    cmd.args([
        "-q",
        "-F",
        "-t",
        kind,
        "-L",
        "rootfs",
        "-U",
        "2f2ef3a4-9d5e-4c41-8a2b-6bde7e1f0c11",
        "-b",
        "4096",
    ]);
    cmd.args(extra).arg("-d").arg(src).arg(img).arg("16M");
    run(&mut cmd);
}

fn check_linux_fs(fs: &dyn Filesystem, big: &[u8]) {
    assert_eq!(
        fs.read_file("/etc/os-release", 1 << 20).unwrap(),
        b"ID=debian\nVERSION_ID=\"12\"\n"
    );
    assert_eq!(
        fs.read_file("//etc/./hostname", 1 << 20).unwrap(),
        b"guest\n"
    );
    assert_eq!(fs.read_file("/var/lib/dpkg/status", 1 << 30).unwrap(), big);
    // The limit is enforced before reading.
    let e = fs.read_file("/var/lib/dpkg/status", 1000).unwrap_err();
    assert_eq!(e.kind, FsErrorKind::LimitExceeded);
    // A bounded partial read returns the head of a file over the limit.
    assert_eq!(
        fs.read_file_head("/var/lib/dpkg/status", 1000).unwrap(),
        &big[..1000]
    );
    assert_eq!(
        fs.read_file_head("/etc/hostname", 1000).unwrap(),
        b"guest\n"
    );
    assert_eq!(fs.read_file_head("/etc/hostname", 0).unwrap(), b"");
    for p in ["/etc", "/etc/loop1", "/bin/bash"] {
        assert_eq!(
            fs.read_file_head(p, 10).unwrap_err().kind,
            FsErrorKind::WrongType,
            "{p}"
        );
    }

    // Symlinks: reported, not followed.
    let md = fs.lstat("/bin").unwrap();
    assert_eq!(md.file_type, FileType::Symlink);
    assert_eq!(fs.read_link("/bin").unwrap(), "usr/bin");
    assert_eq!(fs.read_link("/etc/abs-link").unwrap(), "/etc/os-release");
    assert_eq!(fs.read_link("/etc/dangling").unwrap(), "../nonexistent");
    assert_eq!(fs.read_link("/etc/loop1").unwrap(), "loop2");
    assert_eq!(fs.read_link("/etc/long-link").unwrap().len(), 101);
    assert_eq!(
        fs.read_file("/etc/abs-link", 100).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_file("/etc/loop1", 100).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_dir("/bin").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    // An intermediate symlink is refused, never followed.
    assert_eq!(
        fs.lstat("/bin/bash").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_file("/bin/bash", 100).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.lstat("/etc/loop1/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_dir("/etc/dangling/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_link("/etc/os-release").unwrap_err().kind,
        FsErrorKind::WrongType
    );

    // Directories.
    assert_eq!(fs.lstat("/").unwrap().file_type, FileType::Dir);
    let etc = names(fs.read_dir("/etc").unwrap());
    assert!(etc.contains(&("os-release".into(), FileType::File)));
    assert!(etc.contains(&("loop1".into(), FileType::Symlink)));
    assert!(!etc.iter().any(|(n, _)| n == "." || n == ".."));
    assert_eq!(fs.read_dir("/many").unwrap().len(), 400);
    assert_eq!(
        fs.read_file("/many/file-with-a-longish-name-0399", 10)
            .unwrap(),
        b"399"
    );
    assert_eq!(
        fs.read_dir("/etc/os-release").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_file("/etc", 10).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(fs.lstat("/nope").unwrap_err().kind, FsErrorKind::NotFound);
    assert_eq!(
        fs.lstat("/etc/os-release/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.lstat("relative").unwrap_err().kind,
        FsErrorKind::InvalidPath
    );
    // `..` is lexical (safe, since intermediate symlinks are refused).
    assert_eq!(
        fs.read_file("/usr/../etc/hostname", 10).unwrap(),
        b"guest\n"
    );
    let md = fs.lstat("/etc/hostname").unwrap();
    assert_eq!((md.file_type, md.len), (FileType::File, 6));
}

fn ext_round_trip(kind: &str, extra: &[&str], expect_type: &str) {
    if !have("mke2fs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let big = linux_tree(&src);
    let img = tmp.path().join("fs.img");
    mke2fs(kind, &src, &img, extra);
    let before = hash_file(&img);
    let d = dev(&img);
    let p = probe(&*d).unwrap().unwrap();
    assert_eq!(p.fs_type, expect_type);
    assert_eq!(
        p.uuid.as_deref(),
        Some("2f2ef3a4-9d5e-4c41-8a2b-6bde7e1f0c11")
    );
    assert_eq!(p.label.as_deref(), Some("rootfs"));
    let fs = open(d).unwrap();
    assert_eq!(fs.fs_type(), expect_type);
    assert_eq!(fs.label().as_deref(), Some("rootfs"));
    check_linux_fs(&*fs, &big);
    drop(fs);
    assert_eq!(hash_file(&img), before, "image changed");
}

#[test]
fn ext4_image() {
    ext_round_trip("ext4", &[], "ext4");
}

#[test]
fn ext3_image_block_maps_and_journal() {
    ext_round_trip("ext3", &[], "ext3");
}

#[test]
fn ext2_image() {
    ext_round_trip("ext2", &[], "ext2");
}

#[test]
fn ext4_with_metadata_csum_off_and_64bit() {
    ext_round_trip("ext4", &["-O", "^metadata_csum,64bit"], "ext4");
}

#[test]
fn ext4_at_an_offset_through_a_slice_and_in_memory() {
    if !have("mke2fs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let big = linux_tree(&src);
    let img = tmp.path().join("disk.img");
    let offset = 1024 * 1024;
    mke2fs("ext4", &src, &img, &["-E", &format!("offset={offset}")]);
    let bytes = std::fs::read(&img).unwrap();
    let whole: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(bytes));
    let len = whole.size() - offset;
    let part: Arc<dyn BlockDevice> = Arc::new(SliceDevice::new(whole, offset, len).unwrap());
    let fs = open(part).unwrap();
    check_linux_fs(&*fs, &big);
}

#[test]
fn ext4_driver_is_usable_from_another_thread() {
    if !have("mke2fs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    linux_tree(&src);
    let img = tmp.path().join("fs.img");
    mke2fs("ext4", &src, &img, &[]);
    let fs: Arc<dyn Filesystem> = Arc::from(open(dev(&img)).unwrap());
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let fs = Arc::clone(&fs);
            std::thread::spawn(move || fs.read_file("/etc/hostname", 100).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), b"guest\n");
    }
    // Many filesystems opened and dropped on one thread: the per-thread table
    // stays bounded and each keeps answering.
    for _ in 0..40 {
        let fs = open(dev(&img)).unwrap();
        assert_eq!(fs.read_file("/etc/hostname", 100).unwrap(), b"guest\n");
    }
}

fn mkfat(tmp: &Path, fat_bits: &str, size_kib: &str) -> PathBuf {
    let img = tmp.join(format!("fat{fat_bits}.img"));
    run(Command::new("mkfs.vfat")
        .args(["-C", "-F", fat_bits, "-n", "ESP", "-i", "1234ABCD"])
        .arg(&img)
        .arg(size_kib));
    let f = tmp.join("grub.cfg");
    std::fs::write(&f, "set timeout=5\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let b = tmp.join("big.bin");
    std::fs::write(&b, &big).unwrap();
    run(Command::new("mmd")
        .arg("-i")
        .arg(&img)
        .args(["::/EFI", "::/EFI/debian"]));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg(&f)
        .arg("::/EFI/debian/Grub.cfg"));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg(&b)
        .arg("::/EFI/Big File With Long Name.bin"));
    img
}

fn fat_round_trip(fat_bits: &str, size_kib: &str) {
    if !have("mkfs.vfat") || !have("mcopy") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = mkfat(tmp.path(), fat_bits, size_kib);
    let before = hash_file(&img);
    let d = dev(&img);
    let p = probe(&*d).unwrap().unwrap();
    assert_eq!(p.fs_type, "vfat");
    assert_eq!(p.uuid.as_deref(), Some("1234-ABCD"));
    assert_eq!(p.label.as_deref(), Some("ESP"));
    assert_eq!(
        p.version.as_deref(),
        Some(format!("FAT{fat_bits}").as_str())
    );
    let fs = open(d).unwrap();
    assert_eq!((fs.fs_type(), fs.label().as_deref()), ("vfat", Some("ESP")));
    assert_eq!(
        fs.read_file("/EFI/debian/Grub.cfg", 100).unwrap(),
        b"set timeout=5\n"
    );
    // Case-insensitive, as FAT is.
    assert_eq!(
        fs.read_file("/efi/DEBIAN/grub.CFG", 100).unwrap(),
        b"set timeout=5\n"
    );
    let big = fs
        .read_file("/EFI/big file with long name.bin", 1 << 20)
        .unwrap();
    assert_eq!(big.len(), 300_000);
    assert!(big.iter().enumerate().all(|(i, &b)| b == (i % 253) as u8));
    assert_eq!(
        fs.read_file("/EFI/Big File With Long Name.bin", 1000)
            .unwrap_err()
            .kind,
        FsErrorKind::LimitExceeded
    );
    assert_eq!(
        fs.read_file_head("/EFI/Big File With Long Name.bin", 5000)
            .unwrap(),
        &big[..5000]
    );
    assert_eq!(
        fs.read_file_head("/EFI", 10).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    let root = names(fs.read_dir("/").unwrap());
    assert_eq!(root, vec![("EFI".to_string(), FileType::Dir)]);
    let efi = names(fs.read_dir("/EFI").unwrap());
    assert_eq!(
        efi,
        vec![
            ("Big File With Long Name.bin".to_string(), FileType::File),
            ("debian".to_string(), FileType::Dir)
        ]
    );
    assert_eq!(fs.lstat("/EFI/debian/grub.cfg").unwrap().len, 14);
    assert_eq!(fs.lstat("/EFI").unwrap().file_type, FileType::Dir);
    assert_eq!(
        fs.lstat("/EFI/none").unwrap_err().kind,
        FsErrorKind::NotFound
    );
    assert_eq!(
        fs.read_link("/EFI/debian/grub.cfg").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_dir("/EFI/debian/grub.cfg").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_file("/EFI", 10).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.lstat("/EFI/debian/grub.cfg/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    drop(fs);
    assert_eq!(hash_file(&img), before, "image changed");
}

#[test]
fn fat12_image() {
    fat_round_trip("12", "2048");
}

#[test]
fn fat16_image() {
    fat_round_trip("16", "20480");
}

#[test]
fn fat32_image() {
    fat_round_trip("32", "40960");
}

fn mkntfs(tmp: &Path) -> PathBuf {
    let img = tmp.join("ntfs.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(16 << 20).unwrap();
    drop(f);
    run(Command::new("mkntfs")
        .args(["-F", "-Q", "-q", "-L", "Windows"])
        .arg(&img));
    let small = tmp.join("small");
    std::fs::write(&small, "resident").unwrap();
    let hive: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    let big = tmp.join("big");
    std::fs::write(&big, &hive).unwrap();
    run(Command::new("ntfscp")
        .arg("-f")
        .arg("-q")
        .arg(&img)
        .arg(&small)
        .arg("/Small.txt"));
    run(Command::new("ntfscp")
        .arg("-f")
        .arg("-q")
        .arg(&img)
        .arg(&big)
        .arg("/SOFTWARE"));
    run(Command::new("ntfscp")
        .arg("-f")
        .arg("-q")
        .arg(&img)
        .arg(&small)
        .arg("/$Extend/Nested.txt"));
    img
}

#[test]
fn ntfs_image() {
    if !have("mkntfs") || !have("ntfscp") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = mkntfs(tmp.path());
    let before = hash_file(&img);
    let d = dev(&img);
    let p = probe(&*d).unwrap().unwrap();
    assert_eq!(p.fs_type, "ntfs");
    assert_eq!(p.label.as_deref(), Some("Windows"));
    assert_eq!(p.version.as_deref(), Some("3.1"));
    let serial = p.uuid.clone().unwrap();
    assert_eq!(serial.len(), 16);
    assert!(serial
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    let fs = open(d).unwrap();
    assert_eq!(
        (fs.fs_type(), fs.uuid(), fs.label().as_deref()),
        ("ntfs", Some(serial), Some("Windows"))
    );
    assert_eq!(fs.read_file("/Small.txt", 100).unwrap(), b"resident");
    assert_eq!(fs.read_file("/small.TXT", 100).unwrap(), b"resident");
    let hive = fs.read_file("/software", 1 << 20).unwrap();
    assert_eq!(hive.len(), 200_000);
    assert!(hive.iter().enumerate().all(|(i, &b)| b == (i % 241) as u8));
    assert_eq!(
        fs.read_file("/SOFTWARE", 1000).unwrap_err().kind,
        FsErrorKind::LimitExceeded
    );
    assert_eq!(fs.read_file_head("/SOFTWARE", 5000).unwrap(), &hive[..5000]);
    assert_eq!(fs.read_file_head("/Small.txt", 3).unwrap(), b"res");
    assert_eq!(
        fs.read_file_head("/$Extend", 3).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(fs.lstat("/SOFTWARE").unwrap().len, 200_000);
    // Nested lookups, case-insensitive at every level.
    assert_eq!(
        fs.read_file("/$EXTEND/nested.txt", 100).unwrap(),
        b"resident"
    );
    assert_eq!(fs.lstat("/$Extend").unwrap().file_type, FileType::Dir);
    let ext = names(fs.read_dir("/$Extend").unwrap());
    assert!(
        ext.contains(&("Nested.txt".to_string(), FileType::File)),
        "{ext:?}"
    );
    // Root listing: user files only, no $MFT and no `.`.
    let root = names(fs.read_dir("/").unwrap());
    assert_eq!(
        root,
        vec![
            ("SOFTWARE".to_string(), FileType::File),
            ("Small.txt".to_string(), FileType::File)
        ]
    );
    assert_eq!(
        fs.lstat("/missing").unwrap_err().kind,
        FsErrorKind::NotFound
    );
    assert_eq!(
        fs.read_dir("/Small.txt").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_file("/$Extend", 100).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.lstat("/Small.txt/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.read_link("/Small.txt").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    drop(fs);
    assert_eq!(hash_file(&img), before, "image changed");
}

/// `testdata/testfs1` of the `ntfs` crate's source in the cargo registry, if there.
fn ntfs_crate_test_image() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|d| d.path().join("ntfs-0.4.0/testdata/testfs1"))
        .find(|p| p.exists())
}

/// The `ntfs` crate ships a test image (made with ntfs-3g as root) with a directory
/// of 512 subdirectories, whose index needs $INDEX_ALLOCATION, and a sparse file.
/// Read from the crate's source in the local cargo registry (always there when
/// the workspace was built from the registry).
#[test]
fn ntfs_crate_test_image_if_present() {
    let Some(img) = ntfs_crate_test_image() else {
        guestctl_testkit::unavailable("the ntfs-0.4.0 test image is not in the cargo registry");
        return;
    };
    let fs = open(dev(&img)).unwrap();
    assert_eq!(fs.label().as_deref(), Some("mylabel"));
    let subdirs = fs.read_dir("/many_subdirs").unwrap();
    assert_eq!(subdirs.len(), 512);
    assert!(subdirs.iter().all(|e| e.file_type == FileType::Dir));
    assert_eq!(
        fs.lstat("/many_subdirs/397").unwrap().file_type,
        FileType::Dir
    );
    assert_eq!(fs.read_file("/file-with-12345", 10).unwrap(), b"12345");
    assert_eq!(
        fs.read_file("/1000-bytes-file", 1000).unwrap(),
        b"12345".repeat(200)
    );
    let sparse = fs.read_file("/sparse-file", 1 << 20).unwrap();
    assert_eq!(sparse.len(), 500_005);
    assert_eq!(&sparse[..5], b"12345");
    assert_eq!(&sparse[500_000..], b"11111");
    assert!(sparse[5..500_000].iter().all(|&b| b == 0));
}

#[test]
fn swap_probe() {
    if !have("mkswap") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("swap.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    run(Command::new("mkswap")
        .args([
            "-q",
            "-L",
            "swappy",
            "-U",
            "7c4f4d3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f",
        ])
        .arg(&img));
    let p = probe(&*dev(&img)).unwrap().unwrap();
    assert_eq!(p.fs_type, "swap");
    assert_eq!(
        p.uuid.as_deref(),
        Some("7c4f4d3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f")
    );
    assert_eq!(p.label.as_deref(), Some("swappy"));
    assert_eq!(open(dev(&img)).unwrap_err().kind, FsErrorKind::Unsupported);
}

#[test]
fn xfs_probe() {
    if !have("mkfs.xfs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("xfs.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(320 << 20)
        .unwrap();
    run(Command::new("mkfs.xfs")
        .args([
            "-q",
            "-f",
            "-L",
            "data",
            "-m",
            "uuid=1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        ])
        .arg(&img));
    let p = probe(&*dev(&img)).unwrap().unwrap();
    assert_eq!(p.fs_type, "xfs");
    assert_eq!(
        p.uuid.as_deref(),
        Some("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    );
    assert_eq!(p.label.as_deref(), Some("data"));
    // The driver (tests/xfs.rs reads files and directories) agrees with the probe.
    let fs = open(dev(&img)).unwrap();
    assert_eq!(fs.fs_type(), "xfs");
    assert_eq!(fs.uuid(), p.uuid);
    assert_eq!(fs.label(), p.label);
}

#[test]
fn nothing_recognised_is_unsupported() {
    let d: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(vec![0; 1 << 20]));
    assert_eq!(open(d).unwrap_err().kind, FsErrorKind::Unsupported);
}

/// One directory per package, as pacman keeps them: the regular cases and every
/// way an entry can be wrong.
fn package_dirs(root: &Path) {
    use std::os::unix::fs::symlink;
    let pkgs = root.join("var/lib/pacman/local");
    for i in 0..300 {
        let d = pkgs.join(format!("package-with-a-long-name-{i:03}-1.0-1"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("desc"), format!("%NAME%\npackage-{i}\n")).unwrap();
        std::fs::write(d.join("files"), "%FILES%\n").unwrap();
    }
    std::fs::create_dir_all(pkgs.join("nodesc-1-1")).unwrap();
    std::fs::write(pkgs.join("nodesc-1-1/files"), "x").unwrap();
    std::fs::create_dir_all(pkgs.join("linkdesc-1-1")).unwrap();
    symlink(
        "../package-with-a-long-name-000-1.0-1/desc",
        pkgs.join("linkdesc-1-1/desc"),
    )
    .unwrap();
    std::fs::create_dir_all(pkgs.join("dirdesc-1-1/desc")).unwrap();
    std::fs::create_dir_all(pkgs.join("big-1-1")).unwrap();
    std::fs::write(pkgs.join("big-1-1/desc"), vec![b'x'; 5000]).unwrap();
    symlink("package-with-a-long-name-001-1.0-1", pkgs.join("alias-1-1")).unwrap();
    std::fs::write(pkgs.join("ALPM_DB_VERSION"), "9\n").unwrap();
    symlink("var/lib", root.join("lib-link")).unwrap();
}

/// Every `for_each_subdir_file` callback as (name, contents or error kind).
type SubdirReads = Vec<(String, Result<Vec<u8>, FsErrorKind>)>;

fn subdir_reads(fs: &dyn Filesystem, dir: &str) -> SubdirReads {
    let mut got = Vec::new();
    fs.for_each_subdir_file(dir, "desc", 1000, &mut |name, r| {
        got.push((name.to_string(), r.map_err(|e| e.kind)));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got
}

/// The trait's default `for_each_subdir_file` (one `read_file` by path per file),
/// to check a driver's own implementation against.
#[derive(Debug)]
struct ByPath<'a>(&'a dyn Filesystem);

impl Filesystem for ByPath<'_> {
    fn fs_type(&self) -> &str {
        self.0.fs_type()
    }
    fn uuid(&self) -> Option<String> {
        self.0.uuid()
    }
    fn label(&self) -> Option<String> {
        self.0.label()
    }
    fn lstat(&self, p: &str) -> Result<guestctl_fs::Metadata, guestctl_fs::FsError> {
        self.0.lstat(p)
    }
    fn read_link(&self, p: &str) -> Result<String, guestctl_fs::FsError> {
        self.0.read_link(p)
    }
    fn read_dir(&self, p: &str) -> Result<Vec<DirEntry>, guestctl_fs::FsError> {
        self.0.read_dir(p)
    }
    fn read_file(&self, p: &str, limit: u64) -> Result<Vec<u8>, guestctl_fs::FsError> {
        self.0.read_file(p, limit)
    }
    fn read_file_head(&self, p: &str, n: u64) -> Result<Vec<u8>, guestctl_fs::FsError> {
        self.0.read_file_head(p, n)
    }
}

fn check_subdir_files(fs: &dyn Filesystem) {
    let got = subdir_reads(fs, "/var/lib/pacman/local");
    // The driver's entry-by-entry reads agree with reads by path.
    assert_eq!(got, subdir_reads(&ByPath(fs), "/var/lib/pacman/local"));
    let find = |n: &str| {
        got.iter()
            .find(|(name, _)| name == n)
            .map(|(_, r)| r.clone())
    };
    assert_eq!(
        got.len(),
        300 + 4,
        "300 packages and 4 broken ones: {got:?}"
    );
    assert_eq!(
        find("package-with-a-long-name-123-1.0-1"),
        Some(Ok(b"%NAME%\npackage-123\n".to_vec()))
    );
    assert_eq!(find("nodesc-1-1"), Some(Err(FsErrorKind::NotFound)));
    assert_eq!(find("linkdesc-1-1"), Some(Err(FsErrorKind::WrongType)));
    assert_eq!(find("dirdesc-1-1"), Some(Err(FsErrorKind::WrongType)));
    assert_eq!(find("big-1-1"), Some(Err(FsErrorKind::LimitExceeded)));
    // A symlink to a package directory and a plain file are not packages.
    assert_eq!(find("alias-1-1"), None);
    assert_eq!(find("ALPM_DB_VERSION"), None);
    // A symlink on the way to the directory is refused, as by every other call.
    let e = fs
        .for_each_subdir_file("/lib-link/pacman/local", "desc", 1000, &mut |_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap_err();
    assert_eq!(e.kind, FsErrorKind::WrongType);
    // Break stops the walk.
    let mut calls = 0;
    fs.for_each_subdir_file("/var/lib/pacman/local", "desc", 1000, &mut |_, _| {
        calls += 1;
        std::ops::ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(calls, 1);
}

#[test]
fn ext4_reads_one_file_per_subdirectory_through_directory_entries() {
    if !have("mke2fs") || !have("e2fsck") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    package_dirs(&src);
    for kind in ["ext4", "ext2"] {
        let img = tmp.path().join(format!("{kind}.img"));
        mke2fs(kind, &src, &img, &["-b", "1024"]);
        check_subdir_files(&*open(dev(&img)).unwrap());
        // Again with hash-tree directories, as the kernel and `e2fsck -D` make them.
        let out = Command::new("e2fsck")
            .arg("-fyD")
            .arg(&img)
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        let before = hash_file(&img);
        check_subdir_files(&*open(dev(&img)).unwrap());
        assert_eq!(hash_file(&img), before, "image changed");
    }
}

/// Directory blocks are checked against their metadata checksum: one flipped byte
/// in a directory's block is reported as corruption, not read as data.
#[test]
fn ext4_corrupt_directory_block_fails_its_checksum() {
    if !have("mke2fs") || !have("debugfs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    linux_tree(&src);
    let img = tmp.path().join("fs.img");
    mke2fs("ext4", &src, &img, &["-O", "metadata_csum"]);
    assert!(open(dev(&img)).unwrap().read_dir("/etc").is_ok());
    let out = Command::new("debugfs")
        .args(["-R", "blocks /etc"])
        .arg(&img)
        .output()
        .unwrap();
    let block: u64 = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|b| b.parse().ok())
        .expect("the block of /etc");
    let mut bytes = std::fs::read(&img).unwrap();
    // Inside the name of an entry (after `.` and `..`), not its checksum tail.
    let at = usize::try_from(block * 4096 + 40).unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(&img, &bytes).unwrap();
    let e = open(dev(&img)).unwrap().read_dir("/etc").unwrap_err();
    assert_eq!(e.kind, FsErrorKind::Corrupt, "{e}");
}

/// A directory entry that records a symlink as a directory (a hostile image: the
/// type byte in the entry lies) is still not followed: the type is checked on the
/// inode. Without metadata checksums, so the edited block is accepted as it is.
#[test]
fn ext4_subdir_entry_that_lies_about_a_symlink_is_not_followed() {
    if !have("mke2fs") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    package_dirs(&src);
    let img = tmp.path().join("fs.img");
    mke2fs("ext4", &src, &img, &["-O", "^metadata_csum"]);
    let mut bytes = std::fs::read(&img).unwrap();
    // `alias-1-1` is a symlink to a package directory: its entry is
    // inode (4) rec_len (2) name_len (1) file_type (1) name.
    let name = b"alias-1-1";
    let at = bytes
        .windows(name.len())
        .position(|w| w == name)
        .expect("the entry of alias-1-1");
    assert_eq!(bytes[at - 2], name.len() as u8, "name_len before the name");
    assert_eq!(bytes[at - 1], 7, "recorded as a symlink");
    bytes[at - 1] = 2; // now recorded as a directory
    std::fs::write(&img, &bytes).unwrap();
    let fs = open(dev(&img)).unwrap();
    let listed = fs.read_dir("/var/lib/pacman/local").unwrap();
    assert!(
        listed
            .iter()
            .any(|e| e.name == "alias-1-1" && e.file_type == FileType::Dir),
        "the edit took effect"
    );
    let got = subdir_reads(&*fs, "/var/lib/pacman/local");
    assert!(
        got.iter().all(|(n, _)| n != "alias-1-1"),
        "a symlink recorded as a directory was followed: {got:?}"
    );
    assert_eq!(got.len(), 300 + 4);
}
