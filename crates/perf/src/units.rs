//! The leaf of guestctl-perf: units, number formatting and the texts of
//! warnings — one copy, used by the Markdown, terminal and HTML reports (and the
//! dashboard's charts). Depends on nothing else in the crate.

use guestctl_stats::Warning;

/// A duration in nanoseconds, humanly: `850 ns`, `12.3 µs`, `85.0 ms`, `2.50 s`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return format!("{ns}");
    }
    let a = ns.abs();
    let (v, unit) = if a < 1e3 {
        (ns, "ns")
    } else if a < 1e6 {
        (ns / 1e3, "µs")
    } else if a < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(v))
}

/// A count with an SI prefix: `4.50 M instr`.
pub fn format_count(x: f64, unit: &str) -> String {
    let a = x.abs();
    let (v, p) = if a < 1e3 {
        (x, "")
    } else if a < 1e6 {
        (x / 1e3, "k")
    } else if a < 1e9 {
        (x / 1e6, "M")
    } else {
        (x / 1e9, "G")
    };
    if p.is_empty() {
        format!("{} {unit}", three_digits(v))
    } else {
        format!("{} {p} {unit}", three_digits(v))
    }
}

/// Bytes with binary prefixes: `12.0 MiB`.
pub fn format_bytes(x: f64) -> String {
    let a = x.abs();
    let (v, unit) = if a < 1024.0 {
        return format!("{x:.0} B");
    } else if a < 1024.0 * 1024.0 {
        (x / 1024.0, "KiB")
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        (x / (1024.0 * 1024.0), "MiB")
    } else {
        (x / (1024.0 * 1024.0 * 1024.0), "GiB")
    };
    format!("{} {unit}", three_digits(v))
}

/// Three significant digits for values from 1 to 999 (fewer decimals as it grows).
pub fn three_digits(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The display scale of values of `unit` whose largest magnitude is `max`: the
/// divisor and its unit name (`(1e6, "ms")`, `(1048576.0, "MiB")`, `(1e3, "k")`),
/// the same steps as [`format_ns`], [`format_bytes`] and [`format_count`].
pub fn scale(unit: crate::record::Unit, max: f64) -> (f64, &'static str) {
    use crate::record::Unit;
    let a = max.abs();
    let steps: [(f64, &'static str); 4] = match unit {
        Unit::Nanoseconds => [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")],
        Unit::Bytes => [
            (1024.0 * 1024.0 * 1024.0, "GiB"),
            (1024.0 * 1024.0, "MiB"),
            (1024.0, "KiB"),
            (1.0, "B"),
        ],
        _ => [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")],
    };
    steps
        .into_iter()
        .find(|(d, _)| a >= *d)
        .unwrap_or((1.0, steps[3].1))
}

/// Human text of a statistics warning.
pub fn warning_text(w: &Warning) -> String {
    match w {
        Warning::FewSamples { n } => format!(
            "only {n} iterations (at least {} recommended)",
            guestctl_stats::MIN_RECOMMENDED_SAMPLES
        ),
        Warning::HighVariance { cv } => format!(
            "high variance (CV {:.1}% > {:.0}%): results are noisy, close other programs or run more iterations",
            cv * 100.0,
            guestctl_stats::HIGH_CV * 100.0
        ),
        Warning::Outliers { count } => {
            format!("{count} outlier(s) beyond Tukey's fences (kept in the statistics)")
        }
        other => format!("{other:?}"),
    }
}
