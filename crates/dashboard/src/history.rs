//! The history store: `performance-results/history.jsonl`, one JSON object per line,
//! one line per `guestctl perf validate` run (`kind: "run"`) and per accepted baseline
//! (`kind: "baseline"`).
//!
//! Each line is a [`HistoryEntry`]: `schema_version`, `format`, `kind`, `recorded_at`
//! and the whole [`RunResults`] of the run (commit, timestamp, machine fingerprint,
//! settings, and per test the raw samples and the summary). Samples are kept so that
//! any past run or baseline can be compared again with `guestctl perf compare`, whose
//! statistics need them; a typical run (20 tests × 30 samples) is ~20 KiB per line.
//!
//! Appending opens the file with `O_APPEND`, writes the line with one `write_all`,
//! and fsyncs. Reading skips a torn line (an interrupted run) or a line of another
//! version with a warning, never an error; reading is bounded by
//! [`MAX_HISTORY_READ_BYTES`], [`MAX_HISTORY_LINE_BYTES`] and
//! [`MAX_HISTORY_ENTRIES`] (the most recent entries are kept).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use guestctl_perf::record::RESULTS_FORMAT;
use guestctl_perf::{RunResults, Unit};
use serde::{Deserialize, Serialize};

use crate::error::{DashboardError, ErrorKind, Result};

/// File name of the history inside the results directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// Version of the history line format; lines of another version are skipped with a
/// warning.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

/// The `format` tag of every history line.
pub const HISTORY_FORMAT: &str = "guestctl-perf-history";

/// Most bytes of the history read (the newest end of the file): years of daily runs
/// of a 20-test suite are ~100 MiB; beyond it the oldest lines are ignored, with a
/// warning, rather than exhausting memory.
pub const MAX_HISTORY_READ_BYTES: u64 = 256 << 20;

/// Longest line accepted (one run with a million samples is ~20 MiB of JSON); a
/// longer line is skipped with a warning.
pub const MAX_HISTORY_LINE_BYTES: usize = 32 << 20;

/// Most entries kept in memory (the newest ones).
pub const MAX_HISTORY_ENTRIES: usize = 20_000;

/// Why an entry was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A `guestctl perf validate` run.
    Run,
    /// A baseline accepted (`guestctl perf baseline accept`, or created by a first run).
    Baseline,
}

impl EntryKind {
    /// `run` / `baseline`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Run => "run",
            EntryKind::Baseline => "baseline",
        }
    }
}

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// [`HISTORY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`HISTORY_FORMAT`].
    pub format: String,
    /// Run or accepted baseline.
    pub kind: EntryKind,
    /// When the line was appended (RFC 3339 UTC); the run's own time is in `run`.
    pub recorded_at: String,
    /// The whole run, samples included.
    pub run: RunResults,
}

/// One run of one test, for trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Git commit of the run.
    pub commit: String,
    /// Timestamp of the run (RFC 3339).
    pub timestamp: String,
    /// Median of the test's samples.
    pub median: f64,
    /// Lower bound of the median's confidence interval.
    pub ci_lower: f64,
    /// Upper bound of the median's confidence interval.
    pub ci_upper: f64,
    /// Number of samples.
    pub n: usize,
    /// Unit of `median`.
    pub unit: Unit,
    /// Whether the machine fingerprint differs from the previous point's (a step
    /// there may be the machine, not the code).
    pub machine_changed: bool,
}

/// What [`History::entries`] read: the entries, oldest first, and the warnings about
/// lines that were skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryRead {
    /// Entries, in file order (oldest first).
    pub entries: Vec<HistoryEntry>,
    /// One message per skipped line or limit reached.
    pub warnings: Vec<String>,
}

impl HistoryRead {
    /// The trend of `test` over the `run` entries (baselines are copies of runs, so
    /// they are left out to avoid counting a run twice), oldest first.
    pub fn series(&self, test: &str) -> Vec<Point> {
        series_of(&self.entries, test)
    }

    /// Names of every test in the runs, in first-seen order.
    pub fn test_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for e in self.entries.iter().filter(|e| e.kind == EntryKind::Run) {
            for t in &e.run.tests {
                if !names.contains(&t.name) {
                    names.push(t.name.clone());
                }
            }
        }
        names
    }

    /// The run to compare against, found by `key`: `latest` (the newest baseline), a
    /// commit prefix of at least 4 characters, or a timestamp prefix (`2026-01-26`,
    /// `2026-01-26T10:30`). Baselines are searched first, then runs; among several
    /// matches the newest wins.
    pub fn find_baseline(&self, key: &str) -> Result<RunResults> {
        let key = key.trim();
        if key.is_empty() {
            return Err(DashboardError::new(
                ErrorKind::InvalidArgument,
                "empty baseline key: give a commit, a date (YYYY-MM-DD) or `latest`",
            ));
        }
        let matches = |e: &HistoryEntry| {
            if key == "latest" {
                return true;
            }
            let commit = e.run.git_commit.to_ascii_lowercase();
            (key.len() >= 4 && commit.starts_with(&key.to_ascii_lowercase()))
                || e.run.timestamp.starts_with(key)
        };
        for kind in [EntryKind::Baseline, EntryKind::Run] {
            if let Some(e) = self
                .entries
                .iter()
                .rev()
                .filter(|e| e.kind == kind)
                .find(|e| matches(e))
            {
                return Ok(e.run.clone());
            }
        }
        let known: Vec<String> = self
            .entries
            .iter()
            .rev()
            .filter(|e| e.kind == EntryKind::Baseline)
            .take(10)
            .map(|e| {
                format!(
                    "{} {}",
                    e.run.timestamp,
                    guestctl_perf::report::short_commit(&e.run.git_commit)
                )
            })
            .collect();
        Err(DashboardError::new(
            ErrorKind::NotFound,
            format!(
                "no baseline or run in the history matches `{key}`; recent baselines: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ))
    }
}

/// The trend of `test` over the `run` entries of `entries`, oldest first.
pub fn series_of(entries: &[HistoryEntry], test: &str) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    let mut prev_machine = None;
    for e in entries.iter().filter(|e| e.kind == EntryKind::Run) {
        let Some(t) = e.run.get(test) else { continue };
        let machine_changed = prev_machine.is_some_and(|m| m != &e.run.machine);
        prev_machine = Some(&e.run.machine);
        out.push(Point {
            commit: e.run.git_commit.clone(),
            timestamp: e.run.timestamp.clone(),
            median: t.summary.median,
            ci_lower: t.summary.median_ci.lower,
            ci_upper: t.summary.median_ci.upper,
            n: t.summary.n,
            unit: t.unit,
            machine_changed,
        });
    }
    out
}

/// The history file of a results directory.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
}

impl History {
    /// The history in the results directory `dir` (`performance-results/`). Nothing is
    /// read or created until [`History::append_run`] or [`History::entries`].
    pub fn open(dir: impl AsRef<Path>) -> History {
        History {
            path: dir.as_ref().join(HISTORY_FILE),
        }
    }

    /// The history file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `run` as one line of `kind`, creating the directory and the file when
    /// needed. The line is written with one `write_all` on a file opened for append,
    /// then fsynced; if the file ends with a torn line, a newline is written first so
    /// the new entry stands on its own line.
    pub fn append_run(&self, run: &RunResults, kind: EntryKind) -> Result<()> {
        let entry = HistoryEntry {
            schema_version: HISTORY_SCHEMA_VERSION,
            format: HISTORY_FORMAT.into(),
            kind,
            recorded_at: guestctl_perf::fingerprint::now_rfc3339(),
            run: run.clone(),
        };
        let mut line = serde_json::to_vec(&entry).map_err(|e| {
            DashboardError::new(
                ErrorKind::Serialize,
                format!("cannot record the run in {}: {e}", self.path.display()),
            )
            .with_source(e)
        })?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DashboardError::io("creating", dir, e))?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.path)
            .map_err(|e| DashboardError::io("opening", &self.path, e))?;
        if ends_with_torn_line(&mut f).map_err(|e| DashboardError::io("reading", &self.path, e))? {
            line.insert(0, b'\n');
        }
        f.write_all(&line)
            .and_then(|_| f.sync_data())
            .map_err(|e| DashboardError::io("appending to", &self.path, e))?;
        Ok(())
    }

    /// Reads the history: every valid entry, oldest first, and a warning per skipped
    /// line. A missing file is an empty history.
    pub fn entries(&self) -> Result<HistoryRead> {
        let mut f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HistoryRead::default()),
            Err(e) => return Err(DashboardError::io("reading", &self.path, e)),
        };
        let len = f
            .metadata()
            .map_err(|e| DashboardError::io("reading", &self.path, e))?
            .len();
        let mut read = HistoryRead::default();
        let mut skip_first = false;
        if len > MAX_HISTORY_READ_BYTES {
            f.seek(SeekFrom::Start(len - MAX_HISTORY_READ_BYTES))
                .map_err(|e| DashboardError::io("reading", &self.path, e))?;
            skip_first = true;
            read.warnings.push(format!(
                "{} is {} MiB; only its newest {} MiB were read",
                self.path.display(),
                len >> 20,
                MAX_HISTORY_READ_BYTES >> 20
            ));
        }
        let mut reader = BufReader::new(f.take(MAX_HISTORY_READ_BYTES));
        let mut buf: Vec<u8> = Vec::new();
        let mut line_no = 0usize;
        loop {
            buf.clear();
            let n = read_line_limited(&mut reader, &mut buf)
                .map_err(|e| DashboardError::io("reading", &self.path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if skip_first {
                // The first line after the seek is a partial one.
                skip_first = false;
                continue;
            }
            if buf.len() > MAX_HISTORY_LINE_BYTES {
                read.warnings.push(format!(
                    "{} line {line_no}: longer than {} MiB, skipped",
                    self.path.display(),
                    MAX_HISTORY_LINE_BYTES >> 20
                ));
                continue;
            }
            let text = trim_ascii(&buf);
            if text.is_empty() {
                continue;
            }
            match parse_line(text) {
                Ok(e) => read.entries.push(e),
                Err(why) => read.warnings.push(format!(
                    "{} line {line_no}: {why}, skipped",
                    self.path.display()
                )),
            }
        }
        if read.entries.len() > MAX_HISTORY_ENTRIES {
            let drop = read.entries.len() - MAX_HISTORY_ENTRIES;
            read.entries.drain(..drop);
            read.warnings.push(format!(
                "{}: only the newest {MAX_HISTORY_ENTRIES} entries are used",
                self.path.display()
            ));
        }
        Ok(read)
    }
}

fn parse_line(text: &[u8]) -> std::result::Result<HistoryEntry, String> {
    let v: serde_json::Value = serde_json::from_slice(text).map_err(|e| {
        if e.is_eof() {
            "truncated (an interrupted run?)".to_string()
        } else {
            format!("not JSON ({e})")
        }
    })?;
    if v.get("format").and_then(|f| f.as_str()) != Some(HISTORY_FORMAT) {
        return Err(format!("not a {HISTORY_FORMAT} entry"));
    }
    match v.get("schema_version").and_then(|s| s.as_u64()) {
        Some(s) if s == u64::from(HISTORY_SCHEMA_VERSION) => {}
        other => {
            return Err(format!(
                "schema_version {other:?}, this guestctl reads {HISTORY_SCHEMA_VERSION}"
            ))
        }
    }
    let e: HistoryEntry =
        serde_json::from_value(v).map_err(|e| format!("does not match the schema ({e})"))?;
    if e.run.format != RESULTS_FORMAT {
        return Err("its run is not a guestctl results record".into());
    }
    Ok(e)
}

/// Reads one line into `buf` but stores at most `MAX_HISTORY_LINE_BYTES + 1` bytes
/// of it (the rest is consumed and dropped); returns the bytes consumed.
fn read_line_limited<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0usize;
    loop {
        let available = r.fill_buf()?;
        if available.is_empty() {
            return Ok(consumed);
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (MAX_HISTORY_LINE_BYTES + 1).saturating_sub(buf.len());
        buf.extend_from_slice(available.get(..chunk.min(room)).unwrap_or_default());
        r.consume(chunk);
        consumed += chunk;
        if done {
            return Ok(consumed);
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or_default()
}

/// Whether the file is non-empty and does not end with a newline.
fn ends_with_torn_line(f: &mut File) -> std::io::Result<bool> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last != [b'\n'])
}
