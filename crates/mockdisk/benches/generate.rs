//! Generation time of a Large (1 GiB) raw GPT image with 1,000 user files and
//! 2,000 packages, per package-database family (dpkg, rpm sqlite, apk, pacman),
//! and of a Small image for scale: `cargo bench -p guestctl-mockdisk`.
//!
//! The goal for the Large case is under 1 s on a 2-core machine. Each iteration
//! writes a fresh image into a temporary directory (replacing the previous one).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use guestctl_mockdisk::{MockDiskBuilder, MockDiskType, OsType};
use std::time::Duration;

fn large(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("large_1000_files_2000_packages");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    for os in [OsType::Ubuntu, OsType::Fedora, OsType::Alpine, OsType::Arch] {
        let path = dir.path().join(format!("{}.img", os.name()));
        let b = MockDiskBuilder::new()
            .disk_type(MockDiskType::Large)
            .os_type(os.name())
            .hostname("bench")
            .num_files(1000)
            .num_packages(2000)
            .write_manifest(false);
        g.bench_function(os.name(), |bench| {
            bench.iter(|| b.build(&path).expect("build"))
        });
    }
    g.finish();
}

fn small(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("small.img");
    let b = MockDiskBuilder::new()
        .disk_type(MockDiskType::Small)
        .os_type("ubuntu")
        .num_files(100)
        .num_packages(200)
        .write_manifest(false);
    let mut g = c.benchmark_group("small_100_files_200_packages");
    g.sample_size(10);
    g.bench_function("ubuntu", |bench| {
        bench.iter(|| b.build(&path).expect("build"))
    });
    g.finish();
}

criterion_group!(benches, large, small);
criterion_main!(benches);
