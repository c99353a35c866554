//! The self-check's injected slowdown: a wall-clock measurement that adds busy work
//! inside each measured iteration, proportional to the iteration's own time.

use std::time::{Duration, Instant};

use crate::error::PerfError;
use crate::measure::{Measurement, Routine};
use crate::record::Unit;

/// [`crate::WallClock`] plus `percent` % of each iteration's time spent computing
/// (not sleeping: the extra time competes for the CPU like slower code would).
#[derive(Debug, Clone, Copy)]
pub struct SpinClock {
    /// Added time, in percent of the routine's own time.
    pub percent: f64,
}

/// Computes until `until`; returns a value so the work is not optimised away.
fn busy_until(until: Instant) -> u64 {
    let mut acc = 0u64;
    while Instant::now() < until {
        for i in 0..256u64 {
            acc = acc
                .wrapping_mul(6364136223846793005)
                .wrapping_add(i ^ (acc >> 17));
        }
    }
    acc
}

impl Measurement for SpinClock {
    fn name(&self) -> &'static str {
        "wall_clock"
    }
    fn unit(&self) -> Unit {
        Unit::Nanoseconds
    }
    fn measure(&mut self, routine: &mut dyn Routine) -> Result<f64, PerfError> {
        let start = Instant::now();
        routine.run()?;
        let own = start.elapsed();
        if self.percent > 0.0 {
            let extra = Duration::from_secs_f64(own.as_secs_f64() * self.percent / 100.0);
            std::hint::black_box(busy_until(start + own + extra));
        }
        Ok(start.elapsed().as_nanos() as f64)
    }
}
