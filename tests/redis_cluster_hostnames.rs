//! A Redis Cluster that names its nodes by hostname (`cluster-preferred-endpoint-type
//! hostname`, as clusters behind TLS certificates do): redis-rs keys its connections by
//! those names, and `len` and `clear`, which walk each primary, must ask for them so; a
//! near tier tracks every node by them.

mod common;

use std::time::Duration;

use common::near::{BOUND, Reader, Writer, copied, until};
use common::redis_cluster::{RedisCluster, client, text, wait_for};
use jwm_cache::backend::AsyncBackend;
use jwm_cache::codec::{Postcard, Serializer, Stamped, StampedBytes};
use jwm_cache::time::Instant;
use jwm_cache::{AsyncCacheBuilder, NearBackend, RedisBackend, Ttl};

/// Has every node announce `localhost` and prefer it, and waits until every node's
/// `CLUSTER SLOTS` names every primary so.
fn prefer_hostnames(cluster: &RedisCluster) {
    for port in cluster.live_ports() {
        let mut raw = client(port).expect("a live node");
        for (name, value) in [
            ("cluster-announce-hostname", "localhost"),
            ("cluster-preferred-endpoint-type", "hostname"),
        ] {
            let _: () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(name)
                .arg(value)
                .query(&mut raw)
                .unwrap();
        }
    }
    wait_for(
        std::time::Duration::from_secs(30),
        "every node to name the primaries by hostname",
        || {
            cluster.live_ports().into_iter().all(|port| {
                client(port).is_some_and(|mut raw| {
                    let slots: redis::Value =
                        redis::cmd("CLUSTER").arg("SLOTS").query(&mut raw).unwrap();
                    let hosts = endpoints(&slots);
                    hosts.len() >= 3 && hosts.iter().all(|host| host == "localhost")
                })
            })
        },
    );
    // Known to everyone: `CLUSTER NODES` shows the hostname beside each address.
    cluster.wait_for_every_node("every node to know the hostnames", |raw| {
        text(raw, &["CLUSTER", "NODES"])
            .lines()
            .all(|line| line.contains(",localhost"))
    });
}

/// The endpoint `CLUSTER SLOTS` gives each range's primary (its first field).
fn endpoints(slots: &redis::Value) -> Vec<String> {
    let redis::Value::Array(ranges) = slots else {
        return Vec::new();
    };
    ranges
        .iter()
        .filter_map(|range| match range {
            redis::Value::Array(range) => match range.get(2)? {
                redis::Value::Array(primary) => match primary.first()? {
                    redis::Value::BulkString(host) => Some(String::from_utf8_lossy(host).into()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn len_and_clear_walk_a_cluster_that_names_its_nodes_by_hostname() {
    let cluster = RedisCluster::start();
    prefer_hostnames(&cluster);
    let seeds: Vec<String> = cluster
        .live_ports()
        .iter()
        .map(|port| format!("redis://localhost:{port}"))
        .collect();
    let backend = RedisBackend::<u64>::open_cluster(&seeds)
        .unwrap()
        .with_identifier("hostnames");
    let now = Instant::ZERO;
    let deadline = Ttl::NEVER.deadline_from(now);
    let codec = Stamped::<_, u64>::new(Postcard);
    for key in 0..20u64 {
        let bytes = StampedBytes::from_stored(codec.encode(&key).unwrap().into_bytes());
        backend.set(key, bytes, deadline, now).await.unwrap();
    }
    assert_eq!(backend.len(now).await.unwrap(), 20);
    backend.clear().await.unwrap();
    assert_eq!(backend.len(now).await.unwrap(), 0);

    // A near tier tracks the nodes by the names the cluster gives, and stays coherent.
    let near = NearBackend::new(RedisBackend::open_cluster(&seeds).unwrap(), 100);
    let reader: Reader = AsyncCacheBuilder::new()
        .identifier("hostnames-near")
        .ttl(Duration::from_secs(60))
        .build_with_backend(near.staleness_bound(BOUND));
    let writer: Writer = AsyncCacheBuilder::new()
        .identifier("hostnames-near")
        .ttl(Duration::from_secs(60))
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open_cluster(&seeds).unwrap());
    for key in 0..20u64 {
        until("a write", || async {
            writer.insert(key, key).await.is_ok()
        })
        .await;
        assert_eq!(copied(&reader, key).await, Some(key));
    }
    for key in 0..20u64 {
        writer.insert(key, key + 100).await.unwrap();
    }
    tokio::time::sleep(BOUND).await;
    for key in 0..20u64 {
        let found = reader.get(&key).await.unwrap();
        assert_eq!(found, Some(key + 100), "key {key} kept a stale copy");
    }
}
