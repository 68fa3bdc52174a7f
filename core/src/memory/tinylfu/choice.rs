//! The split test's choice of the window's share, and how it moves on the evidence
//! of a pair of samples, or of a round of them pooled from several policies.

/// Shares are in millionths of a half's entries.
pub(super) const WHOLE: u64 = 1_000_000;
/// The share to begin with: a window of 1%, as Caffeine's.
pub(super) const FIRST_SHARE: u64 = WHOLE / 100;
/// The least share the choice takes: 0.3%.
pub(super) const LEAST: u64 = 3_000;
/// The most share the choice takes: 90%.
pub(super) const MOST: u64 = 900_000;
/// The most share the larger role takes: 99.9%.
const LARGEST: u64 = WHOLE - WHOLE / 1_000;
/// How many times the choice the larger role's window is while the roles are far
/// apart: a recency-biased workload may hit alike with every small window and pull
/// ahead only with a large one, which a larger role at three times the choice never
/// reaches (BENCHMARKS.md, "a seventh pass").
const FAR: u64 = 20;

/// A choice of the window's share, and how far apart the roles probe around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Choice {
    /// The window's share, in millionths of a half's entries.
    pub(super) share: u64,
    /// Whether the roles are still far apart: a third and [`FAR`] times the share.
    pub(super) wide: bool,
}

impl Choice {
    /// A window of 1%, as Caffeine's, probed far around.
    pub(super) const FIRST: Choice = Choice {
        share: FIRST_SHARE,
        wide: true,
    };

    /// The smaller and the larger role's window shares around this choice.
    pub(super) const fn roles(self) -> [u64; 2] {
        let Choice { share, wide } = self;
        let (smaller, larger) = if wide {
            (share / 3, share * FAR)
        } else {
            (share * 2 / 3, share * 3 / 2)
        };
        let larger = if larger < LARGEST { larger } else { LARGEST };
        [smaller, larger]
    }

    /// The choice after `votes` pairs (at least one) whose summed `evidence`
    /// (thousandths of a standard error, see
    /// [`Tally::evidence`](super::evidence::Tally::evidence)) is given: towards the
    /// role that hit more, if by more than two errors, and further if by more than
    /// eight. Summed over pairs, the evidence is weighed by Stouffer's method: its sum
    /// over the root of their number. The roles close in once the choice stays.
    pub(super) fn after(self, evidence: i64, votes: u64) -> Choice {
        debug_assert!(votes > 0, "no pair voted");
        // Compares squares: |evidence| / sqrt(votes) > errors * 1000.
        let past = |errors: i128| {
            i128::from(evidence).pow(2) > (errors * 1_000).pow(2) * i128::from(votes)
        };
        let share = self.share;
        let share = match (evidence > 0, past(8), past(2)) {
            // Far past chance (the workload plainly favours one side), a bigger step:
            // a recency-biased workload may need a window 50 times the first.
            (true, true, _) => (share * 3).min(MOST),
            (true, false, true) => (share * 3 / 2).min(MOST),
            (false, true, _) => (share / 3).max(LEAST),
            (false, false, true) => (share * 2 / 3).max(LEAST),
            _ => share,
        };
        Choice {
            share,
            wide: self.wide && share != self.share,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_summed_over_pairs_weighs_by_the_root_of_their_number() {
        let first = Choice::FIRST;
        // 1.6 errors alone is chance; twice that over two pairs is 2.26 errors.
        assert_eq!(
            first.after(1_600, 1),
            Choice {
                wide: false,
                ..first
            }
        );
        assert_eq!(first.after(3_200, 2).share, FIRST_SHARE * 3 / 2);
        assert_eq!(first.after(-3_200, 2).share, FIRST_SHARE * 2 / 3);
        assert_eq!(first.after(-8_100, 1).share, FIRST_SHARE / 3);
        assert_eq!(first.after(3_200, 3).share, FIRST_SHARE);
    }

    #[test]
    fn the_larger_role_probes_twenty_times_the_first_choice() {
        assert_eq!(Choice::FIRST.roles(), [3_333, 200_000]);
        // A move keeps the roles far apart; a choice that stays brings them close.
        let moved = Choice::FIRST.after(8_100, 1);
        assert_eq!((moved.share, moved.wide), (30_000, true));
        assert_eq!(moved.roles(), [10_000, 600_000]);
        let stayed = moved.after(100, 1);
        assert_eq!((stayed.share, stayed.wide), (30_000, false));
        assert_eq!(stayed.roles(), [20_000, 45_000]);
        // The larger role never takes the whole half.
        let most = Choice {
            share: MOST,
            wide: true,
        };
        assert_eq!(most.roles()[1], LARGEST);
    }
}
