//! Opening a backend: on one server or a cluster, with errors reported at once or by
//! every operation.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use jwm_cache_core::DEFAULT_IDENTIFIER;

use super::backend::RedisBackend;
use super::endpoint::Endpoint;
use super::error::RedisBackendError;
use super::link::Link;
use super::namespace::Namespace;
use super::options::RedisOptions;

impl<K> RedisBackend<K> {
    /// A backend for the server at `url` (`redis://[user:password@]host[:port][/db]`,
    /// or `rediss://` with the `redis-tls` feature), with default [`RedisOptions`].
    ///
    /// Fails only on a malformed URL; the server is contacted on first use.
    pub fn open(url: &str) -> Result<Self, RedisBackendError> {
        Self::open_with(url, RedisOptions::default())
    }

    /// [`open`](Self::open) with options.
    pub fn open_with(url: &str, options: RedisOptions) -> Result<Self, RedisBackendError> {
        Ok(Self::over(Ok(Endpoint::single(url)?), options))
    }

    /// [`open_with`](Self::open_with), except that a malformed URL is reported by every
    /// operation instead (as [`RedisBackendError::Redis`]). A memoized function over
    /// such a backend computes every call and counts each failure in `cache_info()`:
    /// this is how `#[ttl_cache(backend = redis(url = ...))]` opens its backend on first
    /// use, where there is no caller to return an error to.
    ///
    /// ```
    /// use jwm_cache::{AsyncCacheControls, AsyncMemoized, RedisBackend, RedisOptions};
    ///
    /// let broken = RedisBackend::open_deferring_errors("not a url", RedisOptions::default());
    /// let square = AsyncMemoized::builder(|n: u64| async move { n * n }).build_with_redis(broken);
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// assert_eq!(runtime.block_on(square.call(12)), 144); // computed: the URL is bad
    /// assert!(runtime.block_on(square.cache_info()).errors >= 2);
    /// ```
    pub fn open_deferring_errors(url: &str, options: RedisOptions) -> Self {
        Self::over(Endpoint::single(url), options)
    }

    /// A backend over the Redis Cluster that the nodes at `seeds` belong to (URLs as
    /// for [`open`](Self::open); one live seed is enough), with default options.
    ///
    /// Keys keep their names and spread over the cluster's slots by them, so one cache
    /// is served by every primary. redis-rs's cluster client routes each command to
    /// its slot's primary, follows `MOVED` and `ASK` redirections, and finds the new
    /// primary after a failover; every operation stays bounded by the timeout, retries
    /// included. Batched lookups (`MGET`) are split by slot and each caller gets its own
    /// key's answer (a node's error reply, `BUSY` say, fails its own slot's keys only);
    /// `get_many` joins those batches, key by key, sharing each with single lookups;
    /// `set_many` sends one pipeline per slot, at most 64 at a time, on a connection of
    /// its own; `len` and `clear` walk every primary (see
    /// [`RedisBackendError::Unsettled`]).
    ///
    /// Fails only on a malformed URL or an empty list; the cluster is contacted on
    /// first use.
    ///
    /// ```no_run
    /// use jwm_cache::{AsyncMemoized, RedisBackend};
    ///
    /// # async fn demo() {
    /// let seeds = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"];
    /// let redis = RedisBackend::open_cluster(&seeds).unwrap();
    /// let square = AsyncMemoized::builder(|n: u64| async move { n * n })
    ///     .identifier("squares")
    ///     .build_with_redis(redis);
    /// assert_eq!(square.call(12).await, 144);
    /// # }
    /// ```
    pub fn open_cluster<S: AsRef<str>>(seeds: &[S]) -> Result<Self, RedisBackendError> {
        Self::open_cluster_with(seeds, RedisOptions::default())
    }

    /// [`open_cluster`](Self::open_cluster) with options.
    pub fn open_cluster_with<S: AsRef<str>>(
        seeds: &[S],
        options: RedisOptions,
    ) -> Result<Self, RedisBackendError> {
        let endpoint = Endpoint::cluster(seeds, options.timeout)?;
        Ok(Self::over(Ok(endpoint), options))
    }

    /// [`open_cluster_with`](Self::open_cluster_with), reporting a malformed URL or an
    /// empty list from every operation instead, as
    /// [`open_deferring_errors`](Self::open_deferring_errors) does.
    pub fn open_cluster_deferring_errors<S: AsRef<str>>(
        seeds: &[S],
        options: RedisOptions,
    ) -> Self {
        Self::over(Endpoint::cluster(seeds, options.timeout), options)
    }

    fn over(endpoint: Result<Endpoint, RedisBackendError>, options: RedisOptions) -> Self {
        RedisBackend {
            link: Arc::new(Link::new(endpoint, options.timeout, options.pause)),
            lookups: Arc::default(),
            namespace: Namespace::new(&options.prefix, DEFAULT_IDENTIFIER),
            options,
            stale_window: Duration::ZERO,
            lease: None,
            keys: PhantomData,
        }
    }
}
