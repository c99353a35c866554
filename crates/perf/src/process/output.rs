//! What `perf bench` shows and exports for its commands, hyperfine's way: per
//! command the mean ± σ with user and system time, the range and the median with
//! its confidence interval; a Markdown table and CSV rows with the relative speed.
//! Every function returns text and does no I/O. (The JSON export is the results
//! file itself, [`crate::RunResults`].)

use crate::process::relative::relative_to_fastest;
use crate::record::TestResult;

/// A time unit chosen for a group of figures, so that they read side by side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeUnit {
    /// `s`, `ms`, `µs` or `ns`.
    pub name: &'static str,
    /// Nanoseconds per unit.
    pub ns: f64,
}

impl TimeUnit {
    /// The largest unit in which `ns` is at least 1.
    pub fn for_ns(ns: f64) -> TimeUnit {
        let (name, per) = if ns >= 1e9 {
            ("s", 1e9)
        } else if ns >= 1e6 {
            ("ms", 1e6)
        } else if ns >= 1e3 {
            ("µs", 1e3)
        } else {
            ("ns", 1.0)
        };
        TimeUnit { name, ns: per }
    }

    /// `ns` in this unit, one decimal (`12.3`), without the unit's name.
    pub fn number(self, ns: f64) -> String {
        format!("{:.1}", ns / self.ns)
    }

    /// `ns` in this unit with its name (`12.3 ms`).
    pub fn format(self, ns: f64) -> String {
        format!("{} {}", self.number(ns), self.name)
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Mean user and system CPU time of a command's runs, in nanoseconds.
pub fn cpu_means(r: &TestResult) -> (Option<f64>, Option<f64>) {
    match &r.process {
        Some(p) => (mean(&p.user_ns), mean(&p.sys_ns)),
        None => (None, None),
    }
}

/// One command's result, as hyperfine prints it (`index` counts from 1):
///
/// ```text
/// Benchmark 1: sleep 0.01
///   Time (mean ± σ):     10.9 ms ±  0.2 ms    [User: 0.6 ms, System: 0.3 ms]
///   Range (min … max):   10.6 ms … 11.4 ms    10 runs
///   Median (95% CI):     10.9 ms (10.8 ms … 11.0 ms)
/// ```
pub fn result_text(index: usize, r: &TestResult) -> String {
    let s = &r.summary;
    let u = TimeUnit::for_ns(s.mean);
    let (user, sys) = cpu_means(r);
    let cpu = match (user, sys) {
        (Some(user), Some(sys)) => {
            format!("    [User: {}, System: {}]", u.format(user), u.format(sys))
        }
        _ => String::new(),
    };
    let mut text = format!("Benchmark {index}: {}\n", r.name);
    let command = r.params.get("command").filter(|c| **c != r.name);
    if let Some(c) = command {
        text.push_str(&format!("  Command:             {c}\n"));
    }
    text.push_str(&format!(
        "  Time (mean ± σ):     {} ± {}{cpu}\n",
        u.format(s.mean),
        u.format(s.std_dev)
    ));
    text.push_str(&format!(
        "  Range (min … max):   {} … {}    {} runs\n",
        u.format(s.min),
        u.format(s.max),
        s.n
    ));
    text.push_str(&format!(
        "  Median (95% CI):     {} ({} … {})\n",
        u.format(s.median),
        u.format(s.median_ci.lower),
        u.format(s.median_ci.upper)
    ));
    text
}

/// Each result's mean over the fastest's, in input order (1.00 for the fastest).
fn relative_column(results: &[TestResult]) -> Vec<String> {
    let Some((fastest, rel)) = relative_to_fastest(results) else {
        return results.iter().map(|_| "1.00".to_string()).collect();
    };
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i == fastest {
                return "1.00".to_string();
            }
            rel.iter()
                .find(|x| x.name == r.name)
                .map(|x| {
                    let sd = x.ratio_sd.map(|v| format!(" ± {v:.2}")).unwrap_or_default();
                    format!("{:.2}{sd}", x.ratio)
                })
                .unwrap_or_default()
        })
        .collect()
}

/// hyperfine's Markdown table: command, mean ± σ, min, max (one unit for all) and
/// the speed relative to the fastest.
pub fn markdown_table(results: &[TestResult]) -> String {
    let smallest = results
        .iter()
        .map(|r| r.summary.mean)
        .fold(f64::INFINITY, f64::min);
    let u = TimeUnit::for_ns(smallest);
    let mut s = format!(
        "| Command | Mean [{n}] | Min [{n}] | Max [{n}] | Relative |\n|:---|---:|---:|---:|---:|\n",
        n = u.name
    );
    for (r, rel) in results.iter().zip(relative_column(results)) {
        let m = &r.summary;
        s.push_str(&format!(
            "| `{}` | {} ± {} | {} | {} | {rel} |\n",
            r.name.replace('|', "\\|").replace('`', "'"),
            u.number(m.mean),
            u.number(m.std_dev),
            u.number(m.min),
            u.number(m.max),
        ));
    }
    s
}

/// CSV, one row per command, times in seconds: `command, mean, stddev, median,
/// median_ci_lower, median_ci_upper, user, system, min, max, runs, relative`.
pub fn csv_rows(results: &[TestResult]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "command",
        "mean",
        "stddev",
        "median",
        "median_ci_lower",
        "median_ci_upper",
        "user",
        "system",
        "min",
        "max",
        "runs",
        "relative",
    ])?;
    let secs = |ns: f64| format!("{}", ns / 1e9);
    let relative = relative_to_fastest(results);
    for (i, r) in results.iter().enumerate() {
        let m = &r.summary;
        let (user, sys) = cpu_means(r);
        let rel = match &relative {
            Some((fastest, rel)) if *fastest != i => rel
                .iter()
                .find(|x| x.name == r.name)
                .map_or(String::new(), |x| x.ratio.to_string()),
            _ => "1".to_string(),
        };
        w.write_record([
            r.name.clone(),
            secs(m.mean),
            secs(m.std_dev),
            secs(m.median),
            secs(m.median_ci.lower),
            secs(m.median_ci.upper),
            user.map(secs).unwrap_or_default(),
            sys.map(secs).unwrap_or_default(),
            secs(m.min),
            secs(m.max),
            m.n.to_string(),
            rel,
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
