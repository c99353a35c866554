//! Ordinary least squares, for scaling reports ("flat in image size, linear in
//! package count").

use serde::{Deserialize, Serialize};

use crate::summary::{check_finite, check_positive};
use crate::StatsError;

/// A fitted line `y = slope·x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Coefficient of determination `1 − SS_res/SS_tot`, in [0, 1] for a
    /// least-squares fit; 1 when all `y` are equal (the horizontal line fits exactly).
    pub r_squared: f64,
}

impl LinearFit {
    /// The fitted value at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }
}

/// Least-squares line through the points `(xs[i], ys[i])`.
///
/// Errors: different lengths or non-finite values; fewer than 2 points; all `x`
/// equal (the slope is undefined).
pub fn linear_fit(xs: &[f64], ys: &[f64]) -> Result<LinearFit, StatsError> {
    check_finite(xs)?;
    check_finite(ys)?;
    if xs.len() != ys.len() {
        return Err(StatsError::InvalidArgument(format!(
            "xs and ys differ in length ({} vs {})",
            xs.len(),
            ys.len()
        )));
    }
    let n = xs.len();
    if n < 2 {
        return Err(StatsError::TooFewSamples { needed: 2, got: n });
    }
    let nf = n as f64;
    let mx = xs.iter().sum::<f64>() / nf;
    let my = ys.iter().sum::<f64>() / nf;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return Err(StatsError::InvalidArgument(
            "all x values are equal: the slope is undefined".into(),
        ));
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r_squared = if syy <= 0.0 {
        1.0
    } else {
        let ss_res: f64 = xs
            .iter()
            .zip(ys)
            .map(|(x, y)| {
                let e = y - (slope * x + intercept);
                e * e
            })
            .sum();
        (1.0 - ss_res / syy).clamp(0.0, 1.0)
    };
    Ok(LinearFit {
        slope,
        intercept,
        r_squared,
    })
}

/// [`linear_fit`] of `ln y` on `ln x` (all values > 0): the slope is the scaling
/// exponent — about 0 for "flat", about 1 for "linear", about 2 for "quadratic".
pub fn log_log_slope(xs: &[f64], ys: &[f64]) -> Result<LinearFit, StatsError> {
    check_positive(xs)?;
    check_positive(ys)?;
    let lx: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
    linear_fit(&lx, &ly)
}
