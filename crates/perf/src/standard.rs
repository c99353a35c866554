//! The standard suite run by `guestctl perf validate`: a registry of named
//! [`Operation`]s. Today it measures mock disk generation per disk type; the
//! inspection operations of the spec's target table (`cache_lookup`,
//! `appliance_launch`, `os_inspection`, `package_listing`, `parallel_batch`) are
//! added by pushing more operations (see [`Suite::push`] / [`Suite::extend`]).

use guestctl_mockdisk::{MockDiskBuilder, MockDiskType};

use crate::error::PerfError;
use crate::suite::{Operation, Suite};
use crate::workload::default_content;

/// Seed of every disk the standard suite generates (results comparable run to run).
pub const SUITE_SEED: u64 = 42;

/// `mock_disk_generation/<type>`: builds one real mock disk of `disk_type` (ubuntu,
/// files and packages per [`default_content`]) per iteration; the previous image is
/// removed before each iteration, untimed.
pub fn mock_disk_generation(disk_type: MockDiskType) -> Operation {
    let (files, packages) = default_content(disk_type);
    let name = format!(
        "mock_disk_generation/{}",
        disk_type.name().to_ascii_lowercase()
    );
    Operation::new(name, move |dir| {
        let path = dir.join("disk.img");
        let builder = MockDiskBuilder::new()
            .disk_type(disk_type)
            .os_type("ubuntu")
            .hostname("perf-vm")
            .num_files(files)
            .num_packages(packages)
            .seed(SUITE_SEED)
            .write_manifest(false);
        let mut first = true;
        Ok(GenerateDisk {
            run: move |prepare: bool| -> Result<(), PerfError> {
                if prepare {
                    if !first {
                        std::fs::remove_file(&path)
                            .map_err(|e| PerfError::io("removing", &path, e))?;
                    }
                    first = false;
                    return Ok(());
                }
                builder
                    .build(&path)
                    .map(|_| ())
                    .map_err(|e| PerfError::operation(format!("mock disk generation: {e}")))
            },
        })
    })
    .param("disk_type", disk_type.name().to_ascii_lowercase())
    .param("os_type", "ubuntu")
    .param("num_files", files)
    .param("num_packages", packages)
    .param("format", "raw")
    .param("seed", SUITE_SEED)
}

/// A routine from one closure: `f(true)` prepares, `f(false)` runs.
struct GenerateDisk<F> {
    run: F,
}

impl<F: FnMut(bool) -> Result<(), PerfError>> crate::measure::Routine for GenerateDisk<F> {
    fn prepare(&mut self) -> Result<(), PerfError> {
        (self.run)(true)
    }
    fn run(&mut self) -> Result<(), PerfError> {
        (self.run)(false)
    }
}

/// The standard suite: mock disk generation for Minimal, Small and Medium disks.
pub fn standard_suite() -> Suite {
    let mut s = Suite::new();
    for t in [
        MockDiskType::Minimal,
        MockDiskType::Small,
        MockDiskType::Medium,
    ] {
        // Names are distinct by construction; push cannot fail here.
        let _ = s.push(mock_disk_generation(t));
    }
    s
}
