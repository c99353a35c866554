//! An encoder for rpm headers in the form rpm keeps them in its database: the
//! package's immutable region (tag `RPMTAG_HEADERIMMUTABLE`, 63) followed by the
//! "dribble" entries rpm adds at install time (install time, transaction id, …).
//!
//! Blob layout (all integers big-endian):
//! ```text
//! il:u32  dl:u32                      number of index entries, data length
//! il × { tag:u32 type:u32 offset:i32 count:u32 }
//! dl bytes of data
//! ```
//! Entry 0 is the region tag: `{63, BIN, offset of trailer, 16}`. The trailer, 16
//! bytes in the data right after the region's data, is `{63, BIN, -(ril*16), 16}`
//! where `ril` is the number of index entries inside the region (the region tag
//! included). Region entries come sorted by tag with their data in the same order,
//! each aligned to its type's size (2, 4 or 8); dribble entries follow with their
//! data after the trailer. rpm checks exactly this: increasing offsets, alignment,
//! `8 + il*16 + dl == blob length`, and that the sum of the aligned data lengths
//! plus 16 equals `dl`.

use crate::error::MockDiskError;

/// `RPM_INT32_TYPE`.
pub(crate) const RPM_INT32: u32 = 4;
/// `RPM_STRING_TYPE`.
pub(crate) const RPM_STRING: u32 = 6;
/// `RPM_BIN_TYPE`.
pub(crate) const RPM_BIN: u32 = 7;
/// `RPM_STRING_ARRAY_TYPE`.
pub(crate) const RPM_STRING_ARRAY: u32 = 8;
/// `RPM_I18NSTRING_TYPE`.
pub(crate) const RPM_I18NSTRING: u32 = 9;
/// `RPMTAG_HEADERIMMUTABLE`: the region tag of a package header.
pub(crate) const RPMTAG_HEADERIMMUTABLE: u32 = 63;

/// rpm tag numbers used by the generator (`lib/rpmtag.h`).
#[allow(missing_docs)]
pub(crate) mod tag {
    pub const HEADERI18NTABLE: u32 = 100;
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const SUMMARY: u32 = 1004;
    pub const DESCRIPTION: u32 = 1005;
    pub const BUILDTIME: u32 = 1006;
    pub const BUILDHOST: u32 = 1007;
    pub const INSTALLTIME: u32 = 1008;
    pub const SIZE: u32 = 1009;
    pub const VENDOR: u32 = 1011;
    pub const LICENSE: u32 = 1014;
    pub const PACKAGER: u32 = 1015;
    pub const GROUP: u32 = 1016;
    pub const URL: u32 = 1020;
    pub const OS: u32 = 1021;
    pub const ARCH: u32 = 1022;
    pub const SOURCERPM: u32 = 1044;
    pub const PROVIDENAME: u32 = 1047;
    pub const REQUIREFLAGS: u32 = 1048;
    pub const REQUIRENAME: u32 = 1049;
    pub const REQUIREVERSION: u32 = 1050;
    pub const RPMVERSION: u32 = 1064;
    pub const PROVIDEFLAGS: u32 = 1112;
    pub const PROVIDEVERSION: u32 = 1113;
    pub const PAYLOADFORMAT: u32 = 1124;
    pub const PAYLOADCOMPRESSOR: u32 = 1125;
    pub const INSTALLCOLOR: u32 = 1127;
    pub const INSTALLTID: u32 = 1128;
    pub const PLATFORM: u32 = 1132;
    pub const ENCODING: u32 = 5062;
}

/// rpm refuses headers with more index entries than this (`HEADER_TAGS_MAX`).
const HEADER_TAGS_MAX: usize = 0xffff;
/// rpm refuses headers with more data than this (`HEADER_DATA_MAX`, 256 MiB).
const HEADER_DATA_MAX: usize = 0x0fff_ffff;

/// A tag's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `RPM_STRING_TYPE`.
    Str(String),
    /// `RPM_I18NSTRING_TYPE` with one string per locale of the i18n table.
    I18n(Vec<String>),
    /// `RPM_STRING_ARRAY_TYPE`.
    StrArray(Vec<String>),
    /// `RPM_INT32_TYPE` (one or more).
    Int32(Vec<u32>),
    /// `RPM_BIN_TYPE` (digests such as SIGMD5; not written by the generator yet).
    #[allow(dead_code)]
    Bin(Vec<u8>),
}

impl Value {
    fn type_code(&self) -> u32 {
        match self {
            Value::Str(_) => RPM_STRING,
            Value::I18n(_) => RPM_I18NSTRING,
            Value::StrArray(_) => RPM_STRING_ARRAY,
            Value::Int32(_) => RPM_INT32,
            Value::Bin(_) => RPM_BIN,
        }
    }
    fn count(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::I18n(v) | Value::StrArray(v) => v.len(),
            Value::Int32(v) => v.len(),
            Value::Bin(v) => v.len(),
        }
    }
    fn align(&self) -> usize {
        match self {
            Value::Int32(_) => 4,
            _ => 1,
        }
    }
    fn write(&self, data: &mut Vec<u8>) -> Result<(), MockDiskError> {
        fn cstr(data: &mut Vec<u8>, s: &str) -> Result<(), MockDiskError> {
            if s.as_bytes().contains(&0) {
                return Err(MockDiskError::PackageDb(format!(
                    "rpm header string contains NUL: {s:?}"
                )));
            }
            data.extend_from_slice(s.as_bytes());
            data.push(0);
            Ok(())
        }
        match self {
            Value::Str(s) => cstr(data, s)?,
            Value::I18n(v) | Value::StrArray(v) => {
                for s in v {
                    cstr(data, s)?;
                }
            }
            Value::Int32(v) => {
                for x in v {
                    data.extend_from_slice(&x.to_be_bytes());
                }
            }
            Value::Bin(b) => data.extend_from_slice(b),
        }
        Ok(())
    }
}

/// Builds one header blob.
#[derive(Debug, Default, Clone)]
pub(crate) struct HeaderBuilder {
    region: Vec<(u32, Value)>,
    dribble: Vec<(u32, Value)>,
}

impl HeaderBuilder {
    /// An empty header.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a tag inside the immutable region (the package's own metadata).
    pub fn add(&mut self, tag: u32, value: Value) -> &mut Self {
        self.region.push((tag, value));
        self
    }
    /// Add a tag outside the region (what rpm appends at install time).
    pub fn add_installed(&mut self, tag: u32, value: Value) -> &mut Self {
        self.dribble.push((tag, value));
        self
    }

    /// The blob as stored in `Packages.blob`.
    pub fn encode(&self) -> Result<Vec<u8>, MockDiskError> {
        let mut region = self.region.clone();
        region.sort_by_key(|(t, _)| *t);
        let mut dribble = self.dribble.clone();
        dribble.sort_by_key(|(t, _)| *t);
        for (t, v) in region.iter().chain(dribble.iter()) {
            if *t < tag::HEADERI18NTABLE {
                return Err(MockDiskError::PackageDb(format!("rpm tag {t} is reserved")));
            }
            if v.count() == 0 {
                return Err(MockDiskError::PackageDb(format!(
                    "rpm tag {t} has no values"
                )));
            }
        }
        let ril = region.len() + 1;
        let il = ril + dribble.len();
        if il > HEADER_TAGS_MAX {
            return Err(MockDiskError::PackageDb(format!(
                "rpm header has {il} tags"
            )));
        }
        let mut index: Vec<[u32; 4]> = Vec::with_capacity(il);
        let mut data: Vec<u8> = Vec::new();
        let place = |t: u32,
                     v: &Value,
                     data: &mut Vec<u8>,
                     index: &mut Vec<[u32; 4]>|
         -> Result<(), MockDiskError> {
            while !data.len().is_multiple_of(v.align()) {
                data.push(0);
            }
            let offset = to_u32(data.len())?;
            v.write(data)?;
            index.push([t, v.type_code(), offset, to_u32(v.count())?]);
            Ok(())
        };
        index.push([0; 4]); // the region tag, filled in below
        for (t, v) in &region {
            place(*t, v, &mut data, &mut index)?;
        }
        let trailer_offset = to_u32(data.len())?;
        let neg = 0u32.wrapping_sub(to_u32(ril * 16)?); // -(ril*16) as two's complement
        for x in [RPMTAG_HEADERIMMUTABLE, RPM_BIN, neg, 16] {
            data.extend_from_slice(&x.to_be_bytes());
        }
        if let Some(first) = index.first_mut() {
            *first = [RPMTAG_HEADERIMMUTABLE, RPM_BIN, trailer_offset, 16];
        }
        for (t, v) in &dribble {
            place(*t, v, &mut data, &mut index)?;
        }
        if data.len() > HEADER_DATA_MAX {
            return Err(MockDiskError::PackageDb(format!(
                "rpm header data is {} bytes",
                data.len()
            )));
        }
        let mut out = Vec::with_capacity(8 + il * 16 + data.len());
        out.extend_from_slice(&to_u32(il)?.to_be_bytes());
        out.extend_from_slice(&to_u32(data.len())?.to_be_bytes());
        for e in &index {
            for x in e {
                out.extend_from_slice(&x.to_be_bytes());
            }
        }
        out.extend_from_slice(&data);
        Ok(out)
    }
}

fn to_u32(n: usize) -> Result<u32, MockDiskError> {
    u32::try_from(n)
        .map_err(|_| MockDiskError::PackageDb(format!("rpm header value {n} exceeds 32 bits")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! An independent minimal decoder that follows rpm's checks
    //! (`hdrblobVerifyRegion`, `hdrblobVerifyInfo`, `regionSwab`).
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry {
        tag: u32,
        typ: u32,
        offset: i32,
        count: u32,
    }

    fn be32(b: &[u8], o: usize) -> u32 {
        u32::from_be_bytes(b[o..o + 4].try_into().unwrap())
    }

    /// Decodes and checks a blob; returns (ril, entries, data).
    fn decode(blob: &[u8]) -> (usize, Vec<Entry>, Vec<u8>) {
        let il = be32(blob, 0) as usize;
        let dl = be32(blob, 4) as usize;
        assert_eq!(blob.len(), 8 + il * 16 + dl, "blob length");
        let entries: Vec<Entry> = (0..il)
            .map(|i| {
                let o = 8 + i * 16;
                Entry {
                    tag: be32(blob, o),
                    typ: be32(blob, o + 4),
                    offset: be32(blob, o + 8) as i32,
                    count: be32(blob, o + 12),
                }
            })
            .collect();
        let data = blob[8 + il * 16..].to_vec();
        // Region tag and trailer.
        let r = &entries[0];
        assert_eq!((r.tag, r.typ, r.count), (63, 7, 16));
        let toff = r.offset as usize;
        assert!(toff + 16 <= dl);
        let tr = Entry {
            tag: be32(&data, toff),
            typ: be32(&data, toff + 4),
            offset: be32(&data, toff + 8) as i32,
            count: be32(&data, toff + 12),
        };
        assert_eq!((tr.tag, tr.typ, tr.count), (63, 7, 16));
        assert!(tr.offset < 0 && (-tr.offset) % 16 == 0);
        let ril = (-tr.offset) as usize / 16;
        assert!(ril <= il);
        let rdl = toff + 16;
        // Entries: increasing, aligned, in range; recompute the packed data length.
        let mut end = 0usize;
        let mut packed = 0usize;
        for (i, e) in entries.iter().enumerate().skip(1) {
            assert!(e.tag >= 100);
            let off = e.offset as usize;
            assert!(end <= off, "entry {i} overlaps the previous one");
            let size = match e.typ {
                4 => 4,
                3 => 2,
                5 => 8,
                _ => 1,
            };
            assert_eq!(off % size, 0, "entry {i} misaligned");
            let len = match e.typ {
                6 => {
                    assert_eq!(e.count, 1);
                    data[off..].iter().position(|&b| b == 0).unwrap() + 1
                }
                8 | 9 => {
                    let mut p = off;
                    for _ in 0..e.count {
                        p += data[p..].iter().position(|&b| b == 0).unwrap() + 1;
                    }
                    p - off
                }
                7 => e.count as usize,
                4 => 4 * e.count as usize,
                t => panic!("type {t}"),
            };
            assert!(off + len <= dl);
            if i < ril {
                assert!(
                    off + len <= rdl - 16,
                    "region entry {i} overlaps the trailer"
                );
            } else {
                assert!(off >= rdl, "dribble entry {i} inside the region");
            }
            if i == ril {
                assert_eq!(
                    packed + 16 + (off - rdl),
                    off,
                    "region data is packed before the trailer"
                );
            }
            while !packed.is_multiple_of(size) {
                packed += 1;
            }
            packed += len;
            end = off + len;
        }
        assert_eq!(
            packed + 16,
            dl,
            "data is packed as rpm's regionSwab computes it"
        );
        (ril, entries, data)
    }

    fn string_at(data: &[u8], off: i32) -> String {
        let off = off as usize;
        let n = data[off..].iter().position(|&b| b == 0).unwrap();
        String::from_utf8(data[off..off + n].to_vec()).unwrap()
    }

    #[test]
    fn round_trip() {
        let mut h = HeaderBuilder::new();
        h.add(tag::NAME, Value::Str("openssl-libs".into()))
            .add(tag::VERSION, Value::Str("3.0.7".into()))
            .add(tag::RELEASE, Value::Str("27.el9".into()))
            .add(tag::EPOCH, Value::Int32(vec![1]))
            .add(
                tag::SUMMARY,
                Value::I18n(vec!["A general purpose cryptography library".into()]),
            )
            .add(tag::HEADERI18NTABLE, Value::StrArray(vec!["C".into()]))
            .add(tag::ARCH, Value::Str("x86_64".into()))
            .add(
                tag::PROVIDENAME,
                Value::StrArray(vec!["openssl-libs".into(), "openssl-libs(x86-64)".into()]),
            )
            .add(tag::SIZE, Value::Int32(vec![7_000_000]))
            .add_installed(tag::INSTALLTIME, Value::Int32(vec![1_715_212_800]))
            .add_installed(tag::INSTALLTID, Value::Int32(vec![1_715_212_800]));
        let blob = h.encode().unwrap();
        let (ril, entries, data) = decode(&blob);
        assert_eq!(ril, 10);
        assert_eq!(entries.len(), 12);
        let tags: Vec<u32> = entries.iter().map(|e| e.tag).collect();
        assert_eq!(
            tags,
            vec![63, 100, 1000, 1001, 1002, 1003, 1004, 1009, 1022, 1047, 1008, 1128]
        );
        let get = |t: u32| entries.iter().find(|e| e.tag == t).unwrap();
        assert_eq!(string_at(&data, get(1000).offset), "openssl-libs");
        assert_eq!(string_at(&data, get(1001).offset), "3.0.7");
        assert_eq!(string_at(&data, get(1002).offset), "27.el9");
        assert_eq!(get(1004).typ, RPM_I18NSTRING);
        assert_eq!(be32(&data, get(1003).offset as usize), 1);
        assert_eq!(be32(&data, get(1009).offset as usize), 7_000_000);
        assert_eq!(be32(&data, get(1128).offset as usize), 1_715_212_800);
        let p = get(1047);
        assert_eq!(p.count, 2);
        assert_eq!(string_at(&data, p.offset), "openssl-libs");
        assert_eq!(string_at(&data, p.offset + 13), "openssl-libs(x86-64)");
    }

    #[test]
    fn alignment_padding_after_odd_strings() {
        for name_len in 1..9 {
            let mut h = HeaderBuilder::new();
            h.add(tag::NAME, Value::Str("x".repeat(name_len)))
                .add(tag::EPOCH, Value::Int32(vec![2]))
                .add(tag::SUMMARY, Value::I18n(vec!["s".into()]))
                .add(tag::BUILDTIME, Value::Int32(vec![5]))
                .add(tag::OS, Value::Str("linux".repeat(name_len)))
                .add_installed(tag::INSTALLCOLOR, Value::Int32(vec![0]));
            decode(&h.encode().unwrap());
        }
    }

    #[test]
    fn rejects_bad_values() {
        let mut h = HeaderBuilder::new();
        h.add(tag::NAME, Value::Str("a\0b".into()));
        assert!(h.encode().is_err());
        let mut h = HeaderBuilder::new();
        h.add(tag::PROVIDENAME, Value::StrArray(vec![]));
        assert!(h.encode().is_err());
        let mut h = HeaderBuilder::new();
        h.add(62, Value::Int32(vec![1]));
        assert!(h.encode().is_err());
    }
}
