//! Tests of the rpm header codec against headers made by a small independent
//! encoder written here from the format description (not from the parser).

use super::*;

/// One tag to encode: (tag, type, count, data bytes).
#[derive(Clone)]
pub(crate) struct T(pub u32, pub u32, pub u32, pub Vec<u8>);

pub(crate) fn s(tag: u32, v: &str) -> T {
    let mut d = v.as_bytes().to_vec();
    d.push(0);
    T(tag, 6, 1, d)
}
pub(crate) fn strs(tag: u32, ty: u32, v: &[&str]) -> T {
    let mut d = Vec::new();
    for x in v {
        d.extend_from_slice(x.as_bytes());
        d.push(0);
    }
    T(tag, ty, v.len() as u32, d)
}
pub(crate) fn i32s(tag: u32, v: &[u32]) -> T {
    T(
        tag,
        4,
        v.len() as u32,
        v.iter().flat_map(|x| x.to_be_bytes()).collect(),
    )
}

fn align_of(ty: u32) -> usize {
    match ty {
        3 => 2,
        4 => 4,
        5 => 8,
        _ => 1,
    }
}

/// Encode a header with region tag 63 around `region` and `dribbles` after it.
pub(crate) fn encode(region: &[T], dribbles: &[T]) -> Vec<u8> {
    let mut index: Vec<[u32; 4]> = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let put = |t: &T, index: &mut Vec<[u32; 4]>, data: &mut Vec<u8>| {
        while data.len() % align_of(t.1) != 0 {
            data.push(0);
        }
        index.push([t.0, t.1, data.len() as u32, t.2]);
        data.extend_from_slice(&t.3);
    };
    for t in region {
        put(t, &mut index, &mut data);
    }
    let ril = index.len() as u32 + 1;
    let trailer_off = data.len() as u32;
    data.extend_from_slice(&63u32.to_be_bytes());
    data.extend_from_slice(&7u32.to_be_bytes());
    data.extend_from_slice(&(-(ril as i32 * 16)).to_be_bytes());
    data.extend_from_slice(&16u32.to_be_bytes());
    for t in dribbles {
        put(t, &mut index, &mut data);
    }
    index.insert(0, [63, 7, trailer_off, 16]);
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for e in &index {
        for w in e {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
    out.extend_from_slice(&data);
    out
}

pub(crate) fn sample_tags(name: &str, epoch: Option<u32>) -> Vec<T> {
    let mut v = vec![
        s(TAG_NAME, name),
        s(TAG_VERSION, "1.0"),
        s(TAG_RELEASE, "3.el9"),
    ];
    if let Some(e) = epoch {
        v.push(i32s(TAG_EPOCH, &[e]));
    }
    v.push(strs(TAG_SUMMARY, 9, &["A test package", "Ein Testpaket"]));
    v.push(s(TAG_OS, "linux"));
    v.push(s(TAG_ARCH, "x86_64"));
    v.push(s(TAG_SOURCERPM, &format!("{name}-1.0-3.el9.src.rpm")));
    v.push(strs(1047, 8, &["libfoo.so.1()(64bit)", name]));
    v
}

pub(crate) fn sample(epoch: Option<u32>) -> Vec<u8> {
    encode(&sample_tags("bash", epoch), &[i32s(1008, &[1_700_000_000])])
}

fn set(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
fn entry_at(i: usize) -> usize {
    8 + 16 * i
}
fn data_start(b: &[u8]) -> usize {
    8 + 16 * u32::from_be_bytes(b[0..4].try_into().unwrap()) as usize
}

#[test]
fn with_epoch() {
    let b = sample(Some(2));
    let h = RpmHeader::parse(&b).unwrap();
    assert_eq!(h.region_tag(), Some(63));
    let p = h.to_package().unwrap();
    assert_eq!(
        (
            p.name.as_str(),
            p.epoch,
            p.version.as_str(),
            p.release.as_str(),
            p.arch.as_str()
        ),
        ("bash", 2, "1.0", "3.el9", "x86_64")
    );
    assert_eq!(p.full_version(), "2:1.0-3.el9");
    assert_eq!(h.string(TAG_OS).as_deref(), Some("linux"));
    assert_eq!(
        h.string(TAG_SOURCERPM).as_deref(),
        Some("bash-1.0-3.el9.src.rpm")
    );
    assert_eq!(
        h.u32(1008),
        Some(1_700_000_000),
        "dribble entry after the region"
    );
    assert_eq!(h.u32(TAG_EPOCH), Some(2));
    // Wrong-type accessors return None.
    assert_eq!(h.u32(TAG_NAME), None);
    assert_eq!(h.string(TAG_EPOCH), None);
    assert_eq!(h.string(9999), None);
}

#[test]
fn without_epoch() {
    let b = sample(None);
    let p = RpmHeader::parse(&b).unwrap().to_package().unwrap();
    assert_eq!(p.epoch, 0);
    assert_eq!(p.full_version(), "1.0-3.el9");
}

#[test]
fn i18n_and_arrays() {
    let b = sample(None);
    let h = RpmHeader::parse(&b).unwrap();
    assert_eq!(
        h.i18n_string(TAG_SUMMARY).as_deref(),
        Some("A test package")
    );
    assert_eq!(h.string_array(TAG_SUMMARY).unwrap().len(), 2);
    let provides = h.string_array(1047).unwrap();
    assert_eq!(provides, vec!["libfoo.so.1()(64bit)", "bash"]);
    // A plain string is accepted by i18n_string but is not an array.
    assert_eq!(h.i18n_string(TAG_NAME).as_deref(), Some("bash"));
    assert!(h.string_array(TAG_NAME).is_none());
}

#[test]
fn dribble_replaces_region_entry() {
    let b = encode(&sample_tags("bash", None), &[s(TAG_ARCH, "noarch")]);
    let p = RpmHeader::parse(&b).unwrap().to_package().unwrap();
    assert_eq!(p.arch, "noarch");
}

#[test]
fn pubkey_without_arch() {
    let b = encode(
        &[
            s(TAG_NAME, "gpg-pubkey"),
            s(TAG_VERSION, "fd431d51"),
            s(TAG_RELEASE, "4ae0493b"),
        ],
        &[],
    );
    let p = RpmHeader::parse(&b).unwrap().to_package().unwrap();
    assert_eq!((p.name.as_str(), p.arch.as_str()), ("gpg-pubkey", ""));
    assert_eq!(p.full_version(), "fd431d51-4ae0493b");
}

#[test]
fn missing_tag() {
    let b = encode(&[s(TAG_NAME, "x"), s(TAG_VERSION, "1")], &[]);
    let e = RpmHeader::parse(&b).unwrap().to_package().unwrap_err();
    assert_eq!(e, RpmHeaderError::MissingTag { tag: TAG_RELEASE });
}

#[test]
fn legacy_header_without_region() {
    // No region tag: accepted, as rpm accepts v3 headers; every entry is checked.
    let mut out = Vec::new();
    let name = b"a\0";
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&(name.len() as u32).to_be_bytes());
    for w in [TAG_NAME, 6, 0, 1] {
        out.extend_from_slice(&w.to_be_bytes());
    }
    out.extend_from_slice(name);
    let h = RpmHeader::parse(&out).unwrap();
    assert_eq!(h.region_tag(), None);
    assert_eq!(h.string(TAG_NAME).as_deref(), Some("a"));
    // Unterminated final string.
    let last = out.len() - 1;
    out[last] = b'x';
    assert_eq!(
        RpmHeader::parse(&out).unwrap_err(),
        RpmHeaderError::EntryString {
            entry: 0,
            tag: TAG_NAME
        }
    );
}

/// Mutate one field at a time and check the exact error.
#[test]
fn mutations_exact_errors() {
    let good = sample(Some(2));
    let il = u32::from_be_bytes(good[0..4].try_into().unwrap());
    let dl = u32::from_be_bytes(good[4..8].try_into().unwrap());
    let ds = data_start(&good);
    // Entry layout: 0 region, 1 NAME, 2 VERSION, 3 RELEASE, 4 EPOCH, 5 SUMMARY, 6 OS, 7 ARCH, 8 SOURCERPM, 9 PROVIDES, 10 INSTALLTIME.
    let entry_off = |b: &[u8], i: usize| {
        u32::from_be_bytes(b[entry_at(i) + 8..entry_at(i) + 12].try_into().unwrap())
    };
    let region_off = entry_off(&good, 0) as usize;

    let cases: Vec<(&str, Box<dyn Fn(&mut Vec<u8>)>, RpmHeaderError)> = vec![
        (
            "short",
            Box::new(|b| b.truncate(7)),
            RpmHeaderError::TooShort { len: 7 },
        ),
        (
            "il=0",
            Box::new(|b| set(b, 0, 0)),
            RpmHeaderError::IndexCount { il: 0 },
        ),
        (
            "il too big",
            Box::new(|b| set(b, 0, 0x1_0000)),
            RpmHeaderError::IndexCount { il: 0x1_0000 },
        ),
        (
            "dl too big",
            Box::new(|b| set(b, 4, 0x1000_0000)),
            RpmHeaderError::DataLength { dl: 0x1000_0000 },
        ),
        (
            "dl+1",
            Box::new(move |b| set(b, 4, dl + 1)),
            RpmHeaderError::BlobSize {
                expected: 8 + 16 * il as u64 + dl as u64 + 1,
                actual: good.len(),
            },
        ),
        (
            "truncated",
            Box::new(|b| {
                b.pop();
            }),
            RpmHeaderError::BlobSize {
                expected: 8 + 16 * il as u64 + dl as u64,
                actual: good.len() - 1,
            },
        ),
        (
            "region type",
            Box::new(|b| set(b, entry_at(0) + 4, 6)),
            RpmHeaderError::RegionTag {
                tag: 63,
                kind: 6,
                offset: region_off as i32,
                count: 16,
            },
        ),
        (
            "region count",
            Box::new(|b| set(b, entry_at(0) + 12, 15)),
            RpmHeaderError::RegionTag {
                tag: 63,
                kind: 7,
                offset: region_off as i32,
                count: 15,
            },
        ),
        (
            "region offset past store",
            Box::new(move |b| set(b, entry_at(0) + 8, dl - 8)),
            RpmHeaderError::RegionTag {
                tag: 63,
                kind: 7,
                offset: (dl - 8) as i32,
                count: 16,
            },
        ),
        (
            "region offset negative",
            Box::new(|b| set(b, entry_at(0) + 8, (-16i32) as u32)),
            RpmHeaderError::RegionTag {
                tag: 63,
                kind: 7,
                offset: -16,
                count: 16,
            },
        ),
        (
            "trailer tag",
            Box::new(move |b| set(b, ds + region_off, 62)),
            RpmHeaderError::RegionTrailer {
                tag: 62,
                kind: 7,
                count: 16,
            },
        ),
        (
            "trailer offset not multiple of 16",
            Box::new(move |b| set(b, ds + region_off + 8, (-(10 * 16 + 4)) as u32)),
            RpmHeaderError::RegionSize {
                ril: 164,
                il,
                rdl: region_off as u32 + 16,
                dl,
            },
        ),
        (
            "trailer ril > il",
            Box::new(move |b| set(b, ds + region_off + 8, (-((il as i32 + 1) * 16)) as u32)),
            RpmHeaderError::RegionSize {
                ril: il as i64 + 1,
                il,
                rdl: region_off as u32 + 16,
                dl,
            },
        ),
        (
            "entry tag < 100",
            Box::new(|b| set(b, entry_at(2), 63)),
            RpmHeaderError::EntryTag { entry: 2, tag: 63 },
        ),
        (
            "entry type 10",
            Box::new(|b| set(b, entry_at(6) + 4, 10)),
            RpmHeaderError::EntryType {
                entry: 6,
                tag: TAG_OS,
                kind: 10,
            },
        ),
        (
            "entry count 0",
            Box::new(|b| set(b, entry_at(4) + 12, 0)),
            RpmHeaderError::EntryCount {
                entry: 4,
                tag: TAG_EPOCH,
                count: 0,
            },
        ),
        (
            "entry count > dl",
            Box::new(move |b| set(b, entry_at(9) + 12, dl + 1)),
            RpmHeaderError::EntryCount {
                entry: 9,
                tag: 1047,
                count: dl + 1,
            },
        ),
        (
            "string count 2",
            Box::new(|b| set(b, entry_at(1) + 12, 2)),
            RpmHeaderError::EntryString {
                entry: 1,
                tag: TAG_NAME,
            },
        ),
        (
            "int32 misaligned",
            Box::new(|b| {
                let o =
                    u32::from_be_bytes(b[entry_at(4) + 8..entry_at(4) + 12].try_into().unwrap());
                set(b, entry_at(4) + 8, o + 1)
            }),
            RpmHeaderError::EntryAlign {
                entry: 4,
                tag: TAG_EPOCH,
                offset: entry_off(&good, 4) as i32 + 1,
            },
        ),
        (
            "int32 past store",
            Box::new(move |b| set(b, entry_at(10) + 8, dl)),
            RpmHeaderError::EntryRange {
                entry: 10,
                tag: 1008,
                offset: dl as i32,
                dl,
            },
        ),
        (
            "offset beyond store",
            Box::new(move |b| set(b, entry_at(10) + 8, dl + 4)),
            RpmHeaderError::EntryRange {
                entry: 10,
                tag: 1008,
                offset: dl as i32 + 4,
                dl,
            },
        ),
        (
            "overlap",
            Box::new(|b| set(b, entry_at(3) + 8, 0)),
            RpmHeaderError::EntryOverlap {
                entry: 3,
                tag: TAG_RELEASE,
                offset: 0,
                end: entry_off(&good, 3),
            },
        ),
        (
            "string runs into the region trailer",
            Box::new(move |b| {
                // PROVIDES is the last region entry; drop its final NUL.
                let last = ds + region_off - 1;
                b[last] = b'x';
            }),
            RpmHeaderError::EntryOverlap {
                entry: 9,
                tag: 1047,
                offset: entry_off(&good, 9) as i32,
                end: region_off as u32,
            },
        ),
        (
            "EPOCH typed as string",
            Box::new(|b| set(b, entry_at(4) + 4, 6)),
            RpmHeaderError::TagType {
                entry: 4,
                tag: TAG_EPOCH,
                kind: 6,
            },
        ),
        (
            "NAME typed as int32",
            Box::new(|b| set(b, entry_at(1) + 4, 4)),
            RpmHeaderError::TagType {
                entry: 1,
                tag: TAG_NAME,
                kind: 4,
            },
        ),
    ];
    for (what, mutate, want) in cases {
        let mut b = good.clone();
        mutate(&mut b);
        assert_eq!(RpmHeader::parse(&b).unwrap_err(), want, "case {what}");
    }
    // And the unmutated header still parses.
    RpmHeader::parse(&good).unwrap();
}

#[test]
fn random_mutations_never_panic() {
    let good = sample(Some(7));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ok = 0;
    for _ in 0..5000 {
        let mut b = good.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        if let Ok(h) = RpmHeader::parse(&b) {
            ok += 1;
            let _ = h.to_package();
            let _ = h.string_array(1047);
            let _ = h.i18n_string(TAG_SUMMARY);
        }
    }
    // Some mutations hit data bytes only and still parse.
    assert!(ok > 0);
    for n in 0..64usize {
        let junk: Vec<u8> = (0..n * 7).map(|_| next() as u8).collect();
        let _ = RpmHeader::parse(&junk);
    }
}

#[test]
fn details() {
    let mut tags = sample_tags("bash", None);
    tags.push(s(TAG_URL, "https://www.gnu.org/software/bash"));
    tags.push(strs(
        TAG_DESCRIPTION,
        9,
        &["The GNU Bourne Again shell.\nLine two.", "Die Shell"],
    ));
    let p = RpmHeader::parse(&encode(&tags, &[]))
        .unwrap()
        .to_package()
        .unwrap();
    assert_eq!(p.url.as_deref(), Some("https://www.gnu.org/software/bash"));
    assert_eq!(p.source_package.as_deref(), Some("bash"));
    assert_eq!(p.summary.as_deref(), Some("A test package"));
    assert_eq!(
        p.description.as_deref(),
        Some("The GNU Bourne Again shell.\nLine two.")
    );
    // Absent tags leave the details empty.
    let p = RpmHeader::parse(&sample(None))
        .unwrap()
        .to_package()
        .unwrap();
    assert_eq!((p.url, p.description), (None, None));
}

#[test]
fn source_rpm_names() {
    use std::borrow::Cow;
    let name = |f: &str| source_rpm_name(Cow::Borrowed(f)).into_owned();
    assert_eq!(name("zlib-1.2.13-1.fc40.src.rpm"), "zlib");
    assert_eq!(
        name("python-three-part-2.0-1.el9.src.rpm"),
        "python-three-part"
    );
    assert_eq!(name("odd-1.0-1.nosrc.rpm"), "odd");
    assert_eq!(name("not-a-file-name"), "not-a-file-name");
    assert_eq!(name("-1-2.src.rpm"), "-1-2.src.rpm");
}
