//! Counts the work of a hit, for `valgrind --tool=callgrind` (see Cargo.toml).
use std::time::Duration;

use jwm_cache::{Memoized, SyncCacheBuilder, time::CoarseClock};

fn square(n: u64) -> u64 {
    n * n
}

fn main() {
    const KEYS: u64 = 1_000;
    let which = std::env::args().nth(1).unwrap_or_default();
    let iterations: u64 = std::env::args()
        .nth(2)
        .map_or(1_000_000, |n| n.parse().unwrap());
    let ttl = Duration::from_secs(60);
    let memo = Memoized::builder(square)
        .ttl(ttl)
        .clock(CoarseClock)
        .build();
    let cache = SyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .build::<u64, u64>();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let async_cache = jwm_cache::AsyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .build::<u64, u64>();
    for n in 0..KEYS {
        memo.call(n);
        cache.insert(n, n * n).unwrap();
        rt.block_on(async_cache.insert(n, n * n)).unwrap();
    }
    let mut k = 0;
    let mut sum = 0u64;
    rt.block_on(async {
        for _ in 0..iterations {
            k = (k + 7) % KEYS;
            sum = sum.wrapping_add(match which.as_str() {
                "memo" => memo.call(std::hint::black_box(k)),
                "get" => cache.get(&std::hint::black_box(k)).unwrap().unwrap(),
                "async" => async_cache
                    .get(&std::hint::black_box(k))
                    .await
                    .unwrap()
                    .unwrap(),
                _ => 0,
            });
        }
    });
    println!("{sum}");
}
