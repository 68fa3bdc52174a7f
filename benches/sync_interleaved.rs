//! Thread-safe hits, interleaved round by round in one process so machine noise hits
//! every contender alike: what the thread-safe wrapper costs over the core engine, next
//! to quick_cache::sync. Prints, per contender, the median time per hit over the rounds
//! and the median of each round's ratio to quick_cache.
//!
//! `cargo bench -p jwm-cache-benches --bench sync_interleaved`
//!
//! Environment:
//! - `JWM_BENCH_ENTRIES` (100000): 100k entries reach past the L2 cache, where the
//!   physical pages a build's allocations land on move every contender's time; 1k
//!   stay in L1/L2 and measure instructions and locks.
//! - `JWM_BENCH_THREADS` (1): each hit loop is split over this many threads, and the
//!   time is wall time per hit (so on 2 threads perfect scaling halves it). Contenders
//!   that are not thread-safe are left out above 1.
//! - `JWM_BENCH_SHARDS` (8) and `JWM_BENCH_MORE_SHARDS` (64): the shard counts of two
//!   `SyncCache` rows beside the default's.
//! - `JWM_BENCH_PAD_KB` (0): memory taken and touched before the caches are built, so
//!   they land on other physical pages; compare medians over several pads.
use jwm_cache::{CacheBuilder, ManualClock, SyncCacheBuilder, time::CoarseClock};
use std::hint::black_box;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// Rounds of every contender, interleaved.
const ROUNDS: usize = 31;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Nanoseconds of wall time per hit, `hit` run over every key, split over `threads`.
fn time(threads: usize, keys: &[u64], hit: &(impl Fn(u64) + Sync)) -> f64 {
    let started = Instant::now();
    if threads == 1 {
        for &k in keys {
            hit(k);
        }
    } else {
        let share = keys.len().div_ceil(threads);
        thread::scope(|scope| {
            for part in keys.chunks(share) {
                scope.spawn(move || part.iter().for_each(|&k| hit(k)));
            }
        });
    }
    started.elapsed().as_nanos() as f64 / keys.len() as f64
}

fn main() {
    let n = setting("JWM_BENCH_ENTRIES", 100_000) as u64;
    let threads = setting("JWM_BENCH_THREADS", 1).max(1);
    let pad = vec![1u8; setting("JWM_BENCH_PAD_KB", 0) * 1024];
    black_box(&pad);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let keys: Vec<u64> = (0..400_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        })
        .collect();
    let ttl = Duration::from_secs(3600);
    let sync = |shards: Option<usize>| {
        let builder = SyncCacheBuilder::new().ttl(ttl).clock(CoarseClock);
        let builder = match shards {
            Some(count) => builder.shards(count),
            None => builder,
        };
        builder.build::<u64, u64>()
    };
    let default_shards = sync(None);
    let one_shard = sync(Some(1));
    let fewer = setting("JWM_BENCH_SHARDS", 8);
    let more = setting("JWM_BENCH_MORE_SHARDS", 64);
    let fewer_shards = sync(Some(fewer));
    let more_shards = sync(Some(more));
    let manual = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(ManualClock::new())
        .build::<u64, u64>();
    let quick = quick_cache::sync::Cache::new(n as usize);
    let mut local = CacheBuilder::new(CoarseClock).ttl(ttl).build::<u64, u64>();
    let mut locked = CacheBuilder::new(CoarseClock).ttl(ttl).build::<u64, u64>();
    for k in 0..n {
        default_shards.insert(k, k).unwrap();
        one_shard.insert(k, k).unwrap();
        fewer_shards.insert(k, k).unwrap();
        more_shards.insert(k, k).unwrap();
        manual.insert(k, k).unwrap();
        quick.insert(k, k);
        local.insert(k, k).unwrap();
        locked.insert(k, k).unwrap();
    }
    let locked = Mutex::new(locked);
    // As built: the builder rounds a count to a power of two.
    let fewer_name = format!("SyncCache coarse, {} shards", fewer_shards.shard_count());
    let more_name = format!("SyncCache coarse, {} shards", more_shards.shard_count());
    let names = [
        "quick_cache::sync",
        "SyncCache coarse, default shards",
        &fewer_name,
        &more_name,
        "SyncCache coarse, 1 shard",
        "SyncCache manual clock",
        "Mutex<Cache> coarse",
        "Cache coarse, no lock (1 thread)",
    ];
    let mut rounds = vec![vec![]; names.len()];
    for _ in 0..ROUNDS {
        rounds[0].push(time(threads, &keys, &|k| {
            black_box(quick.get(&k));
        }));
        rounds[1].push(time(threads, &keys, &|k| {
            black_box(default_shards.get(&k).unwrap());
        }));
        rounds[2].push(time(threads, &keys, &|k| {
            black_box(fewer_shards.get(&k).unwrap());
        }));
        rounds[3].push(time(threads, &keys, &|k| {
            black_box(more_shards.get(&k).unwrap());
        }));
        rounds[4].push(time(threads, &keys, &|k| {
            black_box(one_shard.get(&k).unwrap());
        }));
        rounds[5].push(time(threads, &keys, &|k| {
            black_box(manual.get(&k).unwrap());
        }));
        rounds[6].push(time(threads, &keys, &|k| {
            black_box(locked.lock().unwrap().get(&k).unwrap());
        }));
        if threads == 1 {
            let started = Instant::now();
            for &k in &keys {
                black_box(local.get(&k).unwrap());
            }
            rounds[7].push(started.elapsed().as_nanos() as f64 / keys.len() as f64);
        }
    }
    println!(
        "{n} entries, {threads} thread(s), {ROUNDS} rounds; ratios are each round's time over quick_cache's"
    );
    let quick_rounds = rounds[0].clone();
    for (name, mut times) in names.iter().zip(rounds) {
        if times.is_empty() {
            continue;
        }
        let mut ratios: Vec<f64> = times
            .iter()
            .zip(&quick_rounds)
            .map(|(a, b)| a / b)
            .collect();
        times.sort_by(f64::total_cmp);
        ratios.sort_by(f64::total_cmp);
        println!(
            "{name:<34} median {:>6.1} ns   ratio {:.2}",
            times[times.len() / 2],
            ratios[ratios.len() / 2]
        );
    }
}
