//! XFS through the `lamxfs` crate, read-only: v4 and v5 (CRC) filesystems;
//! directories in every form (shortform, block, leaf, node and B+tree: `lamxfs`
//! reads the data blocks that hold the entries, however they are indexed); files in
//! extent and B+tree format; inline and remote symlinks.
//!
//! Why `lamxfs` (MIT/Apache-2.0, `forbid(unsafe_code)`, reads through a small
//! positional-read trait): `xfs-core` parses from a whole-image `&[u8]`, which would
//! mean loading the filesystem into memory. `lamxfs` refuses what it cannot read
//! (realtime device, external log, unknown incompatible features) with typed errors,
//! and replays a dirty log into memory only (nothing is written).
//!
//! `lamxfs` takes `&mut self`, so the handle sits behind a mutex. Each operation gets
//! a read budget ([`METADATA_READ_BUDGET`] plus the bytes it returns), so a loop in a
//! hostile B+tree ends as [`FsErrorKind::LimitExceeded`] instead of a hang. Paths are
//! normalised here (`..` applied lexically) and a symlink in an intermediate component
//! is refused with [`FsErrorKind::WrongType`], as in every driver.

use crate::path::{components, join};
use crate::probe::block_err;
use crate::{
    DirEntry, FileType, Filesystem, FsError, FsErrorKind, Metadata, MAX_DIR_ENTRIES, MAX_FILE_READ,
    MAX_SYMLINK_LEN, METADATA_READ_BUDGET,
};
use guestctl_block::BlockDevice;
use lamxfs::{BlockRead, EntryKind, Error as XfsError, Inode, Path, Xfs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the driver and its reader share: the current operation's read budget and
/// the last device error (lamxfs keeps only a token of it).
#[derive(Default)]
struct ReadState {
    budget: AtomicU64,
    last_error: Mutex<Option<guestctl_block::BlockError>>,
}

/// The device as `lamxfs` reads it.
struct DevReader {
    dev: Arc<dyn BlockDevice>,
    state: Arc<ReadState>,
}

/// Why a read was refused.
#[derive(Debug)]
enum ReadFailure {
    Device,
    Budget,
}

impl BlockRead for DevReader {
    type Error = ReadFailure;
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), ReadFailure> {
        let n = buf.len() as u64;
        let left = self.state.budget.load(Ordering::Relaxed);
        if n > left {
            self.state.budget.store(0, Ordering::Relaxed);
            return Err(ReadFailure::Budget);
        }
        self.state.budget.store(left - n, Ordering::Relaxed);
        self.dev.read_exact_at(offset, buf).map_err(|e| {
            *self
                .state
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(e);
            ReadFailure::Device
        })
    }
}

/// An XFS filesystem, read-only.
pub struct XfsFs {
    xfs: Mutex<Xfs<DevReader>>,
    state: Arc<ReadState>,
    uuid: Option<String>,
    label: Option<String>,
}

impl std::fmt::Debug for XfsFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XfsFs")
            .field("uuid", &self.uuid)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// `lamxfs`'s error for `path` as ours; `spent` says whether the budget ran out.
fn map_xfs(e: XfsError, path: &str, spent: bool) -> FsError {
    if spent {
        return FsError::new(
            FsErrorKind::LimitExceeded,
            path,
            format!("read more than {METADATA_READ_BUDGET} bytes of metadata (a loop?)"),
        );
    }
    let kind = match &e {
        // An intermediate component that is a file or a symlink (never followed).
        XfsError::NotFound {
            component: "not_a_directory",
        } => FsErrorKind::WrongType,
        XfsError::NotFound { .. } => FsErrorKind::NotFound,
        XfsError::NotARegularFile | XfsError::NotASymlink => FsErrorKind::WrongType,
        XfsError::UnsupportedFeature(_) => FsErrorKind::Unsupported,
        XfsError::FileTooLarge { .. } | XfsError::OutOfMemory { .. } => FsErrorKind::LimitExceeded,
        XfsError::Io { .. } => FsErrorKind::Corrupt,
        _ => FsErrorKind::Corrupt,
    };
    FsError::new(kind, path, format!("xfs: {e:?}"))
}

fn kind_of(k: EntryKind) -> FileType {
    match k {
        EntryKind::Regular => FileType::File,
        EntryKind::Directory => FileType::Dir,
        EntryKind::Symlink => FileType::Symlink,
        EntryKind::Other => FileType::Other,
    }
}

fn format_uuid(u: [u8; 16]) -> Option<String> {
    if u == [0; 16] {
        return None;
    }
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8)?,
        h.get(8..12)?,
        h.get(12..16)?,
        h.get(16..20)?,
        h.get(20..32)?
    ))
}

impl XfsFs {
    /// Open the XFS filesystem on `dev`: reads and checks the superblock (and
    /// replays a dirty log into memory).
    pub fn open(dev: Arc<dyn BlockDevice>) -> Result<Self, FsError> {
        let size = dev.size();
        let state = Arc::new(ReadState::default());
        state.budget.store(METADATA_READ_BUDGET, Ordering::Relaxed);
        let reader = DevReader {
            dev,
            state: Arc::clone(&state),
        };
        let xfs = Xfs::open(reader, size).map_err(|e| state.error(e, ""))?;
        let uuid = format_uuid(xfs.uuid());
        let label = xfs.label().map(str::to_string).filter(|l| !l.is_empty());
        Ok(Self {
            xfs: Mutex::new(xfs),
            state,
            uuid,
            label,
        })
    }

    /// Run `op` on the handle with a fresh budget of metadata plus `data` bytes.
    fn with<T>(
        &self,
        path: &str,
        data: u64,
        op: impl FnOnce(&mut Xfs<DevReader>) -> Result<T, XfsError>,
    ) -> Result<T, FsError> {
        let mut xfs = self.xfs.lock().unwrap_or_else(|p| p.into_inner());
        let budget = METADATA_READ_BUDGET.saturating_add(data);
        self.state.budget.store(budget, Ordering::Relaxed);
        *self
            .state
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        op(&mut xfs).map_err(|e| self.state.error(e, path))
    }
}

impl ReadState {
    /// The error to report for `e`: the device's own, the spent budget, or lamxfs's.
    fn error(&self, e: XfsError, path: &str) -> FsError {
        let device = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match device {
            Some(d) => {
                let mut err = block_err(d, "reading the XFS volume");
                err.path = path.to_string();
                err
            }
            None => map_xfs(e, path, self.budget.load(Ordering::Relaxed) == 0),
        }
    }
}

/// `path` normalised (`..` applied lexically), as lamxfs takes it.
fn normal(path: &str) -> Result<String, FsError> {
    Ok(join(&components(path)?))
}

/// The inode at `path` and what it is.
fn stat(x: &mut Xfs<DevReader>, path: &str) -> Result<(Inode, lamxfs::Metadata), XfsError> {
    let inode = x.resolve(Path::new(path.as_bytes()))?;
    let md = x.metadata(&inode)?;
    Ok((inode, md))
}

fn file_type(md: &lamxfs::Metadata) -> FileType {
    if md.is_file() {
        FileType::File
    } else if md.is_dir() {
        FileType::Dir
    } else if md.is_symlink() {
        FileType::Symlink
    } else {
        FileType::Other
    }
}

/// Fill `out` from `inode` at offset 0 (a short file leaves the rest unread);
/// returns how many bytes were read.
fn read_into(x: &mut Xfs<DevReader>, inode: &Inode, out: &mut [u8]) -> Result<usize, XfsError> {
    let mut filled = 0usize;
    while let Some(dst) = out.get_mut(filled..).filter(|d| !d.is_empty()) {
        let n = x.read_file_at(inode, filled as u64, dst)?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

impl XfsFs {
    /// Read the regular file at `path`: refused over `limit` unless `head`, when only
    /// its first `limit` bytes are read.
    fn read_impl(&self, path: &str, limit: u64, head: bool) -> Result<Vec<u8>, FsError> {
        let p = normal(path)?;
        let limit = limit.min(MAX_FILE_READ);
        let (inode, md) = self.with(&p, 0, |x| stat(x, &p))?;
        if !md.is_file() {
            return Err(FsError::new(
                FsErrorKind::WrongType,
                p,
                "not a regular file",
            ));
        }
        if md.size() > limit && !head {
            return Err(FsError::new(
                FsErrorKind::LimitExceeded,
                p,
                format!("file is {} bytes, over the limit of {limit}", md.size()),
            ));
        }
        // Bounded by `limit` (at most MAX_FILE_READ).
        let len = md.size().min(limit);
        let mut out = vec![0u8; len as usize];
        let n = self.with(&p, len, |x| read_into(x, &inode, &mut out))?;
        out.truncate(n);
        Ok(out)
    }
}

impl Filesystem for XfsFs {
    fn fs_type(&self) -> &str {
        "xfs"
    }
    fn uuid(&self) -> Option<String> {
        self.uuid.clone()
    }
    fn label(&self) -> Option<String> {
        self.label.clone()
    }
    fn lstat(&self, path: &str) -> Result<Metadata, FsError> {
        let p = normal(path)?;
        let (_, md) = self.with(&p, 0, |x| stat(x, &p))?;
        Ok(Metadata {
            file_type: file_type(&md),
            len: md.size(),
            mode: Some(md.mode()),
        })
    }
    fn read_link(&self, path: &str) -> Result<String, FsError> {
        let p = normal(path)?;
        let (_, md) = self.with(&p, 0, |x| stat(x, &p))?;
        if !md.is_symlink() {
            return Err(FsError::new(FsErrorKind::WrongType, p, "not a symlink"));
        }
        if md.size() > MAX_SYMLINK_LEN {
            return Err(FsError::new(
                FsErrorKind::LimitExceeded,
                p,
                format!("symlink target longer than {MAX_SYMLINK_LEN} bytes"),
            ));
        }
        let target = self.with(&p, MAX_SYMLINK_LEN, |x| {
            x.read_link(Path::new(p.as_bytes()))
        })?;
        String::from_utf8(target)
            .map_err(|_| FsError::new(FsErrorKind::Corrupt, p, "symlink target is not UTF-8"))
    }
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let p = normal(path)?;
        let (_, md) = self.with(&p, 0, |x| stat(x, &p))?;
        if !md.is_dir() {
            return Err(FsError::new(FsErrorKind::WrongType, p, "not a directory"));
        }
        let raw = self.with(&p, 0, |x| x.read_dir(Path::new(p.as_bytes())))?;
        let mut out = Vec::new();
        for e in raw {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            if out.len() == MAX_DIR_ENTRIES {
                return Err(FsError::new(
                    FsErrorKind::LimitExceeded,
                    p,
                    format!("more than {MAX_DIR_ENTRIES} entries"),
                ));
            }
            out.push(DirEntry {
                name: String::from_utf8_lossy(&e.name).into_owned(),
                file_type: kind_of(e.kind),
            });
        }
        Ok(out)
    }
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, limit, false)
    }
    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, max_len, true)
    }
}
