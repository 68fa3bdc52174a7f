//! On a cluster, `set_many` travels on a connection of its own: one of its stores that
//! timed out must not be overtaken by a later store of its key on the lookups'
//! connection, and put the older value back. The primary holding the key is frozen
//! (SIGSTOP) while a value too large for the sockets' buffers ends unanswered; thawed,
//! it reads that value in pieces over many rounds of its event loop, and runs in the
//! first round whatever was sent meanwhile on another connection.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::lookups::{RedisCache as Cache, succeeds_within};
use common::redis_cluster::{RedisCluster, client};
use common::redis_server::command_calls;
use jwm_cache::codec::{Postcard, Serializer, Stamped, StampedBytes};
use jwm_cache::error::RedisBackendError;
use jwm_cache::key::PersistentDigest;
use jwm_cache::time::Instant;
use jwm_cache::{AsyncCacheBuilder, RedisBackend, RedisOptions, Ttl};

/// Larger than loopback sockets buffer.
const HUGE: usize = 32 << 20;

/// `SET`s the node on `port` has run.
fn sets(port: u16) -> u64 {
    let calls = command_calls(&mut client(port).expect("a primary"));
    calls.get("set").copied().unwrap_or(0)
}

/// The entries of a `set_many` of `key` to `value`.
fn entries(key: u64, value: Vec<u8>) -> Vec<(u64, StampedBytes<u64>)> {
    let bytes = Stamped::<_, u64>::new(Postcard).encode(&value).unwrap();
    vec![(key, StampedBytes::from_stored(bytes.into_bytes()))]
}

/// `set_many` of `entries`.
async fn set_many(
    cache: &Cache<Vec<u8>>,
    entries: Vec<(u64, StampedBytes<u64>)>,
) -> Result<(), RedisBackendError> {
    let now = Instant::ZERO;
    let deadline = Ttl::from_secs(60).deadline_from(now);
    cache.backend().set_many(entries, deadline, now).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_many_in_transit_does_not_overwrite_a_later_store() {
    let cluster = RedisCluster::start();
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(300))
        .max_value_bytes(2 * HUGE);
    let backend = RedisBackend::open_cluster_with(&cluster.urls(), options).unwrap();
    let cache: Arc<Cache<Vec<u8>>> = Arc::new(
        AsyncCacheBuilder::new()
            .identifier("late")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(backend),
    );
    // Both connections made before the freeze.
    set_many(&cache, entries(100, vec![1])).await.unwrap();
    cache.insert(100, vec![1]).await.unwrap();
    // The primary that holds key 1: the others answer a `GET` of it MOVED.
    let name = format!("jwm-cache:late:{}", 1u64.persistent_digest().unwrap());
    let owner = cluster
        .primaries()
        .into_iter()
        .map(|(port, _)| port)
        .find(|&port| {
            let got: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GET")
                .arg(&name)
                .query(&mut client(port).expect("a primary"));
            got.is_ok()
        })
        .expect("the key's primary");
    let landed = sets(owner) + 2;
    // Encoded first: the node stays frozen well under the cluster's 1 s node timeout.
    let huge = entries(1, vec![7; HUGE]);
    cluster.signal(owner, "-STOP");
    let frozen = std::time::Instant::now();
    let first = set_many(&cache, huge).await;
    let storing = Arc::clone(&cache);
    let later = tokio::spawn(async move { storing.insert(1, vec![2]).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    cluster.signal(owner, "-CONT");
    let froze = frozen.elapsed();
    assert!(
        froze < Duration::from_millis(800),
        "frozen {froze:?}: a failover may start"
    );
    assert!(
        matches!(first, Err(RedisBackendError::Timeout(_))),
        "the set_many was answered: {first:?}"
    );
    let stored = later.await.unwrap();
    if stored.is_err() {
        // It gave up waiting: once the first has landed, a store goes through.
        let retried = succeeds_within(200, || cache.insert(1, vec![2])).await;
        assert!(retried, "no store succeeded after the first landed");
    }
    // Both have run, however long the first took to land.
    let mut polls = 0;
    while sets(owner) < landed {
        polls += 1;
        assert!(polls < 400, "the stores never landed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = cache.get(&1).await.unwrap();
    assert!(
        got.as_deref() == Some(&[2][..]),
        "the set_many in transit overwrote a later store: {:?} bytes ({stored:?})",
        got.map(|value| value.len())
    );
}
