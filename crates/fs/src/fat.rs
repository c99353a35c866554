//! FAT12/16/32 through the `fatfs` crate, read-only.
//!
//! `fatfs` wants a `Read + Write + Seek` disk. It gets a [`DevStream`] whose
//! `write` always fails, and options that never write: accessed dates are not
//! updated, the volume is never marked dirty (that happens only on a write), and
//! the FSInfo sector is rewritten on unmount only if an allocation changed it.
//! Even if `fatfs` tried, nothing could reach the image: the block device has no
//! write method. A test hashes the image before and after every operation.
//!
//! `fatfs::FileSystem` is not `Send` (its options hold `&'static dyn` converters
//! without `Sync`), so [`FatFs`] keeps only the device and mounts afresh for each
//! operation: that reads one boot sector (and the FSInfo sector on FAT32), a few
//! microseconds.
//!
//! Lookups are ours, not `fatfs`'s (`open_dir`/`open_file` scan directories without
//! a bound): each directory scan stops after [`FAT_MAX_DIR_ENTRIES`] entries, names
//! compare case-insensitively (long name by Unicode uppercase, or the 8.3 name),
//! and every operation has a read budget against cluster-chain cycles. FAT has no
//! symlinks and no permission bits (`mode` is `None`).

use crate::io::{guarded, map_io, Budget, DevRef, DevStream, METADATA_READ_BUDGET};
use crate::path::components;
use crate::probe::block_err;
use crate::{
    DirEntry, FileType, Filesystem, FsError, FsErrorKind, Metadata, MAX_DIR_ENTRIES, MAX_FILE_READ,
};
use guestctl_block::BlockDevice;
use std::io::Read;
use std::sync::Arc;

/// Most entries a FAT directory can hold by specification (its size is limited to
/// 2 MiB of 32-byte entries); a scan past this is a cluster-chain loop.
pub const FAT_MAX_DIR_ENTRIES: usize = 65536;

type FatFileSystem = fatfs::FileSystem<DevStream<'static>>;
type FatDir<'a> = fatfs::Dir<'a, DevStream<'static>>;
type FatEntry<'a> = fatfs::DirEntry<'a, DevStream<'static>>;

/// A FAT12/16/32 filesystem, read-only.
pub struct FatFs {
    dev: Arc<dyn BlockDevice>,
    dev_size: u64,
    uuid: Option<String>,
    label: Option<String>,
    version: Option<String>,
}

impl std::fmt::Debug for FatFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FatFs")
            .field("version", &self.version)
            .field("uuid", &self.uuid)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// What a path resolves to.
enum Found<'a> {
    Root,
    Entry(FatEntry<'a>),
}

fn name_matches(entry: &FatEntry<'_>, name: &str) -> bool {
    let long = entry.file_name();
    let upper = |s: &str| s.chars().flat_map(char::to_uppercase).collect::<String>();
    long.eq_ignore_ascii_case(name)
        || entry.short_file_name().eq_ignore_ascii_case(name)
        || upper(&long) == upper(name)
}

impl FatFs {
    /// Open the FAT filesystem on `dev`.
    pub fn open(dev: Arc<dyn BlockDevice>) -> Result<Self, FsError> {
        let head_len = usize::try_from(dev.size().min(4096)).unwrap_or(4096);
        let mut head = vec![0u8; head_len];
        dev.read_exact_at(0, &mut head)
            .map_err(|e| block_err(e, "reading the FAT boot sector"))?;
        let probed = crate::probe::probe_fat(&head, dev.size())
            .ok_or_else(|| FsError::new(FsErrorKind::Corrupt, "", "no valid FAT boot sector"))?;
        let dev_size = dev.size();
        let mut this = Self {
            dev,
            dev_size,
            uuid: probed.uuid,
            label: probed.label,
            version: probed.version,
        };
        // Mount once to check the volume; blkid prefers the label in the root
        // directory's volume entry over the boot sector's.
        let root_label = this.run("/", 0, |fs| {
            fs.read_volume_label_from_root_dir()
                .map_err(|e| map_io(e, "/"))
        })?;
        if let Some(l) = root_label
            .map(|l| l.trim_end().to_string())
            .filter(|l| !l.is_empty() && l != "NO NAME")
        {
            this.label = Some(l);
        }
        Ok(this)
    }

    /// Mount, then run `f` under a read budget of [`METADATA_READ_BUDGET`] + `extra`.
    fn run<T>(
        &self,
        path: &str,
        extra: u64,
        f: impl FnOnce(&FatFileSystem) -> Result<T, FsError>,
    ) -> Result<T, FsError> {
        let budget = Arc::new(Budget::default());
        let stream = DevStream::new(DevRef::Owned(Arc::clone(&self.dev)), Arc::clone(&budget));
        guarded(
            &budget,
            METADATA_READ_BUDGET.saturating_add(extra),
            path,
            "fatfs",
            || {
                let fs = fatfs::FileSystem::new(
                    stream,
                    fatfs::FsOptions::new().update_accessed_date(false),
                )
                .map_err(|e| map_io(e, path))?;
                f(&fs)
            },
        )
    }

    /// `FAT12`, `FAT16` or `FAT32`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Find `name` in `dir`, scanning at most [`FAT_MAX_DIR_ENTRIES`] entries.
    fn find<'a>(dir: &FatDir<'a>, name: &str, path: &str) -> Result<FatEntry<'a>, FsError> {
        for (i, entry) in dir.iter().enumerate() {
            if i >= FAT_MAX_DIR_ENTRIES {
                return Err(FsError::new(
                    FsErrorKind::LimitExceeded,
                    path,
                    format!(
                        "directory has more than {FAT_MAX_DIR_ENTRIES} entries (cluster loop?)"
                    ),
                ));
            }
            let entry = entry.map_err(|e| map_io(e, path))?;
            if name_matches(&entry, name) {
                return Ok(entry);
            }
        }
        Err(FsError::not_found(path))
    }

    fn lookup<'a>(fs: &'a FatFileSystem, path: &str) -> Result<Found<'a>, FsError> {
        let comps = components(path)?;
        let mut dir = fs.root_dir();
        let mut found = Found::Root;
        for (i, comp) in comps.iter().enumerate() {
            if i > 0 {
                match &found {
                    Found::Entry(e) if e.is_dir() => dir = e.to_dir(),
                    _ => {
                        return Err(FsError::new(
                            FsErrorKind::WrongType,
                            path,
                            "a path component is not a directory",
                        ))
                    }
                }
            }
            found = Found::Entry(Self::find(&dir, comp, path)?);
        }
        Ok(found)
    }
}

impl Filesystem for FatFs {
    fn fs_type(&self) -> &str {
        "vfat"
    }
    fn uuid(&self) -> Option<String> {
        self.uuid.clone()
    }
    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn lstat(&self, path: &str) -> Result<Metadata, FsError> {
        self.run(path, 0, |fs| {
            Ok(match Self::lookup(fs, path)? {
                Found::Root => Metadata {
                    file_type: FileType::Dir,
                    len: 0,
                    mode: None,
                },
                Found::Entry(e) if e.is_dir() => Metadata {
                    file_type: FileType::Dir,
                    len: 0,
                    mode: None,
                },
                Found::Entry(e) => Metadata {
                    file_type: FileType::File,
                    len: e.len(),
                    mode: None,
                },
            })
        })
    }

    fn read_link(&self, path: &str) -> Result<String, FsError> {
        // Resolve first so a missing path says NotFound.
        self.lstat(path)?;
        Err(FsError::new(
            FsErrorKind::WrongType,
            path,
            "not a symlink (FAT has no symlinks)",
        ))
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        self.run(path, 0, |fs| {
            let dir = match Self::lookup(fs, path)? {
                Found::Root => fs.root_dir(),
                Found::Entry(e) if e.is_dir() => e.to_dir(),
                Found::Entry(_) => {
                    return Err(FsError::new(
                        FsErrorKind::WrongType,
                        path,
                        "not a directory",
                    ))
                }
            };
            let mut out = Vec::new();
            for (i, entry) in dir.iter().enumerate() {
                if i >= FAT_MAX_DIR_ENTRIES {
                    return Err(FsError::new(
                        FsErrorKind::LimitExceeded,
                        path,
                        format!(
                            "directory has more than {FAT_MAX_DIR_ENTRIES} entries (cluster loop?)"
                        ),
                    ));
                }
                let entry = entry.map_err(|e| map_io(e, path))?;
                let name = entry.file_name();
                if name == "." || name == ".." {
                    continue;
                }
                if out.len() >= MAX_DIR_ENTRIES {
                    return Err(FsError::new(
                        FsErrorKind::LimitExceeded,
                        path,
                        format!("directory has more than {MAX_DIR_ENTRIES} entries"),
                    ));
                }
                let file_type = if entry.is_dir() {
                    FileType::Dir
                } else {
                    FileType::File
                };
                out.push(DirEntry { name, file_type });
            }
            Ok(out)
        })
    }

    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, limit, false)
    }

    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, FsError> {
        self.read_impl(path, max_len, true)
    }
}

impl FatFs {
    /// `read_file` (`head == false`: refuse files over `limit`) or `read_file_head`
    /// (`head == true`: read at most the first `limit` bytes).
    fn read_impl(&self, path: &str, limit: u64, head: bool) -> Result<Vec<u8>, FsError> {
        let limit = limit.min(MAX_FILE_READ);
        self.run(path, limit, |fs| {
            let entry = match Self::lookup(fs, path)? {
                Found::Entry(e) if e.is_file() => e,
                _ => return Err(FsError::new(FsErrorKind::WrongType, path, "is a directory")),
            };
            let mut len = entry.len();
            if head {
                len = len.min(limit);
            }
            if len > limit {
                return Err(FsError::new(
                    FsErrorKind::LimitExceeded,
                    path,
                    format!("file is {len} bytes, over the limit of {limit}"),
                ));
            }
            // A FAT file cannot be sparse: its size is bounded by the volume.
            let len = usize::try_from(len)
                .map_err(|_| FsError::new(FsErrorKind::LimitExceeded, path, "file too large"))?;
            let mut out =
                Vec::with_capacity(len.min(usize::try_from(self.dev_size).unwrap_or(usize::MAX)));
            entry
                .to_file()
                .take(u64::try_from(len).unwrap_or(u64::MAX))
                .read_to_end(&mut out)
                .map_err(|e| map_io(e, path))?;
            if out.len() != len {
                return Err(FsError::new(
                    FsErrorKind::Corrupt,
                    path,
                    format!(
                        "cluster chain holds {} bytes of the {len} bytes wanted",
                        out.len()
                    ),
                ));
            }
            Ok(out)
        })
    }
}
