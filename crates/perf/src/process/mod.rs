//! Whole-process benchmarks of external commands (`guestctl perf bench`), like
//! hyperfine: wall time per run, plus user and system CPU time, peak RSS and exit
//! status from `wait4`, into the same [`TestResult`] as in-process tests.

pub mod output;
pub mod relative;
mod sys;

use std::process::{Command, Stdio};
use std::time::Instant;

use guestctl_stats::Options;

pub use sys::ChildUsage;

use crate::error::PerfError;
use crate::measure::{analyse, check_iterations, Observer, RawRun};
use crate::record::{Params, ProcessStats, TestResult, Unit};

/// How to benchmark a command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandBench {
    /// Test name.
    pub name: String,
    /// Program and arguments (run directly, no shell).
    pub argv: Vec<String>,
    /// Measured runs.
    pub runs: usize,
    /// Discarded warm-up runs.
    pub warmup: usize,
    /// Let the command's stdout/stderr through (default: discarded, like hyperfine).
    pub show_output: bool,
    /// Accept non-zero exit codes instead of failing.
    pub ignore_failure: bool,
    /// A command run before each run, warm-up or measured, and not timed (to clear
    /// a cache, reset a file); it must succeed.
    pub prepare: Option<Vec<String>>,
}

/// The first `program` on `$PATH`, if any.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Runs `argv` once, returning wall nanoseconds and its usage.
pub fn run_once(argv: &[String], show_output: bool) -> Result<(f64, ChildUsage), PerfError> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| PerfError::invalid("no command given to benchmark"))?;
    let (out, err) = if show_output {
        (Stdio::inherit(), Stdio::inherit())
    } else {
        (Stdio::null(), Stdio::null())
    };
    let start = Instant::now();
    let child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| PerfError::operation(format!("cannot start {prog}: {e}")))?;
    let usage = sys::wait_with_usage(child)
        .map_err(|e| PerfError::operation(format!("waiting for {prog}: {e}")))?;
    Ok((start.elapsed().as_nanos() as f64, usage))
}

/// Benchmarks a command: warm-up runs, then measured runs, each as a whole process.
/// A non-zero exit (or a signal) is an error unless `ignore_failure`.
pub fn bench_command(
    spec: &CommandBench,
    opts: &Options,
    observer: &mut dyn Observer,
) -> Result<TestResult, PerfError> {
    check_iterations(&spec.name, spec.runs, spec.warmup)?;
    observer.test_started(&spec.name, spec.warmup, spec.runs);
    let check = |u: &ChildUsage, run: usize| -> Result<(), PerfError> {
        if spec.ignore_failure || u.exit_code == Some(0) {
            return Ok(());
        }
        let how = match (u.exit_code, u.signal) {
            (Some(c), _) => format!("exited with code {c}"),
            (None, Some(s)) => format!("was killed by signal {s}"),
            _ => "ended abnormally".to_string(),
        };
        Err(PerfError::operation(format!(
            "test {}: `{}` {how} in run {run}; fix the command or pass --ignore-failure",
            spec.name,
            spec.argv.join(" ")
        )))
    };
    let prepare = || -> Result<(), PerfError> {
        let Some(argv) = &spec.prepare else {
            return Ok(());
        };
        let (_, u) = run_once(argv, spec.show_output)?;
        match u.exit_code {
            Some(0) => Ok(()),
            _ => Err(PerfError::operation(format!(
                "test {}: the --prepare command `{}` failed ({:?})",
                spec.name,
                argv.join(" "),
                u.exit_code
            ))),
        }
    };
    for i in 0..spec.warmup {
        prepare()?;
        let (_, u) = run_once(&spec.argv, spec.show_output)?;
        check(&u, i + 1)?;
        observer.iteration_finished(&spec.name, true);
    }
    let mut samples = Vec::with_capacity(spec.runs);
    let mut ps = ProcessStats {
        command: spec.argv.clone(),
        ..ProcessStats::default()
    };
    for i in 0..spec.runs {
        prepare()?;
        let (wall, u) = run_once(&spec.argv, spec.show_output)?;
        check(&u, spec.warmup + i + 1)?;
        samples.push(wall);
        ps.user_ns.push(u.user.as_nanos() as f64);
        ps.sys_ns.push(u.sys.as_nanos() as f64);
        ps.max_rss_bytes.push(u.max_rss_bytes);
        ps.exit_codes.push(u.exit_code);
        observer.iteration_finished(&spec.name, false);
    }
    let mut params = Params::new();
    params.insert("command".into(), spec.argv.join(" "));
    let mut result = analyse(
        RawRun {
            name: spec.name.clone(),
            params,
            unit: Unit::Nanoseconds,
            warmup: spec.warmup,
            samples,
            memory: None,
            peak_rss_bytes: None,
        },
        opts,
    )?;
    result.peak_rss_bytes = ps.max_rss_bytes.iter().copied().max();
    result.process = Some(ps);
    observer.test_finished(&result);
    Ok(result)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::measure::NoObserver;

    fn opts() -> Options {
        Options {
            bootstrap_resamples: 200,
            ..Options::default()
        }
    }

    #[test]
    fn benchmarks_a_real_process_with_usage() {
        // `sh -c` burns a little CPU so user time is measurable on most machines.
        let spec = CommandBench {
            name: "true".into(),
            argv: vec!["true".into()],
            runs: 3,
            warmup: 1,
            show_output: false,
            ignore_failure: false,
            prepare: None,
        };
        let r = bench_command(&spec, &opts(), &mut NoObserver).unwrap();
        assert_eq!(r.samples.len(), 3);
        assert!(r.samples.iter().all(|s| *s > 0.0));
        let p = r.process.unwrap();
        assert_eq!(p.exit_codes, vec![Some(0); 3]);
        assert_eq!(p.user_ns.len(), 3);
        // Any process has a resident set of at least a few pages.
        assert!(
            p.max_rss_bytes.iter().all(|b| *b >= 4096),
            "{:?}",
            p.max_rss_bytes
        );
        assert_eq!(r.peak_rss_bytes, p.max_rss_bytes.iter().copied().max());
        assert_eq!(r.params.get("command").map(String::as_str), Some("true"));
    }

    #[test]
    fn failing_command_is_an_error_unless_ignored() {
        let mut spec = CommandBench {
            name: "false".into(),
            argv: vec!["false".into()],
            runs: 2,
            warmup: 0,
            show_output: false,
            ignore_failure: false,
            prepare: None,
        };
        let e = bench_command(&spec, &opts(), &mut NoObserver).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("exited with code 1 in run 1"), "{m}");
        assert!(m.contains("--ignore-failure"), "{m}");
        spec.ignore_failure = true;
        let r = bench_command(&spec, &opts(), &mut NoObserver).unwrap();
        assert_eq!(r.process.unwrap().exit_codes, vec![Some(1), Some(1)]);
    }

    #[test]
    fn signal_and_missing_program() {
        let spec = CommandBench {
            name: "killed".into(),
            argv: vec!["sh".into(), "-c".into(), "kill -9 $$".into()],
            runs: 1,
            warmup: 0,
            show_output: false,
            ignore_failure: false,
            prepare: None,
        };
        let m = bench_command(&spec, &opts(), &mut NoObserver)
            .unwrap_err()
            .to_string();
        assert!(m.contains("killed by signal 9"), "{m}");
        let e = run_once(&["/nonexistent/guestctl-no-such-program".into()], false).unwrap_err();
        assert!(e.to_string().contains("cannot start"), "{e}");
        assert!(run_once(&[], false).is_err());
    }

    #[test]
    fn user_time_is_counted() {
        // A busy loop in the shell: user+sys time must be non-zero and below wall time
        // plus slack (one core).
        let spec = CommandBench {
            name: "busy".into(),
            argv: vec![
                "sh".into(),
                "-c".into(),
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done".into(),
            ],
            runs: 1,
            warmup: 0,
            show_output: false,
            ignore_failure: false,
            prepare: None,
        };
        let r = bench_command(&spec, &opts(), &mut NoObserver).unwrap();
        let p = r.process.unwrap();
        let cpu = p.user_ns[0] + p.sys_ns[0];
        assert!(cpu > 0.0);
        assert!(
            cpu <= r.samples[0] * 1.5 + 5e6,
            "cpu {cpu} wall {}",
            r.samples[0]
        );
    }

    #[test]
    fn prepare_runs_before_every_run_and_its_failure_stops_the_bench() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let sh = |script: String| vec!["sh".to_string(), "-c".to_string(), script];
        let mut spec = CommandBench {
            name: "t".into(),
            // The measured command sees the file the prepare step just appended to.
            argv: sh(format!("test -s {}", log.display())),
            runs: 3,
            warmup: 2,
            show_output: false,
            ignore_failure: false,
            prepare: Some(sh(format!("echo p >> {}", log.display()))),
        };
        bench_command(&spec, &opts(), &mut NoObserver).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 5);
        spec.prepare = Some(vec!["false".into()]);
        let e = bench_command(&spec, &opts(), &mut NoObserver).unwrap_err();
        assert!(
            e.to_string().contains("--prepare command `false` failed"),
            "{e}"
        );
    }
}
