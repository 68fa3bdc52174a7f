//! `FnCache`: the cache behind a `#[ttl_cache]` function, as a static.

use std::sync::{Arc, LazyLock};

use jwm_cache_core::Ttl;

use super::registry::{self, Shareable};
use crate::controls::memo::Memo;

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
}

impl<M> FnCache<M> {
    /// A cache that `init` builds on first use.
    pub const fn new(init: fn() -> Arc<M>) -> Self {
        FnCache {
            cache: LazyLock::new(init),
            ttl: None,
        }
    }

    /// The function's own TTL, for `cache_parameters`.
    #[doc(hidden)]
    pub const fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The cache itself.
    pub fn cache(&self) -> &Arc<M> {
        &self.cache
    }

    /// The cache registered under `identifier` in this process, or a new one from
    /// `make`: functions under one identifier (with the same types) share one cache.
    ///
    /// # Panics
    /// If the shared cache has another clock or capacity: see [`SharedCacheConflict`](super::SharedCacheConflict).
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

impl<M> Memo for FnCache<M> {
    type Cache = M;

    fn memo_cache(&self) -> &M {
        &self.cache
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
