//! The single-flight entry points of `AsyncCache`: look up, compute on a miss once per
//! key across tasks, store, and hand the value to every waiter.

use std::future::Future;
use std::hash::Hash;

use jwm_cache_core::{Clock, Counts, Found, Serializer, Ttl};

use super::{AsyncCache, AsyncCacheError, Storing};
use crate::asynch::backend::AsyncLookup;
use crate::flight::{ErrorSharing, Failure, Joiner, Shared, Unshared};

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// The stored value under `key`, or the value of `f()`'s future, stored and returned
    /// on a miss, single-flight across tasks (see the type docs).
    ///
    /// Never fails: a broken backend or corrupt bytes count as a miss and an error, and
    /// the computed value is still returned.
    pub async fn get_or_insert_with<F>(&self, key: K, f: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V>,
    {
        let computed = || async { Ok::<_, std::convert::Infallible>(f().await) };
        let Ok(value) = self
            .try_get_or_insert_as::<_, Shared, _>(None, key, self.policy.ttl(), computed)
            .await;
        value
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a fallible computation:
    /// an `Err` is returned to this caller and to every task waiting on this computation
    /// (a clone each), and never cached: the first call after it computes again. Wrap
    /// an error type that is not `Clone` in an `Arc`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// let failed = cache.try_get_or_insert_with(1, || async { Err::<u8, _>("down") });
    /// assert_eq!(failed.await, Err("down"));
    /// assert_eq!(cache.try_get_or_insert_with(1, || async { Ok::<_, &str>(5) }).await, Ok(5));
    /// # });
    /// ```
    pub fn try_get_or_insert_with<E, F>(
        &self,
        key: K,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, E>>,
    {
        // Not an `async fn` of its own: one state machine fewer on the hit path.
        self.try_get_or_insert_as::<E, Shared, F>(None, key, self.policy.ttl(), f)
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with), storing the value with
    /// `ttl` instead of the cache's: for functions that share a cache but not a TTL.
    pub fn try_get_or_insert_with_ttl<E, F>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        E: Clone + Send + 'static,
        F: Future<Output = Result<V, E>>,
    {
        self.try_get_or_insert_as::<E, Shared, F>(None, key, ttl.into(), f)
    }

    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) for an error type
    /// that is not `Clone` (`anyhow::Error`, `io::Error`): the error is not shared, and a
    /// task waiting on this computation computes again when it fails, one after another.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #[derive(Debug)]
    /// struct NotClone;
    ///
    /// let cache = jwm_cache::AsyncCache::new();
    /// let ttl = cache.ttl();
    /// let failed = cache.try_get_or_insert_unshared(1, ttl, || async { Err::<u8, _>(NotClone) });
    /// assert!(failed.await.is_err());
    /// # });
    /// ```
    pub fn try_get_or_insert_unshared<E, F>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        F: Future<Output = Result<V, E>>,
    {
        self.try_get_or_insert_as::<E, Unshared, F>(None, key, ttl.into(), f)
    }

    /// The single-flight protocol, for `joiner`: a caller behind the bridge, or else
    /// the current task (looked up only on a miss: it costs a thread-local access). `X`
    /// says whether an error is handed to the waiters.
    pub(crate) fn try_get_or_insert_as<E, X, F>(
        &self,
        joiner: Option<Joiner>,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> F,
    ) -> impl Future<Output = Result<V, E>>
    where
        X: ErrorSharing<E>,
        F: Future<Output = Result<V, E>>,
    {
        self.try_get_or_refresh_as::<E, X, F>(joiner, key, ttl, f, |_| ())
    }

    /// [`try_get_or_insert_as`](Self::try_get_or_insert_as), calling `refresh` with the
    /// key on a hit due for a refresh (`refresh_after`). With `stale_if_error`, a
    /// failed computation returns the stale value the lookup found, if any.
    pub(crate) async fn try_get_or_refresh_as<E, X, F>(
        &self,
        joiner: Option<Joiner>,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> F,
        refresh: impl FnOnce(K),
    ) -> Result<V, E>
    where
        X: ErrorSharing<E>,
        F: Future<Output = Result<V, E>>,
    {
        let now = self.clock.now();
        let mut storing = Storing::new(&self.backend, ttl);
        // One lookup, the entry's deadline with it, written out rather than a call (one
        // state machine fewer on the hit path): plain, refreshing and stale-keeping
        // caches share it, so a hit costs each the same. A backend that answers at once
        // (memory, a near copy) is asked inline, and its lookup is not timed.
        let entry = match AsyncLookup::<K, K, _>::get_entry_inline(&self.backend, &key, now) {
            Some(entry) => entry,
            None => {
                storing.wait_begins();
                let entry = AsyncLookup::<K, K, _>::get_entry(&self.backend, &key, now).await;
                storing.wait_ended();
                entry
            }
        };
        // Not held across the await below: a codec's error need not be `Send`.
        let found = self.count_found(self.policy.sort_owned(entry, ttl, now));
        let stale = match found {
            Found::Hit(value) => return Ok(value),
            Found::RefreshDue(value) => {
                refresh(key);
                return Ok(value);
            }
            Found::Stale(fallback) => Some(fallback),
            Found::Absent => None,
        };
        let f = || async { f().await.map_err(Failure::Error) };
        // Boxed so that the future of a hit stays small: a miss computes anyway.
        match Box::pin(self.compute_missing::<E, X, _>(joiner, key, storing, now, f)).await {
            Ok(computed) => Ok(computed.value),
            Err(Failure::Error(e)) => self.or_stale(Err(e), stale),
            Err(Failure::Abandoned) => unreachable!("only the bridge abandons a computation"),
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with), for callers that want the
    /// backend's failures rather than a bypass: a failed lookup is returned without
    /// computing, and a failed store is returned instead of the computed value. The
    /// failures are counted as usual.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = jwm_cache::AsyncCache::new();
    /// assert_eq!(cache.get_or_insert_strict(1, || async { 10 }).await, Ok(10));
    /// # });
    /// ```
    pub async fn get_or_insert_strict<F>(
        &self,
        key: K,
        f: impl FnOnce() -> F,
    ) -> Result<V, AsyncCacheError<K, V, B, S>>
    where
        F: Future<Output = V>,
    {
        self.get_or_insert_strict_with_ttl(key, self.policy.ttl(), f)
            .await
    }

    /// [`get_or_insert_strict`](Self::get_or_insert_strict), storing with `ttl`: for
    /// memoized functions that share a cache but not a TTL.
    pub(crate) async fn get_or_insert_strict_with_ttl<F>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> F,
    ) -> Result<V, AsyncCacheError<K, V, B, S>>
    where
        F: Future<Output = V>,
    {
        let now = self.clock.now();
        let mut storing = Storing::new(&self.backend, ttl);
        storing.wait_begins();
        let found = self.lookup_before_flight(&key, now).await;
        storing.wait_ended();
        match found {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => {
                // Returned without computing: a miss, not a flight's.
                self.counts.add(Counts::missed(false));
                return Err(e);
            }
        }
        let computed = || async { Ok::<_, Failure<std::convert::Infallible>>(f().await) };
        let Ok(computed) =
            Box::pin(self.compute_missing::<_, Shared, _>(None, key, storing, now, computed)).await
        else {
            unreachable!("an infallible computation that is not abandoned gives a value");
        };
        computed.stored.map(|()| computed.value)
    }
}
