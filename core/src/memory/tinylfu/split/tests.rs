//! The split test, sample by sample.

use super::*;
use crate::memory::tinylfu::choice::{FIRST_SHARE, LEAST, MOST};

/// Requests a sample counts: 16 blocks of 100.
const SAMPLE: usize = 1_600;

/// One sample: its settling requests, then its counted ones, the halves taking
/// turns. The `n`th counted request, under role `r`, hits with a chance of
/// `per_mille(n, r)` in 1,000. Its last request (a miss) ends it.
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
    for request in 0..total {
        let half = (request % 2) as usize;
        let counted = request.saturating_sub(settling);
        let chance = per_mille(counted, split.role(half));
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
    // Far apart at first: a third and twenty times 1%.
    assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (3, 200));
    sample(&mut split, &mut 7, |_, _| 0);
    assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (200, 3));
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
    assert_eq!(split.choice.share, FIRST_SHARE * 3);
    assert!(split.choice.wide);
    pair(&mut split, coin, 400, 330);
    assert_eq!(split.choice.share, FIRST_SHARE * 3 * 2 / 3);
    // No difference: the choice stays, and the roles close in.
    pair(&mut split, coin, 400, 400);
    assert_eq!(
        split.choice,
        Choice {
            share: FIRST_SHARE * 2,
            wide: false
        }
    );
    assert_eq!((split.window(0, 1_000), split.window(1, 1_000)), (13, 30));
}

#[test]
fn correlated_runs_of_hits_are_not_taken_for_an_effect() {
    let mut split = Split::new();
    let coin = &mut 7;
    // The larger role hits 8 points more on average, but in runs of a block's
    // length: 80% in one, 12% in the next. Taken as independent requests, that would
    // be over four binomial errors; the spread of the blocks makes it 1.25. (Runs
    // longer than a block would still be overweighed: see `evidence`.)
    for _ in 0..2 {
        sample(&mut split, coin, |request, role| match role {
            SMALLER => 380,
            _ if request / 100 % 2 == 0 => 800,
            _ => 120,
        });
    }
    assert_eq!(split.choice.share, FIRST_SHARE);
    // The same 8 points, steadily, move it.
    pair(&mut split, coin, 380, 460);
    assert_eq!(split.choice.share, FIRST_SHARE * 3 / 2);
}

#[test]
fn a_sample_counts_its_full_blocks_and_drops_a_partial_one() {
    let mut split = Split::new();
    let coin = &mut 7;
    // 1,600 requests: 16 blocks of 100, the last closed by the swap.
    sample(&mut split, coin, |_, role| [300, 400][role]);
    assert_eq!(split.tally.blocks(), [0, 16]);
    // 1,650 requests: 16 blocks of 103, and 2 left over.
    sample_of(1_650, &mut split, coin, |_, role| [300, 400][role]);
    // The pair decided (10 points apart: a step), and a new one began.
    assert_eq!(split.tally.blocks(), [0, 0]);
    assert_ne!(split.choice.share, FIRST_SHARE);
    let mut split = Split::new();
    sample_of(1_650, &mut split, coin, |_, role| [300, 400][role]);
    assert_eq!(split.tally.blocks(), [0, 16]);
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

    // 1.6 errors: chance for one pair alone.
    assert_eq!(Choice::FIRST.after(1_600, 1).share, FIRST_SHARE);
    let choice = WindowChoice::new(2);
    let [first, second] = [(); 2].map(|_| Sharing::joined(&choice));
    assert_eq!(
        first.vote(Some(1_600)),
        Some(Choice::FIRST),
        "the round waits"
    );
    let decided = second.vote(Some(1_600)).unwrap();
    assert_eq!(decided.share, FIRST_SHARE * 3 / 2);
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

#[cfg(target_has_atomic = "ptr")]
#[test]
fn a_pair_that_probed_a_superseded_choice_does_not_vote_its_evidence() {
    use crate::memory::tinylfu::window_choice::{Sharing, WindowChoice};

    let choice = WindowChoice::new(1);
    let other = Sharing::joined(&choice);
    let mut split = Split::new();
    split.decide_with(Sharing::joined(&choice));
    let coin = &mut 7;
    // 30 points apart: a pair that would triple the share.
    sample(&mut split, coin, |_, role| [300, 600][role]);
    // Another policy's round decides during the second sample.
    let decided = other.vote(Some(3_000)).unwrap();
    assert_eq!(decided.share, FIRST_SHARE * 3 / 2);
    sample(&mut split, coin, |_, role| [300, 600][role]);
    // The pair's vote closed a round with no evidence: the choice stands.
    assert_eq!(other.choice(), Some(decided));
    assert_eq!(split.choice, decided);
}

proptest::proptest! {
    /// Whatever the requests, restarts and simulated choices, each half's window
    /// follows its role around the choice (or the choice itself, once it follows a
    /// simulation), and the choice stays within its bounds.
    #[test]
    fn the_windows_follow_the_roles_and_the_choice_its_bounds(
        size in 1usize..3_000,
        requests in proptest::collection::vec((0usize..2, 0u32..1_000), 1..12_000),
        larger_hits in 0u32..1_000,
        smaller_hits in 0u32..1_000,
        simulated in LEAST..=MOST,
    ) {
        let mut split = Split::new();
        for (half, chance) in requests {
            match chance {
                // Rarely: a cleared store, a simulation taking over, its choice.
                997 => split.restart(),
                998 => split.follow(),
                999 if split.follows => split.take_up(simulated),
                _ if chance < [smaller_hits, larger_hits][split.role(half)] => split.hit(half),
                _ => split.miss(half, size),
            }
            let Choice { share, .. } = split.choice;
            proptest::prop_assert!((LEAST..=MOST).contains(&share));
            let shares = if split.follows {
                [share; 2]
            } else {
                let [smaller, larger] = split.choice.roles();
                let mut shares = [smaller; 2];
                shares[split.larger] = larger;
                shares
            };
            proptest::prop_assert_eq!(split.shares, shares);
            proptest::prop_assert!(split.left <= (size as u64 / BLOCKS).max(MIN_BLOCK));
        }
    }
}
