#![allow(missing_docs)]
//! The five operations, timed (release build, warm page cache):
//! `cache_lookup`, `appliance_launch`, `os_inspection`, `package_listing`,
//! `parallel_batch`. Images are generated once into a temp dir.

use criterion::{criterion_group, criterion_main, Criterion};
use guestctl_inspect::{
    batch, inspect_os, launch, list_packages, BatchOptions, Cache, ImageOptions, InspectOptions,
    LaunchOptions,
};
use guestctl_mockdisk::{MockDiskBuilder, MockDiskType};
use std::path::PathBuf;

fn build(dir: &std::path::Path, name: &str, b: MockDiskBuilder) -> PathBuf {
    let p = dir.join(name);
    b.build(&p)
        .unwrap_or_else(|e| panic!("building {name}: {e}"));
    p
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let medium = build(
        dir.path(),
        "medium.img",
        MockDiskBuilder::new()
            .disk_type(MockDiskType::Medium)
            .num_files(100)
            .num_packages(200),
    );
    let small = build(
        dir.path(),
        "small.img",
        MockDiskBuilder::new()
            .disk_type(MockDiskType::Small)
            .num_files(100)
            .num_packages(200),
    );
    let pk2000 = build(
        dir.path(),
        "pk2000.img",
        MockDiskBuilder::new()
            .disk_type(MockDiskType::Medium)
            .num_files(10)
            .num_packages(2000),
    );
    let smalls: Vec<PathBuf> = ["ubuntu", "fedora", "alpine", "arch"]
        .iter()
        .map(|os| {
            build(
                dir.path(),
                &format!("{os}.img"),
                MockDiskBuilder::new()
                    .os_type(*os)
                    .disk_type(MockDiskType::Small),
            )
        })
        .collect();
    let lopts = LaunchOptions::default();

    let cache = Cache::new(dir.path().join("cache"));
    let iopts = ImageOptions {
        cache: Some(cache.clone()),
        ..ImageOptions::default()
    };
    let key_opts = iopts.cache_options();
    guestctl_inspect::inspect_image(&small, &iopts).unwrap();
    assert!(cache.lookup(&small, &key_opts).is_some());
    c.bench_function("cache_lookup", |b| {
        b.iter(|| cache.lookup(&small, &key_opts).unwrap())
    });

    c.bench_function("appliance_launch", |b| {
        b.iter(|| launch(&medium, &lopts).unwrap())
    });

    let l = launch(&medium, &lopts).unwrap();
    let no_pk = InspectOptions { packages: false };
    c.bench_function("os_inspection", |b| b.iter(|| inspect_os(&l, &no_pk)));

    let l2000 = launch(&pk2000, &lopts).unwrap();
    assert_eq!(list_packages(&l2000).unwrap().len(), 2000);
    c.bench_function("package_listing", |b| {
        b.iter(|| list_packages(&l2000).unwrap())
    });

    let bopts = BatchOptions::default();
    c.bench_function("parallel_batch", |b| {
        b.iter(|| {
            let r = batch(&smalls, &bopts);
            assert!(r.iter().all(|i| i.result.is_ok()));
            r
        })
    });
}

criterion_group! {
    name = inspect;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = benches
}
criterion_main!(inspect);
