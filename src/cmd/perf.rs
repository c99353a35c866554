//! `guestctl perf …`: the performance validation commands.
//!
//! `validate` runs the standard suite, writes `current.json` and the reports, and
//! creates or compares the baseline; `compare` compares two results files; `bench`
//! measures any external command as a whole process; `baseline accept|show` manage
//! the baseline; `report` renders the last `report.json` again (e.g. as GitHub
//! annotations); `history` shows a test's trend with its change points. Every
//! validate run is appended to `history.jsonl` and rendered into `report.html`
//! (guestctl-dashboard). Exit status: 0 nothing regressed, 2 a regression, 1 an error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cmd::chatter;
use guestctl_perf::measure::{Observer, WallClock};
use guestctl_perf::report::{github_annotations, markdown_report, terminal_output, TableStyle};
use guestctl_perf::store::{self, ResultsDir};
use guestctl_perf::{
    compare_runs, BaselineAction, CompareConfig, Options, PerfError, PerfTestSuite, Report,
    RunPlan, SuiteConfig, Targets, EXIT_ERROR,
};

/// Default results directory, relative to the working directory.
const DEFAULT_RESULTS_DIR: &str = "performance-results";
/// Default targets file, relative to the working directory.
const DEFAULT_TARGETS: &str = "perf-targets.toml";
/// Default regression threshold of `--metric instructions`, in percent.
const DEFAULT_INSTRUCTIONS_THRESHOLD: f64 = 1.0;
/// Subdirectory of the results directory for `--metric instructions` (its own
/// baseline, current run, reports and history).
const INSTRUCTIONS_SUBDIR: &str = "instructions";

/// The terminal table's layout, for the commands that print one.
#[derive(clap::Args)]
pub struct TableArgs {
    /// Every column (N, mean, min, max, p95, CV, memory, target) instead of the
    /// compact five (test, median, 95% CI, change, verdict).
    #[arg(long)]
    wide: bool,
}

impl TableArgs {
    /// The layout, for the terminal on stdout (its width when it is one).
    fn style(&self) -> TableStyle {
        TableStyle {
            wide: self.wide,
            width: comfy_table::Table::new().width(),
        }
    }
}

/// Output formats of reports (JSON is `--json`, on every command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for the terminal.
    Terminal,
    /// The Markdown report.
    Markdown,
    /// GitHub Actions `::warning::` annotations for regressions.
    Github,
}

/// Subcommands of `guestctl perf`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run the standard suite, write current.json and the reports, and create or
    /// compare the baseline. Exit 0: no regression; 2: a regression; 1: an error.
    Validate(ValidateArgs),
    /// Compare two results files (exit 2 when CURRENT regressed against BASELINE).
    Compare(CompareArgs),
    /// Benchmark commands as whole processes, like hyperfine: mean ± σ, user and
    /// system time, the relative summary of several commands.
    Bench(crate::cmd::bench::BenchArgs),
    /// Manage the baseline.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Render the last report.json again, in any format.
    Report(ReportArgs),
    /// Show the history of validate runs: every test's trend, or one test's runs
    /// with the change points detected in them.
    History(HistoryArgs),
    /// Internal: run one standard-suite test's routine (setup, warm-up, then the
    /// measured iterations through callgrind's markers); used by `validate --metric
    /// instructions`, which runs it under valgrind.
    #[command(name = "run-routine", hide = true)]
    RunRoutine(RunRoutineArgs),
}

/// What `perf validate` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Wall-clock time, with memory per iteration (counting allocator).
    Time,
    /// Instructions executed, under valgrind's callgrind (deterministic; default
    /// threshold 1%). Results go to RESULTS_DIR/instructions/.
    Instructions,
}

/// Arguments of the hidden `perf run-routine`.
#[derive(clap::Args)]
pub struct RunRoutineArgs {
    /// The standard-suite test.
    test: String,
    /// Measured iterations.
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Warm-up iterations (not measured).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
}

/// Exports for existing dashboards, shared by `validate` and `compare`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Also write Bencher Metric Format JSON here.
    #[arg(long, value_name = "PATH")]
    bmf: Option<PathBuf>,
    /// Also write github-action-benchmark `customSmallerIsBetter` JSON here.
    #[arg(long, value_name = "PATH")]
    github_benchmark: Option<PathBuf>,
    /// Also write JUnit XML here (a regression is a failure; a missed target too
    /// with --fail-on-target-miss).
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
}

impl ExportArgs {
    fn write(&self, report: &Report) -> anyhow::Result<()> {
        if let Some(p) = &self.bmf {
            store::write_atomic(p, &guestctl_dashboard::bmf_json(&report.run))?;
        }
        if let Some(p) = &self.github_benchmark {
            store::write_atomic(p, &guestctl_dashboard::github_benchmark_json(&report.run))?;
        }
        if let Some(p) = &self.junit {
            let xml = guestctl_dashboard::junit_xml(report);
            store::write_atomic(p, xml.as_bytes())?;
        }
        Ok(())
    }
}

/// Arguments of `perf history`.
#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The test to show (default: an overview of every test).
    test: Option<String>,
    /// Results directory holding history.jsonl.
    #[arg(long, default_value = DEFAULT_RESULTS_DIR)]
    results_dir: PathBuf,
    /// Print JSON: per test its points (commit, time, median, interval) and the
    /// change points detected in them.
    #[arg(long)]
    json: bool,
}

/// Arguments of `perf validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// A missed target fails the run (exit 2, a JUnit failure, a GitHub error);
    /// by default a missed target is a warning everywhere.
    #[arg(long)]
    fail_on_target_miss: bool,
    /// Measured iterations per test (at least 10 recommended).
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Warm-up iterations per test, discarded.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Regression threshold in percent (default: perf-targets.toml's, else 5).
    #[arg(long)]
    threshold: Option<f64>,
    /// Results directory.
    #[arg(long, default_value = DEFAULT_RESULTS_DIR)]
    results_dir: PathBuf,
    /// Targets file (a missing file means no targets).
    #[arg(long, default_value = DEFAULT_TARGETS)]
    targets: PathBuf,
    /// Only run tests whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Print the JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    table: TableArgs,
    /// What to measure: wall-clock time (and memory), or instructions under callgrind.
    #[arg(long, value_enum, default_value_t = Metric::Time)]
    metric: Metric,
    /// With --metric instructions: also run the scaling points above its cap
    /// (image_mib above 100, num_packages above 3000), which are otherwise skipped
    /// and listed as skipped in the reports.
    #[arg(long)]
    all_scaling_points: bool,
    /// With --metric instructions: tests measured at once, each in its own callgrind
    /// process (default: the number of cores). Counts do not depend on the load.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Do not count allocations (no memory figures are recorded).
    #[arg(long)]
    no_memory: bool,
    /// Also profile each test (after its measurement) and write one flamegraph SVG per
    /// test under RESULTS_DIR/flamegraphs/, linked from report.html.
    #[arg(long)]
    flamegraph: bool,
    /// Also run a peer tool on the same kind of disk and report it side by side
    /// (skipped, with a note in the report, when the peer is not installed).
    #[arg(long, value_enum)]
    peer: Option<PeerTool>,
    /// Measured runs per tool of the peer comparison (virt-inspector takes seconds
    /// to a minute per run).
    #[arg(long, default_value_t = 3)]
    peer_runs: usize,
    /// Run libguestfs with `LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg`
    /// (software emulation, for machines where KVM is missing or broken).
    #[arg(long)]
    peer_force_tcg: bool,
    #[command(flatten)]
    export: ExportArgs,
}

/// Peer tools `perf validate --peer` can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PeerTool {
    /// libguestfs's `virt-inspector`.
    Libguestfs,
}

/// Runs the peer comparison into `results`, or notes why it was skipped.
fn run_peer(a: &ValidateArgs, results: &mut PerfTestSuite) -> anyhow::Result<()> {
    let Some(PeerTool::Libguestfs) = a.peer else {
        return Ok(());
    };
    let Some(virt_inspector) = guestctl_perf::peer::find_virt_inspector() else {
        let note = guestctl_perf::peer::skipped_note();
        chatter::note(format!("note: {note}"));
        results.add_note(note);
        return Ok(());
    };
    if a.peer_runs == 0 {
        bail!("--peer-runs must be at least 1");
    }
    let dir = tempfile::Builder::new()
        .prefix("guestctl-peer-")
        .tempdir()
        .context("creating a temporary directory for the peer disks")?;
    let disk = dir.path().join("ubuntu-small.img");
    guestctl_mockdisk::MockDiskBuilder::new()
        .disk_type(guestctl_mockdisk::MockDiskType::Small)
        .os_type("ubuntu")
        .hostname("perf-vm")
        .num_files(100)
        .num_packages(200)
        .seed(guestctl_perf::standard::SUITE_SEED)
        .write_manifest(false)
        .build(&disk)
        .with_context(|| format!("generating the peer disk {}", disk.display()))?;
    let plan = guestctl_perf::peer::PeerPlan {
        guestctl: std::env::current_exe().context("locating the guestctl executable")?,
        virt_inspector,
        disks: vec![disk],
        runs: a.peer_runs,
        warmup: 0,
        force_tcg: a.peer_force_tcg,
    };
    let visible = !a.json && chatter::progress_allowed();
    let mut progress = Progress::new((2 * a.peer_runs) as u64, visible);
    let backend = guestctl_perf::peer::Backend::detect(a.peer_force_tcg);
    chatter::note(format!(
        "peer: running virt-inspector ({} backend) {} times; this takes a while…",
        backend.name(),
        a.peer_runs
    ));
    let peer = guestctl_perf::peer::run_peer(&plan, &Options::default(), &mut progress);
    progress.bar.finish_and_clear();
    for r in peer.context("running the libguestfs peer comparison")? {
        results.push(r);
    }
    Ok(())
}

/// Arguments of `perf compare`.
#[derive(clap::Args)]
pub struct CompareArgs {
    /// A missed target fails the run (exit 2, a JUnit failure, a GitHub error);
    /// by default a missed target is a warning everywhere.
    #[arg(long)]
    fail_on_target_miss: bool,
    /// The baseline results file.
    baseline: PathBuf,
    /// The current results file.
    current: PathBuf,
    /// Regression threshold in percent (default: perf-targets.toml's, else 5).
    #[arg(long)]
    threshold: Option<f64>,
    /// Targets file, for per-test thresholds.
    #[arg(long, default_value = DEFAULT_TARGETS)]
    targets: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,
    /// Print the JSON report instead.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    table: TableArgs,
    /// Also write the self-contained HTML report here.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    #[command(flatten)]
    export: ExportArgs,
}

/// `perf baseline` subcommands.
#[derive(clap::Subcommand)]
pub enum BaselineCommand {
    /// Make a results file (default: current.json) the baseline, keeping the
    /// previous one under baselines/.
    Accept {
        /// The results file to accept.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Accept only when nothing regressed and no test went missing against the
        /// current baseline (for CI on the main branch); otherwise exit 2.
        #[arg(long)]
        if_no_regressions: bool,
        /// Targets file, for per-test thresholds (with --if-no-regressions).
        #[arg(long, default_value = DEFAULT_TARGETS)]
        targets: PathBuf,
        /// Results directory.
        #[arg(long, default_value = DEFAULT_RESULTS_DIR)]
        results_dir: PathBuf,
    },
    /// Show the baseline.
    Show {
        /// Results directory.
        #[arg(long, default_value = DEFAULT_RESULTS_DIR)]
        results_dir: PathBuf,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        table: TableArgs,
    },
}

/// Arguments of `perf report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Results directory holding report.json.
    #[arg(long, default_value = DEFAULT_RESULTS_DIR)]
    results_dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    format: Format,
    /// Print the JSON report instead.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    table: TableArgs,
}

/// Runs a `guestctl perf` subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Validate(a) => validate(a),
        Command::Compare(a) => compare(a),
        Command::Bench(a) => crate::cmd::bench::bench(a),
        Command::Baseline(BaselineCommand::Accept {
            from,
            results_dir,
            if_no_regressions,
            targets,
        }) => accept(from, results_dir, if_no_regressions, &targets),
        Command::Baseline(BaselineCommand::Show {
            results_dir,
            json,
            table,
        }) => show(results_dir, json, table.style()),
        Command::Report(a) => report(a),
        Command::History(a) => history(a),
        Command::RunRoutine(a) => run_routine(a),
    }
}

fn run_routine(a: RunRoutineArgs) -> anyhow::Result<ExitCode> {
    guestctl_perf::callgrind::run_named(
        guestctl_perf::standard::standard_suite(),
        &a.test,
        a.warmup,
        a.iterations,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Measures the suite's instruction counts, each test in a child process of this
/// binary under callgrind, `jobs` tests at a time (instruction counts do not depend
/// on the machine's load, so running tests side by side changes no figure).
fn run_instructions(
    suite: guestctl_perf::Suite,
    results: &mut PerfTestSuite,
    plan: RunPlan,
    warmup: usize,
    jobs: usize,
    progress: &mut Progress,
) -> anyhow::Result<Vec<guestctl_perf::suite::Failure>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let exe =
        std::env::current_exe().context("finding the guestctl binary to run under callgrind")?;
    let runner = guestctl_perf::callgrind::Runner::new(exe)?;
    let work: Vec<(String, usize)> = suite
        .names()
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), suite.iterations_of(i, plan)))
        .collect();
    let next = AtomicUsize::new(0);
    let bar = progress.bar.clone();
    let mut measured: std::collections::HashMap<String, Result<Vec<f64>, PerfError>> =
        std::collections::HashMap::new();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.clamp(1, work.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    while let Some((name, iterations)) =
                        work.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        bar.set_message(name.clone());
                        out.push((name.clone(), runner.measure(name, *iterations, warmup)));
                        bar.inc((*iterations + warmup) as u64);
                    }
                    out
                })
            })
            .collect();
        for w in workers {
            match w.join() {
                Ok(done) => measured.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    // Recorded in the suite's order, from the counts measured above.
    Ok(suite.run_external(
        results,
        plan,
        guestctl_perf::Unit::Instructions,
        "callgrind_instructions",
        progress,
        &mut |name, _| {
            measured.remove(name).unwrap_or_else(|| {
                Err(PerfError::operation(format!(
                    "test {name} was not measured"
                )))
            })
        },
    ))
}

fn check_threshold(t: Option<f64>) -> anyhow::Result<()> {
    if let Some(t) = t {
        if !(t.is_finite() && (0.0..100.0).contains(&t)) {
            bail!("--threshold must be a percentage in [0, 100), got {t}");
        }
    }
    Ok(())
}

/// Prints `report` in `format` (JSON when `json`); a terminal table's diagnostics go
/// to stderr, after `extra` lines appended to its results.
fn print_report(
    report: &Report,
    format: Format,
    json: bool,
    style: TableStyle,
    extra: &str,
) -> anyhow::Result<()> {
    if json {
        return print_verdict(&report.to_json()?);
    }
    match format {
        Format::Terminal => {
            let out = terminal_output(report, style);
            print_verdict(format!("{}{extra}", out.results).as_bytes())?;
            eprint!("{}", out.diagnostics);
            Ok(())
        }
        Format::Markdown => print_verdict(markdown_report(report).as_bytes()),
        Format::Github => print_verdict(github_annotations(report).as_bytes()),
    }
}

fn print(bytes: &[u8]) -> anyhow::Result<()> {
    crate::cmd::write_stdout(bytes).context("writing to stdout")
}

/// [`print()`] for the commands whose exit status is the verdict (`validate`,
/// `compare`, `report`): a reader that goes away early does not turn a regression
/// (status 2) into success.
fn print_verdict(bytes: &[u8]) -> anyhow::Result<()> {
    crate::cmd::write_stdout_keep_status(bytes).context("writing to stdout")
}

/// A progress bar over all iterations of the suite, on stderr when it is a terminal.
pub struct Progress {
    /// The bar (hidden when not visible).
    pub bar: indicatif::ProgressBar,
}

impl Progress {
    /// A bar over `total` steps, drawn when `visible`.
    pub fn new(total: u64, visible: bool) -> Progress {
        let bar = if visible {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                b.set_style(style);
            }
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress { bar }
    }
}

impl Observer for Progress {
    fn test_started(&mut self, name: &str, _warmup: usize, _iterations: usize) {
        self.bar.set_message(name.to_string());
    }
    fn iteration_finished(&mut self, _name: &str, _warmup: bool) {
        self.bar.inc(1);
    }
    fn test_failed(&mut self, name: &str, error: &PerfError) {
        self.bar
            .suspend(|| eprintln!("error: test {name} failed: {error}"));
    }
}

fn validate(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    check_threshold(a.threshold)?;
    if a.iterations == 0 {
        bail!("--iterations must be at least 1 (10 or more recommended)");
    }
    if a.iterations.saturating_add(a.warmup) > guestctl_perf::measure::MAX_ITERATIONS {
        bail!(
            "--iterations plus --warmup must not exceed {}",
            guestctl_perf::measure::MAX_ITERATIONS
        );
    }
    let instructions = a.metric == Metric::Instructions;
    if instructions && a.flamegraph {
        bail!("--flamegraph profiles wall-clock time; run it without --metric instructions");
    }
    // Instruction counts are deterministic: 1% by default, and no per-test time
    // thresholds or targets apply.
    let targets = if instructions {
        Targets::default()
    } else {
        Targets::load_or_default(&a.targets)?
    };
    let threshold = match (a.threshold, instructions) {
        (Some(t), _) => t,
        (None, true) => DEFAULT_INSTRUCTIONS_THRESHOLD,
        (None, false) => targets.default_threshold(),
    };
    let results_dir = if instructions {
        a.results_dir.join(INSTRUCTIONS_SUBDIR)
    } else {
        a.results_dir.clone()
    };
    if instructions {
        // Fail fast, before taking the lock, when valgrind is missing.
        guestctl_perf::callgrind::find_valgrind()?;
    }
    let rd = ResultsDir::new(&results_dir);
    let _lock = rd.lock(|p| {
        chatter::note(format!(
            "waiting for another performance run to finish (lock {})…",
            p.display()
        ))
    })?;
    // Read the baseline before measuring: a corrupt one fails fast and is never
    // overwritten.
    let baseline = rd.load_baseline()?;

    if a.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    if !instructions && (a.jobs.is_some() || a.all_scaling_points) {
        bail!(
            "--jobs and --all-scaling-points apply to --metric instructions (wall-clock tests \
             run one at a time, every scaling point included)"
        );
    }
    let mut suite = guestctl_perf::standard::standard_suite();
    if let Some(f) = &a.filter {
        suite = suite.filter(f);
        if suite.is_empty() {
            bail!("no test name contains {f:?}");
        }
    }
    // The instruction metric's cap (docs/perf-methodology.md): the largest scaling
    // points are skipped, and said to be in every report.
    let mut skipped = Vec::new();
    if instructions && !a.all_scaling_points {
        (suite, skipped) = guestctl_perf::standard::cap_for_instructions(suite);
        if suite.is_empty() {
            bail!(
                "every test selected is a scaling point above the instruction metric's cap; \
                 add --all-scaling-points to measure them"
            );
        }
    }
    let plan = RunPlan {
        iterations: a.iterations,
    };
    let total: usize = (0..suite.len())
        .map(|i| suite.iterations_of(i, plan) + a.warmup)
        .sum();
    let visible = !a.json && chatter::progress_allowed();
    let mut progress = Progress::new(total as u64, visible);
    let mut results = PerfTestSuite::with_config(SuiteConfig {
        warmup: a.warmup,
        options: Options::default(),
        targets: targets.clone(),
    });
    if !skipped.is_empty() {
        let list: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        results.add_note(format!(
            "skipped under --metric instructions, above its cap (--all-scaling-points runs \
             them): {}",
            list.join("; ")
        ));
    }
    let mut flamegraphs: Vec<(String, String)> = Vec::new();
    let failures = if instructions {
        let jobs = a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        run_instructions(suite, &mut results, plan, a.warmup, jobs, &mut progress)?
    } else {
        // Memory per iteration: the counting allocator of main.rs, on for the run.
        let was = guestctl_perf::memory::set_counting(!a.no_memory);
        let bar = progress.bar.clone();
        // At least as many calls as measured iterations (and 300 ms): operations that
        // mostly wait for child processes need them to collect samples.
        let mut after = |name: &str, routine: &mut dyn guestctl_perf::Routine| {
            if !a.flamegraph {
                return;
            }
            let counting = guestctl_perf::memory::set_counting(false);
            let rel = guestctl_dashboard::flamegraph_path(name);
            let written = guestctl_dashboard::profile_routine(name, a.iterations, routine)
                .map_err(anyhow::Error::from)
                .and_then(|svg| {
                    let path = rd.root().join(&rel);
                    if let Some(d) = path.parent() {
                        std::fs::create_dir_all(d)
                            .with_context(|| format!("creating {}", d.display()))?;
                    }
                    store::write_atomic(&path, &svg)?;
                    Ok(())
                });
            guestctl_perf::memory::set_counting(counting);
            match written {
                Ok(()) => flamegraphs.push((name.to_string(), rel)),
                Err(e) => bar.suspend(|| eprintln!("warning: no flamegraph for {name}: {e:#}")),
            }
        };
        let f = suite.run_with(
            &mut results,
            plan,
            &mut WallClock,
            &mut progress,
            &mut after,
        );
        guestctl_perf::memory::set_counting(was);
        f
    };
    progress.bar.finish_and_clear();
    if !instructions {
        run_peer(&a, &mut results)?;
    } else if a.peer.is_some() {
        let note = "peer comparison skipped: it measures wall-clock time, not instructions";
        chatter::note(format!("note: {note}"));
        results.add_note(note);
    }

    let run = results.to_run();
    store::write_atomic(
        &rd.current_path(),
        &guestctl_perf::report::to_json_bytes(&run)?,
    )?;
    let hist = guestctl_dashboard::History::open(rd.root());
    hist.append_run(&run, guestctl_dashboard::EntryKind::Run)
        .context("appending to the performance history")?;
    let (action, comparison) = match &baseline {
        Some(b) => {
            let cfg = CompareConfig {
                threshold_pct: threshold,
                targets,
                options: Options::default(),
            };
            (
                BaselineAction::Compared {
                    path: rd.baseline_path().display().to_string(),
                },
                Some(compare_runs(&run, b, &cfg)),
            )
        }
        None if failures.is_empty() => {
            store::write_atomic(
                &rd.baseline_path(),
                &guestctl_perf::report::to_json_bytes(&run)?,
            )?;
            hist.append_run(&run, guestctl_dashboard::EntryKind::Baseline)
                .context("recording the new baseline in the history")?;
            (
                BaselineAction::Created {
                    path: rd.baseline_path().display().to_string(),
                },
                None,
            )
        }
        None => (BaselineAction::None, None),
    };
    let mut report = Report::new(run, action, comparison);
    report.fail_on_target_miss = a.fail_on_target_miss;
    store::write_atomic(&rd.report_md_path(), markdown_report(&report).as_bytes())?;
    store::write_atomic(&rd.report_json_path(), &report.to_json()?)?;
    let read = hist.entries().context("reading the performance history")?;
    for w in &read.warnings {
        eprintln!("warning: {w}");
    }
    let html_path = rd.root().join(guestctl_dashboard::REPORT_HTML_FILE);
    let html = guestctl_dashboard::render_html(&guestctl_dashboard::HtmlInput {
        current: &report.run,
        baseline: baseline.as_ref(),
        comparison: report.comparison.as_ref(),
        history: &read.entries,
        flamegraphs: &flamegraphs,
    });
    store::write_atomic(&html_path, html.as_bytes())?;
    a.export.write(&report)?;

    let written = format!(
        "results: {}, report: {} and {}\n",
        rd.current_path().display(),
        rd.report_md_path().display(),
        html_path.display()
    );
    print_report(&report, Format::Terminal, a.json, a.table.style(), &written)?;
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("error: {}", f.error);
        }
        if baseline.is_none() {
            eprintln!("no baseline was created because tests failed");
        }
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn load(path: &Path) -> anyhow::Result<guestctl_perf::RunResults> {
    Ok(store::load_results(
        path,
        "give the path of a results file written by `guestctl perf validate` or `guestctl perf bench --output`",
    )?)
}

/// A results file, or `history:KEY` (`latest`, a commit prefix or a date prefix) for a
/// run or accepted baseline kept in `performance-results/history.jsonl`.
fn load_or_history(path: &Path) -> anyhow::Result<guestctl_perf::RunResults> {
    match path.to_str().and_then(|s| s.strip_prefix("history:")) {
        Some(key) => {
            let read = guestctl_dashboard::History::open(DEFAULT_RESULTS_DIR)
                .entries()
                .context("reading performance-results/history.jsonl")?;
            Ok(read.find_baseline(key)?)
        }
        None => load(path),
    }
}

fn compare(a: CompareArgs) -> anyhow::Result<ExitCode> {
    check_threshold(a.threshold)?;
    let targets = Targets::load_or_default(&a.targets)?;
    let threshold = a.threshold.unwrap_or_else(|| targets.default_threshold());
    let baseline = load_or_history(&a.baseline)?;
    let current = load_or_history(&a.current)?;
    let cfg = CompareConfig {
        threshold_pct: threshold,
        targets,
        options: Options::default(),
    };
    let comparison = compare_runs(&current, &baseline, &cfg);
    let mut report = Report::new(
        current,
        BaselineAction::Compared {
            path: a.baseline.display().to_string(),
        },
        Some(comparison),
    );
    report.fail_on_target_miss = a.fail_on_target_miss;
    if let Some(p) = &a.html {
        let html = guestctl_dashboard::render_html(&guestctl_dashboard::HtmlInput {
            current: &report.run,
            baseline: Some(&baseline),
            comparison: report.comparison.as_ref(),
            history: &[],
            flamegraphs: &[],
        });
        store::write_atomic(p, html.as_bytes())?;
    }
    a.export.write(&report)?;
    print_report(&report, a.format, a.json, a.table.style(), "")?;
    Ok(ExitCode::from(report.exit_code()))
}

fn accept(
    from: Option<PathBuf>,
    results_dir: PathBuf,
    if_no_regressions: bool,
    targets: &Path,
) -> anyhow::Result<ExitCode> {
    let rd = ResultsDir::new(&results_dir);
    let _lock = rd.lock(|p| {
        chatter::note(format!(
            "waiting for a running validation (lock {})…",
            p.display()
        ))
    })?;
    let from = from.unwrap_or_else(|| rd.current_path());
    let candidate = load(&from)?;
    if if_no_regressions {
        if let Some(baseline) = rd.load_baseline()? {
            let targets = Targets::load_or_default(targets)?;
            let cfg = CompareConfig {
                threshold_pct: targets.default_threshold(),
                targets,
                options: Options::default(),
            };
            let cmp = compare_runs(&candidate, &baseline, &cfg);
            if !guestctl_dashboard::should_accept(&cmp) {
                eprintln!("baseline NOT updated:");
                for r in guestctl_dashboard::refusal_reasons(&cmp) {
                    eprintln!("  - {r}");
                }
                return Ok(ExitCode::from(guestctl_perf::EXIT_REGRESSION));
            }
        }
    }
    let accepted = rd.accept(&from)?;
    let history = guestctl_dashboard::History::open(&results_dir);
    history
        .append_run(&candidate, guestctl_dashboard::EntryKind::Baseline)
        .context("recording the accepted baseline in the history")?;
    let history_path = history.path().to_path_buf();
    let mut text = format!(
        "baseline updated: {} (from {})\n",
        accepted.baseline.display(),
        from.display()
    );
    if let Some(prev) = &accepted.archived {
        text.push_str(&format!("previous baseline kept at {}\n", prev.display()));
    }
    // Every file the accept changed: the baseline, the one it replaced, the history.
    let mut files = vec![accepted.baseline.display().to_string()];
    files.extend(accepted.archived.iter().map(|p| p.display().to_string()));
    files.push(history_path.display().to_string());
    text.push_str(&format!(
        "commit them with: git add {} && git commit -m \"Update performance baseline\"\n",
        files.join(" ")
    ));
    print(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn show(results_dir: PathBuf, json: bool, style: TableStyle) -> anyhow::Result<ExitCode> {
    let rd = ResultsDir::new(results_dir);
    let Some(baseline) = rd.load_baseline()? else {
        bail!(
            "{} does not exist: run ./scripts/validate-performance.sh to create it",
            rd.baseline_path().display()
        );
    };
    if json {
        print(&guestctl_perf::report::to_json_bytes(&baseline)?)?;
    } else {
        let mut text = format!(
            "baseline {}: commit {}, {}\nmachine: {}\n",
            rd.baseline_path().display(),
            guestctl_perf::report::short_commit(&baseline.git_commit),
            guestctl_perf::report::human_timestamp(&baseline.timestamp),
            baseline.machine.describe()
        );
        let report = Report::new(baseline, BaselineAction::None, None);
        let out = terminal_output(&report, style);
        text.push_str(&out.results);
        print(text.as_bytes())?;
        eprint!("{}", out.diagnostics);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let rd = ResultsDir::new(a.results_dir);
    let path = rd.report_json_path();
    let bytes = store::read_limited(&path).map_err(|e| {
        anyhow::anyhow!("{e}: run `guestctl perf validate` first to produce a report")
    })?;
    let report = Report::from_json(&bytes, &path)?;
    print_report(&report, a.format, a.json, a.table.style(), "")?;
    Ok(ExitCode::from(report.exit_code()))
}

/// `perf history --json`: `{"tests": [{"test", "points": [...], "change_points":
/// [...]}]}` for one test or every test.
fn history_json(
    read: &guestctl_dashboard::HistoryRead,
    test: Option<&str>,
    h: &guestctl_dashboard::History,
) -> anyhow::Result<ExitCode> {
    let names = match test {
        Some(t) if read.series(t).is_empty() => bail!(
            "no run in {} has a test named {t:?}; known tests: {}",
            h.path().display(),
            read.test_names().join(", ")
        ),
        Some(t) => vec![t.to_string()],
        None => read.test_names(),
    };
    let mut tests = Vec::new();
    for name in names {
        let series = read.series(&name);
        let change_points = guestctl_dashboard::detect(&series)?;
        tests.push(serde_json::json!({
            "test": name,
            "points": series,
            "change_points": change_points,
        }));
    }
    print(&guestctl_perf::report::to_json_bytes(
        &serde_json::json!({ "tests": tests }),
    )?)?;
    Ok(ExitCode::SUCCESS)
}

fn history(a: HistoryArgs) -> anyhow::Result<ExitCode> {
    let h = guestctl_dashboard::History::open(&a.results_dir);
    let read = h
        .entries()
        .with_context(|| format!("reading {}", h.path().display()))?;
    for w in &read.warnings {
        eprintln!("warning: {w}");
    }
    if read.entries.is_empty() {
        bail!(
            "{} holds no runs yet: run ./scripts/validate-performance.sh (or guestctl perf validate) first",
            h.path().display()
        );
    }
    if a.json {
        return history_json(&read, a.test.as_deref(), &h);
    }
    match &a.test {
        Some(t) => {
            let series = read.series(t);
            if series.is_empty() {
                bail!(
                    "no run in {} has a test named {t:?}; known tests: {}",
                    h.path().display(),
                    read.test_names().join(", ")
                );
            }
            let cps = guestctl_dashboard::detect(&series)?;
            print(guestctl_dashboard::render_history_terminal(t, &series, &cps).as_bytes())?;
        }
        None => print(guestctl_dashboard::render_history_overview(&read).as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
