//! The near tier over a real 6-node Redis Cluster: tracking on every node, so that
//! writes anywhere retire copies, through a killed primary, a manual failover that
//! keeps the old primary up, and slots moving between primaries.

mod common;

use std::time::Duration;

use common::near::{BOUND, Reader, Writer, copied, tracking_on, until};
use common::redis_cluster::RedisCluster;
use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{AsyncCacheBuilder, NearBackend, RedisBackend, RedisOptions};

const KEYS: u64 = 60;

/// A reader whose heartbeat never compares the cluster's nodes during the test:
/// coherence through a manual failover and a resharding must come from the
/// invalidations themselves, not from a heartbeat noticing that the cluster changed
/// and dropping every copy. (Its `PING`s, which confirm the copies, still run.)
fn reader(cluster: &RedisCluster, identifier: &str) -> Reader {
    let redis = RedisBackend::open_cluster(&cluster.urls()).unwrap();
    let near = NearBackend::new(redis, 1_000).heartbeat(Duration::from_secs(3_600));
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .build_with_backend(near)
}

fn writer(cluster: &RedisCluster, identifier: &str) -> Writer {
    let options = RedisOptions::default().timeout(Duration::from_secs(1));
    let redis = RedisBackend::open_cluster_with(&cluster.urls(), options).unwrap();
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .serializer(Stamped::new(Postcard))
        .build_with_backend(redis)
}

/// Writes `value + key` to every key, and copies each into the reader.
async fn write_and_copy(writer: &Writer, reader: &Reader, value: u64) {
    for key in 0..KEYS {
        until("a write", || async {
            writer.insert(key, value + key).await.is_ok()
        })
        .await;
    }
    for key in 0..KEYS {
        assert_eq!(copied(reader, key).await, Some(value + key));
    }
}

/// Writes `value + key` to every key, then checks that the reader sees every new
/// value within the bound (after the writes, its copies are all retired).
async fn overwrite_and_check(writer: &Writer, reader: &Reader, value: u64) {
    for key in 0..KEYS {
        until("a write", || async {
            writer.insert(key, value + key).await.is_ok()
        })
        .await;
    }
    tokio::time::sleep(BOUND).await;
    for key in 0..KEYS {
        let found = reader.get(&key).await.unwrap();
        assert_eq!(found, Some(value + key), "key {key} kept a stale copy");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_stay_coherent_through_failovers_and_resharding() {
    let mut cluster = RedisCluster::start();
    let (reader, writer) = (
        reader(&cluster, "near-cluster"),
        writer(&cluster, "near-cluster"),
    );
    tracking_on(&reader, 0).await;
    write_and_copy(&writer, &reader, 1_000).await;
    overwrite_and_check(&writer, &reader, 2_000).await;

    // A manual failover: a replica takes over, its old primary stays up as a replica.
    write_and_copy(&writer, &reader, 3_000).await;
    let primaries = cluster.primaries();
    let replica = cluster.replica_of(primaries[0].0);
    cluster.failover_to(replica);
    assert!(
        reader.backend().is_tracking(),
        "the same nodes are still up"
    );
    overwrite_and_check(&writer, &reader, 4_000).await;

    // Slots move from one primary to another while copies are held.
    write_and_copy(&writer, &reader, 5_000).await;
    let primaries = cluster.primaries();
    cluster.reshard(primaries[1].0, primaries[2].0, 3_000);
    overwrite_and_check(&writer, &reader, 6_000).await;

    // A killed primary: its tracking connection is lost, so tracking goes dark and
    // every copy is dropped; once the replica is promoted and a session tracks the
    // nodes that are up, copies serve again, and stay coherent.
    write_and_copy(&writer, &reader, 7_000).await;
    let victim = cluster.primaries()[0].0;
    cluster.kill(victim);
    until("tracking to go dark", || async {
        !reader.backend().is_tracking()
    })
    .await;
    cluster.wait_until_settled();
    until("tracking back after the failover", || async {
        let _ = reader.get(&0).await;
        reader.backend().is_tracking()
    })
    .await;
    write_and_copy(&writer, &reader, 8_000).await;
    overwrite_and_check(&writer, &reader, 9_000).await;
}
