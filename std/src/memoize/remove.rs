//! `Memoized::cache_remove`, by the arguments or a borrowed form of them, per store: each
//! store takes the borrowed forms its lookups take.

use std::borrow::Borrow;
use std::hash::Hash;

use jwm_cache_core::{CacheError, Clock, Lookup, Serializer};

use super::Memoized;
#[cfg(feature = "async")]
use crate::asynch::{AsyncCacheError, AsyncLookup, BlockingCache, BridgeError};
use crate::sync::SyncCache;

impl<F: ?Sized, K, V, B, S, C> Memoized<F, SyncCache<K, V, B, S, C>>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    /// Removes the entry for `args`, or a borrowed form of them (`&str` for a `String`
    /// argument); returns whether a live one was there. A computation in flight for
    /// `args` still answers its callers, but its value is not stored.
    ///
    /// ```
    /// use jwm_cache::Memoized;
    ///
    /// let greet = Memoized::new(|name: String| format!("hello {name}"));
    /// greet.call("ada".to_string());
    /// assert_eq!(greet.cache_remove("ada"), Ok(true));
    /// ```
    pub fn cache_remove<Q>(&self, args: &Q) -> Result<bool, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        self.cache().remove(args)
    }
}

#[cfg(feature = "async")]
impl<F: ?Sized, K, V, B, S, C> Memoized<F, BlockingCache<K, V, B, S, C>>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Send + Sync + 'static,
    S::Encoded: Send,
    S::Error: Send,
    B: AsyncLookup<K, K, S::Encoded> + 'static,
    B::Error: 'static,
    C: Clock + Send + Sync + 'static,
{
    /// Removes the entry for `args`, or a borrowed form of them; returns whether a live
    /// one was there. The key crosses to the bridge's runtime in its owned form.
    pub fn cache_remove<Q>(
        &self,
        args: &Q,
    ) -> Result<bool, BridgeError<AsyncCacheError<K, V, B, S>>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned + Sync + ?Sized + 'static,
        Q::Owned: Send + 'static,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        self.cache().remove(args)
    }
}
