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
//! a block.
//!
//! A half's own keys may be more popular than the other's: that adds to the
//! differences of the sample in which it runs the larger window and takes the same from
//! the other's. So the spread is taken within each sample, and the mean weighs both
//! samples alike.

/// The blocks a sample is cut into.
pub(super) const BLOCKS: u64 = 16;
/// The fewest requests in a block: fewer would often leave a role with none, or
/// ratios of only 0 and 1.
pub(super) const MIN_BLOCK: u64 = 16;

/// A pair's evidence is capped at this many standard errors, in thousandths, so that no
/// one policy's pair outweighs many others' in a shared round.
const CAP: i64 = 16_000;

/// Requests and hits under each role (smaller window, then larger) in the current
/// block of a sample.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    requests: [u64; 2],
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
    blocks: [u64; 2],
    sums: [i64; 2],
    /// A square is at most 10^12, so a `u64` holds over ten million blocks' worth.
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
    /// standard error, capped at ±16 errors; `None` with fewer than two blocks from
    /// either sample.
    pub(super) fn evidence(&self) -> Option<i64> {
        let [k0, k1] = self.blocks.map(i128::from);
        if k0 < 2 || k1 < 2 {
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

    #[test]
    fn evidence_is_the_mean_difference_over_its_standard_error() {
        // Differences 1, 3 and 5 points in each sample: mean 3 points, spread within
        // each sample 2 points (variance 4 over 4 degrees of freedom, as both samples
        // pool theirs), so the mean's error is 2 / sqrt(6) and the evidence is
        // 3 / (2 / sqrt(6)) = 3.674 errors.
        let points = [10_000, 30_000, 50_000];
        assert_eq!(tally(&points, &points).evidence(), Some(3_674));
        // The same against the larger window.
        let against = points.map(|d| -d);
        assert_eq!(tally(&against, &against).evidence(), Some(-3_674));
    }

    #[test]
    fn a_more_popular_half_favours_neither_role() {
        // Half 1's keys hit 20 points more whatever its window: that adds 20 to the
        // differences of the sample in which it runs the larger window, and takes 20
        // from the other's. Neither the mean nor the spread within a sample moves.
        let points = [10_000, 30_000, 50_000];
        let skewed = tally(&points.map(|d| d - 200_000), &points.map(|d| d + 200_000));
        assert_eq!(skewed.evidence(), Some(3_674));
    }

    #[test]
    fn too_few_blocks_say_nothing_and_no_spread_says_the_most() {
        assert_eq!(tally(&[10_000], &[10_000, 10_000]).evidence(), None);
        assert_eq!(
            tally(&[10_000, 10_000], &[10_000, 10_000]).evidence(),
            Some(CAP)
        );
        assert_eq!(tally(&[-5, -5], &[-5, -5]).evidence(), Some(-CAP));
        assert_eq!(tally(&[0, 0], &[0, 0]).evidence(), Some(0));
        // Far past the cap: 40 points apart with a spread of about one.
        let far = [399_000, 400_000, 401_000];
        assert_eq!(tally(&far, &far).evidence(), Some(CAP));
    }

    proptest::proptest! {
        /// The integer evidence against the formula in floating point, wherever the
        /// blocks spread by more than a hundredth of a point.
        #[test]
        fn evidence_matches_the_formula_in_floating_point(
            first in proptest::collection::vec(-500_000i64..=500_000, 0..24),
            second in proptest::collection::vec(-500_000i64..=500_000, 0..24),
        ) {
            extern crate std;
            use alloc::vec::Vec;

            let got = tally(&first, &second).evidence();
            if first.len() < 2 || second.len() < 2 {
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
