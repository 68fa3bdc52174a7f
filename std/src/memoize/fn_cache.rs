//! `FnCache`: the cache behind a `#[ttl_cache]` function, as a static.

use std::sync::{Arc, LazyLock};

use jwm_cache_core::Ttl;

use super::registry::{self, Shareable};
use crate::controls::memo::{CurrentCache, Memo};

/// The handle on a `#[ttl_cache]` function's cache, built on first use. The attribute
/// wraps it in a static named after the function in upper case (`fib` → `FIB`), with the
/// function's visibility, of a struct of the same name that derefs to it and adds
/// `cache_remove`, `cache_set` and `cache_prime` over the function's own arguments.
///
/// ```
/// use jwm_cache::{CacheControls, ttl_cache};
///
/// #[ttl_cache(ttl = "30s")]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// assert_eq!((square(12), square(12)), (144, 144));
/// let info = SQUARE.cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
/// SQUARE.cache_clear();
/// assert_eq!(SQUARE.cache_info().current_size, 0);
/// ```
pub struct FnCache<M: 'static> {
    cache: LazyLock<Arc<M>>,
    /// The function's own TTL, which `cache_parameters` reports: a cache shared under an
    /// identifier has the TTL of whichever function built it.
    ttl: Option<Ttl>,
    /// For `clock = scoped`: builds the cache a test's installed clock gets.
    per_installation: Option<fn() -> Arc<M>>,
}

impl<M> FnCache<M> {
    /// A cache that `init` builds on first use.
    pub const fn new(init: fn() -> Arc<M>) -> Self {
        FnCache {
            cache: LazyLock::new(init),
            ttl: None,
            per_installation: None,
        }
    }

    /// Gives each test that installs a clock on its thread (see
    /// [`ScopedClock`](crate::clock::ScopedClock)) a cache of its own, from `fresh`.
    #[doc(hidden)]
    pub const fn per_installation(mut self, fresh: fn() -> Arc<M>) -> Self {
        self.per_installation = Some(fresh);
        self
    }

    /// The function's own TTL, for `cache_parameters`.
    #[doc(hidden)]
    pub const fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The cache a call on this thread uses: the function's, or, for `clock = scoped`
    /// under a test's installed clock, the test's own.
    pub fn cache(&self) -> CurrentCache<'_, M>
    where
        M: Send + Sync,
    {
        self.current()
    }

    fn current(&self) -> CurrentCache<'_, M>
    where
        M: Send + Sync,
    {
        if let Some(fresh) = self.per_installation {
            let handle = self as *const Self as usize;
            if let Some(installed) = crate::clock::installed_cache(handle, fresh) {
                return CurrentCache::Installed(installed);
            }
        }
        CurrentCache::Shared(&self.cache)
    }

    /// `cache`, in the process-wide list of caches ([`reports`](crate::report::reports)):
    /// the cache of a `#[ttl_cache]` function that shares none.
    #[doc(hidden)]
    pub fn listed(cache: M) -> Arc<M>
    where
        M: Shareable,
    {
        let cache = Arc::new(cache);
        crate::report::enlist(&cache);
        cache
    }

    /// The cache registered under `identifier` in this process, or a new one from
    /// `make`: functions under one identifier (with the same types) share one cache.
    ///
    /// # Panics
    /// If the shared cache has another clock kind, capacity, time-to-idle, `refresh_after`, `stale_if_error`, single-flight, lease or backend settings: see [`SharedCacheConflict`](super::SharedCacheConflict).
    #[doc(hidden)]
    pub fn shared(identifier: &str, make: impl FnOnce() -> M) -> Arc<M>
    where
        M: Shareable,
    {
        Self::shared_as::<()>(identifier, make)
    }

    /// [`shared`](Self::shared), among the callers with the same `Tag` only.
    #[doc(hidden)]
    pub fn shared_as<Tag: ?Sized + 'static>(identifier: &str, make: impl FnOnce() -> M) -> Arc<M>
    where
        M: Shareable,
    {
        registry::shared::<M, Tag>(identifier, make).unwrap_or_else(|conflict| panic!("{conflict}"))
    }
}

impl<M: Send + Sync> Memo for FnCache<M> {
    type Cache = M;

    fn memo_cache(&self) -> CurrentCache<'_, M> {
        self.current()
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
