//! One window choice for several [`TinyLfu`](super::TinyLfu) policies: the shards of
//! a thread-safe cache. A shard sees only its slice of the requests, so its own split
//! test has a fraction of the evidence and rarely tells the windows apart; pooled, the
//! shards' counts weigh as much as one whole cache's would.

use super::split::Tally;

#[cfg(target_has_atomic = "ptr")]
pub use atomic::SharedWindow;
#[cfg(target_has_atomic = "ptr")]
pub(super) use atomic::Sharing;

/// Without pointer-sized atomics a policy shares nothing: it decides alone.
#[cfg(not(target_has_atomic = "ptr"))]
#[derive(Clone, Debug)]
pub(super) struct Sharing;

#[cfg(not(target_has_atomic = "ptr"))]
impl Sharing {
    pub(super) const ALONE: Sharing = Sharing;

    pub(super) fn choice(&self) -> Option<u64> {
        None
    }

    pub(super) fn vote(&self, _: Tally) -> Option<u64> {
        None
    }
}

#[cfg(target_has_atomic = "ptr")]
mod atomic {
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicUsize, Ordering};

    use super::Tally;
    use crate::memory::tinylfu::split;

    /// A window choice shared by the policies that join it with
    /// [`TinyLfu::with_shared_window`](crate::memory::TinyLfu::with_shared_window).
    ///
    /// Each policy still runs its own split test (see [`TinyLfu`](crate::TinyLfu)),
    /// and at the end of each pair of samples adds its counts here instead of
    /// deciding. The vote that completes a round (one vote per member) decides for all
    /// on the summed counts, and each policy takes up the choice when its halves next
    /// swap roles. Votes that race a decision count in this round or the next.
    ///
    /// ```
    /// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend, SharedWindow, TinyLfu};
    ///
    /// let window = SharedWindow::new(2);
    /// let mut shards: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         MemoryBackend::<u32, u32>::new()
    ///             .with_eviction(TinyLfu::new(50).with_shared_window(&window))
    ///     })
    ///     .collect();
    /// let now = Instant::ZERO;
    /// for key in 0..1_000u32 {
    ///     let shard = &mut shards[key as usize % 2];
    ///     shard.set(key, key, Deadline::NEVER, now).unwrap();
    /// }
    /// assert_eq!(shards[0].stored() + shards[1].stored(), 100);
    /// ```
    #[derive(Debug)]
    pub struct SharedWindow {
        members: usize,
        /// The window's share, in millionths of a policy's entries.
        choice: AtomicUsize,
        requests: [AtomicUsize; 2],
        hits: [AtomicUsize; 2],
        votes: AtomicUsize,
    }

    impl SharedWindow {
        /// A choice for `members` policies (at least 1), shared through the `Arc`.
        pub fn new(members: usize) -> Arc<Self> {
            Arc::new(SharedWindow {
                members: members.max(1),
                choice: AtomicUsize::new(split::FIRST as usize),
                requests: [AtomicUsize::new(0), AtomicUsize::new(0)],
                hits: [AtomicUsize::new(0), AtomicUsize::new(0)],
                votes: AtomicUsize::new(0),
            })
        }

        // Relaxed throughout: the counts are evidence, not guards of other memory; a
        // vote that lands in the wrong round moves nothing but the statistics.
        fn choice(&self) -> u64 {
            self.choice.load(Ordering::Relaxed) as u64
        }

        fn vote(&self, tally: Tally) -> u64 {
            let add = |into: &[AtomicUsize; 2], counts: [u64; 2]| {
                for (into, count) in into.iter().zip(counts) {
                    into.fetch_add(
                        usize::try_from(count).unwrap_or(usize::MAX),
                        Ordering::Relaxed,
                    );
                }
            };
            add(&self.requests, tally.requests);
            add(&self.hits, tally.hits);
            if self.votes.fetch_add(1, Ordering::Relaxed) + 1 < self.members {
                return self.choice();
            }
            self.votes.store(0, Ordering::Relaxed);
            let take = |from: &[AtomicUsize; 2]| {
                from.each_ref().map(|c| c.swap(0, Ordering::Relaxed) as u64)
            };
            let round = Tally {
                requests: take(&self.requests),
                hits: take(&self.hits),
            };
            let next = round.verdict(self.choice());
            self.choice.store(next as usize, Ordering::Relaxed);
            next
        }
    }

    /// A policy's link to a shared choice, if it joined one.
    #[derive(Clone, Debug)]
    pub(in crate::memory::tinylfu) struct Sharing(Option<Arc<SharedWindow>>);

    impl Sharing {
        pub(in crate::memory::tinylfu) const ALONE: Sharing = Sharing(None);

        pub(in crate::memory::tinylfu) fn joined(window: &Arc<SharedWindow>) -> Self {
            Sharing(Some(Arc::clone(window)))
        }

        /// The shared choice, if any.
        pub(in crate::memory::tinylfu) fn choice(&self) -> Option<u64> {
            self.0.as_deref().map(SharedWindow::choice)
        }

        /// Adds a pair's counts to the shared round; the choice after the vote, if shared.
        pub(in crate::memory::tinylfu) fn vote(&self, tally: Tally) -> Option<u64> {
            self.0.as_deref().map(|window| window.vote(tally))
        }
    }
}
