//! The parts moka users rely on, side by side with moka and quick_cache: a weighted
//! capacity (inserts that evict by weight), time-to-idle on the hit path, an eviction
//! listener under churn, and how much of its budget each cache holds once full.
//!
//! `cargo bench -p jwm-cache-benches --bench parts`
//!
//! The fill table is printed before the timings: entries (or weight) held after as
//! many distinct inserts as the budget, and after four times as many.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::{SyncCacheBuilder, time::CoarseClock};

const TTL: Duration = Duration::from_secs(60);
const KEYS: u64 = 1_000;

type Blob = Arc<[u8]>;

/// 4096 blobs of 1 to 4096 bytes, in a fixed shuffled order.
fn blobs() -> Vec<Blob> {
    (0..4096u64)
        .map(|i| {
            let len = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize + 1;
            Blob::from(vec![0u8; len])
        })
        .collect()
}

#[derive(Clone)]
struct ByLen;

impl quick_cache::Weighter<u64, Blob> for ByLen {
    fn weight(&self, _: &u64, blob: &Blob) -> u64 {
        blob.len() as u64
    }
}

fn by_len(_: &u64, blob: &Blob) -> u32 {
    blob.len() as u32
}

/// Inserts of distinct keys into a full cache bounded by weight: each one evicts.
fn weighted_insert(c: &mut Criterion) {
    const BUDGET: u64 = 1 << 20;
    let blobs = blobs();
    let mut group = c.benchmark_group("weighted_insert");
    let jwm = SyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .capacity(BUDGET as usize)
        .weigher(by_len)
        .build::<u64, Blob>();
    let moka = moka::sync::Cache::builder()
        .time_to_live(TTL)
        .max_capacity(BUDGET)
        .weigher(by_len)
        .build();
    let quick = quick_cache::sync::Cache::with_weighter(512, BUDGET, ByLen);
    let mut key = 0u64;
    let mut next = move || {
        key += 1;
        (key, blobs[key as usize % blobs.len()].clone())
    };
    group.bench_function("jwm-cache SyncCache (weigher)", |b| {
        b.iter(|| {
            let (k, v) = next();
            jwm.insert(k, v).unwrap()
        })
    });
    group.bench_function("moka sync (weigher)", |b| {
        b.iter(|| {
            let (k, v) = next();
            moka.insert(k, v)
        })
    });
    group.bench_function("quick_cache sync (weighter)", |b| {
        b.iter(|| {
            let (k, v) = next();
            quick.insert(k, v)
        })
    });
    group.finish();
}

/// A hit on a cache with a time-to-idle, which each read extends.
fn idle_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("idle_hit");
    let plain = SyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let idle = SyncCacheBuilder::new()
        .ttl(TTL)
        .time_to_idle(TTL / 2)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let moka = moka::sync::Cache::builder()
        .time_to_live(TTL)
        .time_to_idle(TTL / 2)
        .build();
    for n in 0..KEYS {
        plain.insert(n, n).unwrap();
        idle.insert(n, n).unwrap();
        moka.insert(n, n);
    }
    let mut k = 0;
    let mut next = move || {
        k = (k + 7) % KEYS;
        k
    };
    group.bench_function("jwm-cache SyncCache::get (no idle, CoarseClock)", |b| {
        b.iter(|| black_box(plain.get(&next()).unwrap()))
    });
    group.bench_function(
        "jwm-cache SyncCache::get (time_to_idle, CoarseClock)",
        |b| b.iter(|| black_box(idle.get(&next()).unwrap())),
    );
    group.bench_function("moka sync get (time_to_idle)", |b| {
        b.iter(|| black_box(moka.get(&next())))
    });
    group.finish();
}

/// Inserts of distinct keys into a full cache of 10,000 whose listener counts evictions.
fn listener_churn(c: &mut Criterion) {
    const CAPACITY: u64 = 10_000;
    let mut group = c.benchmark_group("listener_churn");
    let heard = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&heard);
    let jwm = SyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .capacity(CAPACITY as usize)
        .eviction_listener(move |_: u64, _: u64, _| {
            count.fetch_add(1, Ordering::Relaxed);
        })
        .build::<u64, u64>();
    let silent = SyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .capacity(CAPACITY as usize)
        .build::<u64, u64>();
    let count = Arc::clone(&heard);
    let moka = moka::sync::Cache::builder()
        .time_to_live(TTL)
        .max_capacity(CAPACITY)
        .eviction_listener(move |_, _: u64, _| {
            count.fetch_add(1, Ordering::Relaxed);
        })
        .build();
    let mut key = 0u64;
    let mut next = move || {
        key += 1;
        key
    };
    group.bench_function("jwm-cache SyncCache (no listener)", |b| {
        b.iter(|| {
            let k = next();
            silent.insert(k, k).unwrap()
        })
    });
    group.bench_function("jwm-cache SyncCache (listener)", |b| {
        b.iter(|| {
            let k = next();
            jwm.insert(k, k).unwrap()
        })
    });
    group.bench_function("moka sync (listener)", |b| {
        b.iter(|| {
            let k = next();
            moka.insert(k, k)
        })
    });
    group.finish();
    black_box(heard.load(Ordering::Relaxed));
}

const FILL_CAPACITY: u64 = 100_000;
const FILL_WEIGHT: u64 = 64 << 20;

/// One row of the fill table: `count` and `weight` insert distinct keys `0..n` into a
/// cache bounded by count and one bounded by weight; `held` reads back what each holds
/// (after whatever maintenance the cache needs).
fn fill_row(
    name: &str,
    mut count: impl FnMut(u64),
    mut weight: impl FnMut(u64),
    held: impl Fn() -> (u64, u64),
) {
    // About the budget's worth of blobs of 2 KiB on average, then four times that.
    let by_weight = FILL_WEIGHT / 2048;
    let share = |held: u64, of: u64| format!("{:.2}%", held as f64 * 100.0 / of as f64);
    let mut cells = Vec::new();
    for (from, to) in [(0, 1), (1, 4)] {
        (from * FILL_CAPACITY..to * FILL_CAPACITY).for_each(&mut count);
        (from * by_weight..to * by_weight).for_each(&mut weight);
        let (entries, total) = held();
        cells.push((share(entries, FILL_CAPACITY), share(total, FILL_WEIGHT)));
    }
    println!(
        "| {name} | {} / {} | {} / {} |",
        cells[0].0, cells[1].0, cells[0].1, cells[1].1
    );
}

/// How much of its budget each cache holds once full.
fn fill() {
    let blobs = blobs();
    let blob = |k: u64| blobs[k as usize % blobs.len()].clone();
    println!("| cache | count held after 1× / 4× | weight held after 1× / 4× |");
    println!("|---|---:|---:|");

    let counted = SyncCacheBuilder::new()
        .capacity(FILL_CAPACITY as usize)
        .build::<u64, u64>();
    let weighed = SyncCacheBuilder::new()
        .capacity(FILL_WEIGHT as usize)
        .weigher(by_len)
        .build::<u64, Blob>();
    fill_row(
        "jwm-cache SyncCache",
        |k| counted.insert(k, k).unwrap(),
        |k| weighed.insert(k, blob(k)).unwrap(),
        || {
            let size = counted.info().current_size as u64;
            (size, weighed.weighted_size() as u64)
        },
    );

    let counted = moka::sync::Cache::<u64, u64>::new(FILL_CAPACITY);
    let weighed = moka::sync::Cache::builder()
        .max_capacity(FILL_WEIGHT)
        .weigher(by_len)
        .build();
    fill_row(
        "moka sync (after run_pending_tasks)",
        |k| counted.insert(k, k),
        |k| weighed.insert(k, blob(k)),
        || {
            counted.run_pending_tasks();
            weighed.run_pending_tasks();
            (counted.entry_count(), weighed.weighted_size())
        },
    );

    let counted = quick_cache::sync::Cache::<u64, u64>::new(FILL_CAPACITY as usize);
    let weighed = quick_cache::sync::Cache::with_weighter(32_768, FILL_WEIGHT, ByLen);
    fill_row(
        "quick_cache sync",
        |k| counted.insert(k, k),
        |k| weighed.insert(k, blob(k)),
        || (counted.len() as u64, weighed.weight()),
    );
}

fn parts(c: &mut Criterion) {
    fill();
    weighted_insert(c);
    idle_hit(c);
    listener_churn(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = parts
}
criterion_main!(benches);
