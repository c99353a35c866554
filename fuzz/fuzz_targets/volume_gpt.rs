//! GPT parsing. The first input byte chooses which CRCs the target recomputes (so the
//! fuzzer gets past the checksums to the entries) and the rest is the disk, with
//! "EFI PART" forced at LBA 1.
#![no_main]

mod common;
use common::{get_u32, get_u64, put};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut disk = common::pad(rest);
    put(&mut disk, 512, b"EFI PART");
    if flags & 1 != 0 {
        // Fix the entry array CRC, then the header CRC.
        let n = get_u32(&disk, 512 + 80) as usize;
        let es = get_u32(&disk, 512 + 84) as usize;
        let lba = get_u64(&disk, 512 + 72) as usize;
        if let Some(len) = n.checked_mul(es).filter(|l| *l <= disk.len()) {
            if let Some(arr) = lba.checked_mul(512).and_then(|o| disk.get(o..o.checked_add(len)?)) {
                let crc = crc32fast::hash(arr);
                put(&mut disk, 512 + 88, &crc.to_le_bytes());
            }
        }
        let hs = (get_u32(&disk, 512 + 12) as usize).min(512);
        put(&mut disk, 512 + 16, &[0; 4]);
        let crc = crc32fast::hash(&disk[512..512 + hs]);
        put(&mut disk, 512 + 16, &crc.to_le_bytes());
    }
    common::scan_and_read(disk);
});
