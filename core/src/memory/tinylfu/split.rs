//! How large the window should be, by a split test: one half of the key space runs
//! with a window a third smaller than the current choice, the other with one half
//! larger, and the halves swap roles after every sample of requests. After each pair
//! of samples, the choice moves to the role that hit more, if by more than chance
//! (two standard errors). A workload's own drift affects both halves alike, so it
//! cannot pass for the effect of the window; and as each half plays each role for a
//! sample, a half whose keys are simply more popular favours neither. The first
//! quarter of a sample after a swap is not counted: the windows are still moving.
//!
//! Integers only: the core has no floating point functions without `std`.

/// Shares are in millionths of a half's entries.
const WHOLE: u64 = 1_000_000;
/// The choice to begin with: a window of 1%, as Caffeine's.
const FIRST: u64 = WHOLE / 100;
/// The choice stays within 0.3% and 90% (the larger window within 99.9%).
const LEAST: u64 = 3_000;
const MOST: u64 = 900_000;
const LARGEST: u64 = WHOLE - WHOLE / 1_000;

/// The part of a sample after a swap that is not counted, as a divisor.
const SETTLE: u64 = 4;

/// The roles, as indices of the counts.
const SMALLER: usize = 0;
const LARGER: usize = 1;

#[derive(Clone, Debug)]
pub(super) struct Split {
    /// The current choice of the window's share.
    choice: u64,
    /// The half that runs the larger window this sample.
    larger: usize,
    /// Requests and hits under each role in this pair of samples.
    requests: [u64; 2],
    hits: [u64; 2],
    /// Whether this is the pair's second sample.
    second: bool,
    /// Requests since the roles last swapped: the first quarter of a sample, while the
    /// windows move to their new sizes, is not counted.
    since_swap: u64,
    /// Requests a sample counts (after as many settling).
    sample: u64,
}

impl Split {
    pub(super) const fn new() -> Self {
        Split {
            choice: FIRST,
            larger: 1,
            requests: [0; 2],
            hits: [0; 2],
            second: false,
            since_swap: 0,
            sample: u64::MAX,
        }
    }

    fn settling(&self) -> bool {
        self.since_swap <= self.sample / SETTLE
    }

    fn role(&self, half: usize) -> usize {
        if half == self.larger { LARGER } else { SMALLER }
    }

    /// The window's share in `half`, by its role this sample.
    fn share(&self, half: usize) -> u64 {
        match self.role(half) {
            SMALLER => self.choice * 2 / 3,
            _ => (self.choice * 3 / 2).min(LARGEST),
        }
    }

    /// How many entries the window of `half` holds, of its `entries`: at least one.
    /// In `u64`: a store holds under 2^32 entries and a share is under 2^20, and a
    /// division of a `u128` would be a call on every insert.
    #[inline]
    pub(super) fn window(&self, half: usize, entries: usize) -> usize {
        ((entries as u64).saturating_mul(self.share(half)) / WHOLE).max(1) as usize
    }

    /// Counts a hit in `half`.
    #[inline]
    pub(super) fn hit(&mut self, half: usize) {
        self.since_swap += 1;
        if self.settling() {
            return;
        }
        let role = self.role(half);
        self.requests[role] += 1;
        self.hits[role] += 1;
    }

    /// Counts a miss in `half`; once the sample holds `sample` requests, swaps the
    /// roles, and after a pair of samples decides.
    pub(super) fn miss(&mut self, half: usize, sample: usize) {
        self.since_swap += 1;
        self.sample = sample as u64;
        if !self.settling() {
            let role = self.role(half);
            self.requests[role] += 1;
        }
        if self.since_swap >= self.sample + self.sample / SETTLE {
            self.since_swap = 0;
            self.larger = 1 - self.larger;
            if self.second {
                self.decide();
            }
            self.second = !self.second;
        }
    }

    fn decide(&mut self) {
        let [n0, n1] = self.requests.map(u128::from);
        let [h0, h1] = self.hits.map(u128::from);
        self.requests = [0; 2];
        self.hits = [0; 2];
        if n0 == 0 || n1 == 0 {
            return;
        }
        let whole = u128::from(WHOLE);
        let (p0, p1) = (h0 * whole / n0, h1 * whole / n1);
        let p = (h0 + h1) * whole / (n0 + n1);
        // The standard error of p1 - p0 under "no difference", in millionths.
        let error = (p * (whole - p) * (n0 + n1) / (n0 * n1)).isqrt();
        if p1 > p0 + 2 * error {
            self.choice = (self.choice * 3 / 2).min(MOST);
        } else if p0 > p1 + 2 * error {
            self.choice = (self.choice * 2 / 3).max(LEAST);
        }
    }

    /// Starts a new pair of samples, keeping the choice.
    pub(super) fn restart(&mut self) {
        self.requests = [0; 2];
        self.hits = [0; 2];
        self.second = false;
        self.since_swap = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: usize = 1_000;

    /// One sample: its settling requests, then 500 counted requests per role, of which
    /// `smaller` and `larger` hit. Its last request (a miss) ends it.
    fn sample(split: &mut Split, smaller: u64, larger: u64) {
        let big = split.larger;
        for _ in 0..SAMPLE as u64 / SETTLE {
            split.miss(big, SAMPLE);
        }
        for (half, hits) in [(1 - big, smaller), (big, larger)] {
            for _ in 0..hits {
                split.hit(half);
            }
            for _ in hits..500 {
                split.miss(half, SAMPLE);
            }
        }
    }

    fn pair(split: &mut Split, smaller: u64, larger: u64) {
        sample(split, smaller, larger);
        sample(split, smaller, larger);
    }

    #[test]
    fn the_halves_swap_roles_after_each_sample() {
        let mut split = Split::new();
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (6, 15));
        sample(&mut split, 0, 0);
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (15, 6));
    }

    #[test]
    fn moves_towards_the_role_that_hits_more() {
        let mut split = Split::new();
        sample(&mut split, 200, 250);
        assert_eq!(split.choice, FIRST, "decides after a pair of samples");
        sample(&mut split, 200, 250);
        assert_eq!(split.choice, FIRST * 3 / 2);
        pair(&mut split, 250, 200);
        pair(&mut split, 250, 200);
        assert_eq!(split.choice, FIRST * 3 / 2 * 2 / 3 * 2 / 3);
    }

    #[test]
    fn stays_when_the_difference_is_chance() {
        let mut split = Split::new();
        pair(&mut split, 250, 255);
        assert_eq!(split.choice, FIRST);
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut split = Split::new();
        for _ in 0..40 {
            pair(&mut split, 0, 499);
        }
        assert_eq!(split.choice, MOST);
        assert!(split.window(split.larger, 1_000) <= 999);
        for _ in 0..40 {
            pair(&mut split, 499, 0);
        }
        assert_eq!(split.choice, LEAST);
        assert_eq!(split.window(1 - split.larger, 100), 1);
    }
}
