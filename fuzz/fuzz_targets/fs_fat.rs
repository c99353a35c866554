//! FAT12/16/32 on arbitrary bytes: probe, open with the FAT driver, walk the tree
//! (bounded) reading every file. Errors are fine; panics, hangs and OOM are bugs.
//! Seeds:
//!   mkfs.vfat -C /tmp/seeds/fs_fat/a 64 && mmd -i /tmp/seeds/fs_fat/a ::/dir &&
//!   mcopy -i /tmp/seeds/fs_fat/a /etc/hostname "::/dir/A long name.txt"
//!   cargo fuzz run fs_fat /tmp/seeds/fs_fat -- -max_total_time=120
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
