//! A reader that goes away early (`guestctl … | head`) ends the command quietly
//! with status 0, never a "failed printing to stdout" panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn mock_disk_summary_into_a_closed_pipe_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("m.img");
    let mut child = Command::new(env!("CARGO_BIN_EXE_guestctl"))
        .args(["mock-disk", "create", "--type", "minimal", "--os", "alpine"])
        .arg(&img)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the summary is written.
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{status}: {err}");
    assert!(img.is_file(), "the image is still built");
}
