//! The read loop shared by the block-mapped image formats (VHD, VDI, VMDK, VHDX): the
//! virtual disk is cut into equal blocks, and each format says where one block's bytes
//! are (or that it reads as zeros).

use crate::{check_bounds, BlockDevice, BlockError};

/// A virtual disk made of equal blocks, each stored somewhere in an image file.
pub(crate) trait BlockMap {
    /// The block size in bytes (never 0).
    fn block_size(&self) -> u64;

    /// Fill `buf` with the bytes at `within` of block `index`. `within + buf.len()` never
    /// passes the end of the block.
    fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError>;
}

/// Read `buf.len()` bytes at `offset` of a disk of `size` bytes mapped by `map`, one
/// block piece at a time.
pub(crate) fn read_mapped(
    map: &dyn BlockMap,
    size: u64,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), BlockError> {
    check_bounds(offset, buf.len(), size)?;
    let block_size = map.block_size();
    let mut pos = offset;
    let mut rest = buf;
    // Bounded: every step consumes at least one byte (`within < block_size`).
    while !rest.is_empty() {
        let index = pos / block_size;
        let within = pos % block_size;
        let room = usize::try_from(block_size - within).unwrap_or(usize::MAX);
        let (piece, tail) = rest.split_at_mut(room.min(rest.len()));
        map.read_in_block(index, within, piece)
            .map_err(|e| e.with_offset(pos))?;
        pos += piece.len() as u64;
        rest = tail;
    }
    Ok(())
}

/// Read `buf.len()` bytes at `at` of `file`, or say which block of the image points
/// past the end of the file.
pub(crate) fn read_block_data(
    file: &dyn BlockDevice,
    at: u64,
    buf: &mut [u8],
    index: u64,
) -> Result<(), BlockError> {
    file.read_exact_at(at, buf)
        .map_err(|e| e.with_context(format!("data of block {index} (at byte {at} of the file)")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Block i holds the byte i everywhere.
    struct Stripes;
    impl BlockMap for Stripes {
        fn block_size(&self) -> u64 {
            4
        }
        fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            assert!(within + buf.len() as u64 <= 4);
            buf.fill(index as u8);
            Ok(())
        }
    }

    #[test]
    fn reads_split_at_block_edges() {
        let mut buf = [0u8; 7];
        read_mapped(&Stripes, 16, 3, &mut buf).unwrap();
        assert_eq!(buf, [0, 1, 1, 1, 1, 2, 2]);
        assert!(read_mapped(&Stripes, 16, 10, &mut buf).is_err());
        read_mapped(&Stripes, 16, 16, &mut []).unwrap();
    }
}
