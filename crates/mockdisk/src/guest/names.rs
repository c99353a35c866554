//! The packages a guest has: a curated list of real package names and versions per
//! distribution (the base system, in install order), extended deterministically with
//! real-looking names when more packages are asked for.

use super::distro::{Distro, Family};
use crate::error::MockDiskError;
use crate::rng::Rng;
use std::collections::HashSet;

/// One package to write into the package database.
#[derive(Debug, Clone)]
pub(crate) struct Pkg {
    /// Package name.
    pub name: String,
    /// Epoch, 0 when none.
    pub epoch: u32,
    /// Upstream version (never contains `-`).
    pub version: String,
    /// Release / Debian revision / pkgrel (may be empty for Debian native packages).
    pub release: String,
    /// Architecture as the package manager names it.
    pub arch: &'static str,
    /// Source package name.
    pub source: String,
    /// One-line summary.
    pub summary: String,
    /// Long description, wrapped into lines; an empty line separates paragraphs.
    pub description: Vec<String>,
    /// Installed size in bytes.
    pub size: u64,
    /// Build time (seconds since the epoch).
    pub build_time: u64,
    /// Homepage.
    pub url: String,
    /// License (SPDX-ish, as the distro writes it).
    pub license: &'static str,
    /// Names of packages it depends on (all in the same database).
    pub depends: Vec<String>,
    /// Whether this is a shared library package.
    pub is_lib: bool,
}

impl Pkg {
    /// The version as the package manager writes it in one string
    /// (`[epoch:]version[-release]`).
    pub fn full_version(&self) -> String {
        let mut s = String::new();
        if self.epoch != 0 {
            s.push_str(&self.epoch.to_string());
            s.push(':');
        }
        s.push_str(&self.version);
        if !self.release.is_empty() {
            s.push('-');
            s.push_str(&self.release);
        }
        s
    }
}

/// Curated entry: name, full version (`[E:]V[-R]`), arch, source ("" = same as name).
type Curated = (&'static str, &'static str, &'static str, &'static str);

const UBUNTU: &[Curated] = &[
    ("base-files", "13ubuntu10.1", "amd64", ""),
    ("base-passwd", "3.6.3build1", "amd64", ""),
    ("libc6", "2.39-0ubuntu8.3", "amd64", "glibc"),
    ("libc-bin", "2.39-0ubuntu8.3", "amd64", "glibc"),
    ("bash", "5.2.21-2ubuntu4", "amd64", ""),
    ("coreutils", "9.4-3ubuntu6", "amd64", ""),
    ("dash", "0.5.12-6ubuntu5", "amd64", ""),
    ("debconf", "1.5.86ubuntu1", "all", ""),
    ("debianutils", "5.17build1", "amd64", ""),
    ("dpkg", "1.22.6ubuntu6.1", "amd64", ""),
    ("apt", "2.7.14build2", "amd64", ""),
    ("libapt-pkg6.0t64", "2.7.14build2", "amd64", "apt"),
    ("systemd", "255.4-1ubuntu8.4", "amd64", ""),
    ("libsystemd0", "255.4-1ubuntu8.4", "amd64", "systemd"),
    ("systemd-sysv", "255.4-1ubuntu8.4", "amd64", "systemd"),
    ("udev", "255.4-1ubuntu8.4", "amd64", "systemd"),
    ("libudev1", "255.4-1ubuntu8.4", "amd64", "systemd"),
    ("openssl", "3.0.13-0ubuntu3.4", "amd64", ""),
    ("libssl3t64", "3.0.13-0ubuntu3.4", "amd64", "openssl"),
    ("ca-certificates", "20240203", "all", ""),
    ("bsdutils", "1:2.39.3-9ubuntu6.1", "amd64", "util-linux"),
    ("util-linux", "2.39.3-9ubuntu6.1", "amd64", ""),
    ("mount", "2.39.3-9ubuntu6.1", "amd64", "util-linux"),
    ("diffutils", "1:3.10-1build1", "amd64", ""),
    ("e2fsprogs", "1.47.0-2.4~exp1ubuntu4.1", "amd64", ""),
    ("findutils", "4.9.0-5build1", "amd64", ""),
    ("grep", "3.11-4build1", "amd64", ""),
    ("gzip", "1.12-1ubuntu3", "amd64", ""),
    ("hostname", "3.23+nmu2ubuntu2", "amd64", ""),
    ("init-system-helpers", "1.66ubuntu1", "all", ""),
    ("login", "1:4.13+dfsg1-4ubuntu3", "amd64", "shadow"),
    ("passwd", "1:4.13+dfsg1-4ubuntu3", "amd64", "shadow"),
    ("ncurses-base", "6.4+20240113-1ubuntu2", "all", "ncurses"),
    ("ncurses-bin", "6.4+20240113-1ubuntu2", "amd64", "ncurses"),
    ("libncursesw6", "6.4+20240113-1ubuntu2", "amd64", "ncurses"),
    ("libtinfo6", "6.4+20240113-1ubuntu2", "amd64", "ncurses"),
    ("perl-base", "5.38.2-3.2build2", "amd64", "perl"),
    ("python3", "3.12.3-0ubuntu2", "amd64", "python3-defaults"),
    ("python3.12", "3.12.3-1ubuntu0.1", "amd64", ""),
    ("sed", "4.9-2build1", "amd64", ""),
    ("tar", "1.35+dfsg-3build1", "amd64", ""),
    ("tzdata", "2024a-3ubuntu1.1", "all", ""),
    ("gpgv", "2.4.4-2ubuntu17", "amd64", "gnupg2"),
    ("zlib1g", "1:1.3.dfsg-3.1ubuntu2", "amd64", "zlib"),
    ("libzstd1", "1.5.5+dfsg2-2build1.1", "amd64", "libzstd"),
    (
        "liblzma5",
        "5.6.1+really5.4.5-1build0.1",
        "amd64",
        "xz-utils",
    ),
    ("libcap2", "1:2.66-5ubuntu2", "amd64", ""),
    ("libselinux1", "3.5-2ubuntu2", "amd64", "libselinux"),
    ("libpam0g", "1.5.3-5ubuntu5.1", "amd64", "pam"),
    ("libpam-modules", "1.5.3-5ubuntu5.1", "amd64", "pam"),
    ("kmod", "31+20240202-2ubuntu7", "amd64", ""),
    ("libkmod2", "31+20240202-2ubuntu7", "amd64", "kmod"),
    ("initramfs-tools", "0.142ubuntu25.2", "all", ""),
    (
        "linux-image-6.8.0-41-generic",
        "6.8.0-41.41",
        "amd64",
        "linux-signed",
    ),
    (
        "linux-modules-6.8.0-41-generic",
        "6.8.0-41.41",
        "amd64",
        "linux",
    ),
    ("grub-efi-amd64-signed", "1.202+2.12-1ubuntu7", "amd64", ""),
    ("openssh-client", "1:9.6p1-3ubuntu13.5", "amd64", "openssh"),
    ("openssh-server", "1:9.6p1-3ubuntu13.5", "amd64", "openssh"),
    ("sudo", "1.9.15p5-3ubuntu5", "amd64", ""),
    ("vim-tiny", "2:9.1.0016-1ubuntu7.2", "amd64", "vim"),
    ("less", "590-2ubuntu2.1", "amd64", ""),
    ("procps", "2:4.0.4-4ubuntu3", "amd64", ""),
    ("iproute2", "6.1.0-1ubuntu6", "amd64", ""),
    (
        "netplan.io",
        "1.0.1-1ubuntu2~24.04.1",
        "amd64",
        "netplan.io",
    ),
    ("cloud-init", "24.2-0ubuntu1~24.04.2", "all", ""),
    ("curl", "8.5.0-2ubuntu10.4", "amd64", ""),
    ("libcurl4t64", "8.5.0-2ubuntu10.4", "amd64", "curl"),
];

const DEBIAN: &[Curated] = &[
    ("base-files", "12.4+deb12u6", "amd64", ""),
    ("base-passwd", "3.6.1", "amd64", ""),
    ("libc6", "2.36-9+deb12u7", "amd64", "glibc"),
    ("libc-bin", "2.36-9+deb12u7", "amd64", "glibc"),
    ("bash", "5.2.15-2+b7", "amd64", ""),
    ("coreutils", "9.1-1", "amd64", ""),
    ("dash", "0.5.12-2", "amd64", ""),
    ("debconf", "1.5.82", "all", ""),
    ("debianutils", "5.7-0.5~deb12u1", "amd64", ""),
    ("dpkg", "1.21.22", "amd64", ""),
    ("apt", "2.6.1", "amd64", ""),
    ("libapt-pkg6.0", "2.6.1", "amd64", "apt"),
    ("systemd", "252.26-1~deb12u2", "amd64", ""),
    ("libsystemd0", "252.26-1~deb12u2", "amd64", "systemd"),
    ("systemd-sysv", "252.26-1~deb12u2", "amd64", "systemd"),
    ("udev", "252.26-1~deb12u2", "amd64", "systemd"),
    ("libudev1", "252.26-1~deb12u2", "amd64", "systemd"),
    ("openssl", "3.0.13-1~deb12u1", "amd64", ""),
    ("libssl3", "3.0.13-1~deb12u1", "amd64", "openssl"),
    ("ca-certificates", "20230311", "all", ""),
    ("bsdutils", "1:2.38.1-5+deb12u1", "amd64", "util-linux"),
    ("util-linux", "2.38.1-5+deb12u1", "amd64", ""),
    ("mount", "2.38.1-5+deb12u1", "amd64", "util-linux"),
    ("diffutils", "1:3.8-4", "amd64", ""),
    ("e2fsprogs", "1.47.0-2", "amd64", ""),
    ("findutils", "4.9.0-4", "amd64", ""),
    ("grep", "3.8-5", "amd64", ""),
    ("gzip", "1.12-1", "amd64", ""),
    ("hostname", "3.23+nmu1", "amd64", ""),
    ("init-system-helpers", "1.65.2", "all", ""),
    ("login", "1:4.13+dfsg1-1+b1", "amd64", "shadow"),
    ("passwd", "1:4.13+dfsg1-1+b1", "amd64", "shadow"),
    ("ncurses-base", "6.4-4", "all", "ncurses"),
    ("ncurses-bin", "6.4-4", "amd64", "ncurses"),
    ("libtinfo6", "6.4-4", "amd64", "ncurses"),
    ("perl-base", "5.36.0-7+deb12u1", "amd64", "perl"),
    ("python3", "3.11.2-1+b1", "amd64", "python3-defaults"),
    ("python3.11", "3.11.2-6+deb12u2", "amd64", ""),
    ("sed", "4.9-1", "amd64", ""),
    ("tar", "1.34+dfsg-1.2+deb12u1", "amd64", ""),
    ("tzdata", "2024a-0+deb12u1", "all", ""),
    ("gpgv", "2.2.40-1.1", "amd64", "gnupg2"),
    ("zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib"),
    ("libzstd1", "1.5.4+dfsg2-5", "amd64", "libzstd"),
    ("liblzma5", "5.4.1-0.2", "amd64", "xz-utils"),
    ("libcap2", "1:2.66-4", "amd64", ""),
    ("libselinux1", "3.4-1+b6", "amd64", "libselinux"),
    ("libpam0g", "1.5.2-6+deb12u1", "amd64", "pam"),
    ("libpam-modules", "1.5.2-6+deb12u1", "amd64", "pam"),
    ("kmod", "30+20221128-1", "amd64", ""),
    ("libkmod2", "30+20221128-1", "amd64", "kmod"),
    ("initramfs-tools", "0.142", "all", ""),
    (
        "linux-image-6.1.0-22-amd64",
        "6.1.94-1",
        "amd64",
        "linux-signed-amd64",
    ),
    ("grub-efi-amd64", "2.06-13+deb12u1", "amd64", "grub2"),
    ("openssh-client", "1:9.2p1-2+deb12u3", "amd64", "openssh"),
    ("openssh-server", "1:9.2p1-2+deb12u3", "amd64", "openssh"),
    ("sudo", "1.9.13p3-1+deb12u1", "amd64", ""),
    ("vim-tiny", "2:9.0.1378-2", "amd64", "vim"),
    ("less", "590-2.1~deb12u2", "amd64", ""),
    ("procps", "2:4.0.2-3", "amd64", ""),
    ("iproute2", "6.1.0-3", "amd64", ""),
    ("ifupdown", "0.8.41", "amd64", ""),
    ("curl", "7.88.1-10+deb12u6", "amd64", ""),
    ("libcurl4", "7.88.1-10+deb12u6", "amd64", "curl"),
];

const FEDORA: &[Curated] = &[
    ("filesystem", "3.18-8.fc40", "x86_64", ""),
    ("setup", "2.14.5-2.fc40", "noarch", ""),
    ("basesystem", "11-20.fc40", "noarch", ""),
    ("fedora-release-common", "40-39", "noarch", "fedora-release"),
    ("fedora-release", "40-39", "noarch", ""),
    ("fedora-gpg-keys", "40-2", "noarch", "fedora-repos"),
    ("fedora-repos", "40-2", "noarch", ""),
    ("glibc", "2.39-17.fc40", "x86_64", ""),
    ("glibc-common", "2.39-17.fc40", "x86_64", "glibc"),
    ("glibc-minimal-langpack", "2.39-17.fc40", "x86_64", "glibc"),
    ("bash", "5.2.26-3.fc40", "x86_64", ""),
    ("coreutils", "9.4-6.fc40", "x86_64", ""),
    ("coreutils-common", "9.4-6.fc40", "x86_64", "coreutils"),
    ("ncurses-base", "6.4-12.20240127.fc40", "noarch", "ncurses"),
    ("ncurses-libs", "6.4-12.20240127.fc40", "x86_64", "ncurses"),
    ("zlib-ng-compat", "2.1.6-2.fc40", "x86_64", "zlib-ng"),
    ("xz-libs", "1:5.4.6-3.fc40", "x86_64", "xz"),
    ("libzstd", "1.5.6-1.fc40", "x86_64", "zstd"),
    ("openssl-libs", "1:3.2.1-2.fc40", "x86_64", "openssl"),
    ("openssl", "1:3.2.1-2.fc40", "x86_64", ""),
    ("ca-certificates", "2023.2.62_v7.0.401-6.fc40", "noarch", ""),
    ("systemd-libs", "255.4-1.fc40", "x86_64", "systemd"),
    ("systemd", "255.4-1.fc40", "x86_64", ""),
    ("systemd-pam", "255.4-1.fc40", "x86_64", "systemd"),
    ("systemd-udev", "255.4-1.fc40", "x86_64", "systemd"),
    ("sqlite-libs", "3.45.1-2.fc40", "x86_64", "sqlite"),
    ("rpm-libs", "4.19.1.1-1.fc40", "x86_64", "rpm"),
    ("rpm", "4.19.1.1-1.fc40", "x86_64", ""),
    ("libsolv", "0.7.28-1.fc40", "x86_64", ""),
    ("libdnf", "0.73.1-1.fc40", "x86_64", ""),
    ("python3-libs", "3.12.2-2.fc40", "x86_64", "python3.12"),
    ("python3", "3.12.2-2.fc40", "x86_64", "python3.12"),
    ("dnf-data", "4.19.2-1.fc40", "noarch", "dnf"),
    ("python3-dnf", "4.19.2-1.fc40", "noarch", "dnf"),
    ("dnf", "4.19.2-1.fc40", "noarch", ""),
    ("util-linux-core", "2.40-13.fc40", "x86_64", "util-linux"),
    ("util-linux", "2.40-13.fc40", "x86_64", ""),
    ("shadow-utils", "2:4.15.1-3.fc40", "x86_64", "shadow-utils"),
    ("sed", "4.9-1.fc40", "x86_64", ""),
    ("grep", "3.11-7.fc40", "x86_64", ""),
    ("gawk", "5.3.0-3.fc40", "x86_64", ""),
    ("tzdata", "2024a-5.fc40", "noarch", ""),
    ("sudo", "1.9.15-2.p5.fc40", "x86_64", ""),
    ("openssh", "9.6p1-1.fc40.4", "x86_64", ""),
    ("openssh-clients", "9.6p1-1.fc40.4", "x86_64", "openssh"),
    ("openssh-server", "9.6p1-1.fc40.4", "x86_64", "openssh"),
    ("vim-minimal", "2:9.1.181-1.fc40", "x86_64", "vim"),
    ("less", "643-4.fc40", "x86_64", ""),
    ("procps-ng", "4.0.4-3.fc40", "x86_64", ""),
    ("iproute", "6.7.0-1.fc40", "x86_64", ""),
    ("NetworkManager", "1:1.46.0-1.fc40", "x86_64", ""),
    ("dracut", "101-1.fc40", "x86_64", ""),
    ("kernel-core", "6.8.5-301.fc40", "x86_64", "kernel"),
    ("kernel-modules", "6.8.5-301.fc40", "x86_64", "kernel"),
    ("kernel", "6.8.5-301.fc40", "x86_64", ""),
    ("grub2-common", "1:2.06-116.fc40", "noarch", "grub2"),
    ("grub2-efi-x64", "1:2.06-116.fc40", "x86_64", "grub2"),
    ("cloud-init", "24.1.4-1.fc40", "noarch", ""),
    ("libcurl", "8.6.0-6.fc40", "x86_64", "curl"),
    ("curl", "8.6.0-6.fc40", "x86_64", ""),
];

const ROCKY: &[Curated] = &[
    ("filesystem", "3.16-2.el9", "x86_64", ""),
    ("setup", "2.13.7-10.el9", "noarch", ""),
    ("basesystem", "11-13.el9", "noarch", ""),
    ("rocky-gpg-keys", "9.4-1.7.el9", "noarch", "rocky-release"),
    ("rocky-release", "9.4-1.7.el9", "noarch", ""),
    ("rocky-repos", "9.4-1.7.el9", "noarch", "rocky-release"),
    ("glibc", "2.34-100.el9_4.2", "x86_64", ""),
    ("glibc-common", "2.34-100.el9_4.2", "x86_64", "glibc"),
    (
        "glibc-minimal-langpack",
        "2.34-100.el9_4.2",
        "x86_64",
        "glibc",
    ),
    ("bash", "5.1.8-9.el9", "x86_64", ""),
    ("coreutils", "8.32-35.el9", "x86_64", ""),
    ("coreutils-common", "8.32-35.el9", "x86_64", "coreutils"),
    ("ncurses-base", "6.2-10.20210508.el9", "noarch", "ncurses"),
    ("ncurses-libs", "6.2-10.20210508.el9", "x86_64", "ncurses"),
    ("zlib", "1.2.11-40.el9", "x86_64", ""),
    ("xz-libs", "5.2.5-8.el9_0", "x86_64", "xz"),
    ("libzstd", "1.5.1-2.el9", "x86_64", "zstd"),
    ("openssl-libs", "1:3.0.7-27.el9", "x86_64", "openssl"),
    ("openssl", "1:3.0.7-27.el9", "x86_64", ""),
    (
        "ca-certificates",
        "2023.2.60_v7.0.306-90.1.el9_2",
        "noarch",
        "",
    ),
    ("systemd-libs", "252-32.el9_4", "x86_64", "systemd"),
    ("systemd", "252-32.el9_4", "x86_64", ""),
    ("systemd-pam", "252-32.el9_4", "x86_64", "systemd"),
    ("systemd-udev", "252-32.el9_4", "x86_64", "systemd"),
    ("sqlite-libs", "3.34.1-7.el9_3", "x86_64", "sqlite"),
    ("rpm-libs", "4.16.1.3-29.el9", "x86_64", "rpm"),
    ("rpm", "4.16.1.3-29.el9", "x86_64", ""),
    ("libsolv", "0.7.24-2.el9", "x86_64", ""),
    ("libdnf", "0.69.0-8.el9", "x86_64", ""),
    ("python3-libs", "3.9.18-3.el9_4.3", "x86_64", "python3.9"),
    ("python3", "3.9.18-3.el9_4.3", "x86_64", "python3.9"),
    ("dnf-data", "4.14.0-9.el9", "noarch", "dnf"),
    ("python3-dnf", "4.14.0-9.el9", "noarch", "dnf"),
    ("dnf", "4.14.0-9.el9", "noarch", ""),
    ("util-linux-core", "2.37.4-18.el9", "x86_64", "util-linux"),
    ("util-linux", "2.37.4-18.el9", "x86_64", ""),
    ("shadow-utils", "2:4.9-8.el9", "x86_64", ""),
    ("sed", "4.8-9.el9", "x86_64", ""),
    ("grep", "3.6-5.el9", "x86_64", ""),
    ("gawk", "5.1.0-6.el9", "x86_64", ""),
    ("tzdata", "2024a-1.el9", "noarch", ""),
    ("sudo", "1.9.5p2-10.el9_3", "x86_64", ""),
    ("openssh", "8.7p1-38.el9", "x86_64", ""),
    ("openssh-clients", "8.7p1-38.el9", "x86_64", "openssh"),
    ("openssh-server", "8.7p1-38.el9", "x86_64", "openssh"),
    ("vim-minimal", "2:8.2.2637-20.el9_1", "x86_64", "vim"),
    ("less", "590-4.el9_4", "x86_64", ""),
    ("procps-ng", "3.3.17-14.el9", "x86_64", ""),
    ("iproute", "6.2.0-6.el9_4", "x86_64", ""),
    ("NetworkManager", "1:1.46.0-8.el9_4", "x86_64", ""),
    ("dracut", "057-53.git20240104.el9", "x86_64", ""),
    ("kernel-core", "5.14.0-427.13.1.el9_4", "x86_64", "kernel"),
    (
        "kernel-modules-core",
        "5.14.0-427.13.1.el9_4",
        "x86_64",
        "kernel",
    ),
    ("kernel", "5.14.0-427.13.1.el9_4", "x86_64", ""),
    ("grub2-common", "1:2.06-77.el9.rocky.0.1", "noarch", "grub2"),
    (
        "grub2-efi-x64",
        "1:2.06-77.el9.rocky.0.1",
        "x86_64",
        "grub2",
    ),
    ("cloud-init", "23.4-7.el9_4", "noarch", ""),
    ("libcurl", "7.76.1-29.el9_4", "x86_64", "curl"),
    ("curl", "7.76.1-29.el9_4", "x86_64", ""),
];

const ALPINE: &[Curated] = &[
    ("musl", "1.2.5-r0", "x86_64", ""),
    ("busybox", "1.36.1-r29", "x86_64", ""),
    ("busybox-binsh", "1.36.1-r29", "x86_64", "busybox"),
    (
        "alpine-baselayout-data",
        "3.6.5-r0",
        "x86_64",
        "alpine-baselayout",
    ),
    ("alpine-baselayout", "3.6.5-r0", "x86_64", ""),
    ("alpine-keys", "2.4-r1", "x86_64", ""),
    ("alpine-release", "3.20.3-r0", "x86_64", "alpine-base"),
    (
        "ca-certificates-bundle",
        "20240705-r0",
        "x86_64",
        "ca-certificates",
    ),
    ("libcrypto3", "3.3.2-r0", "x86_64", "openssl"),
    ("libssl3", "3.3.2-r0", "x86_64", "openssl"),
    ("ssl_client", "1.36.1-r29", "x86_64", "busybox"),
    ("zlib", "1.3.1-r1", "x86_64", ""),
    ("apk-tools", "2.14.4-r1", "x86_64", ""),
    ("scanelf", "1.3.7-r2", "x86_64", "pax-utils"),
    ("musl-utils", "1.2.5-r0", "x86_64", "musl"),
    ("libc-utils", "0.7.2-r5", "x86_64", "libc-dev"),
    ("alpine-base", "3.20.3-r0", "x86_64", ""),
    ("openrc", "0.54-r1", "x86_64", ""),
    ("alpine-conf", "3.18.0-r0", "x86_64", ""),
    ("ifupdown-ng", "0.12.1-r5", "x86_64", ""),
    ("chrony", "4.5-r0", "x86_64", ""),
    ("openssh-server", "9.7_p1-r4", "x86_64", "openssh"),
    ("openssh-client-default", "9.7_p1-r4", "x86_64", "openssh"),
    ("doas", "6.8.2-r7", "x86_64", ""),
    ("e2fsprogs-libs", "1.47.0-r5", "x86_64", "e2fsprogs"),
    ("e2fsprogs", "1.47.0-r5", "x86_64", ""),
    ("linux-lts", "6.6.49-r0", "x86_64", ""),
    ("mkinitfs", "3.10.1-r0", "x86_64", ""),
    ("kmod", "32-r0", "x86_64", ""),
    ("grub-efi", "2.12-r5", "x86_64", "grub"),
    ("tzdata", "2024b-r0", "x86_64", ""),
    ("libblkid", "2.40.1-r1", "x86_64", "util-linux"),
    ("libuuid", "2.40.1-r1", "x86_64", "util-linux"),
    (
        "ncurses-terminfo-base",
        "6.4_p20240420-r1",
        "x86_64",
        "ncurses",
    ),
    ("libncursesw", "6.4_p20240420-r1", "x86_64", "ncurses"),
    ("readline", "8.2.10-r0", "x86_64", ""),
    ("xz-libs", "5.6.2-r0", "x86_64", "xz"),
    ("zstd-libs", "1.5.6-r0", "x86_64", "zstd"),
    ("libcurl", "8.10.1-r0", "x86_64", "curl"),
    ("curl", "8.10.1-r0", "x86_64", ""),
];

const ARCH: &[Curated] = &[
    ("iana-etc", "20240814-1", "any", ""),
    ("filesystem", "2024.04.07-1", "x86_64", ""),
    ("glibc", "2.40-1", "x86_64", ""),
    ("gcc-libs", "14.2.1+r134+gab884fffe3fc-1", "x86_64", "gcc"),
    ("ncurses", "6.5-3", "x86_64", ""),
    ("readline", "8.2.013-1", "x86_64", ""),
    ("bash", "5.2.032-1", "x86_64", ""),
    ("coreutils", "9.5-1", "x86_64", ""),
    ("zlib", "1:1.3.1-2", "x86_64", ""),
    ("xz", "5.6.2-1", "x86_64", ""),
    ("zstd", "1.5.6-1", "x86_64", ""),
    ("openssl", "3.3.2-1", "x86_64", ""),
    ("ca-certificates-mozilla", "3.104-1", "x86_64", "nss"),
    ("ca-certificates", "20220905-1", "any", ""),
    ("util-linux-libs", "2.40.2-1", "x86_64", "util-linux"),
    ("util-linux", "2.40.2-1", "x86_64", ""),
    ("systemd-libs", "256.5-1", "x86_64", "systemd"),
    ("systemd", "256.5-1", "x86_64", ""),
    ("systemd-sysvcompat", "256.5-1", "x86_64", "systemd"),
    ("pam", "1.6.1-3", "x86_64", ""),
    ("shadow", "4.16.0-1", "x86_64", ""),
    ("pacman-mirrorlist", "20240717-1", "any", ""),
    ("archlinux-keyring", "20240911-1", "any", ""),
    ("pacman", "6.1.0-3", "x86_64", ""),
    ("grep", "3.11-1", "x86_64", ""),
    ("sed", "4.9-3", "x86_64", ""),
    ("gawk", "5.3.0-1", "x86_64", ""),
    ("tzdata", "2024b-1", "x86_64", ""),
    ("python", "3.12.6-1", "x86_64", ""),
    ("perl", "5.40.0-1", "x86_64", ""),
    ("less", "1:661-1", "x86_64", ""),
    ("vim", "9.1.0707-1", "x86_64", ""),
    ("sudo", "1.9.15.p5-2", "x86_64", ""),
    ("openssh", "9.8p1-1", "x86_64", ""),
    ("iproute2", "6.10.0-2", "x86_64", ""),
    ("e2fsprogs", "1.47.1-4", "x86_64", ""),
    ("mkinitcpio", "39.2-2", "any", ""),
    ("linux", "6.10.10.arch1-1", "x86_64", ""),
    ("linux-firmware", "20240909.552ed9b8-1", "any", ""),
    ("grub", "2:2.12-2", "x86_64", ""),
    ("curl", "8.10.1-1", "x86_64", ""),
    ("base", "3-2", "any", ""),
];

/// Words that make plausible package names (library and tool stems).
const WORDS: &[&str] = &[
    "xml",
    "yaml",
    "glib",
    "png",
    "jpeg",
    "tiff",
    "webp",
    "gif",
    "cairo",
    "pango",
    "harfbuzz",
    "freetype",
    "fontconfig",
    "pixman",
    "expat",
    "json",
    "ssh",
    "gnutls",
    "nettle",
    "gmp",
    "mpfr",
    "isl",
    "ffi",
    "uv",
    "event",
    "ev",
    "unwind",
    "dw",
    "elf",
    "bpf",
    "nl",
    "mnl",
    "nftnl",
    "pcap",
    "pcre",
    "onig",
    "yajl",
    "jansson",
    "cbor",
    "protobuf",
    "grpc",
    "thrift",
    "avro",
    "snappy",
    "brotli",
    "lz",
    "bz",
    "archive",
    "zip",
    "magic",
    "seccomp",
    "apparmor",
    "audit",
    "semanage",
    "sepol",
    "acl",
    "attr",
    "cap",
    "caca",
    "sdl",
    "gl",
    "vulkan",
    "drm",
    "wayland",
    "xcb",
    "xkb",
    "input",
    "evdev",
    "wacom",
    "gudev",
    "usb",
    "hid",
    "bluetooth",
    "pulse",
    "sndfile",
    "vorbis",
    "ogg",
    "opus",
    "flac",
    "mp3lame",
    "theora",
    "vpx",
    "dav",
    "aom",
    "x264",
    "gphoto",
    "exif",
    "raw",
    "lcms",
    "openjp",
    "poppler",
    "gs",
    "cups",
    "sane",
    "ldap",
    "sasl",
    "krb",
    "gssapi",
    "tirpc",
    "nsl",
    "idn",
    "psl",
    "nghttp",
    "curl",
    "ssh",
    "git",
    "svn",
    "hg",
    "sqlite",
    "lmdb",
    "gdbm",
    "db",
    "pq",
    "mysql",
    "redis",
    "mongo",
    "leveldb",
    "rocksdb",
    "tbb",
    "omp",
    "blas",
    "lapack",
    "fftw",
    "gsl",
    "hdf",
    "netcdf",
    "proj",
    "geos",
    "gdal",
    "icu",
    "intl",
    "unistring",
    "iconv",
    "readline",
    "edit",
    "slang",
    "newt",
    "dialog",
    "tcl",
    "tk",
    "lua",
    "guile",
    "ruby",
    "node",
    "rust",
    "go",
    "java",
    "boost",
    "qt",
    "gtk",
    "kde",
    "gnome",
    "xfce",
    "mate",
    "budgie",
    "sway",
    "hyprland",
    "requests",
    "urllib",
    "certifi",
    "chardet",
    "idna",
    "six",
    "dateutil",
    "pytz",
    "attrs",
    "jinja",
    "markupsafe",
    "click",
    "flask",
    "django",
    "numpy",
    "scipy",
    "pandas",
    "lxml",
    "cryptography",
    "paramiko",
    "setuptools",
    "wheel",
    "pip",
    "yaml",
    "toml",
    "packaging",
];

/// Perl-style capitalised module words.
const PERL_WORDS: &[&str] = &[
    "Digest", "MIME", "Time", "Text", "File", "IO", "Net", "HTTP", "URI", "Encode", "Data", "Term",
    "Getopt", "Scalar", "List", "Test", "Module", "Storable", "Socket", "Sys",
];
const PERL_SUB: &[&str] = &[
    "Base64", "Local", "HiRes", "Wrap", "Temp", "Compress", "Tiny", "Util", "Simple", "Dumper",
    "Escape", "Parser", "Glob", "Path", "Which", "Syslog", "Table", "More", "Load", "Guess",
];

/// The packages of `distro`: exactly `n`, names unique, in install order.
pub(crate) fn packages(distro: &Distro, seed: u64, n: usize) -> Result<Vec<Pkg>, MockDiskError> {
    let curated = match distro.os {
        super::OsType::Ubuntu => UBUNTU,
        super::OsType::Debian => DEBIAN,
        super::OsType::Fedora => FEDORA,
        super::OsType::Rocky => ROCKY,
        super::OsType::Alpine => ALPINE,
        super::OsType::Arch => ARCH,
    };
    let mut rng = Rng::derive(seed, "packages");
    let mut out: Vec<Pkg> = Vec::with_capacity(n);
    let mut seen: HashSet<String> = HashSet::with_capacity(n.saturating_add(curated.len()));
    for &(name, full, arch, source) in curated.iter().take(n) {
        let (epoch, version, release) = split_full_version(full);
        let source = if source.is_empty() { name } else { source };
        let pkg = finish(
            distro,
            &mut rng,
            name.to_string(),
            epoch,
            version,
            release,
            arch,
            source.to_string(),
            &out,
        );
        seen.insert(pkg.name.clone());
        out.push(pkg);
    }
    // Generated names: index i walks (pattern, word, generation) so every candidate
    // differs; collisions with curated names are skipped. The loop is bounded: each
    // skipped index is a collision with one of at most `out.len()` names.
    let patterns = name_patterns(distro.family);
    let mut i: usize = 0;
    let limit = n.saturating_mul(4).saturating_add(100_000);
    while out.len() < n {
        if i > limit {
            return Err(MockDiskError::PackageDb(format!(
                "could not make {n} unique package names"
            )));
        }
        let word = WORDS[i % WORDS.len()];
        let pat = patterns[(i / WORDS.len()) % patterns.len()];
        let generation = i / (WORDS.len() * patterns.len());
        i += 1;
        let (name, arch, is_lib) = make_name(distro.family, pat, word, generation, &mut rng);
        if !seen.insert(name.clone()) {
            continue;
        }
        let (epoch, version, release) = gen_version(distro, &mut rng);
        let source = source_of(&name);
        let mut pkg = finish(
            distro, &mut rng, name, epoch, version, release, arch, source, &out,
        );
        pkg.is_lib = pkg.is_lib || is_lib;
        out.push(pkg);
    }
    Ok(out)
}

/// `[E:]V[-R]` → (E, V, R): epoch before the first ':', release after the last '-'.
pub(crate) fn split_full_version(full: &str) -> (u32, String, String) {
    let (epoch, rest) = match full.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse().unwrap_or(0), r)
        }
        _ => (0, full),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v.to_string(), r.to_string()),
        None => (epoch, rest.to_string(), String::new()),
    }
}

#[derive(Clone, Copy)]
enum Pat {
    Lib,
    Python,
    Perl,
    Utils,
    Common,
    Dev,
    Doc,
    Plain,
    Fonts,
}

fn name_patterns(family: Family) -> &'static [Pat] {
    match family {
        Family::Deb => &[
            Pat::Lib,
            Pat::Python,
            Pat::Utils,
            Pat::Common,
            Pat::Perl,
            Pat::Dev,
            Pat::Plain,
            Pat::Fonts,
        ],
        Family::Rpm => &[
            Pat::Lib,
            Pat::Python,
            Pat::Perl,
            Pat::Plain,
            Pat::Utils,
            Pat::Dev,
            Pat::Common,
            Pat::Doc,
        ],
        Family::Apk => &[
            Pat::Plain,
            Pat::Lib,
            Pat::Python,
            Pat::Doc,
            Pat::Dev,
            Pat::Perl,
            Pat::Utils,
        ],
        Family::Pacman => &[
            Pat::Plain,
            Pat::Lib,
            Pat::Python,
            Pat::Perl,
            Pat::Doc,
            Pat::Fonts,
            Pat::Utils,
        ],
    }
}

/// A generated name: (name, arch, is a library).
fn make_name(
    family: Family,
    pat: Pat,
    word: &str,
    generation: usize,
    rng: &mut Rng,
) -> (String, &'static str, bool) {
    // From the second generation on, the stem gets a distinguishing suffix, the way
    // real archives have `gtk2`/`gtk3`, `qt5`/`qt6`.
    let stem = if generation == 0 {
        word.to_string()
    } else {
        format!("{word}{}", generation + 1)
    };
    let any = match family {
        Family::Deb => "all",
        Family::Rpm => "noarch",
        Family::Apk => "x86_64",
        Family::Pacman => "any",
    };
    let native = match family {
        Family::Deb => "amd64",
        _ => "x86_64",
    };
    let perl_mod = || {
        let a = PERL_WORDS[(word.len() + generation) % PERL_WORDS.len()];
        let b = PERL_SUB[word.bytes().map(usize::from).sum::<usize>() % PERL_SUB.len()];
        (a, b)
    };
    match (family, pat) {
        (Family::Deb, Pat::Lib) => {
            let soname = 1 + rng.below(9);
            let sep = if stem.ends_with(|c: char| c.is_ascii_digit()) {
                "-"
            } else {
                ""
            };
            (format!("lib{stem}{sep}{soname}"), native, true)
        }
        (Family::Deb, Pat::Python) => (format!("python3-{stem}"), any, false),
        (Family::Deb, Pat::Utils) => (format!("{stem}-utils"), native, false),
        (Family::Deb, Pat::Common) => (format!("lib{stem}-common"), any, false),
        (Family::Deb, Pat::Perl) => {
            let (a, b) = perl_mod();
            (
                format!("lib{}-{}-{}-perl", a.to_lowercase(), b.to_lowercase(), stem),
                any,
                false,
            )
        }
        (Family::Deb, Pat::Dev) => (format!("lib{stem}-dev"), native, false),
        (Family::Deb, Pat::Fonts) => (format!("fonts-{stem}"), any, false),
        (Family::Rpm, Pat::Lib) => (format!("{stem}-libs"), native, true),
        (Family::Rpm, Pat::Python) => (format!("python3-{stem}"), any, false),
        (Family::Rpm, Pat::Perl) => {
            let (a, b) = perl_mod();
            (format!("perl-{a}-{b}-{stem}"), any, false)
        }
        (Family::Rpm, Pat::Utils) => (format!("{stem}-tools"), native, false),
        (Family::Rpm, Pat::Dev) => (format!("{stem}-devel"), native, false),
        (Family::Rpm, Pat::Common) => (format!("{stem}-common"), any, false),
        (Family::Rpm, Pat::Doc) => (format!("{stem}-doc"), any, false),
        (Family::Apk, Pat::Lib) => (format!("{stem}-libs"), native, true),
        (Family::Apk, Pat::Python) => (format!("py3-{stem}"), native, false),
        (Family::Apk, Pat::Doc) => (format!("{stem}-doc"), native, false),
        (Family::Apk, Pat::Dev) => (format!("{stem}-dev"), native, false),
        (Family::Apk, Pat::Perl) => {
            let (a, b) = perl_mod();
            (
                format!("perl-{}-{}-{stem}", a.to_lowercase(), b.to_lowercase()),
                native,
                false,
            )
        }
        (Family::Apk, Pat::Utils) => (format!("{stem}-utils"), native, false),
        (Family::Pacman, Pat::Lib) => (format!("lib{stem}"), native, true),
        (Family::Pacman, Pat::Python) => (format!("python-{stem}"), any, false),
        (Family::Pacman, Pat::Perl) => {
            let (a, b) = perl_mod();
            (
                format!("perl-{}-{}-{stem}", a.to_lowercase(), b.to_lowercase()),
                any,
                false,
            )
        }
        (Family::Pacman, Pat::Doc) => (format!("{stem}-docs"), any, false),
        (Family::Pacman, Pat::Fonts) => (format!("ttf-{stem}"), any, false),
        (Family::Pacman, Pat::Utils) => (format!("{stem}-utils"), native, false),
        (_, Pat::Fonts) => (format!("fonts-{stem}"), any, false),
        (_, Pat::Doc) => (format!("{stem}-doc"), any, false),
        (_, Pat::Dev) => (format!("{stem}-devel"), native, false),
        (_, Pat::Common) => (format!("{stem}-common"), any, false),
        (_, Pat::Plain) => (stem, native, false),
    }
}

/// The source package a generated binary package comes from.
fn source_of(name: &str) -> String {
    let mut s = name;
    for p in ["python3-", "python-", "py3-", "fonts-", "ttf-", "perl-"] {
        if let Some(r) = s.strip_prefix(p) {
            s = r;
        }
    }
    for suf in [
        "-utils", "-tools", "-libs", "-common", "-devel", "-dev", "-docs", "-doc", "-perl",
    ] {
        if let Some(r) = s.strip_suffix(suf) {
            s = r;
        }
    }
    if let Some(r) = s.strip_prefix("lib") {
        // libfoo3 → foo
        let r = r
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end_matches('-');
        if !r.is_empty() {
            s = r;
        }
    }
    if s.is_empty() {
        name.to_string()
    } else {
        s.to_string()
    }
}

/// A realistic generated version for the distro: (epoch, upstream, release).
fn gen_version(distro: &Distro, rng: &mut Rng) -> (u32, String, String) {
    let major = rng.below(12);
    let minor = rng.below(30);
    let upstream = match rng.below(5) {
        0 => format!("{major}.{minor}"),
        1 => format!("{}.{minor}.{}", 1 + major, rng.below(20)),
        2 => format!("{major}.{minor}.{}+dfsg", rng.below(10)),
        _ => format!("{major}.{minor}.{}", rng.below(40)),
    };
    let upstream = if distro.family == Family::Deb {
        upstream
    } else {
        // `+dfsg` is a Debian convention.
        upstream.replace("+dfsg", "")
    };
    let epoch = match rng.below(100) {
        // apk versions have no epoch.
        _ if distro.family == Family::Apk => 0,
        0..=3 => 1,
        4 => 2,
        _ => 0,
    };
    let n = 1 + rng.below(9);
    let release = match distro.os {
        super::OsType::Ubuntu => match rng.below(4) {
            0 => format!("{n}build{}", 1 + rng.below(3)),
            1 => format!("{n}ubuntu{}", 1 + rng.below(5)),
            2 => format!("{n}.1build1"),
            _ => n.to_string(),
        },
        super::OsType::Debian => match rng.below(5) {
            0 => format!("{n}+b{}", 1 + rng.below(3)),
            1 => format!("{n}+deb12u{}", 1 + rng.below(4)),
            _ => n.to_string(),
        },
        super::OsType::Fedora => format!("{n}.fc40"),
        super::OsType::Rocky => {
            if rng.below(3) == 0 {
                format!("{n}.el9_4")
            } else {
                format!("{n}.el9")
            }
        }
        super::OsType::Alpine => format!("r{}", rng.below(6)),
        super::OsType::Arch => n.to_string(),
    };
    (epoch, upstream, release)
}

const TOPICS: &[&str] = &[
    "parsing",
    "compression",
    "networking",
    "image decoding",
    "font rendering",
    "audio",
    "cryptography",
    "database access",
    "scripting",
    "configuration",
    "logging",
    "testing",
    "localisation",
    "terminal handling",
    "system administration",
    "data serialisation",
];

#[allow(clippy::too_many_arguments)]
fn finish(
    distro: &Distro,
    rng: &mut Rng,
    name: String,
    epoch: u32,
    version: String,
    release: String,
    arch: &'static str,
    source: String,
    earlier: &[Pkg],
) -> Pkg {
    let topic = TOPICS[usize::try_from(rng.below(TOPICS.len() as u64)).unwrap_or(0) % TOPICS.len()];
    let is_lib = name.starts_with("lib")
        && !name.ends_with("-dev")
        && !name.ends_with("-perl")
        && !name.ends_with("-common")
        || name.ends_with("-libs");
    let summary = known_summary(&name).map(str::to_string).unwrap_or_else(|| {
        if is_lib {
            format!("{source} shared library for {topic}")
        } else if name.starts_with("python") || name.starts_with("py3-") {
            format!("Python 3 module for {topic} ({source})")
        } else if name.contains("perl") {
            format!("Perl module for {topic}")
        } else if name.ends_with("-doc") || name.ends_with("-docs") {
            format!("Documentation for {source}")
        } else if name.ends_with("-dev") || name.ends_with("-devel") {
            format!("Development files for {source}")
        } else if name.starts_with("fonts-") || name.starts_with("ttf-") {
            format!("{source} font family")
        } else {
            format!("Tools for {topic} from the {source} project")
        }
    });
    // Paragraphs are separated by an empty line.
    let description = vec![
        format!("The {source} project provides {topic} support used by other"),
        "programs on the system.".to_string(),
        String::new(),
        format!("This package contains the files of {name}, built for"),
        format!("{}.", distro.pretty_name),
    ];
    let size = 4096 * (1 + rng.below(4000));
    let build_time = distro
        .epoch_time
        .saturating_sub(86_400 * (1 + rng.below(400)));
    // Depend on up to two of the first packages (the base system), as real ones do.
    let mut depends = Vec::new();
    if !earlier.is_empty() {
        let base = earlier.len().min(12);
        for _ in 0..rng.below(3) {
            if let Some(p) = earlier.get(usize::try_from(rng.below(base as u64)).unwrap_or(0)) {
                if p.name != name && !depends.contains(&p.name) {
                    depends.push(p.name.clone());
                }
            }
        }
    }
    let license = match rng.below(6) {
        0 => "MIT",
        1 => "BSD-3-Clause",
        2 => "LGPL-2.1-or-later",
        3 => "Apache-2.0",
        _ => "GPL-2.0-or-later",
    };
    Pkg {
        url: format!("https://{source}.example-upstream.org/"),
        name,
        epoch,
        version,
        release,
        arch,
        source,
        summary,
        description,
        size,
        build_time,
        license,
        depends,
        is_lib,
    }
}

fn known_summary(name: &str) -> Option<&'static str> {
    Some(match name {
        "bash" => "GNU Bourne Again SHell",
        "coreutils" => "GNU core utilities",
        "dash" => "POSIX-compliant shell",
        "libc6" | "glibc" => "GNU C Library: Shared libraries",
        "libc-bin" => "GNU C Library: Binaries",
        "systemd" => "system and service manager",
        "openssl" => "Secure Sockets Layer toolkit - cryptographic utility",
        "libssl3" | "libssl3t64" | "openssl-libs" => {
            "Secure Sockets Layer toolkit - shared libraries"
        }
        "base-files" => "Debian base system miscellaneous files",
        "dpkg" => "Debian package management system",
        "apt" => "commandline package manager",
        "rpm" => "The RPM package management system",
        "dnf" => "Package manager",
        "musl" => "the musl c library (libc) implementation",
        "busybox" => "Size optimized toolbox of many common UNIX utilities",
        "apk-tools" => "Alpine Package Keeper - package manager for alpine",
        "pacman" => "A library-based package manager with dependency support",
        "filesystem" => "The basic directory layout for a Linux system",
        "kernel" | "linux" | "linux-lts" => "The Linux kernel",
        "grep" => "GNU grep, egrep and fgrep",
        "sed" => "GNU stream editor",
        "tzdata" => "time zone and daylight-saving time data",
        "ca-certificates" => "Common CA certificates",
        "sudo" => "Provide limited super user privileges to specific users",
        "curl" => "command line tool for transferring data with URL syntax",
        "util-linux" => "miscellaneous system utilities",
        "openssh-server" => "secure shell (SSH) server, for secure access from remote machines",
        "perl-base" => "minimal Perl system",
        "python3" => "interactive high-level object-oriented language (default python3 version)",
        "systemd-sysv" => "system and service manager - SysV compatibility symlinks",
        "login" => "system login tools",
        "passwd" => "change and administer password and group data",
        _ => return None,
    })
}
