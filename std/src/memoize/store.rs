//! `MemoStore`: what a memoized sync function keeps its results in.

use std::hash::Hash;

use jwm_cache_core::{CacheError, Clock, Lookup, Serializer, Ttl};

#[cfg(feature = "async")]
use crate::asynch::{AsyncCacheError, AsyncLookup, BlockingCache, BridgeError};
use crate::controls::CacheControls;
use crate::sync::SyncCache;

/// A thread-safe cache that a [`Memoized`](crate::memoize::Memoized) function or
/// [`MemoizedMethod`](crate::memoize::MemoizedMethod) keeps its results in: a [`SyncCache`] over
/// a sync backend, or (feature `async`) a `BlockingCache` over an async one. Its
/// controls are the cache's [`CacheControls`].
pub trait MemoStore: CacheControls {
    /// The key: the arguments, or the receiver's key and the arguments.
    type Key;
    /// The value.
    type Value;
    /// Why a lookup or store failed.
    type Error;

    /// The stored value under `key`, or `f()`'s, stored on `Ok` with `ttl` (the
    /// cache's own if `None`) and returned. Callers waiting on the same computation get
    /// its `Err` too, cloned.
    fn get_or_compute<E: Clone + Send + 'static>(
        &self,
        key: Self::Key,
        ttl: Option<Ttl>,
        f: impl FnOnce() -> Result<Self::Value, E>,
    ) -> Result<Self::Value, E>;

    /// [`get_or_compute`](Self::get_or_compute) with a function of the key, `run` on
    /// `function`, that the cache may call again in the background to refresh an entry
    /// past its `refresh_after`, on the library's refresh threads. The default computes
    /// as `get_or_compute` does and never refreshes.
    fn get_or_refresh<F, E>(
        &self,
        key: Self::Key,
        ttl: Option<Ttl>,
        function: &F,
        run: fn(&F, Self::Key) -> Result<Self::Value, E>,
    ) -> Result<Self::Value, E>
    where
        Self: Clone + Send + 'static,
        Self::Key: Clone + Send + 'static,
        Self::Value: Send + 'static,
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        self.get_or_compute(key.clone(), ttl, || run(function, key))
    }

    /// Whether a hit may refresh its entry (the cache has a `refresh_after`): only then
    /// does a memoized call hand the cache its function. The default: never.
    fn refreshes(&self) -> bool {
        false
    }

    /// `f()`'s value for `key`, whatever is cached, stored on `Ok` with `ttl` (the
    /// cache's own if `None`). A [`SyncCache`] stores it as a miss's: not if a write of
    /// the key came while `f` ran. The default (a `BlockingCache`'s) stores it anyway.
    /// A failed store is counted, not returned.
    fn prime<E>(
        &self,
        key: Self::Key,
        ttl: Option<Ttl>,
        f: impl FnOnce() -> Result<Self::Value, E>,
    ) -> Result<Self::Value, E>
    where
        Self::Value: Clone,
    {
        let value = f()?;
        let _counted = self.insert_entry(key, value.clone(), ttl);
        Ok(value)
    }

    /// Stores `value` under `key` with `ttl` (the cache's own if `None`).
    fn insert_entry(
        &self,
        key: Self::Key,
        value: Self::Value,
        ttl: Option<Ttl>,
    ) -> Result<(), Self::Error>;
}

/// Both thread-safe caches offer these operations inherently, with the same meaning.
macro_rules! memo_store_by_inherent_methods {
    () => {
        type Key = K;
        type Value = V;

        fn get_or_compute<E: Clone + Send + 'static>(
            &self,
            key: K,
            ttl: Option<Ttl>,
            f: impl FnOnce() -> Result<V, E>,
        ) -> Result<V, E> {
            match ttl {
                Some(ttl) => self.try_get_or_insert_with_ttl(key, ttl, f),
                None => self.try_get_or_insert_with(key, f),
            }
        }

        fn refreshes(&self) -> bool {
            self.refresh_after().is_some()
        }

        fn insert_entry(&self, key: K, value: V, ttl: Option<Ttl>) -> Result<(), Self::Error> {
            self.insert_with_ttl(key, value, ttl.unwrap_or_else(|| self.ttl()))
        }

        fn get_or_refresh<F, E>(
            &self,
            key: K,
            ttl: Option<Ttl>,
            function: &F,
            run: fn(&F, K) -> Result<V, E>,
        ) -> Result<V, E>
        where
            Self: Clone + Send + 'static,
            K: Clone + Send + 'static,
            V: Send + 'static,
            F: Clone + Send + Sync + 'static,
            E: Clone + Send + 'static,
        {
            let ttl = ttl.unwrap_or_else(|| self.ttl());
            self.try_get_or_refresh_by(key, ttl, function, run)
        }
    };
}

impl<K, V, B, S, C> MemoStore for SyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    type Error = CacheError<K, V, B, S>;
    memo_store_by_inherent_methods!();

    fn prime<E>(&self, key: K, ttl: Option<Ttl>, f: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        self.compute_and_store(key, ttl.unwrap_or_else(|| self.ttl()), f)
    }
}

#[cfg(feature = "async")]
impl<K, V, B, S, C> MemoStore for BlockingCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Send + Sync + 'static,
    S::Encoded: Send,
    S::Error: Send,
    B: AsyncLookup<K, K, S::Encoded> + 'static,
    B::Error: 'static,
    C: Clock + Send + Sync + 'static,
{
    type Error = BridgeError<AsyncCacheError<K, V, B, S>>;
    memo_store_by_inherent_methods!();
}
