//! Faults cost a memoized call at most one timeout on the backend, whatever they are: a
//! stalled server, a value too large to store in time, a server down at start.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, free_port};
use jwm_cache::{AsyncCacheControls, AsyncMemoized, RedisBackend, RedisOptions};
use redis::Commands;

const TIMEOUT: Duration = Duration::from_millis(200);

/// The bound on a call whose function is instant: the timeout plus 10%.
fn bound() -> Duration {
    TIMEOUT + TIMEOUT / 10
}

fn backend(url: &str) -> RedisBackend<u64> {
    RedisBackend::open_with(url, RedisOptions::default().timeout(TIMEOUT)).unwrap()
}

/// How `tasks` tasks calling at once fared: the slowest call, and how many calls but
/// each task's first waited on the server (took half the timeout or more).
struct Fared {
    slowest: Duration,
    waited_after_first: usize,
}

/// How `tasks` tasks calling a memoized function over keys 0..50 for `run` fared, with
/// the backend's pause after a failure on or off.
async fn slowest_call(tasks: usize, url: &str, run: Duration, pause: bool) -> Fared {
    let mut options = RedisOptions::default().timeout(TIMEOUT);
    if !pause {
        options = options.pause_after_failure(Duration::ZERO);
    }
    let memo = Arc::new(
        AsyncMemoized::builder(|n: u64| async move { n * 3 })
            .identifier(format!("stalled-{tasks}-{pause}"))
            .build_with_redis(RedisBackend::open_with(url, options).unwrap()),
    );
    for n in 0..25 {
        memo.call(n).await; // half the keys warm: hits, misses and stores all happen
    }
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks as u64 {
        let memo = memo.clone();
        set.spawn(async move {
            let (began, mut slowest, mut n) = (Instant::now(), Duration::ZERO, task);
            let mut waited = 0;
            while began.elapsed() < run {
                let call = Instant::now();
                assert_eq!(memo.call(n % 50).await, (n % 50) * 3);
                let took = call.elapsed();
                slowest = slowest.max(took);
                waited += usize::from(took >= TIMEOUT / 2 && n != task);
                n += 7;
                // A millisecond between calls: 64 tasks failing at once in a loop with
                // nothing else to do would only measure the scheduler's queue.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            (slowest, waited)
        });
    }
    let fared = set.join_all().await;
    Fared {
        slowest: fared.iter().map(|&(slowest, _)| slowest).max().unwrap(),
        waited_after_first: fared.iter().map(|&(_, waited)| waited).sum(),
    }
}

/// A stalled server, with the pause after a failure on (the default) and off: the pause
/// spares most calls the wait, but the bound must hold without it.
async fn stalled(tasks: usize) {
    let server = RedisServer::start();
    let url = server.url(0);
    for pause in [true, false] {
        let before = slowest_call(tasks, &url, Duration::from_millis(200), pause).await;
        assert!(before.slowest < bound(), "healthy: {:?}", before.slowest);
        server.freeze();
        let frozen = slowest_call(tasks, &url, Duration::from_millis(1500), pause).await;
        server.thaw();
        let (slowest, waited) = (frozen.slowest, frozen.waited_after_first);
        assert!(
            slowest <= bound(),
            "{tasks} tasks, pause {pause}, stalled server: slowest call {slowest:?}, bound {:?}",
            bound()
        );
        eprintln!(
            "stalled server, {tasks} tasks, pause {pause}: slowest call {slowest:?}, \
             {waited} later calls waited"
        );
        // Once the first calls failed, no call waits on the server: a probe in the
        // background tries it after each pause. A few are let through for the
        // scheduler's delays.
        if pause {
            assert!(waited <= 4, "{tasks} tasks: {waited} later calls waited");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_costs_one_task_at_most_one_timeout_per_call() {
    stalled(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_costs_64_tasks_at_most_one_timeout_per_call() {
    stalled(64).await;
}

/// Stores alone, with nothing looked up: the first that the stalled server fails
/// pauses the backend, and the others fail at once instead of each waiting it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_alone_against_a_stalled_server_wait_once() {
    let server = RedisServer::start();
    let cache: jwm_cache::RedisCache<u64, u64> = jwm_cache::AsyncCacheBuilder::new()
        .identifier("stores-alone")
        .serializer(jwm_cache::codec::Stamped::new(jwm_cache::codec::Postcard))
        .build_with_backend(backend(&server.url(0)));
    cache.insert(0, 0).await.unwrap();
    server.freeze();
    let mut waited = 0;
    for n in 1..=20 {
        let began = Instant::now();
        assert!(cache.insert(n, n).await.is_err(), "the server is stalled");
        waited += usize::from(began.elapsed() >= TIMEOUT / 2);
    }
    server.thaw();
    assert_eq!(waited, 1, "only the first store waited");
}

/// Each call on a runtime of its own, which ends with the call: the pause after a
/// failure still ends once the server is back (its probe runs on the process-wide
/// bridge; on the caller's runtime it died with it, and every call failed for good).
#[test]
fn a_runtime_per_call_sees_the_pause_end() {
    let server = RedisServer::start();
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(100))
        .pause_after_failure(Duration::from_millis(200));
    let cache: Arc<jwm_cache::RedisCache<u64, u64>> = Arc::new(
        jwm_cache::AsyncCacheBuilder::new()
            .identifier("runtime-per-call")
            .serializer(jwm_cache::codec::Stamped::new(jwm_cache::codec::Postcard))
            .build_with_backend(RedisBackend::open_with(&server.url(0), options).unwrap()),
    );
    let call = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(cache.get(&1))
    };
    assert!(matches!(call(), Ok(None)));
    server.freeze();
    assert!(call().is_err(), "the stalled server failed the call");
    server.thaw();
    let began = Instant::now();
    while call().is_err() {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the pause never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_at_start_costs_the_first_call_at_most_one_timeout() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    // Shorter than the connection manager's retry delay, which must not outlast it.
    let timeout = Duration::from_millis(60);
    let options = RedisOptions::default().timeout(timeout);
    let memo = AsyncMemoized::builder(|n: u64| async move { n + 1 })
        .build_with_redis(RedisBackend::open_with(&url, options).unwrap());
    for n in 0..5 {
        let began = Instant::now();
        assert_eq!(memo.call(n).await, n + 1);
        let took = began.elapsed();
        // 1.4 timeouts: room for a loaded machine, and still short of the manager's
        // retry delay (100 ms) that a call waiting on it would add.
        assert!(took <= timeout * 7 / 5, "call {n} took {took:?}");
        eprintln!("server down, call {n}: {took:?}");
    }
    assert!(memo.cache_info().await.errors >= 1);
}

/// A value of `mib` MiB, which takes a while to store.
fn large(mib: usize) -> impl Fn(u64) -> std::future::Ready<Vec<u8>> + Send + Sync {
    move |n| std::future::ready(vec![n as u8; mib << 20])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_or_refused_value_fails_alone_and_pauses_nobody() {
    let server = RedisServer::start();
    // The smallest the server allows: a value over it drops the connection it came on.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("proto-max-bulk-len")
        .arg(1 << 20)
        .query(&mut server.client(0))
        .unwrap();
    let shared = RedisBackend::<u64>::open_with(
        &server.url(0),
        RedisOptions::default()
            .timeout(TIMEOUT)
            .max_value_bytes(1 << 30),
    )
    .unwrap();
    let small = Arc::new(
        AsyncMemoized::builder(|n: u64| async move { n * 2 })
            .identifier("small")
            .build_with_redis(shared.clone()),
    );
    let big = AsyncMemoized::builder(large(64))
        .identifier("big")
        .build_with_redis(shared.clone());
    for n in 0..20 {
        small.call(n).await;
    }
    let lookups = {
        let small = small.clone();
        tokio::spawn(async move {
            let (began, mut slowest, mut n) = (Instant::now(), Duration::ZERO, 0u64);
            while began.elapsed() < Duration::from_secs(4) {
                let call = Instant::now();
                assert_eq!(small.call(n % 20).await, (n % 20) * 2);
                slowest = slowest.max(call.elapsed());
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            slowest
        })
    };
    // 64 MiB over the server's 1 MiB limit: refused, on its own connection.
    for n in 0..3 {
        let value = big.call(n).await;
        assert_eq!(value.len(), 64 << 20);
    }
    assert!(
        big.cache_info().await.errors >= 3,
        "each large store failed"
    );
    let mut raw = server.client(0);
    let stored: Vec<String> = raw.keys("jwm-cache:big:*").unwrap();
    assert!(stored.is_empty(), "{stored:?}");
    // Accepted again, but slow: 64 MiB against the rest of a 200 ms budget.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("proto-max-bulk-len")
        .arg(512 << 20)
        .query(&mut raw)
        .unwrap();
    let encoding = Instant::now();
    let codec = jwm_cache::codec::Stamped::<_, u64>::new(jwm_cache::codec::Postcard);
    let _ = jwm_cache::codec::Serializer::encode(&codec, &vec![7u8; 64 << 20]);
    let encoding = encoding.elapsed();
    for n in 3..6 {
        let began = Instant::now();
        assert_eq!(big.call(n).await.len(), 64 << 20);
        eprintln!(
            "large value {n}: call took {:?}, of which encoding about {encoding:?}",
            began.elapsed()
        );
    }
    let slowest_small = lookups.await.unwrap();
    let small_info = small.cache_info().await;
    assert_eq!(small_info.errors, 0, "the large values paused nobody");
    assert!(
        slowest_small <= bound(),
        "a small call took {slowest_small:?}"
    );
    eprintln!("large values: slowest small call {slowest_small:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_slower_than_the_timeout_is_still_stored() {
    let server = RedisServer::start();
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    // The budget is the backend's time, not the function's: 300 ms of computing
    // against a 200 ms timeout leaves the store its share.
    let slow = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            n * 5
        }
    })
    .identifier("slow")
    .build_with_redis(backend(&server.url(0)));
    assert_eq!(slow.call(2).await, 10);
    assert_eq!(slow.call(2).await, 10);
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second call hit"
    );
    assert_eq!(slow.cache_info().await.errors, 0);
}
