//! Memoize a slow function in memory, watch the hits, then watch an entry expire.
//!
//! Run with `cargo run --example quickstart`.

use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::{CacheControls, Memoized, ttl_cache};

/// One line memoizes it: the attribute keeps the signature, and `SLOW_SQUARE` is its
/// cache.
#[ttl_cache(ttl = "500ms")]
fn slow_square(n: u64) -> u64 {
    thread::sleep(Duration::from_millis(100));
    n * n
}

fn main() {
    for n in [3, 4, 3, 3, 4] {
        let started = Instant::now();
        let value = slow_square(n);
        println!("slow_square({n}) = {value:>2}  in {:?}", started.elapsed());
    }
    let info = SLOW_SQUARE.cache_info();
    println!(
        "hits={} misses={} current_size={}",
        info.hits, info.misses, info.current_size
    );

    thread::sleep(Duration::from_millis(600));
    let info = SLOW_SQUARE.cache_info();
    println!(
        "after the 500 ms TTL: current_size={} expirations={}",
        info.current_size, info.expirations
    );
    let started = Instant::now();
    println!(
        "slow_square(3) = {} in {:?} (computed again)",
        slow_square(3),
        started.elapsed()
    );
    println!("{:?}", SLOW_SQUARE.cache_parameters());

    // The same without the attribute: a value wrapping a function.
    let square = Memoized::builder(|n: u64| n * n)
        .ttl(Duration::from_millis(500))
        .build();
    square.call(3);
    let info = square.cache_info();
    println!("Memoized: hits={} misses={}", info.hits, info.misses);
}
