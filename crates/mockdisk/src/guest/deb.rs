//! The dpkg database (`/var/lib/dpkg`): `status` with one stanza per installed
//! package, sorted by name as dpkg writes it, plus the files and directories dpkg
//! keeps beside it; and apt's sources.

use super::distro::{Distro, Family};
use super::names::Pkg;
use super::tree::Tree;
use super::OsType;
use crate::error::MockDiskError;
use std::fmt::Write as _;

fn section_priority(p: &Pkg) -> (&'static str, &'static str) {
    let n = p.name.as_str();
    match n {
        "base-files"
        | "base-passwd"
        | "bash"
        | "coreutils"
        | "dash"
        | "debconf"
        | "debianutils"
        | "dpkg"
        | "libc6"
        | "libc-bin"
        | "diffutils"
        | "findutils"
        | "grep"
        | "gzip"
        | "hostname"
        | "login"
        | "passwd"
        | "mount"
        | "util-linux"
        | "bsdutils"
        | "ncurses-base"
        | "ncurses-bin"
        | "perl-base"
        | "sed"
        | "tar"
        | "init-system-helpers"
        | "libtinfo6"
        | "zlib1g"
        | "libzstd1"
        | "liblzma5"
        | "libselinux1"
        | "libpam0g"
        | "libpam-modules" => (
            if p.is_lib {
                "libs"
            } else if n == "bash" || n == "dash" {
                "shells"
            } else {
                "utils"
            },
            "required",
        ),
        "apt" | "libapt-pkg6.0" | "libapt-pkg6.0t64" | "gpgv" | "systemd" | "systemd-sysv"
        | "udev" | "libsystemd0" | "libudev1" | "kmod" | "libkmod2" | "e2fsprogs" | "tzdata"
        | "procps" | "iproute2" | "vim-tiny" | "sudo" => ("admin", "important"),
        "openssl" | "libssl3" | "libssl3t64" | "ca-certificates" | "less" | "openssh-client"
        | "curl" | "libcurl4" | "libcurl4t64" | "python3" | "python3.11" | "python3.12" => {
            ("utils", "standard")
        }
        _ if n.starts_with("linux-") => ("kernel", "optional"),
        _ if n.starts_with("python3-") => ("python", "optional"),
        _ if n.ends_with("-perl") => ("perl", "optional"),
        _ if n.starts_with("fonts-") => ("fonts", "optional"),
        _ if n.ends_with("-dev") => ("libdevel", "optional"),
        _ if p.is_lib => ("libs", "optional"),
        _ => ("misc", "optional"),
    }
}

fn multi_arch(p: &Pkg) -> Option<&'static str> {
    if p.arch == "all" {
        Some("foreign")
    } else if p.is_lib || p.name.ends_with("-dev") {
        Some("same")
    } else if p.name.starts_with("python3") || p.name == "perl-base" {
        Some("allowed")
    } else if p.name.ends_with("-utils")
        || p.name == "coreutils"
        || p.name == "bash"
        || p.name == "dash"
    {
        Some("foreign")
    } else {
        None
    }
}

/// The `status` file for `pkgs` (sorted by name, as dpkg writes it).
pub(crate) fn status(distro: &Distro, pkgs: &[Pkg]) -> String {
    let mut sorted: Vec<&Pkg> = pkgs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut s = String::with_capacity(pkgs.len() * 700);
    let ubuntu = distro.os == OsType::Ubuntu;
    for p in sorted {
        let (section, priority) = section_priority(p);
        let _ = writeln!(s, "Package: {}", p.name);
        s.push_str("Status: install ok installed\n");
        let _ = writeln!(s, "Priority: {priority}");
        let _ = writeln!(s, "Section: {section}");
        let _ = writeln!(s, "Installed-Size: {}", p.size.div_ceil(1024));
        let _ = writeln!(
            s,
            "Maintainer: {}",
            if ubuntu {
                distro.maintainer
            } else {
                debian_maintainer(&p.source)
            }
        );
        let _ = writeln!(s, "Architecture: {}", p.arch);
        if let Some(m) = multi_arch(p) {
            let _ = writeln!(s, "Multi-Arch: {m}");
        }
        if p.source != p.name {
            // dpkg writes "Source: src (version)" when the source version differs; ours match.
            let _ = writeln!(s, "Source: {}", p.source);
        }
        let _ = writeln!(s, "Version: {}", p.full_version());
        if p.name == "bash" || p.name == "dash" || p.name == "coreutils" || p.name == "base-files" {
            s.push_str("Essential: yes\n");
        }
        if !p.depends.is_empty() {
            let deps: Vec<String> = p.depends.iter().map(|d| d.to_string()).collect();
            let _ = writeln!(s, "Depends: {}", deps.join(", "));
        }
        if p.name == "bash" {
            s.push_str(
                "Conffiles:\n /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d\n \
                 /etc/skel/.bash_logout 22bfb8c1dd94b5f3813a2b25da67463f\n /etc/skel/.bashrc \
                 0f4f6e0dcf7bd0f1bd9d5c2e6b3fa3b4\n /etc/skel/.profile \
                 f4e81ade7d6f9fb342541152d08e7a97\n",
            );
        }
        let _ = writeln!(s, "Description: {}", p.summary);
        for line in &p.description {
            if line.is_empty() {
                s.push_str(" .\n");
            } else {
                let _ = writeln!(s, " {line}");
            }
        }
        let _ = writeln!(s, "Homepage: {}", p.url);
        if ubuntu {
            let _ = writeln!(s, "Original-Maintainer: {}", debian_maintainer(&p.source));
        }
        s.push('\n');
    }
    s
}

fn debian_maintainer(source: &str) -> &'static str {
    match source {
        "glibc" => "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
        "systemd" => "Debian systemd Maintainers <pkg-systemd-maintainers@lists.alioth.debian.org>",
        "bash" | "dash" => "Matthias Klose <doko@debian.org>",
        "openssl" => "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
        "apt" => "APT Development Team <deity@lists.debian.org>",
        "dpkg" => "Dpkg Developers <debian-dpkg@lists.debian.org>",
        "coreutils" => "Michael Stone <mstone@debian.org>",
        "util-linux" => "util-linux packagers <util-linux@packages.debian.org>",
        _ if source.starts_with("python") => "Debian Python Team <team+python@tracker.debian.org>",
        _ if source.starts_with("perl") => {
            "Debian Perl Group <pkg-perl-maintainers@lists.alioth.debian.org>"
        }
        _ if source.starts_with("fonts") => {
            "Debian Fonts Task Force <debian-fonts@lists.debian.org>"
        }
        _ => "Debian QA Group <packages@qa.debian.org>",
    }
}

/// Write `/var/lib/dpkg` and apt's configuration.
pub(crate) fn write(tree: &mut Tree, distro: &Distro, pkgs: &[Pkg]) -> Result<(), MockDiskError> {
    debug_assert_eq!(distro.family, Family::Deb);
    tree.file("var/lib/dpkg/status", status(distro, pkgs), 0o644)?;
    tree.file("var/lib/dpkg/available", "", 0o644)?;
    tree.file("var/lib/dpkg/diversions", "", 0o644)?;
    tree.file("var/lib/dpkg/statoverride", "", 0o644)?;
    tree.file("var/lib/dpkg/lock", "", 0o640)?;
    tree.file("var/lib/dpkg/lock-frontend", "", 0o640)?;
    tree.dir("var/lib/dpkg/info", 0o755)?;
    tree.file("var/lib/dpkg/info/format", "1\n", 0o644)?;
    tree.dir("var/lib/dpkg/updates", 0o755)?;
    tree.dir("var/lib/dpkg/parts", 0o700)?;
    tree.dir("var/lib/dpkg/alternatives", 0o755)?;
    tree.file("var/lib/dpkg/triggers/File", "", 0o644)?;
    tree.file("var/lib/dpkg/triggers/Unincorp", "", 0o644)?;
    tree.file("var/lib/dpkg/triggers/Lock", "", 0o600)?;
    tree.dir("var/lib/apt/lists/partial", 0o700)?;
    tree.dir("var/cache/apt/archives/partial", 0o700)?;
    tree.dir("etc/apt/apt.conf.d", 0o755)?;
    tree.dir("etc/apt/preferences.d", 0o755)?;
    tree.dir("etc/apt/trusted.gpg.d", 0o755)?;
    tree.dir("etc/dpkg/dpkg.cfg.d", 0o755)?;
    tree.file(
        "etc/dpkg/origins/debian",
        "Vendor: Debian\nVendor-URL: https://www.debian.org/\nBugs: debbugs://bugs.debian.org\n",
        0o644,
    )?;
    if distro.os == OsType::Ubuntu {
        tree.file(
            "etc/dpkg/origins/ubuntu",
            "Vendor: Ubuntu\nVendor-URL: http://www.ubuntu.com/\nBugs: \
             https://bugs.launchpad.net/ubuntu/+filebug\nParent: Debian\n",
            0o644,
        )?;
        tree.symlink("etc/dpkg/origins/default", "ubuntu")?;
        tree.file(
            "etc/apt/sources.list",
            "# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n",
            0o644,
        )?;
        tree.file(
            "etc/apt/sources.list.d/ubuntu.sources",
            "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\nSuites: noble noble-updates \
             noble-backports\nComponents: main restricted universe multiverse\nSigned-By: \
             /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\nTypes: deb\nURIs: \
             http://security.ubuntu.com/ubuntu/\nSuites: noble-security\nComponents: main \
             restricted universe multiverse\nSigned-By: \
             /usr/share/keyrings/ubuntu-archive-keyring.gpg\n",
            0o644,
        )?;
    } else {
        tree.symlink("etc/dpkg/origins/default", "debian")?;
        tree.file(
            "etc/apt/sources.list",
            "deb http://deb.debian.org/debian bookworm main\ndeb \
             http://deb.debian.org/debian-security bookworm-security main\ndeb \
             http://deb.debian.org/debian bookworm-updates main\n",
            0o644,
        )?;
    }
    Ok(())
}
