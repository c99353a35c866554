//! The results directory (`performance-results/`): atomic writes, the lock that
//! serialises runs, loading results files with errors that name the file and the way
//! out, and accepting a new baseline on purpose.

use std::fs::{File, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::error::Category;

use crate::error::{ErrorKind, PerfError};
use crate::record::{RunResults, RESULTS_FORMAT, SCHEMA_VERSION};

/// The baseline, committed on purpose.
pub const BASELINE_FILE: &str = "baseline.json";
/// The latest run.
pub const CURRENT_FILE: &str = "current.json";
/// The latest Markdown report.
pub const REPORT_MD_FILE: &str = "report.md";
/// The latest JSON report.
pub const REPORT_JSON_FILE: &str = "report.json";
/// The lock file serialising runs (gitignored).
pub const LOCK_FILE: &str = "perf.lock";
/// Folder of replaced baselines.
pub const ARCHIVE_DIR: &str = "baselines";

/// Largest results file read (a million samples of 20 tests is ~400 MiB of JSON; real
/// runs are a few hundred KiB). Larger files are refused rather than exhausting memory.
pub const MAX_RESULTS_FILE: u64 = 256 << 20;

/// A new temporary directory named `<prefix><pid>-…` under the system's temporary
/// directory, removed on drop. A run killed before its drop (SIGKILL, a crash)
/// leaves its directory behind; the owner's pid in the name lets the next run
/// remove it (see [`remove_dead_runs_debris`]).
pub fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, PerfError> {
    let base = std::env::temp_dir();
    remove_dead_runs_debris(&base, prefix);
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&base)
        .map_err(|e| PerfError::io("creating a temporary directory in", &base, e))
}

/// Remove the directories `<prefix><pid>-…` in `base` whose owner process is gone
/// (no `/proc/<pid>`) and which belong to this user: the debris of interrupted
/// runs. Returns how many were removed; failures are ignored (the debris stays).
pub fn remove_dead_runs_debris(base: &Path, prefix: &str) -> usize {
    use std::os::unix::fs::MetadataExt;
    let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let ours = e
            .metadata()
            .is_ok_and(|m| m.is_dir() && m.uid() == me && !e.path().is_symlink());
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if ours && !alive && std::fs::remove_dir_all(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory,
/// written, fsynced, renamed over `path`, then the directory fsynced. An interrupted
/// write leaves the old file (or none), never half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PerfError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result".into());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| PerfError::io("creating a temporary file in", &dir, e))?;
    // Temporary files are created 0600; results are ordinary files (0644).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| PerfError::io("writing", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| PerfError::io("renaming a temporary file to", path, e.error))?;
    // Make the rename itself durable; not all platforms can open a directory.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads at most [`MAX_RESULTS_FILE`] bytes of `path`.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, PerfError> {
    let f = File::open(path).map_err(|e| PerfError::io("reading", path, e))?;
    let mut buf = Vec::new();
    f.take(MAX_RESULTS_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| PerfError::io("reading", path, e))?;
    if buf.len() as u64 > MAX_RESULTS_FILE {
        return Err(PerfError::new(
            ErrorKind::Corrupt,
            format!(
                "{} is larger than {} MiB, too large for a results file",
                path.display(),
                MAX_RESULTS_FILE >> 20
            ),
        )
        .with_path(path));
    }
    Ok(buf)
}

/// The way out of a bad baseline, appended to its errors.
pub fn baseline_way_out(path: &Path) -> String {
    format!(
        "restore it with `git checkout {p}`, or delete it and run ./scripts/validate-performance.sh \
         to create a new baseline",
        p = path.display()
    )
}

/// Parses results JSON. `origin` names the file and `way_out` says what to do, in
/// every error: truncated, not JSON (with line and column), not an object, missing
/// or other `schema_version`, another `format`, or fields that do not match.
pub fn parse_results(bytes: &[u8], origin: &Path, way_out: &str) -> Result<RunResults, PerfError> {
    let p = origin.display();
    let corrupt = |what: String| {
        PerfError::new(ErrorKind::Corrupt, format!("{p} {what}: {way_out}")).with_path(origin)
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(corrupt("is empty".into()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| match e.classify() {
            Category::Eof => corrupt(format!(
                "is truncated (input ends at line {}, column {})",
                e.line(),
                e.column()
            )),
            _ => corrupt(format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )),
        })?;
    let Some(obj) = value.as_object() else {
        return Err(corrupt(
            "is not a guestctl results file (its top level is not a JSON object)".into(),
        ));
    };
    match obj.get("schema_version").and_then(|v| v.as_u64()) {
        None => {
            return Err(corrupt(
                "is not a guestctl results file (no numeric schema_version)".into(),
            ))
        }
        Some(v) if v != u64::from(SCHEMA_VERSION) => {
            return Err(corrupt(format!(
                "has schema_version {v}, but this guestctl reads schema_version {SCHEMA_VERSION}"
            )))
        }
        Some(_) => {}
    }
    if obj.get("format").and_then(|v| v.as_str()) != Some(RESULTS_FORMAT) {
        return Err(corrupt(format!(
            "is not a guestctl results file (format is not \"{RESULTS_FORMAT}\")"
        )));
    }
    serde_json::from_value::<RunResults>(value)
        .map_err(|e| corrupt(format!("does not match the results schema ({e})")))
}

/// Checks that a baseline's samples can be compared with: every test has samples,
/// and every sample is a finite number above zero (a time, an instruction count
/// or a byte count of zero or below is no measurement). A hand-edited or damaged
/// baseline would otherwise make every test "not comparable" and the gate pass
/// having compared nothing.
pub fn check_baseline_samples(
    results: &RunResults,
    origin: &Path,
    way_out: &str,
) -> Result<(), PerfError> {
    let bad = |what: String| {
        PerfError::new(
            ErrorKind::Corrupt,
            format!("{} {what}: {way_out}", origin.display()),
        )
        .with_path(origin)
    };
    if results.tests.is_empty() {
        return Err(bad("holds no tests".into()));
    }
    for t in &results.tests {
        if t.samples.is_empty() {
            return Err(bad(format!("has no samples for test {}", t.name)));
        }
        if let Some(v) = t.samples.iter().find(|v| !v.is_finite() || **v <= 0.0) {
            return Err(bad(format!(
                "has a sample of {v} for test {} (samples must be finite and above zero)",
                t.name
            )));
        }
    }
    Ok(())
}

/// Loads the results file `path`; errors name it and say `way_out`.
pub fn load_results(path: &Path, way_out: &str) -> Result<RunResults, PerfError> {
    let bytes = match read_limited(path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(PerfError::new(
                ErrorKind::NotFound,
                format!("{} does not exist: {way_out}", path.display()),
            )
            .with_path(path))
        }
        Err(e) => return Err(e),
    };
    parse_results(&bytes, path, way_out)
}

/// A held lock on a results directory; released on drop.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What [`ResultsDir::accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The new baseline.
    pub baseline: PathBuf,
    /// Where the replaced baseline was archived, if there was one.
    pub archived: Option<PathBuf>,
}

/// The results directory and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsDir {
    root: PathBuf,
}

impl ResultsDir {
    /// The directory at `root` (not created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ResultsDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `baseline.json`.
    pub fn baseline_path(&self) -> PathBuf {
        self.root.join(BASELINE_FILE)
    }
    /// `current.json`.
    pub fn current_path(&self) -> PathBuf {
        self.root.join(CURRENT_FILE)
    }
    /// `report.md`.
    pub fn report_md_path(&self) -> PathBuf {
        self.root.join(REPORT_MD_FILE)
    }
    /// `report.json`.
    pub fn report_json_path(&self) -> PathBuf {
        self.root.join(REPORT_JSON_FILE)
    }

    /// Creates the directory (and parents) if needed.
    pub fn create(&self) -> Result<(), PerfError> {
        std::fs::create_dir_all(&self.root).map_err(|e| PerfError::io("creating", &self.root, e))
    }

    /// Takes the run lock, waiting for another run to finish; `on_wait` is called
    /// once if the lock is busy (to tell the user).
    pub fn lock(&self, on_wait: impl FnOnce(&Path)) -> Result<DirLock, PerfError> {
        self.create()?;
        let path = self.root.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PerfError::io("opening the lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait(&path);
                file.lock()
                    .map_err(|e| PerfError::io("locking", &path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(PerfError::io("locking", &path, e)),
        }
        Ok(DirLock { _file: file, path })
    }

    /// Loads the baseline: `Ok(None)` when it does not exist, an error naming the file
    /// and the way out when it cannot be used.
    ///
    /// A dangling `baseline.json` symlink is an error (the baseline it pointed at
    /// is lost, and writing a new one through it would replace the link), and so
    /// is a baseline that parses but could compare nothing (see
    /// [`check_baseline_samples`]).
    pub fn load_baseline(&self) -> Result<Option<RunResults>, PerfError> {
        let path = self.baseline_path();
        let way_out = baseline_way_out(&path);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(PerfError::io("reading", &path, e)),
            Ok(md) if md.file_type().is_symlink() && !path.exists() => {
                let target = std::fs::read_link(&path).unwrap_or_default();
                return Err(PerfError::new(
                    ErrorKind::NotFound,
                    format!(
                        "{} is a symlink to {}, which does not exist: {way_out}",
                        path.display(),
                        target.display()
                    ),
                )
                .with_path(&path));
            }
            Ok(_) => {}
        }
        let results = load_results(&path, &way_out)?;
        check_baseline_samples(&results, &path, &way_out)?;
        Ok(Some(results))
    }

    /// Makes the results file `from` the baseline, on purpose: `from` is validated
    /// first (a corrupt file is never accepted), the old baseline is archived under
    /// `baselines/<timestamp>-<commit>.json`, and the new one written atomically.
    /// The caller should hold [`ResultsDir::lock`].
    pub fn accept(&self, from: &Path) -> Result<Accepted, PerfError> {
        let bytes = read_limited(from)?;
        parse_results(
            &bytes,
            from,
            "run `guestctl perf validate` to produce a fresh current.json",
        )?;
        self.create()?;
        let baseline = self.baseline_path();
        let mut archived = None;
        if baseline.exists() {
            let old = read_limited(&baseline)?;
            // Name the archive after the old baseline's own header when it is readable.
            let stem = serde_json::from_slice::<serde_json::Value>(&old)
                .ok()
                .and_then(|v| {
                    let ts = v.get("timestamp")?.as_str()?.to_string();
                    let c = v.get("git_commit")?.as_str()?.to_string();
                    Some(format!("{}-{}", ts, crate::report::short_commit(&c)))
                })
                .unwrap_or_else(|| format!("unreadable-{}", crate::fingerprint::now_rfc3339()));
            let stem: String = stem
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let dir = self.root.join(ARCHIVE_DIR);
            std::fs::create_dir_all(&dir).map_err(|e| PerfError::io("creating", &dir, e))?;
            let mut target = dir.join(format!("{stem}.json"));
            let mut n = 1u32;
            while target.exists() && n < 10_000 {
                target = dir.join(format!("{stem}-{n}.json"));
                n += 1;
            }
            write_atomic(&target, &old)?;
            archived = Some(target);
        }
        write_atomic(&baseline, &bytes)?;
        Ok(Accepted { baseline, archived })
    }
}
