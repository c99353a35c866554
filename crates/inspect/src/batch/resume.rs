//! `--resume`: what an output file already holds, so that a killed and restarted
//! run inspects each image exactly once.
//!
//! Loading an existing output keeps its `ok` records and drops the rest: a torn
//! last line (the process was killed in the middle of a write) and `error` records
//! (those images are tried again). The file is then cut back to its complete lines,
//! or, when error records are dropped, rewritten through a temporary file renamed
//! over it (atomic: a kill during the rewrite leaves the old file). New records are
//! appended after it.
//!
//! An `ok` record is matched to the list by position and path: the same position
//! with another path means the list changed, which is refused, since the positions
//! of the output would no longer be those of the list.

use super::input::Job;
use super::stored::StoredRecord;
use crate::cache::hash64;
use crate::{ErrorKind, InspectError};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The images an output file already records as inspected.
#[derive(Debug, Default)]
pub struct Done {
    /// Position → hash of the path recorded there.
    by_index: HashMap<u64, u64>,
}

/// What loading an output file found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// `ok` records kept.
    pub ok: u64,
    /// `error` records dropped (tried again).
    pub errors_dropped: u64,
    /// Whether a torn last line was dropped.
    pub torn_line_dropped: bool,
}

fn path_hash(path: &str) -> u64 {
    hash64(path.as_bytes(), 0x5245_5355_4d45)
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> InspectError {
    InspectError::new(ErrorKind::Io, path.display().to_string(), what.to_string()).with_source(e)
}

/// One pass over the lines of `path`: `visit(line, complete)` for each line
/// (without its newline); `complete` is false for a last line with no newline.
fn each_line(
    path: &Path,
    mut visit: impl FnMut(&[u8], bool) -> Result<(), InspectError>,
) -> Result<(), InspectError> {
    let file = File::open(path).map_err(|e| io_error(path, "cannot read the output", e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, "cannot read the output", e))?;
        if n == 0 {
            return Ok(());
        }
        let complete = line.last() == Some(&b'\n');
        if complete {
            line.pop();
        }
        visit(&line, complete)?;
    }
}

/// What the first pass learns about the file.
#[derive(Default)]
struct Scan {
    done: Done,
    loaded: Loaded,
    /// Bytes of the complete lines.
    complete_len: u64,
}

fn scan(path: &Path) -> Result<Scan, InspectError> {
    let mut s = Scan::default();
    let mut number = 0u64;
    each_line(path, |line, complete| {
        number += 1;
        if !complete {
            s.loaded.torn_line_dropped = true;
            return Ok(());
        }
        s.complete_len += line.len() as u64 + 1;
        let rec = StoredRecord::parse(line).ok_or_else(|| {
            InspectError::new(
                ErrorKind::InvalidInput,
                format!("{} line {number}", path.display()),
                "not a batch record (is this file the output of guestctl batch?)",
            )
        })?;
        match rec.status {
            super::record::Status::Ok => {
                if s.done
                    .by_index
                    .insert(rec.index, path_hash(&rec.image))
                    .is_none()
                {
                    s.loaded.ok += 1;
                }
            }
            super::record::Status::Error => s.loaded.errors_dropped += 1,
        }
        Ok(())
    })?;
    Ok(s)
}

/// Rewrite `path` with only its first `ok` record of each position.
fn rewrite_ok_only(path: &Path) -> Result<(), InspectError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".resume-tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut out =
        std::io::BufWriter::new(File::create(&tmp).map_err(|e| io_error(&tmp, "cannot write", e))?);
    let mut seen = std::collections::HashSet::new();
    each_line(path, |line, complete| {
        let keep = complete
            && StoredRecord::parse(line)
                .is_some_and(|r| r.status == super::record::Status::Ok && seen.insert(r.index));
        if keep {
            out.write_all(line)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| io_error(&tmp, "cannot write", e))?;
        }
        Ok(())
    })?;
    let file = out
        .into_inner()
        .map_err(|e| io_error(&tmp, "cannot write", e.into_error()))?;
    file.sync_all()
        .map_err(|e| io_error(&tmp, "cannot write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, "cannot replace", e))
}

impl Done {
    /// Load the output `path` for resuming (see the module docs); a missing file
    /// is an empty one.
    pub fn load(path: &Path) -> Result<(Done, Loaded), InspectError> {
        if !path.exists() {
            return Ok((Done::default(), Loaded::default()));
        }
        let s = scan(path)?;
        if s.loaded.errors_dropped > 0 {
            rewrite_ok_only(path)?;
        } else if s.loaded.torn_line_dropped {
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| io_error(path, "cannot open", e))?;
            f.set_len(s.complete_len)
                .and_then(|()| f.sync_all())
                .map_err(|e| io_error(path, "cannot cut the torn last line of", e))?;
        }
        Ok((s.done, s.loaded))
    }

    /// Whether `job` is already recorded as inspected; an error if its position
    /// was recorded with another path (the list changed).
    pub fn contains(&self, job: &Job) -> Result<bool, InspectError> {
        let Some(&recorded) = self.by_index.get(&job.index) else {
            return Ok(false);
        };
        let image = job.path.display().to_string();
        if recorded == path_hash(&image) {
            return Ok(true);
        }
        Err(InspectError::new(
            ErrorKind::InvalidInput,
            image,
            format!(
                "position {} of the list held another image when the output was written: \
                 resume with the same list in the same order, or start over without --resume",
                job.index
            ),
        ))
    }

    /// How many images are recorded.
    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}
