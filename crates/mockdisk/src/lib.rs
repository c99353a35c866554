//! Real mock VM disk images for tests and benchmarks.
//!
//! [`MockDiskBuilder`] describes a disk (size, guest OS, hostname, how many files
//! and packages, layout, format, seed); [`MockDiskBuilder::build`] writes it and
//! returns a [`MockDisk`] whose [`Manifest`] is the ground truth of what was
//! written.
//!
//! ```no_run
//! use guestctl_mockdisk::{MockDiskBuilder, MockDiskType};
//! # fn main() -> Result<(), guestctl_mockdisk::MockDiskError> {
//! let disk = MockDiskBuilder::new()
//!     .disk_type(MockDiskType::Small) // 10 MiB
//!     .os_type("ubuntu")
//!     .hostname("test-vm")
//!     .num_files(100)
//!     .num_packages(200)
//!     .build("test.img")?;
//! assert_eq!(disk.os_type(), "ubuntu");
//! assert_eq!(disk.hostname(), "test-vm");
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod assemble;
pub mod builder;
pub mod error;
pub mod guest;
mod lvm;
pub mod manifest;
pub mod rng;
mod sizing;
mod temp;
pub mod tools;

pub use builder::{
    build_batch, DiskFormat, Layout, MockDisk, MockDiskBuilder, MockDiskType, PartitionTable,
    ProgressFn, Stage,
};
pub use error::MockDiskError;
pub use guest::{GuestContent, OsType, PackageInfo};
pub use manifest::{
    FilesystemManifest, GuestManifest, LvManifest, LvmManifest, Manifest, PartitionManifest,
};
pub use temp::{install_interrupt_cleanup, remove_temporaries, staging_root};
