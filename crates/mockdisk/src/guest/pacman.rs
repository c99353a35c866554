//! Arch's pacman local database: `/var/lib/pacman/local/ALPM_DB_VERSION` and one
//! directory `<name>-<version>` per package holding `desc` (`%FIELD%` sections, each
//! followed by its values and a blank line, as libalpm writes them) and `files`.

use super::distro::{Distro, Family};
use super::names::Pkg;
use super::tree::Tree;
use crate::error::MockDiskError;
use std::fmt::Write as _;

/// The `desc` file of one package.
pub(crate) fn desc(distro: &Distro, p: &Pkg) -> String {
    let mut s = String::with_capacity(600);
    let mut field = |name: &str, values: &[&str]| {
        let _ = writeln!(s, "%{name}%");
        for v in values {
            let _ = writeln!(s, "{v}");
        }
        s.push('\n');
    };
    let version = p.full_version();
    let build = p.build_time.to_string();
    let install = distro.epoch_time.to_string();
    let size = p.size.to_string();
    field("NAME", &[&p.name]);
    field("VERSION", &[&version]);
    field("BASE", &[&p.source]);
    field("DESC", &[&p.summary]);
    field("URL", &[&p.url]);
    field("ARCH", &[p.arch]);
    field("BUILDDATE", &[&build]);
    field("INSTALLDATE", &[&install]);
    field("PACKAGER", &[distro.maintainer]);
    field("SIZE", &[&size]);
    if !matches!(
        p.name.as_str(),
        "base" | "linux" | "linux-firmware" | "grub" | "openssh" | "sudo" | "vim"
    ) {
        // Installed as a dependency.
        field("REASON", &["1"]);
    }
    field("LICENSE", &[p.license]);
    field("VALIDATION", &["pgp"]);
    if !p.depends.is_empty() {
        let deps: Vec<&str> = p.depends.iter().map(String::as_str).collect();
        field("DEPENDS", &deps);
    }
    if p.name == "bash" {
        field("PROVIDES", &["sh"]);
    }
    s
}

/// The `files` file of one package.
fn files(p: &Pkg) -> String {
    match p.name.as_str() {
        "bash" => "%FILES%\netc/\netc/bash.bashrc\nusr/\nusr/bin/\nusr/bin/bash\nusr/bin/sh\n\n\
                   %BACKUP%\netc/bash.bashrc\t6fb6f6b1c9a6b1d6bd5e4b1c1a3e2a0f\n\n"
            .into(),
        "filesystem" => {
            "%FILES%\nbin\netc/\netc/arch-release\netc/fstab\netc/group\netc/hostname\n\
                         etc/hosts\netc/passwd\netc/shadow\nlib\nlib64\nsbin\nusr/\nusr/lib/\n\
                         usr/lib/os-release\n\n%BACKUP%\n\
                         etc/fstab\t693c97f2c9a519bb97a17008e92c2b74\n\
                         etc/group\t45c2c4e3e4c2c0f3e5d8f2d6a3c4e1b0\n\
                         etc/hosts\t7c5d2f9e8a1b3c4d6e0f1a2b3c4d5e6f\n\
                         etc/passwd\t3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c\n\
                         etc/shadow\t1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d\n\n"
                .into()
        }
        _ => format!(
            "%FILES%\nusr/\nusr/share/\nusr/share/licenses/\nusr/share/licenses/{0}/\n\
                      usr/share/licenses/{0}/LICENSE\n\n",
            p.name
        ),
    }
}

/// Write the pacman database and configuration.
pub(crate) fn write(tree: &mut Tree, distro: &Distro, pkgs: &[Pkg]) -> Result<(), MockDiskError> {
    debug_assert_eq!(distro.family, Family::Pacman);
    tree.file("var/lib/pacman/local/ALPM_DB_VERSION", "9\n", 0o644)?;
    for p in pkgs {
        let dir = format!("var/lib/pacman/local/{}-{}", p.name, p.full_version());
        tree.file(&format!("{dir}/desc"), desc(distro, p), 0o644)?;
        tree.file(&format!("{dir}/files"), files(p), 0o644)?;
    }
    tree.dir("var/lib/pacman/sync", 0o755)?;
    tree.dir("var/cache/pacman/pkg", 0o755)?;
    tree.file("etc/pacman.conf", PACMAN_CONF, 0o644)?;
    tree.file(
        "etc/pacman.d/mirrorlist",
        "##\n## Arch Linux repository mirrorlist\n## Generated on 2024-10-01\n##\n\n## Worldwide\n\
         Server = https://geo.mirror.pkgbuild.com/$repo/os/$arch\n",
        0o644,
    )?;
    tree.dir("etc/pacman.d/gnupg", 0o755)?;
    Ok(())
}

const PACMAN_CONF: &str = r#"#
# /etc/pacman.conf
#
# See the pacman.conf(5) manpage for option and repository directives

#
# GENERAL OPTIONS
#
[options]
# The following paths are commented out with their default values listed.
# If you wish to use different paths, uncomment and update the paths.
#RootDir     = /
#DBPath      = /var/lib/pacman/
#CacheDir    = /var/cache/pacman/pkg/
#LogFile     = /var/log/pacman.log
#GPGDir      = /etc/pacman.d/gnupg/
#HookDir     = /etc/pacman.d/hooks/
HoldPkg     = pacman glibc
#XferCommand = /usr/bin/curl -L -C - -f -o %o %u
#CleanMethod = KeepInstalled
Architecture = auto

# Misc options
#UseSyslog
#Color
#NoProgressBar
CheckSpace
#VerbosePkgLists
ParallelDownloads = 5

# By default, pacman accepts packages signed by keys that its local keyring
# trusts (see pacman-key and its man page), as well as unsigned packages.
SigLevel    = Required DatabaseOptional
LocalFileSigLevel = Optional

[core]
Include = /etc/pacman.d/mirrorlist

[extra]
Include = /etc/pacman.d/mirrorlist
"#;
