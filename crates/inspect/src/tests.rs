//! Unit tests on hand-written samples and in-memory guests.

use crate::guestfs::GuestFs;
use crate::os::{detect_arch, detect_hostname, detect_release, is_linux_root};
use crate::release::*;
use crate::{Cache, ErrorKind, MemFs};
use std::sync::Arc;

fn elf(machine: u16, class: u8) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = class;
    h[5] = 1;
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h
}

// ---- path resolution -------------------------------------------------------

fn usr_merged_guest() -> GuestFs {
    let root = MemFs::new("ext4")
        .dir("/usr")
        .symlink("/bin", "usr/bin")
        .symlink("/etc/os-release", "../usr/lib/os-release")
        .symlink("/etc/abs", "/usr/lib/os-release")
        .symlink("/etc/escape", "../../../../../../etc/shadow")
        .symlink("/etc/escape_abs", "/../../host")
        .file("/etc/shadow", "guest shadow")
        .symlink("/loop1", "loop2")
        .symlink("/loop2", "/loop1")
        .symlink("/self", "self")
        .file("/etc/fstab", "")
        .file("/etc/hostname", "web01\n");
    let usr = MemFs::new("ext4")
        .file("/lib/os-release", "ID=debian\n")
        .file("/bin/bash", elf(62, 2))
        .symlink("/bin/sh", "bash")
        .symlink("/bin/up", "../../etc");
    let mut g = GuestFs::with_root("/dev/sda1", Arc::new(root));
    g.mount("/usr", "/dev/vg/usr", Arc::new(usr));
    g
}

#[test]
fn symlinks_cross_mounts_relative_and_absolute() {
    let g = usr_merged_guest();
    assert_eq!(
        g.resolve("/etc/os-release", true).unwrap(),
        "/usr/lib/os-release"
    );
    assert_eq!(g.read_file("/etc/os-release", 100).unwrap(), b"ID=debian\n");
    assert_eq!(g.read_file("/etc/abs", 100).unwrap(), b"ID=debian\n");
    // /bin -> usr/bin, then /usr/bin/sh -> bash on the /usr filesystem.
    assert_eq!(g.resolve("/bin/sh", true).unwrap(), "/usr/bin/bash");
    assert_eq!(g.resolve("/bin/sh", false).unwrap(), "/usr/bin/sh");
    // A relative link climbing out of /usr lands back on the root filesystem.
    assert_eq!(
        g.resolve("/bin/up/hostname", true).unwrap(),
        "/etc/hostname"
    );
    assert!(g.is_dir("/bin"));
    assert!(g.is_symlink("/bin"));
    assert!(!g.is_symlink("/usr"));
}

#[test]
fn dotdot_is_clamped_at_the_guest_root() {
    let g = usr_merged_guest();
    // Far too many "..": stays inside the guest and finds the GUEST's /etc/shadow.
    assert_eq!(g.read_file("/etc/escape", 100).unwrap(), b"guest shadow");
    assert_eq!(
        g.resolve("/etc/escape_abs", true).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        g.resolve("/../../etc/../etc/./hostname", true).unwrap(),
        "/etc/hostname"
    );
}

#[test]
fn symlink_loops_are_eloop() {
    let g = usr_merged_guest();
    for p in ["/loop1", "/self", "/loop1/x"] {
        let e = g.read_file(p, 10).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SymlinkLoop, "{p}: {e}");
        assert!(e.to_string().contains("too many levels of symbolic links"));
    }
    // Not following the final link is fine.
    assert!(g.lstat("/self").is_ok());
}

#[test]
fn intermediate_file_and_missing_and_relative_paths() {
    let g = usr_merged_guest();
    assert_eq!(
        g.stat("/etc/hostname/x").unwrap_err().kind(),
        ErrorKind::WrongType
    );
    assert_eq!(g.stat("/nope/x").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        g.stat("etc/hostname").unwrap_err().kind(),
        ErrorKind::InvalidPath
    );
    let deep = "/a".repeat(300);
    let fs = MemFs::new("ext4").dir(&deep);
    let g2 = GuestFs::with_root("/dev/sda", Arc::new(fs));
    assert_eq!(g2.stat(&deep).unwrap_err().kind(), ErrorKind::LimitExceeded);
}

#[test]
fn many_hops_under_the_limit_are_fine() {
    // A chain of 40 links resolves; 41 is ELOOP.
    let mut fs = MemFs::new("ext4").file("/target", "ok");
    for i in 0..41 {
        let next = if i == 0 {
            "/target".to_string()
        } else {
            format!("/l{}", i - 1)
        };
        fs = fs.symlink(&format!("/l{i}"), &next);
    }
    let g = GuestFs::with_root("/dev/sda", Arc::new(fs));
    assert_eq!(g.read_file("/l39", 10).unwrap(), b"ok");
    assert_eq!(
        g.read_file("/l40", 10).unwrap_err().kind(),
        ErrorKind::SymlinkLoop
    );
}

#[test]
fn nocase_lookup() {
    let fs = MemFs::new("ntfs").file("/WINDOWS/system32/CONFIG/SOFTWARE", "x");
    let g = GuestFs::with_root("/dev/sda2", Arc::new(fs));
    assert_eq!(
        g.find_nocase("/Windows/System32/config/software").unwrap(),
        "/WINDOWS/system32/CONFIG/SOFTWARE"
    );
    assert_eq!(
        crate::os::windows_systemroot(&g).as_deref(),
        Some("/WINDOWS")
    );
    assert!(g.find_nocase("/Windows/System32/nothing").is_none());
}

// ---- release files ---------------------------------------------------------

#[test]
fn os_release_quotes_escapes_comments() {
    let text = r#"# a comment
NAME="Fancy \"Linux\""
  # indented comment
ID='ubuntu'
PRETTY_NAME="Ubuntu 22.04.4 LTS \$HOME \\ \`x\`"
VERSION_ID=22.04
EMPTY=
BAD LINE
export FOO=bar
"#;
    let kv = key_values(text, shell_unquote);
    assert!(kv.contains(&("NAME".into(), "Fancy \"Linux\"".into())));
    assert!(kv.contains(&("FOO".into(), "bar".into())));
    let mut d = ReleaseInfo::default();
    assert!(parse_os_release(text, &mut d));
    assert_eq!(d.distro.as_deref(), Some("ubuntu"));
    assert_eq!(
        d.product_name.as_deref(),
        Some("Ubuntu 22.04.4 LTS $HOME \\ `x`")
    );
    assert_eq!(d.version, Some((22, 4)));
    assert_eq!(shell_unquote(r#""a"'b'c\ d"#), "abc d");
}

#[test]
fn os_release_defers_like_libguestfs() {
    // Debian: major only → inconclusive, fields kept.
    let mut d = ReleaseInfo::default();
    assert!(!parse_os_release(
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        &mut d
    ));
    assert_eq!(d.distro.as_deref(), Some("debian"));
    // Arch: no VERSION_ID → inconclusive.
    let mut a = ReleaseInfo::default();
    assert!(!parse_os_release(
        "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n",
        &mut a
    ));
    assert_eq!(a.distro.as_deref(), Some("archlinux"));
    // Unknown ID → inconclusive.
    let mut u = ReleaseInfo::default();
    assert!(!parse_os_release(
        "ID=weird\nPRETTY_NAME=x\nVERSION_ID=1.2\n",
        &mut u
    ));
    assert_eq!(major_minor("3.20.3"), Some((3, 20)));
    assert_eq!(major_minor("trixie/sid"), None);
    assert_eq!(major_minor("12"), Some((12, 0)));
    assert_eq!(major_minor("v10.3"), Some((10, 3)));
}

#[test]
fn lsb_release() {
    let mut d = ReleaseInfo::default();
    assert!(parse_lsb_release(
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.04\nDISTRIB_CODENAME=lucid\nDISTRIB_DESCRIPTION=\"Ubuntu 10.04.1 LTS\"\n",
        &mut d
    ));
    assert_eq!(
        d,
        ReleaseInfo {
            distro: Some("ubuntu".into()),
            product_name: Some("Ubuntu 10.04.1 LTS".into()),
            version: Some((10, 4))
        }
    );
    // A bare LSB_VERSION file (RHEL 3) is not conclusive.
    assert!(!parse_lsb_release(
        "LSB_VERSION=1.3\n",
        &mut ReleaseInfo::default()
    ));
}

#[test]
fn redhat_family_release_lines() {
    let g = |text: &str| {
        let fs = MemFs::new("ext4").file("/etc/redhat-release", text);
        detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)))
    };
    let r = g("Rocky Linux release 9.4 (Blue Onyx)\n");
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("rocky"), Some((9, 4)))
    );
    let r = g("CentOS Linux release 7.9.2009 (Core)\n");
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("centos"), Some((7, 9)))
    );
    assert_eq!(
        r.product_name.as_deref(),
        Some("CentOS Linux release 7.9.2009 (Core)")
    );
    let r = g("Fedora release 40 (Forty)\n");
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("fedora"), Some((40, 0)))
    );
    let r = g("Red Hat Enterprise Linux AS release 4 (Nahant Update 9)\n");
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("rhel"), Some((4, 9)))
    );
    let r = g("Something Else 3.1\n");
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("redhat-based"), Some((3, 1)))
    );
}

#[test]
fn debian_version_and_precedence() {
    let base = MemFs::new("ext4").file(
        "/usr/lib/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n",
    );
    let fs = base
        .clone()
        .symlink("/etc/os-release", "../usr/lib/os-release")
        .file("/etc/debian_version", "12.6\n");
    let r = detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)));
    assert_eq!(r.distro.as_deref(), Some("debian"));
    assert_eq!(r.version, Some((12, 6)));
    assert_eq!(
        r.product_name.as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );
    let fs = MemFs::new("ext4").file("/etc/debian_version", "trixie/sid\n");
    let r = detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)));
    assert_eq!(
        (r.distro.as_deref(), r.version, r.product_name.as_deref()),
        (Some("debian"), None, Some("trixie/sid"))
    );
    // Arch: os-release inconclusive, then /etc/arch-release.
    let fs = MemFs::new("ext4")
        .file(
            "/etc/os-release",
            "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n",
        )
        .file("/etc/arch-release", "");
    let r = detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)));
    assert_eq!(
        (r.distro.as_deref(), r.version, r.product_name.as_deref()),
        (Some("archlinux"), None, Some("Arch Linux"))
    );
    // Alpine without os-release.
    let fs = MemFs::new("ext4").file("/etc/alpine-release", "3.19.1\n");
    let r = detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)));
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("alpinelinux"), Some((3, 19)))
    );
    // SLES.
    let fs = MemFs::new("ext4").file(
        "/etc/SuSE-release",
        "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n",
    );
    let r = detect_release(&GuestFs::with_root("/dev/sda1", Arc::new(fs)));
    assert_eq!(
        (r.distro.as_deref(), r.version),
        (Some("sles"), Some((11, 4)))
    );
}

#[test]
fn package_format_and_manager() {
    assert_eq!(package_format("rocky"), Some("rpm"));
    assert_eq!(package_management("rocky", 9), Some("dnf"));
    assert_eq!(package_management("centos", 7), Some("yum"));
    assert_eq!(package_management("fedora", 40), Some("dnf"));
    assert_eq!(package_management("fedora", 0), None);
    assert_eq!(package_management("alpinelinux", 3), Some("apk"));
    assert_eq!(package_format("archlinux"), Some("pacman"));
    assert_eq!(package_format("windows"), None);
}

#[test]
fn hostname_sources() {
    let fs = MemFs::new("ext4").file("/etc/hostname", "\n").file(
        "/etc/sysconfig/network",
        "NETWORKING=yes\nHOSTNAME=\"db.example.com\"\n",
    );
    assert_eq!(
        detect_hostname(&GuestFs::with_root("/dev/sda1", Arc::new(fs))).as_deref(),
        Some("db.example.com")
    );
    let fs = MemFs::new("ext4")
        .file("/etc/HOSTNAME", "old-suse\n")
        .file("/etc/hostname", "new\n");
    assert_eq!(
        detect_hostname(&GuestFs::with_root("/dev/sda1", Arc::new(fs))).as_deref(),
        Some("old-suse")
    );
    let fs = MemFs::new("ext4");
    assert_eq!(
        detect_hostname(&GuestFs::with_root("/dev/sda1", Arc::new(fs))),
        None
    );
}

#[test]
fn fstab_parsing() {
    let text = "# /etc/fstab: static file system information.\n\
        #\n\
        UUID=1234-abcd\t/\text4\terrors=remount-ro 0 1\n\
        LABEL=boot /boot ext4 defaults 0 2\n\
        /dev/mapper/vg-usr /usr ext4 defaults 0 0\n\
        /dev/sda3 none swap sw 0 0\n\
        /swapfile swap swap defaults 0 0\n\
        server:/export /mnt/nfs nfs defaults 0 0\n\
        //srv/share /mnt/cifs cifs guest 0 0\n\
        /srv/data /var/data none bind 0 0\n\
        tmpfs /tmp tmpfs defaults 0 0\n\
        proc /proc proc defaults 0 0\n\
        /dev/disk/by-label/My\\040Disk /mnt/my\\040disk ext4 defaults\n\
        lonely\n\
        \n";
    let e = parse_fstab(text);
    let local: Vec<(&str, &str)> = e
        .iter()
        .filter(|e| e.is_local_mount())
        .map(|e| (e.spec.as_str(), e.mountpoint.as_str()))
        .collect();
    assert_eq!(
        local,
        vec![
            ("UUID=1234-abcd", "/"),
            ("LABEL=boot", "/boot"),
            ("/dev/mapper/vg-usr", "/usr"),
            ("/dev/disk/by-label/My Disk", "/mnt/my disk"),
        ]
    );
    assert_eq!(e.iter().filter(|e| e.is_swap()).count(), 2);
    assert_eq!(e.len(), 11);
}

#[test]
fn elf_and_pe_arch() {
    assert_eq!(elf_arch(&elf(62, 2)), Some("x86_64"));
    assert_eq!(elf_arch(&elf(3, 1)), Some("i386"));
    assert_eq!(elf_arch(&elf(183, 2)), Some("aarch64"));
    assert_eq!(elf_arch(&elf(40, 1)), Some("armv7l"));
    assert_eq!(elf_arch(&elf(243, 2)), Some("riscv64"));
    assert_eq!(elf_arch(&elf(21, 2)), Some("ppc64le"));
    assert_eq!(elf_arch(&elf(22, 2)), Some("s390x"));
    assert_eq!(elf_arch(&elf(62, 1)), None);
    assert_eq!(elf_arch(b"\x7fELF"), None);
    assert_eq!(elf_arch(b"#!/bin/sh\n"), None);
    let mut pe = vec![0u8; 0x100];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
    assert_eq!(pe_arch(&pe), Some("x86_64"));
    pe[0x3c..0x40].copy_from_slice(&0xfff0u32.to_le_bytes());
    assert_eq!(pe_arch(&pe), None);
}

#[test]
fn linux_root_rules_and_arch() {
    let g = usr_merged_guest();
    assert!(is_linux_root(&g));
    assert_eq!(detect_arch(&g).as_deref(), Some("x86_64"));
    // /bin a symlink elsewhere, or no fstab/hosts: not a root.
    let fs = MemFs::new("ext4")
        .dir("/etc")
        .symlink("/bin", "opt/bin")
        .file("/etc/hosts", "");
    assert!(!is_linux_root(&GuestFs::with_root(
        "/dev/sda1",
        Arc::new(fs)
    )));
    let fs = MemFs::new("ext4").dir("/etc").dir("/bin");
    assert!(!is_linux_root(&GuestFs::with_root(
        "/dev/sda1",
        Arc::new(fs)
    )));
    let fs = MemFs::new("ext4").dir("/bin").file("/etc/hosts", "");
    assert!(is_linux_root(&GuestFs::with_root(
        "/dev/sda1",
        Arc::new(fs)
    )));
}

#[test]
fn pacman_listing_skips_bad_desc() {
    let desc = |n: &str, v: &str| format!("%NAME%\n{n}\n\n%VERSION%\n{v}\n\n%ARCH%\nx86_64\n\n");
    let fs = MemFs::new("ext4")
        .file(
            "/var/lib/pacman/local/zlib-1:1.3-2/desc",
            desc("zlib", "1:1.3-2"),
        )
        .file(
            "/var/lib/pacman/local/bash-5.2-1/desc",
            desc("bash", "5.2-1"),
        )
        .file("/var/lib/pacman/local/broken-1-1/desc", "garbage")
        .file("/var/lib/pacman/local/ALPM_DB_VERSION", "9\n");
    let g = GuestFs::with_root("/dev/sda1", Arc::new(fs));
    let (apps, diags) = crate::list_applications(&g, "pacman").unwrap();
    let names: Vec<_> = apps
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.epoch,
                a.version.as_str(),
                a.release.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![("bash", 0, "5.2", "1"), ("zlib", 1, "1.3", "2")]
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].subject.contains("broken"));
    // Missing database: an error naming the path.
    let e = crate::list_applications(&g, "deb").unwrap_err();
    assert!(e.to_string().contains("/var/lib/dpkg/status"), "{e}");
}

// ---- cache and batch -------------------------------------------------------

pub(crate) fn sample_inspection() -> crate::Inspection {
    crate::Inspection {
        schema_version: crate::SCHEMA_VERSION,
        image: "x".into(),
        format: "raw".into(),
        size: 1,
        partition_table: "gpt".into(),
        filesystems: vec![],
        operatingsystems: vec![],
        diagnostics: vec![],
    }
}

#[test]
fn cache_key_sees_changes_even_with_mtime_restored() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("d.img");
    std::fs::write(&img, vec![1u8; 200_000]).unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let k1 = Cache::key(&img, "o").unwrap();
    cache.put(&k1, &sample_inspection()).unwrap();
    assert!(cache.lookup(&img, "o").is_some());
    assert!(cache.lookup(&img, "other-options").is_none());
    let mtime = std::fs::metadata(&img).unwrap().modified().unwrap();
    // Content change in the first blocks, mtime forced back.
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
        f.write_all_at(&[9], 1000).unwrap();
        f.set_modified(mtime).unwrap();
    }
    assert_eq!(std::fs::metadata(&img).unwrap().modified().unwrap(), mtime);
    assert!(
        cache.lookup(&img, "o").is_none(),
        "a changed first block must miss"
    );
    // Change in the last block, mtime forced back.
    let k2 = Cache::key(&img, "o").unwrap();
    cache.put(&k2, &sample_inspection()).unwrap();
    assert!(cache.lookup(&img, "o").is_some());
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
        f.write_all_at(&[9], 199_999).unwrap();
        f.set_modified(mtime).unwrap();
    }
    assert!(
        cache.lookup(&img, "o").is_none(),
        "a changed last block must miss"
    );
    // Size change.
    let k3 = Cache::key(&img, "o").unwrap();
    cache.put(&k3, &sample_inspection()).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&img)
        .unwrap()
        .set_len(300_000)
        .unwrap();
    assert!(cache.lookup(&img, "o").is_none());
}

#[test]
fn corrupt_entries_are_misses_and_clear_empties() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("d.img");
    std::fs::write(&img, b"hello").unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let k = Cache::key(&img, "o").unwrap();
    cache.put(&k, &sample_inspection()).unwrap();
    assert_eq!(cache.len(), 1);
    let entry = std::fs::read_dir(cache.dir())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for bad in [&b""[..], b"{not json\n{}", b"garbage without newline"] {
        std::fs::write(&entry, bad).unwrap();
        assert!(cache.lookup(&img, "o").is_none());
    }
    let mut text = std::fs::read(&entry).unwrap();
    text.truncate(text.len() / 2);
    std::fs::write(&entry, text).unwrap();
    assert!(cache.lookup(&img, "o").is_none());
    // A store replaces the bad entry.
    cache.put(&k, &sample_inspection()).unwrap();
    assert_eq!(
        cache.lookup(&img, "o").unwrap().image,
        img.display().to_string()
    );
    std::fs::write(cache.dir().join("keep-me.txt"), "not ours").unwrap();
    assert_eq!(cache.clear().unwrap(), 1);
    assert!(cache.lookup(&img, "o").is_none());
    assert!(cache.dir().join("keep-me.txt").exists());
    assert_eq!(Cache::new(dir.path().join("missing")).clear().unwrap(), 0);
}

#[test]
fn hash128_sees_every_byte_and_every_position() {
    use crate::cache::hash128;
    let base: Vec<u8> = (0..70_000u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let h = hash128(&base);
    assert_eq!(h, hash128(&base), "deterministic");
    // One flipped bit anywhere, in the 32-byte blocks or in the remainder, changes both halves.
    for pos in [0, 7, 8, 31, 32, 4095, 65_535, 69_983, 69_999] {
        let mut m = base.clone();
        m[pos] ^= 1;
        let g = hash128(&m);
        assert!(g.0 != h.0 && g.1 != h.1, "flip at {pos} not seen");
    }
    // Swapping two words is seen too.
    let mut m = base.clone();
    m.swap(0, 8);
    assert_ne!(hash128(&m), h);
    assert_ne!(hash128(&base[..69_999]), h, "length matters");
}

// ---- architecture: only the ELF header is read ----------------------------------

/// A filesystem that records how many file bytes it returned.
#[derive(Debug)]
struct CountingFs {
    inner: MemFs,
    bytes: std::sync::atomic::AtomicU64,
}

impl CountingFs {
    fn count(
        &self,
        r: Result<Vec<u8>, guestctl_fs::FsError>,
    ) -> Result<Vec<u8>, guestctl_fs::FsError> {
        if let Ok(b) = &r {
            self.bytes
                .fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}

impl guestctl_fs::Filesystem for CountingFs {
    fn fs_type(&self) -> &str {
        guestctl_fs::Filesystem::fs_type(&self.inner)
    }
    fn uuid(&self) -> Option<String> {
        guestctl_fs::Filesystem::uuid(&self.inner)
    }
    fn label(&self) -> Option<String> {
        guestctl_fs::Filesystem::label(&self.inner)
    }
    fn lstat(&self, path: &str) -> Result<guestctl_fs::Metadata, guestctl_fs::FsError> {
        guestctl_fs::Filesystem::lstat(&self.inner, path)
    }
    fn read_link(&self, path: &str) -> Result<String, guestctl_fs::FsError> {
        guestctl_fs::Filesystem::read_link(&self.inner, path)
    }
    fn read_dir(&self, path: &str) -> Result<Vec<guestctl_fs::DirEntry>, guestctl_fs::FsError> {
        guestctl_fs::Filesystem::read_dir(&self.inner, path)
    }
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, guestctl_fs::FsError> {
        self.count(guestctl_fs::Filesystem::read_file(&self.inner, path, limit))
    }
    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, guestctl_fs::FsError> {
        self.count(guestctl_fs::Filesystem::read_file_head(
            &self.inner,
            path,
            max_len,
        ))
    }
}

#[test]
fn arch_reads_only_the_elf_header_of_a_big_binary() {
    // A 2 MiB "bash" (a real one is 1.2 MiB, a static busybox several), reached
    // through a symlink as on usr-merged guests.
    let mut bash = elf(183, 2);
    bash.resize(2 << 20, 0x90);
    let fs = Arc::new(CountingFs {
        inner: MemFs::new("ext4")
            .file("/usr/bin/bash", bash)
            .symlink("/bin", "usr/bin"),
        bytes: Default::default(),
    });
    let g = GuestFs::with_root("/dev/sda1", fs.clone());
    assert_eq!(detect_arch(&g).as_deref(), Some("aarch64"));
    let read = fs.bytes.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        read <= crate::os::ELF_HEADER_LEN,
        "read {read} bytes for the header"
    );
}
