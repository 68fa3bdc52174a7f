//! In-memory hit, miss and insert paths, side by side with the peers, in one run.
//!
//! `cargo bench -p jwm-cache-benches --bench memory`

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use fnv::FnvBuildHasher;

#[path = "shuffled.rs"]
mod shuffled;
use jwm_cache::{
    Cache, CacheBuilder, ManualClock, SystemClock, codec::Identity, memory::MemoryBackend,
    time::Clock,
};
use shuffled::shuffled;

const SIZES: [u64; 2] = [1_000, 1_000_000];
const TTL: Duration = Duration::from_secs(3600);

/// Cycles through `keys`, one per iteration.
struct Cursor<'a> {
    keys: &'a [u64],
    at: usize,
}

impl Cursor<'_> {
    #[inline]
    fn next(&mut self) -> u64 {
        self.at = if self.at + 1 == self.keys.len() {
            0
        } else {
            self.at + 1
        };
        self.keys[self.at]
    }
}

fn ours<C: Clock>(clock: C, n: u64) -> Cache<u64, u64, MemoryBackend<u64, u64>, Identity, C> {
    let mut cache = CacheBuilder::new(clock).ttl(TTL).build();
    for k in 0..n {
        cache.insert(k, k).unwrap();
    }
    cache
}

/// Ours with the FNV hasher, to measure the default hasher's choice.
fn ours_fnv(
    n: u64,
) -> Cache<u64, u64, MemoryBackend<u64, u64, FnvBuildHasher>, Identity, SystemClock> {
    let backend = MemoryBackend::with_hasher(None, FnvBuildHasher::default());
    let mut cache = CacheBuilder::new(SystemClock)
        .ttl(TTL)
        .build_with_backend(backend);
    for k in 0..n {
        cache.insert(k, k).unwrap();
    }
    cache
}

fn floor(n: u64) -> hashbrown::HashMap<u64, u64, FnvBuildHasher> {
    (0..n).map(|k| (k, k)).collect()
}

fn moka(n: u64) -> moka::sync::Cache<u64, u64> {
    let cache = moka::sync::Cache::builder().time_to_live(TTL).build();
    for k in 0..n {
        cache.insert(k, k);
    }
    cache.run_pending_tasks();
    cache
}

fn quick(n: u64) -> quick_cache::unsync::Cache<u64, u64> {
    let mut cache = quick_cache::unsync::Cache::new(n as usize);
    for k in 0..n {
        cache.insert(k, k);
    }
    cache
}

fn lru(n: u64) -> lru::LruCache<u64, u64> {
    let mut cache = lru::LruCache::new(NonZeroUsize::new(n as usize).unwrap());
    for k in 0..n {
        cache.put(k, k);
    }
    cache
}

/// Benchmarks `op` on a fresh key per iteration.
fn contender<R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    n: u64,
    cursor: &mut Cursor<'_>,
    mut op: impl FnMut(u64) -> R,
) {
    group.bench_function(BenchmarkId::new(name, n), |b| {
        b.iter(|| black_box(op(cursor.next())))
    });
}

/// Runs one lookup-style benchmark for every contender; `offset` shifts the keys
/// (0 for hits, far away for misses). quick_cache and lru keep no TTL, so they read no
/// clock; their "+ clock read" variants add the one read a TTL check needs, for a
/// like-for-like comparison with a TTL cache.
fn lookups(c: &mut Criterion, name: &str, offset: u64) {
    let mut group = c.benchmark_group(name);
    for n in SIZES {
        let keys: Vec<u64> = shuffled(n).into_iter().map(|k| k + offset).collect();
        let mut cursor = Cursor { keys: &keys, at: 0 };
        let cursor = &mut cursor;
        let g = &mut group;

        let map = floor(n);
        contender(g, "floor: hashbrown+fnv + clock read", n, cursor, |k| {
            (SystemClock.now(), map.get(&k).copied())
        });
        let clock = ManualClock::new();
        contender(g, "floor: hashbrown+fnv + ManualClock", n, cursor, |k| {
            (clock.now(), map.get(&k).copied())
        });
        drop(map);

        let mut cache = ours(SystemClock, n);
        contender(g, "jwm-cache (SystemClock)", n, cursor, |k| cache.get(&k));
        drop(cache);
        let mut cache = ours_fnv(n);
        contender(g, "jwm-cache fnv (SystemClock)", n, cursor, |k| {
            cache.get(&k)
        });
        drop(cache);
        let mut cache = ours(ManualClock::new(), n);
        contender(g, "jwm-cache (ManualClock)", n, cursor, |k| cache.get(&k));
        drop(cache);

        let cache = moka(n);
        contender(g, "moka::sync (ttl)", n, cursor, |k| cache.get(&k));
        drop(cache);

        let cache = quick(n);
        contender(g, "quick_cache::unsync", n, cursor, |k| {
            cache.get(&k).copied()
        });
        contender(g, "quick_cache::unsync + clock read", n, cursor, |k| {
            (SystemClock.now(), cache.get(&k).copied())
        });
        drop(cache);

        let mut cache = lru(n);
        contender(g, "lru", n, cursor, |k| cache.get(&k).copied());
        contender(g, "lru + clock read", n, cursor, |k| {
            (SystemClock.now(), cache.get(&k).copied())
        });
    }
    group.finish();
}

fn get_hit(c: &mut Criterion) {
    lookups(c, "get_hit", 0);
}

fn get_miss(c: &mut Criterion) {
    lookups(c, "get_miss", u64::MAX / 2);
}

/// Overwrites an existing key: the steady state of a full cache being refreshed.
fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("insert");
    for n in SIZES {
        let keys = shuffled(n);
        let mut cursor = Cursor { keys: &keys, at: 0 };
        let cursor = &mut cursor;
        let g = &mut group;

        let mut map = floor(n);
        contender(g, "floor: hashbrown+fnv + clock read", n, cursor, |k| {
            map.insert(k, SystemClock.now().as_nanos())
        });
        drop(map);

        let mut cache = ours(SystemClock, n);
        contender(g, "jwm-cache (SystemClock)", n, cursor, |k| {
            cache.insert(k, k)
        });
        drop(cache);

        let cache = moka(n);
        contender(g, "moka::sync (ttl)", n, cursor, |k| cache.insert(k, k));
        drop(cache);

        let mut cache = quick(n);
        contender(g, "quick_cache::unsync", n, cursor, |k| cache.insert(k, k));
        drop(cache);

        let mut cache = lru(n);
        contender(g, "lru", n, cursor, |k| cache.put(k, k));
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = get_hit, get_miss, insert
}
criterion_main!(benches);
