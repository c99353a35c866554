//! `--output FILE`: records appended to a file, each with a single `write` of the
//! whole line (a reader, or a kill, never sees half a record followed by another),
//! and the file synced to disk at the end.

use super::resume::{Done, Loaded};
use crate::{ErrorKind, InspectError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An output file records are appended to.
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    path: PathBuf,
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> InspectError {
    InspectError::new(ErrorKind::Io, path.display().to_string(), what.to_string()).with_source(e)
}

impl OutputFile {
    /// Create (or empty) `path`.
    pub fn create(path: &Path) -> Result<OutputFile, InspectError> {
        File::create(path).map_err(|e| io_error(path, "cannot create the output", e))?;
        Self::append(path)
    }

    /// Open `path` to continue an interrupted run: load what it holds (cutting a
    /// torn last line, dropping error records; see [`Done::load`]), then append.
    pub fn resume(path: &Path) -> Result<(OutputFile, Done, Loaded), InspectError> {
        let (done, loaded) = Done::load(path)?;
        Ok((Self::append(path)?, done, loaded))
    }

    fn append(path: &Path) -> Result<OutputFile, InspectError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(path, "cannot open the output", e))?;
        Ok(OutputFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Append one record line (newline included) with one write.
    pub fn write_line(&mut self, line: &[u8]) -> Result<(), InspectError> {
        self.file
            .write_all(line)
            .map_err(|e| io_error(&self.path, "cannot write to the output", e))
    }

    /// Sync the file to disk (data and size); nothing to sync for a device or a
    /// pipe (`--output /dev/stdout`), which refuse it.
    pub fn finish(self) -> Result<(), InspectError> {
        let regular = self.file.metadata().is_ok_and(|m| m.is_file());
        if !regular {
            return Ok(());
        }
        self.file
            .sync_all()
            .map_err(|e| io_error(&self.path, "cannot sync the output", e))
    }
}
