//! Operation 2, OS inspection, following libguestfs's rules (`daemon/inspect_fs.ml`,
//! `inspect_fs_unix.ml`, `inspect_fs_unix_fstab.ml`, `inspect_fs_windows.ml`).
//!
//! 1. Every volume a driver can read is opened and classified on its own: a Linux
//!    root has `/etc`, `/bin` (a directory, or on usr-merged systems a symlink to
//!    `usr/bin`) and `/etc/fstab` or `/etc/hosts`; a Windows root has
//!    `/Windows/System32/config` (any case).
//! 2. For each Linux root, `/etc/fstab` is read and its entries mapped to the volumes
//!    found (`UUID=`, `LABEL=`, `PARTUUID=`, `PARTLABEL=`, `/dev/disk/by-*`,
//!    `/dev/sdXN`, `/dev/vdXN`, `/dev/hdXN`, `/dev/xvdXN`, `/dev/nvme0n1pN`,
//!    `/dev/mapper/VG-LV`, `/dev/VG/LV`); those filesystems are mounted into a
//!    [`GuestFs`] so the rest of inspection sees the guest whole (a separate `/usr`
//!    or `/var` included). Unlike libguestfs, which reads release files with the
//!    root filesystem alone, guestctl reads them in the assembled namespace, so
//!    `/etc/os-release -> ../usr/lib/os-release` works with a separate `/usr`.
//! 3. The release files are tried in libguestfs's order (os-release, lsb-release,
//!    rocky/oracle/centos/redhat-release, debian_version, arch-release,
//!    SuSE-release, alpine-release, ...); the first conclusive one wins, fields left
//!    by inconclusive ones are kept. One deviation: the product name of a generic
//!    release file (`/etc/debian_version` = `12.6`) does not replace the
//!    `PRETTY_NAME` already read from os-release.
//! 4. Hostname, architecture (ELF header of `/bin/bash`, `/bin/ls`, ...), package
//!    format and manager, and (optionally) the package list.

use crate::error::{ErrorKind, InspectError};
use crate::guestfs::GuestFs;
use crate::launch::Launched;
use crate::release::{self, FstabEntry, ReleaseInfo, ReleasePattern, MAX_SMALL_FILE};
use crate::types::{
    Diagnostic, FilesystemInfo, Inspection, Mountpoint, OperatingSystem, SCHEMA_VERSION,
};
use guestctl_fs::Filesystem;
use guestctl_volume::{PartitionInfo, VolumeKind};
use std::sync::Arc;

/// Options of [`inspect_os`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectOptions {
    /// List installed packages (`applications`). On by default.
    pub packages: bool,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self { packages: true }
    }
}

/// Executables whose ELF header names the architecture, in libguestfs's order
/// (plus busybox for minimal guests).
pub const ARCH_BINARIES: &[&str] = &[
    "/bin/bash",
    "/bin/ls",
    "/bin/echo",
    "/bin/rm",
    "/bin/sh",
    "/bin/busybox",
];
/// Bytes read from the start of an executable for its ELF header (64 bytes for
/// ELF64, 52 for ELF32): only the header is read, never the whole binary.
pub const ELF_HEADER_LEN: u64 = 64;
/// Largest registry hive read (a real SOFTWARE hive is 50–150 MiB).
pub const MAX_HIVE_BYTES: u64 = 512 * 1024 * 1024;
/// Most fstab entries mapped per OS (bounds the mount work on hostile fstabs).
pub const MAX_FSTAB_ENTRIES: usize = 256;

/// A filesystem opened for inspection.
struct Opened {
    index: usize,
    device: String,
    fs: Arc<dyn Filesystem>,
}

/// Inspect a launched image: find every operating system and describe it.
pub fn inspect_os(launched: &Launched, opts: &InspectOptions) -> Inspection {
    let mut diagnostics = launched.diagnostics.clone();
    let opened = open_all(launched, &mut diagnostics);
    let mut operatingsystems = Vec::new();
    for o in &opened {
        let alone = GuestFs::with_root(o.device.clone(), Arc::clone(&o.fs));
        if is_linux_root(&alone) {
            operatingsystems.push(inspect_linux(
                launched,
                &opened,
                o,
                alone,
                opts,
                &mut diagnostics,
            ));
        } else if let Some(sysroot) = windows_systemroot(&alone) {
            operatingsystems.push(crate::windows::inspect_windows(
                launched,
                o.index,
                &alone,
                &sysroot,
                &mut diagnostics,
            ));
        } else if let Some(e) = detection_blocker(&alone) {
            diagnostics.push(Diagnostic {
                subject: o.device.clone(),
                kind: "undetected".into(),
                message: format!(
                    "{}: cannot tell whether it holds an operating system: {e}",
                    o.device
                ),
            });
        }
    }
    Inspection {
        schema_version: SCHEMA_VERSION,
        image: launched.image.display().to_string(),
        format: launched.format.name().to_string(),
        size: launched.disk.size(),
        partition_table: launched.table.name().to_string(),
        filesystems: launched.filesystems(),
        operatingsystems,
        diagnostics,
    }
}

/// libguestfs's Linux root test, on one filesystem alone.
pub fn is_linux_root(g: &GuestFs) -> bool {
    let bin_ok = matches!(g.lstat("/bin"), Ok(m) if m.file_type == guestctl_fs::FileType::Dir)
        || (g.is_symlink("/bin")
            && g.read_link("/bin")
                .is_ok_and(|t| matches!(t.trim_end_matches('/'), "usr/bin" | "/usr/bin")));
    let etc_dir = matches!(g.lstat("/etc"), Ok(m) if m.file_type == guestctl_fs::FileType::Dir);
    etc_dir && bin_ok && (g.is_file("/etc/fstab") || g.is_file("/etc/hosts"))
}

/// What stopped OS detection on a filesystem that could not be read far enough
/// to tell (a directory block with a bad checksum, an impossible inode table):
/// an error other than "not found" on the root directory or on a path the root
/// tests look at. `None` when every answer was read and it is simply no root.
fn detection_blocker(g: &GuestFs) -> Option<InspectError> {
    if let Err(e) = g.read_dir("/") {
        return Some(e);
    }
    ["/etc", "/bin", "/etc/fstab", "/etc/hosts", "/Windows"]
        .into_iter()
        .find_map(|p| g.lstat(p).err().filter(|e| e.kind() != ErrorKind::NotFound))
}

/// The Windows system root (`/Windows`, real spelling) if this filesystem has one.
pub fn windows_systemroot(g: &GuestFs) -> Option<String> {
    for root in ["/Windows", "/WINNT"] {
        if let Some(config) = g.find_nocase(&format!("{root}/System32/config")) {
            if g.is_dir(&config) {
                return config
                    .strip_suffix("/System32/config")
                    .map(str::to_string)
                    .or_else(|| {
                        // Real spelling differs in case: cut three components.
                        let mut parts: Vec<&str> = config.split('/').collect();
                        parts.truncate(parts.len().saturating_sub(2));
                        Some(parts.join("/"))
                    });
            }
        }
    }
    None
}

/// Map an fstab device spec to a volume index, as libguestfs's
/// `resolve_fstab_device` does for a single-disk guest (the disk is `sda`).
pub fn resolve_fstab_device(launched: &Launched, spec: &str) -> Option<usize> {
    let vols = &launched.volumes;
    let unq = |s: &str| release::simple_unquote(s);
    let by = |f: &dyn Fn(&crate::launch::ProbedVolume) -> bool| vols.iter().position(f);
    let eq = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
    if let Some(u) = spec
        .strip_prefix("UUID=")
        .or_else(|| spec.strip_prefix("/dev/disk/by-uuid/"))
    {
        let u = unq(u);
        return by(&|v| eq(v.probed.as_ref().and_then(|p| p.uuid.as_deref()), &u));
    }
    if let Some(l) = spec
        .strip_prefix("LABEL=")
        .or_else(|| spec.strip_prefix("/dev/disk/by-label/"))
    {
        let l = unq(l);
        return by(&|v| v.probed.as_ref().and_then(|p| p.label.as_deref()) == Some(l.as_str()));
    }
    if let Some(u) = spec
        .strip_prefix("PARTUUID=")
        .or_else(|| spec.strip_prefix("/dev/disk/by-partuuid/"))
    {
        let u = unq(u);
        return by(&|v| eq(v.volume.partuuid().as_deref(), &u));
    }
    if let Some(l) = spec
        .strip_prefix("PARTLABEL=")
        .or_else(|| spec.strip_prefix("/dev/disk/by-partlabel/"))
    {
        let l = unq(l);
        return by(
            &|v| matches!(&v.volume.kind, VolumeKind::Partition { table: PartitionInfo::Gpt { name, .. }, .. } if *name == l),
        );
    }
    let dev = spec.strip_prefix("/dev/")?;
    if let Some(m) = dev.strip_prefix("mapper/") {
        // VG-LV with dashes inside names doubled.
        let full = format!("/dev/{dev}");
        let _ = m;
        return by(&|v| v.volume.mapper_path().as_deref() == Some(full.as_str()));
    }
    if let Some(i) = launched.find_device(spec) {
        return Some(i);
    }
    // /dev/{s,h,v,xv}da<N>, /dev/nvme0n1p<N>, /dev/mmcblk0p<N>: partition N of the
    // first (only) disk.
    let part = ["sda", "hda", "vda", "xvda", "nvme0n1p", "mmcblk0p"]
        .iter()
        .find_map(|p| dev.strip_prefix(p))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))?;
    let name = format!("sda{part}");
    vols.iter().position(|v| v.volume.name == name)
}

fn small_text(g: &GuestFs, path: &str) -> Option<String> {
    g.read_file(path, MAX_SMALL_FILE)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The namespace of one Linux root: the root at `/` and its fstab's local
/// filesystems at their mountpoints, with the mountpoints and the indexes of the
/// volumes that belong to the OS (swap included).
struct Assembled {
    g: GuestFs,
    mountpoints: Vec<Mountpoint>,
    fs_indexes: Vec<usize>,
}

fn assemble(
    launched: &Launched,
    opened: &[Opened],
    root: &Opened,
    alone: GuestFs,
    diagnostics: &mut Vec<Diagnostic>,
) -> Assembled {
    let mut g = alone;
    let mut mountpoints = vec![Mountpoint {
        mountpoint: "/".into(),
        device: root.device.clone(),
    }];
    let mut fs_indexes = vec![root.index];
    let fstab: Vec<FstabEntry> = small_text(&g, "/etc/fstab")
        .map(|t| release::parse_fstab(&t))
        .unwrap_or_default();
    let mut local: Vec<&FstabEntry> = fstab.iter().take(MAX_FSTAB_ENTRIES).collect();
    // Shallow mountpoints first, as mount order.
    local.sort_by_key(|e| {
        crate::guestfs::normalize(&e.mountpoint)
            .matches('/')
            .count()
    });
    for e in local {
        if e.is_swap() {
            if let Some(i) = resolve_fstab_device(launched, &e.spec) {
                if !fs_indexes.contains(&i) {
                    fs_indexes.push(i);
                }
            }
            continue;
        }
        if !e.is_local_mount() {
            continue;
        }
        let mp = crate::guestfs::normalize(&e.mountpoint);
        let Some(i) = resolve_fstab_device(launched, &e.spec) else {
            diagnostics.push(Diagnostic {
                subject: format!("{}:/etc/fstab", root.device),
                kind: "not_found".into(),
                message: format!("no device found for {} (mounted at {mp})", e.spec),
            });
            continue;
        };
        let device = launched
            .volumes
            .get(i)
            .map(|v| v.device())
            .unwrap_or_default();
        if mp == "/" {
            // The root's own entry; a different device would be a second root.
            if i != root.index {
                continue;
            }
        } else {
            if let Some(o) = opened.iter().find(|o| o.index == i) {
                g.mount(&mp, device.clone(), Arc::clone(&o.fs));
            }
            mountpoints.retain(|m| m.mountpoint != mp);
            mountpoints.push(Mountpoint {
                mountpoint: mp,
                device,
            });
        }
        if !fs_indexes.contains(&i) {
            fs_indexes.push(i);
        }
    }
    mountpoints.sort_by(|a, b| a.mountpoint.cmp(&b.mountpoint));
    Assembled {
        g,
        mountpoints,
        fs_indexes,
    }
}

fn open_all(launched: &Launched, diagnostics: &mut Vec<Diagnostic>) -> Vec<Opened> {
    let mut opened = Vec::new();
    for (index, v) in launched.volumes.iter().enumerate() {
        if !v.mountable() {
            continue;
        }
        match v.open() {
            Ok(fs) => opened.push(Opened {
                index,
                device: v.device(),
                fs,
            }),
            Err(e) => diagnostics.push(Diagnostic::from(&e)),
        }
    }
    opened
}

/// The guest namespace of an operating system, for `ls` and `cat`: the root named
/// `root` (a device such as `/dev/sda2`; `None` for the first OS found) with its
/// fstab mounts. Fails when there is no such operating system.
pub fn os_namespace(launched: &Launched, root: Option<&str>) -> Result<GuestFs, InspectError> {
    let mut diags = Vec::new();
    let opened = open_all(launched, &mut diags);
    let want = root.map(|r| launched.find_device(r));
    for o in &opened {
        if let Some(w) = want {
            if w != Some(o.index) {
                continue;
            }
        }
        let alone = GuestFs::with_root(o.device.clone(), Arc::clone(&o.fs));
        if is_linux_root(&alone) {
            return Ok(assemble(launched, &opened, o, alone, &mut diags).g);
        }
        if windows_systemroot(&alone).is_some() {
            return Ok(alone);
        }
    }
    Err(InspectError::new(
        ErrorKind::NotFound,
        launched.image.display().to_string(),
        match root {
            Some(r) => format!("{r} is not the root of an operating system (see `guestctl inspect`)"),
            None => "no operating system found; name a filesystem instead, as DEVICE:PATH (see `guestctl filesystems`)".into(),
        },
    ))
}

/// The filesystem on one device alone (`/dev/sda1`), as a namespace with it at `/`.
pub fn device_namespace(launched: &Launched, device: &str) -> Result<GuestFs, InspectError> {
    let shown = launched.image.display().to_string();
    let i = launched.find_device(device).ok_or_else(|| {
        InspectError::new(
            ErrorKind::NotFound,
            shown.clone(),
            format!("no device {device} (see `guestctl filesystems`)"),
        )
    })?;
    let v = launched
        .volumes
        .get(i)
        .ok_or_else(|| InspectError::new(ErrorKind::NotFound, shown, "no such volume"))?;
    Ok(GuestFs::with_root(v.device(), v.open()?))
}

fn inspect_linux(
    launched: &Launched,
    opened: &[Opened],
    root: &Opened,
    alone: GuestFs,
    opts: &InspectOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> OperatingSystem {
    let Assembled {
        g,
        mountpoints,
        fs_indexes,
    } = assemble(launched, opened, root, alone, diagnostics);
    let info = detect_release(&g);
    let (major, minor) = info.version.unwrap_or((0, 0));
    let distro = info.distro.clone();
    let package_format = distro
        .as_deref()
        .and_then(release::package_format)
        .map(str::to_string);
    let package_management = distro
        .as_deref()
        .and_then(|d| release::package_management(d, major))
        .map(str::to_string);
    let applications = if opts.packages {
        match package_format.as_deref() {
            Some(fmt) => match crate::packages::list_applications(&g, fmt) {
                Ok((apps, diags)) => {
                    diagnostics.extend(diags.into_iter().map(|mut d| {
                        d.subject = format!("{}:{}", root.device, d.subject);
                        d
                    }));
                    apps
                }
                Err(e) => {
                    let mut d = Diagnostic::from(&e);
                    d.subject = format!("{}:{}", root.device, d.subject);
                    diagnostics.push(d);
                    Vec::new()
                }
            },
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let filesystems: Vec<FilesystemInfo> = fs_indexes
        .iter()
        .filter_map(|&i| launched.volumes.get(i))
        .map(|v| v.info())
        .collect();
    OperatingSystem {
        root: root.device.clone(),
        name: "linux".into(),
        distro,
        product_name: info.product_name,
        product_variant: None,
        major_version: major,
        minor_version: minor,
        build_id: None,
        arch: detect_arch(&g),
        hostname: detect_hostname(&g),
        package_format,
        package_management,
        windows_systemroot: None,
        mountpoints,
        filesystems,
        applications,
    }
}

const ROCKY: &[ReleasePattern] = &[
    ReleasePattern {
        prefix: "Rocky Linux",
        distro: "rocky",
        needs_minor: true,
    },
    ReleasePattern {
        prefix: "Rocky Linux",
        distro: "rocky",
        needs_minor: false,
    },
];
const ORACLE: &[ReleasePattern] = &[ReleasePattern {
    prefix: "Oracle Linux",
    distro: "oraclelinux",
    needs_minor: false,
}];
const CENTOS: &[ReleasePattern] = &[ReleasePattern {
    prefix: "CentOS",
    distro: "centos",
    needs_minor: false,
}];
const REDHAT: &[ReleasePattern] = &[
    ReleasePattern {
        prefix: "Fedora release",
        distro: "fedora",
        needs_minor: false,
    },
    ReleasePattern {
        prefix: "Red Hat",
        distro: "rhel",
        needs_minor: false,
    },
    ReleasePattern {
        prefix: "CentOS",
        distro: "centos",
        needs_minor: false,
    },
    ReleasePattern {
        prefix: "Scientific Linux",
        distro: "scientificlinux",
        needs_minor: false,
    },
    ReleasePattern {
        prefix: "Rocky Linux",
        distro: "rocky",
        needs_minor: false,
    },
    ReleasePattern {
        prefix: "AlmaLinux",
        distro: "almalinux",
        needs_minor: false,
    },
];

/// Run the release-file tests in libguestfs's order; the first conclusive wins.
pub fn detect_release(g: &GuestFs) -> ReleaseInfo {
    let mut data = ReleaseInfo::default();
    type Parse = fn(&str, &mut ReleaseInfo) -> bool;
    let tests: &[(&str, Parse)] = &[
        ("/etc/os-release", release::parse_os_release),
        ("/usr/lib/os-release", release::parse_os_release),
        ("/etc/lsb-release", release::parse_lsb_release),
        ("/etc/rocky-release", |t, d| {
            release::parse_with_patterns(t, ROCKY, d)
        }),
        ("/etc/oracle-release", |t, d| {
            release::parse_with_patterns(t, ORACLE, d)
        }),
        ("/etc/centos-release", |t, d| {
            release::parse_with_patterns(t, CENTOS, d)
        }),
        ("/etc/altlinux-release", |t, d| {
            release::parse_generic(t, "altlinux", d)
        }),
        ("/etc/fedora-release", |t, d| {
            release::parse_with_patterns(t, REDHAT, d)
        }),
        ("/etc/redhat-release", |t, d| {
            release::parse_with_patterns(t, REDHAT, d)
        }),
        ("/etc/redhat-release", |t, d| {
            release::parse_generic(t, "redhat-based", d)
        }),
        ("/etc/debian_version", |t, d| {
            release::parse_generic(t, "debian", d)
        }),
        ("/etc/pardus-release", |t, d| {
            release::parse_generic(t, "pardus", d)
        }),
        ("/etc/arch-release", |_, d| {
            d.distro = Some("archlinux".into());
            true
        }),
        ("/etc/gentoo-release", |t, d| {
            release::parse_generic(t, "gentoo", d)
        }),
        ("/etc/meego-release", |t, d| {
            release::parse_generic(t, "meego", d)
        }),
        ("/etc/slackware-version", |t, d| {
            release::parse_generic(t, "slackware", d)
        }),
        ("/etc/SuSE-release", release::parse_suse_release),
        ("/etc/alpine-release", |t, d| {
            release::parse_generic(t, "alpinelinux", d)
        }),
    ];
    let mut seen_os_release = false;
    for (path, parse) in tests {
        if *path == "/usr/lib/os-release" && seen_os_release {
            continue;
        }
        let Some(text) = small_text(g, path) else {
            continue;
        };
        if *path == "/etc/os-release" {
            seen_os_release = true;
        }
        if parse(&text, &mut data) {
            break;
        }
    }
    data
}

/// The hostname from `/etc/HOSTNAME`, `/etc/hostname`, then `/etc/sysconfig/network`.
pub fn detect_hostname(g: &GuestFs) -> Option<String> {
    for f in ["/etc/HOSTNAME", "/etc/hostname"] {
        if let Some(h) = small_text(g, f)
            .as_deref()
            .and_then(release::parse_hostname_file)
        {
            return Some(h);
        }
    }
    small_text(g, "/etc/sysconfig/network")
        .as_deref()
        .and_then(release::parse_sysconfig_network)
}

/// The architecture from the first of [`ARCH_BINARIES`] that is an ELF file
/// (symlinks followed inside the guest).
pub fn detect_arch(g: &GuestFs) -> Option<String> {
    ARCH_BINARIES.iter().find_map(|b| {
        let bytes = g.read_file_head(b, ELF_HEADER_LEN).ok()?;
        release::elf_arch(&bytes).map(str::to_string)
    })
}

/// Which inspection error means "this image holds nothing we can read".
pub(crate) fn nothing_found(launched: &Launched) -> Option<InspectError> {
    if launched.volumes.iter().any(|v| v.probed.is_some()) {
        return None;
    }
    let image = launched.image.display().to_string();
    let msg = match launched.diagnostics.first() {
        Some(d) => format!(
            "no readable partition, filesystem or logical volume ({} partition table; {}: {}); \
             the image may be truncated or corrupt",
            launched.table.name(),
            d.subject,
            d.message
        ),
        None => "no partition table, filesystem or logical volume recognised: the image is empty, zeroed, \
                 encrypted as a whole, or not a disk image"
            .to_string(),
    };
    Some(InspectError::new(ErrorKind::NotFound, image, msg))
}
