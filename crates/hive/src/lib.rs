//! guestctl-hive: a small, safe reader of Windows registry hive files (regf).
//!
//! One job: read keys and values out of the bytes of a hive (`SOFTWARE`,
//! `SYSTEM`, …) that the inspector has read out of a guest. Main types:
//! [`Hive`] (base block and hive bins, validated on open), [`Key`] (a key node,
//! `nk`), [`Value`] and [`RegValue`] (a value, `vk`, decoded by type).
//!
//! Safety on hostile input: every cell reference is checked to lie inside one
//! hive bin and to be allocated; names, lists and data must fit their cells;
//! `ri` index lists may not nest; key walks carry their ancestors so a cycle is
//! an error; big-data values are capped at [`MAX_VALUE_BYTES`]; path depth at
//! [`MAX_DEPTH`]; the subkeys listed by one key at [`MAX_SUBKEYS`] and at one
//! per key cell the hive could hold (an `ri` list naming the same `lf` list
//! over and over cannot multiply them). No unsafe code, no panics on any input.
//!
//! Not handled: transaction logs (`.LOG1/.LOG2`) are not replayed, so a dirty
//! hive (primary ≠ secondary sequence number, see [`Hive::is_dirty`]) is read
//! as it is on disk; security descriptors and class names are not decoded.
#![forbid(unsafe_code)]
#![warn(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::type_complexity,
    clippy::manual_div_ceil,
    clippy::manual_is_multiple_of
)]

mod error;

pub use error::{HiveError, HiveErrorKind};

/// Size of the base block; hive bins start right after it.
pub const BASE_BLOCK_LEN: usize = 4096;
/// Deepest key path followed (Windows limits key nesting to 512 levels).
pub const MAX_DEPTH: usize = 512;
/// Largest value data returned, in bytes. Real values (even big-data ones such
/// as `DigitalProductId` blobs or REG_MULTI_SZ driver lists) are far smaller; a
/// bound keeps a hostile data size from allocating gigabytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;
/// Most subkeys listed by one key. Real keys hold at most tens of thousands
/// (`HKCR\CLSID`); without a bound, an `ri` list repeating one full `lf` list
/// 65,535 times would name 4.3 G subkeys from a hive of under a megabyte.
pub const MAX_SUBKEYS: usize = 1 << 20;
/// Smallest key (`nk`) cell: a 4-byte size and the 76-byte fixed part. A key
/// lists no more subkeys than the hive has room for distinct key cells.
const MIN_KEY_CELL: usize = 80;
/// Size of one big-data segment's payload.
const BIG_DATA_SEGMENT: usize = 16344;

/// Value type numbers.
pub mod reg_type {
    /// REG_NONE
    pub const NONE: u32 = 0;
    /// REG_SZ
    pub const SZ: u32 = 1;
    /// REG_EXPAND_SZ
    pub const EXPAND_SZ: u32 = 2;
    /// REG_BINARY
    pub const BINARY: u32 = 3;
    /// REG_DWORD
    pub const DWORD: u32 = 4;
    /// REG_DWORD_BIG_ENDIAN
    pub const DWORD_BIG_ENDIAN: u32 = 5;
    /// REG_LINK
    pub const LINK: u32 = 6;
    /// REG_MULTI_SZ
    pub const MULTI_SZ: u32 = 7;
    /// REG_QWORD
    pub const QWORD: u32 = 11;
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let mut w = [0u8; 4];
    w.copy_from_slice(s);
    Some(u32::from_le_bytes(w))
}

fn us(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// An open hive: the validated base block and hive bin table over borrowed bytes.
#[derive(Debug, Clone)]
pub struct Hive<'a> {
    bins: &'a [u8],
    /// `(start, end)` of every hive bin, relative to `bins`, in order.
    hbins: Vec<(u32, u32)>,
    root: u32,
    minor: u32,
    dirty: bool,
}

impl<'a> Hive<'a> {
    /// Open a hive: check the base block (signature, checksum, version 1.2–1.6,
    /// primary file type, hive bins size) and every hive bin header.
    pub fn new(bytes: &'a [u8]) -> Result<Hive<'a>, HiveError> {
        if bytes.len() < BASE_BLOCK_LEN.saturating_add(4096) {
            return Err(HiveError::TooShort { len: bytes.len() });
        }
        if bytes.get(..4) != Some(b"regf") {
            return Err(HiveError::BaseSignature);
        }
        let f = |at| le32(bytes, at).unwrap_or(0);
        let mut computed = 0u32;
        for i in 0..127usize {
            computed ^= f(i.saturating_mul(4));
        }
        computed = match computed {
            0 => 1,
            0xffff_ffff => 0xffff_fffe,
            c => c,
        };
        let stored = f(508);
        if stored != computed {
            return Err(HiveError::Checksum { stored, computed });
        }
        let (seq1, seq2, major, minor, ftype, format) = (f(4), f(8), f(20), f(24), f(28), f(32));
        if major != 1 {
            return Err(HiveError::Unsupported {
                what: "major version",
                value: major,
            });
        }
        if !(2..=6).contains(&minor) {
            return Err(HiveError::Unsupported {
                what: "minor version",
                value: minor,
            });
        }
        if ftype != 0 {
            return Err(HiveError::Unsupported {
                what: "file type",
                value: ftype,
            });
        }
        if format != 1 {
            return Err(HiveError::Unsupported {
                what: "file format",
                value: format,
            });
        }
        let root = f(36);
        let size = f(40);
        let avail = bytes.len().saturating_sub(BASE_BLOCK_LEN);
        if size == 0 || !size.is_multiple_of(4096) || us(size) > avail {
            return Err(HiveError::BinsSize {
                size,
                file_len: bytes.len(),
            });
        }
        let bins = bytes
            .get(BASE_BLOCK_LEN..BASE_BLOCK_LEN.saturating_add(us(size)))
            .unwrap_or_default();
        // Walk the hive bin headers; each bin is at least 4096 bytes, so the loop
        // runs at most size/4096 times.
        let mut hbins = Vec::new();
        let mut at: u32 = 0;
        while at < size {
            let a = us(at);
            let bad = |reason| HiveError::Hbin { offset: at, reason };
            if bins.get(a..a.saturating_add(4)) != Some(b"hbin") {
                return Err(bad("bad signature"));
            }
            if le32(bins, a.saturating_add(4)) != Some(at) {
                return Err(bad("offset field does not match its position"));
            }
            let len = le32(bins, a.saturating_add(8)).unwrap_or(0);
            if len == 0 || !len.is_multiple_of(4096) || len > size.saturating_sub(at) {
                return Err(bad("bad size"));
            }
            let end = at.saturating_add(len);
            hbins.push((at, end));
            at = end;
        }
        let hive = Hive {
            bins,
            hbins,
            root,
            minor,
            dirty: seq1 != seq2,
        };
        // The root must be a valid key node.
        hive.key_at(root, Vec::new())?;
        Ok(hive)
    }

    /// True when the primary and secondary sequence numbers differ: the hive
    /// was not cleanly written and its transaction log (not read) holds newer data.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Hive format minor version (2 to 6).
    pub fn minor_version(&self) -> u32 {
        self.minor
    }

    /// Data of the allocated cell at `offset` (without its size field).
    fn cell(&self, offset: u32) -> Result<&'a [u8], HiveError> {
        if !offset.is_multiple_of(8) {
            return Err(HiveError::CellOffset { offset });
        }
        let idx = self.hbins.partition_point(|(start, _)| *start <= offset);
        let Some((start, end)) = idx.checked_sub(1).and_then(|i| self.hbins.get(i)).copied() else {
            return Err(HiveError::CellOffset { offset });
        };
        // Cells start after the 32-byte hbin header.
        if offset < start.saturating_add(32) || offset.saturating_add(8) > end {
            return Err(HiveError::CellOffset { offset });
        }
        let o = us(offset);
        let raw = le32(self.bins, o).ok_or(HiveError::CellOffset { offset })?;
        let size = i32::from_le_bytes(raw.to_le_bytes());
        if size >= 0 {
            return Err(HiveError::FreeCell { offset });
        }
        let len = size.unsigned_abs();
        if len < 8 || !len.is_multiple_of(8) || len > end.saturating_sub(offset) {
            return Err(HiveError::CellSize { offset, size });
        }
        Ok(self
            .bins
            .get(o.saturating_add(4)..o.saturating_add(us(len)))
            .unwrap_or_default())
    }

    fn typed_cell(
        &self,
        offset: u32,
        sigs: &[&[u8; 2]],
        expected: &'static str,
    ) -> Result<&'a [u8], HiveError> {
        let c = self.cell(offset)?;
        let found = [
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ];
        if !sigs.iter().any(|s| **s == found) {
            return Err(HiveError::CellType {
                offset,
                expected,
                found,
            });
        }
        Ok(c)
    }

    fn key_at(&self, offset: u32, ancestors: Vec<u32>) -> Result<Key<'_>, HiveError> {
        if ancestors.contains(&offset) {
            return Err(HiveError::Cycle { offset });
        }
        if ancestors.len() >= MAX_DEPTH {
            return Err(HiveError::LimitExceeded {
                what: "key depth",
                limit: MAX_DEPTH as u64,
            });
        }
        let c = self.typed_cell(offset, &[b"nk"], "nk")?;
        let tr = |what| HiveError::Truncated { offset, what };
        let flags = le16(c, 2).ok_or(tr("key node"))?;
        let n = |at| le32(c, at).ok_or(tr("key node"));
        let subkey_count = n(20)?;
        let subkey_list = n(28)?;
        let value_count = n(36)?;
        let value_list = n(40)?;
        let name_len = usize::from(le16(c, 72).ok_or(tr("key node"))?);
        let raw = c
            .get(76..76usize.saturating_add(name_len))
            .ok_or(tr("key name"))?;
        let name = decode_name(raw, flags & 0x0020 != 0);
        Ok(Key {
            hive: self,
            offset,
            name,
            subkey_count,
            subkey_list,
            value_count,
            value_list,
            ancestors,
        })
    }

    /// The root key.
    pub fn root_key(&self) -> Result<Key<'_>, HiveError> {
        self.key_at(self.root, Vec::new())
    }

    /// Open a key by path relative to the root, components separated by `\`
    /// (leading, trailing and doubled separators ignored), compared
    /// case-insensitively. `Ok(None)` when a component does not exist.
    pub fn open_key(&self, path: &str) -> Result<Option<Key<'_>>, HiveError> {
        let mut key = self.root_key()?;
        for comp in path.split('\\').filter(|c| !c.is_empty()) {
            match key.subkey(comp)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }
}

fn decode_name(raw: &[u8], compressed: bool) -> String {
    if compressed {
        // "Compressed" names are Latin-1: one byte per character.
        raw.iter().map(|b| char::from(*b)).collect()
    } else {
        decode_utf16(raw)
    }
}

/// UTF-16LE bytes as text, as the hive stores names and strings: an odd last byte
/// is ignored and an unpaired surrogate becomes U+FFFD.
fn decode_utf16(raw: &[u8]) -> String {
    let units = raw
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes(p.try_into().unwrap_or_default()));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn names_equal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_uppercase() == b.to_uppercase())
}

/// A registry key (`nk` cell).
#[derive(Debug, Clone)]
pub struct Key<'h> {
    hive: &'h Hive<'h>,
    offset: u32,
    name: String,
    subkey_count: u32,
    subkey_list: u32,
    value_count: u32,
    value_list: u32,
    ancestors: Vec<u32>,
}

impl<'h> Key<'h> {
    /// The key's name (the root key's name is whatever the hive stores, e.g. `ROOT`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Offset of the key's cell (an identity within the hive).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// Offsets of the subkey `nk` cells, following `lf`/`lh`/`li` lists and one
    /// level of `ri` index lists.
    fn subkey_offsets(&self) -> Result<Vec<u32>, HiveError> {
        if self.subkey_count == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        self.hive
            .read_subkey_list(self.subkey_list, true, &mut out)?;
        Ok(out)
    }

    fn child(&self, offset: u32) -> Result<Key<'h>, HiveError> {
        let mut anc = Vec::with_capacity(self.ancestors.len().saturating_add(1));
        anc.extend_from_slice(&self.ancestors);
        anc.push(self.offset);
        self.hive.key_at(offset, anc)
    }

    /// The key's subkeys, in stored order. Errors on the first bad subkey.
    pub fn subkeys(&self) -> Result<Vec<Key<'h>>, HiveError> {
        self.subkey_offsets()?
            .into_iter()
            .map(|o| self.child(o))
            .collect()
    }

    /// The subkey named `name` (case-insensitive), if any.
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h>>, HiveError> {
        for o in self.subkey_offsets()? {
            let k = self.child(o)?;
            if names_equal(&k.name, name) {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    fn value_offsets(&self) -> Result<Vec<u32>, HiveError> {
        if self.value_count == 0 {
            return Ok(Vec::new());
        }
        let c = self.hive.cell(self.value_list)?;
        let n = us(self.value_count);
        if n > c.len() / 4 {
            return Err(HiveError::Truncated {
                offset: self.value_list,
                what: "value list",
            });
        }
        Ok((0..n)
            .filter_map(|i| le32(c, i.saturating_mul(4)))
            .collect())
    }

    /// The key's values, in stored order. Errors on the first bad value.
    pub fn values(&self) -> Result<Vec<Value>, HiveError> {
        self.value_offsets()?
            .into_iter()
            .map(|o| self.hive.value_at(o))
            .collect()
    }

    /// The value named `name` (case-insensitive; `""` is the default value), if any.
    pub fn value(&self, name: &str) -> Result<Option<RegValue>, HiveError> {
        for o in self.value_offsets()? {
            let (vname, _) = self.hive.value_header(o)?;
            if names_equal(&vname, name) {
                return Ok(Some(self.hive.value_at(o)?.data));
            }
        }
        Ok(None)
    }
}

/// A decoded registry value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegValue {
    /// REG_NONE.
    None(Vec<u8>),
    /// REG_SZ (UTF-16LE, up to the first NUL).
    String(String),
    /// REG_EXPAND_SZ (unexpanded).
    ExpandString(String),
    /// REG_BINARY.
    Binary(Vec<u8>),
    /// REG_DWORD (little-endian).
    Dword(u32),
    /// REG_DWORD_BIG_ENDIAN.
    DwordBigEndian(u32),
    /// REG_MULTI_SZ (empty trailing strings dropped).
    MultiString(Vec<String>),
    /// REG_QWORD.
    Qword(u64),
    /// Any other type (REG_LINK, resource lists, …) or a DWORD/QWORD of the wrong size.
    Other {
        /// Type number.
        kind: u32,
        /// Raw data.
        data: Vec<u8>,
    },
}

impl RegValue {
    /// The value as a string when it is REG_SZ or REG_EXPAND_SZ.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RegValue::String(s) | RegValue::ExpandString(s) => Some(s),
            _ => None,
        }
    }
    /// The value as a number when it is REG_DWORD, REG_DWORD_BIG_ENDIAN or REG_QWORD.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            RegValue::Dword(v) | RegValue::DwordBigEndian(v) => Some(u64::from(*v)),
            RegValue::Qword(v) => Some(*v),
            _ => None,
        }
    }
}

/// A named value of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// Name (`""` for the key's default value).
    pub name: String,
    /// Type number (see [`reg_type`]).
    pub kind: u32,
    /// Decoded data.
    pub data: RegValue,
}

fn decode_value(kind: u32, data: Vec<u8>) -> RegValue {
    let sz = |d: &[u8]| {
        let mut s = decode_utf16(d);
        if let Some(end) = s.find('\0') {
            s.truncate(end);
        }
        s
    };
    match kind {
        reg_type::NONE => RegValue::None(data),
        reg_type::SZ => RegValue::String(sz(&data)),
        reg_type::EXPAND_SZ => RegValue::ExpandString(sz(&data)),
        reg_type::BINARY => RegValue::Binary(data),
        reg_type::DWORD | reg_type::DWORD_BIG_ENDIAN if data.len() == 4 => {
            let mut w = [0u8; 4];
            w.copy_from_slice(&data);
            if kind == reg_type::DWORD {
                RegValue::Dword(u32::from_le_bytes(w))
            } else {
                RegValue::DwordBigEndian(u32::from_be_bytes(w))
            }
        }
        reg_type::QWORD if data.len() == 8 => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&data);
            RegValue::Qword(u64::from_le_bytes(w))
        }
        reg_type::MULTI_SZ => {
            let mut v: Vec<String> = decode_utf16(&data).split('\0').map(String::from).collect();
            while v.last().is_some_and(String::is_empty) {
                v.pop();
            }
            RegValue::MultiString(v)
        }
        _ => RegValue::Other { kind, data },
    }
}

impl<'a> Hive<'a> {
    fn read_subkey_list(
        &self,
        offset: u32,
        allow_ri: bool,
        out: &mut Vec<u32>,
    ) -> Result<(), HiveError> {
        let c = self.typed_cell(offset, &[b"lf", b"lh", b"li", b"ri"], "lf/lh/li/ri")?;
        let count = usize::from(le16(c, 2).unwrap_or(0));
        let sig = [
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ];
        let stride = if &sig == b"lf" || &sig == b"lh" {
            8usize
        } else {
            4
        };
        if count.saturating_mul(stride) > c.len().saturating_sub(4) {
            return Err(HiveError::Truncated {
                offset,
                what: "subkey list",
            });
        }
        for i in 0..count {
            let at = 4usize.saturating_add(i.saturating_mul(stride));
            let o = le32(c, at).ok_or(HiveError::Truncated {
                offset,
                what: "subkey list",
            })?;
            if &sig == b"ri" {
                if !allow_ri {
                    return Err(HiveError::CellType {
                        offset: o,
                        expected: "lf/lh/li (ri may not nest)",
                        found: *b"ri",
                    });
                }
                self.read_subkey_list(o, false, out)?;
            } else {
                if out.len() >= self.max_subkeys() {
                    return Err(HiveError::LimitExceeded {
                        what: "subkeys of one key",
                        limit: self.max_subkeys() as u64,
                    });
                }
                out.push(o);
            }
        }
        Ok(())
    }

    /// Most subkey offsets one key may list: [`MAX_SUBKEYS`], and no more than
    /// the key cells the hive bins have room for.
    fn max_subkeys(&self) -> usize {
        MAX_SUBKEYS.min(self.bins.len() / MIN_KEY_CELL)
    }

    /// Name and type of the value at `offset`, without reading its data.
    fn value_header(&self, offset: u32) -> Result<(String, u32), HiveError> {
        let c = self.typed_cell(offset, &[b"vk"], "vk")?;
        let tr = |what| HiveError::Truncated { offset, what };
        let name_len = usize::from(le16(c, 2).ok_or(tr("value node"))?);
        let kind = le32(c, 12).ok_or(tr("value node"))?;
        let flags = le16(c, 16).ok_or(tr("value node"))?;
        let raw = c
            .get(20..20usize.saturating_add(name_len))
            .ok_or(tr("value name"))?;
        Ok((decode_name(raw, flags & 0x0001 != 0), kind))
    }

    fn value_at(&self, offset: u32) -> Result<Value, HiveError> {
        let (name, kind) = self.value_header(offset)?;
        let c = self.cell(offset)?;
        let tr = |what| HiveError::Truncated { offset, what };
        let size_raw = le32(c, 4).ok_or(tr("value node"))?;
        let data_off = le32(c, 8).ok_or(tr("value node"))?;
        let data = if size_raw & 0x8000_0000 != 0 {
            // Resident data: up to 4 bytes stored in the offset field itself.
            let len = us(size_raw & 0x7fff_ffff).min(4);
            data_off
                .to_le_bytes()
                .get(..len)
                .unwrap_or_default()
                .to_vec()
        } else {
            let len = us(size_raw);
            if len > MAX_VALUE_BYTES {
                return Err(HiveError::LimitExceeded {
                    what: "value data size",
                    limit: MAX_VALUE_BYTES as u64,
                });
            }
            if len == 0 {
                Vec::new()
            } else {
                let dc = self.cell(data_off)?;
                if len > BIG_DATA_SEGMENT && self.minor >= 4 && dc.get(..2) == Some(b"db") {
                    self.big_data(data_off, dc, len)?
                } else {
                    dc.get(..len)
                        .ok_or(HiveError::Truncated {
                            offset: data_off,
                            what: "value data",
                        })?
                        .to_vec()
                }
            }
        };
        Ok(Value {
            name,
            kind,
            data: decode_value(kind, data),
        })
    }

    fn big_data(&self, offset: u32, db: &[u8], len: usize) -> Result<Vec<u8>, HiveError> {
        let tr = |what| HiveError::Truncated { offset, what };
        let segs = usize::from(le16(db, 2).ok_or(tr("big data"))?);
        let list_off = le32(db, 4).ok_or(tr("big data"))?;
        let list = self.cell(list_off)?;
        if segs.saturating_mul(4) > list.len() {
            return Err(HiveError::Truncated {
                offset: list_off,
                what: "big data segment list",
            });
        }
        let mut out = Vec::with_capacity(len);
        for i in 0..segs {
            if out.len() >= len {
                break;
            }
            let so = le32(list, i.saturating_mul(4)).ok_or(tr("big data"))?;
            let seg = self.cell(so)?;
            let want = len.saturating_sub(out.len()).min(BIG_DATA_SEGMENT);
            let piece = seg.get(..want).ok_or(HiveError::Truncated {
                offset: so,
                what: "big data segment",
            })?;
            out.extend_from_slice(piece);
        }
        if out.len() < len {
            return Err(tr("big data segments"));
        }
        Ok(out)
    }
}

#[cfg(any(test, feature = "test-support"))]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
pub mod testwriter;

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
mod tests;
