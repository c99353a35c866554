//! Criterion benchmarks of the five required operations (docs/requirements.md), for developers'
//! micro-benchmarking (`cargo bench --bench operations`). They drive the very
//! routines `guestctl perf validate` measures (`guestctl_perf::standard`), on the
//! same generated disks, so a number here and a number in the validation report
//! are of the same work. Untimed per-iteration preparation stays untimed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use guestctl_perf::standard;

/// The allocator of the `guestctl` binary, so that these numbers and the ones of
/// `guestctl perf validate` are of the same program.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn operations(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ops = [
        standard::cache_lookup(),
        standard::appliance_launch(),
        standard::os_inspection(),
        standard::package_listing("ubuntu"),
        standard::package_listing("fedora"),
        standard::package_listing("alpine"),
        standard::package_listing("arch"),
        standard::parallel_batch(),
    ];
    for op in ops {
        let name = op.name().to_string();
        let sub = dir.path().join(name.replace('/', "_"));
        std::fs::create_dir_all(&sub).expect("test directory");
        let mut routine = op
            .into_routine(&sub)
            .unwrap_or_else(|e| panic!("setting up {name}: {e}"));
        c.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    routine.prepare().unwrap_or_else(|e| panic!("{name}: {e}"));
                    let start = Instant::now();
                    routine.run().unwrap_or_else(|e| panic!("{name}: {e}"));
                    total += start.elapsed();
                }
                total
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = operations
}
criterion_main!(benches);
