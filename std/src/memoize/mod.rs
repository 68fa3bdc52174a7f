//! Memoized functions and methods: values that wrap a function with a cache.

#[cfg(feature = "async")]
mod async_builds;
#[cfg(feature = "async")]
mod async_method;
#[cfg(feature = "async")]
mod asynchronous;
mod builder;
mod fn_cache;
mod generic_fn_cache;
mod method;
#[cfg(feature = "redis")]
mod near;
pub(crate) mod registry;
mod remove;
mod store;

use std::any::type_name;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::sync::Arc;

use jwm_cache_core::Ttl;

#[cfg(feature = "async")]
pub use async_method::AsyncMemoizedMethod;
#[cfg(feature = "async")]
pub use asynchronous::{AsyncMemoized, AsyncMemoizedFn};
pub(crate) use builder::Function;
pub use builder::MemoizedBuilder;
pub use fn_cache::FnCache;
#[cfg(feature = "async")]
pub use generic_fn_cache::{AsyncControls, DynAsyncCacheControls};
pub use generic_fn_cache::{GenericFnCache, SyncControls};
pub use method::MemoizedMethod;
#[cfg(feature = "redis")]
pub use near::NearRedisCache;
pub use registry::{Computing, Shareable, SharedCacheConflict};
pub use store::MemoStore;

use crate::controls::memo::{CurrentCache, Memo};
use crate::sync::{SyncCache, SyncCacheBuilder};

/// The identifier of a memoized function built without one: the same in every process
/// of one build, so that two processes of one binary share a Redis namespace without
/// configuration, and distinct for every function type and place of construction.
///
/// It names the function's type (a closure's names its enclosing function, with a
/// digest of the closure's `TypeId`: closures of one function share a name), the place
/// the wrapper was built (`#[track_caller]`), and the argument and value types. One
/// place that builds wrappers for several functions of one type (a loop over `fn`
/// pointers) gives them one identifier: name each (over a shared backend, the builders
/// refuse a function that holds state without a name). Other builds share it as long as
/// the function keeps its name, place and types: a new identifier is how a changed
/// computation stops reading the old one's values.
#[track_caller]
pub(crate) fn default_identifier<F, Args, V>() -> String {
    let at = Location::caller();
    let full = format!(
        "{}({})->{}@{}:{}:{}",
        function_name::<F>(),
        type_name::<Args>(),
        type_name::<V>(),
        at.file(),
        at.line(),
        at.column()
    );
    // Braces would make Redis Cluster hash only what they enclose (`{{closure}}`).
    let full = full.replace(['{', '}'], "");
    shortened(full)
}

/// The type name of `F`, and for a closure a digest of its `TypeId` too: a helper that
/// builds memoized functions from closures it is given builds them all in one place,
/// and every closure of one function has the same type name.
fn function_name<F: ?Sized>() -> String {
    let name = type_name::<F>();
    if !name.contains("{{closure}}") {
        return name.to_string();
    }
    // `DefaultHasher::new` has fixed keys: the same digest in every process of a build.
    let mut hasher = std::hash::DefaultHasher::new();
    typeid::of::<F>().hash(&mut hasher);
    format!("{name}#{:08x}", hasher.finish() as u32)
}

/// The longest default identifier kept whole; a longer one (deeply generic types) keeps
/// its start and a digest of the whole, so key names stay well under the size limit.
const LONGEST_IDENTIFIER: usize = 200;

pub(crate) fn shortened(identifier: String) -> String {
    if identifier.len() <= LONGEST_IDENTIFIER {
        return identifier;
    }
    let mut cut = LONGEST_IDENTIFIER - 20;
    while !identifier.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = jwm_cache_core::value_fingerprint("identifier", &identifier, "", 0);
    format!("{}~{digest:016x}", &identifier[..cut])
}

/// A memoized function, as a value: a function and the cache of its results.
///
/// It wraps any `Fn(Args) -> V`; the arguments (a tuple for several) are the key.
/// Calls are thread-safe and single-flight: concurrent misses on one key run the
/// function once. A panic inside the function poisons nothing; the next call
/// recomputes. A function returning `()` or `None` is cached like any other value.
/// For a function returning `Result<V, E>` whose `Err` must not be cached, build with
/// [`fallible`](Memoized::fallible) and call [`try_call`](Memoized::try_call).
///
/// A handle is cheap to clone, and clones share the function and the cache: keep one
/// in application state and clone it into each task. Its type names the function's
/// type; [`boxed`](Memoized::boxed) erases it into a [`MemoizedFn`], a type a struct
/// field can name.
///
/// Results live in `M`, a [`MemoStore`]: by default an in-memory [`SyncCache`] with a
/// 60 s TTL, [`Identity`](jwm_cache_core::Identity), [`SystemClock`](crate::clock::SystemClock), and an
/// identifier of its own (the function's type, where it was built, and the argument
/// and value types); see [`Memoized::builder`] for the rest,
/// including (feature `async`) a sync function over an async backend.
///
/// ```
/// use jwm_cache::{CacheControls, Memoized};
///
/// let square = Memoized::new(|n: u64| n * n);
/// assert_eq!(square.call(12), 144); // computed
/// assert_eq!(square.clone().call(12), 144); // cached, in the cache the clone shares
/// let info = square.cache_info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
/// ```
pub struct Memoized<F: ?Sized, M> {
    function: Arc<F>,
    cache: Arc<M>,
    /// This function's TTL, which may differ from that of a cache it shares; `None`
    /// uses the cache's.
    ttl: Option<Ttl>,
}

/// A [`Memoized`] function whose type is erased, for a struct field or a `static`:
/// `MemoizedFn<u64, String>` over the default cache, or `MemoizedFn<Args, V, M>` over
/// another. [`Memoized::boxed`] makes one. For a function built with
/// [`fallible`](Memoized::fallible), `V` is its whole `Result` and `M` names the cache of
/// its `Ok` values: `MemoizedFn<String, Result<u8, E>, SharedCache<String, u8>>`.
///
/// ```
/// use jwm_cache::{Memoized, MemoizedFn};
///
/// struct AppState {
///     render: MemoizedFn<u64, String>,
/// }
///
/// let state = AppState { render: Memoized::new(|id: u64| format!("page {id}")).boxed() };
/// assert_eq!(state.render.call(7), "page 7");
/// ```
pub type MemoizedFn<Args, V, M = SyncCache<Args, V>> = Memoized<dyn Fn(Args) -> V + Send + Sync, M>;

impl<F: ?Sized, M> Clone for Memoized<F, M> {
    /// Another handle on the same function and cache.
    fn clone(&self) -> Self {
        Memoized {
            function: Arc::clone(&self.function),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
        }
    }
}

impl<F, Args, V> Memoized<F, SyncCache<Args, V>> {
    /// Memoizes `function` with the defaults, in a cache of its own.
    ///
    /// The key and value types are the function's argument and result, so the handle's
    /// controls work before its first call.
    #[track_caller]
    pub fn new(function: F) -> Self
    where
        F: Fn(Args) -> V,
        V: Clone,
    {
        Self::in_own_cache(function)
    }

    /// Memoizes a `function` returning `Result<V, E>`, in a cache of its own that keeps
    /// only `Ok` values: call it with [`try_call`](Memoized::try_call).
    ///
    /// ```
    /// use jwm_cache::{CacheControls, Memoized};
    ///
    /// let parse = Memoized::fallible(|s: String| s.parse::<u32>());
    /// assert!(parse.try_call("x".into()).is_err());
    /// assert_eq!(parse.try_call("7".into()), Ok(7));
    /// assert_eq!(parse.cache_info().current_size, 1);
    /// ```
    #[track_caller]
    pub fn fallible<E>(function: F) -> Self
    where
        F: Fn(Args) -> Result<V, E>,
        V: Clone,
    {
        Self::in_own_cache(function)
    }

    #[track_caller]
    fn in_own_cache(function: F) -> Self
    where
        V: Clone,
    {
        let identifier = default_identifier::<F, Args, V>();
        let cache = SyncCacheBuilder::new().identifier(identifier).build();
        Memoized::with_cache(function, Arc::new(cache))
    }

    /// A builder: TTL, identifier, capacity, codec, backend, clock, single-flight.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{CacheControls, Memoized, codec::Postcard};
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
    #[track_caller]
    pub fn builder(function: F) -> MemoizedBuilder<Function<F>, Args, V>
    where
        F: Fn(Args) -> V,
    {
        MemoizedBuilder::new(Function(function), default_identifier::<F, Args, V>())
    }

    /// [`builder`](Memoized::builder) for a `function` returning `Result<V, E>`, whose
    /// cache keeps only `Ok` values.
    #[track_caller]
    pub fn fallible_builder<E>(function: F) -> MemoizedBuilder<Function<F>, Args, V>
    where
        F: Fn(Args) -> Result<V, E>,
    {
        MemoizedBuilder::new(Function(function), default_identifier::<F, Args, V>())
    }
}

impl<F, M> Memoized<F, M> {
    /// Memoizes `function` over an existing cache, shared with whatever else uses it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use jwm_cache::{CacheControls, Memoized, SyncCache};
    ///
    /// let shared = Arc::new(SyncCache::new());
    /// let double = Memoized::with_cache(|n: u32| n * 2, Arc::clone(&shared));
    /// let also_double = Memoized::with_cache(|n: u32| n + n, shared);
    /// double.call(4);
    /// assert_eq!(also_double.call(4), 8);
    /// assert_eq!(also_double.cache_info().hits, 1);
    /// ```
    pub fn with_cache(function: F, cache: Arc<M>) -> Self {
        Memoized {
            function: Arc::new(function),
            cache,
            ttl: None,
        }
    }

    /// This handle with the function's type erased: a [`MemoizedFn`], which a struct
    /// field can name. The cache is the same.
    pub fn boxed<Args, R>(self) -> Memoized<dyn Fn(Args) -> R + Send + Sync, M>
    where
        F: Fn(Args) -> R + Send + Sync + 'static,
    {
        Memoized {
            function: self.function,
            cache: self.cache,
            ttl: self.ttl,
        }
    }
}

impl<F: ?Sized, M> Memoized<F, M> {
    /// Stores this function's results with `ttl`, whatever the shared cache's TTL.
    pub(crate) fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The cache, to share it with another memoized function.
    pub fn cache(&self) -> &Arc<M> {
        &self.cache
    }
}

impl<F: ?Sized, M: MemoStore> Memoized<F, M> {
    /// The cached value for `args`, or the function's, stored on a miss. With
    /// `refresh_after`, a hit on an older entry also refreshes it in the background,
    /// on the library's refresh threads (see [`MemoizedBuilder`]).
    pub fn call(&self, args: M::Key) -> M::Value
    where
        F: Fn(M::Key) -> M::Value + Send + Sync + 'static,
        M: Clone + Send + 'static,
        M::Key: Clone + Send + 'static,
        M::Value: Send + 'static,
    {
        let Ok::<_, std::convert::Infallible>(value) = if self.cache.refreshes() {
            let run = |f: &Arc<F>, args| Ok(f(args));
            self.cache
                .get_or_refresh(args, self.ttl, &self.function, run)
        } else {
            self.cache
                .get_or_compute(args.clone(), self.ttl, || Ok((self.function)(args)))
        };
        value
    }

    /// For a function returning `Result<V, E>` (built with
    /// [`fallible`](Memoized::fallible)): the cached `Ok` value for `args`, or the
    /// function's result. An `Err` is never cached: it is returned, or, if the cache
    /// keeps stale entries (`stale_if_error`) and had one for `args`, that value is.
    pub fn try_call<E: Clone + Send + 'static>(&self, args: M::Key) -> Result<M::Value, E>
    where
        F: Fn(M::Key) -> Result<M::Value, E> + Send + Sync + 'static,
        M: Clone + Send + 'static,
        M::Key: Clone + Send + 'static,
        M::Value: Send + 'static,
    {
        if self.cache.refreshes() {
            let run = |f: &Arc<F>, args| f(args);
            return self
                .cache
                .get_or_refresh(args, self.ttl, &self.function, run);
        }
        self.cache
            .get_or_compute(args.clone(), self.ttl, || (self.function)(args))
    }

    /// Stores `value` as the result for `args`, with this function's TTL, without
    /// calling the function: to seed a value known from elsewhere.
    ///
    /// ```
    /// use jwm_cache::Memoized;
    ///
    /// let square = Memoized::new(|n: u64| n * n);
    /// square.cache_set(3, 10).unwrap(); // whatever the function says
    /// assert_eq!(square.call(3), 10);
    /// ```
    pub fn cache_set(&self, args: M::Key, value: M::Value) -> Result<(), M::Error> {
        self.cache.insert_entry(args, value, self.ttl)
    }

    /// Calls the function for `args` and stores its value, whatever is cached: to warm
    /// a cache or refresh an entry ahead of use. As a miss's value, it is not stored if
    /// a write of the key (`cache_set`, `cache_remove`, `cache_clear`) came while the
    /// function ran (over a sync backend). A failed store is counted in
    /// `cache_info().errors`; the value is returned either way.
    ///
    /// ```
    /// use jwm_cache::{CacheControls, Memoized};
    ///
    /// let square = Memoized::new(|n: u64| n * n);
    /// assert_eq!(square.cache_prime(4), 16);
    /// assert_eq!(square.call(4), 16);
    /// assert_eq!(square.cache_info().hits, 1);
    /// ```
    pub fn cache_prime(&self, args: M::Key) -> M::Value
    where
        F: Fn(M::Key) -> M::Value,
        M::Key: Clone,
        M::Value: Clone,
    {
        let computed = || Ok::<_, std::convert::Infallible>((self.function)(args.clone()));
        let Ok(value) = self.cache.prime(args.clone(), self.ttl, computed);
        value
    }

    /// [`cache_prime`](Memoized::cache_prime) for a function returning `Result<V, E>`:
    /// only an `Ok` value is stored.
    pub fn try_cache_prime<E>(&self, args: M::Key) -> Result<M::Value, E>
    where
        F: Fn(M::Key) -> Result<M::Value, E>,
        M::Key: Clone,
        M::Value: Clone,
    {
        self.cache
            .prime(args.clone(), self.ttl, || (self.function)(args))
    }
}

impl<F: ?Sized, M> Memo for Memoized<F, M> {
    type Cache = M;

    fn memo_cache(&self) -> CurrentCache<'_, M> {
        CurrentCache::Shared(&self.cache)
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
