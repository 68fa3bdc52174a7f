//! The engine's operations as of a given instant, for shells that read the clock once
//! per call themselves (the thread-safe and async caches). Hidden from the docs: users
//! call the clock-reading twins; shell authors read ARCHITECTURE.md.

use core::borrow::Borrow;

use crate::backend::Lookup;
use crate::cache::{Cache, CacheError, CacheInfo, Counts};
use crate::codec::Serializer;
use crate::error::Error;
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
    pub fn get_at<Q>(&mut self, key: &Q, now: Instant) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let found = self
            .policy
            .read(Lookup::<K, Q, _>::get(&mut self.backend, key, now));
        self.counts += Counts::lookup(&found);
        found
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
        let found = self
            .policy
            .read(Lookup::<K, Q, _>::get(&mut self.backend, key, now));
        self.counts += Counts::outcome(&found);
        found
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

    /// Recounts the last miss as coalesced: its caller found another caller computing
    /// the key and waited for that value. For wrappers that add single-flight.
    #[doc(hidden)]
    pub fn coalesce_miss(&mut self) {
        self.counts.coalesce_miss();
    }
}
