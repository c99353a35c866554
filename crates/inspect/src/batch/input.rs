//! The image list: paths given as arguments, or read from a file or stdin one per
//! line (`--files-from`, as tar and rsync spell it), streamed so that a list of a
//! million lines takes the memory of one line.
//!
//! Empty lines are skipped and do not count as positions; a trailing `\r` is
//! dropped. A position is the 0-based number of the path among the non-empty lines,
//! the same whether the list comes from a file or from arguments.

use crate::{ErrorKind, InspectError};
use std::ffi::OsStr;
use std::io::{BufRead, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Longest line accepted in a list: far above any real path (Linux's `PATH_MAX` is
/// 4096), low enough that a list that is not a list cannot exhaust memory.
pub const MAX_LINE: usize = 64 * 1024;

/// One image to inspect: its 0-based position in the list and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Position in the list (see the module docs).
    pub index: u64,
    /// The path as listed.
    pub path: PathBuf,
}

/// The paths of a list read line by line (see the module docs).
pub struct ListReader<R> {
    reader: R,
    name: String,
    line: Vec<u8>,
    line_number: u64,
    next_index: u64,
    failed: bool,
}

impl<R: BufRead> ListReader<R> {
    /// Read the list from `reader`; `name` says where it comes from in errors.
    pub fn new(reader: R, name: impl Into<String>) -> Self {
        ListReader {
            reader,
            name: name.into(),
            line: Vec::new(),
            line_number: 0,
            next_index: 0,
            failed: false,
        }
    }

    fn error(&mut self, message: String) -> Option<Result<Job, InspectError>> {
        self.failed = true;
        Some(Err(InspectError::new(
            ErrorKind::InvalidInput,
            format!("{} line {}", self.name, self.line_number),
            message,
        )))
    }

    /// The next line into `self.line` without its terminator; false at the end.
    fn read_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        let limit = (MAX_LINE + 2) as u64;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        self.line_number += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(true)
    }
}

impl<R: BufRead> Iterator for ListReader<R> {
    type Item = Result<Job, InspectError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            match self.read_line() {
                Ok(false) => return None,
                Ok(true) if self.line.len() > MAX_LINE => {
                    return self.error(format!(
                        "a line longer than {MAX_LINE} bytes: give one image path per line"
                    ))
                }
                Ok(true) if self.line.is_empty() => continue,
                Ok(true) => {
                    let path = PathBuf::from(OsStr::from_bytes(&self.line));
                    let index = self.next_index;
                    self.next_index += 1;
                    return Some(Ok(Job { index, path }));
                }
                Err(e) => return self.error(format!("cannot read the list: {e}")),
            }
        }
        None
    }
}

/// The jobs of a list given as arguments.
pub fn from_paths(paths: Vec<PathBuf>) -> impl Iterator<Item = Result<Job, InspectError>> {
    paths.into_iter().enumerate().map(|(i, path)| {
        Ok(Job {
            index: i as u64,
            path,
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &[u8]) -> Vec<Result<Job, InspectError>> {
        ListReader::new(text, "list").collect()
    }

    #[test]
    fn lines_become_numbered_paths_skipping_empty_ones() {
        let jobs: Vec<Job> = read(b"/a.img\n\n/b c.img\r\n/d.img")
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let want = [(0, "/a.img"), (1, "/b c.img"), (2, "/d.img")];
        assert_eq!(jobs.len(), 3);
        for (j, (i, p)) in jobs.iter().zip(want) {
            assert_eq!((j.index, j.path.to_str().unwrap()), (i, p));
        }
    }

    #[test]
    fn an_overlong_line_is_an_error_naming_the_line_and_ends_the_list() {
        let mut text = b"/ok.img\n".to_vec();
        text.extend(vec![b'x'; MAX_LINE + 10]);
        text.extend(b"\n/after.img\n");
        let r = read(&text);
        assert_eq!(r.len(), 2);
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("list line 2"), "{e}");
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted() {
        let mut text = vec![b'y'; MAX_LINE];
        text.push(b'\n');
        let r = read(&text);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].as_ref().unwrap().path.as_os_str().len(), MAX_LINE);
    }
}
