//! Configuring a memoized function or method.

use std::marker::PhantomData;
use std::sync::Arc;

use jwm_cache_core::{Identity, MemoryBackend, Serializer, Ttl};

use super::registry::{self, Shareable};
use super::{Memoized, MemoizedMethod};
#[cfg(feature = "async")]
use crate::{AsyncCache, AsyncMemoized, AsyncMemoizedMethod, Sharded};
use crate::{SyncCache, SyncCacheBuilder, SystemClock};

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
/// process, as the Python original's local cache does. Each stores its results with its
/// own TTL. They must agree on the clock and the capacity: a later builder that asks a
/// shared cache for another one panics with a [`SharedCacheConflict`](super::SharedCacheConflict)
/// naming both settings. Functions under one identifier but with other types get a
/// cache of their own. Different identifiers never share. To share explicitly, hand the
/// same cache to [`Memoized::with_cache`].
///
/// The builder requires the cache to be [`Shareable`] (`Send + Sync + 'static`), which
/// the registry needs; [`Memoized::new`] and [`Memoized::with_cache`] do not.
pub struct MemoizedBuilder<T, Args = (), V = (), S = Identity, C = SystemClock> {
    target: T,
    options: SyncCacheBuilder<S, C>,
    /// The identifier given explicitly, which makes the cache shared.
    named: Option<String>,
    types: PhantomData<fn(Args) -> V>,
}

impl<T, Args, V> MemoizedBuilder<T, Args, V> {
    /// `name` identifies the cache until an identifier is given: the function's
    /// default identifier, unique to it and stable within one build.
    pub(crate) fn new(target: T, name: String) -> Self {
        MemoizedBuilder {
            target,
            options: SyncCacheBuilder::new().identifier(name),
            named: None,
            types: PhantomData,
        }
    }
}

impl<T, Args, V, S, C> MemoizedBuilder<T, Args, V, S, C> {
    /// How long a result is served (default 60 s): a `Duration`, saturating, or a
    /// [`Ttl`] such as [`Ttl::NEVER`].
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.options = self.options.ttl(ttl);
        self
    }

    /// The namespace; memoized functions under one identifier share their cache.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        let identifier = identifier.into();
        self.options = self.options.identifier(identifier.clone());
        self.named = Some(identifier);
        self
    }

    /// The most results kept; SIEVE evicts beyond it.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.options = self.options.capacity(capacity);
        self
    }

    /// Whether concurrent misses on one key run the function once (default) or once
    /// per caller.
    pub fn single_flight(mut self, on: bool) -> Self {
        self.options = self.options.single_flight(on);
        self
    }

    /// The codec (default [`Identity`]).
    pub fn serializer<S2>(self, serializer: S2) -> MemoizedBuilder<T, Args, V, S2, C> {
        self.map_serializer(|_| serializer)
    }

    /// The codec, replaced by `f` of the current one.
    fn map_serializer<S2>(self, f: impl FnOnce(S) -> S2) -> MemoizedBuilder<T, Args, V, S2, C> {
        MemoizedBuilder {
            target: self.target,
            options: self.options.map_serializer(f),
            named: self.named,
            types: PhantomData,
        }
    }

    /// The clock (default [`SystemClock`]); a `ManualClock` makes tests deterministic.
    pub fn clock<C2>(self, clock: C2) -> MemoizedBuilder<T, Args, V, S, C2> {
        MemoizedBuilder {
            target: self.target,
            options: self.options.clock(clock),
            named: self.named,
            types: PhantomData,
        }
    }

    /// The cache `make` builds from these options: shared through the registry under
    /// an explicit identifier, else new; and the function's own TTL.
    ///
    /// A conflict panics: a builder has no error to return, and two functions under one
    /// identifier that disagree on the clock or capacity are a bug to fix, not to run.
    fn cache<Cache>(
        self,
        make: impl FnOnce(SyncCacheBuilder<S, C>) -> Cache,
    ) -> (T, Arc<Cache>, Ttl)
    where
        Cache: Shareable,
    {
        let ttl = self.options.configured_ttl();
        let cache = match &self.named {
            Some(identifier) => registry::shared::<_, ()>(identifier, || make(self.options))
                .unwrap_or_else(|conflict| panic!("{conflict}")),
            None => Arc::new(make(self.options)),
        };
        (self.target, cache, ttl)
    }
}

impl<F, Args, V, S, C> MemoizedBuilder<Function<F>, Args, V, S, C>
where
    S: Serializer<V> + Clone,
    C: Clone,
{
    /// The memoized function, in memory.
    pub fn build(self) -> Memoized<F, SyncCache<Args, V, MemoryBackend<Args, S::Encoded>, S, C>>
    where
        SyncCache<Args, V, MemoryBackend<Args, S::Encoded>, S, C>: Shareable,
    {
        let (Function(function), cache, ttl) = self.cache(SyncCacheBuilder::build);
        Memoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized function over backends made by `backend`, one per shard.
    pub fn build_with_backend<B>(
        self,
        backend: impl FnMut() -> B,
    ) -> Memoized<F, SyncCache<Args, V, B, S, C>>
    where
        B: jwm_cache_core::Backend<Args, S::Encoded>,
        SyncCache<Args, V, B, S, C>: Shareable,
    {
        let (Function(function), cache, ttl) = self.cache(|o| o.build_with_backend(backend));
        Memoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized sync function over an async `backend`, whose I/O runs on `bridge`
    /// (see [`BlockingCache`](crate::BlockingCache)). Under an identifier, it shares its
    /// [`AsyncCache`](crate::AsyncCache) with async memoized functions of the same types.
    ///
    /// Create a backend whose connections need a runtime on the bridge, with
    /// [`Bridge::run`](crate::Bridge::run), so that a caller blocking its own runtime
    /// cannot stall them.
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn build_with_async_backend<B>(
        self,
        bridge: crate::asynch::Bridge,
        backend: B,
    ) -> Memoized<F, crate::BlockingCache<Args, V, B, S, C>>
    where
        B: crate::AsyncBackend<Args, S::Encoded>,
        crate::asynch::AsyncCache<Args, V, B, S, C>: Shareable,
    {
        let (Function(function), cache, ttl) = self.cache(|o| o.build_async_with_backend(backend));
        Memoized::with_cache(function, Arc::new(crate::BlockingCache::new(cache, bridge)))
            .with_ttl(ttl)
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
    pub fn build_with_redis(
        self,
        bridge: crate::asynch::Bridge,
        redis: crate::redis::RedisBackend<Args>,
    ) -> Memoized<
        F,
        crate::asynch::BlockingCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>,
    >
    where
        S: crate::redis::RedisCodec<Args, V>,
        crate::redis::RedisBackend<Args>:
            crate::asynch::AsyncBackend<Args, jwm_cache_core::StampedBytes<Args>>,
        crate::asynch::AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>:
            Shareable,
        S::Stamped: Clone,
        C: Clone,
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
    pub fn build(
        self,
    ) -> MemoizedMethod<P, F, SyncCache<(RK, Args), V, MemoryBackend<(RK, Args), S::Encoded>, S, C>>
    where
        SyncCache<(RK, Args), V, MemoryBackend<(RK, Args), S::Encoded>, S, C>: Shareable,
    {
        let (Method(key, function), cache, ttl) = self.cache(SyncCacheBuilder::build);
        MemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }

    /// The memoized method over backends made by `backend`, one per shard.
    pub fn build_with_backend<B>(
        self,
        backend: impl FnMut() -> B,
    ) -> MemoizedMethod<P, F, SyncCache<(RK, Args), V, B, S, C>>
    where
        B: jwm_cache_core::Backend<(RK, Args), S::Encoded>,
        SyncCache<(RK, Args), V, B, S, C>: Shareable,
    {
        let (Method(key, function), cache, ttl) = self.cache(|o| o.build_with_backend(backend));
        MemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }
}

/// The async cache in memory that `build` makes.
#[cfg(feature = "async")]
type AsyncInMemory<K, V, S, C> =
    AsyncCache<K, V, Sharded<MemoryBackend<K, <S as Serializer<V>>::Encoded>>, S, C>;

/// The Redis-backed memoized function, with postcard as the default codec.
#[cfg(feature = "redis")]
impl<F, Args, V, S, C> MemoizedBuilder<AsyncFunction<F>, Args, V, S, C> {
    /// The memoized async function over `redis`. Values are stored with the builder's
    /// codec, [stamped](jwm_cache_core::Stamped) with the header that says which type and codec
    /// wrote them; the in-memory default, [`Identity`], stores postcard bytes. For JSON,
    /// call `.serializer(Json)` first.
    ///
    /// ```no_run
    /// use jwm_cache::{AsyncMemoized, RedisBackend};
    ///
    /// # async fn demo() {
    /// let profile = AsyncMemoized::builder(|id: u64| async move { format!("user {id}") })
    ///     .identifier("profiles")
    ///     .build_with_redis(RedisBackend::open("redis://127.0.0.1:6379").unwrap());
    /// profile.call(7).await;
    /// # }
    /// ```
    pub fn build_with_redis(
        self,
        redis: crate::redis::RedisBackend<Args>,
    ) -> AsyncMemoized<F, AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>>
    where
        S: crate::redis::RedisCodec<Args, V>,
        crate::redis::RedisBackend<Args>:
            crate::asynch::AsyncBackend<Args, jwm_cache_core::StampedBytes<Args>>,
        AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>: Shareable,
    {
        self.map_serializer(crate::redis::RedisCodec::stamped)
            .build_with_backend(redis)
    }
}

#[cfg(feature = "async")]
impl<F, Args, V, S, C> MemoizedBuilder<AsyncFunction<F>, Args, V, S, C>
where
    S: Serializer<V>,
{
    /// The memoized async function, in memory.
    pub fn build(self) -> AsyncMemoized<F, AsyncInMemory<Args, V, S, C>>
    where
        AsyncInMemory<Args, V, S, C>: Shareable,
    {
        let (AsyncFunction(function), cache, ttl) = self.cache(SyncCacheBuilder::build_async);
        AsyncMemoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized async function over `backend`: an [`AsyncBackend`](crate::AsyncBackend),
    /// or a sync one through [`Sharded`] or [`Blocking`](crate::Blocking).
    pub fn build_with_backend<B>(self, backend: B) -> AsyncMemoized<F, AsyncCache<Args, V, B, S, C>>
    where
        B: crate::AsyncBackend<Args, S::Encoded>,
        AsyncCache<Args, V, B, S, C>: Shareable,
    {
        let (AsyncFunction(function), cache, ttl) =
            self.cache(|o| o.build_async_with_backend(backend));
        AsyncMemoized::with_cache(function, cache).with_ttl(ttl)
    }
}

#[cfg(feature = "async")]
impl<P, F, RK, Args, V, S, C> MemoizedBuilder<AsyncMethod<P, F>, (RK, Args), V, S, C>
where
    S: Serializer<V>,
{
    /// The memoized async method, in memory.
    pub fn build(self) -> AsyncMemoizedMethod<P, F, AsyncInMemory<(RK, Args), V, S, C>>
    where
        AsyncInMemory<(RK, Args), V, S, C>: Shareable,
    {
        let (AsyncMethod(key, function), cache, ttl) = self.cache(SyncCacheBuilder::build_async);
        AsyncMemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }

    /// The memoized async method over `backend`.
    pub fn build_with_backend<B>(
        self,
        backend: B,
    ) -> AsyncMemoizedMethod<P, F, AsyncCache<(RK, Args), V, B, S, C>>
    where
        B: crate::AsyncBackend<(RK, Args), S::Encoded>,
        AsyncCache<(RK, Args), V, B, S, C>: Shareable,
    {
        let (AsyncMethod(key, function), cache, ttl) =
            self.cache(|o| o.build_async_with_backend(backend));
        AsyncMemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }
}
