//! The inspection commands end to end, through the `guestctl` binary: output,
//! exit codes, clear errors on hostile images, and the image bytes unchanged after
//! every command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use guestctl_mockdisk::{DiskFormat, Layout, MockDisk};
use helpers::small_disk;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The hive crate's regf writer (written from the format description, sharing no
/// code with the reader): it builds real SOFTWARE and SYSTEM hives.
use guestctl_hive::testwriter as regf;

struct Fixture {
    dir: tempfile::TempDir,
    ubuntu: MockDisk,
    lvm_qcow2: MockDisk,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ubuntu = small_disk("ubuntu", "cli-vm", 25)
            .build(dir.path().join("ubuntu.img"))
            .unwrap();
        let lvm_qcow2 = small_disk("fedora", "lvm-vm", 15)
            .layout(Layout::Lvm)
            .format(DiskFormat::Qcow2)
            .build(dir.path().join("fedora-lvm.qcow2"))
            .unwrap();
        Fixture {
            dir,
            ubuntu,
            lvm_qcow2,
        }
    })
}

fn guestctl(args: &[&str], cache: &Path) -> Output {
    helpers::guestctl_cmd(args, cache).output().unwrap()
}

fn hash(p: &Path) -> (u64, u64) {
    guestctl_inspect::cache::hash128(&std::fs::read(p).unwrap())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_command_leaves_the_image_unchanged() {
    let f = fixture();
    let cache = f.dir.path().join("cache-ro");
    for disk in [&f.ubuntu, &f.lvm_qcow2] {
        let img = disk.path().to_str().unwrap();
        let before = hash(disk.path());
        let mtime = std::fs::metadata(disk.path()).unwrap().modified().unwrap();
        let runs: Vec<Vec<&str>> = vec![
            vec!["inspect", img],
            vec!["inspect", img, "--json"],
            vec!["inspect", img, "--json", "--no-cache"],
            vec!["filesystems", img],
            vec!["filesystems", img, "--json"],
            vec!["packages", img],
            vec!["packages", img, "--json"],
            vec!["ls", img, "/etc"],
            vec!["ls", img, "/etc", "--json"],
            vec!["cat", img, "/etc/hostname"],
            vec!["batch", img, img, "--json"],
        ];
        for args in runs {
            let o = guestctl(&args, &cache);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            assert_eq!(hash(disk.path()), before, "{args:?} changed the image");
        }
        assert_eq!(
            std::fs::metadata(disk.path()).unwrap().modified().unwrap(),
            mtime
        );
    }
}

#[test]
fn inspect_json_matches_the_manifest_and_cache_serves_the_same() {
    let f = fixture();
    let cache = f.dir.path().join("cache-json");
    let img = f.lvm_qcow2.path().to_str().unwrap();
    let o1 = guestctl(&["inspect", img, "--json"], &cache);
    assert!(o1.status.success(), "{}", stderr(&o1));
    let v: serde_json::Value = serde_json::from_slice(&o1.stdout).unwrap();
    let os = &v["operatingsystems"][0];
    let want = &f.lvm_qcow2.manifest().guests[0].content;
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["format"], "qcow2");
    assert_eq!(os["distro"], want.distro.as_str());
    assert_eq!(os["hostname"], "lvm-vm");
    assert_eq!(os["applications"].as_array().unwrap().len(), 15);
    let mps: Vec<&str> = os["mountpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountpoint"].as_str().unwrap())
        .collect();
    assert!(mps.contains(&"/usr") && mps.contains(&"/var"), "{mps:?}");
    // Second run: from the cache, identical.
    assert!(std::fs::read_dir(&cache).unwrap().count() >= 1);
    let o2 = guestctl(&["inspect", img, "--json"], &cache);
    assert_eq!(o1.stdout, o2.stdout);
    let o = guestctl(&["cache", "clear"], &cache);
    assert!(o.status.success());
    assert!(stdout(&o).contains("removed 1"), "{}", stdout(&o));
}

#[test]
fn packages_as_a_plain_table_tsv_csv_and_json() {
    let f = fixture();
    let cache = f.dir.path().join("cache-p");
    let img = f.ubuntu.path().to_str().unwrap();
    let table = stdout(&guestctl(&["packages", img], &cache));
    let lines: Vec<&str> = table.lines().collect();
    // A header and one line per package, nothing else.
    assert_eq!(lines.len(), 26, "{table}");
    assert!(
        lines[0].starts_with("NAME ") && lines[0].contains(" VERSION "),
        "{table}"
    );
    let version_at = lines[0].find("VERSION").unwrap();
    for l in &lines[1..] {
        assert_eq!(l.trim_end(), *l, "trailing spaces: {l:?}");
        assert_eq!(&l[version_at - 2..version_at], "  ", "not aligned: {l:?}");
        assert_ne!(&l[version_at..version_at + 1], " ", "not aligned: {l:?}");
    }
    let tsv = stdout(&guestctl(&["packages", img, "--format", "tsv"], &cache));
    let rows: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0], ["root", "name", "version", "arch"]);
    assert_eq!(rows.len(), 26);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.len() == 4 && r[0] == "/dev/sda2"),
        "{tsv}"
    );
    let csv = stdout(&guestctl(&["packages", img, "--format", "csv"], &cache));
    assert_eq!(csv.lines().next(), Some("root,name,version,arch"));
    assert_eq!(csv.replace(',', "\t"), tsv);
    let json = guestctl(&["packages", img, "--json"], &cache);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["applications"].as_array().unwrap().len(), 25);
    assert_eq!(
        json.stdout,
        guestctl(&["packages", img, "--format", "json"], &cache).stdout
    );
}

#[test]
fn human_output_is_a_summary() {
    let f = fixture();
    let cache = f.dir.path().join("cache-h");
    let img = f.ubuntu.path().to_str().unwrap();
    let o = guestctl(&["inspect", img, "--no-cache"], &cache);
    let s = stdout(&o);
    for want in [
        "Ubuntu 24.04.1 LTS",
        "cli-vm",
        "x86_64",
        "24.4",
        "25 (deb / apt)",
        "/dev/sda2 on / (ext4)",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
    // An aligned key/value list: one line per fact, no rules between them.
    assert!(!s.contains('─') && !s.contains('|'), "{s}");
    assert!(s.contains("\n  hostname  cli-vm\n"), "{s}");
    assert!(s.contains("\n  arch      x86_64\n"), "{s}");
    let o = guestctl(&["filesystems", img], &cache);
    let s = stdout(&o);
    assert!(
        s.contains("/dev/sda1") && s.contains("vfat") && s.contains("ext4"),
        "{s}"
    );
    let o = guestctl(&["cat", img, "/etc/hostname"], &cache);
    assert_eq!(stdout(&o).trim(), "cli-vm");
    // /etc/os-release is a symlink to ../usr/lib/os-release: followed inside the guest.
    let o = guestctl(&["cat", img, "/etc/os-release"], &cache);
    assert!(stdout(&o).contains("ID=ubuntu"), "{}", stderr(&o));
    let o = guestctl(&["ls", img, "/etc"], &cache);
    assert!(
        stdout(&o).contains("os-release -> ../usr/lib/os-release"),
        "{}",
        stdout(&o)
    );
    let o = guestctl(&["ls", img, "/dev/sda2:/etc"], &cache);
    assert!(
        o.status.success() && stdout(&o).contains("hostname"),
        "{}",
        stderr(&o)
    );
    let o = guestctl(&["cat", img, "/etc/nope"], &cache);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/etc/nope"), "{}", stderr(&o));
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn hostile_images_get_a_clear_error_each_and_batch_goes_on() {
    let f = fixture();
    let cache = f.dir.path().join("cache-bad");
    let d = f.dir.path();
    let mut x = 0x9E3779B97F4A7C15u64;
    let random: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let good = std::fs::read(f.ubuntu.path()).unwrap();
    let bad = vec![
        write(d, "empty.img", b""),
        write(d, "zeroed.img", &vec![0u8; 1 << 20]),
        write(d, "random.img", &random),
        write(d, "truncated.img", &good[..good.len().min(40 * 1024)]),
    ];
    for b in &bad {
        let o = guestctl(&["inspect", b.to_str().unwrap(), "--no-cache"], &cache);
        assert_eq!(o.status.code(), Some(1), "{}", b.display());
        let e = stderr(&o);
        assert!(
            e.contains(&*b.to_string_lossy()) && e.starts_with("error:"),
            "{e}"
        );
        assert!(!e.contains("panicked"), "{e}");
    }
    let o = guestctl(&["inspect", "/nonexistent.img"], &cache);
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));
    // Batch: the good image succeeds, each bad one fails alone, positions kept.
    let mut args = vec!["batch", "--json", "--jobs", "2"];
    let good_path = f.ubuntu.path().to_str().unwrap();
    args.push(good_path);
    for b in &bad {
        args.push(b.to_str().unwrap());
    }
    args.push(good_path);
    let o = guestctl(&args, &cache);
    assert_eq!(o.status.code(), Some(1));
    let mut lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Records come as images finish; each says its position in the list.
    lines.sort_by_key(|l| l["index"].as_u64().unwrap());
    let oks: Vec<bool> = lines.iter().map(|l| l["status"] == "ok").collect();
    assert_eq!(oks, vec![true, false, false, false, false, true]);
    assert_eq!(lines[2]["image"], bad[1].to_str().unwrap());
    assert!(lines[2]["error"].as_str().unwrap().contains("zeroed"));
    // Sharding: 2/3 of six images is positions 1 and 4.
    args.extend(["--shard", "2/3"]);
    let o = guestctl(&args, &cache);
    let mut records: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records.sort_by_key(|l| l["index"].as_u64().unwrap());
    let imgs: Vec<&str> = records
        .iter()
        .map(|l| l["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        imgs,
        vec![bad[0].to_str().unwrap(), bad[3].to_str().unwrap()]
    );
}

#[test]
fn symlink_loop_in_a_real_filesystem_is_a_clear_error() {
    let f = fixture();
    let d = f.dir.path().join("loopfs");
    let stage = d.join("stage");
    std::fs::create_dir_all(stage.join("etc")).unwrap();
    std::fs::create_dir_all(stage.join("bin")).unwrap();
    std::fs::write(stage.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(stage.join("etc/hostname"), "loopy\n").unwrap();
    std::os::unix::fs::symlink("loop2", stage.join("loop1")).unwrap();
    std::os::unix::fs::symlink("/loop1", stage.join("loop2")).unwrap();
    std::os::unix::fs::symlink("../../../../../etc/hostname", stage.join("etc/escape")).unwrap();
    let img = d.join("fs.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    let mk = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-d"])
        .arg(&stage)
        .arg(&img)
        .output();
    let Ok(mk) = mk else { return }; // e2fsprogs missing: the mockdisk tests report it.
    assert!(
        mk.status.success(),
        "{}",
        String::from_utf8_lossy(&mk.stderr)
    );
    let cache = d.join("cache");
    let s = img.to_str().unwrap();
    let o = guestctl(&["cat", s, "/loop1"], &cache);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("too many levels of symbolic links"),
        "{}",
        stderr(&o)
    );
    // A link climbing above the root stays in the guest.
    let o = guestctl(&["cat", s, "/etc/escape"], &cache);
    assert_eq!(stdout(&o), "loopy\n", "{}", stderr(&o));
    let o = guestctl(&["inspect", s, "--json", "--no-cache"], &cache);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["partition_table"], "none");
    assert_eq!(v["operatingsystems"][0]["root"], "/dev/sda");
    assert_eq!(v["operatingsystems"][0]["hostname"], "loopy");
}

fn is_mounted(dir: &Path) -> bool {
    let want = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|m| {
            m.lines()
                .any(|l| l.split(' ').nth(4) == Some(want.as_str()))
        })
        .unwrap_or(false)
}

/// Build a real NTFS filesystem (mkntfs on a plain file) holding
/// `/Windows/System32/config/{SOFTWARE,SYSTEM}` and a PE `cmd.exe` header, via
/// ntfs-3g (FUSE): `ntfscp` cannot create directories, and no ntfs-3g tool
/// populates an image offline. Returns `Err(reason)` when the tools or FUSE are
/// not available here.
fn build_windows_ntfs(dir: &Path, software: &[u8], system: &[u8]) -> Result<Vec<u8>, String> {
    use guestctl_testkit::find;
    let mkntfs = find("mkntfs").ok_or("mkntfs is not installed (package ntfs-3g)")?;
    let ntfs3g = find("ntfs-3g").ok_or("ntfs-3g is not installed (package ntfs-3g)")?;
    let umount = find("umount").ok_or("umount is not installed (package mount)")?;
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse is missing: cannot mount with ntfs-3g".into());
    }
    let part = dir.join("ntfs-part.img");
    let f = std::fs::File::create(&part).unwrap();
    f.set_len(24 << 20).unwrap();
    drop(f);
    // -p 2048: the partition starts at sector 2048 (recorded as hidden sectors).
    let o = Command::new(&mkntfs)
        .args([
            "-F", "-Q", "-q", "-L", "Windows", "-s", "512", "-p", "2048", "-H", "255", "-S", "63",
        ])
        .arg(&part)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "mkntfs: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mnt = dir.join("ntfs-mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    // no_detach: the child is ntfs-3g itself, so waiting for it after umount
    // guarantees every write reached the image file.
    let mut child = Command::new(&ntfs3g)
        .args(["-o", "no_detach,rw"])
        .arg(&part)
        .arg(&mnt)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ntfs-3g: {e}"))?;
    let start = std::time::Instant::now();
    while !is_mounted(&mnt) {
        if let Ok(Some(st)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Err(format!("ntfs-3g could not mount ({st}): {err}"));
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("ntfs-3g did not mount within 20 s".into());
        }
        // Waiting for another process to finish mounting: nothing to do meanwhile.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let populate = || -> std::io::Result<()> {
        let config = mnt.join("Windows/System32/config");
        std::fs::create_dir_all(&config)?;
        std::fs::create_dir_all(mnt.join("Program Files/Common Files"))?;
        std::fs::create_dir_all(mnt.join("Users/Public"))?;
        std::fs::write(config.join("SOFTWARE"), software)?;
        std::fs::write(config.join("SYSTEM"), system)?;
        // A PE header (never run): MZ, e_lfanew = 0x80, "PE\0\0", machine AMD64.
        let mut pe = vec![0u8; 512];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        std::fs::write(mnt.join("Windows/System32/cmd.exe"), pe)?;
        Ok(())
    };
    let res = populate();
    let u = Command::new(&umount).arg(&mnt).status().unwrap();
    let st = child.wait().unwrap();
    res.unwrap();
    assert!(u.success() && st.success(), "umount {u}, ntfs-3g {st}");
    Ok(std::fs::read(&part).unwrap())
}

/// An MBR disk: one NTFS partition (type 0x07, bootable) at sector 2048.
fn mbr_disk(part: &[u8]) -> Vec<u8> {
    let start = 2048u32;
    let sectors = u32::try_from(part.len() / 512).unwrap();
    let mut disk = vec![0u8; 2048 * 512];
    disk[440..444].copy_from_slice(&0x5749_4e31u32.to_le_bytes()); // disk signature
    let e = &mut disk[446..462];
    e[0] = 0x80;
    e[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]); // CHS: use LBA
    e[4] = 0x07;
    e[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    e[8..12].copy_from_slice(&start.to_le_bytes());
    e[12..16].copy_from_slice(&sectors.to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xaa;
    disk.extend_from_slice(part);
    disk.resize(disk.len() + (1 << 20), 0); // a free tail, as real disks have
    disk
}

/// Needs mkntfs and ntfs-3g (package ntfs-3g), /dev/fuse and the right to mount
/// with it (root, as CI runs). When any is missing the test says which and skips;
/// under `GUESTCTL_REQUIRE_TOOLS` it fails instead, since a machine that sets it
/// promises everything the tests need.
#[test]
fn windows_guest_end_to_end_on_real_ntfs() {
    let dir = tempfile::tempdir().unwrap();
    let software =
        regf::windows_software("Windows Server 2022 Datacenter", 10, 0, "20348", "Server");
    let system = regf::windows_system("WIN-E2E-01", 2);
    let part = match build_windows_ntfs(dir.path(), &software, &system) {
        Ok(p) => p,
        Err(why) => {
            guestctl_testkit::unavailable(&why);
            return;
        }
    };
    let img = dir.path().join("windows.img");
    std::fs::write(&img, mbr_disk(&part)).unwrap();
    let before = hash(&img);
    let cache = dir.path().join("cache");
    let o = guestctl(
        &["inspect", "--json", "--no-cache", img.to_str().unwrap()],
        &cache,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let oses = v["operatingsystems"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(oses.len(), 1, "{v}");
    let os = &oses[0];
    assert_eq!(os["name"], "windows", "{os}");
    assert_eq!(os["distro"], "windows");
    assert_eq!(os["root"], "/dev/sda1");
    assert_eq!(os["product_name"], "Windows Server 2022 Datacenter");
    assert_eq!(os["product_variant"], "Server");
    assert_eq!(os["major_version"], 10);
    assert_eq!(os["minor_version"], 0);
    assert_eq!(os["build_id"], "20348");
    assert_eq!(
        os["hostname"], "WIN-E2E-01",
        "Select\\Current = 2 must be followed"
    );
    assert_eq!(os["arch"], "x86_64");
    assert_eq!(os["windows_systemroot"], "/Windows");
    assert_eq!(os["filesystems"][0]["type"], "ntfs");
    assert_eq!(os["filesystems"][0]["label"], "Windows");
    assert_eq!(os["mountpoints"][0]["mountpoint"], "/");
    // The human summary names it too, and the image is untouched.
    let o = guestctl(&["inspect", "--no-cache", img.to_str().unwrap()], &cache);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("Windows Server 2022 Datacenter"), "{text}");
    assert!(text.contains("WIN-E2E-01"), "{text}");
    assert_eq!(hash(&img), before);
}

/// Errors a user causes name the file once and say what to do.
#[test]
fn user_errors_name_the_file_once_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let missing = dir.path().join("missing.img");
    let m = missing.to_str().unwrap();
    let o = guestctl(&["batch", m], &cache);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no such file (give the path of a raw or qcow2 disk image)"),
        "{err}"
    );
    assert_eq!(err.matches(m).count(), 1, "{err}");

    let junk = dir.path().join("junk.img");
    std::fs::write(&junk, vec![0x5au8; 64 * 1024]).unwrap();
    let j = junk.to_str().unwrap();
    let o = guestctl(&["inspect", j], &cache);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a disk image"), "{err}");
    assert_eq!(err.matches(j).count(), 1, "{err}");
}

/// The `error:` lines of `o`, checked to say each part of their chain once
/// (parts are separated by `": "`), and `image` once in all of stderr.
fn assert_each_part_once(o: &Output, image: &str) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    for line in &lines {
        let parts: Vec<&str> = line.split(": ").collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(!parts[..i].contains(p), "{p:?} said twice: {err}");
        }
    }
    assert_eq!(err.matches(image).count(), 1, "{err}");
    err
}

/// Each part of an error chain is said once, by every command that opens an
/// image, on a missing file, a truncated qcow2 image and random bytes; and by `ls`
/// and `cat` on a missing guest path and a directory read as a file.
#[test]
fn errors_say_each_thing_once() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let missing = dir.path().join("missing.img");
    let cut = write(dir.path(), "cut.qcow2", b"QFI\xfb\x00\x00\x00\x03");
    let mut random = vec![0u8; 256 * 1024];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x.to_le_bytes()[0];
    }
    let random = write(dir.path(), "random.img", &random);
    let cases: [(&Path, &str); 3] = [
        (&missing, "no such file"),
        (&cut, "shorter than a qcow2 header"),
        (&random, "not a disk image"),
    ];
    for (image, says) in cases {
        let img = image.to_str().unwrap();
        for cmd in [
            &["inspect", img][..],
            &["filesystems", img],
            &["packages", img],
            &["ls", img, "/etc"],
            &["cat", img, "/etc/hostname"],
        ] {
            let o = guestctl(cmd, &cache);
            if cmd[0] == "filesystems" && image == random.as_path() {
                // Random bytes are a disk with one unknown filesystem, not an error.
                assert!(o.status.success(), "{}", stderr(&o));
                continue;
            }
            let err = assert_each_part_once(&o, img);
            let says = match cmd[0] {
                "ls" | "cat" if image == random.as_path() => "no operating system found",
                _ => says,
            };
            assert!(err.contains(says), "{cmd:?}: {err}");
        }
    }
    let img = f.ubuntu.path().to_str().unwrap();
    for (cmd, says) in [
        (&["ls", img, "/no/such/dir"][..], "/no/such/dir: "),
        (&["ls", img, "/dev/sda1:/no/such/dir"], "/no/such/dir: "),
        (&["cat", img, "/no/such/file"], "/no/such/file: "),
        (&["cat", img, "/etc"], "/etc: "),
    ] {
        let o = guestctl(cmd, &cache);
        let err = assert_each_part_once(&o, img);
        assert!(err.contains(says), "{cmd:?}: {err}");
        assert_eq!(
            err.matches(cmd[2].trim_start_matches("/dev/sda1:")).count(),
            1,
            "{err}"
        );
    }
}

#[test]
fn mock_disk_into_a_missing_directory_says_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no/such/dir/x.img");
    let o = guestctl(
        &[
            "mock-disk",
            "create",
            "--type",
            "minimal",
            out.to_str().unwrap(),
        ],
        &dir.path().join("cache"),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("does not exist") && err.contains("mkdir -p"),
        "{err}"
    );
    assert_eq!(err.matches("x.img").count(), 1, "{err}");
}
