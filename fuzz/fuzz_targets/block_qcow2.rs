//! Image detection and qcow2 opening on arbitrary bytes.
//!
//! imago reads through its own file storage, so the input goes to a temporary file
//! (in /dev/shm when available) and `open_image` runs on it; the pure header
//! validation runs on a `MemDevice` too. Errors are fine; panics, hangs and OOM are bugs.
#![no_main]

use guestctl_block::{detect_format, open_image, read_qcow2_header, BlockDevice, MemDevice, OpenOptions};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mem = MemDevice::new(data.to_vec());
    let _ = detect_format(&mem);
    if read_qcow2_header(&mem).is_err() {
        return;
    }
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(dir).join(format!("guestctl-fuzz-qcow2-{}", std::process::id()));
    {
        let Ok(mut f) = std::fs::File::create(&path) else { return };
        if f.write_all(data).is_err() {
            return;
        }
    }
    if let Ok(dev) = open_image(&path, &OpenOptions::default()) {
        let size = dev.size();
        let mut buf = vec![0u8; 4096];
        let _ = dev.read_exact_at(0, &mut buf);
        let _ = dev.read_exact_at(size.saturating_sub(4096), &mut buf);
        let _ = dev.read_exact_at(size / 2, &mut buf[..512]);
    }
    let _ = std::fs::remove_file(&path);
});
