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
    // The same hit with `refresh_after` and `stale_if_error` set: the entries are fresh,
    // so no refresh runs; what is measured is what reading the deadline costs.
    let refreshing = Memoized::builder(square)
        .ttl(ttl)
        .refresh_after(ttl / 2)
        .clock(CoarseClock)
        .build();
    let keeping_stale = Memoized::builder(square)
        .ttl(ttl)
        .stale_if_error(ttl)
        .clock(CoarseClock)
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let async_memo = jwm_cache::AsyncMemoized::builder(|n: u64| async move { n * n })
        .ttl(ttl)
        .clock(CoarseClock)
        .build();
    let async_refreshing = jwm_cache::AsyncMemoized::builder(|n: u64| async move { n * n })
        .ttl(ttl)
        .refresh_after(ttl / 2)
        .clock(CoarseClock)
        .build();
    let async_cache = jwm_cache::AsyncCacheBuilder::new()
        .ttl(ttl)
        .clock(CoarseClock)
        .build::<u64, u64>();
    for n in 0..KEYS {
        memo.call(n);
        refreshing.call(n);
        keeping_stale.call(n);
        rt.block_on(async_memo.call(n));
        rt.block_on(async_refreshing.call(n));
        cache.insert(n, n * n).unwrap();
        rt.block_on(async_cache.insert(n, n * n)).unwrap();
    }
    // One loop per mode, so that every mode's loop costs the same (`none` measures it).
    let mut sum = 0u64;
    let mut k = 0;
    let mut next = move || {
        k = (k + 7) % KEYS;
        std::hint::black_box(k)
    };
    macro_rules! hits {
        ($hit:expr) => {
            for _ in 0..iterations {
                sum = sum.wrapping_add($hit(next()));
            }
        };
    }
    macro_rules! async_hits {
        ($hit:expr) => {
            rt.block_on(async {
                for _ in 0..iterations {
                    sum = sum.wrapping_add($hit(next()).await);
                }
            })
        };
    }
    match which.as_str() {
        "memo" => hits!(|k| memo.call(k)),
        "memo_refresh" => hits!(|k| refreshing.call(k)),
        "memo_stale" => hits!(|k| keeping_stale.call(k)),
        "get" => hits!(|k| cache.get(&k).unwrap().unwrap()),
        "async_memo" => async_hits!(|k| async_memo.call(k)),
        "async_memo_refresh" => async_hits!(|k| async_refreshing.call(k)),
        "async" => {
            let async_cache = &async_cache;
            async_hits!(|k| async move { async_cache.get(&k).await.unwrap().unwrap() })
        }
        "async_none" => async_hits!(|k| async move { k }),
        _ => hits!(|k| k),
    }
    println!("{sum}");
}
