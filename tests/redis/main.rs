//! The Redis backend against a real `redis-server` that each test starts on a free
//! loopback port and kills: commands and namespaces here, then faults and sharing.

mod claims;
#[path = "../common/mod.rs"]
mod common;
mod faults;
mod fencing;
mod in_transit;
mod late_stores;
mod lease_scripts;
mod leases;
mod planted;
mod sharing;
mod stalls;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, command_calls, free_port, run_shared_example};
use jwm_cache::backend::DEADLINE_LEN;
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncMemoized, Bridge, Error, Memoized, RedisBackend,
    RedisOptions, SyncCacheBuilder, Ttl,
    backend::SyncRedisBackend,
    codec::{Json, Postcard, Stamped, StampedBytes},
    error::RedisBackendError,
};
use jwm_cache::{AsyncCacheControls, CacheControls};
use redis::Commands;

use common::lookups::{
    RedisCache as Cache, another_runtime, each_gets_its_own_value, fill_then_clear_the_first,
    stamped, store_keys, succeeds_within,
};

fn cache<V: Clone>(url: &str, identifier: &str) -> Cache<V>
where
    Stamped<Postcard, u64>:
        jwm_cache::codec::Serializer<V, Encoded = jwm_cache::codec::StampedBytes<u64>>,
{
    cache_with(url, identifier, RedisOptions::default())
}

/// [`cache`] with `options`.
fn cache_with<V: Clone>(url: &str, identifier: &str, options: RedisOptions) -> Cache<V>
where
    Stamped<Postcard, u64>:
        jwm_cache::codec::Serializer<V, Encoded = jwm_cache::codec::StampedBytes<u64>>,
{
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open_with(url, options).unwrap())
}

/// Our key names in `db`, sorted.
fn names(server: &RedisServer, db: u8) -> Vec<String> {
    let mut names: Vec<String> = server.client(db).keys("*").unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn a_memoized_function_misses_then_hits_and_keys_are_namespaced_digests() {
    let server = RedisServer::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let square = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { n * n }
    })
    .identifier("squares")
    .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    assert_eq!((square.call(12).await, square.call(12).await), (144, 144));
    assert_eq!(runs.load(SeqCst), 1);
    let info = square.cache_info().await;
    assert_eq!(
        (info.hits, info.misses, info.current_size, info.errors),
        (1, 1, 1, 0)
    );
    let digest = jwm_cache::key::PersistentDigest::persistent_digest(&12u64).unwrap();
    assert_eq!(
        names(&server, 0),
        vec![format!("jwm-cache:squares:{digest}")]
    );
    let stored: Vec<u8> = server
        .client(0)
        .get(format!("jwm-cache:squares:{digest}"))
        .unwrap();
    // The deadline, then the stamped bytes.
    assert_eq!(stored[DEADLINE_LEN..], stamped(&144u64));
    assert_eq!(square.cache_parameters().backend, "redis");
}

#[tokio::test]
async fn the_server_expires_entries_with_px_and_never_sets_no_expiry() {
    let server = RedisServer::start();
    let cache: Cache<u64> = cache(&server.url(0), "ttl");
    // Connected before the store, and read right after it: the PTTL is read well
    // inside the TTL even on a loaded machine.
    let mut raw = server.client(0);
    let name = |k: u64| {
        format!(
            "jwm-cache:ttl:{}",
            jwm_cache::key::PersistentDigest::persistent_digest(&k).unwrap()
        )
    };
    cache
        .insert_with_ttl(1, 10, Duration::from_millis(400))
        .await
        .unwrap();
    let pttl: i64 = raw.pttl(name(1)).unwrap();
    assert!((1..=400).contains(&pttl), "PX set from the TTL, got {pttl}");
    cache.insert_with_ttl(2, 20, Ttl::NEVER).await.unwrap();
    cache.insert_with_ttl(3, 30, Ttl::ZERO).await.unwrap();
    assert_eq!(raw.pttl::<_, i64>(name(2)).unwrap(), -1, "never: no expiry");
    assert!(
        !raw.exists::<_, bool>(name(3)).unwrap(),
        "zero: nothing stored"
    );
    // The server's own expiry, observed by bounded polling.
    let started = Instant::now();
    // The record's deadline ends the hit first; the server's expiry may lag it.
    while cache.get(&1).await.unwrap().is_some() || raw.exists::<_, bool>(name(1)).unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the server never expired it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cache.get(&2).await.unwrap(), Some(20));
    assert_eq!(cache.info().await.current_size, 1);
}

#[tokio::test]
async fn clear_removes_every_batch_of_its_namespace_and_nothing_else() {
    let server = RedisServer::start();
    let url = server.url(0);
    let spaces = ["ns", "ns2", "ns:x", "n*", "n?", "[ns]", "ns\\"];
    let caches: Vec<Cache<u64>> = spaces.iter().map(|id| cache(&url, id)).collect();
    // 2,500 keys in `ns`: several SCAN batches (the original cleared only the last).
    fill_then_clear_the_first(&caches, 2_500).await;
    assert_eq!(names(&server, 0).len(), 50 * (spaces.len() - 1));
    for cache in &caches[1..] {
        assert_eq!(
            cache.info().await.current_size,
            50,
            "{} was touched",
            cache.parameters().identifier
        );
    }
    // The glob characters of an identifier are literal.
    caches[3].clear().await.unwrap(); // "n*"
    assert_eq!(caches[4].info().await.current_size, 50); // "n?" survives
    assert_eq!(names(&server, 0).len(), 50 * (spaces.len() - 2));
}

#[tokio::test]
async fn get_many_is_one_mget_and_set_many_one_pipeline() {
    let server = RedisServer::start();
    let cache: Cache<u64> = cache(&server.url(0), "batch");
    store_keys(&cache, 100, |k| k * 2).await;
    let keys: Vec<u64> = (0..110).collect();
    let values = cache.get_many(&keys).await.unwrap();
    assert_eq!(
        values[..100],
        (0..100).map(|k| Some(k * 2)).collect::<Vec<_>>()[..]
    );
    assert_eq!(values[100..], [None; 10]);
    let info = cache.info().await;
    assert_eq!((info.hits, info.misses), (100, 10));
}

#[tokio::test]
async fn auth_and_database_numbers_come_from_the_url() {
    let server = RedisServer::start_with(Some("s3cret"));
    let in_db3: Cache<u64> = cache(&server.url(3), "db");
    let in_db4: Cache<u64> = cache(&server.url(4), "db");
    in_db3.insert(1, 10).await.unwrap();
    assert_eq!(in_db3.get(&1).await.unwrap(), Some(10));
    assert_eq!(in_db4.get(&1).await.unwrap(), None, "another database");
    assert_eq!(names(&server, 3).len(), 1);

    let wrong = format!("redis://:wrong@127.0.0.1:{}/3", server.port);
    let memo = AsyncMemoized::builder(|n: u64| async move { n + 1 })
        .identifier("db")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(&wrong).unwrap());
    assert_eq!(
        memo.call(1).await,
        2,
        "a refused login still yields the value"
    );
    assert!(memo.cache_info().await.errors >= 2);
    assert!(RedisBackend::<u64>::open("not a url").is_err());
}

#[tokio::test]
async fn foreign_bytes_are_a_miss_recomputed_overwritten_and_counted() {
    let server = RedisServer::start();
    let cache: Cache<Vec<String>> = cache(&server.url(0), "corrupt");
    let name = format!(
        "jwm-cache:corrupt:{}",
        jwm_cache::key::PersistentDigest::persistent_digest(&5u64).unwrap()
    );
    let _: () = server
        .client(0)
        .set(&name, b"\xff\xff\xff not postcard".as_slice())
        .unwrap();
    let value = cache
        .get_or_insert_with(5, || async { vec!["fresh".to_string()] })
        .await;
    assert_eq!(value, vec!["fresh".to_string()]);
    let stored: Vec<u8> = server.client(0).get(&name).unwrap();
    let stamped = jwm_cache::codec::Serializer::encode(
        &Stamped::<_, u64>::new(Postcard),
        &vec!["fresh".to_string()],
    );
    assert_eq!(stored[DEADLINE_LEN..], stamped.unwrap().into_bytes());
    assert_eq!(cache.info().await.errors, 1);
    // And under the JSON codec too.
    let json: AsyncCache<u64, Vec<u32>, RedisBackend<u64>, Stamped<Json, u64>> =
        AsyncCacheBuilder::new()
            .identifier("corrupt-json")
            .serializer(Stamped::new(Json))
            .build_with_backend(RedisBackend::open(&server.url(0)).unwrap());
    let name = format!(
        "jwm-cache:corrupt-json:{}",
        jwm_cache::key::PersistentDigest::persistent_digest(&5u64).unwrap()
    );
    let _: () = server.client(0).set(&name, "{not json").unwrap();
    assert!(matches!(json.get(&5).await, Err(Error::Codec(_))));
    assert_eq!(
        json.get_or_insert_with(5, || async { vec![1, 2] }).await,
        vec![1, 2]
    );
    assert_eq!(json.get(&5).await.unwrap(), Some(vec![1, 2]));
}

#[tokio::test]
async fn values_and_keys_over_the_limits_are_not_stored() {
    let server = RedisServer::start();
    let options = RedisOptions::default().max_value_bytes(64);
    let big = AsyncMemoized::builder(|n: usize| async move { vec![7u8; n] })
        .identifier("limits")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open_with(&server.url(0), options).unwrap());
    assert_eq!(
        big.call(1_000).await.len(),
        1_000,
        "the call still returns its value"
    );
    assert_eq!(big.call(10).await.len(), 10);
    assert_eq!(
        names(&server, 0).len(),
        1,
        "only the small value was stored"
    );
    assert_eq!(big.cache_info().await.errors, 1, "the too-large store");

    let long_names = RedisOptions::default().max_key_bytes(16);
    let cache: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
        AsyncCacheBuilder::new()
            .identifier("limits")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open_with(&server.url(0), long_names).unwrap());
    assert!(matches!(
        cache.insert(1, 1).await,
        Err(Error::Backend(RedisBackendError::TooLarge {
            what: "key",
            ..
        }))
    ));
}
