//! Instruction counts under callgrind: the deterministic metric of `guestctl perf
//! validate --metric instructions`.
//!
//! The parent (`validate`) re-executes its own binary under
//! `valgrind --tool=callgrind` with the hidden subcommand `guestctl perf run-routine
//! NAME`, which prepares the named standard-suite test (setup, warm-up, untimed) and
//! then runs each measured iteration through [`measured_iteration`]. Callgrind is
//! told to write its counters out (`--dump-before`) when the marker functions
//! [`measured_iteration`] and [`iteration_end`] are entered, so each dump triggered by
//! [`iteration_end`] holds exactly one iteration's instructions — every thread's,
//! from the routine's start to its end — and nothing of the setup. No client requests
//! (and no unsafe code) are needed. The counts are Valgrind's `Ir` (instructions
//! executed), read from the `summary:`/`totals:` line of each dump file; they do not
//! move with machine load.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::PerfError;
use crate::measure::Routine;

/// Pattern of the function whose entry starts an iteration's dump part.
pub const BEGIN_PATTERN: &str = "*callgrind::measured_iteration*";
/// Pattern of the function whose entry ends an iteration's dump part.
pub const END_PATTERN: &str = "*callgrind::iteration_end*";

/// Runs `routine.run()` between the two markers callgrind dumps on. Not inlined, so
/// that the symbol exists for `--dump-before`.
#[inline(never)]
pub fn measured_iteration(routine: &mut dyn Routine) -> Result<(), PerfError> {
    let r = routine.run();
    iteration_end();
    r
}

/// The end marker (does nothing; `black_box` keeps the call).
#[inline(never)]
pub fn iteration_end() {
    std::hint::black_box(());
}

/// What the hidden subcommand runs: `warmup` plain iterations, then `iterations`
/// through [`measured_iteration`], each after an untimed `prepare()`.
pub fn run_iterations(
    routine: &mut dyn Routine,
    warmup: usize,
    iterations: usize,
) -> Result<(), PerfError> {
    for _ in 0..warmup {
        routine.prepare()?;
        routine.run()?;
    }
    for _ in 0..iterations {
        routine.prepare()?;
        measured_iteration(routine)?;
    }
    Ok(())
}

/// The hidden subcommand's work: sets up the test `name` of `suite` in a temporary
/// directory (removed afterwards), then [`run_iterations`].
pub fn run_named(
    mut suite: crate::suite::Suite,
    name: &str,
    warmup: usize,
    iterations: usize,
) -> Result<(), PerfError> {
    let names = suite.names().join(", ");
    let op = suite.take(name).ok_or_else(|| {
        PerfError::invalid(format!(
            "no test of the suite is named {name:?}; known: {names}"
        ))
    })?;
    let dir = crate::store::temp_dir("guestctl-perf-")?;
    let mut routine = op.into_routine(dir.path())?;
    run_iterations(routine.as_mut(), warmup, iterations).map_err(|e| e.with_context(name))?;
    drop(routine);
    drop(dir);
    Ok(())
}

/// Runs tests of a binary under callgrind, one child process per test, with the dump
/// files in a private temporary directory.
#[derive(Debug)]
pub struct Runner {
    valgrind: PathBuf,
    exe: PathBuf,
    work: tempfile::TempDir,
}

impl Runner {
    /// A runner of `exe perf run-routine` under the valgrind of [`find_valgrind`].
    pub fn new(exe: PathBuf) -> Result<Runner, PerfError> {
        let valgrind = find_valgrind()?;
        let work = crate::store::temp_dir("guestctl-callgrind-")?;
        Ok(Runner {
            valgrind,
            exe,
            work,
        })
    }

    /// [`measure_test`] of `test`, its dump files in a directory of their own
    /// (removed afterwards), so that several tests can be measured at once from
    /// different threads: instruction counts do not depend on the machine's load.
    pub fn measure(
        &self,
        test: &str,
        iterations: usize,
        warmup: usize,
    ) -> Result<Vec<f64>, PerfError> {
        let dir = tempfile::Builder::new()
            .prefix("test-")
            .tempdir_in(self.work.path())
            .map_err(|e| PerfError::io("creating a directory in", self.work.path(), e))?;
        measure_test(
            &self.valgrind,
            &self.exe,
            test,
            iterations,
            warmup,
            dir.path(),
        )
    }
}

/// The Debian package that provides valgrind.
pub const VALGRIND_PACKAGE: &str = "valgrind";

/// The valgrind program: `$GUESTCTL_VALGRIND`, else `valgrind` on `PATH`; an error
/// naming the Debian package when it is not installed.
pub fn find_valgrind() -> Result<PathBuf, PerfError> {
    valgrind_from(std::env::var_os("GUESTCTL_VALGRIND"))
}

/// [`find_valgrind`] with the value of `$GUESTCTL_VALGRIND` given (so tests need
/// not change the process's environment).
fn valgrind_from(chosen: Option<std::ffi::OsString>) -> Result<PathBuf, PerfError> {
    if let Some(p) = chosen {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(missing(&format!(
            "GUESTCTL_VALGRIND points to {}, which does not exist",
            p.display()
        )));
    }
    crate::process::which("valgrind")
        .ok_or_else(|| missing("valgrind is not installed (not found on PATH)"))
}

fn missing(why: &str) -> PerfError {
    PerfError::new(
        crate::error::ErrorKind::NotFound,
        format!(
            "--metric instructions needs valgrind's callgrind: {why}; install the Debian \
             package `{VALGRIND_PACKAGE}` (sudo apt-get install {VALGRIND_PACKAGE})"
        ),
    )
}

/// Counts the instructions of `iterations` iterations of the standard-suite test
/// `test`, running `exe perf run-routine` under callgrind with output files in
/// `workdir`. Returns one count per iteration, in order.
pub fn measure_test(
    valgrind: &Path,
    exe: &Path,
    test: &str,
    iterations: usize,
    warmup: usize,
    workdir: &Path,
) -> Result<Vec<f64>, PerfError> {
    let stem: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let out = workdir.join(format!("callgrind.{stem}.out"));
    let output = Command::new(valgrind)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--dump-before={BEGIN_PATTERN}"))
        .arg(format!("--dump-before={END_PATTERN}"))
        .arg("--dump-line=no")
        .arg(exe)
        .args(["perf", "run-routine", test])
        .arg(format!("--iterations={iterations}"))
        .arg(format!("--warmup={warmup}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| PerfError::operation(format!("cannot start {}: {e}", valgrind.display())))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        return Err(PerfError::operation(format!(
            "test {test}: the run under callgrind failed ({}):\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )));
    }
    let samples = read_dumps(&out)?;
    if samples.len() != iterations {
        return Err(PerfError::operation(format!(
            "test {test}: callgrind wrote {} iteration dumps, expected {iterations} (is the \
             binary built with symbols, so that `{END_PATTERN}` is found?)",
            samples.len()
        )));
    }
    Ok(samples)
}

/// The per-iteration counts from the dump files `<out>.1`, `<out>.2`, … whose trigger
/// is the end marker, in order.
pub fn read_dumps(out: &Path) -> Result<Vec<f64>, PerfError> {
    let mut samples = Vec::new();
    for n in 1usize.. {
        let mut p = out.as_os_str().to_owned();
        p.push(format!(".{n}"));
        let p = PathBuf::from(p);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(PerfError::io("reading", &p, e)),
        };
        let dump = parse_dump(&text).ok_or_else(|| {
            PerfError::new(
                crate::error::ErrorKind::Corrupt,
                format!(
                    "{} is not a callgrind output file with a total",
                    p.display()
                ),
            )
        })?;
        if dump.trigger.contains("callgrind::iteration_end") {
            samples.push(dump.instructions as f64);
        }
    }
    Ok(samples)
}

/// One callgrind dump: what triggered it and its total `Ir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// The `desc: Trigger:` text (`--dump-before=…`, `Program termination`).
    pub trigger: String,
    /// Instructions executed in this part (`totals:`, else `summary:`).
    pub instructions: u64,
}

/// Parses the header lines of a callgrind output file: the trigger and the first
/// number of the `totals:` (or `summary:`) line, which is `Ir` when the first event is
/// `Ir`. `None` when the file has no total or its first event is not `Ir`.
pub fn parse_dump(text: &str) -> Option<Dump> {
    let mut trigger = String::new();
    let mut totals = None;
    let mut summary = None;
    let mut events_ok = false;
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("desc: Trigger:") {
            trigger = t.trim().to_string();
        } else if let Some(e) = line.strip_prefix("events:") {
            events_ok = e.split_whitespace().next() == Some("Ir");
        } else if let Some(v) = line.strip_prefix("totals:") {
            totals = v.split_whitespace().next().and_then(|x| x.parse().ok());
        } else if let Some(v) = line.strip_prefix("summary:") {
            summary = v.split_whitespace().next().and_then(|x| x.parse().ok());
        }
    }
    if !events_ok {
        return None;
    }
    Some(Dump {
        trigger,
        instructions: totals.or(summary)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn dump_headers_are_parsed() {
        let t = "creator: callgrind-3.19.0\npart: 2\ndesc: Trigger: --dump-before=*callgrind::iteration_end*\n\
                 positions: line\nevents: Ir\nsummary: 6008\n\nfn=(1) x\n3 6008\ntotals: 6008\n";
        let d = parse_dump(t).unwrap();
        assert_eq!(d.instructions, 6008);
        assert!(d.trigger.contains("iteration_end"));
        assert_eq!(parse_dump("events: Dr\nsummary: 5\n"), None);
        assert_eq!(parse_dump("events: Ir\n"), None);
    }

    #[test]
    fn dumps_are_read_in_order_keeping_iteration_ends() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cg.out");
        let part = |trigger: &str, n: u64| {
            format!("desc: Trigger: {trigger}\nevents: Ir\nsummary: {n}\ntotals: {n}\n")
        };
        let files = [
            part("--dump-before=*callgrind::measured_iteration*", 999_999),
            part("--dump-before=*callgrind::iteration_end*", 100),
            part("--dump-before=*callgrind::measured_iteration*", 7),
            part("--dump-before=*callgrind::iteration_end*", 101),
        ];
        for (i, f) in files.iter().enumerate() {
            std::fs::write(format!("{}.{}", out.display(), i + 1), f).unwrap();
        }
        // The final dump (program termination) has no number and is ignored.
        std::fs::write(&out, part("Program termination", 5)).unwrap();
        assert_eq!(read_dumps(&out).unwrap(), vec![100.0, 101.0]);
    }

    #[test]
    fn missing_valgrind_names_the_package() {
        let e = valgrind_from(Some("/nonexistent/valgrind".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("apt-get install valgrind"), "{e}");
        assert!(e.contains("/nonexistent/valgrind"), "{e}");
    }

    /// The verdict of a 1.5 % change of one test's counts (threshold 1 %), with `n`
    /// identical counts per side, among the tests of the capped standard suite.
    fn lone_change_verdict(n: usize) -> guestctl_stats::Verdict {
        let (suite, _) = crate::standard::cap_for_instructions(crate::standard::standard_suite());
        let base = vec![1.0e6; n];
        let changed = vec![1.015e6; n];
        let mut pairs: Vec<(&[f64], &[f64], f64)> = vec![(&base, &base, 1.0); suite.len()];
        pairs[0] = (&base, &changed, 1.0);
        let r = guestctl_stats::compare_suite(&pairs, &guestctl_stats::Options::default()).unwrap();
        r[0].verdict
    }

    #[test]
    fn ten_counts_per_test_let_a_lone_regression_be_found_and_five_do_not() {
        // Why --metric instructions keeps 10 iterations (docs/perf-methodology.md):
        // Holm's correction over the suite needs enough samples even for exact counts.
        assert_eq!(lone_change_verdict(10), guestctl_stats::Verdict::Regression);
        assert_eq!(lone_change_verdict(7), guestctl_stats::Verdict::Regression);
        assert_ne!(lone_change_verdict(5), guestctl_stats::Verdict::Regression);
        assert_ne!(lone_change_verdict(1), guestctl_stats::Verdict::Regression);
    }

    #[test]
    fn markers_run_the_routine() {
        let mut n = 0;
        let mut r = || -> Result<(), PerfError> {
            n += 1;
            Ok(())
        };
        run_iterations(&mut r, 1, 3).unwrap();
        assert_eq!(n, 4);
    }
}
