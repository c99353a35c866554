//! Pure parsers of the small text and binary files OS inspection reads: os-release,
//! lsb-release, the distro release files, hostname files, fstab, and the ELF/PE
//! headers that name the guest's architecture. No I/O here: the inspector reads the
//! files out of the guest and hands over the bytes.

/// What the release files say so far (filled in by successive parsers, as
/// libguestfs's `inspection_data`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// The distro as libguestfs names it (`ubuntu`, `rocky`, `archlinux`, ...).
    pub distro: Option<String>,
    /// A human product name (`PRETTY_NAME`, `DISTRIB_DESCRIPTION`, first line of a
    /// release file).
    pub product_name: Option<String>,
    /// Major and minor version.
    pub version: Option<(u32, u32)>,
}

/// Longest release, hostname or fstab file read (libguestfs reads "small files"
/// only too): real ones are under 4 KiB.
pub const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// Most lines of a small file looked at.
const MAX_LINES: usize = 10_000;

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().take(MAX_LINES)
}

/// Unquote a shell-style value as os-release(5) allows: `"..."` with `\"`, `\\`,
/// `\$`, `` \` `` escapes, `'...'` taken literally, unquoted text with `\x` escapes.
/// Several quoted pieces concatenate (`"a"'b'c`). Trailing text after an unquoted
/// space is dropped.
pub fn shell_unquote(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                            Some('\n') => {}
                            Some(n) => {
                                out.push('\\');
                                out.push(n);
                            }
                            None => out.push('\\'),
                        },
                        c => out.push(c),
                    }
                }
            }
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
    }
    out
}

/// Remove one pair of matching surrounding quotes (lsb-release's simple quoting).
pub fn simple_unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

/// `KEY=value` pairs of a shell-like file, skipping blank lines and `#` comments.
pub fn key_values(text: &str, unquote: fn(&str) -> String) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in lines(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some((k, v)) = line.split_once('=') {
            let k = k.trim();
            if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                out.push((k.to_string(), unquote(v.trim())));
            }
        }
    }
    out
}

/// The first run of ASCII digits at or after `from`, as a number, and where it ends.
fn number_at(s: &[u8], from: usize) -> Option<(u32, usize)> {
    let start = from.checked_add(s.get(from..)?.iter().position(u8::is_ascii_digit)?)?;
    let len = s
        .get(start..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let end = start.checked_add(len)?;
    let n = std::str::from_utf8(s.get(start..end)?)
        .ok()?
        .parse::<u32>()
        .ok()?;
    Some((n, end))
}

/// libguestfs's `parse_version_from_major_minor`: the first `N.M` in `s`, else the
/// first `N` (as `N.0`); `None` without digits. `"24.04"` → (24, 4), `"3.20.3"` →
/// (3, 20), `"12"` → (12, 0), `"trixie/sid"` → None.
pub fn major_minor(s: &str) -> Option<(u32, u32)> {
    let b = s.as_bytes();
    let mut at = 0usize;
    let mut first: Option<u32> = None;
    // Each iteration moves past one run of digits: bounded by the string length.
    while let Some((major, end)) = number_at(b, at) {
        if first.is_none() {
            first = Some(major);
        }
        if b.get(end) == Some(&b'.') && b.get(end.saturating_add(1)).is_some_and(u8::is_ascii_digit)
        {
            let (minor, _) = number_at(b, end.saturating_add(1))?;
            return Some((major, minor));
        }
        at = end;
    }
    first.map(|m| (m, 0))
}

/// libguestfs's distro name for an os-release `ID`.
pub fn distro_of_os_release_id(id: &str) -> Option<&'static str> {
    Some(match id {
        "alpine" => "alpinelinux",
        "altlinux" => "altlinux",
        "arch" | "archarm" => "archlinux",
        "centos" => "centos",
        "coreos" => "coreos",
        "debian" => "debian",
        "fedora" => "fedora",
        "frugalware" => "frugalware",
        "kali" => "kalilinux",
        "mageia" => "mageia",
        "neokylin" => "neokylin",
        "opensuse" => "opensuse",
        s if s.starts_with("opensuse-") => "opensuse",
        "pld" => "pldlinux",
        "rhel" => "rhel",
        "rocky" => "rocky",
        "almalinux" => "almalinux",
        "ol" => "oraclelinux",
        "sles" | "sled" => "sles",
        "ubuntu" => "ubuntu",
        "linuxmint" => "linuxmint",
        "void" => "voidlinux",
        "gentoo" => "gentoo",
        _ => return None,
    })
}

/// Parse os-release into `data`. Returns true when it was conclusive (distro,
/// product name and a full version), false to go on to the next release file, as
/// libguestfs: Debian's and CentOS's os-release carry only the major version, so
/// they defer to `/etc/debian_version` / `/etc/centos-release`; a rolling release
/// without `VERSION_ID` (Arch) defers too.
pub fn parse_os_release(text: &str, data: &mut ReleaseInfo) -> bool {
    for (k, v) in key_values(text, shell_unquote) {
        match k.as_str() {
            "ID" => {
                if let Some(d) = distro_of_os_release_id(&v) {
                    data.distro = Some(d.to_string());
                }
            }
            "PRETTY_NAME" if !v.is_empty() => data.product_name = Some(v),
            "VERSION_ID" => {
                if let Some(ver) = major_minor(&v) {
                    data.version = Some(ver);
                }
            }
            _ => {}
        }
    }
    if data.distro.is_none() || data.product_name.is_none() {
        return false;
    }
    match (data.distro.as_deref(), data.version) {
        (Some("debian" | "centos"), Some((_, 0))) => false,
        (Some("voidlinux"), None) => {
            data.version = Some((0, 0));
            true
        }
        (_, None) => false,
        _ => true,
    }
}

/// Parse lsb-release (`DISTRIB_ID`, `DISTRIB_RELEASE`, `DISTRIB_DESCRIPTION`).
/// Conclusive when the id is known or a description is present.
pub fn parse_lsb_release(text: &str, data: &mut ReleaseInfo) -> bool {
    let mut ok = false;
    for (k, v) in key_values(text, simple_unquote) {
        match k.as_str() {
            "DISTRIB_ID" => {
                let d = match v.as_str() {
                    "Ubuntu" => Some("ubuntu"),
                    "LinuxMint" => Some("linuxmint"),
                    "Mageia" => Some("mageia"),
                    "CoreOS" => Some("coreos"),
                    _ => None,
                };
                if let Some(d) = d {
                    data.distro = Some(d.to_string());
                    ok = true;
                }
            }
            "DISTRIB_RELEASE" => {
                if let Some(ver) = major_minor(&v) {
                    data.version = Some(ver);
                }
            }
            "DISTRIB_DESCRIPTION" if !v.is_empty() => {
                data.product_name = Some(v);
                ok = true;
            }
            _ => {}
        }
    }
    ok
}

/// The first line of a release file, trimmed; `None` when empty.
pub fn first_line(text: &str) -> Option<&str> {
    let l = text.lines().next()?.trim();
    (!l.is_empty()).then_some(l)
}

/// How a `/etc/*-release` line is matched: the text that must appear before
/// `release` (`"Fedora"`, `"Red Hat"`, `"CentOS"`, `"Rocky Linux"`, ...).
#[derive(Debug, Clone, Copy)]
pub struct ReleasePattern {
    /// Text that must occur in the line (libguestfs's regex prefix).
    pub prefix: &'static str,
    /// The distro set on a match.
    pub distro: &'static str,
    /// Whether a minor version is required (`release N.M`) or only a major (`release N`).
    pub needs_minor: bool,
}

/// Match `"<prefix>.*release N[.M]"` (libguestfs's `re_rhel`, `re_centos`,
/// `re_fedora`, ... and their `_no_minor` variants; "Update N" as minor for the old
/// RHEL 4 style). Returns (major, minor).
pub fn match_release_line(line: &str, p: &ReleasePattern) -> Option<(u32, u32)> {
    let at = line.find(p.prefix)?;
    let rest = line.get(at..)?;
    let rel = rest.find("release ")?;
    let after = rest.get(rel.checked_add(8)?..)?;
    let b = after.as_bytes();
    if !b.first()?.is_ascii_digit() {
        return None;
    }
    let (major, end) = number_at(b, 0)?;
    if b.get(end) == Some(&b'.') && b.get(end.saturating_add(1)).is_some_and(u8::is_ascii_digit) {
        let (minor, _) = number_at(b, end.saturating_add(1))?;
        return Some((major, minor));
    }
    if let Some(u) = after.find("Update ") {
        if let Some((minor, _)) = number_at(after.as_bytes(), u.saturating_add(7)) {
            return Some((major, minor));
        }
    }
    if p.needs_minor {
        None
    } else {
        Some((major, 0))
    }
}

/// Apply a generic release file (`parse_generic` in libguestfs): the first line is
/// the product name (kept only when nothing better, such as os-release's
/// `PRETTY_NAME`, was found) and the version is its first `N.M`.
pub fn parse_generic(text: &str, distro: &str, data: &mut ReleaseInfo) -> bool {
    let Some(line) = first_line(text) else {
        return false;
    };
    data.distro = Some(distro.to_string());
    if data.product_name.is_none() {
        data.product_name = Some(line.to_string());
    }
    if let Some(v) = major_minor(line) {
        data.version = Some(v);
    }
    true
}

/// Apply a release file whose line must match `patterns` (tried in order);
/// false when none matches.
pub fn parse_with_patterns(
    text: &str,
    patterns: &[ReleasePattern],
    data: &mut ReleaseInfo,
) -> bool {
    let Some(line) = first_line(text) else {
        return false;
    };
    for p in patterns {
        if let Some(v) = match_release_line(line, p) {
            data.distro = Some(p.distro.to_string());
            if data.product_name.is_none() {
                data.product_name = Some(line.to_string());
            }
            data.version = Some(v);
            return true;
        }
    }
    false
}

/// `/etc/SuSE-release`: first line the product name, then `VERSION = N` and
/// `PATCHLEVEL = M`.
pub fn parse_suse_release(text: &str, data: &mut ReleaseInfo) -> bool {
    let mut it = lines(text);
    let Some(name) = it.next().map(str::trim).filter(|l| !l.is_empty()) else {
        return false;
    };
    if data.product_name.is_none() {
        data.product_name = Some(name.to_string());
    }
    let field = |key: &str| {
        lines(text).find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key)
                .then(|| v.trim().parse::<u32>().ok())
                .flatten()
        })
    };
    if name.starts_with("SUSE Linux Enterprise")
        || name.starts_with("SUSE LINUX Enterprise")
        || name.starts_with("Novell Linux Desktop")
    {
        data.distro = Some("sles".into());
        if let Some(major) = field("VERSION") {
            data.version = Some((major, field("PATCHLEVEL").unwrap_or(0)));
        }
    } else if name.starts_with("openSUSE")
        || name.starts_with("SuSE Linux")
        || name.starts_with("SUSE LINUX")
    {
        data.distro = Some("opensuse".into());
        if let Some(v) = it.next().and_then(major_minor) {
            data.version = Some(v);
        }
    } else {
        data.distro = Some("suse-based".into());
    }
    true
}

/// The hostname in a hostname file: its first line, trimmed; `None` if empty.
pub fn parse_hostname_file(text: &str) -> Option<String> {
    first_line(text)
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
}

/// `HOSTNAME=` in `/etc/sysconfig/network`.
pub fn parse_sysconfig_network(text: &str) -> Option<String> {
    key_values(text, shell_unquote)
        .into_iter()
        .find(|(k, v)| k == "HOSTNAME" && !v.is_empty())
        .map(|(_, v)| v)
}

/// `package_format` for a distro, as libguestfs decides it.
pub fn package_format(distro: &str) -> Option<&'static str> {
    Some(match distro {
        "altlinux" | "centos" | "fedora" | "mageia" | "mandriva" | "meego" | "neokylin"
        | "opensuse" | "oraclelinux" | "redhat-based" | "rhel" | "scientificlinux" | "sles"
        | "suse-based" | "rocky" | "almalinux" => "rpm",
        "debian" | "kalilinux" | "linuxmint" | "ubuntu" => "deb",
        "archlinux" => "pacman",
        "gentoo" => "ebuild",
        "pardus" => "pisi",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => return None,
    })
}

/// `package_management` for a distro and major version, as libguestfs decides it
/// (Fedora ≥ 22 is `dnf` without looking for `/usr/bin/dnf`, which libguestfs also
/// checks; every Fedora since 22 ships dnf).
pub fn package_management(distro: &str, major: u32) -> Option<&'static str> {
    Some(match distro {
        "meego" => "yum",
        "fedora" if major >= 22 => "dnf",
        "fedora" if major >= 1 => "yum",
        "neokylin" => "dnf",
        "centos" | "oraclelinux" | "redhat-based" | "rhel" | "scientificlinux" | "rocky"
        | "almalinux" => match major {
            8.. => "dnf",
            5..=7 => "yum",
            2..=4 => "up2date",
            _ => return None,
        },
        "altlinux" | "debian" | "kalilinux" | "linuxmint" | "ubuntu" => "apt",
        "archlinux" => "pacman",
        "gentoo" => "portage",
        "pardus" => "pisi",
        "mageia" | "mandriva" => "urpmi",
        "opensuse" | "sles" | "suse-based" => "zypper",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => return None,
    })
}

/// One line of `/etc/fstab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// The device spec (`UUID=...`, `/dev/sda1`, `LABEL=...`).
    pub spec: String,
    /// The mountpoint (`/`, `/usr`, `none`, `swap`).
    pub mountpoint: String,
    /// The filesystem type (`ext4`, `swap`, `nfs`).
    pub vfstype: String,
    /// The mount options.
    pub options: String,
}

impl FstabEntry {
    /// Whether this entry is a swap area.
    pub fn is_swap(&self) -> bool {
        self.vfstype == "swap" || self.mountpoint == "swap"
    }
    /// Whether inspection maps this entry to a local block device: not a network
    /// filesystem, a pseudo filesystem or a bind mount, and mounted at an absolute path.
    pub fn is_local_mount(&self) -> bool {
        const NOT_BLOCK: &[&str] = &[
            "nfs",
            "nfs4",
            "cifs",
            "smbfs",
            "smb3",
            "9p",
            "virtiofs",
            "fuse",
            "fuse.sshfs",
            "sshfs",
            "glusterfs",
            "ceph",
            "proc",
            "sysfs",
            "tmpfs",
            "devpts",
            "devtmpfs",
            "securityfs",
            "cgroup",
            "cgroup2",
            "debugfs",
            "mqueue",
            "hugetlbfs",
            "binfmt_misc",
            "efivarfs",
            "autofs",
            "none",
            "overlay",
            "ramfs",
            "iso9660",
            "udf",
            "auto",
        ];
        let bind = self.options.split(',').any(|o| o == "bind" || o == "rbind");
        let network =
            self.spec.contains(':') && !self.spec.contains('=') || self.spec.starts_with("//");
        self.mountpoint.starts_with('/')
            && !bind
            && !network
            && !self.is_swap()
            && !NOT_BLOCK.contains(&self.vfstype.as_str())
    }
}

/// Undo fstab's octal escapes (`\040` for a space).
fn fstab_unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(oct) = b.get(i.saturating_add(1)..i.saturating_add(4)) {
                if oct.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let v = oct.iter().fold(0u32, |a, d| a * 8 + u32::from(d - b'0'));
                    if let Ok(v) = u8::try_from(v) {
                        out.push(v);
                        i = i.saturating_add(4);
                        continue;
                    }
                }
            }
        }
        out.push(c);
        i = i.saturating_add(1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse an fstab: whitespace-separated fields (spaces or tabs), `#` comments and
/// blank lines skipped, lines with fewer than two fields ignored; missing type and
/// options default to `auto` and `defaults`.
pub fn parse_fstab(text: &str) -> Vec<FstabEntry> {
    let mut out = Vec::new();
    for line in lines(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(spec), Some(mp)) = (f.next(), f.next()) else {
            continue;
        };
        let vfstype = f.next().unwrap_or("auto");
        let options = f.next().unwrap_or("defaults");
        out.push(FstabEntry {
            spec: fstab_unescape(spec),
            mountpoint: fstab_unescape(mp),
            vfstype: vfstype.to_string(),
            options: options.to_string(),
        });
    }
    out
}

/// The architecture named by an ELF header (the first 20 bytes suffice), with
/// libguestfs's names (`x86_64`, `i386`, `aarch64`, `armv7l` for 32-bit ARM,
/// `riscv64`, `ppc64le`/`ppc64`, `s390x`, ...).
pub fn elf_arch(head: &[u8]) -> Option<&'static str> {
    if head.get(0..4)? != b"\x7fELF" {
        return None;
    }
    let class64 = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match head.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let m = head.get(18..20)?;
    let machine = if le {
        u16::from_le_bytes([*m.first()?, *m.get(1)?])
    } else {
        u16::from_be_bytes([*m.first()?, *m.get(1)?])
    };
    Some(match (machine, class64, le) {
        (3, false, _) => "i386",
        (62, true, _) => "x86_64",
        (183, true, _) => "aarch64",
        (40, false, _) => "armv7l",
        (243, true, _) => "riscv64",
        (243, false, _) => "riscv32",
        (21, true, true) => "ppc64le",
        (21, true, false) => "ppc64",
        (20, false, _) => "ppc",
        (22, true, _) => "s390x",
        (22, false, _) => "s390",
        (8, true, true) => "mips64el",
        (8, true, false) => "mips64",
        (8, false, true) => "mipsel",
        (8, false, false) => "mips",
        (2 | 43, true, _) => "sparc64",
        (2, false, _) => "sparc",
        (258, true, _) => "loongarch64",
        _ => return None,
    })
}

/// The architecture named by a PE (Windows executable) header.
pub fn pe_arch(file: &[u8]) -> Option<&'static str> {
    if file.get(0..2)? != b"MZ" {
        return None;
    }
    let lfanew =
        usize::try_from(u32::from_le_bytes(file.get(0x3c..0x40)?.try_into().ok()?)).ok()?;
    if file.get(lfanew..lfanew.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let m = file.get(lfanew.checked_add(4)?..lfanew.checked_add(6)?)?;
    Some(match u16::from_le_bytes([*m.first()?, *m.get(1)?]) {
        0x14c => "i386",
        0x8664 => "x86_64",
        0xaa64 => "aarch64",
        0x1c4 => "armv7l",
        _ => return None,
    })
}
