//! The inspection commands end to end, through the `guestctl` binary: output,
//! exit codes, clear errors on hostile images, and the image bytes unchanged after
//! every command.

use guestctl_mockdisk::{DiskFormat, Layout, MockDisk, MockDiskBuilder, MockDiskType};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

struct Fixture {
    dir: tempfile::TempDir,
    ubuntu: MockDisk,
    lvm_qcow2: MockDisk,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ubuntu = MockDiskBuilder::new()
            .disk_type(MockDiskType::Small)
            .os_type("ubuntu")
            .hostname("cli-vm")
            .num_files(10)
            .num_packages(25)
            .build(dir.path().join("ubuntu.img"))
            .unwrap();
        let lvm_qcow2 = MockDiskBuilder::new()
            .disk_type(MockDiskType::Small)
            .os_type("fedora")
            .hostname("lvm-vm")
            .layout(Layout::Lvm)
            .format(DiskFormat::Qcow2)
            .num_files(10)
            .num_packages(15)
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
    Command::new(env!("CARGO_BIN_EXE_guestctl"))
        .args(args)
        .env("GUESTCTL_CACHE_DIR", cache)
        .output()
        .unwrap()
}

fn hash(p: &Path) -> u64 {
    guestctl_inspect::cache::hash64(&std::fs::read(p).unwrap(), 0)
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
        "mount /",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
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
    // Batch: the good image succeeds, each bad one fails alone, order kept.
    let mut args = vec!["batch", "--json", "--jobs", "2"];
    let good_path = f.ubuntu.path().to_str().unwrap();
    args.push(good_path);
    for b in &bad {
        args.push(b.to_str().unwrap());
    }
    args.push(good_path);
    let o = guestctl(&args, &cache);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let oks: Vec<bool> = lines.iter().map(|l| l["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, vec![true, false, false, false, false, true]);
    assert_eq!(lines[2]["image"], bad[1].to_str().unwrap());
    assert!(lines[2]["error"].as_str().unwrap().contains("zeroed"));
    // Sharding: 2/3 of six images is positions 1 and 4.
    args.extend(["--shard", "2/3"]);
    let o = guestctl(&args, &cache);
    let imgs: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["image"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        imgs,
        vec![
            bad[0].to_str().unwrap().to_string(),
            bad[3].to_str().unwrap().to_string()
        ]
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
