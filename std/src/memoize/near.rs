//! Memoized functions over Redis with a near tier in front.

use std::hash::Hash;

use jwm_cache_core::{Clock, Identity};

use super::Memoized;
use super::asynchronous::AsyncMemoized;
use super::builder::{AsyncFunction, Function, MemoizedBuilder};
use super::registry::Shareable;
use crate::asynch::{AsyncCache, AsyncLookup, BlockingCache, Bridge};
use crate::redis::{NearBackend, RedisBackend, RedisCodec};

/// The cache of a memoized function over Redis with a near tier: decoded values in
/// memory, so its codec is [`Identity`]; the near tier's codec `S` stores them in Redis.
pub type NearRedisCache<K, V, S, C> = AsyncCache<K, V, NearBackend<K, V, S>, Identity, C>;

impl<F, Args, V, S, C> MemoizedBuilder<AsyncFunction<F>, Args, V, S, C> {
    /// The memoized async function over `redis`, with a [`NearBackend`] of at most
    /// `capacity` decoded copies in front: a hit on a copy does no I/O and no decoding,
    /// and every other process's write, removal or flush retires it. Values are stored
    /// in Redis as [`build_with_redis`](Self::build_with_redis) stores them, so both
    /// kinds of process share one namespace.
    ///
    /// ```no_run
    /// use jwm_cache::{AsyncCacheControls, AsyncMemoized, RedisBackend};
    ///
    /// # async fn demo() {
    /// let profile = AsyncMemoized::builder(|id: u64| async move { format!("user {id}") })
    ///     .identifier("profiles")
    ///     .build_with_near_redis(RedisBackend::open("redis://127.0.0.1:6379").unwrap(), 10_000);
    /// profile.call(7).await;
    /// profile.call(7).await;
    /// let info = profile.cache_info().await;
    /// println!("{} hits, {} of them from memory", info.hits, info.near_hits);
    /// # }
    /// ```
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_near_redis(
        self,
        redis: RedisBackend<Args>,
        capacity: usize,
    ) -> AsyncMemoized<F, NearRedisCache<Args, V, S::Stamped, C>>
    where
        S: RedisCodec<Args, V>,
        Args: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        NearBackend<Args, V, S::Stamped>: AsyncLookup<Args, Args, V>,
        NearRedisCache<Args, V, S::Stamped, C>: Shareable,
        C: Clock,
    {
        let (builder, codec) = self.swap_serializer(Identity);
        builder.build_with_backend(NearBackend::with_codec(redis, capacity, codec.stamped()))
    }
}

impl<F, Args, V, S, C> MemoizedBuilder<Function<F>, Args, V, S, C> {
    /// The memoized sync function over `redis`, whose I/O runs on `bridge`, with a
    /// [`NearBackend`] of at most `capacity` decoded copies in front (see the async
    /// builder's `build_with_near_redis`).
    ///
    /// ```no_run
    /// use jwm_cache::{Bridge, Memoized, RedisBackend};
    ///
    /// let bridge = Bridge::shared().unwrap();
    /// let redis = bridge.run(async { RedisBackend::open("redis://127.0.0.1:6379") });
    /// let square = Memoized::builder(|n: u64| n * n)
    ///     .identifier("squares")
    ///     .build_with_near_redis(bridge, redis.unwrap().unwrap(), 10_000);
    /// assert_eq!(square.call(12), 144);
    /// ```
    ///
    /// # Panics
    /// On a conflict with another function under its identifier, or for a function that
    /// holds state with no identifier over a shared backend: see
    /// [`MemoizedBuilder`](crate::memoize::MemoizedBuilder).
    pub fn build_with_near_redis(
        self,
        bridge: Bridge,
        redis: RedisBackend<Args>,
        capacity: usize,
    ) -> Memoized<F, BlockingCache<Args, V, NearBackend<Args, V, S::Stamped>, Identity, C>>
    where
        S: RedisCodec<Args, V>,
        Args: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        C: Clone,
        NearBackend<Args, V, S::Stamped>: AsyncLookup<Args, Args, V>,
        NearRedisCache<Args, V, S::Stamped, C>: Shareable,
        C: Clock,
    {
        let (builder, codec) = self.swap_serializer(Identity);
        let near = NearBackend::with_codec(redis, capacity, codec.stamped());
        builder.build_with_async_backend(bridge, near)
    }
}
