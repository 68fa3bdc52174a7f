//! `MemoStore`: what a memoized sync function keeps its results in.

use std::hash::Hash;

use jwm_cache_core::{Clock, Lookup, Serializer, Ttl};

#[cfg(feature = "async")]
use crate::asynch::{AsyncLookup, BlockingCache};
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

    /// The stored value under `key`, or `f()`'s, stored on `Ok` with `ttl` (the
    /// cache's own if `None`) and returned. Callers waiting on the same computation get
    /// its `Err` too, cloned.
    fn get_or_compute<E: Clone + Send + 'static>(
        &self,
        key: Self::Key,
        ttl: Option<Ttl>,
        f: impl FnOnce() -> Result<Self::Value, E>,
    ) -> Result<Self::Value, E>;
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
    memo_store_by_inherent_methods!();
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
    memo_store_by_inherent_methods!();
}
