//! `perf validate`'s paired mode: which binary is the baseline (the kept one, a
//! rebuild of the baseline's commit, `--baseline-bin`, or `--against REV`), the two
//! worker processes, and the self-check. The measuring and deciding are
//! guestctl-perf's ([`guestctl_perf::paired`]); this module picks binaries and
//! falls back to an unpaired comparison, with a note, when it cannot pair.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use guestctl_perf::binaries::{self, BinaryInfo};
use guestctl_perf::compare::{RunInfo, UNPAIRED_LABEL};
use guestctl_perf::paired::{self, PairedOutcome, PairedPlan, Sides};
use guestctl_perf::store::ResultsDir;
use guestctl_perf::worker::WorkerProcess;
use guestctl_perf::{
    BaselineAction, CompareConfig, NoObserver, Options, PerfTestSuite, RunResults, Suite,
    SuiteConfig, Targets,
};

/// The paired-mode options of `perf validate`.
#[derive(clap::Args, Debug, Clone)]
pub struct PairedArgs {
    /// Compare with this git revision (commit, branch, `origin/main`), built in a
    /// temporary worktree and measured paired with this binary; no stored baseline
    /// is needed or written.
    #[arg(long, value_name = "REV")]
    against: Option<String>,
    /// Use this guestctl binary as the baseline build (paired).
    #[arg(long, value_name = "PATH")]
    baseline_bin: Option<PathBuf>,
    /// Most ABBA rounds per test of a paired run (at least 3; tests slower than
    /// their time budget get 6).
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Compare with baseline.json's samples only, never paired.
    #[arg(long)]
    unpaired: bool,
    /// Measure the detector itself: this binary paired with itself (A/A), then with
    /// 5, 10 and 30 % injected slowdowns; false-alarm and detection rates per test in
    /// the reports. Writes no baseline.
    #[arg(long)]
    self_check: bool,
    /// Adds busy work to every measured iteration of this build, in percent of the
    /// iteration's time (an injected slowdown, to check the detector end to end).
    #[arg(long, hide = true, default_value_t = 0.0)]
    inject_slowdown: f64,
}

/// What the paired run takes from validate's other options.
pub struct Context {
    /// Discarded iterations per side before the rounds.
    pub warmup: usize,
    /// Default regression threshold, percent.
    pub threshold: f64,
    /// Per-test thresholds and targets.
    pub targets: Targets,
}

/// What the paired attempt came to.
pub enum Paired {
    /// A paired run was made.
    Done(Box<PairedDone>),
    /// Compare unpaired, with this note for the reports (none when there is no
    /// baseline at all).
    Unpaired(Option<String>),
}

/// A finished paired run.
pub struct PairedDone {
    /// Results and comparison.
    pub outcome: PairedOutcome,
    /// What the report says of the baseline.
    pub action: BaselineAction,
    /// Tests that failed.
    pub failures: Vec<guestctl_perf::suite::Failure>,
}

/// The running binary with its digest and this tree's commit, for results files.
pub fn this_binary() -> Option<BinaryInfo> {
    let exe = std::env::current_exe().ok()?;
    Some(BinaryInfo {
        sha256: binaries::sha256_file(&exe).ok()?,
        git_commit: guestctl_perf::fingerprint::git_commit(),
        dirty: binaries::worktree_dirty(),
    })
}

/// Keeps the running binary under the results directory's `bin/` (a new baseline's
/// own build); a failure is a warning: the next run is then unpaired.
pub fn keep_binary(rd: &ResultsDir) {
    let kept = std::env::current_exe()
        .map_err(anyhow::Error::from)
        .and_then(|exe| Ok(binaries::keep(rd.root(), &exe)?));
    if let Err(e) = kept {
        eprintln!(
            "warning: could not keep the baseline's binary ({e:#}): later runs will be unpaired"
        );
    }
}

/// The binary of `commit`, from the rebuild cache under `target/` or built now.
/// After `baseline accept`: keeps the running binary when it is the one that
/// measured the accepted run (else a later run rebuilds the run's commit, or
/// compares unpaired, and says so).
pub fn keep_accepted_binary(rd: &ResultsDir, accepted: Option<&BinaryInfo>) {
    let Some(info) = accepted else {
        return;
    };
    if binaries::find_kept(rd.root(), &info.sha256).is_some() {
        return;
    }
    if this_binary().is_some_and(|me| me.sha256 == info.sha256) {
        keep_binary(rd);
    }
}

fn build_commit(commit: &str) -> anyhow::Result<PathBuf> {
    let repo = binaries::repo_root()?;
    let full = binaries::resolve_revision(&repo, commit)?;
    let cache = repo
        .join("target")
        .join(binaries::REBUILD_TARGET)
        .join("by-commit");
    let bin = cache.join(&full);
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    eprintln!(
        "building the baseline {} in a temporary worktree (cargo build --release)…",
        &full[..12.min(full.len())]
    );
    Ok(binaries::build_revision(&repo, &full, &bin)?)
}

/// The baseline binary and its commit, or why there is none (`Ok(Err(note))`).
fn baseline_binary(
    a: &PairedArgs,
    rd: &ResultsDir,
    stored: Option<&RunResults>,
) -> anyhow::Result<Result<(PathBuf, String), String>> {
    if let Some(rev) = &a.against {
        let bin = build_commit(rev).with_context(|| format!("building --against {rev}"))?;
        return Ok(Ok((bin, rev.clone())));
    }
    if let Some(p) = &a.baseline_bin {
        anyhow::ensure!(p.is_file(), "--baseline-bin {}: no such file", p.display());
        let commit = stored.map_or("unknown".to_string(), |b| b.git_commit.clone());
        return Ok(Ok((p.clone(), commit)));
    }
    let Some(b) = stored else {
        return Ok(Err(String::new()));
    };
    let Some(info) = &b.binary else {
        return Ok(Err(format!(
            "{UNPAIRED_LABEL} (baseline.json records no binary)"
        )));
    };
    if let Some(p) = binaries::find_kept(rd.root(), &info.sha256) {
        return Ok(Ok((p, info.git_commit.clone())));
    }
    if info.dirty {
        return Ok(Err(format!(
            "{UNPAIRED_LABEL} (the baseline was built from a modified tree, so its commit \
             does not rebuild it, and its binary is not under {}/bin; pass --baseline-bin PATH)",
            rd.root().display()
        )));
    }
    match build_commit(&info.git_commit) {
        Ok(p) => Ok(Ok((p, info.git_commit.clone()))),
        Err(e) => Ok(Err(format!(
            "{UNPAIRED_LABEL} (the baseline's binary is not under {}/bin and its commit could \
             not be rebuilt: {e:#}; pass --baseline-bin PATH)",
            rd.root().display()
        ))),
    }
}

/// The paired run when it is possible, else the note of the unpaired fallback.
pub fn try_paired(
    a: &PairedArgs,
    ctx: &Context,
    rd: &ResultsDir,
    stored: Option<&RunResults>,
    suite: &Suite,
) -> anyhow::Result<Paired> {
    if a.unpaired && !a.self_check {
        return Ok(Paired::Unpaired(stored.map(|_| UNPAIRED_LABEL.to_string())));
    }
    anyhow::ensure!(a.rounds >= 3, "--rounds must be at least 3");
    let (bin, commit) = if a.self_check {
        (
            std::env::current_exe()?,
            guestctl_perf::fingerprint::git_commit(),
        )
    } else {
        match baseline_binary(a, rd, stored)? {
            Ok(x) => x,
            Err(note) if note.is_empty() => return Ok(Paired::Unpaired(None)),
            Err(note) => return Ok(Paired::Unpaired(Some(note))),
        }
    };
    let mut base = match WorkerProcess::spawn(&bin, "baseline") {
        Ok(w) => w,
        Err(e) if a.against.is_none() => {
            return Ok(Paired::Unpaired(Some(format!("{UNPAIRED_LABEL} ({e})"))));
        }
        Err(e) => anyhow::bail!("the --against build cannot be paired: {e}"),
    };
    let mut cur = WorkerProcess::spawn(&std::env::current_exe()?, "current")?;
    let names: Vec<String> = suite
        .names()
        .iter()
        .filter(|n| base.tests().iter().any(|t| t == *n))
        .map(|s| s.to_string())
        .collect();
    let plan = PairedPlan {
        rounds: a.rounds,
        min_rounds: a.rounds.min(PairedPlan::default().min_rounds),
        warmup: ctx.warmup,
        spin_percent: a.inject_slowdown,
        ..PairedPlan::default()
    };
    let work = guestctl_perf::store::temp_dir("guestctl-paired-")?;
    let mut sides = Sides {
        baseline: &mut base,
        current: &mut cur,
    };
    let metas = paired::test_meta(suite);
    let cfg = CompareConfig {
        threshold_pct: ctx.threshold,
        targets: ctx.targets.clone(),
        options: Options::default(),
    };
    let info = RunInfo {
        timestamp: stored.map_or_else(guestctl_perf::fingerprint::now_rfc3339, |b| {
            b.timestamp.clone()
        }),
        git_commit: commit,
        machine: guestctl_perf::Fingerprint::current(),
    };
    let mut current = PerfTestSuite::with_config(SuiteConfig {
        warmup: ctx.warmup,
        options: Options::default(),
        targets: ctx.targets.clone(),
    });
    let skipped: Vec<&str> = suite
        .names()
        .into_iter()
        .filter(|n| !names.iter().any(|m| m == n))
        .collect();
    if !skipped.is_empty() {
        current.add_note(format!(
            "not in the baseline build, measured on neither side: {}",
            skipped.join(", ")
        ));
    }
    if a.self_check {
        return self_check(
            &names,
            &plan,
            &mut sides,
            work.path(),
            &metas,
            current,
            info,
            &cfg,
        );
    }
    eprintln!(
        "paired run: {} tests, baseline {} against this build, up to {} ABBA rounds each…",
        names.len(),
        bin.display(),
        plan.rounds
    );
    let (runs, failures) =
        paired::run_paired_suite(&names, &plan, &mut sides, work.path(), &mut NoObserver);
    let mut outcome = paired::paired_outcome(&runs, &failures, &metas, current, info, &cfg)?;
    outcome.current.binary = this_binary();
    let action = BaselineAction::Compared {
        path: match &a.against {
            Some(rev) => format!("{rev} (paired, built from git)"),
            None => format!("{} (paired)", bin.display()),
        },
    };
    Ok(Paired::Done(Box::new(PairedDone {
        outcome,
        action,
        failures,
    })))
}

#[allow(clippy::too_many_arguments)]
fn self_check(
    names: &[String],
    plan: &PairedPlan,
    sides: &mut Sides<'_>,
    work: &Path,
    metas: &[paired::TestMeta],
    current: PerfTestSuite,
    info: RunInfo,
    cfg: &CompareConfig,
) -> anyhow::Result<Paired> {
    let spins = paired::SELF_CHECK_SPINS;
    eprintln!(
        "self-check: {} tests, this build paired with itself, injected slowdowns {:?} %…",
        names.len(),
        spins
    );
    let scenarios = paired::run_self_check(names, plan, &spins, sides, work, &mut NoObserver);
    let mut outcomes = Vec::new();
    for s in &scenarios {
        outcomes.push(paired::paired_outcome(
            &s.runs,
            &s.failures,
            metas,
            current.clone(),
            info.clone(),
            cfg,
        )?);
    }
    let comparisons: Vec<_> = outcomes.iter().map(|o| o.comparison.clone()).collect();
    let notes = paired::self_check_notes(&spins, &comparisons);
    let mut first = outcomes
        .into_iter()
        .next()
        .context("no self-check scenario ran")?;
    first.current.settings.notes.extend(notes);
    let failures = scenarios
        .into_iter()
        .next()
        .map(|s| s.failures)
        .unwrap_or_default();
    Ok(Paired::Done(Box::new(PairedDone {
        outcome: first,
        action: BaselineAction::Compared {
            path: "this build (self-check, A/A)".into(),
        },
        failures,
    })))
}
