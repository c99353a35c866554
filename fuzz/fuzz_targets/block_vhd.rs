//! VHD images on arbitrary bytes: open from memory, read a spread of offsets.
//! Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

mod common;

use guestctl_block::{MemDevice, VhdImage};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = VhdImage::open(Arc::new(MemDevice::new(data.to_vec()))) {
        common::container::read_spread(&img);
    }
});
