//! Scaling analysis: how a test's median grows along one parameter (image size,
//! package count). Tests declare themselves part of a scaling series with two
//! parameters: `scaling`, the name of the parameter that varies, and that parameter
//! itself with a numeric value. Tests of one series share their `operation` key.
//!
//! Each series gets a least-squares line (median = intercept + slope · x) and the
//! slope of the log-log line (the growth exponent: about 0 for flat, 1 for linear),
//! so the report can state "flat in image size, linear in package count" from the
//! measurements rather than assert it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use guestctl_stats::{linear_fit, log_log_slope};
use serde::Serialize;

use crate::record::{RunResults, TestResult, Unit};

/// The parameter naming a test's scaling axis.
pub const SCALING_PARAM: &str = "scaling";

/// How a series grows, from its log-log exponent and its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    /// Exponent below 0.1 and the largest point within 1.5× of the smallest: the
    /// cost does not depend on the parameter.
    Flat,
    /// Not flat, exponent below 0.8.
    Sublinear,
    /// Exponent 0.8 to 1.2.
    Linear,
    /// Exponent above 1.2.
    Superlinear,
}

impl Growth {
    /// Classifies a log-log exponent `e` of a series whose largest point is `span`
    /// times its smallest.
    pub fn classify(e: f64, span: f64) -> Growth {
        if e < 0.1 && span < 1.5 {
            Growth::Flat
        } else if e < 0.8 {
            Growth::Sublinear
        } else if e <= 1.2 {
            Growth::Linear
        } else {
            Growth::Superlinear
        }
    }

    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            Growth::Flat => "flat",
            Growth::Sublinear => "sublinear",
            Growth::Linear => "linear",
            Growth::Superlinear => "superlinear",
        }
    }
}

/// One point of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingPoint {
    /// Test name.
    pub test: String,
    /// Value of the scaling parameter.
    pub x: f64,
    /// Median of the test's samples.
    pub median: f64,
}

/// A fitted series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingSeries {
    /// The operation key the tests share.
    pub operation: String,
    /// The parameter that varies.
    pub param: String,
    /// Unit of the medians.
    pub unit: Unit,
    /// Points sorted by `x`.
    pub points: Vec<ScalingPoint>,
    /// Least-squares slope: change of the median per unit of `param`.
    pub slope: f64,
    /// Least-squares intercept.
    pub intercept: f64,
    /// Coefficient of determination of the linear fit (1 = a perfect line).
    pub r_squared: f64,
    /// Slope of log(median) against log(x): the growth exponent.
    pub exponent: f64,
    /// Log-log slope between the two largest points: the growth for large inputs.
    pub tail_exponent: f64,
    /// `tail_exponent` classified (flat when the whole series is flat).
    pub growth: Growth,
    /// Ratio of the median at the largest `x` to the median at the smallest.
    pub span_ratio: f64,
}

/// Fits one series from its points (any order); `None` when fewer than two points
/// have distinct positive `x` and positive medians.
pub fn fit(
    operation: &str,
    param: &str,
    unit: Unit,
    mut points: Vec<ScalingPoint>,
) -> Option<ScalingSeries> {
    points.retain(|p| p.x.is_finite() && p.median.is_finite());
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.median).collect();
    let line = linear_fit(&xs, &ys).ok()?;
    let (slope, intercept, r_squared) = (line.slope, line.intercept, line.r_squared);
    let (lx, ly): (Vec<f64>, Vec<f64>) = points
        .iter()
        .filter(|p| p.x > 0.0 && p.median > 0.0)
        .map(|p| (p.x, p.median))
        .unzip();
    let exponent = log_log_slope(&lx, &ly).ok()?.slope;
    let first = points.first()?.median;
    let last = points.last()?.median;
    let span_ratio = if first > 0.0 { last / first } else { f64::NAN };
    // A fixed cost (opening the image) flattens the whole-series log-log slope of
    // a series that is linear for large inputs: classify by the exponent between
    // the two largest points (the growth that matters as inputs grow), unless the
    // series is flat end to end.
    let tail_exponent = match points.as_slice() {
        [.., a, b] if a.x > 0.0 && b.x > a.x && a.median > 0.0 && b.median > 0.0 => {
            (b.median / a.median).ln() / (b.x / a.x).ln()
        }
        _ => exponent,
    };
    let growth = match Growth::classify(exponent, span_ratio) {
        Growth::Flat => Growth::Flat,
        _ => Growth::classify(tail_exponent.max(0.1), f64::INFINITY),
    };
    Some(ScalingSeries {
        operation: operation.to_string(),
        param: param.to_string(),
        unit,
        span_ratio,
        points,
        slope,
        intercept,
        r_squared,
        exponent,
        tail_exponent,
        growth,
    })
}

/// The scaling series of a run: tests carrying a `scaling` parameter, grouped by
/// operation key (else the name before the first `/`) and axis.
pub fn scaling_series(run: &RunResults) -> Vec<ScalingSeries> {
    let mut groups: BTreeMap<(String, String), Vec<&TestResult>> = BTreeMap::new();
    for t in &run.tests {
        let Some(param) = t.params.get(SCALING_PARAM) else {
            continue;
        };
        let op = t
            .operation
            .clone()
            .unwrap_or_else(|| t.name.split('/').next().unwrap_or(&t.name).to_string());
        groups.entry((op, param.clone())).or_default().push(t);
    }
    groups
        .into_iter()
        .filter_map(|((op, param), tests)| {
            let unit = tests.first()?.unit;
            if tests.iter().any(|t| t.unit != unit) {
                return None;
            }
            let points = tests
                .iter()
                .filter_map(|t| {
                    let x = t.params.get(&param)?.trim().parse::<f64>().ok()?;
                    Some(ScalingPoint {
                        test: t.name.clone(),
                        x,
                        median: t.summary.median,
                    })
                })
                .collect();
            fit(&op, &param, unit, points)
        })
        .collect()
}

/// The "Scaling" section of the Markdown report (empty when the run has no series).
pub fn markdown_scaling(run: &RunResults) -> String {
    let series = scaling_series(run);
    let mut s = String::new();
    if series.is_empty() {
        return s;
    }
    let _ = writeln!(s, "\n## Scaling\n");
    let _ = writeln!(
        s,
        "Median per point; slope from a least-squares line, growth from the slope of \
         the log-log line (flat: below 0.1 with largest/smallest under 1.5×; sublinear \
         below 0.8; linear to 1.2; superlinear above).\n"
    );
    for ser in &series {
        let _ = writeln!(s, "### {} by {}\n", ser.operation, ser.param);
        let _ = writeln!(s, "| {} | Test | Median |", ser.param);
        let _ = writeln!(s, "|---:|------|-------:|");
        for p in &ser.points {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                trim_number(p.x),
                p.test,
                ser.unit.format(p.median)
            );
        }
        let _ = writeln!(
            s,
            "\nFitted: {} per {} plus {} fixed (r² {:.2}); growth exponent {:.2} over the \
             series, {:.2} between the two largest points: **{}**; largest/smallest {:.2}×.\n",
            ser.unit.format(ser.slope),
            ser.param,
            ser.unit.format(ser.intercept),
            ser.r_squared,
            ser.exponent,
            ser.tail_exponent,
            ser.growth.name(),
            ser.span_ratio
        );
    }
    s
}

fn trim_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(xy: &[(f64, f64)]) -> Vec<ScalingPoint> {
        xy.iter()
            .map(|&(x, median)| ScalingPoint {
                test: format!("t/{x}"),
                x,
                median,
            })
            .collect()
    }

    #[test]
    fn a_line_is_fitted_exactly() {
        let s = fit(
            "op",
            "n",
            Unit::Nanoseconds,
            pts(&[(1000.0, 3000.0), (100.0, 1200.0), (10000.0, 21000.0)]),
        )
        .unwrap();
        assert!((s.slope - 2.0).abs() < 1e-9, "{}", s.slope);
        assert!((s.intercept - 1000.0).abs() < 1e-6, "{}", s.intercept);
        assert!((s.r_squared - 1.0).abs() < 1e-12);
        assert_eq!(s.points[0].x, 100.0, "sorted by x");
        assert!((s.span_ratio - 17.5).abs() < 1e-9);
    }

    #[test]
    fn growth_is_classified_from_the_exponent() {
        let flat = fit(
            "op",
            "mib",
            Unit::Nanoseconds,
            pts(&[(1.0, 100.0), (10.0, 103.0), (100.0, 99.0), (1024.0, 104.0)]),
        )
        .unwrap();
        assert_eq!(flat.growth, Growth::Flat, "{}", flat.exponent);
        let linear = fit(
            "op",
            "n",
            Unit::Nanoseconds,
            pts(&[(100.0, 1.0e5), (1000.0, 1.0e6), (10000.0, 1.0e7)]),
        )
        .unwrap();
        assert!((linear.exponent - 1.0).abs() < 1e-9);
        assert_eq!(linear.growth, Growth::Linear);
        let quad = fit(
            "op",
            "n",
            Unit::Nanoseconds,
            pts(&[(10.0, 100.0), (100.0, 10_000.0), (1000.0, 1_000_000.0)]),
        )
        .unwrap();
        assert_eq!(quad.growth, Growth::Superlinear);
        assert_eq!(Growth::classify(0.5, 3.0), Growth::Sublinear);
        // A small exponent over a wide range can still hide a 2x step: not flat.
        let step = fit(
            "op",
            "mib",
            Unit::Nanoseconds,
            pts(&[
                (1.0, 950.0),
                (10.0, 941.0),
                (100.0, 975.0),
                (1024.0, 2090.0),
            ]),
        )
        .unwrap();
        assert!(step.exponent < 0.15, "{}", step.exponent);
        assert_eq!(step.growth, Growth::Sublinear);
    }

    #[test]
    fn a_fixed_cost_does_not_hide_linear_growth() {
        // 0.7 ms to open the image, then 1 µs per package (the measured deb series).
        let s = fit(
            "op",
            "n",
            Unit::Nanoseconds,
            pts(&[
                (100.0, 754_000.0),
                (1000.0, 1_700_000.0),
                (3000.0, 3_650_000.0),
                (10000.0, 10_900_000.0),
            ]),
        )
        .unwrap();
        assert!(s.exponent < 0.8, "{}", s.exponent);
        assert_eq!(s.growth, Growth::Linear);
        assert!((s.slope - 1017.0).abs() < 50.0, "{}", s.slope);
        // The measured image-size series: a step, not a line above a fixed cost.
        let step = fit(
            "op",
            "mib",
            Unit::Nanoseconds,
            pts(&[
                (1.0, 638e3),
                (10.0, 695e3),
                (100.0, 885e3),
                (1024.0, 1590e3),
            ]),
        )
        .unwrap();
        assert_eq!(step.growth, Growth::Sublinear);
    }

    #[test]
    fn degenerate_series_are_not_fitted() {
        assert!(fit("op", "n", Unit::Nanoseconds, pts(&[(1.0, 5.0)])).is_none());
        assert!(fit("op", "n", Unit::Nanoseconds, pts(&[(3.0, 5.0), (3.0, 6.0)])).is_none());
        assert!(fit("op", "n", Unit::Nanoseconds, vec![]).is_none());
    }
}
