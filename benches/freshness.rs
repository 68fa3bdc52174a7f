//! Refresh-ahead and serve-stale on the hit path: a memoized hit with `refresh_after`
//! or `stale_if_error` set against a plain one (and moka's and quick_cache's hits, which
//! have neither), then the callers' latency while refreshes run under 64 tasks.
//!
//! `cargo bench -p jwm-cache-benches --bench freshness`
//!
//! The latency table is printed before the timings: per-call p50 and p99 of 64 tasks
//! hitting one hot key while its refresh (20 ms) runs, and hitting 1,000 keys that are
//! all due at once, each against the same calls with no refresh due, in alternating
//! rounds; medians over the rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::{AsyncMemoized, ManualClock, Memoized, time::CoarseClock};

const TTL: Duration = Duration::from_secs(60);
const KEYS: u64 = 1_000;

fn square(n: u64) -> u64 {
    n * n
}

fn next_key() -> impl FnMut() -> u64 {
    let mut k = 0;
    move || {
        k = (k + 7) % KEYS;
        k
    }
}

fn sync_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("freshness_hit");
    let plain = Memoized::builder(square)
        .ttl(TTL)
        .clock(CoarseClock)
        .build();
    let refreshing = Memoized::builder(square)
        .ttl(TTL)
        .refresh_after(TTL / 2)
        .clock(CoarseClock)
        .build();
    let keeping_stale = Memoized::builder(square)
        .ttl(TTL)
        .stale_if_error(TTL)
        .clock(CoarseClock)
        .build();
    let moka = moka::sync::Cache::builder().time_to_live(TTL).build();
    let quick = quick_cache::sync::Cache::new(KEYS as usize);
    for n in 0..KEYS {
        plain.call(n);
        refreshing.call(n);
        keeping_stale.call(n);
        moka.insert(n, square(n));
        quick.insert(n, square(n));
    }
    let mut next = next_key();
    group.bench_function("Memoized::call (plain)", |b| {
        b.iter(|| plain.call(black_box(next())))
    });
    group.bench_function("Memoized::call (refresh_after)", |b| {
        b.iter(|| refreshing.call(black_box(next())))
    });
    group.bench_function("Memoized::call (stale_if_error)", |b| {
        b.iter(|| keeping_stale.call(black_box(next())))
    });
    group.bench_function("moka sync get_with", |b| {
        b.iter(|| moka.get_with(black_box(next()), || 0))
    });
    group.bench_function("quick_cache sync get_or_insert_with", |b| {
        b.iter(|| quick.get_or_insert_with(&black_box(next()), || Ok::<_, ()>(0)))
    });
    group.finish();
}

fn async_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("freshness_async_hit");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plain = AsyncMemoized::builder(|n: u64| async move { n * n })
        .ttl(TTL)
        .clock(CoarseClock)
        .build();
    let refreshing = AsyncMemoized::builder(|n: u64| async move { n * n })
        .ttl(TTL)
        .refresh_after(TTL / 2)
        .clock(CoarseClock)
        .build();
    let moka = moka::future::Cache::builder().time_to_live(TTL).build();
    rt.block_on(async {
        for n in 0..KEYS {
            plain.call(n).await;
            refreshing.call(n).await;
            moka.insert(n, square(n)).await;
        }
    });
    let mut next = next_key();
    group.bench_function("AsyncMemoized::call (plain)", |b| {
        b.to_async(&rt).iter(|| plain.call(black_box(next())))
    });
    group.bench_function("AsyncMemoized::call (refresh_after)", |b| {
        b.to_async(&rt).iter(|| refreshing.call(black_box(next())))
    });
    group.bench_function("moka future get_with", |b| {
        b.to_async(&rt)
            .iter(|| moka.get_with(black_box(next()), async { 0 }))
    });
    group.finish();
}

const TASKS: usize = 64;
const CALLS_PER_TASK: usize = 2_000;
const ROUNDS: usize = 5;

/// One round: 64 tasks hit every key; with `due`, every entry is past `refresh_after`,
/// so the first hit on each key starts a refresh that takes 20 ms. The per-call p50 and
/// p99, in nanoseconds.
fn latency_round(rt: &tokio::runtime::Runtime, keys: u64, due: bool) -> (u64, u64) {
    let clock = ManualClock::new();
    let memo = AsyncMemoized::builder(|n: u64| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        n * n
    })
    .ttl(TTL)
    .refresh_after(Duration::from_secs(1))
    .clock(clock.clone())
    .build();
    let mut calls: Vec<u64> = rt.block_on(async {
        for n in 0..keys {
            memo.cache().insert(n, n * n).await.unwrap();
        }
        if due {
            clock.advance(Duration::from_secs(2));
        }
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let memo = memo.clone();
                tokio::spawn(async move {
                    let mut took = Vec::with_capacity(CALLS_PER_TASK);
                    let mut k = task as u64;
                    for _ in 0..CALLS_PER_TASK {
                        k = (k + 7) % keys;
                        let began = Instant::now();
                        black_box(memo.call(k).await);
                        took.push(began.elapsed().as_nanos() as u64);
                    }
                    took
                })
            })
            .collect();
        let mut all = Vec::with_capacity(TASKS * CALLS_PER_TASK);
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    });
    calls.sort_unstable();
    let at = |q: f64| calls[((calls.len() - 1) as f64 * q) as usize];
    (at(0.50), at(0.99))
}

/// Prints the callers' latency with and without refreshes in flight (see the docs).
fn refresh_latency(_: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let median = |rounds: &[(u64, u64)], pick: fn(&(u64, u64)) -> u64| {
        let mut values: Vec<u64> = rounds.iter().map(pick).collect();
        values.sort_unstable();
        values[values.len() / 2]
    };
    println!("\n{TASKS} tasks x {CALLS_PER_TASK} hits each, medians of {ROUNDS} rounds");
    println!("| keys | calls | p50 (ns) | p99 (ns) | p99 ÷ no refresh |\n|---|---|---|---|---|");
    for (keys, due) in [
        (1, "its refresh of 20 ms running"),
        (KEYS, "all due: 1,000 refreshes of 20 ms"),
    ] {
        let (mut plain, mut refreshing) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain.push(latency_round(&rt, keys, false));
            refreshing.push(latency_round(&rt, keys, true));
        }
        let (p50, p99) = (|r: &(u64, u64)| r.0, |r: &(u64, u64)| r.1);
        let base = median(&plain, p99);
        println!(
            "| {keys} | no refresh due | {} | {base} | 1.00 |",
            median(&plain, p50)
        );
        let p99_refreshing = median(&refreshing, p99);
        println!(
            "| {keys} | {due} | {} | {p99_refreshing} | {:.2} |",
            median(&refreshing, p50),
            p99_refreshing as f64 / base as f64
        );
    }
    println!();
}

criterion_group!(benches, refresh_latency, sync_hit, async_hit);
criterion_main!(benches);
