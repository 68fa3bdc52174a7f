//! Memoized async functions and methods.

use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;

use jwm_cache_core::{Clock, Serializer, Ttl};

use super::builder::{AsyncFunction, MemoizedBuilder};
use super::default_identifier;
use crate::asynch::{
    AsyncCache, AsyncCacheBuilder, AsyncCacheError, AsyncLookup, refresh_in_background,
};
use crate::controls::memo::{CurrentCache, Memo};
use crate::flight::Shared;

/// A memoized async function: [`Memoized`](crate::memoize::Memoized) for
/// `Fn(Args) -> impl Future<Output = V>`, with the same builder and methods, awaited.
///
/// Concurrent misses on one key, from any number of tasks, run the function once; if
/// the task running it is cancelled or it fails, a waiter takes over. Results live in
/// an [`AsyncCache`], in memory by default; [`build_with_backend`] takes any
/// [`AsyncBackend`](crate::backend::AsyncBackend), including sync backends through [`Sharded`](crate::asynch::Sharded) and
/// [`Offloaded`](crate::asynch::Offloaded).
///
/// [`build_with_backend`]: MemoizedBuilder::build_with_backend
///
/// A handle is cheap to clone, and clones share the function and the cache.
/// [`boxed`](AsyncMemoized::boxed) erases the function's type into an
/// [`AsyncMemoizedFn`], which a struct field (an axum state, say) can name.
///
/// ```
/// use jwm_cache::{AsyncCacheControls, AsyncMemoized};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let fetch = AsyncMemoized::new(|id: u32| async move { format!("user {id}") });
/// assert_eq!(fetch.call(7).await, "user 7"); // computed
/// assert_eq!(fetch.clone().call(7).await, "user 7"); // cached
/// assert_eq!(fetch.cache_info().await.hits, 1);
/// # });
/// ```
pub struct AsyncMemoized<F: ?Sized, M> {
    function: Arc<F>,
    cache: Arc<M>,
    /// This function's TTL, which may differ from that of a cache it shares; `None`
    /// uses the cache's.
    ttl: Option<Ttl>,
}

/// A boxed future, as an [`AsyncMemoizedFn`]'s function returns.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An [`AsyncMemoized`] function whose type is erased, for a struct field or a
/// `static`: `AsyncMemoizedFn<u64, String>` over the default cache, or
/// `AsyncMemoizedFn<Args, V, M>` over another. [`AsyncMemoized::boxed`] makes one.
///
/// ```
/// use jwm_cache::{AsyncMemoized, AsyncMemoizedFn};
///
/// #[derive(Clone)]
/// struct AppState {
///     profile: AsyncMemoizedFn<u64, String>,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let profile = AsyncMemoized::new(|id: u64| async move { format!("user {id}") });
/// let state = AppState { profile: profile.boxed() };
/// assert_eq!(state.clone().profile.call(7).await, "user 7");
/// # });
/// ```
pub type AsyncMemoizedFn<Args, V, M = AsyncCache<Args, V>> =
    AsyncMemoized<dyn Fn(Args) -> BoxFuture<V> + Send + Sync, M>;

impl<F: ?Sized, M> Clone for AsyncMemoized<F, M> {
    /// Another handle on the same function and cache.
    fn clone(&self) -> Self {
        AsyncMemoized {
            function: Arc::clone(&self.function),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
        }
    }
}

impl<F, Args, V> AsyncMemoized<F, AsyncCache<Args, V>> {
    /// Memoizes `function` with the defaults, in a cache of its own. The key and value
    /// types are the function's argument and output, so the controls work before the
    /// first call.
    #[track_caller]
    pub fn new<Fut>(function: F) -> Self
    where
        F: Fn(Args) -> Fut,
        Fut: Future<Output = V>,
        V: Clone,
    {
        Self::in_own_cache(function)
    }

    /// Memoizes a `function` whose future yields `Result<V, E>`, in a cache of its own
    /// that keeps only `Ok` values: call it with [`try_call`](AsyncMemoized::try_call).
    #[track_caller]
    pub fn fallible<Fut, E>(function: F) -> Self
    where
        F: Fn(Args) -> Fut,
        Fut: Future<Output = Result<V, E>>,
        V: Clone,
    {
        Self::in_own_cache(function)
    }

    #[track_caller]
    fn in_own_cache(function: F) -> Self
    where
        V: Clone,
    {
        let cache = AsyncCacheBuilder::new()
            .identifier(default_identifier::<F, Args, V>())
            .build();
        AsyncMemoized::with_cache(function, Arc::new(cache))
    }

    /// A builder with the options of [`Memoized::builder`](crate::memoize::Memoized::builder).
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwm_cache::{AsyncCacheControls, AsyncMemoized};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lookup = AsyncMemoized::builder(|city: String| async move { city.len() })
    ///     .ttl(Duration::from_secs(300))
    ///     .identifier("geo-async")
    ///     .build();
    /// assert_eq!(lookup.call("Oslo".to_string()).await, 4);
    /// assert_eq!(lookup.cache_parameters().identifier, "geo-async");
    /// # });
    /// ```
    #[track_caller]
    pub fn builder<Fut>(function: F) -> MemoizedBuilder<AsyncFunction<F>, Args, V>
    where
        F: Fn(Args) -> Fut,
        Fut: Future<Output = V>,
    {
        MemoizedBuilder::new(AsyncFunction(function), default_identifier::<F, Args, V>())
    }

    /// [`builder`](AsyncMemoized::builder) for a `function` whose future yields
    /// `Result<V, E>`, whose cache keeps only `Ok` values.
    #[track_caller]
    pub fn fallible_builder<Fut, E>(function: F) -> MemoizedBuilder<AsyncFunction<F>, Args, V>
    where
        F: Fn(Args) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        MemoizedBuilder::new(AsyncFunction(function), default_identifier::<F, Args, V>())
    }
}

impl<F, M> AsyncMemoized<F, M> {
    /// Memoizes `function` over an existing cache, shared with whatever else uses it.
    pub fn with_cache(function: F, cache: Arc<M>) -> Self {
        AsyncMemoized {
            function: Arc::new(function),
            cache,
            ttl: None,
        }
    }

    /// This handle with the function's type erased: an [`AsyncMemoizedFn`], whose
    /// function boxes each future. The cache is the same.
    pub fn boxed<Args, Fut>(
        self,
    ) -> AsyncMemoized<dyn Fn(Args) -> BoxFuture<Fut::Output> + Send + Sync, M>
    where
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
    {
        let function = self.function;
        let boxed = move |args: Args| -> BoxFuture<Fut::Output> { Box::pin(function(args)) };
        AsyncMemoized {
            function: Arc::new(boxed),
            cache: self.cache,
            ttl: self.ttl,
        }
    }
}

impl<F: ?Sized, M> AsyncMemoized<F, M> {
    /// Stores this function's results with `ttl`, whatever the shared cache's TTL.
    pub(crate) fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The cache, to share it.
    pub fn cache(&self) -> &Arc<M> {
        &self.cache
    }
}

impl<F: ?Sized, K, V, B, S, C> AsyncMemoized<F, AsyncCache<K, V, B, S, C>>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// The cached value for `args`, or the function's, stored on a miss. With
    /// `refresh_after`, a hit on an older entry also refreshes it, on a task spawned
    /// on the caller's runtime (see [`AsyncCache::try_get_or_refresh`]).
    pub async fn call<Fut>(&self, args: K) -> V
    where
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = V> + Send + 'static,
        K: 'static,
        V: 'static,
        S::Encoded: Send,
        S::Error: Send,
        AsyncCache<K, V, B, S, C>: Send + Sync + 'static,
    {
        let key = args.clone();
        let computed = || async { Ok::<_, std::convert::Infallible>((self.function)(args).await) };
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        let run = |f: &Arc<F>, args| {
            let computing = f(args);
            async move { Ok::<_, std::convert::Infallible>(computing.await) }
        };
        // Only a hit due for a refresh calls it, so only with `refresh_after`.
        let refresh = |key| refresh_in_background(&self.cache, key, ttl, &self.function, run);
        // The protocol itself rather than `get_or_insert_with`: one state machine fewer
        // on the hit path.
        let Ok(value) = self
            .cache
            .try_get_or_refresh_as::<_, Shared, _>(None, key, ttl, computed, refresh)
            .await;
        value
    }

    /// For callers that want the backend's failures rather than a bypass: see
    /// [`AsyncCache::get_or_insert_strict`].
    pub async fn call_strict<Fut>(&self, args: K) -> Result<V, AsyncCacheError<K, V, B, S>>
    where
        F: Fn(K) -> Fut,
        Fut: Future<Output = V>,
    {
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        self.cache
            .get_or_insert_strict_with_ttl(args.clone(), ttl, || (self.function)(args))
            .await
    }

    /// For a function returning `Result<V, E>`: only `Ok` is cached. An `Err` is
    /// returned, or, if the cache keeps stale entries (`stale_if_error`) and had one
    /// for `args`, that value is.
    pub async fn try_call<E, Fut>(&self, args: K) -> Result<V, E>
    where
        E: Clone + Send + 'static,
        F: Fn(K) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        K: 'static,
        V: 'static,
        S::Encoded: Send,
        S::Error: Send,
        AsyncCache<K, V, B, S, C>: Send + Sync + 'static,
    {
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        let key = args.clone();
        let computed = || (self.function)(args);
        let run = |f: &Arc<F>, args| f(args);
        let refresh = |key| refresh_in_background(&self.cache, key, ttl, &self.function, run);
        self.cache
            .try_get_or_refresh_as::<E, Shared, _>(None, key, ttl, computed, refresh)
            .await
    }

    /// Removes the entry for `args`, or a borrowed form of them; returns whether a live
    /// one was there. A computation in flight for `args` still answers its callers, but
    /// its value is not stored.
    pub async fn cache_remove<Q>(&self, args: &Q) -> Result<bool, AsyncCacheError<K, V, B, S>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + Sync + ?Sized,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        self.cache.remove(args).await
    }

    /// Stores `value` as the result for `args`, with this function's TTL, without
    /// calling the function.
    ///
    /// ```
    /// use jwm_cache::AsyncMemoized;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let square = AsyncMemoized::new(|n: u64| async move { n * n });
    /// square.cache_set(3, 10).await.unwrap();
    /// assert_eq!(square.call(3).await, 10);
    /// assert_eq!(square.cache_remove(&3).await, Ok(true));
    /// assert_eq!(square.cache_prime(3).await, 9);
    /// assert_eq!(square.call(3).await, 9);
    /// # });
    /// ```
    pub async fn cache_set(&self, args: K, value: V) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        self.cache.insert_with_ttl(args, value, ttl).await
    }

    /// Calls the function for `args` and stores its value, whatever is cached. A failed
    /// store is counted in `cache_info().errors`; the value is returned either way.
    pub async fn cache_prime<Fut>(&self, args: K) -> V
    where
        F: Fn(K) -> Fut,
        Fut: Future<Output = V>,
    {
        let value = (self.function)(args.clone()).await;
        let _counted = self.cache_set(args, value.clone()).await;
        value
    }

    /// [`cache_prime`](AsyncMemoized::cache_prime) for a function returning
    /// `Result<V, E>`: only an `Ok` value is stored.
    pub async fn try_cache_prime<E, Fut>(&self, args: K) -> Result<V, E>
    where
        F: Fn(K) -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let value = (self.function)(args.clone()).await?;
        let _counted = self.cache_set(args, value.clone()).await;
        Ok(value)
    }
}

impl<F: ?Sized, M> Memo for AsyncMemoized<F, M> {
    type Cache = M;

    fn memo_cache(&self) -> CurrentCache<'_, M> {
        CurrentCache::Shared(&self.cache)
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
