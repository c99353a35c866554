//! Hostile guests through the `guestctl` binary: what a guest names cannot reach
//! the terminal raw, and reading a crafted image stays within bounded memory and
//! CPU time (measured on the whole process, under `prlimit`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use guestctl_testkit::bounded::{prlimit, CPU_LIMIT, PEAK_MEMORY_LIMIT};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn guestctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guestctl"));
    c.env(
        "GUESTCTL_CACHE_DIR",
        std::env::temp_dir().join("guestctl-hostile-cli-cache"),
    );
    c
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A Debian-like root in `dir/src` holding `extra` files, made into a 16 MiB
/// ext4 image by `mke2fs -d`; `None` when mke2fs is missing (and not required).
fn debian_image(
    dir: &Path,
    hostname: &str,
    pretty: &str,
    extra: &[(&str, &str)],
) -> Option<PathBuf> {
    let mke2fs = guestctl_testkit::tool("mke2fs")?;
    let src = dir.join("src");
    for d in [
        "etc",
        "bin",
        "usr/bin",
        "sbin",
        "lib",
        "var/lib/dpkg",
        "data",
    ] {
        std::fs::create_dir_all(src.join(d)).unwrap();
    }
    let os_release = format!("ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"{pretty}\"\n");
    std::fs::write(src.join("etc/os-release"), os_release).unwrap();
    std::fs::write(src.join("etc/debian_version"), "12.0\n").unwrap();
    std::fs::write(src.join("etc/fstab"), "/dev/sda / ext4 defaults 0 1\n").unwrap();
    std::fs::write(src.join("etc/hostname"), format!("{hostname}\n")).unwrap();
    let status =
        "Package: bsdutils\nStatus: install ok installed\nVersion: 1:2.38\nArchitecture: amd64\n\n";
    std::fs::write(src.join("var/lib/dpkg/status"), status).unwrap();
    for (name, body) in extra {
        std::fs::write(src.join(name), body).unwrap();
    }
    let img = dir.join("guest.img");
    run(Command::new(mke2fs)
        .args(["-q", "-F", "-t", "ext4", "-N", "8192", "-d"])
        .arg(&src)
        .arg(&img)
        .arg("16M"));
    Some(img)
}

const ESC_HOSTNAME: &str = "x\u{1b}]0;owned\u{7}\u{1b}[2J";
const ESC_PRETTY: &str = "Debian \u{1b}[31mRED";
const ESC_FILE: &str = "data/evil\u{1b}[31m\nforged line";

#[test]
fn guest_strings_reach_the_terminal_escaped_and_json_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path(), ESC_HOSTNAME, ESC_PRETTY, &[(ESC_FILE, "x")]) else {
        return;
    };
    let img_s = img.to_str().unwrap();
    for args in [
        ["inspect", "--no-cache", img_s],
        ["ls", img_s, "/data"],
        ["packages", "--no-cache", img_s],
    ] {
        let sub = args[0];
        let out = run(guestctl().args(args));
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !all.contains(&0x1b) && !all.contains(&0x07),
            "{sub}: raw control bytes:\n{text}"
        );
        match sub {
            "inspect" => {
                assert!(text.contains("x\\e]0;owned\\x07\\e[2J"), "{text}");
                assert!(text.contains("Debian \\e[31mRED"), "{text}");
            }
            "ls" => {
                assert!(text.contains("evil\\e[31m\\nforged line"), "{text}");
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout).lines().count(),
                    1,
                    "{text}"
                );
            }
            _ => assert!(text.contains("bsdutils"), "{text}"),
        }
    }
    let out = run(guestctl()
        .args(["inspect", "--no-cache", "--json"])
        .arg(&img));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let os = &v["operatingsystems"][0];
    assert_eq!(os["hostname"], ESC_HOSTNAME);
    assert_eq!(os["product_name"], ESC_PRETTY);
}

/// `guestctl ARGS` under `prlimit`: exit code, peak RSS and CPU time, checked
/// against the bounds.
fn bounded_run(args: &[&std::ffi::OsStr], what: &str) -> Option<i32> {
    let prlimit_bin = guestctl_testkit::tool("prlimit")?;
    let c = prlimit(&prlimit_bin);
    let mut argv: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    argv.insert(0, prlimit_bin.display().to_string());
    argv.push(env!("CARGO_BIN_EXE_guestctl").to_string());
    argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    let (_, usage) = guestctl_perf::process::run_once(&argv, false).unwrap();
    let cpu = usage.user + usage.sys;
    eprintln!(
        "{what}: peak {} KiB, CPU {cpu:?}",
        usage.max_rss_bytes >> 10
    );
    assert_eq!(usage.signal, None, "{what} was killed");
    assert!(
        usage.max_rss_bytes < PEAK_MEMORY_LIMIT,
        "{what}: {} MiB",
        usage.max_rss_bytes >> 20
    );
    assert!(cpu < CPU_LIMIT, "{what}: {cpu:?} of CPU");
    usage.exit_code
}

#[test]
fn a_sparse_package_database_claiming_a_gigabyte_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path(), "vm", "Debian", &[]) else {
        return;
    };
    let Some(debugfs) = guestctl_testkit::tool("debugfs") else {
        return;
    };
    run(Command::new(debugfs)
        .args(["-w", "-R", "sif /var/lib/dpkg/status size 1000000000"])
        .arg(&img));
    let img = img.as_os_str();
    let s = |v: &'static str| std::ffi::OsStr::new(v);
    assert_eq!(
        bounded_run(&[s("packages"), s("--no-cache"), img], "packages"),
        Some(0)
    );
    bounded_run(&[s("inspect"), s("--no-cache"), img], "inspect");
    assert_eq!(
        bounded_run(&[s("cat"), img, s("/var/lib/dpkg/status")], "cat"),
        Some(0)
    );
}

#[test]
fn ls_of_a_directory_of_thousands_of_unindexed_entries_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..5000).map(|i| format!("data/f{i:05}")).collect();
    let extra: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    // mke2fs -d links entries into directories without a hash-tree index.
    let Some(img) = debian_image(tmp.path(), "vm", "Debian", &extra) else {
        return;
    };
    let s = std::ffi::OsStr::new;
    let code = bounded_run(&[s("ls"), img.as_os_str(), s("/data")], "ls");
    assert_eq!(code, Some(0));
    let out = run(guestctl().arg("ls").arg(&img).arg("/data"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5000);
}

/// Output of `debugfs -R REQUEST IMG`.
fn debugfs(img: &Path, request: &str) -> Option<String> {
    let bin = guestctl_testkit::tool("debugfs")?;
    let out = run(Command::new(bin).args(["-R", request]).arg(img));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn no_os_found_says_what_stopped_detection_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(img) = debian_image(tmp.path(), "vm", "Debian", &[]) else {
        return;
    };
    let Some(stats) = debugfs(&img, "stats") else {
        return;
    };
    let block_size: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("Block size:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let block: u64 = debugfs(&img, "bmap / 0").unwrap().trim().parse().unwrap();
    // Flip a byte inside the root directory's first block (in an entry past
    // `.` and `..`): its checksum no longer matches.
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[(block * block_size + 40) as usize] ^= 0x20;
    std::fs::write(&img, &bytes).unwrap();
    let out = guestctl()
        .args(["inspect", "--no-cache"])
        .arg(&img)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("No operating system found"), "{stdout}");
    assert!(stdout.contains("what stopped detection"), "{stdout}");
    assert!(
        stderr.contains("/dev/sda: cannot tell whether it holds an operating system"),
        "{stderr}"
    );
    assert!(stderr.contains("checksum"), "{stderr}");
    let out = guestctl()
        .args(["inspect", "--no-cache", "--json"])
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"undetected"), "{kinds:?}");
}
