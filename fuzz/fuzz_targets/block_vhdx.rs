//! VHDX images on arbitrary bytes (as a sparse image: `common::container::sparse_image`,
//! seeds from qemu-img images through `seeds/sparse-seed.py`): open from memory, read
//! a spread of offsets.
//! The headers and region tables carry CRC-32C checksums, which random mutations
//! break; inputs with a valid-looking signature get their checksums fixed first so the
//! fuzzer reaches the metadata and the BAT. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

mod common;

use guestctl_block::{MemDevice, VhdxImage};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Re-seal the checksum (CRC-32C at byte 4) of the `len`-byte structure at `at`.
fn reseal(img: &mut [u8], at: usize, len: usize) {
    let Some(s) = img.get_mut(at..at + len) else { return };
    s[4..8].fill(0);
    let crc = crc32c::crc32c(s);
    s[4..8].copy_from_slice(&crc.to_le_bytes());
}

fuzz_target!(|data: &[u8]| {
    // A sparse image: the headers, region tables, BAT and metadata lie MiBs apart.
    let mut img = common::container::sparse_image(data);
    if img.first() == Some(&1) {
        // The first byte chooses whether checksums are fixed (and is part of the magic
        // otherwise, so unsealed inputs still test the checksum path).
        for at in [64 << 10, 128 << 10] {
            reseal(&mut img, at, 4096);
        }
        for at in [192 << 10, 256 << 10] {
            reseal(&mut img, at, 64 << 10);
        }
        img[0] = b'v';
    }
    if let Ok(dev) = VhdxImage::open(Arc::new(MemDevice::new(img))) {
        common::container::read_spread(&dev);
    }
});
