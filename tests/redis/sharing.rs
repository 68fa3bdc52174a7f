//! Sharing: across processes, with sync callers, and in one `MGET` across tasks.

use super::*;

/// A bridge of its own, and a backend on `server` made on it.
fn on_a_bridge(server: &RedisServer) -> (Bridge, RedisBackend<u64>) {
    let bridge = Bridge::new().unwrap();
    let backend = server.backend_on(&bridge);
    (bridge, backend)
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
    let (bridge, backend) = on_a_bridge(&server);
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
    let (bridge, redis) = on_a_bridge(&server);
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

/// A report, which a metrics scrape reads, takes no size from the server for a cache
/// over the sync backend: that is a scan of the namespace, under a shard's lock.
#[test]
fn a_report_of_a_cache_over_the_sync_backend_scans_nothing() {
    let server = RedisServer::start();
    let (bridge, redis) = on_a_bridge(&server);
    let square = Memoized::builder(|n: u64| n * n)
        .identifier("reported-sync")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(|| SyncRedisBackend::new(redis.clone(), bridge.clone()));
    assert_eq!((square.call(4), square.call(4)), (16, 16));
    let scans = || command_calls(&mut server.client(0)).get("scan").copied();
    let before = scans();
    let report = jwm_cache::report::reports()
        .into_iter()
        .find(|r| r.parameters.identifier == "reported-sync")
        .expect("listed");
    assert_eq!((report.counters.hits, report.size), (1, None));
    assert_eq!(scans(), before, "a scan for a report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_share_an_mget_and_each_gets_its_own_value() {
    let server = RedisServer::start();
    let cache: Arc<Cache<u64>> = Arc::new(cache(&server.url(0), "mget"));
    for k in 0..200 {
        cache.insert(k, k * 10).await.unwrap();
    }
    each_gets_its_own_value(&cache, 0..200, |k| k * 10).await;
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut server.client(0))
        .unwrap();
    assert!(stats.contains("cmdstat_mget"), "no MGET was sent: {stats}");
}

/// `Offloaded` passes the cache's identifier and stale window on to the sync backend it
/// wraps: without them, caches of one server shared one namespace (and, with the same
/// types, each other's values), and a record kept for a stale window read as fresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_flavour_offloaded_learns_the_identifier_and_the_stale_window() {
    let server = RedisServer::start();
    let (bridge, redis) = on_a_bridge(&server);
    let offloaded =
        || jwm_cache::backend::Offloaded::new(SyncRedisBackend::new(redis.clone(), bridge.clone()));
    let (ttl, window) = (Duration::from_secs(60), Duration::from_secs(3_600));
    let cache_named = |identifier: &str| {
        AsyncCacheBuilder::new()
            .identifier(identifier)
            .ttl(ttl)
            .stale_if_error(window)
            .serializer(Stamped::new(Postcard))
            .build_with_backend::<u64, u64, _>(offloaded())
    };
    let (left, right) = (
        cache_named("offloaded-left"),
        cache_named("offloaded-right"),
    );
    left.insert(1, 10).await.unwrap();
    right.insert(2, 20).await.unwrap();
    assert_eq!(left.get(&1).await.unwrap(), Some(10));
    assert_eq!(right.get(&1).await.unwrap(), None, "another cache's entry");
    assert_eq!(left.get(&2).await.unwrap(), None, "another cache's entry");

    // The record holds the TTL's deadline; the server keeps it for the window too.
    let mut raw = server.client(0);
    let key = names(&server, 0)
        .into_iter()
        .find(|name| name.starts_with("jwm-cache:offloaded-left:"))
        .expect("the left cache's key is named after it");
    let stored: Vec<u8> = raw.get(&key).unwrap();
    let (wall, _) = stored.split_first_chunk::<DEADLINE_LEN>().unwrap();
    let wall = u64::from_le_bytes(*wall);
    let expires: u64 = redis::cmd("PEXPIRETIME").arg(&key).query(&mut raw).unwrap();
    let window_ms = u64::try_from(window.as_millis()).unwrap();
    assert!(
        expires.abs_diff(wall + window_ms) < 10_000,
        "the record's deadline {wall} is not the TTL's: the server expires it at {expires}"
    );
}

/// Every `SyncRedisBackend` sees the whole namespace, so a sharded cache over it counts
/// and clears it through one shard: each of eight counted (and cleared) every entry.
#[test]
fn a_sync_cache_over_the_sync_flavour_counts_its_namespace_once() {
    let server = RedisServer::start();
    let (bridge, redis) = on_a_bridge(&server);
    let cache = SyncCacheBuilder::new()
        .identifier("whole-namespace")
        .shards(8)
        .serializer(Stamped::new(Postcard))
        .build_with_backend::<u64, u64, _>(|| SyncRedisBackend::new(redis.clone(), bridge.clone()));
    assert_eq!(
        cache.shard_count(),
        8,
        "the shards stay, for concurrent callers"
    );
    for k in 0..32 {
        cache.insert(k, k).unwrap();
    }
    // Hits on shards past the first (all 32 keys on it: 1 time in 2^96).
    for k in 0..32 {
        assert_eq!(cache.get(&k).unwrap(), Some(k));
    }
    let info = cache.info();
    assert_eq!((info.current_size, info.hits), (32, 32));
    cache.clear().unwrap();
    let info = cache.info();
    assert_eq!(
        (info.current_size, info.hits, info.lifetime.hits),
        (0, 0, 32)
    );
    assert_eq!(cache.get(&2).unwrap(), None);
}
