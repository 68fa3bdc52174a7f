//! The lease on a Redis Cluster: a write by another process while a holder computes
//! keeps the holder's older value out, as on one server; while a slot moves, the claim's
//! commands touch one key each, so a migration redirects them (ASK) rather than refusing
//! them (TRYAGAIN), and a leased miss takes the lease at once instead of spending its
//! timeout and pausing the backend.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use common::fencing::writes_keep_a_holders_older_value_out;
use common::redis_cluster::RedisCluster;
use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::key::PersistentDigest;
use jwm_cache::{AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, RedisBackend, RedisOptions};
use redis::Commands;

const TIMEOUT: Duration = Duration::from_millis(250);

fn name(n: u64) -> String {
    format!(
        "jwm-cache:leased-migrating:{}",
        n.persistent_digest().unwrap()
    )
}

/// The single server's test (`tests/redis/fencing.rs`) on a cluster, where a write
/// revokes the lease with a command of its own before it writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_another_process_computes_keeps_its_older_value_out() {
    let cluster = RedisCluster::start();
    let mut raw = cluster.client();
    let process = || {
        let options = RedisOptions::default().timeout(Duration::from_secs(2));
        let backend = RedisBackend::open_cluster_with(&cluster.urls(), options).unwrap();
        let cache = AsyncCacheBuilder::new()
            .identifier("fenced")
            .serializer(Stamped::new(Postcard))
            .ttl(Duration::from_secs(60))
            .lease(Duration::from_secs(30))
            .build_with_backend(backend);
        Arc::new(cache)
    };
    let leased = |key: u64| {
        let name = format!(
            "{{jwm-cache:fenced:{}}}:lease",
            key.persistent_digest().unwrap()
        );
        raw.exists::<_, bool>(name).unwrap()
    };
    writes_keep_a_holders_older_value_out(process, leased).await;
}

/// A leased miss in a slot whose migration has begun, with none of its keys moved: the
/// source has neither the value nor the lease, and answers ASK; the target, importing,
/// refused a script over both keys (TRYAGAIN), which redis-rs retried past the timeout.
/// The claim takes the lease at once. The store under the lease is such a script: it
/// fails alone within the call's timeout, the value not stored until the move ends
/// (see `SET_HELD`), and pauses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_miss_in_a_slot_being_migrated_takes_the_lease_without_a_pause() {
    let cluster = RedisCluster::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let options = RedisOptions::default().timeout(TIMEOUT);
    let memo = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { n * 3 }
    })
    .identifier("leased-migrating")
    .lease(Duration::from_secs(30))
    .build_with_redis(RedisBackend::open_cluster_with(&cluster.urls(), options).unwrap());
    let (key, other) = (1, 2);
    let slot = cluster.slot_of(&name(key));
    assert_ne!(cluster.slot_of(&name(other)), slot);
    assert_eq!(memo.call(other).await, 6);
    // A key of the slot, so that its owner can be found; the entry's own names stay
    // missing on both nodes.
    let tag = format!("{{{}}}:owner", name(key));
    let _: () = redis::cmd("SET")
        .arg(&tag)
        .arg(1)
        .query(&mut cluster.client())
        .unwrap();
    let owner = cluster.owner_of(slot);
    let target = cluster.other_primary(owner);
    cluster.open_migration(slot, owner, target);
    let before = memo.cache_counters();
    let began = Instant::now();
    assert_eq!(memo.call(key).await, 3);
    let took = began.elapsed();
    // The lookup and the store share one timeout, which the store spends; the lease
    // is given back without waiting.
    assert!(took < TIMEOUT * 7 / 4, "took {took:?}");
    // Not paused: the other key is still a hit; only the fenced store failed.
    assert_eq!(memo.call(other).await, 6);
    let after = memo.cache_counters();
    assert_eq!(after.errors - before.errors, 1, "errors");
    assert_eq!(after.hits - before.hits, 1, "hits");
    assert_eq!(runs.load(SeqCst), 2);
    // The lease went to the target (ASK); the move ends there, and the key is computed
    // and stored again, then found.
    cluster.migrate_keys(slot, owner, target, 10);
    cluster.close_migration(slot, target);
    assert_eq!(memo.call(key).await, 3);
    assert_eq!(memo.call(key).await, 3);
    assert_eq!(runs.load(SeqCst), 3, "stored after the move");
}
