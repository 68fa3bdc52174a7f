//! How large the window should be, by a split test: one half of the key space runs
//! with a window a third smaller than the current choice, the other with one half
//! larger. After each sample of requests, the choice moves to the half that hit more,
//! if by more than chance (two standard errors): a workload's own drift affects both
//! halves alike, so it cannot pass for the effect of the window.
//!
//! Integers only: the core has no floating point functions without `std`.

/// Shares are in millionths of a half's entries.
const WHOLE: u128 = 1_000_000;
/// The choice to begin with: a window of 1%, as Caffeine's.
const FIRST: u128 = WHOLE / 100;
/// The choice stays within 0.3% and 90% (the larger window within 99.9%).
const LEAST: u128 = 3_000;
const MOST: u128 = 900_000;
const LARGEST: u128 = WHOLE - WHOLE / 1_000;

#[derive(Clone, Debug)]
pub(super) struct Split {
    /// The current choice of the window's share.
    choice: u128,
    /// Requests and hits of each half in this sample.
    requests: [u64; 2],
    hits: [u64; 2],
}

impl Split {
    pub(super) const fn new() -> Self {
        Split {
            choice: FIRST,
            requests: [0; 2],
            hits: [0; 2],
        }
    }

    /// The window's share in `half`: the smaller one in half 0, the larger in half 1.
    fn share(&self, half: usize) -> u128 {
        match half {
            0 => self.choice * 2 / 3,
            _ => (self.choice * 3 / 2).min(LARGEST),
        }
    }

    /// How many entries the window of `half` holds, of its `entries`: at least one.
    #[inline]
    pub(super) fn window(&self, half: usize, entries: usize) -> usize {
        ((entries as u128 * self.share(half) / WHOLE) as usize).max(1)
    }

    /// Counts a hit in `half`.
    #[inline]
    pub(super) fn hit(&mut self, half: usize) {
        self.requests[half] += 1;
        self.hits[half] += 1;
    }

    /// Counts a miss in `half`, and decides once `sample` requests were counted.
    pub(super) fn miss(&mut self, half: usize, sample: usize) {
        self.requests[half] += 1;
        if self.requests[0] + self.requests[1] >= sample as u64 {
            self.decide();
        }
    }

    fn decide(&mut self) {
        let [n0, n1] = self.requests.map(u128::from);
        let [h0, h1] = self.hits.map(u128::from);
        self.restart();
        if n0 == 0 || n1 == 0 {
            return;
        }
        let (p0, p1) = (h0 * WHOLE / n0, h1 * WHOLE / n1);
        let p = (h0 + h1) * WHOLE / (n0 + n1);
        // The standard error of p1 - p0 under "no difference", in millionths.
        let error = (p * (WHOLE - p) * (n0 + n1) / (n0 * n1)).isqrt();
        if p1 > p0 + 2 * error {
            self.choice = (self.choice * 3 / 2).min(MOST);
        } else if p0 > p1 + 2 * error {
            self.choice = (self.choice * 2 / 3).max(LEAST);
        }
    }

    /// Starts a new sample, keeping the choice.
    pub(super) fn restart(&mut self) {
        self.requests = [0; 2];
        self.hits = [0; 2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(split: &mut Split, hits: [u64; 2], requests: u64) {
        for (half, hits) in hits.into_iter().enumerate() {
            for n in 0..requests {
                if n < hits {
                    split.hit(half);
                } else {
                    split.miss(half, usize::MAX);
                }
            }
        }
        split.decide();
    }

    #[test]
    fn moves_towards_the_half_that_hits_more() {
        let mut split = Split::new();
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (6, 15));
        sample(&mut split, [400, 500], 1_000);
        assert_eq!(split.choice, FIRST * 3 / 2);
        sample(&mut split, [500, 400], 1_000);
        sample(&mut split, [500, 400], 1_000);
        assert_eq!(split.choice, FIRST * 3 / 2 * 2 / 3 * 2 / 3);
    }

    #[test]
    fn stays_when_the_difference_is_chance() {
        let mut split = Split::new();
        sample(&mut split, [500, 510], 1_000);
        assert_eq!(split.choice, FIRST);
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut split = Split::new();
        for _ in 0..40 {
            sample(&mut split, [0, 1_000], 1_000);
        }
        assert_eq!(split.choice, MOST);
        assert!(split.window(1, 1_000) <= 999);
        for _ in 0..40 {
            sample(&mut split, [1_000, 0], 1_000);
        }
        assert_eq!(split.choice, LEAST);
        assert_eq!(split.window(0, 100), 1);
    }
}
