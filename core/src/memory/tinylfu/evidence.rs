//! What a pair of samples of the split test says about the window: how much more the
//! role with the larger window hit than the other, over the standard error of that
//! difference.
//!
//! Requests to a cache come in correlated runs (a file read block after block, a page
//! of rows), which hit or miss together. The binomial error of a hit ratio assumes
//! independent requests, so on such a workload it understates the noise several times
//! over and lets one lucky run pass for the effect of the window. So each sample is cut
//! into [`BLOCKS`] blocks of requests, each block gives one difference of hit ratios,
//! and the spread of those differences gives the error, whatever the correlation within
//! a block. Runs longer than a block (a sixteenth of a sample) still weigh more than
//! they should, as neighbouring blocks then move together.
//!
//! A half's own keys may be more popular than the other's: that adds to the
//! differences of the sample in which it runs the larger window and takes the same from
//! the other's. So the spread is taken within each sample, and the mean weighs both
//! samples alike.

/// The blocks a sample is cut into: a pair's 32 leave 30 degrees of freedom, so the
/// ratio of mean to error is close enough to normal for the thresholds of
/// [`Choice::after`](super::choice::Choice::after).
pub(super) const BLOCKS: u64 = 16;
/// The fewest requests in a block: fewer would often leave a role with none, or
/// ratios of only 0 and 1.
pub(super) const MIN_BLOCK: u64 = 16;
/// The fewest blocks per sample that give evidence: with fewer, the ratio's tails are
/// too heavy for thresholds set for a normal one (at 14 degrees of freedom, 6.5% of
/// pairs pass two errors by chance, against 4.6%).
pub(super) const MIN_BLOCKS: u64 = 8;

/// A pair's evidence is capped at this many standard errors, in thousandths, so that no
/// one policy's pair outweighs many others' in a shared round.
const CAP: i64 = 16_000;

/// Requests and hits under each role (smaller window, then larger) in the current
/// block of a sample.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    /// Requests under each role.
    requests: [u64; 2],
    /// Hits under each role.
    hits: [u64; 2],
}

impl Block {
    /// A block before its first request.
    pub(super) const EMPTY: Block = Block {
        requests: [0; 2],
        hits: [0; 2],
    };

    /// Counts a request under `role`, a hit or not.
    #[inline]
    pub(super) fn count(&mut self, role: usize, hit: bool) {
        self.requests[role] += 1;
        self.hits[role] += u64::from(hit);
    }

    /// The larger role's hit ratio less the smaller's, in millionths, if both had
    /// requests.
    fn difference(&self) -> Option<i64> {
        let ratio = |role: usize| {
            let requests = self.requests[role];
            (requests > 0).then(|| (self.hits[role] * 1_000_000 / requests) as i64)
        };
        Some(ratio(1)? - ratio(0)?)
    }
}

/// The blocks' differences in a pair of samples, by the half that ran the larger
/// window: their number, sum and sum of squares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Tally {
    /// Blocks tallied.
    blocks: [u64; 2],
    /// Their differences, summed.
    sums: [i64; 2],
    /// Their differences, squared and summed: a square is at most 10^12, so a `u64`
    /// holds over ten million blocks' worth.
    squares: [u64; 2],
}

impl Tally {
    /// A pair's tally before its first block.
    pub(super) const EMPTY: Tally = Tally {
        blocks: [0; 2],
        sums: [0; 2],
        squares: [0; 2],
    };

    /// The blocks tallied, by the half that ran the larger window.
    #[cfg(test)]
    pub(super) fn blocks(&self) -> [u64; 2] {
        self.blocks
    }

    /// Adds `block`'s difference (if it had requests under both roles), from the
    /// sample in which `larger` ran the larger window.
    pub(super) fn add(&mut self, block: &Block, larger: usize) {
        if let Some(difference) = block.difference() {
            self.blocks[larger] += 1;
            self.sums[larger] += difference;
            self.squares[larger] += difference.unsigned_abs().pow(2);
        }
    }

    /// How far the larger window hit more (or less, below zero), in thousandths of a
    /// standard error, capped at ±16 errors; `None` with fewer than [`MIN_BLOCKS`] from
    /// either sample.
    pub(super) fn evidence(&self) -> Option<i64> {
        let [k0, k1] = self.blocks.map(i128::from);
        let least = i128::from(MIN_BLOCKS);
        if k0 < least || k1 < least {
            return None;
        }
        let [s0, s1] = self.sums.map(i128::from);
        let [q0, q1] = self.squares.map(i128::from);
        // Sums of squared deviations from each sample's own mean.
        let spread = (q0 - s0 * s0 / k0).max(0) + (q1 - s1 * s1 / k1).max(0);
        let variance = spread / (k0 + k1 - 2);
        // The mean, (s0 / k0 + s1 / k1) / 2, is n / (2 k0 k1) with n as below; its
        // error is the root of variance (k0 + k1) / (4 k0 k1). Their ratio:
        let n = s0 * k1 + s1 * k0;
        let error = ((variance * (k0 + k1) * k0 * k1) as u128).isqrt() as i128;
        let cap = i128::from(CAP);
        let evidence = if error == 0 {
            n.signum() * cap
        } else {
            (n * 1_000 / error).clamp(-cap, cap)
        };
        Some(evidence as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally of blocks whose differences, in millionths, are `first` from the
    /// sample in which half 0 ran the larger window and `second` from the other.
    fn tally(first: &[i64], second: &[i64]) -> Tally {
        let mut tally = Tally::EMPTY;
        for (larger, differences) in [(0, first), (1, second)] {
            for &difference in differences {
                // 1,000,000 requests per role: the smaller role hits half, the larger
                // half plus the difference.
                let block = Block {
                    requests: [1_000_000; 2],
                    hits: [500_000, (500_000 + difference) as u64],
                };
                tally.add(&block, larger);
            }
        }
        tally
    }

    #[test]
    fn a_block_with_no_requests_under_a_role_adds_nothing() {
        let mut tally = Tally::EMPTY;
        let mut block = Block::EMPTY;
        block.count(1, true);
        block.count(1, false);
        tally.add(&block, 0);
        assert_eq!(tally, Tally::EMPTY);
        block.count(0, false);
        tally.add(&block, 0);
        // A hit ratio of 1/2 under the larger window, 0 under the smaller.
        assert_eq!((tally.blocks, tally.sums), ([1, 0], [500_000, 0]));
    }

    /// Eight blocks: differences of 1, 3, 5 and 7 points, twice.
    const POINTS: [i64; 8] = [
        10_000, 30_000, 50_000, 70_000, 10_000, 30_000, 50_000, 70_000,
    ];

    #[test]
    fn evidence_is_the_mean_difference_over_its_standard_error() {
        // Both samples [`POINTS`]: mean 4 points; squared deviations 40 in each, 80
        // over 14 degrees of freedom (both samples pool theirs): variance 5.714. The
        // mean's error is the root of 5.714 (1/8 + 1/8) / 4 = 0.598, and the evidence
        // 4 / 0.598 = 6.693 errors.
        assert_eq!(tally(&POINTS, &POINTS).evidence(), Some(6_693));
        // The same against the larger window.
        let against = POINTS.map(|d| -d);
        assert_eq!(tally(&against, &against).evidence(), Some(-6_693));
    }

    #[test]
    fn a_more_popular_half_favours_neither_role() {
        // Half 1's keys hit 20 points more whatever its window: that adds 20 to the
        // differences of the sample in which it runs the larger window, and takes 20
        // from the other's. Neither the mean nor the spread within a sample moves.
        let skewed = tally(&POINTS.map(|d| d - 200_000), &POINTS.map(|d| d + 200_000));
        assert_eq!(skewed.evidence(), Some(6_693));
    }

    #[test]
    fn too_few_blocks_say_nothing_and_no_spread_says_the_most() {
        assert_eq!(tally(&POINTS[1..], &POINTS).evidence(), None);
        let same = |d: i64| [d; MIN_BLOCKS as usize];
        assert_eq!(tally(&same(10_000), &same(10_000)).evidence(), Some(CAP));
        assert_eq!(tally(&same(-5), &same(-5)).evidence(), Some(-CAP));
        assert_eq!(tally(&same(0), &same(0)).evidence(), Some(0));
        // Far past the cap: 40 points apart, spread by hundredths of a point.
        let far = POINTS.map(|d| 400_000 + d / 50);
        assert_eq!(tally(&far, &far).evidence(), Some(CAP));
    }

    proptest::proptest! {
        /// The integer evidence against the formula in floating point, wherever the
        /// blocks spread by a point or more.
        #[test]
        fn evidence_matches_the_formula_in_floating_point(
            first in proptest::collection::vec(-500_000i64..=500_000, 0..24),
            second in proptest::collection::vec(-500_000i64..=500_000, 0..24),
        ) {
            extern crate std;
            use alloc::vec::Vec;

            let got = tally(&first, &second).evidence();
            let least = MIN_BLOCKS as usize;
            if first.len() < least || second.len() < least {
                proptest::prop_assert_eq!(got, None);
                return Ok(());
            }
            let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64;
            let squares = |v: &[i64]| {
                let m = mean(v);
                v.iter().map(|&d| (d as f64 - m).powi(2)).sum::<f64>()
            };
            let (k0, k1) = (first.len() as f64, second.len() as f64);
            let variance = (squares(&first) + squares(&second)) / (k0 + k1 - 2.0);
            proptest::prop_assume!(variance >= 10_000.0 * 10_000.0);
            let difference = (mean(&first) + mean(&second)) / 2.0;
            let error = (variance * (1.0 / k0 + 1.0 / k1) / 4.0).sqrt();
            let expected = (difference / error * 1_000.0).clamp(-16_000.0, 16_000.0);
            let got = got.unwrap() as f64;
            let all: Vec<i64> = first.iter().chain(&second).copied().collect();
            proptest::prop_assert!(
                (got - expected).abs() <= 1.0 + expected.abs() / 1_000.0,
                "{got} against {expected} for {all:?}"
            );
        }
    }
}
