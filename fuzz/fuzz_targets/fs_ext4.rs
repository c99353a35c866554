//! ext2/3/4 on arbitrary bytes: probe, open with the ext4 driver, walk the tree
//! (bounded) reading every file and symlink. Errors are fine; panics, hangs and OOM
//! are bugs. Seeds help a lot (a valid image is needed to get past the superblock):
//!   mkdir -p /tmp/seeds/fs_ext4 src/etc && echo ID=x > src/etc/os-release &&
//!   ln -s ../etc/os-release src/link &&
//!   mke2fs -q -F -t ext4 -b 1024 -N 32 -d src /tmp/seeds/fs_ext4/a 96K
//!   cargo fuzz run fs_ext4 /tmp/seeds/fs_ext4 -- -max_total_time=120
#![no_main]

use guestctl_block::{BlockDevice, MemDevice};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(data.to_vec()));
    let _ = guestctl_fs::probe(&*dev);
    if let Ok(fs) = guestctl_fs::open_as(dev, "ext4") {
        guestctl_fs::exercise(&*fs, 500);
    }
});
