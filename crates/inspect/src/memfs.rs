//! [`MemFs`]: a small in-memory [`Filesystem`] (directories, files, symlinks) for
//! tests, benchmarks and fuzzing of the layers above the drivers.

use guestctl_fs::{DirEntry, FileType, Filesystem, FsError, FsErrorKind, Metadata};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(String),
}

/// An in-memory tree. Paths follow the [`Filesystem`] rules: absolute, no symlink
/// followed anywhere (an intermediate symlink is a [`FsErrorKind::WrongType`] error).
#[derive(Debug, Clone)]
pub struct MemFs {
    fs_type: String,
    uuid: Option<String>,
    label: Option<String>,
    nodes: BTreeMap<String, Node>,
}

fn norm(path: &str) -> String {
    crate::guestfs::normalize(path)
}

fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => path.get(..i),
        None => None,
    }
}

impl MemFs {
    /// An empty filesystem (just `/`) of type `fs_type`.
    pub fn new(fs_type: &str) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert("/".to_string(), Node::Dir);
        Self {
            fs_type: fs_type.to_string(),
            uuid: None,
            label: None,
            nodes,
        }
    }
    /// Set the UUID.
    pub fn uuid(mut self, uuid: &str) -> Self {
        self.uuid = Some(uuid.to_string());
        self
    }
    /// Set the label.
    pub fn label(mut self, label: &str) -> Self {
        self.label = Some(label.to_string());
        self
    }
    fn ensure_parents(&mut self, path: &str) {
        let mut p = parent(path).map(str::to_string);
        while let Some(d) = p {
            self.nodes.entry(d.clone()).or_insert(Node::Dir);
            p = parent(&d).map(str::to_string);
        }
    }
    /// Add a directory (and its parents).
    pub fn dir(mut self, path: &str) -> Self {
        let p = norm(path);
        self.ensure_parents(&p);
        self.nodes.insert(p, Node::Dir);
        self
    }
    /// Add a file (and its parent directories).
    pub fn file(mut self, path: &str, data: impl AsRef<[u8]>) -> Self {
        let p = norm(path);
        self.ensure_parents(&p);
        self.nodes.insert(p, Node::File(data.as_ref().to_vec()));
        self
    }
    /// Add a symlink to `target` (stored as given).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let p = norm(path);
        self.ensure_parents(&p);
        self.nodes.insert(p, Node::Link(target.to_string()));
        self
    }

    fn get(&self, path: &str) -> Result<(String, &Node), FsError> {
        let p = norm(path);
        // No intermediate symlinks, as the real drivers.
        let mut a = parent(&p);
        while let Some(d) = a {
            match self.nodes.get(d) {
                Some(Node::Dir) => {}
                Some(_) => {
                    return Err(FsError::new(
                        FsErrorKind::WrongType,
                        path,
                        "a path component is not a directory",
                    ))
                }
                None => return Err(FsError::not_found(path)),
            }
            a = parent(d);
        }
        let n = self.nodes.get(&p).ok_or_else(|| FsError::not_found(path))?;
        Ok((p, n))
    }
}

impl Filesystem for MemFs {
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
        let (_, n) = self.get(path)?;
        Ok(match n {
            Node::Dir => Metadata {
                file_type: FileType::Dir,
                len: 0,
                mode: Some(0o755),
            },
            Node::File(d) => Metadata {
                file_type: FileType::File,
                len: d.len() as u64,
                mode: Some(0o644),
            },
            Node::Link(t) => Metadata {
                file_type: FileType::Symlink,
                len: t.len() as u64,
                mode: Some(0o777),
            },
        })
    }
    fn read_link(&self, path: &str) -> Result<String, FsError> {
        match self.get(path)? {
            (_, Node::Link(t)) => Ok(t.clone()),
            _ => Err(FsError::new(FsErrorKind::WrongType, path, "not a symlink")),
        }
    }
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        let (p, n) = self.get(path)?;
        if !matches!(n, Node::Dir) {
            return Err(FsError::new(
                FsErrorKind::WrongType,
                path,
                "not a directory",
            ));
        }
        let prefix = if p == "/" {
            "/".to_string()
        } else {
            format!("{p}/")
        };
        Ok(self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| k.len() > prefix.len() && !k[prefix.len()..].contains('/'))
            .map(|(k, n)| DirEntry {
                name: k[prefix.len()..].to_string(),
                file_type: match n {
                    Node::Dir => FileType::Dir,
                    Node::File(_) => FileType::File,
                    Node::Link(_) => FileType::Symlink,
                },
            })
            .collect())
    }
    fn read_file(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        match self.get(path)? {
            (_, Node::File(d)) if d.len() as u64 > limit => Err(FsError::new(
                FsErrorKind::LimitExceeded,
                path,
                "file over the limit",
            )),
            (_, Node::File(d)) => Ok(d.clone()),
            _ => Err(FsError::new(
                FsErrorKind::WrongType,
                path,
                "not a regular file",
            )),
        }
    }
    fn read_file_head(&self, path: &str, max_len: u64) -> Result<Vec<u8>, FsError> {
        match self.get(path)? {
            (_, Node::File(d)) => {
                let n = usize::try_from(max_len).unwrap_or(usize::MAX).min(d.len());
                Ok(d.get(..n).unwrap_or_default().to_vec())
            }
            _ => Err(FsError::new(
                FsErrorKind::WrongType,
                path,
                "not a regular file",
            )),
        }
    }
}
