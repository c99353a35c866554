//! The osinfo short ID of an operating system (`debian12`, `ubuntu24.04`,
//! `fedora40`, `rocky9`, `win10`, ...): libosinfo's name for it, derived from the
//! inspected facts by the same rules as virt-inspector's `<osinfo>`, so that the
//! two tools print the same ID for the same guest. `unknown` when no ID fits.

/// The facts an osinfo ID is derived from.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFacts<'a> {
    /// `linux` or `windows`.
    pub name: &'a str,
    /// libguestfs's distro name (`debian`, `ubuntu`, ...); `None` if unknown.
    pub distro: Option<&'a str>,
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Product name (Windows: `ProductName`).
    pub product_name: Option<&'a str>,
    /// Windows' `InstallationType` (`Client`, `Server`).
    pub product_variant: Option<&'a str>,
    /// Windows' build number.
    pub build_id: Option<&'a str>,
}

/// The osinfo ID of an inspected operating system.
pub fn osinfo_of(os: &crate::OperatingSystem) -> Option<String> {
    osinfo_id(&OsFacts {
        name: &os.name,
        distro: os.distro.as_deref(),
        major: os.major_version,
        minor: os.minor_version,
        product_name: os.product_name.as_deref(),
        product_variant: os.product_variant.as_deref(),
        build_id: os.build_id.as_deref(),
    })
}

/// The ID when none fits.
pub const UNKNOWN: &str = "unknown";

/// The osinfo short ID for `os`. `None` only where virt-inspector prints no
/// `<osinfo>` either: a Windows guest without a product name, a product variant
/// or (Windows 10 and later clients) a numeric build ID.
pub fn osinfo_id(os: &OsFacts<'_>) -> Option<String> {
    match os.name {
        "linux" => Some(linux(os).unwrap_or_else(|| UNKNOWN.to_string())),
        "windows" => windows(os),
        _ => Some(UNKNOWN.to_string()),
    }
}

fn linux(os: &OsFacts<'_>) -> Option<String> {
    let distro = os.distro.unwrap_or(UNKNOWN);
    let (major, minor) = (os.major, os.minor);
    let id = match distro {
        "centos" if major >= 8 => format!("centos{major}"),
        "centos" if major == 7 => "centos7.0".to_string(),
        "centos" if major == 6 => format!("centos6.{minor}"),
        "circle" | "rocky" if major >= 8 => format!("{distro}{major}"),
        "debian" if major >= 4 => format!("debian{major}"),
        "fedora" | "mageia" => format!("{distro}{major}"),
        "sles" if minor == 0 => format!("sles{major}"),
        "sles" => format!("sles{major}sp{minor}"),
        "ubuntu" => format!("ubuntu{major}.{minor:02}"),
        "archlinux" | "gentoo" | "voidlinux" => distro.to_string(),
        "altlinux" if major >= 8 => format!("alt{major}.{minor}"),
        "altlinux" => format!("altlinux{major}.{minor}"),
        "centos" | "circle" | "rocky" | "debian" => return None,
        _ if distro != UNKNOWN && (major > 0 || minor > 0) => {
            format!("{distro}{major}.{minor}")
        }
        _ => return None,
    };
    Some(id)
}

fn windows(os: &OsFacts<'_>) -> Option<String> {
    let product = os.product_name?;
    let server = os.product_variant?.contains("Server");
    let pick = |server_id: &str, client_id: &str| {
        Some(if server { server_id } else { client_id }.to_string())
    };
    match (os.major, os.minor) {
        (5, 1) => Some("winxp".to_string()),
        (5, 2) if product.contains("XP") => Some("winxp".to_string()),
        (5, 2) if product.contains("R2") => Some("win2k3r2".to_string()),
        (5, 2) => Some("win2k3".to_string()),
        (6, 0) => pick("win2k8", "winvista"),
        (6, 1) => pick("win2k8r2", "win7"),
        (6, 2) => pick("win2k12", "win8"),
        (6, 3) => pick("win2k12r2", "win8.1"),
        (10, 0) if server => Some(windows_server_10(product).to_string()),
        (10, 0) => {
            let build: u32 = os.build_id?.trim().parse().ok()?;
            Some(if build >= 22000 { "win11" } else { "win10" }.to_string())
        }
        _ => Some(UNKNOWN.to_string()),
    }
}

/// Windows Server 2016 and later all report version 10.0; the year in the
/// product name tells them apart.
fn windows_server_10(product: &str) -> &'static str {
    ["2025", "2022", "2019"]
        .iter()
        .zip(["win2k25", "win2k22", "win2k19"])
        .find(|(year, _)| product.contains(*year))
        .map_or("win2k16", |(_, id)| id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn linux_id(distro: &str, major: u32, minor: u32) -> String {
        let os = OsFacts {
            name: "linux",
            distro: Some(distro),
            major,
            minor,
            ..OsFacts::default()
        };
        osinfo_id(&os).unwrap()
    }

    #[test]
    fn linux_distros() {
        let cases = [
            ("debian", 12, 6, "debian12"),
            ("debian", 3, 1, "unknown"),
            ("ubuntu", 24, 4, "ubuntu24.04"),
            ("ubuntu", 10, 10, "ubuntu10.10"),
            ("fedora", 40, 0, "fedora40"),
            ("rocky", 9, 4, "rocky9"),
            ("rocky", 7, 0, "unknown"),
            ("centos", 9, 0, "centos9"),
            ("centos", 7, 9, "centos7.0"),
            ("centos", 6, 10, "centos6.10"),
            ("centos", 5, 11, "unknown"),
            ("alpinelinux", 3, 20, "alpinelinux3.20"),
            ("archlinux", 0, 0, "archlinux"),
            ("gentoo", 2, 15, "gentoo"),
            ("voidlinux", 0, 0, "voidlinux"),
            ("sles", 15, 0, "sles15"),
            ("sles", 15, 5, "sles15sp5"),
            ("altlinux", 10, 1, "alt10.1"),
            ("altlinux", 7, 0, "altlinux7.0"),
            ("rhel", 9, 4, "rhel9.4"),
            ("almalinux", 9, 4, "almalinux9.4"),
            ("opensuse", 15, 5, "opensuse15.5"),
            ("linuxmint", 0, 0, "unknown"),
        ];
        for (distro, major, minor, want) in cases {
            assert_eq!(
                linux_id(distro, major, minor),
                want,
                "{distro} {major}.{minor}"
            );
        }
        let unknown = OsFacts {
            name: "linux",
            major: 1,
            ..OsFacts::default()
        };
        assert_eq!(osinfo_id(&unknown).unwrap(), "unknown");
    }

    fn win(major: u32, minor: u32, product: &str, variant: &str, build: &str) -> Option<String> {
        osinfo_id(&OsFacts {
            name: "windows",
            distro: Some("windows"),
            major,
            minor,
            product_name: Some(product),
            product_variant: Some(variant),
            build_id: Some(build),
        })
    }

    #[test]
    fn windows_versions() {
        let cases = [
            (5, 1, "Windows XP", "Client", "2600", "winxp"),
            (
                5,
                2,
                "Windows XP Professional x64",
                "Client",
                "3790",
                "winxp",
            ),
            (5, 2, "Windows Server 2003 R2", "Server", "3790", "win2k3r2"),
            (5, 2, "Windows Server 2003", "Server", "3790", "win2k3"),
            (6, 0, "Windows Vista", "Client", "6002", "winvista"),
            (6, 0, "Windows Server 2008", "Server", "6002", "win2k8"),
            (6, 1, "Windows 7 Pro", "Client", "7601", "win7"),
            (6, 1, "Windows Server 2008 R2", "Server", "7601", "win2k8r2"),
            (6, 2, "Windows 8", "Client", "9200", "win8"),
            (6, 2, "Windows Server 2012", "Server", "9200", "win2k12"),
            (6, 3, "Windows 8.1", "Client", "9600", "win8.1"),
            (
                6,
                3,
                "Windows Server 2012 R2",
                "Server",
                "9600",
                "win2k12r2",
            ),
            (10, 0, "Windows 10 Pro", "Client", "19045", "win10"),
            (10, 0, "Windows 10 Pro", "Client", "22631", "win11"),
            (10, 0, "Windows Server 2016", "Server", "14393", "win2k16"),
            (10, 0, "Windows Server 2019", "Server", "17763", "win2k19"),
            (10, 0, "Windows Server 2022", "Server", "20348", "win2k22"),
            (10, 0, "Windows Server 2025", "Server", "26100", "win2k25"),
            (4, 0, "Windows NT", "Client", "1381", "unknown"),
        ];
        for (major, minor, product, variant, build, want) in cases {
            assert_eq!(
                win(major, minor, product, variant, build).as_deref(),
                Some(want),
                "{product} {build}"
            );
        }
        // virt-inspector prints no osinfo where a fact it needs is missing.
        assert_eq!(win(10, 0, "Windows 10", "Client", "x"), None);
        let no_variant = OsFacts {
            name: "windows",
            major: 6,
            minor: 1,
            product_name: Some("Windows 7"),
            ..OsFacts::default()
        };
        assert_eq!(osinfo_id(&no_variant), None);
    }
}
