//! WorkloadGenerator and the standard suite over real mock disks (small ones).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_mockdisk::MockDiskType;
use guestctl_perf::standard::{mock_disk_generation, standard_suite};
use guestctl_perf::*;

#[test]
fn disk_batch_is_generated_and_removed_on_drop() {
    let generator = WorkloadGenerator::new().unwrap();
    let dir = generator.dir().to_path_buf();
    let disks = generator
        .generate_disk_batch(2, MockDiskType::Minimal)
        .unwrap();
    assert_eq!(disks.len(), 2);
    for (i, d) in disks.iter().enumerate() {
        assert!(d.path().starts_with(&dir));
        assert!(d.path().is_file());
        assert_eq!(d.os_type(), "ubuntu");
        assert_eq!(d.hostname(), format!("batch-vm-{i}"));
    }
    // A second batch does not overwrite the first.
    let more = generator
        .generate_disk_batch(1, MockDiskType::Minimal)
        .unwrap();
    assert_ne!(more[0].path(), disks[0].path());
    drop(generator);
    assert!(!dir.exists());
}

#[test]
fn keep_preserves_the_directory() {
    let mut generator = WorkloadGenerator::new().unwrap();
    let kept = generator.keep();
    drop(generator);
    assert!(kept.is_dir());
    std::fs::remove_dir_all(&kept).unwrap();
}

#[test]
fn varied_batches_are_reproducible_by_seed_and_varied() {
    let a = WorkloadGenerator::new().unwrap().seed(7);
    let b = WorkloadGenerator::new().unwrap().seed(7);
    let c = WorkloadGenerator::new().unwrap().seed(8);
    let fmt = |g: &WorkloadGenerator| format!("{:?}", g.varied_specs(20));
    assert_eq!(fmt(&a), fmt(&b));
    assert_ne!(fmt(&a), fmt(&c));
    let specs = format!("{:?}", a.varied_specs(40));
    let os_seen = guestctl_mockdisk::OsType::ALL
        .iter()
        .filter(|os| specs.contains(&format!("\"{}\"", os.name())))
        .count();
    assert!(os_seen >= 4, "{specs}");
    assert!(
        specs.contains("Minimal") && specs.contains("Small"),
        "{specs}"
    );
}

#[test]
fn varied_batch_builds_real_disks() {
    let g = WorkloadGenerator::new().unwrap().seed(3);
    // Seed 3's first two disks are small enough for a quick test.
    let disks = g.generate_varied_batch(2).unwrap();
    assert_eq!(disks.len(), 2);
    let specs = g.varied_specs(2);
    for (d, s) in disks.iter().zip(&specs) {
        assert!(format!("{s:?}").contains(&format!("\"{}\"", d.os_type())));
        assert!(d.path().is_file());
    }
}

#[test]
fn batch_limit_is_enforced() {
    let g = WorkloadGenerator::new().unwrap();
    let e = g
        .generate_disk_batch(usize::MAX, MockDiskType::Minimal)
        .unwrap_err();
    assert!(e.to_string().contains("exceeds the limit"), "{e}");
}

#[test]
fn standard_suite_runs_mock_disk_generation() {
    let suite = standard_suite();
    assert_eq!(
        suite.names(),
        [
            "cache_lookup",
            "appliance_launch",
            "os_inspection",
            "package_listing/ubuntu",
            "package_listing/fedora",
            "package_listing/alpine",
            "package_listing/arch",
            "parallel_batch",
            "batch_throughput",
            "inspection/ubuntu",
            "inspection/debian",
            "inspection/fedora",
            "inspection/rocky",
            "inspection/alpine",
            "inspection/arch",
            "inspection/ubuntu/qcow2",
            "inspection/ubuntu/lvm",
            "inspection/fedora/qcow2",
            "inspection/fedora/lvm",
            "scaling/image_size/minimal",
            "scaling/image_size/small",
            "scaling/image_size/medium",
            "scaling/image_size/large",
            "scaling/packages/ubuntu/100",
            "scaling/packages/ubuntu/1000",
            "scaling/packages/ubuntu/3000",
            "scaling/packages/ubuntu/10000",
            "scaling/packages/fedora/100",
            "scaling/packages/fedora/1000",
            "scaling/packages/fedora/3000",
            "scaling/packages/fedora/10000",
            "mock_disk_generation/minimal",
            "mock_disk_generation/small",
            "mock_disk_generation/medium"
        ]
    );
    let mut s = Suite::new();
    s.push(mock_disk_generation(MockDiskType::Minimal)).unwrap();
    assert!(
        s.push(mock_disk_generation(MockDiskType::Minimal)).is_err(),
        "duplicate names refused"
    );
    let mut results = PerfTestSuite::new();
    let failures = s.run(
        &mut results,
        RunPlan { iterations: 2 },
        &mut WallClock,
        &mut NoObserver,
    );
    assert!(failures.is_empty(), "{failures:?}");
    let r = results.get("mock_disk_generation/minimal").unwrap();
    assert_eq!(r.samples.len(), 2);
    assert!(r.samples.iter().all(|s| *s > 0.0));
    assert_eq!(r.params["disk_type"], "minimal");
    assert_eq!(r.params["os_type"], "ubuntu");
}

/// The five required operations run for real: each setup generates its disks, each
/// routine does real inspection work (and fails if the result is wrong), and every
/// result carries the operation key that perf-targets.toml uses.
#[test]
fn standard_suite_measures_the_five_inspection_operations() {
    let suite = {
        let mut s = Suite::new();
        for op in [
            guestctl_perf::standard::cache_lookup(),
            guestctl_perf::standard::appliance_launch(),
            guestctl_perf::standard::os_inspection(),
            guestctl_perf::standard::package_listing("fedora"),
            guestctl_perf::standard::parallel_batch(),
        ] {
            s.push(op).unwrap();
        }
        s
    };
    let mut results = PerfTestSuite::new();
    let failures = suite.run(
        &mut results,
        RunPlan { iterations: 2 },
        &mut WallClock,
        &mut NoObserver,
    );
    assert!(failures.is_empty(), "{failures:?}");
    for (name, op) in [
        ("cache_lookup", "cache_lookup"),
        ("appliance_launch", "appliance_launch"),
        ("os_inspection", "os_inspection"),
        ("package_listing/fedora", "package_listing"),
        ("parallel_batch", "parallel_batch"),
    ] {
        let r = results
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(r.samples.len(), 2, "{name}");
        assert!(r.samples.iter().all(|s| *s > 0.0), "{name}");
        assert_eq!(r.operation.as_deref(), Some(op), "{name}");
    }
}

/// Breadth: every os_type, qcow2 and LVM disks are generated and inspected whole;
/// each routine checks the distro and the package count, so a wrong inspection fails
/// the test rather than being timed.
#[test]
fn breadth_suite_inspects_every_os_type_format_and_layout() {
    let suite = guestctl_perf::standard::breadth_suite();
    assert_eq!(suite.len(), 10);
    let mut results = PerfTestSuite::new();
    let failures = suite.run(
        &mut results,
        RunPlan { iterations: 1 },
        &mut WallClock,
        &mut NoObserver,
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(results.results().len(), 10);
    let lvm = results.get("inspection/fedora/lvm").unwrap();
    assert_eq!(lvm.params["layout"], "lvm");
    assert_eq!(lvm.operation.as_deref(), Some("inspection"));
    assert_eq!(
        results.get("inspection/ubuntu/qcow2").unwrap().params["format"],
        "qcow2"
    );
}

/// Scaling: a package-count series is measured, fitted and reported; the Markdown
/// report gets a Scaling section with the fitted slope.
#[test]
fn scaling_series_are_measured_fitted_and_reported() {
    use guestctl_perf::standard::{scaling_image_size, scaling_packages};
    let mut suite = Suite::new();
    for n in [100, 1000] {
        suite.push(scaling_packages("ubuntu", n)).unwrap();
    }
    for t in [MockDiskType::Minimal, MockDiskType::Small] {
        suite.push(scaling_image_size(t)).unwrap();
    }
    let mut results = PerfTestSuite::new();
    let failures = suite.run(
        &mut results,
        RunPlan { iterations: 3 },
        &mut WallClock,
        &mut NoObserver,
    );
    assert!(failures.is_empty(), "{failures:?}");
    let series = guestctl_perf::scaling::scaling_series(&results.to_run());
    assert_eq!(series.len(), 2, "{series:?}");
    let pk = series
        .iter()
        .find(|s| s.param == "num_packages")
        .expect("package series");
    assert_eq!(pk.operation, "scaling_packages_ubuntu");
    assert_eq!(
        pk.points.iter().map(|p| p.x).collect::<Vec<_>>(),
        [100.0, 1000.0]
    );
    assert!(pk.slope.is_finite());
    let size = series.iter().find(|s| s.param == "image_mib").unwrap();
    assert_eq!(
        size.points.iter().map(|p| p.x).collect::<Vec<_>>(),
        [1.0, 10.0]
    );
    let md = results.generate_report();
    assert!(md.contains("## Scaling"), "{md}");
    assert!(
        md.contains("### scaling_packages_ubuntu by num_packages"),
        "{md}"
    );
    assert!(md.contains("per num_packages"), "{md}");
}

/// Both sides of a paired run prepare a test in one shared workload directory, so
/// a setup must succeed over what the other side left there (batch_throughput's
/// links once failed with "File exists").
#[test]
fn batch_throughput_prepares_twice_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["baseline", "current"] {
        let routine = guestctl_perf::standard::batch_throughput().into_routine(dir.path());
        assert!(routine.is_ok(), "{side}: {:?}", routine.err());
    }
}
