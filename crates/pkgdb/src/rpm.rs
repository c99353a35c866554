//! RPM header blobs as stored in rpmdb (no lead, no magic): `il` (u32 BE, the
//! number of index entries), `dl` (u32 BE, the data store length), `il` index
//! entries of 16 bytes `{tag, type, offset, count}` (all u32 BE), then `dl`
//! bytes of data. Entry 0 is normally the region tag 63 (`HEADERIMMUTABLE`)
//! whose data is a 16-byte trailer closing the immutable region; entries past
//! the region ("dribbles", added at install time) follow.
//!
//! Validation follows rpm's `lib/header.c` (`hdrblobInit`,
//! `hdrblobVerifyRegion`, `hdrblobVerifyInfo`, `dataLength`): il ≤ 0xffff,
//! dl ≤ 0x0fffffff, blob length = 8 + 16·il + dl exactly, region tag type BIN
//! count 16 with a matching trailer inside the store, every other entry with a
//! tag ≥ 100, a known type, 1 ≤ count ≤ dl, count ≤ 0xfffff for non-BIN types,
//! its type's alignment, data inside the store, strings NUL-terminated inside
//! the store, entries not overlapping (they are stored in offset order) nor
//! overlapping the region trailer, and the types of the tags read here checked.

use std::borrow::Cow;

/// Tag `NAME` (string).
pub const TAG_NAME: u32 = 1000;
/// Tag `VERSION` (string).
pub const TAG_VERSION: u32 = 1001;
/// Tag `RELEASE` (string).
pub const TAG_RELEASE: u32 = 1002;
/// Tag `EPOCH` (int32).
pub const TAG_EPOCH: u32 = 1003;
/// Tag `SUMMARY` (i18n string).
pub const TAG_SUMMARY: u32 = 1004;
/// Tag `DESCRIPTION` (i18n string).
pub const TAG_DESCRIPTION: u32 = 1005;
/// Tag `URL` (string).
pub const TAG_URL: u32 = 1020;
/// Tag `OS` (string).
pub const TAG_OS: u32 = 1021;
/// Tag `ARCH` (string).
pub const TAG_ARCH: u32 = 1022;
/// Tag `SOURCERPM` (string).
pub const TAG_SOURCERPM: u32 = 1044;
/// Region tag `HEADERIMAGE`.
pub const TAG_HEADERIMAGE: u32 = 61;
/// Region tag `HEADERSIGNATURES`.
pub const TAG_HEADERSIGNATURES: u32 = 62;
/// Region tag `HEADERIMMUTABLE`.
pub const TAG_HEADERIMMUTABLE: u32 = 63;
/// `HEADERI18NTABLE`: the smallest tag allowed outside a region tag.
pub const TAG_HEADERI18NTABLE: u32 = 100;

/// Most index entries (rpm's `HEADER_TAGS_MAX`).
pub const MAX_INDEX_ENTRIES: u32 = 0x0000_ffff;
/// Largest data store (rpm's `HEADER_DATA_MAX`, 256 MiB).
pub const MAX_DATA_LEN: u32 = 0x0fff_ffff;
/// Largest element count of a non-BIN entry (rpm's `HEADER_ARRAY_MAX`).
pub const MAX_ARRAY_COUNT: u32 = 0x000f_ffff;

const ENTRY_LEN: usize = 16;
const REGION_TAG_COUNT: u32 = 16;

/// Data type of a header entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpmType {
    /// 0: no data.
    Null,
    /// 1: bytes.
    Char,
    /// 2: int8.
    Int8,
    /// 3: int16 (2-byte aligned).
    Int16,
    /// 4: int32 (4-byte aligned).
    Int32,
    /// 5: int64 (8-byte aligned).
    Int64,
    /// 6: one NUL-terminated string.
    String,
    /// 7: opaque bytes.
    Bin,
    /// 8: `count` NUL-terminated strings.
    StringArray,
    /// 9: `count` NUL-terminated strings, one per locale.
    I18nString,
}

impl RpmType {
    fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            0 => RpmType::Null,
            1 => RpmType::Char,
            2 => RpmType::Int8,
            3 => RpmType::Int16,
            4 => RpmType::Int32,
            5 => RpmType::Int64,
            6 => RpmType::String,
            7 => RpmType::Bin,
            8 => RpmType::StringArray,
            9 => RpmType::I18nString,
            _ => return None,
        })
    }
    fn align(self) -> u32 {
        match self {
            RpmType::Int16 => 2,
            RpmType::Int32 => 4,
            RpmType::Int64 => 8,
            _ => 1,
        }
    }
    /// Element size for fixed-size types.
    fn size(self) -> Option<u32> {
        match self {
            RpmType::Null => Some(0),
            RpmType::Char | RpmType::Int8 | RpmType::Bin => Some(1),
            RpmType::Int16 => Some(2),
            RpmType::Int32 => Some(4),
            RpmType::Int64 => Some(8),
            RpmType::String | RpmType::StringArray | RpmType::I18nString => None,
        }
    }
    fn is_string_class(self) -> bool {
        matches!(
            self,
            RpmType::String | RpmType::StringArray | RpmType::I18nString
        )
    }
}

/// Why an rpm header blob was rejected. `entry` is the index entry's position.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpmHeaderError {
    /// Fewer than 8 bytes: no room for `il` and `dl`.
    #[error("blob of {len} bytes is shorter than its 8-byte intro")]
    TooShort {
        /// Blob length.
        len: usize,
    },
    /// `il` is 0 or above [`MAX_INDEX_ENTRIES`].
    #[error("index entry count il={il} out of range 1..={MAX_INDEX_ENTRIES}")]
    IndexCount {
        /// The `il` read.
        il: u32,
    },
    /// `dl` above [`MAX_DATA_LEN`].
    #[error("data length dl={dl} above {MAX_DATA_LEN}")]
    DataLength {
        /// The `dl` read.
        dl: u32,
    },
    /// The blob length is not `8 + 16·il + dl`.
    #[error("blob is {actual} bytes but 8 + 16*il + dl = {expected}")]
    BlobSize {
        /// `8 + 16·il + dl`.
        expected: u64,
        /// Actual length.
        actual: usize,
    },
    /// The region tag entry is not type BIN with count 16, or its trailer is out of the store.
    #[error("region tag {tag}: bad type {kind}, offset {offset} or count {count}")]
    RegionTag {
        /// Region tag.
        tag: u32,
        /// Its type.
        kind: u32,
        /// Its offset.
        offset: i32,
        /// Its count.
        count: u32,
    },
    /// The region trailer does not repeat the region tag, type BIN and count 16.
    #[error("region trailer: bad tag {tag}, type {kind} or count {count}")]
    RegionTrailer {
        /// Trailer tag.
        tag: u32,
        /// Trailer type.
        kind: u32,
        /// Trailer count.
        count: u32,
    },
    /// The region's size (from its trailer) does not fit the header.
    #[error("region size: ril={ril} il={il} rdl={rdl} dl={dl}")]
    RegionSize {
        /// Entries in the region (from the trailer), or the raw trailer offset when not a multiple of 16.
        ril: i64,
        /// Header entries.
        il: u32,
        /// Region data length.
        rdl: u32,
        /// Header data length.
        dl: u32,
    },
    /// An entry's tag is below [`TAG_HEADERI18NTABLE`] (a second region or a negative tag).
    #[error("entry {entry}: tag {tag} below 100")]
    EntryTag {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
    },
    /// An entry's type is not 0..=9.
    #[error("entry {entry} (tag {tag}): unknown type {kind}")]
    EntryType {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Type read.
        kind: u32,
    },
    /// An entry's count is 0, above `dl`, or above [`MAX_ARRAY_COUNT`] for a non-BIN type.
    #[error("entry {entry} (tag {tag}): bad count {count}")]
    EntryCount {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Count read.
        count: u32,
    },
    /// An entry's offset is not aligned for its type.
    #[error("entry {entry} (tag {tag}): offset {offset} misaligned for its type")]
    EntryAlign {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Offset.
        offset: i32,
    },
    /// An entry's data is not inside the store (or is empty).
    #[error("entry {entry} (tag {tag}): data at offset {offset} is outside the {dl}-byte store")]
    EntryRange {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Offset.
        offset: i32,
        /// Store length.
        dl: u32,
    },
    /// An entry's data overlaps the previous entry's or the region trailer.
    #[error(
        "entry {entry} (tag {tag}): data at offset {offset} overlaps earlier data ending at {end}"
    )]
    EntryOverlap {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Offset.
        offset: i32,
        /// End of the data it collides with.
        end: u32,
    },
    /// A string entry is not NUL-terminated inside the store (or a STRING has count ≠ 1).
    #[error("entry {entry} (tag {tag}): strings not NUL-terminated within the store")]
    EntryString {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
    },
    /// A known tag has a type rpm does not allow for it.
    #[error("entry {entry}: tag {tag} has type {kind}")]
    TagType {
        /// Entry position.
        entry: usize,
        /// Tag.
        tag: u32,
        /// Type read.
        kind: u32,
    },
    /// A tag required for a package (`NAME`, `VERSION`, `RELEASE`) is absent.
    #[error("missing tag {tag}")]
    MissingTag {
        /// The tag.
        tag: u32,
    },
}

/// One validated index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpmEntry {
    /// Tag number.
    pub tag: u32,
    /// Data type.
    pub kind: RpmType,
    /// Offset into the data store.
    pub offset: u32,
    /// Element count.
    pub count: u32,
    /// Data length in bytes (validated to lie inside the store).
    pub len: u32,
}

/// A parsed, validated rpm header borrowing its blob.
#[derive(Debug, Clone)]
pub struct RpmHeader<'a> {
    entries: Vec<RpmEntry>,
    data: &'a [u8],
    region: Option<u32>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at.saturating_add(4)) {
        w.copy_from_slice(s);
    }
    u32::from_be_bytes(w)
}

fn as_i32(v: u32) -> i32 {
    i32::from_be_bytes(v.to_be_bytes())
}

/// Expected type of the tags read by this crate (rpm's `hdrchkTagType`), `None` = any.
fn expected_type(tag: u32) -> Option<RpmType> {
    match tag {
        TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_OS | TAG_ARCH | TAG_SOURCERPM | TAG_URL => {
            Some(RpmType::String)
        }
        TAG_SUMMARY | TAG_DESCRIPTION => Some(RpmType::I18nString),
        TAG_EPOCH => Some(RpmType::Int32),
        _ => None,
    }
}

struct RawEntry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

fn raw_entry(blob: &[u8], i: usize) -> RawEntry {
    let at = 8usize.saturating_add(i.saturating_mul(ENTRY_LEN));
    RawEntry {
        tag: be32(blob, at),
        kind: be32(blob, at.saturating_add(4)),
        offset: be32(blob, at.saturating_add(8)),
        count: be32(blob, at.saturating_add(12)),
    }
}

/// Length of `count` NUL-terminated strings starting at `start` in `data`.
fn strings_len(data: &[u8], start: usize, count: u32) -> Option<u32> {
    let mut pos = start;
    for _ in 0..count {
        let rest = data.get(pos..)?;
        let nul = memchr::memchr(0, rest)?;
        pos = pos.checked_add(nul)?.checked_add(1)?;
    }
    u32::try_from(pos.checked_sub(start)?).ok()
}

impl<'a> RpmHeader<'a> {
    /// Parse and validate a header blob (see the module doc for the rules).
    pub fn parse(blob: &'a [u8]) -> Result<RpmHeader<'a>, RpmHeaderError> {
        if blob.len() < 8 {
            return Err(RpmHeaderError::TooShort { len: blob.len() });
        }
        let il = be32(blob, 0);
        let dl = be32(blob, 4);
        if !(1..=MAX_INDEX_ENTRIES).contains(&il) {
            return Err(RpmHeaderError::IndexCount { il });
        }
        if dl > MAX_DATA_LEN {
            return Err(RpmHeaderError::DataLength { dl });
        }
        // Cannot overflow: il ≤ 0xffff and dl ≤ 0x0fffffff.
        let expected = 8u64
            .saturating_add(16u64.saturating_mul(u64::from(il)))
            .saturating_add(u64::from(dl));
        if u64::try_from(blob.len()).ok() != Some(expected)
            || expected >= crate::MAX_HEADER_BYTES as u64
        {
            return Err(RpmHeaderError::BlobSize {
                expected,
                actual: blob.len(),
            });
        }
        let il_us = usize::try_from(il).map_err(|_| RpmHeaderError::IndexCount { il })?;
        let data_start = 8usize.saturating_add(il_us.saturating_mul(ENTRY_LEN));
        let data = blob.get(data_start..).unwrap_or_default();

        // Region (hdrblobVerifyRegion).
        let first = raw_entry(blob, 0);
        let mut region = None;
        let mut rdl = 0u32;
        if matches!(
            first.tag,
            TAG_HEADERIMAGE | TAG_HEADERSIGNATURES | TAG_HEADERIMMUTABLE
        ) {
            let off = as_i32(first.offset);
            let bad_tag = RpmHeaderError::RegionTag {
                tag: first.tag,
                kind: first.kind,
                offset: off,
                count: first.count,
            };
            if first.kind != 7 || first.count != REGION_TAG_COUNT {
                return Err(bad_tag);
            }
            let trailer_end = i64::from(off).saturating_add(i64::from(REGION_TAG_COUNT));
            if off < 0 || trailer_end > i64::from(dl) {
                return Err(bad_tag);
            }
            let t_at = usize::try_from(off).map_err(|_| bad_tag.clone())?;
            let t_tag = be32(data, t_at);
            let t_kind = be32(data, t_at.saturating_add(4));
            let t_off = as_i32(be32(data, t_at.saturating_add(8)));
            let t_count = be32(data, t_at.saturating_add(12));
            if t_tag != first.tag || t_kind != 7 || t_count != REGION_TAG_COUNT {
                return Err(RpmHeaderError::RegionTrailer {
                    tag: t_tag,
                    kind: t_kind,
                    count: t_count,
                });
            }
            rdl = first.offset.saturating_add(REGION_TAG_COUNT);
            // The trailer's offset is minus the region's index size.
            let neg = i64::from(t_off).saturating_neg();
            let ril = neg / 16;
            if neg % 16 != 0 || ril < 1 || ril > i64::from(il) || rdl > dl {
                return Err(RpmHeaderError::RegionSize {
                    ril: if neg % 16 != 0 { neg } else { ril },
                    il,
                    rdl,
                    dl,
                });
            }
            region = Some(first.tag);
        }

        // Entries (hdrblobVerifyInfo).
        let typechk = matches!(region, Some(TAG_HEADERIMMUTABLE | TAG_HEADERIMAGE));
        let skip = usize::from(region.is_some());
        let mut entries = Vec::with_capacity(il_us);
        if let Some(tag) = region {
            entries.push(RpmEntry {
                tag,
                kind: RpmType::Bin,
                offset: first.offset,
                count: REGION_TAG_COUNT,
                len: REGION_TAG_COUNT,
            });
        }
        let mut end: u32 = 0;
        for i in skip..il_us {
            let e = raw_entry(blob, i);
            let off = as_i32(e.offset);
            if end > e.offset {
                return Err(RpmHeaderError::EntryOverlap {
                    entry: i,
                    tag: e.tag,
                    offset: off,
                    end,
                });
            }
            if e.tag < TAG_HEADERI18NTABLE {
                return Err(RpmHeaderError::EntryTag {
                    entry: i,
                    tag: e.tag,
                });
            }
            let Some(kind) = RpmType::from_u32(e.kind) else {
                return Err(RpmHeaderError::EntryType {
                    entry: i,
                    tag: e.tag,
                    kind: e.kind,
                });
            };
            if e.count < 1 || e.count > dl {
                return Err(RpmHeaderError::EntryCount {
                    entry: i,
                    tag: e.tag,
                    count: e.count,
                });
            }
            if !e.offset.is_multiple_of(kind.align()) {
                return Err(RpmHeaderError::EntryAlign {
                    entry: i,
                    tag: e.tag,
                    offset: off,
                });
            }
            if off < 0 || e.offset > dl {
                return Err(RpmHeaderError::EntryRange {
                    entry: i,
                    tag: e.tag,
                    offset: off,
                    dl,
                });
            }
            if kind != RpmType::Bin && e.count > MAX_ARRAY_COUNT {
                return Err(RpmHeaderError::EntryCount {
                    entry: i,
                    tag: e.tag,
                    count: e.count,
                });
            }
            if typechk {
                if let Some(want) = expected_type(e.tag) {
                    let ok = want == kind || (want.is_string_class() && kind.is_string_class());
                    if !ok {
                        return Err(RpmHeaderError::TagType {
                            entry: i,
                            tag: e.tag,
                            kind: e.kind,
                        });
                    }
                }
            }
            let start = usize::try_from(e.offset).unwrap_or(usize::MAX);
            let len = match kind.size() {
                Some(sz) => {
                    let len = sz.checked_mul(e.count);
                    match len {
                        Some(l)
                            if u64::from(e.offset).saturating_add(u64::from(l))
                                <= u64::from(dl) =>
                        {
                            l
                        }
                        _ => {
                            return Err(RpmHeaderError::EntryRange {
                                entry: i,
                                tag: e.tag,
                                offset: off,
                                dl,
                            })
                        }
                    }
                }
                None => {
                    if kind == RpmType::String && e.count != 1 {
                        return Err(RpmHeaderError::EntryString {
                            entry: i,
                            tag: e.tag,
                        });
                    }
                    strings_len(data, start, e.count).ok_or(RpmHeaderError::EntryString {
                        entry: i,
                        tag: e.tag,
                    })?
                }
            };
            let new_end = e.offset.saturating_add(len);
            if new_end > dl || len == 0 {
                return Err(RpmHeaderError::EntryRange {
                    entry: i,
                    tag: e.tag,
                    offset: off,
                    dl,
                });
            }
            if region.is_some() && new_end > rdl.saturating_sub(REGION_TAG_COUNT) && e.offset < rdl
            {
                return Err(RpmHeaderError::EntryOverlap {
                    entry: i,
                    tag: e.tag,
                    offset: off,
                    end: rdl.saturating_sub(REGION_TAG_COUNT),
                });
            }
            end = new_end;
            entries.push(RpmEntry {
                tag: e.tag,
                kind,
                offset: e.offset,
                count: e.count,
                len,
            });
        }
        Ok(RpmHeader {
            entries,
            data,
            region,
        })
    }

    /// The validated index entries, in stored order (region tag first when present).
    pub fn entries(&self) -> &[RpmEntry] {
        &self.entries
    }

    /// The region tag (63 for rpmdb headers), if the header has a region.
    pub fn region_tag(&self) -> Option<u32> {
        self.region
    }

    /// The entry for `tag`. Entries added after the region ("dribbles") replace
    /// region entries with the same tag, as in rpm, so the last one wins.
    pub fn entry(&self, tag: u32) -> Option<&RpmEntry> {
        self.entries.iter().rev().find(|e| e.tag == tag)
    }

    fn bytes_of(&self, e: &RpmEntry) -> &'a [u8] {
        let start = usize::try_from(e.offset).unwrap_or(usize::MAX);
        let len = usize::try_from(e.len).unwrap_or(0);
        self.data
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    fn strings_of(&self, e: &RpmEntry) -> impl Iterator<Item = Cow<'a, str>> {
        let b = self.bytes_of(e);
        // The data ends with a NUL (validated), so the last split piece is empty.
        let n = usize::try_from(e.count).unwrap_or(0);
        b.split(|c| *c == 0).take(n).map(String::from_utf8_lossy)
    }

    /// A `STRING` tag's value (invalid UTF-8 replaced).
    pub fn string(&self, tag: u32) -> Option<Cow<'a, str>> {
        let e = self.entry(tag)?;
        if e.kind != RpmType::String {
            return None;
        }
        self.strings_of(e).next()
    }

    /// An `I18NSTRING` tag's value in the default ("C") locale, its first
    /// element; a plain `STRING` is accepted too, as rpm does.
    pub fn i18n_string(&self, tag: u32) -> Option<Cow<'a, str>> {
        let e = self.entry(tag)?;
        if !matches!(e.kind, RpmType::I18nString | RpmType::String) {
            return None;
        }
        self.strings_of(e).next()
    }

    /// A `STRING_ARRAY` (or `I18NSTRING`) tag's values.
    pub fn string_array(&self, tag: u32) -> Option<Vec<Cow<'a, str>>> {
        let e = self.entry(tag)?;
        if !matches!(e.kind, RpmType::StringArray | RpmType::I18nString) {
            return None;
        }
        Some(self.strings_of(e).collect())
    }

    /// The first value of an `INT32` tag.
    pub fn u32(&self, tag: u32) -> Option<u32> {
        let e = self.entry(tag)?;
        if e.kind != RpmType::Int32 {
            return None;
        }
        Some(be32(self.bytes_of(e), 0))
    }

    /// The package this header describes: `NAME`, `VERSION` and `RELEASE` are
    /// required (libguestfs also lists only headers with a version and release),
    /// `EPOCH` is 0 when absent, `ARCH` is `""` when absent (as for the
    /// `gpg-pubkey` pseudo-packages, which are listed like any package, as
    /// `rpm -qa` and libguestfs do).
    pub fn to_package(&self) -> Result<crate::Package, RpmHeaderError> {
        let get = |tag| self.string(tag).ok_or(RpmHeaderError::MissingTag { tag });
        let name = get(TAG_NAME)?.into_owned();
        let version = get(TAG_VERSION)?.into_owned();
        let release = get(TAG_RELEASE)?.into_owned();
        let arch = self
            .string(TAG_ARCH)
            .map(Cow::into_owned)
            .unwrap_or_default();
        let epoch = self.u32(TAG_EPOCH).unwrap_or(0);
        let keep = |s: Option<Cow<'_, str>>| s.and_then(|s| crate::detail(&s));
        Ok(crate::Package {
            name,
            epoch,
            version,
            release,
            arch,
            url: keep(self.string(TAG_URL)),
            source_package: keep(self.string(TAG_SOURCERPM).map(source_rpm_name)),
            summary: keep(self.i18n_string(TAG_SUMMARY)),
            description: keep(self.i18n_string(TAG_DESCRIPTION)),
            ..crate::Package::default()
        })
    }
}

/// The source package's name in a `SOURCERPM` file name:
/// `zlib-1.2.13-1.fc40.src.rpm` → `zlib` (less `.src.rpm`, then less the last
/// two `-` fields, version and release, which cannot contain `-`). A name not
/// of that form is kept whole.
pub fn source_rpm_name(file: Cow<'_, str>) -> Cow<'_, str> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"));
    let name = stem
        .and_then(|s| s.rsplit_once('-'))
        .and_then(|(nv, _release)| nv.rsplit_once('-'))
        .map(|(name, _version)| name)
        .filter(|n| !n.is_empty());
    match name {
        Some(n) => Cow::Owned(n.to_owned()),
        None => file,
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    clippy::manual_div_ceil,
    clippy::manual_is_multiple_of
)]
#[path = "rpm_tests.rs"]
pub(crate) mod tests;
