//! Filesystems: recognise what a block device holds, and read files from it.
//!
//! [`probe`] names what a device holds by its magic numbers, as `blkid` does
//! (`ext2`/`ext3`/`ext4`, `vfat`, `ntfs`, `xfs`, `btrfs`, `swap`, `crypto_LUKS`,
//! `LVM2_member`), with UUID and label, reading only a few sectors.
//! [`open`] returns a [`Filesystem`]: the read-only, path-based view every driver
//! offers — [`Ext4Fs`] (ext2/3/4 through `ext4-view`), [`FatFs`] (FAT12/16/32
//! through `fatfs`), [`NtfsFs`] (through `ntfs`) and [`XfsFs`] (through `lamxfs`).
//!
//! | driver | reads | not supported |
//! |---|---|---|
//! | [`Ext4Fs`] | ext2, ext3, ext4 (block maps and extents, htree, journal replay map, metadata checksums) | no `filetype` feature, `meta_bg`, `inline_data`, `large_dir`, `ea_inode`, encryption, external journal (→ [`FsErrorKind::Unsupported`]) |
//! | [`FatFs`] | FAT12/16/32, long names, case-insensitive lookup | no symlinks or modes on FAT (none exist) |
//! | [`XfsFs`] | XFS v4 and v5: shortform, block, leaf, node and B+tree directories; extent and B+tree files; inline and remote symlinks; a dirty log replayed in memory | realtime device, external log, unknown incompatible features (→ [`FsErrorKind::Unsupported`]) |
//! | [`NtfsFs`] | NTFS 3.x: resident and non-resident, sparse files, large indexes, case-insensitive lookup | reparse points (listed as `Other`, not followed), compressed/encrypted files, named streams |
//!
//! Nothing here writes: the block layer has no write method, and the `fatfs`
//! stream's `write` always fails.
//!
//! # Path semantics (all drivers)
//! Paths are absolute, `/`-separated, inside this one filesystem; `.` and empty
//! components are ignored and `..` is applied lexically. No operation follows a
//! symlink in the **final** component, and a symlink in an **intermediate**
//! component is refused with [`FsErrorKind::WrongType`] (never followed): a guest
//! symlink may point into another mounted filesystem, so callers (the inspector)
//! resolve symlinks themselves with [`Filesystem::lstat`] and
//! [`Filesystem::read_link`], one component at a time.
//!
//! # Limits
//! Every size taken from an image is bounded by a named constant:
//! [`MAX_FILE_READ`] (and the caller's own `limit` to [`Filesystem::read_file`]),
//! [`MAX_DIR_ENTRIES`], [`MAX_SYMLINK_LEN`], [`MAX_PATH_DEPTH`], [`MAX_PATH_LEN`],
//! [`MAX_NAME_LEN`]. A file is read into memory only when its size fits the
//! device holding it (a sparse file whose inode claims a gigabyte on a small image
//! is refused before anything is allocated); [`Filesystem::read_file_chunks`]
//! streams a file of any size. The FAT and NTFS drivers also have a per-operation read budget
//! ([`METADATA_READ_BUDGET`]) that stops loops inside the third-party parsers.
//!
//! ```
//! use guestctl_block::MemDevice;
//! // An all-zero device holds nothing recognisable.
//! let dev = MemDevice::new(vec![0u8; 1 << 16]);
//! assert_eq!(guestctl_fs::probe(&dev).unwrap(), None);
//! ```

#![forbid(unsafe_code)]

mod error;
mod ext4;
mod fat;
mod io;
mod ntfs;
mod path;
mod probe;
mod read_bounds;
mod xfs;

pub use error::{FsError, FsErrorKind};
pub use ext4::{Ext4Fs, MAX_LOADED_PER_THREAD};
pub use fat::{FatFs, FAT_MAX_DIR_ENTRIES};
pub use io::METADATA_READ_BUDGET;
pub use ntfs::NtfsFs;
pub use probe::{probe, Probed, PROBE_HEAD_LEN};
pub use xfs::XfsFs;

use guestctl_block::BlockDevice;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Hard ceiling on one [`Filesystem::read_file`], whatever limit the caller passes:
/// the file is read into memory, and the largest file inspection reads (an
/// `rpmdb.sqlite` of a big RHEL install) is a few hundred MiB at most.
pub const MAX_FILE_READ: u64 = 1 << 30;
/// Most entries one [`Filesystem::read_dir`] returns before failing with
/// [`FsErrorKind::LimitExceeded`]: real directories (`/var/lib/dpkg/info`,
/// `/usr/share/doc`) hold tens of thousands; a corrupt one could claim billions.
pub const MAX_DIR_ENTRIES: usize = 1 << 20;
/// Longest symlink target returned: Linux's `PATH_MAX`.
pub const MAX_SYMLINK_LEN: u64 = 4096;
/// Deepest path accepted (components after normalisation): far beyond any real
/// guest path, it bounds the work of one lookup.
pub const MAX_PATH_DEPTH: usize = 256;
/// Longest path accepted, in bytes (four times Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 16384;
/// Longest path component, in bytes: ext4 and FAT names are at most 255 bytes; NTFS
/// names 255 UTF-16 units, up to 765 UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 1024;

/// Open the filesystem on `dev`, choosing the driver by [`probe`].
///
/// Fails with [`FsErrorKind::Unsupported`] if nothing is recognised or the type
/// has no driver (btrfs, swap, LUKS, LVM2 are recognised but not opened).
pub fn open(dev: Arc<dyn BlockDevice>) -> Result<Box<dyn Filesystem>, FsError> {
    match probe(&*dev)? {
        Some(p) => open_as(dev, &p.fs_type),
        None => Err(FsError::new(
            FsErrorKind::Unsupported,
            "",
            "no known filesystem signature",
        )),
    }
}

/// Whether [`open_as`] has a driver for `fs_type` (a [`Probed::fs_type`]).
pub fn has_driver(fs_type: &str) -> bool {
    matches!(
        fs_type,
        "ext2" | "ext3" | "ext4" | "ext4dev" | "vfat" | "ntfs" | "xfs"
    )
}

/// Open `dev` with the driver for `fs_type` (a [`Probed::fs_type`]), without probing.
pub fn open_as(dev: Arc<dyn BlockDevice>, fs_type: &str) -> Result<Box<dyn Filesystem>, FsError> {
    match fs_type {
        "ext2" | "ext3" | "ext4" | "ext4dev" => Ok(Box::new(Ext4Fs::open(dev)?)),
        "vfat" => Ok(Box::new(FatFs::open(dev)?)),
        "ntfs" => Ok(Box::new(NtfsFs::open(dev)?)),
        "xfs" => Ok(Box::new(XfsFs::open(dev)?)),
        other => Err(FsError::new(
            FsErrorKind::Unsupported,
            "",
            format!("no driver for {other} filesystems"),
        )),
    }
}

/// The type of a directory entry or inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (device, fifo, socket).
    Other,
}

/// What `lstat` tells of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// File type (the link itself for a symlink).
    pub file_type: FileType,
    /// Size in bytes.
    pub len: u64,
    /// Permission bits, where the filesystem has them.
    pub mode: Option<u32>,
}

/// One entry of a directory listing (without `.` and `..`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name.
    pub name: String,
    /// Its type.
    pub file_type: FileType,
}

/// A directory entry with what [`Filesystem::lstat`] tells of it and, for a
/// symlink, what [`Filesystem::read_link`] tells: one line of `ls -l`.
#[derive(Debug)]
pub struct DetailedEntry {
    /// The entry.
    pub entry: DirEntry,
    /// Its metadata (of the link itself for a symlink).
    pub metadata: Result<Metadata, FsError>,
    /// Its target, for a symlink.
    pub target: Option<Result<String, FsError>>,
}

/// What [`Filesystem::for_each_subdir_file`] calls for each subdirectory: its name
/// and the file read in it (or why it could not be).
pub type SubdirFileVisitor<'a> = dyn FnMut(&str, Result<Vec<u8>, FsError>) -> ControlFlow<()> + 'a;

/// What [`Filesystem::read_file_chunks`] calls with each chunk of a file.
pub type ChunkVisitor<'a> = dyn FnMut(&[u8]) -> ControlFlow<()> + 'a;

/// Largest chunk [`Filesystem::read_file_chunks`] hands over at once.
pub const READ_CHUNK_LEN: usize = 64 * 1024;

/// A read-only filesystem. See the crate documentation for the path semantics
/// shared by every implementation.
pub trait Filesystem: Send + Sync + fmt::Debug {
    /// Which filesystem this is (`"ext4"`, `"vfat"`, `"ntfs"`, ...), as `blkid` names it.
    fn fs_type(&self) -> &str;
    /// The filesystem UUID as `blkid` prints it, if it has one.
    fn uuid(&self) -> Option<String>;
    /// The volume label, if any.
    fn label(&self) -> Option<String>;
    /// Metadata of `path`, not following a final symlink.
    fn lstat(&self, path: &str) -> Result<Metadata, FsError>;
    /// The target of the symlink at `path`.
    fn read_link(&self, path: &str) -> Result<String, FsError>;
    /// The entries of the directory at `path`.
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError>;
    /// The entries of the directory at `path` with their metadata and symlink
    /// targets (see [`DetailedEntry`]). The default looks each entry up by path;
    /// a driver whose lookups scan the directory (ext4 without a hash-tree index)
    /// reads them through the entries in one pass instead, so a directory of
    /// `n` entries costs `n` inode reads, not `n` scans of `n` entries.
    fn read_dir_detailed(&self, path: &str) -> Result<Vec<DetailedEntry>, FsError> {
        let entries = self.read_dir(path)?;
        Ok(entries
            .into_iter()
            .map(|entry| {
                let full = path::join_child(path, &entry.name);
                let target = (entry.file_type == FileType::Symlink).then(|| self.read_link(&full));
                DetailedEntry {
                    metadata: self.lstat(&full),
                    entry,
                    target,
                }
            })
            .collect())
    }

    /// The contents of the regular file at `path`, refusing files over `limit` bytes
    /// and files larger than the device holding them (before allocating anything).
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError>;
    /// The first `max_len` bytes of the regular file at `path` (the whole file when
    /// it is shorter): a bounded partial read, for headers (ELF, PE) of files of
    /// any size. Reads only the data it returns (plus the metadata to find it).
    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, FsError>;

    /// The contents of the regular file at `path`, of any size, handed to `f` a
    /// chunk at a time (at most [`READ_CHUNK_LEN`] bytes each), in order: memory
    /// stays bounded by one chunk, holes of a sparse file included. `f` returns
    /// [`ControlFlow::Break`] to stop early (e.g. its output failed).
    ///
    /// The default reads the whole file with [`Filesystem::read_file`]
    /// (bounded by [`MAX_FILE_READ`]) and hands it over in chunks; drivers whose
    /// files may be sparse stream them.
    fn read_file_chunks(&self, path: &str, f: &mut ChunkVisitor<'_>) -> Result<(), FsError> {
        let bytes = self.read_file(path, MAX_FILE_READ)?;
        for chunk in bytes.chunks(READ_CHUNK_LEN) {
            if f(chunk).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// For every subdirectory `D` of the directory `dir`, in an order of the
    /// driver's choosing (directory order by default; ext4 sorts by inode), call
    /// `f(D, contents of D/name)`: the layout of package databases with one
    /// directory per package (pacman's `local/<name>-<version>/desc`). A `D/name`
    /// that is missing, not a regular file, a symlink, or over `limit` bytes gives
    /// that entry an `Err` and the walk goes on; an entry of `dir` that is a symlink
    /// (even to a directory) or not a directory is skipped. `f` returns
    /// [`ControlFlow::Break`] to stop early. Fails only if `dir` itself cannot be
    /// listed (then nothing is called).
    ///
    /// Memory stays bounded by one file at a time. The default reads each file by
    /// path with [`Filesystem::read_file`]; a driver whose path lookups are
    /// expensive (ext4 walks from `/` for every path) reads each file through its
    /// directory entry instead.
    fn for_each_subdir_file(
        &self,
        dir: &str,
        name: &str,
        limit: u64,
        f: &mut SubdirFileVisitor<'_>,
    ) -> Result<(), FsError> {
        for e in self.read_dir(dir)? {
            if e.file_type != FileType::Dir {
                continue;
            }
            let sub = path::join_child(&path::join_child(dir, &e.name), name);
            if f(&e.name, self.read_file(&sub, limit)).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Walk `fs` breadth-first from `/`, calling every operation on what it finds:
/// `read_dir` and `for_each_subdir_file` on directories, `lstat` on every entry,
/// `read_link` on symlinks and `read_file` (up to 1 MiB) on files, stopping after
/// `max_ops` operations.
/// Returns the number of operations that succeeded. Errors are expected on corrupt
/// images; this exists for fuzz targets and hostile-image tests, which check that
/// it returns at all (no panic, no hang).
#[doc(hidden)]
pub fn exercise(fs: &dyn Filesystem, max_ops: usize) -> usize {
    let mut ok = 0usize;
    let mut ops = 0usize;
    let mut queue = std::collections::VecDeque::from([String::from("/")]);
    let _ = (fs.fs_type(), fs.uuid(), fs.label());
    while let Some(dir) = queue.pop_front() {
        ops = ops.saturating_add(1);
        if ops > max_ops {
            break;
        }
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        ok = ok.saturating_add(1);
        // The same directory through the one-file-per-subdirectory reader.
        let mut budget = max_ops.saturating_sub(ops);
        let _ = fs.for_each_subdir_file(&dir, "desc", 1 << 20, &mut |_, r| {
            ok = ok.saturating_add(usize::from(r.is_ok()));
            budget = budget.saturating_sub(1);
            if budget == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        ops = max_ops.saturating_sub(budget);
        for e in entries {
            ops = ops.saturating_add(1);
            if ops > max_ops {
                break;
            }
            let path = if dir == "/" {
                format!("/{}", e.name)
            } else {
                format!("{dir}/{}", e.name)
            };
            let Ok(md) = fs.lstat(&path) else { continue };
            ok = ok.saturating_add(1);
            let r = match md.file_type {
                FileType::Dir => {
                    queue.push_back(path);
                    continue;
                }
                FileType::Symlink => fs.read_link(&path).map(|_| ()),
                FileType::File => fs.read_file(&path, 1 << 20).map(|_| ()),
                FileType::Other => continue,
            };
            if r.is_ok() {
                ok = ok.saturating_add(1);
            }
        }
    }
    ok
}
