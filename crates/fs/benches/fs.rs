//! Filesystem benchmarks on real images (built with mke2fs, mkfs.vfat + mcopy and
//! mkntfs + ntfscp into a temp dir, read through `FileDevice` with the page cache
//! warm): open + read `/etc/os-release`, read a 1.5 MB `dpkg/status`, lstat, and a
//! root listing. Targets: open + small read well under 1 ms; a 1-2 MB
//! file in a few ms.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use guestctl_block::{BlockDevice, FileDevice};
use guestctl_fs::{open, Filesystem};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn run(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

fn payload() -> Vec<u8> {
    (0..1_500_000u32)
        .map(|i| b"Package: x\nVersion: 1\n"[(i % 22) as usize])
        .collect()
}

fn small(tmp: &Path) -> PathBuf {
    let p = tmp.join("small");
    std::fs::write(&p, "ID=debian\n").unwrap();
    p
}

fn ext4_image(tmp: &Path) -> Option<PathBuf> {
    let src = tmp.join("src");
    std::fs::create_dir_all(src.join("etc")).unwrap();
    std::fs::create_dir_all(src.join("var/lib/dpkg")).unwrap();
    std::fs::write(src.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(src.join("var/lib/dpkg/status"), payload()).unwrap();
    for i in 0..200 {
        std::fs::write(src.join(format!("etc/conf-{i}")), "x").unwrap();
    }
    let img = tmp.join("ext4.img");
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("64M"))
    .then_some(img)
}

fn fat_image(tmp: &Path) -> Option<PathBuf> {
    let img = tmp.join("fat.img");
    let f = tmp.join("status");
    std::fs::write(&f, payload()).unwrap();
    let ok = run(Command::new("mkfs.vfat")
        .args(["-C", "-F", "32"])
        .arg(&img)
        .arg("65536"))
        && run(Command::new("mmd").arg("-i").arg(&img).arg("::/EFI"))
        && run(Command::new("mcopy")
            .arg("-i")
            .arg(&img)
            .arg(&f)
            .arg("::/EFI/status"))
        && run(Command::new("mcopy")
            .arg("-i")
            .arg(&img)
            .arg(small(tmp))
            .arg("::/EFI/grub.cfg"));
    ok.then_some(img)
}

fn ntfs_image(tmp: &Path) -> Option<PathBuf> {
    let img = tmp.join("ntfs.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let f = tmp.join("SOFTWARE");
    std::fs::write(&f, payload()).unwrap();
    let ok = run(Command::new("mkntfs").args(["-F", "-Q", "-q"]).arg(&img))
        && run(Command::new("ntfscp")
            .args(["-f", "-q"])
            .arg(&img)
            .arg(&f)
            .arg("/$Extend/SOFTWARE"))
        && run(Command::new("ntfscp")
            .args(["-f", "-q"])
            .arg(&img)
            .arg(small(tmp))
            .arg("/$Extend/small.txt"));
    ok.then_some(img)
}

fn bench_fs(c: &mut Criterion, name: &str, img: &Path, small: &str, big: &str) {
    let dev: Arc<dyn BlockDevice> = Arc::new(FileDevice::open(img).unwrap());
    let mut g = c.benchmark_group(name);
    g.sample_size(30);
    g.measurement_time(std::time::Duration::from_secs(2));
    g.bench_function("open+read_small", |b| {
        b.iter(|| {
            let fs = open(Arc::clone(&dev)).unwrap();
            black_box(fs.read_file(small, 1 << 20).unwrap());
        })
    });
    let fs: Box<dyn Filesystem> = open(Arc::clone(&dev)).unwrap();
    g.bench_function("read_small", |b| {
        b.iter(|| black_box(fs.read_file(small, 1 << 20).unwrap()))
    });
    g.bench_function("lstat", |b| b.iter(|| black_box(fs.lstat(small).unwrap())));
    g.bench_function("read_1.5MB", |b| {
        b.iter(|| black_box(fs.read_file(big, 1 << 30).unwrap()))
    });
    g.bench_function("read_dir_root", |b| {
        b.iter(|| black_box(fs.read_dir("/").unwrap()))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    if let Some(img) = ext4_image(tmp.path()) {
        bench_fs(c, "ext4", &img, "/etc/os-release", "/var/lib/dpkg/status");
    }
    if let Some(img) = fat_image(tmp.path()) {
        bench_fs(c, "fat32", &img, "/EFI/grub.cfg", "/EFI/status");
    }
    if let Some(img) = ntfs_image(tmp.path()) {
        bench_fs(c, "ntfs", &img, "/$Extend/small.txt", "/$Extend/SOFTWARE");
    }
}

criterion_group!(fs, benches);
criterion_main!(fs);
