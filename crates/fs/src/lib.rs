//! Filesystems: recognise what a block device holds, and read files from it.
//!
//! [`Filesystem`] is the read-only, path-based view every filesystem driver offers
//! (ext2/3/4, FAT, NTFS). Its operations do **not** follow a symlink in the final
//! path component: callers that must resolve guest symlinks across several mounted
//! filesystems (the inspector) walk paths themselves with [`Filesystem::lstat`] and
//! [`Filesystem::read_link`]. Paths are absolute, `/`-separated, inside this one
//! filesystem.

#![forbid(unsafe_code)]

use std::fmt;

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

/// A read-only filesystem.
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
    /// The contents of the regular file at `path`, refusing files over `limit` bytes.
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError>;
}

/// What kind of filesystem failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsErrorKind {
    /// No such file or directory.
    NotFound,
    /// A directory was expected, or a file, and the other was found.
    WrongType,
    /// The underlying device failed.
    Io,
    /// The filesystem's structures are inconsistent.
    Corrupt,
    /// Valid but unsupported by this driver.
    Unsupported,
    /// A named resource limit was exceeded (file too large, too many entries).
    LimitExceeded,
}

/// A filesystem error: kind, path and message.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FsError {
    /// The kind.
    pub kind: FsErrorKind,
    /// The path concerned.
    pub path: String,
    /// What went wrong.
    pub message: String,
    /// The cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl FsError {
    /// A new error.
    pub fn new(kind: FsErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind, path: path.into(), message: message.into(), source: None }
    }
    /// `path` does not exist.
    pub fn not_found(path: impl Into<String>) -> Self {
        Self::new(FsErrorKind::NotFound, path, "no such file or directory")
    }
}
