//! Where a VHDX keeps things: the two headers (the newer valid one wins), the region
//! table (where the block allocation table and the metadata are) and the metadata
//! items (block size, disk size, sector size). Every structure with a checksum is
//! checked (CRC-32C, as the format says).
//!
//! A header naming a log means the image was not closed cleanly and its log must be
//! replayed before the data is consistent. guestctl never writes to an image, so it
//! does not replay the log: it refuses the image and says how to replay it on a copy.

use crate::fields::{guid, le16, le32, le64};
use crate::{read_vec, BlockDevice, BlockError};

/// Largest virtual disk the format allows (64 TiB).
pub const VHDX_MAX_VIRTUAL_SIZE: u64 = 64 << 40;
/// Smallest and largest payload block sizes the format allows (1 MiB, 256 MiB).
pub const VHDX_MIN_BLOCK_SIZE: u32 = 1 << 20;
/// See [`VHDX_MIN_BLOCK_SIZE`].
pub const VHDX_MAX_BLOCK_SIZE: u32 = 256 << 20;
/// Most region table and metadata table entries (the format's own limit).
pub const VHDX_MAX_TABLE_ENTRIES: u32 = 2047;

const HEADER_AT: [u64; 2] = [64 << 10, 128 << 10];
const HEADER_LEN: usize = 4096;
const REGION_TABLE_AT: [u64; 2] = [192 << 10, 256 << 10];
const TABLE_LEN: usize = 64 << 10;
const ENTRY_LEN: usize = 32;
const CHECKSUM_AT: usize = 4;

/// A GUID as stored: the first three fields little-endian, the rest as written.
const fn guid_bytes(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

const BAT_REGION: [u8; 16] = guid_bytes(
    0x2DC2_7766,
    0xF623,
    0x4200,
    [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
);
const METADATA_REGION: [u8; 16] = guid_bytes(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const FILE_PARAMETERS: [u8; 16] = guid_bytes(
    0xCAA1_6737,
    0xFA36,
    0x4D43,
    [0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid_bytes(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const LOGICAL_SECTOR_SIZE: [u8; 16] = guid_bytes(
    0x8141_BF1D,
    0xA96F,
    0x4709,
    [0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F],
);
/// Items guestctl knows and does not need (disk id, physical sector size, parent
/// locator: a parent is refused through the file parameters).
const KNOWN_ITEMS: [[u8; 16]; 3] = [
    guid_bytes(
        0xBECA_12AB,
        0xB2E6,
        0x4523,
        [0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46],
    ),
    guid_bytes(
        0xCDA3_48C7,
        0x445D,
        0x4471,
        [0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56],
    ),
    guid_bytes(
        0xA8D3_5F2D,
        0xB30B,
        0x454D,
        [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
    ),
];

const FILE_PARAMS_HAS_PARENT: u32 = 1 << 1;
const REGION_REQUIRED: u32 = 1;
const ITEM_REQUIRED: u32 = 1 << 2;

/// What reading a VHDX needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VhdxLayout {
    pub(crate) size: u64,
    pub(crate) block_size: u64,
    pub(crate) logical_sector: u64,
    pub(crate) bat_at: u64,
    pub(crate) bat_len: u64,
}

/// Whether `b` (a whole structure) holds `signature` and a valid CRC-32C at byte 4.
fn valid(b: &[u8], signature: &[u8]) -> bool {
    let Ok(stored) = le32(b, CHECKSUM_AT, "checksum") else {
        return false;
    };
    let mut zeroed = b.to_vec();
    if let Some(c) = zeroed.get_mut(CHECKSUM_AT..CHECKSUM_AT + 4) {
        c.fill(0);
    }
    b.starts_with(signature) && crc32c::crc32c(&zeroed) == stored
}

/// The current header: the valid one with the higher sequence number. Refuses a
/// header whose log must be replayed.
fn check_header(file: &dyn BlockDevice) -> Result<(), BlockError> {
    let mut best: Option<(u64, Vec<u8>)> = None;
    for at in HEADER_AT {
        let Ok(h) = read_vec(file, at, HEADER_LEN) else {
            continue;
        };
        if !valid(&h, b"head") {
            continue;
        }
        let seq = le64(&h, 8, "VHDX header")?;
        if best.as_ref().is_none_or(|(s, _)| seq > *s) {
            best = Some((seq, h));
        }
    }
    let (_, h) = best.ok_or_else(|| BlockError::corrupt("neither VHDX header is valid"))?;
    if guid(&h, 48, "VHDX header")? != [0; 16] {
        return Err(BlockError::unsupported(
            "the VHDX has a log to replay (it was not closed cleanly); guestctl never \
             writes to an image, so it does not replay the log: replay it on a copy \
             (`qemu-img check -r all copy.vhdx`) or open it once in Hyper-V",
        ));
    }
    let version = le16(&h, 66, "VHDX header")?;
    if version != 1 {
        return Err(BlockError::unsupported(format!("VHDX version {version}")));
    }
    Ok(())
}

/// Where a region lies in the file: (offset, length).
type Place = (u64, u64);

/// The places of the BAT and metadata regions from the first valid region table.
fn read_regions(file: &dyn BlockDevice) -> Result<(Place, Place), BlockError> {
    let table = REGION_TABLE_AT
        .iter()
        .filter_map(|&at| read_vec(file, at, TABLE_LEN).ok())
        .find(|t| valid(t, b"regi"))
        .ok_or_else(|| BlockError::corrupt("neither VHDX region table is valid"))?;
    let w = "VHDX region table";
    let count = le32(&table, 8, w)?;
    if count > VHDX_MAX_TABLE_ENTRIES {
        return Err(BlockError::corrupt(format!("{count} region table entries")));
    }
    let (mut bat, mut meta) = (None, None);
    for i in 0..count as usize {
        let e = 16 + i * ENTRY_LEN;
        let id = guid(&table, e, w)?;
        let place = (
            le64(&table, e + 16, w)?,
            u64::from(le32(&table, e + 24, w)?),
        );
        match id {
            BAT_REGION => bat = Some(place),
            METADATA_REGION => meta = Some(place),
            _ if le32(&table, e + 28, w)? & REGION_REQUIRED != 0 => {
                return Err(BlockError::unsupported(
                    "a required VHDX region guestctl does not know",
                ))
            }
            _ => {}
        }
    }
    match (bat, meta) {
        (Some(b), Some(m)) => Ok((b, m)),
        _ => Err(BlockError::corrupt(
            "VHDX region table lacks the BAT or the metadata",
        )),
    }
}

/// The metadata items guestctl needs: (file parameters flags and block size, virtual
/// size, logical sector size).
fn read_metadata(
    file: &dyn BlockDevice,
    at: u64,
    len: u64,
) -> Result<(u32, u32, u64, u32), BlockError> {
    let w = "VHDX metadata table";
    let table = read_vec(file, at, TABLE_LEN.min(len as usize))
        .map_err(|e| e.with_context("metadata region lies past the end of the file"))?;
    if !table.starts_with(b"metadata") {
        return Err(BlockError::corrupt("no VHDX metadata table signature"));
    }
    let count = u32::from(le16(&table, 10, w)?);
    if count > VHDX_MAX_TABLE_ENTRIES {
        return Err(BlockError::corrupt(format!("{count} metadata entries")));
    }
    let item = |off: u32, n: usize| -> Result<Vec<u8>, BlockError> {
        if u64::from(off) + n as u64 > len {
            return Err(BlockError::corrupt(
                "metadata item outside the metadata region",
            ));
        }
        read_vec(file, at + u64::from(off), n)
    };
    let (mut params, mut size, mut sector) = (None, None, None);
    for i in 0..count as usize {
        let e = 32 + i * ENTRY_LEN;
        let id = guid(&table, e, w)?;
        let off = le32(&table, e + 16, w)?;
        match id {
            FILE_PARAMETERS => {
                let b = item(off, 8)?;
                params = Some((le32(&b, 0, w)?, le32(&b, 4, w)?));
            }
            VIRTUAL_DISK_SIZE => size = Some(le64(&item(off, 8)?, 0, w)?),
            LOGICAL_SECTOR_SIZE => sector = Some(le32(&item(off, 4)?, 0, w)?),
            _ if KNOWN_ITEMS.contains(&id) => {}
            _ if le32(&table, e + 24, w)? & ITEM_REQUIRED != 0 => {
                return Err(BlockError::unsupported(
                    "a required VHDX metadata item guestctl does not know",
                ))
            }
            _ => {}
        }
    }
    match (params, size, sector) {
        (Some((bs, flags)), Some(size), Some(sector)) => Ok((bs, flags, size, sector)),
        _ => Err(BlockError::corrupt(
            "VHDX metadata lacks the block size, disk size or sector size",
        )),
    }
}

/// Read and check everything about `file` a reader needs.
pub(crate) fn read_layout(file: &dyn BlockDevice) -> Result<VhdxLayout, BlockError> {
    check_header(file)?;
    let ((bat_at, bat_len), (meta_at, meta_len)) = read_regions(file)?;
    let (block_size, flags, size, sector) = read_metadata(file, meta_at, meta_len)?;
    if flags & FILE_PARAMS_HAS_PARENT != 0 {
        return Err(BlockError::unsupported(
            "a differencing VHDX (it needs its parent image); merge it first with \
             `qemu-img convert -O raw`",
        ));
    }
    if !block_size.is_power_of_two()
        || !(VHDX_MIN_BLOCK_SIZE..=VHDX_MAX_BLOCK_SIZE).contains(&block_size)
    {
        return Err(BlockError::corrupt(format!(
            "block size {block_size} invalid"
        )));
    }
    if sector != 512 && sector != 4096 {
        return Err(BlockError::corrupt(format!(
            "logical sector size {sector} invalid"
        )));
    }
    if size > VHDX_MAX_VIRTUAL_SIZE {
        return Err(BlockError::limit(format!(
            "virtual size {size} exceeds the format's limit of {VHDX_MAX_VIRTUAL_SIZE} bytes"
        )));
    }
    Ok(VhdxLayout {
        size,
        block_size: u64::from(block_size),
        logical_sector: u64::from(sector),
        bat_at,
        bat_len,
    })
}
