//! Images made by `qemu-img` read back byte for byte through `open_image`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{
    open_image, open_image_detected, BlockDevice, ErrorKind, ImageFormat, OpenOptions,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const DISK: usize = 4 << 20;

/// A raw disk with a recognisable, mostly incompressible-but-repetitive pattern and a
/// hole (zeros) in the middle, written to `dir/name`.
fn make_raw(dir: &Path, name: &str, seed: u8) -> (PathBuf, Vec<u8>) {
    let mut data = vec![0u8; DISK];
    for (i, b) in data.iter_mut().enumerate() {
        if !(1 << 20..2 << 20).contains(&i) {
            *b = ((i / 512) as u8).wrapping_mul(31).wrapping_add(seed) ^ (i as u8);
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

fn qemu_img(args: &[&str]) {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is installed");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_all(dev: &dyn BlockDevice) -> Vec<u8> {
    let mut buf = vec![0u8; dev.size() as usize];
    // Odd-sized reads crossing cluster boundaries.
    let mut off = 0;
    for chunk in buf.chunks_mut(70_001) {
        dev.read_exact_at(off, chunk).unwrap();
        off += chunk.len() as u64;
    }
    buf
}

fn hash(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    let meta = std::fs::metadata(path).unwrap();
    (std::fs::read(path).unwrap(), meta.modified().unwrap())
}

#[test]
fn raw_and_qcow2_plain_and_compressed_match_source() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, data) = make_raw(dir.path(), "disk.raw", 1);
    let plain = dir.path().join("plain.qcow2");
    let comp = dir.path().join("comp.qcow2");
    let v2 = dir.path().join("v2.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw.to_str().unwrap(),
        plain.to_str().unwrap(),
    ]);
    qemu_img(&[
        "convert",
        "-c",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw.to_str().unwrap(),
        comp.to_str().unwrap(),
    ]);
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        "-o",
        "compat=0.10,cluster_size=4096",
        raw.to_str().unwrap(),
        v2.to_str().unwrap(),
    ]);
    for (path, want) in [
        (&raw, ImageFormat::Raw),
        (&plain, ImageFormat::Qcow2),
        (&comp, ImageFormat::Qcow2),
        (&v2, ImageFormat::Qcow2),
    ] {
        let before = hash(path);
        let (format, dev) = open_image_detected(path, &OpenOptions::default()).unwrap();
        assert_eq!(format, want, "{}", path.display());
        assert_eq!(dev.size(), DISK as u64);
        assert!(
            read_all(&*dev) == data,
            "{} differs from the raw source",
            path.display()
        );
        drop(dev);
        assert!(
            hash(path) == before,
            "{} was modified by reading it",
            path.display()
        );
    }
    // Compressed really is compressed (the test would be vacuous otherwise).
    assert!(std::fs::metadata(&comp).unwrap().len() < std::fs::metadata(&plain).unwrap().len());
}

#[test]
fn backing_file_needs_opt_in_and_reads_through() {
    let dir = tempfile::tempdir().unwrap();
    let (_base, mut data) = make_raw(dir.path(), "base.raw", 9);
    let overlay = dir.path().join("overlay.qcow2");
    // Relative backing name: resolved against the overlay's directory.
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        "base.raw",
        "-F",
        "raw",
        overlay.to_str().unwrap(),
    ]);
    // The overlay is empty: every read falls through to the base.
    let err = open_image(&overlay, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackingNotAllowed);
    assert!(err.to_string().contains("--allow-backing"), "{err}");
    assert!(err.to_string().contains("base.raw"), "{err}");

    let before = hash(&overlay);
    let base_before = hash(&dir.path().join("base.raw"));
    let dev = open_image(&overlay, &OpenOptions::with_backing()).unwrap();
    assert!(read_all(&*dev) == data);
    assert!(dev.describe().contains("base.raw"));
    drop(dev);
    assert!(hash(&overlay) == before);
    assert!(hash(&dir.path().join("base.raw")) == base_before);

    // A second layer: qcow2 over qcow2 over raw, with the top layer holding data.
    let mid = dir.path().join("mid.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        "overlay.qcow2",
        "-F",
        "qcow2",
        mid.to_str().unwrap(),
    ]);
    let dev = open_image(&mid, &OpenOptions::with_backing()).unwrap();
    assert!(read_all(&*dev) == data);
    let shallow = OpenOptions {
        allow_backing: true,
        max_backing_depth: 1,
    };
    assert_eq!(
        open_image(&mid, &shallow).unwrap_err().kind(),
        ErrorKind::LimitExceeded
    );

    // A compressed top layer with its own data over a raw base.
    let (top_raw, top) = make_raw(dir.path(), "top.raw", 77);
    let top_q = dir.path().join("top.qcow2");
    qemu_img(&[
        "convert",
        "-c",
        "-f",
        "raw",
        "-O",
        "qcow2",
        "-B",
        "base.raw",
        "-F",
        "raw",
        top_raw.to_str().unwrap(),
        top_q.to_str().unwrap(),
    ]);
    let dev = open_image(&top_q, &OpenOptions::with_backing()).unwrap();
    data.copy_from_slice(&top);
    assert!(read_all(&*dev) == data);
}

#[test]
fn backing_loop_is_a_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.qcow2");
    let b = dir.path().join("b.qcow2");
    qemu_img(&["create", "-f", "qcow2", a.to_str().unwrap(), "1M"]);
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        "a.qcow2",
        "-F",
        "qcow2",
        b.to_str().unwrap(),
    ]);
    // Point a at b: a → b → a → ...
    qemu_img(&[
        "rebase",
        "-u",
        "-f",
        "qcow2",
        "-b",
        "b.qcow2",
        "-F",
        "qcow2",
        a.to_str().unwrap(),
    ]);
    let err = open_image(&a, &OpenOptions::with_backing()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
}

#[test]
fn missing_backing_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("o.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "gone.raw",
        "-F",
        "raw",
        o.to_str().unwrap(),
        "1M",
    ]);
    let err = open_image(&o, &OpenOptions::with_backing()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn unsupported_formats_are_named() {
    // QED is the one format guestctl recognises and does not read.
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = make_raw(dir.path(), "d.raw", 3);
    let p = dir.path().join("d.qed");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qed",
        raw.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
    let err = open_image(&p, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("qed"), "{err}");
    assert!(err.to_string().contains("qemu-img convert"), "{err}");
}

#[test]
fn hostile_qcow2_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = make_raw(dir.path(), "d.raw", 5);
    let q = dir.path().join("q.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        raw.to_str().unwrap(),
        q.to_str().unwrap(),
    ]);
    let good = std::fs::read(&q).unwrap();
    let bad = dir.path().join("bad.qcow2");
    // Truncations at interesting points: inside the header, before the L1 table, mid-data.
    for len in [4usize, 50, 104, 0x10000, 0x30000, good.len() / 2] {
        std::fs::write(&bad, &good[..len.min(good.len())]).unwrap();
        match open_image(&bad, &OpenOptions::default()) {
            // Opening may succeed when the metadata is intact; reading every cluster must
            // then not panic (data past EOF reads as zeros, as in qemu, or errors).
            Ok(dev) => {
                let mut buf = vec![0u8; 65536];
                let mut off = 0;
                while off < dev.size() {
                    let _ = dev.read_exact_at(off, &mut buf);
                    off += 65536;
                }
                assert!(
                    len >= 0x30000,
                    "a {len}-byte qcow2 cannot hold its L1 table"
                );
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    // Random bytes after the magic.
    let mut state = 0x1234_5678_u32;
    for _ in 0..20 {
        let mut img = b"QFI\xfb".to_vec();
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            img.push(state as u8);
        }
        std::fs::write(&bad, &img).unwrap();
        assert!(open_image(&bad, &OpenOptions::default()).is_err());
    }
}

#[test]
fn backing_files_are_confined_to_the_image_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("images");
    std::fs::create_dir(&dir).unwrap();
    let (outside, _) = make_raw(root.path(), "outside.raw", 3);
    let (_, inside_data) = make_raw(&dir, "inside.raw", 4);
    std::os::unix::fs::symlink(&outside, dir.join("escape.raw")).unwrap();
    let overlay = |name: &str, backing: &str| {
        let o = dir.join(name);
        qemu_img(&[
            "create",
            "-f",
            "qcow2",
            "-u",
            "-b",
            backing,
            "-F",
            "raw",
            o.to_str().unwrap(),
            "4M",
        ]);
        o
    };
    let outside_abs = outside.to_str().unwrap().to_string();
    for (name, backing) in [
        ("dotdot.qcow2", "../outside.raw"),
        ("absolute.qcow2", outside_abs.as_str()),
        ("symlink.qcow2", "escape.raw"),
        ("proc.qcow2", "/proc/self/environ"),
    ] {
        let err = open_image(&overlay(name, backing), &OpenOptions::with_backing()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BackingNotAllowed, "{name}: {err}");
        assert!(
            err.to_string().contains("outside the image's directory"),
            "{name}: {err}"
        );
    }
    // A special file beside the image is refused too.
    std::fs::create_dir(dir.join("subdir.raw")).unwrap();
    let err = open_image(
        &overlay("dir.qcow2", "subdir.raw"),
        &OpenOptions::with_backing(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    // Beside the image, it reads through.
    let dev = open_image(
        &overlay("ok.qcow2", "inside.raw"),
        &OpenOptions::with_backing(),
    )
    .unwrap();
    assert_eq!(read_all(&*dev), inside_data);
}
