//! A memoized hit (the `Memoized` value and the `#[ttl_cache]` attribute) against the
//! cache's own `get` and against the `cached` crate.
//!
//! `cargo bench -p jwm-cache-benches --bench memoize`

use std::hint::black_box;
use std::time::Duration;

use cached::proc_macro::cached;
use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::{Memoized, SyncCacheBuilder, time::CoarseClock};

const KEYS: u64 = 1_000;
const TTL: Duration = Duration::from_secs(60);

fn square(n: u64) -> u64 {
    n * n
}

#[cached(time = 60)]
fn cached_square(n: u64) -> u64 {
    n * n
}

/// The attribute's default clock for a 60 s TTL: coarse.
#[jwm_cache::ttl_cache(ttl = "60s")]
fn macro_square(n: u64) -> u64 {
    n * n
}

#[jwm_cache::ttl_cache(ttl = "60s", clock = system)]
fn system_macro_square(n: u64) -> u64 {
    n * n
}

/// One cache per instantiation, found by a lock-free scan of its slots.
#[jwm_cache::ttl_cache(ttl = "60s")]
fn generic_macro_square<T>(n: T) -> T
where
    T: std::ops::Mul<Output = T> + Copy + std::hash::Hash + Eq + Send + Sync + 'static,
{
    n * n
}

fn memoized_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("memoized_hit");
    let mut k = 0;
    let mut next = move || {
        k = (k + 7) % KEYS;
        k
    };

    let bare = SyncCacheBuilder::new().ttl(TTL).build::<u64, u64>();
    let memo = Memoized::builder(square).ttl(TTL).build();
    let coarse_bare = SyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let coarse_memo = Memoized::builder(square)
        .ttl(TTL)
        .clock(CoarseClock)
        .build();
    for n in 0..KEYS {
        bare.insert(n, square(n)).unwrap();
        coarse_bare.insert(n, square(n)).unwrap();
        memo.call(n);
        coarse_memo.call(n);
        cached_square(n);
        macro_square(n);
        system_macro_square(n);
        generic_macro_square(n);
    }

    group.bench_function("jwm-cache SyncCache::get (bare)", |b| {
        b.iter(|| black_box(bare.get(&next()).unwrap()))
    });
    group.bench_function("jwm-cache Memoized::call", |b| {
        b.iter(|| black_box(memo.call(next())))
    });
    group.bench_function("jwm-cache SyncCache::get (bare, CoarseClock)", |b| {
        b.iter(|| black_box(coarse_bare.get(&next()).unwrap()))
    });
    group.bench_function("jwm-cache Memoized::call (CoarseClock)", |b| {
        b.iter(|| black_box(coarse_memo.call(next())))
    });
    group.bench_function("jwm-cache #[ttl_cache] (default, coarse)", |b| {
        b.iter(|| black_box(macro_square(next())))
    });
    group.bench_function("jwm-cache #[ttl_cache(clock = system)]", |b| {
        b.iter(|| black_box(system_macro_square(next())))
    });
    group.bench_function("jwm-cache #[ttl_cache] generic fn (coarse)", |b| {
        b.iter(|| black_box(generic_macro_square(next())))
    });
    group.bench_function("cached #[cached(time = 60)]", |b| {
        b.iter(|| black_box(cached_square(next())))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = memoized_hit
}
criterion_main!(benches);
