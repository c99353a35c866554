//! Block layer: read-only random access to the bytes of a disk image.
//!
//! The one trait here, [`BlockDevice`], is what every layer above reads through:
//! positional reads on `&self` (`read_exact_at`: the whole buffer or an error, with
//! `offset + len` checked against [`BlockDevice::size`]), so partitions, logical
//! volumes and batch workers can share one `Arc<dyn BlockDevice>`.
//!
//! Implementations: [`MemDevice`] (bytes in memory, for tests and fuzzing),
//! [`FileDevice`] (a raw image opened read-only), [`Qcow2Image`] (a qcow2 image and
//! its backing chain, through `imago`) and the views [`SliceDevice`] (a window of
//! another device: a partition), [`LinearDevice`] (pieces of devices end to end: an
//! LVM logical volume), [`CountingDevice`] (counts bytes and reads) and
//! [`CachedDevice`] (a bounded chunk cache).
//!
//! [`detect_format`] is the one place that decides an image's format by its magic;
//! [`open_image`] is the one opener, returning an `Arc<dyn BlockDevice>`. Images are
//! always opened read-only, and a backing file named by an image is opened only when
//! [`OpenOptions::allow_backing`] is set. This crate knows nothing of partitions or
//! filesystems.
//!
//! ```
//! use guestctl_block::{BlockDevice, MemDevice, SliceDevice};
//! use std::sync::Arc;
//! let disk: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(vec![7u8; 4096]));
//! let part = SliceDevice::new(disk, 1024, 512).unwrap();
//! let mut buf = [0u8; 4];
//! part.read_exact_at(508, &mut buf).unwrap();
//! assert_eq!(buf, [7; 4]);
//! assert!(part.read_exact_at(509, &mut buf).is_err());
//! ```

#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

mod error;
mod fields;
mod format;
mod input;
mod mapped;
mod qcow2;
mod vdi;
mod vhd;
mod vhdx;
mod vhdx_layout;
mod views;
mod vmdk;
mod vmdk_descriptor;
mod vmdk_sparse;

pub use error::{chain_text, BlockError, ErrorKind};
pub use format::{detect_format, detect_format_bytes, ImageFormat, DETECT_LEN, QCOW2_MAGIC};
pub use input::{open_input, OpenedInput};
pub use qcow2::{
    read_qcow2_header, Qcow2Header, Qcow2Image, QCOW2_MAX_BACKING_NAME_LEN, QCOW2_MAX_CLUSTER_BITS,
    QCOW2_MAX_L1_ENTRIES, QCOW2_MAX_VIRTUAL_SIZE, QCOW2_MIN_CLUSTER_BITS,
};
pub use vdi::{VdiImage, VDI_MAX_BLOCKS, VDI_MAX_BLOCK_SIZE, VDI_MIN_BLOCK_SIZE};
pub use vhd::{VhdImage, VHD_MAX_BAT_ENTRIES, VHD_MAX_BLOCK_SIZE, VHD_MIN_BLOCK_SIZE};
pub use vhdx::{VhdxImage, VHDX_MAX_BAT_ENTRIES};
pub use vhdx_layout::{
    VHDX_MAX_BLOCK_SIZE, VHDX_MAX_TABLE_ENTRIES, VHDX_MAX_VIRTUAL_SIZE, VHDX_MIN_BLOCK_SIZE,
};
pub use views::{
    CachedDevice, CountingDevice, LinearDevice, LinearSegment, ReadStats, CACHE_CHUNK_SIZE,
    CACHE_DEFAULT_CHUNKS, CACHE_MAX_CHUNKS, LINEAR_MAX_SEGMENTS,
};
pub use vmdk::VmdkImage;
pub use vmdk_descriptor::{VMDK_MAX_DESCRIPTOR_LEN, VMDK_MAX_EXTENTS};
pub use vmdk_sparse::{
    VmdkSparse, VMDK_COMPRESSED_SLACK, VMDK_MAX_GD_ENTRIES, VMDK_MAX_GRAIN_SIZE,
    VMDK_MAX_GT_ENTRIES,
};

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Read-only random access to a fixed-size sequence of bytes.
pub trait BlockDevice: Send + Sync + fmt::Debug {
    /// The size in bytes.
    fn size(&self) -> u64;

    /// Fill `buf` with the bytes at `offset`, or fail. Reading past the end is an
    /// [`ErrorKind::OutOfBounds`] error, never a short read.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError>;

    /// A short human description (format and path) for error messages.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for Arc<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        (**self).read_exact_at(offset, buf)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Check that `len` bytes at `offset` lie inside a device of `size` bytes.
pub fn check_bounds(offset: u64, len: usize, size: u64) -> Result<(), BlockError> {
    let len64 = u64::try_from(len).map_err(|_| BlockError::out_of_bounds(offset, size))?;
    match offset.checked_add(len64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(BlockError::out_of_bounds(offset, size)),
    }
}

/// Read `len` bytes at `offset` into a new vector (bounded by the device size).
pub fn read_vec(dev: &dyn BlockDevice, offset: u64, len: usize) -> Result<Vec<u8>, BlockError> {
    check_bounds(offset, len, dev.size())?;
    let mut buf = vec![0u8; len];
    dev.read_exact_at(offset, &mut buf)?;
    Ok(buf)
}

/// A device backed by bytes in memory.
pub struct MemDevice {
    data: Vec<u8>,
}

impl MemDevice {
    /// Wrap `data`.
    pub fn new(data: Vec<u8>) -> Self {
        Self { data }
    }
}

impl fmt::Debug for MemDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemDevice({} bytes)", self.data.len())
    }
}

impl BlockDevice for MemDevice {
    fn size(&self) -> u64 {
        u64::try_from(self.data.len()).unwrap_or(u64::MAX)
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_bounds(offset, buf.len(), self.size())?;
        let start =
            usize::try_from(offset).map_err(|_| BlockError::out_of_bounds(offset, self.size()))?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.data.get(start..end))
            .ok_or_else(|| BlockError::out_of_bounds(offset, self.size()))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A raw image file, opened read-only.
#[derive(Debug)]
pub struct FileDevice {
    file: File,
    path: PathBuf,
    size: u64,
}

impl FileDevice {
    /// Open `path` read-only as a raw device.
    /// Only a regular file or a block device is accepted, and opening never
    /// blocks (see [`open_input`]).
    pub fn open(path: &Path) -> Result<Self, BlockError> {
        let OpenedInput { file, size } = open_input(path)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            size,
        })
    }

    /// The path this device was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl BlockDevice for FileDevice {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        use std::os::unix::fs::FileExt;
        check_bounds(offset, buf.len(), self.size)?;
        self.file.read_exact_at(buf, offset).map_err(|e| {
            BlockError::io(e)
                .with_offset(offset)
                .with_context(self.path.display().to_string())
        })
    }
    fn describe(&self) -> String {
        format!("raw image {}", self.path.display())
    }
}

/// A window `[start, start + len)` of another device, such as a partition.
#[derive(Debug, Clone)]
pub struct SliceDevice {
    inner: Arc<dyn BlockDevice>,
    start: u64,
    len: u64,
}

impl SliceDevice {
    /// A window of `inner`; fails if it does not lie inside `inner`.
    pub fn new(inner: Arc<dyn BlockDevice>, start: u64, len: u64) -> Result<Self, BlockError> {
        match start.checked_add(len) {
            Some(end) if end <= inner.size() => Ok(Self { inner, start, len }),
            _ => Err(BlockError::out_of_bounds(start, inner.size())
                .with_context(format!("slice of {len} bytes at {start}"))),
        }
    }

    /// Offset of the window in the inner device.
    pub fn start(&self) -> u64 {
        self.start
    }
}

impl BlockDevice for SliceDevice {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        check_bounds(offset, buf.len(), self.len)?;
        let abs = self
            .start
            .checked_add(offset)
            .ok_or_else(|| BlockError::out_of_bounds(offset, self.len))?;
        self.inner.read_exact_at(abs, buf)
    }
    fn describe(&self) -> String {
        format!(
            "{} bytes at offset {} of {}",
            self.len,
            self.start,
            self.inner.describe()
        )
    }
}

/// The deepest backing chain guestctl opens, whatever the caller asks: a chain longer
/// than this is far more likely a loop (a → b → a) or an attack than a real image.
pub const MAX_BACKING_DEPTH: usize = 10;

/// How [`open_image`] opens an image. Images are always read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Open backing files named by the image, and the extent files a VMDK descriptor
    /// names (`--allow-backing`). Off by default: an image must not make guestctl open
    /// other host files unless the user says so.
    pub allow_backing: bool,
    /// Maximum backing chain depth (capped at [`MAX_BACKING_DEPTH`]).
    pub max_backing_depth: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            allow_backing: false,
            max_backing_depth: MAX_BACKING_DEPTH,
        }
    }
}

impl OpenOptions {
    /// Options that allow backing files, up to [`MAX_BACKING_DEPTH`] levels.
    pub fn with_backing() -> Self {
        Self {
            allow_backing: true,
            ..Self::default()
        }
    }
}

/// Open the image at `path` read-only, detecting its format by magic.
///
/// Raw images become a [`FileDevice`], qcow2 images a [`Qcow2Image`], dynamic VHD a
/// [`VhdImage`], VHDX a [`VhdxImage`], VDI a [`VdiImage`], VMDK a [`VmdkSparse`] or (a descriptor with
/// extent files, opened only with [`OpenOptions::allow_backing`]) a [`VmdkImage`]; QED fails with
/// [`ErrorKind::Unsupported`] naming the format.
pub fn open_image(path: &Path, opts: &OpenOptions) -> Result<Arc<dyn BlockDevice>, BlockError> {
    Ok(open_image_detected(path, opts)?.1)
}

/// Adds the image's path to an error from one of the container formats.
fn in_file(path: &Path) -> impl Fn(BlockError) -> BlockError + '_ {
    move |e| e.with_context(path.display().to_string())
}

/// Like [`open_image`], also returning the detected format.
///
/// Errors do not name `path` (the caller does); errors about a backing file name it.
pub fn open_image_detected(
    path: &Path,
    opts: &OpenOptions,
) -> Result<(ImageFormat, Arc<dyn BlockDevice>), BlockError> {
    let file = FileDevice::open(path)?;
    let format = detect_format(&file)?;
    let dev: Arc<dyn BlockDevice> = match format {
        ImageFormat::Raw => Arc::new(file),
        ImageFormat::Qcow2 => {
            drop(file);
            Arc::new(Qcow2Image::open(path, opts)?)
        }
        ImageFormat::Vhd => Arc::new(VhdImage::open(Arc::new(file)).map_err(in_file(path))?),
        ImageFormat::Vdi => Arc::new(VdiImage::open(Arc::new(file)).map_err(in_file(path))?),
        ImageFormat::Vmdk => vmdk::open_vmdk(path, file, opts)?,
        ImageFormat::Vhdx => Arc::new(VhdxImage::open(Arc::new(file)).map_err(in_file(path))?),
        other => {
            return Err(BlockError::unsupported(format!(
                "{} images are not supported (convert with `qemu-img convert -O raw`)",
                other.name()
            )))
        }
    };
    Ok((format, dev))
}
