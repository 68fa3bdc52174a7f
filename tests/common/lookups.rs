//! Lookups many tasks make at once over a Redis backend: the check the single-node
//! and the cluster tests share.

use std::ops::Range;
use std::sync::Arc;

use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{AsyncCache, RedisBackend};

/// An async cache of `u64` keys over Redis, its values stamped and in postcard.
pub(crate) type RedisCache<V> = AsyncCache<u64, V, RedisBackend<u64>, Stamped<Postcard, u64>>;

/// Looks up every key of `keys` from its own task at once, which the backend gathers
/// into `MGET`s, and asserts that each got `value(key)`, not another key's.
pub(crate) async fn each_gets_its_own_value(
    cache: &Arc<RedisCache<u64>>,
    keys: Range<u64>,
    value: fn(u64) -> u64,
) {
    let lookups: Vec<_> = keys
        .map(|k| {
            let cache = Arc::clone(cache);
            tokio::spawn(async move { (k, cache.get(&k).await.unwrap()) })
        })
        .collect();
    for lookup in lookups {
        let (k, found) = lookup.await.unwrap();
        assert_eq!(found, Some(value(k)), "key {k} got another key's value");
    }
}
