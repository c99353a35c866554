//! Putting a disk together: plan, stage, partition, format, convert, rename.

use crate::builder::{MockDisk, MockDiskBuilder};
use crate::error::MockDiskError;
use std::path::Path;

pub(crate) fn build(b: &MockDiskBuilder, path: &Path) -> Result<MockDisk, MockDiskError> {
    let _ = (b, path);
    Err(MockDiskError::InvalidInput("not implemented yet".into()))
}
