//! Memoized async methods: the receiver is part of the key, never part of the wrapper.

use std::hash::Hash;
use std::sync::Arc;

use jwm_cache_core::{Clock, Serializer, Ttl};

use super::builder::{AsyncMethod, MemoizedBuilder};
use super::default_identifier;
use crate::asynch::{AsyncCache, AsyncCacheBuilder, AsyncLookup};
use crate::controls::memo::{CurrentCache, Memo};

/// A memoized async method: `function(&receiver, args)`, keyed on
/// `(key(&receiver), args)`, as [`MemoizedMethod`](crate::memoize::MemoizedMethod) is for sync
/// methods. The function is an async closure, so its future may borrow the receiver.
///
/// ```
/// use jwm_cache::{AsyncCacheControls, AsyncMemoizedMethod};
///
/// struct Account { id: u32, rate: u64 }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let interest = AsyncMemoizedMethod::new(
///     |a: &Account| a.id,
///     async |a: &Account, amount: u64| amount * a.rate / 100,
/// );
/// let account = Account { id: 1, rate: 5 };
/// assert_eq!(interest.call(&account, 1_000).await, 50);
/// assert_eq!(interest.call(&account, 1_000).await, 50);
/// assert_eq!(interest.cache_info().await.hits, 1);
/// # });
/// ```
pub struct AsyncMemoizedMethod<P, F, M> {
    key: Arc<P>,
    function: Arc<F>,
    cache: Arc<M>,
    /// This method's TTL; `None` uses the cache's.
    ttl: Option<Ttl>,
}

impl<P, F, RK, Args, V> AsyncMemoizedMethod<P, F, AsyncCache<(RK, Args), V>> {
    /// Memoizes `function`, keying each call on `key(&receiver)` and the arguments.
    #[track_caller]
    pub fn new(key: P, function: F) -> Self
    where
        V: Clone,
    {
        let cache = AsyncCacheBuilder::new()
            .identifier(default_identifier::<F, (RK, Args), V>())
            .build();
        AsyncMemoizedMethod::with_cache(key, function, Arc::new(cache))
    }

    /// A builder with the options of [`Memoized::builder`](crate::memoize::Memoized::builder).
    #[track_caller]
    pub fn builder(key: P, function: F) -> MemoizedBuilder<AsyncMethod<P, F>, (RK, Args), V> {
        MemoizedBuilder::new(
            AsyncMethod(key, function),
            default_identifier::<F, (RK, Args), V>(),
        )
    }
}

impl<P, F, M> AsyncMemoizedMethod<P, F, M> {
    /// Memoizes over an existing cache, shared with whatever else uses it.
    pub fn with_cache(key: P, function: F, cache: Arc<M>) -> Self {
        AsyncMemoizedMethod {
            key: Arc::new(key),
            function: Arc::new(function),
            cache,
            ttl: None,
        }
    }

    /// Stores this method's results with `ttl`, whatever the shared cache's TTL.
    pub(crate) fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The cache, to share it.
    pub fn cache(&self) -> &Arc<M> {
        &self.cache
    }
}

impl<P, F, RK, Args, V, B, S, C> AsyncMemoizedMethod<P, F, AsyncCache<(RK, Args), V, B, S, C>>
where
    (RK, Args): Hash + Eq + Clone + Send + Sync,
    Args: Clone,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<(RK, Args), (RK, Args), S::Encoded>,
    C: Clock + Sync,
{
    /// The cached value for `(key(receiver), args)`, or `function(receiver, args)`.
    pub async fn call<R: ?Sized>(&self, receiver: &R, args: Args) -> V
    where
        P: Fn(&R) -> RK,
        F: AsyncFn(&R, Args) -> V,
    {
        let key = ((*self.key)(receiver), args.clone());
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        let computed =
            || async { Ok::<_, std::convert::Infallible>((*self.function)(receiver, args).await) };
        let Ok(value) = self
            .cache
            .try_get_or_insert_with_ttl(key, ttl, computed)
            .await;
        value
    }

    /// For a method returning `Result<V, E>`: only `Ok` is cached.
    pub async fn try_call<R: ?Sized, E>(&self, receiver: &R, args: Args) -> Result<V, E>
    where
        E: Clone + Send + 'static,
        P: Fn(&R) -> RK,
        F: AsyncFn(&R, Args) -> Result<V, E>,
    {
        let key = ((*self.key)(receiver), args.clone());
        let ttl = self.ttl.unwrap_or_else(|| self.cache.ttl());
        self.cache
            .try_get_or_insert_with_ttl(key, ttl, || (*self.function)(receiver, args))
            .await
    }
}

impl<P, F, M> Clone for AsyncMemoizedMethod<P, F, M> {
    /// Another handle on the same method and cache.
    fn clone(&self) -> Self {
        AsyncMemoizedMethod {
            key: Arc::clone(&self.key),
            function: Arc::clone(&self.function),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
        }
    }
}

impl<P, F, M> Memo for AsyncMemoizedMethod<P, F, M> {
    type Cache = M;

    fn memo_cache(&self) -> CurrentCache<'_, M> {
        CurrentCache::Shared(&self.cache)
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
