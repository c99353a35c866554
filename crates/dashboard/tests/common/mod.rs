//! Synthetic records for the tests (fixed samples, fixed seeds).
#![allow(dead_code, missing_docs)]

use guestctl_perf::fingerprint::Fingerprint;
use guestctl_perf::record::{RunSettings, RESULTS_FORMAT, SCHEMA_VERSION};
use guestctl_perf::targets::{TargetCheck, TargetStatus};
use guestctl_perf::{
    compare_runs, BaselineComparison, CompareConfig, Params, RunResults, TestResult, Unit,
};
use guestctl_stats::rng::Rng;
use guestctl_stats::{summarize, Options};

pub fn machine() -> Fingerprint {
    Fingerprint {
        cpu_model: "Test CPU @ 3.0GHz".into(),
        cores: 8,
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        kernel: "6.1.0".into(),
        rustc: "rustc 1.89.0".into(),
        profile: "release".into(),
    }
}

pub fn opts() -> Options {
    Options {
        bootstrap_resamples: 500,
        ..Options::default()
    }
}

/// `n` samples around `median` with `cv` noise, seeded.
pub fn samples(seed: u64, median: f64, cv: f64, n: usize) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| rng.normal(median, median * cv).max(median * 0.1))
        .collect()
}

pub fn test_result(name: &str, params: &[(&str, &str)], samples: Vec<f64>) -> TestResult {
    let summary = summarize(&samples, &opts()).unwrap();
    let warnings = summary.warnings();
    let mut p = Params::new();
    for (k, v) in params {
        p.insert((*k).into(), (*v).into());
    }
    TestResult {
        name: name.into(),
        params: p,
        unit: Unit::Nanoseconds,
        warmup: 1,
        samples,
        summary,
        warnings,
        operation: None,
        renamed_from: None,
        target: None,
        peak_rss_bytes: None,
        calibration_ns: None,
        allocated_bytes: None,
        memory: None,
        process: None,
    }
}

pub fn with_target(mut t: TestResult, target_ns: f64) -> TestResult {
    let upper = t.summary.median_ci.upper;
    let status = if upper < target_ns {
        TargetStatus::Met
    } else {
        TargetStatus::Missed
    };
    t.target = Some(TargetCheck {
        operation: t.name.split('/').next().unwrap().into(),
        median_ci_upper_ns: upper,
        target_ns: Some(target_ns),
        status: Some(status),
        spec_baseline_ns: None,
        spec_week12_target_ns: None,
        spec_week12_status: None,
        spec_week4_target_ns: None,
        spec_week4_status: None,
    });
    t
}

pub fn run(commit: &str, timestamp: &str, tests: Vec<TestResult>) -> RunResults {
    RunResults {
        schema_version: SCHEMA_VERSION,
        format: RESULTS_FORMAT.into(),
        timestamp: timestamp.into(),
        git_commit: commit.into(),
        machine: machine(),
        settings: RunSettings::default(),
        tests,
        binary: None,
    }
}

/// A run with one test `name` whose samples centre on `median`.
pub fn simple_run(commit: &str, day: u32, name: &str, median: f64, seed: u64) -> RunResults {
    run(
        commit,
        &format!("2026-01-{day:02}T10:00:00Z"),
        vec![test_result(name, &[], samples(seed, median, 0.03, 20))],
    )
}

/// A baseline and a current run of a small suite: one regression (+25 %), one
/// unchanged, a scaling family over `packages`, a test with a hostile name, one
/// missed target, and one test missing from the current run.
pub fn suite_pair() -> (RunResults, RunResults) {
    let base_tests = vec![
        test_result(
            "os_inspection/ubuntu",
            &[("disk", "ubuntu")],
            samples(1, 4.0e6, 0.03, 30),
        ),
        with_target(
            test_result("cache_lookup", &[], samples(2, 80_000.0, 0.03, 30)),
            100_000.0,
        ),
        test_result(
            "package_listing/100",
            &[("scaling", "packages"), ("packages", "100")],
            samples(3, 1.0e6, 0.03, 30),
        ),
        test_result(
            "package_listing/1000",
            &[("scaling", "packages"), ("packages", "1000")],
            samples(4, 6.0e6, 0.03, 30),
        ),
        test_result(
            "package_listing/10000",
            &[("scaling", "packages"), ("packages", "10000")],
            samples(5, 55.0e6, 0.03, 30),
        ),
        test_result(
            "weird <name> & \"quotes\"",
            &[("k<", "v&\"")],
            samples(6, 2.0e6, 0.03, 30),
        ),
        test_result("old_test", &[], samples(7, 1.0e6, 0.03, 30)),
    ];
    let cur_tests = vec![
        test_result(
            "os_inspection/ubuntu",
            &[("disk", "ubuntu")],
            samples(11, 5.0e6, 0.03, 30),
        ),
        with_target(
            test_result("cache_lookup", &[], samples(12, 120_000.0, 0.03, 30)),
            100_000.0,
        ),
        test_result(
            "package_listing/100",
            &[("scaling", "packages"), ("packages", "100")],
            samples(13, 1.0e6, 0.03, 30),
        ),
        test_result(
            "package_listing/1000",
            &[("scaling", "packages"), ("packages", "1000")],
            samples(14, 6.1e6, 0.03, 30),
        ),
        test_result(
            "package_listing/10000",
            &[("scaling", "packages"), ("packages", "10000")],
            samples(15, 54.0e6, 0.03, 30),
        ),
        test_result(
            "weird <name> & \"quotes\"",
            &[("k<", "v&\"")],
            samples(16, 2.0e6, 0.03, 30),
        ),
    ];
    (
        run(
            "aaaa1111bbbb2222cccc3333dddd4444eeee5555",
            "2026-01-20T10:00:00Z",
            base_tests,
        ),
        run(
            "ffff6666aaaa7777bbbb8888cccc9999dddd0000",
            "2026-01-26T10:30:00Z",
            cur_tests,
        ),
    )
}

pub fn compare(current: &RunResults, baseline: &RunResults) -> BaselineComparison {
    let mut cfg = CompareConfig::new(5.0);
    cfg.options = opts();
    compare_runs(current, baseline, &cfg)
}
