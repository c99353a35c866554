//! Temporary files and directories that must not outlive a failed or interrupted
//! build: each is removed by its guard's `Drop` (errors and panics), and every
//! live one is listed in a process-wide registry that
//! [`remove_temporaries`] empties (a Ctrl-C handler's job, see
//! [`install_interrupt_cleanup`]).

use crate::error::MockDiskError;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

fn registry() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    static REG: OnceLock<Mutex<BTreeSet<PathBuf>>> = OnceLock::new();
    // A panic while the lock is held cannot leave the set inconsistent.
    REG.get_or_init(|| Mutex::new(BTreeSet::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn remove_path(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Remove every temporary file and directory of builds still in progress in
/// this process. Returns how many were removed. Builds in progress then fail.
pub fn remove_temporaries() -> usize {
    let paths: Vec<PathBuf> = std::mem::take(&mut *registry()).into_iter().collect();
    for p in &paths {
        remove_path(p);
    }
    paths.len()
}

/// Install a handler for Ctrl-C (and SIGTERM, SIGHUP) that removes the temporary
/// files of builds in progress and exits with status 130. For programs (the
/// `guestctl` CLI); a library user with its own handler calls
/// [`remove_temporaries`] from it instead. Installing twice is an error.
pub fn install_interrupt_cleanup() -> Result<(), MockDiskError> {
    ctrlc::set_handler(|| {
        remove_temporaries();
        std::process::exit(130);
    })
    .map_err(|e| MockDiskError::InvalidInput(format!("cannot install the interrupt handler: {e}")))
}

/// Where guest trees are staged before `mke2fs -d` copies them: `$TMPDIR` when
/// set, else `/dev/shm` when it is a writable directory (a tmpfs: staging there
/// is many times faster than on a busy disk, and a tree is a few MB), else the
/// system temp dir.
pub fn staging_root() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some() {
        return std::env::temp_dir();
    }
    static SHM: OnceLock<bool> = OnceLock::new();
    let shm = Path::new("/dev/shm");
    let usable = *SHM.get_or_init(|| {
        tempfile::Builder::new()
            .prefix(".guestctl-probe-")
            .tempdir_in(shm)
            .is_ok()
    });
    if usable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// A temporary path removed on drop unless [`TempPath::keep`] was called.
#[derive(Debug)]
pub(crate) struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    /// Register `path` (not yet created) as temporary.
    pub(crate) fn new(path: PathBuf) -> Self {
        registry().insert(path.clone());
        Self { path, armed: true }
    }
    /// A fresh, unique, hidden name beside `target`: `.<name>.<pid>.<n>.<suffix>`.
    pub(crate) fn beside(target: &Path, suffix: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = target
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::new(dir.join(format!(".{name}.{}.{n}.{suffix}", std::process::id())))
    }
    /// A fresh temporary directory (created) under [`staging_root`].
    pub(crate) fn new_dir(prefix: &str) -> Result<Self, MockDiskError> {
        let base = staging_root();
        let td = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&base)
            .map_err(|e| MockDiskError::io(&base, e))?;
        let t = Self::new(td.path().to_path_buf());
        // Ownership passes to the guard (which registers it for interrupts too).
        let _ = td.keep();
        Ok(t)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
    /// Rename onto `dest` and stop guarding.
    pub(crate) fn persist(mut self, dest: &Path) -> Result<(), MockDiskError> {
        std::fs::rename(&self.path, dest).map_err(|e| MockDiskError::io(dest, e))?;
        self.armed = false;
        registry().remove(&self.path);
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.armed {
            remove_path(&self.path);
            registry().remove(&self.path);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn guard_removes_on_drop_and_persist_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.img");
        {
            let t = TempPath::beside(&target, "tmp");
            std::fs::write(t.path(), b"x").unwrap();
            assert!(t.path().exists());
            let p = t.path().to_path_buf();
            drop(t);
            assert!(!p.exists());
        }
        let t = TempPath::beside(&target, "tmp");
        std::fs::write(t.path(), b"y").unwrap();
        t.persist(&target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"y");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dir_guard_removes_tree() {
        let t = TempPath::new_dir("mockdisk-test-").unwrap();
        std::fs::create_dir_all(t.path().join("a/b")).unwrap();
        std::fs::write(t.path().join("a/b/c"), b"z").unwrap();
        let p = t.path().to_path_buf();
        drop(t);
        assert!(!p.exists());
    }
}
