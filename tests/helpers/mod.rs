//! Shared helpers of the root package's integration tests: the mock disk
//! builder (from guestctl-mockdisk), running the `guestctl` binary and the validation
//! script, and crafting results files.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod mock_disk;

#[allow(unused_imports)] // not every test binary builds disks
pub use mock_disk::{MockDiskBuilder, MockDiskType};

/// The guestctl binary built for these tests.
pub fn guestctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_guestctl"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `guestctl ARGS` in the repository root.
pub fn guestctl(args: &[&str]) -> Output {
    Command::new(guestctl_bin())
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

/// `guestctl ARGS` with its inspection cache in `cache` (never the user's), to
/// spawn or run.
pub fn guestctl_cmd(args: &[&str], cache: &Path) -> Command {
    let mut c = Command::new(guestctl_bin());
    c.args(args).env("GUESTCTL_CACHE_DIR", cache);
    c
}

/// A Small mock disk of `os` named `hostname`, with 10 user files and `packages`
/// packages: the CLI tests' fixture disk. Callers add layout, format and so on.
pub fn small_disk(os: &str, hostname: &str, packages: usize) -> MockDiskBuilder {
    MockDiskBuilder::new()
        .disk_type(MockDiskType::Small)
        .os_type(os)
        .hostname(hostname)
        .num_files(10)
        .num_packages(packages)
}

/// Runs scripts/validate-performance.sh with the test binary (no build) and `args`,
/// with extra environment `env`.
pub fn validate_script(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts/validate-performance.sh"))
        .args(args)
        .env("GUESTCTL_BIN", guestctl_bin())
        .env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Exit code, stdout and stderr as text.
pub fn outcome(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Rewrites the results file `from` into `to` with every test's samples replaced by
/// 30 samples `factor` times the original minimum (spread by 0.1 % steps), summaries
/// recomputed: a baseline on the same machine fingerprint, much faster or slower.
pub fn scaled_results(from: &Path, to: &Path, factor: f64) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    for t in v["tests"].as_array_mut().unwrap() {
        let min = t["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        let samples: Vec<f64> = (0..30)
            .map(|i| min * factor * (1.0 + i as f64 * 0.001))
            .collect();
        let summary =
            guestctl_stats::summarize(&samples, &guestctl_stats::Options::default()).unwrap();
        t["samples"] = serde_json::to_value(&samples).unwrap();
        t["summary"] = serde_json::to_value(&summary).unwrap();
    }
    std::fs::write(to, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}
