//! XFS on arbitrary bytes through `guestctl_fs`'s XFS driver (lamxfs): open, walk the
//! tree (bounded) reading every file and symlink. The input is a sparse image
//! (`common::container::sparse_image`): an XFS keeps its superblock, log and inodes
//! megabytes apart. Seeds:
//!   TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f -b size=1024 -d agcount=1 \
//!     -p proto x.img   (on a 16 MiB file), then seeds/sparse-seed.py x.img corpus/fs_xfs/a
//! Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

mod common;

use guestctl_block::{BlockDevice, MemDevice};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let img = common::container::sparse_image(data);
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(img));
    let _ = guestctl_fs::probe(&*dev);
    if let Ok(fs) = guestctl_fs::open_as(dev, "xfs") {
        guestctl_fs::exercise(&*fs, 500);
    }
});
