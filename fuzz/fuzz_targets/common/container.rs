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
