//! Opt-in differential check against libguestfs: `virt-inspector` must report, for
//! one generated image per os_type, the OS, version, hostname, architecture and
//! package count that the manifest records.
//!
//! Slow (about 50 s per image under TCG) and needs `libguestfs-tools` and a kernel
//! (`apt-get install --allow-downgrades qemu-utils=1:7.2*` then
//! `apt-get install libguestfs-tools linux-image-amd64`), so it is ignored by
//! default: `cargo test --release -p guestctl-mockdisk --test virt_inspector -- --ignored`.
//! KVM crashes on these machines; the test forces TCG.

use guestctl_mockdisk::{MockDiskBuilder, MockDiskType, OsType};
use std::process::Command;

/// The text of the first `<tag>…</tag>` in `xml`.
fn tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(&xml[start..end])
}

#[test]
#[ignore = "slow: runs libguestfs's virt-inspector (about 50 s per image under TCG)"]
fn virt_inspector_agrees_with_the_manifest() {
    if Command::new("virt-inspector").arg("--version").output().is_err() {
        panic!("virt-inspector not found: apt-get install libguestfs-tools linux-image-amd64");
    }
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
        let want = &disk.manifest().primary().unwrap().content;
        let out = Command::new("virt-inspector")
            .arg("-a")
            .arg(&path)
            .env("LIBGUESTFS_BACKEND", "direct")
            .env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
            .output()
            .unwrap();
        let xml = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            failures.push(format!(
                "{}: virt-inspector failed: {}",
                os.name(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let apps = xml.matches("<application>").count();
        let checks = [
            ("distro", tag(&xml, "distro").map(str::to_string), want.distro.clone()),
            ("arch", tag(&xml, "arch").map(str::to_string), want.arch.clone()),
            ("hostname", tag(&xml, "hostname").map(str::to_string), want.hostname.clone()),
            (
                "major_version",
                tag(&xml, "major_version").map(str::to_string),
                want.major_version.to_string(),
            ),
            ("applications", Some(apps.to_string()), want.packages.len().to_string()),
        ];
        for (what, got, want) in checks {
            if got.as_deref() != Some(want.as_str()) {
                failures.push(format!("{}: {what}: virt-inspector {got:?}, manifest {want:?}", os.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
