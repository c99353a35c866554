//! The results directory: corrupt baselines give exact, helpful errors; writes are
//! atomic; runs serialise on the lock; accepting archives the old baseline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use guestctl_perf::store::{self, ResultsDir};
use guestctl_perf::*;

fn run_json() -> Vec<u8> {
    let mut s = PerfTestSuite::with_config(SuiteConfig {
        options: Options {
            bootstrap_resamples: 100,
            ..Options::default()
        },
        ..SuiteConfig::default()
    });
    s.run_with(
        "a",
        Params::new(),
        10,
        &mut MockMeasurement::new(vec![5.0, 6.0]),
        &mut || Ok(()),
        &mut NoObserver,
    )
    .unwrap();
    serde_json::to_vec_pretty(&s.to_run()).unwrap()
}

fn baseline_error(content: &[u8]) -> (String, ErrorKind) {
    let dir = tempfile::tempdir().unwrap();
    let rd = ResultsDir::new(dir.path());
    std::fs::write(rd.baseline_path(), content).unwrap();
    let e = rd.load_baseline().unwrap_err();
    let msg = e
        .to_string()
        .replace(&dir.path().display().to_string(), "DIR");
    assert_eq!(e.path(), Some(rd.baseline_path().as_path()));
    (msg, e.kind())
}

const WAY_OUT: &str = ": restore it with `git checkout DIR/baseline.json`, or delete it and run \
                       ./scripts/validate-performance.sh to create a new baseline";

#[test]
fn missing_baseline_is_none_but_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let rd = ResultsDir::new(dir.path());
    assert!(rd.load_baseline().unwrap().is_none());
    let e =
        store::load_results(&dir.path().join("nope.json"), "give a path that exists").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string()
            .ends_with("nope.json does not exist: give a path that exists"),
        "{e}"
    );
}

#[test]
fn truncated_baseline() {
    let full = run_json();
    let (msg, kind) = baseline_error(&full[..full.len() / 2]);
    assert_eq!(kind, ErrorKind::Corrupt);
    assert!(
        msg.starts_with("DIR/baseline.json is truncated (input ends at line "),
        "{msg}"
    );
    assert!(msg.ends_with(WAY_OUT), "{msg}");
}

#[test]
fn empty_baseline() {
    let (msg, _) = baseline_error(b"  \n");
    assert_eq!(msg, format!("DIR/baseline.json is empty{WAY_OUT}"));
}

#[test]
fn non_json_baseline() {
    let (msg, kind) = baseline_error(b"{\n  \"schema_version\": 1,\n    oops\n}");
    assert_eq!(kind, ErrorKind::Corrupt);
    assert_eq!(
        msg,
        format!("DIR/baseline.json is not valid JSON (line 3, column 5){WAY_OUT}")
    );
}

#[test]
fn wrong_schema_version() {
    let mut v: serde_json::Value = serde_json::from_slice(&run_json()).unwrap();
    v["schema_version"] = 7.into();
    let (msg, _) = baseline_error(&serde_json::to_vec(&v).unwrap());
    assert_eq!(
        msg,
        format!("DIR/baseline.json has schema_version 7, but this guestctl reads schema_version 1{WAY_OUT}")
    );
    v.as_object_mut().unwrap().remove("schema_version");
    let (msg, _) = baseline_error(&serde_json::to_vec(&v).unwrap());
    assert!(
        msg.starts_with(
            "DIR/baseline.json is not a guestctl results file (no numeric schema_version)"
        ),
        "{msg}"
    );
}

#[test]
fn foreign_or_mismatched_json() {
    let (msg, _) = baseline_error(b"[1, 2, 3]");
    assert!(
        msg.starts_with(
            "DIR/baseline.json is not a guestctl results file (its top level is not a JSON object)"
        ),
        "{msg}"
    );
    let (msg, _) = baseline_error(b"{\"schema_version\": 1, \"format\": \"something-else\"}");
    assert!(
        msg.contains("format is not \"guestctl-perf-results\""),
        "{msg}"
    );
    let mut v: serde_json::Value = serde_json::from_slice(&run_json()).unwrap();
    v["tests"][0].as_object_mut().unwrap().remove("samples");
    let (msg, _) = baseline_error(&serde_json::to_vec(&v).unwrap());
    assert!(
        msg.starts_with(
            "DIR/baseline.json does not match the results schema (missing field `samples`"
        ),
        "{msg}"
    );
    assert!(msg.ends_with(WAY_OUT), "{msg}");
}

#[test]
fn atomic_write_replaces_whole_file_and_leaves_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("current.json");
    store::write_atomic(&p, &vec![b'x'; 100_000]).unwrap();
    store::write_atomic(&p, b"short").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"short");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["current.json"]);
    // Writing into a missing directory fails cleanly, naming it.
    let e = store::write_atomic(&dir.path().join("no/such/dir/x.json"), b"1").unwrap_err();
    assert!(e.to_string().contains("no/such/dir"), "{e}");
}

#[test]
fn runs_serialise_on_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let rd = ResultsDir::new(dir.path().join("results"));
    let first = rd.lock(|_| panic!("the first lock must not wait")).unwrap();
    assert!(first.path().ends_with("perf.lock"));
    let released = Arc::new(AtomicBool::new(false));
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let rd2 = rd.clone();
    let released2 = Arc::clone(&released);
    let t = std::thread::spawn(move || {
        let _second = rd2
            .lock(|p| waiting_tx.send(p.to_path_buf()).unwrap())
            .unwrap();
        // Acquired only after the first holder let go.
        assert!(
            released2.load(Ordering::SeqCst),
            "second lock acquired while the first was held"
        );
    });
    let waited_on = waiting_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("second run should wait");
    assert!(waited_on.ends_with("perf.lock"));
    released.store(true, Ordering::SeqCst);
    drop(first);
    t.join().unwrap();
}

#[test]
fn accept_archives_previous_and_refuses_corrupt_input() {
    let dir = tempfile::tempdir().unwrap();
    let rd = ResultsDir::new(dir.path());
    let cur = dir.path().join("current.json");
    let first = run_json();
    std::fs::write(&cur, &first).unwrap();
    let a = rd.accept(&cur).unwrap();
    assert_eq!(a.archived, None);
    assert_eq!(std::fs::read(rd.baseline_path()).unwrap(), first);

    // A second accept keeps the first baseline in baselines/.
    let mut v: serde_json::Value = serde_json::from_slice(&first).unwrap();
    v["timestamp"] = "2030-01-01T00:00:00Z".into();
    let second = serde_json::to_vec(&v).unwrap();
    std::fs::write(&cur, &second).unwrap();
    let a = rd.accept(&cur).unwrap();
    let archived = a.archived.unwrap();
    assert!(archived.starts_with(dir.path().join("baselines")));
    assert_eq!(std::fs::read(&archived).unwrap(), first);
    assert_eq!(std::fs::read(rd.baseline_path()).unwrap(), second);

    // A corrupt candidate is refused and the baseline untouched.
    std::fs::write(&cur, b"{\"schema_version\": 1,").unwrap();
    let e = rd.accept(&cur).unwrap_err();
    assert!(e.to_string().contains("current.json is truncated"), "{e}");
    assert_eq!(std::fs::read(rd.baseline_path()).unwrap(), second);
    let e = rd
        .accept(Path::new("/nonexistent/current.json"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

/// `run_json` with every sample of every test replaced by `f(samples)`.
fn run_json_with_samples(f: impl Fn(&mut Vec<serde_json::Value>)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&run_json()).unwrap();
    for t in v["tests"].as_array_mut().unwrap() {
        f(t["samples"].as_array_mut().unwrap());
    }
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn a_baseline_that_could_compare_nothing_is_refused() {
    let (msg, kind) = baseline_error(&run_json_with_samples(|s| s.clear()));
    assert_eq!(kind, ErrorKind::Corrupt);
    assert_eq!(
        msg,
        format!("DIR/baseline.json has no samples for test a{WAY_OUT}")
    );
    for bad in [-1.0, 0.0] {
        let (msg, kind) = baseline_error(&run_json_with_samples(|s| s[3] = bad.into()));
        assert_eq!(kind, ErrorKind::Corrupt);
        assert_eq!(
            msg,
            format!(
                "DIR/baseline.json has a sample of {bad} for test a \
                 (samples must be finite and above zero){WAY_OUT}"
            )
        );
    }
    let mut v: serde_json::Value = serde_json::from_slice(&run_json()).unwrap();
    v["tests"] = serde_json::json!([]);
    let (msg, _) = baseline_error(&serde_json::to_vec(&v).unwrap());
    assert_eq!(msg, format!("DIR/baseline.json holds no tests{WAY_OUT}"));
}

#[test]
fn a_dangling_baseline_symlink_is_an_error_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let rd = ResultsDir::new(dir.path());
    let gone = dir.path().join("moved-away.json");
    std::os::unix::fs::symlink(&gone, rd.baseline_path()).unwrap();
    let e = rd.load_baseline().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("is a symlink to"), "{e}");
    assert!(
        e.to_string()
            .contains("moved-away.json, which does not exist"),
        "{e}"
    );
    let md = std::fs::symlink_metadata(rd.baseline_path()).unwrap();
    assert!(md.file_type().is_symlink());
}

#[test]
fn temp_dirs_carry_the_owner_pid_and_debris_of_dead_runs_is_removed() {
    let base = tempfile::tempdir().unwrap();
    let me = std::process::id();
    // Above the kernel's pid_max (at most 2^22): no process can have this pid.
    let dead = base.path().join("guestctl-perf-999999999-abc");
    let alive = base.path().join(format!("guestctl-perf-{me}-xyz"));
    let not_a_pid = base.path().join("guestctl-perf-notapid");
    let other = base.path().join("other-999999999-x");
    for d in [&dead, &alive, &not_a_pid, &other] {
        std::fs::create_dir(d).unwrap();
        std::fs::write(d.join("image.img"), b"x").unwrap();
    }
    assert_eq!(
        store::remove_dead_runs_debris(base.path(), "guestctl-perf-"),
        1
    );
    assert!(!dead.exists());
    assert!(alive.exists() && not_a_pid.exists() && other.exists());
    let t = store::temp_dir("guestctl-perf-").unwrap();
    let name = t.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(&format!("guestctl-perf-{me}-")), "{name}");
}
