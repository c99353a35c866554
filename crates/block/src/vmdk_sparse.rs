//! VMDK hosted sparse extents (`KDMV`): monolithicSparse images, the extents of
//! twoGbMaxExtentSparse images, and streamOptimized images with compressed grains.
//!
//! The header (little-endian) gives the capacity and grain size in sectors and the
//! grain directory's offset. A directory entry is the sector of a grain table; a grain
//! table entry is the sector of a grain (0: never written, 1: written as zeros). In a
//! streamOptimized image the header at the start says the directory is at the end of
//! the file (`gdOffset = -1`): the real header is the footer, 1 KiB before the end; and
//! each grain is a 12-byte marker (LBA, compressed length) followed by a zlib stream
//! that inflates to at most one grain (a longer stream is an error, not an allocation).
//! The last inflated grain is kept, as reads come in pieces smaller than a grain.

use crate::fields::{le16, le32, le64};
use crate::mapped::{read_block_data, read_mapped, BlockMap};
use crate::{read_vec, BlockDevice, BlockError};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Largest grain accepted (2 MiB; VMware and qemu write 64 KiB). A compressed grain is
/// inflated whole, so this bounds the memory one read takes.
pub const VMDK_MAX_GRAIN_SIZE: u64 = 2 << 20;
/// Most entries in one grain table (qemu's own limit; VMware writes 512).
pub const VMDK_MAX_GT_ENTRIES: u32 = 512;
/// Most grain directory entries (16 MiB of directory, loaded whole; a 2 TiB disk of
/// 64 KiB grains needs 65 536).
pub const VMDK_MAX_GD_ENTRIES: u64 = 4 << 20;
/// How much longer than a grain its compressed form may be (deflate's worst case on
/// incompressible data is a few bytes per 16 KiB, plus the zlib wrapper).
pub const VMDK_COMPRESSED_SLACK: u64 = 4096;

const MAGIC: &[u8] = b"KDMV";
const HEADER_LEN: usize = 512;
const SECTOR: u64 = 512;
/// `gdOffset` of a streamOptimized header whose directory is found via the footer.
const GD_AT_END: u64 = u64::MAX;
/// The footer header sits this far before the end of the file (then the end marker).
const FOOTER_FROM_END: u64 = 1024;
const FLAG_COMPRESSED: u32 = 1 << 16;
const FLAG_MARKERS: u32 = 1 << 17;
const COMPRESSION_DEFLATE: u16 = 1;
/// Grain table entry of a grain written as zeros.
const GTE_ZERO: u32 = 1;
/// Bytes before a compressed grain's data: LBA (u64) and length (u32).
const GRAIN_MARKER_LEN: u64 = 12;

/// The header fields guestctl uses.
#[derive(Debug, Clone, Copy)]
struct Header {
    flags: u32,
    capacity: u64,
    grain_sectors: u64,
    gtes_per_gt: u32,
    gd_offset: u64,
    compression: u16,
}

fn parse_header(h: &[u8]) -> Result<Header, BlockError> {
    let w = "VMDK sparse header";
    if !h.starts_with(MAGIC) {
        return Err(BlockError::corrupt("no `KDMV` sparse extent header"));
    }
    let version = le32(h, 4, w)?;
    if !(1..=3).contains(&version) {
        return Err(BlockError::unsupported(format!(
            "VMDK sparse version {version}"
        )));
    }
    let compression = le16(h, 77, w)?;
    Ok(Header {
        flags: le32(h, 8, w)?,
        capacity: le64(h, 12, w)?,
        grain_sectors: le64(h, 20, w)?,
        gtes_per_gt: le32(h, 44, w)?,
        gd_offset: le64(h, 56, w)?,
        compression,
    })
}

impl Header {
    fn compressed(&self) -> bool {
        self.flags & FLAG_COMPRESSED != 0
    }

    /// Check the fields that size tables and buffers; return (grain bytes, GD entries).
    fn validate(&self) -> Result<(u64, u64), BlockError> {
        let grain = self.grain_sectors.saturating_mul(SECTOR);
        if self.grain_sectors == 0 || grain > VMDK_MAX_GRAIN_SIZE {
            return Err(BlockError::corrupt(format!(
                "grain of {} sectors outside 1..={} sectors",
                self.grain_sectors,
                VMDK_MAX_GRAIN_SIZE / SECTOR
            )));
        }
        if !(1..=VMDK_MAX_GT_ENTRIES).contains(&self.gtes_per_gt) {
            return Err(BlockError::corrupt(format!(
                "{} entries per grain table outside 1..={VMDK_MAX_GT_ENTRIES}",
                self.gtes_per_gt
            )));
        }
        if self.compressed() {
            if self.compression != COMPRESSION_DEFLATE {
                return Err(BlockError::unsupported(format!(
                    "VMDK compression algorithm {}",
                    self.compression
                )));
            }
            if self.flags & FLAG_MARKERS == 0 {
                return Err(BlockError::unsupported("compressed grains without markers"));
            }
        }
        let per_gt = self.grain_sectors * u64::from(self.gtes_per_gt);
        let gd_entries = self.capacity.div_ceil(per_gt);
        if gd_entries > VMDK_MAX_GD_ENTRIES {
            return Err(BlockError::limit(format!(
                "capacity of {} sectors needs {gd_entries} grain directory entries, more \
                 than the limit of {VMDK_MAX_GD_ENTRIES}",
                self.capacity
            )));
        }
        Ok((grain, gd_entries))
    }
}

/// A VMDK sparse extent, read-only.
pub struct VmdkSparse {
    file: Arc<dyn BlockDevice>,
    size: u64,
    grain: u64,
    gtes_per_gt: u64,
    compressed: bool,
    gd: Vec<u32>,
    /// The last inflated grain: (grain index, bytes).
    last: Mutex<Option<(u64, Vec<u8>)>>,
}

impl fmt::Debug for VmdkSparse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VmdkSparse")
            .field("file", &self.file.describe())
            .field("size", &self.size)
            .field("grain", &self.grain)
            .field("compressed", &self.compressed)
            .finish()
    }
}

fn ctx(e: BlockError) -> BlockError {
    e.with_context("VMDK sparse extent")
}

/// The header to use: the one at the start, or the footer's when the start says so.
fn read_header(file: &dyn BlockDevice) -> Result<Header, BlockError> {
    let head = read_vec(file, 0, HEADER_LEN)
        .map_err(|_| BlockError::corrupt("file shorter than a VMDK sparse header"))?;
    let h = parse_header(&head)?;
    if h.gd_offset != GD_AT_END {
        return Ok(h);
    }
    let at = file
        .size()
        .checked_sub(FOOTER_FROM_END)
        .ok_or_else(|| BlockError::corrupt("no room for the streamOptimized footer"))?;
    let footer = read_vec(file, at, HEADER_LEN)?;
    let f = parse_header(&footer).map_err(|e| e.with_context("footer"))?;
    if f.gd_offset == GD_AT_END {
        return Err(BlockError::corrupt(
            "the footer does not give the grain directory",
        ));
    }
    Ok(f)
}

impl VmdkSparse {
    /// Open the sparse extent whose bytes `file` holds.
    pub fn open(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        Self::open_inner(file).map_err(ctx)
    }

    fn open_inner(file: Arc<dyn BlockDevice>) -> Result<Self, BlockError> {
        let h = read_header(&*file)?;
        let (grain, gd_entries) = h.validate()?;
        let size = h
            .capacity
            .checked_mul(SECTOR)
            .ok_or_else(|| BlockError::corrupt("capacity overflows"))?;
        let gd_at = h
            .gd_offset
            .checked_mul(SECTOR)
            .ok_or_else(|| BlockError::corrupt("grain directory offset overflows"))?;
        // Bounded by VMDK_MAX_GD_ENTRIES.
        let raw = read_vec(&*file, gd_at, gd_entries as usize * 4)
            .map_err(|e| e.with_context("grain directory lies past the end of the file"))?;
        let gd = raw
            .chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(0, u32::from_le_bytes))
            .collect();
        Ok(Self {
            file,
            size,
            grain,
            gtes_per_gt: u64::from(h.gtes_per_gt),
            compressed: h.compressed(),
            gd,
            last: Mutex::new(None),
        })
    }

    /// The grain table entry of grain `index` (0: unallocated).
    fn grain_entry(&self, index: u64) -> Result<u32, BlockError> {
        let gt = usize::try_from(index / self.gtes_per_gt)
            .ok()
            .and_then(|i| self.gd.get(i))
            .copied()
            .unwrap_or(0);
        if gt == 0 {
            return Ok(0);
        }
        let at = u64::from(gt) * SECTOR + (index % self.gtes_per_gt) * 4;
        let mut e = [0u8; 4];
        self.file
            .read_exact_at(at, &mut e)
            .map_err(|e| e.with_context(format!("grain table of grain {index}")))?;
        Ok(u32::from_le_bytes(e))
    }

    /// Inflate the compressed grain at `sector` into exactly one grain of bytes.
    fn inflate(&self, index: u64, sector: u32) -> Result<Vec<u8>, BlockError> {
        let at = u64::from(sector) * SECTOR;
        let mut marker = [0u8; GRAIN_MARKER_LEN as usize];
        read_block_data(&*self.file, at, &mut marker, index)?;
        let len = u64::from(le32(&marker, 8, "grain marker")?);
        if len > self.grain + VMDK_COMPRESSED_SLACK {
            return Err(BlockError::corrupt(format!(
                "compressed grain {index} of {len} bytes is larger than a grain of {}",
                self.grain
            )));
        }
        // Bounded just above: at most VMDK_MAX_GRAIN_SIZE + VMDK_COMPRESSED_SLACK.
        let mut packed = vec![0u8; len as usize];
        read_block_data(&*self.file, at + GRAIN_MARKER_LEN, &mut packed, index)?;
        // The output buffer is the bound: a stream inflating past one grain fails.
        let mut out = vec![0u8; self.grain as usize];
        miniz_oxide::inflate::decompress_slice_iter_to_slice(
            &mut out,
            std::iter::once(packed.as_slice()),
            true,
            false,
        )
        .map_err(|s| {
            BlockError::corrupt(format!("compressed grain {index} does not inflate ({s:?})"))
        })?;
        Ok(out)
    }

    fn read_compressed(
        &self,
        index: u64,
        sector: u32,
        within: u64,
        buf: &mut [u8],
    ) -> Result<(), BlockError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let hit = matches!(&*last, Some((i, _)) if *i == index);
        if !hit {
            *last = Some((index, self.inflate(index, sector)?));
        }
        let src = last
            .as_ref()
            .and_then(|(_, g)| g.get(within as usize..within as usize + buf.len()))
            .ok_or_else(|| BlockError::corrupt("read outside an inflated grain"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl BlockMap for VmdkSparse {
    fn block_size(&self) -> u64 {
        self.grain
    }
    fn read_in_block(&self, index: u64, within: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let sector = self.grain_entry(index)?;
        if sector == 0 || sector == GTE_ZERO {
            buf.fill(0);
            return Ok(());
        }
        if self.compressed {
            return self.read_compressed(index, sector, within, buf);
        }
        read_block_data(&*self.file, u64::from(sector) * SECTOR + within, buf, index)
    }
}

impl BlockDevice for VmdkSparse {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        read_mapped(self, self.size, offset, buf).map_err(ctx)
    }
    fn describe(&self) -> String {
        format!("VMDK sparse extent {}", self.file.describe())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{ErrorKind, MemDevice};
    use miniz_oxide::deflate::compress_to_vec_zlib;

    const GRAIN: usize = 1024;

    /// A 4-grain disk (2-sector grains, 2 entries per table: 2 tables). Header at 0,
    /// directory at sector 1, tables at sectors 2 and 3, grains from sector 4.
    /// Grain 0 holds `g0`, grain 1 is a zero grain, table 1 is absent.
    fn image(compressed: bool, g0: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 4 * 512];
        v[0..4].copy_from_slice(MAGIC);
        v[4..8].copy_from_slice(&1u32.to_le_bytes());
        let flags = if compressed {
            FLAG_COMPRESSED | FLAG_MARKERS
        } else {
            0
        };
        v[8..12].copy_from_slice(&flags.to_le_bytes());
        v[12..20].copy_from_slice(&8u64.to_le_bytes()); // capacity: 8 sectors
        v[20..28].copy_from_slice(&2u64.to_le_bytes()); // grain: 2 sectors
        v[44..48].copy_from_slice(&2u32.to_le_bytes()); // 2 entries per table
        v[56..64].copy_from_slice(&1u64.to_le_bytes()); // directory at sector 1
        v[77..79].copy_from_slice(&COMPRESSION_DEFLATE.to_le_bytes());
        v[512..516].copy_from_slice(&2u32.to_le_bytes()); // table 0 at sector 2
        v[1024..1028].copy_from_slice(&4u32.to_le_bytes()); // grain 0 at sector 4
        v[1028..1032].copy_from_slice(&GTE_ZERO.to_le_bytes());
        if compressed {
            let packed = compress_to_vec_zlib(g0, 6);
            v.extend_from_slice(&0u64.to_le_bytes());
            v.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            v.extend_from_slice(&packed);
        } else {
            v.extend_from_slice(g0);
        }
        v
    }

    fn open(v: Vec<u8>) -> Result<VmdkSparse, BlockError> {
        VmdkSparse::open(Arc::new(MemDevice::new(v)))
    }

    fn pattern() -> Vec<u8> {
        (0..GRAIN).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn plain_and_compressed_grains_read_back() {
        for compressed in [false, true] {
            let d = open(image(compressed, &pattern())).unwrap();
            assert_eq!(d.size(), 8 * 512);
            let mut all = vec![0xaau8; 8 * 512];
            // In pieces, so the inflated grain is reused.
            for (i, c) in all.chunks_mut(100).enumerate() {
                d.read_exact_at(i as u64 * 100, c).unwrap();
            }
            assert_eq!(&all[..GRAIN], &pattern()[..]);
            assert!(all[GRAIN..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn a_decompression_bomb_stops_at_one_grain() {
        // 1 MiB of zeros compresses to about 1 KiB and would inflate to 1024 grains.
        let d = open(image(true, &vec![0u8; 1 << 20])).unwrap();
        let err = d.read_exact_at(0, &mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(err.to_string().contains("does not inflate"), "{err}");
    }

    #[test]
    fn each_bad_field_has_its_error() {
        let cases: [(&str, usize, Vec<u8>, ErrorKind); 7] = [
            ("magic", 0, b"KDMW".to_vec(), ErrorKind::Corrupt),
            (
                "version",
                4,
                9u32.to_le_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "grain zero",
                20,
                0u64.to_le_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "grain huge",
                20,
                (1u64 << 40).to_le_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "gtes",
                44,
                100_000u32.to_le_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "capacity",
                12,
                (1u64 << 60).to_le_bytes().to_vec(),
                ErrorKind::LimitExceeded,
            ),
            (
                "gd past end",
                56,
                (1u64 << 30).to_le_bytes().to_vec(),
                ErrorKind::OutOfBounds,
            ),
        ];
        for (what, at, bytes, kind) in cases {
            let mut v = image(false, &pattern());
            v[at..at + bytes.len()].copy_from_slice(&bytes);
            let err = open(v).expect_err(what);
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
        let mut v = image(true, &pattern());
        v[77..79].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(open(v).unwrap_err().kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn tables_and_markers_past_the_end_fail_on_read() {
        let mut v = image(false, &pattern());
        v[512..516].copy_from_slice(&u32::MAX.to_le_bytes()); // table far away
        let d = open(v).unwrap();
        assert!(d.read_exact_at(0, &mut [0u8; 8]).is_err());
        let mut v = image(true, &pattern());
        v[2048 + 8..2048 + 12].copy_from_slice(&u32::MAX.to_le_bytes()); // absurd length
        let err = open(v)
            .unwrap()
            .read_exact_at(0, &mut [0u8; 8])
            .unwrap_err();
        assert!(err.to_string().contains("larger than a grain"), "{err}");
    }

    #[test]
    fn stream_optimized_footer_gives_the_directory() {
        let mut v = image(false, &pattern());
        let footer = v[..512].to_vec();
        v[56..64].copy_from_slice(&GD_AT_END.to_le_bytes());
        v.extend_from_slice(&footer);
        v.extend_from_slice(&[0u8; 512]); // end-of-stream marker
        let d = open(v.clone()).unwrap();
        let mut g = vec![0u8; GRAIN];
        d.read_exact_at(0, &mut g).unwrap();
        assert_eq!(g, pattern());
        // A footer that also says "at the end" is refused.
        let n = v.len();
        v[n - 1024 + 56..n - 1024 + 64].copy_from_slice(&GD_AT_END.to_le_bytes());
        assert_eq!(open(v).unwrap_err().kind(), ErrorKind::Corrupt);
    }
}
