//! Image format detection by magic bytes: the one place that decides what an image is.

use crate::{BlockDevice, BlockError};

/// The container format of a disk image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// No known container magic: the bytes are the disk.
    Raw,
    /// QEMU copy-on-write v2/v3 (`QFI\xfb`). Supported.
    Qcow2,
    /// QEMU enhanced disk (`QED\0`). Recognised, not supported.
    Qed,
    /// VMware sparse extent (`KDMV`) or text descriptor. Supported (sparse,
    /// streamOptimized, flat and sparse extents named by a descriptor).
    Vmdk,
    /// Microsoft VHD, dynamic (`conectix` at offset 0). Supported (a fixed VHD has no
    /// magic at the start and reads as raw).
    Vhd,
    /// Microsoft VHDX (`vhdxfile`). Supported, fixed and dynamic (a log left to replay
    /// is refused, not replayed).
    Vhdx,
    /// VirtualBox VDI (signature `0xbeda107f` at 0x40). Supported, dynamic and static.
    Vdi,
}

impl ImageFormat {
    /// The name qemu-img uses for the format.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::Qcow2 => "qcow2",
            ImageFormat::Qed => "qed",
            ImageFormat::Vmdk => "vmdk",
            ImageFormat::Vhd => "vpc",
            ImageFormat::Vhdx => "vhdx",
            ImageFormat::Vdi => "vdi",
        }
    }

    /// Whether guestctl can read images of this format.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            ImageFormat::Raw
                | ImageFormat::Qcow2
                | ImageFormat::Vhd
                | ImageFormat::Vdi
                | ImageFormat::Vmdk
                | ImageFormat::Vhdx
        )
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// qcow2 magic: "QFI" followed by 0xfb.
pub const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";
/// QED magic.
const QED_MAGIC: [u8; 4] = *b"QED\0";
/// VMDK sparse extent magic ("KDMV" = little-endian "VMDK").
const VMDK_MAGIC: [u8; 4] = *b"KDMV";
/// Start of a VMDK text descriptor file.
const VMDK_DESCRIPTOR: &[u8] = b"# Disk DescriptorFile";
/// VHD footer cookie (a dynamic VHD carries a copy of the footer at offset 0).
const VHD_COOKIE: &[u8] = b"conectix";
/// VHDX file type identifier.
const VHDX_MAGIC: &[u8] = b"vhdxfile";
/// Offset and value (little-endian) of the VDI signature.
const VDI_SIGNATURE_OFFSET: usize = 0x40;
const VDI_SIGNATURE: [u8; 4] = 0xbeda_107f_u32.to_le_bytes();

/// How many bytes of the image detection looks at.
pub const DETECT_LEN: usize = 512;

/// Detect the format of the bytes at the start of an image (`head` may be shorter than
/// [`DETECT_LEN`]; a short image is raw).
pub fn detect_format_bytes(head: &[u8]) -> ImageFormat {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&QCOW2_MAGIC) {
        ImageFormat::Qcow2
    } else if starts(&QED_MAGIC) {
        ImageFormat::Qed
    } else if starts(&VMDK_MAGIC) || starts(VMDK_DESCRIPTOR) {
        ImageFormat::Vmdk
    } else if starts(VHDX_MAGIC) {
        ImageFormat::Vhdx
    } else if starts(VHD_COOKIE) {
        ImageFormat::Vhd
    } else if head.get(VDI_SIGNATURE_OFFSET..VDI_SIGNATURE_OFFSET + 4) == Some(&VDI_SIGNATURE[..]) {
        ImageFormat::Vdi
    } else {
        ImageFormat::Raw
    }
}

/// Detect the format of an image by its magic bytes (raw when nothing matches).
pub fn detect_format(dev: &dyn BlockDevice) -> Result<ImageFormat, BlockError> {
    let len = usize::try_from(dev.size().min(DETECT_LEN as u64)).unwrap_or(DETECT_LEN);
    let mut head = vec![0u8; len];
    dev.read_exact_at(0, &mut head)?;
    Ok(detect_format_bytes(&head))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::MemDevice;

    fn with_magic(at: usize, magic: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 1024];
        v[at..at + magic.len()].copy_from_slice(magic);
        v
    }

    #[test]
    fn detects_each_magic() {
        let cases: [(usize, &[u8], ImageFormat); 7] = [
            (0, b"QFI\xfb", ImageFormat::Qcow2),
            (0, b"QED\0", ImageFormat::Qed),
            (0, b"KDMV", ImageFormat::Vmdk),
            (0, b"# Disk DescriptorFile\n", ImageFormat::Vmdk),
            (0, b"vhdxfile", ImageFormat::Vhdx),
            (0, b"conectix", ImageFormat::Vhd),
            (0x40, &[0x7f, 0x10, 0xda, 0xbe], ImageFormat::Vdi),
        ];
        for (at, magic, want) in cases {
            let dev = MemDevice::new(with_magic(at, magic));
            assert_eq!(detect_format(&dev).unwrap(), want, "{magic:?}");
        }
    }

    #[test]
    fn raw_when_nothing_matches_or_short() {
        assert_eq!(
            detect_format(&MemDevice::new(vec![0; 4096])).unwrap(),
            ImageFormat::Raw
        );
        assert_eq!(
            detect_format(&MemDevice::new(b"QFI".to_vec())).unwrap(),
            ImageFormat::Raw
        );
        assert_eq!(
            detect_format(&MemDevice::new(Vec::new())).unwrap(),
            ImageFormat::Raw
        );
        // An MBR boot signature is still raw.
        let mut mbr = vec![0u8; 512];
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        assert_eq!(
            detect_format(&MemDevice::new(mbr)).unwrap(),
            ImageFormat::Raw
        );
    }

    #[test]
    fn supported_formats() {
        assert!(ImageFormat::Raw.is_supported());
        assert!(ImageFormat::Qcow2.is_supported());
        assert!(ImageFormat::Vhd.is_supported());
        assert!(ImageFormat::Vdi.is_supported());
        assert!(!ImageFormat::Qed.is_supported());
        assert!(ImageFormat::Vmdk.is_supported());
        assert_eq!(ImageFormat::Vhd.name(), "vpc");
    }
}
