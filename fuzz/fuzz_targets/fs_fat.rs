//! FAT12/16/32 on arbitrary bytes: probe, open with the FAT driver, walk the tree
//! (bounded) reading every file. Errors are fine; panics, hangs and OOM are bugs.
//! Seed with small images from `mkfs.vfat` + `mcopy` (see fuzz/README.md).
#![no_main]

use guestctl_block::{BlockDevice, MemDevice};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(data.to_vec()));
    let _ = guestctl_fs::probe(&*dev);
    if let Ok(fs) = guestctl_fs::open_as(dev, "vfat") {
        guestctl_fs::exercise(&*fs, 500);
    }
});
