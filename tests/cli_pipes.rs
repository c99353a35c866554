//! A reader that goes away early (`guestctl … | head`) ends the command quietly
//! with status 0, never a "failed printing to stdout" panic nor an error message:
//! every subcommand that prints on stdout is run here into a pipe closed before its
//! first write, and the ones with long output into a pipe closed after the first read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;

mod helpers;

use guestctl_mockdisk::MockDisk;
use helpers::{guestctl_cmd, small_disk};

struct Fixture {
    dir: tempfile::TempDir,
    /// Small ubuntu disk, 3,000 packages: `packages` prints well over a pipe buffer.
    ubuntu: MockDisk,
    /// A results file of `perf bench`, for `perf compare`.
    results: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ubuntu = small_disk("ubuntu", "pipe-vm", 3000)
            .write_manifest(false)
            .build(dir.path().join("ubuntu.img"))
            .unwrap();
        let results = dir.path().join("bench.json");
        let o = Command::new(helpers::guestctl_bin())
            .args([
                "perf", "bench", "--name", "true", "--runs", "3", "--warmup", "0",
            ])
            .arg("--output")
            .arg(&results)
            .args(["--json", "--", "true"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        Fixture {
            dir,
            ubuntu,
            results,
        }
    })
}

fn spawn(args: &[&str], cache: &Path) -> Child {
    guestctl_cmd(args, cache)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` (its stdout already closed), returning its status and stderr.
fn finish(mut child: Child) -> (ExitStatus, String) {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), err)
}

fn assert_quiet(args: &[&str], status: ExitStatus, err: &str) {
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(
        !err.contains("Broken pipe") && !err.contains("error:"),
        "{args:?} complained about the closed pipe: {err}"
    );
    assert!(status.success(), "{args:?}: {status}: {err}");
}

#[test]
fn mock_disk_summary_into_a_closed_pipe_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("m.img");
    let mut child = Command::new(helpers::guestctl_bin())
        .args(["mock-disk", "create", "--type", "minimal", "--os", "alpine"])
        .arg(&img)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the summary is written.
    drop(child.stdout.take());
    let (status, err) = finish(child);
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{status}: {err}");
    assert!(img.is_file(), "the image is still built");
}

#[test]
fn every_printing_command_into_a_closed_pipe_ends_quietly() {
    let f = fixture();
    let cache = f.dir.path().join("cache");
    let img = f.ubuntu.path().to_str().unwrap();
    let results = f.results.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["inspect", img],
        vec!["inspect", img, "--json"],
        vec!["filesystems", img],
        vec!["filesystems", img, "--json"],
        vec!["packages", img],
        vec!["packages", img, "--json"],
        vec!["ls", img, "/etc"],
        vec!["ls", img, "/etc", "--json"],
        vec!["cat", img, "/etc/hostname"],
        vec!["batch", img, img],
        vec!["batch", img, img, "--json"],
        vec!["cache", "info"],
        vec!["cache", "clear"],
        vec!["perf", "compare", results, results],
        vec!["perf", "compare", results, results, "--format", "markdown"],
        vec![
            "perf", "bench", "--name", "t", "--runs", "2", "--warmup", "0", "--", "true",
        ],
        vec!["mock-disk", "types"],
    ];
    for args in &runs {
        let mut child = spawn(args, &cache);
        // The reader is gone before the command writes anything.
        drop(child.stdout.take());
        let (status, err) = finish(child);
        assert_quiet(args, status, &err);
    }
}

#[test]
fn long_output_into_a_pipe_closed_after_the_first_read_ends_quietly() {
    let f = fixture();
    let cache = f.dir.path().join("cache-head");
    let img = f.ubuntu.path().to_str().unwrap();
    for args in [
        vec!["packages", img],
        vec!["packages", img, "--json"],
        vec!["inspect", img, "--json"],
    ] {
        // `| head -1`: one read, then the reader goes away with the rest unread.
        let mut child = spawn(&args, &cache);
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 512];
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "{args:?} printed nothing");
        drop(out);
        let (status, err) = finish(child);
        assert_quiet(&args, status, &err);
    }
}
