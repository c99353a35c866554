//! The relative summary of several benchmarked commands, as hyperfine prints it:
//! "`a` ran 2.05 ± 0.03 times faster than `b`". The ratio is of the means, and its
//! standard deviation is propagated from the two commands' (first-order error
//! propagation of a quotient, hyperfine's formula).

use crate::record::TestResult;

/// How much slower one command ran than the fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct Relative {
    /// The command's test name.
    pub name: String,
    /// Its mean over the fastest command's mean (≥ 1).
    pub ratio: f64,
    /// Standard deviation of `ratio`; `None` when either mean is zero.
    pub ratio_sd: Option<f64>,
}

/// The relative summary of `results`: the index of the fastest (lowest mean), and
/// every other result relative to it, fastest first. `None` for fewer than two
/// results or a non-finite mean.
pub fn relative_to_fastest(results: &[TestResult]) -> Option<(usize, Vec<Relative>)> {
    if results.len() < 2 || results.iter().any(|r| !r.summary.mean.is_finite()) {
        return None;
    }
    let fastest = (0..results.len())
        .min_by(|&a, &b| results[a].summary.mean.total_cmp(&results[b].summary.mean))?;
    let f = &results[fastest].summary;
    let mut others: Vec<Relative> = results
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != fastest)
        .map(|(_, r)| {
            let s = &r.summary;
            let ratio = s.mean / f.mean;
            let ratio_sd = (s.mean > 0.0 && f.mean > 0.0).then(|| {
                ratio * ((s.std_dev / s.mean).powi(2) + (f.std_dev / f.mean).powi(2)).sqrt()
            });
            Relative {
                name: r.name.clone(),
                ratio,
                ratio_sd,
            }
        })
        .collect();
    others.sort_by(|a, b| a.ratio.total_cmp(&b.ratio));
    Some((fastest, others))
}

/// The summary as text:
///
/// ```text
/// Summary
///   a ran
///     2.05 ± 0.03 times faster than b
/// ```
pub fn summary_text(results: &[TestResult]) -> Option<String> {
    let (fastest, others) = relative_to_fastest(results)?;
    let mut s = format!("Summary\n  {} ran\n", results[fastest].name);
    for o in others {
        let sd = o.ratio_sd.map(|v| format!(" ± {v:.2}")).unwrap_or_default();
        s.push_str(&format!(
            "    {:.2}{sd} times faster than {}\n",
            o.ratio, o.name
        ));
    }
    Some(s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::measure::{analyse, RawRun};
    use crate::record::{Params, Unit};

    fn result(name: &str, samples: Vec<f64>) -> TestResult {
        analyse(
            RawRun {
                name: name.into(),
                params: Params::new(),
                unit: Unit::Nanoseconds,
                warmup: 0,
                samples,
                memory: None,
                peak_rss_bytes: None,
            },
            &guestctl_stats::Options {
                bootstrap_resamples: 100,
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn the_fastest_is_named_and_the_others_relative_to_it() {
        let fast = result("a", vec![9.0, 10.0, 11.0, 10.0]);
        let slow = result("b", vec![19.0, 21.0, 20.0, 20.0]);
        let slower = result("c", vec![40.0; 4]);
        let (i, rel) = relative_to_fastest(&[slow.clone(), slower, fast.clone()]).unwrap();
        assert_eq!(i, 2);
        assert_eq!(rel[0].name, "b");
        assert!((rel[0].ratio - 2.0).abs() < 1e-12);
        // Error propagation: 2 × sqrt((σb/20)² + (σa/10)²).
        let (sa, sb) = (fast.summary.std_dev, slow.summary.std_dev);
        let want = 2.0 * ((sb / 20.0).powi(2) + (sa / 10.0).powi(2)).sqrt();
        assert!((rel[0].ratio_sd.unwrap() - want).abs() < 1e-12);
        assert!((rel[1].ratio - 4.0).abs() < 1e-12);
        let text = summary_text(&[fast, slow]).unwrap();
        assert!(text.starts_with("Summary\n  a ran\n    2.00 ± "), "{text}");
        assert!(text.ends_with(" times faster than b\n"), "{text}");
    }

    #[test]
    fn one_command_has_no_summary() {
        assert!(relative_to_fastest(&[result("a", vec![1.0, 2.0])]).is_none());
    }
}
