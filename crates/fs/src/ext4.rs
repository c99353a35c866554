//! ext2/ext3/ext4 through the `ext4-view` crate.
//!
//! `ext4-view` promises no panic and no endless loop on any input, reads ext2 and
//! ext3 (block maps) as well as ext4 (extents), and rejects what it cannot read
//! (`Incompatible`, reported here as [`FsErrorKind::Unsupported`]): filesystems
//! without the `filetype` directory feature (very old ext2), `meta_bg`,
//! `inline_data`, `large_dir`, `ea_inode`, `dirdata`, compression, an external
//! journal, and encrypted directories.
//!
//! # Why a thread-local cache
//! `ext4_view::Ext4` holds an `Rc` and `RefCell`s, so it is neither `Send` nor
//! `Sync`, while [`Filesystem`] must be both (several crates share one
//! `Box<dyn Filesystem>` across threads). Without `unsafe`, the loaded `Ext4`
//! cannot live in [`Ext4Fs`] itself. So [`Ext4Fs`] holds only the device; the
//! loaded `Ext4` (superblock, group descriptors, journal map and a 256 KiB block
//! cache) lives in a small per-thread table keyed by the `Ext4Fs`'s id. The thread
//! that opens the filesystem loads it once and reuses it for every call; another
//! thread using the same `Ext4Fs` loads its own copy on first use. Entries die with
//! their `Ext4Fs` (removed on drop on the dropping thread, and purged lazily on the
//! others) and each thread keeps at most [`MAX_LOADED_PER_THREAD`].

use crate::path::{components, join, join_child};
use crate::probe::{block_err, probe_ext};
use crate::read_bounds::check_fits_device;
use crate::{
    ChunkVisitor, DetailedEntry, DirEntry, FileType, Filesystem, FsError, FsErrorKind, Metadata,
    SubdirFileVisitor, MAX_DIR_ENTRIES, MAX_FILE_READ, MAX_SYMLINK_LEN, READ_CHUNK_LEN,
};
use ext4_view::{Ext4, Ext4Error, Ext4Read};
use guestctl_block::BlockDevice;
use std::cell::RefCell;
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Loaded filesystems one thread keeps (each about 300 KiB): enough for every
/// filesystem of a multi-disk guest, small enough that a long batch on many images
/// cannot accumulate memory on one thread.
pub const MAX_LOADED_PER_THREAD: usize = 16;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Loaded {
    id: u64,
    owner: Weak<()>,
    fs: Ext4,
}

thread_local! {
    static LOADED: RefCell<Vec<Loaded>> = const { RefCell::new(Vec::new()) };
}

/// `ext4-view`'s reader over our block device.
struct DevReader(Arc<dyn BlockDevice>);

impl Ext4Read for DevReader {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .read_exact_at(start_byte, dst)
            .map_err(|e| Box::new(e) as _)
    }
}

/// An ext2, ext3 or ext4 filesystem, read-only.
pub struct Ext4Fs {
    id: u64,
    alive: Arc<()>,
    dev: Arc<dyn BlockDevice>,
    fs_type: String,
    uuid: Option<String>,
    label: Option<String>,
    /// Directory paths already checked to be real directories reached without a
    /// symlink (see `check_no_symlink`). The filesystem is read-only and never
    /// changes under us, so a check once made stays true; bounded by
    /// [`MAX_VERIFIED_DIRS`] (cleared when full).
    verified_dirs: Mutex<HashSet<String>>,
}

/// Subdirectory entries `for_each_subdir_file` sorts by inode at a time (each
/// holds its name, up to 255 bytes: a few hundred KiB at most).
const SUBDIR_BATCH: usize = 1024;

/// What `Ext4Fs::walk_dir` calls for each entry.
type EntryVisitor<'a> = dyn FnMut(&ext4_view::DirEntry) -> Result<ControlFlow<()>, FsError> + 'a;

/// Most directory paths remembered as symlink-free per filesystem.
const MAX_VERIFIED_DIRS: usize = 4096;

impl std::fmt::Debug for Ext4Fs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ext4Fs")
            .field("fs_type", &self.fs_type)
            .field("uuid", &self.uuid)
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

impl Drop for Ext4Fs {
    fn drop(&mut self) {
        let id = self.id;
        // `try_with`: during thread teardown the table may already be gone.
        let _ = LOADED.try_with(|l| {
            if let Ok(mut l) = l.try_borrow_mut() {
                l.retain(|s| s.id != id);
            }
        });
    }
}

fn map_err(e: Ext4Error, path: &str) -> FsError {
    let kind = match &e {
        Ext4Error::NotFound => FsErrorKind::NotFound,
        Ext4Error::NotADirectory
        | Ext4Error::IsADirectory
        | Ext4Error::IsASpecialFile
        | Ext4Error::NotASymlink => FsErrorKind::WrongType,
        Ext4Error::Io(_) => FsErrorKind::Io,
        Ext4Error::Corrupt(_) => FsErrorKind::Corrupt,
        Ext4Error::Incompatible(_) | Ext4Error::Encrypted => FsErrorKind::Unsupported,
        Ext4Error::FileTooLarge | Ext4Error::PathTooLong | Ext4Error::TooManySymlinks => {
            FsErrorKind::LimitExceeded
        }
        Ext4Error::NotAbsolute | Ext4Error::MalformedPath | Ext4Error::NotUtf8 => {
            FsErrorKind::InvalidPath
        }
        _ => FsErrorKind::Corrupt,
    };
    // The message is the whole of `e`'s text (an I/O cause included): attaching
    // `e` as the source too would print it twice in an error chain.
    FsError::new(kind, path, e.to_string())
}

/// Refuse a superblock whose block group descriptor table could not fit on the
/// device. `ext4-view` 1.0 reserves a `Vec` of one descriptor per group counted
/// from the superblock before reading any of them, so a forged block count (or a
/// tiny `s_blocks_per_group`) made it allocate gigabytes (found by the `fs_ext4`
/// fuzz target; see the test `fuzz_oom_forged_block_group_count`). Descriptors
/// must physically be on the device, so their count times their size is bounded
/// by its size: an honest filesystem always passes.
fn check_group_table_fits(sb: &[u8], dev_size: u64) -> Result<(), FsError> {
    let u32_at = |off: usize| -> u64 {
        sb.get(off..off.saturating_add(4))
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b: [u8; 4]| u64::from(u32::from_le_bytes(b)))
    };
    let incompat = u32_at(0x60);
    let is_64bit = incompat & 0x80 != 0;
    // `ext4-view` adds `s_blocks_count_hi` even without the 64bit feature, so the
    // check must too (the second fuzz finding: garbage in the high word).
    let blocks = u32_at(0x150) << 32 | u32_at(0x04);
    let first_data_block = u32_at(0x14);
    let per_group = u32_at(0x20);
    let desc_size = if is_64bit { u32_at(0xfc) >> 16 } else { 32 };
    let corrupt = |msg: String| Err(FsError::new(FsErrorKind::Corrupt, "", msg));
    if per_group == 0 {
        return corrupt("s_blocks_per_group is zero".into());
    }
    let groups = blocks.saturating_sub(first_data_block).div_ceil(per_group);
    let table_len = groups.saturating_mul(desc_size.max(32));
    if table_len > dev_size {
        return corrupt(format!(
            "superblock claims {groups} block groups; their descriptors ({table_len} bytes) cannot fit on a device of {dev_size} bytes"
        ));
    }
    Ok(())
}

fn file_type(t: ext4_view::FileType) -> FileType {
    if t.is_regular_file() {
        FileType::File
    } else if t.is_dir() {
        FileType::Dir
    } else if t.is_symlink() {
        FileType::Symlink
    } else {
        FileType::Other
    }
}

fn metadata(md: &ext4_view::Metadata) -> Metadata {
    Metadata {
        file_type: file_type(md.file_type()),
        len: md.len(),
        mode: Some(u32::from(md.mode())),
    }
}

/// The entry `entry` of the directory `dir`, its inode read directly (no lookup).
fn detailed(entry: &ext4_view::DirEntry, dir: &str) -> Result<DetailedEntry, FsError> {
    let name = String::from_utf8_lossy(entry.file_name().as_ref()).into_owned();
    let file_type = file_type(entry.file_type().map_err(|e| map_err(e, dir))?);
    let full = join_child(dir, &name);
    let is_link = file_type == FileType::Symlink;
    let (metadata, target) = match entry.metadata() {
        Ok(md) => {
            let target = is_link.then(|| {
                check_symlink(&md, &full)?;
                let t = entry.read_link().map_err(|e| map_err(e, &full))?;
                Ok(String::from_utf8_lossy(t.as_ref()).into_owned())
            });
            (Ok(metadata(&md)), target)
        }
        Err(e) => {
            let e = map_err(e, &full);
            let target = is_link.then(|| Err(FsError::new(e.kind, &full, "inode unreadable")));
            (Err(e), target)
        }
    };
    Ok(DetailedEntry {
        entry: DirEntry { name, file_type },
        metadata,
        target,
    })
}

/// `md` is a symlink's, with a target short enough to read.
fn check_symlink(md: &ext4_view::Metadata, path: &str) -> Result<(), FsError> {
    if !md.is_symlink() {
        return Err(wrong_type(path, "not a symlink"));
    }
    if md.len() > MAX_SYMLINK_LEN {
        return Err(FsError::new(
            FsErrorKind::LimitExceeded,
            path,
            format!("symlink target longer than {MAX_SYMLINK_LEN} bytes"),
        ));
    }
    Ok(())
}

fn wrong_type(path: &str, msg: &str) -> FsError {
    FsError::new(FsErrorKind::WrongType, path, msg)
}

fn check_regular(t: FileType, path: &str) -> Result<(), FsError> {
    match t {
        FileType::File => Ok(()),
        FileType::Symlink => Err(wrong_type(path, "is a symlink")),
        FileType::Dir => Err(wrong_type(path, "is a directory")),
        FileType::Other => Err(wrong_type(path, "is a special file")),
    }
}

impl Ext4Fs {
    /// Open the ext2/3/4 filesystem on `dev`: reads and checks the superblock, the
    /// group descriptors and the journal.
    pub fn open(dev: Arc<dyn BlockDevice>) -> Result<Self, FsError> {
        let mut head = vec![0u8; 2048];
        dev.read_exact_at(0, &mut head)
            .map_err(|e| block_err(e, "reading the ext superblock"))?;
        let probed = probe_ext(&head)
            .ok_or_else(|| FsError::new(FsErrorKind::Corrupt, "", "no ext2/3/4 superblock"))?;
        check_group_table_fits(head.get(1024..2048).unwrap_or(&[]), dev.size())?;
        let this = Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
            dev,
            fs_type: probed.fs_type,
            uuid: probed.uuid,
            label: probed.label,
            verified_dirs: Mutex::new(HashSet::new()),
        };
        this.with_fs()?;
        Ok(this)
    }

    /// This thread's loaded `Ext4` for this filesystem, loading it if needed.
    fn with_fs(&self) -> Result<Ext4, FsError> {
        LOADED.with(|l| {
            let mut l = l
                .try_borrow_mut()
                .map_err(|_| FsError::new(FsErrorKind::Io, "", "ext4 table busy"))?;
            l.retain(|s| s.owner.strong_count() > 0);
            if let Some(s) = l.iter().find(|s| s.id == self.id) {
                return Ok(s.fs.clone());
            }
            let fs = Ext4::load(Box::new(DevReader(Arc::clone(&self.dev))))
                .map_err(|e| map_err(e, ""))?;
            if l.len() >= MAX_LOADED_PER_THREAD {
                l.remove(0);
            }
            l.push(Loaded {
                id: self.id,
                owner: Arc::downgrade(&self.alive),
                fs: fs.clone(),
            });
            Ok(fs)
        })
    }

    /// Fail unless every component of `comps` is a real directory (no symlink):
    /// `canonicalize` resolves symlinks, so any difference means one was there.
    fn check_no_symlink(fs: &Ext4, comps: &[&str], path: &str) -> Result<(), FsError> {
        if comps.is_empty() {
            return Ok(());
        }
        let p = join(comps);
        let symlink_err = || {
            wrong_type(
                path,
                "a path component is a symlink; resolve it component by component",
            )
        };
        match fs.canonicalize(p.as_str()) {
            Ok(canon) if AsRef::<[u8]>::as_ref(&canon) == p.as_bytes() => Ok(()),
            Ok(_) => Err(symlink_err()),
            Err(_) => {
                // Say precisely what is wrong (a dangling or looping symlink on the
                // way makes `canonicalize` fail): walk the prefixes without following.
                for i in 1..=comps.len() {
                    let prefix = join(comps.get(..i).unwrap_or(&[]));
                    let md = fs
                        .symlink_metadata(prefix.as_str())
                        .map_err(|e| map_err(e, path))?;
                    if md.is_symlink() {
                        return Err(symlink_err());
                    }
                    if !md.is_dir() {
                        return Err(wrong_type(path, "a path component is not a directory"));
                    }
                }
                Err(FsError::new(
                    FsErrorKind::Corrupt,
                    path,
                    "path resolution failed",
                ))
            }
        }
    }

    /// Normalised path with its parent checked to hold no symlink.
    fn is_verified(&self, dir: &str) -> bool {
        self.verified_dirs
            .lock()
            .map(|v| v.contains(dir))
            .unwrap_or(false)
    }

    fn remember_verified(&self, dir: String) {
        if let Ok(mut v) = self.verified_dirs.lock() {
            if v.len() >= MAX_VERIFIED_DIRS {
                v.clear();
            }
            v.insert(dir);
        }
    }

    /// Open the regular file at `path`, refusing a symlink anywhere on the way (the
    /// last component included), a directory or a special file.
    ///
    /// Every path resolution in `ext4-view` scans each directory on the way, so
    /// this does two, not three: when the parent is not yet known to be
    /// symlink-free, `canonicalize` of the whole path (which resolves every
    /// symlink, the last one too) equal to the path proves there is no symlink at
    /// all, and `open` (which follows symlinks) then opens exactly `path`. When it
    /// differs or fails, the component-wise checks of `prepare` name the problem.
    fn open_regular(&self, path: &str) -> Result<ext4_view::File, FsError> {
        let comps = components(path)?;
        let parent = join(comps.get(..comps.len().saturating_sub(1)).unwrap_or(&[]));
        let fs = self.with_fs()?;
        let p = join(&comps);
        let proven = !comps.is_empty()
            && !self.is_verified(&parent)
            && matches!(fs.canonicalize(p.as_str()),
                        Ok(c) if AsRef::<[u8]>::as_ref(&c) == p.as_bytes());
        let fs = if proven {
            if comps.len() > 1 {
                self.remember_verified(parent);
            }
            fs
        } else {
            let (fs, _) = self.prepare(path)?;
            let md = fs
                .symlink_metadata(p.as_str())
                .map_err(|e| map_err(e, path))?;
            check_regular(file_type(md.file_type()), path)?;
            fs
        };
        let file = fs.open(p.as_str()).map_err(|e| map_err(e, path))?;
        check_regular(file_type(file.metadata().file_type()), path)?;
        Ok(file)
    }

    fn prepare(&self, path: &str) -> Result<(Ext4, String), FsError> {
        let comps = components(path)?;
        let fs = self.with_fs()?;
        let parent = comps.get(..comps.len().saturating_sub(1)).unwrap_or(&[]);
        if !parent.is_empty() {
            // Reading many files of one directory (pacman's `local/*/desc`, dpkg's
            // `info/*.list`) checks the same parents again and again: each check
            // resolves the whole path, so remember the ones that passed.
            let dir = join(parent);
            if !self.is_verified(&dir) {
                Self::check_no_symlink(&fs, parent, path)?;
                self.remember_verified(dir);
            }
        }
        Ok((fs, join(&comps)))
    }
}

impl Filesystem for Ext4Fs {
    fn fs_type(&self) -> &str {
        &self.fs_type
    }
    fn uuid(&self) -> Option<String> {
        self.uuid.clone()
    }
    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn lstat(&self, path: &str) -> Result<Metadata, FsError> {
        let (fs, p) = self.prepare(path)?;
        let md = fs
            .symlink_metadata(p.as_str())
            .map_err(|e| map_err(e, path))?;
        Ok(metadata(&md))
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        let (fs, p) = self.prepare(path)?;
        let md = fs
            .symlink_metadata(p.as_str())
            .map_err(|e| map_err(e, path))?;
        check_symlink(&md, path)?;
        let target = fs.read_link(p.as_str()).map_err(|e| map_err(e, path))?;
        Ok(String::from_utf8_lossy(target.as_ref()).into_owned())
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let mut out = Vec::new();
        self.walk_dir(path, &mut |entry| {
            let name = entry.file_name();
            let name = name.as_ref();
            let ft = entry.file_type().map_err(|e| map_err(e, path))?;
            out.push(DirEntry {
                name: String::from_utf8_lossy(name).into_owned(),
                file_type: file_type(ft),
            });
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    fn read_dir_detailed(&self, path: &str) -> Result<Vec<DetailedEntry>, FsError> {
        let mut out = Vec::new();
        self.walk_dir(path, &mut |entry| {
            out.push(detailed(entry, path)?);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, limit, false)
    }

    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, max_len, true)
    }

    fn read_file_chunks(&self, path: &str, f: &mut ChunkVisitor<'_>) -> Result<(), FsError> {
        let mut file = self.open_regular(path)?;
        let mut buf = vec![0u8; READ_CHUNK_LEN];
        loop {
            let n = file.read_bytes(&mut buf).map_err(|e| map_err(e, path))?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                return Ok(());
            };
            if f(chunk).is_break() {
                return Ok(());
            }
        }
    }

    /// One path resolution for `dir`; then each subdirectory and each file is
    /// reached through its directory entry (the patched `ext4-view`'s
    /// `DirEntry::read_dir` and `DirEntry::open`, which read the entry's inode and
    /// never follow a symlink), instead of a walk from `/` per file. A package
    /// directory holds a handful of entries, scanned linearly.
    fn for_each_subdir_file(
        &self,
        dir: &str,
        name: &str,
        limit: u64,
        f: &mut SubdirFileVisitor<'_>,
    ) -> Result<(), FsError> {
        let p = join(&components(dir)?);
        // Subdirectories are visited in batches, each in inode order: a hash-tree
        // directory stores its entries in hash order, and visiting them so jumps
        // around the inode tables (on a 2,000-package arch guest, 3,948 device
        // reads instead of 310). Batches bound the memory held.
        let mut batch: Vec<ext4_view::DirEntry> = Vec::new();
        let mut stopped = false;
        let mut visit = |batch: &mut Vec<ext4_view::DirEntry>| -> ControlFlow<()> {
            batch.sort_unstable_by_key(ext4_view::DirEntry::inode);
            for entry in batch.drain(..) {
                let sub = String::from_utf8_lossy(entry.file_name().as_ref()).into_owned();
                // Paths only for error messages: built when one is needed.
                let sub_path = || join_child(&p, &sub);
                let read = match entry.read_dir() {
                    // A symlink or other non-directory recorded as a directory:
                    // skipped, like one recorded as what it is.
                    Err(Ext4Error::NotADirectory) => continue,
                    Err(e) => Err(map_err(e, &sub_path())),
                    Ok(children) => self
                        .read_child_file(children, name, limit, &|| join_child(&sub_path(), name)),
                };
                if f(&sub, read).is_break() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        };
        self.walk_dir(dir, &mut |entry| {
            // The recorded type is a hint; `DirEntry::read_dir` checks the inode.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                batch.push(entry.clone());
            }
            if batch.len() >= SUBDIR_BATCH {
                stopped = visit(&mut batch).is_break();
                if stopped {
                    return Ok(ControlFlow::Break(()));
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
        if !stopped {
            let _ = visit(&mut batch);
        }
        Ok(())
    }
}

impl Ext4Fs {
    /// Call `f(entry)` for each entry of the directory `path` but `.` and
    /// `..`, in directory order, after checking that no component of `path` is a
    /// symlink; at most [`MAX_DIR_ENTRIES`] entries.
    fn walk_dir(&self, path: &str, f: &mut EntryVisitor<'_>) -> Result<(), FsError> {
        let comps = components(path)?;
        let fs = self.with_fs()?;
        Self::check_no_symlink(&fs, &comps, path)?;
        let iter = fs
            .read_dir(join(&comps).as_str())
            .map_err(|e| map_err(e, path))?;
        let mut seen = 0usize;
        for entry in iter {
            let entry = entry.map_err(|e| map_err(e, path))?;
            if matches!(entry.file_name().as_ref(), b"." | b"..") {
                continue;
            }
            if seen >= MAX_DIR_ENTRIES {
                return Err(FsError::new(
                    FsErrorKind::LimitExceeded,
                    path,
                    format!("directory has more than {MAX_DIR_ENTRIES} entries"),
                ));
            }
            seen = seen.saturating_add(1);
            if f(&entry)?.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The regular file `name` among `children` (a directory's entries), opened
    /// through its entry and read; `file_path()` names it in errors.
    fn read_child_file(
        &self,
        children: ext4_view::ReadDir,
        name: &str,
        limit: u64,
        file_path: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, FsError> {
        for child in children {
            let child = child.map_err(|e| map_err(e, &file_path()))?;
            if child.file_name().as_ref() != name.as_bytes() {
                continue;
            }
            let file = child.open().map_err(|e| match e {
                Ext4Error::IsASpecialFile if child.file_type().is_ok_and(|t| t.is_symlink()) => {
                    wrong_type(&file_path(), "is a symlink")
                }
                e => map_err(e, &file_path()),
            })?;
            return self.read_open(file, limit, false, file_path);
        }
        Err(FsError::new(
            FsErrorKind::NotFound,
            file_path(),
            "no such file",
        ))
    }

    /// `read_file` (`head == false`: refuse files over `limit`) or `read_file_head`
    /// (`head == true`: read at most the first `limit` bytes).
    fn read_impl(&self, path: &str, limit: u64, head: bool) -> Result<Vec<u8>, FsError> {
        let file = self.open_regular(path)?;
        self.read_open(file, limit, head, &|| path.to_string())
    }

    /// Read the opened `file` (named `path()` in errors), as [`Self::read_impl`].
    fn read_open(
        &self,
        mut file: ext4_view::File,
        limit: u64,
        head: bool,
        path: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, FsError> {
        let limit = limit.min(MAX_FILE_READ);
        let md_len = file.metadata().len();
        if md_len > limit && !head {
            return Err(FsError::new(
                FsErrorKind::LimitExceeded,
                path(),
                format!("file is {md_len} bytes, over the limit of {limit}"),
            ));
        }
        if !head {
            check_fits_device(md_len, self.dev.size(), &path())?;
        }
        let len = usize::try_from(md_len.min(limit)).map_err(|_| {
            FsError::new(
                FsErrorKind::LimitExceeded,
                path(),
                "file too large for memory",
            )
        })?;
        // Start with what the device could hold; grow only as data actually arrives
        // (a sparse file may legitimately be larger than its device).
        let dev_len = usize::try_from(self.dev.size()).unwrap_or(usize::MAX);
        let mut out = vec![0u8; len.min(dev_len)];
        let mut filled = 0usize;
        loop {
            if filled == out.len() {
                if out.len() >= len {
                    break;
                }
                let grown = out.len().saturating_mul(2).max(1 << 16).min(len);
                out.resize(grown, 0);
            }
            let dst = out.get_mut(filled..).unwrap_or_default();
            let n = file.read_bytes(dst).map_err(|e| map_err(e, &path()))?;
            if n == 0 {
                break;
            }
            filled = filled.saturating_add(n);
        }
        out.truncate(filled);
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use guestctl_block::MemDevice;

    /// A superblock that passes `ext4-view`'s checks but claims 2^32 - 1 blocks in
    /// groups of one block. Before `check_group_table_fits`, `Ext4::load` tried to
    /// reserve ~2.8 GB (the `fs_ext4` fuzz target's first finding, an OOM).
    #[test]
    fn fuzz_oom_forged_block_group_count() {
        let mut d = vec![0u8; 8192];
        let sb = 1024;
        let put32 = |d: &mut Vec<u8>, off: usize, v: u32| {
            d[sb + off..sb + off + 4].copy_from_slice(&v.to_le_bytes())
        };
        put32(&mut d, 0x00, 16); // s_inodes_count
        put32(&mut d, 0x04, u32::MAX); // s_blocks_count_lo
        put32(&mut d, 0x14, 1); // s_first_data_block
        put32(&mut d, 0x18, 0); // s_log_block_size: 1 KiB
        put32(&mut d, 0x20, 1); // s_blocks_per_group
        put32(&mut d, 0x28, 16); // s_inodes_per_group
        d[sb + 0x38..sb + 0x3a].copy_from_slice(&0xEF53u16.to_le_bytes());
        put32(&mut d, 0x4c, 1); // s_rev_level
        d[sb + 0x58..sb + 0x5a].copy_from_slice(&128u16.to_le_bytes()); // s_inode_size
        put32(&mut d, 0x60, 0x2); // filetype
        let dev: Arc<dyn BlockDevice> = Arc::new(MemDevice::new(d));
        let e = Ext4Fs::open(dev).unwrap_err();
        assert_eq!(e.kind, FsErrorKind::Corrupt);
        assert!(e.message.contains("block groups"), "{e}");
    }

    /// Second finding: a small, honest-looking `s_blocks_count_lo` (64) with 8192
    /// blocks per group, but garbage (334) in `s_blocks_count_hi` on a filesystem
    /// without the 64bit feature; `ext4-view` counts the high word anyway.
    #[test]
    fn fuzz_oom_blocks_count_hi_without_64bit() {
        let mut sb = vec![0u8; 1024];
        sb[0x04..0x08].copy_from_slice(&64u32.to_le_bytes());
        sb[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        sb[0x20..0x24].copy_from_slice(&8192u32.to_le_bytes());
        sb[0x60..0x64].copy_from_slice(&2u32.to_le_bytes());
        assert!(check_group_table_fits(&sb, 3455).is_ok());
        sb[0x150..0x154].copy_from_slice(&334u32.to_le_bytes());
        let e = check_group_table_fits(&sb, 3455).unwrap_err();
        assert_eq!(e.kind, FsErrorKind::Corrupt);
    }

    #[test]
    fn group_table_check_accepts_honest_numbers() {
        let mut sb = vec![0u8; 1024];
        sb[0x04..0x08].copy_from_slice(&16384u32.to_le_bytes());
        sb[0x20..0x24].copy_from_slice(&8192u32.to_le_bytes());
        assert!(check_group_table_fits(&sb, 16 << 20).is_ok());
        assert!(check_group_table_fits(&sb, 63).is_err());
        sb[0x20..0x24].fill(0);
        assert!(check_group_table_fits(&sb, 16 << 20).is_err());
    }
}
