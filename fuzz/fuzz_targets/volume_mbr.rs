//! MBR and EBR-chain parsing: the input is the disk, with the 0x55AA signature forced
//! on sector 0 so most inputs reach the partition entries.
#![no_main]

mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut disk = common::pad(data);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    common::scan_and_read(disk);
});
