//! VHD, VDI, VMDK and VHDX images made by `qemu-img convert` from a raw disk made here
//! read back byte for byte through `open_image`, and are never written. A test whose
//! tool is missing says so and fails only if `GUESTCTL_REQUIRE_TOOLS` is set (CI sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_block::{open_image_detected, BlockDevice, ErrorKind, ImageFormat, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 5 MiB: more than two 2 MiB VHD blocks and five 1 MiB VDI blocks, with a hole.
const DISK: usize = 5 << 20;

fn have_qemu_img() -> bool {
    guestctl_testkit::have("qemu-img")
}

/// A raw disk with a pattern that differs in every sector, a zero hole from 1 MiB to
/// 3 MiB (whole unallocated blocks in every format) and a last sector of 0xff.
fn make_raw(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut data = vec![0u8; DISK];
    for (i, b) in data.iter_mut().enumerate() {
        if !(1 << 20..3 << 20).contains(&i) {
            *b = ((i / 512) as u8).wrapping_mul(31) ^ (i as u8);
        }
    }
    data[DISK - 512..].fill(0xff);
    let path = dir.join("disk.raw");
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

/// `qemu-img convert -O fmt [-o opts] raw out`.
fn convert(raw: &Path, fmt: &str, opts: &str, out: &Path) {
    let mut cmd = Command::new("qemu-img");
    cmd.args(["convert", "-f", "raw", "-O", fmt]);
    if !opts.is_empty() {
        cmd.args(["-o", opts]);
    }
    let res = cmd.arg(raw).arg(out).output().unwrap();
    assert!(
        res.status.success(),
        "qemu-img convert -O {fmt} -o {opts}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// Every byte of `dev`, read in odd-sized pieces that cross block edges.
fn read_all(dev: &dyn BlockDevice) -> Vec<u8> {
    let mut buf = vec![0u8; dev.size() as usize];
    let mut off = 0;
    for chunk in buf.chunks_mut(70_001) {
        dev.read_exact_at(off, chunk).unwrap();
        off += chunk.len() as u64;
    }
    buf
}

/// The bytes of every file in `dir` (to prove reading wrote nothing).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    all.sort();
    all
}

/// Convert `raw` with each (format, options) case, open it as `want`, and check its
/// bytes: the raw disk, then zeros (VHD rounds the size up to its CHS geometry).
fn check_cases(cases: &[(&str, &str, ImageFormat)], opts: &OpenOptions) {
    let dir = tempfile::tempdir().unwrap();
    let (raw, data) = make_raw(dir.path());
    for (i, (fmt, o, want)) in cases.iter().enumerate() {
        let sub = dir.path().join(format!("case{i}"));
        std::fs::create_dir(&sub).unwrap();
        let out = sub.join(format!("disk.{fmt}"));
        convert(&raw, fmt, o, &out);
        let before = snapshot(&sub);
        let (format, dev) =
            open_image_detected(&out, opts).unwrap_or_else(|e| panic!("{fmt} {o}: {e}"));
        assert_eq!(format, *want, "{fmt} {o}");
        assert!(dev.size() >= DISK as u64, "{fmt} {o}: size {}", dev.size());
        let got = read_all(&*dev);
        assert!(
            got[..DISK] == data[..],
            "{fmt} {o}: bytes differ from the raw disk"
        );
        if *want == ImageFormat::Raw {
            // A fixed VHD read as raw: the disk, zeros up to its CHS size, the footer.
            let footer = got.len() - 512;
            assert!(
                got[footer..].starts_with(b"conectix"),
                "{fmt} {o}: no footer"
            );
            assert!(got[DISK..footer].iter().all(|&b| b == 0), "{fmt} {o}: tail");
        } else {
            assert!(
                got[DISK..].iter().all(|&b| b == 0),
                "{fmt} {o}: tail not zero"
            );
        }
        drop(dev);
        assert!(
            snapshot(&sub) == before,
            "{fmt} {o}: reading changed the files"
        );
    }
}

#[test]
fn vhd_dynamic_and_fixed_read_like_the_raw_disk() {
    if !have_qemu_img() {
        return;
    }
    check_cases(
        &[
            ("vpc", "", ImageFormat::Vhd),
            ("vpc", "subformat=dynamic,force_size=on", ImageFormat::Vhd),
            // A fixed VHD is the raw disk plus a trailing footer.
            ("vpc", "subformat=fixed", ImageFormat::Raw),
        ],
        &OpenOptions::default(),
    );
}

#[test]
fn vdi_dynamic_and_static_read_like_the_raw_disk() {
    if !have_qemu_img() {
        return;
    }
    check_cases(
        &[
            ("vdi", "", ImageFormat::Vdi),
            ("vdi", "static=on", ImageFormat::Vdi),
        ],
        &OpenOptions::default(),
    );
}

#[test]
fn truncated_images_fail_cleanly() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = make_raw(dir.path());
    // Cuts inside the headers, the tables and the data (not at the very end: a dynamic
    // VHD ends with a footer copy and block padding past the disk size, unread).
    for fmt in ["vpc", "vdi", "vmdk", "vhdx"] {
        let good_path = dir.path().join(format!("good.{fmt}"));
        convert(&raw, fmt, "", &good_path);
        let good = std::fs::read(&good_path).unwrap();
        let bad = dir.path().join(format!("bad.{fmt}"));
        for len in [600, 1024, 2048, 4096, good.len() / 2, good.len() * 3 / 4] {
            std::fs::write(&bad, &good[..len]).unwrap();
            match open_image_detected(&bad, &OpenOptions::default()) {
                Ok((_, dev)) => {
                    let mut buf = vec![0u8; 65536];
                    let mut off = 0;
                    let mut failed = false;
                    while off + 65536 <= dev.size() {
                        failed |= dev.read_exact_at(off, &mut buf).is_err();
                        off += 65536;
                    }
                    assert!(failed, "{fmt} cut to {len} bytes read without an error");
                }
                Err(e) => assert_ne!(e.kind(), ErrorKind::Io, "{fmt} {len}: {e}"),
            }
        }
    }
}

#[test]
fn vmdk_sparse_and_stream_optimized_read_like_the_raw_disk() {
    if !have_qemu_img() {
        return;
    }
    check_cases(
        &[
            ("vmdk", "", ImageFormat::Vmdk),
            ("vmdk", "subformat=monolithicSparse", ImageFormat::Vmdk),
            ("vmdk", "subformat=streamOptimized", ImageFormat::Vmdk),
        ],
        &OpenOptions::default(),
    );
}

#[test]
fn vmdk_descriptors_with_extent_files_need_opt_in() {
    if !have_qemu_img() {
        return;
    }
    let cases = [
        ("vmdk", "subformat=monolithicFlat", ImageFormat::Vmdk),
        ("vmdk", "subformat=twoGbMaxExtentFlat", ImageFormat::Vmdk),
        ("vmdk", "subformat=twoGbMaxExtentSparse", ImageFormat::Vmdk),
    ];
    check_cases(&cases, &OpenOptions::with_backing());
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = make_raw(dir.path());
    let out = dir.path().join("flat.vmdk");
    convert(&raw, "vmdk", "subformat=monolithicFlat", &out);
    let err = open_image_detected(&out, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BackingNotAllowed, "{err}");
    assert!(err.to_string().contains("--allow-backing"), "{err}");
}

/// A descriptor written here: the disk cut into three flat files (one at an offset)
/// with a ZERO extent between, as VMware lays out split disks.
#[test]
fn vmdk_descriptor_of_several_extents_reads_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_, data) = make_raw(dir.path());
    let (a, rest) = data.split_at(1 << 20);
    let (hole, b) = rest.split_at(2 << 20);
    assert!(hole.iter().all(|&x| x == 0));
    std::fs::write(dir.path().join("p1.vmdk"), a).unwrap();
    let mut padded = vec![7u8; 4096];
    padded.extend_from_slice(b);
    std::fs::write(dir.path().join("p 2.vmdk"), &padded).unwrap();
    let desc = format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
         createType=\"twoGbMaxExtentFlat\"\n\
         RW {} FLAT \"p1.vmdk\" 0\nRW {} ZERO\nRW {} FLAT \"p 2.vmdk\" 8\n",
        a.len() / 512,
        hole.len() / 512,
        b.len() / 512
    );
    let path = dir.path().join("split.vmdk");
    std::fs::write(&path, desc).unwrap();
    let (format, dev) = open_image_detected(&path, &OpenOptions::with_backing()).unwrap();
    assert_eq!(format, ImageFormat::Vmdk);
    assert_eq!(dev.size(), DISK as u64);
    assert!(read_all(&*dev) == data);
    assert!(dev.describe().contains("3 extents"), "{}", dev.describe());

    // An extent named outside the directory is refused even when extents are allowed.
    let evil = dir.path().join("evil.vmdk");
    std::fs::write(
        &evil,
        "# Disk DescriptorFile\nparentCID=ffffffff\nRW 8 FLAT \"../../etc/passwd\" 0\n",
    )
    .unwrap();
    let err = open_image_detected(&evil, &OpenOptions::with_backing()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    // An extent longer than its file is an error, not a short read.
    std::fs::write(
        &evil,
        "# Disk DescriptorFile\nparentCID=ffffffff\nRW 99999 FLAT \"p1.vmdk\" 0\n",
    )
    .unwrap();
    assert!(open_image_detected(&evil, &OpenOptions::with_backing()).is_err());
}

#[test]
fn vhdx_dynamic_and_fixed_read_like_the_raw_disk() {
    if !have_qemu_img() {
        return;
    }
    check_cases(
        &[
            ("vhdx", "", ImageFormat::Vhdx),
            ("vhdx", "subformat=fixed", ImageFormat::Vhdx),
            ("vhdx", "block_size=1M,log_size=1M", ImageFormat::Vhdx),
            ("vhdx", "block_state_zero=off", ImageFormat::Vhdx),
        ],
        &OpenOptions::default(),
    );
}

/// Set the log GUID of both VHDX headers (or break their checksums) and re-seal them.
fn patch_vhdx_headers(img: &mut [u8], log: [u8; 16], valid_crc: bool) {
    for at in [64 << 10, 128 << 10] {
        let h = &mut img[at..at + 4096];
        h[48..64].copy_from_slice(&log);
        h[4..8].fill(0);
        let crc = crc32c::crc32c(h) ^ u32::from(!valid_crc);
        h[4..8].copy_from_slice(&crc.to_le_bytes());
    }
}

#[test]
fn vhdx_log_is_refused_not_replayed_and_bad_structures_fail() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (raw, _) = make_raw(dir.path());
    let good_path = dir.path().join("good.vhdx");
    convert(&raw, "vhdx", "", &good_path);
    let good = std::fs::read(&good_path).unwrap();
    let bad = dir.path().join("bad.vhdx");
    let open = |img: &[u8]| {
        std::fs::write(&bad, img).unwrap();
        open_image_detected(&bad, &OpenOptions::default()).map(|(_, d)| d)
    };

    let mut dirty = good.clone();
    patch_vhdx_headers(&mut dirty, [1; 16], true);
    let err = open(&dirty).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("does not replay the log"), "{err}");
    assert!(
        std::fs::read(&bad).unwrap() == dirty,
        "the log was replayed"
    );

    let mut broken = good.clone();
    patch_vhdx_headers(&mut broken, [0; 16], false);
    assert_eq!(open(&broken).unwrap_err().kind(), ErrorKind::Corrupt);

    // One bad header: the other one is used.
    let mut one = good.clone();
    one[(64 << 10) + 20] ^= 1;
    assert!(open(&one).is_ok());

    // Both region tables broken.
    let mut regions = good.clone();
    regions[(192 << 10) + 40] ^= 1;
    regions[(256 << 10) + 40] ^= 1;
    assert_eq!(open(&regions).unwrap_err().kind(), ErrorKind::Corrupt);

    // A BAT entry pointing past the end of the file, and one in a differencing state.
    let bat = u64::from_le_bytes(good[(192 << 10) + 32..(192 << 10) + 40].try_into().unwrap());
    let bat = bat as usize;
    for entry in [(1u64 << 50) | 6, (2u64 << 20) | 7] {
        let mut img = good.clone();
        img[bat..bat + 8].copy_from_slice(&entry.to_le_bytes());
        let dev = open(&img).unwrap();
        assert!(dev.read_exact_at(0, &mut [0u8; 512]).is_err(), "{entry:#x}");
    }
}
