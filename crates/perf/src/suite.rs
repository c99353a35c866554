//! The [`PerfTestSuite`] of docs/requirements.md (run tests, report, compare with a baseline), and the
//! registry of named operations ([`Suite`], [`Operation`]) that `guestctl perf
//! validate` runs.

use std::path::Path;
use std::time::Duration;

use guestctl_stats::Options;

use crate::compare::{compare_runs, BaselineComparison, CompareConfig};
use crate::error::PerfError;
use crate::fingerprint::{git_commit, now_rfc3339, Fingerprint};
use crate::measure::{
    analyse, check_iterations, run_routine, Measurement, NoObserver, Observer, RawRun, Routine,
    WallClock,
};
use crate::record::{Params, RunResults, RunSettings, TestResult, RESULTS_FORMAT, SCHEMA_VERSION};
use crate::report::{markdown_results, BaselineAction, Report};
use crate::targets::Targets;

/// Default warm-up iterations (docs/requirements.md: discard the first).
pub const DEFAULT_WARMUP: usize = 1;

/// Settings of a [`PerfTestSuite`].
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Warm-up iterations run and discarded before each test's samples.
    pub warmup: usize,
    /// Statistics options.
    pub options: Options,
    /// Targets to check results against (empty: no checks).
    pub targets: Targets,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        SuiteConfig {
            warmup: DEFAULT_WARMUP,
            options: Options::default(),
            targets: Targets::default(),
        }
    }
}

/// A set of test results, filled by running tests: the API of docs/requirements.md.
///
/// ```
/// use std::time::{Duration, Instant};
/// use guestctl_perf::PerfTestSuite;
///
/// let mut suite = PerfTestSuite::new();
/// suite.run_test("sum", 10, || {
///     let start = Instant::now();
///     std::hint::black_box((0..1000u64).sum::<u64>());
///     start.elapsed()
/// })?;
/// suite.bench("sort", 10, || {
///     let mut v: Vec<u32> = (0..1000).rev().collect();
///     v.sort();
///     v
/// })?;
/// assert_eq!(suite.results().len(), 2);
/// assert!(suite.generate_report().contains("| sort | 10 |"));
/// # Ok::<(), guestctl_perf::PerfError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PerfTestSuite {
    config: SuiteConfig,
    results: Vec<TestResult>,
    measurement_name: Option<String>,
    /// Notes for the report (see [`PerfTestSuite::add_note`]).
    notes: Vec<String>,
    /// Header of a loaded run (kept so that a loaded baseline keeps its own).
    loaded: Option<(String, String, Fingerprint)>,
}

impl PerfTestSuite {
    /// An empty suite with default settings (1 warm-up iteration, no targets).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty suite with `config`.
    pub fn with_config(config: SuiteConfig) -> Self {
        PerfTestSuite {
            config,
            ..Self::default()
        }
    }

    /// The settings.
    pub fn config(&self) -> &SuiteConfig {
        &self.config
    }

    /// Runs `f` `warmup + iterations` times; `f` measures its own work and returns the
    /// duration (the form docs/requirements.md gives). The warm-up results are discarded.
    pub fn run_test<F>(
        &mut self,
        name: &str,
        iterations: usize,
        mut f: F,
    ) -> Result<&TestResult, PerfError>
    where
        F: FnMut() -> Duration,
    {
        check_iterations(name, iterations, self.config.warmup)?;
        for _ in 0..self.config.warmup {
            std::hint::black_box(f());
        }
        let samples: Vec<f64> = (0..iterations).map(|_| f().as_nanos() as f64).collect();
        let raw = RawRun {
            name: name.to_string(),
            params: Params::new(),
            unit: crate::record::Unit::Nanoseconds,
            warmup: self.config.warmup,
            samples,
            memory: None,
            peak_rss_bytes: None,
        };
        self.measurement_name
            .get_or_insert_with(|| "wall_clock".into());
        self.finish(raw, None, None)
    }

    /// Times `f` itself (wall clock) `iterations` times after the warm-up; its result
    /// goes through [`std::hint::black_box`] so the work is not optimised away.
    pub fn bench<R, F>(
        &mut self,
        name: &str,
        iterations: usize,
        mut f: F,
    ) -> Result<&TestResult, PerfError>
    where
        F: FnMut() -> R,
    {
        let mut routine = || {
            std::hint::black_box(f());
            Ok(())
        };
        self.run_with(
            name,
            Params::new(),
            iterations,
            &mut WallClock,
            &mut routine,
            &mut NoObserver,
        )
    }

    /// The general form: `routine` under `measurement`, with `params` recorded and
    /// `observer` told about progress.
    pub fn run_with(
        &mut self,
        name: &str,
        params: Params,
        iterations: usize,
        measurement: &mut dyn Measurement,
        routine: &mut dyn Routine,
        observer: &mut dyn Observer,
    ) -> Result<&TestResult, PerfError> {
        let raw = run_routine(
            name,
            params,
            iterations,
            self.config.warmup,
            measurement,
            routine,
            observer,
        )?;
        self.measurement_name
            .get_or_insert_with(|| measurement.name().to_string());
        let r = self.finish(raw, None, None);
        if let Ok(r) = &r {
            observer.test_finished(r);
        }
        r
    }

    fn finish(
        &mut self,
        raw: RawRun,
        operation: Option<String>,
        renamed_from: Option<String>,
    ) -> Result<&TestResult, PerfError> {
        let mut result = analyse(raw, &self.config.options)?;
        result.operation = operation;
        result.renamed_from = renamed_from;
        Ok(self.push(result))
    }

    /// Adds a finished result (from [`crate::process::bench_command`] or a loaded
    /// file), checking it against the targets; a result of the same name is replaced.
    pub fn push(&mut self, mut result: TestResult) -> &TestResult {
        if result.operation.is_none() {
            result.operation = self.config.targets.operation_of(&result);
        }
        result.target = self.config.targets.check(&result);
        let idx = match self.results.iter().position(|r| r.name == result.name) {
            Some(i) => {
                self.results[i] = result;
                i
            }
            None => {
                self.results.push(result);
                self.results.len() - 1
            }
        };
        &self.results[idx]
    }

    /// Adds a note the reports show under the run's header (e.g. that the peer
    /// comparison was skipped, and why).
    pub fn add_note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The results, in run order.
    pub fn results(&self) -> &[TestResult] {
        &self.results
    }

    /// The result named `name`.
    pub fn get(&self, name: &str) -> Option<&TestResult> {
        self.results.iter().find(|r| r.name == name)
    }

    /// The run as a results file: now, this commit and machine (or the header it was
    /// loaded with, see [`PerfTestSuite::from_run`]).
    pub fn to_run(&self) -> RunResults {
        let (timestamp, commit, machine) = self
            .loaded
            .clone()
            .unwrap_or_else(|| (now_rfc3339(), git_commit(), Fingerprint::current()));
        RunResults {
            schema_version: SCHEMA_VERSION,
            format: RESULTS_FORMAT.into(),
            timestamp,
            git_commit: commit,
            machine,
            settings: RunSettings {
                iterations: self
                    .results
                    .iter()
                    .map(|r| r.samples.len())
                    .max()
                    .unwrap_or(0),
                warmup: self.config.warmup,
                measurement: self
                    .measurement_name
                    .clone()
                    .unwrap_or_else(|| "wall_clock".into()),
                notes: self.notes.clone(),
            },
            tests: self.results.clone(),
            binary: None,
        }
    }

    /// A suite holding a loaded run (e.g. a baseline), keeping its header.
    pub fn from_run(run: RunResults) -> Self {
        PerfTestSuite {
            config: SuiteConfig {
                warmup: run.settings.warmup,
                ..SuiteConfig::default()
            },
            measurement_name: Some(run.settings.measurement.clone()),
            notes: run.settings.notes.clone(),
            loaded: Some((run.timestamp, run.git_commit, run.machine)),
            results: run.tests,
        }
    }

    /// The Markdown report of the results (header, results table, warnings, targets).
    pub fn generate_report(&self) -> String {
        markdown_results(&self.to_run())
    }

    /// Compares this (current) suite with `baseline` at `threshold_pct` percent.
    pub fn compare_with_baseline(
        &self,
        baseline: &PerfTestSuite,
        threshold_pct: f64,
    ) -> BaselineComparison {
        let cfg = CompareConfig {
            threshold_pct,
            targets: self.config.targets.clone(),
            options: self.config.options,
        };
        compare_runs(&self.to_run(), &baseline.to_run(), &cfg)
    }

    /// The full report of this suite against `baseline` (or none).
    pub fn report(&self, baseline: Option<&PerfTestSuite>, threshold_pct: f64) -> Report {
        let comparison = baseline.map(|b| self.compare_with_baseline(b, threshold_pct));
        let action = if comparison.is_some() {
            BaselineAction::Compared {
                path: "(in memory)".into(),
            }
        } else {
            BaselineAction::None
        };
        Report::new(self.to_run(), action, comparison)
    }
}

/// Prepares an operation in its own temporary directory and returns the routine to
/// measure (setup is not timed).
pub type Setup = Box<dyn FnOnce(&Path) -> Result<Box<dyn Routine>, PerfError>>;

/// A named test of a [`Suite`]: a setup and a measured routine, with parameters.
pub struct Operation {
    name: String,
    params: Params,
    operation: Option<String>,
    renamed_from: Option<String>,
    iterations: Option<usize>,
    setup: Setup,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("operation", &self.operation)
            .field("renamed_from", &self.renamed_from)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// An operation named `name`; `setup` receives a fresh temporary directory (removed
    /// after the test) and returns the routine to measure.
    pub fn new<S, R>(name: impl Into<String>, setup: S) -> Self
    where
        S: FnOnce(&Path) -> Result<R, PerfError> + 'static,
        R: Routine + 'static,
    {
        Operation {
            name: name.into(),
            params: Params::new(),
            operation: None,
            renamed_from: None,
            iterations: None,
            setup: Box::new(move |dir| setup(dir).map(|r| Box::new(r) as Box<dyn Routine>)),
        }
    }

    /// Records a parameter.
    pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.params.insert(key.into(), value.to_string());
        self
    }

    /// Sets the key of this test's targets in `perf-targets.toml`.
    pub fn operation(mut self, key: impl Into<String>) -> Self {
        self.operation = Some(key.into());
        self
    }

    /// Declares the test's former name, so its baseline is still compared.
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Some(old.into());
        self
    }

    /// Caps the iterations of this test (for expensive operations); the run's count
    /// applies when it is lower.
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.iterations = Some(n);
        self
    }

    /// The test name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The key of this test's targets in `perf-targets.toml`, when set.
    pub fn target_key(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The former name, when the test was renamed.
    pub fn former_name(&self) -> Option<&str> {
        self.renamed_from.as_deref()
    }

    /// Runs the setup in `dir` (which must outlive the routine) and returns the
    /// routine to measure: for running one test outside [`Suite::run`] (e.g. the
    /// hidden `guestctl perf run-routine` under callgrind, the criterion benches in
    /// `benches/`).
    pub fn into_routine(self, dir: &Path) -> Result<Box<dyn Routine>, PerfError> {
        let name = self.name;
        (self.setup)(dir).map_err(|e| e.with_context(&name))
    }
}

/// Called by [`Suite::run_with`] after each test's measurement, with the test's
/// routine while its temporary directory still exists (e.g. to profile it); not timed.
pub type AfterTest<'a> = &'a mut dyn FnMut(&str, &mut dyn Routine);

/// Measures one test outside this process: given the test name and its iteration
/// count, returns the samples (see [`Suite::run_external`]).
pub type ExternalMeasure<'a> = &'a mut dyn FnMut(&str, usize) -> Result<Vec<f64>, PerfError>;

/// How a [`Suite`] is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPlan {
    /// Measured iterations per test.
    pub iterations: usize,
}

/// A test that failed while the suite went on.
#[derive(Debug)]
pub struct Failure {
    /// Test name.
    pub name: String,
    /// Why.
    pub error: PerfError,
}

/// An ordered registry of operations; `guestctl perf validate` runs
/// [`crate::standard::standard_suite`].
#[derive(Debug, Default)]
pub struct Suite {
    ops: Vec<Operation>,
}

impl Suite {
    /// An empty suite.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation; a name already present is an error.
    pub fn push(&mut self, op: Operation) -> Result<(), PerfError> {
        if self.ops.iter().any(|o| o.name == op.name) {
            return Err(PerfError::invalid(format!(
                "the suite already has a test named {}",
                op.name
            )));
        }
        self.ops.push(op);
        Ok(())
    }

    /// Adds every operation of `other`.
    pub fn extend(&mut self, other: Suite) -> Result<(), PerfError> {
        other.ops.into_iter().try_for_each(|o| self.push(o))
    }

    /// Keeps the operations whose name contains `substr`.
    pub fn filter(mut self, substr: &str) -> Suite {
        self.ops.retain(|o| o.name.contains(substr));
        self
    }

    /// The test names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.ops.iter().map(|o| o.name.as_str()).collect()
    }

    /// The operations, in order.
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the suite is empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The iterations of every operation under `plan`, in order.
    fn caps(&self, plan: RunPlan) -> Vec<usize> {
        (0..self.ops.len())
            .map(|i| self.iterations_of(i, plan))
            .collect()
    }

    /// The iterations operation `i` will run under `plan`.
    pub fn iterations_of(&self, i: usize, plan: RunPlan) -> usize {
        self.ops
            .get(i)
            .and_then(|o| o.iterations)
            .map_or(plan.iterations, |cap| cap.min(plan.iterations))
    }

    /// Removes and returns the operation named `name`.
    pub fn take(&mut self, name: &str) -> Option<Operation> {
        let i = self.ops.iter().position(|o| o.name == name)?;
        Some(self.ops.remove(i))
    }

    /// Runs every operation into `into`: setup in a fresh temporary directory, then
    /// warm-up and measurement. A failing test is reported to `observer`, recorded in
    /// the returned list, and the suite goes on.
    pub fn run(
        self,
        into: &mut PerfTestSuite,
        plan: RunPlan,
        measurement: &mut dyn Measurement,
        observer: &mut dyn Observer,
    ) -> Vec<Failure> {
        self.run_with(into, plan, measurement, observer, &mut |_, _| {})
    }

    /// Records every test from samples measured elsewhere (`measure(name,
    /// iterations)`, e.g. instruction counts of a child process under callgrind), in
    /// `unit`, under the measurement name `measurement`; parameters, target keys and
    /// former names come from the registry. No setup runs in this process.
    pub fn run_external(
        self,
        into: &mut PerfTestSuite,
        plan: RunPlan,
        unit: crate::record::Unit,
        measurement: &str,
        observer: &mut dyn Observer,
        measure: ExternalMeasure<'_>,
    ) -> Vec<Failure> {
        let mut failures = Vec::new();
        let caps = self.caps(plan);
        for (op, iterations) in self.ops.into_iter().zip(caps) {
            let name = op.name.clone();
            observer.test_started(&name, into.config.warmup, iterations);
            let outcome = check_iterations(&name, iterations, into.config.warmup)
                .and_then(|_| measure(&name, iterations))
                .and_then(|samples| {
                    if samples.len() != iterations {
                        return Err(PerfError::operation(format!(
                            "test {name}: expected {iterations} samples, got {}",
                            samples.len()
                        )));
                    }
                    let raw = RawRun {
                        name: name.clone(),
                        params: op.params,
                        unit,
                        warmup: into.config.warmup,
                        samples,
                        memory: None,
                        peak_rss_bytes: None,
                    };
                    into.measurement_name
                        .get_or_insert_with(|| measurement.to_string());
                    into.finish(raw, op.operation, op.renamed_from).cloned()
                });
            report_outcome(outcome, name, observer, &mut failures);
        }
        failures
    }

    /// [`Suite::run`], calling `after(name, routine)` after each test's measurement
    /// (untimed, before the test's temporary directory is removed).
    pub fn run_with(
        self,
        into: &mut PerfTestSuite,
        plan: RunPlan,
        measurement: &mut dyn Measurement,
        observer: &mut dyn Observer,
        after: AfterTest<'_>,
    ) -> Vec<Failure> {
        let mut failures = Vec::new();
        let caps = self.caps(plan);
        // Machine drift is only meaningful against wall-clock time.
        let mut calibrator =
            (measurement.name() == "wall_clock").then(crate::drift::Calibrator::new);
        for (op, iterations) in self.ops.into_iter().zip(caps) {
            let name = op.name.clone();
            let outcome = (|| {
                let dir = crate::store::temp_dir("guestctl-perf-")?;
                let mut routine = (op.setup)(dir.path()).map_err(|e| e.with_context(&name))?;
                if let Some(c) = calibrator.as_mut() {
                    c.sample(crate::drift::CALIBRATION_RUNS);
                }
                let raw = run_routine(
                    &name,
                    op.params,
                    iterations,
                    into.config.warmup,
                    measurement,
                    routine.as_mut(),
                    observer,
                )?;
                let calibration = calibrator.as_mut().and_then(|c| {
                    c.sample(crate::drift::CALIBRATION_RUNS);
                    c.take_median()
                });
                after(&name, routine.as_mut());
                drop(routine);
                drop(dir);
                into.measurement_name
                    .get_or_insert_with(|| measurement.name().to_string());
                into.finish(raw, op.operation, op.renamed_from)?;
                let r = into
                    .results
                    .iter_mut()
                    .find(|r| r.name == name)
                    .ok_or_else(|| PerfError::invalid(format!("{name}: result not recorded")))?;
                r.calibration_ns = calibration;
                Ok(r.clone())
            })();
            report_outcome(outcome, name, observer, &mut failures);
        }
        failures
    }
}

/// Tells `observer` how a test ended and records a failure (the suite goes on).
fn report_outcome(
    outcome: Result<TestResult, PerfError>,
    name: String,
    observer: &mut dyn Observer,
    failures: &mut Vec<Failure>,
) {
    match outcome {
        Ok(r) => observer.test_finished(&r),
        Err(error) => {
            observer.test_failed(&name, &error);
            failures.push(Failure { name, error });
        }
    }
}
