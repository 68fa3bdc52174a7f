//! The near tier against its peers, on one `redis-server` this benchmark starts on a
//! free loopback port, in interleaved rounds (every contender once per round, medians
//! over the rounds):
//! - a hit: the near tier's copy, an in-memory memoized hit (same clock), a plain Redis
//!   hit, and redis-rs's `cache-aio` client-side cache hit; sync and async;
//! - throughput of 64 tasks over a hot set of 1,000 keys that fits in the near tier.
//!
//! `--bench near_invalidation` measures the invalidation delay and what tracking costs
//! writers.
//!
//! `cargo bench -p jwm-cache-benches --bench near` (needs `redis-server` on PATH)
//!
//! `cached` has no client-side cache for Redis (its `AsyncRedisCache` reads the server
//! on every hit), so it is not among the near contenders; `--bench redis` compares it.

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;
mod rounds;

use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jwm_cache::codec::{Identity, Postcard, Stamped};
use jwm_cache::{
    AsyncCache, AsyncMemoized, BlockingCache, Bridge, CacheControls, Memoized, NearBackend,
    NearRedisCache, RedisBackend, SyncCache, backend::Sharded, memory::MemoryBackend,
};
use redis::aio::MultiplexedConnection;
use redis_server::RedisServer;
use tokio::runtime::Runtime;

use rounds::{KEYS, ROUNDS, TASKS, median, run_tasks};

type Boxed = Pin<Box<dyn Future<Output = u64> + Send>>;
type AsyncSquare = fn(u64) -> Boxed;
type SyncSquare = fn(u64) -> u64;

fn async_square(n: u64) -> Boxed {
    Box::pin(async move { n * n })
}

fn sync_square(n: u64) -> u64 {
    n * n
}

type NearMemo = AsyncMemoized<
    AsyncSquare,
    NearRedisCache<u64, u64, Stamped<Postcard, u64>, jwm_cache::SystemClock>,
>;
type MemoryMemo =
    AsyncMemoized<AsyncSquare, AsyncCache<u64, u64, Sharded<MemoryBackend<u64, u64>>>>;
type RedisMemo =
    AsyncMemoized<AsyncSquare, AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>>;
type SyncNearMemo = Memoized<
    SyncSquare,
    BlockingCache<u64, u64, NearBackend<u64, u64>, Identity, jwm_cache::SystemClock>,
>;
type SyncMemoryMemo = Memoized<SyncSquare, SyncCache<u64, u64, MemoryBackend<u64, u64>>>;

struct Contenders {
    near: Arc<NearMemo>,
    memory: Arc<MemoryMemo>,
    redis: Arc<RedisMemo>,
    sync_near: SyncNearMemo,
    sync_memory: SyncMemoryMemo,
    /// redis-rs's client-side cache, over RESP3.
    aio: MultiplexedConnection,
    names: Arc<Vec<String>>,
}

fn contenders(rt: &Runtime, server: &RedisServer) -> Contenders {
    let url = server.url(0);
    let bridge = Bridge::shared().unwrap();
    let sync_redis = bridge.run({
        let url = url.clone();
        async move { RedisBackend::open(&url) }
    });
    let sync_near = Memoized::builder(sync_square as SyncSquare)
        .identifier("near-bench-sync")
        .ttl(Duration::from_secs(600))
        .build_with_near_redis(bridge, sync_redis.unwrap().unwrap(), 10_000);
    let sync_memory = Memoized::builder(sync_square as SyncSquare)
        .ttl(Duration::from_secs(600))
        .build();
    for n in 0..KEYS {
        sync_memory.call(n);
    }
    // The copies fill once tracking is on.
    while CacheControls::cache_info(&sync_near).near_hits < KEYS {
        for n in 0..KEYS {
            sync_near.call(n);
        }
    }
    rt.block_on(async {
        let near = AsyncMemoized::builder(async_square as AsyncSquare)
            .identifier("near-bench")
            .ttl(Duration::from_secs(600))
            .build_with_near_redis(RedisBackend::open(&url).unwrap(), 10_000);
        let memory = AsyncMemoized::builder(async_square as AsyncSquare)
            .ttl(Duration::from_secs(600))
            .build();
        let redis = AsyncMemoized::builder(async_square as AsyncSquare)
            .identifier("near-bench")
            .ttl(Duration::from_secs(600))
            .build_with_redis(RedisBackend::open(&url).unwrap());
        for n in 0..KEYS {
            memory.call(n).await;
            redis.call(n).await;
        }
        while near.cache().counters().near_hits < KEYS {
            for n in 0..KEYS {
                near.call(n).await;
            }
        }
        let resp3 = redis::Client::open(format!("{url}?protocol=resp3")).unwrap();
        let config = redis::AsyncConnectionConfig::new()
            .set_cache_config(redis::caching::CacheConfig::new());
        let mut aio = resp3
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap();
        let names: Vec<String> = (0..KEYS)
            .map(|n| {
                format!(
                    "jwm-cache:near-bench:{}",
                    jwm_cache::key::PersistentDigest::persistent_digest(&n).unwrap()
                )
            })
            .collect();
        for name in &names {
            let _: Option<Vec<u8>> = redis::cmd("GET")
                .arg(name)
                .query_async(&mut aio)
                .await
                .unwrap();
        }
        Contenders {
            near: Arc::new(near),
            memory: Arc::new(memory),
            redis: Arc::new(redis),
            sync_near,
            sync_memory,
            aio,
            names: Arc::new(names),
        }
    })
}

/// Nanoseconds per call of `calls` calls of `f`.
fn per_call(calls: u64, mut f: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..calls {
        f(i % KEYS);
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

/// One hit of each contender, interleaved: ns per call, medians of `ROUNDS`.
fn hits(rt: &Runtime, all: &Contenders) {
    const N: u64 = 200_000;
    const REMOTE: u64 = 2_000;
    let names = [
        "async near hit",
        "async in-memory hit",
        "sync near hit",
        "sync in-memory hit",
        "redis-rs cache-aio hit",
        "plain Redis hit (async)",
    ];
    let mut samples = vec![Vec::new(); names.len()];
    for _ in 0..ROUNDS {
        samples[0].push(rt.block_on(async {
            let start = Instant::now();
            for i in 0..N {
                black_box(all.near.call(i % KEYS).await);
            }
            start.elapsed().as_nanos() as f64 / N as f64
        }));
        samples[1].push(rt.block_on(async {
            let start = Instant::now();
            for i in 0..N {
                black_box(all.memory.call(i % KEYS).await);
            }
            start.elapsed().as_nanos() as f64 / N as f64
        }));
        samples[2].push(per_call(N, |k| {
            black_box(all.sync_near.call(k));
        }));
        samples[3].push(per_call(N, |k| {
            black_box(all.sync_memory.call(k));
        }));
        samples[4].push(rt.block_on(async {
            let mut aio = all.aio.clone();
            let start = Instant::now();
            for i in 0..N {
                let name = &all.names[(i % KEYS) as usize];
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(name)
                    .query_async(&mut aio)
                    .await
                    .unwrap();
                black_box(bytes);
            }
            start.elapsed().as_nanos() as f64 / N as f64
        }));
        samples[5].push(rt.block_on(async {
            let start = Instant::now();
            for i in 0..REMOTE {
                black_box(all.redis.call(i % KEYS).await);
            }
            start.elapsed().as_nanos() as f64 / REMOTE as f64
        }));
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("\n## A hit: ns per call, median of {ROUNDS} interleaved rounds\n");
    println!("| contender | ns | vs async near hit |");
    println!("|---|---:|---:|");
    for (name, ns) in names.iter().zip(&medians) {
        println!("| {name} | {ns:.1} | {:.2}x |", ns / medians[0]);
    }
    println!(
        "\nnear / in-memory: async {:.2}x, sync {:.2}x; plain Redis / near: {:.0}x",
        medians[0] / medians[1],
        medians[2] / medians[3],
        medians[5] / medians[0]
    );
}

/// 64 tasks on a 2-worker runtime calling over the hot set: calls per second.
fn throughput(all: &Contenders) {
    const CALLS: u64 = 20_000;
    const REMOTE_CALLS: u64 = 200;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let names = ["near", "in-memory", "redis-rs cache-aio", "plain Redis"];
    let mut samples = vec![Vec::new(); names.len()];
    for _ in 0..ROUNDS {
        let near = Arc::clone(&all.near);
        samples[0].push(run_tasks(&rt, CALLS, move |k| {
            let near = Arc::clone(&near);
            async move {
                black_box(near.call(k).await);
            }
        }));
        let memory = Arc::clone(&all.memory);
        samples[1].push(run_tasks(&rt, CALLS, move |k| {
            let memory = Arc::clone(&memory);
            async move {
                black_box(memory.call(k).await);
            }
        }));
        let (aio, names) = (all.aio.clone(), Arc::clone(&all.names));
        samples[2].push(run_tasks(&rt, CALLS, move |k| {
            let (mut aio, names) = (aio.clone(), Arc::clone(&names));
            async move {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(&names[k as usize])
                    .query_async(&mut aio)
                    .await
                    .unwrap();
                black_box(bytes);
            }
        }));
        let redis = Arc::clone(&all.redis);
        samples[3].push(run_tasks(&rt, REMOTE_CALLS, move |k| {
            let redis = Arc::clone(&redis);
            async move {
                black_box(redis.call(k).await);
            }
        }));
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!(
        "\n## {TASKS} tasks on 2 workers over {KEYS} hot keys: calls/s, median of {ROUNDS} rounds\n"
    );
    println!("| contender | calls/s | vs near |");
    println!("|---|---:|---:|");
    for (name, rate) in names.iter().zip(&medians) {
        println!("| {name} | {:.0} | {:.3}x |", rate, rate / medians[0]);
    }
}

fn main() {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let all = contenders(&rt, &server);
    // `NEAR_PROFILE=async|sync`: only that near hit, for a profiler.
    if let Ok(which) = std::env::var("NEAR_PROFILE") {
        for _ in 0..50 {
            if which == "sync" {
                per_call(200_000, |k| {
                    black_box(all.sync_near.call(k));
                });
            } else {
                rt.block_on(async {
                    for i in 0..200_000 {
                        black_box(all.near.call(i % KEYS).await);
                    }
                });
            }
        }
        return;
    }
    hits(&rt, &all);
    throughput(&all);
}
