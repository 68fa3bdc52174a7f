//! Single-threaded hits on 100k entries, interleaved round by round in one process so
//! machine noise hits every contender alike: what the thread-safe wrapper costs over
//! the core engine, next to quick_cache::sync. Prints medians over 15 rounds.
//!
//! `cargo bench -p jwm-cache-benches --bench sync_interleaved`
use jwm_cache::{CacheBuilder, ManualClock, SyncCacheBuilder, time::CoarseClock};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    let n = 100_000u64;
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
    let ours = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let ours_manual = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(ManualClock::new())
        .build::<u64, u64>();
    let ours1 = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .shards(1)
        .build::<u64, u64>();
    let mut local = CacheBuilder::new(CoarseClock).ttl(ttl).build::<u64, u64>();
    let quick = quick_cache::sync::Cache::new(n as usize);
    let mut locked_inner = CacheBuilder::new(CoarseClock).ttl(ttl).build::<u64, u64>();
    for k in 0..n {
        locked_inner.insert(k, k).unwrap();
    }
    let locked = std::sync::Mutex::new(locked_inner);
    for k in 0..n {
        ours.insert(k, k).unwrap();
        ours_manual.insert(k, k).unwrap();
        ours1.insert(k, k).unwrap();
        local.insert(k, k).unwrap();
        quick.insert(k, k);
    }
    let mut res = vec![vec![]; 6];
    for _ in 0..15 {
        let t = Instant::now();
        for &k in &keys {
            black_box(ours.get(&k).unwrap());
        }
        res[0].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
        let t = Instant::now();
        for &k in &keys {
            black_box(ours_manual.get(&k).unwrap());
        }
        res[1].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
        let t = Instant::now();
        for &k in &keys {
            black_box(ours1.get(&k).unwrap());
        }
        res[2].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
        let t = Instant::now();
        for &k in &keys {
            black_box(local.get(&k).unwrap());
        }
        res[3].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
        let t = Instant::now();
        for &k in &keys {
            black_box(quick.get(&k));
        }
        res[4].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
        let t = Instant::now();
        for &k in &keys {
            black_box(locked.lock().unwrap().get(&k).unwrap());
        }
        res[5].push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
    }
    for (name, mut v) in [
        "sync coarse 64 shards",
        "sync manual",
        "sync coarse 1 shard",
        "local Cache coarse",
        "quick sync",
        "Mutex<Cache> (CoarseClock)",
    ]
    .iter()
    .zip(res)
    {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("{name:<24} median {:>6.1} ns", v[v.len() / 2]);
    }
}
