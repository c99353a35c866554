//! An LVM2 physical volume written by hand: the label sector, the metadata-area
//! header and the text metadata of one volume group with linear logical volumes.
//! (The lvm tools refuse plain files, so we cannot ask `pvcreate`.)
//!
//! On-disk layout of the PV, as LVM2 writes it:
//! - sector 1: label header (`LABELONE`, sector number, CRC, offset 32, `LVM2 001`) followed by the
//!   PV header (PV UUID, device size, data-area and metadata-area lists, and the version 2
//!   extension);
//! - byte 4096: the metadata area; its first 512 bytes are the MDA header (CRC, magic, version,
//!   start, size, raw locations) and the VG text follows at +512;
//! - byte `pe_start`: the first physical extent.

use crate::rng::Rng;

/// The label's sector within the PV.
const LABEL_SECTOR: u64 = 1;
const SECTOR: usize = 512;
/// Where the metadata area starts (LVM2's default: 4 KiB, after the label).
pub(crate) const MDA_OFFSET: u64 = 4096;
/// The MDA header's magic, `FMTT_MAGIC` in LVM2.
const FMTT_MAGIC: &[u8; 16] = b"\x20LVM2\x20x[5A%r0N*>";
/// LVM2's CRC initial value (`INITIAL_CRC`).
const INITIAL_CRC: u32 = 0xf597_a6cf;

/// LVM2's checksum: CRC-32 (reflected polynomial 0xEDB88320, nibble table)
/// starting from `initial`, with no final inversion (`calc_crc` in LVM2).
pub(crate) fn calc_crc(initial: u32, buf: &[u8]) -> u32 {
    let mut crc = initial;
    for &b in buf {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A 32-character LVM identifier from the seed (LVM's alphabet, letters and digits).
pub(crate) fn lvm_id(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (0..32)
        .map(|_| {
            let i = usize::try_from(rng.below(ALPHABET.len() as u64)).unwrap_or(0);
            char::from(ALPHABET.get(i).copied().unwrap_or(b'0'))
        })
        .collect()
}

/// The dashed 6-4-4-4-4-4-6 form LVM prints and writes in metadata.
pub(crate) fn dashed(id: &str) -> String {
    let mut out = String::with_capacity(38);
    let mut pos = 0;
    for (i, n) in [6usize, 4, 4, 4, 4, 4, 6].into_iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(id.get(pos..pos + n).unwrap_or(""));
        pos += n;
    }
    out
}

/// The device-mapper name of an LV: dashes in each part doubled, joined by one.
pub(crate) fn dm_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

/// One linear LV on the single PV.
#[derive(Debug, Clone)]
pub(crate) struct LvPlan {
    pub name: String,
    pub id: String,
    pub start_extent: u64,
    pub extent_count: u64,
}

/// The volume group to write.
#[derive(Debug, Clone)]
pub(crate) struct VgPlan {
    pub vg_name: String,
    pub vg_id: String,
    pub pv_id: String,
    /// PV size in bytes (the partition).
    pub pv_size: u64,
    /// Bytes from the PV start to the first extent.
    pub pe_start: u64,
    pub extent_size: u64,
    pub pe_count: u64,
    pub lvs: Vec<LvPlan>,
    /// The device name recorded as a hint (`/dev/sda2`).
    pub device_hint: String,
    pub creation_host: String,
    pub creation_time: u64,
}

impl VgPlan {
    /// The VG's text metadata, as `vgcfgbackup`/the MDA hold it.
    pub(crate) fn metadata_text(&self) -> String {
        let sectors = |b: u64| b / 512;
        let mut s = String::new();
        s.push_str(&format!("{} {{\n", self.vg_name));
        s.push_str(&format!("id = \"{}\"\n", dashed(&self.vg_id)));
        s.push_str("seqno = 1\n");
        s.push_str("format = \"lvm2\"\n");
        s.push_str("status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n");
        s.push_str("flags = []\n");
        s.push_str(&format!("extent_size = {}\n", sectors(self.extent_size)));
        s.push_str("max_lv = 0\nmax_pv = 0\nmetadata_copies = 0\n\n");
        s.push_str("physical_volumes {\n\npv0 {\n");
        s.push_str(&format!("id = \"{}\"\n", dashed(&self.pv_id)));
        s.push_str(&format!("device = \"{}\"\n\n", self.device_hint));
        s.push_str("status = [\"ALLOCATABLE\"]\nflags = []\n");
        s.push_str(&format!("dev_size = {}\n", sectors(self.pv_size)));
        s.push_str(&format!("pe_start = {}\n", sectors(self.pe_start)));
        s.push_str(&format!("pe_count = {}\n", self.pe_count));
        s.push_str("}\n}\n\nlogical_volumes {\n");
        for lv in &self.lvs {
            s.push_str(&format!("\n{} {{\n", lv.name));
            s.push_str(&format!("id = \"{}\"\n", dashed(&lv.id)));
            s.push_str("status = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\n");
            s.push_str(&format!("creation_time = {}\n", self.creation_time));
            s.push_str(&format!("creation_host = \"{}\"\n", self.creation_host));
            s.push_str("segment_count = 1\n\nsegment1 {\n");
            s.push_str("start_extent = 0\n");
            s.push_str(&format!("extent_count = {}\n\n", lv.extent_count));
            s.push_str("type = \"striped\"\nstripe_count = 1\n\nstripes = [\n");
            s.push_str(&format!("\"pv0\", {}\n", lv.start_extent));
            s.push_str("]\n}\n}\n");
        }
        s.push_str("}\n\n}\n");
        s.push_str("# Generated by guestctl-mockdisk\n\n");
        s.push_str("contents = \"Text Format Volume Group\"\nversion = 1\n\n");
        s.push_str("description = \"\"\n\n");
        s.push_str(&format!("creation_host = \"{}\"\n", self.creation_host));
        s.push_str(&format!("creation_time = {}\n", self.creation_time));
        s
    }

    /// The bytes of the PV's first `pe_start` bytes: label sector, MDA header and
    /// metadata text (everything else zero). `None` when the text does not fit
    /// the metadata area.
    pub(crate) fn header_bytes(&self) -> Option<Vec<u8>> {
        let pe_start = usize::try_from(self.pe_start).ok()?;
        let mda_offset = usize::try_from(MDA_OFFSET).ok()?;
        let mda_size = self.pe_start.checked_sub(MDA_OFFSET)?;
        let mut buf = vec![0u8; pe_start];

        // Label header + PV header in sector 1.
        let lbl = usize::try_from(LABEL_SECTOR).ok()? * SECTOR;
        {
            let sec = buf.get_mut(lbl..lbl + SECTOR)?;
            sec.get_mut(0..8)?.copy_from_slice(b"LABELONE");
            sec.get_mut(8..16)?
                .copy_from_slice(&LABEL_SECTOR.to_le_bytes());
            // crc at 16..20 filled below
            sec.get_mut(20..24)?.copy_from_slice(&32u32.to_le_bytes());
            sec.get_mut(24..32)?.copy_from_slice(b"LVM2 001");
            let mut p = 32;
            let mut put = |sec: &mut [u8], bytes: &[u8]| -> Option<()> {
                sec.get_mut(p..p + bytes.len())?.copy_from_slice(bytes);
                p += bytes.len();
                Some(())
            };
            put(sec, self.pv_id.as_bytes())?; // pv_uuid[32], undashed
                                              // device_size_xl
            put(sec, &self.pv_size.to_le_bytes())?;
            // data areas: one from pe_start to the end (size 0 = "the rest"),
            // then a terminator
            put(sec, &self.pe_start.to_le_bytes())?;
            put(sec, &0u64.to_le_bytes())?;
            put(sec, &[0u8; 16])?;
            // metadata areas: one at MDA_OFFSET, then a terminator
            put(sec, &MDA_OFFSET.to_le_bytes())?;
            put(sec, &mda_size.to_le_bytes())?;
            put(sec, &[0u8; 16])?;
            // pv_header_extension: version 2, flags PV_EXT_USED, no bootloader areas
            put(sec, &2u32.to_le_bytes())?;
            put(sec, &1u32.to_le_bytes())?;
            put(sec, &[0u8; 16])?;
            let crc = calc_crc(INITIAL_CRC, sec.get(20..SECTOR)?);
            sec.get_mut(16..20)?.copy_from_slice(&crc.to_le_bytes());
        }

        // Metadata text at MDA start + 512, NUL-terminated (the NUL not counted).
        let text = self.metadata_text();
        let text_off = mda_offset + SECTOR;
        if text.len() + 1 > pe_start.checked_sub(text_off)? {
            return None;
        }
        buf.get_mut(text_off..text_off + text.len())?
            .copy_from_slice(text.as_bytes());
        let text_crc = calc_crc(INITIAL_CRC, text.as_bytes());

        // MDA header.
        {
            let h = buf.get_mut(mda_offset..mda_offset + SECTOR)?;
            h.get_mut(4..20)?.copy_from_slice(FMTT_MAGIC);
            h.get_mut(20..24)?.copy_from_slice(&1u32.to_le_bytes()); // version
            h.get_mut(24..32)?
                .copy_from_slice(&MDA_OFFSET.to_le_bytes()); // start (absolute on the PV)
                                                             // size
            h.get_mut(32..40)?.copy_from_slice(&mda_size.to_le_bytes());
            // raw_locns[0]: offset relative to the MDA start, size, checksum, flags
            h.get_mut(40..48)?
                .copy_from_slice(&(SECTOR as u64).to_le_bytes());
            h.get_mut(48..56)?
                .copy_from_slice(&(text.len() as u64).to_le_bytes());
            h.get_mut(56..60)?.copy_from_slice(&text_crc.to_le_bytes());
            h.get_mut(60..64)?.copy_from_slice(&0u32.to_le_bytes());
            // raw_locns[1] all zero: the terminator
            let crc = calc_crc(INITIAL_CRC, h.get(4..SECTOR)?);
            h.get_mut(0..4)?.copy_from_slice(&crc.to_le_bytes());
        }
        Some(buf)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn crc_matches_lvm_nibble_table_algorithm() {
        // LVM2's calc_crc uses a 16-entry table; reproduce it independently.
        const TAB: [u32; 16] = [
            0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158,
            0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
            0xa00ae278, 0xbdbdf21c,
        ];
        let data = b"The quick brown fox jumps over the lazy dog";
        let mut crc = INITIAL_CRC;
        for &b in data.iter() {
            crc ^= u32::from(b);
            crc = (crc >> 4) ^ TAB[(crc & 0xf) as usize];
            crc = (crc >> 4) ^ TAB[(crc & 0xf) as usize];
        }
        assert_eq!(calc_crc(INITIAL_CRC, data), crc);
        // With the standard init and final xor it is plain CRC-32.
        assert_eq!(
            calc_crc(0xffff_ffff, b"123456789") ^ 0xffff_ffff,
            0xcbf4_3926
        );
    }

    #[test]
    fn dashed_and_dm_names() {
        assert_eq!(
            dashed("abcdefghijklmnopqrstuvwxyzABCDEF"),
            "abcdef-ghij-klmn-opqr-stuv-wxyz-ABCDEF"
        );
        assert_eq!(dm_name("ubuntu-vg", "ubuntu-lv"), "ubuntu--vg-ubuntu--lv");
    }

    fn plan() -> VgPlan {
        let mut r = Rng::new(1);
        VgPlan {
            vg_name: "vg0".into(),
            vg_id: lvm_id(&mut r),
            pv_id: lvm_id(&mut r),
            pv_size: 64 << 20,
            pe_start: 1 << 20,
            extent_size: 4 << 20,
            pe_count: 15,
            lvs: vec![LvPlan {
                name: "root".into(),
                id: lvm_id(&mut r),
                start_extent: 0,
                extent_count: 15,
            }],
            device_hint: "/dev/sda2".into(),
            creation_host: "h".into(),
            creation_time: 1,
        }
    }

    #[test]
    fn header_fields_and_checksums() {
        let p = plan();
        let b = p.header_bytes().unwrap();
        assert_eq!(&b[512..520], b"LABELONE");
        let crc = u32::from_le_bytes(b[528..532].try_into().unwrap());
        assert_eq!(crc, calc_crc(INITIAL_CRC, &b[532..1024]));
        assert_eq!(&b[544..576], p.pv_id.as_bytes());
        assert_eq!(&b[4096 + 4..4096 + 20], FMTT_MAGIC);
        let h = &b[4096..4608];
        assert_eq!(
            u32::from_le_bytes(h[0..4].try_into().unwrap()),
            calc_crc(INITIAL_CRC, &h[4..])
        );
        let len = u64::from_le_bytes(h[48..56].try_into().unwrap()) as usize;
        let text = &b[4608..4608 + len];
        assert_eq!(
            u32::from_le_bytes(h[56..60].try_into().unwrap()),
            calc_crc(INITIAL_CRC, text)
        );
        let text = std::str::from_utf8(text).unwrap();
        assert!(text.starts_with("vg0 {\n"));
        assert!(text.contains("pe_start = 2048\n"));
        assert!(text.contains("extent_size = 8192\n"));
        assert_eq!(b[4608 + len], 0);
    }

    #[test]
    fn metadata_that_does_not_fit_is_refused() {
        let mut p = plan();
        p.pe_start = 4096 + 1024;
        assert!(p.header_bytes().is_none());
    }
}
