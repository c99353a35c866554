//! Inspection of real generated images compared with their manifests (the ground
//! truth): every os_type, raw and qcow2, and every layout the generator supports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_inspect::{
    inspect_image, launch, ImageOptions, Inspection, LaunchOptions, OperatingSystem,
};
use guestctl_mockdisk::{
    DiskFormat, GuestManifest, Layout, MockDisk, MockDiskBuilder, MockDiskType, PartitionTable,
};
use std::path::PathBuf;
use std::sync::OnceLock;

const OSES: [&str; 6] = ["ubuntu", "debian", "fedora", "rocky", "alpine", "arch"];

struct Fixture {
    _dir: tempfile::TempDir,
    disks: Vec<(String, MockDisk)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut jobs: Vec<(String, MockDiskBuilder)> = Vec::new();
        for (i, os) in OSES.iter().enumerate() {
            let b = MockDiskBuilder::new()
                .disk_type(MockDiskType::Small)
                .os_type(*os)
                .hostname(format!("{os}-vm"))
                .num_files(10)
                .num_packages(30 + i)
                .seed(7 + i as u64);
            jobs.push((format!("{os}-raw"), b.clone()));
            jobs.push((format!("{os}-qcow2"), b.clone().format(DiskFormat::Qcow2)));
            // Rotate the other layouts over the OS types.
            let layout = [
                Layout::Lvm,
                Layout::Ext2,
                Layout::Ext3,
                Layout::DualBoot,
                Layout::Lvm,
                Layout::Ext3,
            ][i];
            jobs.push((format!("{os}-{}", layout.name()), b.clone().layout(layout)));
            if i % 2 == 0 {
                jobs.push((
                    format!("{os}-mbr"),
                    b.clone().partition_table(PartitionTable::Mbr),
                ));
            }
        }
        jobs.push((
            "ubuntu-lvm-qcow2".into(),
            MockDiskBuilder::new()
                .os_type("ubuntu")
                .layout(Layout::Lvm)
                .format(DiskFormat::Qcow2)
                .num_packages(20)
                .num_files(5),
        ));
        let built: Vec<(MockDiskBuilder, PathBuf)> = jobs
            .iter()
            .map(|(n, b)| (b.clone(), dir.path().join(format!("{n}.img"))))
            .collect();
        let results = guestctl_mockdisk::build_batch(&built);
        let disks = jobs
            .into_iter()
            .zip(results)
            .map(|((n, _), r)| (n.clone(), r.unwrap_or_else(|e| panic!("building {n}: {e}"))))
            .collect();
        Fixture { _dir: dir, disks }
    })
}

fn no_cache() -> ImageOptions {
    ImageOptions::default()
}

/// The device of an inspected filesystem with this UUID.
fn uuid_of<'a>(ins: &'a Inspection, device: &str) -> Option<&'a str> {
    ins.filesystems
        .iter()
        .find(|f| f.device == device)
        .and_then(|f| f.uuid.as_deref())
}

fn check_os(name: &str, ins: &Inspection, os: &OperatingSystem, want: &GuestManifest) {
    let c = &want.content;
    let ctx = format!("{name} ({})", os.root);
    assert_eq!(
        uuid_of(ins, &os.root),
        Some(want.root_filesystem_uuid.as_str()),
        "{ctx}: root"
    );
    assert_eq!(os.name, "linux", "{ctx}");
    assert_eq!(
        os.distro.as_deref(),
        Some(c.distro.as_str()),
        "{ctx}: distro"
    );
    assert_eq!(
        os.product_name.as_deref(),
        Some(c.product_name.as_str()),
        "{ctx}: product_name"
    );
    assert_eq!(
        (os.major_version, os.minor_version),
        (c.major_version, c.minor_version),
        "{ctx}: version"
    );
    assert_eq!(os.arch.as_deref(), Some(c.arch.as_str()), "{ctx}: arch");
    assert_eq!(
        os.hostname.as_deref(),
        Some(c.hostname.as_str()),
        "{ctx}: hostname"
    );
    assert_eq!(
        os.package_format.as_deref(),
        Some(c.package_format.as_str()),
        "{ctx}: package_format"
    );
    assert_eq!(
        os.package_management.as_deref(),
        Some(c.package_management.as_str()),
        "{ctx}: package_management"
    );
    let got: Vec<(&str, u32, &str, &str, &str)> = os
        .applications
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.epoch,
                a.version.as_str(),
                a.release.as_str(),
                a.arch.as_str(),
            )
        })
        .collect();
    let exp: Vec<(&str, u32, &str, &str, &str)> = c
        .packages
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.epoch,
                a.version.as_str(),
                a.release.as_str(),
                a.arch.as_str(),
            )
        })
        .collect();
    assert_eq!(got, exp, "{ctx}: packages");
    // Mountpoints: same mountpoints, each on the filesystem with the manifest's UUID.
    let mut got_m: Vec<(String, String)> = os
        .mountpoints
        .iter()
        .map(|m| {
            (
                m.mountpoint.clone(),
                uuid_of(ins, &m.device).unwrap_or("?").to_ascii_lowercase(),
            )
        })
        .collect();
    let mut exp_m: Vec<(String, String)> = want
        .mounts
        .iter()
        .filter(|m| m.mountpoint.starts_with('/'))
        .map(|m| (m.mountpoint.clone(), m.filesystem_uuid.to_ascii_lowercase()))
        .collect();
    got_m.sort();
    exp_m.sort();
    assert_eq!(got_m, exp_m, "{ctx}: mountpoints");
}

#[test]
fn every_generated_image_matches_its_manifest() {
    for (name, disk) in &fixture().disks {
        let ins = inspect_image(disk.path(), &no_cache()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = disk.manifest();
        assert_eq!(ins.format, m.disk.format.name(), "{name}");
        assert_eq!(ins.size, m.disk.size_bytes, "{name}");
        assert_eq!(
            ins.operatingsystems.len(),
            m.guests.len(),
            "{name}: {:#?}",
            ins.operatingsystems
        );
        for want in &m.guests {
            let os = ins
                .operatingsystems
                .iter()
                .find(|o| uuid_of(&ins, &o.root) == Some(want.root_filesystem_uuid.as_str()))
                .unwrap_or_else(|| panic!("{name}: no OS with root {}", want.root_filesystem_uuid));
            check_os(name, &ins, os, want);
        }
    }
}

#[test]
fn filesystems_match_the_manifest() {
    for (name, disk) in &fixture().disks {
        let l = launch(disk.path(), &LaunchOptions::default()).unwrap();
        let fss = l.filesystems();
        let m = disk.manifest();
        let mut want: Vec<&guestctl_mockdisk::FilesystemManifest> = m
            .partitions
            .iter()
            .filter_map(|p| p.filesystem.as_ref())
            .collect();
        if let Some(lvm) = &m.lvm {
            want.extend(lvm.logical_volumes.iter().map(|lv| &lv.filesystem));
        }
        for w in want {
            let f = fss
                .iter()
                .find(|f| {
                    f.uuid
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&w.uuid))
                })
                .unwrap_or_else(|| panic!("{name}: no filesystem {} in {fss:#?}", w.uuid));
            assert_eq!(f.fs_type, w.fs_type, "{name}");
            assert_eq!(f.size, w.size_bytes, "{name}");
            assert_eq!(f.label.as_deref().unwrap_or(""), w.label, "{name}");
        }
    }
}
