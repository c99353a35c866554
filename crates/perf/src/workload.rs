//! Synthetic workloads: batches of real mock disks (guestctl-mockdisk), generated in
//! parallel into a temporary directory that is removed on drop unless kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use guestctl_mockdisk::{build_batch, DiskFormat, MockDisk, MockDiskBuilder, MockDiskType, OsType};
use guestctl_stats::rng::Rng;

use crate::error::PerfError;

/// Largest batch generated at once: each disk is a real image of 1 MiB or more, so a
/// mistyped count could fill the disk.
pub const MAX_BATCH: usize = 10_000;

/// Default seed of the generator (any fixed value; batches are reproducible by seed).
pub const DEFAULT_WORKLOAD_SEED: u64 = 2026;

/// Generates batches of mock disks for performance tests.
///
/// ```no_run
/// use guestctl_perf::WorkloadGenerator;
/// use guestctl_mockdisk::MockDiskType;
///
/// let generator = WorkloadGenerator::new()?;
/// let disks = generator.generate_disk_batch(4, MockDiskType::Minimal)?;
/// let varied = generator.generate_varied_batch(6)?;
/// assert_eq!(disks.len() + varied.len(), 10);
/// # Ok::<(), guestctl_perf::PerfError>(())
/// ```
#[derive(Debug)]
pub struct WorkloadGenerator {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    seed: u64,
    format: DiskFormat,
    calls: AtomicUsize,
}

impl WorkloadGenerator {
    /// A generator writing into a new temporary directory (removed on drop).
    pub fn new() -> Result<Self, PerfError> {
        let dir = crate::store::temp_dir("guestctl-workload-")?;
        let path = dir.path().to_path_buf();
        Ok(WorkloadGenerator {
            dir: Some(dir),
            path,
            seed: DEFAULT_WORKLOAD_SEED,
            format: DiskFormat::Raw,
            calls: AtomicUsize::new(0),
        })
    }

    /// The seed of varied batches and of every disk's content.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The image format of generated disks (raw by default).
    pub fn format(mut self, format: DiskFormat) -> Self {
        self.format = format;
        self
    }

    /// Keeps the directory after drop; returns its path.
    pub fn keep(&mut self) -> PathBuf {
        if let Some(d) = self.dir.take() {
            // `keep` disables removal and returns the path.
            return d.keep();
        }
        self.path.clone()
    }

    /// The directory disks are written to.
    pub fn dir(&self) -> &Path {
        &self.path
    }

    fn check(n: usize) -> Result<(), PerfError> {
        if n > MAX_BATCH {
            return Err(PerfError::invalid(format!(
                "a batch of {n} disks exceeds the limit of {MAX_BATCH}"
            )));
        }
        Ok(())
    }

    /// `n` disks of the same type (ubuntu, default files and packages scaled to the
    /// size), each with its own hostname and seed.
    pub fn generate_disk_batch(
        &self,
        n: usize,
        disk_type: MockDiskType,
    ) -> Result<Vec<MockDisk>, PerfError> {
        Self::check(n)?;
        let (files, packages) = default_content(disk_type);
        let specs = (0..n)
            .map(|i| {
                MockDiskBuilder::new()
                    .disk_type(disk_type)
                    .os_type("ubuntu")
                    .hostname(format!("batch-vm-{i}"))
                    .num_files(files)
                    .num_packages(packages)
                    .seed(self.seed.wrapping_add(i as u64))
                    .format(self.format)
            })
            .collect();
        self.build(specs, disk_type.name())
    }

    /// The builders of a varied batch: OS type, size, files and packages drawn from
    /// the generator's seed (same seed, same batch).
    pub fn varied_specs(&self, n: usize) -> Vec<MockDiskBuilder> {
        let mut rng = Rng::new(self.seed);
        (0..n)
            .map(|i| {
                // Every OS type the generator writes.
                let os = OsType::ALL[rng.below(OsType::ALL.len())].name();
                // Mostly small disks; one in ten Medium, so a batch stays quick.
                let disk_type = match rng.below(10) {
                    0..=4 => MockDiskType::Minimal,
                    5..=8 => MockDiskType::Small,
                    _ => MockDiskType::Medium,
                };
                let (files, packages) = default_content(disk_type);
                let files = files / 2 + rng.below(files + 1);
                let packages = packages / 2 + rng.below(packages + 1);
                MockDiskBuilder::new()
                    .disk_type(disk_type)
                    .os_type(os)
                    .hostname(format!("varied-{i}-{os}"))
                    .num_files(files)
                    .num_packages(packages)
                    .seed(self.seed.wrapping_mul(31).wrapping_add(i as u64))
                    .format(self.format)
            })
            .collect()
    }

    /// `n` disks of varied OS type, size, files and packages, reproducible by seed.
    pub fn generate_varied_batch(&self, n: usize) -> Result<Vec<MockDisk>, PerfError> {
        Self::check(n)?;
        self.build(self.varied_specs(n), "varied")
    }

    fn build(&self, specs: Vec<MockDiskBuilder>, label: &str) -> Result<Vec<MockDisk>, PerfError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let ext = match self.format {
            DiskFormat::Qcow2 => "qcow2",
            _ => "img",
        };
        let jobs: Vec<(MockDiskBuilder, PathBuf)> = specs
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                let p = self.path.join(format!("{label}-{call}-{i}.{ext}"));
                (b, p)
            })
            .collect();
        build_batch(&jobs)
            .into_iter()
            .zip(&jobs)
            .map(|(r, (_, p))| {
                r.map_err(|e| {
                    PerfError::operation(format!("generating mock disk {}: {e}", p.display()))
                        .with_path(p)
                })
            })
            .collect()
    }
}

/// Files and packages that suit a disk type (the standard suite's defaults).
pub fn default_content(disk_type: MockDiskType) -> (usize, usize) {
    match disk_type {
        MockDiskType::Minimal => (20, 50),
        MockDiskType::Small => (100, 200),
        MockDiskType::Medium => (500, 1000),
        _ => (2000, 2000),
    }
}
