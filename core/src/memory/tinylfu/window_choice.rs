//! One window choice for several [`TinyLfu`](super::TinyLfu) policies: the shards of
//! a thread-safe cache. A shard sees only its slice of the requests, so its own split
//! test has a fraction of the evidence and rarely tells the windows apart; pooled, the
//! shards' evidence weighs as much as one whole cache's would.

use super::choice::Choice;

/// How a policy sizes its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sizing {
    /// By its split test (pooled with the others that share its choice).
    SplitTest,
    /// By its miniature simulation, for all that share its choice.
    Simulation,
    /// By the simulation another policy that shares its choice runs (only a policy
    /// that shares its choice, through atomics, can be told to).
    #[cfg_attr(not(target_has_atomic = "ptr"), allow(dead_code))]
    Follow,
}

#[cfg(target_has_atomic = "ptr")]
pub(super) use atomic::Sharing;
#[cfg(target_has_atomic = "ptr")]
pub use atomic::WindowChoice;

/// Without pointer-sized atomics a policy shares nothing: it decides alone.
#[cfg(not(target_has_atomic = "ptr"))]
#[derive(Clone, Debug)]
pub(super) struct Sharing;

#[cfg(not(target_has_atomic = "ptr"))]
impl Sharing {
    /// A policy's own choice.
    pub(super) const ALONE: Sharing = Sharing;

    /// No shared choice.
    pub(super) fn choice(&self) -> Option<Choice> {
        None
    }

    /// No round to vote in: the caller decides alone.
    pub(super) fn vote(&self, _: Option<i64>) -> Option<Choice> {
        None
    }

    /// The policy alone.
    pub(super) fn sharers(&self) -> usize {
        1
    }

    /// By simulation if the cache is large enough, else by the split test.
    pub(super) fn sizing(&self, simulate: bool) -> Sizing {
        if simulate {
            Sizing::Simulation
        } else {
            Sizing::SplitTest
        }
    }

    /// Nothing to publish to.
    pub(super) fn publish(&self, _: u64) {}
}

#[cfg(target_has_atomic = "ptr")]
mod atomic {
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

    use super::{Choice, Sizing};

    /// One choice of window size for the policies that join it with
    /// [`TinyLfu::with_window_choice`](crate::memory::TinyLfu::with_window_choice) or
    /// [`MemoryBackend::with_window_choice`](crate::memory::MemoryBackend::with_window_choice).
    ///
    /// Each policy still runs its own split test (see [`TinyLfu`](crate::TinyLfu)),
    /// and at the end of each pair of samples adds its evidence here instead of
    /// deciding. Every `voters`-th vote closes a round and decides for all by
    /// Stouffer's method: the summed evidence over the root of the number of votes
    /// that brought some. Each policy takes up the choice when its halves next swap
    /// roles. A vote that races a decision counts in this round or the next.
    ///
    /// If the first policy to fill holds, times their number, 128 Ki entries or more,
    /// it runs a miniature simulation of its keys for all instead, and each of the
    /// others takes up its choice at every insert once it has filled too.
    ///
    /// ```
    /// use jwm_cache_core::{MemoryBackend, TinyLfu, WindowChoice};
    ///
    /// let choice = WindowChoice::new(2);
    /// let shards: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         MemoryBackend::<u32, u32>::new()
    ///             .with_eviction(TinyLfu::new(50).with_window_choice(&choice))
    ///     })
    ///     .collect();
    /// // A window of 1% of the entries to begin with, as Caffeine's.
    /// assert_eq!(choice.millionths(), 10_000);
    /// # drop(shards);
    /// ```
    #[derive(Debug)]
    pub struct WindowChoice {
        /// Votes per round: one per policy, if they vote at the same pace.
        voters: usize,
        /// The [`Choice`], packed (see [`pack`]), so that one update changes it whole.
        choice: AtomicUsize,
        /// The round's evidence, summed (saturating).
        evidence: AtomicIsize,
        /// How many of the round's votes brought evidence.
        counted: AtomicUsize,
        /// Votes in all, over every round.
        votes: AtomicUsize,
        /// How the policies size their window: decided by the first to fill.
        sizing: AtomicUsize,
    }

    impl WindowChoice {
        /// A choice for `voters` policies (at least 1), shared through the `Arc`.
        pub fn new(voters: usize) -> Arc<Self> {
            Arc::new(WindowChoice {
                voters: voters.max(1),
                choice: AtomicUsize::new(pack(Choice::FIRST)),
                evidence: AtomicIsize::new(0),
                counted: AtomicUsize::new(0),
                votes: AtomicUsize::new(0),
                sizing: AtomicUsize::new(UNDECIDED),
            })
        }

        /// The window's current share of each policy's entries, in millionths.
        pub fn millionths(&self) -> u32 {
            self.current().share as u32
        }

        /// The current choice.
        fn current(&self) -> Choice {
            unpack(self.choice.load(Ordering::Relaxed))
        }

        // Relaxed throughout: the sums are evidence, not guards of other memory. A
        // vote that races the decision may land in either round, even split between
        // them (its evidence in one, its count in the other): a round then weighs
        // it a little off, and one with evidence but no count decides nothing.
        fn vote(&self, evidence: Option<i64>) -> Choice {
            if let Some(evidence) = evidence {
                // At most ±16,000 a vote; saturating, for a choice shared by more
                // policies than a 32-bit `isize` can sum.
                let add = |sum: isize| Some(sum.saturating_add(evidence as isize));
                let _ = self
                    .evidence
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, add);
                self.counted.fetch_add(1, Ordering::Relaxed);
            }
            // Exactly one vote in `voters` decides. The count wraps: a tiny policy votes
            // often, and a 32-bit count can run out (one round then has another length).
            let votes = self.votes.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if !votes.is_multiple_of(self.voters) {
                return self.current();
            }
            let evidence = self.evidence.swap(0, Ordering::Relaxed) as i64;
            let counted = self.counted.swap(0, Ordering::Relaxed) as u64;
            if counted == 0 {
                return self.current();
            }
            // From the choice as it is: a decider of an earlier round may have been
            // slower than this one.
            let mut next = self.current();
            let _ = self
                .choice
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |packed| {
                    next = unpack(packed).after(evidence, counted);
                    Some(pack(next))
                });
            next
        }
    }

    /// Marks a wide choice in its packed form: the top bit, above any share (at most a
    /// million).
    const WIDE: usize = 1 << (usize::BITS - 1);
    // Every share fits under it (a 16-bit `usize` could not hold the shares).
    const _: () = assert!((crate::memory::tinylfu::choice::MOST as usize) < WIDE);

    /// A choice as one word, for one atomic.
    pub(super) const fn pack(choice: Choice) -> usize {
        choice.share as usize | if choice.wide { WIDE } else { 0 }
    }

    /// The choice [`pack`] made `packed` of.
    pub(super) fn unpack(packed: usize) -> Choice {
        Choice {
            share: (packed & !WIDE) as u64,
            wide: packed & WIDE != 0,
        }
    }

    /// `WindowChoice::sizing` before any policy filled.
    const UNDECIDED: usize = usize::MAX;

    /// A policy's link to a shared choice, if it joined one.
    #[derive(Clone, Debug)]
    pub(in crate::memory::tinylfu) struct Sharing(Option<Arc<WindowChoice>>);

    impl Sharing {
        pub(in crate::memory::tinylfu) const ALONE: Sharing = Sharing(None);

        pub(in crate::memory::tinylfu) fn joined(choice: &Arc<WindowChoice>) -> Self {
            Sharing(Some(Arc::clone(choice)))
        }

        /// The shared choice, if any.
        pub(in crate::memory::tinylfu) fn choice(&self) -> Option<Choice> {
            self.0.as_deref().map(WindowChoice::current)
        }

        /// Adds a pair's evidence (if it had enough blocks) to the shared round; the
        /// choice after the vote, if shared.
        pub(in crate::memory::tinylfu) fn vote(&self, evidence: Option<i64>) -> Option<Choice> {
            self.0.as_deref().map(|choice| choice.vote(evidence))
        }

        /// How many policies share the choice (1 alone).
        pub(in crate::memory::tinylfu) fn sharers(&self) -> usize {
            self.0.as_deref().map_or(1, |choice| choice.voters)
        }

        /// How the caller sizes its window: the first policy to ask decides for all,
        /// by whether it should `simulate`, and runs the simulation if so.
        pub(in crate::memory::tinylfu) fn sizing(&self, simulate: bool) -> Sizing {
            let mine = if simulate {
                Sizing::Simulation
            } else {
                Sizing::SplitTest
            };
            let Some(choice) = self.0.as_deref() else {
                return mine;
            };
            let decided = choice.sizing.compare_exchange(
                UNDECIDED,
                mine as usize,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            match decided {
                Ok(_) => mine,
                Err(first) if first == Sizing::Simulation as usize => Sizing::Follow,
                Err(_) => Sizing::SplitTest,
            }
        }

        /// Sets the shared choice, if any.
        pub(in crate::memory::tinylfu) fn publish(&self, share: u64) {
            if let Some(choice) = self.0.as_deref() {
                let packed = pack(Choice { share, wide: false });
                choice.choice.store(packed, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(all(test, target_has_atomic = "ptr"))]
mod tests {
    use super::*;

    #[test]
    fn the_first_policy_to_fill_decides_how_all_size_their_window() {
        let large = WindowChoice::new(3);
        let [first, second, third] = [(); 3].map(|_| Sharing::joined(&large));
        assert_eq!(first.sizing(true), Sizing::Simulation);
        // The others follow, even those that alone would not simulate.
        assert_eq!(second.sizing(false), Sizing::Follow);
        assert_eq!(third.sizing(true), Sizing::Follow);
        first.publish(400_000);
        assert_eq!(second.choice().map(|choice| choice.share), Some(400_000));
        assert_eq!(large.millionths(), 400_000);

        // The simulation's choice is never wide.
        assert_eq!(second.choice().map(|choice| choice.wide), Some(false));

        let small = WindowChoice::new(2);
        let [first, second] = [(); 2].map(|_| Sharing::joined(&small));
        assert_eq!(first.sizing(false), Sizing::SplitTest);
        assert_eq!(second.sizing(true), Sizing::SplitTest);
        assert_eq!(Sharing::ALONE.sizing(true), Sizing::Simulation);
    }

    #[test]
    fn a_round_moves_the_share_and_narrows_the_roles_together() {
        let choice = WindowChoice::new(1);
        let policy = Sharing::joined(&choice);
        let first = policy.choice().unwrap();
        assert!(first.wide);
        // Past eight errors: three times the share, the roles still wide.
        let moved = policy.vote(Some(9_000)).unwrap();
        assert_eq!((moved.share, moved.wide), (first.share * 3, true));
        // No difference: the share stays and the roles close in, in one update.
        let stayed = policy.vote(Some(100)).unwrap();
        assert_eq!((stayed.share, stayed.wide), (moved.share, false));
        assert_eq!(policy.choice(), Some(stayed));
        assert_eq!(u64::from(choice.millionths()), stayed.share);
        // A vote without evidence decides nothing.
        assert_eq!(policy.vote(None), Some(stayed));
    }

    #[test]
    fn a_packed_choice_unpacks_to_itself() {
        use crate::memory::tinylfu::choice::{LEAST, MOST};

        for share in [LEAST, Choice::FIRST.share, MOST] {
            for wide in [false, true] {
                let choice = Choice { share, wide };
                assert_eq!(atomic::unpack(atomic::pack(choice)), choice);
            }
        }
    }
}
