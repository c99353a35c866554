//! Exports for existing dashboards and CI, each returning bytes (no I/O):
//!
//! * [`bmf_json`]: Bencher Metric Format, for `bencher run --adapter json --file`.
//! * [`github_benchmark_json`]: github-action-benchmark's `customSmallerIsBetter`.
//!
//! JUnit XML is [`crate::junit`].

use guestctl_perf::{RunResults, Unit};
use serde_json::{json, Map, Value};

/// Bencher's measure slug and the unit name for a [`Unit`]: `latency` (ns, built into
/// every Bencher project), `instructions`, `bytes` (created on first use).
pub fn measure_of(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::Nanoseconds => ("latency", "ns"),
        Unit::Instructions => ("instructions", "instructions"),
        Unit::Bytes => ("bytes", "bytes"),
        _ => ("value", "units"),
    }
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Bencher Metric Format JSON of `run`: `{ "<test>": { "latency": { "value": median,
/// "lower_value": CI lower, "upper_value": CI upper } } }` (medians and the 95 %
/// bootstrap interval of the median, in the test's unit). Tests whose figures are
/// not finite are left out.
pub fn bmf_json(run: &RunResults) -> Vec<u8> {
    let mut root = Map::new();
    for t in &run.tests {
        let s = &t.summary;
        if ![s.median, s.median_ci.lower, s.median_ci.upper]
            .iter()
            .all(|v| v.is_finite())
        {
            continue;
        }
        let (measure, _) = measure_of(t.unit);
        let mut m = Map::new();
        m.insert(
            measure.into(),
            json!({
                "value": number(s.median),
                "lower_value": number(s.median_ci.lower),
                "upper_value": number(s.median_ci.upper),
            }),
        );
        root.insert(t.name.clone(), Value::Object(m));
    }
    pretty(&Value::Object(root))
}

/// github-action-benchmark `customSmallerIsBetter` JSON of `run`:
/// `[{"name", "unit", "value", "range", "extra"}]` with the median as value, `± half
/// the CI width` as range and n, the interval, the commit in `extra`.
pub fn github_benchmark_json(run: &RunResults) -> Vec<u8> {
    let items: Vec<Value> = run
        .tests
        .iter()
        .filter(|t| t.summary.median.is_finite())
        .map(|t| {
            let s = &t.summary;
            let (_, unit) = measure_of(t.unit);
            let half = (s.median_ci.upper - s.median_ci.lower) / 2.0;
            json!({
                "name": t.name,
                "unit": unit,
                "value": number(s.median),
                "range": format!("± {}", trim_float(half)),
                "extra": format!(
                    "n={}, median 95% CI [{}, {}], mean {}, p95 {}\ncommit {}",
                    s.n,
                    trim_float(s.median_ci.lower),
                    trim_float(s.median_ci.upper),
                    trim_float(s.mean),
                    trim_float(s.p95),
                    run.git_commit
                ),
            })
        })
        .collect();
    pretty(&Value::Array(items))
}

/// Pretty JSON with a final newline. A `Value` always serialises (its `Display`
/// cannot fail), so there is no error to report.
fn pretty(v: &Value) -> Vec<u8> {
    format!("{v:#}\n").into_bytes()
}

/// A float with at most 3 decimals, trailing zeros removed.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_lose_trailing_zeros() {
        assert_eq!(trim_float(1.5), "1.5");
        assert_eq!(trim_float(2.0), "2");
    }
}
