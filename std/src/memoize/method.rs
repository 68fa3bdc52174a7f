//! Memoized methods: the receiver is part of the key, never part of the wrapper.

use std::sync::Arc;

use jwm_cache_core::Ttl;

use super::builder::{MemoizedBuilder, Method};
use super::{MemoStore, default_identifier};
use crate::controls::memo::{CurrentCache, Memo};
use crate::sync::{SyncCache, SyncCacheBuilder};

/// A memoized method: `function(&receiver, args)`, keyed on `(key(&receiver), args)`.
///
/// The receiver is passed to every [`call`](MemoizedMethod::call) and only its key is
/// stored, so two receivers share entries exactly when their keys are equal, and
/// nothing about one call's receiver can leak into another's: the wrapper holds no
/// receiver. The key is any projection: a field (`|s: &Shape| s.id`)
/// or a digest (`|s: &Shape| s.persistent_digest()` for a type whose
/// [`PersistentHash`](jwm_cache_core::PersistentHash) cannot fail).
///
/// ```
/// use jwm_cache::{CacheControls, MemoizedMethod};
///
/// struct Shape { id: u32, side: u64 }
///
/// let area = MemoizedMethod::new(|s: &Shape| s.id, |s: &Shape, scale: u64| s.side * s.side * scale);
/// let small = Shape { id: 1, side: 2 };
/// let large = Shape { id: 2, side: 10 };
/// assert_eq!(area.call(&small, 1), 4);
/// assert_eq!(area.call(&large, 1), 100); // another key: computed for `large`
/// assert_eq!(area.call(&small, 1), 4); // a hit
/// assert_eq!(area.cache_info().hits, 1);
/// ```
pub struct MemoizedMethod<P, F, M> {
    key: Arc<P>,
    function: Arc<F>,
    cache: Arc<M>,
    /// This method's TTL; `None` uses the cache's.
    ttl: Option<Ttl>,
}

impl<P, F, RK, Args, V> MemoizedMethod<P, F, SyncCache<(RK, Args), V>> {
    /// Memoizes `function`, keying each call on `key(&receiver)` and the arguments, with
    /// the defaults of [`Memoized`](crate::memoize::Memoized).
    #[track_caller]
    pub fn new(key: P, function: F) -> Self
    where
        V: Clone,
    {
        let identifier = default_identifier::<F, (RK, Args), V>();
        let cache = SyncCacheBuilder::new().identifier(identifier).build();
        MemoizedMethod::with_cache(key, function, Arc::new(cache))
    }

    /// A builder with the options of [`Memoized::builder`](crate::memoize::Memoized::builder).
    #[track_caller]
    pub fn builder(key: P, function: F) -> MemoizedBuilder<Method<P, F>, (RK, Args), V> {
        MemoizedBuilder::new(
            Method(key, function),
            default_identifier::<F, (RK, Args), V>(),
        )
    }
}

impl<P, F, M> MemoizedMethod<P, F, M> {
    /// Memoizes over an existing cache, shared with whatever else uses it.
    pub fn with_cache(key: P, function: F, cache: Arc<M>) -> Self {
        MemoizedMethod {
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

impl<P, F, RK, Args, M> MemoizedMethod<P, F, M>
where
    M: MemoStore<Key = (RK, Args)>,
    Args: Clone,
{
    /// The cached value for `(key(receiver), args)`, or `function(receiver, args)`.
    pub fn call<R: ?Sized>(&self, receiver: &R, args: Args) -> M::Value
    where
        P: Fn(&R) -> RK,
        F: Fn(&R, Args) -> M::Value,
    {
        let Ok::<_, std::convert::Infallible>(value) =
            self.try_call_with(receiver, args, |r, a| Ok((self.function)(r, a)));
        value
    }

    /// For a method returning `Result<V, E>`: only `Ok` is cached.
    pub fn try_call<R: ?Sized, E: Clone + Send + 'static>(
        &self,
        receiver: &R,
        args: Args,
    ) -> Result<M::Value, E>
    where
        P: Fn(&R) -> RK,
        F: Fn(&R, Args) -> Result<M::Value, E>,
    {
        self.try_call_with(receiver, args, &*self.function)
    }

    fn try_call_with<R: ?Sized, E: Clone + Send + 'static>(
        &self,
        receiver: &R,
        args: Args,
        function: impl Fn(&R, Args) -> Result<M::Value, E>,
    ) -> Result<M::Value, E>
    where
        P: Fn(&R) -> RK,
    {
        let key = ((*self.key)(receiver), args.clone());
        self.cache
            .get_or_compute(key, self.ttl, || function(receiver, args))
    }
}

impl<P, F, M> Clone for MemoizedMethod<P, F, M> {
    /// Another handle on the same method and cache.
    fn clone(&self) -> Self {
        MemoizedMethod {
            key: Arc::clone(&self.key),
            function: Arc::clone(&self.function),
            cache: Arc::clone(&self.cache),
            ttl: self.ttl,
        }
    }
}

impl<P, F, M> Memo for MemoizedMethod<P, F, M> {
    type Cache = M;

    fn memo_cache(&self) -> CurrentCache<'_, M> {
        CurrentCache::Shared(&self.cache)
    }

    fn memo_ttl(&self) -> Option<Ttl> {
        self.ttl
    }
}
