//! Checks of generated images with the standard tools (sfdisk, sgdisk, e2fsck,
//! debugfs, fsck.fat, mtools, qemu-img), shared by the test modules.

#![allow(dead_code)]

use guestctl_mockdisk::{DiskFormat, Manifest, MockDisk};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run a command, returning (success, stdout, stderr).
pub fn sh(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A raw view of the image: itself, or a raw conversion (in `dir`).
pub fn raw_of(disk: &MockDisk, dir: &Path) -> PathBuf {
    match disk.format() {
        DiskFormat::Raw => disk.path().to_path_buf(),
        other => {
            let raw = dir.join(format!(
                "{}.raw",
                disk.path().file_name().unwrap().to_string_lossy()
            ));
            let (ok, _, err) = sh(Command::new("qemu-img")
                .args(["convert", "-f", other.qemu_img_output().0, "-O", "raw"])
                .arg(disk.path())
                .arg(&raw));
            assert!(ok, "qemu-img convert: {err}");
            raw
        }
    }
}

/// Copy `len` bytes at `offset` of `img` into a new file in `dir`.
pub fn extract(img: &Path, offset: u64, len: u64, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let mut f = std::fs::File::open(img).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut buf = vec![0u8; len as usize];
    f.read_exact(&mut buf).unwrap();
    std::fs::File::create(&out)
        .unwrap()
        .write_all(&buf)
        .unwrap();
    out
}

/// `debugfs -R 'cat PATH'` on an extracted ext filesystem.
pub fn debugfs_cat(fs: &Path, path: &str) -> String {
    let (ok, out, err) = sh(Command::new("debugfs")
        .arg("-R")
        .arg(format!("cat {path}"))
        .arg(fs));
    assert!(ok, "debugfs cat {path}: {err}");
    out
}

/// `blkid -p -o export` of a file, as key/value pairs.
pub fn blkid(path: &Path) -> std::collections::BTreeMap<String, String> {
    let (_, out, _) = sh(Command::new("blkid").args(["-p", "-o", "export"]).arg(path));
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Check the partition table with sfdisk (and sgdisk for GPT) against the manifest.
pub fn check_table(raw: &Path, m: &Manifest) {
    let (ok, out, err) = sh(Command::new("sfdisk").arg("--json").arg(raw));
    assert!(ok, "sfdisk --json: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v["partitiontable"];
    let want_label = match m.disk.partition_table {
        guestctl_mockdisk::PartitionTable::Gpt => "gpt",
        guestctl_mockdisk::PartitionTable::Mbr => "dos",
    };
    assert_eq!(t["label"], want_label);
    let parts = t["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), m.partitions.len(), "{out}");
    for (p, want) in parts.iter().zip(&m.partitions) {
        assert_eq!(p["start"].as_u64().unwrap() * 512, want.start_bytes);
        assert_eq!(p["size"].as_u64().unwrap() * 512, want.size_bytes);
        if want_label == "gpt" {
            assert_eq!(p["type"].as_str().unwrap(), want.type_id);
            assert_eq!(p["uuid"].as_str().unwrap().to_lowercase(), want.uuid);
            assert_eq!(p["name"].as_str().unwrap(), want.name);
        } else {
            assert_eq!(format!("0x{}", p["type"].as_str().unwrap()), want.type_id);
        }
    }
    if want_label == "gpt" {
        assert_eq!(t["id"].as_str().unwrap().to_lowercase(), m.disk.disk_id);
        let (_, out, err) = sh(Command::new("sgdisk").arg("-v").arg(raw));
        assert!(out.contains("No problems found"), "sgdisk -v: {out}{err}");
    } else {
        assert_eq!(format!("{}", t["id"].as_str().unwrap()), m.disk.disk_id);
    }
    // The image's apparent size is exactly the disk type's size.
    assert_eq!(std::fs::metadata(raw).unwrap().len(), m.disk.size_bytes);
}

/// Every filesystem of the manifest: (disk offset, size, the manifest entry).
pub fn filesystems(m: &Manifest) -> Vec<(u64, u64, guestctl_mockdisk::FilesystemManifest)> {
    let mut v: Vec<_> = m
        .partitions
        .iter()
        .filter_map(|p| {
            p.filesystem
                .clone()
                .map(|f| (p.start_bytes, p.size_bytes, f))
        })
        .collect();
    if let Some(l) = &m.lvm {
        v.extend(
            l.logical_volumes
                .iter()
                .map(|lv| (lv.disk_offset_bytes, lv.size_bytes, lv.filesystem.clone())),
        );
    }
    v
}

/// Extract and check every filesystem: e2fsck/fsck.fat clean, blkid type, UUID
/// and label as in the manifest. Returns the extracted files by mountpoint and guest.
pub fn check_filesystems(
    raw: &Path,
    m: &Manifest,
    dir: &Path,
) -> Vec<(Option<usize>, String, PathBuf)> {
    let mut out = Vec::new();
    for (i, (off, len, fs)) in filesystems(m).into_iter().enumerate() {
        let part = extract(raw, off, len, dir, &format!("fs{i}"));
        let (ok, o, e) = if fs.fs_type == "vfat" {
            sh(Command::new("fsck.fat").arg("-n").arg(&part))
        } else {
            sh(Command::new("e2fsck").arg("-fn").arg(&part))
        };
        assert!(
            ok,
            "{} {:?} not clean:\n{o}\n{e}",
            fs.fs_type, fs.mountpoint
        );
        let id = blkid(&part);
        assert_eq!(
            id.get("TYPE").map(String::as_str),
            Some(fs.fs_type.as_str()),
            "{id:?}"
        );
        assert_eq!(id.get("UUID"), Some(&fs.uuid), "{id:?}");
        assert_eq!(id.get("LABEL"), Some(&fs.label), "{id:?}");
        out.push((fs.guest, fs.mountpoint.clone().unwrap_or_default(), part));
    }
    out
}

/// The root filesystem image of guest `g` among extracted filesystems.
pub fn root_of(fss: &[(Option<usize>, String, PathBuf)], g: usize) -> &Path {
    fss.iter()
        .find(|(gg, mp, _)| *gg == Some(g) && mp == "/")
        .map(|(_, _, p)| p.as_path())
        .expect("root filesystem")
}

/// The filesystem image mounted at `mp` by guest `g`.
pub fn mounted_at<'a>(
    fss: &'a [(Option<usize>, String, PathBuf)],
    g: usize,
    mp: &str,
) -> Option<&'a Path> {
    fss.iter()
        .find(|(gg, m, _)| (*gg == Some(g) || gg.is_none()) && m == mp)
        .map(|(_, _, p)| p.as_path())
}

/// Check a qcow2 image with qemu-img.
pub fn check_qcow2(disk: &MockDisk) {
    let (ok, out, err) = sh(Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(disk.path()));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "qcow2");
    assert_eq!(v["virtual-size"].as_u64(), Some(disk.size()));
    let (ok, out, err) = sh(Command::new("qemu-img").arg("check").arg(disk.path()));
    assert!(ok, "qemu-img check: {out}{err}");
}

/// Entries of a directory (names), to check nothing was left behind.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
