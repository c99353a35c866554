//! The rpm package database, `/usr/lib/sysimage/rpm/rpmdb.sqlite`, in the schema
//! rpm ≥ 4.16's sqlite backend creates (`lib/backend/sqlite.c`, verified against
//! `rpm --initdb` of rpm 4.18): `Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT,
//! blob BLOB NOT NULL)` holding one header blob per package, plus one index table
//! per indexed tag, `(key TEXT|BLOB NOT NULL, hnum, idx, FOREIGN KEY(hnum))`, with
//! `<T>_key_idx` for string tags and `<T>_hnum_idx` for array tags. The file is in
//! rollback-journal mode so that read-only mounts can open it (see `write_db`).

use super::distro::{Distro, Family};
use super::names::Pkg;
use super::rpmheader::{tag, HeaderBuilder, Value};
use super::tree::Tree;
use crate::error::MockDiskError;
use rusqlite::{params, Connection};

/// Index tables in the order rpm creates them: (name, key is TEXT, has an hnum index).
const INDEX_TABLES: &[(&str, bool, bool)] = &[
    ("Name", true, false),
    ("Basenames", true, true),
    ("Group", true, false),
    ("Requirename", true, true),
    ("Providename", true, true),
    ("Conflictname", true, true),
    ("Obsoletename", true, true),
    ("Triggername", true, true),
    ("Dirnames", true, true),
    ("Installtid", false, false),
    ("Sigmd5", false, false),
    ("Sha1header", true, false),
    ("Filetriggername", true, true),
    ("Transfiletriggername", true, true),
    ("Recommendname", true, true),
    ("Suggestname", true, true),
    ("Supplementname", true, true),
    ("Enhancename", true, true),
];

/// `RPMSENSE_LESS | RPMSENSE_EQUAL | RPMSENSE_RPMLIB`.
const RPMLIB_FLAGS: u32 = 0x0100_0000 | 0x02 | 0x08;
/// `RPMSENSE_EQUAL`.
const SENSE_EQUAL: u32 = 0x08;
/// `RPMSENSE_RPMLIB`: such requires are not indexed in `Requirename`.
const SENSE_RPMLIB: u32 = 0x0100_0000;

fn db_err(e: rusqlite::Error) -> MockDiskError {
    MockDiskError::PackageDb(format!("rpmdb.sqlite: {e}"))
}

/// The `[E:]V-R` string rpm writes in provides.
fn evr(p: &Pkg) -> String {
    if p.epoch != 0 {
        format!("{}:{}-{}", p.epoch, p.version, p.release)
    } else {
        format!("{}-{}", p.version, p.release)
    }
}

/// A header blob with the provides and the (require, index) pairs rpm indexes.
pub(crate) type EncodedHeader = (Vec<u8>, Vec<String>, Vec<(String, u32)>);

/// The header blob of one installed package, and its (provides, indexed requires).
pub(crate) fn header(p: &Pkg, distro: &Distro) -> Result<EncodedHeader, MockDiskError> {
    let fedora = distro.os == super::OsType::Fedora;
    let noarch = p.arch == "noarch";
    let mut provides: Vec<(String, u32, String)> = vec![(p.name.clone(), SENSE_EQUAL, evr(p))];
    if !noarch {
        provides.push((format!("{}(x86-64)", p.name), SENSE_EQUAL, evr(p)));
    }
    if p.is_lib {
        let stem = p.name.trim_end_matches("-libs");
        let stem = stem.strip_prefix("lib").unwrap_or(stem);
        provides.push((
            format!(
                "lib{stem}.so.{}()(64bit)",
                p.version.split('.').next().unwrap_or("1")
            ),
            0,
            String::new(),
        ));
    }
    let mut requires: Vec<(String, u32, String)> = vec![
        (
            "rpmlib(CompressedFileNames)".into(),
            RPMLIB_FLAGS,
            "3.0.4-1".into(),
        ),
        ("rpmlib(FileDigests)".into(), RPMLIB_FLAGS, "4.6.0-1".into()),
        (
            "rpmlib(PayloadFilesHavePrefix)".into(),
            RPMLIB_FLAGS,
            "4.0-1".into(),
        ),
        (
            "rpmlib(PayloadIsZstd)".into(),
            RPMLIB_FLAGS,
            "5.4.18-1".into(),
        ),
    ];
    if !noarch {
        requires.push(("libc.so.6()(64bit)".into(), 0, String::new()));
        requires.push(("rtld(GNU_HASH)".into(), 0, String::new()));
    }
    for d in &p.depends {
        // An unversioned dependency, as most automatic ones are.
        requires.push((d.clone(), 0, String::new()));
    }
    requires.sort();
    requires.dedup_by(|a, b| a.0 == b.0);

    let (vendor, packager, buildhost, rpmversion) = if fedora {
        (
            "Fedora Project",
            "Fedora Project",
            "buildvm-x86-24.iad2.fedoraproject.org",
            "4.19.1.1",
        )
    } else {
        (
            "Rocky Enterprise Software Foundation",
            "Rocky Linux Build System (Peridot) <releng@rockylinux.org>",
            "iad1-prod-build001.bld.equ.rockylinux.org",
            "4.16.1.3",
        )
    };
    let mut h = HeaderBuilder::new();
    h.add(tag::HEADERI18NTABLE, Value::StrArray(vec!["C".into()]))
        .add(tag::NAME, Value::Str(p.name.clone()))
        .add(tag::VERSION, Value::Str(p.version.clone()))
        .add(tag::RELEASE, Value::Str(p.release.clone()))
        .add(tag::SUMMARY, Value::I18n(vec![p.summary.clone()]))
        .add(
            tag::DESCRIPTION,
            Value::I18n(vec![p.description.join("\n")]),
        )
        .add(tag::BUILDTIME, Value::Int32(vec![clamp32(p.build_time)]))
        .add(tag::BUILDHOST, Value::Str(buildhost.into()))
        .add(tag::SIZE, Value::Int32(vec![clamp32(p.size)]))
        .add(tag::VENDOR, Value::Str(vendor.into()))
        .add(tag::LICENSE, Value::Str(p.license.into()))
        .add(tag::PACKAGER, Value::Str(packager.into()))
        .add(tag::GROUP, Value::I18n(vec!["Unspecified".into()]))
        .add(tag::URL, Value::Str(p.url.clone()))
        .add(tag::OS, Value::Str("linux".into()))
        .add(tag::ARCH, Value::Str(p.arch.into()))
        .add(
            tag::SOURCERPM,
            Value::Str(format!("{}-{}-{}.src.rpm", p.source, p.version, p.release)),
        )
        .add(
            tag::PROVIDENAME,
            Value::StrArray(provides.iter().map(|x| x.0.clone()).collect()),
        )
        .add(
            tag::PROVIDEFLAGS,
            Value::Int32(provides.iter().map(|x| x.1).collect()),
        )
        .add(
            tag::PROVIDEVERSION,
            Value::StrArray(provides.iter().map(|x| x.2.clone()).collect()),
        )
        .add(
            tag::REQUIRENAME,
            Value::StrArray(requires.iter().map(|x| x.0.clone()).collect()),
        )
        .add(
            tag::REQUIREFLAGS,
            Value::Int32(requires.iter().map(|x| x.1).collect()),
        )
        .add(
            tag::REQUIREVERSION,
            Value::StrArray(requires.iter().map(|x| x.2.clone()).collect()),
        )
        .add(tag::RPMVERSION, Value::Str(rpmversion.into()))
        .add(tag::PAYLOADFORMAT, Value::Str("cpio".into()))
        .add(tag::PAYLOADCOMPRESSOR, Value::Str("zstd".into()))
        .add(
            tag::PLATFORM,
            Value::Str(format!("{}-redhat-linux-gnu", p.arch)),
        )
        .add(tag::ENCODING, Value::Str("utf-8".into()));
    if p.epoch != 0 {
        h.add(tag::EPOCH, Value::Int32(vec![p.epoch]));
    }
    let tid = clamp32(distro.epoch_time);
    h.add_installed(tag::INSTALLTIME, Value::Int32(vec![tid]))
        .add_installed(
            tag::INSTALLCOLOR,
            Value::Int32(vec![if noarch { 0 } else { 2 }]),
        )
        .add_installed(tag::INSTALLTID, Value::Int32(vec![tid]));
    let blob = h.encode()?;
    let indexed_requires = requires
        .iter()
        .enumerate()
        .filter(|(_, r)| r.1 & SENSE_RPMLIB == 0)
        .map(|(i, r)| (r.0.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    Ok((
        blob,
        provides.into_iter().map(|x| x.0).collect(),
        indexed_requires,
    ))
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Write the rpm database and rpm's/dnf's configuration files.
pub(crate) fn write(tree: &mut Tree, distro: &Distro, pkgs: &[Pkg]) -> Result<(), MockDiskError> {
    debug_assert_eq!(distro.family, Family::Rpm);
    tree.dir("usr/lib/sysimage/rpm", 0o755)?;
    tree.symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm")?;
    let db_path = tree.host_path("usr/lib/sysimage/rpm/rpmdb.sqlite");
    write_db(&db_path, distro, pkgs)?;
    tree.register_file("usr/lib/sysimage/rpm/rpmdb.sqlite", 0o644);
    tree.file("usr/lib/sysimage/rpm/.rpm.lock", "", 0o644)?;

    tree.file("usr/lib/rpm/rpmrc", RPMRC, 0o644)?;
    tree.file("usr/lib/rpm/macros", RPM_MACROS, 0o644)?;
    tree.dir("usr/lib/rpm/macros.d", 0o755)?;
    tree.dir("etc/rpm", 0o755)?;
    tree.dir("etc/pki/rpm-gpg", 0o755)?;
    tree.dir("var/lib/dnf", 0o755)?;
    tree.dir("var/cache/dnf", 0o755)?;
    // dnf 4 as Fedora 40 and EL9 ship it: a Python entry script with `dnf` and
    // `yum` symlinks to it. libguestfs reports package management "dnf" for Fedora
    // only when /usr/bin/dnf exists (a file, after following symlinks), else "yum".
    tree.file("usr/bin/dnf-3", DNF_SCRIPT, 0o755)?;
    tree.symlink("usr/bin/dnf", "dnf-3")?;
    tree.symlink("usr/bin/yum", "dnf-3")?;
    if distro.os == super::OsType::Fedora {
        tree.file(
            "etc/dnf/dnf.conf",
            "# see `man dnf.conf` for defaults and possible options\n\n[main]\n",
            0o644,
        )?;
        tree.file("etc/yum.repos.d/fedora.repo", FEDORA_REPO, 0o644)?;
        tree.file(
            "etc/yum.repos.d/fedora-updates.repo",
            FEDORA_UPDATES_REPO,
            0o644,
        )?;
    } else {
        tree.file(
            "etc/dnf/dnf.conf",
            "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\n\
             best=True\nskip_if_unavailable=False\n",
            0o644,
        )?;
        tree.file("etc/yum.repos.d/rocky.repo", ROCKY_REPO, 0o644)?;
        tree.symlink("etc/yum.conf", "dnf/dnf.conf")?;
    }
    Ok(())
}

fn write_db(path: &std::path::Path, distro: &Distro, pkgs: &[Pkg]) -> Result<(), MockDiskError> {
    let mut conn = Connection::open(path).map_err(db_err)?;
    // Rollback-journal mode, not the WAL mode rpm switches a database to when it
    // opens it for writing: a WAL database can only be opened read-only when its
    // -shm file exists or can be created, and inspection tools (virt-inspector,
    // guestctl) read the guest from a read-only mount. The schema and the data are
    // the same either way; rpm converts the file to WAL the first time it writes.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .map_err(db_err)?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(MockDiskError::PackageDb(format!(
            "rpmdb.sqlite: journal mode {mode}, not delete"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = OFF; PRAGMA secure_delete = OFF; PRAGMA case_sensitive_like = ON;",
    )
    .map_err(db_err)?;
    let tx = conn.transaction().map_err(db_err)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY \
                      AUTOINCREMENT,blob BLOB NOT NULL)",
    )
    .map_err(db_err)?;
    for &(name, text, array) in INDEX_TABLES {
        let keytype = if text { "TEXT" } else { "BLOB" };
        let mut sql = format!(
            "CREATE TABLE IF NOT EXISTS '{name}' (key '{keytype}' NOT NULL, hnum INTEGER NOT NULL, \
             idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));"
        );
        if text {
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS '{name}_key_idx' ON '{name}'(key ASC);"
            ));
        }
        if array {
            sql.push_str(&format!(
                "CREATE INDEX IF NOT EXISTS '{name}_hnum_idx' ON '{name}'(hnum ASC);"
            ));
        }
        tx.execute_batch(&sql).map_err(db_err)?;
    }
    {
        let mut ins_pkg = tx
            .prepare("INSERT INTO 'Packages' VALUES(?, ?)")
            .map_err(db_err)?;
        let mut ins_name = tx
            .prepare("INSERT INTO 'Name' VALUES(?, ?, ?)")
            .map_err(db_err)?;
        let mut ins_group = tx
            .prepare("INSERT INTO 'Group' VALUES(?, ?, ?)")
            .map_err(db_err)?;
        let mut ins_prov = tx
            .prepare("INSERT INTO 'Providename' VALUES(?, ?, ?)")
            .map_err(db_err)?;
        let mut ins_req = tx
            .prepare("INSERT INTO 'Requirename' VALUES(?, ?, ?)")
            .map_err(db_err)?;
        let mut ins_tid = tx
            .prepare("INSERT INTO 'Installtid' VALUES(?, ?, ?)")
            .map_err(db_err)?;
        // rpm stores int keys in host (x86: little-endian) order.
        let tid_key = clamp32(distro.epoch_time).to_le_bytes();
        for (i, p) in pkgs.iter().enumerate() {
            let hnum = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
            let (blob, provides, requires) = header(p, distro)?;
            ins_pkg.execute(params![hnum, blob]).map_err(db_err)?;
            ins_name.execute(params![p.name, hnum, 0]).map_err(db_err)?;
            ins_group
                .execute(params!["Unspecified", hnum, 0])
                .map_err(db_err)?;
            for (j, prov) in provides.iter().enumerate() {
                ins_prov.execute(params![prov, hnum, j]).map_err(db_err)?;
            }
            for (req, j) in &requires {
                ins_req.execute(params![req, hnum, j]).map_err(db_err)?;
            }
            ins_tid
                .execute(params![&tid_key[..], hnum, 0])
                .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)?;
    conn.close().map_err(|(_, e)| db_err(e))?;
    Ok(())
}

const RPMRC: &str = r#"#/*! \page config_rpmrc Default configuration: /usr/lib/rpm/rpmrc
# \verbatim
#
# This is a global RPM configuration file. All changes made here will
# be lost when the rpm package is upgraded. Any per-system configuration
# should be added to /etc/rpmrc, while per-user configuration should
# be added to ~/.rpmrc.
#
###############################################################

# Values for RPM_OPT_FLAGS for various platforms

optflags: i386 -O2 -g -march=i386 -mtune=i686
optflags: x86_64 -O2 -g
optflags: amd64 -O2 -g
optflags: noarch -O2 -g

#############################################################
# Architecture colors

archcolor: noarch 0
archcolor: i386 1
archcolor: x86_64 2

#############################################################
# Canonical arch names and numbers

arch_canon:	x86_64:	x86_64	1
arch_canon:	amd64:	amd64	1
arch_canon:	i686:	i686	1
arch_canon:	noarch:	noarch	0

#############################################################
# Canonical OS names and numbers

os_canon:	Linux:	Linux	1

#############################################################
# For a given uname().machine, the default build arch

buildarchtranslate: x86_64: x86_64
buildarchtranslate: amd64: x86_64

#############################################################
# Architecture compatibility

arch_compat: x86_64: amd64 em64t athlon noarch
arch_compat: amd64: x86_64 em64t athlon noarch
arch_compat: noarch: fat

os_compat: Linux: Linux

buildarch_compat: x86_64: noarch
buildarch_compat: amd64: x86_64

# \endverbatim
#*/
"#;

const RPM_MACROS: &str = r#"#/*! \page config_macros Default configuration: /usr/lib/rpm/macros
# \verbatim
#
# This is a global RPM configuration file. All changes made here will
# be lost when the rpm package is upgraded. Any per-system configuration
# should be added to /etc/rpm/macros, while per-user configuration should
# be added to ~/.rpmmacros.
#
#==============================================================================
# ---- A macro that expands to nothing.
#
%nil			%{!?nil}

#==============================================================================
# ---- filesystem macros.
#
%_usr			/usr
%_var			/var
%_prefix		%{_usr}
%_exec_prefix		%{_prefix}
%_bindir		%{_exec_prefix}/bin
%_sbindir		%{_exec_prefix}/sbin
%_libdir		%{_exec_prefix}/%{_lib}
%_datadir		%{_prefix}/share
%_sysconfdir		/etc
%_localstatedir		/var
%_sharedstatedir	/var/lib

#==============================================================================
# ---- The rpm database.
#
#	The location of the rpm database file(s).
%_dbpath		%{_usr}/lib/sysimage/rpm

#	The database backend to use.
%_db_backend		sqlite

#	The directory where newly built binary packages will be written.
%_rpmdir		%{_topdir}/RPMS
%_topdir		%{getenv:HOME}/rpmbuild

# \endverbatim
#*/
"#;

const FEDORA_REPO: &str = r#"[fedora]
name=Fedora $releasever - $basearch
#baseurl=http://download.example/pub/fedora/linux/releases/$releasever/Everything/$basearch/os/
metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever&arch=$basearch
enabled=1
countme=1
metadata_expire=7d
repo_gpgcheck=0
type=rpm
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch
skip_if_unavailable=False

[fedora-source]
name=Fedora $releasever - Source
metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-source-$releasever&arch=$basearch
enabled=0
metadata_expire=7d
repo_gpgcheck=0
type=rpm
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch
skip_if_unavailable=False
"#;

const FEDORA_UPDATES_REPO: &str = r#"[updates]
name=Fedora $releasever - $basearch - Updates
#baseurl=http://download.example/pub/fedora/linux/updates/$releasever/Everything/$basearch/
metalink=https://mirrors.fedoraproject.org/metalink?repo=updates-released-f$releasever&arch=$basearch
enabled=1
countme=1
repo_gpgcheck=0
type=rpm
gpgcheck=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch
skip_if_unavailable=False
"#;

const ROCKY_REPO: &str = r#"# rocky.repo
#
# The mirrorlist system uses the connecting IP address of the client and the
# update status of each mirror to pick current mirrors that are geographically
# close to the client.  You should use this for Rocky updates unless you are
# manually picking other mirrors.
#
# If the mirrorlist does not work for you, you can try the commented out
# baseurl line instead.

[baseos]
name=Rocky Linux $releasever - BaseOS
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9

[appstream]
name=Rocky Linux $releasever - AppStream
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=AppStream-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/AppStream/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9
"#;

/// `/usr/bin/dnf-3` of dnf 4 (a Python entry point; never run).
const DNF_SCRIPT: &str = r#"#!/usr/bin/python3
# The dnf executable script.
#
# Copyright (C) 2012-2016 Red Hat, Inc.
#
# This copyrighted material is made available to anyone wishing to use,
# modify, copy, or redistribute it subject to the terms and conditions of
# the GNU General Public License v.2, or (at your option) any later version.

import sys


def suppress_keyboard_interrupt_message():
    """Prevent unsightly KeyboardInterrupt tracebacks."""
    old_excepthook = sys.excepthook

    def new_hook(type, value, traceback):
        if type != KeyboardInterrupt:
            old_excepthook(type, value, traceback)
        else:
            pass

    sys.excepthook = new_hook


# do this ASAP to prevent tracebacks after ^C during imports
suppress_keyboard_interrupt_message()

if __name__ != "__main__":
    sys.stderr.write('The executable DNF module must not be imported.')
    sys.exit(1)

here = sys.path[0]
if here != '/usr/bin':
    # git checkout
    import os
    dnf_toplevel = os.path.dirname(here)
    sys.path[0] = dnf_toplevel

from dnf.cli import main
main.user_main(sys.argv[1:], exit_code=True)
"#;
