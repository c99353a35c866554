//! Workload generator (being written).

/// Generates mock disks.
#[derive(Debug)]
pub struct WorkloadGenerator;
