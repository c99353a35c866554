//! `guestctl perf validate --peer libguestfs`: skipped with a note when
//! virt-inspector is missing; with a stand-in peer program the whole pipeline (both
//! tools benchmarked as processes, paired, backend named, ratio reported) runs.
//! The real libguestfs run is minutes long and is exercised by hand (README).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn validate(dir: &Path, peer_program: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guestctl"))
        .args([
            "perf",
            "validate",
            "--filter",
            "appliance_launch",
            "--iterations",
            "3",
            "--no-progress",
            "--peer",
            "libguestfs",
            "--peer-runs",
            "2",
            "--peer-force-tcg",
            "--results-dir",
        ])
        .arg(dir.join("results"))
        .arg("--targets")
        .arg(dir.join("no-targets.toml"))
        .env("GUESTCTL_VIRT_INSPECTOR", peer_program)
        .output()
        .unwrap()
}

#[test]
fn missing_peer_is_skipped_with_a_note_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = validate(dir.path(), &dir.path().join("no-such-virt-inspector"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("peer libguestfs skipped"), "{stderr}");
    let md = std::fs::read_to_string(dir.path().join("results/report.md")).unwrap();
    assert!(
        md.contains("peer libguestfs skipped") && md.contains("libguestfs-tools"),
        "{md}"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results/current.json")).unwrap())
            .unwrap();
    assert!(run["settings"]["notes"][0]
        .as_str()
        .unwrap()
        .contains("skipped"));
    assert!(!md.contains("## Peer: libguestfs"), "{md}");
}

#[test]
fn peer_runs_are_paired_and_reported_with_backend_and_ratio() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for virt-inspector: checks it got `-a DISK` and reads the disk's
    // first sector, as the real one would (it never writes).
    let fake = dir.path().join("virt-inspector");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = \"-a\" ] || exit 3\nhead -c 512 \"$2\" >/dev/null || exit 4\n\
         echo '<operatingsystems/>'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = validate(dir.path(), &fake);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results/current.json")).unwrap())
            .unwrap();
    let tests = run["tests"].as_array().unwrap();
    let peer: Vec<&serde_json::Value> = tests
        .iter()
        .filter(|t| t["params"]["peer"] == "libguestfs")
        .collect();
    assert_eq!(peer.len(), 2, "{tests:?}");
    let ours = peer
        .iter()
        .find(|t| t["params"]["tool"] == "guestctl")
        .unwrap();
    let theirs = peer
        .iter()
        .find(|t| t["params"]["tool"] == "libguestfs")
        .unwrap();
    assert_eq!(ours["name"], "peer/guestctl/ubuntu-small");
    assert_eq!(theirs["params"]["backend"], "TCG");
    assert_eq!(ours["samples"].as_array().unwrap().len(), 2);
    let cmd = theirs["process"]["command"].as_array().unwrap();
    assert!(cmd
        .iter()
        .any(|a| a == "LIBGUESTFS_BACKEND_SETTINGS=force_tcg"));
    let md = std::fs::read_to_string(dir.path().join("results/report.md")).unwrap();
    assert!(md.contains("## Peer: libguestfs"), "{md}");
    assert!(
        md.contains("| ubuntu-small |") && md.contains("| TCG |"),
        "{md}"
    );
    assert!(md.contains("× faster") || md.contains("× slower"), "{md}");
}
