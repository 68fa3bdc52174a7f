//! The Redis backend against raw redis-rs and `cached`'s `AsyncRedisCache`, all on one
//! `redis-server` that this benchmark starts on a free loopback port.
//!
//! `cargo bench -p jwm-cache-benches --bench redis` (needs `redis-server` on PATH)

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cached::IOCachedAsync;
use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncMemoized, RedisBackend,
    codec::{Postcard, Stamped},
};
use redis::aio::ConnectionManager;
use redis_server::RedisServer;
use tokio::runtime::Runtime;

const KEYS: u64 = 1_000;
const TASKS: usize = 64;
const CALLS_PER_TASK: u64 = 200;

async fn square(n: u64) -> u64 {
    n * n
}

type BoxedSquare = fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>>;
type RedisMemo =
    AsyncMemoized<BoxedSquare, AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>>;

struct Contenders {
    memo: Arc<RedisMemo>,
    raw: ConnectionManager,
    raw_names: Arc<Vec<String>>,
    cached: Arc<cached::AsyncRedisCache<u64, u64>>,
}

fn boxed_square(n: u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(square(n))
}

fn contenders(rt: &Runtime, server: &RedisServer) -> Contenders {
    let url = server.url(0);
    rt.block_on(async {
        let backend = RedisBackend::open(&url).unwrap();
        let memo = AsyncMemoized::builder(boxed_square as BoxedSquare)
            .identifier("bench")
            .ttl(Duration::from_secs(600))
            .serializer(Stamped::new(Postcard))
            .build_with_backend(backend);
        for n in 0..KEYS {
            memo.call(n).await;
        }
        let raw = ConnectionManager::new(redis::Client::open(url.as_str()).unwrap())
            .await
            .unwrap();
        // The raw GETs read the very keys the memoized function stored.
        let raw_names: Vec<String> = (0..KEYS)
            .map(|n| {
                format!(
                    "jwm-cache:bench:{}",
                    jwm_cache::key::PersistentDigest::persistent_digest(&n).unwrap()
                )
            })
            .collect();
        let cached = cached::AsyncRedisCache::new("cached-bench:", Duration::from_secs(600))
            .set_connection_string(&url)
            .build()
            .await
            .unwrap();
        for n in 0..KEYS {
            cached.cache_set(n, n * n).await.unwrap();
        }
        Contenders {
            memo: Arc::new(memo),
            raw,
            raw_names: Arc::new(raw_names),
            cached: Arc::new(cached),
        }
    })
}

fn hit_latency(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let all = contenders(&rt, &server);
    let mut group = c.benchmark_group("redis_hit_latency");
    let mut k = 0;
    let mut next = move || {
        k = (k + 7) % KEYS;
        k
    };
    group.bench_function("raw redis-rs GET (ConnectionManager)", |b| {
        b.to_async(&rt).iter(|| {
            let mut raw = all.raw.clone();
            let name = &all.raw_names[next() as usize];
            async move {
                let bytes: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(name)
                    .query_async(&mut raw)
                    .await
                    .unwrap();
                black_box(bytes)
            }
        })
    });
    group.bench_function("jwm-cache AsyncMemoized::call over RedisBackend", |b| {
        b.to_async(&rt).iter(|| black_box(all.memo.call(next())))
    });
    group.bench_function("cached AsyncRedisCache::cache_get", |b| {
        b.to_async(&rt).iter(|| {
            let k = next();
            let cached = &all.cached;
            async move { black_box(cached.cache_get(&k).await.unwrap()) }
        })
    });
    group.finish();
}

/// Mean time per call with TASKS tasks calling at once on a 2-worker runtime.
fn throughput(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let all = contenders(&rt, &server);
    let mut group = c.benchmark_group("redis_throughput_64_tasks");
    group.throughput(criterion::Throughput::Elements(
        TASKS as u64 * CALLS_PER_TASK,
    ));
    group.bench_function("raw redis-rs GET (ConnectionManager)", |b| {
        b.iter_custom(|rounds| {
            let (raw, names) = (all.raw.clone(), Arc::clone(&all.raw_names));
            run_tasks(&rt, rounds, move |t, i| {
                let (mut raw, names) = (raw.clone(), Arc::clone(&names));
                async move {
                    let name = &names[((t * 31 + i) % KEYS) as usize];
                    let bytes: Option<Vec<u8>> = redis::cmd("GET")
                        .arg(name)
                        .query_async(&mut raw)
                        .await
                        .unwrap();
                    black_box(bytes);
                }
            })
        })
    });
    group.bench_function("jwm-cache AsyncMemoized::call over RedisBackend", |b| {
        b.iter_custom(|rounds| {
            let memo = Arc::clone(&all.memo);
            run_tasks(&rt, rounds, move |t, i| {
                let memo = Arc::clone(&memo);
                async move {
                    black_box(memo.call((t * 31 + i) % KEYS).await);
                }
            })
        })
    });
    group.bench_function("cached AsyncRedisCache::cache_get", |b| {
        b.iter_custom(|rounds| {
            let cached = Arc::clone(&all.cached);
            run_tasks(&rt, rounds, move |t, i| {
                let cached = Arc::clone(&cached);
                async move {
                    black_box(cached.cache_get(&((t * 31 + i) % KEYS)).await.unwrap());
                }
            })
        })
    });
    group.finish();
}

/// Runs `rounds` rounds of TASKS tasks each making CALLS_PER_TASK calls; the time taken.
fn run_tasks<F>(
    rt: &Runtime,
    rounds: u64,
    call: impl Fn(u64, u64) -> F + Send + Sync + Clone + 'static,
) -> Duration
where
    F: Future<Output = ()> + Send + 'static,
{
    let started = Instant::now();
    for _ in 0..rounds {
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|t| {
                    let call = call.clone();
                    tokio::spawn(async move {
                        for i in 0..CALLS_PER_TASK {
                            call(t, i).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    }
    started.elapsed()
}

fn get_many(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
        AsyncCacheBuilder::new()
            .identifier("many")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&server.url(0)).unwrap());
    let keys: Vec<u64> = (0..100).collect();
    rt.block_on(async {
        for &k in &keys {
            cache.insert(k, k).await.unwrap();
        }
    });
    let mut group = c.benchmark_group("redis_100_keys");
    group.bench_function("jwm-cache AsyncCache::get_many (one MGET)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(cache.get_many(&keys).await.unwrap()) })
    });
    group.bench_function("jwm-cache AsyncCache::get x 100", |b| {
        b.to_async(&rt).iter(|| async {
            for k in &keys {
                black_box(cache.get(k).await.unwrap());
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = hit_latency, throughput, get_many
}
criterion_main!(benches);
