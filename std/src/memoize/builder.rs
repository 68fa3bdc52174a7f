//! Configuring a memoized function or method.

use std::marker::PhantomData;
use std::sync::Arc;

use jwm_cache_core::{Identity, Lookup, MemoryBackend, Options, Serializer, Ttl};

use super::Memoized;
use super::method::MemoizedMethod;
use super::registry::{self, Shareable};
#[cfg(feature = "async")]
use crate::asynch::{AsyncCache, AsyncCacheBuilder, AsyncLookup, BlockingCache, Bridge};
use crate::clock::SystemClock;
use crate::sync::{SyncCache, SyncCacheBuilder};

/// What is being memoized: a function.
pub struct Function<F>(pub(crate) F);

/// What is being memoized: a method, with its receiver's key projection.
pub struct Method<P, F>(pub(crate) P, pub(crate) F);

/// What is being memoized: an async function.
#[cfg(feature = "async")]
pub struct AsyncFunction<F>(pub(crate) F);

/// What is being memoized: an async method, with its receiver's key projection.
#[cfg(feature = "async")]
pub struct AsyncMethod<P, F>(pub(crate) P, pub(crate) F);

/// Configures a [`Memoized`] function or a [`MemoizedMethod`]: TTL, identifier,
/// capacity, codec, backend, clock and single-flight.
///
/// **Sharing by identifier.** Without an identifier, each memoized function gets a
/// cache of its own, named after the function's type and the place it was built. With
/// one, every memoized function built under the same identifier, with the same key and
/// value types and the same codec, backend and clock types, shares one cache in this
/// process. Each stores its results with its own TTL. They must agree on the clock
/// kind, the capacity, the time-to-idle, `refresh_after`, `stale_if_error`,
/// single-flight, the lease and the backend's settings (a server's address, key prefix
/// and timeout, a near tier's bound): a later builder that asks a shared cache for
/// another one panics with a [`SharedCacheConflict`](super::SharedCacheConflict)
/// naming both settings. The shared cache keeps the first builder's clock: functions
/// sharing under a `ManualClock` must be given one clock (clones of it). Functions under one identifier but with other types get a
/// cache of their own. Different identifiers never share. To share explicitly, hand the
/// same cache to [`Memoized::with_cache`].
///
/// **Functions that hold state.** Over a backend that other caches share under one
/// identifier (Redis, its near tier), a function that holds state (a closure that
/// captures, a `fn` pointer) needs an identifier, or the build panics: its default
/// identifier names only its type and place, so another instance built there with
/// other captures would read its values.
///
/// The builder requires the cache to be [`Shareable`] (`Send + Sync + 'static`), which
/// the registry needs; [`Memoized::new`] and [`Memoized::with_cache`] do not.
pub struct MemoizedBuilder<T, Args = (), V = (), S = Identity, C = SystemClock> {
    target: T,
    /// An identifier given here makes the cache shared.
    options: Options<S, C>,
    /// The function's own identifier, used when none is given.
    default_identifier: String,
    types: PhantomData<fn(Args) -> V>,
}

impl<T, Args, V> MemoizedBuilder<T, Args, V> {
    /// `name` identifies the cache until an identifier is given: the function's
    /// default identifier, unique to it and stable within one build.
    pub(crate) fn new(target: T, name: String) -> Self {
        MemoizedBuilder {
            target,
            options: Options::new(SystemClock),
            default_identifier: name,
            types: PhantomData,
        }
    }
}

impl<T, Args, V, S, C> MemoizedBuilder<T, Args, V, S, C> {
    fn with_options<S2, C2>(
        self,
        f: impl FnOnce(Options<S, C>) -> Options<S2, C2>,
    ) -> MemoizedBuilder<T, Args, V, S2, C2> {
        MemoizedBuilder {
            target: self.target,
            options: f(self.options),
            default_identifier: self.default_identifier,
            types: PhantomData,
        }
    }

    jwm_cache_core::option_setters!(
        MemoizedBuilder[T, Args, V,]; all
    );

    /// The codec, taken out, and this builder with `replacement` in its place.
    #[cfg(feature = "redis")]
    pub(super) fn swap_serializer<S2>(
        self,
        replacement: S2,
    ) -> (MemoizedBuilder<T, Args, V, S2, C>, S) {
        let (options, codec) = self.options.swap_serializer(replacement);
        let builder = MemoizedBuilder {
            target: self.target,
            options,
            default_identifier: self.default_identifier,
            types: PhantomData,
        };
        (builder, codec)
    }

    /// These options for a method: a method's receiver is borrowed for its call only,
    /// so no refresh can run it later.
    ///
    /// # Panics
    /// With `refresh_after` set.
    pub(super) fn for_a_method(self) -> Self {
        assert!(
            self.options.refresh_after.is_none(),
            "a memoized method cannot refresh ahead (`refresh_after`): its receiver is \
             borrowed for the call only, so no later refresh can call it"
        );
        self
    }

    /// The cache `make` builds from these options: shared through the registry under
    /// an explicit identifier, else new; and the function's own TTL. `shared`: whether
    /// other caches read the backend's entries under the same identifier (a server).
    ///
    /// A conflict panics: a builder has no error to return, and two functions under one
    /// identifier that disagree on a shared setting are a bug to fix, not to run. So
    /// does a function that holds state, unnamed, over a shared backend: see
    /// [`refuse_unnamed_state`].
    pub(super) fn cache<Cache>(
        self,
        shared: bool,
        make: impl FnOnce(Options<S, C>) -> Cache,
    ) -> (T, Arc<Cache>, Ttl)
    where
        Cache: Shareable,
    {
        if shared && self.options.identifier.is_none() {
            refuse_unnamed_state::<T>(&self.default_identifier);
        }
        let MemoizedBuilder {
            target,
            options,
            default_identifier,
            ..
        } = self;
        let ttl = options.ttl;
        let cache = match options.identifier.clone() {
            Some(identifier) => registry::shared::<_, ()>(&identifier, || make(options))
                .unwrap_or_else(|conflict| panic!("{conflict}")),
            None => Arc::new(make(options.identifier(default_identifier))),
        };
        (target, cache, ttl)
    }
}

/// Panics, naming `default_identifier` (the place it was built), if `T`, a function to
/// memoize, holds state (a closure that captures, a `fn` pointer): its default
/// identifier names its type and the place it was built, so two
/// instances built in one place with other captures (`make(0.9)`, `make(0.8)`) would
/// read each other's values from a shared backend. Zero-sized functions (`fn` items,
/// closures that capture nothing) are the same function wherever they are built.
fn refuse_unnamed_state<T>(default_identifier: &str) {
    assert!(
        size_of::<T>() == 0,
        "a memoized function that holds state (a closure that captures, a `fn` pointer) \
         needs an identifier (`.identifier(..)`) over a shared backend (Redis): another \
         instance built in the same place, with other captures, would share its entries \
         (this one was built as `{default_identifier}`)"
    );
}

impl<F, Args, V, S, C> MemoizedBuilder<Function<F>, Args, V, S, C>
where
    S: Serializer<V> + Clone,
    C: Clone,
{
    /// The memoized function, in memory.
    ///
    /// # Panics
    /// On a conflict with another function under its identifier: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build(self) -> Memoized<F, SyncCache<Args, V, MemoryBackend<Args, S::Encoded>, S, C>>
    where
        SyncCache<Args, V, MemoryBackend<Args, S::Encoded>, S, C>: Shareable,
    {
        let (Function(function), cache, ttl) =
            self.cache(false, |o| SyncCacheBuilder::from_options(o).build());
        Memoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized function over backends made by `backend`, one per shard.
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_backend<B>(
        self,
        backend: impl FnMut() -> B,
    ) -> Memoized<F, SyncCache<Args, V, B, S, C>>
    where
        B: Lookup<Args, Args, S::Encoded>,
        SyncCache<Args, V, B, S, C>: Shareable,
    {
        let (Function(function), cache, ttl) = self.cache(B::SEES_WHOLE_NAMESPACE, |o| {
            SyncCacheBuilder::from_options(o).build_with_backend(backend)
        });
        Memoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized sync function over an async `backend`, whose I/O runs on `bridge`
    /// (see [`BlockingCache`](BlockingCache)). Under an identifier, it shares its
    /// [`AsyncCache`](crate::asynch::AsyncCache) with async memoized functions of the same types.
    ///
    /// Create a backend whose connections need a runtime on the bridge, with
    /// [`Bridge::run`](crate::asynch::Bridge::run), so that a caller blocking its own runtime
    /// cannot stall them.
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn build_with_async_backend<B>(
        self,
        bridge: Bridge,
        backend: B,
    ) -> Memoized<F, BlockingCache<Args, V, B, S, C>>
    where
        B: AsyncLookup<Args, Args, S::Encoded>,
        AsyncCache<Args, V, B, S, C>: Shareable,
        C: jwm_cache_core::Clock,
    {
        let (Function(function), cache, ttl) = self.cache(B::SHARED, |o| {
            AsyncCacheBuilder::from_options(o).build_with_backend(backend)
        });
        Memoized::with_cache(function, Arc::new(BlockingCache::new(cache, bridge))).with_ttl(ttl)
    }
}

/// The Redis-backed memoized sync function, with postcard as the default codec.
#[cfg(feature = "redis")]
impl<F, Args, V, S, C> MemoizedBuilder<Function<F>, Args, V, S, C> {
    /// The memoized sync function over `redis`, whose I/O runs on `bridge` (see
    /// [`build_with_async_backend`](Self::build_with_async_backend)). Values are stored
    /// with the builder's codec, [stamped](jwm_cache_core::Stamped); the in-memory default,
    /// [`Identity`], stores postcard bytes. Under an identifier it shares its cache, and
    /// its Redis namespace, with async memoized functions of the same types.
    ///
    /// ```no_run
    /// use jwm_cache::{Bridge, Memoized, RedisBackend};
    ///
    /// let bridge = Bridge::shared().unwrap();
    /// let redis = bridge.run(async { RedisBackend::open("redis://127.0.0.1:6379") });
    /// let square = Memoized::builder(|n: u64| n * n)
    ///     .identifier("squares")
    ///     .build_with_redis(bridge, redis.unwrap().unwrap());
    /// assert_eq!(square.call(12), 144);
    /// ```
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_redis(
        self,
        bridge: Bridge,
        redis: crate::redis::RedisBackend<Args>,
    ) -> Memoized<F, BlockingCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>>
    where
        S: crate::redis::RedisCodec<Args, V>,
        crate::redis::RedisBackend<Args>:
            AsyncLookup<Args, Args, jwm_cache_core::StampedBytes<Args>>,
        AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>: Shareable,
        S::Stamped: Clone,
        C: Clone,
        C: jwm_cache_core::Clock,
    {
        self.map_serializer(crate::redis::RedisCodec::stamped)
            .build_with_async_backend(bridge, redis)
    }
}

impl<P, F, RK, Args, V, S, C> MemoizedBuilder<Method<P, F>, (RK, Args), V, S, C>
where
    S: Serializer<V> + Clone,
    C: Clone,
{
    /// The memoized method, in memory.
    ///
    /// # Panics
    /// With `refresh_after` set: a method's receiver is borrowed for its call only, so
    /// no refresh can call it later.
    ///
    /// Also on a conflict with another function under its identifier: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build(
        self,
    ) -> MemoizedMethod<P, F, SyncCache<(RK, Args), V, MemoryBackend<(RK, Args), S::Encoded>, S, C>>
    where
        SyncCache<(RK, Args), V, MemoryBackend<(RK, Args), S::Encoded>, S, C>: Shareable,
    {
        let (Method(key, function), cache, ttl) = self
            .for_a_method()
            .cache(false, |o| SyncCacheBuilder::from_options(o).build());
        MemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }

    /// The memoized method over backends made by `backend`, one per shard.
    ///
    /// # Panics
    /// With `refresh_after` set: a method's receiver is borrowed for its call only, so
    /// no refresh can call it later.
    ///
    /// Also on a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_backend<B>(
        self,
        backend: impl FnMut() -> B,
    ) -> MemoizedMethod<P, F, SyncCache<(RK, Args), V, B, S, C>>
    where
        B: Lookup<(RK, Args), (RK, Args), S::Encoded>,
        SyncCache<(RK, Args), V, B, S, C>: Shareable,
    {
        let (Method(key, function), cache, ttl) =
            self.for_a_method().cache(B::SEES_WHOLE_NAMESPACE, |o| {
                SyncCacheBuilder::from_options(o).build_with_backend(backend)
            });
        MemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }
}
