//! How large the window should be, by a split test: one half of the key space runs
//! with a window a third smaller than the current choice, the other with one half
//! larger, and the halves swap roles after every sample of requests. After each pair
//! of samples, the choice moves to the role that hit more, if by more than chance
//! (two standard errors): ×3/2 or ×2/3, and ×3 or ×1/3 if by far more (eight). A
//! workload's own drift affects both halves alike, so it cannot pass for the effect of
//! the window; and as each half plays each role for a sample, a half whose keys are
//! simply more popular favours neither. The first quarter of a sample after a swap is
//! not counted: the windows are still moving.
//!
//! The shards of a thread-safe cache each see a slice of the requests; they pool their
//! counts through a `WindowChoice` and decide together.
//!
//! Integers only: the core has no floating point functions without `std`.

use super::window_choice::{Sharing, Sizing};

/// Shares are in millionths of a half's entries.
const WHOLE: u64 = 1_000_000;
/// The choice to begin with: a window of 1%, as Caffeine's.
pub(super) const FIRST: u64 = WHOLE / 100;
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
    tally: Tally,
    /// Whether this is the pair's second sample.
    second: bool,
    /// Requests since the roles last swapped: the first quarter of a sample, while the
    /// windows move to their new sizes, is not counted.
    since_swap: u64,
    /// Requests a sample counts (after as many settling).
    sample: u64,
    /// The choice this policy shares with others, if any.
    sharing: Sharing,
    /// Whether the choice is made elsewhere, by a simulation: then both halves run
    /// it, and nothing is counted.
    follows: bool,
}

/// Requests and hits under each role in a pair of samples.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tally {
    pub(super) requests: [u64; 2],
    pub(super) hits: [u64; 2],
}

impl Split {
    pub(super) const fn new() -> Self {
        Split {
            choice: FIRST,
            larger: 1,
            tally: Tally::EMPTY,
            second: false,
            since_swap: 0,
            sample: u64::MAX,
            sharing: Sharing::ALONE,
            follows: false,
        }
    }

    /// A window of `share` for both halves, never changed.
    pub(super) fn fixed(share: u64) -> Self {
        Split {
            choice: share,
            follows: true,
            ..Split::new()
        }
    }

    /// How many policies share this one's choice (1 alone).
    pub(super) fn sharers(&self) -> usize {
        self.sharing.sharers()
    }

    /// Stops the split test: the choice comes from a simulation from now on, this
    /// policy's own or one that another sharer runs.
    pub(super) fn follow(&mut self) {
        self.follows = true;
        // Settling from now on: a hit then counts nothing, with no test of its own.
        self.since_swap = 0;
        self.sample = u64::MAX;
    }

    /// How this policy sizes its window, for a cache that should `simulate` or not:
    /// the first of those that share its choice to ask decides for all.
    pub(super) fn sizing(&self, simulate: bool) -> Sizing {
        self.sharing.sizing(simulate)
    }

    /// Takes up the choice of this policy's simulation, for all that share it.
    pub(super) fn take_up(&mut self, share: u64) {
        self.choice = share;
        self.sharing.publish(share);
    }

    /// Decides with the others that share `sharing`.
    #[cfg(target_has_atomic = "ptr")]
    pub(super) fn decide_with(&mut self, sharing: Sharing) {
        self.sharing = sharing;
    }

    fn settling(&self) -> bool {
        self.since_swap <= self.sample / SETTLE
    }

    fn role(&self, half: usize) -> usize {
        if half == self.larger { LARGER } else { SMALLER }
    }

    /// The window's share in `half`, by its role this sample.
    fn share(&self, half: usize) -> u64 {
        if self.follows {
            return self.choice;
        }
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
        self.tally.requests[role] += 1;
        self.tally.hits[role] += 1;
    }

    /// Counts a miss in `half`; once the sample holds `sample` requests, swaps the
    /// roles, and after a pair of samples decides.
    pub(super) fn miss(&mut self, half: usize, sample: usize) {
        if self.follows {
            if let Some(shared) = self.sharing.choice() {
                self.choice = shared;
            }
            return;
        }
        self.since_swap += 1;
        self.sample = sample as u64;
        if !self.settling() {
            let role = self.role(half);
            self.tally.requests[role] += 1;
        }
        if self.since_swap >= self.sample + self.sample / SETTLE {
            self.since_swap = 0;
            self.larger = 1 - self.larger;
            if self.second {
                self.decide();
            } else if let Some(shared) = self.sharing.choice() {
                // Others may have decided since this policy last voted.
                self.choice = shared;
            }
            self.second = !self.second;
        }
    }

    fn decide(&mut self) {
        let tally = core::mem::replace(&mut self.tally, Tally::EMPTY);
        self.choice = match self.sharing.vote(tally) {
            Some(shared) => shared,
            None => tally.verdict(self.choice),
        };
    }

    /// Starts a new pair of samples, keeping the choice.
    pub(super) fn restart(&mut self) {
        self.tally = Tally::EMPTY;
        self.second = false;
        self.since_swap = 0;
    }
}

impl Tally {
    pub(super) const EMPTY: Tally = Tally {
        requests: [0; 2],
        hits: [0; 2],
    };

    /// The choice after this pair, from `choice`: towards the role that hit more, if by
    /// more than chance, and further if by far more.
    pub(super) fn verdict(&self, choice: u64) -> u64 {
        let [n0, n1] = self.requests.map(u128::from);
        // Capped: a vote split by a race may leave a round more hits than requests.
        let [h0, h1] = [
            self.hits[0].min(self.requests[0]),
            self.hits[1].min(self.requests[1]),
        ]
        .map(u128::from);
        if n0 == 0 || n1 == 0 {
            return choice;
        }
        let whole = u128::from(WHOLE);
        let (p0, p1) = (h0 * whole / n0, h1 * whole / n1);
        let p = (h0 + h1) * whole / (n0 + n1);
        // The standard error of p1 - p0 under "no difference", in millionths.
        let error = (p * (whole - p) * (n0 + n1) / (n0 * n1)).isqrt();
        // Far past chance (8 errors: the workload plainly favours one side), a bigger
        // step: a recency-biased workload may need a window 50 times the first.
        if p1 > p0 + 8 * error {
            (choice * 3).min(MOST)
        } else if p1 > p0 + 2 * error {
            (choice * 3 / 2).min(MOST)
        } else if p0 > p1 + 8 * error {
            (choice / 3).max(LEAST)
        } else if p0 > p1 + 2 * error {
            (choice * 2 / 3).max(LEAST)
        } else {
            choice
        }
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
    fn a_plain_difference_takes_a_bigger_step() {
        let mut split = Split::new();
        pair(&mut split, 100, 400);
        assert_eq!(split.choice, FIRST * 3);
        pair(&mut split, 400, 100);
        assert_eq!(split.choice, FIRST);
    }

    #[test]
    fn a_round_with_more_hits_than_requests_is_read_as_all_hits() {
        let tally = Tally {
            requests: [100, 100],
            hits: [150, 40],
        };
        assert_eq!(tally.verdict(FIRST), FIRST / 3);
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

    #[cfg(target_has_atomic = "ptr")]
    #[test]
    fn shared_counts_decide_what_each_alone_could_not() {
        use crate::memory::tinylfu::window_choice::{Sharing, WindowChoice};

        // 4 points apart on 1,000 requests per role is chance; on 2,000 it is not.
        let mut alone = Split::new();
        pair(&mut alone, 250, 270);
        assert_eq!(alone.choice, FIRST);

        let choice = WindowChoice::new(2);
        let [mut first, mut second] = [Split::new(), Split::new()];
        first.decide_with(Sharing::joined(&choice));
        second.decide_with(Sharing::joined(&choice));
        pair(&mut first, 250, 270);
        assert_eq!(first.choice, FIRST, "the round waits for every vote");
        pair(&mut second, 250, 270);
        assert_eq!(second.choice, FIRST * 3 / 2);
        // The first takes up the choice when its halves next swap roles.
        sample(&mut first, 0, 0);
        assert_eq!(first.choice, FIRST * 3 / 2);
    }
}
