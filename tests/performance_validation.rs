//! The manual-testing entry point: `cargo test --release --test
//! performance_validation`. The framework's API end to end with real (small) work,
//! the `guestctl perf` commands, and scripts/validate-performance.sh's exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use std::time::{Duration, Instant};

use guestctl_perf::{MockMeasurement, NoObserver, Params, PerfTestSuite, WorkloadGenerator};
use helpers::*;

/// Real work whose cost is proportional to `n`.
fn work(n: u64) -> u64 {
    (0..n).fold(0u64, |acc, x| {
        acc.wrapping_mul(31)
            .wrapping_add(std::hint::black_box(x) ^ (x >> 3))
    })
}

#[test]
fn spec_api_run_test_bench_and_report() {
    let mut suite = PerfTestSuite::new();
    suite
        .run_test("cache_lookup", 10, || {
            let start = Instant::now();
            std::hint::black_box(work(20_000));
            start.elapsed()
        })
        .unwrap();
    suite
        .bench("sort_10k", 10, || {
            let mut v: Vec<u64> = (0..10_000).map(|i| (i * 7919) % 10_007).collect();
            v.sort_unstable();
            v
        })
        .unwrap();
    let r = suite.get("cache_lookup").unwrap();
    assert_eq!(r.samples.len(), 10);
    assert_eq!(r.warmup, 1);
    assert!(
        r.summary.min > 0.0
            && r.summary.min <= r.summary.median
            && r.summary.median <= r.summary.max
    );
    let report = suite.generate_report();
    println!("{report}");
    assert!(report.contains("# Performance Validation Report"));
    assert!(report.contains("| cache_lookup | 10 |"));
    assert!(report.contains("| sort_10k | 10 |"));
    // Zero iterations is an error, not a panic.
    assert!(suite.run_test("nothing", 0, || Duration::ZERO).is_err());
}

#[test]
fn spec_api_compare_with_baseline() {
    // The suite API of docs/requirements.md on scripted measurements (real timings
    // of two builds are compared paired, through the CLI, below): 8× the time is a
    // regression, the same values are unchanged, a test only in the current run is
    // new.
    let mut baseline = PerfTestSuite::new();
    let mut current = PerfTestSuite::new();
    let base: Vec<f64> = (0..25).map(|i| 1e6 + f64::from(i % 5) * 1e4).collect();
    let slow: Vec<f64> = base.iter().map(|x| x * 8.0).collect();
    let run = |s: &mut PerfTestSuite, name: &str, v: &[f64]| {
        let mut m = MockMeasurement::new(v.to_vec());
        s.run_with(
            name,
            Params::new(),
            v.len(),
            &mut m,
            &mut || Ok(()),
            &mut NoObserver,
        )
        .unwrap();
    };
    run(&mut baseline, "hash", &base);
    run(&mut current, "hash", &slow);
    run(&mut baseline, "steady", &base);
    run(&mut current, "steady", &base);
    run(&mut current, "brand_new", &base);

    let comparison = current.compare_with_baseline(&baseline, 5.0);
    println!("{}", comparison.generate_report());
    let names = |v: Vec<&guestctl_perf::TestComparison>| -> Vec<String> {
        v.iter().map(|t| t.label()).collect()
    };
    assert_eq!(names(comparison.regressions()), ["hash"]);
    assert_eq!(names(comparison.unchanged()), ["steady"]);
    let md = comparison.generate_report();
    assert!(md.contains("### ❌ Regressions\n\n- hash: "), "{md}");
    assert!(md.contains("- brand_new: median"), "{md}");
    assert!(
        md.contains("unpaired: run-to-run machine noise not controlled"),
        "{md}"
    );

    // And the other way round it is an improvement.
    let back = baseline.compare_with_baseline(&current, 5.0);
    assert!(back.regressions().is_empty());
    assert_eq!(names(back.improvements()), ["hash"]);
}

/// `perf validate` paired against a given binary (here the same one: A/A), then
/// with a slowdown injected into this build's worker (busy work inside every
/// measured iteration): the exit code is the verdict.
#[test]
fn paired_a_a_exits_0_and_an_injected_slowdown_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("r");
    let d = d.to_str().unwrap();
    let bin = guestctl_bin();
    let bin = bin.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut v = vec![
            "perf",
            "validate",
            "--no-progress",
            "--filter",
            "inspection/ubuntu",
            "--baseline-bin",
            bin,
            "--results-dir",
            d,
        ];
        v.extend(extra);
        v
    };
    let (code, out, err) = outcome(&guestctl(&args(&[])));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Compared: paired (3 tests"), "{out}");
    let report = std::fs::read_to_string(tmp.path().join("r/report.md")).unwrap();
    assert!(report.contains("; paired, "), "{report}");
    assert!(report.contains(" rounds × "), "{report}");
    // No baseline is written by a paired run against a given binary.
    assert!(!tmp.path().join("r/baseline.json").exists());

    let (code, out, err) = outcome(&guestctl(&args(&["--inject-slowdown", "100"])));
    assert_eq!(code, 2, "{out}\n{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("r/report.json")).unwrap()).unwrap();
    let time: Vec<&serde_json::Value> = v["comparison"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("metric").is_none())
        .collect();
    assert_eq!(time.len(), 3);
    for t in time {
        assert_eq!(t["method"], "paired", "{t}");
        assert_eq!(t["comparison"]["verdict"], "regression", "{t}");
        // About twice the time, measured within one session.
        let r = t["comparison"]["ratio"].as_f64().unwrap();
        assert!(r > 1.5, "{t}");
    }
}

/// A baseline binary that does not speak the worker protocol (here `true`, which
/// exits at once): the comparison falls back to unpaired and says so.
#[test]
fn a_baseline_binary_without_the_protocol_means_unpaired_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("r");
    let d = d.to_str().unwrap();
    let mut first = vec!["perf", "validate", "--no-progress"];
    first.extend(quick_args(d));
    let (code, out, err) = outcome(&guestctl(&first));
    assert_eq!(code, 0, "{out}\n{err}");
    let mut again = first.clone();
    again.extend(["--baseline-bin", "/bin/true"]);
    let (code, out, err) = outcome(&guestctl(&again));
    assert!(code == 0 || code == 2, "{out}\n{err}");
    assert!(
        err.contains("unpaired: run-to-run machine noise not controlled"),
        "{err}"
    );
    assert!(err.contains("does not speak the worker protocol"), "{err}");
    let report = std::fs::read_to_string(tmp.path().join("r/report.md")).unwrap();
    assert!(
        report.contains("Compared: unpaired: run-to-run machine noise not controlled"),
        "{report}"
    );
}

#[test]
fn workload_generator_feeds_a_suite() {
    let generator = WorkloadGenerator::new().unwrap();
    let disks = generator
        .generate_disk_batch(2, MockDiskType::Minimal)
        .unwrap();
    let mut suite = PerfTestSuite::new();
    // Read each generated image fully: real I/O on real mock disks.
    suite
        .bench("read_minimal_disks", 10, || {
            disks
                .iter()
                .map(|d| std::fs::read(d.path()).unwrap().len())
                .sum::<usize>()
        })
        .unwrap();
    assert_eq!(suite.results()[0].samples.len(), 10);
    // The mock disk builder is re-exported for tests.
    let dir = tempfile::tempdir().unwrap();
    let disk = MockDiskBuilder::new()
        .disk_type(MockDiskType::Minimal)
        .os_type("alpine")
        .hostname("test-vm")
        .num_files(5)
        .num_packages(10)
        .build(dir.path().join("test.img"))
        .unwrap();
    assert_eq!(disk.os_type(), "alpine");
    assert_eq!(disk.hostname(), "test-vm");
}

const QUICK: [&str; 6] = [
    "--filter",
    "mock_disk_generation/minimal",
    "--iterations",
    "3",
    "--warmup",
    "0",
];

/// Removes the `binary` record of a results file (an old-style or hand-made
/// baseline), so that validate compares with its samples, unpaired.
fn without_binary(path: &std::path::Path) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("binary");
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn quick_args(dir: &str) -> Vec<&str> {
    let mut v = QUICK.to_vec();
    v.extend(["--results-dir", dir]);
    v
}

#[test]
fn script_exit_codes_created_regression_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let d = dir.to_str().unwrap();

    // First run: creates the baseline, exit 0.
    let (code, out, err) = outcome(&validate_script(&quick_args(d), &[]));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("baseline created"), "{out}");
    for f in ["baseline.json", "current.json", "report.md", "report.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }

    // The first run kept its binary for paired runs.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("baseline.json")).unwrap()).unwrap();
    let sha = v["binary"]["sha256"].as_str().unwrap();
    assert!(dir.join("bin").join(sha).is_file());

    // A baseline 10× faster on the same fingerprint, without its binary (so the
    // comparison is unpaired, with its samples): exit 2, annotations on GitHub.
    scaled_results(&dir.join("current.json"), &dir.join("baseline.json"), 0.1);
    without_binary(&dir.join("baseline.json"));
    let (code, out, err) = outcome(&validate_script(
        &quick_args(d),
        &[("GITHUB_ACTIONS", "true")],
    ));
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("regression"), "{out}");
    assert!(
        out.contains("::warning title=Performance regression%3A mock_disk_generation/minimal::"),
        "{out}"
    );
    assert!(err.contains("performance regression detected"), "{err}");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("### ❌ Regressions\n\n- mock_disk_generation/minimal: "),
        "{report}"
    );

    // A truncated baseline: exit 1, the file named with the way out, baseline kept.
    let full = std::fs::read(dir.join("baseline.json")).unwrap();
    std::fs::write(dir.join("baseline.json"), &full[..full.len() / 3]).unwrap();
    let (code, _out, err) = outcome(&validate_script(&quick_args(d), &[]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("baseline.json is truncated"), "{err}");
    assert!(err.contains("git checkout"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("baseline.json")).unwrap(),
        &full[..full.len() / 3]
    );

    // Not JSON at all: exit 1 too.
    std::fs::write(dir.join("baseline.json"), "hello\n").unwrap();
    let (code, _out, err) = outcome(&validate_script(&quick_args(d), &[]));
    assert_eq!(code, 1);
    assert!(
        err.contains("baseline.json is not valid JSON (line 1, column 1)"),
        "{err}"
    );

    // No usable binary (a failed build): exit 1.
    let mut c = std::process::Command::new("bash");
    c.arg(repo().join("scripts/validate-performance.sh"))
        .env("GUESTCTL_BIN", "/nonexistent/guestctl");
    let (code, _out, err) = outcome(&c.output().unwrap());
    assert_eq!(code, 1);
    assert!(err.contains("guestctl binary not found"), "{err}");
}

#[test]
fn two_validations_at_once_serialise() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("r");
    let d = d.to_str().unwrap().to_string();
    let spawn = || {
        let mut args = vec!["perf", "validate"];
        args.extend(quick_args(&d));
        std::process::Command::new(guestctl_bin())
            .args(&args)
            .current_dir(repo())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (ca, oa, ea) = outcome(&a.wait_with_output().unwrap());
    let (cb, ob, eb) = outcome(&b.wait_with_output().unwrap());
    assert_eq!((ca, cb), (0, 0), "{ea}\n{eb}");
    // Exactly one created the baseline; the other compared with it.
    let created = [&oa, &ob]
        .iter()
        .filter(|o| o.contains("baseline created"))
        .count();
    assert_eq!(created, 1, "{oa}\n{ob}");
    let compared = [&oa, &ob]
        .iter()
        .filter(|o| o.contains("regression(s)"))
        .count();
    assert_eq!(compared, 1, "{oa}\n{ob}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("r/baseline.json")).unwrap())
            .unwrap();
    assert_eq!(v["schema_version"], 1);
}

#[test]
fn compare_bench_and_baseline_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |f: &str| tmp.path().join(f).to_str().unwrap().to_string();

    // bench: a whole process, with usage, into the results format.
    let o = guestctl(&[
        "perf",
        "bench",
        "--name",
        "true",
        "--runs",
        "5",
        "--warmup",
        "1",
        "--output",
        &p("a.json"),
        "--json",
        "--",
        "true",
    ]);
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tests"][0]["name"], "true");
    assert_eq!(v["tests"][0]["samples"].as_array().unwrap().len(), 5);
    assert_eq!(v["tests"][0]["process"]["exit_codes"][0], 0);
    assert!(v["tests"][0]["peak_rss_bytes"].as_u64().unwrap() > 0);

    // A failing command is an error.
    let (code, _, err) = outcome(&guestctl(&[
        "perf", "bench", "--name", "f", "--runs", "2", "--", "false",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("exited with code 1"), "{err}");

    // compare: same file → 0; a 10× faster baseline → 2 with annotations.
    let (code, out, _) = outcome(&guestctl(&["perf", "compare", &p("a.json"), &p("a.json")]));
    assert_eq!(code, 0, "{out}");
    scaled_results(
        tmp.path().join("a.json").as_path(),
        tmp.path().join("fast.json").as_path(),
        0.1,
    );
    let (code, out, _) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("fast.json"),
        &p("a.json"),
        "--format",
        "github",
    ]));
    assert_eq!(code, 2);
    assert!(
        out.starts_with("::warning title=Performance regression%3A true::true is "),
        "{out}"
    );
    let (code, out, _) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("fast.json"),
        &p("a.json"),
        "--json",
    ]));
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["comparison"]["tests"][0]["comparison"]["verdict"],
        "regression"
    );
    let (code, _, err) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("missing.json"),
        &p("a.json"),
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("missing.json does not exist"), "{err}");
    let (code, _, err) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("a.json"),
        &p("a.json"),
        "--threshold",
        "150",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("--threshold"), "{err}");

    // baseline accept / show, keeping the previous baseline.
    let rd = p("results");
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "accept",
        "--from",
        &p("a.json"),
        "--results-dir",
        &rd,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("baseline updated"), "{out}");
    let (code, out, _) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "accept",
        "--from",
        &p("fast.json"),
        "--results-dir",
        &rd,
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("previous baseline kept at"), "{out}");
    assert_eq!(
        std::fs::read_dir(tmp.path().join("results/baselines"))
            .unwrap()
            .count(),
        1
    );
    let (code, out, _) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "show",
        "--results-dir",
        &rd,
    ]));
    assert_eq!(code, 0);
    assert!(
        out.contains("machine: ") && out.contains("\ntrue "),
        "{out}"
    );
    std::fs::write(tmp.path().join("bad.json"), "{").unwrap();
    let (code, _, err) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "accept",
        "--from",
        &p("bad.json"),
        "--results-dir",
        &rd,
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("bad.json is truncated"), "{err}");
}

/// History through the CLI: every validate run lands in history.jsonl and
/// report.html, the exports are written on request, `perf history` shows the trend,
/// and `baseline accept --if-no-regressions` refuses a regressed run.
#[test]
fn history_html_exports_and_guarded_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let d = dir.to_str().unwrap().to_string();
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let mut args = vec!["perf", "validate", "--no-progress"];
    args.extend(QUICK);
    args.extend(["--results-dir", &d]);
    let (code, out, err) = outcome(&guestctl(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    let (junit, bmf, gab) = (p("junit.xml"), p("bmf.json"), p("gab.json"));
    args.extend(["--junit", &junit, "--bmf", &bmf, "--github-benchmark", &gab]);
    // Paired with the baseline's kept binary, this very build: A/A, exit 0.
    let (code, out, err) = outcome(&guestctl(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Compared: paired"), "{out}");

    // Two runs and the baseline created by the first.
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("mock_disk_generation/minimal"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase") && xml.contains("mock_disk_generation/minimal"),
        "{xml}"
    );
    let bmf: serde_json::Value = serde_json::from_slice(&std::fs::read(&bmf).unwrap()).unwrap();
    assert!(
        bmf["mock_disk_generation/minimal"]["latency"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let gab: serde_json::Value = serde_json::from_slice(&std::fs::read(&gab).unwrap()).unwrap();
    assert_eq!(gab[0]["name"], "mock_disk_generation/minimal");

    let (code, out, _) = outcome(&guestctl(&["perf", "history", "--results-dir", &d]));
    assert_eq!(code, 0);
    assert!(out.contains("mock_disk_generation/minimal"), "{out}");
    let (code, out, _) = outcome(&guestctl(&[
        "perf",
        "history",
        "mock_disk_generation/minimal",
        "--results-dir",
        &d,
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("2 runs"), "{out}");
    let (code, _, err) = outcome(&guestctl(&["perf", "history", "nope", "--results-dir", &d]));
    assert_eq!(code, 1);
    assert!(err.contains("known tests"), "{err}");

    // A baseline of 30 samples, and a candidate 10× slower: refused, exit 2.
    let base = dir.join("baseline.json");
    scaled_results(&base, &base, 1.0);
    let before = std::fs::read(&base).unwrap();
    scaled_results(&base, &dir.join("slow.json"), 10.0);
    let (code, _, err) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "accept",
        "--if-no-regressions",
        "--from",
        &p("slow.json"),
        "--results-dir",
        &d,
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("regressed"), "{err}");
    assert_eq!(
        std::fs::read(&base).unwrap(),
        before,
        "baseline must be untouched"
    );

    // A faster candidate is accepted and recorded in the history.
    scaled_results(&base, &dir.join("fast.json"), 0.5);
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "baseline",
        "accept",
        "--if-no-regressions",
        "--from",
        &p("fast.json"),
        "--results-dir",
        &d,
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 4);
}

/// The results file `from` with every test's `memory.alloc_bytes` multiplied by
/// `factor`, written to `to` (time samples untouched).
fn scaled_alloc(from: &std::path::Path, to: &std::path::Path, factor: f64) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    for t in v["tests"].as_array_mut().unwrap() {
        let a = t["memory"]["alloc_bytes"].as_array_mut().unwrap();
        for x in a.iter_mut() {
            *x = serde_json::json!(x.as_f64().unwrap() * factor);
        }
    }
    std::fs::write(to, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn memory_is_recorded_and_a_memory_regression_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let d = dir.to_str().unwrap();
    // 10 iterations: enough samples for the decision rule to be significant.
    let args = [
        "perf",
        "validate",
        "--no-progress",
        "--wide",
        "--filter",
        "mock_disk_generation/minimal",
        "--iterations",
        "10",
        "--warmup",
        "0",
        "--results-dir",
        d,
    ];
    let (code, out, err) = outcome(&guestctl(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Alloc/iter"), "{out}");
    let cur = dir.join("current.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cur).unwrap()).unwrap();
    let t = &v["tests"][0];
    assert_eq!(t["name"], "mock_disk_generation/minimal");
    let alloc = t["memory"]["alloc_bytes"].as_array().unwrap();
    assert_eq!(alloc.len(), 10);
    assert!(alloc.iter().all(|x| x.as_f64().unwrap() > 0.0), "{t}");
    assert!(t["peak_rss_bytes"].as_u64().unwrap() > 0, "{t}");
    assert!(std::fs::read_to_string(dir.join("report.md"))
        .unwrap()
        .contains("## Memory"));

    // A baseline that allocated half as much, same times: a memory regression.
    let base = dir.join("half.json");
    scaled_alloc(&cur, &base, 0.5);
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "compare",
        base.to_str().unwrap(),
        cur.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("regression: mock_disk_generation/minimal [alloc_bytes]: 100.0% more"),
        "{out}"
    );
    let (_, md, _) = outcome(&guestctl(&[
        "perf",
        "compare",
        "--format",
        "markdown",
        base.to_str().unwrap(),
        cur.to_str().unwrap(),
    ]));
    assert!(
        md.contains("- mock_disk_generation/minimal [alloc_bytes]: 100.0% more"),
        "{md}"
    );

    // Without memory counting, nothing is recorded and the comparison is time only.
    let mut args = vec!["perf", "validate", "--no-progress", "--no-memory"];
    let d2 = tmp.path().join("nomem");
    let d2 = d2.to_str().unwrap();
    args.extend(quick_args(d2));
    let (code, out, err) = outcome(&guestctl(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("nomem/current.json")).unwrap())
            .unwrap();
    assert!(v["tests"][0].get("memory").is_none());
    // An old-style baseline (no memory) compares with a new run without errors.
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "compare",
        &format!("{d2}/current.json"),
        cur.to_str().unwrap(),
    ]));
    assert!(code == 0 || code == 2, "{out}\n{err}");
    assert!(!out.contains("not comparable"), "{out}");
}

#[test]
fn instructions_metric_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("results");
    let d = d.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a: Vec<&str> = vec![
            "perf",
            "validate",
            "--no-progress",
            "--metric",
            "instructions",
            "--filter",
            "cache_lookup",
            "--iterations",
            "3",
            "--results-dir",
        ];
        a.push(d);
        a.extend(extra);
        a
    };
    // Without valgrind: a clear error naming the Debian package.
    let o = std::process::Command::new(guestctl_bin())
        .args(args(&[]))
        .env("GUESTCTL_VALGRIND", "/nonexistent/valgrind")
        .output()
        .unwrap();
    let (code, _, err) = outcome(&o);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("apt-get install valgrind"), "{err}");
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("valgrind is not installed: the instruction counts are not checked");
        return;
    }

    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let (code, out, err) = outcome(&guestctl(&args(&[])));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("instr"), "{out}");
    let dir = std::path::Path::new(d).join("instructions");
    let first = read(&dir.join("current.json"));
    assert_eq!(first["settings"]["measurement"], "callgrind_instructions");
    let t = &first["tests"][0];
    assert_eq!(t["name"], "cache_lookup");
    assert_eq!(t["unit"], "instructions");
    let a: Vec<f64> = t["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(a.len(), 3);
    assert!(a.iter().all(|x| *x > 1000.0), "{a:?}");

    // A second run: the same counts (within 0.1%), compared at 1%: no regression.
    let (code, out, err) = outcome(&guestctl(&args(&[])));
    assert_eq!(code, 0, "{out}\n{err}");
    let second = read(&dir.join("current.json"));
    let b: Vec<f64> = second["tests"][0]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (ma, mb) = (
        guestctl_stats::median(&a).unwrap(),
        guestctl_stats::median(&b).unwrap(),
    );
    assert!((ma - mb).abs() <= ma * 0.001, "{a:?} vs {b:?}");
    let report = read(&dir.join("report.json"));
    assert_eq!(report["comparison"]["threshold_pct"], 1.0);
    // The time baseline of the results directory is not touched.
    assert!(!std::path::Path::new(d).join("baseline.json").exists());
}

#[test]
fn flamegraph_per_test_linked_from_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let d = dir.to_str().unwrap();
    let args = [
        "perf",
        "validate",
        "--no-progress",
        "--flamegraph",
        "--filter",
        "cache_lookup",
        "--iterations",
        "3",
        "--warmup",
        "0",
        "--results-dir",
        d,
    ];
    let (code, out, err) = outcome(&guestctl(&args));
    assert_eq!(code, 0, "{out}\n{err}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let svg = dir.join("flamegraphs/cache_lookup.svg");
    let text = std::fs::read_to_string(&svg)
        .unwrap_or_else(|e| panic!("{}: {e}\nstderr: {err}", svg.display()));
    assert!(
        text.contains("<svg") && text.contains("</svg>"),
        "{}",
        svg.display()
    );
    assert!(text.contains("cache_lookup"), "{}", svg.display());
    assert!(
        html.contains("href=\"flamegraphs/cache_lookup.svg\""),
        "report.html does not link the flamegraph"
    );
    assert!(
        std::fs::read_to_string(dir.join("flamegraphs/cache_lookup.svg"))
            .unwrap()
            .contains("guestctl_inspect")
    );
    // Without the flag, no flamegraph and no link.
    let d2 = tmp.path().join("plain");
    let mut args = vec!["perf", "validate", "--no-progress"];
    args.extend(quick_args(d2.to_str().unwrap()));
    let (code, _, _) = outcome(&guestctl(&args));
    assert_eq!(code, 0);
    assert!(!d2.join("flamegraphs").exists());
    let html = std::fs::read_to_string(d2.join("report.html")).unwrap();
    assert!(!html.contains("flamegraphs/"));
}
