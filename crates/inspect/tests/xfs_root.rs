//! A Debian root on XFS, as RHEL-family and some Debian installs lay it out: the
//! generator's Debian guest tree, put on a whole-disk XFS filesystem with
//! `mkfs.xfs -p protofile` (root-free), inspects as the same OS, hostname and
//! packages as the same tree on ext4 (`mke2fs -d`). A missing tool fails the test
//! only when `GUESTCTL_REQUIRE_TOOLS` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_inspect::{inspect_image, ImageOptions, Inspection};
use guestctl_mockdisk::guest::{populate, FstabLine, GuestSpec};
use guestctl_mockdisk::OsType;
use guestctl_testkit::have;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const UUID: &str = "6a1c9a5e-1f3b-4c2d-9e8f-0123456789ab";
const PACKAGES: usize = 114;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A protofile line for every entry under `dir` (depth first), in mkfs.xfs's format:
/// `name type+mode uid gid [source file | link target]`, `$` closing a directory.
fn proto_entries(dir: &Path, out: &mut String) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().into_string().unwrap();
        assert!(
            !name.contains(char::is_whitespace),
            "{name}: protofile names are words"
        );
        let meta = std::fs::symlink_metadata(e.path()).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            writeln!(out, "{name} l--{mode:03o} 0 0 {}", target.display()).unwrap();
        } else if meta.is_dir() {
            writeln!(out, "{name} d--{mode:03o} 0 0").unwrap();
            proto_entries(&e.path(), out);
            out.push_str("$\n");
        } else {
            writeln!(out, "{name} ---{mode:03o} 0 0 {}", e.path().display()).unwrap();
        }
    }
}

/// Inspect `img` without the cache and return the one OS's facts.
fn inspect(img: &Path) -> Inspection {
    inspect_image(img, &ImageOptions::default()).unwrap()
}

#[test]
fn debian_root_on_xfs_inspects_like_on_ext4() {
    if !have("mkfs.xfs") || !have("mke2fs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let spec = GuestSpec {
        os: OsType::Debian,
        hostname: "realhost-7".into(),
        num_files: 20,
        num_packages: PACKAGES,
        seed: 12,
        fstab: vec![FstabLine {
            spec: format!("UUID={UUID}"),
            mountpoint: "/".into(),
            fs_type: "xfs".into(),
            options: "defaults".into(),
            pass: 1,
        }],
    };
    let content = populate(&root, &spec).unwrap();

    let mut proto = String::from("/dev/null\n0 0\nd--755 0 0\n");
    proto_entries(&root, &mut proto);
    proto.push_str("$\n");
    std::fs::write(dir.path().join("proto"), proto).unwrap();
    let xfs = dir.path().join("debian-xfs.img");
    std::fs::File::create(&xfs)
        .unwrap()
        .set_len(320 << 20)
        .unwrap();
    run(Command::new("mkfs.xfs")
        .args(["-q", "-f", "-m", &format!("uuid={UUID}"), "-p"])
        .arg(dir.path().join("proto"))
        .arg(&xfs));
    let ext4 = dir.path().join("debian-ext4.img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-U", UUID, "-d"])
        .arg(&root)
        .arg(&ext4)
        .arg("64M"));

    let on_xfs = inspect(&xfs);
    let on_ext4 = inspect(&ext4);
    assert_eq!(on_xfs.operatingsystems.len(), 1, "{:?}", on_xfs.diagnostics);
    let os = &on_xfs.operatingsystems[0];
    assert_eq!(os.distro.as_deref(), Some("debian"));
    assert_eq!(os.hostname.as_deref(), Some("realhost-7"));
    assert_eq!(os.major_version, content.major_version);
    assert_eq!(os.applications.len(), PACKAGES);
    assert_eq!(on_xfs.filesystems[0].fs_type, "xfs");
    assert_eq!(on_xfs.filesystems[0].uuid.as_deref(), Some(UUID));
    assert!(os.mountpoints.iter().any(|m| m.mountpoint == "/"));
    // Everything the ext4 copy says about the OS, the XFS copy says too.
    let mut same = on_ext4.operatingsystems[0].clone();
    same.mountpoints.clone_from(&os.mountpoints);
    same.root.clone_from(&os.root);
    same.filesystems.clone_from(&os.filesystems);
    assert_eq!(*os, same);
}
