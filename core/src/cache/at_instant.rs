//! The engine's operations as of a given instant, for shells that read the clock once
//! per call themselves (the thread-safe and async caches). Hidden from the docs: users
//! call the clock-reading twins; shell authors read ARCHITECTURE.md.

use core::borrow::Borrow;

use crate::backend::Lookup;
use crate::cache::{Cache, CacheError, CacheInfo, Counts, Found};
use crate::codec::Serializer;
use crate::error::Error;
use crate::key_hash::KeyHash;
use crate::time::{Clock, Instant, Ttl};

impl<K, V, B, S, C> Cache<K, V, B, S, C>
where
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    /// [`get`](Self::get) as of `now`: for wrappers that read the clock themselves,
    /// once per call, such as the thread-safe cache in `jwm-cache`.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, Clock, ManualClock, Ttl};
    ///
    /// let clock = ManualClock::new();
    /// let mut cache = Cache::new(clock.clone());
    /// let now = clock.now();
    /// cache.insert_with_ttl_at(1, "one", Ttl::from_secs(1), now).unwrap();
    /// assert_eq!(cache.get_at(&1, now).unwrap(), Some("one"));
    /// ```
    #[doc(hidden)]
    #[inline]
    pub fn get_at<Q>(&mut self, key: &Q, now: Instant) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        self.get_hashed_at(key, None, now)
    }

    /// [`get_at`](Self::get_at) for a key the caller hashed with a
    /// [`SharedHasher`](crate::key_hash::SharedHasher), if `hash` is given: a backend that
    /// shares that hasher does not hash `key` again.
    #[doc(hidden)]
    // Always: a thread-safe cache's hit is this plus a lock, and a large caller can tip
    // the compiler against inlining it (136 against 109 instructions per hit).
    #[inline(always)]
    pub fn get_hashed_at<Q>(
        &mut self,
        key: &Q,
        hash: Option<KeyHash>,
        now: Instant,
    ) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let ttl = self.policy.ttl();
        let found = self.find(key, hash, ttl, now);
        self.count_found(&found);
        found.map(Found::live)
    }

    /// Like [`get_at`](Self::get_at), but not counted as a hit or a miss (a failure is
    /// still counted as an error): for a caller that already counted its lookup and
    /// looks again, as a single-flight waiter does when it takes over.
    #[doc(hidden)]
    pub fn peek_at<Q>(&mut self, key: &Q, now: Instant) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let ttl = self.policy.ttl();
        let found = self.find(key, None, ttl, now);
        self.counts += Counts::outcome(&found);
        found.map(Found::live)
    }

    /// What a memoized call's lookup at `now` found under `key`, for an entry written
    /// with `ttl`: a hit, a hit due for a refresh, a stale fallback, or nothing (a
    /// failure counts as a miss and an error). Counted as [`get_at`](Self::get_at) is;
    /// `hash` is the key's, as for [`get_hashed_at`](Self::get_hashed_at).
    #[doc(hidden)]
    #[inline]
    pub fn find_at<Q>(&mut self, key: &Q, hash: KeyHash, ttl: Ttl, now: Instant) -> Found<V>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let found = self.find(key, Some(hash), ttl, now);
        self.count_found(&found);
        found.unwrap_or(Found::Absent)
    }

    /// Adds `counts` to the cache's: for what a shell counts outside a lookup, such as
    /// a refresh or a stale value served.
    #[doc(hidden)]
    pub fn count(&mut self, counts: Counts) {
        self.counts += counts;
    }

    /// The entry under `key` at `now`, decoded and sorted as written with `ttl`. Not
    /// counted.
    #[inline]
    fn find<Q>(
        &mut self,
        key: &Q,
        hash: Option<KeyHash>,
        ttl: Ttl,
        now: Instant,
    ) -> Result<Found<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let entry = match hash {
            Some(hash) => Lookup::<K, Q, _>::get_entry_hashed(&mut self.backend, key, hash, now),
            None => Lookup::<K, Q, _>::get_entry(&mut self.backend, key, now),
        };
        self.policy.sort(entry, ttl, now)
    }

    /// Counts a lookup: a hit with one add, the hit path's only write.
    #[inline]
    fn count_found(&mut self, found: &Result<Found<V>, CacheError<K, V, B, S>>) {
        match found {
            Ok(Found::Hit(_) | Found::RefreshDue(_)) => self.counts.hits += 1,
            _ => self.counts += Counts::found(found),
        }
    }

    /// [`insert_with_ttl`](Self::insert_with_ttl) as of `now`.
    #[doc(hidden)]
    pub fn insert_with_ttl_at(
        &mut self,
        key: K,
        value: V,
        ttl: Ttl,
        now: Instant,
    ) -> Result<(), CacheError<K, V, B, S>> {
        self.store(key, ttl, now, |codec| codec.encode_owned(value))
    }

    /// Stores what `value` encodes to, with the cache's TTL, as of `now`: the store half
    /// of a memoized call, which keeps the value it returns.
    #[doc(hidden)]
    pub fn insert_ref_at(
        &mut self,
        key: K,
        value: &V,
        now: Instant,
    ) -> Result<(), CacheError<K, V, B, S>> {
        self.insert_ref_with_ttl_at(key, value, self.policy.ttl(), now)
    }

    /// [`insert_ref_at`](Self::insert_ref_at) with its own TTL: for memoized functions
    /// that share a cache but not a TTL.
    #[doc(hidden)]
    pub fn insert_ref_with_ttl_at(
        &mut self,
        key: K,
        value: &V,
        ttl: Ttl,
        now: Instant,
    ) -> Result<(), CacheError<K, V, B, S>> {
        self.store(key, ttl, now, |codec| codec.encode(value))
    }

    /// [`remove`](Self::remove) as of `now`.
    #[doc(hidden)]
    pub fn remove_at<Q>(&mut self, key: &Q, now: Instant) -> Result<bool, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let removed =
            Lookup::<K, Q, _>::remove(&mut self.backend, key, now).map_err(Error::Backend);
        self.counts += Counts::outcome(&removed);
        removed
    }

    /// [`info`](Self::info) as of `now`.
    #[doc(hidden)]
    pub fn info_at(&mut self, now: Instant) -> CacheInfo {
        let size = self.backend.len(now);
        self.counts += Counts::backend(&size);
        let mut info = self.counts.info(size.ok(), self.backend.reclaimed());
        info.lifetime += self.retired;
        info
    }

    /// [`info_at`](Self::info_at) without asking the backend its size (`current_size` is
    /// 0): for a wrapper whose caches share one backend's entries (one server's
    /// namespace) and ask one of them.
    #[doc(hidden)]
    pub fn info_without_size(&self) -> CacheInfo {
        let mut info = self.counts.info(Some(0), self.backend.reclaimed());
        info.lifetime += self.retired;
        info
    }

    /// Recounts the last miss as coalesced: its caller found another caller computing
    /// the key and waited for that value. For wrappers that add single-flight.
    #[doc(hidden)]
    pub fn coalesce_miss(&mut self) {
        self.counts.coalesce_miss();
    }
}
