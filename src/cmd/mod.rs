//! Subcommand families, one module each.

pub mod inspect;
pub mod mock_disk;
pub mod perf;
