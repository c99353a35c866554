//! Writes the guest's files into the staging directory on the host and remembers
//! each one, so that modes and modification times can be set at the end (after the
//! last write into a directory, which would otherwise bump its mtime).

use crate::error::MockDiskError;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir(u32),
    File(u32),
    Symlink,
}

/// The staging tree: paths are relative to the guest's `/`, written with `/`.
#[derive(Debug)]
pub(crate) struct Tree {
    root: PathBuf,
    /// Creation order matters only for reproducible error messages.
    order: Vec<String>,
    kinds: HashMap<String, Kind>,
}

impl Tree {
    /// A tree rooted at `root` (an existing directory).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            order: Vec::with_capacity(4096),
            kinds: HashMap::with_capacity(4096),
        }
    }

    /// The host path of the guest path `rel`.
    pub fn host_path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Whether `rel` was written.
    pub fn exists(&self, rel: &str) -> bool {
        self.kinds.contains_key(rel)
    }

    fn record(&mut self, rel: &str, kind: Kind) {
        self.order.push(rel.to_string());
        self.kinds.insert(rel.to_string(), kind);
    }

    fn check(rel: &str) -> Result<(), MockDiskError> {
        if rel.is_empty()
            || rel.starts_with('/')
            || rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(MockDiskError::InvalidInput(format!(
                "bad guest path {rel:?}"
            )));
        }
        Ok(())
    }

    /// Create the parents of `rel` (mode 0755) that do not exist yet.
    fn parents(&mut self, rel: &str) -> Result<(), MockDiskError> {
        let mut end = 0;
        while let Some(pos) = rel[end..].find('/') {
            let dir = &rel[..end + pos];
            end += pos + 1;
            match self.kinds.get(dir) {
                Some(Kind::Dir(_)) => {}
                Some(_) => {
                    return Err(MockDiskError::InvalidInput(format!(
                        "guest path {rel:?}: {dir:?} is not a directory"
                    )));
                }
                None => {
                    let p = self.root.join(dir);
                    fs::create_dir(&p).map_err(|e| MockDiskError::io(&p, e))?;
                    self.record(dir, Kind::Dir(0o755));
                }
            }
        }
        Ok(())
    }

    /// A directory (and its parents); an existing directory gets `mode`.
    pub fn dir(&mut self, rel: &str, mode: u32) -> Result<(), MockDiskError> {
        Self::check(rel)?;
        match self.kinds.get(rel).copied() {
            Some(Kind::Dir(_)) => {
                self.kinds.insert(rel.to_string(), Kind::Dir(mode));
                return Ok(());
            }
            Some(_) => {
                return Err(MockDiskError::InvalidInput(format!(
                    "guest path {rel:?} already exists"
                )))
            }
            None => {}
        }
        self.parents(rel)?;
        let p = self.root.join(rel);
        fs::create_dir(&p).map_err(|e| MockDiskError::io(&p, e))?;
        self.record(rel, Kind::Dir(mode));
        Ok(())
    }

    /// A regular file with `content` (parents created as needed).
    pub fn file(
        &mut self,
        rel: &str,
        content: impl AsRef<[u8]>,
        mode: u32,
    ) -> Result<(), MockDiskError> {
        Self::check(rel)?;
        if self.kinds.contains_key(rel) {
            return Err(MockDiskError::InvalidInput(format!(
                "guest path {rel:?} written twice"
            )));
        }
        self.parents(rel)?;
        let p = self.root.join(rel);
        fs::write(&p, content).map_err(|e| MockDiskError::io(&p, e))?;
        self.record(rel, Kind::File(mode));
        Ok(())
    }

    /// A file some other writer (sqlite) created at `host_path(rel)`.
    pub fn register_file(&mut self, rel: &str, mode: u32) {
        self.record(rel, Kind::File(mode));
    }

    /// A symbolic link `rel` → `target` (parents created as needed).
    pub fn symlink(&mut self, rel: &str, target: &str) -> Result<(), MockDiskError> {
        Self::check(rel)?;
        if self.kinds.contains_key(rel) {
            return Err(MockDiskError::InvalidInput(format!(
                "guest path {rel:?} written twice"
            )));
        }
        self.parents(rel)?;
        let p = self.root.join(rel);
        std::os::unix::fs::symlink(target, &p).map_err(|e| MockDiskError::io(&p, e))?;
        self.record(rel, Kind::Symlink);
        Ok(())
    }

    /// Set every mode, then every modification (and access) time to `mtime`
    /// (seconds since the epoch), the root directory included.
    pub fn finish(self, mtime: u64) -> Result<(), MockDiskError> {
        let t = filetime::FileTime::from_unix_time(i64::try_from(mtime).unwrap_or(i64::MAX), 0);
        for rel in &self.order {
            let p = self.root.join(rel);
            let mode = match self.kinds.get(rel) {
                Some(Kind::Dir(m)) | Some(Kind::File(m)) => *m,
                _ => continue,
            };
            fs::set_permissions(&p, fs::Permissions::from_mode(mode))
                .map_err(|e| MockDiskError::io(&p, e))?;
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o755))
            .map_err(|e| MockDiskError::io(&self.root, e))?;
        for rel in &self.order {
            let p = self.root.join(rel);
            filetime::set_symlink_file_times(&p, t, t).map_err(|e| MockDiskError::io(&p, e))?;
        }
        filetime::set_symlink_file_times(&self.root, t, t)
            .map_err(|e| MockDiskError::io(&self.root, e))?;
        Ok(())
    }
}
