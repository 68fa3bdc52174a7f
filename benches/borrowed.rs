//! Hits on `String` keys looked up by `&str`, interleaved round by round in one process
//! so machine noise hits every contender alike: what a borrowed lookup saves over
//! building the owned key per call, next to moka, quick_cache, cached and a raw
//! hashbrown map; and a `#[ttl_cache]` function taking `&str` next to `cached`'s.
//! Prints medians over 15 rounds, and each median's ratio to raw hashbrown.
//!
//! `cargo bench -p jwm-cache-benches --bench borrowed`

use std::hint::black_box;
use std::time::{Duration, Instant};

use cached::Cached;
use cached::proc_macro::cached;
use jwm_cache::time::CoarseClock;
use jwm_cache::{SyncCacheBuilder, ttl_cache};

const ENTRIES: usize = 100_000;
const LOOKUPS: usize = 400_000;
const ROUNDS: usize = 15;

#[ttl_cache(ttl = "1h")]
fn name_length(name: &str) -> usize {
    name.len()
}

#[cached(time = 3600, key = "String", convert = r#"{ name.to_string() }"#)]
fn cached_name_length(name: &str) -> usize {
    name.len()
}

/// Nanoseconds per lookup of `run` over `keys`.
fn timed(keys: &[&str], mut run: impl FnMut(&str)) -> f64 {
    let start = Instant::now();
    for key in keys {
        run(key);
    }
    start.elapsed().as_nanos() as f64 / keys.len() as f64
}

fn main() {
    let names: Vec<String> = (0..ENTRIES).map(|i| format!("user:{i:08}")).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let keys: Vec<&str> = (0..LOOKUPS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            names[(x % ENTRIES as u64) as usize].as_str()
        })
        .collect();
    let ttl = Duration::from_secs(3600);

    let ours = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .build::<String, u64>();
    let moka: moka::sync::Cache<String, u64> =
        moka::sync::Cache::builder().time_to_live(ttl).build();
    let quick = quick_cache::sync::Cache::<String, u64>::new(ENTRIES);
    let mut timed_cache = cached::TimedCache::<String, u64>::with_lifespan(ttl);
    let mut raw = hashbrown::HashMap::<String, u64>::new();
    for (i, name) in names.iter().enumerate() {
        let value = i as u64;
        ours.insert(name.clone(), value).unwrap();
        moka.insert(name.clone(), value);
        quick.insert(name.clone(), value);
        timed_cache.cache_set(name.clone(), value);
        raw.insert(name.clone(), value);
        name_length(name);
        cached_name_length(name);
    }

    let contenders = [
        "raw hashbrown get(&str)",
        "jwm-cache SharedCache get(&str)",
        "jwm-cache SharedCache get(&key.to_string())",
        "moka sync get(&str)",
        "quick_cache sync get(&str)",
        "cached TimedCache cache_get(&str)",
        "jwm-cache #[ttl_cache] fn(&str) hit",
        "cached #[cached] fn(&str) hit",
    ];
    let mut medians = vec![Vec::with_capacity(ROUNDS); contenders.len()];
    for _ in 0..ROUNDS {
        medians[0].push(timed(&keys, |k| {
            black_box(raw.get(k));
        }));
        medians[1].push(timed(&keys, |k| {
            black_box(ours.get(k).unwrap());
        }));
        medians[2].push(timed(&keys, |k| {
            black_box(ours.get(&k.to_string()).unwrap());
        }));
        medians[3].push(timed(&keys, |k| {
            black_box(moka.get(k));
        }));
        medians[4].push(timed(&keys, |k| {
            black_box(quick.get(k));
        }));
        medians[5].push(timed(&keys, |k| {
            black_box(timed_cache.cache_get(k).copied());
        }));
        medians[6].push(timed(&keys, |k| {
            black_box(name_length(k));
        }));
        medians[7].push(timed(&keys, |k| {
            black_box(cached_name_length(k));
        }));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let medians: Vec<f64> = medians.into_iter().map(median).collect();
    println!("| contender | median ns/lookup | ratio to raw hashbrown |");
    println!("|---|---:|---:|");
    for (name, m) in contenders.iter().zip(&medians) {
        println!("| {name} | {m:.1} | {:.2} |", m / medians[0]);
    }
}
