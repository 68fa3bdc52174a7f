//! What the single-node and the cluster tests share: the cache they use, lookups many
//! tasks make at once, and namespaces filled side by side.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use jwm_cache::Ttl;
use jwm_cache::codec::{Postcard, Serializer, Stamped, StampedBytes};
use jwm_cache::time::Instant;

/// An async cache of `u64` keys over Redis, its values stamped and in postcard.
pub(crate) type RedisCache<V> = jwm_cache::RedisCache<u64, V>;

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

/// What the cache stores for `value`: the header, then postcard.
pub(crate) fn stamped(value: &u64) -> Vec<u8> {
    Stamped::<_, u64>::new(Postcard)
        .encode(value)
        .unwrap()
        .into_bytes()
}

/// Stores keys `0..count` with `value(k)` for a minute, in one `set_many`.
pub(crate) async fn store_keys(cache: &RedisCache<u64>, count: u64, value: fn(u64) -> u64) {
    let entries: Vec<(u64, StampedBytes<u64>)> = (0..count)
        .map(|k| (k, StampedBytes::from_stored(stamped(&value(k)))))
        .collect();
    let now = Instant::ZERO;
    let deadline = Ttl::from_secs(60).deadline_from(now);
    cache
        .backend()
        .set_many(entries, deadline, now)
        .await
        .unwrap();
}

/// Stores keys `0..count` in the first of `caches` (in one `set_many`) and 50 keys in
/// each other, checks that each counts its own, then clears the first.
pub(crate) async fn fill_then_clear_the_first(caches: &[RedisCache<u64>], count: u64) {
    let many: Vec<(u64, StampedBytes<u64>)> = (0..count)
        .map(|k| (k, StampedBytes::from_stored(stamped(&k))))
        .collect();
    caches[0]
        .backend()
        .set_many(many, Ttl::NEVER.deadline_from(Instant::ZERO), Instant::ZERO)
        .await
        .unwrap();
    for cache in &caches[1..] {
        for k in 0..50 {
            cache.insert(k, k).await.unwrap();
        }
    }
    assert_eq!(caches[0].info().await.current_size, count as usize);
    assert_eq!(
        caches[1].info().await.current_size,
        50,
        "counts its own namespace only"
    );
    caches[0].clear().await.unwrap();
    assert_eq!(caches[0].info().await.current_size, 0);
}

/// Tries `attempt` every 5 ms until it succeeds, `polls` times at most: whether it did.
/// For a `clear`, which fails while a store that timed out may still land.
pub(crate) async fn succeeds_within<T, E, F: Future<Output = Result<T, E>>>(
    polls: u32,
    mut attempt: impl FnMut() -> F,
) -> bool {
    for _ in 0..polls {
        if attempt().await.is_ok() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}

/// A runtime of one worker beside the test's: its connections are its own, so its
/// commands do not queue behind the test runtime's, nor theirs behind its.
pub(crate) fn another_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}
