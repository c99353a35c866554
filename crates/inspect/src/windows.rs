//! Windows inspection (libguestfs's `inspect_fs_windows.ml`): product name, version
//! and build from the SOFTWARE hive, the computer name from the SYSTEM hive (under
//! the ControlSet that `Select\Current` names), the architecture from the PE header
//! of `System32\cmd.exe`.

use crate::guestfs::GuestFs;
use crate::launch::Launched;
use crate::os::MAX_HIVE_BYTES;
use crate::types::{Diagnostic, Mountpoint, OperatingSystem};
use guestctl_hive::Hive;

/// Bytes read from the start of `cmd.exe` for its PE header.
pub const PE_HEADER_LEN: u64 = 4096;

/// What the SOFTWARE hive says about the Windows version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsVersion {
    /// `ProductName`.
    pub product_name: Option<String>,
    /// `InstallationType` (`Client`, `Server`).
    pub product_variant: Option<String>,
    /// Major and minor version.
    pub version: Option<(u32, u32)>,
    /// `CurrentBuildNumber`.
    pub build_id: Option<String>,
}

/// Read the version from a SOFTWARE hive's bytes.
pub fn software_version(bytes: &[u8]) -> Result<WindowsVersion, guestctl_hive::HiveError> {
    let hive = Hive::new(bytes)?;
    let mut out = WindowsVersion::default();
    let Some(key) = hive.open_key("Microsoft\\Windows NT\\CurrentVersion")? else {
        return Ok(out);
    };
    let s = |name: &str| -> Result<Option<String>, guestctl_hive::HiveError> {
        Ok(key
            .value(name)?
            .and_then(|v| v.as_str().map(|s| s.trim_end_matches('\0').to_string())))
    };
    let n = |name: &str| -> Result<Option<u32>, guestctl_hive::HiveError> {
        Ok(key
            .value(name)?
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok()))
    };
    out.product_name = s("ProductName")?;
    out.product_variant = s("InstallationType")?;
    // CurrentBuildNumber, or CurrentBuild where only that one is set.
    out.build_id = match s("CurrentBuildNumber")? {
        Some(b) if !b.is_empty() => Some(b),
        _ => s("CurrentBuild")?,
    };
    // Windows 10+ keeps the real version in CurrentMajor/MinorVersionNumber;
    // CurrentVersion stays "6.3" for compatibility.
    out.version = match (
        n("CurrentMajorVersionNumber")?,
        n("CurrentMinorVersionNumber")?,
    ) {
        (Some(major), minor) => Some((major, minor.unwrap_or(0))),
        _ => s("CurrentVersion")?
            .as_deref()
            .and_then(crate::release::major_minor),
    };
    Ok(out)
}

/// Read the computer name from a SYSTEM hive's bytes.
pub fn system_hostname(bytes: &[u8]) -> Result<Option<String>, guestctl_hive::HiveError> {
    let hive = Hive::new(bytes)?;
    let current = match hive.open_key("Select")? {
        Some(k) => k.value("Current")?.and_then(|v| v.as_u64()).unwrap_or(1),
        None => 1,
    };
    let path = format!("ControlSet{current:03}\\Control\\ComputerName\\ComputerName");
    let Some(key) = hive.open_key(&path)? else {
        return Ok(None);
    };
    Ok(key
        .value("ComputerName")?
        .and_then(|v| v.as_str().map(|s| s.trim_end_matches('\0').to_string())))
}

pub(crate) fn inspect_windows(
    launched: &Launched,
    index: usize,
    g: &GuestFs,
    sysroot: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> OperatingSystem {
    let device = launched
        .volumes
        .get(index)
        .map(|v| v.device())
        .unwrap_or_default();
    let mut diag = |what: &str, e: guestctl_hive::HiveError| {
        diagnostics.push(Diagnostic {
            subject: format!("{device}:{sysroot}/{what}"),
            kind: crate::types::kind_name(e.kind().into()).to_string(),
            message: e.to_string(),
        })
    };
    let read = |rel: &str| -> Option<Vec<u8>> {
        let p = g.find_nocase(&format!("{sysroot}/{rel}"))?;
        g.read_file(&p, MAX_HIVE_BYTES).ok()
    };
    let mut ver = WindowsVersion::default();
    match read("System32/config/SOFTWARE").map(|b| software_version(&b)) {
        Some(Ok(v)) => ver = v,
        Some(Err(e)) => diag("System32/config/SOFTWARE", e),
        None => {}
    }
    let mut hostname = None;
    match read("System32/config/SYSTEM").map(|b| system_hostname(&b)) {
        Some(Ok(h)) => hostname = h,
        Some(Err(e)) => diag("System32/config/SYSTEM", e),
        None => {}
    }
    // The PE header is within the first page (e_lfanew is small in every real binary).
    let arch = g
        .find_nocase(&format!("{sysroot}/System32/cmd.exe"))
        .and_then(|p| g.read_file_head(&p, PE_HEADER_LEN).ok())
        .and_then(|b| crate::release::pe_arch(&b).map(str::to_string));
    let (major, minor) = ver.version.unwrap_or((0, 0));
    OperatingSystem {
        root: device.clone(),
        name: "windows".into(),
        distro: Some("windows".into()),
        product_name: ver.product_name,
        product_variant: ver.product_variant,
        major_version: major,
        minor_version: minor,
        build_id: ver.build_id,
        arch,
        hostname,
        package_format: None,
        package_management: None,
        windows_systemroot: Some(sysroot.to_string()),
        mountpoints: vec![Mountpoint {
            mountpoint: "/".into(),
            device,
        }],
        filesystems: launched
            .volumes
            .get(index)
            .map(|v| vec![v.info()])
            .unwrap_or_default(),
        applications: Vec::new(),
    }
}
