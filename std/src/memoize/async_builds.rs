//! The builds of memoized async functions and methods: in memory, over any async
//! backend, and over Redis.

use jwm_cache_core::{MemoryBackend, Serializer};

use super::async_method::AsyncMemoizedMethod;
use super::asynchronous::AsyncMemoized;
use super::builder::{AsyncFunction, AsyncMethod, MemoizedBuilder};
use super::registry::Shareable;
use crate::asynch::{AsyncCache, AsyncCacheBuilder, AsyncLookup, Sharded};

/// The async cache in memory that `build` makes.
type AsyncInMemory<K, V, S, C> =
    AsyncCache<K, V, Sharded<MemoryBackend<K, <S as Serializer<V>>::Encoded>>, S, C>;

/// The Redis-backed memoized function, with postcard as the default codec.
#[cfg(feature = "redis")]
impl<F, Args, V, S, C> MemoizedBuilder<AsyncFunction<F>, Args, V, S, C> {
    /// The memoized async function over `redis`. Values are stored with the builder's
    /// codec, [stamped](jwm_cache_core::Stamped) with the header that says which type and codec
    /// wrote them; the in-memory default, [`Identity`](jwm_cache_core::Identity), stores postcard bytes. For JSON,
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
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_redis(
        self,
        redis: crate::redis::RedisBackend<Args>,
    ) -> AsyncMemoized<F, AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>>
    where
        S: crate::redis::RedisCodec<Args, V>,
        crate::redis::RedisBackend<Args>:
            AsyncLookup<Args, Args, jwm_cache_core::StampedBytes<Args>>,
        AsyncCache<Args, V, crate::redis::RedisBackend<Args>, S::Stamped, C>: Shareable,
        C: jwm_cache_core::Clock,
    {
        self.map_serializer(crate::redis::RedisCodec::stamped)
            .build_with_backend(redis)
    }
}

impl<F, Args, V, S, C> MemoizedBuilder<AsyncFunction<F>, Args, V, S, C>
where
    S: Serializer<V>,
{
    /// The memoized async function, in memory.
    ///
    /// # Panics
    /// On a conflict with another function under its identifier: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build(self) -> AsyncMemoized<F, AsyncInMemory<Args, V, S, C>>
    where
        AsyncInMemory<Args, V, S, C>: Shareable,
    {
        let (AsyncFunction(function), cache, ttl) =
            self.cache(false, |o| AsyncCacheBuilder::from_options(o).build());
        AsyncMemoized::with_cache(function, cache).with_ttl(ttl)
    }

    /// The memoized async function over `backend`: an [`AsyncBackend`](crate::asynch::AsyncBackend),
    /// or a sync one through [`Sharded`] or [`Offloaded`](crate::asynch::Offloaded).
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_backend<B>(self, backend: B) -> AsyncMemoized<F, AsyncCache<Args, V, B, S, C>>
    where
        B: AsyncLookup<Args, Args, S::Encoded>,
        AsyncCache<Args, V, B, S, C>: Shareable,
        C: jwm_cache_core::Clock,
    {
        let (AsyncFunction(function), cache, ttl) = self.cache(B::SHARED, |o| {
            AsyncCacheBuilder::from_options(o).build_with_backend(backend)
        });
        AsyncMemoized::with_cache(function, cache).with_ttl(ttl)
    }
}

impl<P, F, RK, Args, V, S, C> MemoizedBuilder<AsyncMethod<P, F>, (RK, Args), V, S, C>
where
    S: Serializer<V>,
{
    /// The memoized async method, in memory.
    ///
    /// # Panics
    /// With `refresh_after` set: a method's receiver is borrowed for its call only, so
    /// no refresh can call it later.
    ///
    /// Also on a conflict with another function under its identifier: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build(self) -> AsyncMemoizedMethod<P, F, AsyncInMemory<(RK, Args), V, S, C>>
    where
        AsyncInMemory<(RK, Args), V, S, C>: Shareable,
    {
        let (AsyncMethod(key, function), cache, ttl) = self
            .for_a_method()
            .cache(false, |o| AsyncCacheBuilder::from_options(o).build());
        AsyncMemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }

    /// The memoized async method over `backend`.
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
        backend: B,
    ) -> AsyncMemoizedMethod<P, F, AsyncCache<(RK, Args), V, B, S, C>>
    where
        B: AsyncLookup<(RK, Args), (RK, Args), S::Encoded>,
        AsyncCache<(RK, Args), V, B, S, C>: Shareable,
        C: jwm_cache_core::Clock,
    {
        let (AsyncMethod(key, function), cache, ttl) = self.for_a_method().cache(B::SHARED, |o| {
            AsyncCacheBuilder::from_options(o).build_with_backend(backend)
        });
        AsyncMemoizedMethod::with_cache(key, function, cache).with_ttl(ttl)
    }
}
