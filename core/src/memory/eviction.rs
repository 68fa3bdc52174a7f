//! The eviction policy of the memory backend: which entry goes when the store is full.
//!
//! A policy keeps its own per-entry state, indexed by the store's dense positions, so an
//! entry pays only for the policy it is under. The store tells it about every insert,
//! access and removal, and asks it for a victim when the capacity is reached.

use alloc::boxed::Box;

use super::tinylfu::TinyLfu;

/// Decides which entry a [`MemoryBackend`](crate::memory::MemoryBackend) evicts to stay
/// within its capacity.
///
/// Entries are known by position: positions are dense (`0..len`), a new entry takes
/// position `len`, and a removal moves the last entry into the hole, as
/// [`Vec::swap_remove`](alloc::vec::Vec::swap_remove) does. A policy that keeps
/// per-entry state keeps it in a side table indexed the same way. A policy that
/// implements [`replaced`](Self::replaced) lets an insert put the new entry in its last
/// victim's position instead, moving nothing.
///
/// Built in: [`TinyLfu`] (W-TinyLFU: frequency-based admission, scan-resistant, the
/// default), [`Sieve`](crate::memory::Sieve) (SIEVE: cheaper inserts, not scan-resistant),
/// [`Unbounded`] (never evicts, zero-sized), `Option<P>` of any policy, off when
/// `None`, and `Box<P>`. The default, [`DefaultEviction`], is `Option<Box<TinyLfu>>`:
/// [`new`](crate::memory::MemoryBackend::new) gives `None`,
/// [`with_capacity`](crate::memory::MemoryBackend::with_capacity) gives `Some`.
///
/// ```
/// use jwm_cache_core::{Backend, Deadline, Eviction, Instant, MemoryBackend, Sieve, Unbounded};
///
/// let mut store = MemoryBackend::<u32, u32>::new().with_eviction(Sieve::new(2));
/// for k in 0..3 {
///     store.set(k, k, Deadline::NEVER, Instant::ZERO).unwrap();
/// }
/// assert_eq!(store.stored(), 2);
/// assert_eq!(Unbounded.capacity(), None);
/// ```
pub trait Eviction {
    /// The most total weight the store holds before evicting; `None` for no bound. With
    /// the default [`UnitWeight`](crate::memory::UnitWeight), weight counts entries.
    fn capacity(&self) -> Option<usize>;

    /// An entry was stored at `index`, the next free position; `hash` is its key's
    /// hash, from the store's hasher.
    fn inserted(&mut self, index: u32, hash: u64);

    /// The entry at `index`, whose key hashes to `hash`, was read, or its value was
    /// replaced in place.
    fn accessed(&mut self, index: u32, hash: u64);

    /// The entry at `index` left the store, and the entry at `last` moved into its
    /// position (unless `index == last`).
    fn removed(&mut self, index: u32, last: u32);

    /// The entry to evict next, to make room for one whose key hashes to `incoming`,
    /// or `None` if the policy tracks none. The store then removes it, telling the
    /// policy through [`removed`](Self::removed), or, if evicting it alone makes room,
    /// first offers its position to the new entry through [`replaced`](Self::replaced). `hash_of` gives the key hash of the
    /// entry at a position, for policies that weigh candidates by key (the store
    /// hashes the key again: evictions only).
    fn victim(&mut self, incoming: u64, hash_of: &dyn Fn(u32) -> u64) -> Option<u32>;

    /// The victim at `index`, just named by [`victim`](Self::victim), would give its
    /// position to a new entry whose key hashes to `hash`, as evicting it alone makes
    /// room. Returns whether the policy took that: then it has done what
    /// [`removed`](Self::removed) then [`inserted`](Self::inserted) would, with no entry
    /// moved, and neither follows. On `false` it must have changed nothing; the store
    /// then removes the victim and inserts the entry at the end, moving its last entry
    /// into the hole. The default returns `false`.
    fn replaced(&mut self, index: u32, hash: u64) -> bool {
        let _ = (index, hash);
        false
    }

    /// Every entry left the store.
    fn cleared(&mut self);
}

/// The default policy: W-TinyLFU when a capacity was given, nothing otherwise.
///
/// A run-time choice, so that [`MemoryBackend::new`](crate::memory::MemoryBackend::new)
/// and [`with_capacity`](crate::memory::MemoryBackend::with_capacity) return the same
/// type. `None` keeps no per-entry state, and the box keeps the policy's own fields
/// out of a store without a capacity (a pointer's worth); name [`Unbounded`] to drop the
/// check too. Chosen by hit ratio (BENCHMARKS.md, issue 19): on the ARC traces and
/// Zipf, scan and shifting workloads it is ahead of SIEVE nearly everywhere, by up to
/// 11 points; an insert that evicts costs 2.6 to 3.4 times SIEVE's.
///
/// ```
/// use jwm_cache_core::{Backend, DefaultEviction, MemoryBackend};
///
/// let unbounded: MemoryBackend<u32, u32> = MemoryBackend::new();
/// let bounded: MemoryBackend<u32, u32, _, DefaultEviction> = MemoryBackend::with_capacity(8);
/// assert_eq!((unbounded.capacity(), bounded.capacity()), (None, Some(8)));
/// ```
pub type DefaultEviction = Option<Box<TinyLfu>>;

/// A policy that never evicts and keeps no state: zero-sized, so every call compiles
/// away.
///
/// A store under it still holds at most 2^32 − 513 entries; past that it drops an
/// arbitrary one, as an eviction.
///
/// ```
/// use jwm_cache_core::{Backend, Deadline, Instant, MemoryBackend, Unbounded};
///
/// let mut store = MemoryBackend::<u32, u32>::new().with_eviction(Unbounded);
/// for k in 0..1_000 {
///     store.set(k, k, Deadline::NEVER, Instant::ZERO).unwrap();
/// }
/// assert_eq!((store.stored(), store.capacity()), (1_000, None));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unbounded;

impl Eviction for Unbounded {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        None
    }

    #[inline]
    fn inserted(&mut self, _: u32, _: u64) {}

    #[inline]
    fn accessed(&mut self, _: u32, _: u64) {}

    #[inline]
    fn removed(&mut self, _: u32, _: u32) {}

    #[inline]
    fn victim(&mut self, _: u64, _: &dyn Fn(u32) -> u64) -> Option<u32> {
        None
    }

    #[inline]
    fn cleared(&mut self) {}
}

/// A policy behind a pointer: its fields stay out of the store that holds it.
impl<P: Eviction + ?Sized> Eviction for Box<P> {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        (**self).capacity()
    }

    #[inline]
    fn inserted(&mut self, index: u32, hash: u64) {
        (**self).inserted(index, hash);
    }

    #[inline]
    fn accessed(&mut self, index: u32, hash: u64) {
        (**self).accessed(index, hash);
    }

    #[inline]
    fn removed(&mut self, index: u32, last: u32) {
        (**self).removed(index, last);
    }

    #[inline]
    fn victim(&mut self, incoming: u64, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        (**self).victim(incoming, hash_of)
    }

    #[inline]
    fn replaced(&mut self, index: u32, hash: u64) -> bool {
        (**self).replaced(index, hash)
    }

    #[inline]
    fn cleared(&mut self) {
        (**self).cleared();
    }
}

/// A policy switched on or off at run time: `None` never evicts and keeps no state.
impl<P: Eviction> Eviction for Option<P> {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        self.as_ref().and_then(P::capacity)
    }

    #[inline]
    fn inserted(&mut self, index: u32, hash: u64) {
        if let Some(policy) = self {
            policy.inserted(index, hash);
        }
    }

    #[inline]
    fn accessed(&mut self, index: u32, hash: u64) {
        if let Some(policy) = self {
            policy.accessed(index, hash);
        }
    }

    #[inline]
    fn removed(&mut self, index: u32, last: u32) {
        if let Some(policy) = self {
            policy.removed(index, last);
        }
    }

    #[inline]
    fn victim(&mut self, incoming: u64, hash_of: &dyn Fn(u32) -> u64) -> Option<u32> {
        self.as_mut()
            .and_then(|policy| policy.victim(incoming, hash_of))
    }

    #[inline]
    fn replaced(&mut self, index: u32, hash: u64) -> bool {
        self.as_mut()
            .is_some_and(|policy| policy.replaced(index, hash))
    }

    #[inline]
    fn cleared(&mut self) {
        if let Some(policy) = self {
            policy.cleared();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::memory::Sieve;

    #[test]
    fn the_unbounded_policies_cost_nothing() {
        assert_eq!(core::mem::size_of::<Unbounded>(), 0);
        // `None` borrows the box's niche: a pointer's worth in every store.
        assert_eq!(
            core::mem::size_of::<DefaultEviction>(),
            core::mem::size_of::<usize>()
        );
    }

    #[test]
    fn none_never_evicts() {
        let mut policy: Option<Sieve> = None;
        for index in 0..4 {
            policy.inserted(index, u64::from(index));
        }
        policy.accessed(2, 2);
        policy.removed(1, 3);
        assert_eq!(
            (policy.capacity(), policy.victim(0, &u64::from)),
            (None, None)
        );
    }
}
