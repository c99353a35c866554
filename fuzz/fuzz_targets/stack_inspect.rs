//! The whole inspection on arbitrary bytes taken as a raw disk image: partition
//! table and LVM scan, filesystem probing, OS inspection of every root (Linux
//! release files, fstab, hostname, ELF/PE architecture, Windows hives), package
//! listing, and the JSON-facing result. Errors are fine; panics, hangs and running
//! out of memory are bugs. Seeds (`fuzz/seeds/make-seeds.sh`) give it an MBR disk
//! with an ext4 Debian-like root and a FAT partition, so mutations reach deep.
#![no_main]

use guestctl_block::{BlockDevice, ImageFormat, MemDevice};
use guestctl_inspect::launch::launch_device;
use guestctl_inspect::{inspect_os, list_packages, InspectOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(data.to_vec()));
    let Ok(launched) = launch_device(Path::new("fuzz.img"), ImageFormat::Raw, dev) else {
        return;
    };
    let _ = launched.filesystems();
    let inspection = inspect_os(&launched, &InspectOptions { packages: true });
    for os in &inspection.operatingsystems {
        let _ = (&os.distro, &os.hostname, os.applications.len());
    }
    let _ = list_packages(&launched);
});
