//! What the Windows SYSTEM hive says: the control set in use (`Select\Current`),
//! the hostname (`Services\Tcpip\Parameters\Hostname`, as virt-inspector reads
//! it, else `Control\ComputerName\ComputerName`), and the drive letters of
//! `MountedDevices` with the disk location each names.

use guestctl_hive::{Hive, HiveError, RegValue};

/// Where a `MountedDevices` entry says a drive letter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskLocation {
    /// An MBR partition: the disk's signature (MBR offset 440) and the
    /// partition's byte offset on that disk (a 12-byte value).
    Mbr {
        /// The disk signature.
        disk_signature: u32,
        /// Byte offset of the partition's first sector.
        offset: u64,
    },
    /// A GPT partition: `DMIO:ID:` and the partition GUID as stored on disk.
    Gpt {
        /// The unique partition GUID, bytes as in the GPT entry.
        partition_guid: [u8; 16],
    },
}

/// A drive letter and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountedDevice {
    /// The letter, upper case (`C`).
    pub letter: char,
    /// Where it lives.
    pub location: DiskLocation,
}

/// The SYSTEM hive's facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemFacts {
    /// The control set in use (`ControlSet001`).
    pub current_control_set: String,
    /// The hostname, if set.
    pub hostname: Option<String>,
    /// Drive letters on a disk partition, in stored order; other entries
    /// (volume GUIDs, removable media) are left out.
    pub mounted_devices: Vec<MountedDevice>,
}

/// Read the SYSTEM hive's facts from its bytes.
pub fn system_facts(bytes: &[u8]) -> Result<SystemFacts, HiveError> {
    let hive = Hive::new(bytes)?;
    let current = match hive.open_key("Select")? {
        Some(k) => k.value("Current")?.and_then(|v| v.as_u64()).unwrap_or(1),
        None => 1,
    };
    let control_set = format!("ControlSet{current:03}");
    Ok(SystemFacts {
        hostname: hostname(&hive, &control_set)?,
        mounted_devices: mounted_devices(&hive)?,
        current_control_set: control_set,
    })
}

fn string_value(hive: &Hive<'_>, key: &str, value: &str) -> Result<Option<String>, HiveError> {
    let Some(k) = hive.open_key(key)? else {
        return Ok(None);
    };
    Ok(k.value(value)?
        .and_then(|v| v.as_str().map(|s| s.trim_end_matches('\0').to_string()))
        .filter(|s| !s.is_empty()))
}

fn hostname(hive: &Hive<'_>, control_set: &str) -> Result<Option<String>, HiveError> {
    let tcpip = format!("{control_set}\\Services\\Tcpip\\Parameters");
    if let Some(h) = string_value(hive, &tcpip, "Hostname")? {
        return Ok(Some(h));
    }
    let computer = format!("{control_set}\\Control\\ComputerName\\ComputerName");
    string_value(hive, &computer, "ComputerName")
}

fn mounted_devices(hive: &Hive<'_>) -> Result<Vec<MountedDevice>, HiveError> {
    let Some(key) = hive.open_key("MountedDevices")? else {
        return Ok(Vec::new());
    };
    Ok(key
        .values()?
        .iter()
        .filter_map(|v| {
            let letter = drive_letter(&v.name)?;
            let RegValue::Binary(data) = &v.data else {
                return None;
            };
            Some(MountedDevice {
                letter,
                location: disk_location(data)?,
            })
        })
        .collect())
}

/// `\DosDevices\C:` → `C`.
fn drive_letter(name: &str) -> Option<char> {
    let rest = name.strip_prefix("\\DosDevices\\")?;
    let mut chars = rest.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(l), Some(':'), None) if l.is_ascii_alphabetic() => Some(l.to_ascii_uppercase()),
        _ => None,
    }
}

/// The location a `MountedDevices` value names, when it is a disk partition.
pub fn disk_location(data: &[u8]) -> Option<DiskLocation> {
    if let Some(guid) = data.strip_prefix(b"DMIO:ID:") {
        let partition_guid: [u8; 16] = guid.get(..16)?.try_into().ok()?;
        return Some(DiskLocation::Gpt { partition_guid });
    }
    if data.len() != 12 {
        return None;
    }
    let disk_signature = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    let offset = u64::from_le_bytes(data.get(4..12)?.try_into().ok()?);
    Some(DiskLocation::Mbr {
        disk_signature,
        offset,
    })
}
