//! What the lease's fence costs one caller on loopback: a write (`insert`) and a miss
//! (`get_or_insert_with` of a fresh key), each in a cache without a lease and in one
//! with a lease, beside raw redis-rs (`SET`; `GET` then `SET`). With a lease a write is
//! one script that also revokes the key's lease, and a miss claims the lease (a
//! script), stores under it (a script) and gives it back (a script). One task, one
//! server; each round runs every mode once, starting one mode later than the last, and
//! the table gives medians of the rounds.
//!
//! `cargo bench -p jwm-cache-benches --bench fencing` (needs `redis-server` on PATH)

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

use std::time::{Duration, Instant};

use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{AsyncCacheBuilder, RedisBackend, RedisCache};
use redis::AsyncCommands;
use redis_server::RedisServer;

const ROUNDS: usize = 9;
const CALLS: u64 = 2_000;
const MODES: [&str; 6] = [
    "raw redis-rs SET",
    "insert, no lease",
    "insert, lease",
    "raw redis-rs GET, SET",
    "miss, no lease",
    "miss, lease",
];

fn cache(server: &RedisServer, identifier: &str, lease: bool) -> RedisCache<u64, u64> {
    let builder = AsyncCacheBuilder::new()
        .identifier(identifier)
        .serializer(Stamped::new(Postcard))
        .ttl(Duration::from_secs(600));
    let builder = match lease {
        true => builder.lease(Duration::from_secs(30)),
        false => builder,
    };
    builder.build_with_backend(RedisBackend::open(&server.url(0)).unwrap())
}

fn main() {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let times = runtime.block_on(async {
        let (plain, leased) = (
            cache(&server, "plain", false),
            cache(&server, "leased", true),
        );
        let client = redis::Client::open(server.url(0)).unwrap();
        let mut raw = client.get_multiplexed_async_connection().await.unwrap();
        let mut times = vec![Vec::new(); MODES.len()];
        let mut key = 0u64;
        for round in 0..ROUNDS {
            // Each round starts one mode later, so that no mode always runs first.
            for offset in 0..MODES.len() {
                let mode = (round + offset) % MODES.len();
                let spent = &mut times[mode];
                let began = Instant::now();
                for _ in 0..CALLS {
                    key += 1;
                    let name = format!("raw:{key}");
                    match mode {
                        0 => raw.set::<_, _, ()>(&name, key).await.unwrap(),
                        1 => plain.insert(key, key).await.unwrap(),
                        2 => leased.insert(key, key).await.unwrap(),
                        3 => {
                            let found: Option<u64> = raw.get(&name).await.unwrap();
                            assert!(found.is_none());
                            raw.set::<_, _, ()>(&name, key).await.unwrap();
                        }
                        4 => assert_eq!(
                            plain.get_or_insert_with(key, || async move { key }).await,
                            key
                        ),
                        _ => assert_eq!(
                            leased.get_or_insert_with(key, || async move { key }).await,
                            key
                        ),
                    }
                }
                spent.push(began.elapsed().as_secs_f64() * 1e6 / CALLS as f64);
            }
        }
        times
    });
    let median = |mode: usize| {
        let mut spent = times[mode].clone();
        spent.sort_by(f64::total_cmp);
        spent[spent.len() / 2]
    };
    println!(
        "\nOne task, {CALLS} calls per mode and round, medians of {ROUNDS} interleaved rounds"
    );
    println!("| mode | µs per call | ÷ raw redis-rs | ÷ no lease |");
    println!("|---|---:|---:|---:|");
    for (mode, name) in MODES.iter().enumerate() {
        let raw = if mode < 3 { median(0) } else { median(3) };
        let unleased = match mode {
            2 => format!("{:.2}", median(2) / median(1)),
            5 => format!("{:.2}", median(5) / median(4)),
            _ => String::new(),
        };
        println!(
            "| {name} | {:.1} | {:.2} | {unleased} |",
            median(mode),
            median(mode) / raw
        );
    }
}
