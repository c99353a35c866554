//! Recognise what a device holds by its magic numbers, naming it as `blkid` does.
//!
//! Reads the first 4 KiB; only if nothing is found there, the btrfs superblock at
//! 64 KiB and up to [`PROBE_HEAD_LEN`] bytes for a swap signature at the end of a
//! large page. For NTFS it also reads the `$Volume` file record for the label and
//! version (through the `ntfs` crate, with a small read budget).

use crate::FsError;
use guestctl_block::BlockDevice;

/// What [`probe`] found: the type and identity of a filesystem (or other
/// recognisable content such as swap, LUKS or an LVM physical volume).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Probed {
    /// The type as `blkid` names it (`TYPE=`): `ext2`, `ext3`, `ext4`, `vfat`,
    /// `ntfs`, `xfs`, `btrfs`, `swap`, `crypto_LUKS`, `LVM2_member`, `jbd`.
    pub fs_type: String,
    /// The UUID as `blkid` prints it (`UUID=`).
    pub uuid: Option<String>,
    /// The label (`LABEL=`).
    pub label: Option<String>,
    /// The version as `blkid` prints it (`VERSION=`), where there is one.
    pub version: Option<String>,
}

/// Bytes read from the start of the device: the largest page size at whose end a
/// swap signature is looked for (64 KiB, as on arm64/ppc64 with 64 KiB pages).
pub const PROBE_HEAD_LEN: usize = 65536;
/// The first read: every signature but btrfs and large-page swap lies in it.
const FIRST_READ_LEN: usize = 4096;
/// Offset of the btrfs primary superblock.
const BTRFS_SB_OFFSET: u64 = 0x10000;
/// Size of the part of the btrfs superblock we read (magic, fsid, label).
const BTRFS_SB_READ_LEN: usize = 0x300;

const LUKS_MAGIC: &[u8] = b"LUKS\xba\xbe";
const XFS_MAGIC: &[u8] = b"XFSB";
const BTRFS_MAGIC: &[u8] = b"_BHRfS_M";
const EXT_MAGIC: u16 = 0xEF53;

/// Recognise the content of `dev`. `Ok(None)` means nothing known was found (also
/// for a device too small to hold any of the signatures); an error means the
/// device could not be read.
pub fn probe(dev: &dyn BlockDevice) -> Result<Option<Probed>, FsError> {
    let size = dev.size();
    // Almost everything is decided by the first 4 KiB; only swap with pages larger
    // than 4 KiB and btrfs need more.
    let first_len = usize::try_from(size.min(FIRST_READ_LEN as u64)).unwrap_or(FIRST_READ_LEN);
    let mut head = vec![0u8; first_len];
    dev.read_exact_at(0, &mut head)
        .map_err(|e| block_err(e, "reading the first sectors"))?;

    if let Some(p) = probe_luks(&head) {
        return Ok(Some(p));
    }
    if let Some(p) = probe_lvm2(&head) {
        return Ok(Some(p));
    }
    if let Some(p) = probe_xfs(&head) {
        return Ok(Some(p));
    }
    if head.get(3..11) == Some(b"NTFS    ") {
        if let Some(p) = crate::ntfs::probe_ntfs(dev, &head) {
            return Ok(Some(p));
        }
    }
    if let Some(p) = probe_ext(&head) {
        return Ok(Some(p));
    }
    if let Some(p) = probe_fat(&head, size) {
        return Ok(Some(p));
    }
    if size >= BTRFS_SB_OFFSET.saturating_add(BTRFS_SB_READ_LEN as u64) {
        let mut sb = vec![0u8; BTRFS_SB_READ_LEN];
        dev.read_exact_at(BTRFS_SB_OFFSET, &mut sb)
            .map_err(|e| block_err(e, "reading the btrfs superblock"))?;
        if let Some(p) = probe_btrfs(&sb) {
            return Ok(Some(p));
        }
    }
    let head_len = usize::try_from(size.min(PROBE_HEAD_LEN as u64)).unwrap_or(PROBE_HEAD_LEN);
    if head_len > head.len() {
        let mut rest = vec![0u8; head_len.saturating_sub(head.len())];
        dev.read_exact_at(FIRST_READ_LEN as u64, &mut rest)
            .map_err(|e| block_err(e, "reading for a swap signature"))?;
        head.extend_from_slice(&rest);
    }
    Ok(probe_swap(&head))
}

pub(crate) fn block_err(e: guestctl_block::BlockError, what: &str) -> FsError {
    let mut err = FsError::new(e.kind().into(), "", what);
    err.source = Some(Box::new(e));
    err
}

fn le16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn le32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// A 16-byte UUID as `blkid` prints it: lowercase 8-4-4-4-12. `None` if all zero.
pub(crate) fn format_uuid(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    if b.iter().all(|&x| x == 0) {
        return None;
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

/// A NUL-padded (or space-padded) label, `None` when empty.
fn c_label(b: &[u8]) -> Option<String> {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    let s = String::from_utf8_lossy(b.get(..end)?)
        .trim_end_matches(' ')
        .to_string();
    (!s.is_empty()).then_some(s)
}

fn probe_luks(h: &[u8]) -> Option<Probed> {
    if h.get(0..6)? != LUKS_MAGIC {
        return None;
    }
    // Both LUKS1 and LUKS2 keep the version at 6 and the UUID string at 168; LUKS2
    // adds a label at 24.
    let version = be16(h, 6)?;
    let uuid = c_label(h.get(168..208)?);
    let label = if version == 2 {
        c_label(h.get(24..72)?)
    } else {
        None
    };
    Some(Probed {
        fs_type: "crypto_LUKS".into(),
        uuid,
        label,
        version: Some(version.to_string()),
    })
}

fn probe_lvm2(h: &[u8]) -> Option<Probed> {
    // The label may sit in any of the first four sectors.
    for sector in 0..4usize {
        let base = sector.checked_mul(512)?;
        let lh = h.get(base..base.checked_add(512)?)?;
        if lh.get(0..8)? != b"LABELONE" || lh.get(24..32)? != b"LVM2 001" {
            continue;
        }
        let pvh_off = usize::try_from(le32(lh, 20)?).ok()?;
        let id = h.get(base.checked_add(pvh_off)?..base.checked_add(pvh_off)?.checked_add(32)?);
        // blkid prints the 32-character PV id in groups 6-4-4-4-4-4-6.
        let uuid = id.and_then(|id| {
            let s = std::str::from_utf8(id).ok()?;
            if !s.bytes().all(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            let groups = [6usize, 4, 4, 4, 4, 4, 6];
            let mut out = Vec::new();
            let mut at = 0usize;
            for g in groups {
                out.push(s.get(at..at.checked_add(g)?)?);
                at = at.checked_add(g)?;
            }
            Some(out.join("-"))
        });
        return Some(Probed {
            fs_type: "LVM2_member".into(),
            uuid,
            label: None,
            version: Some("LVM2 001".into()),
        });
    }
    None
}

fn probe_xfs(h: &[u8]) -> Option<Probed> {
    if h.get(0..4)? != XFS_MAGIC {
        return None;
    }
    // sb_blocksize (u32 BE at 4) must be a sane power of two.
    let bs = u32::from_be_bytes(h.get(4..8)?.try_into().ok()?);
    if !(512..=65536).contains(&bs) || !bs.is_power_of_two() {
        return None;
    }
    let uuid = format_uuid(h.get(32..48)?);
    let label = c_label(h.get(108..120)?);
    Some(Probed {
        fs_type: "xfs".into(),
        uuid,
        label,
        version: None,
    })
}

fn probe_btrfs(sb: &[u8]) -> Option<Probed> {
    if sb.get(0x40..0x48)? != BTRFS_MAGIC {
        return None;
    }
    let uuid = format_uuid(sb.get(0x20..0x30)?);
    let label = c_label(sb.get(0x12b..0x22b)?);
    Some(Probed {
        fs_type: "btrfs".into(),
        uuid,
        label,
        version: None,
    })
}

fn probe_swap(h: &[u8]) -> Option<Probed> {
    for page in [4096usize, 8192, 16384, 32768, 65536] {
        let Some(sig) = h.get(page.checked_sub(10)?..page) else {
            continue;
        };
        if sig == b"SWAPSPACE2" {
            // struct swap_header_v1_2 after 1024 boot bytes: version, last_page,
            // nr_badpages, uuid[16], volume_name[16].
            let uuid = format_uuid(h.get(1036..1052)?);
            let label = c_label(h.get(1052..1068)?);
            let version = le32(h, 1024).map(|v| v.to_string());
            return Some(Probed {
                fs_type: "swap".into(),
                uuid,
                label,
                version,
            });
        }
        if sig == b"SWAP-SPACE" {
            return Some(Probed {
                fs_type: "swap".into(),
                uuid: None,
                label: None,
                version: Some("0".into()),
            });
        }
    }
    None
}

// ext2/3/4 feature bits, as in e2fsprogs' ext2_fs.h.
const COMPAT_HAS_JOURNAL: u32 = 0x4;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
const INCOMPAT_META_BG: u32 = 0x10;
const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
const RO_COMPAT_LARGE_FILE: u32 = 0x2;
const RO_COMPAT_BTREE_DIR: u32 = 0x4;
const FLAGS_TEST_FILESYS: u32 = 0x4;

/// Name an ext superblock as libblkid's `ext.c` does: a journal device is `jbd`;
/// any feature ext3 does not know (extents, 64bit, flex_bg, huge_file, dir_nlink,
/// metadata_csum, ...) makes `ext4`; otherwise a journal makes `ext3`, and none `ext2`.
pub(crate) fn ext_type(compat: u32, incompat: u32, ro_compat: u32, flags: u32) -> &'static str {
    let ext3_ro_supp = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;
    let ext3_incompat_supp = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_META_BG;
    if incompat & INCOMPAT_JOURNAL_DEV != 0 {
        "jbd"
    } else if ro_compat & !ext3_ro_supp != 0 || incompat & !ext3_incompat_supp != 0 {
        if flags & FLAGS_TEST_FILESYS != 0 {
            "ext4dev"
        } else {
            "ext4"
        }
    } else if compat & COMPAT_HAS_JOURNAL != 0 {
        "ext3"
    } else {
        "ext2"
    }
}

pub(crate) fn probe_ext(h: &[u8]) -> Option<Probed> {
    let sb = h.get(1024..2048)?;
    if le16(sb, 0x38)? != EXT_MAGIC {
        return None;
    }
    // s_log_block_size: block size 1024 << n, at most 64 KiB.
    if le32(sb, 0x18)? > 6 {
        return None;
    }
    let fs_type = ext_type(
        le32(sb, 0x5c)?,
        le32(sb, 0x60)?,
        le32(sb, 0x64)?,
        le32(sb, 0x160)?,
    );
    let uuid = format_uuid(sb.get(0x68..0x78)?);
    let label = c_label(sb.get(0x78..0x88)?);
    let version = Some(format!("{}.{}", le32(sb, 0x4c)?, le16(sb, 0x3e)?));
    Some(Probed {
        fs_type: fs_type.into(),
        uuid,
        label,
        version,
    })
}

/// The FAT BIOS parameter block fields needed to recognise and name a FAT volume.
pub(crate) fn probe_fat(h: &[u8], dev_size: u64) -> Option<Probed> {
    let bs = h.get(0..512)?;
    // Jump instruction (EB xx 90 or E9 xx xx), as every formatter writes.
    if !(bs.first() == Some(&0xEB) && bs.get(2) == Some(&0x90) || bs.first() == Some(&0xE9)) {
        return None;
    }
    let bytes_per_sector = le16(bs, 11)?;
    let sectors_per_cluster = *bs.get(13)?;
    let reserved = le16(bs, 14)?;
    let fats = *bs.get(16)?;
    let root_entries = le16(bs, 17)?;
    let total16 = le16(bs, 19)?;
    let media = *bs.get(21)?;
    let fat16_len = le16(bs, 22)?;
    let total32 = le32(bs, 32)?;
    if !matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
        || sectors_per_cluster == 0
        || !sectors_per_cluster.is_power_of_two()
        || reserved == 0
        || !(1..=4).contains(&fats)
        || !(media == 0xF0 || media >= 0xF8)
    {
        return None;
    }
    let is_fat32 = fat16_len == 0;
    let fat_len = if is_fat32 {
        le32(bs, 36)?
    } else {
        u32::from(fat16_len)
    };
    if fat_len == 0 {
        return None;
    }
    let total = if total16 != 0 {
        u32::from(total16)
    } else {
        total32
    };
    let bps = u32::from(bytes_per_sector);
    let root_dir_sectors = (u32::from(root_entries)
        .checked_mul(32)?
        .checked_add(bps - 1)?)
        / bps;
    let meta = u32::from(reserved)
        .checked_add(u32::from(fats).checked_mul(fat_len)?)?
        .checked_add(root_dir_sectors)?;
    let data_sectors = total.checked_sub(meta)?;
    let clusters = data_sectors / u32::from(sectors_per_cluster);
    // The volume must fit the device (allow a partial last cluster or slack).
    if u64::from(total).saturating_mul(u64::from(bps))
        > dev_size.saturating_add(u64::from(bps) * 64)
    {
        return None;
    }
    let (version, ext) = if is_fat32 {
        ("FAT32", 0x40usize)
    } else if clusters < 4085 {
        ("FAT12", 0x24)
    } else {
        ("FAT16", 0x24)
    };
    // Extended boot signature 0x29 (or 0x28, serial only) before serial and label.
    let sig = *bs.get(ext.checked_add(2)?)?;
    let (uuid, label) = if sig == 0x29 || sig == 0x28 {
        let serial = le32(bs, ext.checked_add(3)?)?;
        let uuid = Some(format!("{:04X}-{:04X}", serial >> 16, serial & 0xFFFF));
        let label = if sig == 0x29 {
            c_label(bs.get(ext.checked_add(7)?..ext.checked_add(18)?)?).filter(|l| l != "NO NAME")
        } else {
            None
        };
        (uuid, label)
    } else {
        (None, None)
    };
    Some(Probed {
        fs_type: "vfat".into(),
        uuid,
        label,
        version: Some(version.into()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use guestctl_block::MemDevice;

    fn probe_bytes(b: Vec<u8>) -> Option<Probed> {
        probe(&MemDevice::new(b)).unwrap()
    }

    #[test]
    fn ext_naming_follows_blkid() {
        // mke2fs -t ext2 defaults: filetype, sparse_super, large_file.
        assert_eq!(ext_type(0x38, 0x2, 0x3, 0), "ext2");
        // ext3: + has_journal.
        assert_eq!(ext_type(0x3c, 0x2, 0x3, 0), "ext3");
        // ext4: + extents (0x40), flex_bg (0x200), 64bit (0x80)...
        assert_eq!(ext_type(0x3c, 0x2c2, 0x3, 0), "ext4");
        assert_eq!(ext_type(0x3c, 0x2, 0x3 | 0x400, 0), "ext4");
        assert_eq!(ext_type(0x38, 0x2 | 0x40, 0x3, 0), "ext4");
        assert_eq!(ext_type(0x3c, 0x2c2, 0x3, FLAGS_TEST_FILESYS), "ext4dev");
        assert_eq!(ext_type(0, INCOMPAT_JOURNAL_DEV, 0, 0), "jbd");
    }

    #[test]
    fn luks1_and_luks2_headers() {
        let mut h = vec![0u8; 8192];
        h[..6].copy_from_slice(LUKS_MAGIC);
        h[6..8].copy_from_slice(&1u16.to_be_bytes());
        let uuid = "0b3a7a8e-5c49-4b63-a4a6-9f9b7f1f2c3d";
        h[168..168 + uuid.len()].copy_from_slice(uuid.as_bytes());
        let p = probe_bytes(h.clone()).unwrap();
        assert_eq!(p.fs_type, "crypto_LUKS");
        assert_eq!(p.uuid.as_deref(), Some(uuid));
        assert_eq!(p.version.as_deref(), Some("1"));
        assert_eq!(p.label, None);
        h[6..8].copy_from_slice(&2u16.to_be_bytes());
        h[24..29].copy_from_slice(b"vault");
        let p = probe_bytes(h).unwrap();
        assert_eq!(
            (p.version.as_deref(), p.label.as_deref()),
            (Some("2"), Some("vault"))
        );
    }

    #[test]
    fn lvm2_label_in_second_sector() {
        let mut h = vec![0u8; 4096];
        let base = 512;
        h[base..base + 8].copy_from_slice(b"LABELONE");
        h[base + 20..base + 24].copy_from_slice(&32u32.to_le_bytes());
        h[base + 24..base + 32].copy_from_slice(b"LVM2 001");
        h[base + 32..base + 64].copy_from_slice(b"abcdef0123456789ABCDEFghijklmnop");
        let p = probe_bytes(h).unwrap();
        assert_eq!(p.fs_type, "LVM2_member");
        assert_eq!(
            p.uuid.as_deref(),
            Some("abcdef-0123-4567-89AB-CDEF-ghij-klmnop")
        );
    }

    #[test]
    fn btrfs_superblock_at_64k() {
        let mut d = vec![0u8; 0x10000 + 0x1000];
        let sb = 0x10000;
        d[sb + 0x20..sb + 0x30].copy_from_slice(&[0x11; 16]);
        d[sb + 0x40..sb + 0x48].copy_from_slice(BTRFS_MAGIC);
        d[sb + 0x12b..sb + 0x12b + 4].copy_from_slice(b"root");
        let p = probe_bytes(d.clone()).unwrap();
        assert_eq!(p.fs_type, "btrfs");
        assert_eq!(
            p.uuid.as_deref(),
            Some("11111111-1111-1111-1111-111111111111")
        );
        assert_eq!(p.label.as_deref(), Some("root"));
        // One byte of the magic wrong: nothing.
        d[sb + 0x47] = b'N';
        assert_eq!(probe_bytes(d), None);
    }

    #[test]
    fn xfs_superblock_built_in_code() {
        let mut d = vec![0u8; 8192];
        d[0..4].copy_from_slice(XFS_MAGIC);
        d[4..8].copy_from_slice(&4096u32.to_be_bytes());
        d[32..48].copy_from_slice(&[0xab; 16]);
        d[108..112].copy_from_slice(b"data");
        let p = probe_bytes(d.clone()).unwrap();
        assert_eq!(p.fs_type, "xfs");
        assert_eq!(p.label.as_deref(), Some("data"));
        // A nonsense block size is not xfs.
        d[4..8].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(probe_bytes(d), None);
    }

    #[test]
    fn nothing_on_zeroes_tiny_or_random() {
        assert_eq!(probe_bytes(vec![]), None);
        assert_eq!(probe_bytes(vec![0; 100]), None);
        assert_eq!(probe_bytes(vec![0; 1 << 20]), None);
        let mut x = 0x2545F4914F6CDD1Du64;
        let rnd: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(probe_bytes(rnd), None);
    }

    #[test]
    fn uuid_format() {
        let b: Vec<u8> = (0..16).collect();
        assert_eq!(
            format_uuid(&b).unwrap(),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        assert_eq!(format_uuid(&[0; 16]), None);
        assert_eq!(format_uuid(&[1; 3]), None);
    }
}
