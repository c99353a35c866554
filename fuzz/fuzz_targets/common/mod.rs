//! Shared by the volume targets: build a disk from the input, scan it, read every
//! volume's first and last sector.
#![allow(dead_code)]

pub mod container;

use guestctl_block::{BlockDevice, MemDevice};
use std::sync::Arc;

/// Inputs are padded to this size so offsets the input names can land on data.
pub const DISK_LEN: usize = 256 * 1024;

pub fn pad(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.len() < DISK_LEN {
        d.resize(DISK_LEN, 0);
    }
    d
}

pub fn scan_and_read(disk: Vec<u8>) {
    let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(disk));
    let Ok(scan) = guestctl_volume::scan(dev) else { return };
    let mut buf = [0u8; 512];
    for v in &scan.volumes {
        let n = v.size.min(512) as usize;
        let _ = v.device.read_exact_at(0, &mut buf[..n]);
        let _ = v.device.read_exact_at(v.size - n as u64, &mut buf[..n]);
        let _ = v.device_path();
        let _ = v.mapper_path();
        let _ = v.partuuid();
    }
    for d in &scan.diagnostics {
        let _ = d.to_string();
    }
}

/// LVM's checksum (CRC-32 from 0xf597a6cf, no final inversion).
pub fn lvm_crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(!0xf597a6cfu32);
    h.update(data);
    !h.finalize()
}

pub fn put(d: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(s) = d.get_mut(at..at + bytes.len()) {
        s.copy_from_slice(bytes);
    }
}

pub fn get_u64(d: &[u8], at: usize) -> u64 {
    d.get(at..at + 8).map(|s| u64::from_le_bytes(s.try_into().unwrap())).unwrap_or(0)
}

pub fn get_u32(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap())).unwrap_or(0)
}
