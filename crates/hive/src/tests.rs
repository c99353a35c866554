//! Tests against hives built by a small independent writer (written from the
//! format description, sharing no code with the reader).

use super::*;
use crate::testwriter::{dword, fix_checksum, key, sz, Writer};

pub(crate) fn software_hive() -> Vec<u8> {
    let cv = key(
        "CurrentVersion",
        vec![
            (
                "ProductName",
                reg_type::SZ,
                sz("Windows Server 2022 Standard"),
            ),
            ("CurrentMajorVersionNumber", reg_type::DWORD, dword(10)),
            ("CurrentMinorVersionNumber", reg_type::DWORD, dword(0)),
            ("CurrentBuildNumber", reg_type::SZ, sz("20348")),
            ("InstallationType", reg_type::SZ, sz("Server")),
            ("SystemRoot", reg_type::SZ, sz("C:\\Windows")),
            ("PathName", reg_type::EXPAND_SZ, sz("%SystemRoot%")),
            (
                "InstallTime",
                reg_type::QWORD,
                0x01d8_1234_5678_9abcu64.to_le_bytes().to_vec(),
            ),
            ("", reg_type::SZ, sz("default")),
        ],
        vec![],
    );
    let mut nt = key("Windows NT", vec![], vec![cv]);
    nt.list = "lh";
    let mut ms = key(
        "Microsoft",
        vec![],
        vec![key("Windows", vec![], vec![]), nt],
    );
    ms.list = "li";
    let root = key("ROOT", vec![], vec![key("Classes", vec![], vec![]), ms]);
    let mut w = Writer::new();
    let r = w.key(&root, true);
    w.finish(r)
}

pub(crate) fn system_hive() -> Vec<u8> {
    let cn = key(
        "ComputerName",
        vec![("ComputerName", reg_type::SZ, sz("WIN-TEST"))],
        vec![],
    );
    let cn_outer = key("ComputerName", vec![], vec![cn]);
    let control = key("Control", vec![], vec![cn_outer]);
    let cs = key("ControlSet001", vec![], vec![control]);
    let select = key(
        "Select",
        vec![
            ("Current", reg_type::DWORD, dword(1)),
            ("Default", reg_type::DWORD, dword(1)),
            ("LastKnownGood", reg_type::DWORD, dword(2)),
        ],
        vec![],
    );
    let mut root = key("ROOT", vec![], vec![cs, select]);
    root.list = "ri";
    let mut w = Writer::new();
    let r = w.key(&root, true);
    w.finish(r)
}

#[test]
fn software_current_version() {
    let b = software_hive();
    let h = Hive::new(&b).unwrap();
    assert!(!h.is_dirty());
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(k.name(), "CurrentVersion");
    assert_eq!(
        k.value("ProductName").unwrap(),
        Some(RegValue::String("Windows Server 2022 Standard".into()))
    );
    assert_eq!(
        k.value("CurrentMajorVersionNumber").unwrap(),
        Some(RegValue::Dword(10))
    );
    assert_eq!(
        k.value("CurrentMinorVersionNumber").unwrap(),
        Some(RegValue::Dword(0))
    );
    assert_eq!(
        k.value("currentbuildnumber").unwrap().unwrap().as_str(),
        Some("20348")
    );
    assert_eq!(
        k.value("InstallationType").unwrap().unwrap().as_str(),
        Some("Server")
    );
    assert_eq!(
        k.value("PathName").unwrap(),
        Some(RegValue::ExpandString("%SystemRoot%".into()))
    );
    assert_eq!(
        k.value("InstallTime").unwrap().unwrap().as_u64(),
        Some(0x01d8_1234_5678_9abc)
    );
    assert_eq!(k.value("").unwrap().unwrap().as_str(), Some("default"));
    assert_eq!(k.value("Missing").unwrap(), None);
    let names: Vec<String> = k.values().unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names.len(), 9);
    assert_eq!(names[0], "ProductName");
    // Case-insensitive paths, extra separators, missing keys.
    assert!(h
        .open_key("\\MICROSOFT\\windows nt\\\\currentversion\\")
        .unwrap()
        .is_some());
    assert!(h.open_key("Microsoft\\Windows NT\\Nope").unwrap().is_none());
    assert_eq!(h.open_key("").unwrap().unwrap().name(), "ROOT");
    let subs: Vec<String> = h
        .root_key()
        .unwrap()
        .subkeys()
        .unwrap()
        .iter()
        .map(|k| k.name().to_owned())
        .collect();
    assert_eq!(subs, vec!["Classes", "Microsoft"]);
}

#[test]
fn system_computer_name_and_select() {
    let b = system_hive();
    let h = Hive::new(&b).unwrap();
    let sel = h.open_key("Select").unwrap().unwrap();
    assert_eq!(sel.value("Current").unwrap(), Some(RegValue::Dword(1)));
    let k = h
        .open_key("ControlSet001\\Control\\ComputerName\\ComputerName")
        .unwrap()
        .unwrap();
    assert_eq!(
        k.value("ComputerName").unwrap().unwrap().as_str(),
        Some("WIN-TEST")
    );
}

#[test]
fn utf16_names_multi_sz_binary_big_data_and_many_bins() {
    let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let mut sub = key("Ünïcode Kéy", vec![], vec![]);
    sub.utf16 = true;
    let mut multi = sz("first");
    multi.extend(sz("second"));
    multi.extend([0, 0]);
    let mut children = vec![sub];
    for i in 0..300 {
        children.push(key(
            &format!("k{i:03}"),
            vec![("v", reg_type::DWORD, dword(i))],
            vec![],
        ));
    }
    let root = key(
        "ROOT",
        vec![
            ("Multi", reg_type::MULTI_SZ, multi),
            ("Bin", reg_type::BINARY, vec![1, 2, 3, 4, 5, 6]),
            ("Big", reg_type::BINARY, big.clone()),
            ("BE", reg_type::DWORD_BIG_ENDIAN, vec![0, 0, 1, 2]),
            ("Link", reg_type::LINK, vec![9, 9]),
            ("Empty", reg_type::SZ, vec![]),
        ],
        children,
    );
    let mut w = Writer::new();
    let r = w.key(&root, true);
    let b = w.finish(r);
    assert!(b.len() > 4096 * 8, "spans several hive bins");
    let h = Hive::new(&b).unwrap();
    let root = h.root_key().unwrap();
    assert_eq!(
        root.value("multi").unwrap(),
        Some(RegValue::MultiString(vec!["first".into(), "second".into()]))
    );
    assert_eq!(
        root.value("Bin").unwrap(),
        Some(RegValue::Binary(vec![1, 2, 3, 4, 5, 6]))
    );
    assert_eq!(root.value("Big").unwrap(), Some(RegValue::Binary(big)));
    assert_eq!(
        root.value("BE").unwrap(),
        Some(RegValue::DwordBigEndian(0x102))
    );
    assert_eq!(
        root.value("Link").unwrap(),
        Some(RegValue::Other {
            kind: reg_type::LINK,
            data: vec![9, 9]
        })
    );
    assert_eq!(
        root.value("Empty").unwrap(),
        Some(RegValue::String(String::new()))
    );
    let k = h.open_key("ÜNÏCODE KÉY").unwrap().unwrap();
    assert_eq!(k.name(), "Ünïcode Kéy");
    assert_eq!(
        h.open_key("k299").unwrap().unwrap().value("v").unwrap(),
        Some(RegValue::Dword(299))
    );
    assert_eq!(root.subkeys().unwrap().len(), 301);
}

fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Find the file offset of the first `nk` cell whose name is `name`.
fn nk_file_offset(b: &[u8], name: &str) -> usize {
    let pat: Vec<u8> = name.bytes().collect();
    (4096..b.len() - 80)
        .find(|&i| {
            &b[i..i + 2] == b"nk"
                && b[i + 76..].starts_with(&pat)
                && usize::from(u16::from_le_bytes([b[i + 72], b[i + 73]])) == pat.len()
        })
        .unwrap()
}

#[test]
fn base_block_mutations_exact_errors() {
    let good = system_hive();
    let cases: Vec<(&str, Box<dyn Fn(&mut Vec<u8>)>, HiveError)> = vec![
        (
            "short",
            Box::new(|b| b.truncate(5000)),
            HiveError::TooShort { len: 5000 },
        ),
        (
            "signature",
            Box::new(|b| b[0] = b'R'),
            HiveError::BaseSignature,
        ),
        (
            "checksum",
            Box::new(|b| set32(b, 508, 0x1234_5678)),
            HiveError::Checksum {
                stored: 0x1234_5678,
                computed: get32(&good, 508),
            },
        ),
        (
            "major",
            Box::new(|b| {
                set32(b, 20, 2);
                fix_checksum(b)
            }),
            HiveError::Unsupported {
                what: "major version",
                value: 2,
            },
        ),
        (
            "minor",
            Box::new(|b| {
                set32(b, 24, 7);
                fix_checksum(b)
            }),
            HiveError::Unsupported {
                what: "minor version",
                value: 7,
            },
        ),
        (
            "file type",
            Box::new(|b| {
                set32(b, 28, 1);
                fix_checksum(b)
            }),
            HiveError::Unsupported {
                what: "file type",
                value: 1,
            },
        ),
        (
            "bins size past end",
            Box::new(|b| {
                set32(b, 40, 0x10_0000);
                fix_checksum(b)
            }),
            HiveError::BinsSize {
                size: 0x10_0000,
                file_len: good.len(),
            },
        ),
        (
            "bins size unaligned",
            Box::new(|b| {
                set32(b, 40, 4095);
                fix_checksum(b)
            }),
            HiveError::BinsSize {
                size: 4095,
                file_len: good.len(),
            },
        ),
        (
            "hbin signature",
            Box::new(|b| b[4096] = b'X'),
            HiveError::Hbin {
                offset: 0,
                reason: "bad signature",
            },
        ),
        (
            "hbin offset",
            Box::new(|b| set32(b, 4096 + 4, 4096)),
            HiveError::Hbin {
                offset: 0,
                reason: "offset field does not match its position",
            },
        ),
        (
            "hbin size",
            Box::new(|b| set32(b, 4096 + 8, 100)),
            HiveError::Hbin {
                offset: 0,
                reason: "bad size",
            },
        ),
        (
            "root unaligned",
            Box::new(|b| {
                set32(b, 36, 33);
                fix_checksum(b)
            }),
            HiveError::CellOffset { offset: 33 },
        ),
        (
            "root in hbin header",
            Box::new(|b| {
                set32(b, 36, 8);
                fix_checksum(b)
            }),
            HiveError::CellOffset { offset: 8 },
        ),
        (
            "root past bins",
            Box::new(|b| {
                set32(b, 36, 0x10_0000);
                fix_checksum(b)
            }),
            HiveError::CellOffset { offset: 0x10_0000 },
        ),
    ];
    for (what, m, want) in cases {
        let mut b = good.clone();
        m(&mut b);
        assert_eq!(Hive::new(&b).unwrap_err(), want, "case {what}");
    }
    // A dirty hive is still read.
    let mut b = good.clone();
    set32(&mut b, 8, 8);
    fix_checksum(&mut b);
    assert!(Hive::new(&b).unwrap().is_dirty());
}

#[test]
fn cell_mutations_exact_errors() {
    let good = system_hive();
    let root_off = get32(&good, 36);
    let root_file = 4096 + root_off as usize;
    let sel = nk_file_offset(&good, "Select");
    let sel_off = (sel - 4096 - 4) as u32;
    // Root cell size positive = free.
    let mut b = good.clone();
    let sz_now = get32(&b, root_file) as i32;
    set32(&mut b, root_file, (-sz_now) as u32);
    assert_eq!(
        Hive::new(&b).unwrap_err(),
        HiveError::FreeCell { offset: root_off }
    );
    // Root cell size runs past the bin.
    let mut b = good.clone();
    set32(&mut b, root_file, (-0x10_0000i32) as u32);
    assert_eq!(
        Hive::new(&b).unwrap_err(),
        HiveError::CellSize {
            offset: root_off,
            size: -0x10_0000
        }
    );
    // Wrong signature on the root.
    let mut b = good.clone();
    b[root_file + 4] = b'x';
    assert_eq!(
        Hive::new(&b).unwrap_err(),
        HiveError::CellType {
            offset: root_off,
            expected: "nk",
            found: *b"xk"
        }
    );
    // Key name longer than its cell.
    let mut b = good.clone();
    b[sel + 72..sel + 74].copy_from_slice(&4000u16.to_le_bytes());
    let h = Hive::new(&b).unwrap();
    assert_eq!(
        h.open_key("Select").unwrap_err(),
        HiveError::Truncated {
            offset: sel_off,
            what: "key name"
        }
    );
    // Value count larger than the value list cell.
    let mut b = good.clone();
    set32(&mut b, sel + 36, 1000);
    let h = Hive::new(&b).unwrap();
    let k = h.open_key("Select").unwrap().unwrap();
    let vl = get32(&good, sel + 40);
    assert_eq!(
        k.values().unwrap_err(),
        HiveError::Truncated {
            offset: vl,
            what: "value list"
        }
    );
    // Subkey list of Select pointing at Select itself: a cycle.
    let mut b = good.clone();
    // Give Select one subkey: an li list is needed; reuse the root's ri list instead,
    // which leads back to Select (and ControlSet001): a cycle through the list.
    let root_list = get32(&good, root_file + 4 + 28);
    set32(&mut b, sel + 20, 1);
    set32(&mut b, sel + 28, root_list);
    let h = Hive::new(&b).unwrap();
    let k = h.open_key("Select").unwrap().unwrap();
    assert_eq!(
        k.subkeys().unwrap_err(),
        HiveError::Cycle { offset: sel_off }
    );
    // Subkey list pointing at a value-list cell: wrong type.
    let mut b = good.clone();
    set32(&mut b, sel + 20, 1);
    set32(&mut b, sel + 28, root_off);
    let h = Hive::new(&b).unwrap();
    let k = h.open_key("Select").unwrap().unwrap();
    assert_eq!(
        k.subkeys().unwrap_err(),
        HiveError::CellType {
            offset: root_off,
            expected: "lf/lh/li/ri",
            found: *b"nk"
        }
    );
}

#[test]
fn value_mutations_exact_errors() {
    let good = software_hive();
    let h = Hive::new(&good).unwrap();
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    let vl = k.value_list;
    let first_vk = get32(&good, 4096 + vl as usize + 4); // ProductName
    let vk_file = 4096 + first_vk as usize + 4;
    // Data size too large for its cell.
    let mut b = good.clone();
    set32(&mut b, vk_file + 4, 2000);
    let data_off = get32(&good, vk_file + 8);
    let h = Hive::new(&b).unwrap();
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        k.value("ProductName").unwrap_err(),
        HiveError::Truncated {
            offset: data_off,
            what: "value data"
        }
    );
    // Data size above the limit.
    let mut b = good.clone();
    set32(&mut b, vk_file + 4, 0x7000_0000);
    let h = Hive::new(&b).unwrap();
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        k.value("ProductName").unwrap_err(),
        HiveError::LimitExceeded {
            what: "value data size",
            limit: MAX_VALUE_BYTES as u64
        }
    );
    // Data offset not a cell.
    let mut b = good.clone();
    set32(&mut b, vk_file + 8, 0x0123_4568);
    let h = Hive::new(&b).unwrap();
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        k.value("ProductName").unwrap_err(),
        HiveError::CellOffset {
            offset: 0x0123_4568
        }
    );
    // Value name length past the cell.
    let mut b = good.clone();
    b[vk_file + 2..vk_file + 4].copy_from_slice(&500u16.to_le_bytes());
    let h = Hive::new(&b).unwrap();
    let k = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        k.values().unwrap_err(),
        HiveError::Truncated {
            offset: first_vk,
            what: "value name"
        }
    );
}

/// Walk every key and value with bounds; used by tests and mirrored by the fuzz target.
pub(crate) fn walk_all(h: &Hive<'_>) -> usize {
    let mut seen = 0usize;
    let Ok(root) = h.root_key() else { return 0 };
    let mut stack = vec![root];
    while let Some(k) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        let _ = k.values();
        if let Ok(subs) = k.subkeys() {
            stack.extend(subs);
        }
    }
    seen
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let good = system_hive();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    assert_eq!(walk_all(&Hive::new(&good).unwrap()), 6);
    let mut opened = 0;
    for _ in 0..3000 {
        let mut b = good.clone();
        for _ in 0..(next() % 6 + 1) {
            let i = 4096 + (next() as usize) % (b.len() - 4096);
            b[i] = next() as u8;
        }
        if let Ok(h) = Hive::new(&b) {
            opened += 1;
            walk_all(&h);
            let _ = h.open_key("ControlSet001\\Control\\ComputerName\\ComputerName");
        }
    }
    assert!(opened > 0);
    for n in [0usize, 10, 4096, 8192, 9000] {
        let mut junk: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        if n >= 4 {
            junk[..4].copy_from_slice(b"regf");
        }
        assert!(Hive::new(&junk).is_err());
    }
}

#[test]
fn fuzz_seed() {
    // Writes seed hives for the `hive` fuzz target when GUESTCTL_FUZZ_SEEDS is set.
    let sys = system_hive();
    let soft = software_hive();
    assert_eq!(walk_all(&Hive::new(&sys).unwrap()), 6);
    assert_eq!(walk_all(&Hive::new(&soft).unwrap()), 6);
    if let Some(dir) = std::env::var_os("GUESTCTL_FUZZ_SEEDS") {
        let d = std::path::Path::new(&dir).join("hive");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("system"), &sys).unwrap();
        std::fs::write(d.join("software"), &soft).unwrap();
    }
}

#[test]
fn writer_windows_hives_have_real_structure() {
    use crate::testwriter::{windows_software, windows_system};
    let soft = windows_software("Windows 10 Pro", 10, 0, "19045", "Client");
    let h = Hive::new(&soft).unwrap();
    let cv = h
        .open_key("Microsoft\\Windows NT\\CurrentVersion")
        .unwrap()
        .unwrap();
    assert_eq!(
        cv.value("ProductName").unwrap().unwrap().as_str(),
        Some("Windows 10 Pro")
    );
    assert_eq!(
        cv.value("CurrentBuild").unwrap().unwrap().as_str(),
        Some("19045")
    );
    // Every nk points at the one sk cell, whose flink/blink point at itself and
    // whose reference count is the number of keys; parents are linked.
    let bins = &soft[4096..];
    let nk = cv.offset() as usize;
    let sk = get32(bins, nk + 4 + 44) as usize;
    assert_eq!(&bins[sk + 4..sk + 6], b"sk");
    assert_eq!(get32(bins, sk + 8) as usize, sk);
    assert_eq!(get32(bins, sk + 12) as usize, sk);
    assert_eq!(
        get32(bins, sk + 16),
        9,
        "reference count = the 9 keys written"
    );
    let parent = get32(bins, nk + 4 + 16);
    assert_eq!(
        parent,
        h.open_key("Microsoft\\Windows NT")
            .unwrap()
            .unwrap()
            .offset()
    );
    let sys = windows_system("WIN-E2E", 2);
    let h = Hive::new(&sys).unwrap();
    let cn = |set: &str| {
        h.open_key(&format!("{set}\\Control\\ComputerName\\ComputerName"))
            .unwrap()
            .unwrap()
            .value("ComputerName")
            .unwrap()
            .unwrap()
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(cn("ControlSet002").as_deref(), Some("WIN-E2E"));
    assert_eq!(cn("ControlSet001").as_deref(), Some("STALE-NAME"));
}

use guestctl_testkit::bounded as bounded_child;

/// A hive whose root lists its one child through an `ri` list naming the same
/// `lf` list `ri_len` times, that `lf` list naming the child `lf_len` times:
/// `ri_len × lf_len` subkey offsets from a few hundred KiB.
fn amplifying_hive(ri_len: u16, lf_len: u16) -> Vec<u8> {
    let mut w = Writer::new();
    let child = w.key(&key("child", vec![], vec![]), false);
    let root = w.key(&key("ROOT", vec![], vec![key("one", vec![], vec![])]), true);
    let mut lf = b"lf".to_vec();
    lf.extend_from_slice(&lf_len.to_le_bytes());
    for _ in 0..lf_len {
        lf.extend_from_slice(&child.to_le_bytes());
        lf.extend_from_slice(b"chil");
    }
    let lf_off = w.cell(&lf);
    let mut ri = b"ri".to_vec();
    ri.extend_from_slice(&ri_len.to_le_bytes());
    for _ in 0..ri_len {
        ri.extend_from_slice(&lf_off.to_le_bytes());
    }
    let ri_off = w.cell(&ri);
    let mut b = w.finish(root);
    // Point the root's subkey list (nk field at +28, after the cell size) at the ri list.
    set32(&mut b, 4096 + root as usize + 4 + 28, ri_off);
    b
}

#[test]
fn ri_lf_amplification_is_refused_by_a_named_limit() {
    let b = amplifying_hive(u16::MAX, u16::MAX);
    assert!(b.len() < 1 << 20, "a hive under 1 MiB ({} bytes)", b.len());
    let h = Hive::new(&b).unwrap();
    let limit = ((b.len() - 4096) / 80) as u64;
    let expected = HiveError::LimitExceeded {
        what: "subkeys of one key",
        limit,
    };
    assert_eq!(h.open_key("missing").unwrap_err(), expected);
    assert_eq!(h.root_key().unwrap().subkeys().unwrap_err(), expected);
    // Below the limit, the same shape is read as it is: every listed subkey.
    let small = amplifying_hive(4, 8);
    let h = Hive::new(&small).unwrap();
    assert_eq!(h.root_key().unwrap().subkeys().unwrap().len(), 32);
    assert_eq!(h.open_key("child").unwrap().unwrap().name(), "child");
    // A seed for the `hive` fuzz target when GUESTCTL_FUZZ_SEEDS is set.
    if let Some(dir) = std::env::var_os("GUESTCTL_FUZZ_SEEDS") {
        let d = std::path::Path::new(&dir).join("hive");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("ri-lf-amplification"), amplifying_hive(64, 64)).unwrap();
    }
}

#[test]
fn ri_lf_amplification_stays_within_memory_and_time() {
    bounded_child::run_test_in_child("tests::ri_lf_amplification_child");
}

#[test]
#[ignore = "run by ri_lf_amplification_stays_within_memory_and_time under prlimit"]
fn ri_lf_amplification_child() {
    let b = amplifying_hive(u16::MAX, u16::MAX);
    let h = Hive::new(&b).unwrap();
    for path in ["missing", "child", "Microsoft\\Windows NT\\CurrentVersion"] {
        assert!(h.open_key(path).is_err());
    }
    assert!(walk_all(&h) >= 1);
    bounded_child::report_peak();
}
