//! The fleet recipes of `deploy/` run as their engines would run them: several
//! processes with the environment the engine sets (`JOB_COMPLETION_INDEX`,
//! `SLURM_ARRAY_TASK_ID`), killed at random moments and started again, their
//! outputs merged and checked against one uninterrupted run: every image exactly
//! once, with the same facts, and no line that is not a record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch_support;

use batch_support::{
    facts_by_image, images, kill_and_resume, path_with_guestctl, quiet, records, reference, Images,
    Rng,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name)
}

/// Images in the kill-and-resume tests (`GUESTCTL_FLEET_IMAGES` to run the
/// 1,000-image check by hand).
fn fleet_size() -> usize {
    std::env::var("GUESTCTL_FLEET_IMAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150)
}

fn shard_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("shard-")
        })
        .collect();
    v.sort();
    v
}

/// The merged outputs hold every image once, with the reference's facts.
fn assert_same_as_reference(images: &Images, files: &[PathBuf]) {
    let merged = facts_by_image(&records(files));
    let want = reference(images);
    assert_eq!(merged.len(), want.len(), "images recorded");
    for (image, facts) in &want {
        assert_eq!(merged.get(image), Some(facts), "{image}");
    }
}

/// The shell script of the manifest's container (its `args: - |` block), and the
/// Job's `completions`.
fn kubernetes_script() -> (String, u64) {
    let yaml = std::fs::read_to_string(deploy("kubernetes-indexed-job.yaml")).unwrap();
    let completions = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "- |");
    let marker = lines.next().unwrap();
    let indent = marker.len() - marker.trim_start().len();
    let body: Vec<&str> = lines
        .take_while(|l| l.len() - l.trim_start().len() > indent)
        .collect();
    let strip = body[0].len() - body[0].trim_start().len();
    let script = body.iter().map(|l| format!("{}\n", &l[strip..])).collect();
    (script, completions)
}

#[test]
fn kubernetes_indexed_job_killed_and_resumed_records_each_image_once() {
    let images = images(fleet_size());
    let (script, completions) = kubernetes_script();
    assert!(
        script.contains(&format!("--shard-count {completions}")),
        "completions and --shard-count agree: {script}"
    );
    let fleet = images.dir.path().join("fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    std::fs::copy(&images.list, fleet.join("images.txt")).unwrap();
    let script = script.replace("/fleet/", &format!("{}/", fleet.display()));
    let out = fleet.join("out");
    let launch = |i: u64| {
        let mut c = Command::new("sh");
        c.args(["-c", &script])
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("PATH", path_with_guestctl());
        quiet(c)
    };
    let per_shard = per_shard_bytes(&images, completions);
    let output = |i: u64| out.join(format!("shard-{i}.jsonl"));
    let mut rng = Rng(0x5eed_0001);
    let (landed, statuses) = kill_and_resume(completions, 5, per_shard, &launch, &output, &mut rng);
    eprintln!("{landed} of 15 kills interrupted a running shard");
    assert!(landed > 0, "no kill interrupted a running shard");
    assert!(statuses.iter().all(|s| s.success()), "{statuses:?}");
    assert_same_as_reference(&images, &shard_files(&out));
}

/// The size of one shard's output, from a reference run's.
fn per_shard_bytes(images: &Images, shards: u64) -> u64 {
    let reference = images.dir.path().join("reference.jsonl");
    if !reference.exists() {
        let _ = batch_support::reference(images);
    }
    std::fs::metadata(reference).unwrap().len() / shards
}

#[test]
fn slurm_array_killed_and_resumed_records_each_image_once() {
    let images = images(fleet_size());
    let fleet = images.dir.path().join("fleet");
    std::fs::create_dir_all(&fleet).unwrap();
    std::fs::copy(&images.list, fleet.join("images.txt")).unwrap();
    let script = std::fs::read_to_string(deploy("slurm-array.sh")).unwrap();
    let shards: u64 = script
        .lines()
        .find_map(|l| l.strip_prefix("SHARDS="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(script.contains(&format!("#SBATCH --array=0-{}", shards - 1)));
    let launch = |i: u64| {
        let mut c = Command::new("bash");
        c.arg(deploy("slurm-array.sh"))
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("FLEET", &fleet)
            .env("PATH", path_with_guestctl());
        quiet(c)
    };
    let out = fleet.join("out");
    let output = |i: u64| out.join(format!("shard-{i}.jsonl"));
    let per_shard = per_shard_bytes(&images, shards);
    let mut rng = Rng(0x5eed_0002);
    let (landed, statuses) = kill_and_resume(shards, 5, per_shard, &launch, &output, &mut rng);
    eprintln!("{landed} of 15 kills interrupted a running task");
    assert!(landed > 0, "no kill interrupted a running task");
    assert!(statuses.iter().all(|s| s.success()), "{statuses:?}");
    assert_same_as_reference(&images, &shard_files(&out));

    // The merge-and-report step over the result.
    let o = Command::new("sh")
        .arg(deploy("merge-and-report.sh"))
        .arg(&out)
        .arg("--json")
        .env("PATH", path_with_guestctl())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = images.paths.len() as u64;
    let bad = n.div_ceil(batch_support::BAD_EVERY as u64);
    assert_eq!(report["records"], n);
    assert_eq!(report["failed"], bad);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["unparseable_lines"], 0);
    assert_eq!(
        report["by_failure_kind"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        bad
    );
    let distros: u64 = report["by_distro"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(distros, n - bad);
    assert_eq!(records(&[out.join("merged.jsonl")]).len() as u64, n);
}

fn have_gnu_parallel() -> bool {
    let found = Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("GUESTCTL_REQUIRE_TOOLS").is_none(),
            "GNU parallel is required but missing"
        );
        eprintln!("skipping: GNU parallel not installed");
    }
    found
}

/// Bytes written so far to the files of `dir`.
fn bytes_in(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |d| d.map(|e| e.unwrap().metadata().unwrap().len()).sum())
}

/// A local recipe run, killed whole (the shell and its processes) once some
/// records are out, run again, then checked.
fn local_recipe(script: &str) {
    use std::os::unix::process::CommandExt;
    let images = images(90);
    let out = images.dir.path().join("out");
    let run = || {
        let mut c = Command::new("sh");
        c.arg(deploy(script))
            .arg(&images.list)
            .arg(&out)
            .env("PATH", path_with_guestctl());
        c
    };
    let mut first = run();
    first.process_group(0);
    let mut first = quiet(first);
    while bytes_in(&out) < 2000 && first.try_wait().unwrap().is_none() {
        std::thread::yield_now();
    }
    let group = format!("-{}", first.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    first.wait().unwrap();
    let st = run().status().unwrap();
    assert!(st.code().is_some(), "{script}: {st}");
    let files = shard_files(&out);
    assert_eq!(files.len(), 4, "{script}: one output per process");
    assert_same_as_reference(&images, &files);
}

#[test]
fn gnu_parallel_with_one_output_per_process_has_no_torn_line() {
    if have_gnu_parallel() {
        local_recipe("gnu-parallel.sh");
    }
}

#[test]
fn xargs_with_one_output_per_process_has_no_torn_line() {
    local_recipe("xargs.sh");
}

#[test]
fn ray_or_spark_partitions_piped_through_the_same_command() {
    let images = images(40);
    let want = reference(&images);
    // Four partitions, as an engine would cut the list, each through its own pipe.
    let text = std::fs::read_to_string(&images.list).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let children: Vec<_> = lines
        .chunks(lines.len().div_ceil(4))
        .map(|part| {
            let mut c = Command::new("sh")
                .arg(deploy("partition-pipe.sh"))
                .env("PATH", path_with_guestctl())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let input = part.join("\n") + "\n";
            let mut stdin = c.stdin.take().unwrap();
            std::thread::spawn(move || {
                use std::io::Write;
                stdin.write_all(input.as_bytes()).unwrap();
            });
            c
        })
        .collect();
    let mut all = Vec::new();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "a partition with failed images still succeeds"
        );
        for line in String::from_utf8(o.stdout).unwrap().lines() {
            all.push(serde_json::from_str::<serde_json::Value>(line).unwrap());
        }
    }
    assert_eq!(facts_by_image(&all), want);
}
