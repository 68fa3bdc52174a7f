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
//! The roles start far apart, at a third and twenty times the choice, and close in to
//! a third smaller and half larger at the first decision that leaves the choice where
//! it was (no difference, or a bound). Near a small choice, close roles hit alike even
//! where a window many times larger would hit plainly more: far apart, the first pairs
//! see the slope.
//!
//! The shards of a thread-safe cache each see a slice of the requests; they pool their
//! evidence through a `WindowChoice` and decide together, once a round.
//!
//! A policy alone with under 128 entries has too few requests per sample for the
//! blocks its evidence needs (`MIN_BLOCKS` of `MIN_BLOCK` requests): it keeps its first
//! window. One that shares its choice takes up the others'.
//!
//! Integers only: the core has no floating point functions without `std`.

use super::choice::{Choice, WHOLE};
use super::evidence::{BLOCKS, Block, MIN_BLOCK, Tally};
use super::window_choice::{Sharing, Sizing};

/// The part of a sample after a swap that is not counted, as a divisor.
const SETTLE: u64 = 4;

/// The role with the smaller window, as an index of a [`Block`]'s requests and hits.
const SMALLER: usize = 0;
/// The role with the larger window.
const LARGER: usize = 1;

/// A policy's split test: the choice, and the sample of requests under way.
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
    /// A split test from the first choice, alone until told to share it.
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
            // `[smaller, larger]`: half 1 runs the larger window first.
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

    /// Whether the sample is still in its settling part, which counts nothing.
    fn settling(&self) -> bool {
        self.since_swap <= self.sample / SETTLE
    }

    /// The role `half` plays this sample.
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

    /// Closes the current block, and sizes the next at its first request.
    fn end_block(&mut self) {
        self.close_block();
        self.left = 0;
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
            self.end_block();
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
        let mut evidence = core::mem::replace(&mut self.tally, Tally::EMPTY).evidence();
        if self
            .sharing
            .choice()
            .is_some_and(|shared| shared != self.choice)
        {
            // Others decided during this pair's second sample: its evidence is about a
            // choice that is gone. The vote still counts towards the round's length.
            evidence = None;
        }
        match (self.sharing.vote(evidence), evidence) {
            (Some(shared), _) => shared,
            (None, Some(evidence)) => self.choice.after(evidence, 1),
            (None, None) => self.choice,
        }
    }

    /// Starts a new pair of samples, keeping the choice.
    pub(super) fn restart(&mut self) {
        self.end_block();
        self.tally = Tally::EMPTY;
        self.second = false;
        self.since_swap = 0;
    }
}

#[cfg(test)]
mod tests;
