//! XFS filesystems made by `mkfs.xfs -p protofile` (root-free) read back through
//! `guestctl_fs`: v5 and v4, directories in shortform, block, leaf and node form with
//! an extent and a B+tree data fork (checked with `xfs_db`), files and symlinks. The
//! image is hashed before and after to prove nothing was written. A missing tool
//! fails the test only when `GUESTCTL_REQUIRE_TOOLS` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{BlockDevice, FileDevice};
use guestctl_fs::{open, FileType, FsErrorKind};
use guestctl_testkit::have;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// mkfs.xfs refuses filesystems under 300 MB; the file is sparse where unwritten.
const IMAGE_LEN: u64 = 320 << 20;

/// Directories of this many entries, and the format `xfs_db` reports for each data
/// fork (1 local = shortform, 2 extents, 3 btree).
const DIRS: [(usize, u32); 4] = [(3, 1), (40, 2), (400, 2), (4000, 3)];

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn entry_name(i: usize) -> String {
    format!("entry-with-a-longish-name-{i:06}")
}

/// A file whose every 4 KiB block differs, larger than one extent record's worth of
/// inline data.
fn big_contents() -> Vec<u8> {
    (0..700_000u32)
        .map(|i| (i / 4096 + i % 251) as u8)
        .collect()
}

/// Write the source files and the protofile; return the protofile's path.
fn protofile(dir: &Path) -> PathBuf {
    let small = dir.join("small");
    std::fs::write(&small, "hello xfs\n").unwrap();
    let big = dir.join("big");
    std::fs::write(&big, big_contents()).unwrap();
    let (s, b) = (small.display(), big.display());
    let mut p = format!(
        "/dev/null\n0 0\nd--755 0 0\nsmall ---644 0 0 {s}\nbig ---600 0 0 {b}\n\
         link l--777 0 0 small\nlong l--777 0 0 /{}\netc d--755 0 0\n\
         hostname ---644 0 0 {s}\n$\n",
        "x".repeat(300)
    );
    for (n, _) in DIRS {
        p.push_str(&format!("d{n} d--755 0 0\n"));
        for i in 0..n {
            p.push_str(&format!("{} ---644 0 0 {s}\n", entry_name(i)));
        }
        p.push_str("$\n");
    }
    p.push_str("$\n");
    let path = dir.join("proto");
    std::fs::write(&path, p).unwrap();
    path
}

/// Make an XFS image with the protofile; `v4` makes a v4 (no CRC) filesystem.
fn make_image(dir: &Path, v4: bool) -> PathBuf {
    let proto = protofile(dir);
    let img = dir.join(if v4 { "v4.img" } else { "v5.img" });
    std::fs::File::create(&img)
        .unwrap()
        .set_len(IMAGE_LEN)
        .unwrap();
    let crc = if v4 { "crc=0" } else { "crc=1" };
    run(Command::new("mkfs.xfs")
        .args(["-q", "-f", "-m", crc, "-L", "guest", "-p"])
        .arg(&proto)
        .arg(&img));
    img
}

/// The data fork format of `path` as `xfs_db` prints it.
fn fork_format(img: &Path, path: &str) -> u32 {
    let out = run(Command::new("xfs_db")
        .args([
            "-r",
            "-c",
            &format!("path {path}"),
            "-c",
            "print core.format",
        ])
        .arg(img));
    let n = out.split('=').nth(1).unwrap().trim();
    n.split_whitespace().next().unwrap().parse().unwrap()
}

fn check_image(img: &Path) {
    let before = std::fs::read(img).unwrap();
    let dev: Arc<dyn BlockDevice> = Arc::new(FileDevice::open(img).unwrap());
    let fs = open(dev).unwrap();
    assert_eq!(fs.fs_type(), "xfs");
    assert_eq!(fs.label().as_deref(), Some("guest"));
    assert_eq!(fs.read_file("/small", 1 << 20).unwrap(), b"hello xfs\n");
    assert_eq!(
        fs.read_file("/etc/../etc/hostname", 1 << 20).unwrap(),
        b"hello xfs\n"
    );
    assert!(fs.read_file("/big", 1 << 30).unwrap() == big_contents());
    assert_eq!(
        fs.read_file_head("/big", 5000).unwrap(),
        big_contents()[..5000]
    );
    assert_eq!(
        fs.read_file("/big", 1000).unwrap_err().kind,
        FsErrorKind::LimitExceeded
    );
    let md = fs.lstat("/big").unwrap();
    assert_eq!((md.file_type, md.len), (FileType::File, 700_000));
    assert_eq!(md.mode.map(|m| m & 0o7777), Some(0o600));
    assert_eq!(fs.lstat("/link").unwrap().file_type, FileType::Symlink);
    assert_eq!(fs.read_link("/link").unwrap(), "small");
    assert_eq!(
        fs.read_link("/long").unwrap(),
        format!("/{}", "x".repeat(300))
    );
    // Never followed: not at the end, not in the middle.
    assert_eq!(
        fs.read_file("/link", 100).unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(
        fs.lstat("/link/x").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    assert_eq!(fs.lstat("/nope").unwrap_err().kind, FsErrorKind::NotFound);
    assert_eq!(
        fs.read_dir("/small").unwrap_err().kind,
        FsErrorKind::WrongType
    );
    for (n, format) in DIRS {
        let d = format!("/d{n}");
        assert_eq!(
            fork_format(img, &d),
            format,
            "{d} is not in the form tested"
        );
        let mut names: Vec<String> = fs
            .read_dir(&d)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        names.sort();
        let want: Vec<String> = (0..n).map(entry_name).collect();
        assert!(names == want, "{d}: {} entries listed", names.len());
        let last = format!("{d}/{}", entry_name(n - 1));
        assert_eq!(fs.read_file(&last, 100).unwrap(), b"hello xfs\n");
    }
    let root = fs.read_dir("/").unwrap();
    assert!(root
        .iter()
        .any(|e| e.name == "etc" && e.file_type == FileType::Dir));
    assert!(root
        .iter()
        .any(|e| e.name == "link" && e.file_type == FileType::Symlink));
    drop(fs);
    assert!(
        std::fs::read(img).unwrap() == before,
        "the image was written"
    );
}

#[test]
fn xfs_v5_every_directory_form_files_and_symlinks() {
    if !have("mkfs.xfs") || !have("xfs_db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check_image(&make_image(dir.path(), false));
}

#[test]
fn xfs_v4_every_directory_form_files_and_symlinks() {
    if !have("mkfs.xfs") || !have("xfs_db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check_image(&make_image(dir.path(), true));
}

/// `xfs_db -x` commands on `img` (expert mode: it writes, and re-seals v5 checksums).
fn xfs_db_write(img: &Path, cmds: &[String]) -> String {
    let mut cmd = Command::new("xfs_db");
    cmd.arg("-x");
    for c in cmds {
        cmd.args(["-c", c]);
    }
    run(cmd.arg(img))
}

#[test]
fn xfs_btree_loop_ends_in_an_error_not_a_hang() {
    if !have("mkfs.xfs") || !have("xfs_db") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let img = make_image(dir.path(), false);
    let d = format!("/d{}", DIRS[3].0);
    let root = run(Command::new("xfs_db")
        .args([
            "-r",
            "-c",
            &format!("path {d}"),
            "-c",
            "print u3.bmbt.ptrs[1]",
        ])
        .arg(&img));
    let leaf: u64 = root.split('=').nth(1).unwrap().trim().parse().unwrap();
    // The B+tree's only leaf becomes a node whose one child is itself.
    xfs_db_write(
        &img,
        &[
            format!("fsblock {leaf}"),
            "type bmapbtd".into(),
            "write level 1".into(),
            format!("write ptrs[1] {leaf}"),
        ],
    );
    let dev: Arc<dyn BlockDevice> = Arc::new(FileDevice::open(&img).unwrap());
    let fs = open(dev).unwrap();
    let err = fs.read_dir(&d).unwrap_err();
    assert!(
        matches!(err.kind, FsErrorKind::Corrupt | FsErrorKind::LimitExceeded),
        "{err}"
    );
    // The rest of the filesystem still reads.
    assert_eq!(fs.read_file("/small", 100).unwrap(), b"hello xfs\n");
    assert!(guestctl_fs::exercise(&*fs, 2000) > 0);
}
