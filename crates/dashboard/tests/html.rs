//! The HTML report: structure, escaping, self-containment, and a real headless
//! Chromium loading it (skipped with a message when `chromium` is not installed
//! or GUESTCTL_SKIP_CHROMIUM=1 is set; either is a failure under
//! GUESTCTL_REQUIRE_TOOLS=1).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use guestctl_dashboard::{render_html, EntryKind, History, HtmlInput};
use guestctl_perf::RunResults;

/// A report of the synthetic suite with a 14-run history that steps up at run 9.
fn report(dir: &Path) -> (String, RunResults) {
    let (base, cur) = suite_pair();
    let cmp = compare(&cur, &base);
    let h = History::open(dir);
    for i in 0..14u64 {
        let mut r = cur.clone();
        r.git_commit = format!("{:040x}", 0xabc000 + i);
        r.timestamp = format!("2026-01-{:02}T10:00:00Z", i + 1);
        for t in &mut r.tests {
            let level = if i >= 8 { 1.3 } else { 1.0 };
            let noise = 1.0 + ((i * 7 % 5) as f64 - 2.0) * 0.01;
            t.summary.median *= level * noise;
            t.summary.median_ci.lower *= level * noise;
            t.summary.median_ci.upper *= level * noise;
        }
        h.append_run(&r, EntryKind::Run).unwrap();
    }
    h.append_run(&cur, EntryKind::Run).unwrap();
    let entries = h.entries().unwrap().entries;
    let flames = vec![
        (
            "os_inspection/ubuntu".to_string(),
            "flamegraphs/os_inspection%ubuntu.svg".to_string(),
        ),
        (
            "cache_lookup".to_string(),
            "javascript:alert(1)".to_string(),
        ),
    ];
    let mut base_other = base.clone();
    base_other.machine.cores = 2;
    let cmp_other = compare(&cur, &base_other);
    let _ = cmp;
    let html = render_html(&HtmlInput {
        current: &cur,
        baseline: Some(&base_other),
        comparison: Some(&cmp_other),
        history: &entries,
        flamegraphs: &flames,
    });
    (html, cur)
}

#[test]
fn report_is_self_contained_escaped_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let (html, cur) = report(dir.path());
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: no script, no external resource (the only URL is the SVG namespace).
    assert!(!html.contains("<script"));
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_ns.contains("http:") && !without_ns.contains("https:"),
        "external URL"
    );
    assert!(!html.contains("<link") && !html.contains("@import") && !html.contains("url("));
    // Escaped: the hostile test name and params never appear raw.
    assert!(!html.contains("weird <name>"));
    assert!(html.contains("weird &lt;name&gt; &amp; &quot;quotes&quot;"));
    assert!(html.contains("k&lt;=v&amp;&quot;"));
    // Summary with coloured verdicts, the mismatch warning, the flamegraph link (and
    // not the javascript: one).
    assert!(html.contains("<td class=\"regression\">regression</td>"));
    assert!(html.contains("id=\"fingerprint-mismatch\""));
    assert!(html.contains("cores: 8 ≠ 2"));
    assert!(html.contains("href=\"flamegraphs/os_inspection%25ubuntu.svg\""));
    assert!(!html.contains("javascript:"));
    assert!(html.contains("class=\"missing\">missing"));
    // Charts: per test a distribution and a trend, plus one scaling curve.
    let svgs = html.matches("<svg").count();
    assert_eq!(svgs, 2 * cur.tests.len() + 1, "{svgs} charts");
    assert!(html.contains("package_listing: median vs packages"));
    assert!(html.contains("packages (log scale)"));
    // The change point at run 9 is named in each trend.
    assert!(html.contains(&format!(
        "lasting change at run 9 (commit <code>{}</code>",
        &format!("{:040x}", 0xabc008u64)[..12]
    )));
    // Targets drawn: cache_lookup's 100 µs target line label.
    assert!(html.contains("target 100 µs"));
    assert!(!html.contains("not drawn"), "a chart failed");
    // The trend's x axis names runs by commit and date, not by number.
    assert!(html.contains("run: commit, date (oldest first)"));
    let labelled = (0..14u64)
        .filter(|i| {
            let commit = format!("{:040x}", 0xabc000 + i);
            html.contains(&format!(">\n{} 01-{:02}\n<", &commit[..7], i + 1))
        })
        .count();
    assert!(labelled >= 3, "{labelled} runs labelled by commit and date");
    // The Target cell keeps each target on one line.
    assert!(html.contains("td.target{white-space:nowrap}"));
    assert!(html.contains("<td class=\"target\"><span class=\"missed\">target 100 µs missed"));
    // Charts without the faint grid: a few lines each, not dozens.
    let lines = html.matches("<line").count();
    assert!(lines < 12 * svgs, "{lines} grid lines in {svgs} charts");
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(guestctl_testkit::find)
}

fn run_chromium(bin: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg(bin).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd.args(extra).arg(url);
    cmd.output().expect("running chromium")
}

/// Console errors, uncaught exceptions and failed loads in Chromium's log.
fn console_problems(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Failed to load resource")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn report_loads_in_headless_chromium() {
    if std::env::var_os("GUESTCTL_SKIP_CHROMIUM").is_some() {
        guestctl_testkit::unavailable("GUESTCTL_SKIP_CHROMIUM is set");
        return;
    }
    let Some(bin) = chromium() else {
        guestctl_testkit::unavailable("chromium is not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (html, cur) = report(&dir.path().join("results"));
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let shot = dir.path().join("shot.png");

    let out = run_chromium(
        &bin,
        &dir.path().join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
        &url,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    assert!(
        console_problems(&stderr).is_empty(),
        "{:?}",
        console_problems(&stderr)
    );
    let png = std::fs::read(&shot).expect("no screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (1280, 2000));
    assert!(
        png.len() > 30_000,
        "screenshot of {} bytes is too small to hold charts",
        png.len()
    );
    if let Some(keep) = std::env::var_os("GUESTCTL_DASHBOARD_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&shot, Path::new(&keep).join("shot.png")).unwrap();
        std::fs::copy(&page, Path::new(&keep).join("report.html")).unwrap();
    }

    let out = run_chromium(&bin, &dir.path().join("profile-dom"), &["--dump-dom"], &url);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    assert!(
        console_problems(&stderr).is_empty(),
        "{:?}",
        console_problems(&stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The browser parsed every chart as SVG (with its drawn shapes) and the table.
    assert_eq!(dom.matches("<svg").count(), 2 * cur.tests.len() + 1);
    assert!(dom.matches("<circle").count() > 100);
    assert!(dom.contains("<table id=\"summary\">"));
    assert!(dom.contains("weird &lt;name&gt; &amp; \"quotes\""));
}

/// A test of `op` with `params`, 10 identical samples of `median` (deterministic
/// comparisons).
fn flat(name: &str, op: &str, params: &[(&str, &str)], median: f64) -> guestctl_perf::TestResult {
    let mut t = test_result(name, params, vec![median; 10]);
    t.operation = Some(op.into());
    t
}

#[test]
fn scaling_charts_follow_the_scaling_parameter_not_one_varying_parameter() {
    // The real suite's shapes: package listing on two distros (one operation, only
    // os_type differs: not a series), and an image-size series whose points also
    // differ in disk_type (two parameters vary, one declared by `scaling`).
    let tests = vec![
        flat(
            "package_listing/ubuntu",
            "package_listing",
            &[("os_type", "ubuntu")],
            2.0e6,
        ),
        flat(
            "package_listing/fedora",
            "package_listing",
            &[("os_type", "fedora")],
            3.0e6,
        ),
        flat(
            "scaling/image_size/minimal",
            "scaling_image_size",
            &[
                ("scaling", "image_mib"),
                ("image_mib", "1"),
                ("disk_type", "minimal"),
            ],
            0.6e6,
        ),
        flat(
            "scaling/image_size/small",
            "scaling_image_size",
            &[
                ("scaling", "image_mib"),
                ("image_mib", "100"),
                ("disk_type", "small"),
            ],
            0.9e6,
        ),
        flat(
            "scaling/image_size/large",
            "scaling_image_size",
            &[
                ("scaling", "image_mib"),
                ("image_mib", "1024"),
                ("disk_type", "large"),
            ],
            1.6e6,
        ),
    ];
    let cur = run("c0ffee", "2026-01-26T10:30:00Z", tests);
    let html = render_html(&HtmlInput {
        current: &cur,
        baseline: None,
        comparison: None,
        history: &[],
        flamegraphs: &[],
    });
    assert!(
        html.contains("scaling_image_size: median vs image_mib"),
        "the declared series is charted"
    );
    assert!(html.contains("image_mib (log scale)"));
    assert!(
        !html.contains("median vs os_type") && !html.contains("median vs disk_type"),
        "tests differing in one parameter are not a scaling series"
    );
    // Its fitted growth, as perf's scaling analysis states it, is under the chart.
    let series = guestctl_perf::scaling::scaling_series(&cur);
    assert_eq!(series.len(), 1);
    assert!(
        html.contains(&format!(
            "growth <strong>{}</strong>",
            series[0].growth.name()
        )),
        "growth named"
    );
    // Per test a distribution, plus exactly one scaling curve.
    assert_eq!(html.matches("<svg").count(), cur.tests.len() + 1);
    assert!(!html.contains("not drawn"), "a chart failed");
}

#[test]
fn memory_figures_and_their_baseline_change_are_reported() {
    use guestctl_perf::report::{format_bytes, markdown_report};
    use guestctl_perf::{BaselineAction, MemoryStats, Report};
    let mib = 1024.0 * 1024.0;
    let with_memory = |alloc: f64, heap: f64| {
        let mut t = flat("os_inspection", "os_inspection", &[], 4.0e6);
        t.memory = Some(MemoryStats {
            alloc_bytes: vec![alloc; 10],
            alloc_count: vec![1234.0; 10],
            peak_heap_bytes: vec![heap; 10],
        });
        t.peak_rss_bytes = Some(64 * 1024 * 1024);
        t
    };
    let base = run(
        "b",
        "2026-01-20T10:00:00Z",
        vec![with_memory(2.0 * mib, 0.5 * mib)],
    );
    let cur = run(
        "c",
        "2026-01-26T10:00:00Z",
        vec![with_memory(2.5 * mib, 0.5 * mib)],
    );
    let cmp = compare(&cur, &base);
    let html = render_html(&HtmlInput {
        current: &cur,
        baseline: Some(&base),
        comparison: Some(&cmp),
        history: &[],
        flamegraphs: &[],
    });
    let table = html
        .split("<table id=\"memory\">")
        .nth(1)
        .expect("a memory table")
        .split("</table>")
        .next()
        .unwrap();
    for figure in [
        format_bytes(2.5 * mib),
        "1234".to_string(),
        format_bytes(0.5 * mib),
        format_bytes(64.0 * mib),
    ] {
        assert!(table.contains(&figure), "{figure} missing from {table}");
    }
    // The baseline change of each compared figure, with its verdict, as for time.
    assert!(
        table.contains(&format!(
            "<span class=\"regression\">+25.0% (regression; baseline {})</span>",
            format_bytes(2.0 * mib)
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "<span class=\"unchanged\">+0.0% (unchanged; baseline {})</span>",
            format_bytes(0.5 * mib)
        )),
        "{table}"
    );
    // And in the test's own section.
    assert!(
        html.contains(&format!(
            "<p class=\"meta memory\">Memory: allocated/iter {}",
            format_bytes(2.5 * mib)
        )),
        "{html}"
    );
    // report.md has the same figures and the change.
    let md = markdown_report(&Report::new(
        cur.clone(),
        BaselineAction::Compared { path: "b".into() },
        Some(cmp),
    ));
    assert!(md.contains("## Memory"), "{md}");
    assert!(
        md.contains(&format!(
            "| os_inspection | {} | 1234 | {} | {} |",
            format_bytes(2.5 * mib),
            format_bytes(0.5 * mib),
            format_bytes(64.0 * mib)
        )),
        "{md}"
    );
    assert!(
        md.contains("- os_inspection [alloc_bytes]: 25.0% more"),
        "{md}"
    );
}
