//! Dynamic VHD images (Virtual PC, Hyper-V, Azure; qemu calls the format `vpc`).
//!
//! A dynamic VHD starts with a copy of its 512-byte footer (cookie `conectix`), whose
//! data offset points at the dynamic header (`cxsparse`), which points at the block
//! allocation table (BAT): one big-endian sector number per block, `0xffffffff` for a
//! block never written (it reads as zeros). Each allocated block starts with a sector
//! bitmap, then the block's data. Like qemu, reads ignore the bitmap: a sector in an
//! allocated block reads from the block.
//!
//! A fixed VHD is a raw disk followed by the footer; it has no magic at offset 0 and
//! opens as a raw image. Differencing VHDs (with a parent) are refused with the fix.
//! The virtual size is the footer's current size (what Hyper-V and qemu-img report for
//! the images they write). Checksums are not enforced (qemu does not either).

use crate::fields::{be32, be64};
use crate::mapped::{read_block_data, read_mapped, BlockMap};
use crate::{read_vec, BlockDevice, BlockError};
use std::fmt;
use std::sync::Arc;

/// Smallest block size accepted (one sector).
pub const VHD_MIN_BLOCK_SIZE: u32 = 512;
/// Largest block size accepted (256 MiB; Hyper-V and qemu write 2 MiB).
pub const VHD_MAX_BLOCK_SIZE: u32 = 256 << 20;
/// Most BAT entries accepted (64 MiB of table, loaded whole; 2 TiB of 2 MiB blocks is
/// one million entries).
pub const VHD_MAX_BAT_ENTRIES: u32 = 16 << 20;

const FOOTER_LEN: usize = 512;
const DYNAMIC_HEADER_LEN: usize = 1024;
const DYNAMIC_COOKIE: &[u8] = b"cxsparse";
const FOOTER_COOKIE: &[u8] = b"conectix";
const SECTOR: u64 = 512;
/// A BAT entry for a block that was never written.
const UNALLOCATED: u32 = u32::MAX;

const DISK_FIXED: u32 = 2;
const DISK_DYNAMIC: u32 = 3;
const DISK_DIFFERENCING: u32 = 4;

/// A dynamic VHD image, read-only.
pub struct VhdImage {
    file: Arc<dyn BlockDevice>,
    size: u64,
    block_size: u64,
    bitmap_len: u64,
    bat: Vec<u32>,
}

impl fmt::Debug for VhdImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VhdImage")
            .field("file", &self.file.describe())
            .field("size", &self.size)
            .field("block_size", &self.block_size)
            .finish()
    }
}

fn ctx(e: BlockError) -> BlockError {
    e.with_context("VHD")
}

/// The disk type and current size from the footer at offset 0.
fn read_footer(file: &dyn BlockDevice) -> Result<(u32, u64, u64), BlockError> {
    let f = read_vec(file, 0, FOOTER_LEN)
        .map_err(|_| BlockError::corrupt("image shorter than a VHD footer"))?;
    if !f.starts_with(FOOTER_COOKIE) {
        return Err(BlockError::corrupt("no `conectix` footer at offset 0"));
    }
    let data_offset = be64(&f, 16, "VHD footer")?;
    let current_size = be64(&f, 48, "VHD footer")?;
    let disk_type = be32(&f, 60, "VHD footer")?;
    Ok((disk_type, data_offset, current_size))
}

impl VhdImage {
    /// Open the dynamic VHD whose bytes `file` holds.
    pub fn open(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        let (disk_type, data_offset, size) = read_footer(&*file).map_err(ctx)?;
        match disk_type {
            DISK_DYNAMIC => {}
            DISK_DIFFERENCING => {
                return Err(ctx(BlockError::unsupported(
                    "differencing VHD (it needs its parent image); merge it first with \
                     `qemu-img convert -O raw`",
                )))
            }
            DISK_FIXED => {
                return Err(ctx(BlockError::corrupt(
                    "a fixed VHD footer at offset 0 (a fixed VHD has it only at the end)",
                )))
            }
            t => return Err(ctx(BlockError::unsupported(format!("VHD disk type {t}")))),
        }
        Self::open_dynamic(file, data_offset, size).map_err(ctx)
    }

    fn open_dynamic(
        file: Arc<dyn BlockDevice>,
        header_at: u64,
        size: u64,
    ) -> Result<Self, BlockError> {
        let h = read_vec(&*file, header_at, DYNAMIC_HEADER_LEN)
            .map_err(|e| e.with_context("dynamic header lies past the end of the file"))?;
        if !h.starts_with(DYNAMIC_COOKIE) {
            return Err(BlockError::corrupt("no `cxsparse` dynamic header").with_offset(header_at));
        }
        let bat_at = be64(&h, 16, "VHD dynamic header")?;
        let entries = be32(&h, 28, "VHD dynamic header")?;
        let block_size = be32(&h, 32, "VHD dynamic header")?;
        if !block_size.is_power_of_two()
            || !(VHD_MIN_BLOCK_SIZE..=VHD_MAX_BLOCK_SIZE).contains(&block_size)
        {
            return Err(BlockError::corrupt(format!(
                "block size {block_size} is not a power of two in \
                 {VHD_MIN_BLOCK_SIZE}..={VHD_MAX_BLOCK_SIZE}"
            )));
        }
        if entries > VHD_MAX_BAT_ENTRIES {
            return Err(BlockError::limit(format!(
                "{entries} BAT entries exceed the limit of {VHD_MAX_BAT_ENTRIES}"
            )));
        }
        let block_size = u64::from(block_size);
        if size.div_ceil(block_size) > u64::from(entries) {
            return Err(BlockError::corrupt(format!(
                "{entries} BAT entries cannot map a disk of {size} bytes"
            )));
        }
        let bat = read_bat(&*file, bat_at, entries)?;
        // One bit per sector, padded to whole sectors.
        let bitmap_len = (block_size / SECTOR).div_ceil(8).next_multiple_of(SECTOR);
        Ok(Self {
            file,
            size,
            block_size,
            bitmap_len,
            bat,
        })
    }
}

/// The BAT: `entries` big-endian u32 at `at` (bounded by [`VHD_MAX_BAT_ENTRIES`]).
fn read_bat(file: &dyn BlockDevice, at: u64, entries: u32) -> Result<Vec<u32>, BlockError> {
    let len = entries as usize * 4;
    let raw = read_vec(file, at, len)
        .map_err(|e| e.with_context("block allocation table lies past the end of the file"))?;
    Ok(raw
        .chunks_exact(4)
        .map(|c| <[u8; 4]>::try_from(c).map_or(UNALLOCATED, u32::from_be_bytes))
        .collect())
}

impl BlockMap for VhdImage {
    fn block_size(&self) -> u64 {
        self.block_size
    }
    fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let entry = usize::try_from(index)
            .ok()
            .and_then(|i| self.bat.get(i))
            .copied()
            .unwrap_or(UNALLOCATED);
        if entry == UNALLOCATED {
            buf.fill(0);
            return Ok(());
        }
        let at = u64::from(entry) * SECTOR + self.bitmap_len + within;
        read_block_data(&*self.file, at, buf, index)
    }
}

impl BlockDevice for VhdImage {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        read_mapped(self, self.size, offset, buf).map_err(ctx)
    }
    fn describe(&self) -> String {
        format!("dynamic VHD {}", self.file.describe())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{ErrorKind, MemDevice};

    /// A 3-block dynamic VHD (4 KiB blocks): block 0 holds 0x11, block 2 holds 0x33,
    /// block 1 is unallocated. Footer copy at 0, dynamic header at 512, BAT at 1536.
    fn image() -> Vec<u8> {
        let mut v = vec![0u8; 2048];
        v[0..8].copy_from_slice(FOOTER_COOKIE);
        v[16..24].copy_from_slice(&512u64.to_be_bytes());
        v[48..56].copy_from_slice(&(3u64 * 4096).to_be_bytes());
        v[60..64].copy_from_slice(&DISK_DYNAMIC.to_be_bytes());
        v[512..520].copy_from_slice(DYNAMIC_COOKIE);
        v[528..536].copy_from_slice(&1536u64.to_be_bytes());
        v[540..544].copy_from_slice(&3u32.to_be_bytes());
        v[544..548].copy_from_slice(&4096u32.to_be_bytes());
        // Blocks at sectors 4 and 13: 512 bytes of bitmap, then 4096 of data.
        for (i, sector) in [(0usize, 4u32), (1, u32::MAX), (2, 13)] {
            v[1536 + 4 * i..1540 + 4 * i].copy_from_slice(&sector.to_be_bytes());
        }
        v.resize(13 * 512 + 512 + 4096, 0);
        v[4 * 512 + 512..4 * 512 + 512 + 4096].fill(0x11);
        v[13 * 512 + 512..].fill(0x33);
        v
    }

    fn open(v: Vec<u8>) -> Result<VhdImage, BlockError> {
        VhdImage::open(Arc::new(MemDevice::new(v)))
    }

    #[test]
    fn reads_allocated_and_unallocated_blocks() {
        let d = open(image()).unwrap();
        assert_eq!(d.size(), 3 * 4096);
        let mut buf = vec![0u8; 3 * 4096];
        d.read_exact_at(0, &mut buf).unwrap();
        assert!(buf[..4096].iter().all(|&b| b == 0x11));
        assert!(buf[4096..8192].iter().all(|&b| b == 0));
        assert!(buf[8192..].iter().all(|&b| b == 0x33));
        assert!(d.read_exact_at(1, &mut buf).is_err());
    }

    #[test]
    fn each_bad_field_has_its_error() {
        let cases: [(&str, usize, Vec<u8>, ErrorKind); 7] = [
            (
                "differencing",
                60,
                DISK_DIFFERENCING.to_be_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "fixed at 0",
                60,
                DISK_FIXED.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "header past end",
                16,
                u64::MAX.to_be_bytes().to_vec(),
                ErrorKind::OutOfBounds,
            ),
            ("cookie", 512, b"xxsparse".to_vec(), ErrorKind::Corrupt),
            (
                "block size",
                544,
                3000u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "absurd BAT",
                540,
                u32::MAX.to_be_bytes().to_vec(),
                ErrorKind::LimitExceeded,
            ),
            (
                "BAT too small",
                540,
                2u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
        ];
        for (what, at, bytes, kind) in cases {
            let mut v = image();
            v[at..at + bytes.len()].copy_from_slice(&bytes);
            let err = open(v).expect_err(what);
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
    }

    #[test]
    fn a_block_past_the_end_of_the_file_is_an_error_not_a_panic() {
        let mut v = image();
        v[1536..1540].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
        let d = open(v).unwrap();
        let mut buf = [0u8; 16];
        let err = d.read_exact_at(0, &mut buf).unwrap_err();
        assert!(err.to_string().contains("block 0"), "{err}");
        // The BAT itself past the end.
        let mut v = image();
        v[528..536].copy_from_slice(&(1u64 << 40).to_be_bytes());
        assert!(open(v).is_err());
    }
}
