//! `tests/helpers/mock_disk.rs`: the mock disk generator for tests, which
//! lives in guestctl-mockdisk (shared with `guestctl mock-disk` and the perf suite).

#[allow(unused_imports)] // not every test uses every type
pub use guestctl_mockdisk::{DiskFormat, MockDisk, MockDiskBuilder, MockDiskType};
