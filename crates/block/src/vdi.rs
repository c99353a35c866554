//! VirtualBox VDI images, dynamic ("normal") and static ("fixed").
//!
//! The header (little-endian, signature `0xbeda107f` at 0x40) gives the disk size, the
//! block size, the block map's offset and the data's offset. The block map holds one
//! u32 per block: the block's index in the data area, or `0xffffffff` (never written)
//! or `0xfffffffe` (discarded), both of which read as zeros. A static image is the same
//! with every block allocated. Undo and differencing images need a parent and are
//! refused.

use crate::fields::{le32, le64};
use crate::mapped::{read_block_data, read_mapped, BlockMap};
use crate::{read_vec, BlockDevice, BlockError};
use std::fmt;
use std::sync::Arc;

/// Smallest block size accepted (one sector).
pub const VDI_MIN_BLOCK_SIZE: u32 = 512;
/// Largest block size accepted (64 MiB; VirtualBox and qemu write 1 MiB).
pub const VDI_MAX_BLOCK_SIZE: u32 = 64 << 20;
/// Most block map entries accepted (64 MiB of map, loaded whole; 2 TiB of 1 MiB blocks
/// is two million).
pub const VDI_MAX_BLOCKS: u32 = 16 << 20;

const HEADER_LEN: usize = 512;
const VERSION_1_1: u32 = 0x0001_0001;
const TYPE_DYNAMIC: u32 = 1;
const TYPE_STATIC: u32 = 2;
const UNALLOCATED: u32 = 0xffff_ffff;
const DISCARDED: u32 = 0xffff_fffe;

/// A VDI image, read-only.
pub struct VdiImage {
    file: Arc<dyn BlockDevice>,
    size: u64,
    block_size: u64,
    /// Bytes before each block's data (`block_extra`).
    extra: u64,
    data_at: u64,
    map: Vec<u32>,
}

impl fmt::Debug for VdiImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VdiImage")
            .field("file", &self.file.describe())
            .field("size", &self.size)
            .field("block_size", &self.block_size)
            .finish()
    }
}

fn ctx(e: BlockError) -> BlockError {
    e.with_context("VDI")
}

/// The header fields guestctl uses.
struct Header {
    map_at: u64,
    data_at: u64,
    size: u64,
    block_size: u32,
    extra: u32,
    blocks: u32,
}

fn parse_header(h: &[u8]) -> Result<Header, BlockError> {
    let w = "VDI header";
    let version = le32(h, 0x44, w)?;
    if version != VERSION_1_1 {
        return Err(BlockError::unsupported(format!("VDI version {version:#x}")));
    }
    match le32(h, 0x4c, w)? {
        TYPE_DYNAMIC | TYPE_STATIC => {}
        t => {
            return Err(BlockError::unsupported(format!(
                "VDI image type {t} (undo or differencing: it needs its parent image; \
                 merge it first with `VBoxManage clonemedium`)"
            )))
        }
    }
    Ok(Header {
        map_at: u64::from(le32(h, 0x154, w)?),
        data_at: u64::from(le32(h, 0x158, w)?),
        size: le64(h, 0x170, w)?,
        block_size: le32(h, 0x178, w)?,
        extra: le32(h, 0x17c, w)?,
        blocks: le32(h, 0x180, w)?,
    })
}

fn validate(h: &Header) -> Result<(), BlockError> {
    let bs = h.block_size;
    if !bs.is_power_of_two() || !(VDI_MIN_BLOCK_SIZE..=VDI_MAX_BLOCK_SIZE).contains(&bs) {
        return Err(BlockError::corrupt(format!(
            "block size {bs} is not a power of two in {VDI_MIN_BLOCK_SIZE}..={VDI_MAX_BLOCK_SIZE}"
        )));
    }
    if h.extra > bs {
        return Err(BlockError::corrupt(format!(
            "block extra {} larger than the block size {bs}",
            h.extra
        )));
    }
    if h.blocks > VDI_MAX_BLOCKS {
        return Err(BlockError::limit(format!(
            "{} blocks exceed the limit of {VDI_MAX_BLOCKS}",
            h.blocks
        )));
    }
    if h.size.div_ceil(u64::from(bs)) > u64::from(h.blocks) {
        return Err(BlockError::corrupt(format!(
            "{} blocks cannot hold a disk of {} bytes",
            h.blocks, h.size
        )));
    }
    Ok(())
}

impl VdiImage {
    /// Open the VDI image whose bytes `file` holds.
    pub fn open(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        Self::open_inner(file).map_err(ctx)
    }

    fn open_inner(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        let head = read_vec(&*file, 0, HEADER_LEN)
            .map_err(|_| BlockError::corrupt("image shorter than a VDI header"))?;
        let h = parse_header(&head)?;
        validate(&h)?;
        let raw = read_vec(&*file, h.map_at, h.blocks as usize * 4)
            .map_err(|e| e.with_context("block map lies past the end of the file"))?;
        let map = raw
            .chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(UNALLOCATED, u32::from_le_bytes))
            .collect();
        Ok(Self {
            file,
            size: h.size,
            block_size: u64::from(h.block_size),
            extra: u64::from(h.extra),
            data_at: h.data_at,
            map,
        })
    }
}

impl BlockMap for VdiImage {
    fn block_size(&self) -> u64 {
        self.block_size
    }
    fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let entry = usize::try_from(index)
            .ok()
            .and_then(|i| self.map.get(i))
            .copied()
            .unwrap_or(UNALLOCATED);
        if entry == UNALLOCATED || entry == DISCARDED {
            buf.fill(0);
            return Ok(());
        }
        // entry < 2^32 and block_size + extra <= 2^27: no overflow before the data offset.
        let stride = self.block_size + self.extra;
        let at = (u64::from(entry) * stride + self.extra + within)
            .checked_add(self.data_at)
            .ok_or_else(|| BlockError::corrupt(format!("block {index} offset overflows")))?;
        read_block_data(&*self.file, at, buf, index)
    }
}

impl BlockDevice for VdiImage {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        read_mapped(self, self.size, offset, buf).map_err(ctx)
    }
    fn describe(&self) -> String {
        format!("VDI {}", self.file.describe())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{ErrorKind, MemDevice};

    /// A 3-block dynamic VDI (4 KiB blocks): map at 512, data at 1024; block 0 is data
    /// slot 1 (0x22), block 1 unallocated, block 2 discarded.
    fn image() -> Vec<u8> {
        let mut v = vec![0u8; 1024 + 2 * 4096];
        v[0x40..0x44].copy_from_slice(&0xbeda_107fu32.to_le_bytes());
        v[0x44..0x48].copy_from_slice(&VERSION_1_1.to_le_bytes());
        v[0x4c..0x50].copy_from_slice(&TYPE_DYNAMIC.to_le_bytes());
        v[0x154..0x158].copy_from_slice(&512u32.to_le_bytes());
        v[0x158..0x15c].copy_from_slice(&1024u32.to_le_bytes());
        v[0x170..0x178].copy_from_slice(&(3u64 * 4096).to_le_bytes());
        v[0x178..0x17c].copy_from_slice(&4096u32.to_le_bytes());
        v[0x180..0x184].copy_from_slice(&3u32.to_le_bytes());
        for (i, e) in [1u32, UNALLOCATED, DISCARDED].into_iter().enumerate() {
            v[512 + 4 * i..516 + 4 * i].copy_from_slice(&e.to_le_bytes());
        }
        v[1024..1024 + 4096].fill(0x11);
        v[1024 + 4096..].fill(0x22);
        v
    }

    fn open(v: Vec<u8>) -> Result<VdiImage, BlockError> {
        VdiImage::open(Arc::new(MemDevice::new(v)))
    }

    #[test]
    fn reads_allocated_unallocated_and_discarded_blocks() {
        let d = open(image()).unwrap();
        let mut buf = vec![0u8; 3 * 4096];
        d.read_exact_at(0, &mut buf).unwrap();
        assert!(buf[..4096].iter().all(|&b| b == 0x22));
        assert!(buf[4096..].iter().all(|&b| b == 0));
    }

    #[test]
    fn each_bad_field_has_its_error() {
        let cases: [(&str, usize, u64, ErrorKind); 7] = [
            ("version", 0x44, 0x0001_0000, ErrorKind::Unsupported),
            ("differencing", 0x4c, 4, ErrorKind::Unsupported),
            ("block size", 0x178, 4097, ErrorKind::Corrupt),
            ("extra", 0x17c, 8192, ErrorKind::Corrupt),
            (
                "absurd blocks",
                0x180,
                u64::from(u32::MAX),
                ErrorKind::LimitExceeded,
            ),
            ("too few blocks", 0x180, 2, ErrorKind::Corrupt),
            ("map past end", 0x154, 0xffff_0000, ErrorKind::OutOfBounds),
        ];
        for (what, at, value, kind) in cases {
            let mut v = image();
            v[at..at + 4].copy_from_slice(&(value as u32).to_le_bytes());
            let err = open(v).expect_err(what);
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
    }

    #[test]
    fn a_block_past_the_end_of_the_file_is_an_error() {
        let mut v = image();
        v[512..516].copy_from_slice(&0x00ff_fff0u32.to_le_bytes());
        let d = open(v).unwrap();
        let err = d.read_exact_at(0, &mut [0u8; 8]).unwrap_err();
        assert!(err.to_string().contains("block 0"), "{err}");
    }
}
