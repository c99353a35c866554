//! Shared by the batch tests: a list of images (hard links to a few real mock
//! disks, and some that are not disks), the `guestctl` binary on `PATH`, records
//! read back strictly, and shards killed at random moments and restarted.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use guestctl_mockdisk::{MockDiskBuilder, MockDiskType};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A list of images in a temporary directory.
pub struct Images {
    pub dir: tempfile::TempDir,
    pub list: PathBuf,
    pub paths: Vec<PathBuf>,
}

/// Every how many list positions an image is not a disk (an error record).
pub const BAD_EVERY: usize = 10;

/// `n` images: hard links to three Minimal disks (ubuntu, fedora, alpine), and at
/// each position divisible by [`BAD_EVERY`] a zeroed file that is no disk.
pub fn images(n: usize) -> Images {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let imgs = dir.path().join("images");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&imgs).unwrap();
    let mut sources = Vec::new();
    for os in ["ubuntu", "fedora", "alpine"] {
        let p = src.join(format!("{os}.img"));
        MockDiskBuilder::new()
            .disk_type(MockDiskType::Minimal)
            .os_type(os)
            .hostname(format!("{os}-vm"))
            .num_files(5)
            .num_packages(20)
            .build(&p)
            .unwrap();
        sources.push(p);
    }
    let zeroed = src.join("zeroed.img");
    std::fs::write(&zeroed, vec![0u8; 64 * 1024]).unwrap();
    let mut paths = Vec::new();
    for i in 0..n {
        let from = if i % BAD_EVERY == 0 {
            &zeroed
        } else {
            &sources[i % sources.len()]
        };
        let name = format!("{i:05}-{}", from.file_name().unwrap().to_string_lossy());
        let p = imgs.join(name);
        std::fs::hard_link(from, &p).unwrap();
        paths.push(p);
    }
    let list = dir.path().join("images.txt");
    let text: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(&list, text).unwrap();
    Images { dir, list, paths }
}

/// The guestctl binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_guestctl"))
}

/// `PATH` with the binary under test first, as the recipes call `guestctl`.
pub fn path_with_guestctl() -> String {
    let dir = bin().parent().unwrap().to_path_buf();
    let rest = std::env::var("PATH").unwrap_or_default();
    format!("{}:{rest}", dir.display())
}

/// A `guestctl` command with no cache directory of the user's.
pub fn guestctl(cache: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("GUESTCTL_CACHE_DIR", cache);
    c
}

/// What a record says about its image, without what differs between runs
/// (duration, host, shard, index within a partition).
pub fn facts(record: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "status": record["status"],
        "error_kind": record["error_kind"],
        "inspection": record["inspection"],
    })
}

/// Every record of `files`, each line parsed strictly (a line that is not JSON
/// fails the test).
pub fn records(files: &[PathBuf]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{} line {}: {e}: {line}", f.display(), n + 1));
            out.push(v);
        }
        assert!(text.is_empty() || text.ends_with('\n'), "{}", f.display());
    }
    out
}

/// Facts per image; panics if an image has two records.
pub fn facts_by_image(records: &[serde_json::Value]) -> BTreeMap<String, serde_json::Value> {
    let mut m = BTreeMap::new();
    for r in records {
        let image = r["image"].as_str().unwrap().to_string();
        assert!(
            m.insert(image.clone(), facts(r)).is_none(),
            "{image} recorded twice"
        );
    }
    m
}

/// The facts of one uninterrupted, unsharded run over `images`.
pub fn reference(images: &Images) -> BTreeMap<String, serde_json::Value> {
    let out = images.dir.path().join("reference.jsonl");
    let st = guestctl(&images.dir.path().join("cache"))
        .arg("batch")
        .arg("--files-from")
        .arg(&images.list)
        .args(["--summary", "--no-cache", "--quiet", "--output"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(1), "the zeroed images fail");
    let m = facts_by_image(&records(&[out]));
    assert_eq!(m.len(), images.paths.len());
    m
}

/// A small deterministic generator for kill moments.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi.saturating_sub(lo) + 1)
    }
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// Waits until `out` has grown by `bytes` or `child` has ended, then kills it.
/// True when the kill interrupted a running process.
fn kill_after(child: &mut Child, out: &Path, bytes: u64) -> bool {
    let target = len(out) + bytes;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if len(out) >= target {
            break;
        }
        std::thread::yield_now();
    }
    child.kill().unwrap();
    let status: ExitStatus = child.wait().unwrap();
    status.code().is_none()
}

/// Runs the shards `0..shards` `rounds` times, all at once, killing each after
/// a random part of its remaining output, then once more to the end. Returns how
/// many kills interrupted a running process, and the final statuses.
pub fn kill_and_resume(
    shards: u64,
    rounds: usize,
    expected_bytes_per_shard: u64,
    launch: &dyn Fn(u64) -> Child,
    output: &dyn Fn(u64) -> PathBuf,
    rng: &mut Rng,
) -> (usize, Vec<ExitStatus>) {
    let mut landed = 0;
    for _ in 0..rounds {
        let mut children: Vec<Child> = (0..shards).map(launch).collect();
        for (i, child) in children.iter_mut().enumerate() {
            let out = output(i as u64);
            let remaining = expected_bytes_per_shard.saturating_sub(len(&out));
            let bytes = rng.between(1, (remaining / 2).max(1));
            landed += usize::from(kill_after(child, &out, bytes));
        }
    }
    let statuses = (0..shards).map(|i| launch(i).wait().unwrap()).collect();
    (landed, statuses)
}

/// A child whose output and errors are discarded (records go to files).
pub fn quiet(mut c: Command) -> Child {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}
