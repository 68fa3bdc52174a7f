//! The Redis backend against a real `redis-server` that each test starts on a free
//! loopback port and kills: commands, namespaces, cross-process sharing, faults.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, free_port, run_shared_example};
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

type Cache<V> = AsyncCache<u64, V, RedisBackend<u64>, Stamped<Postcard, u64>>;

fn cache<V: Clone>(url: &str, identifier: &str) -> Cache<V>
where
    Stamped<Postcard, u64>:
        jwm_cache::codec::Serializer<V, Encoded = jwm_cache::codec::StampedBytes<u64>>,
{
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(url).unwrap())
}

/// Our key names in `db`, sorted.
/// What the cache stores for `value`: the header, then postcard.
fn stamped(value: &u64) -> Vec<u8> {
    let codec = Stamped::<_, u64>::new(Postcard);
    jwm_cache::codec::Serializer::encode(&codec, value)
        .unwrap()
        .into_bytes()
}

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
    cache
        .insert_with_ttl(1, 10, Duration::from_millis(150))
        .await
        .unwrap();
    cache.insert_with_ttl(2, 20, Ttl::NEVER).await.unwrap();
    cache.insert_with_ttl(3, 30, Ttl::ZERO).await.unwrap();
    let mut raw = server.client(0);
    let name = |k: u64| {
        format!(
            "jwm-cache:ttl:{}",
            jwm_cache::key::PersistentDigest::persistent_digest(&k).unwrap()
        )
    };
    let pttl: i64 = raw.pttl(name(1)).unwrap();
    assert!((1..=150).contains(&pttl), "PX set from the TTL, got {pttl}");
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
    let many: Vec<(u64, StampedBytes<u64>)> = (0..2_500)
        .map(|k| (k, StampedBytes::from_stored(stamped(&k))))
        .collect();
    caches[0]
        .backend()
        .set_many(
            many,
            Ttl::NEVER.deadline_from(jwm_cache::time::Instant::ZERO),
            jwm_cache::time::Instant::ZERO,
        )
        .await
        .unwrap();
    for cache in &caches[1..] {
        for k in 0..50 {
            cache.insert(k, k).await.unwrap();
        }
    }
    assert_eq!(caches[0].info().await.current_size, 2_500);
    assert_eq!(
        caches[1].info().await.current_size,
        50,
        "counts its own namespace only"
    );
    caches[0].clear().await.unwrap();
    assert_eq!(caches[0].info().await.current_size, 0);
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
    let entries: Vec<(u64, StampedBytes<u64>)> = (0..100)
        .map(|k| (k, StampedBytes::from_stored(stamped(&(k * 2)))))
        .collect();
    let now = jwm_cache::time::Instant::ZERO;
    cache
        .backend()
        .set_many(entries, Ttl::from_secs(60).deadline_from(now), now)
        .await
        .unwrap();
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

#[tokio::test]
async fn a_server_down_at_start_still_yields_values_within_the_timeout() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let memo = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("down")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(&url).unwrap());
    let started = Instant::now();
    for n in 0..5 {
        assert_eq!(memo.call(n).await, n * 3);
    }
    // Two operations per call, each bounded by the 250 ms default.
    assert!(
        started.elapsed() < Duration::from_millis(5 * 2 * 250 + 500),
        "{:?}",
        started.elapsed()
    );
    let info = memo.cache_info().await;
    // Five lookups, five stores, and the size `cache_info` itself asked for.
    assert_eq!((info.misses, info.errors), (5, 11));
    assert!(
        matches!(memo.call_strict(1).await, Err(Error::Backend(_))),
        "strict callers get the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_costs_no_wrong_value_and_no_hang_and_hits_resume_after_restart() {
    let mut server = RedisServer::start();
    let timeout = Duration::from_millis(200);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Arc::new(
        AsyncMemoized::builder(move |n: u64| {
            counted.fetch_add(1, SeqCst);
            async move { n + 1_000 }
        })
        .identifier("faults")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(
            RedisBackend::open_with(&server.url(0), RedisOptions::default().timeout(timeout))
                .unwrap(),
        ),
    );
    for n in 0..20 {
        memo.call(n).await;
    }
    // Callers keep calling while the server dies under them: it is killed once a tenth
    // of their calls are done, so most run during the outage.
    let done = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..8)
        .map(|t| {
            let (memo, done) = (Arc::clone(&memo), Arc::clone(&done));
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                for i in 0..200u64 {
                    let n = (t * 7 + i) % 40;
                    let started = Instant::now();
                    assert_eq!(memo.call(n).await, n + 1_000);
                    slowest = slowest.max(started.elapsed());
                    done.fetch_add(1, SeqCst);
                }
                slowest
            })
        })
        .collect();
    while done.load(SeqCst) < 160 {
        tokio::task::yield_now().await;
    }
    server.kill();
    for caller in callers {
        let slowest = caller.await.unwrap();
        // A lookup and a store, each bounded by the timeout, plus scheduling slack.
        assert!(
            slowest < 2 * timeout + Duration::from_millis(300),
            "a call took {slowest:?}"
        );
    }
    // Misses during the outage failed their lookups and stores (the size query adds one).
    assert!(
        memo.cache_info().await.errors > 100,
        "the outage was counted"
    );

    server.restart();
    // The manager reconnects by itself: a value stored after the restart is a hit.
    let started = Instant::now();
    loop {
        memo.call(99).await;
        let before = runs.load(SeqCst);
        memo.call(99).await;
        if runs.load(SeqCst) == before {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "hits did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn two_processes_share_results_under_one_identifier_only() {
    let server = RedisServer::start();
    let url = server.url(0);
    let run = |identifier: &str| run_shared_example(&url, identifier, 10);
    assert_eq!(run("shared"), "computed=10 hits=0 misses=10 errors=0");
    assert_eq!(
        run("shared"),
        "computed=0 hits=10 misses=0 errors=0",
        "the second process hits"
    );
    assert_eq!(
        run("other"),
        "computed=10 hits=0 misses=10 errors=0",
        "another identifier misses"
    );
}

#[test]
fn a_sync_function_over_redis_works_outside_and_inside_runtimes() {
    let server = RedisServer::start();
    let bridge = Bridge::new().unwrap();
    let url = server.url(0);
    // The connection manager is created on the bridge, which drives it.
    let backend = bridge
        .run(async move { RedisBackend::<u64>::open(&url) })
        .unwrap()
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Memoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        n * 5
    })
    .identifier("sync-over-redis")
    .serializer(Stamped::new(Postcard))
    .build_with_async_backend(bridge, backend);
    assert_eq!((memo.call(2), memo.call(2)), (10, 10));
    let current_thread = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(current_thread.block_on(async { memo.call(2) }), 10);
    let multi_thread = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(multi_thread.block_on(async { memo.call(3) }), 15);
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(memo.cache_info().current_size, 2);
}

#[test]
fn the_sync_flavour_serves_sync_and_async_functions() {
    let server = RedisServer::start();
    let bridge = Bridge::new().unwrap();
    let url = server.url(0);
    let redis = bridge
        .run(async move { RedisBackend::<u64>::open(&url) })
        .unwrap()
        .unwrap();
    let sync_backend =
        || SyncRedisBackend::new(redis.clone().with_identifier("flavour"), bridge.clone());

    // A sync function over the sync backend, in a one-shard SyncCache.
    let cache = SyncCacheBuilder::new()
        .identifier("flavour")
        .shards(1)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(sync_backend);
    let triple = Memoized::with_cache(|n: u64| n * 3, Arc::new(cache));
    assert_eq!((triple.call(4), triple.call(4)), (12, 12));
    let info = triple.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));

    // An async function over the same sync backend, kept off the executor by Offloaded.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let also_triple = AsyncMemoized::builder(|n: u64| async move { n * 3 })
            .identifier("flavour")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(jwm_cache::backend::Offloaded::new(sync_backend()));
        assert_eq!(also_triple.call(4).await, 12);
        assert_eq!(
            also_triple.cache_info().await.hits,
            1,
            "it found the sync function's entry"
        );
    });
}

/// `rediss://` is accepted with the `redis-tls` feature; against a port with no TLS
/// server the call still returns its value and the failure is counted.
#[cfg(feature = "redis-tls")]
#[tokio::test]
async fn a_rediss_url_opens_and_a_failed_handshake_only_costs_a_counted_error() {
    let url = format!("rediss://127.0.0.1:{}/0", free_port());
    let memo = AsyncMemoized::builder(|n: u64| async move { n + 7 })
        .identifier("tls")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(&url).unwrap());
    assert_eq!(memo.call(1).await, 8);
    assert!(memo.cache_info().await.errors >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_costs_each_call_at_most_the_timeouts_and_then_recovers() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(150);
    let options = RedisOptions::default().timeout(timeout);
    let memo = AsyncMemoized::builder(|n: u64| async move { n * 11 })
        .identifier("stalled")
        .build_with_redis(RedisBackend::open_with(&server.url(0), options).unwrap());
    memo.call(1).await;
    server.freeze();
    let started = Instant::now();
    assert_eq!(memo.call(2).await, 22);
    let first = started.elapsed();
    assert!(
        first >= timeout && first < 2 * timeout + Duration::from_millis(200),
        "{first:?}"
    );
    // Paused: the next calls do not wait for the frozen server at all.
    let started = Instant::now();
    for n in 3..20 {
        assert_eq!(memo.call(n).await, n * 11);
    }
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    server.thaw();
    let started = Instant::now();
    loop {
        memo.call(1).await; // stored before the stall
        if memo.cache_info().await.hits > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "hits did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_share_an_mget_and_each_gets_its_own_value() {
    let server = RedisServer::start();
    let cache: Arc<Cache<u64>> = Arc::new(cache(&server.url(0), "mget"));
    for k in 0..200 {
        cache.insert(k, k * 10).await.unwrap();
    }
    let lookups: Vec<_> = (0..200)
        .map(|k| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { (k, cache.get(&k).await.unwrap()) })
        })
        .collect();
    for lookup in lookups {
        let (k, value) = lookup.await.unwrap();
        assert_eq!(value, Some(k * 10), "key {k} got another key's value");
    }
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut server.client(0))
        .unwrap();
    assert!(stats.contains("cmdstat_mget"), "no MGET was sent: {stats}");
}
