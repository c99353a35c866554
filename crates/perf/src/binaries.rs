//! The baseline's own binary: kept content-addressed under
//! `performance-results/bin/<sha256>` (gitignored), or rebuilt from a git revision
//! in a temporary `git worktree` (`cargo build --release`, its target directory
//! cached under the repository's `target/perf-baseline/`), so that a paired run can
//! measure it beside the current build.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::PerfError;

/// Subdirectory of the results directory holding kept binaries.
pub const BIN_DIR: &str = "bin";

/// Target directory (under the repository's `target/`) of baseline rebuilds.
pub const REBUILD_TARGET: &str = "perf-baseline";

/// The binary that produced a run (recorded in results files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryInfo {
    /// SHA-256 of the executable, lowercase hex.
    pub sha256: String,
    /// The git commit it was built from (`unknown` outside a repository).
    pub git_commit: String,
    /// Whether the working tree had uncommitted changes: then the commit does not
    /// rebuild this binary.
    #[serde(default)]
    pub dirty: bool,
}

/// SHA-256 of the file at `path`, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String, PerfError> {
    let mut f = std::fs::File::open(path).map_err(|e| PerfError::io("opening", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| PerfError::io("reading", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Where the binary of digest `sha256` is kept under `results_root`.
pub fn kept_path(results_root: &Path, sha256: &str) -> PathBuf {
    results_root.join(BIN_DIR).join(sha256)
}

/// The kept binary of digest `sha256`, when present and intact.
pub fn find_kept(results_root: &Path, sha256: &str) -> Option<PathBuf> {
    let p = kept_path(results_root, sha256);
    (p.is_file() && sha256_file(&p).ok().as_deref() == Some(sha256)).then_some(p)
}

/// Copies `exe` under `results_root/bin/<sha256>` (once; atomically) and returns
/// its digest.
pub fn keep(results_root: &Path, exe: &Path) -> Result<String, PerfError> {
    let sha = sha256_file(exe)?;
    let dest = kept_path(results_root, &sha);
    if dest.is_file() {
        return Ok(sha);
    }
    let dir = results_root.join(BIN_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| PerfError::io("creating", &dir, e))?;
    let tmp = dir.join(format!(".{sha}.tmp"));
    std::fs::copy(exe, &tmp).map_err(|e| PerfError::io("copying the binary to", &tmp, e))?;
    std::fs::rename(&tmp, &dest).map_err(|e| PerfError::io("renaming", &tmp, e))?;
    Ok(sha)
}

fn run(cmd: &mut Command, what: &str) -> Result<(), PerfError> {
    let out = cmd
        .output()
        .map_err(|e| PerfError::operation(format!("{what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = err.lines().rev().take(5).collect();
    Err(PerfError::operation(format!(
        "{what} failed ({}): {}",
        out.status,
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    )))
}

/// Builds `rev` of the repository at `repo` in a temporary worktree with
/// `cargo build --release --bin guestctl` and returns the binary, copied out of the
/// build directory to `out` (the worktree is removed; the target directory
/// `repo/target/perf-baseline` stays, so the next rebuild is incremental).
pub fn build_revision(repo: &Path, rev: &str, out: &Path) -> Result<PathBuf, PerfError> {
    let tmp = tempfile::Builder::new()
        .prefix("guestctl-baseline-")
        .tempdir()
        .map_err(|e| PerfError::io("creating", &std::env::temp_dir(), e))?;
    let tree = tmp.path().join("tree");
    run(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["worktree", "add", "--detach", "--force"])
            .arg(&tree)
            .arg(rev),
        &format!("git worktree add {rev}"),
    )?;
    let target = repo.join("target").join(REBUILD_TARGET);
    let built = run(
        Command::new("cargo")
            .args(["build", "--release", "--quiet", "--bin", "guestctl"])
            .current_dir(&tree)
            .env("CARGO_TARGET_DIR", &target),
        &format!("cargo build --release of {rev}"),
    );
    // Remove the worktree whatever the build did.
    let _ = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["worktree", "remove", "--force"])
        .arg(&tree)
        .output();
    built?;
    let bin = target.join("release").join("guestctl");
    std::fs::copy(&bin, out).map_err(|e| PerfError::io("copying", &bin, e))?;
    Ok(out.to_path_buf())
}

/// The commit `rev` names in the repository at `repo`.
pub fn resolve_revision(repo: &Path, rev: &str) -> Result<String, PerfError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
        .output()
        .map_err(|e| PerfError::operation(format!("git rev-parse {rev}: {e}")))?;
    if !out.status.success() {
        return Err(PerfError::invalid(format!(
            "{rev:?} is not a commit of the repository at {}",
            repo.display()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The top directory of the git repository around the working directory.
pub fn repo_root() -> Result<PathBuf, PerfError> {
    let out = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|e| PerfError::operation(format!("running git: {e}")))?;
    if !out.status.success() {
        return Err(PerfError::invalid(
            "not inside a git repository: a baseline binary can only be rebuilt from git",
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Whether the working tree around the working directory has uncommitted changes to
/// tracked files (`git status --porcelain --untracked-files=no`); `true` when git
/// cannot tell, so that nothing is rebuilt from a commit that may not match.
pub fn worktree_dirty() -> bool {
    Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map_or(true, |o| !o.status.success() || !o.stdout.is_empty())
}
