//! The SVG charts of the HTML report, drawn with `plotters`' SVG backend into
//! strings (no fonts needed: text is emitted as SVG `<text>` for the browser to lay
//! out). Each function returns the `<svg>` element or a message saying why it could
//! not be drawn.

use plotters::prelude::*;
use plotters::series::DashedLineSeries;

use guestctl_perf::{TestResult, Unit};

use crate::changes::ChangePointReport;
use crate::history::Point;

/// Width of every chart, in CSS pixels.
pub const CHART_WIDTH: u32 = 560;
/// Height of every chart, in CSS pixels.
pub const CHART_HEIGHT: u32 = 300;

/// A horizontal reference line (a target) with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    /// Value in the unit of the data.
    pub value: f64,
    /// Label drawn next to it.
    pub label: String,
}

/// Divisor and unit label that make `max` (in `unit`) readable.
pub fn display_scale(unit: Unit, max: f64) -> (f64, &'static str) {
    let a = max.abs();
    match unit {
        Unit::Nanoseconds => {
            if a >= 1e9 {
                (1e9, "s")
            } else if a >= 1e6 {
                (1e6, "ms")
            } else if a >= 1e3 {
                (1e3, "µs")
            } else {
                (1.0, "ns")
            }
        }
        Unit::Bytes => {
            if a >= 1024.0 * 1024.0 * 1024.0 {
                (1024.0 * 1024.0 * 1024.0, "GiB")
            } else if a >= 1024.0 * 1024.0 {
                (1024.0 * 1024.0, "MiB")
            } else if a >= 1024.0 {
                (1024.0, "KiB")
            } else {
                (1.0, "B")
            }
        }
        _ => {
            if a >= 1e9 {
                (1e9, "G")
            } else if a >= 1e6 {
                (1e6, "M")
            } else if a >= 1e3 {
                (1e3, "k")
            } else {
                (1.0, "")
            }
        }
    }
}

/// Target lines worth drawing on a chart whose data spans `[lo, hi]`: those within
/// a factor of 10 of the data (a target 1000× above the data would flatten it; the
/// HTML lists every target in text anyway).
fn visible_lines(lines: &[RefLine], lo: f64, hi: f64) -> Vec<RefLine> {
    lines
        .iter()
        .filter(|l| {
            l.value.is_finite() && l.value > 0.0 && l.value <= hi * 10.0 && l.value >= lo / 10.0
        })
        .cloned()
        .collect()
}

/// A y range with 8 % padding around `[lo, hi]`, starting at 0 when the data is
/// close to it.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - lo.abs() * 0.1 - 1e-9, hi + hi.abs() * 0.1 + 1e-9)
    };
    let pad = (hi - lo) * 0.08;
    let bottom = if lo - pad < (hi - lo) * 0.5 && lo >= 0.0 {
        0.0
    } else {
        lo - pad
    };
    (bottom, hi + pad)
}

/// Deterministic horizontal jitter of sample `i` in `[-0.5, 0.5)` (golden-ratio
/// sequence, so points spread evenly and the chart is reproducible).
fn jitter(i: usize) -> f64 {
    ((i as f64) * 0.618_033_988_75).fract() - 0.5
}

/// An axis value with at most 3 decimals, trailing zeros removed.
fn axis_label(v: &f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

const BASE_COLOR: RGBColor = RGBColor(120, 120, 120);
const CUR_COLOR: RGBColor = RGBColor(31, 119, 180);
const TARGET_COLOR: RGBColor = RGBColor(230, 120, 0);
const CHANGE_COLOR: RGBColor = RGBColor(200, 30, 30);

/// Strip plot with box of the samples of `current` (and `baseline` beside it): each
/// sample a point, the box from Q1 to Q3, the median as a bar, the 95 % confidence
/// interval of the median as a shaded band; targets as horizontal lines.
pub fn distribution_svg(
    current: &TestResult,
    baseline: Option<&TestResult>,
    targets: &[RefLine],
) -> Result<String, String> {
    let groups: Vec<(&str, &TestResult, RGBColor)> = baseline
        .map(|b| ("baseline", b, BASE_COLOR))
        .into_iter()
        .chain(std::iter::once(("current", current, CUR_COLOR)))
        .collect();
    let all: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.1.samples.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return Err("no finite samples".into());
    }
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lines = visible_lines(targets, lo, hi);
    let hi_all = lines.iter().map(|l| l.value).fold(hi, f64::max);
    let lo_all = lines.iter().map(|l| l.value).fold(lo, f64::min);
    let (div, unit_label) = display_scale(current.unit, hi_all);
    let (y0, y1) = padded(lo_all / div, hi_all / div);
    let n_groups = groups.len() as f64;

    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        let draw = || -> DrawResult {
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(28)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..n_groups, y0..y1)
                .map_err(err)?;
            let labels: Vec<String> = groups
                .iter()
                .map(|g| format!("{} (n={})", g.0, g.1.samples.len()))
                .collect();
            let fmt_x = |x: &f64| {
                let i = (x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            };
            chart
                .configure_mesh()
                .max_light_lines(0)
                .disable_x_mesh()
                .x_labels(groups.len() * 2 + 1)
                .x_label_formatter(&fmt_x)
                .y_desc(unit_label)
                .y_label_formatter(&axis_label)
                .draw()
                .map_err(err)?;
            for (gi, (_, t, color)) in groups.iter().enumerate() {
                let center = gi as f64 + 0.5;
                let s = &t.summary;
                // CI band of the median.
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (center - 0.3, s.median_ci.lower / div),
                            (center + 0.3, s.median_ci.upper / div),
                        ],
                        color.mix(0.18).filled(),
                    )))
                    .map_err(err)?;
                // Box Q1..Q3.
                if let (Ok(q1), Ok(q3)) = (
                    guestctl_stats::percentile(&t.samples, 0.25),
                    guestctl_stats::percentile(&t.samples, 0.75),
                ) {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(center - 0.3, q1 / div), (center + 0.3, q3 / div)],
                            color.stroke_width(1),
                        )))
                        .map_err(err)?;
                }
                // Median bar.
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![
                            (center - 0.32, s.median / div),
                            (center + 0.32, s.median / div),
                        ],
                        color.stroke_width(3),
                    )))
                    .map_err(err)?;
                // Samples.
                chart
                    .draw_series(
                        t.samples
                            .iter()
                            .enumerate()
                            .filter(|(_, v)| v.is_finite())
                            .map(|(i, v)| {
                                Circle::new(
                                    (center + jitter(i) * 0.5, v / div),
                                    2,
                                    color.mix(0.6).filled(),
                                )
                            }),
                    )
                    .map_err(err)?;
            }
            draw_ref_lines(&mut chart, &lines, div, (0.0, n_groups))?;
            root.present().map_err(err)
        };
        draw()?;
    }
    Ok(svg)
}

fn draw_ref_lines<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    lines: &[RefLine],
    div: f64,
    (x0, x1): (f64, f64),
) -> DrawResult {
    for l in lines {
        let y = l.value / div;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, y), (x1, y)],
                14,
                6,
                TARGET_COLOR.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                l.label.clone(),
                (x0 + (x1 - x0) * 0.01, y),
                ("sans-serif", 12).into_font().color(&TARGET_COLOR),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The history trend of one test: the median of each run with its confidence
/// interval as an error bar, joined by a line; each detected change point as a red
/// dashed vertical line before the first run of the new level; targets as
/// horizontal lines. The x axis is the runs, oldest first, each labelled by its
/// commit and date.
pub fn trend_svg(
    series: &[Point],
    change_points: &[ChangePointReport],
    targets: &[RefLine],
) -> Result<String, String> {
    let pts: Vec<(f64, &Point)> = series
        .iter()
        .enumerate()
        .filter(|(_, p)| p.median.is_finite() && p.ci_lower.is_finite() && p.ci_upper.is_finite())
        .map(|(i, p)| ((i + 1) as f64, p))
        .collect();
    let Some(first) = pts.first() else {
        return Err("no runs in the history".into());
    };
    let unit = first.1.unit;
    let lo = pts
        .iter()
        .map(|p| p.1.ci_lower.min(p.1.median))
        .fold(f64::INFINITY, f64::min);
    let hi = pts
        .iter()
        .map(|p| p.1.ci_upper.max(p.1.median))
        .fold(f64::NEG_INFINITY, f64::max);
    let lines = visible_lines(targets, lo, hi);
    let hi_all = lines.iter().map(|l| l.value).fold(hi, f64::max);
    let lo_all = lines.iter().map(|l| l.value).fold(lo, f64::min);
    let (div, unit_label) = display_scale(unit, hi_all);
    let (y0, y1) = padded(lo_all / div, hi_all / div);
    let x1 = series.len() as f64 + 0.5;

    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        let draw = || -> DrawResult {
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(0.5..x1, y0..y1)
                .map_err(err)?;
            chart
                .configure_mesh()
                .max_light_lines(0)
                .x_desc("run: commit, date (oldest first)")
                .y_desc(unit_label)
                .x_labels(series.len().clamp(2, 8))
                .x_label_formatter(&|x| run_label(series, *x))
                .y_label_formatter(&axis_label)
                .draw()
                .map_err(err)?;
            for c in change_points {
                let x = c.index as f64 + 0.5;
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x, y0), (x, y1)],
                        14,
                        6,
                        CHANGE_COLOR.stroke_width(2),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!(
                            "{} {:+.1}%",
                            guestctl_perf::report::short_commit(&c.commit)
                                .get(..8)
                                .unwrap_or(&c.commit),
                            c.change_pct
                        ),
                        (x + 0.1, y1 - (y1 - y0) * 0.04),
                        ("sans-serif", 12).into_font().color(&CHANGE_COLOR),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(pts.iter().map(|(x, p)| {
                    PathElement::new(
                        vec![(*x, p.ci_lower / div), (*x, p.ci_upper / div)],
                        CUR_COLOR.mix(0.5).stroke_width(2),
                    )
                }))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(x, p)| (*x, p.median / div)),
                    CUR_COLOR.stroke_width(1),
                ))
                .map_err(err)?;
            chart
                .draw_series(pts.iter().map(|(x, p)| {
                    let color = if p.machine_changed {
                        TARGET_COLOR
                    } else {
                        CUR_COLOR
                    };
                    Circle::new((*x, p.median / div), 3, color.filled())
                }))
                .map_err(err)?;
            draw_ref_lines(&mut chart, &lines, div, (0.5, x1))?;
            root.present().map_err(err)
        };
        draw()?;
    }
    Ok(svg)
}

/// The label of run `x` (1-based) on the trend's x axis: its short commit and its
/// date, `1a2b3c4 01-26`; nothing between runs.
fn run_label(series: &[Point], x: f64) -> String {
    if (x - x.round()).abs() > 1e-9 || x < 1.0 {
        return String::new();
    }
    let Some(p) = series.get(x.round() as usize - 1) else {
        return String::new();
    };
    let commit = p.commit.get(..7).unwrap_or(&p.commit);
    let date = p.timestamp.get(5..10).unwrap_or("");
    format!("{commit} {date}")
}

/// One point of a scaling curve.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPoint {
    /// The parameter's value as written (`100`, `ext4`).
    pub label: String,
    /// Its numeric value, when every point of the curve has one.
    pub x: Option<f64>,
    /// Median of the current run.
    pub median: f64,
    /// Confidence interval of the median.
    pub ci: (f64, f64),
    /// Median of the baseline, when it has the test.
    pub baseline_median: Option<f64>,
}

/// Median against a parameter (log-x when numeric and spanning a factor ≥ 10;
/// categorical otherwise), with CI error bars, the baseline's medians as a grey
/// dashed line, and targets.
pub fn scaling_svg(
    param: &str,
    unit: Unit,
    points: &[ScalingPoint],
    targets: &[RefLine],
) -> Result<String, String> {
    if points.len() < 2 {
        return Err("fewer than two points".into());
    }
    let numeric: Option<Vec<f64>> = points
        .iter()
        .map(|p| p.x.filter(|x| x.is_finite()))
        .collect();
    let lo = points
        .iter()
        .map(|p| p.ci.0.min(p.median))
        .chain(points.iter().filter_map(|p| p.baseline_median))
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.ci.1.max(p.median))
        .chain(points.iter().filter_map(|p| p.baseline_median))
        .fold(f64::NEG_INFINITY, f64::max);
    if !(lo.is_finite() && hi.is_finite()) {
        return Err("no finite medians".into());
    }
    let lines = visible_lines(targets, lo, hi);
    let hi_all = lines.iter().map(|l| l.value).fold(hi, f64::max);
    let lo_all = lines.iter().map(|l| l.value).fold(lo, f64::min);
    let (div, unit_label) = display_scale(unit, hi_all);
    let (y0, y1) = padded(lo_all / div, hi_all / div);

    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        let draw = || -> DrawResult {
            root.fill(&WHITE).map_err(err)?;
            match &numeric {
                Some(xs)
                    if xs.iter().all(|x| *x > 0.0)
                        && xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                            / xs.iter().copied().fold(f64::INFINITY, f64::min)
                            >= 10.0 =>
                {
                    let xmin = xs.iter().copied().fold(f64::INFINITY, f64::min) / 1.5;
                    let xmax = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 1.5;
                    let mut chart = ChartBuilder::on(&root)
                        .margin(12)
                        .x_label_area_size(36)
                        .y_label_area_size(64)
                        .build_cartesian_2d((xmin..xmax).log_scale(), y0..y1)
                        .map_err(err)?;
                    chart
                        .configure_mesh()
                        .max_light_lines(0)
                        .max_light_lines(0)
                        .x_label_formatter(&axis_label)
                        .x_desc(format!("{param} (log scale)"))
                        .y_desc(unit_label)
                        .y_label_formatter(&axis_label)
                        .draw()
                        .map_err(err)?;
                    let xy: Vec<(f64, &ScalingPoint)> =
                        xs.iter().copied().zip(points.iter()).collect();
                    draw_curve(&mut chart, &xy, div)?;
                    for l in &lines {
                        chart
                            .draw_series(DashedLineSeries::new(
                                vec![(xmin, l.value / div), (xmax, l.value / div)],
                                14,
                                6,
                                TARGET_COLOR.stroke_width(2),
                            ))
                            .map_err(err)?;
                        chart
                            .draw_series(std::iter::once(Text::new(
                                l.label.clone(),
                                (xmin * 1.05, l.value / div),
                                ("sans-serif", 12).into_font().color(&TARGET_COLOR),
                            )))
                            .map_err(err)?;
                    }
                }
                _ => {
                    let n = points.len() as f64;
                    let xs: Vec<f64> = match &numeric {
                        Some(v) => v.clone(),
                        None => (0..points.len()).map(|i| i as f64 + 0.5).collect(),
                    };
                    let (xmin, xmax) = if numeric.is_some() {
                        let a = xs.iter().copied().fold(f64::INFINITY, f64::min);
                        let b = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let pad = ((b - a) * 0.1).max(1e-9);
                        (a - pad, b + pad)
                    } else {
                        (0.0, n)
                    };
                    let mut chart = ChartBuilder::on(&root)
                        .margin(12)
                        .x_label_area_size(36)
                        .y_label_area_size(64)
                        .build_cartesian_2d(xmin..xmax, y0..y1)
                        .map_err(err)?;
                    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
                    let categorical = numeric.is_none();
                    let fmt_x = |x: &f64| {
                        if !categorical {
                            return axis_label(x);
                        }
                        let i = (x - 0.5).round();
                        if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                            labels.get(i as usize).cloned().unwrap_or_default()
                        } else {
                            String::new()
                        }
                    };
                    chart
                        .configure_mesh()
                        .max_light_lines(0)
                        .max_light_lines(0)
                        .x_desc(param)
                        .y_desc(unit_label)
                        .x_labels(if categorical { points.len() * 2 + 1 } else { 8 })
                        .x_label_formatter(&fmt_x)
                        .y_label_formatter(&axis_label)
                        .draw()
                        .map_err(err)?;
                    let xy: Vec<(f64, &ScalingPoint)> =
                        xs.iter().copied().zip(points.iter()).collect();
                    draw_curve(&mut chart, &xy, div)?;
                    draw_ref_lines(&mut chart, &lines, div, (xmin, xmax))?;
                }
            }
            root.present().map_err(err)
        };
        draw()?;
    }
    Ok(svg)
}

fn draw_curve<DB: DrawingBackend, X: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, plotters::coord::types::RangedCoordf64>>,
    xy: &[(f64, &ScalingPoint)],
    div: f64,
) -> DrawResult {
    let base: Vec<(f64, f64)> = xy
        .iter()
        .filter_map(|(x, p)| p.baseline_median.map(|b| (*x, b / div)))
        .collect();
    if base.len() >= 2 {
        chart
            .draw_series(DashedLineSeries::new(
                base.clone(),
                5,
                4,
                BASE_COLOR.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    chart
        .draw_series(
            base.iter()
                .map(|&(x, y)| Circle::new((x, y), 3, BASE_COLOR.filled())),
        )
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(xy.iter().map(|(x, p)| {
            PathElement::new(
                vec![(*x, p.ci.0 / div), (*x, p.ci.1 / div)],
                CUR_COLOR.mix(0.5).stroke_width(2),
            )
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            xy.iter().map(|(x, p)| (*x, p.median / div)),
            CUR_COLOR.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            xy.iter()
                .map(|(x, p)| Circle::new((*x, p.median / div), 4, CUR_COLOR.filled())),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}
