//! History store, change-point detection and the terminal trend.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::io::Write;

use common::*;
use guestctl_dashboard::{
    detect, render_history_overview, render_history_terminal, sparkline, EntryKind, ErrorKind,
    History, Point,
};
use guestctl_perf::Unit;
use guestctl_stats::rng::Rng;

fn commit(i: usize) -> String {
    format!("{i:04x}{}", "c0ffee".repeat(6))
}

#[test]
fn append_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(dir.path().join("performance-results"));
    assert!(
        h.entries().unwrap().entries.is_empty(),
        "missing file = empty history"
    );
    for i in 0..3 {
        h.append_run(
            &simple_run(&commit(i), 10 + i as u32, "op", 1e6, i as u64),
            EntryKind::Run,
        )
        .unwrap();
    }
    h.append_run(
        &simple_run(&commit(1), 11, "op", 1e6, 1),
        EntryKind::Baseline,
    )
    .unwrap();
    let read = h.entries().unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.entries.len(), 4);
    assert_eq!(read.entries[3].kind, EntryKind::Baseline);
    // The raw samples survive the round trip (compare needs them).
    assert_eq!(
        read.entries[0].run,
        simple_run(&commit(0), 10, "op", 1e6, 0)
    );
    // Series: runs only, oldest first.
    let s = read.series("op");
    assert_eq!(s.len(), 3);
    assert_eq!(s[2].commit, commit(2));
    assert_eq!(s[0].n, 20);
    assert!(s[0].ci_lower <= s[0].median && s[0].median <= s[0].ci_upper);
    assert!(read.series("nope").is_empty());
    assert_eq!(read.test_names(), vec!["op".to_string()]);
    // One JSON object per line.
    let text = std::fs::read_to_string(h.path()).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
}

#[test]
fn torn_and_foreign_lines_are_skipped_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(dir.path());
    h.append_run(&simple_run(&commit(0), 10, "op", 1e6, 0), EntryKind::Run)
        .unwrap();
    // A foreign line, a blank line and an interrupted write (no final newline).
    let full = serde_json::to_string(&h.entries().unwrap().entries[0]).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.path())
        .unwrap();
    f.write_all(b"{\"hello\": 1}\n\n").unwrap();
    f.write_all(&full.as_bytes()[..full.len() / 2]).unwrap();
    drop(f);
    let read = h.entries().unwrap();
    assert_eq!(read.entries.len(), 1);
    assert_eq!(read.warnings.len(), 2, "{:?}", read.warnings);
    assert!(
        read.warnings[1].contains("truncated"),
        "{:?}",
        read.warnings
    );
    // The next append starts a fresh line: the torn one stays skipped, the new one reads.
    h.append_run(&simple_run(&commit(1), 11, "op", 1e6, 1), EntryKind::Run)
        .unwrap();
    let read = h.entries().unwrap();
    assert_eq!(read.entries.len(), 2);
    assert_eq!(read.entries[1].run.git_commit, commit(1));
}

#[test]
fn find_baseline_by_commit_date_or_latest() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(dir.path());
    h.append_run(
        &simple_run(&commit(1), 11, "op", 1e6, 1),
        EntryKind::Baseline,
    )
    .unwrap();
    h.append_run(&simple_run(&commit(2), 12, "op", 2e6, 2), EntryKind::Run)
        .unwrap();
    h.append_run(
        &simple_run(&commit(3), 13, "op", 3e6, 3),
        EntryKind::Baseline,
    )
    .unwrap();
    let read = h.entries().unwrap();
    assert_eq!(read.find_baseline("latest").unwrap().git_commit, commit(3));
    assert_eq!(
        read.find_baseline(&commit(1)[..8]).unwrap().git_commit,
        commit(1)
    );
    assert_eq!(
        read.find_baseline("2026-01-13").unwrap().git_commit,
        commit(3)
    );
    // A run that was never a baseline can still be found.
    assert_eq!(
        read.find_baseline("2026-01-12T10").unwrap().git_commit,
        commit(2)
    );
    let e = read.find_baseline("2025-12-31").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("recent baselines"), "{e}");
    // A too-short commit prefix matches nothing rather than everything.
    assert!(read.find_baseline("00").is_err());
}

fn point(commit: String, median: f64) -> Point {
    Point {
        commit,
        timestamp: "2026-01-01T00:00:00Z".into(),
        median,
        ci_lower: median * 0.98,
        ci_upper: median * 1.02,
        n: 30,
        unit: Unit::Nanoseconds,
        machine_changed: false,
    }
}

fn noisy_series(seed: u64, levels: &[(usize, f64)], cv: f64) -> Vec<Point> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for &(len, level) in levels {
        for _ in 0..len {
            let i = out.len();
            out.push(point(commit(i), rng.normal(level, level * cv)));
        }
    }
    out
}

#[test]
fn detects_a_lasting_step_at_the_right_commit() {
    for seed in 0..5 {
        // 20 runs at 10 ms, then 15 at 11.5 ms (+15 %), 3 % noise.
        let s = noisy_series(seed, &[(20, 10e6), (15, 11.5e6)], 0.03);
        let cps = detect(&s).unwrap();
        assert_eq!(cps.len(), 1, "seed {seed}: {cps:?}");
        assert_eq!(cps[0].index, 20, "seed {seed}");
        assert_eq!(cps[0].commit, commit(20));
        assert_eq!(cps[0].previous_commit, commit(19));
        assert!(
            (cps[0].change_pct - 15.0).abs() < 4.0,
            "{}",
            cps[0].change_pct
        );
        assert!((cps[0].before_median / 10e6 - 1.0).abs() < 0.03);
    }
    // Two steps: down then up.
    let s = noisy_series(9, &[(12, 10e6), (12, 8e6), (12, 12e6)], 0.02);
    let idx: Vec<usize> = detect(&s).unwrap().iter().map(|c| c.index).collect();
    assert_eq!(idx, vec![12, 24]);
}

#[test]
fn pure_noise_and_single_spikes_are_not_change_points() {
    for seed in 0..10 {
        let s = noisy_series(100 + seed, &[(40, 10e6)], 0.05);
        assert!(detect(&s).unwrap().is_empty(), "seed {seed}");
    }
    // One run 3× slower in the middle (a noisy neighbour), and one at the end.
    let mut s = noisy_series(7, &[(30, 10e6)], 0.02);
    s[15].median = 30e6;
    s[29].median = 30e6;
    assert!(detect(&s).unwrap().is_empty());
    // Too short to tell.
    assert!(detect(&s[..4]).unwrap().is_empty());
    assert!(detect(&[]).unwrap().is_empty());
}

#[test]
fn terminal_trend_shows_sparkline_and_change() {
    assert_eq!(
        sparkline(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
        "▁▂▃▄▅▆▇█"
    );
    assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
    let s = noisy_series(1, &[(10, 10e6), (10, 13e6)], 0.02);
    let cps = detect(&s).unwrap();
    let out = render_history_terminal("os_inspection", &s, &cps);
    println!("{out}");
    assert!(out.starts_with("History of os_inspection: 20 runs"));
    let spark_line = out.lines().nth(1).unwrap();
    assert_eq!(spark_line.trim().chars().count(), 20);
    let marks = out.lines().nth(2).unwrap();
    assert_eq!(marks.find('^'), Some(2 + 10), "{marks:?}");
    assert!(out.contains(&format!("commit {}", &commit(10)[..12])));
    assert!(out.contains("◆   11  2026-01-01 00:00:00 UTC"), "{out}");
    assert!(render_history_terminal("x", &[], &[]).contains("no runs"));
}

#[test]
fn overview_lists_every_test_with_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(dir.path());
    assert!(render_history_overview(&h.entries().unwrap()).contains("history is empty"));
    for i in 0..12usize {
        let level = if i >= 6 { 1.5e6 } else { 1e6 };
        let mut r = simple_run(&commit(i), 1 + i as u32, "fast", level, i as u64);
        r.tests.push(
            simple_run(&commit(i), 1, "steady", 2e6, 100 + i as u64)
                .tests
                .remove(0),
        );
        h.append_run(&r, EntryKind::Run).unwrap();
    }
    let out = render_history_overview(&h.entries().unwrap());
    println!("{out}");
    let fast = out.lines().find(|l| l.starts_with("fast")).unwrap();
    assert!(fast.contains(&format!("at {}", &commit(6)[..12])), "{fast}");
    let steady = out.lines().find(|l| l.starts_with("steady")).unwrap();
    assert!(steady.ends_with("none"), "{steady}");
}
