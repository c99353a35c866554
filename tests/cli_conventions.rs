//! What people expect of a command-line tool, checked through the `guestctl` binary:
//! a usage error exits 1 (2 means "regression" to the scripts that call
//! `perf validate`), `--help` and `--version` exit 0, the version names the commit
//! and profile it was built with, and completions and man pages come from the
//! command-line definition.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use helpers::*;

#[test]
fn a_usage_error_exits_1_with_clap_s_message() {
    for args in [
        &["perf", "validate", "--bogus"][..],
        &["perf", "report", "--format", "bogus"],
        &["perf", "validate", "--iteration", "30"],
        &["inspect"],
        &[],
    ] {
        let (code, out, err) = outcome(&guestctl(args));
        assert_eq!(code, 1, "guestctl {args:?}: {err}");
        assert!(out.is_empty(), "guestctl {args:?} wrote on stdout: {out}");
        // An error, or the help that clap shows when no command is given.
        assert!(
            err.starts_with("error: ") || err.contains("Usage: guestctl [OPTIONS] <COMMAND>"),
            "guestctl {args:?}: {err}"
        );
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for args in [
        &["--help"][..],
        &["perf", "validate", "--help"],
        &["--version"],
    ] {
        let (code, out, err) = outcome(&guestctl(args));
        assert_eq!(code, 0, "guestctl {args:?}: {err}");
        assert!(!out.is_empty(), "guestctl {args:?}");
    }
}

#[test]
fn the_version_names_the_commit_and_profile_it_was_built_with() {
    let (_, out, _) = outcome(&guestctl(&["--version"]));
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert!(
        out.starts_with(&format!("guestctl {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(out.contains(&format!(", {profile}, opt-level ")), "{out}");
    // The commit is the build's, not a `git rev-parse` of the current directory:
    // run from a directory outside any repository, it is the same.
    let elsewhere = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(guestctl_bin())
        .arg("--version")
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), out);
}

#[test]
fn the_validation_script_reports_a_usage_error_as_an_error_not_a_regression() {
    let (code, _, err) = outcome(&validate_script(&["--iteration", "30"], &[]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unexpected argument '--iteration'"), "{err}");
    assert!(!err.contains("regression"), "{err}");
}

#[test]
fn completions_for_bash_zsh_and_fish_cover_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = outcome(&guestctl(&["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["inspect", "validate", "baseline", "no-cache", "iterations"] {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("guestctl.bash");
    std::fs::write(&script, guestctl(&["completions", "bash"]).stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(outcome(&guestctl(&["completions", "tcsh"])).0, 1);
}

#[test]
fn one_man_page_per_command_and_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = outcome(&guestctl(&["man", dir.path().to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    for (page, title) in [
        ("guestctl.1", "guestctl"),
        ("guestctl-inspect.1", "guestctl-inspect"),
        ("guestctl-packages.1", "guestctl-packages"),
        ("guestctl-perf-validate.1", "guestctl-perf-validate"),
        (
            "guestctl-perf-baseline-accept.1",
            "guestctl-perf-baseline-accept",
        ),
        ("guestctl-mock-disk-create.1", "guestctl-mock-disk-create"),
        ("guestctl-completions.1", "guestctl-completions"),
    ] {
        let text = std::fs::read_to_string(dir.path().join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}; wrote: {out}"));
        assert!(text.contains(&format!(".TH {title} 1")), "{page}: {text}");
        assert!(text.contains(".SH SYNOPSIS"), "{page}");
    }
    let validate = std::fs::read_to_string(dir.path().join("guestctl-perf-validate.1")).unwrap();
    assert!(validate.contains("iterations"), "{validate}");
    // Hidden commands have no page.
    assert!(!dir.path().join("guestctl-man.1").exists());
    assert!(!dir.path().join("guestctl-perf-run-routine.1").exists());
}

/// Runs `guestctl ARGS` on a pseudo-terminal (`script`), so that progress bars are
/// drawn unless asked away; `None` when `script` is missing (the testkit's rule).
fn on_a_terminal(args: &str) -> Option<String> {
    let script = guestctl_testkit::tool("script")?;
    let cmd = format!("{} {args}", guestctl_bin().display());
    let o = std::process::Command::new(script)
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn no_progress_and_quiet_hide_the_progress_bar_on_a_terminal() {
    let bench = "perf bench --name t --runs 4 --warmup 0";
    let Some(shown) = on_a_terminal(&format!("{bench} -- true")) else {
        return;
    };
    assert!(
        shown.contains("4/4"),
        "no progress bar on a terminal: {shown}"
    );
    for flag in ["--no-progress", "--quiet", "-q"] {
        let hidden = on_a_terminal(&format!("{flag} {bench} -- true")).unwrap();
        assert!(!hidden.contains("/4"), "{flag}: {hidden}");
        // Global flags: accepted after the subcommand too.
        let hidden = on_a_terminal(&format!("{bench} {flag} -- true")).unwrap();
        assert!(!hidden.contains("/4"), "{flag} last: {hidden}");
    }
}

#[test]
fn the_readme_lists_the_packages_ci_installs() {
    let list = std::fs::read_to_string(repo().join("scripts/packages.txt")).unwrap();
    let from_list: Vec<(String, String)> = list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            (w.next().unwrap().to_string(), w.next().unwrap().to_string())
        })
        .collect();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let from_readme: Vec<(String, String)> = readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = |c: &str| c.strip_prefix('`')?.strip_suffix('`').map(String::from);
            // `| `package` | `command` | what for |`
            (cells.len() == 5).then(|| Some((code(cells[1])?, code(cells[2])?)))?
        })
        .collect();
    assert_eq!(
        from_readme, from_list,
        "README.md's package table and scripts/packages.txt differ"
    );
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(
        ci.contains("done < scripts/packages.txt"),
        "CI no longer reads the list"
    );
}

#[test]
fn the_cache_lives_in_the_xdg_cache_directory() {
    let info = |env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(guestctl_bin());
        c.args(["cache", "info"])
            .env_remove("GUESTCTL_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let starts = |out: String, want: String| assert!(out.starts_with(&want), "{out} vs {want}");
    starts(info(&[("GUESTCTL_CACHE_DIR", d)]), format!("{d}: "));
    starts(
        info(&[("XDG_CACHE_HOME", d), ("HOME", "/nonexistent")]),
        format!("{d}/guestctl: "),
    );
    // A relative XDG_CACHE_HOME is invalid by the XDG rules and ignored.
    starts(
        info(&[("XDG_CACHE_HOME", "relative"), ("HOME", d)]),
        format!("{d}/.cache/guestctl: "),
    );
}

#[test]
fn perf_bench_compares_several_commands_like_hyperfine() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let (md, csv, json) = (p("b.md"), p("b.csv"), p("b.json"));
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "bench",
        "--runs",
        "3",
        "--warmup",
        "1",
        "--prepare",
        "true",
        "-n",
        "quick",
        "sleep 0.01",
        "sleep 0.05",
        "--export-markdown",
        &md,
        "--export-csv",
        &csv,
        "--export-json",
        &json,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Benchmark 1: quick\n  Command:             sleep 0.01\n"),
        "{out}"
    );
    assert!(
        out.contains("Benchmark 2: sleep 0.05\n  Time (mean ± σ): "),
        "{out}"
    );
    assert!(
        out.contains("[User: ") && out.contains(", System: "),
        "{out}"
    );
    assert!(out.contains("    3 runs\n"), "{out}");
    // 10 ms against 50 ms: the relative summary names the faster one.
    let summary = out.split("Summary\n").nth(1).expect(&out);
    assert!(summary.starts_with("  quick ran\n    "), "{summary}");
    assert!(
        summary.contains(" times faster than sleep 0.05\n"),
        "{summary}"
    );
    let ratio: f64 = summary
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .expect(summary);
    assert!(ratio > 1.5, "{summary}");
    // The exports: hyperfine's Markdown table, CSV, and guestctl's results file.
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("| Command | Mean ["), "{md}");
    assert!(
        md.contains("| `quick` |") && md.contains(" | 1.00 |"),
        "{md}"
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("command,mean,stddev,median,"), "{csv}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["tests"][1]["name"], "sleep 0.05");
    assert_eq!(v["tests"][0]["params"]["command"], "sleep 0.01");
    assert_eq!(v["tests"][0]["samples"].as_array().unwrap().len(), 3);
    // Two commands under one name is a usage mistake.
    let (code, _, err) = outcome(&guestctl(&["perf", "bench", "--runs", "2", "true", "true"]));
    assert_eq!(code, 1);
    assert!(err.contains("two commands are named \"true\""), "{err}");
}

#[test]
fn perf_warnings_go_to_stderr_and_results_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    // Three runs: each test warns "only 3 iterations"; the baseline has a test the
    // current run lacks.
    let bench = |out: &str, commands: &[&str]| {
        let mut args = vec![
            "perf",
            "bench",
            "--runs",
            "3",
            "--warmup",
            "0",
            "--export-json",
            out,
        ];
        args.extend(commands);
        assert_eq!(outcome(&guestctl(&args)).0, 0);
    };
    bench(&p("base.json"), &["true", "sleep 0.001"]);
    bench(&p("cur.json"), &["true"]);
    let (code, out, err) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("base.json"),
        &p("cur.json"),
    ]));
    assert!(code == 0 || code == 2, "{err}");
    assert!(out.starts_with("Test "), "{out}");
    assert!(out.contains("2 test(s): "), "{out}");
    for diagnostic in ["warning: ", "missing: "] {
        assert!(!out.contains(diagnostic), "{diagnostic} on stdout:\n{out}");
        assert!(
            err.contains(diagnostic),
            "{diagnostic} not on stderr:\n{err}"
        );
    }
    assert!(
        err.contains("missing: sleep 0.001 is in the baseline"),
        "{err}"
    );
    // --json is the one spelling of JSON output.
    let (_, json, _) = outcome(&guestctl(&[
        "perf",
        "compare",
        &p("base.json"),
        &p("cur.json"),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["comparison"].is_object(), "{json}");
    assert_eq!(
        outcome(&guestctl(&[
            "perf",
            "compare",
            &p("base.json"),
            &p("cur.json"),
            "--format",
            "json"
        ]))
        .0,
        1
    );
}

#[test]
fn baseline_accept_names_every_file_and_history_speaks_json() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("performance-results");
    let rd = results.to_str().unwrap();
    let run_in = |args: &[&str]| {
        let o = std::process::Command::new(guestctl_bin())
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        outcome(&o)
    };
    let mut said = Vec::new();
    for f in ["a.json", "b.json"] {
        let (code, _, err) = run_in(&[
            "perf",
            "bench",
            "--runs",
            "3",
            "-n",
            "t",
            "true",
            "--export-json",
            f,
        ]);
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run_in(&[
            "perf",
            "baseline",
            "accept",
            "--from",
            f,
            "--results-dir",
            rd,
        ]);
        assert_eq!(code, 0, "{err}");
        said.push(out);
    }
    let add = |out: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.starts_with("commit them with: git add "))
            .expect(out);
        let files = line["commit them with: git add ".len()..]
            .split(" && ")
            .next()
            .unwrap();
        files.split(' ').map(String::from).collect()
    };
    assert_eq!(
        add(&said[0]),
        [format!("{rd}/baseline.json"), format!("{rd}/history.jsonl")]
    );
    let second = add(&said[1]);
    assert_eq!(second.len(), 3, "{second:?}");
    assert!(
        second[1].starts_with(&format!("{rd}/baselines/")),
        "{second:?}"
    );
    for f in &second {
        assert!(std::path::Path::new(f).is_file(), "{f} named but absent");
    }
    // A past baseline from the history, by key.
    let (code, out, err) = run_in(&["perf", "compare", "history:latest", "a.json"]);
    assert!(code == 0 || code == 2, "{err}");
    assert!(out.contains("1 test(s): "), "{out}");
    // The history of validate runs as JSON.
    let (code, _, err) = run_in(&[
        "perf",
        "validate",
        "--filter",
        "cache_lookup",
        "--iterations",
        "3",
        "--warmup",
        "0",
        "--no-memory",
        "--results-dir",
        rd,
    ]);
    assert!(code == 0 || code == 2, "{err}");
    let (code, out, err) = run_in(&["perf", "history", "--json", "--results-dir", rd]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tests"][0]["test"], "cache_lookup", "{out}");
    let points = v["tests"][0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 1);
    assert!(points[0]["median"].as_f64().unwrap() > 0.0);
    assert!(v["tests"][0]["change_points"].is_array());
}
