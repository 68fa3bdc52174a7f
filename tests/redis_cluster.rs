//! The Redis backend over a real 6-node Redis Cluster on loopback: the single-node
//! contract, batches across nodes, the lease, the sync flavour, the attribute and two
//! processes sharing. One cluster serves every part (starting one takes seconds).

#[path = "redis_cluster/batches.rs"]
mod batches;
mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::redis_cluster::RedisCluster;
use common::redis_server::run_shared_example;
use jwm_cache::backend::AsyncBackend;
use jwm_cache::backend::DEADLINE_LEN;
use jwm_cache::key::PersistentDigest;
use jwm_cache::time::Instant as CacheInstant;
use jwm_cache::{
    AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, Bridge, CacheControls, Memoized,
    RedisBackend, RedisOptions, Ttl,
    codec::{Postcard, Stamped, StampedBytes},
    error::RedisBackendError,
    ttl_cache,
};
use redis::Commands;
use redis::cluster_routing::Slot;

use common::lookups::{
    RedisCache as Cache, another_runtime, each_gets_its_own_value, fill_then_clear_the_first,
    stamped, succeeds_within,
};

/// A cache over the cluster, with a timeout that lets an unoptimized build store
/// thousands of keys in one `set_many` (one pipeline per slot).
fn cache(seeds: &[String], identifier: &str) -> Cache<u64> {
    let options = RedisOptions::default().timeout(Duration::from_secs(5));
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open_cluster_with(seeds, options).unwrap())
}

/// Stores that timed out on one runtime's connection, over every primary's slots, hold
/// up a clear on another runtime's (which does not queue behind them) until each node
/// has answered for its own; none outlives the clear. The primaries hold writes
/// (`CLIENT PAUSE … WRITE`) and let the clear's scans through.
async fn stores_in_transit_hold_up_a_clear_until_each_node_answers(
    cluster: &RedisCluster,
    seeds: &[String],
) {
    let options = RedisOptions::default().timeout(Duration::from_millis(200));
    let cache: Arc<Cache<u64>> = Arc::new(
        AsyncCacheBuilder::new()
            .identifier("transit")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open_cluster_with(seeds, options).unwrap()),
    );
    // Both runtimes' connections made before the pause.
    cache.clear().await.unwrap();
    let other = another_runtime();
    let storing = Arc::clone(&cache);
    let made = other.spawn(async move { storing.insert(1_000, 1).await });
    made.await.unwrap().unwrap();
    assert!(cache.remove(&1_000).await.unwrap());
    for (port, _) in cluster.primaries() {
        let mut node = common::redis_cluster::client(port).expect("a primary");
        let _: () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(1_000)
            .arg("WRITE")
            .query(&mut node)
            .unwrap();
    }
    let stores: Vec<_> = (0..32u64)
        .map(|key| {
            let storing = Arc::clone(&cache);
            other.spawn(async move { storing.insert(key, key).await })
        })
        .collect();
    for store in stores {
        assert!(
            store.await.unwrap().is_err(),
            "a store went through the pause"
        );
    }
    assert!(
        cache.clear().await.is_err(),
        "a clear passed stores in transit"
    );
    let cleared = succeeds_within(400, || cache.clear()).await;
    other.shutdown_background();
    assert!(cleared, "no clear succeeded after the stores landed");
    let keys: Vec<u64> = (0..32).collect();
    assert_eq!(
        cache.get_many(&keys).await.unwrap(),
        vec![None; 32],
        "a store outlived the clear"
    );
}

fn name(identifier: &str, key: u64) -> String {
    format!(
        "jwm-cache:{identifier}:{}",
        key.persistent_digest().unwrap()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_node_contract_holds_on_a_cluster() {
    let cluster = RedisCluster::start();
    let seeds = cluster.urls();
    get_set_remove_spread_over_every_primary(&cluster, &seeds).await;
    ttls_expire_on_the_server(&cluster, &seeds).await;
    clear_and_len_walk_every_primary_and_keep_to_their_namespace(&cluster, &seeds).await;
    batches::cross_nodes_and_each_caller_gets_its_own_value(&cluster, &seeds).await;
    batches::a_large_get_many_does_not_hold_up_single_lookups(&seeds).await;
    batches::a_busy_node_fails_only_its_own_keys(&cluster, &seeds).await;
    corrupt_bytes_are_a_counted_miss_and_overwritten(&cluster, &seeds).await;
    a_lease_gives_one_computation_per_key(&seeds).await;
    a_walk_never_trusts_a_slot_in_migration(&cluster, &seeds).await;
    stores_in_transit_hold_up_a_clear_until_each_node_answers(&cluster, &seeds).await;
    assert!(matches!(
        RedisBackend::<u64>::open_cluster::<&str>(&[]),
        Err(RedisBackendError::NoSeeds)
    ));
    assert!(RedisBackend::<u64>::open_cluster(&["not a url"]).is_err());
}

async fn get_set_remove_spread_over_every_primary(cluster: &RedisCluster, seeds: &[String]) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let square = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { n * n }
    })
    .identifier("squares")
    .build_with_redis(RedisBackend::open_cluster(seeds).unwrap());
    for n in 0..300 {
        assert_eq!(square.call(n).await, n * n);
    }
    for n in 0..300 {
        assert_eq!(square.call(n).await, n * n);
    }
    assert_eq!(runs.load(SeqCst), 300);
    let info = square.cache_info().await;
    assert_eq!((info.hits, info.misses, info.errors), (300, 300, 0));
    assert_eq!(info.current_size, 300);
    // The names are the single-node names: no hash tag pins the namespace to one node.
    let mut raw = cluster.client();
    let stored: Vec<u8> = raw.get(name("squares", 12)).unwrap();
    assert_eq!(stored[DEADLINE_LEN..], stamped(&144));
    for (port, _) in cluster.primaries() {
        let mut node = common::redis_cluster::client(port).unwrap();
        let there: Vec<String> = node.keys("jwm-cache:squares:*").unwrap();
        assert!(
            there.len() > 50,
            "primary {port} holds {} keys",
            there.len()
        );
    }
    let cache = cache(seeds, "squares");
    assert!(cache.remove(&12).await.unwrap());
    assert!(!raw.exists::<_, bool>(name("squares", 12)).unwrap());
    assert_eq!(cache.get(&13).await.unwrap(), Some(169));
}

async fn ttls_expire_on_the_server(cluster: &RedisCluster, seeds: &[String]) {
    let cache = cache(seeds, "ttl");
    let mut raw = cluster.client();
    cache
        .insert_with_ttl(1, 10, Duration::from_secs(1))
        .await
        .unwrap();
    let pttl: i64 = raw.pttl(name("ttl", 1)).unwrap();
    assert!(
        (1..=1_000).contains(&pttl),
        "PX set from the TTL, got {pttl}"
    );
    cache.insert_with_ttl(2, 20, Ttl::NEVER).await.unwrap();
    cache.insert_with_ttl(3, 30, Ttl::ZERO).await.unwrap();
    assert_eq!(raw.pttl::<_, i64>(name("ttl", 2)).unwrap(), -1);
    assert!(
        !raw.exists::<_, bool>(name("ttl", 3)).unwrap(),
        "zero: not stored"
    );
    // The server's own expiry, observed by bounded polling.
    let started = Instant::now();
    while cache.get(&1).await.unwrap().is_some() || raw.exists::<_, bool>(name("ttl", 1)).unwrap() {
        assert!(started.elapsed() < Duration::from_secs(5), "never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cache.get(&2).await.unwrap(), Some(20));
}

async fn clear_and_len_walk_every_primary_and_keep_to_their_namespace(
    cluster: &RedisCluster,
    seeds: &[String],
) {
    let spaces = ["ns", "ns2", "ns:x", "n*", "n?", "[ns]", "ns\\", "{ns}"];
    let caches: Vec<Cache<u64>> = spaces.iter().map(|id| cache(seeds, id)).collect();
    // 6,000 keys in `ns`: about 2,000 per primary, more than one SCAN batch on each.
    fill_then_clear_the_first(&caches, 6_000).await;
    let ours = |names: Vec<String>| {
        names
            .into_iter()
            .filter(|n| n.starts_with("jwm-cache:") && !n.contains("squares") && !n.contains("ttl"))
            .count()
    };
    assert_eq!(ours(cluster.names()), 50 * (spaces.len() - 1));
    for cache in &caches[1..] {
        assert_eq!(cache.info().await.current_size, 50);
    }
    caches[3].clear().await.unwrap(); // "n*": its glob characters are literal
    assert_eq!(caches[4].info().await.current_size, 50); // "n?" survives
    caches[7].clear().await.unwrap(); // "{ns}": a hash tag in the identifier
    assert_eq!(caches[7].info().await.current_size, 0);
    assert_eq!(ours(cluster.names()), 50 * (spaces.len() - 3));
}

async fn corrupt_bytes_are_a_counted_miss_and_overwritten(
    cluster: &RedisCluster,
    seeds: &[String],
) {
    let cache = cache(seeds, "corrupt");
    let mut raw = cluster.client();
    let _: () = raw
        .set(name("corrupt", 5), b"\xff\xff\xff not postcard".as_slice())
        .unwrap();
    let _: () = raw.set(name("corrupt", 6), b"\x01".as_slice()).unwrap();
    assert_eq!(cache.get_or_insert_with(5, || async { 55 }).await, 55);
    assert_eq!(cache.get_or_insert_with(6, || async { 66 }).await, 66);
    assert_eq!(cache.info().await.errors, 2);
    let stored: Vec<u8> = raw.get(name("corrupt", 5)).unwrap();
    assert_eq!(stored[DEADLINE_LEN..], stamped(&55));
}

async fn a_lease_gives_one_computation_per_key(seeds: &[String]) {
    let runs = Arc::new(AtomicUsize::new(0));
    // Four caches of their own (not shared by identifier, as memoized functions built
    // in one process would be) stand for four processes.
    let memos: Vec<_> = (0..4)
        .map(|_| {
            let counted = Arc::clone(&runs);
            let cache: Cache<u64> = AsyncCacheBuilder::new()
                .identifier("leased")
                .lease(Duration::from_secs(5))
                .serializer(Stamped::new(Postcard))
                .build_with_backend(RedisBackend::open_cluster(seeds).unwrap());
            let compute = move |n: u64| {
                counted.fetch_add(1, SeqCst);
                async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    n + 1
                }
            };
            Arc::new(AsyncMemoized::with_cache(compute, Arc::new(cache)))
        })
        .collect();
    // Each asks for the same key at once.
    let calls: Vec<_> = memos
        .iter()
        .map(|memo| {
            let memo = Arc::clone(memo);
            tokio::spawn(async move { memo.call(41).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 42);
    }
    assert_eq!(runs.load(SeqCst), 1, "one computation across the caches");
}

/// A slot in migration, its keys split between two primaries: `len` and `clear` report
/// `Unsettled` rather than a count they cannot vouch for, lookups follow ASK to the
/// moved keys, and once the slot has moved every key is counted once.
async fn a_walk_never_trusts_a_slot_in_migration(cluster: &RedisCluster, seeds: &[String]) {
    let cache = cache(seeds, "moving");
    // Enough keys that some slot holds several.
    let many: Vec<(u64, StampedBytes<u64>)> = (0..20_000)
        .map(|k| (k, StampedBytes::from_stored(stamped(&k))))
        .collect();
    let now = CacheInstant::ZERO;
    let backend = cache.backend();
    backend
        .set_many(many, Ttl::NEVER.deadline_from(now), now)
        .await
        .unwrap();
    let mut by_slot: std::collections::HashMap<Slot, Vec<u64>> = Default::default();
    for k in 0..20_000 {
        by_slot
            .entry(Slot::for_key(name("moving", k)))
            .or_default()
            .push(k);
    }
    let crowded = by_slot
        .values()
        .find(|keys| keys.len() >= 4)
        .expect("a crowded slot");
    let slot = cluster.slot_of(&name("moving", crowded[0]));
    let from = cluster.owner_of(slot);
    let to = cluster.other_primary(from);

    cluster.open_migration(slot, from, to);
    assert_eq!(
        cluster.migrate_keys(slot, from, to, crowded.len() / 2),
        crowded.len() / 2
    );
    assert!(matches!(
        backend.len(now).await,
        Err(RedisBackendError::Unsettled)
    ));
    for &k in crowded {
        assert_eq!(
            cache.get(&k).await.unwrap(),
            Some(k),
            "key {k} of the moving slot"
        );
    }
    cluster.migrate_keys(slot, from, to, crowded.len());
    cluster.close_migration(slot, to);
    assert_eq!(backend.len(now).await.unwrap(), 20_000);

    // A clear during another migration says it could not finish; once the slot has
    // moved, it does.
    let other = by_slot
        .values()
        .filter(|keys| keys.len() >= 4)
        .map(|keys| cluster.slot_of(&name("moving", keys[0])))
        .find(|s| *s != slot)
        .expect("another crowded slot");
    let from = cluster.owner_of(other);
    let to = cluster.other_primary(from);
    cluster.open_migration(other, from, to);
    cluster.migrate_keys(other, from, to, 2);
    assert!(matches!(
        backend.clear().await,
        Err(RedisBackendError::Unsettled)
    ));
    cluster.migrate_keys(other, from, to, 1_000);
    cluster.close_migration(other, to);
    backend.clear().await.unwrap();
    assert_eq!(backend.len(now).await.unwrap(), 0);
}

static SEEDS: OnceLock<Vec<String>> = OnceLock::new();

fn seeds() -> &'static [String] {
    SEEDS.get().map_or(&[], Vec::as_slice)
}

static CUBED: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(identifier = "cubes", backend = redis(cluster = seeds(), timeout = "1s"))]
fn cube(n: u64) -> u64 {
    CUBED.fetch_add(1, SeqCst);
    n * n * n
}

#[test]
fn the_attribute_and_the_sync_flavour_and_two_processes_share_a_cluster() {
    let cluster = RedisCluster::start();
    SEEDS.set(cluster.urls()).unwrap();
    // A sync function through the attribute.
    assert_eq!((cube(3), cube(3)), (27, 27));
    assert_eq!(CUBED.load(SeqCst), 1);
    let info = CUBE.cache_info();
    assert_eq!((info.hits, info.misses, info.errors), (1, 1, 0));

    // A sync function over the async backend, through a bridge.
    let bridge = Bridge::new().unwrap();
    let seeds = cluster.urls();
    let backend = bridge
        .run(async move { RedisBackend::<u64>::open_cluster_with(&seeds, RedisOptions::default()) })
        .unwrap()
        .unwrap();
    let memo = Memoized::builder(|n: u64| n * 5)
        .identifier("sync-over-cluster")
        .serializer(Stamped::new(Postcard))
        .build_with_async_backend(bridge, backend);
    assert_eq!((memo.call(2), memo.call(2)), (10, 10));
    assert_eq!(memo.cache_info().hits, 1);

    // Two OS processes, one identifier.
    let seeds = cluster.urls().join(",");
    let run = |identifier: &str| run_shared_example(&seeds, identifier, 10);
    assert_eq!(run("shared"), "computed=10 hits=0 misses=10 errors=0");
    assert_eq!(run("shared"), "computed=0 hits=10 misses=0 errors=0");
    assert_eq!(run("other"), "computed=10 hits=0 misses=10 errors=0");
}
