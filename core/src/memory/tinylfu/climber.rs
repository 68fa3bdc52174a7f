//! Caffeine's hill climber: moves the split between the window and main towards the
//! one that hits more, one sample of requests at a time.
//!
//! After each sample it compares the hit rate with the last sample's. If the rate
//! did not fall, it steps on in the same direction, else it turns back; the step
//! decays by 2% a sample, and restarts at its full size when the rate jumps by 5
//! points (the workload changed). Integers only: the core has no floating point
//! functions without `std`.

/// Shares and rates are in millionths.
pub(super) const WHOLE: i64 = 1_000_000;
/// A full step: 6.25% of the entries.
const STEP: i64 = 62_500;
/// A change of hit rate that restarts the full step: 5 points.
const RESTART: i64 = 50_000;

#[derive(Clone, Debug)]
pub(super) struct Climber {
    hits: u32,
    misses: u32,
    /// The last sample's hit rate.
    previous: i64,
    /// The next step, signed: towards a larger window when positive.
    step: i64,
}

impl Climber {
    pub(super) const fn new() -> Self {
        Climber {
            hits: 0,
            misses: 0,
            previous: 0,
            // As Caffeine starts: towards a smaller window.
            step: -STEP,
        }
    }

    #[inline]
    pub(super) fn record(&mut self, hit: bool) {
        if hit {
            self.hits = self.hits.saturating_add(1);
        } else {
            self.misses = self.misses.saturating_add(1);
        }
    }

    /// Once `sample` requests were recorded: how much to change the window's share, in
    /// millionths of the entries, and a new sample begins.
    #[inline]
    pub(super) fn adjustment(&mut self, sample: usize) -> Option<i64> {
        let requests = u64::from(self.hits) + u64::from(self.misses);
        if requests < sample as u64 || requests == 0 {
            return None;
        }
        Some(self.climb(requests))
    }

    fn climb(&mut self, requests: u64) -> i64 {
        let rate = (u64::from(self.hits) * WHOLE as u64 / requests) as i64;
        let change = rate - self.previous;
        let amount = if change >= 0 { self.step } else { -self.step };
        self.step = if change.abs() >= RESTART {
            if amount >= 0 { STEP } else { -STEP }
        } else {
            amount * 98 / 100
        };
        self.previous = rate;
        self.hits = 0;
        self.misses = 0;
        amount
    }

    /// Reverses the next step: the last one could not be taken in full.
    pub(super) fn turn(&mut self) {
        self.step = -self.step;
    }

    pub(super) fn clear(&mut self) {
        *self = Climber::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(climber: &mut Climber, hits: u32, misses: u32) -> i64 {
        for _ in 0..hits {
            climber.record(true);
        }
        for _ in 0..misses {
            climber.record(false);
        }
        climber.adjustment((hits + misses) as usize).unwrap()
    }

    #[test]
    fn keeps_going_while_the_rate_rises_and_turns_when_it_falls() {
        let mut climber = Climber::new();
        assert_eq!(climber.adjustment(10), None);
        // 0 -> 50%: a jump, so the full step, in the starting direction.
        assert_eq!(sample(&mut climber, 50, 50), -STEP);
        // 50% -> 60%: still rising, on the same way at full size (a 10-point jump).
        assert_eq!(sample(&mut climber, 60, 40), -STEP);
        // 60% -> 58%: falling, so back the other way, decayed next time.
        assert_eq!(sample(&mut climber, 58, 42), STEP);
        assert_eq!(sample(&mut climber, 58, 42), STEP * 98 / 100);
    }
}
