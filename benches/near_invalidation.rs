//! The near tier's invalidations, on one `redis-server` this benchmark starts on a free
//! loopback port:
//! - the invalidation delay: from another connection's `SET` returning to the copy's
//!   retirement here, p50 and p99;
//! - what BCAST tracking costs writers: stores/s from 64 tasks with ten tracking
//!   connections on the namespace against none, in interleaved rounds.
//!
//! `cargo bench -p jwm-cache-benches --bench near_invalidation` (needs `redis-server`)

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;
mod rounds;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{AsyncCache, AsyncCacheBuilder, NearBackend, RedisBackend};
use redis_server::RedisServer;
use rounds::{ROUNDS, TASKS, median, run_tasks};
use tokio::runtime::Runtime;

/// From another connection's `SET` returning to this process's copy being retired
/// (the first lookup that is no near hit), over `SAMPLES` writes.
fn invalidation_delay(rt: &Runtime, server: &RedisServer) {
    const SAMPLES: u64 = 1_000;
    let url = server.url(0);
    let delays = rt.block_on(async {
        let reader: AsyncCache<u64, u64, NearBackend<u64, u64>> = AsyncCacheBuilder::new()
            .identifier("near-delay")
            .ttl(Duration::from_secs(600))
            .build_with_backend(NearBackend::new(RedisBackend::open(&url).unwrap(), 1_000));
        let writer: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
            AsyncCacheBuilder::new()
                .identifier("near-delay")
                .ttl(Duration::from_secs(600))
                .serializer(Stamped::new(Postcard))
                .build_with_backend(RedisBackend::open(&url).unwrap());
        let mut delays = Vec::new();
        for version in 0..SAMPLES {
            writer.insert(1, version).await.unwrap();
            // Until the copy of this version serves.
            loop {
                let near_hits = reader.counters().near_hits;
                let found = reader.get(&1).await.unwrap();
                if found == Some(version) && reader.counters().near_hits > near_hits {
                    break;
                }
            }
            writer.insert(1, version + SAMPLES).await.unwrap();
            let written = Instant::now();
            loop {
                let near_hits = reader.counters().near_hits;
                let looked = Instant::now();
                let _ = reader.get(&1).await.unwrap();
                if reader.counters().near_hits == near_hits {
                    delays.push(looked.saturating_duration_since(written));
                    break;
                }
            }
        }
        delays
    });
    let mut delays = delays;
    delays.sort();
    let at = |q: usize| delays[(delays.len() - 1) * q / 100];
    println!(
        "\n## Invalidation delay, {} writes by another connection: p50 {:?}, p99 {:?}, max {:?}",
        delays.len(),
        at(50),
        at(99),
        delays[delays.len() - 1]
    );
}

/// What BCAST tracking costs writers: stores per second from 64 tasks, with no process
/// tracking the namespace and with ten near tiers (ten tracking connections) on it.
fn tracking_cost(server: &RedisServer) {
    const STORES: u64 = 100;
    const TRACKERS: usize = 10;
    let url = server.url(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let writer: Arc<AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>> = Arc::new(
        AsyncCacheBuilder::new()
            .identifier("near-tracked")
            .ttl(Duration::from_secs(600))
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&url).unwrap()),
    );
    let stores = |rt: &Runtime| {
        let writer = Arc::clone(&writer);
        run_tasks(rt, STORES, move |k| {
            let writer = Arc::clone(&writer);
            async move { writer.insert(k, k).await.unwrap() }
        })
    };
    let (mut alone, mut tracked) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        alone.push(stores(&rt));
        let trackers: Vec<AsyncCache<u64, u64, NearBackend<u64, u64>>> = (0..TRACKERS)
            .map(|_| {
                AsyncCacheBuilder::new()
                    .identifier("near-tracked")
                    .build_with_backend(NearBackend::new(RedisBackend::open(&url).unwrap(), 1_000))
            })
            .collect();
        rt.block_on(async {
            for tracker in &trackers {
                while !tracker.backend().is_tracking() {
                    let _ = tracker.get(&0).await;
                    tokio::task::yield_now().await;
                }
            }
        });
        tracked.push(stores(&rt));
        drop(trackers);
    }
    let (alone, tracked) = (median(alone), median(tracked));
    println!(
        "\n## Stores/s from {TASKS} tasks: {alone:.0} with no tracker, {tracked:.0} with {TRACKERS} \
         BCAST trackers on the namespace ({:.3}x), median of {ROUNDS} interleaved rounds",
        tracked / alone
    );
}

fn main() {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    invalidation_delay(&rt, &server);
    tracking_cost(&server);
}
