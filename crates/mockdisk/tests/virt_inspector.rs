//! Opt-in differential check against libguestfs: `virt-inspector` must find, in
//! every generated image, exactly the guests the manifest records, and report
//! for each the OS, distro, product name, major/minor version, architecture,
//! hostname, package format and management, the mountpoints (by filesystem UUID)
//! and the full application list (name, epoch, version, release, arch).
//!
//! Two tests: one Small GPT image per os_type, and one image per layout / table /
//! format variant (qcow2, LVM on GPT and MBR, MBR, ext2, ext3, dual-boot).
//!
//! Slow (about 50–100 s per image under TCG, one image at a time) and needs
//! `libguestfs-tools` and a kernel
//! (`apt-get install --allow-downgrades qemu-utils=1:7.2*` then
//! `apt-get install libguestfs-tools linux-image-amd64`), so it is ignored by
//! default: `cargo test --release -p guestctl-mockdisk --test virt_inspector -- --ignored`.
//! KVM crashes on these machines; the test forces TCG.
//!
//! Where libguestfs deliberately reports something other than the manifest, the
//! expectation follows libguestfs and says why:
//! - Debian's product name: os-release's `VERSION_ID=12` has no minor version, so libguestfs falls
//!   back to `/etc/debian_version` and reports its first line (`12.6`) as the product name; the
//!   manifest keeps PRETTY_NAME.
//! - apk releases: libguestfs strips the `r` of `r0`; the manifest keeps it, as apk (and guestctl)
//!   print it.
//! - A root whose `/usr` is another filesystem (the LVM layout): libguestfs reads the release files
//!   of the root filesystem alone, where `/etc/os-release` is a dangling symlink into `/usr`, as on
//!   a real install; Rocky's product name then comes from `/etc/rocky-release` (`Rocky Linux
//!   release 9.4 (Blue Onyx)`). The other distros end with the same name as from os-release.
//!   Likewise Fedora's package management: libguestfs says "dnf" only when `/usr/bin/dnf` exists on
//!   the filesystem it is examining alone, so with `/usr` on its own LV it says "yum" (the release
//!   data then comes from the /usr filesystem, where the path would be `/bin/dnf`).
//! - LVM roots: libguestfs names `/dev/VG/LV` what the manifest (and fstab) call
//!   `/dev/mapper/VG-LV`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_mockdisk::{
    DiskFormat, GuestManifest, Layout, Manifest, MockDiskBuilder, MockDiskType, OsType,
    PartitionTable,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// virt-inspector under TCG takes a full core: the two tests never run it at once.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Undo XML escaping.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(unescape(&xml[start..end]))
}

/// Every `<open…>…</close>` block of `xml`, with the text of its opening tag's
/// attributes first (`open` is the tag name, `close` the same name).
fn blocks<'a>(xml: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let open_plain = format!("<{name}>");
    let open_attr = format!("<{name} ");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    loop {
        let p = match (rest.find(&open_plain), rest.find(&open_attr)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let after = &rest[p + name.len() + 1..];
        let Some(gt) = after.find('>') else { break };
        let attrs = &after[..gt];
        let body_start = &after[gt + 1..];
        let Some(end) = body_start.find(&close) else {
            break;
        };
        out.push((attrs, &body_start[..end]));
        rest = &body_start[end + close.len()..];
    }
    out
}

/// The value of `dev="…"` in an attribute string.
fn dev_attr(attrs: &str) -> Option<String> {
    let start = attrs.find("dev=\"")? + 5;
    let end = attrs[start..].find('"')? + start;
    Some(unescape(&attrs[start..end]))
}

/// One operating system as virt-inspector reports it.
#[derive(Debug)]
struct InspectedOs {
    /// Top-level fields (`name`, `distro`, `arch`, …).
    fields: BTreeMap<&'static str, Option<String>>,
    /// (mountpoint, filesystem UUID).
    mounts: BTreeSet<(String, String)>,
    /// (name, epoch, version, release, arch).
    apps: BTreeSet<(String, u32, String, String, String)>,
}

const FIELDS: [&str; 10] = [
    "name",
    "distro",
    "product_name",
    "major_version",
    "minor_version",
    "arch",
    "hostname",
    "package_format",
    "package_management",
    "root",
];

/// Parse virt-inspector's XML into root device -> OS.
fn parse(xml: &str) -> BTreeMap<String, InspectedOs> {
    let mut out = BTreeMap::new();
    for (_, os) in blocks(xml, "operatingsystem") {
        // The top-level fields come before the first nested list.
        let head_end = ["<mountpoints>", "<filesystems>", "<applications>"]
            .iter()
            .filter_map(|t| os.find(t))
            .min()
            .unwrap_or(os.len());
        let head = &os[..head_end];
        let fields: BTreeMap<&'static str, Option<String>> =
            FIELDS.iter().map(|f| (*f, tag(head, f))).collect();
        let fs_uuid: BTreeMap<String, String> = blocks(os, "filesystem")
            .into_iter()
            .filter_map(|(attrs, body)| {
                Some((dev_attr(attrs)?, tag(body, "uuid").unwrap_or_default()))
            })
            .collect();
        let mounts = blocks(os, "mountpoint")
            .into_iter()
            .map(|(attrs, mp)| {
                let dev = dev_attr(attrs).unwrap_or_default();
                (
                    unescape(mp),
                    fs_uuid
                        .get(&dev)
                        .cloned()
                        .unwrap_or_else(|| format!("no uuid for {dev}")),
                )
            })
            .collect();
        let apps = blocks(os, "application")
            .into_iter()
            .map(|(_, a)| {
                (
                    tag(a, "name").unwrap_or_default(),
                    tag(a, "epoch").and_then(|e| e.parse().ok()).unwrap_or(0),
                    tag(a, "version").unwrap_or_default(),
                    tag(a, "release").unwrap_or_default(),
                    tag(a, "arch").unwrap_or_default(),
                )
            })
            .collect();
        let root = fields.get("root").cloned().flatten().unwrap_or_default();
        out.insert(
            root,
            InspectedOs {
                fields,
                mounts,
                apps,
            },
        );
    }
    out
}

/// The root device as libguestfs names it: `/dev/VG/LV` for an LV.
fn libguestfs_root(m: &Manifest, g: &GuestManifest) -> String {
    if let Some(lvm) = &m.lvm {
        if let Some(lv) = lvm
            .logical_volumes
            .iter()
            .find(|lv| lv.device == g.root_device)
        {
            return format!("/dev/{}/{}", lvm.vg_name, lv.name);
        }
    }
    g.root_device.clone()
}

/// What virt-inspector should print for `g`.
fn expected(g: &GuestManifest) -> InspectedOs {
    let c = &g.content;
    let separate_usr = g.mounts.iter().any(|m| m.mountpoint == "/usr");
    let product_name = if g.os_type == OsType::Debian {
        // From /etc/debian_version, see the module docs.
        format!("{}.{}", c.major_version, c.minor_version)
    } else if g.os_type == OsType::Rocky && separate_usr {
        // /etc/os-release points into /usr: from /etc/rocky-release, see the module docs.
        c.product_name
            .replacen("Rocky Linux ", "Rocky Linux release ", 1)
    } else {
        c.product_name.clone()
    };
    let package_management = if g.os_type == OsType::Fedora && separate_usr {
        // /usr/bin/dnf is on the /usr filesystem: see the module docs.
        "yum".to_string()
    } else {
        c.package_management.clone()
    };
    let fields = [
        ("name", "linux".to_string()),
        ("distro", c.distro.clone()),
        ("product_name", product_name),
        ("major_version", c.major_version.to_string()),
        ("minor_version", c.minor_version.to_string()),
        ("arch", c.arch.clone()),
        ("hostname", c.hostname.clone()),
        ("package_format", c.package_format.clone()),
        ("package_management", package_management),
    ]
    .into_iter()
    .map(|(k, v)| (k, Some(v)))
    .collect();
    let mounts = g
        .mounts
        .iter()
        .map(|m| (m.mountpoint.clone(), m.filesystem_uuid.clone()))
        .collect();
    let apps = c
        .packages
        .iter()
        .map(|p| {
            let release = if c.package_format == "apk" {
                p.release.trim_start_matches('r').to_string()
            } else {
                p.release.clone()
            };
            (
                p.name.clone(),
                p.epoch,
                p.version.clone(),
                release,
                p.arch.clone(),
            )
        })
        .collect();
    InspectedOs {
        fields,
        mounts,
        apps,
    }
}

/// Run virt-inspector on `path` and compare with `m`; the differences, one per line.
fn compare(label: &str, path: &Path, m: &Manifest) -> Vec<String> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = Instant::now();
    let out = Command::new("virt-inspector")
        .arg("-a")
        .arg(path)
        .env("LIBGUESTFS_BACKEND", "direct")
        .env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
        .output()
        .expect("run virt-inspector");
    eprintln!(
        "{label}: virt-inspector took {:.0} s",
        t.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        return vec![format!(
            "{label}: virt-inspector failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )];
    }
    let got = parse(&String::from_utf8_lossy(&out.stdout));
    let mut failures = Vec::new();
    if got.len() != m.guests.len() {
        failures.push(format!(
            "{label}: virt-inspector found {} OSes at {:?}, manifest has {}",
            got.len(),
            got.keys().collect::<Vec<_>>(),
            m.guests.len()
        ));
    }
    for g in &m.guests {
        let root = libguestfs_root(m, g);
        let Some(os) = got.get(&root) else {
            failures.push(format!(
                "{label}: no OS with root {root} (found {:?})",
                got.keys().collect::<Vec<_>>()
            ));
            continue;
        };
        let want = expected(g);
        let who = format!("{label} [{}]", g.os_type.name());
        for (k, w) in &want.fields {
            let v = os.fields.get(k).cloned().flatten();
            if &v != w {
                failures.push(format!("{who}: {k}: virt-inspector {v:?}, manifest {w:?}"));
            }
        }
        if os.mounts != want.mounts {
            failures.push(format!(
                "{who}: mountpoints: virt-inspector {:?}, manifest {:?}",
                os.mounts, want.mounts
            ));
        }
        if os.apps.len() != g.content.packages.len() {
            failures.push(format!(
                "{who}: {} applications, manifest {} packages",
                os.apps.len(),
                g.content.packages.len()
            ));
        }
        for a in os.apps.symmetric_difference(&want.apps).take(10) {
            let side = if os.apps.contains(a) {
                "only virt-inspector"
            } else {
                "only manifest"
            };
            failures.push(format!("{who}: application {a:?}: {side}"));
        }
    }
    failures
}

fn require_virt_inspector() {
    if Command::new("virt-inspector")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("virt-inspector not found: apt-get install libguestfs-tools linux-image-amd64");
    }
}

#[test]
#[ignore = "slow: runs libguestfs's virt-inspector (about a minute per image under TCG)"]
fn virt_inspector_agrees_with_the_manifest() {
    require_virt_inspector();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for os in OsType::ALL {
        let path = dir.path().join(format!("{}.img", os.name()));
        let disk = MockDiskBuilder::new()
            .disk_type(MockDiskType::Small)
            .os_type(os.name())
            .hostname(format!("{}-vm", os.name()))
            .num_files(20)
            .num_packages(50)
            .build(&path)
            .unwrap();
        failures.extend(compare(os.name(), &path, disk.manifest()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "slow: runs libguestfs's virt-inspector (about a minute per image under TCG)"]
fn virt_inspector_agrees_on_every_layout() {
    require_virt_inspector();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            OsType::Ubuntu,
            Layout::Standard,
            PartitionTable::Gpt,
            DiskFormat::Qcow2,
        ),
        (
            OsType::Fedora,
            Layout::Lvm,
            PartitionTable::Gpt,
            DiskFormat::Raw,
        ),
        (
            OsType::Rocky,
            Layout::Lvm,
            PartitionTable::Mbr,
            DiskFormat::Raw,
        ),
        (
            OsType::Debian,
            Layout::Standard,
            PartitionTable::Mbr,
            DiskFormat::Raw,
        ),
        (
            OsType::Alpine,
            Layout::Ext2,
            PartitionTable::Gpt,
            DiskFormat::Raw,
        ),
        (
            OsType::Rocky,
            Layout::Ext3,
            PartitionTable::Gpt,
            DiskFormat::Raw,
        ),
        (
            OsType::Arch,
            Layout::DualBoot,
            PartitionTable::Gpt,
            DiskFormat::Raw,
        ),
    ];
    let mut failures = Vec::new();
    for (os, layout, table, format) in cases {
        let label = format!(
            "{} {} {} {}",
            os.name(),
            layout.name(),
            table.name(),
            format.name()
        );
        let path = dir.path().join(format!(
            "{}-{}-{}.{}",
            os.name(),
            layout.name(),
            table.name(),
            format.name()
        ));
        let disk = MockDiskBuilder::new()
            .disk_type(MockDiskType::Small)
            .os_type(os.name())
            .hostname(format!("{}-{}", os.name(), layout.name()))
            .num_files(20)
            .num_packages(40)
            .layout(layout)
            .partition_table(table)
            .format(format)
            .build(&path)
            .unwrap();
        failures.extend(compare(&label, &path, disk.manifest()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The XML reader itself, on virt-inspector 1.48's output for a dual-boot image
/// (trimmed): runs by default, without libguestfs.
#[test]
fn reads_virt_inspector_xml() {
    let xml = r#"<?xml version="1.0"?>
<operatingsystems>
  <operatingsystem>
    <root>/dev/sda2</root>
    <name>linux</name>
    <arch>x86_64</arch>
    <distro>alpinelinux</distro>
    <product_name>Alpine Linux v3.20</product_name>
    <major_version>3</major_version>
    <minor_version>20</minor_version>
    <package_format>apk</package_format>
    <package_management>apk</package_management>
    <hostname>hv-alpine</hostname>
    <osinfo>alpinelinux3.20</osinfo>
    <mountpoints>
      <mountpoint dev="/dev/sda2">/</mountpoint>
      <mountpoint dev="/dev/sda1">/boot/efi</mountpoint>
    </mountpoints>
    <filesystems>
      <filesystem dev="/dev/sda1">
        <type>vfat</type>
        <label>EFI</label>
        <uuid>2F9C-BEA4</uuid>
      </filesystem>
      <filesystem dev="/dev/sda2">
        <type>ext4</type>
        <label>root</label>
        <uuid>a5bae3f3-8db5-404c-9add-f74286f735cb</uuid>
      </filesystem>
    </filesystems>
    <applications>
      <application>
        <name>alpine-base</name>
        <version>3.20.3</version>
        <release>0</release>
        <arch>x86_64</arch>
        <url>https://alpine-base.example-upstream.org/</url>
        <description>Tools for audio &amp; video</description>
      </application>
    </applications>
  </operatingsystem>
  <operatingsystem>
    <root>/dev/fedora/root</root>
    <name>linux</name>
    <arch>x86_64</arch>
    <distro>fedora</distro>
    <product_name>Fedora Linux 40 (Cloud Edition)</product_name>
    <major_version>40</major_version>
    <minor_version>0</minor_version>
    <package_format>rpm</package_format>
    <package_management>dnf</package_management>
    <hostname>hv-lvm</hostname>
    <mountpoints>
      <mountpoint dev="/dev/fedora/root">/</mountpoint>
    </mountpoints>
    <filesystems>
      <filesystem dev="/dev/fedora/root">
        <type>ext4</type>
        <uuid>faa216cd-69c8-476a-ad30-0276ec6f93bc</uuid>
      </filesystem>
    </filesystems>
    <applications>
      <application>
        <name>shadow-utils</name>
        <epoch>2</epoch>
        <version>4.15.1</version>
        <release>3.fc40</release>
        <arch>x86_64</arch>
      </application>
      <application>
        <name>bash</name>
        <version>5.2.26</version>
        <release>3.fc40</release>
        <arch>x86_64</arch>
      </application>
    </applications>
  </operatingsystem>
</operatingsystems>
"#;
    let got = parse(xml);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["/dev/fedora/root", "/dev/sda2"]
    );
    let a = &got["/dev/sda2"];
    assert_eq!(a.fields["distro"].as_deref(), Some("alpinelinux"));
    assert_eq!(
        a.fields["arch"].as_deref(),
        Some("x86_64"),
        "the OS's arch, not an application's"
    );
    assert_eq!(a.fields["hostname"].as_deref(), Some("hv-alpine"));
    assert_eq!(a.fields["minor_version"].as_deref(), Some("20"));
    assert_eq!(
        a.mounts,
        BTreeSet::from([
            (
                "/".to_string(),
                "a5bae3f3-8db5-404c-9add-f74286f735cb".to_string()
            ),
            ("/boot/efi".to_string(), "2F9C-BEA4".to_string())
        ])
    );
    assert_eq!(
        a.apps,
        BTreeSet::from([(
            "alpine-base".into(),
            0,
            "3.20.3".into(),
            "0".into(),
            "x86_64".into()
        )])
    );
    let f = &got["/dev/fedora/root"];
    assert_eq!(f.fields["package_management"].as_deref(), Some("dnf"));
    assert_eq!(f.apps.len(), 2);
    assert!(f.apps.contains(&(
        "shadow-utils".into(),
        2,
        "4.15.1".into(),
        "3.fc40".into(),
        "x86_64".into()
    )));
    assert_eq!(unescape("a &amp;lt; b &lt; c"), "a &lt; b < c");
}
