//! A miss storm across processes: eight processes of sixteen tasks each call one missing
//! key of a memoized function over one `redis-server`, all at once. With a lease, with
//! local single-flight only, and with no single-flight; the ideals are 1, 8 and 128
//! computations. Each computation takes 100 ms and counts itself in Redis. Also the
//! time from the common start until the last caller has its value.
//!
//! `cargo bench -p jwm-cache-benches --bench lease_storm` (needs `redis-server` on PATH)
//!
//! The benchmark runs itself as the eight processes (`JWM_STORM_CHILD` set).

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jwm_cache::{AsyncMemoized, RedisBackend};
use redis::Commands;
use redis_server::RedisServer;

const PROCESSES: usize = 8;
const TASKS: usize = 16;
const ROUNDS: u64 = 5;
const COMPUTATION: Duration = Duration::from_millis(100);
const MODES: [&str; 3] = ["lease", "local single-flight", "no single-flight"];

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn main() {
    if let Ok(mode) = std::env::var("JWM_STORM_CHILD") {
        return child(&mode);
    }
    let server = RedisServer::start();
    let mut results: Vec<Vec<(u64, u64)>> = vec![Vec::new(); MODES.len()];
    for round in 0..ROUNDS {
        // Interleaved: each round runs every mode once.
        for (at, mode) in MODES.iter().enumerate() {
            let key = round * 10 + at as u64;
            results[at].push(storm(&server, mode, key));
        }
    }
    println!(
        "\n{PROCESSES} processes x {TASKS} tasks, one missing key, {COMPUTATION:?} per computation; medians of {ROUNDS} rounds"
    );
    println!("| mode | computations | ideal | last caller served after (ms) |");
    println!("|---|---|---|---|");
    for ((mode, rounds), ideal) in MODES
        .iter()
        .zip(&results)
        .zip([1, PROCESSES, PROCESSES * TASKS])
    {
        let median = |pick: fn(&(u64, u64)) -> u64| {
            let mut values: Vec<u64> = rounds.iter().map(pick).collect();
            values.sort_unstable();
            values[values.len() / 2]
        };
        println!(
            "| {mode} | {} | {ideal} | {} |",
            median(|r| r.0),
            median(|r| r.1)
        );
    }
}

/// One storm on `key`: the computations, and the milliseconds from the start until the
/// last of the 128 callers had its value.
fn storm(server: &RedisServer, mode: &str, key: u64) -> (u64, u64) {
    let start = wall_ms() + 500;
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .env("JWM_STORM_CHILD", mode)
                .env("JWM_STORM_URL", server.url(0))
                .env("JWM_STORM_KEY", key.to_string())
                .env("JWM_STORM_START", start.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut last = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a process of the storm failed");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let served: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("served="))
            .expect("the process's report")
            .parse()
            .unwrap();
        last = last.max(served);
    }
    let runs: u64 = server
        .client(0)
        .get(format!("storm:runs:{key}"))
        .unwrap_or(0);
    (runs, last.saturating_sub(start))
}

/// One process of a storm: sixteen tasks call the key at the common start; prints when
/// the last of them had its value (wall-clock milliseconds).
fn child(mode: &str) {
    let url = std::env::var("JWM_STORM_URL").unwrap();
    let key: u64 = std::env::var("JWM_STORM_KEY").unwrap().parse().unwrap();
    let start: u64 = std::env::var("JWM_STORM_START").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let counter = redis::Client::open(url.as_str()).unwrap();
    let compute = move |n: u64| {
        let counter = counter.clone();
        async move {
            let mut connection = counter.get_multiplexed_async_connection().await.unwrap();
            let _: u64 = redis::AsyncCommands::incr(&mut connection, format!("storm:runs:{n}"), 1)
                .await
                .unwrap();
            tokio::time::sleep(COMPUTATION).await;
            n * 2
        }
    };
    let builder = AsyncMemoized::builder(compute)
        .identifier("storm")
        .ttl(Duration::from_secs(60));
    let builder = match mode {
        "lease" => builder.lease(Duration::from_secs(2)),
        "no single-flight" => builder.single_flight(false),
        _ => builder,
    };
    let memo = rt.block_on(async { builder.build_with_redis(RedisBackend::open(&url).unwrap()) });
    let served = rt.block_on(async move {
        let wait = Duration::from_millis(start.saturating_sub(wall_ms()));
        tokio::time::sleep(wait).await;
        let calls: Vec<_> = (0..TASKS)
            .map(|_| {
                let memo = memo.clone();
                tokio::spawn(async move {
                    assert_eq!(memo.call(key).await, key * 2);
                    wall_ms()
                })
            })
            .collect();
        let mut last = 0;
        for call in calls {
            last = last.max(call.await.unwrap());
        }
        last
    });
    println!("served={served}");
}
