//! LVM2: the metadata text parser on the raw input, then a whole-disk PV whose label
//! and metadata checksums the target recomputes (first input byte chooses which), so
//! the fuzzer reaches the metadata and LV mapping.
#![no_main]

mod common;
use common::{get_u64, lvm_crc, put};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = guestctl_volume::parse_metadata(data);
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut disk = common::pad(rest);
    // Label in sector 1 (sector_xl = 1), the usual place.
    put(&mut disk, 512, b"LABELONE");
    put(&mut disk, 520, &1u64.to_le_bytes());
    if flags & 1 != 0 {
        put(&mut disk, 536, b"LVM2 001");
    }
    // The first metadata area: after the data-area list in the pv_header (offset_xl 32).
    if flags & 2 != 0 {
        let mut pos = 512 + 32 + 32 + 8;
        let mut mda = None;
        for list in 0..2 {
            for _ in 0..8 {
                let off = get_u64(&disk, pos);
                let size = get_u64(&disk, pos + 8);
                pos += 16;
                if off == 0 {
                    break;
                }
                if list == 1 && mda.is_none() {
                    mda = Some((off as usize, size as usize));
                }
            }
        }
        if let Some((start, _)) = mda {
            if start.checked_add(512).is_some_and(|e| e <= disk.len()) {
                // Fix the text checksum, then the header checksum.
                let toff = get_u64(&disk, start + 40) as usize;
                let tlen = get_u64(&disk, start + 48) as usize;
                if let Some(text) = start.checked_add(toff).and_then(|s| disk.get(s..s.checked_add(tlen)?)) {
                    let crc = lvm_crc(text);
                    put(&mut disk, start + 56, &crc.to_le_bytes());
                }
                let crc = lvm_crc(&disk[start + 4..start + 512]);
                put(&mut disk, start, &crc.to_le_bytes());
            }
        }
    }
    let crc = lvm_crc(&disk[512 + 20..1024]);
    put(&mut disk, 512 + 16, &crc.to_le_bytes());
    common::scan_and_read(disk);
});
