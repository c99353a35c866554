//! `guestctl batch` end to end: the list streamed from a file or stdin, one record
//! per image as it finishes, the record's fields, exit statuses, `--jobs` bounds,
//! `--resume` after a torn line, failures and a changed list, both shard spellings,
//! and `batch report`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use batch_support::{facts_by_image, guestctl, images, records, Images};
use std::io::{BufRead, BufReader, Write};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

fn fixture() -> &'static Images {
    static F: OnceLock<Images> = OnceLock::new();
    F.get_or_init(|| images(12))
}

fn batch(args: &[&str]) -> Output {
    let f = fixture();
    guestctl(&f.dir.path().join("cache"))
        .arg("batch")
        .args(args)
        .output()
        .unwrap()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> std::path::PathBuf {
    fixture().dir.path().join(name)
}

#[test]
fn a_record_has_every_field_and_summary_drops_the_application_list() {
    let list = fixture().list.to_str().unwrap();
    let o = batch(&[
        "--files-from",
        list,
        "--json",
        "--shard-index",
        "1",
        "--shard-count",
        "2",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "positions 1, 3, ... are all disks"
    );
    let recs = json_lines(&o);
    assert_eq!(recs.len(), 6);
    for r in &recs {
        assert_eq!(r["schema_version"], 1);
        assert_eq!(r["index"].as_u64().unwrap() % 2, 1);
        assert_eq!(r["status"], "ok");
        assert!(r["error_kind"].is_null() && r["error"].is_null());
        assert!(r["duration_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(r["shard"], serde_json::json!({"index": 1, "count": 2}));
        assert!(!r["host"].as_str().unwrap().is_empty());
        let os = &r["inspection"]["operatingsystems"][0];
        assert_eq!(os["applications"].as_array().unwrap().len(), 20);
    }
    assert!(
        stderr(&o).contains("batch: 6 ok, 0 failed"),
        "{}",
        stderr(&o)
    );
    let o = batch(&["--files-from", list, "--json", "--summary"]);
    assert_eq!(o.status.code(), Some(1), "positions 0 and 10 are not disks");
    let recs = json_lines(&o);
    let failed: Vec<_> = recs.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(failed.len(), 2);
    for r in &failed {
        assert_eq!(r["index"].as_u64().unwrap() % 10, 0);
        assert!(r["error_kind"].is_string() && r["error"].is_string(), "{r}");
        assert!(r["inspection"].is_null());
    }
    let ok = recs.iter().find(|r| r["status"] == "ok").unwrap();
    let os = &ok["inspection"]["operatingsystems"][0];
    assert_eq!(os["applications"], 20, "a count, not the list");
    assert!(os["distro"].is_string() && os["hostname"].is_string());
    assert!(ok["shard"].is_null());
    assert!(
        stderr(&o).contains("batch: 10 ok, 2 failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_record_comes_out_before_the_list_is_finished() {
    let f = fixture();
    let mut child = guestctl(&f.dir.path().join("cache"))
        .args([
            "batch",
            "--files-from",
            "-",
            "--json",
            "--summary",
            "--jobs",
            "2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    for p in &f.paths[1..3] {
        // One path in, its record out, the list still open.
        writeln!(stdin, "{}", p.display()).unwrap();
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let r: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(r["image"], p.to_str().unwrap());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_list_from_stdin_a_file_or_arguments_gives_the_same_records() {
    let f = fixture();
    let from_file = json_lines(&batch(&["-T", f.list.to_str().unwrap(), "--json"]));
    let mut args: Vec<&str> = vec!["--json"];
    args.extend(f.paths.iter().map(|p| p.to_str().unwrap()));
    let from_args = json_lines(&batch(&args));
    let from_stdin = guestctl(&f.dir.path().join("cache"))
        .args(["batch", "--files-from", "-", "--json"])
        .stdin(std::fs::File::open(&f.list).unwrap())
        .output()
        .unwrap();
    let from_stdin = json_lines(&from_stdin);
    let key = |v: &[serde_json::Value]| {
        let mut v: Vec<(u64, serde_json::Value)> = v
            .iter()
            .map(|r| (r["index"].as_u64().unwrap(), batch_support::facts(r)))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    };
    assert_eq!(key(&from_file).len(), 12);
    assert_eq!(key(&from_file), key(&from_args));
    assert_eq!(key(&from_file), key(&from_stdin));
}

#[test]
fn exit_status_and_bounds_are_clear() {
    let f = fixture();
    let ok = f.paths[1].to_str().unwrap();
    assert_eq!(batch(&[ok]).status.code(), Some(0));
    assert_eq!(
        batch(&[ok, f.paths[0].to_str().unwrap()]).status.code(),
        Some(1)
    );
    let o = batch(&["--jobs", "100000", ok]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("at most 256 worker threads"),
        "{}",
        stderr(&o)
    );
    assert_eq!(batch(&["--jobs", "256", ok]).status.code(), Some(0));
    assert_eq!(batch(&["--jobs", "0", ok]).status.code(), Some(2));
    let o = batch(&["--files-from", "/nonexistent/list.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/list.txt: cannot open the list"));
    let o = batch(&["--shard-index", "3", "--shard-count", "3", ok]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("0-based"), "{}", stderr(&o));
}

#[test]
fn shard_k_of_n_is_shard_index_k_minus_one() {
    let list = fixture().list.to_str().unwrap();
    let images = |args: &[&str]| {
        let mut a = vec!["-T", list, "--json", "--no-packages"];
        a.extend(args);
        let mut v: Vec<u64> = json_lines(&batch(&a))
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        v.sort();
        v
    };
    let one_based = images(&["--shard", "2/3"]);
    assert_eq!(one_based, vec![1, 4, 7, 10]);
    assert_eq!(
        one_based,
        images(&["--shard-index", "1", "--shard-count", "3"])
    );
}

#[test]
fn resume_redoes_a_torn_line_and_failures_and_refuses_a_changed_list() {
    let f = fixture();
    let out = tmp("resume.jsonl");
    let list = tmp("resume-list.txt");
    let late = tmp("late.img");
    let _ = std::fs::remove_file(&late);
    // Position 2 does not exist yet: an error record.
    let paths = [&f.paths[1], &f.paths[2], &late, &f.paths[3]];
    let text: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(&list, text).unwrap();
    let run = |resume: bool| {
        let mut a = vec!["-T", list.to_str().unwrap(), "-o", out.to_str().unwrap()];
        if resume {
            a.push("--resume");
        }
        batch(&a)
    };
    assert_eq!(run(false).status.code(), Some(1));
    // A kill in the middle of a write: the last record cut short.
    let full = std::fs::read(&out).unwrap();
    let last_start = full[..full.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    std::fs::write(&out, &full[..last_start + 20]).unwrap();
    std::fs::hard_link(&f.paths[1], &late).unwrap();
    let o = run(true);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("a torn last line dropped"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("already done"), "{}", stderr(&o));
    let recs = records(std::slice::from_ref(&out));
    let by_image = facts_by_image(&recs);
    assert_eq!(by_image.len(), 4);
    assert!(
        by_image.values().all(|v| v["status"] == "ok"),
        "{by_image:?}"
    );
    // Resuming a finished run does nothing.
    let o = run(true);
    assert!(
        stderr(&o).contains("batch: 0 ok, 0 failed, 4 already done"),
        "{}",
        stderr(&o)
    );
    assert_eq!(records(std::slice::from_ref(&out)).len(), 4);
    // Another list under the same output is refused, and the output kept.
    let swapped: String = [&f.paths[2], &f.paths[1]]
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    std::fs::write(&list, swapped).unwrap();
    let o = run(true);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("same list in the same order"),
        "{}",
        stderr(&o)
    );
    assert_eq!(records(&[out]).len(), 4);
}

#[test]
fn report_counts_by_distro_version_and_failure_kind() {
    let f = fixture();
    let out = tmp("report.jsonl");
    let o = batch(&[
        "-T",
        f.list.to_str().unwrap(),
        "--summary",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = guestctl(&f.dir.path().join("cache"))
        .args(["batch", "report", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Position i is ubuntu, fedora or alpine by i % 3, except 0 and 10 (zeroed).
    assert_eq!(
        (
            r["records"].as_u64(),
            r["ok"].as_u64(),
            r["failed"].as_u64()
        ),
        (Some(12), Some(10), Some(2))
    );
    assert_eq!(r["by_distro"]["ubuntu"], 3);
    assert_eq!(r["by_distro"]["fedora"], 3);
    assert_eq!(r["by_distro"]["alpinelinux"], 4);
    let kinds: u64 = r["by_failure_kind"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(kinds, 2);
    assert_eq!(
        r["by_version"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        10
    );
    let o = guestctl(&f.dir.path().join("cache"))
        .args(["batch", "report"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.starts_with("12 records: 10 ok, 2 failed"), "{text}");
    assert!(
        text.contains("fedora") && text.contains("failure kind"),
        "{text}"
    );
}
