//! A minimal but valid x86-64 ELF executable, built byte by byte, so that tools
//! detecting a guest's architecture from `/bin/bash` or `/bin/ls` (libguestfs runs
//! `file` on them) see a real `ELF 64-bit LSB pie executable, x86-64`.
//!
//! Layout: ELF header (64 bytes), two program headers (PT_LOAD covering the whole
//! file, read+execute; PT_GNU_STACK, read+write), then position-independent code that
//! calls `exit(0)`, then an identification string like a `.comment` section's.

/// `e_machine` for x86-64.
pub(crate) const EM_X86_64: u16 = 62;
/// `e_type` for a position-independent executable.
pub(crate) const ET_DYN: u16 = 3;
const EHDR_LEN: usize = 64;
const PHDR_LEN: usize = 56;
const PHNUM: usize = 2;
const PT_LOAD: u32 = 1;
const PT_GNU_STACK: u32 = 0x6474_e551;

/// `xor edi, edi; mov eax, 60 (exit); syscall`.
const CODE: [u8; 9] = [0x31, 0xff, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05];

/// An x86-64 executable that exits with status 0; `ident` is embedded after the
/// code (the compiler/distro string) so that different programs differ.
pub(crate) fn x86_64_executable(ident: &str) -> Vec<u8> {
    let code_offset = EHDR_LEN + PHDR_LEN * PHNUM;
    let mut out = Vec::with_capacity(code_offset + CODE.len() + ident.len() + 1);
    let total = (code_offset + CODE.len() + ident.len() + 1) as u64;
    // e_ident
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F']);
    out.push(2); // EI_CLASS: ELFCLASS64
    out.push(1); // EI_DATA: little-endian
    out.push(1); // EI_VERSION
    out.push(0); // EI_OSABI: System V
    out.extend_from_slice(&[0; 8]); // EI_ABIVERSION + padding
    out.extend_from_slice(&ET_DYN.to_le_bytes());
    out.extend_from_slice(&EM_X86_64.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // e_version
    out.extend_from_slice(&(code_offset as u64).to_le_bytes()); // e_entry (vaddr == offset)
    out.extend_from_slice(&(EHDR_LEN as u64).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no section headers
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&(EHDR_LEN as u16).to_le_bytes()); // e_ehsize
    out.extend_from_slice(&(PHDR_LEN as u16).to_le_bytes()); // e_phentsize
    out.extend_from_slice(&(PHNUM as u16).to_le_bytes()); // e_phnum
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    debug_assert_eq!(out.len(), EHDR_LEN);
    // PT_LOAD: the whole file at vaddr 0, R+X.
    phdr(&mut out, PT_LOAD, 5, 0, total, 0x1000);
    // PT_GNU_STACK: non-executable stack, R+W.
    phdr(&mut out, PT_GNU_STACK, 6, 0, 0, 16);
    out.extend_from_slice(&CODE);
    out.extend_from_slice(ident.as_bytes());
    out.push(0);
    out
}

fn phdr(out: &mut Vec<u8>, p_type: u32, flags: u32, offset: u64, size: u64, align: u64) {
    out.extend_from_slice(&p_type.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes()); // p_offset
    out.extend_from_slice(&offset.to_le_bytes()); // p_vaddr
    out.extend_from_slice(&offset.to_le_bytes()); // p_paddr
    out.extend_from_slice(&size.to_le_bytes()); // p_filesz
    out.extend_from_slice(&size.to_le_bytes()); // p_memsz
    out.extend_from_slice(&align.to_le_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes([b[o], b[o + 1]])
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn header_fields() {
        let e = x86_64_executable("GCC: (test) 1.0");
        assert_eq!(&e[..4], b"\x7fELF");
        assert_eq!(e[4], 2, "ELFCLASS64");
        assert_eq!(e[5], 1, "little-endian");
        assert_eq!(e[6], 1);
        assert_eq!(u16_at(&e, 16), ET_DYN);
        assert_eq!(u16_at(&e, 18), EM_X86_64);
        assert_eq!(u64_at(&e, 32), 64, "e_phoff");
        assert_eq!(u16_at(&e, 54), 56, "e_phentsize");
        assert_eq!(u16_at(&e, 56), 2, "e_phnum");
        let entry = usize::try_from(u64_at(&e, 24)).unwrap();
        assert_eq!(&e[entry..entry + CODE.len()], &CODE);
        // PT_LOAD covers the file.
        assert_eq!(u32::from_le_bytes(e[64..68].try_into().unwrap()), PT_LOAD);
        assert_eq!(u64_at(&e, 64 + 32), e.len() as u64);
        assert!(e.ends_with(b"GCC: (test) 1.0\0"));
    }

    /// The executable really runs (and exits 0) on an x86-64 Linux host.
    #[test]
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    fn runs_on_x86_64() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("true");
        std::fs::write(&p, x86_64_executable("test")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test thread forking while the file was open for writing can make
        // exec fail with ETXTBSY for a moment; retry a few times.
        let mut result = std::process::Command::new(&p).status();
        for _ in 0..20 {
            match &result {
                Err(e) if e.raw_os_error() == Some(26) => {
                    result = std::process::Command::new(&p).status()
                }
                _ => break,
            }
        }
        match result {
            Ok(s) => assert!(s.success(), "exit status {s}"),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                guestctl_testkit::unavailable(&format!("the temp dir is mounted noexec ({e})"));
            }
            Err(e) => panic!("could not run the generated ELF: {e}"),
        }
    }
}
