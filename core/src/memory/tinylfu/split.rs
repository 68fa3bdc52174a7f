//! How large the window should be, by a split test: one half of the key space runs
//! with a window smaller than the current choice, the other with one larger, and the
//! halves swap roles after every sample of requests. After each pair of samples, the
//! choice moves to the role that hit more, if by more than chance (two standard
//! errors, see [`evidence`](super::evidence)): ×3/2 or ×2/3, and ×3 or ×1/3 if by far
//! more (eight). A workload's own drift affects both halves alike, so it cannot pass
//! for the effect of the window; and as each half plays each role for a sample, a half
//! whose keys are simply more popular favours neither. The first quarter of a sample
//! after a swap is not counted: the windows are still moving.
//!
//! The roles start far apart, at a third and three times the choice, and close in to
//! a third smaller and half larger at the first decision that leaves the choice where
//! it was (no difference, or a bound). Near a small choice, close roles hit alike even
//! where a window many times larger would hit plainly more: far apart, the first pairs
//! see the slope.
//!
//! The shards of a thread-safe cache each see a slice of the requests; they pool their
//! evidence through a `WindowChoice` and decide together, once a round.
//!
//! A policy with under `2 * MIN_BLOCK` entries has too few requests per sample for two
//! blocks: it keeps its first window.
//!
//! Integers only: the core has no floating point functions without `std`.

use super::choice::{Choice, WHOLE};
#[cfg(test)]
use super::choice::{FIRST, LEAST, MOST};
use super::evidence::{BLOCKS, Block, MIN_BLOCK, Tally};
use super::window_choice::{Sharing, Sizing};

/// The part of a sample after a swap that is not counted, as a divisor.
const SETTLE: u64 = 4;

/// The roles, as indices of the counts.
const SMALLER: usize = 0;
const LARGER: usize = 1;

#[derive(Clone, Debug)]
pub(super) struct Split {
    /// The current choice.
    choice: Choice,
    /// The half that runs the larger window this sample.
    larger: usize,
    /// Requests and hits under each role in the current block of the sample.
    block: Block,
    /// Requests the current block still takes: 0 once it is full, or before the
    /// sample's first.
    left: u64,
    /// The differences of this pair's blocks so far.
    tally: Tally,
    /// Whether this is the pair's second sample.
    second: bool,
    /// Requests since the roles last swapped: the first quarter of a sample, while the
    /// windows move to their new sizes, is not counted.
    since_swap: u64,
    /// Requests a sample counts, after a quarter as many settling: one per entry.
    sample: u64,
    /// The choice this policy shares with others, if any.
    sharing: Sharing,
    /// Whether the choice is made elsewhere, by a simulation: then both halves run
    /// it, and nothing is counted.
    follows: bool,
    /// Each half's window share this sample, by its role: kept, as an insert reads it
    /// several times.
    shares: [u64; 2],
}

impl Split {
    pub(super) const fn new() -> Self {
        Split {
            choice: Choice::FIRST,
            larger: 1,
            block: Block::EMPTY,
            left: 0,
            tally: Tally::EMPTY,
            second: false,
            since_swap: 0,
            sample: u64::MAX,
            sharing: Sharing::ALONE,
            follows: false,
            shares: Choice::FIRST.roles(),
        }
    }

    /// A window of `share` for both halves, never changed.
    pub(super) fn fixed(share: u64) -> Self {
        let mut split = Split::new();
        split.follow();
        split.choose(Choice { share, wide: false });
        split
    }

    /// How many policies share this one's choice (1 alone).
    pub(super) fn sharers(&self) -> usize {
        self.sharing.sharers()
    }

    /// Stops the split test: the choice comes from a simulation from now on, this
    /// policy's own or one that another sharer runs.
    pub(super) fn follow(&mut self) {
        self.follows = true;
        self.choose(self.choice);
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
        self.choose(Choice {
            share,
            ..self.choice
        });
        self.sharing.publish(share);
    }

    /// Takes up `choice`, and sizes each half's window by its role.
    fn choose(&mut self, choice: Choice) {
        self.choice = choice;
        self.shares = if self.follows {
            [choice.share; 2]
        } else {
            let [smaller, larger] = choice.roles();
            let mut shares = [smaller; 2];
            shares[self.larger] = larger;
            shares
        };
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

    /// How many entries the window of `half` holds, of its `entries`: at least one.
    /// In `u64`: a store holds under 2^32 entries and a share is under 2^20, and a
    /// division of a `u128` would be a call on every insert.
    #[inline]
    pub(super) fn window(&self, half: usize, entries: usize) -> usize {
        ((entries as u64).saturating_mul(self.shares[half]) / WHOLE).max(1) as usize
    }

    /// Counts a hit in `half`.
    #[inline]
    pub(super) fn hit(&mut self, half: usize) {
        self.since_swap += 1;
        if self.settling() {
            return;
        }
        self.count(half, true);
    }

    /// Counts a request past the settling part of a sample, in blocks of a
    /// [`BLOCKS`]th of the sample (at least [`MIN_BLOCK`] requests).
    #[inline]
    fn count(&mut self, half: usize, hit: bool) {
        if self.left == 0 {
            self.next_block();
        }
        self.block.count(self.role(half), hit);
        self.left -= 1;
    }

    /// Adds the current block, now full, to the tally, and starts the next.
    #[cold]
    fn next_block(&mut self) {
        self.close_block();
        self.left = (self.sample / BLOCKS).max(MIN_BLOCK);
    }

    /// Adds the current block to the tally if it is full (a block cut short by a swap
    /// is dropped: it would count as much as a full one on fewer requests), and empties
    /// it.
    fn close_block(&mut self) {
        if self.left == 0 {
            self.tally.add(&self.block, self.larger);
        }
        self.block = Block::EMPTY;
    }

    /// Counts a miss in `half`; once the sample holds its settling requests and
    /// `sample` more, swaps the roles, and after a pair of samples decides.
    pub(super) fn miss(&mut self, half: usize, sample: usize) {
        if self.follows {
            if let Some(shared) = self.sharing.choice()
                && shared.share != self.choice.share
            {
                self.choose(shared);
            }
            return;
        }
        self.since_swap += 1;
        self.sample = sample as u64;
        if !self.settling() {
            self.count(half, false);
        }
        if self.since_swap >= self.sample + self.sample / SETTLE {
            self.since_swap = 0;
            self.close_block();
            self.left = 0;
            self.larger = 1 - self.larger;
            let choice = if self.second {
                self.second = false;
                self.decide()
            } else if let Some(shared) = self.sharing.choice()
                && shared != self.choice
            {
                // Others decided since this policy last voted: the sample just ended
                // probed the old choice, so the pair starts over around the new one.
                self.tally = Tally::EMPTY;
                shared
            } else {
                self.second = true;
                self.choice
            };
            // Each half's window by its new role.
            self.choose(choice);
        }
    }

    /// The choice after this pair.
    fn decide(&mut self) -> Choice {
        let evidence = core::mem::replace(&mut self.tally, Tally::EMPTY).evidence();
        match (self.sharing.vote(evidence), evidence) {
            (Some(shared), _) => shared,
            (None, Some(evidence)) => self.choice.after(evidence, 1),
            (None, None) => self.choice,
        }
    }

    /// Starts a new pair of samples, keeping the choice.
    pub(super) fn restart(&mut self) {
        self.block = Block::EMPTY;
        self.left = 0;
        self.tally = Tally::EMPTY;
        self.second = false;
        self.since_swap = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests a sample counts: 16 blocks of 100.
    const SAMPLE: usize = 1_600;

    /// One sample: its settling requests, then its counted ones, the halves taking
    /// turns. A request in block `b` under role `r` hits with a chance of
    /// `per_mille(b, r)` in 1,000. Its last request (a miss) ends it.
    fn sample(split: &mut Split, coin: &mut u32, per_mille: impl Fn(u64, usize) -> u32) {
        sample_of(SAMPLE, split, coin, per_mille);
    }

    /// One sample of `size` counted requests, as [`sample`] describes.
    fn sample_of(
        size: usize,
        split: &mut Split,
        coin: &mut u32,
        per_mille: impl Fn(u64, usize) -> u32,
    ) {
        let settling = size as u64 / SETTLE;
        let total = size as u64 + settling;
        let block = (size as u64 / BLOCKS).max(MIN_BLOCK);
        for request in 0..total {
            let half = (request % 2) as usize;
            let counted = request.saturating_sub(settling);
            let chance = per_mille(counted / block, split.role(half));
            let hit = request + 1 < total && super::super::flip(coin) % 1_000 < chance;
            if hit {
                split.hit(half);
            } else {
                split.miss(half, size);
            }
        }
    }

    /// A pair of samples in which each role hits at its own steady rate.
    fn pair(split: &mut Split, coin: &mut u32, smaller: u32, larger: u32) {
        for _ in 0..2 {
            sample(split, coin, |_, role| [smaller, larger][role]);
        }
    }

    #[test]
    fn the_halves_swap_roles_after_each_sample() {
        let mut split = Split::new();
        // Far apart at first: a third and three times 1%.
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (3, 30));
        sample(&mut split, &mut 7, |_, _| 0);
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (30, 3));
    }

    #[test]
    fn moves_towards_the_role_that_hits_more_then_probes_closer() {
        let mut split = Split::new();
        let coin = &mut 7;
        sample(&mut split, coin, |_, role| [300, 600][role]);
        assert_eq!(
            split.choice,
            Choice::FIRST,
            "decides after a pair of samples"
        );
        sample(&mut split, coin, |_, role| [300, 600][role]);
        // 30 points apart: far past chance, a bigger step.
        assert_eq!(split.choice.share, FIRST * 3);
        assert!(split.choice.wide);
        pair(&mut split, coin, 400, 330);
        assert_eq!(split.choice.share, FIRST * 3 * 2 / 3);
        // No difference: the choice stays, and the roles close in.
        pair(&mut split, coin, 400, 400);
        assert_eq!(
            split.choice,
            Choice {
                share: FIRST * 2,
                wide: false
            }
        );
        assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (13, 30));
    }

    #[test]
    fn correlated_runs_of_hits_are_not_taken_for_an_effect() {
        let mut split = Split::new();
        let coin = &mut 7;
        // The larger role hits 8 points more on average, but in runs: 80% in one
        // block, 12% in the next. Taken as independent requests, that would be over
        // four binomial errors; the spread of the blocks makes it about one.
        for _ in 0..2 {
            sample(&mut split, coin, |block, role| match role {
                SMALLER => 380,
                _ if block % 2 == 0 => 800,
                _ => 120,
            });
        }
        assert_eq!(split.choice.share, FIRST);
        // The same 8 points, steadily, move it.
        pair(&mut split, coin, 380, 460);
        assert_eq!(split.choice.share, FIRST * 3 / 2);
    }

    #[test]
    fn a_sample_counts_its_full_blocks_and_drops_a_partial_one() {
        let mut split = Split::new();
        let coin = &mut 7;
        // 1,650 requests: 16 blocks of 103, and 2 left over.
        sample_of(1_650, &mut split, coin, |_, role| [300, 400][role]);
        assert_eq!(split.tally.blocks(), [0, 16]);
        sample_of(1_650, &mut split, coin, |_, role| [300, 400][role]);
        // The pair decided, and a new one began.
        assert_eq!(split.tally.blocks(), [0, 0]);
        assert_ne!(split.choice, Choice::FIRST);
        // A small policy's blocks hold at least `MIN_BLOCK` requests: 40 give two.
        let mut small = Split::new();
        sample_of(40, &mut small, coin, |_, _| 500);
        assert_eq!(small.tally.blocks(), [0, 2]);
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut split = Split::new();
        let coin = &mut 7;
        for _ in 0..12 {
            pair(&mut split, coin, 0, 999);
        }
        assert_eq!(split.choice.share, MOST);
        assert!(split.window(split.larger, 1_000) <= 999);
        for _ in 0..12 {
            pair(&mut split, coin, 999, 0);
        }
        assert_eq!(split.choice.share, LEAST);
        assert_eq!(split.window(1 - split.larger, 100), 1);
    }

    #[cfg(target_has_atomic = "ptr")]
    #[test]
    fn shared_evidence_decides_what_each_alone_could_not() {
        use crate::memory::tinylfu::window_choice::{Sharing, WindowChoice};

        let choice = WindowChoice::new(2);
        let [first, second] = [(); 2].map(|_| Sharing::joined(&choice));
        assert_eq!(
            first.vote(Some(1_600)),
            Some(Choice::FIRST),
            "the round waits"
        );
        let decided = second.vote(Some(1_600)).unwrap();
        assert_eq!(decided.share, FIRST * 3 / 2);
        assert_eq!(first.choice(), Some(decided));
        // A round with no evidence decides nothing.
        assert_eq!(first.vote(None), Some(decided));
        assert_eq!(second.vote(None), Some(decided));

        // A policy takes up the shared choice when its halves next swap roles.
        let mut split = Split::new();
        split.decide_with(first);
        sample(&mut split, &mut 7, |_, _| 0);
        assert_eq!(split.choice, decided);
    }

    proptest::proptest! {
        /// Whatever the requests, each half's window follows its role around the
        /// choice, and the choice stays within its bounds.
        #[test]
        fn the_windows_follow_the_roles_and_the_choice_its_bounds(
            size in 1usize..3_000,
            requests in proptest::collection::vec((0usize..2, 0u32..1_000), 1..12_000),
            larger_hits in 0u32..1_000,
            smaller_hits in 0u32..1_000,
        ) {
            let mut split = Split::new();
            for (half, chance) in requests {
                let hits = [smaller_hits, larger_hits][split.role(half)];
                if chance < hits {
                    split.hit(half);
                } else {
                    split.miss(half, size);
                }
                let Choice { share, .. } = split.choice;
                proptest::prop_assert!((LEAST..=MOST).contains(&share));
                let [smaller, larger] = split.choice.roles();
                let mut shares = [smaller; 2];
                shares[split.larger] = larger;
                proptest::prop_assert_eq!(split.shares, shares);
                proptest::prop_assert!(split.left <= (size as u64 / BLOCKS).max(MIN_BLOCK));
            }
        }
    }
}
