//! Thread-safe get-hit throughput on 1 and 2 threads, side by side with the peers.
//!
//! `cargo bench -p jwm-cache-benches --bench sync`
//!
//! Each sample runs `iters` hits split over the threads; the time reported is wall time
//! per hit, so on 2 threads perfect scaling halves it.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use cached::{Cached, TimedCache};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jwm_cache::{SyncCache, SyncCacheBuilder, time::CoarseClock};

const ENTRIES: u64 = 100_000;
const TTL: Duration = Duration::from_secs(3600);

/// Keys in a fixed pseudo-random order, a different rotation per thread.
fn keys() -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..ENTRIES * 4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % ENTRIES
        })
        .collect()
}

/// Wall time for `iters` calls of `hit`, split over `threads`.
fn run(threads: usize, iters: u64, keys: &[u64], hit: &(impl Fn(u64) + Sync)) -> Duration {
    let per_thread = iters / threads as u64;
    let started = Instant::now();
    thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let offset = t * keys.len() / threads;
                for i in 0..per_thread as usize {
                    hit(keys[(offset + i) % keys.len()]);
                }
            });
        }
    });
    started.elapsed()
}

fn ours<C: jwm_cache::time::Clock + Clone + Send + Sync>(
    clock: C,
) -> SyncCache<u64, u64, jwm_cache::memory::MemoryBackend<u64, u64>, jwm_cache::codec::Identity, C>
{
    let cache = SyncCacheBuilder::new().ttl(TTL).clock(clock).build();
    for k in 0..ENTRIES {
        cache.insert(k, k).unwrap();
    }
    cache
}

fn filled(insert: impl Fn(u64)) {
    for k in 0..ENTRIES {
        insert(k);
    }
}

fn hits(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("sync_get_hit");
    for threads in [1usize, 2] {
        let mut bench = |name: &str, hit: &(dyn Fn(u64) + Sync)| {
            group.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| run(threads, iters, &keys, &hit))
            });
        };

        let cache = ours(jwm_cache::SystemClock);
        bench("jwm-cache SyncCache (SystemClock)", &|k| {
            std::hint::black_box(cache.get(&k).unwrap());
        });
        let cache = ours(CoarseClock);
        bench("jwm-cache SyncCache (CoarseClock)", &|k| {
            std::hint::black_box(cache.get(&k).unwrap());
        });

        let moka = moka::sync::Cache::builder().time_to_live(TTL).build();
        filled(|k| moka.insert(k, k));
        moka.run_pending_tasks();
        bench("moka::sync (ttl)", &|k| {
            std::hint::black_box(moka.get(&k));
        });

        let mini = mini_moka::sync::Cache::builder().time_to_live(TTL).build();
        filled(|k| mini.insert(k, k));
        bench("mini_moka::sync (ttl)", &|k| {
            std::hint::black_box(mini.get(&k));
        });

        let quick = quick_cache::sync::Cache::new(ENTRIES as usize);
        filled(|k| quick.insert(k, k));
        bench("quick_cache::sync (no ttl)", &|k| {
            std::hint::black_box(quick.get(&k));
        });

        let timed = Mutex::new(TimedCache::with_lifespan(TTL));
        filled(|k| {
            timed.lock().unwrap().cache_set(k, k);
        });
        bench("cached::TimedCache in a Mutex", &|k| {
            std::hint::black_box(timed.lock().unwrap().cache_get(&k).copied());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hits
}
criterion_main!(benches);
