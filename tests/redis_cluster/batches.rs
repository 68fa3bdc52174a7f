//! Batched lookups on a cluster: split by slot, each caller's own answer, and a large
//! `get_many` sharing the batches fairly with single lookups.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::cluster_routing::Slot;

use super::common;
use super::common::lookups::store_keys;
use super::common::redis_cluster::{RedisCluster, client, wait_for};
use super::common::redis_server::command_calls;
use super::{cache, each_gets_its_own_value, name};

pub(crate) async fn cross_nodes_and_each_caller_gets_its_own_value(
    cluster: &RedisCluster,
    seeds: &[String],
) {
    let cache = Arc::new(cache(seeds, "batch"));
    let slots: std::collections::HashSet<Slot> =
        (0..100).map(|k| Slot::for_key(name("batch", k))).collect();
    assert!(slots.len() > 90, "the keys span many slots");
    store_keys(&cache, 100, |k| k * 2).await;
    let keys: Vec<u64> = (0..110).collect();
    let values = cache.get_many(&keys).await.unwrap();
    let expected: Vec<Option<u64>> = (0..110).map(|k| (k < 100).then_some(k * 2)).collect();
    assert_eq!(values, expected);
    // Concurrent lookups gather into MGETs, split by slot.
    let before = mgets(cluster);
    each_gets_its_own_value(&cache, 0..100, |k| k * 2).await;
    let after = mgets(cluster);
    assert!(
        after > before,
        "the concurrent lookups were not batched into MGETs"
    );
}

/// `MGET`s the primaries have served.
fn mgets(cluster: &RedisCluster) -> u64 {
    cluster
        .primaries()
        .iter()
        .map(|(port, _)| {
            let mut raw = common::redis_cluster::client(*port).unwrap();
            command_calls(&mut raw).get("mget").copied().unwrap_or(0)
        })
        .sum()
}

/// A `get_many` of thousands of keys queues them for the batches (at most 32 keys per
/// `MGET` on a cluster, one `MGET` at a time): a single lookup that arrives behind them
/// still goes in the next batch, not after all of theirs.
pub(crate) async fn a_large_get_many_does_not_hold_up_single_lookups(seeds: &[String]) {
    const MANY: u64 = 4_000;
    const SINGLES: u64 = 8;
    let cache = cache(seeds, "fair");
    store_keys(&cache, MANY, |k| k + 7).await;
    let keys: Vec<u64> = (0..MANY).collect();
    let started = Instant::now();
    let many = async {
        let values = cache.get_many(&keys).await.unwrap();
        (values, started.elapsed())
    };
    // Polled after `many`, whose first poll queues all its keys.
    let singles = async {
        let mut slowest = Duration::ZERO;
        for k in 0..SINGLES {
            tokio::task::yield_now().await;
            let asked = Instant::now();
            assert_eq!(cache.get(&(k * 97)).await.unwrap(), Some(k * 97 + 7));
            slowest = slowest.max(asked.elapsed());
        }
        (slowest, started.elapsed())
    };
    let ((values, many_took), (slowest, singles_took)) = tokio::join!(many, singles);
    assert!(values.iter().zip(0..).all(|(v, k)| *v == Some(k + 7)));
    println!(
        "get_many of {MANY}: {many_took:?}; single lookups: slowest {slowest:?}, all {singles_took:?}"
    );
    // 125 `MGET`s for the many; a single waits for at most the one in flight and its own.
    assert!(
        slowest < many_took / 8 && singles_took < many_took / 2,
        "single lookups took up to {slowest:?} ({singles_took:?} for all {SINGLES}) \
         beside a get_many of {MANY} keys that took {many_took:?}"
    );
}

/// A primary running a long script answers every other command `BUSY`, an error redis-rs
/// hands back as a value. Lookups batched across slots then fail for that node's keys
/// only: the other nodes' keys still hit, no value is wrong, and all hit once the script
/// is killed.
pub(crate) async fn a_busy_node_fails_only_its_own_keys(cluster: &RedisCluster, seeds: &[String]) {
    const KEYS: u64 = 300;
    let cache = Arc::new(cache(seeds, "busy"));
    store_keys(&cache, KEYS, |k| k + 11).await;
    let (busy, _) = cluster.primaries()[0];
    let on_busy: Vec<bool> = (0..KEYS)
        .map(|k| cluster.serves(busy, &name("busy", k)))
        .collect();
    // Ends the script and the low threshold however this part ends, so that a failure
    // here does not leave the node busy for the parts after it.
    let busy_node = BusyNode::start(busy);
    wait_for(Duration::from_secs(5), "the node to answer BUSY", || {
        let ping = redis::cmd("PING").exec(&mut client(busy).unwrap());
        ping.is_err_and(|e| e.code() == Some("BUSY"))
    });
    let lookups: Vec<_> = (0..KEYS)
        .map(|k| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { (k, cache.get(&k).await) })
        })
        .collect();
    let (mut hits, mut failed_elsewhere) = (0, Vec::new());
    for lookup in lookups {
        let (k, found) = lookup.await.unwrap();
        match found {
            Ok(Some(value)) => {
                assert_eq!(value, k + 11, "key {k}");
                hits += 1;
            }
            _ if on_busy[k as usize] => {}
            other => failed_elsewhere.push((k, other.map_err(|e| e.to_string()))),
        }
    }
    drop(busy_node);
    let elsewhere = on_busy.iter().filter(|on| !**on).count();
    println!(
        "a busy node: {hits} hits of {elsewhere} keys elsewhere, {} failed there",
        failed_elsewhere.len()
    );
    assert!(
        failed_elsewhere.is_empty(),
        "keys on healthy nodes failed: {failed_elsewhere:?}"
    );
    each_gets_its_own_value(&cache, 0..KEYS, |k| k + 11).await;
}

/// A primary running a script that never ends, with a short `busy-reply-threshold`, so
/// that it answers `BUSY` at once; the script is killed and the threshold restored when
/// dropped.
struct BusyNode {
    port: u16,
    script: Option<std::thread::JoinHandle<()>>,
}

impl BusyNode {
    fn start(port: u16) -> Self {
        set_busy_threshold(port, "10");
        // On a thread of its own: the call returns when the script is killed.
        let script = std::thread::spawn(move || {
            let mut raw = client(port).unwrap();
            let _killed = redis::cmd("EVAL")
                .arg("while true do end")
                .arg(0)
                .exec(&mut raw);
        });
        BusyNode {
            port,
            script: Some(script),
        }
    }
}

impl Drop for BusyNode {
    fn drop(&mut self) {
        // Killed until its thread ends (a kill before the script began misses it), for
        // at most 5 s: then the thread is left, rather than a join that may hang.
        if let Some(script) = self.script.take() {
            let started = std::time::Instant::now();
            while !script.is_finished() && started.elapsed() < Duration::from_secs(5) {
                if let Some(mut raw) = client(self.port) {
                    let _ = redis::cmd("SCRIPT").arg("KILL").exec(&mut raw);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        set_busy_threshold(self.port, "5000");
    }
}

fn set_busy_threshold(port: u16, ms: &str) {
    if let Some(mut raw) = client(port) {
        let _ = redis::cmd("CONFIG")
            .arg("SET")
            .arg("busy-reply-threshold")
            .arg(ms)
            .exec(&mut raw);
    }
}
