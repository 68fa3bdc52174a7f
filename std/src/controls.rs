//! The controls every cache and memoized function offers, and their async twin.

#[cfg(feature = "async")]
use std::future::Future;

#[cfg(feature = "async")]
use jwm_cache_core::Counters;
use jwm_cache_core::{CacheInfo, Parameters, Ttl};

/// `cache_info`, `cache_clear` and `cache_parameters`: the counters, the reset and the
/// settings of a sync cache ([`SyncCache`](crate::sync::SyncCache), or with the `async`
/// feature a `BlockingCache`) and of every sync memoized function.
///
/// Each cache type implements it once; memoized wrappers get it from their cache, with
/// their own TTL in [`cache_parameters`](CacheControls::cache_parameters).
///
/// ```
/// use jwm_cache::{CacheControls, Memoized};
///
/// let square = Memoized::new(|n: u64| n * n);
/// square.call(3);
/// square.call(3);
/// assert_eq!(square.cache_info().hits, 1);
/// square.cache_clear();
/// assert_eq!(square.cache_info().current_size, 0);
/// ```
pub trait CacheControls {
    /// Hits, misses, coalesced waits, current size, evictions, expirations and errors
    /// since the last clear, and the lifetime totals.
    ///
    /// Counters belong to the cache: functions sharing a cache share its counters.
    fn cache_info(&self) -> CacheInfo;

    /// Empties the cache and resets its counters, but not their lifetime totals
    /// ([`CacheInfo::lifetime`]). On a shared cache this clears the
    /// whole shared namespace, the entries of every function sharing it, and so resets
    /// the counters every sharer sees. A failure is counted in the cache's errors.
    fn cache_clear(&self);

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    fn cache_parameters(&self) -> Parameters;
}

/// The async twin of [`CacheControls`], of the same shape: the controls of an
/// [`AsyncCache`](crate::asynch::AsyncCache) and of every async memoized function.
///
/// ```
/// use jwm_cache::{AsyncCacheControls, AsyncMemoized};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let square = AsyncMemoized::new(|n: u64| async move { n * n });
/// square.call(3).await;
/// square.call(3).await;
/// assert_eq!(square.cache_info().await.hits, 1);
/// # });
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub trait AsyncCacheControls {
    /// Hits, misses, coalesced waits, current size, evictions, expirations and errors
    /// since the last clear, and the lifetime totals.
    fn cache_info(&self) -> impl Future<Output = CacheInfo> + Send;

    /// Every counter since the last clear, without `.await`: [`cache_info`] but for the
    /// live size, which asks the backend.
    ///
    /// [`cache_info`]: Self::cache_info
    fn cache_counters(&self) -> Counters;

    /// Empties the cache and resets its counters, but not their lifetime totals; a
    /// failure is counted in its errors.
    fn cache_clear(&self) -> impl Future<Output = ()> + Send;

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    fn cache_parameters(&self) -> Parameters;
}

/// A memoized wrapper: a cache, and the TTL the wrapper stores its results with.
pub(crate) mod memo {
    use std::sync::Arc;

    use jwm_cache_core::Ttl;

    /// The cache a call uses: a function's own, or (for `clock = scoped`, on a thread where
    /// a test installed a clock) the test's. Derefs to the cache.
    pub enum CurrentCache<'a, M> {
        /// The function's cache, shared by every thread.
        Shared(&'a Arc<M>),
        /// The cache of a test's installed clock, on this thread only.
        Installed(Arc<M>),
    }

    impl<M> CurrentCache<'_, M> {
        /// The cache, owned: what a refresh running after the call holds.
        pub fn owned(&self) -> Arc<M> {
            match self {
                CurrentCache::Shared(cache) => Arc::clone(cache),
                CurrentCache::Installed(cache) => Arc::clone(cache),
            }
        }
    }

    impl<M> std::ops::Deref for CurrentCache<'_, M> {
        type Target = M;

        fn deref(&self) -> &M {
            match self {
                CurrentCache::Shared(cache) => cache,
                CurrentCache::Installed(cache) => cache,
            }
        }
    }

    /// What a wrapper tells the controls: implemented by this crate's wrappers, and by
    /// the handle types `#[ttl_cache]` generates (through `__private`, not for users).
    pub trait Memo {
        /// The cache the results live in.
        type Cache;
        /// The cache a call on this thread uses.
        fn memo_cache(&self) -> CurrentCache<'_, Self::Cache>;
        /// The wrapper's own TTL, if it differs from the cache's.
        fn memo_ttl(&self) -> Option<Ttl>;
    }
}

use memo::Memo;

/// The wrapper's own TTL is the one it reports: functions sharing a cache keep their own.
fn with_own_ttl(mut parameters: Parameters, ttl: Option<Ttl>) -> Parameters {
    if let Some(ttl) = ttl {
        parameters.ttl = ttl;
    }
    parameters
}

impl<T: Memo> CacheControls for T
where
    T::Cache: CacheControls,
{
    fn cache_info(&self) -> CacheInfo {
        self.memo_cache().cache_info()
    }

    fn cache_clear(&self) {
        self.memo_cache().cache_clear();
    }

    fn cache_parameters(&self) -> Parameters {
        with_own_ttl(self.memo_cache().cache_parameters(), self.memo_ttl())
    }
}

#[cfg(feature = "async")]
impl<T: Memo> AsyncCacheControls for T
where
    T::Cache: AsyncCacheControls + Send + Sync,
{
    fn cache_info(&self) -> impl Future<Output = CacheInfo> + Send {
        let cache = self.memo_cache();
        async move { cache.cache_info().await }
    }

    fn cache_counters(&self) -> Counters {
        self.memo_cache().cache_counters()
    }

    fn cache_clear(&self) -> impl Future<Output = ()> + Send {
        let cache = self.memo_cache();
        async move { cache.cache_clear().await }
    }

    fn cache_parameters(&self) -> Parameters {
        with_own_ttl(self.memo_cache().cache_parameters(), self.memo_ttl())
    }
}
