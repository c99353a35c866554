//! LVM2: physical volume labels, metadata areas, text metadata, and linear logical
//! volumes mapped onto PV extents.
//!
//! On disk (names as in LVM's `label.h`, `layout.h`):
//! - `label_header` in one of the first 4 sectors: `"LABELONE"`, `sector_xl`, `crc_xl`
//!   (over bytes 20..512), `offset_xl`, type `"LVM2 001"`;
//! - `pv_header` at `offset_xl`: `pv_uuid[32]`, `device_size_xl`, then two lists of
//!   `disk_locn {offset, size}` (data areas, metadata areas), each ending in zeros;
//! - `mda_header` at each metadata area: `checksum_xl`, magic `" LVM2 x[5A%r0N*>"`,
//!   `version` 1, `start`, `size`, `raw_locn[] {offset, size, checksum, flags}`; the
//!   first raw location is the current metadata text, in a circular buffer after the
//!   512-byte header.
//!
//! LVM's checksum is a CRC-32 (IEEE polynomial) started at `0xf597a6cf`, without the
//! usual final inversion.

mod text;

pub use text::{parse_metadata, ConfigNode, ConfigValue, LVM_MAX_ITEMS, LVM_MAX_NESTING};

use crate::{le32, le64, Diagnostic, ErrorKind, PhysicalVolume, Volume, VolumeError, VolumeKind};
use guestctl_block::{BlockDevice, LinearDevice, LinearSegment};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest metadata text read (LVM's default metadata area is 1 MiB; big VGs use a few
/// MiB). The text is read into memory whole, so its size read from disk is capped.
pub const LVM_MAX_METADATA_SIZE: u64 = 16 * 1024 * 1024;
/// Most physical volumes per volume group accepted.
pub const LVM_MAX_PVS: usize = 256;
/// Most logical volumes per volume group accepted.
pub const LVM_MAX_VOLUMES: usize = 1024;
/// Most segments per logical volume accepted.
pub const LVM_MAX_SEGMENTS: usize = 1024;

const LABEL_ID: &[u8; 8] = b"LABELONE";
const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
const LABEL_SCAN_SECTORS: u64 = 4;
const SECTOR: u64 = 512;
const ID_LEN: usize = 32;
const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
const MDA_HEADER_SIZE: u64 = 512;
const INITIAL_CRC: u32 = 0xf597_a6cf;
const RAW_LOCN_IGNORED: u32 = 0x1;
/// Most `disk_locn` entries read from one list (the label sector holds about 27).
const MAX_DISK_LOCNS: usize = 16;

/// LVM's `calc_crc`: CRC-32 (IEEE, reflected) from `initial`, no final XOR.
pub(crate) fn calc_crc(initial: u32, data: &[u8]) -> u32 {
    // crc32fast inverts before and after; undo both.
    let mut h = crc32fast::Hasher::new_with_initial(!initial);
    h.update(data);
    !h.finalize()
}

/// A PV label: the PV's UUID and where its data and metadata live (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PvLabel {
    pub pv_uuid: String,
    pub device_size: u64,
    pub data_areas: Vec<(u64, u64)>,
    pub metadata_areas: Vec<(u64, u64)>,
}

fn corrupt(subject: &str, m: impl Into<String>) -> VolumeError {
    VolumeError::corrupt(subject, m)
}

/// Find and check the PV label in the first 4 sectors. `Ok(None)`: not a PV.
pub(crate) fn read_label(
    dev: &dyn BlockDevice,
    subject: &str,
) -> Result<Option<PvLabel>, VolumeError> {
    let mut sector = vec![0u8; SECTOR as usize];
    for n in 0..LABEL_SCAN_SECTORS {
        if (n + 1) * SECTOR > dev.size() {
            break;
        }
        dev.read_exact_at(n * SECTOR, &mut sector)
            .map_err(|e| VolumeError::block(subject, e))?;
        if sector.get(0..8) != Some(&LABEL_ID[..]) {
            continue;
        }
        let sector_xl = le64(&sector, 8).unwrap_or(u64::MAX);
        if sector_xl != n {
            return Err(corrupt(
                subject,
                format!("LVM label in sector {n} says sector_xl {sector_xl}"),
            ));
        }
        let crc_xl = le32(&sector, 16).unwrap_or(0);
        let actual = calc_crc(INITIAL_CRC, sector.get(20..).unwrap_or(&[]));
        if crc_xl != actual {
            return Err(corrupt(
                subject,
                format!("LVM label crc_xl {crc_xl:#010x} != computed {actual:#010x}"),
            ));
        }
        if sector.get(24..32) != Some(&LABEL_TYPE[..]) {
            return Err(VolumeError::new(
                ErrorKind::Unsupported,
                subject,
                "LVM label type is not \"LVM2 001\"",
            ));
        }
        let offset_xl = le32(&sector, 20).unwrap_or(0) as usize;
        return parse_pv_header(&sector, offset_xl, subject).map(Some);
    }
    Ok(None)
}

fn parse_pv_header(sector: &[u8], at: usize, subject: &str) -> Result<PvLabel, VolumeError> {
    if !(32..=SECTOR as usize - ID_LEN - 8).contains(&at) {
        return Err(corrupt(
            subject,
            format!("pv_header offset_xl {at} invalid"),
        ));
    }
    let uuid = sector
        .get(at..at + ID_LEN)
        .ok_or_else(|| corrupt(subject, "pv_header truncated"))?;
    if !uuid.iter().all(|b| b.is_ascii_graphic()) {
        return Err(corrupt(subject, "PV UUID is not printable"));
    }
    let pv_uuid = String::from_utf8_lossy(uuid).into_owned();
    let device_size =
        le64(sector, at + ID_LEN).ok_or_else(|| corrupt(subject, "pv_header truncated"))?;
    let mut pos = at + ID_LEN + 8;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        // Bounded by MAX_DISK_LOCNS and the sector's end.
        loop {
            let (Some(offset), Some(size)) = (le64(sector, pos), le64(sector, pos + 8)) else {
                return Err(corrupt(
                    subject,
                    "pv_header area list runs past the label sector",
                ));
            };
            pos += 16;
            if offset == 0 {
                break;
            }
            if list.len() == MAX_DISK_LOCNS {
                return Err(VolumeError::limit(
                    subject,
                    format!("more than {MAX_DISK_LOCNS} areas in a pv_header list"),
                ));
            }
            list.push((offset, size));
        }
    }
    let [data_areas, metadata_areas] = lists;
    Ok(PvLabel {
        pv_uuid,
        device_size,
        data_areas,
        metadata_areas,
    })
}

/// Read the current metadata text from the metadata area at `(offset, size)`.
pub(crate) fn read_metadata(
    dev: &dyn BlockDevice,
    area: (u64, u64),
    subject: &str,
) -> Result<Vec<u8>, VolumeError> {
    let (mda_start, mda_size) = area;
    let mda_end = mda_start.checked_add(mda_size);
    if !matches!(mda_end, Some(e) if e <= dev.size()) || mda_size < MDA_HEADER_SIZE {
        return Err(VolumeError::new(
            ErrorKind::OutOfBounds,
            subject,
            format!(
                "metadata area {mda_size} bytes at {mda_start} is not inside the {}-byte PV",
                dev.size()
            ),
        ));
    }
    let mut h = vec![0u8; MDA_HEADER_SIZE as usize];
    dev.read_exact_at(mda_start, &mut h)
        .map_err(|e| VolumeError::block(subject, e))?;
    let checksum_xl = le32(&h, 0).unwrap_or(0);
    let actual = calc_crc(INITIAL_CRC, h.get(4..).unwrap_or(&[]));
    if checksum_xl != actual {
        return Err(corrupt(
            subject,
            format!("mda_header checksum_xl {checksum_xl:#010x} != computed {actual:#010x}"),
        ));
    }
    if h.get(4..20) != Some(&MDA_MAGIC[..]) {
        return Err(corrupt(subject, "mda_header magic is wrong"));
    }
    let version = le32(&h, 20).unwrap_or(0);
    if version != 1 {
        return Err(VolumeError::new(
            ErrorKind::Unsupported,
            subject,
            format!("mda_header version {version}"),
        ));
    }
    let start = le64(&h, 24).unwrap_or(0);
    if start != mda_start {
        return Err(corrupt(
            subject,
            format!("mda_header start {start} but the area is at {mda_start}"),
        ));
    }
    let size = le64(&h, 32).unwrap_or(0);
    if size != mda_size {
        return Err(corrupt(
            subject,
            format!("mda_header size {size} but the area is {mda_size} bytes"),
        ));
    }
    // The first raw location is the committed metadata.
    let (offset, len, checksum, flags) = (le64(&h, 40), le64(&h, 48), le32(&h, 56), le32(&h, 60));
    let (Some(offset), Some(len), Some(checksum), Some(flags)) = (offset, len, checksum, flags)
    else {
        return Err(corrupt(subject, "mda_header truncated"));
    };
    if offset == 0 {
        return Err(VolumeError::new(
            ErrorKind::NotFound,
            subject,
            "metadata area holds no metadata",
        ));
    }
    if flags & RAW_LOCN_IGNORED != 0 {
        return Err(VolumeError::new(
            ErrorKind::NotFound,
            subject,
            "metadata area is marked ignored",
        ));
    }
    if len > LVM_MAX_METADATA_SIZE {
        return Err(VolumeError::limit(
            subject,
            format!("metadata of {len} bytes exceeds {LVM_MAX_METADATA_SIZE}"),
        ));
    }
    let ring = mda_size - MDA_HEADER_SIZE;
    if offset < MDA_HEADER_SIZE || offset >= mda_size || len > ring || len == 0 {
        return Err(corrupt(
            subject,
            format!("raw_locn offset {offset} size {len} invalid for a {mda_size}-byte area"),
        ));
    }
    // Circular buffer: the text may wrap from the area's end to just after the header.
    let first = len.min(mda_size - offset);
    let mut text = vec![0u8; len as usize];
    let (a, b) = text.split_at_mut(first as usize);
    dev.read_exact_at(mda_start + offset, a)
        .map_err(|e| VolumeError::block(subject, e))?;
    if !b.is_empty() {
        dev.read_exact_at(mda_start + MDA_HEADER_SIZE, b)
            .map_err(|e| VolumeError::block(subject, e))?;
    }
    let actual = calc_crc(INITIAL_CRC, &text);
    if actual != checksum {
        return Err(corrupt(
            subject,
            format!("metadata checksum {checksum:#010x} != computed {actual:#010x}"),
        ));
    }
    Ok(text)
}

/// "abcdef...": 32 characters → LVM's dashed form 6-4-4-4-4-4-6.
pub(crate) fn dashed_uuid(id: &str) -> String {
    if id.len() != ID_LEN || !id.is_ascii() {
        return id.to_string();
    }
    let mut out = String::with_capacity(38);
    let mut pos = 0;
    for (i, n) in [6usize, 4, 4, 4, 4, 4, 6].iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(id.get(pos..pos + n).unwrap_or(""));
        pos += n;
    }
    out
}

fn undashed(id: &str) -> String {
    id.chars().filter(|c| *c != '-').collect()
}

/// A PV found on the disk.
struct FoundPv {
    volume: String,
    device: Arc<dyn BlockDevice>,
    label: PvLabel,
}

/// One VG's metadata as read from one PV.
struct VgMetadata {
    name: String,
    id: String,
    seqno: i64,
    node: ConfigNode,
}

fn vg_from_text(text: &[u8], subject: &str) -> Result<VgMetadata, VolumeError> {
    let root =
        parse_metadata(text).map_err(|e| VolumeError::new(e.kind(), subject, e.message()))?;
    let mut sections = root.sections();
    let (name, node) = sections
        .next()
        .ok_or_else(|| corrupt(subject, "metadata has no volume group section"))?;
    let id = node
        .str("id")
        .ok_or_else(|| corrupt(subject, format!("VG {name} has no id")))?
        .to_string();
    let seqno = node
        .int("seqno")
        .ok_or_else(|| corrupt(subject, format!("VG {name} has no seqno")))?;
    Ok(VgMetadata {
        name: name.to_string(),
        id,
        seqno,
        node: node.clone(),
    })
}

/// Look for PVs on every volume, read their metadata, and map the linear LVs of every
/// VG found. Problems become diagnostics.
pub(crate) fn scan_volumes(
    volumes: &[Volume],
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<Volume>, Vec<PhysicalVolume>) {
    let mut pvs = Vec::new();
    let mut vgs: BTreeMap<String, VgMetadata> = BTreeMap::new();
    let mut pv_info = Vec::new();
    for v in volumes {
        let subject = format!("LVM {}", v.name);
        let label = match read_label(&*v.device, &subject) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                diagnostics.push(e.into());
                continue;
            }
        };
        let mut vg_name = None;
        let mut errors = Vec::new();
        for &area in &label.metadata_areas {
            match read_metadata(&*v.device, area, &subject).and_then(|t| vg_from_text(&t, &subject))
            {
                Ok(md) => {
                    vg_name = Some(md.name.clone());
                    let newer = vgs.get(&md.id).is_none_or(|old| md.seqno > old.seqno);
                    if newer {
                        vgs.insert(md.id.clone(), md);
                    }
                    break;
                }
                Err(e) => errors.push(e),
            }
        }
        if vg_name.is_none() {
            // A PV without (readable) metadata is normal when other PVs of its VG carry
            // it (pvcreate --metadatacopies 0); report only real failures.
            diagnostics.extend(errors.into_iter().map(Diagnostic::from));
        }
        pv_info.push(PhysicalVolume {
            volume: v.name.clone(),
            uuid: dashed_uuid(&label.pv_uuid),
            vg: vg_name,
        });
        pvs.push(FoundPv {
            volume: v.name.clone(),
            device: Arc::clone(&v.device),
            label,
        });
    }
    let mut out = Vec::new();
    for md in vgs.values() {
        // Fill in VG names for metadata-less PVs of this VG.
        if let Some(pvsec) = md.node.section("physical_volumes") {
            for (_, p) in pvsec.sections() {
                if let Some(id) = p.str("id") {
                    let id = undashed(id);
                    for info in pv_info
                        .iter_mut()
                        .filter(|i| i.vg.is_none() && undashed(&i.uuid) == id)
                    {
                        info.vg = Some(md.name.clone());
                    }
                }
            }
        }
        map_vg(md, &pvs, &mut out, diagnostics);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, pv_info)
}

/// A PV of a VG as the metadata describes it, resolved to a device.
struct VgPv {
    device: Arc<dyn BlockDevice>,
    pe_start_sectors: u64,
}

fn map_vg(
    md: &VgMetadata,
    found: &[FoundPv],
    out: &mut Vec<Volume>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let vg = &md.name;
    let subject = format!("VG {vg}");
    let mut diag = |subject: &str, kind: ErrorKind, message: String| {
        diagnostics.push(Diagnostic {
            subject: subject.to_string(),
            kind,
            message,
        })
    };
    let Some(extent_size) = md
        .node
        .int("extent_size")
        .and_then(|e| u64::try_from(e).ok())
        .filter(|&e| e > 0)
    else {
        diag(
            &subject,
            ErrorKind::Corrupt,
            "missing or invalid extent_size".into(),
        );
        return;
    };
    let extent_bytes = match extent_size.checked_mul(SECTOR) {
        Some(b) => b,
        None => {
            diag(
                &subject,
                ErrorKind::Corrupt,
                format!("extent_size {extent_size} overflows"),
            );
            return;
        }
    };
    let mut pvs: BTreeMap<&str, VgPv> = BTreeMap::new();
    let mut missing: BTreeMap<&str, String> = BTreeMap::new();
    if let Some(sec) = md.node.section("physical_volumes") {
        for (n, (pv_name, p)) in sec.sections().enumerate() {
            if n >= LVM_MAX_PVS {
                diag(
                    &subject,
                    ErrorKind::LimitExceeded,
                    format!("more than {LVM_MAX_PVS} PVs; the rest are ignored"),
                );
                break;
            }
            let id = p.str("id").map(undashed).unwrap_or_default();
            let pe_start = p.int("pe_start").and_then(|v| u64::try_from(v).ok());
            match (found.iter().find(|f| f.label.pv_uuid == id), pe_start) {
                (Some(f), Some(pe_start_sectors)) => {
                    pvs.insert(
                        pv_name,
                        VgPv {
                            device: Arc::clone(&f.device),
                            pe_start_sectors,
                        },
                    );
                    let _ = &f.volume;
                }
                (Some(f), None) => {
                    diag(
                        &subject,
                        ErrorKind::Corrupt,
                        format!("{pv_name} ({}) has no valid pe_start", f.volume),
                    );
                }
                (None, _) => {
                    missing.insert(pv_name, p.str("device").unwrap_or("?").to_string());
                }
            }
        }
    }
    let Some(lvs) = md.node.section("logical_volumes") else {
        return;
    };
    for (n, (lv_name, lv)) in lvs.sections().enumerate() {
        if n >= LVM_MAX_VOLUMES {
            diag(
                &subject,
                ErrorKind::LimitExceeded,
                format!("more than {LVM_MAX_VOLUMES} LVs; the rest are ignored"),
            );
            break;
        }
        // Hidden LVs are internal parts of others (RAID images, thin pool data).
        if lv.array("status").is_some() && !lv.has_flag("status", "VISIBLE") {
            continue;
        }
        let name = format!("{vg}/{lv_name}");
        match map_lv(lv, &name, extent_bytes, &pvs, &missing) {
            Ok(device) => out.push(Volume {
                name: name.clone(),
                kind: VolumeKind::LogicalVolume {
                    vg: vg.clone(),
                    lv: lv_name.to_string(),
                    uuid: lv.str("id").unwrap_or("").to_string(),
                },
                start: 0,
                size: device.size(),
                device: Arc::new(device),
            }),
            Err(e) => diag(e.subject(), e.kind(), e.to_diagnostic().message),
        }
    }
}

fn map_lv(
    lv: &ConfigNode,
    name: &str,
    extent_bytes: u64,
    pvs: &BTreeMap<&str, VgPv>,
    missing: &BTreeMap<&str, String>,
) -> Result<LinearDevice, VolumeError> {
    let mut segs: Vec<(u64, u64, &ConfigNode)> = Vec::new();
    for (n, (_, seg)) in lv.sections().enumerate() {
        if n >= LVM_MAX_SEGMENTS {
            return Err(VolumeError::limit(
                name,
                format!("more than {LVM_MAX_SEGMENTS} segments"),
            ));
        }
        let start = seg.int("start_extent").and_then(|v| u64::try_from(v).ok());
        let count = seg.int("extent_count").and_then(|v| u64::try_from(v).ok());
        let (Some(start), Some(count)) = (start, count) else {
            return Err(corrupt(
                name,
                "segment without valid start_extent/extent_count",
            ));
        };
        segs.push((start, count, seg));
    }
    if segs.is_empty() {
        return Err(corrupt(name, "logical volume has no segments"));
    }
    segs.sort_by_key(|s| s.0);
    let mut next_extent = 0u64;
    let mut pieces = Vec::with_capacity(segs.len());
    for (start, count, seg) in segs {
        if start != next_extent {
            return Err(corrupt(
                name,
                format!("segment at extent {start} but the previous one ends at {next_extent}"),
            ));
        }
        next_extent = start
            .checked_add(count)
            .ok_or_else(|| corrupt(name, "extent count overflows"))?;
        let seg_type = seg.str("type").unwrap_or("");
        let stripe_count = seg.int("stripe_count").unwrap_or(0);
        if !(seg_type == "striped" || seg_type == "linear") || stripe_count != 1 {
            return Err(VolumeError::new(
                ErrorKind::Unsupported,
                name,
                format!("segment type {seg_type:?} with {stripe_count} stripes is not supported (only linear LVs are)"),
            ));
        }
        let stripes = seg.array("stripes").unwrap_or(&[]);
        let (Some(ConfigValue::Str(pv_name)), Some(ConfigValue::Int(pe))) =
            (stripes.first(), stripes.get(1))
        else {
            return Err(corrupt(name, "segment stripes is not [\"pvN\", extent]"));
        };
        let pe =
            u64::try_from(*pe).map_err(|_| corrupt(name, format!("negative PV extent {pe}")))?;
        let Some(pv) = pvs.get(pv_name.as_str()) else {
            let dev = missing
                .get(pv_name.as_str())
                .map(String::as_str)
                .unwrap_or("not in the VG metadata");
            return Err(VolumeError::new(
                ErrorKind::NotFound,
                name,
                format!("needs {pv_name} ({dev}), which is not on this disk"),
            ));
        };
        let device_offset = pe
            .checked_mul(extent_bytes)
            .and_then(|o| o.checked_add(pv.pe_start_sectors.checked_mul(SECTOR)?))
            .ok_or_else(|| corrupt(name, "PV offset overflows"))?;
        let len = count
            .checked_mul(extent_bytes)
            .ok_or_else(|| corrupt(name, "segment length overflows"))?;
        pieces.push(LinearSegment {
            device: Arc::clone(&pv.device),
            device_offset,
            len,
        });
    }
    LinearDevice::new(pieces).map_err(|e| VolumeError::block(name, e))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests;
