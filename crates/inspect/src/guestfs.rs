//! The guest namespace: several [`Filesystem`]s mounted at mountpoints, with paths
//! resolved the way the guest's kernel would, but entirely inside the guest.
//!
//! The filesystem drivers never follow symlinks (a link may point into another
//! mounted filesystem), so [`GuestFs`] walks every path one component at a time:
//! `.` is skipped, `..` goes up and is clamped at the guest root (as `/..` is `/`),
//! and a symlink's target is spliced into the remaining components: an absolute
//! target restarts at the **guest** root, a relative one continues from the link's
//! directory. So `/etc/os-release -> ../usr/lib/os-release` reaches `/usr` even when
//! `/usr` is a separate filesystem, and no target can ever name a host path.
//! At most [`MAX_SYMLINK_HOPS`] links are followed per lookup (Linux's limit; more
//! is reported as [`ErrorKind::SymlinkLoop`], like `ELOOP`), and a path may be at
//! most [`MAX_RESOLVE_DEPTH`] components deep.

use crate::error::{ErrorKind, InspectError};
use guestctl_fs::{DetailedEntry, DirEntry, FileType, Filesystem, Metadata};
use std::collections::VecDeque;
use std::sync::Arc;

/// Most symlinks followed while resolving one path: Linux's `MAXSYMLINKS` (40).
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Deepest resolved path, in components: the drivers' own limit, so a path we
/// accept is one they accept too.
pub const MAX_RESOLVE_DEPTH: usize = 256;
/// Most components waiting to be resolved at once (the path plus spliced symlink
/// targets): 40 targets of at most 2,048 components each stay far below it, and it
/// bounds the memory of one lookup.
const MAX_PENDING_COMPONENTS: usize = 16 * 1024;

/// One filesystem mounted in the namespace.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Where it is mounted (`/`, `/usr`, `/boot/efi`), normalised.
    pub mountpoint: String,
    /// The device it comes from (`/dev/sda1`, `/dev/vg0/usr`).
    pub device: String,
    /// The filesystem.
    pub fs: Arc<dyn Filesystem>,
    comps: Vec<String>,
}

/// A guest namespace: filesystems mounted at mountpoints. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct GuestFs {
    /// Sorted by mountpoint depth, deepest first, so the first match wins.
    mounts: Vec<Mount>,
}

/// Split a path into its non-empty components other than `.` (keeping `..`).
fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// Normalise a path lexically: absolute, no `.`/empty components, `..` applied and
/// clamped at the root. Used for mountpoints and for paths that hold no symlinks.
pub fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in split(path) {
        if c == ".." {
            out.pop();
        } else {
            out.push(c);
        }
    }
    join(out.iter().copied())
}

fn join<'a>(comps: impl Iterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(c);
    }
    if s.is_empty() {
        s.push('/');
    }
    s
}

fn err(kind: ErrorKind, path: &str, msg: impl Into<String>) -> InspectError {
    InspectError::new(kind, path, msg)
}

impl GuestFs {
    /// An empty namespace (nothing mounted; every lookup fails until `/` is mounted).
    pub fn new() -> Self {
        Self::default()
    }

    /// A namespace with `fs` mounted at `/`.
    pub fn with_root(device: impl Into<String>, fs: Arc<dyn Filesystem>) -> Self {
        let mut g = Self::new();
        g.mount("/", device, fs);
        g
    }

    /// Mount `fs` at `mountpoint` (normalised lexically; the mountpoint need not
    /// exist as a directory, as with libguestfs's inspection mounts). A later mount
    /// at the same mountpoint replaces the earlier one.
    pub fn mount(&mut self, mountpoint: &str, device: impl Into<String>, fs: Arc<dyn Filesystem>) {
        let mountpoint = normalize(mountpoint);
        let comps: Vec<String> = split(&mountpoint).map(str::to_string).collect();
        self.mounts.retain(|m| m.mountpoint != mountpoint);
        self.mounts.push(Mount {
            mountpoint,
            device: device.into(),
            fs,
            comps,
        });
        self.mounts.sort_by(|a, b| {
            b.comps
                .len()
                .cmp(&a.comps.len())
                .then_with(|| a.mountpoint.cmp(&b.mountpoint))
        });
    }

    /// The mounts, deepest mountpoint first.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// The filesystem holding the symlink-free path `comps`, and the path inside it.
    fn locate(
        &self,
        comps: &[String],
        shown: &str,
    ) -> Result<(&Arc<dyn Filesystem>, String), InspectError> {
        for m in &self.mounts {
            if comps.len() >= m.comps.len() && comps.iter().zip(&m.comps).all(|(a, b)| a == b) {
                let inner = join(comps.iter().skip(m.comps.len()).map(String::as_str));
                return Ok((&m.fs, inner));
            }
        }
        Err(err(
            ErrorKind::NotFound,
            shown,
            "no filesystem is mounted at the guest root",
        ))
    }

    fn lstat_comps(&self, comps: &[String], shown: &str) -> Result<Metadata, InspectError> {
        let (fs, inner) = self.locate(comps, shown)?;
        fs.lstat(&inner)
            .map_err(|e| InspectError::from_fs(e, shown))
    }

    /// Resolve `path` to its canonical guest path (no symlinks, no `.`/`..`), following
    /// a symlink in the final component when `follow_final` is set. Every component
    /// but the last must exist and be a directory (after following links); the last
    /// need not exist when `follow_final` is false.
    pub fn resolve(&self, path: &str, follow_final: bool) -> Result<String, InspectError> {
        Ok(join(
            self.resolve_comps(path, follow_final)?
                .iter()
                .map(String::as_str),
        ))
    }

    fn resolve_comps(&self, path: &str, follow_final: bool) -> Result<Vec<String>, InspectError> {
        if !path.starts_with('/') {
            return Err(err(
                ErrorKind::InvalidPath,
                path,
                "guest paths must be absolute (start with /)",
            ));
        }
        if path.contains('\0') {
            return Err(err(
                ErrorKind::InvalidPath,
                path,
                "path contains a NUL byte",
            ));
        }
        let mut pending: VecDeque<String> = split(path).map(str::to_string).collect();
        if pending.len() > MAX_PENDING_COMPONENTS {
            return Err(err(
                ErrorKind::LimitExceeded,
                path,
                "path has too many components",
            ));
        }
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0usize;
        // Each iteration consumes one pending component; pending grows only when a
        // symlink is followed (at most MAX_SYMLINK_HOPS times, each adding a bounded
        // number of components), so the loop is bounded.
        while let Some(comp) = pending.pop_front() {
            if comp == ".." {
                resolved.pop();
                continue;
            }
            let is_last = pending.is_empty();
            resolved.push(comp);
            if resolved.len() > MAX_RESOLVE_DEPTH {
                return Err(err(
                    ErrorKind::LimitExceeded,
                    path,
                    format!("path deeper than {MAX_RESOLVE_DEPTH} components"),
                ));
            }
            if is_last && !follow_final {
                break;
            }
            let md = self.lstat_comps(&resolved, path)?;
            match md.file_type {
                FileType::Symlink => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(err(
                            ErrorKind::SymlinkLoop,
                            path,
                            format!("too many levels of symbolic links (more than {MAX_SYMLINK_HOPS}; a symlink loop?)"),
                        ));
                    }
                    let (fs, inner) = self.locate(&resolved, path)?;
                    let target = fs
                        .read_link(&inner)
                        .map_err(|e| InspectError::from_fs(e, path))?;
                    if target.is_empty() {
                        return Err(err(ErrorKind::NotFound, path, "empty symlink target"));
                    }
                    resolved.pop();
                    if target.starts_with('/') {
                        // Absolute targets are relative to the GUEST root, never the host's.
                        resolved.clear();
                    }
                    for c in split(&target).collect::<Vec<_>>().into_iter().rev() {
                        pending.push_front(c.to_string());
                    }
                    if pending.len() > MAX_PENDING_COMPONENTS {
                        return Err(err(
                            ErrorKind::LimitExceeded,
                            path,
                            "symlink targets expand to too many components",
                        ));
                    }
                }
                FileType::Dir => {}
                FileType::File | FileType::Other => {
                    if !is_last {
                        return Err(err(
                            ErrorKind::WrongType,
                            path,
                            "a path component is not a directory",
                        ));
                    }
                }
            }
        }
        Ok(resolved)
    }

    /// Metadata of `path`, not following a final symlink.
    pub fn lstat(&self, path: &str) -> Result<Metadata, InspectError> {
        let comps = self.resolve_comps(path, false)?;
        self.lstat_comps(&comps, path)
    }

    /// Metadata of what `path` names, following symlinks inside the guest.
    pub fn stat(&self, path: &str) -> Result<Metadata, InspectError> {
        let comps = self.resolve_comps(path, true)?;
        self.lstat_comps(&comps, path)
    }

    /// The target of the symlink at `path`, as stored (not resolved).
    pub fn read_link(&self, path: &str) -> Result<String, InspectError> {
        let comps = self.resolve_comps(path, false)?;
        let (fs, inner) = self.locate(&comps, path)?;
        fs.read_link(&inner)
            .map_err(|e| InspectError::from_fs(e, path))
    }

    /// The entries of the directory `path` (symlinks followed), sorted by name.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, InspectError> {
        let (fs, inner) = self.resolve_dir(path)?;
        let mut v = fs
            .read_dir(&inner)
            .map_err(|e| InspectError::from_fs(e, path))?;
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// The entries of the directory `path` (symlinks followed), sorted by name, each
    /// with its metadata and symlink target: what `ls -l` shows, read in one pass
    /// over the directory (see [`Filesystem::read_dir_detailed`]). An entry that is
    /// itself a mountpoint shows the root of the filesystem mounted there.
    pub fn read_dir_detailed(&self, path: &str) -> Result<Vec<DetailedEntry>, InspectError> {
        let comps = self.resolve_comps(path, true)?;
        let (fs, inner) = self.locate(&comps, path)?;
        let mut v = fs
            .read_dir_detailed(&inner)
            .map_err(|e| InspectError::from_fs(e, path))?;
        for d in &mut v {
            let mut child = comps.clone();
            child.push(d.entry.name.clone());
            if self.mounts.iter().any(|m| m.comps == child) {
                let (fs, inner) = self.locate(&child, path)?;
                d.metadata = fs.lstat(&inner);
            }
        }
        v.sort_by(|a, b| a.entry.name.cmp(&b.entry.name));
        Ok(v)
    }

    /// Resolve the directory `path` once to its filesystem and the symlink-free path
    /// inside it, for callers reading many entries of one directory (pacman's
    /// `local/*/desc`). Reads through the returned filesystem never follow symlinks.
    pub fn resolve_dir(&self, path: &str) -> Result<(Arc<dyn Filesystem>, String), InspectError> {
        let comps = self.resolve_comps(path, true)?;
        let (fs, inner) = self.locate(&comps, path)?;
        Ok((Arc::clone(fs), inner))
    }

    /// The contents of the file `path` (symlinks followed), refusing files over
    /// `limit` bytes.
    pub fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, InspectError> {
        let comps = self.resolve_comps(path, true)?;
        let (fs, inner) = self.locate(&comps, path)?;
        fs.read_file(&inner, limit)
            .map_err(|e| InspectError::from_fs(e, path))
    }

    /// The contents of the file `path` (symlinks followed), of any size, handed to
    /// `f` a chunk at a time: memory stays bounded by one chunk (see
    /// [`Filesystem::read_file_chunks`]).
    pub fn read_file_chunks(
        &self,
        path: &str,
        f: &mut guestctl_fs::ChunkVisitor<'_>,
    ) -> Result<(), InspectError> {
        let comps = self.resolve_comps(path, true)?;
        let (fs, inner) = self.locate(&comps, path)?;
        fs.read_file_chunks(&inner, f)
            .map_err(|e| InspectError::from_fs(e, path))
    }

    /// The first `max_len` bytes of the file `path` (symlinks followed), whatever
    /// its size: a bounded partial read for file headers.
    pub fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, InspectError> {
        let comps = self.resolve_comps(path, true)?;
        let (fs, inner) = self.locate(&comps, path)?;
        fs.read_file_head(&inner, max_len)
            .map_err(|e| InspectError::from_fs(e, path))
    }

    /// Whether `path` is a regular file, following symlinks. Errors count as "no".
    pub fn is_file(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(m) if m.file_type == FileType::File)
    }

    /// Whether `path` is a directory, following symlinks. Errors count as "no".
    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.stat(path), Ok(m) if m.file_type == FileType::Dir)
    }

    /// Whether `path` itself is a symlink.
    pub fn is_symlink(&self, path: &str) -> bool {
        matches!(self.lstat(path), Ok(m) if m.file_type == FileType::Symlink)
    }

    /// Find `path` ignoring ASCII case in every component (Windows guests), returning
    /// its real spelling; `None` if no such path exists.
    pub fn find_nocase(&self, path: &str) -> Option<String> {
        let mut cur = String::from("/");
        for want in split(path) {
            let entries = self.read_dir(&cur).ok()?;
            let hit = entries
                .iter()
                .find(|e| e.name == want)
                .or_else(|| entries.iter().find(|e| e.name.eq_ignore_ascii_case(want)))?;
            if !cur.ends_with('/') {
                cur.push('/');
            }
            cur.push_str(&hit.name);
        }
        Some(cur)
    }
}
