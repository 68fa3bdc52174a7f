//! Lookups by a borrowed form of the key (`&str` for `String`, `&[T]` for `Vec<T>`), in
//! every cache, in memory and on a real `redis-server`.

mod common;

use std::sync::Arc;

use common::redis_server::RedisServer;
use jwm_cache::backend::{Lookup, Offloaded};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, BlockingCache, Bridge, Cache, LocalCache, ManualClock, Memoized,
    RedisBackend, SharedCache, SyncCacheBuilder,
    backend::SyncRedisBackend,
    codec::{Postcard, Stamped},
    key::PersistentDigest,
    memory::MemoryBackend,
};

#[test]
fn the_core_cache_reads_and_removes_a_string_key_by_str() {
    let mut cache: Cache<String, u32, _, _, _> = Cache::new(ManualClock::new());
    cache.insert("alice".to_string(), 1).unwrap();
    assert_eq!(cache.get("alice").unwrap(), Some(1));
    assert_eq!(cache.get(&"alice".to_string()).unwrap(), Some(1));
    assert_eq!(cache.get("bob").unwrap(), None);
    assert_eq!(cache.remove("alice"), Ok(true));
    assert_eq!(cache.get("alice").unwrap(), None);
}

#[test]
fn the_memory_backend_reads_a_vec_key_by_slice() {
    let mut store = MemoryBackend::<Vec<u8>, u32>::new();
    let now = jwm_cache::time::Instant::ZERO;
    let never = jwm_cache::Ttl::NEVER.deadline_from(now);
    jwm_cache::backend::Backend::set(&mut store, vec![1, 2, 3], 6, never, now).unwrap();
    let key: &[u8] = &[1, 2, 3];
    assert_eq!(store.get(key, now).unwrap(), Some(&6));
    assert_eq!(store.get(&[1u8, 2][..], now).unwrap(), None);
    assert_eq!(store.remove(key, now), Ok(true));
}

#[test]
fn shared_and_local_caches_take_str_for_string_keys() {
    let shared: SharedCache<String, u32> = SharedCache::new();
    shared.insert("alice".to_string(), 1).unwrap();
    assert_eq!(shared.get("alice").unwrap(), Some(1));
    assert_eq!(shared.remove("alice"), Ok(true));
    assert_eq!(shared.get("alice").unwrap(), None);

    let mut local: LocalCache<Vec<u16>, &str> =
        jwm_cache::CacheBuilder::new(jwm_cache::SystemClock).build();
    local.insert(vec![7, 8], "seven-eight").unwrap();
    assert_eq!(local.get(&[7u16, 8][..]).unwrap(), Some("seven-eight"));
}

#[test]
fn the_cache_behind_a_memoized_handle_takes_str() {
    let greet = Memoized::new(|name: String| format!("hello {name}"));
    assert_eq!(greet.call("ada".to_string()), "hello ada");
    assert_eq!(
        greet.cache().get("ada").unwrap().as_deref(),
        Some("hello ada")
    );
    assert_eq!(greet.cache().remove("ada"), Ok(true));
}

#[tokio::test]
async fn the_async_caches_take_str_for_string_keys() {
    let cache: AsyncCache<String, u32> = AsyncCache::new();
    cache.insert("alice".to_string(), 1).await.unwrap();
    assert_eq!(cache.get("alice").await.unwrap(), Some(1));
    assert_eq!(cache.remove("alice").await, Ok(true));
    assert_eq!(cache.get("alice").await.unwrap(), None);

    // A sync backend kept off the executor: the key travels in its owned form.
    let offloaded: AsyncCache<String, u32, _, _, _> = AsyncCacheBuilder::new()
        .build_with_backend(Offloaded::new(MemoryBackend::<String, u32>::new()));
    offloaded.insert("bob".to_string(), 2).await.unwrap();
    assert_eq!(offloaded.get("bob").await.unwrap(), Some(2));
    assert_eq!(offloaded.remove("bob").await, Ok(true));
}

#[test]
fn the_bridge_cache_takes_str_for_string_keys() {
    let bridge = Bridge::new().unwrap();
    let cache = BlockingCache::new(Arc::new(AsyncCache::<String, u32>::new()), bridge);
    cache.insert("alice".to_string(), 1).unwrap();
    assert_eq!(cache.get("alice").unwrap(), Some(1));
    assert!(cache.remove("alice").unwrap());
}

#[test]
fn borrowed_forms_have_their_owners_digest() {
    assert_eq!(
        "alice".persistent_digest(),
        "alice".to_string().persistent_digest()
    );
    assert_eq!(
        [1u32, 2].as_slice().persistent_digest(),
        vec![1u32, 2].persistent_digest()
    );
    assert_eq!(
        (*Box::<str>::from("alice")).persistent_digest(),
        Arc::<str>::from("alice").persistent_digest()
    );
    assert_ne!("alice".persistent_digest(), "alicf".persistent_digest());
}

#[tokio::test]
async fn redis_finds_a_string_key_by_str_and_a_vec_key_by_slice() {
    let server = RedisServer::start();
    let url = server.url(0);
    let names: AsyncCache<String, u64, RedisBackend<String>, Stamped<Postcard, String>> =
        AsyncCacheBuilder::new()
            .identifier("borrowed")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&url).unwrap());
    names.insert("alice".to_string(), 1).await.unwrap();
    assert_eq!(names.get("alice").await.unwrap(), Some(1));
    assert_eq!(names.get("alicf").await.unwrap(), None);
    assert!(names.remove("alice").await.unwrap());
    assert_eq!(names.get(&"alice".to_string()).await.unwrap(), None);

    let paths: AsyncCache<Vec<u32>, u64, RedisBackend<Vec<u32>>, Stamped<Postcard, Vec<u32>>> =
        AsyncCacheBuilder::new()
            .identifier("borrowed-paths")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&url).unwrap());
    paths.insert(vec![1, 2, 3], 6).await.unwrap();
    let slice: &[u32] = &[1, 2, 3];
    assert_eq!(paths.get(slice).await.unwrap(), Some(6));
    assert_eq!(paths.get(&vec![1, 2, 3]).await.unwrap(), Some(6));
}

#[test]
fn sync_redis_finds_a_string_key_by_str() {
    let server = RedisServer::start();
    let bridge = Bridge::new().unwrap();
    let url = server.url(0);
    let redis = bridge
        .run(async move { RedisBackend::<String>::open(&url) })
        .unwrap()
        .unwrap();
    let cache = SyncCacheBuilder::new()
        .identifier("borrowed-sync")
        .shards(1)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(|| {
            SyncRedisBackend::new(
                redis.clone().with_identifier("borrowed-sync"),
                bridge.clone(),
            )
        });
    cache.insert("alice".to_string(), 1u64).unwrap();
    assert_eq!(cache.get("alice").unwrap(), Some(1));
    assert!(cache.remove("alice").unwrap());
    assert_eq!(cache.get("alice").unwrap(), None);
}

#[test]
fn memoized_handles_remove_by_a_borrowed_argument() {
    let greet = Memoized::new(|name: String| format!("hello {name}"));
    greet.call("ada".into());
    assert_eq!(greet.cache_remove("ada"), Ok(true));

    // A sync function over an async store, through a bridge: the key crosses owned.
    let bridge = Bridge::new().unwrap();
    let shout = Memoized::builder(|word: String| word.to_uppercase()).build_with_async_backend(
        bridge,
        jwm_cache::backend::Sharded::new(2, MemoryBackend::<String, String>::new),
    );
    shout.call("hey".into());
    assert!(shout.cache_remove("hey").unwrap());
    assert!(!shout.cache_remove("hey").unwrap());
}
