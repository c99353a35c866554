//! Shared by the image-format targets: read a container's virtual disk at its start,
//! its end, and a spread of offsets between, so mutations of the tables are reached.

use guestctl_block::BlockDevice;

/// Read 4 KiB (or less at the end) at 32 offsets spread over the disk and at both ends.
pub fn read_spread(dev: &dyn BlockDevice) {
    let size = dev.size();
    let mut buf = vec![0u8; 4096];
    let mut offsets = vec![0, size.saturating_sub(4096), size.saturating_sub(1)];
    offsets.extend((1..32u64).map(|i| size / 32 * i));
    for off in offsets {
        let n = (size - off.min(size)).min(4096) as usize;
        let _ = dev.read_exact_at(off, &mut buf[..n]);
    }
    let _ = dev.read_exact_at(size, &mut buf[..1]);
    let _ = dev.describe();
}

/// Largest image [`sparse_image`] builds (the formats it serves put metadata a few
/// MiB apart; more would only slow the fuzzer).
pub const SPARSE_MAX_LEN: usize = 16 << 20;

/// An image mostly of zeros, from records `offset: u32 LE, len: u32 LE, bytes[len]`
/// (the last record may be short). Lets small inputs reach formats whose structures
/// lie megabytes apart (VHDX regions, XFS log and inodes); seeds come from real images
/// with `seeds/sparse-seed.py`.
pub fn sparse_image(mut data: &[u8]) -> Vec<u8> {
    let mut img = Vec::new();
    while data.len() >= 8 {
        let off = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let len = u32::from_le_bytes([data[4], data[5], data[6], data[7]]) as usize;
        let bytes = &data[8..];
        let n = len.min(bytes.len());
        let end = off.saturating_add(n);
        if end > SPARSE_MAX_LEN {
            break;
        }
        if img.len() < end {
            img.resize(end, 0);
        }
        img[off..end].copy_from_slice(&bytes[..n]);
        data = &bytes[n..];
    }
    img
}
