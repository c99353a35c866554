//! Alpine's apk database, `/lib/apk/db/installed`: one block of `X:value` lines per
//! package, blocks separated by a blank line, as apk-tools 2 writes it; plus
//! `/etc/apk/{world,repositories,arch}`.

use super::distro::{Distro, Family};
use super::names::Pkg;
use super::tree::Tree;
use crate::error::MockDiskError;
use crate::rng::Rng;
use std::fmt::Write as _;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An apk "Q1" checksum (base64 of a 20-byte SHA-1), here random but deterministic.
fn q1(rng: &mut Rng) -> String {
    let a = rng.bytes16();
    let b = rng.next_u64().to_le_bytes();
    let mut sha = [0u8; 20];
    sha[..16].copy_from_slice(&a);
    sha[16..].copy_from_slice(&b[..4]);
    format!("Q1{}", base64(&sha))
}

fn hex(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let _ = write!(s, "{:02x}", rng.below(256));
    }
    s
}

/// The `installed` file for `pkgs` (in install order, as apk keeps it).
pub(crate) fn installed(distro: &Distro, pkgs: &[Pkg], seed: u64) -> String {
    let mut rng = Rng::derive(seed, "apk-installed");
    let mut s = String::with_capacity(pkgs.len() * 500);
    for p in pkgs {
        let _ = writeln!(s, "C:{}", q1(&mut rng));
        let _ = writeln!(s, "P:{}", p.name);
        let _ = writeln!(s, "V:{}", p.full_version());
        let _ = writeln!(s, "A:{}", p.arch);
        let _ = writeln!(s, "S:{}", p.size / 3 + rng.below(4096));
        let _ = writeln!(s, "I:{}", p.size);
        let _ = writeln!(s, "T:{}", p.summary);
        let _ = writeln!(s, "U:{}", p.url);
        let _ = writeln!(s, "L:{}", p.license);
        let _ = writeln!(s, "o:{}", p.source);
        let _ = writeln!(s, "m:{}", distro.maintainer);
        let _ = writeln!(s, "t:{}", p.build_time);
        let _ = writeln!(s, "c:{}", hex(&mut rng, 20));
        if !p.depends.is_empty() {
            let _ = writeln!(s, "D:{}", p.depends.join(" "));
        }
        if p.is_lib {
            let stem = p.name.trim_end_matches("-libs");
            let _ = writeln!(
                s,
                "p:so:lib{stem}.so.{}={}",
                p.version.split('.').next().unwrap_or("1"),
                p.version
            );
        }
        match p.name.as_str() {
            "busybox" => {
                s.push_str("F:bin\nR:busybox\na:0:0:755\n");
                let _ = writeln!(s, "Z:{}", q1(&mut rng));
            }
            "musl" => {
                s.push_str("F:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\n");
                let _ = writeln!(s, "Z:{}", q1(&mut rng));
                s.push_str("R:libc.musl-x86_64.so.1\na:0:0:777\n");
                let _ = writeln!(s, "Z:{}", q1(&mut rng));
            }
            _ => {
                let _ = writeln!(s, "F:usr/share/licenses/{}", p.name);
                s.push_str("R:LICENSE\n");
                let _ = writeln!(s, "Z:{}", q1(&mut rng));
            }
        }
        s.push('\n');
    }
    s
}

/// Write the apk database and configuration.
pub(crate) fn write(
    tree: &mut Tree,
    distro: &Distro,
    pkgs: &[Pkg],
    seed: u64,
) -> Result<(), MockDiskError> {
    debug_assert_eq!(distro.family, Family::Apk);
    tree.file("lib/apk/db/installed", installed(distro, pkgs, seed), 0o644)?;
    tree.file("lib/apk/db/lock", "", 0o600)?;
    tree.file("lib/apk/db/triggers", "", 0o644)?;
    tree.file("lib/apk/db/scripts.tar", [0u8; 1024], 0o644)?;
    tree.dir("lib/apk/exec", 0o755)?;
    // The world file lists what the admin asked for: the top-level packages.
    let mut world: Vec<&str> = pkgs
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| {
            [
                "alpine-base",
                "openssh-server",
                "chrony",
                "linux-lts",
                "e2fsprogs",
                "doas",
                "curl",
                "grub-efi",
            ]
            .contains(n)
        })
        .collect();
    if world.is_empty() {
        world.extend(pkgs.iter().take(3).map(|p| p.name.as_str()));
    }
    world.sort_unstable();
    let mut w = world.join("\n");
    if !w.is_empty() {
        w.push('\n');
    }
    tree.file("etc/apk/world", w, 0o644)?;
    tree.file("etc/apk/arch", "x86_64\n", 0o644)?;
    tree.file(
        "etc/apk/repositories",
        "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n\
         https://dl-cdn.alpinelinux.org/alpine/v3.20/community\n",
        0o644,
    )?;
    tree.dir("etc/apk/keys", 0o755)?;
    tree.dir("etc/apk/protected_paths.d", 0o755)?;
    tree.dir("var/cache/apk", 0o755)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    #[test]
    fn base64_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff; 20]).len(), 28);
    }
}
