//! Facts about each distribution release the generator writes: os-release, release
//! files, kernel names, the default user, the package format, and the release date
//! used as every file's modification time.

use super::OsType;

/// The package database format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// dpkg (`/var/lib/dpkg/status`).
    Deb,
    /// rpm (`/usr/lib/sysimage/rpm/rpmdb.sqlite`).
    Rpm,
    /// apk (`/lib/apk/db/installed`).
    Apk,
    /// pacman (`/var/lib/pacman/local`).
    Pacman,
}

/// One distribution release.
#[derive(Debug, Clone)]
pub(crate) struct Distro {
    pub os: OsType,
    /// The distro as libguestfs names it.
    pub distro: &'static str,
    pub os_release: &'static str,
    pub pretty_name: &'static str,
    pub version_id: &'static str,
    /// Major and minor version as virt-inspector reports them.
    pub major: u32,
    pub minor: u32,
    pub family: Family,
    pub usr_merged: bool,
    /// Release date, seconds since the epoch (every file's mtime).
    pub epoch_time: u64,
    /// The default (cloud image) user.
    pub user: &'static str,
    pub user_gecos: &'static str,
    /// Kernel release string.
    pub kernel: &'static str,
    /// Maintainer / packager used in package metadata.
    pub maintainer: &'static str,
}

const UBUNTU_OS_RELEASE: &str = r#"PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
"#;

const DEBIAN_OS_RELEASE: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

const FEDORA_OS_RELEASE: &str = r#"NAME="Fedora Linux"
VERSION="40 (Cloud Edition)"
ID=fedora
VERSION_ID=40
VERSION_CODENAME=""
PLATFORM_ID="platform:f40"
PRETTY_NAME="Fedora Linux 40 (Cloud Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:40"
DEFAULT_HOSTNAME="fedora"
HOME_URL="https://fedoraproject.org/"
DOCUMENTATION_URL="https://docs.fedoraproject.org/en-US/fedora/f40/system-administrators-guide/"
SUPPORT_URL="https://ask.fedoraproject.org/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Fedora"
REDHAT_BUGZILLA_PRODUCT_VERSION=40
REDHAT_SUPPORT_PRODUCT="Fedora"
REDHAT_SUPPORT_PRODUCT_VERSION=40
SUPPORT_END=2025-05-13
VARIANT="Cloud Edition"
VARIANT_ID=cloud
"#;

const ROCKY_OS_RELEASE: &str = r#"NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.4"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.4"
"#;

const ALPINE_OS_RELEASE: &str = r#"NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
"#;

const ARCH_OS_RELEASE: &str = r#"NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
"#;

impl Distro {
    /// The release written for `os`.
    pub fn of(os: OsType) -> Self {
        match os {
            OsType::Ubuntu => Self {
                os,
                distro: "ubuntu",
                os_release: UBUNTU_OS_RELEASE,
                pretty_name: "Ubuntu 24.04.1 LTS",
                version_id: "24.04",
                major: 24,
                minor: 4,
                family: Family::Deb,
                usr_merged: true,
                epoch_time: 1_724_889_600, // 2024-08-29, 24.04.1
                user: "ubuntu",
                user_gecos: "Ubuntu",
                kernel: "6.8.0-41-generic",
                maintainer: "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
            },
            OsType::Debian => Self {
                os,
                distro: "debian",
                os_release: DEBIAN_OS_RELEASE,
                pretty_name: "Debian GNU/Linux 12 (bookworm)",
                version_id: "12",
                major: 12,
                minor: 6, // from /etc/debian_version, as virt-inspector reports it
                family: Family::Deb,
                usr_merged: true,
                epoch_time: 1_719_619_200, // 2024-06-29, 12.6
                user: "debian",
                user_gecos: "Debian",
                kernel: "6.1.0-22-amd64",
                maintainer: "Debian Install System Team <debian-boot@lists.debian.org>",
            },
            OsType::Fedora => Self {
                os,
                distro: "fedora",
                os_release: FEDORA_OS_RELEASE,
                pretty_name: "Fedora Linux 40 (Cloud Edition)",
                version_id: "40",
                major: 40,
                minor: 0,
                family: Family::Rpm,
                usr_merged: true,
                epoch_time: 1_713_830_400, // 2024-04-23
                user: "fedora",
                user_gecos: "fedora",
                kernel: "6.8.5-301.fc40.x86_64",
                maintainer: "Fedora Project",
            },
            OsType::Rocky => Self {
                os,
                distro: "rocky",
                os_release: ROCKY_OS_RELEASE,
                pretty_name: "Rocky Linux 9.4 (Blue Onyx)",
                version_id: "9.4",
                major: 9,
                minor: 4,
                family: Family::Rpm,
                usr_merged: true,
                epoch_time: 1_715_212_800, // 2024-05-09
                user: "rocky",
                user_gecos: "Cloud User",
                kernel: "5.14.0-427.13.1.el9_4.x86_64",
                maintainer: "Rocky Linux Build System (Peridot) <releng@rockylinux.org>",
            },
            OsType::Alpine => Self {
                os,
                distro: "alpinelinux",
                os_release: ALPINE_OS_RELEASE,
                pretty_name: "Alpine Linux v3.20",
                version_id: "3.20.3",
                major: 3,
                minor: 20,
                family: Family::Apk,
                usr_merged: false,
                epoch_time: 1_725_580_800, // 2024-09-06, 3.20.3
                user: "alpine",
                user_gecos: "Alpine",
                kernel: "6.6.49-0-lts",
                maintainer: "Natanael Copa <ncopa@alpinelinux.org>",
            },
            OsType::Arch => Self {
                os,
                distro: "archlinux",
                os_release: ARCH_OS_RELEASE,
                pretty_name: "Arch Linux",
                version_id: "",
                major: 0,
                minor: 0,
                family: Family::Pacman,
                usr_merged: true,
                epoch_time: 1_727_740_800, // 2024-10-01 (rolling; a monthly ISO date)
                user: "arch",
                user_gecos: "Arch",
                kernel: "6.10.10-arch1-1",
                maintainer: "Arch Linux Packagers <arch-dev-public@lists.archlinux.org>",
            },
        }
    }

    /// `deb`, `rpm`, `apk`, `pacman`.
    pub fn package_format(&self) -> &'static str {
        match self.family {
            Family::Deb => "deb",
            Family::Rpm => "rpm",
            Family::Apk => "apk",
            Family::Pacman => "pacman",
        }
    }

    /// `apt`, `dnf`, `apk`, `pacman`.
    pub fn package_management(&self) -> &'static str {
        match self.family {
            Family::Deb => "apt",
            Family::Rpm => "dnf",
            Family::Apk => "apk",
            Family::Pacman => "pacman",
        }
    }
}
