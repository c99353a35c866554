//! The base system every guest has: the directory skeleton (usr-merged or not),
//! os-release and the distro's release files, hostname, hosts, fstab, users and
//! groups, machine-id, /boot, and the ELF programs architecture detection reads.

use super::distro::{Distro, Family};
use super::elf::x86_64_executable;
use super::tree::Tree;
use super::{FstabLine, GuestSpec, OsType};
use crate::error::MockDiskError;
use crate::rng::Rng;
use std::fmt::Write as _;

/// Write the base system.
pub(crate) fn write(tree: &mut Tree, d: &Distro, spec: &GuestSpec) -> Result<(), MockDiskError> {
    skeleton(tree, d)?;
    release_files(tree, d)?;
    identity(tree, d, spec)?;
    users(tree, d)?;
    boot(tree, d, spec.seed)?;
    programs(tree, d)?;
    Ok(())
}

fn skeleton(tree: &mut Tree, d: &Distro) -> Result<(), MockDiskError> {
    for (dir, mode) in [
        ("boot", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("home", 0o755),
        ("media", 0o755),
        ("mnt", 0o755),
        ("opt", 0o755),
        ("proc", 0o555),
        ("root", 0o700),
        ("run", 0o755),
        ("srv", 0o755),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("usr/bin", 0o755),
        ("usr/lib", 0o755),
        ("usr/include", 0o755),
        ("usr/share/doc", 0o755),
        ("usr/share/man", 0o755),
        ("usr/local/bin", 0o755),
        ("usr/local/lib", 0o755),
        ("usr/local/share", 0o755),
        ("usr/src", 0o755),
        ("var/cache", 0o755),
        ("var/lib", 0o755),
        ("var/log", 0o755),
        ("var/spool", 0o755),
        ("var/tmp", 0o1777),
        ("var/opt", 0o755),
        ("var/local", 0o755),
        ("var/mail", 0o2775),
    ] {
        tree.dir(dir, mode)?;
    }
    match d.os {
        OsType::Arch => {
            // Arch merges sbin into bin as well.
            tree.symlink("bin", "usr/bin")?;
            tree.symlink("sbin", "usr/bin")?;
            tree.symlink("lib", "usr/lib")?;
            tree.symlink("lib64", "usr/lib")?;
            tree.symlink("usr/sbin", "bin")?;
            tree.symlink("usr/lib64", "lib")?;
        }
        OsType::Alpine => {
            for dir in ["bin", "sbin", "lib", "usr/sbin"] {
                tree.dir(dir, 0o755)?;
            }
        }
        _ => {
            tree.dir("usr/sbin", 0o755)?;
            tree.dir("usr/lib64", 0o755)?;
            tree.symlink("bin", "usr/bin")?;
            tree.symlink("sbin", "usr/sbin")?;
            tree.symlink("lib", "usr/lib")?;
            tree.symlink("lib64", "usr/lib64")?;
        }
    }
    match d.family {
        Family::Deb => {
            tree.symlink("var/run", "/run")?;
            tree.symlink("var/lock", "/run/lock")?;
            tree.dir("var/backups", 0o755)?;
        }
        Family::Apk => {
            tree.symlink("var/run", "../run")?;
            tree.symlink("var/lock", "../run/lock")?;
            tree.dir("var/empty", 0o555)?;
        }
        _ => {
            tree.symlink("var/run", "../run")?;
            tree.symlink("var/lock", "../run/lock")?;
        }
    }
    if d.family != Family::Apk {
        tree.dir("var/log/journal", 0o2755)?;
    }
    tree.file("var/log/wtmp", "", 0o664)?;
    tree.file("var/log/btmp", "", 0o660)?;
    tree.file("var/log/lastlog", "", 0o664)?;
    Ok(())
}

fn release_files(tree: &mut Tree, d: &Distro) -> Result<(), MockDiskError> {
    tree.file("usr/lib/os-release", d.os_release, 0o644)?;
    tree.symlink("etc/os-release", "../usr/lib/os-release")?;
    match d.os {
        OsType::Ubuntu => {
            tree.file("etc/debian_version", "trixie/sid\n", 0o644)?;
            tree.file(
                "etc/lsb-release",
                "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=24.04\nDISTRIB_CODENAME=noble\n\
                 DISTRIB_DESCRIPTION=\"Ubuntu 24.04.1 LTS\"\n",
                0o644,
            )?;
            tree.file("etc/issue", "Ubuntu 24.04.1 LTS \\n \\l\n\n", 0o644)?;
            tree.file("etc/issue.net", "Ubuntu 24.04.1 LTS\n", 0o644)?;
        }
        OsType::Debian => {
            tree.file("etc/debian_version", "12.6\n", 0o644)?;
            tree.file("etc/issue", "Debian GNU/Linux 12 \\n \\l\n\n", 0o644)?;
            tree.file("etc/issue.net", "Debian GNU/Linux 12\n", 0o644)?;
        }
        OsType::Fedora => {
            tree.file(
                "usr/lib/fedora-release",
                "Fedora release 40 (Forty)\n",
                0o644,
            )?;
            tree.symlink("etc/fedora-release", "../usr/lib/fedora-release")?;
            tree.symlink("etc/redhat-release", "fedora-release")?;
            tree.symlink("etc/system-release", "fedora-release")?;
            tree.file(
                "usr/lib/system-release-cpe",
                "cpe:/o:fedoraproject:fedora:40\n",
                0o644,
            )?;
            tree.symlink("etc/system-release-cpe", "../usr/lib/system-release-cpe")?;
            tree.file("etc/issue", "\\S\nKernel \\r on an \\m (\\l)\n\n", 0o644)?;
            tree.file("etc/issue.net", "\\S\nKernel \\r on an \\m (\\l)\n", 0o644)?;
        }
        OsType::Rocky => {
            tree.file(
                "etc/rocky-release",
                "Rocky Linux release 9.4 (Blue Onyx)\n",
                0o644,
            )?;
            tree.file(
                "etc/rocky-release-upstream",
                "Derived from Red Hat Enterprise Linux 9.4\n",
                0o644,
            )?;
            tree.symlink("etc/redhat-release", "rocky-release")?;
            tree.symlink("etc/system-release", "rocky-release")?;
            tree.file(
                "etc/system-release-cpe",
                "cpe:/o:rocky:rocky:9::baseos\n",
                0o644,
            )?;
            tree.file("etc/issue", "\\S\nKernel \\r on an \\m\n\n", 0o644)?;
            tree.file("etc/issue.net", "\\S\nKernel \\r on an \\m\n", 0o644)?;
        }
        OsType::Alpine => {
            tree.file("etc/alpine-release", "3.20.3\n", 0o644)?;
            tree.file(
                "etc/issue",
                "Welcome to Alpine Linux 3.20\nKernel \\r on an \\m (\\l)\n\n",
                0o644,
            )?;
            tree.file(
                "etc/motd",
                "Welcome to Alpine!\n\nThe Alpine Wiki contains a large amount \
                                   of how-to guides and general\ninformation about administrating \
                                   Alpine systems.\nSee <https://wiki.alpinelinux.org/>.\n\
                                   \n",
                0o644,
            )?;
        }
        OsType::Arch => {
            tree.file("etc/arch-release", "", 0o644)?;
            tree.file("etc/issue", "Arch Linux \\r (\\l)\n\n", 0o644)?;
        }
    }
    Ok(())
}

/// The fstab text for `lines`, with the distro's usual header.
pub(crate) fn fstab(d: &Distro, lines: &[FstabLine]) -> String {
    let mut s = String::new();
    match d.family {
        Family::Deb => s.push_str(
            "# /etc/fstab: static file system information.\n#\n# Use 'blkid' to print the \
             universally unique identifier for a\n# device; this may be used with UUID= as a more \
             robust way to name devices\n# that works even if disks are added and removed. See \
             fstab(5).\n#\n# <file system> <mount point>   <type>  <options>       <dump>  \
             <pass>\n",
        ),
        Family::Rpm => s.push_str(
            "\n#\n# /etc/fstab\n#\n# Accessible filesystems, by reference, are maintained under \
             '/dev/disk/'.\n# See man pages fstab(5), findfs(8), mount(8) and/or blkid(8) for more \
             info.\n#\n# After editing this file, run 'systemctl daemon-reload' to update systemd\n\
             # units generated from this file.\n#\n",
        ),
        Family::Pacman => s.push_str(
            "# Static information about the filesystems.\n# See fstab(5) \
                                      for details.\n\n# <file system> <dir> <type> <options> \
                                      <dump> <pass>\n",
        ),
        Family::Apk => {}
    }
    for l in lines {
        let _ = writeln!(
            s,
            "{:<41} {:<15} {:<7} {:<15} 0 {}",
            l.spec, l.mountpoint, l.fs_type, l.options, l.pass
        );
    }
    s
}

fn identity(tree: &mut Tree, d: &Distro, spec: &GuestSpec) -> Result<(), MockDiskError> {
    let h = &spec.hostname;
    tree.file("etc/hostname", format!("{h}\n"), 0o644)?;
    let hosts = match d.family {
        Family::Deb => format!(
            "127.0.0.1\tlocalhost\n127.0.1.1\t{h}\n\n# The following lines are \
                                desirable for IPv6 capable hosts\n::1     ip6-localhost \
                                ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\n\
                                ff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
        ),
        Family::Rpm => format!(
            "127.0.0.1   localhost localhost.localdomain localhost4 \
                                localhost4.localdomain4\n::1         localhost \
                                localhost.localdomain localhost6 localhost6.localdomain6\n\
                                127.0.1.1   {h}\n"
        ),
        Family::Apk => format!(
            "127.0.0.1\tlocalhost localhost.localdomain\n::1\t\tlocalhost \
                                localhost.localdomain\n127.0.1.1\t{h}\n"
        ),
        Family::Pacman => format!(
            "# Static table lookup for hostnames.\n# See hosts(5) for \
                                   details.\n127.0.0.1\tlocalhost\n::1\t\tlocalhost\n\
                                   127.0.1.1\t{h}\n"
        ),
    };
    tree.file("etc/hosts", hosts, 0o644)?;
    tree.file("etc/fstab", fstab(d, &spec.fstab), 0o644)?;
    if d.family != Family::Apk {
        // systemd's machine-id: 32 lowercase hex digits and a newline.
        let mut rng = Rng::derive(spec.seed, "machine-id");
        let id: String = rng.bytes16().iter().map(|b| format!("{b:02x}")).collect();
        tree.file("etc/machine-id", format!("{id}\n"), 0o444)?;
    }
    match d.family {
        Family::Deb => {
            tree.file("etc/timezone", "Etc/UTC\n", 0o644)?;
            tree.symlink("etc/localtime", "/usr/share/zoneinfo/Etc/UTC")?;
        }
        Family::Apk => {}
        _ => tree.symlink("etc/localtime", "../usr/share/zoneinfo/UTC")?,
    }
    if d.os == OsType::Ubuntu || d.os == OsType::Fedora {
        tree.symlink("etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf")?;
    } else {
        tree.file("etc/resolv.conf", "nameserver 10.0.2.3\n", 0o644)?;
    }
    let shells = match d.family {
        Family::Apk => "# valid login shells\n/bin/sh\n/bin/ash\n",
        Family::Pacman => {
            "#\n# /etc/shells\n#\n\n/bin/sh\n/bin/bash\n/usr/bin/sh\n\
                           /usr/bin/bash\n\n# End of file\n"
        }
        Family::Deb => {
            "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n\
                        /usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n"
        }
        Family::Rpm => "/bin/sh\n/bin/bash\n/usr/bin/sh\n/usr/bin/bash\n",
    };
    tree.file("etc/shells", shells, 0o644)?;
    Ok(())
}

fn users(tree: &mut Tree, d: &Distro) -> Result<(), MockDiskError> {
    let u = d.user;
    let (passwd, group, shadow_mode): (String, String, u32) = match d.family {
        Family::Deb => (
            format!(
                "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                 bin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n\
                 sync:x:4:65534:sync:/bin:/bin/sync\n\
                 games:x:5:60:games:/usr/games:/usr/sbin/nologin\n\
                 man:x:6:12:man:/var/cache/man:/usr/sbin/nologin\n\
                 lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n\
                 mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\n\
                 news:x:9:9:news:/var/spool/news:/usr/sbin/nologin\n\
                 uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin\n\
                 proxy:x:13:13:proxy:/bin:/usr/sbin/nologin\n\
                 www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
                 backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\nlist:x:38:38:Mailing List \
                 Manager:/var/list:/usr/sbin/nologin\n\
                 irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin\n\
                 _apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                 systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n\
                 systemd-timesync:x:997:997:systemd Time Synchronization:/:/usr/sbin/nologin\n\
                 messagebus:x:100:102::/nonexistent:/usr/sbin/nologin\n\
                 sshd:x:101:65534::/run/sshd:/usr/sbin/nologin\n\
                 {u}:x:1000:1000:{g}:/home/{u}:/bin/bash\n",
                g = d.user_gecos
            ),
            format!(
                "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:{u}\ntty:x:5:\ndisk:x:6:\n\
                 lp:x:7:\nmail:x:8:\nnews:x:9:\nuucp:x:10:\nman:x:12:\nproxy:x:13:\nkmem:x:15:\n\
                 dialout:x:20:\nfax:x:21:\nvoice:x:22:\ncdrom:x:24:{u}\nfloppy:x:25:\ntape:x:26:\n\
                 sudo:x:27:{u}\naudio:x:29:\ndip:x:30:{u}\nwww-data:x:33:\nbackup:x:34:\n\
                 operator:x:37:\nlist:x:38:\nirc:x:39:\nsrc:x:40:\nshadow:x:42:\nutmp:x:43:\n\
                 video:x:44:\nsasl:x:45:\nplugdev:x:46:\nstaff:x:50:\ngames:x:60:\n\
                 users:x:100:{u}\nnogroup:x:65534:\nsystemd-journal:x:999:\n\
                 systemd-network:x:998:\nsystemd-timesync:x:997:\ninput:x:101:\nmessagebus:x:102:\n\
                 {u}:x:1000:\n"
            ),
            0o640,
        ),
        Family::Rpm => (
            format!(
                "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n\
                 daemon:x:2:2:daemon:/sbin:/sbin/nologin\nadm:x:3:4:adm:/var/adm:/sbin/nologin\n\
                 lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin\nsync:x:5:0:sync:/sbin:/bin/sync\n\
                 shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown\nhalt:x:7:0:halt:/sbin:/sbin/halt\n\
                 mail:x:8:12:mail:/var/spool/mail:/sbin/nologin\n\
                 operator:x:11:0:operator:/root:/sbin/nologin\n\
                 games:x:12:100:games:/usr/games:/sbin/nologin\nftp:x:14:50:FTP \
                 User:/var/ftp:/sbin/nologin\nnobody:x:65534:65534:Kernel Overflow \
                 User:/:/sbin/nologin\ndbus:x:81:81:System message bus:/:/sbin/nologin\n\
                 tss:x:59:59:Account used for TPM access:/:/usr/sbin/nologin\n\
                 systemd-coredump:x:999:997:systemd Core Dumper:/:/sbin/nologin\n\
                 sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin\n\
                 chrony:x:998:996:chrony system user:/var/lib/chrony:/sbin/nologin\n\
                 {u}:x:1000:1000:{g}:/home/{u}:/bin/bash\n",
                g = d.user_gecos
            ),
            format!(
                "root:x:0:\nbin:x:1:\ndaemon:x:2:\nsys:x:3:\nadm:x:4:{u}\ntty:x:5:\ndisk:x:6:\n\
                 lp:x:7:\nmem:x:8:\nkmem:x:9:\nwheel:x:10:{u}\ncdrom:x:11:\nmail:x:12:\nman:x:15:\n\
                 dialout:x:18:\nfloppy:x:19:\ngames:x:20:\ntape:x:33:\nvideo:x:39:\nftp:x:50:\n\
                 lock:x:54:\naudio:x:63:\nusers:x:100:\nnobody:x:65534:\nutmp:x:22:\n\
                 utempter:x:35:\ninput:x:999:\nsystemd-journal:x:190:\ndbus:x:81:\ntss:x:59:\n\
                 systemd-coredump:x:997:\nsshd:x:74:\nchrony:x:996:\n{u}:x:1000:\n"
            ),
            0o000,
        ),
        Family::Apk => (
            format!(
                "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n\
                 daemon:x:2:2:daemon:/sbin:/sbin/nologin\n\
                 lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin\nsync:x:5:0:sync:/sbin:/bin/sync\n\
                 shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown\nhalt:x:7:0:halt:/sbin:/sbin/halt\n\
                 mail:x:8:12:mail:/var/mail:/sbin/nologin\n\
                 news:x:9:13:news:/usr/lib/news:/sbin/nologin\n\
                 uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin\n\
                 cron:x:16:16:cron:/var/spool/cron:/sbin/nologin\n\
                 ftp:x:21:21::/var/lib/ftp:/sbin/nologin\n\
                 sshd:x:22:22:sshd:/dev/null:/sbin/nologin\n\
                 games:x:35:35:games:/usr/games:/sbin/nologin\n\
                 ntp:x:123:123:NTP:/var/empty:/sbin/nologin\n\
                 guest:x:405:100:guest:/dev/null:/sbin/nologin\n\
                 nobody:x:65534:65534:nobody:/:/sbin/nologin\n\
                 chrony:x:100:101:chrony:/var/log/chrony:/sbin/nologin\n\
                 {u}:x:1000:1000:{g}:/home/{u}:/bin/sh\n",
                g = d.user_gecos
            ),
            format!(
                "root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\n\
                 sys:x:3:root,bin\nadm:x:4:root,daemon\ntty:x:5:\ndisk:x:6:root\nlp:x:7:lp\n\
                 kmem:x:9:\nwheel:x:10:root,{u}\nfloppy:x:11:root\nmail:x:12:mail\nnews:x:13:news\n\
                 uucp:x:14:uucp\ncron:x:16:cron\nconsole:x:17:\naudio:x:18:\ncdrom:x:19:\n\
                 dialout:x:20:root\nftp:x:21:\nsshd:x:22:\ninput:x:23:\ntape:x:26:root\n\
                 video:x:27:root\nnetdev:x:28:\nkvm:x:34:kvm\ngames:x:35:\nshadow:x:42:\n\
                 www-data:x:82:\nusers:x:100:games\nchrony:x:101:chrony\nntp:x:123:\n\
                 abuild:x:300:\nutmp:x:406:\nping:x:999:\nnogroup:x:65533:\nnobody:x:65534:\n\
                 {u}:x:1000:{u}\n"
            ),
            0o640,
        ),
        Family::Pacman => (
            format!(
                "root:x:0:0::/root:/usr/bin/bash\nbin:x:1:1::/:/usr/bin/nologin\n\
                 daemon:x:2:2::/:/usr/bin/nologin\nmail:x:8:12::/var/spool/mail:/usr/bin/nologin\n\
                 ftp:x:14:11::/srv/ftp:/usr/bin/nologin\nhttp:x:33:33::/srv/http:/usr/bin/nologin\n\
                 nobody:x:65534:65534:Kernel Overflow User:/:/usr/bin/nologin\ndbus:x:81:81:System \
                 Message Bus:/:/usr/bin/nologin\nsystemd-coredump:x:984:984:systemd Core \
                 Dumper:/:/usr/bin/nologin\nsystemd-network:x:982:982:systemd Network \
                 Management:/:/usr/bin/nologin\nsystemd-resolve:x:981:981:systemd \
                 Resolver:/:/usr/bin/nologin\nsystemd-timesync:x:980:980:systemd Time \
                 Synchronization:/:/usr/bin/nologin\n{u}:x:1000:1000:{g}:/home/{u}:/bin/bash\n",
                g = d.user_gecos
            ),
            format!(
                "root:x:0:root\nsys:x:3:bin\nmem:x:8:\nftp:x:11:\nmail:x:12:\nlog:x:19:\n\
                 smmsp:x:25:\nproc:x:26:\ngames:x:50:\nlock:x:54:\nnetwork:x:90:\nfloppy:x:94:\n\
                 scanner:x:96:\npower:x:98:\nadm:x:999:daemon\nwheel:x:998:{u}\nutmp:x:997:\n\
                 audio:x:996:\ndisk:x:995:\ninput:x:994:\nkmem:x:993:\nkvm:x:992:\nlp:x:991:\n\
                 optical:x:990:\nrender:x:989:\nstorage:x:987:\ntty:x:5:\nuucp:x:986:\n\
                 video:x:985:\nusers:x:984:\nnobody:x:65534:\ndbus:x:81:\n{u}:x:1000:\n"
            ),
            0o600,
        ),
    };
    let days = d.epoch_time / 86_400;
    let mut shadow = String::new();
    let mut gshadow = String::new();
    for line in passwd.lines() {
        let name = line.split(':').next().unwrap_or("");
        let pw = if name == "root" { "*" } else { "!" };
        let _ = writeln!(shadow, "{name}:{pw}:{days}:0:99999:7:::");
    }
    for line in group.lines() {
        let mut f = line.split(':');
        let name = f.next().unwrap_or("");
        let members = f.nth(2).unwrap_or("");
        let _ = writeln!(gshadow, "{name}:!::{members}");
    }
    tree.file("etc/passwd", passwd, 0o644)?;
    tree.file("etc/group", group, 0o644)?;
    tree.file("etc/shadow", shadow, shadow_mode)?;
    tree.file("etc/gshadow", gshadow, shadow_mode)?;
    let profile = "# ~/.profile: executed by the command interpreter for login shells.\nif [ \
                   -n \"$BASH_VERSION\" ] && [ -f \"$HOME/.bashrc\" ]; then\n    \
                   . \"$HOME/.bashrc\"\nfi\nif [ -d \"$HOME/.local/bin\" ] ; then\n    \
                   PATH=\"$HOME/.local/bin:$PATH\"\nfi\n";
    let bashrc = "# ~/.bashrc: executed by bash(1) for non-login shells.\ncase $- in\n    *i*) \
                  ;;\n      *) return;;\nesac\nHISTCONTROL=ignoreboth\nHISTSIZE=1000\n\
                  HISTFILESIZE=2000\nshopt -s checkwinsize\nalias ls='ls --color=auto'\nalias \
                  ll='ls -alF'\n";
    let home = format!("home/{u}");
    tree.dir(
        &home,
        if d.family == Family::Deb {
            0o750
        } else {
            0o700
        },
    )?;
    tree.file(&format!("{home}/.profile"), profile, 0o644)?;
    tree.file("root/.profile", profile, 0o644)?;
    if d.family != Family::Apk {
        tree.file(&format!("{home}/.bashrc"), bashrc, 0o644)?;
        tree.file(
            &format!("{home}/.bash_logout"),
            "# ~/.bash_logout: executed by bash(1) when login shell exits.\n",
            0o644,
        )?;
        tree.file("root/.bashrc", bashrc, 0o644)?;
        tree.file("etc/skel/.bashrc", bashrc, 0o644)?;
        tree.file("etc/skel/.profile", profile, 0o644)?;
    }
    tree.dir(&format!("{home}/.ssh"), 0o700)?;
    tree.file(
        &format!("{home}/.ssh/authorized_keys"),
        format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestctlMockDiskKeyNotARealKeyAAAAAAAAAAAA \
                 {u}@workstation\n"
        ),
        0o600,
    )?;
    Ok(())
}

/// A minimal x86 bzImage boot header carrying the kernel version string, as `file`
/// reads it (boot signature, "HdrS", version pointer), padded to 4 KiB.
fn kernel_image(version: &str) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    b[0x1f2] = 0x01; // root_flags: mount the root read-only
    b[0x1fe] = 0x55;
    b[0x1ff] = 0xaa;
    b[0x202..0x206].copy_from_slice(b"HdrS");
    b[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    // kernel_version: offset of the string minus 0x200.
    b[0x20e..0x210].copy_from_slice(&0x0200u16.to_le_bytes());
    b[0x211] = 0x01; // loadflags: LOADED_HIGH, i.e. a bzImage
    let s = version.as_bytes();
    let n = s.len().min(4096 - 0x400 - 1);
    b[0x400..0x400 + n].copy_from_slice(&s[..n]);
    b
}

/// An empty initramfs: a newc cpio archive holding only its `TRAILER!!!`.
fn initramfs() -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    b.extend_from_slice(b"070701");
    for field in [0u32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0] {
        b.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    b.extend_from_slice(b"TRAILER!!!\0");
    b.resize(512, 0);
    b
}

fn boot(tree: &mut Tree, d: &Distro, seed: u64) -> Result<(), MockDiskError> {
    let k = d.kernel;
    let banner = match d.os {
        OsType::Ubuntu => format!(
            "{k} (buildd@lcy02-amd64-100) #41-Ubuntu SMP PREEMPT_DYNAMIC Fri \
                                   Aug  2 20:41:06 UTC 2024"
        ),
        OsType::Debian => format!(
            "{k} (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC \
                                   Debian 6.1.94-1 (2024-06-21)"
        ),
        OsType::Fedora => format!(
            "{k} (mockbuild@c6a4b0b2f8d5414c8a0f8b0e3b2a1d6f) #1 SMP \
                                   PREEMPT_DYNAMIC Thu Apr 11 18:25:26 UTC 2024"
        ),
        OsType::Rocky => format!(
            "{k} (mockbuild@iad1-prod-build001.bld.equ.rockylinux.org) #1 SMP \
                                  PREEMPT_DYNAMIC Wed May 1 19:11:28 UTC 2024"
        ),
        OsType::Alpine => format!(
            "{k} (buildozer@build-3-20-x86_64) #1-Alpine SMP PREEMPT_DYNAMIC \
                                   2024-09-04 14:28:21"
        ),
        OsType::Arch => format!(
            "{k} (linux@archlinux) #1 SMP PREEMPT_DYNAMIC Thu, 12 Sep 2024 \
                                 17:21:02 +0000"
        ),
    };
    let image = kernel_image(&banner);
    let config = format!(
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 {k} Kernel \
                          Configuration\n#\nCONFIG_64BIT=y\nCONFIG_X86_64=y\nCONFIG_EXT4_FS=y\n\
                          CONFIG_VFAT_FS=m\n"
    );
    let sysmap = "ffffffff81000000 T _text\nffffffff81000000 T startup_64\nffffffff81000070 T \
                  secondary_startup_64\n";
    match d.os {
        OsType::Ubuntu | OsType::Debian => {
            tree.file(&format!("boot/vmlinuz-{k}"), &image, 0o600)?;
            tree.file(&format!("boot/initrd.img-{k}"), initramfs(), 0o644)?;
            tree.file(&format!("boot/config-{k}"), &config, 0o644)?;
            tree.file(&format!("boot/System.map-{k}"), sysmap, 0o600)?;
            if d.os == OsType::Ubuntu {
                tree.symlink("boot/vmlinuz", &format!("vmlinuz-{k}"))?;
                tree.symlink("boot/initrd.img", &format!("initrd.img-{k}"))?;
            } else {
                tree.symlink("vmlinuz", &format!("boot/vmlinuz-{k}"))?;
                tree.symlink("initrd.img", &format!("boot/initrd.img-{k}"))?;
            }
            tree.file(
                "boot/grub/grub.cfg",
                grub_cfg(
                    d,
                    &format!("/boot/vmlinuz-{k}"),
                    &format!("/boot/initrd.img-{k}"),
                ),
                0o444,
            )?;
        }
        OsType::Fedora | OsType::Rocky => {
            tree.file(&format!("boot/vmlinuz-{k}"), &image, 0o755)?;
            tree.file(&format!("boot/initramfs-{k}.img"), initramfs(), 0o600)?;
            tree.file(&format!("boot/config-{k}"), &config, 0o644)?;
            tree.file(&format!("boot/System.map-{k}"), sysmap, 0o644)?;
            let mut rng = Rng::derive(seed, "machine-id");
            let id: String = rng.bytes16().iter().map(|b| format!("{b:02x}")).collect();
            let title = if d.os == OsType::Fedora {
                "Fedora Linux (6.8.5-301.fc40.x86_64) 40 (Cloud Edition)"
            } else {
                "Rocky Linux (5.14.0-427.13.1.el9_4.x86_64) 9.4 (Blue Onyx)"
            };
            tree.file(
                &format!("boot/loader/entries/{id}-{k}.conf"),
                format!(
                    "title {title}\nversion {k}\nlinux /boot/vmlinuz-{k}\ninitrd \
                         /boot/initramfs-{k}.img\noptions root=UUID=auto ro console=tty0 \
                         console=ttyS0,115200n8\ngrub_users $grub_users\ngrub_arg --unrestricted\n\
                         grub_class kernel\n"
                ),
                0o644,
            )?;
            tree.file("boot/grub2/grubenv", grubenv(k), 0o600)?;
        }
        OsType::Alpine => {
            tree.file("boot/vmlinuz-lts", &image, 0o644)?;
            tree.file("boot/initramfs-lts", initramfs(), 0o644)?;
            tree.file("boot/config-lts", &config, 0o644)?;
            tree.file("boot/System.map-lts", sysmap, 0o644)?;
            tree.file(
                "boot/grub/grub.cfg",
                grub_cfg(d, "/boot/vmlinuz-lts", "/boot/initramfs-lts"),
                0o644,
            )?;
        }
        OsType::Arch => {
            tree.file("boot/vmlinuz-linux", &image, 0o644)?;
            tree.file("boot/initramfs-linux.img", initramfs(), 0o600)?;
            tree.file("boot/initramfs-linux-fallback.img", initramfs(), 0o600)?;
            tree.file(
                "boot/grub/grub.cfg",
                grub_cfg(d, "/boot/vmlinuz-linux", "/boot/initramfs-linux.img"),
                0o600,
            )?;
        }
    }
    tree.dir("boot/efi", 0o755)?;
    Ok(())
}

fn grub_cfg(d: &Distro, linux: &str, initrd: &str) -> String {
    format!(
        "#\n# DO NOT EDIT THIS FILE\n#\n# It is automatically generated by grub-mkconfig using \
         templates\n# from /etc/grub.d and settings from /etc/default/grub\n#\n\nset timeout=5\n\
         set default=0\n\nmenuentry '{}' --class gnu-linux --class gnu --class os {{\n\tinsmod \
         part_gpt\n\tinsmod ext2\n\tsearch --no-floppy --label --set=root \
         cloudimg-rootfs\n\tlinux\t{linux} root=LABEL=cloudimg-rootfs ro console=tty1 \
         console=ttyS0\n\tinitrd\t{initrd}\n}}\n",
        d.pretty_name
    )
}

/// grubenv is exactly 1024 bytes, padded with '#'.
fn grubenv(kernel: &str) -> Vec<u8> {
    let mut s = format!(
        "# GRUB Environment Block\n# WARNING: Do not edit this file by tools other \
                         than grub-editenv!!!\nsaved_entry={kernel}\n\
                         boot_success=0\n"
    )
    .into_bytes();
    s.resize(1024, b'#');
    s
}

fn programs(tree: &mut Tree, d: &Distro) -> Result<(), MockDiskError> {
    let compiler = match d.os {
        OsType::Ubuntu => "GCC: (Ubuntu 13.2.0-23ubuntu4) 13.2.0",
        OsType::Debian => "GCC: (Debian 12.2.0-14) 12.2.0",
        OsType::Fedora => "GCC: (GNU) 14.0.1 20240411 (Red Hat 14.0.1-0)",
        OsType::Rocky => "GCC: (GNU) 11.4.1 20231218 (Red Hat 11.4.1-3)",
        OsType::Alpine => "GCC: (Alpine 13.2.1_git20240309) 13.2.1 20240309",
        OsType::Arch => "GCC: (GNU) 14.2.1 20240805",
    };
    if d.family == Family::Apk {
        tree.file(
            "bin/busybox",
            x86_64_executable(&format!("BusyBox v1.36.1 {compiler}")),
            0o755,
        )?;
        for applet in [
            "sh", "ash", "ls", "cat", "echo", "rm", "cp", "mv", "mkdir", "mount", "umount", "grep",
            "sed", "ps", "vi",
        ] {
            tree.symlink(&format!("bin/{applet}"), "/bin/busybox")?;
        }
        for applet in ["ifconfig", "init", "reboot", "poweroff", "syslogd"] {
            tree.symlink(&format!("sbin/{applet}"), "/bin/busybox")?;
        }
        tree.file(
            "sbin/apk",
            x86_64_executable(&format!("apk-tools 2.14.4 {compiler}")),
            0o755,
        )?;
        tree.file(
            "lib/ld-musl-x86_64.so.1",
            x86_64_executable(&format!("musl libc 1.2.5 {compiler}")),
            0o755,
        )?;
        tree.symlink("lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1")?;
        let profile =
            "export PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n\
                       export PAGER=less\numask 022\n";
        tree.file("etc/profile", profile, 0o644)?;
        return Ok(());
    }
    for prog in [
        "bash", "ls", "cat", "echo", "rm", "cp", "mv", "mkdir", "mount", "grep", "sed",
    ] {
        tree.file(
            &format!("usr/bin/{prog}"),
            x86_64_executable(&format!("{prog} {compiler}")),
            0o755,
        )?;
    }
    let sbin = if d.os == OsType::Arch {
        "usr/bin"
    } else {
        "usr/sbin"
    };
    tree.file(
        &format!("{sbin}/nologin"),
        x86_64_executable(&format!("nologin {compiler}")),
        0o755,
    )?;
    if d.family == Family::Deb {
        tree.file(
            "usr/bin/dash",
            x86_64_executable(&format!("dash {compiler}")),
            0o755,
        )?;
        tree.symlink("usr/bin/sh", "dash")?;
        tree.symlink("usr/bin/rbash", "bash")?;
        tree.file(
            "usr/lib/x86_64-linux-gnu/libc.so.6",
            x86_64_executable(&format!("GNU C Library {compiler}")),
            0o755,
        )?;
        tree.file(
            "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            x86_64_executable(&format!("ld.so {compiler}")),
            0o755,
        )?;
        tree.symlink(
            "usr/lib64/ld-linux-x86-64.so.2",
            "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        )?;
        tree.file(
            "etc/bash.bashrc",
            "# System-wide .bashrc file for interactive bash(1) shells.\n\
                                      [ -z \"$PS1\" ] && return\nshopt -s checkwinsize\n",
            0o644,
        )?;
    } else {
        tree.symlink("usr/bin/sh", "bash")?;
        let libdir = if d.os == OsType::Arch {
            "usr/lib"
        } else {
            "usr/lib64"
        };
        tree.file(
            &format!("{libdir}/libc.so.6"),
            x86_64_executable(&format!("GNU C Library {compiler}")),
            0o755,
        )?;
        tree.file(
            &format!("{libdir}/ld-linux-x86-64.so.2"),
            x86_64_executable(&format!("ld.so {compiler}")),
            0o755,
        )?;
        let rc = if d.os == OsType::Arch {
            "etc/bash.bashrc"
        } else {
            "etc/bashrc"
        };
        tree.file(
            rc,
            "# /etc/bashrc\n\n# System wide functions and aliases\n# Environment stuff \
                       goes in /etc/profile\n",
            0o644,
        )?;
    }
    let profile = "# /etc/profile: system-wide .profile file for the Bourne shell (sh(1))\n\
                   if [ \"$(id -u)\" -eq 0 ]; then\n  \
                   PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n\
                   else\n  PATH=\"/usr/local/bin:/usr/bin:/bin\"\nfi\nexport PATH\n";
    tree.file("etc/profile", profile, 0o644)?;
    Ok(())
}
