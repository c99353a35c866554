//! VMDK sparse extents (monolithicSparse, streamOptimized with compressed grains) on
//! arbitrary bytes: open from memory, read a spread of offsets. Descriptors are text
//! and open other files; their parser is reached through `open_image` on a temporary
//! file when the input starts like one. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

mod common;

use guestctl_block::{open_image, MemDevice, OpenOptions, VmdkSparse};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"# Disk DescriptorFile") {
        // Extent files are not allowed: only the descriptor parser runs.
        let path = std::env::temp_dir().join(format!("guestctl-fuzz-vmdk-{}", std::process::id()));
        if std::fs::write(&path, data).is_ok() {
            let _ = open_image(&path, &OpenOptions::default());
        }
        let _ = std::fs::remove_file(&path);
        return;
    }
    if let Ok(img) = VmdkSparse::open(Arc::new(MemDevice::new(data.to_vec()))) {
        common::container::read_spread(&img);
    }
});
