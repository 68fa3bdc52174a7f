//! The Redis backend over a 6-node Redis Cluster (3 primaries, 3 replicas) against raw
//! redis-rs and against one server, all started by this benchmark on loopback, in
//! interleaved rounds (every contender once per round, medians over the rounds):
//! - a hit, one call at a time: a memoized call over the cluster against a raw
//!   redis-rs cluster `GET` of the same key, and the same pair on one server;
//! - throughput of 64 tasks over 1,000 warmed keys: the cluster, one server, and
//!   cached's `AsyncRedisCache` on that server;
//! - the server's own ceiling: `redis-benchmark -c 64 -P 16 -t get` on the single
//!   server, in the same run.
//!
//! `cargo bench -p jwm-cache-benches --bench cluster` (needs `redis-server`,
//! `redis-cli` and `redis-benchmark` on PATH)

#[path = "../tests/common/redis_cluster.rs"]
mod redis_cluster;
#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;
mod rounds;

use std::hint::black_box;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cached::IOCachedAsync;
use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::key::PersistentDigest;
use jwm_cache::{AsyncCache, AsyncMemoized, RedisBackend};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis_cluster::RedisCluster;
use redis_server::RedisServer;
use tokio::runtime::Runtime;

use rounds::{KEYS, ROUNDS, median, run_tasks};

type Boxed = Pin<Box<dyn Future<Output = u64> + Send>>;
type Square = fn(u64) -> Boxed;
type Memo = AsyncMemoized<Square, AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>>;

fn square(n: u64) -> Boxed {
    Box::pin(async move { n * n })
}

/// A memoized function named `identifier`: each contender its own, since memoized
/// functions in one process share a cache by identifier.
fn memo(identifier: &str, backend: RedisBackend<u64>) -> Arc<Memo> {
    Arc::new(
        AsyncMemoized::builder(square as Square)
            .identifier(identifier)
            .ttl(Duration::from_secs(3_600))
            .build_with_redis(backend),
    )
}

/// The key names the memoized function `identifier` stores.
fn names(identifier: &str) -> Arc<Vec<String>> {
    let name = |n: u64| format!("jwm-cache:{identifier}:{}", n.persistent_digest().unwrap());
    Arc::new((0..KEYS).map(name).collect())
}

/// Mean nanoseconds per call of `calls` calls in a row.
fn latency<F, Fut>(rt: &Runtime, calls: u64, call: F) -> f64
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..calls {
            call((i * 7) % KEYS).await;
        }
        start.elapsed().as_nanos() as f64 / calls as f64
    })
}

/// A raw `GET` of `name` on `connection`.
async fn raw_get(mut connection: impl ConnectionLike, name: &str) {
    let bytes: Option<Vec<u8>> = redis::cmd("GET")
        .arg(name)
        .query_async(&mut connection)
        .await
        .unwrap();
    black_box(bytes);
}

/// `redis-benchmark -c 64 -P 16 -t get` on `port`: GETs per second.
fn pipelined_ceiling(port: u16) -> f64 {
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-c", "64", "-P", "16", "-t", "get"])
        .args(["-n", "2000000", "-q"])
        .output()
        .expect("redis-benchmark on PATH");
    let text = String::from_utf8_lossy(&out.stdout);
    // "GET: 1234567.00 requests per second, p50=..." after carriage-return progress.
    text.rsplit('\r')
        .chain(text.lines())
        .find_map(|part| {
            let rest = part.trim().strip_prefix("GET: ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(f64::NAN)
}

/// Every contender, warmed: memoized functions on the cluster and on one server, raw
/// connections made on each runtime, and cached's client on the server.
struct Contenders {
    one: Runtime,
    two: Runtime,
    on_cluster: Arc<Memo>,
    on_server: Arc<Memo>,
    /// Raw connections of the current-thread runtime (cluster, server).
    raw_one: (ClusterConnection, ConnectionManager),
    /// Raw connections of the 2-worker runtime (cluster, server).
    raw_two: (ClusterConnection, ConnectionManager),
    cached: Arc<cached::AsyncRedisCache<u64, u64>>,
    cluster_names: Arc<Vec<String>>,
    server_names: Arc<Vec<String>>,
}

fn contenders(seeds: &[String], url: &str) -> Contenders {
    let one = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let two = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let on_cluster = memo("on-cluster", RedisBackend::open_cluster(seeds).unwrap());
    let on_server = memo("on-server", RedisBackend::open(url).unwrap());
    // Raw connections of each runtime, made on it, as the memoized functions' are.
    let raw = |rt: &Runtime| {
        rt.block_on(async {
            let cluster = redis::cluster::ClusterClient::new(seeds.to_vec())
                .unwrap()
                .get_async_connection()
                .await
                .unwrap();
            let server = redis::Client::open(url)
                .unwrap()
                .get_connection_manager()
                .await
                .unwrap();
            (cluster, server)
        })
    };
    let (raw_one, raw_two) = (raw(&one), raw(&two));
    let cached = two.block_on(async {
        for n in 0..KEYS {
            on_cluster.call(n).await;
            on_server.call(n).await;
        }
        let cached = cached::AsyncRedisCache::new("cached-bench:", Duration::from_secs(3_600))
            .set_connection_string(url)
            .build()
            .await
            .unwrap();
        for n in 0..KEYS {
            cached.cache_set(n, n * n).await.unwrap();
        }
        Arc::new(cached)
    });
    Contenders {
        one,
        two,
        on_cluster,
        on_server,
        raw_one,
        raw_two,
        cached,
        cluster_names: names("on-cluster"),
        server_names: names("on-server"),
    }
}

fn main() {
    let cluster = RedisCluster::start();
    let server = RedisServer::start();
    let all = contenders(&cluster.urls(), &server.url(0));
    // `PROFILE=server|cluster`: only that memoized function's throughput, for a profiler.
    if let Ok(which) = std::env::var("PROFILE") {
        let memo = if which == "cluster" {
            &all.on_cluster
        } else {
            &all.on_server
        };
        for _ in 0..40 {
            let rate = memoized_rate(&all.two, memo, 2_000);
            println!("{which}: {:.0} k calls/s", rate / 1e3);
        }
        return;
    }
    // `THROUGHPUT=1`: only the 64-task throughput table, for quick comparisons.
    let throughput_only = std::env::var_os("THROUGHPUT").is_some();
    if !throughput_only {
        hits(&all);
    }
    throughput(&all, server.port);
    if throughput_only {
        return;
    }
    drop((all, cluster, server));
    scaling();
}

/// `memo`'s calls per second from 64 tasks making `per_task` calls each.
fn memoized_rate(rt: &Runtime, memo: &Arc<Memo>, per_task: u64) -> f64 {
    let memo = Arc::clone(memo);
    run_tasks(rt, per_task, move |n| {
        let memo = Arc::clone(&memo);
        async move {
            black_box(memo.call(n).await);
        }
    })
}

/// Hits one at a time, on a current-thread runtime; every contender once per round.
fn hits(all: &Contenders) {
    let calls = 2_000;
    let mut hits: [Vec<f64>; 4] = Default::default();
    let (cluster_memo, server_memo) = (&all.on_cluster, &all.on_server);
    let (cluster_names, server_names) = (&all.cluster_names, &all.server_names);
    for _ in 0..ROUNDS {
        hits[0].push(latency(&all.one, calls, |n| async move {
            black_box(cluster_memo.call(n).await);
        }));
        hits[1].push(latency(&all.one, calls, |n| {
            raw_get(all.raw_one.0.clone(), &cluster_names[n as usize])
        }));
        hits[2].push(latency(&all.one, calls, |n| async move {
            black_box(server_memo.call(n).await);
        }));
        hits[3].push(latency(&all.one, calls, |n| {
            raw_get(all.raw_one.1.clone(), &server_names[n as usize])
        }));
    }
    let [cluster_hit, raw_cluster_hit, server_hit, raw_server_hit] = hits.map(median);
    println!("A hit, one call at a time (median of {ROUNDS} rounds of {calls} calls)");
    println!("| contender | µs | ÷ raw GET on the same |");
    println!("|---|---:|---:|");
    let row = |name: &str, ns: f64, raw: f64| {
        println!("| {name} | {:.1} | {:.2} |", ns / 1e3, ns / raw);
    };
    row("AsyncMemoized::call, cluster", cluster_hit, raw_cluster_hit);
    row("raw redis-rs cluster GET", raw_cluster_hit, raw_cluster_hit);
    row(
        "AsyncMemoized::call, one server",
        server_hit,
        raw_server_hit,
    );
    row(
        "raw redis-rs GET (ConnectionManager)",
        raw_server_hit,
        raw_server_hit,
    );
}

/// 64 tasks at once on 2 workers, every contender once per round; then the server's
/// pipelined ceiling.
fn throughput(all: &Contenders, port: u16) {
    let per_task = 400;
    let two = &all.two;
    let mut rates: [Vec<f64>; 5] = Default::default();
    for _ in 0..ROUNDS {
        rates[0].push(memoized_rate(two, &all.on_cluster, per_task));
        let (raw, names_) = (all.raw_two.0.clone(), Arc::clone(&all.cluster_names));
        rates[1].push(run_tasks(two, per_task, move |n| {
            let (raw, names) = (raw.clone(), Arc::clone(&names_));
            async move { raw_get(raw, &names[n as usize]).await }
        }));
        rates[2].push(memoized_rate(two, &all.on_server, per_task));
        let (raw, names_) = (all.raw_two.1.clone(), Arc::clone(&all.server_names));
        rates[3].push(run_tasks(two, per_task, move |n| {
            let (raw, names) = (raw.clone(), Arc::clone(&names_));
            async move { raw_get(raw, &names[n as usize]).await }
        }));
        let cached = Arc::clone(&all.cached);
        rates[4].push(run_tasks(two, per_task, move |n| {
            let cached = Arc::clone(&cached);
            async move {
                black_box(cached.cache_get(&n).await.unwrap());
            }
        }));
    }
    let ceiling = pipelined_ceiling(port);
    let [cluster, raw_cluster, server, raw_server, cached] = rates.map(median);
    println!();
    println!("Throughput, 64 tasks over {KEYS} keys, 2 workers (median of {ROUNDS} rounds)");
    println!("| contender | calls/s | ÷ one server's memoized |");
    println!("|---|---:|---:|");
    let row = |name: &str, rate: f64| {
        println!("| {name} | {:.0} k | {:.2} |", rate / 1e3, rate / server);
    };
    row("AsyncMemoized::call, cluster", cluster);
    row("raw redis-rs cluster GET", raw_cluster);
    row("AsyncMemoized::call, one server", server);
    row("raw redis-rs GET (ConnectionManager)", raw_server);
    row("cached AsyncRedisCache::cache_get", cached);
    row("redis-benchmark -c 64 -P 16 -t get (ceiling)", ceiling);
    println!(
        "\none server's memoized calls: {:.2}x cached, {:.2} of the pipelined ceiling",
        server / cached,
        server / ceiling
    );
}

/// Throughput and memory as primaries are added: one server, then clusters of 3 and
/// 6 primaries without replicas, each holding the same 100,000 entries; all up at once,
/// in interleaved rounds.
fn scaling() {
    const ENTRIES: u64 = 100_000;
    let two = &tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = RedisServer::start();
    let clusters = [
        RedisCluster::start_with(3, 0),
        RedisCluster::start_with(6, 0),
    ];
    let server_memory = || {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query(&mut server.client(0))
            .unwrap();
        used_memory(&info)
    };
    let memory = |i: usize| match i {
        0 => server_memory(),
        _ => clusters[i - 1].used_memory(),
    };
    let memos = [
        memo("scaling-1", RedisBackend::open(&server.url(0)).unwrap()),
        memo(
            "scaling-3",
            RedisBackend::open_cluster(&clusters[0].urls()).unwrap(),
        ),
        memo(
            "scaling-6",
            RedisBackend::open_cluster(&clusters[1].urls()).unwrap(),
        ),
    ];
    let mut used = [0u64; 3];
    for (i, memo) in memos.iter().enumerate() {
        let empty = memory(i);
        two.block_on(async {
            for n in 0..ENTRIES {
                memo.call(n).await;
            }
        });
        used[i] = memory(i).saturating_sub(empty);
    }
    let mut rates: [Vec<f64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (i, memo) in memos.iter().enumerate() {
            rates[i].push(memoized_rate(two, memo, 400));
        }
    }
    println!();
    println!("Primaries: 64 tasks over {KEYS} keys, and the memory of {ENTRIES} entries");
    println!("| primaries | calls/s | used_memory, all primaries | bytes per entry |");
    println!("|---:|---:|---:|---:|");
    for (i, primaries) in [1, 3, 6].into_iter().enumerate() {
        println!(
            "| {primaries} | {:.0} k | {:.1} MiB | {:.0} |",
            median(rates[i].clone()) / 1e3,
            used[i] as f64 / (1 << 20) as f64,
            used[i] as f64 / ENTRIES as f64
        );
    }
}

fn used_memory(info: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
