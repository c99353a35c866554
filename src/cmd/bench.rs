//! `guestctl perf bench`: benchmark whole commands as hyperfine does — several
//! commands side by side, warm-up and `--prepare` runs, parameter scans and lists,
//! mean ± σ with user and system time, the relative summary ("a ran 2.05 ± 0.03
//! times faster than b") and JSON, Markdown and CSV exports — into guestctl's own
//! results format, with its statistics (median and its confidence interval,
//! outliers), so `perf compare` compares two bench runs like two validations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use guestctl_perf::process::output::{csv_rows, markdown_table, result_text};
use guestctl_perf::process::relative::summary_text;
use guestctl_perf::process::{bench_command, CommandBench};
use guestctl_perf::store;
use guestctl_perf::{Options, PerfTestSuite, TestResult};

use crate::cmd::perf::Progress;
use crate::cmd::{chatter, write_stdout};

/// Arguments of `perf bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Commands to benchmark, each a shell command line run by `sh -c` (its start,
    /// about a millisecond, is part of the time; see --no-shell). `{VAR}` is replaced
    /// by each value of --parameter-scan or --parameter-list.
    #[arg(value_name = "COMMAND")]
    commands: Vec<String>,
    /// The name of a command in the results, given once per command in order (a
    /// command without one is named by itself).
    #[arg(long = "name", short = 'n', value_name = "NAME")]
    names: Vec<String>,
    /// Measured runs of each command.
    #[arg(long, short = 'r', default_value_t = 10)]
    runs: usize,
    /// Warm-up runs of each command, not measured.
    #[arg(long, short = 'w', default_value_t = 1)]
    warmup: usize,
    /// A shell command run before every run (warm-up or measured) of every command,
    /// not timed, e.g. to drop a cache.
    #[arg(long, short = 'p', value_name = "CMD")]
    prepare: Option<String>,
    /// Run each command without a shell: split into words as a shell would (quotes
    /// respected, no expansions) and started directly.
    #[arg(long, short = 'N')]
    no_shell: bool,
    /// Benchmark each command once per integer VAR from MIN to MAX.
    #[arg(long, num_args = 3, value_names = ["VAR", "MIN", "MAX"])]
    parameter_scan: Option<Vec<String>>,
    /// Step of --parameter-scan.
    #[arg(long, short = 'D', default_value_t = 1, requires = "parameter_scan")]
    parameter_step_size: i64,
    /// Benchmark each command once per comma-separated value of VAR.
    #[arg(long, num_args = 2, value_names = ["VAR", "VALUES"], conflicts_with = "parameter_scan")]
    parameter_list: Option<Vec<String>>,
    /// Print the results (guestctl's results JSON) on stdout instead of the text.
    #[arg(long)]
    json: bool,
    /// Also write the results (guestctl's results JSON, for `perf compare`) here.
    #[arg(long, alias = "output", value_name = "PATH")]
    export_json: Option<PathBuf>,
    /// Also write hyperfine's Markdown table (mean ± σ, min, max, relative) here.
    #[arg(long, value_name = "PATH")]
    export_markdown: Option<PathBuf>,
    /// Also write one CSV row per command (times in seconds) here.
    #[arg(long, value_name = "PATH")]
    export_csv: Option<PathBuf>,
    /// Let the commands' output through (default: discarded).
    #[arg(long)]
    show_output: bool,
    /// Accept non-zero exit codes.
    #[arg(long, short = 'i')]
    ignore_failure: bool,
    /// One program and its arguments, run without a shell (after `--`), instead of
    /// COMMANDs.
    #[arg(last = true, value_name = "PROGRAM")]
    program: Vec<String>,
}

/// One command to benchmark: its name and what to run.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    name: String,
    /// The command line as given (recorded in the results).
    command: String,
    argv: Vec<String>,
}

/// The values of the parameter, `(VAR, values)`, if one was given.
fn parameter(a: &BenchArgs) -> anyhow::Result<Option<(String, Vec<String>)>> {
    if let Some(scan) = &a.parameter_scan {
        let [var, min, max] = scan.as_slice() else {
            bail!("--parameter-scan takes VAR MIN MAX");
        };
        let int = |s: &str| {
            s.parse::<i64>()
                .with_context(|| format!("--parameter-scan: {s:?} is not an integer"))
        };
        let (min, max, step) = (int(min)?, int(max)?, a.parameter_step_size);
        if step <= 0 || min > max {
            bail!("--parameter-scan needs MIN ≤ MAX and a positive --parameter-step-size");
        }
        let values: Vec<String> = (0..)
            .map_while(|i: i64| min.checked_add(i.checked_mul(step)?).filter(|v| *v <= max))
            .take(10_001)
            .map(|v| v.to_string())
            .collect();
        if values.len() > 10_000 {
            bail!("--parameter-scan gives more than 10,000 values");
        }
        return Ok(Some((var.clone(), values)));
    }
    if let Some(list) = &a.parameter_list {
        let [var, values] = list.as_slice() else {
            bail!("--parameter-list takes VAR VALUES");
        };
        return Ok(Some((
            var.clone(),
            values.split(',').map(str::to_string).collect(),
        )));
    }
    Ok(None)
}

/// What to run for the command line `command`.
fn argv_of(command: &str, no_shell: bool) -> anyhow::Result<Vec<String>> {
    if no_shell {
        let words = shell_words::split(command)
            .with_context(|| format!("cannot split {command:?} into words"))?;
        if words.is_empty() {
            bail!("an empty command");
        }
        Ok(words)
    } else {
        Ok(vec!["sh".into(), "-c".into(), command.into()])
    }
}

/// The commands to run, in order: each COMMAND (with each parameter value), or the
/// one PROGRAM.
fn plan(a: &BenchArgs) -> anyhow::Result<Vec<Planned>> {
    if !a.program.is_empty() {
        if !a.commands.is_empty() {
            bail!("give COMMANDs or `-- PROGRAM ARGS`, not both");
        }
        let name = a
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| a.program.join(" "));
        return Ok(vec![Planned {
            name,
            command: a.program.join(" "),
            argv: a.program.clone(),
        }]);
    }
    if a.commands.is_empty() {
        bail!("nothing to benchmark: give one or more COMMANDs, or `-- PROGRAM ARGS`");
    }
    if a.names.len() > a.commands.len() {
        bail!(
            "{} --name for {} commands: at most one per command, in order",
            a.names.len(),
            a.commands.len()
        );
    }
    let values = parameter(a)?;
    let mut planned = Vec::new();
    for (i, command) in a.commands.iter().enumerate() {
        let name = a.names.get(i).unwrap_or(command);
        let substitutions: Vec<Option<(&str, &str)>> = match &values {
            Some((var, vs)) => vs
                .iter()
                .map(|v| Some((var.as_str(), v.as_str())))
                .collect(),
            None => vec![None],
        };
        for sub in substitutions {
            let fill = |s: &str| match sub {
                Some((var, v)) => s.replace(&format!("{{{var}}}"), v),
                None => s.to_string(),
            };
            // A name without the parameter in it still tells the runs apart.
            let mut n = fill(name);
            if let Some((var, v)) = sub {
                if n == *name && !name.contains(&format!("{{{var}}}")) {
                    n = format!("{name} ({var}={v})");
                }
            }
            let command = fill(command);
            planned.push(Planned {
                name: n,
                argv: argv_of(&command, a.no_shell)?,
                command,
            });
        }
    }
    for (i, p) in planned.iter().enumerate() {
        if planned[..i].iter().any(|q| q.name == p.name) {
            bail!(
                "two commands are named {:?}: give each its own --name",
                p.name
            );
        }
    }
    Ok(planned)
}

fn export(a: &BenchArgs, results: &[TestResult], json: &[u8]) -> anyhow::Result<()> {
    if let Some(p) = &a.export_json {
        store::write_atomic(p, json)?;
    }
    if let Some(p) = &a.export_markdown {
        store::write_atomic(p, markdown_table(results).as_bytes())?;
    }
    if let Some(p) = &a.export_csv {
        store::write_atomic(p, &csv_rows(results).context("writing CSV")?)?;
    }
    Ok(())
}

/// Runs `perf bench`.
pub fn bench(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let planned = plan(&a)?;
    let prepare = a
        .prepare
        .as_deref()
        .map(|p| argv_of(p, a.no_shell))
        .transpose()?;
    let mut results = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let spec = CommandBench {
            name: p.name.clone(),
            argv: p.argv.clone(),
            runs: a.runs,
            warmup: a.warmup,
            show_output: a.show_output,
            ignore_failure: a.ignore_failure,
            prepare: prepare.clone(),
        };
        let visible = !a.json && !a.show_output && chatter::progress_allowed();
        let mut bar = Progress::new((a.runs + a.warmup) as u64, visible);
        let result = bench_command(&spec, &Options::default(), &mut bar);
        bar.bar.finish_and_clear();
        let mut result = result?;
        result.params.insert("command".into(), p.command.clone());
        if !a.json {
            write_stdout(format!("{}\n", result_text(i + 1, &result)).as_bytes())?;
        }
        results.push(result);
    }
    let mut suite = PerfTestSuite::new();
    for r in &results {
        suite.push(r.clone());
    }
    let json = guestctl_perf::report::to_json_bytes(&suite.to_run())?;
    export(&a, &results, &json)?;
    if a.json {
        write_stdout(&json)?;
    } else if let Some(summary) = summary_text(&results) {
        write_stdout(summary.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        a: BenchArgs,
    }

    fn plan_of(args: &[&str]) -> anyhow::Result<Vec<Planned>> {
        let cli = Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))?;
        plan(&cli.a)
    }

    #[test]
    fn names_default_to_the_commands() {
        let p = plan_of(&["sleep 0.1", "sleep 0.2"]).unwrap();
        assert_eq!(p[0].name, "sleep 0.1");
        assert_eq!(p[1].argv, ["sh", "-c", "sleep 0.2"]);
        let p = plan_of(&["-n", "a", "-n", "b", "x", "y"]).unwrap();
        assert_eq!((p[0].name.as_str(), p[1].name.as_str()), ("a", "b"));
        let p = plan_of(&["-n", "a", "x", "y"]).unwrap();
        assert_eq!((p[0].name.as_str(), p[1].name.as_str()), ("a", "y"));
        assert!(plan_of(&["-n", "a", "-n", "b", "x"]).is_err());
        assert!(plan_of(&["x", "x"]).is_err(), "two commands with one name");
        let p = plan_of(&["-N", "grep -c 'a b' f"]).unwrap();
        assert_eq!(p[0].argv, ["grep", "-c", "a b", "f"]);
        let p = plan_of(&["--", "true", "--flag"]).unwrap();
        assert_eq!((p[0].name.as_str(), p[0].argv.len()), ("true --flag", 2));
        assert!(plan_of(&[]).is_err());
    }

    #[test]
    fn parameters_expand_every_command() {
        let p = plan_of(&["--parameter-scan", "n", "1", "5", "-D", "2", "sleep {n}"]).unwrap();
        let names: Vec<&str> = p.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["sleep 1", "sleep 3", "sleep 5"]);
        let p = plan_of(&["--parameter-list", "c", "gzip,xz", "-n", "zip", "{c} -k f"]).unwrap();
        let names: Vec<&str> = p.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["zip (c=gzip)", "zip (c=xz)"]);
        assert_eq!(p[1].argv[2], "xz -k f");
        assert!(plan_of(&["--parameter-scan", "n", "5", "1", "x {n}"]).is_err());
    }
}
