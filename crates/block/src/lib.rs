//! Block layer: read-only random access to the bytes of a disk image.
//!
//! The one trait here, [`BlockDevice`], is what every layer above reads through:
//! positional reads on `&self` (`read_exact_at`: the whole buffer or an error, with
//! `offset + len` checked against [`BlockDevice::size`]), so partitions, logical
//! volumes and batch workers can share one `Arc<dyn BlockDevice>`.
//!
//! Implementations: [`MemDevice`] (bytes in memory, for tests and fuzzing),
//! [`FileDevice`] (a raw image opened read-only) and [`SliceDevice`] (a window of
//! another device: a partition). Image formats (qcow2) and detection live in this
//! crate too; this crate knows nothing of partitions or filesystems.
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

mod error;

pub use error::{BlockError, ErrorKind};

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
        let start = usize::try_from(offset).map_err(|_| BlockError::out_of_bounds(offset, self.size()))?;
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
    pub fn open(path: &Path) -> Result<Self, BlockError> {
        let file = File::open(path).map_err(|e| BlockError::io(e).with_context(format!("opening {}", path.display())))?;
        let size = file
            .metadata()
            .map_err(|e| BlockError::io(e).with_context(format!("reading metadata of {}", path.display())))?
            .len();
        Ok(Self { file, path: path.to_path_buf(), size })
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
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| BlockError::io(e).with_offset(offset).with_context(self.path.display().to_string()))
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
        let abs = self.start.checked_add(offset).ok_or_else(|| BlockError::out_of_bounds(offset, self.len))?;
        self.inner.read_exact_at(abs, buf)
    }
    fn describe(&self) -> String {
        format!("{} bytes at offset {} of {}", self.len, self.start, self.inner.describe())
    }
}
