//! Memoized functions and methods: values that wrap a function with a cache.

mod builder;
mod method;
mod registry;

use std::any::type_name;
use std::hash::Hash;
use std::sync::Arc;

use jwm_cache_core::{Backend, CacheInfo, Clock, Identity, MemoryBackend, Parameters, Serializer};

pub use builder::MemoizedBuilder;
pub use method::MemoizedMethod;

use crate::{SyncCache, SyncCacheBuilder, SystemClock};

/// A memoized function: the `ttl_cache` of the Python original, as a value.
///
/// It wraps any `Fn(Args) -> V`; the arguments (a tuple for several) are the key.
/// Calls are thread-safe and single-flight: concurrent misses on one key run the
/// function once. A panic inside the function poisons nothing; the next call
/// recomputes. A function returning `()` or `None` is cached like any other value;
/// use [`try_call`](Memoized::try_call) for a function returning `Result`, which caches
/// only `Ok`.
///
/// Defaults: 60 s TTL, in memory, [`Identity`], [`SystemClock`], and the function's
/// type name as identifier; see [`Memoized::builder`] for the rest.
///
/// ```
/// use jwm_cache::Memoized;
///
/// let square = Memoized::new(|n: u64| n * n);
/// assert_eq!(square.call(12), 144); // computed
/// assert_eq!(square.call(12), 144); // cached
/// let info = square.cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
/// ```
pub struct Memoized<F, Args, V, B = MemoryBackend<Args, V>, S = Identity, C = SystemClock> {
    function: F,
    cache: Arc<SyncCache<Args, V, B, S, C>>,
}

impl<F, Args, V> Memoized<F, Args, V> {
    /// Memoizes `function` with the defaults, in a cache of its own.
    pub fn new(function: F) -> Self
    where
        V: Clone,
    {
        let cache = SyncCacheBuilder::new().identifier(type_name::<F>()).build();
        Memoized::with_cache(function, Arc::new(cache))
    }

    /// A builder: TTL, identifier, capacity, codec, backend, clock, single-flight.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{Memoized, Postcard};
    ///
    /// let lookup = Memoized::builder(|city: String| city.len())
    ///     .ttl(Duration::from_secs(300))
    ///     .identifier("geo")
    ///     .capacity(10_000)
    ///     .serializer(Postcard)
    ///     .build();
    /// assert_eq!(lookup.call("Oslo".to_string()), 4);
    /// assert_eq!(lookup.cache_parameters().identifier, "geo");
    /// ```
    pub fn builder(function: F) -> MemoizedBuilder<builder::Function<F>, Args, V> {
        MemoizedBuilder::new(builder::Function(function), type_name::<F>())
    }
}

impl<F, Args, V, B, S, C> Memoized<F, Args, V, B, S, C> {
    /// Memoizes `function` over an existing cache, shared with whatever else uses it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use jwm_cache::{Memoized, SyncCache};
    ///
    /// let shared = Arc::new(SyncCache::new());
    /// let double = Memoized::with_cache(|n: u32| n * 2, Arc::clone(&shared));
    /// let also_double = Memoized::with_cache(|n: u32| n + n, shared);
    /// double.call(4);
    /// assert_eq!(also_double.call(4), 8);
    /// assert_eq!(also_double.cache_info().hits, 1);
    /// ```
    pub fn with_cache(function: F, cache: Arc<SyncCache<Args, V, B, S, C>>) -> Self {
        Memoized { function, cache }
    }

    /// The cache, to share it with another memoized function.
    pub fn cache(&self) -> &Arc<SyncCache<Args, V, B, S, C>> {
        &self.cache
    }
}

impl<F, Args, V, B, S, C> Memoized<F, Args, V, B, S, C>
where
    Args: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Backend<Args, S::Encoded>,
    C: Clock,
{
    /// The cached value for `args`, or the function's, stored on a miss.
    pub fn call(&self, args: Args) -> V
    where
        F: Fn(Args) -> V,
    {
        self.cache
            .get_or_insert_with(args.clone(), || (self.function)(args))
    }

    /// For a function returning `Result<V, E>`: the cached `Ok` value for `args`, or
    /// the function's result. An `Err` is returned and never cached.
    ///
    /// ```
    /// use jwm_cache::Memoized;
    ///
    /// let parse = Memoized::new(|s: String| s.parse::<u32>());
    /// assert!(parse.try_call("x".into()).is_err());
    /// assert_eq!(parse.try_call("7".into()), Ok(7));
    /// assert_eq!(parse.cache_info().current_size, 1);
    /// ```
    pub fn try_call<E>(&self, args: Args) -> Result<V, E>
    where
        F: Fn(Args) -> Result<V, E>,
    {
        self.cache
            .try_get_or_insert_with(args.clone(), || (self.function)(args))
    }

    /// Hits, misses, current size, evictions, expirations and errors.
    ///
    /// Counters belong to the cache: functions sharing a cache share its counters.
    pub fn cache_info(&self) -> CacheInfo {
        self.cache.info()
    }

    /// Empties the cache and resets its counters. On a shared cache this clears the
    /// shared namespace, as in the original, and so resets the counters every sharer
    /// sees.
    pub fn cache_clear(&self) {
        // A failure is counted in the cache's errors; memoization stays correct.
        let _counted = self.cache.clear();
    }

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    pub fn cache_parameters(&self) -> Parameters {
        self.cache.parameters()
    }
}
