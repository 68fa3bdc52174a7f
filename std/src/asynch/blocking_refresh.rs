//! Refresh-ahead for `BlockingCache`: sync functions over an async backend refresh on
//! the library's refresh threads, and store through the bridge.

use std::hash::Hash;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use jwm_cache_core::{Clock, Serializer, Ttl};

use tokio::sync::oneshot;

use super::backend::{AsyncBackend, AsyncLookup};
use super::blocking_cache::BlockingCache;
use super::bridge::Bridge;
use super::cache::{AsyncCache, Held, RefreshEnding, polled_beside};
use super::claim::{Lease, RefreshClaim};
use crate::flight::{Caller, Shared};
use crate::refresh_threads;

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
    AsyncCache<K, V, B, S, C>: Send + Sync,
{
    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) with a function
    /// of the key, `run` on `function`, that the cache may call again: a hit on an
    /// entry older than the cache's `refresh_after` returns the stored value at once and
    /// recomputes it on the library's refresh threads (as `SyncCache` does), then stores
    /// it through the bridge.
    #[doc(hidden)]
    pub fn try_get_or_refresh_by<F, E>(
        &self,
        key: K,
        ttl: Ttl,
        function: &F,
        run: fn(&F, K) -> Result<V, E>,
    ) -> Result<V, E>
    where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        let compute_key = key.clone();
        let compute = || run(function, compute_key);
        let refresh = |key| self.refresh_on_threads(key, ttl, function, run);
        self.try_get_or_refresh_as::<E, Shared>(key, ttl, compute, refresh)
    }

    /// Queues the refresh of `key`, unless one is in flight.
    fn refresh_on_threads<F, E>(
        &self,
        key: K,
        ttl: Ttl,
        function: &F,
        run: fn(&F, K) -> Result<V, E>,
    ) where
        F: Clone + Send + Sync + 'static,
        E: Clone + Send + 'static,
    {
        let Some((lead, mark)) = self.cache.lead_refresh(key) else {
            return;
        };
        // Moved into the job: a job dropped unrun (the queue was full) ends too.
        let mut ending = RefreshEnding::new(Arc::clone(&self.cache), mark);
        let (bridge, function) = (self.bridge.clone(), function.clone());
        let job = move || {
            // Taken from the queue: callers that miss the key now wait for this refresh,
            // as a `SyncCache`'s do (see `sync::refresh`).
            lead.flight.runs_on(Caller::thread());
            let key = lead.key.clone();
            let cache = Arc::clone(&lead.table);
            let claimed = bridge.run({
                let (cache, key) = (Arc::clone(&cache), key.clone());
                async move { cache.backend().claim_refresh(&key).await }
            });
            let lease = match claimed {
                Ok(RefreshClaim::Unleased) => None,
                Ok(RefreshClaim::Leased(lease)) => Some(lease),
                // Another process computes the key, and its store will land: due hits
                // here start no refresh of it, nor ask again, for a while.
                Ok(RefreshClaim::Busy(backoff)) => {
                    drop(lead);
                    return ending.back_off(backoff);
                }
                // Counted as failed as `ending` drops, after the flight is withdrawn; a
                // stopped bridge could not have stored the value either.
                Ok(RefreshClaim::Failed) | Err(_) => return drop(lead),
            };
            // Given back however the job ends, a panic included.
            let mut held = Held::new(cache.backend(), lease);
            // Kept on the bridge while the function runs here and its value is stored;
            // dropped, `keeping` ends.
            let keeping = (held.lease.as_ref()).map(|lease| keep_lease_on(&bridge, &cache, lease));
            // The new value's TTL counts from when its computation starts.
            let now = cache.clock().now();
            #[cfg(feature = "metrics")]
            let computing = std::time::Instant::now();
            let computed = panic::catch_unwind(AssertUnwindSafe(|| run(&function, key)));
            #[cfg(feature = "metrics")]
            crate::metrics::computation_took(cache.identifier(), computing.elapsed());
            match computed {
                Ok(Ok(value)) => {
                    let store = {
                        let (cache, lease) = (Arc::clone(&cache), held.lease.clone());
                        async move {
                            let fence = lease.as_ref();
                            cache.store_refreshed(lead, value, ttl, now, fence).await;
                        }
                    };
                    // A stopped bridge drops the store, and its lead withdraws the flight.
                    if bridge.run(store).is_ok() {
                        ending.succeeded();
                    }
                }
                Ok(Err(e)) => lead.fail::<E, Shared>(&e),
                // Dropped unsettled: the flight is abandoned.
                Err(_panicked) => drop(lead),
            }
            // Kept until the value is stored, as a miss keeps it; given back in the
            // background, not on this thread (a stalled server would hold it a timeout
            // more), on the process-wide bridge (this cache's own may be dropped with the
            // job); the refresh ends once it is, so that the next one does not find this
            // lease. If no bridge can run it, the lease ends by itself.
            drop(keeping);
            if let Some(lease) = held.lease.take() {
                let cache = Arc::clone(&cache);
                Bridge::in_background(async move {
                    cache.backend().release(lease).await;
                    drop(ending);
                });
            }
        };
        // A refused job is dropped here, and ends as above.
        let _ = refresh_threads::submit(Box::new(job));
    }
}

/// Keeps `lease` (see [`AsyncBackend::keep_lease`]) on `bridge`, for a function that
/// runs on this thread, until the returned sender is dropped.
fn keep_lease_on<K, V, B, S, C>(
    bridge: &Bridge,
    cache: &Arc<AsyncCache<K, V, B, S, C>>,
    lease: &Lease,
) -> oneshot::Sender<()>
where
    B: AsyncBackend<K, S::Encoded> + 'static,
    S: Serializer<V>,
    AsyncCache<K, V, B, S, C>: Send + Sync + 'static,
{
    let (keeping, stopped) = oneshot::channel();
    let (cache, lease) = (Arc::clone(cache), lease.clone());
    bridge.spawn(async move {
        let _ = polled_beside(stopped, cache.backend().keep_lease(&lease)).await;
    });
    keeping
}
