//! Integration tests: build images with the real guest content and check them
//! with the standard tools — sfdisk/sgdisk for the table, e2fsck/fsck.fat for
//! every filesystem, blkid for UUIDs and labels, debugfs to read files back, the
//! distros' own package readers where Debian has them, qemu-img for qcow2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod util;

use guestctl_mockdisk::{
    build_batch, DiskFormat, Layout, Manifest, MockDisk, MockDiskBuilder, MockDiskError,
    MockDiskType, OsType, PartitionTable,
};
use guestctl_testkit::have;
use std::path::Path;
use std::process::Command;
use util::*;

fn builder(os: OsType, t: MockDiskType, files: usize, pkgs: usize) -> MockDiskBuilder {
    MockDiskBuilder::new()
        .disk_type(t)
        .os_type(os.name())
        .hostname(format!("{}-vm", os.name()))
        .num_files(files)
        .num_packages(pkgs)
}

/// Read the package database back from the guest's filesystems with the
/// distro's own reader (dpkg-query, rpm) or by parsing its text format, and
/// compare with the manifest.
fn check_packages(
    m: &Manifest,
    g: usize,
    fss: &[(Option<usize>, String, std::path::PathBuf)],
    dir: &Path,
) {
    let c = &m.guests[g].content;
    // /var may be its own filesystem (LVM); /usr too.
    let locate = |path: &str| -> (std::path::PathBuf, String) {
        for mp in ["/var", "/usr"] {
            if let Some(rest) = path.strip_prefix(mp) {
                if let Some(fs) = mounted_at(fss, g, mp) {
                    return (fs.to_path_buf(), rest.to_string());
                }
            }
        }
        (root_of(fss, g).to_path_buf(), path.to_string())
    };
    let rdump = |path: &str, name: &str| -> std::path::PathBuf {
        let (fs, inner) = locate(path);
        let dest = dir.join(format!("g{g}-{name}"));
        std::fs::create_dir_all(&dest).unwrap();
        let (ok, _, err) = sh(Command::new("debugfs")
            .arg("-R")
            .arg(format!("rdump {inner} {}", dest.display()))
            .arg(&fs));
        assert!(ok && !err.contains("File not found"), "rdump {path}: {err}");
        dest.join(Path::new(path).file_name().unwrap())
    };
    let mut want: Vec<String> = c
        .packages
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.full_version(), p.arch))
        .collect();
    want.sort();
    let mut got: Vec<String> = match c.package_format.as_str() {
        "deb" => {
            let admin = rdump("/var/lib/dpkg", "deb");
            let (ok, out, err) = sh(Command::new("dpkg-query")
                .arg(format!("--admindir={}", admin.display()))
                .args(["-W", "-f", "${Package} ${Version} ${Architecture}\\n"]));
            assert!(ok, "dpkg-query: {err}");
            out.lines().map(String::from).collect()
        }
        "rpm" => {
            let db = rdump("/usr/lib/sysimage/rpm", "rpm");
            let (ok, out, err) = sh(Command::new("rpm").arg("--dbpath").arg(&db).args([
                "--define",
                "_db_backend sqlite",
                "-qa",
                "--qf",
                "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH}\\n",
            ]));
            assert!(ok, "rpm -qa: {err}");
            out.lines().map(String::from).collect()
        }
        "apk" => {
            let (fs, inner) = locate("/lib/apk/db/installed");
            let text = debugfs_cat(&fs, &inner);
            let mut v = Vec::new();
            let (mut name, mut ver) = (String::new(), String::new());
            for line in text.lines() {
                if let Some(n) = line.strip_prefix("P:") {
                    name = n.into();
                } else if let Some(n) = line.strip_prefix("V:") {
                    ver = n.into();
                } else if let Some(a) = line.strip_prefix("A:") {
                    v.push(format!("{name} {ver} {a}"));
                }
            }
            v
        }
        "pacman" => {
            let local = rdump("/var/lib/pacman/local", "pacman");
            let mut v = Vec::new();
            for e in std::fs::read_dir(&local).unwrap() {
                let e = e.unwrap();
                if !e.file_type().unwrap().is_dir() {
                    continue;
                }
                let desc = std::fs::read_to_string(e.path().join("desc")).unwrap();
                let field = |k: &str| {
                    desc.split(&format!("%{k}%\n"))
                        .nth(1)
                        .and_then(|r| r.lines().next())
                        .unwrap_or("")
                        .to_string()
                };
                v.push(format!(
                    "{} {} {}",
                    field("NAME"),
                    field("VERSION"),
                    field("ARCH")
                ));
            }
            v
        }
        other => panic!("unknown package format {other}"),
    };
    got.sort();
    assert_eq!(got.len(), c.packages.len());
    assert_eq!(got, want);
}

/// Every check that applies to any image.
fn check_image(disk: &MockDisk, dir: &Path, read_packages: bool) {
    let m = disk.manifest();
    assert_eq!(
        &Manifest::load(&disk.manifest_path()).unwrap().disk,
        &m.disk
    );
    if disk.format() == DiskFormat::Qcow2 {
        check_qcow2(disk);
    } else {
        // Sparse: the host holds far less than the apparent size for big disks.
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(disk.path()).unwrap();
        assert_eq!(meta.len(), disk.size());
        if disk.size() >= 100 << 20 {
            assert!(
                meta.blocks() * 512 < disk.size() / 4,
                "not sparse: {} blocks",
                meta.blocks()
            );
        }
    }
    let raw = raw_of(disk, dir);
    check_table(&raw, m);
    let fss = check_filesystems(&raw, m, dir);
    for (g, guest) in m.guests.iter().enumerate() {
        let root = root_of(&fss, g);
        assert_eq!(
            debugfs_cat(root, "/etc/hostname").trim(),
            guest.content.hostname
        );
        let fstab = debugfs_cat(root, "/etc/fstab");
        for mount in &guest.mounts {
            let line = fstab
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some(mount.mountpoint.as_str()))
                .unwrap_or_else(|| panic!("{fstab}"));
            assert_eq!(line.split_whitespace().next(), Some(mount.spec.as_str()));
        }
        let os_release = if guest.content.usr_merged || mounted_at(&fss, g, "/usr").is_none() {
            let (fs, p) = match mounted_at(&fss, g, "/usr") {
                Some(usr) => (usr, "/lib/os-release"),
                None => (root, "/usr/lib/os-release"),
            };
            debugfs_cat(fs, p)
        } else {
            debugfs_cat(mounted_at(&fss, g, "/usr").unwrap(), "/lib/os-release")
        };
        if !guest.content.version_id.is_empty() {
            assert!(
                os_release.contains(&format!("VERSION_ID=\"{}\"", guest.content.version_id))
                    || os_release.contains(&format!("VERSION_ID={}", guest.content.version_id)),
                "{os_release}"
            );
        }
        if read_packages {
            check_packages(m, g, &fss, dir);
        }
    }
    // The EFI partition holds the fallback loader.
    if let Some(esp) = fss.iter().find(|(_, mp, _)| mp == "/boot/efi") {
        let (ok, out, err) = sh(Command::new("mtype")
            .env("MTOOLS_SKIP_CHECK", "1")
            .arg("-i")
            .arg(&esp.2)
            .arg("::/EFI/BOOT/BOOTX64.EFI"));
        assert!(ok && out.starts_with("MZ"), "{err}");
    }
}

fn every_size_and_format(os: OsType) {
    let dir = tempfile::tempdir().unwrap();
    for (t, files, pkgs) in [
        (MockDiskType::Minimal, 20, 20),
        (MockDiskType::Small, 100, 200),
    ] {
        for fmt in [DiskFormat::Raw, DiskFormat::Qcow2] {
            let out = dir
                .path()
                .join(format!("{}-{}.{}", os.name(), t.name(), fmt.name()));
            let disk = builder(os, t, files, pkgs).format(fmt).build(&out).unwrap();
            assert_eq!(disk.os_type(), os.name());
            assert_eq!(disk.hostname(), format!("{}-vm", os.name()));
            assert_eq!(disk.size(), t.size_bytes());
            assert_eq!(disk.path(), out);
            let m = disk.manifest();
            assert_eq!(m.guests[0].content.packages.len(), pkgs);
            assert_eq!(m.guests[0].content.num_files, files);
            assert_eq!(m.disk.format, fmt);
            // Minimal: GPT + one ext4 root; Small: an EFI partition too.
            let roles: Vec<&str> = m.partitions.iter().map(|p| p.role.as_str()).collect();
            assert_eq!(
                roles,
                if t == MockDiskType::Minimal {
                    vec!["root"]
                } else {
                    vec!["efi", "root"]
                }
            );
            check_image(
                &disk,
                dir.path(),
                t == MockDiskType::Small && fmt == DiskFormat::Raw,
            );
        }
    }
}

#[test]
fn ubuntu_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Ubuntu);
}
#[test]
fn debian_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Debian);
}
#[test]
fn fedora_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Fedora);
}
#[test]
fn rocky_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Rocky);
}
#[test]
fn alpine_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Alpine);
}
#[test]
fn arch_minimal_and_small_raw_and_qcow2() {
    every_size_and_format(OsType::Arch);
}

/// An independent reader of the LVM2 structures the generator wrote: label,
/// PV header, MDA header, checksums and the metadata text, checked against the
/// manifest.
fn check_lvm_by_hand(raw: &Path, m: &Manifest) {
    let lvm = m.lvm.as_ref().unwrap();
    let pv = m
        .partitions
        .iter()
        .find(|p| p.index == lvm.pv_partition)
        .unwrap();
    assert_eq!(pv.role, "lvm");
    let bytes = std::fs::read(raw).unwrap();
    let pvb = &bytes[pv.start_bytes as usize..(pv.start_bytes + lvm.pe_start_bytes) as usize];
    // LVM2's checksum: nibble-table CRC-32, initial value 0xf597a6cf, no final xor.
    fn crc(data: &[u8]) -> u32 {
        const T: [u32; 16] = [
            0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158,
            0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
            0xa00ae278, 0xbdbdf21c,
        ];
        let mut c = 0xf597a6cfu32;
        for &b in data {
            c ^= b as u32;
            c = (c >> 4) ^ T[(c & 15) as usize];
            c = (c >> 4) ^ T[(c & 15) as usize];
        }
        c
    }
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let label = &pvb[512..1024];
    assert_eq!(&label[0..8], b"LABELONE");
    assert_eq!(u64_at(label, 8), 1);
    assert_eq!(u32_at(label, 16), crc(&label[20..]));
    assert_eq!(&label[24..32], b"LVM2 001");
    let off = u32_at(label, 20) as usize;
    let pvh = &label[off..];
    assert_eq!(
        std::str::from_utf8(&pvh[..32]).unwrap(),
        lvm.pv_uuid.replace('-', "")
    );
    assert_eq!(u64_at(pvh, 32), pv.size_bytes);
    assert_eq!(u64_at(pvh, 40), lvm.pe_start_bytes); // data area offset
    let mda_off = u64_at(pvh, 72) as usize;
    let mda_size = u64_at(pvh, 80);
    assert_eq!(mda_off as u64 + mda_size, lvm.pe_start_bytes);
    let mda = &pvb[mda_off..mda_off + 512];
    assert_eq!(u32_at(mda, 0), crc(&mda[4..512]));
    assert_eq!(&mda[4..20], b" LVM2 x[5A%r0N*>");
    assert_eq!(u64_at(mda, 24), mda_off as u64);
    let (text_off, text_len) = (u64_at(mda, 40) as usize, u64_at(mda, 48) as usize);
    let text = &pvb[mda_off + text_off..mda_off + text_off + text_len];
    assert_eq!(u32_at(mda, 56), crc(text));
    let text = std::str::from_utf8(text).unwrap();
    assert!(text.starts_with(&format!("{} {{\n", lvm.vg_name)), "{text}");
    assert!(text.contains(&format!("id = \"{}\"", lvm.vg_uuid)));
    assert!(text.contains(&format!("extent_size = {}\n", lvm.extent_size_bytes / 512)));
    assert!(text.contains(&format!("pe_start = {}\n", lvm.pe_start_bytes / 512)));
    assert!(text.contains(&format!("pe_count = {}\n", lvm.pe_count)));
    for lv in &lvm.logical_volumes {
        let at = text
            .find(&format!("\n{} {{\n", lv.name))
            .unwrap_or_else(|| panic!("LV {} missing:\n{text}", lv.name));
        let body = &text[at..];
        assert!(body.contains(&format!("id = \"{}\"", lv.uuid)));
        assert!(body.contains(&format!("extent_count = {}\n", lv.extent_count)));
        assert!(body.contains(&format!("\"pv0\", {}\n", lv.start_extent)));
        assert_eq!(
            lv.disk_offset_bytes,
            pv.start_bytes + lvm.pe_start_bytes + lv.start_extent * lvm.extent_size_bytes
        );
    }
    // LVs lie within the PV and do not overlap.
    let mut ext: Vec<(u64, u64)> = lvm
        .logical_volumes
        .iter()
        .map(|l| (l.start_extent, l.extent_count))
        .collect();
    ext.sort();
    for w in ext.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0);
    }
    let (s, c) = ext.last().unwrap();
    assert!(s + c <= lvm.pe_count);
    assert!(lvm.pe_start_bytes + lvm.pe_count * lvm.extent_size_bytes <= pv.size_bytes);
}

#[test]
fn lvm_layout_root_usr_var() {
    let dir = tempfile::tempdir().unwrap();
    for os in [OsType::Fedora, OsType::Ubuntu] {
        let disk = builder(os, MockDiskType::Small, 100, 200)
            .layout(Layout::Lvm)
            .build(dir.path().join(format!("lvm-{}.img", os.name())))
            .unwrap();
        let m = disk.manifest();
        let lvm = m.lvm.as_ref().unwrap();
        let names: Vec<&str> = lvm
            .logical_volumes
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(names, ["root", "usr", "var"]);
        assert_eq!(m.guests[0].root_device, lvm.logical_volumes[0].device);
        if os == OsType::Ubuntu {
            assert_eq!(lvm.logical_volumes[0].device, "/dev/mapper/ubuntu--vg-root");
        }
        check_lvm_by_hand(disk.path(), m);
        check_image(&disk, dir.path(), true);
        // /usr and /var really are on their own filesystems.
        let fss = check_filesystems(disk.path(), m, dir.path());
        let usr = mounted_at(&fss, 0, "/usr").unwrap();
        let (ok, out, _) = sh(Command::new("debugfs").arg("-R").arg("ls -p /bin").arg(usr));
        assert!(ok && out.contains("/bash/"), "{out}");
    }
}

#[test]
fn dual_boot_has_two_roots_with_their_own_packages() {
    let dir = tempfile::tempdir().unwrap();
    let disk = builder(OsType::Ubuntu, MockDiskType::Small, 50, 60)
        .layout(Layout::DualBoot)
        .build(dir.path().join("dual.img"))
        .unwrap();
    let m = disk.manifest();
    assert_eq!(m.guests.len(), 2);
    assert_eq!(m.guests[0].os_type, OsType::Ubuntu);
    assert_eq!(m.guests[1].os_type, OsType::Fedora);
    assert_ne!(
        m.guests[0].root_filesystem_uuid,
        m.guests[1].root_filesystem_uuid
    );
    assert_eq!(m.guests[1].content.package_format, "rpm");
    assert_eq!(m.partitions.iter().filter(|p| p.role == "root").count(), 2);
    check_image(&disk, dir.path(), true);
    // Explicit second OS.
    let disk = builder(OsType::Arch, MockDiskType::Small, 10, 20)
        .layout(Layout::DualBoot)
        .second_os_type("alpine")
        .build(dir.path().join("dual2.img"))
        .unwrap();
    assert_eq!(disk.manifest().guests[1].os_type, OsType::Alpine);
}

#[test]
fn mbr_ext2_and_ext3_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            OsType::Debian,
            Layout::Standard,
            PartitionTable::Mbr,
            "ext4",
        ),
        (OsType::Rocky, Layout::Lvm, PartitionTable::Mbr, "ext4"),
        (OsType::Alpine, Layout::Ext2, PartitionTable::Gpt, "ext2"),
        (OsType::Arch, Layout::Ext3, PartitionTable::Gpt, "ext3"),
    ];
    for (os, layout, table, root_fs) in cases {
        let out = dir.path().join(format!(
            "{}-{}-{}.img",
            os.name(),
            layout.name(),
            table.name()
        ));
        let disk = builder(os, MockDiskType::Small, 50, 80)
            .layout(layout)
            .partition_table(table)
            .build(&out)
            .unwrap();
        let m = disk.manifest();
        let root_uuid = &m.guests[0].root_filesystem_uuid;
        let root = m
            .filesystems()
            .into_iter()
            .find(|f| &f.uuid == root_uuid)
            .unwrap();
        assert_eq!(root.fs_type, root_fs);
        if table == PartitionTable::Mbr {
            assert!(
                m.partitions.iter().all(|p| p.role != "efi"),
                "MBR disks boot BIOS-style: no ESP"
            );
            assert!(m.disk.disk_id.starts_with("0x"));
            assert_eq!(m.partitions[0].uuid, format!("{}-01", &m.disk.disk_id[2..]));
        }
        check_image(&disk, dir.path(), layout == Layout::Lvm);
        if layout == Layout::Lvm {
            check_lvm_by_hand(disk.path(), m);
        }
    }
}

#[test]
fn same_seed_same_content_other_seed_other_ids() {
    let dir = tempfile::tempdir().unwrap();
    let b = builder(OsType::Fedora, MockDiskType::Small, 60, 70).layout(Layout::Lvm);
    let a = b.build(dir.path().join("a.img")).unwrap();
    let a2 = b.build(dir.path().join("a2.img")).unwrap();
    let c = b.clone().seed(7).build(dir.path().join("c.img")).unwrap();
    let strip = |m: &Manifest| Manifest {
        generation_seconds: 0.0,
        ..m.clone()
    };
    assert_eq!(strip(a.manifest()), strip(a2.manifest()));
    assert_ne!(
        a.manifest().guests[0].root_filesystem_uuid,
        c.manifest().guests[0].root_filesystem_uuid
    );
    assert_ne!(
        a.manifest().guests[0].content.packages,
        c.manifest().guests[0].content.packages
    );
    // Same files with the same bytes: compare a listing and a package database.
    let fa = check_filesystems(a.path(), a.manifest(), &dir.path().join("fa").tap_mkdir());
    let fb = check_filesystems(a2.path(), a2.manifest(), &dir.path().join("fb").tap_mkdir());
    for mp in ["/", "/usr", "/var"] {
        let list = |fss: &[(Option<usize>, String, std::path::PathBuf)]| {
            let (_, out, _) = sh(Command::new("debugfs")
                .arg("-R")
                .arg("ls -p /")
                .arg(mounted_at(fss, 0, mp).unwrap()));
            let mut names: Vec<String> = out
                .lines()
                .filter_map(|l| l.split('/').nth(5).map(String::from))
                .collect();
            names.sort();
            names
        };
        assert_eq!(list(&fa), list(&fb), "{mp}");
    }
    let rpmdb = |fss: &[(Option<usize>, String, std::path::PathBuf)]| {
        let (_, out, _) = sh(Command::new("debugfs")
            .arg("-R")
            .arg("stat /lib/sysimage/rpm/rpmdb.sqlite")
            .arg(mounted_at(fss, 0, "/usr").unwrap()));
        out.lines().find(|l| l.contains("Size:")).map(String::from)
    };
    assert_eq!(rpmdb(&fa), rpmdb(&fb));
    assert!(rpmdb(&fa).is_some());
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}
impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn unknown_os_lists_the_valid_ones_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = MockDiskBuilder::new()
        .os_type("windows95")
        .build(dir.path().join("x.img"))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, MockDiskError::InvalidInput(_)));
    for os in OsType::ALL {
        assert!(msg.contains(os.name()), "{msg}");
    }
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn content_that_does_not_fit_says_how_much_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let e = builder(OsType::Rocky, MockDiskType::Minimal, 300, 400)
        .build(dir.path().join("x.img"))
        .unwrap_err();
    match &e {
        MockDiskError::DoesNotFit {
            needed, available, ..
        } => {
            assert_eq!(*available, 1 << 20);
            assert!(*needed > *available, "{e}");
            // The estimate is usable: a disk of that size works.
            let t = MockDiskType::Custom(needed.div_ceil(1 << 20) * (1 << 20));
            builder(OsType::Rocky, t, 300, 400)
                .build(dir.path().join("y.img"))
                .unwrap();
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("does not fit"));
    assert_eq!(dir_names(dir.path()), ["y.img", "y.img.manifest.json"]);
    // ext3 needs room for a journal.
    let e = builder(OsType::Debian, MockDiskType::Minimal, 1, 1)
        .layout(Layout::Ext3)
        .build(dir.path().join("z.img"))
        .unwrap_err();
    assert!(matches!(e, MockDiskError::DoesNotFit { .. }), "{e}");
    assert_eq!(dir_names(dir.path()).len(), 2);
}

#[test]
fn unwritable_path_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = MockDiskBuilder::new()
        .disk_type(MockDiskType::Minimal)
        .num_files(1)
        .num_packages(1)
        .build(dir.path().join("no/such/dir/x.img"))
        .unwrap_err();
    assert!(matches!(e, MockDiskError::Io { .. }), "{e}");
    assert!(e.to_string().contains("no/such/dir"), "{e}");
    // A read-only place (even root cannot create files in /proc).
    let e = MockDiskBuilder::new()
        .disk_type(MockDiskType::Minimal)
        .num_files(1)
        .num_packages(1)
        .build("/proc/mock.img")
        .unwrap_err();
    assert!(e.to_string().contains("/proc/mock.img"), "{e}");
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn missing_tool_names_its_package() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let e = MockDiskBuilder::new()
        .tool_path(vec![empty.path().to_path_buf()])
        .build(dir.path().join("x.img"))
        .unwrap_err();
    match &e {
        MockDiskError::MissingTool { tool, package } => {
            assert_eq!((tool.as_str(), package.as_str()), ("mke2fs", "e2fsprogs"));
        }
        other => panic!("{other}"),
    }
    // Only qemu-img missing: raw works, qcow2 names qemu-utils.
    let only = tempfile::tempdir().unwrap();
    for t in ["mke2fs", "sfdisk", "mkfs.fat", "mcopy"] {
        let p = guestctl_mockdisk::tools::default_search_path()
            .into_iter()
            .map(|d| d.join(t))
            .find(|p| p.exists())
            .unwrap();
        std::os::unix::fs::symlink(p, only.path().join(t)).unwrap();
    }
    // e2fsck (which indexes the directories) is needed too, and named before any work.
    let b = MockDiskBuilder::new()
        .num_files(5)
        .num_packages(5)
        .tool_path(vec![only.path().to_path_buf()]);
    let e = b.build(dir.path().join("no-fsck.img")).unwrap_err();
    let names_e2fsck = matches!(&e, MockDiskError::MissingTool { tool, package }
        if tool == "e2fsck" && package == "e2fsprogs");
    assert!(names_e2fsck, "{e}");
    let p = guestctl_mockdisk::tools::default_search_path()
        .into_iter()
        .map(|d| d.join("e2fsck"))
        .find(|p| p.exists())
        .unwrap();
    std::os::unix::fs::symlink(p, only.path().join("e2fsck")).unwrap();
    b.build(dir.path().join("ok.img")).unwrap();
    let e = b
        .clone()
        .format(DiskFormat::Qcow2)
        .build(dir.path().join("q.qcow2"))
        .unwrap_err();
    assert!(e.to_string().contains("qemu-utils"), "{e}");
    assert_eq!(dir_names(dir.path()), ["ok.img", "ok.img.manifest.json"]);
}

#[test]
fn a_panic_mid_build_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let b = MockDiskBuilder::new()
        .num_files(5)
        .num_packages(5)
        .on_progress(|s| {
            if matches!(s, guestctl_mockdisk::Stage::Partitioning) {
                panic!("boom");
            }
        });
    let p = dir.path().join("x.img");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.build(&p)));
    assert!(r.is_err());
    assert!(
        dir_names(dir.path()).is_empty(),
        "{:?}",
        dir_names(dir.path())
    );
}

#[test]
fn batch_builds_in_parallel_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let jobs: Vec<_> = [OsType::Ubuntu, OsType::Alpine, OsType::Arch]
        .into_iter()
        .map(|os| {
            (
                builder(os, MockDiskType::Minimal, 10, 10),
                dir.path().join(format!("{}.img", os.name())),
            )
        })
        .collect();
    let disks = build_batch(&jobs);
    for ((b, p), d) in jobs.iter().zip(&disks) {
        let d = d.as_ref().unwrap();
        assert_eq!(d.path(), p);
        assert_eq!(d.os_type(), b.parsed_os_type().unwrap().name());
    }
}

#[test]
fn medium_is_sparse_and_clean() {
    let dir = tempfile::tempdir().unwrap();
    let disk = builder(OsType::Debian, MockDiskType::Medium, 300, 300)
        .build(dir.path().join("m.img"))
        .unwrap();
    check_image(&disk, dir.path(), false);
    assert_eq!(disk.manifest().partitions[0].size_bytes, 16 << 20);
}

#[test]
fn large_raw_is_sparse_and_its_table_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let disk = builder(OsType::Ubuntu, MockDiskType::Large, 1000, 2000)
        .build(dir.path().join("l.img"))
        .unwrap();
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(disk.path()).unwrap();
    assert_eq!(meta.len(), 1 << 30);
    assert!(
        meta.blocks() * 512 < 64 << 20,
        "{} bytes allocated",
        meta.blocks() * 512
    );
    check_table(disk.path(), disk.manifest());
    // The root filesystem's superblock, read in place.
    let root = &disk.manifest().partitions[1];
    let (ok, out, err) = sh(Command::new("dumpe2fs").arg("-h").arg(format!(
        "{}?offset={}",
        disk.path().display(),
        root.start_bytes
    )));
    let _ = (ok, out, err);
}

#[test]
fn manifest_round_trips_and_custom_sizes_work() {
    let dir = tempfile::tempdir().unwrap();
    let disk = builder(OsType::Alpine, MockDiskType::Custom(3 << 20), 5, 5)
        .build(dir.path().join("c.img"))
        .unwrap();
    assert_eq!(disk.size(), 3 << 20);
    let back = Manifest::load(&disk.manifest_path()).unwrap();
    assert_eq!(back.disk, disk.manifest().disk);
    assert_eq!(back.guests, disk.manifest().guests);
    assert_eq!(back.partitions, disk.manifest().partitions);
    check_image(&disk, dir.path(), true);
    assert!(MockDiskBuilder::new()
        .disk_type(MockDiskType::Custom(1000))
        .build(dir.path().join("bad.img"))
        .is_err());
    assert!("64M".parse::<MockDiskType>().unwrap() == MockDiskType::Custom(64 << 20));
}

/// The inode flags of `path` (`debugfs -R stat`) in the ext filesystem `dev`
/// (a file, or `IMAGE?offset=N`).
fn inode_flags(dev: &str, path: &str) -> u32 {
    let (ok, out, err) = sh(Command::new("debugfs")
        .arg("-R")
        .arg(format!("stat {path}"))
        .arg(dev));
    let flags = out
        .split("Flags: 0x")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|h| u32::from_str_radix(h, 16).ok());
    assert!(
        ok && flags.is_some(),
        "debugfs stat {path} on {dev}:\n{out}\n{err}"
    );
    flags.unwrap_or_default()
}

/// EXT4_INDEX_FL: the directory is a hash tree.
const INDEX_FL: u32 = 0x1000;

#[test]
fn directories_bigger_than_a_block_are_hash_indexed() {
    if !have("debugfs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // /var/lib/pacman/local holds one directory per package (200: several
    // blocks); /var/lib/pacman/local/<pkg> holds two files (less than a block).
    // With LVM /var is a logical volume; ext2 and ext3 have dir_index too.
    for layout in [Layout::Standard, Layout::Lvm, Layout::Ext2, Layout::Ext3] {
        let out = dir.path().join(format!("arch-{}.img", layout.name()));
        let disk = builder(OsType::Arch, MockDiskType::Small, 20, 200)
            .layout(layout)
            .build(&out)
            .unwrap();
        let m = disk.manifest();
        let (off, inner) = match &m.lvm {
            Some(l) => (
                l.logical_volumes
                    .iter()
                    .find(|lv| lv.name == "var")
                    .unwrap()
                    .disk_offset_bytes,
                "/lib/pacman/local",
            ),
            None => (
                m.partitions
                    .iter()
                    .find(|p| p.role == "root")
                    .unwrap()
                    .start_bytes,
                "/var/lib/pacman/local",
            ),
        };
        let dev = format!("{}?offset={off}", out.display());
        let what = format!("{} {inner}", layout.name());
        assert_ne!(
            inode_flags(&dev, inner) & INDEX_FL,
            0,
            "{what} is not indexed"
        );
        let pkg = &m.guests[0].content.packages[0];
        let small = format!("{inner}/{}-{}", pkg.name, pkg.full_version());
        assert_eq!(
            inode_flags(&dev, &small) & INDEX_FL,
            0,
            "{what}: a one-block directory is indexed"
        );
        // And the filesystems are consistent afterwards.
        for (off, _, fs) in filesystems(m)
            .into_iter()
            .filter(|(_, _, f)| f.fs_type.starts_with("ext"))
        {
            let (ok, o, e) = sh(Command::new("e2fsck")
                .arg("-fn")
                .arg(format!("{}?offset={off}", out.display())));
            assert!(
                ok,
                "{what}: {} {:?} not clean:\n{o}\n{e}",
                fs.fs_type, fs.mountpoint
            );
        }
        // The same seed gives the same hash tree and superblock (e2fsck's
        // check and write times are pinned). Whole images are not byte-equal:
        // inode ctimes come from the staging tree, which no one can set.
        if matches!(layout, Layout::Standard | Layout::Lvm) {
            let again = dir.path().join(format!("arch-{}-again.img", layout.name()));
            builder(OsType::Arch, MockDiskType::Small, 20, 200)
                .layout(layout)
                .build(&again)
                .unwrap();
            let dev2 = format!("{}?offset={off}", again.display());
            let dump =
                |dev: &str, req: &str| sh(Command::new("debugfs").arg("-R").arg(req).arg(dev)).1;
            let htree = format!("htree_dump {inner}");
            assert!(
                dump(&dev, &htree).contains("Root node dump"),
                "{what}: {}",
                dump(&dev, &htree)
            );
            assert_eq!(
                dump(&dev, &htree),
                dump(&dev2, &htree),
                "{what}: same seed, other hash tree"
            );
            let sb = |d: &str| sh(Command::new("dumpe2fs").env("TZ", "UTC").arg("-h").arg(d)).1;
            assert!(
                sb(&dev).contains("Last checked:             Sun Oct 27"),
                "{}",
                sb(&dev)
            );
            assert_eq!(sb(&dev), sb(&dev2), "{what}: same seed, other superblock");
        }
    }
}

#[test]
fn an_image_path_with_a_question_mark_is_indexed_too() {
    // e2fsprogs read io options after the first `?` of a device name.
    if !have("debugfs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("what?offset=0").tap_mkdir();
    let disk = builder(OsType::Arch, MockDiskType::Small, 20, 200)
        .build(sub.join("x.img"))
        .unwrap();
    let m = disk.manifest();
    let root = m.partitions.iter().find(|p| p.role == "root").unwrap();
    let fs = extract(
        disk.path(),
        root.start_bytes,
        root.size_bytes,
        dir.path(),
        "root.fs",
    );
    let (ok, o, e) = sh(Command::new("e2fsck").arg("-fn").arg(&fs));
    assert!(ok, "{o}\n{e}");
    assert_ne!(
        inode_flags(&fs.to_string_lossy(), "/var/lib/pacman/local") & INDEX_FL,
        0
    );
    assert_eq!(dir_names(&sub), ["x.img", "x.img.manifest.json"]);
}
