//! `BlockingCache`'s writes: a write on a current-thread runtime's thread waits for the
//! cache's write gate within a bound (see [`BlockingCache`]).

use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use jwm_cache_core::{Clock, Serializer, Ttl};

use super::BlockingCache;
use super::backend::AsyncLookup;
use super::blocking_cache::BridgeResult;
use super::bridge::{self, BridgeError};
use super::cache::{AsyncCache, AsyncCacheError};

impl<K, V, B, S, C> BlockingCache<K, V, B, S, C> {
    /// The longest a write called on a current-thread runtime's thread waits for the
    /// cache's write gate, unless the backend's call budget asks for more (see
    /// [`BlockingCache`]).
    pub const GATE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
}

impl<K, V, B, S, C> BlockingCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Send + Sync + 'static,
    B: AsyncLookup<K, K, S::Encoded> + 'static,
    B::Error: 'static,
    S::Encoded: Send,
    S::Error: Send,
    C: Clock + Send + Sync + 'static,
{
    /// Stores `value` under `key` with the cache's TTL.
    pub fn insert(&self, key: K, value: V) -> BridgeResult<(), K, V, B, S> {
        self.run_write(move |cache| async move { cache.insert(key, value).await })
    }

    /// Stores `value` under `key` with its own TTL; [`Ttl::ZERO`] stores nothing.
    pub fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> BridgeResult<(), K, V, B, S> {
        let ttl = ttl.into();
        let write = move |cache: Arc<AsyncCache<K, V, B, S, C>>| async move {
            cache.insert_with_ttl(key, value, ttl).await
        };
        self.run_write(write)
    }

    /// Removes the entry under `key`, which may be any borrowed form of the key type;
    /// returns whether a live one was there.
    pub fn remove<Q>(&self, key: &Q) -> BridgeResult<bool, K, V, B, S>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned + Sync + ?Sized + 'static,
        Q::Owned: Send + 'static,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        let key = key.to_owned();
        self.run_write(move |cache| async move { cache.remove(key.borrow()).await })
    }

    /// Empties the cache's namespace and resets every counter.
    pub fn clear(&self) -> BridgeResult<(), K, V, B, S> {
        self.run_write(move |cache| async move { cache.clear().await })
    }

    /// [`run`](Self::run) for a write, which may wait for the write gate (an insert
    /// does while its key is computed, which may begin at any moment). On a
    /// current-thread runtime's thread, that wait is bounded, before the write begins:
    /// the gate may be held by a task of that runtime, which cannot run while this
    /// thread blocks. Once the gate was free, only tasks of other runtimes can take it
    /// before the write does, and theirs end.
    fn run_write<T, F>(
        &self,
        op: impl FnOnce(Arc<AsyncCache<K, V, B, S, C>>) -> F + Send + 'static,
    ) -> BridgeResult<T, K, V, B, S>
    where
        F: Future<Output = Result<T, AsyncCacheError<K, V, B, S>>> + Send + 'static,
        T: Send + 'static,
    {
        if !bridge::on_current_thread_runtime() {
            return self.run(op);
        }
        let budget = self.cache.backend().call_budget().unwrap_or_default();
        let bound = Self::GATE_WAIT.max(budget.saturating_mul(4));
        let cache = Arc::clone(&self.cache);
        let write = async move {
            if !cache.write_gate_frees_within(bound).await {
                return Err(BridgeError::Busy(bound));
            }
            op(cache).await.map_err(BridgeError::Cache)
        };
        self.bridge.run(write).unwrap_or(Err(BridgeError::Stopped))
    }
}
