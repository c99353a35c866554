//! VHDX images (Hyper-V, Azure), fixed and dynamic.
//!
//! [`read_layout`](crate::vhdx_layout) finds the block size, the disk size and the
//! block allocation table (BAT). The BAT interleaves one sector-bitmap entry after
//! every `chunk ratio` payload entries; each payload entry is a state (low 3 bits) and
//! a file offset in MiB (bits 20..64). A fully present block reads from the file; a
//! block not present, undefined, zeroed or unmapped reads as zeros. Partially present
//! blocks exist only in differencing images, which are refused.

use crate::mapped::{read_block_data, read_mapped, BlockMap};
use crate::vhdx_layout::{read_layout, VhdxLayout};
use crate::{read_vec, BlockDevice, BlockError};
use std::fmt;
use std::sync::Arc;

/// Most BAT entries accepted (64 MiB of table, loaded whole: 8 TiB in 1 MiB blocks,
/// 256 TiB in the usual 32 MiB blocks).
pub const VHDX_MAX_BAT_ENTRIES: u64 = 8 << 20;

const STATE_MASK: u64 = 7;
const OFFSET_MASK: u64 = !((1 << 20) - 1);
const FULLY_PRESENT: u64 = 6;
/// States that read as zeros: not present, undefined, zero, unmapped.
const READS_AS_ZERO: [u64; 4] = [0, 1, 2, 3];
/// Sectors one sector bitmap block describes (2^23).
const SECTORS_PER_BITMAP: u64 = 1 << 23;
/// Below this, offsets are the headers and region tables, never payload.
const FIRST_PAYLOAD_OFFSET: u64 = 1 << 20;

/// A VHDX image, read-only.
pub struct VhdxImage {
    file: Arc<dyn BlockDevice>,
    size: u64,
    block_size: u64,
    chunk_ratio: u64,
    bat: Vec<u64>,
}

impl fmt::Debug for VhdxImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VhdxImage")
            .field("file", &self.file.describe())
            .field("size", &self.size)
            .field("block_size", &self.block_size)
            .finish()
    }
}

fn ctx(e: BlockError) -> BlockError {
    e.with_context("VHDX")
}

/// How many BAT entries a disk of this layout has: its payload blocks plus one bitmap
/// entry per full chunk before the last.
fn bat_entries(l: &VhdxLayout, chunk_ratio: u64) -> u64 {
    let blocks = l.size.div_ceil(l.block_size);
    blocks + blocks.saturating_sub(1) / chunk_ratio
}

impl VhdxImage {
    /// Open the VHDX whose bytes `file` holds.
    pub fn open(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        Self::open_inner(file).map_err(ctx)
    }

    fn open_inner(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        let l = read_layout(&*file)?;
        // block_size <= 2^28 and logical_sector >= 2^9: the ratio is at least 2^4.
        let chunk_ratio = SECTORS_PER_BITMAP * l.logical_sector / l.block_size;
        let entries = bat_entries(&l, chunk_ratio);
        if entries > VHDX_MAX_BAT_ENTRIES {
            return Err(BlockError::limit(format!(
                "{entries} BAT entries exceed the limit of {VHDX_MAX_BAT_ENTRIES}"
            )));
        }
        if entries * 8 > l.bat_len {
            return Err(BlockError::corrupt(format!(
                "BAT region of {} bytes cannot hold {entries} entries",
                l.bat_len
            )));
        }
        let raw = read_vec(&*file, l.bat_at, entries as usize * 8)
            .map_err(|e| e.with_context("BAT lies past the end of the file"))?;
        let bat = raw
            .chunks_exact(8)
            .map(|c| <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes))
            .collect();
        Ok(Self {
            file,
            size: l.size,
            block_size: l.block_size,
            chunk_ratio,
            bat,
        })
    }
}

impl BlockMap for VhdxImage {
    fn block_size(&self) -> u64 {
        self.block_size
    }
    fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let entry = usize::try_from(index + index / self.chunk_ratio)
            .ok()
            .and_then(|i| self.bat.get(i))
            .copied()
            .unwrap_or(0);
        let state = entry & STATE_MASK;
        if READS_AS_ZERO.contains(&state) {
            buf.fill(0);
            return Ok(());
        }
        let at = entry & OFFSET_MASK;
        if state != FULLY_PRESENT || at < FIRST_PAYLOAD_OFFSET {
            return Err(BlockError::corrupt(format!(
                "BAT entry of block {index} has state {state} at offset {at}"
            )));
        }
        read_block_data(&*self.file, at + within, buf, index)
    }
}

impl BlockDevice for VhdxImage {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        read_mapped(self, self.size, offset, buf).map_err(ctx)
    }
    fn describe(&self) -> String {
        format!("VHDX {}", self.file.describe())
    }
}
