//! Windows facts read from hives built by the regf test writer.

use crate::windows::drive_mappings;
use crate::windows_apps::software_applications;
use crate::windows_system::{system_facts, DiskLocation, MountedDevice};
use guestctl_hive::testwriter::{dword, key, sz, Writer, K, REG_DWORD, REG_SZ};

const REG_BINARY: u32 = 3;

fn hive(root_subkeys: Vec<K>) -> Vec<u8> {
    let root = key("ROOT", vec![], root_subkeys);
    let mut w = Writer::new();
    let r = w.key(&root, true);
    w.finish(r)
}

/// `path` (backslash-separated) as nested keys, the last holding `leaves`.
fn nest(path: &str, leaves: Vec<K>) -> K {
    let mut parts: Vec<&str> = path.split('\\').collect();
    let last = parts.pop().unwrap();
    let mut k = key(last, vec![], leaves);
    while let Some(p) = parts.pop() {
        k = key(p, vec![], vec![k]);
    }
    k
}

fn uninstall_entry(name: &str, display: Option<&str>, publisher: &str) -> K {
    let mut values = vec![
        ("DisplayVersion", REG_SZ, sz("1.2.3")),
        ("Publisher", REG_SZ, sz(publisher)),
        (
            "InstallLocation",
            REG_SZ,
            sz(&format!("C:\\Program Files\\{name}")),
        ),
        ("EstimatedSize", REG_DWORD, dword(1024)),
    ];
    if let Some(d) = display {
        values.push(("DisplayName", REG_SZ, sz(d)));
    }
    key(name, values, vec![])
}

#[test]
fn applications_from_both_uninstall_keys() {
    let native = nest(
        "Microsoft\\Windows\\CurrentVersion\\Uninstall",
        vec![
            uninstall_entry("7-Zip", Some("7-Zip 23.01 (x64)"), "Igor Pavlov"),
            uninstall_entry("{GUID-NO-NAME}", None, "nobody"),
            uninstall_entry("Git_is1", Some("Git"), "The Git Development Community"),
        ],
    );
    let wow = nest(
        "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
        vec![
            uninstall_entry(
                "Notepad++",
                Some("Notepad++ (32-bit x86)"),
                "Notepad++ Team",
            ),
            uninstall_entry("Adobe Reader", Some("Adobe Acrobat Reader"), "Adobe"),
        ],
    );
    let apps = software_applications(&hive(vec![native, wow])).unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["7-Zip", "Adobe Reader", "Git_is1", "Notepad++"]);
    let zip = &apps[0];
    assert_eq!(zip.display_name.as_deref(), Some("7-Zip 23.01 (x64)"));
    assert_eq!(zip.publisher.as_deref(), Some("Igor Pavlov"));
    assert_eq!(
        zip.install_path.as_deref(),
        Some("C:\\Program Files\\7-Zip")
    );
    assert_eq!(zip.version, "1.2.3");
    assert_eq!(
        (zip.epoch, zip.release.as_str(), zip.arch.as_str()),
        (0, "", "")
    );
    assert_eq!(zip.url, None);
    // A hive without Uninstall keys lists nothing.
    assert!(software_applications(&hive(vec![])).unwrap().is_empty());
}

fn system_hive(
    current: u32,
    tcpip: Option<&str>,
    computer: &str,
    mounted: Vec<(&str, u32, Vec<u8>)>,
) -> Vec<u8> {
    let cs = format!("ControlSet{current:03}");
    let mut services = vec![];
    if let Some(h) = tcpip {
        services.push(key(
            "Tcpip",
            vec![],
            vec![key("Parameters", vec![("Hostname", REG_SZ, sz(h))], vec![])],
        ));
    }
    let set = key(
        &cs,
        vec![],
        vec![
            nest(
                "Control\\ComputerName",
                vec![key(
                    "ComputerName",
                    vec![("ComputerName", REG_SZ, sz(computer))],
                    vec![],
                )],
            ),
            key("Services", vec![], services),
        ],
    );
    hive(vec![
        set,
        key("MountedDevices", mounted, vec![]),
        key(
            "Select",
            vec![("Current", REG_DWORD, dword(current))],
            vec![],
        ),
    ])
}

fn mbr_blob(signature: u32, offset: u64) -> Vec<u8> {
    let mut b = signature.to_le_bytes().to_vec();
    b.extend_from_slice(&offset.to_le_bytes());
    b
}

#[test]
fn hostname_prefers_tcpip_then_computer_name() {
    let f = system_facts(&system_hive(2, Some("web-01"), "WEB01", vec![])).unwrap();
    assert_eq!(f.hostname.as_deref(), Some("web-01"));
    assert_eq!(f.current_control_set, "ControlSet002");
    let f = system_facts(&system_hive(1, None, "WIN-ABC", vec![])).unwrap();
    assert_eq!(f.hostname.as_deref(), Some("WIN-ABC"));
    assert_eq!(f.current_control_set, "ControlSet001");
    let f = system_facts(&system_hive(1, Some(""), "WIN-ABC", vec![])).unwrap();
    assert_eq!(
        f.hostname.as_deref(),
        Some("WIN-ABC"),
        "an empty Tcpip name"
    );
}

#[test]
fn mounted_devices_mbr_and_gpt() {
    let guid: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
    let mut gpt = b"DMIO:ID:".to_vec();
    gpt.extend_from_slice(&guid);
    let mounted = vec![
        (
            "\\DosDevices\\C:",
            REG_BINARY,
            mbr_blob(0x1234_5678, 1_048_576),
        ),
        ("\\DosDevices\\e:", REG_BINARY, gpt),
        ("\\??\\Volume{aaaa}", REG_BINARY, mbr_blob(1, 2)),
        (
            "\\DosDevices\\D:",
            REG_BINARY,
            b"\\??\\IDE#CdRomQEMU".to_vec(),
        ),
        ("\\DosDevices\\F:", REG_SZ, sz("not binary")),
    ];
    let f = system_facts(&system_hive(1, None, "X", mounted)).unwrap();
    assert_eq!(
        f.mounted_devices,
        [
            MountedDevice {
                letter: 'C',
                location: DiskLocation::Mbr {
                    disk_signature: 0x1234_5678,
                    offset: 1_048_576
                }
            },
            MountedDevice {
                letter: 'E',
                location: DiskLocation::Gpt {
                    partition_guid: guid
                }
            },
        ]
    );
}

#[test]
fn drive_letters_match_partitions() {
    use crate::launch::ProbedVolume;
    use guestctl_block::MemDevice;
    use guestctl_volume::{Guid, PartitionInfo, Volume, VolumeKind};
    use std::sync::Arc;
    let part = |name: &str, index: u32, start: u64, table: PartitionInfo| ProbedVolume {
        volume: Volume {
            name: name.into(),
            kind: VolumeKind::Partition { index, table },
            start,
            size: 512,
            device: Arc::new(MemDevice::new(vec![0; 512])),
        },
        probed: None,
    };
    let mbr = |sig| PartitionInfo::Mbr {
        type_byte: 7,
        bootable: false,
        logical: false,
        disk_signature: sig,
    };
    let guid = Guid([7; 16]);
    let volumes = vec![
        part("sda1", 1, 1_048_576, mbr(0xAABB_CCDD)),
        part("sda2", 2, 105_906_176, mbr(0xAABB_CCDD)),
        part(
            "sdb1",
            1,
            1_048_576,
            PartitionInfo::Gpt {
                type_guid: Guid([1; 16]),
                part_guid: guid,
                name: "data".into(),
            },
        ),
    ];
    let m = |letter, location| MountedDevice { letter, location };
    let mounted = [
        m(
            'C',
            DiskLocation::Mbr {
                disk_signature: 0xAABB_CCDD,
                offset: 105_906_176,
            },
        ),
        m(
            'A',
            DiskLocation::Gpt {
                partition_guid: [7; 16],
            },
        ),
        // Another disk's signature, and an offset no partition starts at.
        m(
            'D',
            DiskLocation::Mbr {
                disk_signature: 0x1111_1111,
                offset: 1_048_576,
            },
        ),
        m(
            'F',
            DiskLocation::Mbr {
                disk_signature: 0xAABB_CCDD,
                offset: 512,
            },
        ),
    ];
    let got: Vec<(String, String)> = drive_mappings(&mounted, &volumes)
        .into_iter()
        .map(|d| (d.name, d.device))
        .collect();
    assert_eq!(
        got,
        [
            ("A".to_string(), "/dev/sdb1".to_string()),
            ("C".to_string(), "/dev/sda2".to_string())
        ]
    );
}
