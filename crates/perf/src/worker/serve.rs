//! The worker's side: answer [`Request`]s on a line stream with the tests of a
//! [`Suite`] (the hidden `guestctl perf worker` runs [`serve`] on stdin/stdout).

use std::io::{BufRead, Write};
use std::path::Path;

use crate::error::PerfError;
use crate::measure::{run_routine, NoObserver, Routine};
use crate::record::Params;
use crate::suite::Suite;
use crate::worker::protocol::{Request, Response, PROTOCOL_VERSION};
use crate::worker::spin::SpinClock;

/// The prepared test of a worker.
struct Prepared {
    name: String,
    routine: Box<dyn Routine>,
}

fn send(out: &mut dyn Write, r: &Response) -> Result<(), PerfError> {
    let mut line = serde_json::to_vec(r)
        .map_err(|e| PerfError::operation(format!("encoding a worker response: {e}")))?;
    line.push(b'\n');
    out.write_all(&line)
        .and_then(|_| out.flush())
        .map_err(|e| PerfError::operation(format!("writing to the orchestrator: {e}")))
}

fn prepare(suite: &mut Suite, test: &str, dir: &Path) -> Result<Prepared, PerfError> {
    let op = suite.take(test).ok_or_else(|| {
        PerfError::invalid(format!(
            "this build has no test {test:?} (or it was prepared already)"
        ))
    })?;
    std::fs::create_dir_all(dir).map_err(|e| PerfError::io("creating", dir, e))?;
    Ok(Prepared {
        name: test.to_string(),
        routine: op.into_routine(dir)?,
    })
}

fn run(
    prepared: Option<&mut Prepared>,
    test: &str,
    iterations: usize,
    warmup: usize,
    spin_percent: f64,
) -> Result<Response, PerfError> {
    let p = prepared
        .filter(|p| p.name == test)
        .ok_or_else(|| PerfError::invalid(format!("test {test:?} is not the prepared one")))?;
    if !(0.0..=1000.0).contains(&spin_percent) {
        return Err(PerfError::invalid(format!(
            "spin_percent must be in [0, 1000], got {spin_percent}"
        )));
    }
    let raw = run_routine(
        test,
        Params::new(),
        iterations,
        warmup,
        &mut SpinClock {
            percent: spin_percent,
        },
        p.routine.as_mut(),
        &mut NoObserver,
    )?;
    Ok(Response::Samples {
        test: test.to_string(),
        samples: raw.samples,
        memory: raw.memory,
    })
}

/// Serves `suite` until `quit` or the end of `input`: says hello, then answers each
/// request line. A failing request gets an `error` response and the worker goes on;
/// only a broken stream ends it with an error.
pub fn serve(
    mut suite: Suite,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), PerfError> {
    let tests = suite.names().iter().map(|s| s.to_string()).collect();
    send(
        out,
        &Response::Hello {
            protocol: PROTOCOL_VERSION,
            tests,
        },
    )?;
    let mut prepared: Option<Prepared> = None;
    let mut line = String::new();
    loop {
        line.clear();
        let n = input
            .read_line(&mut line)
            .map_err(|e| PerfError::operation(format!("reading a request: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        let answer = match serde_json::from_str::<Request>(line.trim_end()) {
            Err(e) => Err(PerfError::invalid(format!("not a worker request: {e}"))),
            Ok(Request::Quit) => return Ok(()),
            Ok(Request::Prepare { test, dir }) => {
                prepared = None;
                prepare(&mut suite, &test, &dir).map(|p| {
                    prepared = Some(p);
                    Response::Prepared { test }
                })
            }
            Ok(Request::Run {
                test,
                iterations,
                warmup,
                spin_percent,
            }) => run(prepared.as_mut(), &test, iterations, warmup, spin_percent),
        };
        let r = answer.unwrap_or_else(|e| Response::Error {
            message: e.to_string(),
        });
        send(out, &r)?;
    }
}
