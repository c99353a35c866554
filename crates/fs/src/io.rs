//! A `Read + Seek (+ Write)` cursor over a [`BlockDevice`] for the drivers that want
//! a stream (`fatfs`, `ntfs`), with a read budget and a small chunk cache.
//!
//! The budget is the defence against endless loops inside a third-party driver: a
//! cyclic FAT cluster chain in a directory whose entries are all deleted, or an NTFS
//! index B-tree whose child points back at its parent, would make the driver read
//! forever without yielding anything our own bounded loops could count. Every byte
//! handed to the driver (cache hit or not) is charged to the budget of the current
//! operation; when it is spent, reads fail and the operation reports
//! [`FsErrorKind::LimitExceeded`](crate::FsErrorKind::LimitExceeded).

use crate::{FsError, FsErrorKind};
use guestctl_block::BlockDevice;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes of metadata a driver may read for one operation besides the file data the
/// caller asked for: 64 MiB is far more than any real directory walk or lookup needs
/// (a 100,000-entry FAT directory is 6 MiB of entries; an NTFS lookup reads a few
/// index records), yet a loop is stopped in well under a second.
pub const METADATA_READ_BUDGET: u64 = 64 * 1024 * 1024;

/// Size of one cached chunk: small reads (32-byte FAT entries, 4-byte FAT cells,
/// NTFS records) hit the cache instead of the device.
const CHUNK_LEN: usize = 4096;
/// Number of cached chunks (direct-mapped): 64 KiB per open filesystem.
const CHUNK_SLOTS: usize = 16;

/// The budget shared by a driver and its stream: set before an operation, charged by
/// every read.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    remaining: AtomicU64,
    exhausted: AtomicBool,
}

impl Budget {
    /// Allow `bytes` more reads for the operation about to start.
    pub(crate) fn reset(&self, bytes: u64) {
        self.remaining.store(bytes, Ordering::Relaxed);
        self.exhausted.store(false, Ordering::Relaxed);
    }
    /// Whether the last operation ran out of budget.
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }
    fn charge(&self, n: usize) -> io::Result<()> {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        let left = self.remaining.load(Ordering::Relaxed);
        if n > left {
            self.exhausted.store(true, Ordering::Relaxed);
            return Err(io::Error::other(
                "read budget of this operation exceeded (loop in the filesystem?)",
            ));
        }
        self.remaining
            .store(left.saturating_sub(n), Ordering::Relaxed);
        Ok(())
    }
}

/// A read-only stream over a device. `write` always fails: the drivers are opened
/// so that they never try, and if one did, nothing could reach the image.
pub(crate) struct DevStream<'d> {
    dev: DevRef<'d>,
    pos: u64,
    budget: Arc<Budget>,
    /// Direct-mapped cache: slot `i` holds chunk `k` with `k % CHUNK_SLOTS == i`.
    slots: Vec<Option<(u64, Box<[u8]>)>>,
}

/// The device a stream reads: shared by an open filesystem, or borrowed while probing.
pub(crate) enum DevRef<'d> {
    Owned(Arc<dyn BlockDevice>),
    Borrowed(&'d (dyn BlockDevice + 'd)),
}

impl<'d> std::ops::Deref for DevRef<'d> {
    type Target = dyn BlockDevice + 'd;
    fn deref(&self) -> &Self::Target {
        match self {
            DevRef::Owned(d) => &**d,
            DevRef::Borrowed(d) => *d,
        }
    }
}

impl std::fmt::Debug for DevStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevStream")
            .field("dev", &&*self.dev)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<'d> DevStream<'d> {
    pub(crate) fn new(dev: DevRef<'d>, budget: Arc<Budget>) -> Self {
        Self {
            dev,
            pos: 0,
            budget,
            slots: vec![None; CHUNK_SLOTS],
        }
    }

    fn to_io(e: guestctl_block::BlockError) -> io::Error {
        io::Error::other(e)
    }

    /// Copy from the cached chunk containing `self.pos` (loading it) into `buf`.
    fn read_cached(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk_len = CHUNK_LEN as u64;
        let chunk = self.pos / chunk_len;
        let slot_idx = usize::try_from(chunk % CHUNK_SLOTS as u64).unwrap_or(0);
        let chunk_start = chunk.saturating_mul(chunk_len);
        let size = self.dev.size();
        let hit = matches!(self.slots.get(slot_idx), Some(Some((k, _))) if *k == chunk);
        if !hit {
            // The last chunk may be short.
            let len = usize::try_from(size.saturating_sub(chunk_start).min(chunk_len))
                .unwrap_or(CHUNK_LEN);
            let mut data = vec![0u8; len].into_boxed_slice();
            self.dev
                .read_exact_at(chunk_start, &mut data)
                .map_err(Self::to_io)?;
            if let Some(slot) = self.slots.get_mut(slot_idx) {
                *slot = Some((chunk, data));
            }
        }
        let Some(Some((_, data))) = self.slots.get(slot_idx) else {
            return Err(io::Error::other("chunk cache slot missing"));
        };
        let off = usize::try_from(self.pos.saturating_sub(chunk_start)).unwrap_or(usize::MAX);
        let src = data.get(off..).unwrap_or(&[]);
        let n = src.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
        Ok(n)
    }
}

impl Read for DevStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.dev.size();
        if self.pos >= size || buf.is_empty() {
            return Ok(0);
        }
        let avail = usize::try_from(size.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let want = buf.len().min(avail);
        self.budget.charge(want)?;
        let n = if want >= CHUNK_LEN {
            // Large reads go straight to the device.
            let dst = buf.get_mut(..want).unwrap_or_default();
            self.dev.read_exact_at(self.pos, dst).map_err(Self::to_io)?;
            want
        } else {
            let dst = buf.get_mut(..want).unwrap_or_default();
            self.read_cached(dst)?
        };
        self.pos = self
            .pos
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}

impl Seek for DevStream<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.dev.size().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek out of range",
            )),
        }
    }
}

impl Write for DevStream<'_> {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "guestctl never writes to an image",
        ))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Run one driver operation: set the budget, catch a panic inside the third-party
/// driver (last line of defence: `fatfs` and `ntfs` index slices with on-disk
/// values in places; a panic there becomes a [`Corrupt`](FsErrorKind::Corrupt)
/// error for this path instead of taking down the whole inspection), and report a
/// spent budget as [`LimitExceeded`](FsErrorKind::LimitExceeded).
pub(crate) fn guarded<T>(
    budget: &Budget,
    bytes: u64,
    path: &str,
    driver: &str,
    f: impl FnOnce() -> Result<T, FsError>,
) -> Result<T, FsError> {
    budget.reset(bytes);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let result = match result {
        Ok(r) => r,
        Err(_) => Err(FsError::new(
            FsErrorKind::Corrupt,
            path,
            format!("the {driver} driver panicked on corrupt filesystem structures"),
        )),
    };
    result.map_err(|e| {
        if budget.exhausted() {
            FsError::new(
                FsErrorKind::LimitExceeded,
                path,
                format!("read more than the budget of {bytes} bytes for one operation (loop in the filesystem?)"),
            )
        } else {
            e
        }
    })
}

/// Map an `io::Error` coming back from a stream-based driver.
pub(crate) fn map_io(e: io::Error, path: &str) -> FsError {
    let block_kind = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<guestctl_block::BlockError>())
        .map(|b| b.kind());
    let kind = match (block_kind, e.kind()) {
        (Some(b), _) => FsErrorKind::from(b),
        (None, io::ErrorKind::NotFound) => FsErrorKind::NotFound,
        (None, io::ErrorKind::Unsupported) => FsErrorKind::Unsupported,
        _ => FsErrorKind::Corrupt,
    };
    // The message is the text of `e` and its causes (a block error and the host's
    // I/O error under it); attaching `e` as the source too would say it twice.
    FsError::new(kind, path, guestctl_block::chain_text(&e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use guestctl_block::MemDevice;

    fn stream(data: Vec<u8>, budget: u64) -> DevStream<'static> {
        let b = Arc::new(Budget::default());
        b.reset(budget);
        DevStream::new(DevRef::Owned(Arc::new(MemDevice::new(data))), b)
    }

    #[test]
    fn reads_across_chunks_and_at_end() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut s = stream(data.clone(), u64::MAX);
        s.seek(SeekFrom::Start(4090)).unwrap();
        let mut buf = [0u8; 12];
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], &data[4090..4090 + n]);
        s.seek(SeekFrom::Start(4090)).unwrap();
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf[..], &data[4090..4102]);
        let mut big = vec![0u8; 5000];
        s.seek(SeekFrom::Start(1)).unwrap();
        s.read_exact(&mut big).unwrap();
        assert_eq!(&big[..], &data[1..5001]);
        s.seek(SeekFrom::End(-3)).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &data[9997..]);
        assert!(s.seek(SeekFrom::Current(-20_000)).is_err());
    }

    #[test]
    fn budget_stops_reads_and_writes_always_fail() {
        let mut s = stream(vec![1u8; 100], 10);
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf).unwrap();
        assert!(s.read_exact(&mut buf).is_err());
        assert!(s.budget.exhausted());
        assert_eq!(
            s.write(b"x").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
    }
}
