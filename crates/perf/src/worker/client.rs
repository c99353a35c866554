//! The orchestrator's side: a worker child process (`BIN perf worker`) behind the
//! [`Worker`] trait.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::error::PerfError;
use crate::worker::protocol::{Request, Response, PROTOCOL_VERSION};
use crate::worker::{Batch, Worker};

/// A running `perf worker` of some guestctl binary.
pub struct WorkerProcess {
    label: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    tests: Vec<String>,
}

impl std::fmt::Debug for WorkerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerProcess")
            .field("label", &self.label)
            .field("tests", &self.tests.len())
            .finish_non_exhaustive()
    }
}

impl WorkerProcess {
    /// Starts `bin perf worker` and reads its hello. A binary that does not speak
    /// the protocol (an older build) or speaks another version is an error, which
    /// the caller turns into an unpaired comparison.
    pub fn spawn(bin: &Path, label: &str) -> Result<WorkerProcess, PerfError> {
        let mut child = Command::new(bin)
            .args(["perf", "worker"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| PerfError::io("starting the worker", bin, e))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(PerfError::operation("the worker's pipes were not set up"));
        };
        let mut w = WorkerProcess {
            label: label.to_string(),
            child,
            stdin,
            stdout: BufReader::new(stdout),
            tests: Vec::new(),
        };
        match w.receive()? {
            Response::Hello { protocol, tests } if protocol == PROTOCOL_VERSION => {
                w.tests = tests;
                Ok(w)
            }
            Response::Hello { protocol, .. } => Err(PerfError::operation(format!(
                "the {label} binary speaks worker protocol {protocol}, this one \
                 {PROTOCOL_VERSION}"
            ))),
            other => Err(PerfError::operation(format!(
                "the {label} binary answered {other:?} instead of hello"
            ))),
        }
    }

    /// The tests of the worker's suite.
    pub fn tests(&self) -> &[String] {
        &self.tests
    }

    /// The binary's path, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn receive(&mut self) -> Result<Response, PerfError> {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).map_err(|e| {
            PerfError::operation(format!("reading from the {} worker: {e}", self.label))
        })?;
        if n == 0 {
            return Err(PerfError::operation(format!(
                "the {} binary does not speak the worker protocol (`perf worker` ended \
                 without a word: an older build, or it crashed)",
                self.label
            )));
        }
        serde_json::from_str(line.trim_end()).map_err(|e| {
            PerfError::operation(format!("the {} worker sent a bad line: {e}", self.label))
        })
    }

    fn request(&mut self, r: &Request) -> Result<Response, PerfError> {
        let mut line = serde_json::to_vec(r)
            .map_err(|e| PerfError::operation(format!("encoding a request: {e}")))?;
        line.push(b'\n');
        self.stdin
            .write_all(&line)
            .and_then(|_| self.stdin.flush())
            .map_err(|e| {
                PerfError::operation(format!("writing to the {} worker: {e}", self.label))
            })?;
        match self.receive()? {
            Response::Error { message } => Err(PerfError::operation(format!(
                "{} build: {message}",
                self.label
            ))),
            ok => Ok(ok),
        }
    }
}

impl Worker for WorkerProcess {
    fn prepare(&mut self, test: &str, dir: &Path) -> Result<(), PerfError> {
        let r = self.request(&Request::Prepare {
            test: test.to_string(),
            dir: PathBuf::from(dir),
        })?;
        match r {
            Response::Prepared { .. } => Ok(()),
            other => Err(PerfError::operation(format!(
                "the {} worker answered {other:?} to prepare",
                self.label
            ))),
        }
    }

    fn run(
        &mut self,
        test: &str,
        iterations: usize,
        warmup: usize,
        spin_percent: f64,
    ) -> Result<Batch, PerfError> {
        let r = self.request(&Request::Run {
            test: test.to_string(),
            iterations,
            warmup,
            spin_percent,
        })?;
        match r {
            Response::Samples {
                samples, memory, ..
            } if samples.len() == iterations => Ok(Batch { samples, memory }),
            other => Err(PerfError::operation(format!(
                "the {} worker answered {other:?} to run {test} {iterations}",
                self.label
            ))),
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Best effort: a worker that already exited has closed its stdin.
        let _ = self.stdin.write_all(b"\"quit\"\n");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}
