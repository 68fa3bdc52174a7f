//! An async memoized hit against the async cache's own `get`, moka's future cache and
//! the `cached` crate's async memoization; and the bridge's cost for sync callers.
//!
//! `cargo bench -p jwm-cache-benches --bench async`

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use cached::proc_macro::cached;
use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::{
    AsyncCacheBuilder, AsyncMemoized, BlockingCache, Bridge, Memoized, time::CoarseClock,
};

const KEYS: u64 = 1_000;
const TTL: Duration = Duration::from_secs(60);

async fn square(n: u64) -> u64 {
    n * n
}

#[cached(time = 60)]
async fn cached_square(n: u64) -> u64 {
    n * n
}

/// The attribute's default clock for a 60 s TTL: coarse.
#[jwm_cache::ttl_cache(ttl = "60s")]
async fn macro_square(n: u64) -> u64 {
    n * n
}

thread_local! {
    static KEY: Cell<u64> = const { Cell::new(0) };
}

/// The next key of a fixed walk over KEYS hot keys.
fn next() -> u64 {
    KEY.with(|k| {
        let n = (k.get() + 7) % KEYS;
        k.set(n);
        n
    })
}

fn async_memoized_hit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bare = AsyncCacheBuilder::new().ttl(TTL).build::<u64, u64>();
    let memo = AsyncMemoized::builder(square).ttl(TTL).build();
    let coarse_bare = AsyncCacheBuilder::new()
        .ttl(TTL)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let coarse_memo = AsyncMemoized::builder(square)
        .ttl(TTL)
        .clock(CoarseClock)
        .build();
    let moka = moka::future::Cache::builder().time_to_live(TTL).build();
    rt.block_on(async {
        for n in 0..KEYS {
            bare.insert(n, n * n).await.unwrap();
            coarse_bare.insert(n, n * n).await.unwrap();
            memo.call(n).await;
            coarse_memo.call(n).await;
            moka.get_with(n, square(n)).await;
            cached_square(n).await;
            macro_square(n).await;
        }
    });

    let mut group = c.benchmark_group("async_memoized_hit");
    group.bench_function("jwm-cache AsyncCache::get (bare)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(bare.get(&next()).await.unwrap()) })
    });
    group.bench_function("jwm-cache AsyncMemoized::call", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(memo.call(next()).await) })
    });
    group.bench_function("jwm-cache AsyncCache::get (bare, CoarseClock)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(coarse_bare.get(&next()).await.unwrap()) })
    });
    group.bench_function("jwm-cache AsyncMemoized::call (CoarseClock)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(coarse_memo.call(next()).await) })
    });
    group.bench_function("jwm-cache #[ttl_cache] async fn (default, coarse)", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(macro_square(next()).await) })
    });
    group.bench_function("moka::future get_with", |b| {
        b.to_async(&rt).iter(|| async {
            let n = next();
            black_box(moka.get_with(n, square(n)).await)
        })
    });
    group.bench_function("cached #[cached(time = 60)] async", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(cached_square(next()).await) })
    });
    group.finish();
}

/// What a sync caller pays to reach an async backend through the bridge, measured over
/// an in-memory async backend so that only the bridge shows.
fn bridged_hit(c: &mut Criterion) {
    let bridge = Bridge::new().unwrap();
    let cache = Arc::new(AsyncCacheBuilder::new().ttl(TTL).build::<u64, u64>());
    let blocking = BlockingCache::new(Arc::clone(&cache), bridge);
    let direct = Memoized::builder(|n: u64| n * n).ttl(TTL).build();
    for n in 0..KEYS {
        blocking.insert(n, n * n).unwrap();
        direct.call(n);
    }
    let mut group = c.benchmark_group("bridged_hit");
    group.bench_function("jwm-cache Memoized::call (SyncCache)", |b| {
        b.iter(|| black_box(direct.call(next())))
    });
    group.bench_function(
        "jwm-cache BlockingCache::get_or_insert_with (bridge)",
        |b| {
            b.iter(|| {
                let n = next();
                black_box(blocking.get_or_insert_with(n, || n * n))
            })
        },
    );
    // Inside a runtime the call is handed to the bridge's thread and back.
    let caller_runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _inside = caller_runtime.enter();
    group.bench_function(
        "jwm-cache BlockingCache::get_or_insert_with (bridge, inside a runtime)",
        |b| {
            b.iter(|| {
                let n = next();
                black_box(blocking.get_or_insert_with(n, || n * n))
            })
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = async_memoized_hit, bridged_hit
}
criterion_main!(benches);
