//! A mock disk converted by `qemu-img` to each image format guestctl reads besides raw
//! and qcow2 inspects exactly as the raw disk: the generator's `--format` option and
//! the block layer's readers, end to end. A missing qemu-img fails the test only when
//! `GUESTCTL_REQUIRE_TOOLS` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_inspect::{inspect_image, ImageOptions};
use guestctl_mockdisk::{DiskFormat, MockDiskBuilder, MockDiskType};

#[test]
fn vmdk_vhdx_vdi_and_vhd_inspect_like_raw() {
    if !guestctl_testkit::have("qemu-img") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let formats = [
        DiskFormat::Raw,
        DiskFormat::Vmdk,
        DiskFormat::Vhdx,
        DiskFormat::Vdi,
        DiskFormat::Vhd,
    ];
    let jobs: Vec<_> = formats
        .iter()
        .map(|f| {
            let b = MockDiskBuilder::new()
                .disk_type(MockDiskType::Small)
                .os_type("debian")
                .hostname("realhost-7")
                .num_files(5)
                .num_packages(25)
                .seed(3)
                .format(*f);
            (b, dir.path().join(format!("disk.{}", f.name())))
        })
        .collect();
    let disks: Vec<_> = guestctl_mockdisk::build_batch(&jobs)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let raw = inspect_image(disks[0].path(), &ImageOptions::default()).unwrap();
    assert_eq!(raw.operatingsystems.len(), 1);
    for (f, disk) in formats.iter().zip(&disks).skip(1) {
        let ins = inspect_image(disk.path(), &ImageOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.name()));
        let want = if *f == DiskFormat::Vhd {
            "vpc"
        } else {
            f.name()
        };
        assert_eq!(ins.format, want);
        assert_eq!(ins.operatingsystems, raw.operatingsystems, "{}", f.name());
        assert_eq!(ins.filesystems, raw.filesystems, "{}", f.name());
    }
    let os = &raw.operatingsystems[0];
    assert_eq!(os.hostname.as_deref(), Some("realhost-7"));
    assert_eq!(os.applications.len(), 25);
}
