//! qcow2 images: our own header validation (pure, on bytes) in front of the `imago`
//! reader, which maps guest offsets through the L1/L2 tables, inflates compressed
//! clusters and reads backing images.
//!
//! Why validate before imago: imago would happily open a backing file named by the
//! image; the decision to open one is ours (`--allow-backing`), with a depth cap. The
//! header is also where hostile images announce absurd sizes, so every field that sizes
//! an allocation or a loop is checked here against a named limit first.

use crate::format::QCOW2_MAGIC;
use crate::{check_bounds, BlockDevice, BlockError, ErrorKind, FileDevice, OpenOptions};
use imago::format::gate::ImplicitOpenGate;
use imago::qcow2::Qcow2;
use imago::{FormatAccess, FormatDriverBuilder, Storage, StorageOpenOptions};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Smallest cluster size qcow2 allows (512 bytes).
pub const QCOW2_MIN_CLUSTER_BITS: u32 = 9;
/// Largest cluster size qcow2 allows (2 MiB).
pub const QCOW2_MAX_CLUSTER_BITS: u32 = 21;
/// qemu refuses backing file names longer than this; so do we (it is read into memory).
pub const QCOW2_MAX_BACKING_NAME_LEN: u32 = 1023;
/// Largest L1 table we accept, in entries (32 MiB of table; covers 2 PiB with 64 KiB
/// clusters). The table is loaded into memory whole, so its size must be bounded.
pub const QCOW2_MAX_L1_ENTRIES: u32 = 4 * 1024 * 1024;
/// Largest virtual disk size we accept (2^56 bytes, imago's own file-length limit).
pub const QCOW2_MAX_VIRTUAL_SIZE: u64 = 1 << 56;
/// Size of the fixed part of a v2 header.
const V2_HEADER_LEN: usize = 72;
/// Size of the fixed part of a v3 header (without the optional compression type).
const V3_HEADER_LEN: usize = 104;

/// Incompatible feature bits (qcow2 spec, header bytes 72..80).
const INCOMPAT_DIRTY: u64 = 1 << 0;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_DATA_FILE: u64 = 1 << 2;
const INCOMPAT_COMPRESSION: u64 = 1 << 3;
const INCOMPAT_EXTL2: u64 = 1 << 4;

/// The fields of a qcow2 header guestctl checks, named as the qcow2 spec names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qcow2Header {
    /// 2 or 3.
    pub version: u32,
    /// Offset of the backing file name in the image (0: no backing file).
    pub backing_file_offset: u64,
    /// Length of the backing file name.
    pub backing_file_size: u32,
    /// log2 of the cluster size.
    pub cluster_bits: u32,
    /// Virtual disk size in bytes.
    pub size: u64,
    /// 0 = none; 1 = AES; 2 = LUKS.
    pub crypt_method: u32,
    /// Number of L1 table entries.
    pub l1_size: u32,
    /// Offset of the L1 table.
    pub l1_table_offset: u64,
    /// Number of internal snapshots.
    pub nb_snapshots: u32,
    /// v3 incompatible feature bits (0 for v2).
    pub incompatible_features: u64,
    /// v3 refcount order (4 for v2).
    pub refcount_order: u32,
    /// v3 header length (72 for v2).
    pub header_length: u32,
}

fn be32(b: &[u8], at: usize) -> Result<u32, BlockError> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| BlockError::corrupt("qcow2 header truncated").with_offset(at as u64))
}

fn be64(b: &[u8], at: usize) -> Result<u64, BlockError> {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| BlockError::corrupt("qcow2 header truncated").with_offset(at as u64))
}

impl Qcow2Header {
    /// Parse and validate a header from the first bytes of an image of `file_len` bytes.
    /// `head` should hold at least `V3_HEADER_LEN` bytes (or the whole image if shorter).
    pub fn parse(head: &[u8], file_len: u64) -> Result<Self, BlockError> {
        let ctx = |e: BlockError| e.with_context("qcow2 header");
        if head.get(0..4) != Some(&QCOW2_MAGIC[..]) {
            return Err(ctx(BlockError::corrupt("bad magic (not a qcow2 image)")));
        }
        if head.len() < V2_HEADER_LEN {
            return Err(ctx(BlockError::corrupt(format!(
                "image is {} bytes, shorter than a qcow2 header",
                head.len()
            ))));
        }
        let version = be32(head, 4)?;
        if version != 2 && version != 3 {
            return Err(ctx(BlockError::unsupported(format!(
                "qcow2 version {version}"
            ))));
        }
        let mut h = Qcow2Header {
            version,
            backing_file_offset: be64(head, 8)?,
            backing_file_size: be32(head, 16)?,
            cluster_bits: be32(head, 20)?,
            size: be64(head, 24)?,
            crypt_method: be32(head, 32)?,
            l1_size: be32(head, 36)?,
            l1_table_offset: be64(head, 40)?,
            nb_snapshots: be32(head, 60)?,
            incompatible_features: 0,
            refcount_order: 4,
            header_length: V2_HEADER_LEN as u32,
        };
        if version == 3 {
            h.incompatible_features = be64(head, 72).map_err(ctx)?;
            h.refcount_order = be32(head, 96).map_err(ctx)?;
            h.header_length = be32(head, 100).map_err(ctx)?;
        }
        h.validate(file_len).map_err(ctx)?;
        Ok(h)
    }

    fn validate(&self, file_len: u64) -> Result<(), BlockError> {
        if !(QCOW2_MIN_CLUSTER_BITS..=QCOW2_MAX_CLUSTER_BITS).contains(&self.cluster_bits) {
            return Err(BlockError::corrupt(format!(
                "cluster_bits {} outside {QCOW2_MIN_CLUSTER_BITS}..={QCOW2_MAX_CLUSTER_BITS}",
                self.cluster_bits
            )));
        }
        let cluster_size = 1u64 << self.cluster_bits;
        if self.version == 3 {
            let hl = u64::from(self.header_length);
            if hl < V3_HEADER_LEN as u64 || hl > cluster_size {
                return Err(BlockError::corrupt(format!("header_length {hl} invalid")));
            }
            if self.refcount_order > 6 {
                return Err(BlockError::corrupt(format!(
                    "refcount_order {} > 6",
                    self.refcount_order
                )));
            }
        }
        if self.crypt_method != 0 {
            return Err(BlockError::unsupported(format!(
                "encrypted qcow2 images (crypt_method {}) are not supported",
                self.crypt_method
            )));
        }
        let f = self.incompatible_features;
        let named = [
            (
                INCOMPAT_DIRTY,
                "dirty (not closed cleanly; run `qemu-img check -r all` on a copy)",
            ),
            (INCOMPAT_CORRUPT, "marked corrupt by qemu"),
            (INCOMPAT_DATA_FILE, "an external data file"),
            (INCOMPAT_COMPRESSION, "a non-zlib compression type"),
            (INCOMPAT_EXTL2, "extended L2 entries (subclusters)"),
        ];
        for (bit, what) in named {
            if f & bit != 0 {
                let kind = if bit == INCOMPAT_CORRUPT {
                    ErrorKind::Corrupt
                } else {
                    ErrorKind::Unsupported
                };
                return Err(BlockError::new(kind, format!("the image has {what}")));
            }
        }
        if f != 0 {
            return Err(BlockError::unsupported(format!(
                "unknown incompatible feature bits {f:#x}"
            )));
        }
        if self.size > QCOW2_MAX_VIRTUAL_SIZE {
            return Err(BlockError::limit(format!(
                "virtual size {} exceeds the limit of {QCOW2_MAX_VIRTUAL_SIZE} bytes",
                self.size
            )));
        }
        if self.l1_size > QCOW2_MAX_L1_ENTRIES {
            return Err(BlockError::limit(format!(
                "l1_size {} exceeds the limit of {QCOW2_MAX_L1_ENTRIES} entries",
                self.l1_size
            )));
        }
        // One L1 entry maps one L2 table: cluster_size / 8 clusters.
        let per_l1_shift = 2 * self.cluster_bits - 3;
        let needed = self.size.div_ceil(1u64 << per_l1_shift);
        if u64::from(self.l1_size) < needed {
            return Err(BlockError::corrupt(format!(
                "l1_size {} too small for a virtual size of {} bytes (needs {needed})",
                self.l1_size, self.size
            )));
        }
        if !self.l1_table_offset.is_multiple_of(cluster_size) {
            return Err(BlockError::corrupt("L1 table not cluster-aligned")
                .with_offset(self.l1_table_offset));
        }
        let l1_end = self
            .l1_table_offset
            .checked_add(u64::from(self.l1_size) * 8);
        if self.l1_size > 0 && !matches!(l1_end, Some(end) if end <= file_len) {
            return Err(
                BlockError::corrupt("L1 table lies past the end of the file")
                    .with_offset(self.l1_table_offset),
            );
        }
        if self.backing_file_offset != 0 {
            if self.backing_file_size == 0 || self.backing_file_size > QCOW2_MAX_BACKING_NAME_LEN {
                return Err(BlockError::corrupt(format!(
                    "backing file name length {} outside 1..={QCOW2_MAX_BACKING_NAME_LEN}",
                    self.backing_file_size
                )));
            }
            // qemu requires the name inside the first cluster.
            let end = self
                .backing_file_offset
                .checked_add(u64::from(self.backing_file_size));
            if !matches!(end, Some(e) if e <= cluster_size && e <= file_len) {
                return Err(
                    BlockError::corrupt("backing file name outside the header cluster")
                        .with_offset(self.backing_file_offset),
                );
            }
        }
        Ok(())
    }

    /// Whether the header names a backing file.
    pub fn has_backing_file(&self) -> bool {
        self.backing_file_offset != 0
    }
}

/// Read and validate the qcow2 header of `dev`, and the backing file name it gives.
pub fn read_qcow2_header(
    dev: &dyn BlockDevice,
) -> Result<(Qcow2Header, Option<String>), BlockError> {
    let head_len = usize::try_from(dev.size().min(V3_HEADER_LEN as u64)).unwrap_or(V3_HEADER_LEN);
    let mut head = vec![0u8; head_len];
    dev.read_exact_at(0, &mut head)?;
    let header = Qcow2Header::parse(&head, dev.size())?;
    if !header.has_backing_file() {
        return Ok((header, None));
    }
    // Bounded by QCOW2_MAX_BACKING_NAME_LEN in validate().
    let mut name = vec![0u8; header.backing_file_size as usize];
    dev.read_exact_at(header.backing_file_offset, &mut name)?;
    let name = String::from_utf8(name).map_err(|_| {
        BlockError::corrupt("backing file name is not UTF-8").with_context("qcow2 header")
    })?;
    Ok((header, Some(name)))
}

/// The gate through which imago opens anything an image names (backing files). It
/// refuses everything unless backing files are allowed, forces read-only, and caps the
/// chain's depth.
///
/// Backing files are confined to the top image's directory: the path imago
/// resolves (relative to the image naming it) must, once every symlink is
/// resolved, lie inside that directory, and be a regular file. So an image cannot
/// make guestctl read `/etc/passwd`, `../../secret` or `/proc/self/environ` as a
/// disk, even with `--allow-backing`.
struct ChainGate {
    allow: bool,
    /// How many more backing layers may be opened below this one.
    remaining: usize,
    depth_exceeded: Arc<AtomicBool>,
    /// The top image's directory, canonical: where backing files must lie.
    allowed_dir: Arc<PathBuf>,
    /// Why a backing file was refused, for the error the caller sees.
    refused: Arc<std::sync::Mutex<Option<String>>>,
}

impl ChainGate {
    /// Why the backing file imago resolved to `name` (canonical path `real`) may
    /// not be opened, if it may not: outside [`ChainGate::allowed_dir`], or not a
    /// regular file.
    fn refusal(&self, name: &Path, real: &Path) -> Option<String> {
        if !real.starts_with(&*self.allowed_dir) {
            return Some(format!(
                "backing file {} is outside the image's directory {} (backing files must lie beside the image)",
                name.display(),
                self.allowed_dir.display()
            ));
        }
        match std::fs::metadata(real) {
            Ok(md) if md.is_file() => None,
            Ok(_) => Some(format!(
                "backing file {} is not a regular file",
                name.display()
            )),
            Err(e) => Some(format!("backing file {}: {e}", name.display())),
        }
    }
}

impl<S: Storage + 'static> ImplicitOpenGate<S> for ChainGate {
    fn open_format<F: FormatDriverBuilder<S>>(
        &mut self,
        builder: F,
    ) -> io::Result<FormatAccess<S>> {
        let child = ChainGate {
            allow: self.allow,
            remaining: self.remaining.saturating_sub(1),
            depth_exceeded: Arc::clone(&self.depth_exceeded),
            allowed_dir: Arc::clone(&self.allowed_dir),
            refused: Arc::clone(&self.refused),
        };
        let driver = builder.write(false).open(child)?;
        Ok(FormatAccess::new(driver))
    }

    fn open_storage(&mut self, opts: StorageOpenOptions) -> io::Result<S> {
        if !self.allow {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "backing files not allowed",
            ));
        }
        if self.remaining == 0 {
            self.depth_exceeded.store(true, Ordering::Relaxed);
            return Err(io::Error::other("backing chain too deep"));
        }
        let name = opts
            .get_filename()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        // A missing file stays a NotFound error.
        let real = std::fs::canonicalize(&name)?;
        if let Some(why) = self.refusal(&name, &real) {
            if let Ok(mut r) = self.refused.lock() {
                r.get_or_insert_with(|| why.clone());
            }
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        S::open(opts.filename(real).write(false))
    }
}

/// A qcow2 image opened read-only (with its backing chain, if allowed).
pub struct Qcow2Image {
    access: FormatAccess<imago::file::File>,
    header: Qcow2Header,
    backing_file: Option<String>,
    path: PathBuf,
}

impl fmt::Debug for Qcow2Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qcow2Image")
            .field("path", &self.path)
            .field("size", &self.header.size)
            .field("backing_file", &self.backing_file)
            .finish()
    }
}

/// An error of imago. Its text names a backing file when one is at fault; the
/// image's own path is left to the caller.
fn map_io(e: io::Error) -> BlockError {
    let kind = match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ErrorKind::Corrupt,
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::Unsupported => ErrorKind::Unsupported,
        _ => ErrorKind::Io,
    };
    BlockError::new(kind, "qcow2").with_source(e)
}

impl Qcow2Image {
    /// Open the qcow2 image at `path` read-only. A backing file is opened only when
    /// `opts.allow_backing` is set, to at most `opts.max_backing_depth` levels.
    ///
    /// Errors do not name `path` (the caller does).
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self, BlockError> {
        let raw = FileDevice::open(path)?;
        let (header, backing_file) = read_qcow2_header(&raw)?;
        if let Some(name) = &backing_file {
            if !opts.allow_backing {
                return Err(BlockError::new(
                    ErrorKind::BackingNotAllowed,
                    format!(
                        "the image has a backing file {name:?}; pass --allow-backing to open it"
                    ),
                ));
            }
            if opts.max_backing_depth == 0 {
                return Err(BlockError::limit(
                    "backing chain deeper than max_backing_depth 0",
                ));
            }
        }
        let depth = opts.max_backing_depth.min(crate::MAX_BACKING_DEPTH);
        let file = std::fs::File::open(path).map_err(BlockError::io)?;
        let storage_opts = StorageOpenOptions::new().filename(path).write(false);
        let storage = imago::file::File::from_open_file(file, storage_opts).map_err(map_io)?;
        let exceeded = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(std::sync::Mutex::new(None));
        let top_dir = std::fs::canonicalize(path)
            .map_err(BlockError::io)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let gate = ChainGate {
            allow: opts.allow_backing,
            remaining: depth,
            depth_exceeded: Arc::clone(&exceeded),
            allowed_dir: Arc::new(top_dir),
            refused: Arc::clone(&refused),
        };
        let qcow2 = Qcow2::<imago::file::File>::builder(storage)
            .write(false)
            .open(gate)
            .map_err(|e| {
                let why = refused.lock().ok().and_then(|mut r| r.take());
                if let Some(why) = why {
                    BlockError::new(ErrorKind::BackingNotAllowed, why)
                } else if exceeded.load(Ordering::Relaxed) {
                    BlockError::limit(format!("backing chain deeper than {depth} images"))
                        .with_source(e)
                } else {
                    map_io(e)
                }
            })?;
        let access = FormatAccess::new(qcow2);
        if access.size() != header.size {
            return Err(BlockError::corrupt(
                "imago and header disagree on the virtual size",
            ));
        }
        Ok(Self {
            access,
            header,
            backing_file,
            path: path.to_path_buf(),
        })
    }

    /// The validated header.
    pub fn header(&self) -> &Qcow2Header {
        &self.header
    }

    /// The backing file name as written in the header, if any.
    pub fn backing_file(&self) -> Option<&str> {
        self.backing_file.as_deref()
    }
}

impl BlockDevice for Qcow2Image {
    fn size(&self) -> u64 {
        self.header.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_bounds(offset, buf.len(), self.header.size)?;
        if buf.is_empty() {
            return Ok(());
        }
        self.access.read(&mut *buf, offset).map_err(|e| {
            map_io(e)
                .with_offset(offset)
                .with_context(self.path.display().to_string())
        })
    }
    fn describe(&self) -> String {
        match &self.backing_file {
            Some(b) => format!("qcow2 image {} (backing file {b})", self.path.display()),
            None => format!("qcow2 image {}", self.path.display()),
        }
    }
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

    /// A minimal valid v3 header for a 1 MiB disk with 64 KiB clusters: L1 at cluster 3.
    fn header_bytes() -> Vec<u8> {
        let mut h = vec![0u8; 4 * 65536];
        h[0..4].copy_from_slice(b"QFI\xfb"); // magic
        h[4..8].copy_from_slice(&3u32.to_be_bytes()); // version
        h[20..24].copy_from_slice(&16u32.to_be_bytes()); // cluster_bits
        h[24..32].copy_from_slice(&(1u64 << 20).to_be_bytes()); // size
        h[36..40].copy_from_slice(&1u32.to_be_bytes()); // l1_size
        h[40..48].copy_from_slice(&(3u64 * 65536).to_be_bytes()); // l1_table_offset
        h[48..56].copy_from_slice(&65536u64.to_be_bytes()); // refcount_table_offset
        h[56..60].copy_from_slice(&1u32.to_be_bytes()); // refcount_table_clusters
        h[96..100].copy_from_slice(&4u32.to_be_bytes()); // refcount_order
        h[100..104].copy_from_slice(&104u32.to_be_bytes()); // header_length
        h
    }

    fn parse(h: &[u8]) -> Result<Qcow2Header, BlockError> {
        Qcow2Header::parse(&h[..h.len().min(V3_HEADER_LEN)], h.len() as u64)
    }

    #[test]
    fn valid_header_parses() {
        let h = parse(&header_bytes()).unwrap();
        assert_eq!(h.version, 3);
        assert_eq!(h.cluster_bits, 16);
        assert_eq!(h.size, 1 << 20);
        assert!(!h.has_backing_file());
    }

    #[test]
    fn each_bad_field_has_its_error() {
        let cases: Vec<(&str, usize, Vec<u8>, ErrorKind)> = vec![
            ("magic", 0, b"QFI\0".to_vec(), ErrorKind::Corrupt),
            (
                "version",
                4,
                4u32.to_be_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "cluster_bits low",
                20,
                8u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "cluster_bits high",
                20,
                22u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "size",
                24,
                (1u64 << 60).to_be_bytes().to_vec(),
                ErrorKind::LimitExceeded,
            ),
            (
                "crypt",
                32,
                2u32.to_be_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "l1_size huge",
                36,
                u32::MAX.to_be_bytes().to_vec(),
                ErrorKind::LimitExceeded,
            ),
            (
                "l1_size zero",
                36,
                0u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "l1 unaligned",
                40,
                65537u64.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "l1 past end",
                40,
                (64u64 * 65536).to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "dirty",
                72,
                1u64.to_be_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "corrupt bit",
                72,
                2u64.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "unknown bit",
                72,
                (1u64 << 40).to_be_bytes().to_vec(),
                ErrorKind::Unsupported,
            ),
            (
                "refcount_order",
                96,
                7u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "header_length",
                100,
                50u32.to_be_bytes().to_vec(),
                ErrorKind::Corrupt,
            ),
            (
                "backing name too long",
                8,
                512u64
                    .to_be_bytes()
                    .iter()
                    .chain(&2000u32.to_be_bytes())
                    .copied()
                    .collect(),
                ErrorKind::Corrupt,
            ),
        ];
        for (what, at, bytes, kind) in cases {
            let mut h = header_bytes();
            h[at..at + bytes.len()].copy_from_slice(&bytes);
            let err = parse(&h).expect_err(what);
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
    }

    #[test]
    fn truncated_and_zeroed_headers_fail_cleanly() {
        let h = header_bytes();
        for len in [0, 3, 4, 20, 71, 72, 100] {
            assert!(parse(&h[..len]).is_err(), "len {len}");
        }
        assert_eq!(
            parse(&vec![0u8; 4096]).unwrap_err().kind(),
            ErrorKind::Corrupt
        );
    }

    #[test]
    fn backing_name_is_read() {
        let mut h = header_bytes();
        h[8..16].copy_from_slice(&512u64.to_be_bytes());
        h[16..20].copy_from_slice(&8u32.to_be_bytes());
        h[512..520].copy_from_slice(b"base.raw");
        let dev = crate::MemDevice::new(h);
        let (hdr, name) = read_qcow2_header(&dev).unwrap();
        assert!(hdr.has_backing_file());
        assert_eq!(name.as_deref(), Some("base.raw"));
    }
}
