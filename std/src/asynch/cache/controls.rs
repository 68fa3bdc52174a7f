//! The async cache as [`AsyncCacheControls`]: what memoized functions and handles
//! forward to.

use std::future::Future;
use std::hash::Hash;

use jwm_cache_core::{CacheInfo, Clock, Counters, Parameters, Serializer};

use super::AsyncCache;
use crate::asynch::backend::AsyncLookup;
use crate::controls::AsyncCacheControls;

impl<K, V, B, S, C> AsyncCacheControls for AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    fn cache_info(&self) -> impl Future<Output = CacheInfo> + Send {
        self.info()
    }

    fn cache_counters(&self) -> Counters {
        self.counters()
    }

    async fn cache_clear(&self) {
        let _counted = self.clear().await;
    }

    fn cache_parameters(&self) -> Parameters {
        self.parameters()
    }
}
