//! `guestctl batch`: inspect many images, one JSON Lines record per image written
//! as soon as it is done; and `guestctl batch report`, the counts over the records
//! of one or more runs. How to run it on Kubernetes, Slurm, GNU parallel, Ray or
//! Spark: docs/fleet.md.
//!
//! Exit status: 0 when every image was inspected, 1 when some failed (each has an
//! `error` record), 2 when the run itself could not go on (bad arguments, an
//! unreadable list, an output that cannot be written).

use anyhow::Context;
use guestctl_inspect::batch::output::OutputFile;
use guestctl_inspect::batch::record::{Detail, Record};
use guestctl_inspect::batch::report::Report;
use guestctl_inspect::batch::{self, BatchItem, BatchOptions, Done, Job, ListReader, Shard};
use guestctl_inspect::{
    Cache, ErrorKind, ImageOptions, InspectError, InspectOptions, LaunchOptions,
};
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cmd::escape::{shown, shown_opt};
use crate::cmd::{is_broken_pipe, write_stdout};

/// `guestctl batch ...`
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    #[command(flatten)]
    run: RunArgs,
}

/// `guestctl batch report`
#[derive(clap::Subcommand, Debug)]
enum ReportCommand {
    /// Count the records of batch outputs (the shards of a run) by distro,
    /// version and failure kind.
    Report {
        /// JSON Lines outputs of `guestctl batch` (`--output` or `--json`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the counts as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The options of a batch run.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The disk images (or give a list with --files-from).
    #[arg(required_unless_present = "files_from", conflicts_with = "files_from")]
    disks: Vec<PathBuf>,
    /// Read the image paths from FILE, one per line (`-`: stdin), streamed.
    #[arg(long, short = 'T', value_name = "FILE")]
    files_from: Option<PathBuf>,
    /// Worker threads (default: one per core; at most 256, and no more than images).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Inspect only shard K of N, 1-based: the images at 0-based positions i with
    /// i % N == K-1.
    #[arg(long, value_name = "K/N", conflicts_with_all = ["shard_index", "shard_count"])]
    shard: Option<String>,
    /// Inspect only shard I of --shard-count N, 0-based (Kubernetes'
    /// JOB_COMPLETION_INDEX, Slurm's SLURM_ARRAY_TASK_ID).
    #[arg(long, value_name = "I", requires = "shard_count")]
    shard_index: Option<u64>,
    /// The number of shards for --shard-index.
    #[arg(long, value_name = "N", requires = "shard_index")]
    shard_count: Option<u64>,
    /// Write one JSON record per image to stdout, as each one finishes.
    #[arg(long)]
    json: bool,
    /// Append one JSON record per image to FILE, as each one finishes; synced at
    /// the end.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Skip the images --output already records as ok; a torn last line and error
    /// records are redone.
    #[arg(long, requires = "output")]
    resume: bool,
    /// Records hold the facts only, not the application list.
    #[arg(long)]
    summary: bool,
    /// Do not use the inspection cache.
    #[arg(long)]
    no_cache: bool,
    /// Do not list installed packages.
    #[arg(long)]
    no_packages: bool,
    /// Open backing files named by a qcow2 image.
    #[arg(long)]
    allow_backing: bool,
    /// No progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Nothing on stderr but fatal errors: no progress, no per-image errors, no counts.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Run `guestctl batch` or `guestctl batch report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let result = match args.command {
        Some(ReportCommand::Report { files, json }) => report(&files, json),
        None => run_batch(&args.run),
    };
    match result {
        Err(e) if !is_broken_pipe(&e) => {
            eprintln!("error: {}", shown(&format!("{e:#}")));
            Ok(ExitCode::from(2))
        }
        r => r,
    }
}

fn image_options(a: &RunArgs) -> ImageOptions {
    ImageOptions {
        launch: LaunchOptions {
            allow_backing: a.allow_backing,
        },
        inspect: InspectOptions {
            packages: !a.no_packages,
        },
        cache: if a.no_cache {
            None
        } else {
            Cache::open_default()
        },
    }
}

fn shard(a: &RunArgs) -> anyhow::Result<Option<Shard>> {
    Ok(match (&a.shard, a.shard_index, a.shard_count) {
        (Some(k_of_n), _, _) => Some(Shard::parse_one_based(k_of_n)?),
        (None, Some(i), Some(n)) => Some(Shard::new(i, n)?),
        _ => None,
    })
}

fn jobs(a: &RunArgs) -> anyhow::Result<usize> {
    match a.jobs {
        Some(0) => anyhow::bail!("--jobs must be at least 1"),
        Some(n) => Ok(batch::engine::thread_count(n).map(|_| n)?),
        None => Ok(0),
    }
}

type JobList = Box<dyn Iterator<Item = Result<Job, InspectError>> + Send>;

fn job_list(a: &RunArgs) -> anyhow::Result<JobList> {
    Ok(match &a.files_from {
        Some(p) if p.as_os_str() == "-" => {
            Box::new(ListReader::new(BufReader::new(std::io::stdin()), "stdin"))
        }
        Some(p) => {
            let f = std::fs::File::open(p)
                .with_context(|| format!("{}: cannot open the list", p.display()))?;
            Box::new(ListReader::new(BufReader::new(f), p.display().to_string()))
        }
        None => Box::new(batch::input::from_paths(a.disks.clone())),
    })
}

fn open_output(a: &RunArgs) -> anyhow::Result<(Option<OutputFile>, Done)> {
    let Some(path) = &a.output else {
        return Ok((None, Done::default()));
    };
    if a.resume {
        let (file, done, loaded) = OutputFile::resume(path)?;
        if !a.quiet && (loaded.torn_line_dropped || loaded.errors_dropped > 0) {
            eprintln!(
                "batch: resuming {}: {} ok kept, {} failed to retry{}",
                path.display(),
                loaded.ok,
                loaded.errors_dropped,
                if loaded.torn_line_dropped {
                    ", a torn last line dropped"
                } else {
                    ""
                }
            );
        }
        Ok((Some(file), done))
    } else {
        Ok((Some(OutputFile::create(path)?), Done::default()))
    }
}

fn run_batch(a: &RunArgs) -> anyhow::Result<ExitCode> {
    let opts = BatchOptions {
        jobs: jobs(a)?,
        shard: shard(a)?,
        image: image_options(a),
    };
    let list = job_list(a)?;
    let (file, done) = open_output(a)?;
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let mut sink = Sink {
        file,
        json: a.json,
        human: !a.json && a.output.is_none(),
        quiet: a.quiet,
        detail: if a.summary {
            Detail::Summary
        } else {
            Detail::Full
        },
        shard: opts.shard,
        host,
        progress: progress_bar(!a.quiet && !a.no_progress),
        counts: Counts::default(),
        stdout_error: None,
    };
    let result = batch::run(list, &opts, &done, |item| sink.take(item));
    sink.progress.finish_and_clear();
    if let Some(e) = sink.stdout_error.take() {
        if is_broken_pipe(&e) {
            return Ok(sink.counts.exit_code());
        }
        return Err(e);
    }
    let summary = result?;
    if let Some(f) = sink.file.take() {
        f.finish()?;
    }
    if !a.quiet {
        eprintln!(
            "batch: {} ok, {} failed{}",
            sink.counts.ok,
            sink.counts.failed,
            match summary.skipped {
                0 => String::new(),
                n => format!(", {n} already done"),
            }
        );
    }
    Ok(sink.counts.exit_code())
}

fn progress_bar(wanted: bool) -> indicatif::ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::no_length();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {pos} images ({per_sec}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

#[derive(Default)]
struct Counts {
    ok: u64,
    failed: u64,
}

impl Counts {
    fn exit_code(&self) -> ExitCode {
        if self.failed > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Where each outcome goes, as it arrives.
struct Sink {
    file: Option<OutputFile>,
    json: bool,
    human: bool,
    quiet: bool,
    detail: Detail,
    shard: Option<Shard>,
    host: String,
    progress: indicatif::ProgressBar,
    counts: Counts,
    /// A failed write to stdout (a closed pipe ends the run quietly).
    stdout_error: Option<anyhow::Error>,
}

impl Sink {
    fn take(&mut self, item: BatchItem) -> Result<(), InspectError> {
        match &item.result {
            Ok(_) => self.counts.ok += 1,
            Err(_) => self.counts.failed += 1,
        }
        let record = Record::of(&item, self.shard, &self.host, self.detail);
        if self.file.is_some() || self.json {
            let line = record.to_line().map_err(|e| {
                InspectError::new(ErrorKind::Io, record.image.clone(), "cannot encode")
                    .with_source(e)
            })?;
            if let Some(f) = &mut self.file {
                f.write_line(&line)?;
            }
            if self.json {
                self.write_out(&line)?;
            }
        }
        if self.human {
            self.write_out(human_line(&item).as_bytes())?;
        }
        if let (Err(e), false) = (&item.result, self.quiet) {
            self.progress
                .suspend(|| eprintln!("error: {}", shown(&guestctl_block::chain_text(e))));
        }
        self.progress.inc(1);
        if self.counts.failed > 0 {
            self.progress
                .set_message(format!("{} failed", self.counts.failed));
        }
        Ok(())
    }

    fn write_out(&mut self, bytes: &[u8]) -> Result<(), InspectError> {
        let progress = self.progress.clone();
        match progress.suspend(|| write_stdout(bytes)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.stdout_error = Some(e);
                Err(InspectError::new(ErrorKind::Io, "stdout", "cannot write"))
            }
        }
    }
}

/// One line per image for people: the path, then each OS's facts, or the failure.
fn human_line(item: &BatchItem) -> String {
    let path = item.path.display().to_string();
    let path = shown(&path);
    match &item.result {
        Err(e) => format!("{path}\tFAILED ({})\n", e.kind().name()),
        Ok(ins) if ins.operatingsystems.is_empty() => format!("{path}\t(no OS found)\n"),
        Ok(ins) => ins
            .operatingsystems
            .iter()
            .map(|os| {
                format!(
                    "{path}\t{} {}.{}\t{}\t{}\t{} packages\n",
                    shown_opt(&os.distro),
                    os.major_version,
                    os.minor_version,
                    shown_opt(&os.arch),
                    shown_opt(&os.hostname),
                    os.applications.len()
                )
            })
            .collect(),
    }
}

fn report(files: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let mut r = Report::new();
    for f in files {
        read_into(&mut r, f)?;
    }
    let text = if json {
        let mut v = serde_json::to_vec_pretty(&r)?;
        v.push(b'\n');
        v
    } else {
        render_report(&r).into_bytes()
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn read_into(r: &mut Report, path: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("{}: cannot open the batch output", path.display()))?;
    r.read(BufReader::with_capacity(1 << 16, f))
        .with_context(|| format!("{}: cannot read", path.display()))
}

fn count_table(title: &str, counts: &std::collections::BTreeMap<String, u64>) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
        .set_header(vec![title, "count"]);
    let mut rows: Vec<_> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in rows {
        t.add_row(vec![k.clone(), n.to_string()]);
    }
    format!("{t}\n")
}

fn render_report(r: &Report) -> String {
    let mut s = format!(
        "{} records: {} ok, {} failed; {} duplicates, {} unparseable lines\n\n",
        r.records, r.ok, r.failed, r.duplicates, r.unparseable_lines
    );
    s.push_str(&count_table("distro", &r.by_distro));
    s.push_str(&count_table("version", &r.by_version));
    if !r.by_failure_kind.is_empty() {
        s.push_str(&count_table("failure kind", &r.by_failure_kind));
    }
    s
}
