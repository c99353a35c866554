//! A small regf (Windows registry hive) **writer**, for tests only.
//!
//! Written from the format description, sharing no code with the reader, so the
//! reader's tests are not the reader checking itself. It produces hives laid out
//! as Windows writes them: a 4096-byte base block (signature, equal sequence
//! numbers, version 1.`minor`, root cell offset, hive bins size, file name,
//! XOR-32 checksum), 4096-byte-multiple `hbin`s with 32-byte headers, and cells
//! of negative (allocated) sizes rounded to 8 bytes: `nk` key nodes (with their
//! parent offset, counts, largest-name fields and a security cell), `vk` value
//! nodes (resident data up to 4 bytes, a data cell, or `db` big data), value
//! lists, `lf`/`lh`/`li`/`ri` subkey lists (with the name hints and hashes real
//! hives carry) and one shared `sk` security cell (a self-relative security
//! descriptor: owner Administrators, group SYSTEM, a DACL granting SYSTEM full
//! access), linked to itself and reference-counted by every key. Each bin's
//! unused tail is one free cell.
//!
//! Built only for this crate's tests and with the `test-support` feature, which
//! other crates enable from their dev-dependencies to build real hives in theirs.

/// REG_SZ.
pub const REG_SZ: u32 = 1;
/// REG_EXPAND_SZ.
pub const REG_EXPAND_SZ: u32 = 2;
/// REG_DWORD.
pub const REG_DWORD: u32 = 4;
/// REG_QWORD.
pub const REG_QWORD: u32 = 11;

/// A key to write: name, values (name, type, data), subkeys.
pub struct K {
    /// Key name.
    pub name: String,
    /// Values: name, type number, raw data.
    pub values: Vec<(String, u32, Vec<u8>)>,
    /// Subkeys, in the order to store them.
    pub subkeys: Vec<K>,
    /// Write the name as UTF-16LE instead of Latin-1.
    pub utf16: bool,
    /// Subkey list flavour: "lf", "lh", "li" or "ri" (an ri over two li lists).
    pub list: &'static str,
}

/// A key with Latin-1 name and an `lf` subkey list.
pub fn key(name: &str, values: Vec<(&str, u32, Vec<u8>)>, subkeys: Vec<K>) -> K {
    K {
        name: name.into(),
        values: values
            .into_iter()
            .map(|(n, t, d)| (n.to_owned(), t, d))
            .collect(),
        subkeys,
        utf16: false,
        list: "lf",
    }
}

/// REG_SZ data: UTF-16LE with its terminating NUL.
pub fn sz(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

/// REG_DWORD data.
pub fn dword(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Windows' `lh` name hash: over the upper-cased name, `h = h * 37 + c`.
pub fn lh_hash(name: &str) -> u32 {
    name.to_uppercase()
        .encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(37).wrapping_add(u32::from(c)))
}

/// A self-relative security descriptor: owner BUILTIN\Administrators
/// (S-1-5-32-544), group SYSTEM (S-1-5-18), a DACL with one ACCESS_ALLOWED ACE
/// giving SYSTEM KEY_ALL_ACCESS.
fn security_descriptor() -> Vec<u8> {
    let system_sid: Vec<u8> = {
        let mut s = vec![1u8, 1, 0, 0, 0, 0, 0, 5];
        s.extend_from_slice(&18u32.to_le_bytes());
        s
    };
    let admins_sid: Vec<u8> = {
        let mut s = vec![1u8, 2, 0, 0, 0, 0, 0, 5];
        s.extend_from_slice(&32u32.to_le_bytes());
        s.extend_from_slice(&544u32.to_le_bytes());
        s
    };
    let mut ace = vec![0u8, 0]; // ACCESS_ALLOWED_ACE_TYPE, flags
    ace.extend_from_slice(&((8 + system_sid.len()) as u16).to_le_bytes());
    ace.extend_from_slice(&0x000f_003fu32.to_le_bytes()); // KEY_ALL_ACCESS
    ace.extend_from_slice(&system_sid);
    let mut acl = vec![2u8, 0]; // ACL_REVISION, sbz1
    acl.extend_from_slice(&((8 + ace.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&1u16.to_le_bytes()); // ace count
    acl.extend_from_slice(&0u16.to_le_bytes());
    acl.extend_from_slice(&ace);
    let owner = 20u32;
    let group = owner + admins_sid.len() as u32;
    let dacl = group + system_sid.len() as u32;
    let mut sd = vec![1u8, 0]; // revision, sbz1
    sd.extend_from_slice(&0x8004u16.to_le_bytes()); // SE_SELF_RELATIVE | SE_DACL_PRESENT
    sd.extend_from_slice(&owner.to_le_bytes());
    sd.extend_from_slice(&group.to_le_bytes());
    sd.extend_from_slice(&0u32.to_le_bytes()); // no SACL
    sd.extend_from_slice(&dacl.to_le_bytes());
    sd.extend_from_slice(&admins_sid);
    sd.extend_from_slice(&system_sid);
    sd.extend_from_slice(&acl);
    sd
}

/// Builds the hive bins; [`Writer::finish`] adds the base block.
pub struct Writer {
    bins: Vec<u8>,
    /// Start of the current hive bin.
    bin_start: usize,
    bin_size: usize,
    /// Hive format minor version written in the base block (default 5).
    pub minor: u32,
    /// Offset of the shared `sk` cell, written on the first key.
    sk: Option<u32>,
    /// Keys referencing the `sk` cell.
    sk_refs: u32,
    /// Name stored in the base block (UTF-16LE, at most 31 units).
    pub file_name: String,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    /// An empty hive with one open 4096-byte bin.
    pub fn new() -> Self {
        let mut w = Writer {
            bins: Vec::new(),
            bin_start: 0,
            bin_size: 0,
            minor: 5,
            sk: None,
            sk_refs: 0,
            file_name: String::new(),
        };
        w.new_bin(4096);
        w
    }

    fn put32(&mut self, at: usize, v: u32) {
        self.bins[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn new_bin(&mut self, size: usize) {
        // Close the current bin with a free cell covering its unused tail.
        let used = self.bins.len() - self.bin_start;
        if self.bin_size > 0 && used < self.bin_size {
            let free = self.bin_size - used;
            self.bins.extend_from_slice(&(free as i32).to_le_bytes());
            self.bins.resize(self.bin_start + self.bin_size, 0);
        }
        self.bin_start = self.bins.len();
        self.bin_size = size;
        self.bins.extend_from_slice(b"hbin");
        self.bins
            .extend_from_slice(&(self.bin_start as u32).to_le_bytes());
        self.bins.extend_from_slice(&(size as u32).to_le_bytes());
        // Reserved (8), timestamp (8), spare (4).
        self.bins.resize(self.bin_start + 32, 0);
    }

    /// Allocate a cell holding `data`; returns its offset.
    pub fn cell(&mut self, data: &[u8]) -> u32 {
        let len = (data.len() + 4).div_ceil(8) * 8;
        let used = self.bins.len() - self.bin_start;
        if used + len > self.bin_size {
            let need = (len + 32).div_ceil(4096) * 4096;
            self.new_bin(need.max(4096));
        }
        let off = self.bins.len() as u32;
        self.bins.extend_from_slice(&(-(len as i32)).to_le_bytes());
        self.bins.extend_from_slice(data);
        self.bins.resize(off as usize + len, 0);
        off
    }

    fn value(&mut self, name: &str, kind: u32, data: &[u8]) -> u32 {
        let (size, off) = if data.len() <= 4 {
            let mut w = [0u8; 4];
            w[..data.len()].copy_from_slice(data);
            (0x8000_0000 | data.len() as u32, u32::from_le_bytes(w))
        } else if data.len() > 16344 {
            let mut segs = Vec::new();
            for chunk in data.chunks(16344) {
                segs.push(self.cell(chunk));
            }
            let list: Vec<u8> = segs.iter().flat_map(|o| o.to_le_bytes()).collect();
            let list_off = self.cell(&list);
            let mut db = b"db".to_vec();
            db.extend_from_slice(&(segs.len() as u16).to_le_bytes());
            db.extend_from_slice(&list_off.to_le_bytes());
            (data.len() as u32, self.cell(&db))
        } else {
            (data.len() as u32, self.cell(data))
        };
        let mut vk = b"vk".to_vec();
        vk.extend_from_slice(&(name.len() as u16).to_le_bytes());
        vk.extend_from_slice(&size.to_le_bytes());
        vk.extend_from_slice(&off.to_le_bytes());
        vk.extend_from_slice(&kind.to_le_bytes());
        vk.extend_from_slice(&1u16.to_le_bytes()); // VALUE_COMP_NAME
        vk.extend_from_slice(&0u16.to_le_bytes()); // spare
        vk.extend_from_slice(name.as_bytes());
        self.cell(&vk)
    }

    fn list(&mut self, sig: &str, offs: &[(u32, String)]) -> u32 {
        let mut l = sig.as_bytes().to_vec();
        l.extend_from_slice(&(offs.len() as u16).to_le_bytes());
        for (o, name) in offs {
            l.extend_from_slice(&o.to_le_bytes());
            match sig {
                "lf" => {
                    let mut hint = [0u8; 4];
                    for (i, b) in name.bytes().take(4).enumerate() {
                        hint[i] = b;
                    }
                    l.extend_from_slice(&hint);
                }
                "lh" => l.extend_from_slice(&lh_hash(name).to_le_bytes()),
                _ => {}
            }
        }
        self.cell(&l)
    }

    /// The shared `sk` cell (written on first use, linked to itself).
    fn security(&mut self) -> u32 {
        if let Some(o) = self.sk {
            return o;
        }
        let sd = security_descriptor();
        let mut sk = b"sk".to_vec();
        sk.extend_from_slice(&0u16.to_le_bytes()); // reserved
        sk.extend_from_slice(&0u32.to_le_bytes()); // flink, patched below
        sk.extend_from_slice(&0u32.to_le_bytes()); // blink
        sk.extend_from_slice(&0u32.to_le_bytes()); // reference count, patched in finish
        sk.extend_from_slice(&(sd.len() as u32).to_le_bytes());
        sk.extend_from_slice(&sd);
        let o = self.cell(&sk);
        let at = o as usize + 4;
        self.put32(at + 4, o);
        self.put32(at + 8, o);
        self.sk = Some(o);
        o
    }

    /// Write a key tree bottom-up; returns the key's offset. Children's parent
    /// fields are patched once the parent's offset is known.
    pub fn key(&mut self, k: &K, root: bool) -> u32 {
        let sk = self.security();
        let children: Vec<(u32, String)> = k
            .subkeys
            .iter()
            .map(|c| (self.key(c, false), c.name.clone()))
            .collect();
        let subkey_list = if children.is_empty() {
            0xffff_ffff
        } else if k.list == "ri" {
            let mid = children.len() / 2;
            let a = self.list("li", &children[..mid]);
            let b = self.list("li", &children[mid..]);
            self.list("ri", &[(a, String::new()), (b, String::new())])
        } else {
            self.list(k.list, &children)
        };
        let vals: Vec<u32> = k
            .values
            .iter()
            .map(|(n, t, d)| self.value(n, *t, d))
            .collect();
        let value_list = if vals.is_empty() {
            0xffff_ffff
        } else {
            let l: Vec<u8> = vals.iter().flat_map(|o| o.to_le_bytes()).collect();
            self.cell(&l)
        };
        let name: Vec<u8> = if k.utf16 {
            k.name
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect()
        } else {
            k.name.chars().map(|c| c as u8).collect()
        };
        // Largest subkey name (in UTF-16 bytes), value name and value data sizes.
        let max_sub = k
            .subkeys
            .iter()
            .map(|c| c.name.encode_utf16().count() * 2)
            .max()
            .unwrap_or(0) as u32;
        let max_vname = k
            .values
            .iter()
            .map(|(n, _, _)| n.encode_utf16().count() * 2)
            .max()
            .unwrap_or(0) as u32;
        let max_vdata = k.values.iter().map(|(_, _, d)| d.len()).max().unwrap_or(0) as u32;
        let mut nk = b"nk".to_vec();
        // KEY_COMP_NAME (0x20); the root also has KEY_HIVE_ENTRY | KEY_NO_DELETE.
        let flags: u16 = if k.utf16 { 0 } else { 0x0020 } | if root { 0x000c } else { 0 };
        nk.extend_from_slice(&flags.to_le_bytes());
        // Last written: 2021-01-01 as a FILETIME.
        nk.extend_from_slice(&0x01d6_dfb0_c4a1_8000u64.to_le_bytes());
        nk.extend_from_slice(&0u32.to_le_bytes()); // access bits
        nk.extend_from_slice(&0u32.to_le_bytes()); // parent, patched below
        nk.extend_from_slice(&(children.len() as u32).to_le_bytes());
        nk.extend_from_slice(&0u32.to_le_bytes()); // volatile subkeys
        nk.extend_from_slice(&subkey_list.to_le_bytes());
        nk.extend_from_slice(&0xffff_ffffu32.to_le_bytes()); // volatile list
        nk.extend_from_slice(&(vals.len() as u32).to_le_bytes());
        nk.extend_from_slice(&value_list.to_le_bytes());
        nk.extend_from_slice(&sk.to_le_bytes());
        nk.extend_from_slice(&0xffff_ffffu32.to_le_bytes()); // class name
        nk.extend_from_slice(&max_sub.to_le_bytes());
        nk.extend_from_slice(&0u32.to_le_bytes()); // largest subkey class name
        nk.extend_from_slice(&max_vname.to_le_bytes());
        nk.extend_from_slice(&max_vdata.to_le_bytes());
        nk.extend_from_slice(&0u32.to_le_bytes()); // workvar
        nk.extend_from_slice(&(name.len() as u16).to_le_bytes());
        nk.extend_from_slice(&0u16.to_le_bytes()); // class name length
        assert_eq!(nk.len(), 76);
        nk.extend_from_slice(&name);
        let me = self.cell(&nk);
        self.sk_refs += 1;
        for (c, _) in &children {
            self.put32(*c as usize + 4 + 16, me);
        }
        me
    }

    /// Finish: base block + bins.
    pub fn finish(mut self, root: u32) -> Vec<u8> {
        if let Some(sk) = self.sk {
            let refs = self.sk_refs;
            self.put32(sk as usize + 4 + 12, refs);
        }
        self.new_bin(0); // closes the last bin
        self.bins.truncate(self.bin_start);
        let mut base = vec![0u8; 4096];
        base[0..4].copy_from_slice(b"regf");
        base[4..8].copy_from_slice(&7u32.to_le_bytes()); // primary sequence
        base[8..12].copy_from_slice(&7u32.to_le_bytes()); // secondary sequence
        base[12..20].copy_from_slice(&0x01d6_dfb0_c4a1_8000u64.to_le_bytes());
        base[20..24].copy_from_slice(&1u32.to_le_bytes());
        base[24..28].copy_from_slice(&self.minor.to_le_bytes());
        base[28..32].copy_from_slice(&0u32.to_le_bytes()); // primary file
        base[32..36].copy_from_slice(&1u32.to_le_bytes()); // direct memory load
        base[36..40].copy_from_slice(&root.to_le_bytes());
        base[40..44].copy_from_slice(&(self.bins.len() as u32).to_le_bytes());
        base[44..48].copy_from_slice(&1u32.to_le_bytes()); // clustering factor
        for (i, u) in self.file_name.encode_utf16().take(31).enumerate() {
            base[48 + 2 * i..50 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        fix_checksum(&mut base);
        base.extend_from_slice(&self.bins);
        base
    }
}

/// Recompute the base block checksum (XOR of its first 127 dwords, 0 → 1, −1 → −2).
pub fn fix_checksum(b: &mut [u8]) {
    let mut x = 0u32;
    for i in 0..127 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[i * 4..i * 4 + 4]);
        x ^= u32::from_le_bytes(w);
    }
    if x == 0 {
        x = 1;
    }
    if x == u32::MAX {
        x = u32::MAX - 1;
    }
    b[508..512].copy_from_slice(&x.to_le_bytes());
}

/// A SOFTWARE hive with `Microsoft\Windows NT\CurrentVersion` as Windows 10+
/// writes it: ProductName, CurrentMajor/MinorVersionNumber, CurrentVersion
/// ("6.3", kept for compatibility), CurrentBuild and CurrentBuildNumber,
/// InstallationType, SystemRoot.
pub fn windows_software(
    product: &str,
    major: u32,
    minor: u32,
    build: &str,
    variant: &str,
) -> Vec<u8> {
    let cv = key(
        "CurrentVersion",
        vec![
            ("SystemRoot", REG_SZ, sz("C:\\Windows")),
            ("CurrentBuild", REG_SZ, sz(build)),
            ("CurrentBuildNumber", REG_SZ, sz(build)),
            ("CurrentVersion", REG_SZ, sz("6.3")),
            ("InstallationType", REG_SZ, sz(variant)),
            ("ProductName", REG_SZ, sz(product)),
            ("CurrentMajorVersionNumber", REG_DWORD, dword(major)),
            ("CurrentMinorVersionNumber", REG_DWORD, dword(minor)),
            ("PathName", REG_EXPAND_SZ, sz("%SystemRoot%")),
        ],
        vec![key("Winlogon", vec![], vec![])],
    );
    let mut nt = key("Windows NT", vec![], vec![cv]);
    nt.list = "lh";
    let mut ms = key(
        "Microsoft",
        vec![],
        vec![
            key("Cryptography", vec![], vec![]),
            key("Windows", vec![], vec![]),
            nt,
        ],
    );
    ms.list = "lh";
    let mut root = key(
        "ROOT",
        vec![],
        vec![
            key("Classes", vec![], vec![]),
            ms,
            key("Policies", vec![], vec![]),
        ],
    );
    root.list = "lh";
    let mut w = Writer::new();
    w.file_name = "\\SystemRoot\\System32\\Config\\SOFTWARE".into();
    let r = w.key(&root, true);
    w.finish(r)
}

/// A SYSTEM hive whose `Select\Current` is `current`, with two control sets:
/// the current one names the computer `hostname`, the other `STALE-NAME`.
pub fn windows_system(hostname: &str, current: u32) -> Vec<u8> {
    let control_set = |name: &str, computer: &str| {
        let cn = key(
            "ComputerName",
            vec![("ComputerName", REG_SZ, sz(computer))],
            vec![],
        );
        let active = key(
            "ActiveComputerName",
            vec![("ComputerName", REG_SZ, sz(computer))],
            vec![],
        );
        let mut outer = key("ComputerName", vec![], vec![active, cn]);
        outer.list = "lh";
        let mut control = key(
            "Control",
            vec![(
                "SystemBootDevice",
                REG_SZ,
                sz("multi(0)disk(0)rdisk(0)partition(2)"),
            )],
            vec![outer, key("Session Manager", vec![], vec![])],
        );
        control.list = "lh";
        let mut cs = key(name, vec![], vec![control, key("Services", vec![], vec![])]);
        cs.list = "lh";
        cs
    };
    let other = if current == 1 { 2 } else { 1 };
    let mut sets = vec![
        control_set(&format!("ControlSet{current:03}"), hostname),
        control_set(&format!("ControlSet{other:03}"), "STALE-NAME"),
    ];
    sets.sort_by(|a, b| a.name.cmp(&b.name));
    let select = key(
        "Select",
        vec![
            ("Current", REG_DWORD, dword(current)),
            ("Default", REG_DWORD, dword(current)),
            ("Failed", REG_DWORD, dword(0)),
            ("LastKnownGood", REG_DWORD, dword(other)),
        ],
        vec![],
    );
    let mut subkeys = sets;
    subkeys.push(key("MountedDevices", vec![], vec![]));
    subkeys.push(select);
    let mut root = key("ROOT", vec![], subkeys);
    root.list = "lh";
    let mut w = Writer::new();
    w.file_name = "\\SystemRoot\\System32\\Config\\SYSTEM".into();
    let r = w.key(&root, true);
    w.finish(r)
}
