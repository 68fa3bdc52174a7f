//! Memoize a slow function in memory, watch the hits, then watch an entry expire.
//!
//! Run with `cargo run --example quickstart`.

use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::{CacheBuilder, SystemClock};

fn slow_square(n: u64) -> u64 {
    thread::sleep(Duration::from_millis(100));
    n * n
}

fn main() {
    let mut cache = CacheBuilder::new(SystemClock)
        .ttl(Duration::from_millis(500))
        .build::<u64, u64>();

    for n in [3, 4, 3, 3, 4] {
        let started = Instant::now();
        let square = cache.get_or_insert_with(n, || slow_square(n));
        println!("square({n}) = {square:>2}  in {:?}", started.elapsed());
    }
    let info = cache.info();
    println!(
        "hits={} misses={} current_size={}",
        info.hits, info.misses, info.current_size
    );

    thread::sleep(Duration::from_millis(600));
    println!(
        "after the 500 ms TTL: get(3) = {:?}",
        cache.get(&3).unwrap()
    );
    let info = cache.info();
    println!(
        "hits={} misses={} current_size={} expirations={}",
        info.hits, info.misses, info.current_size, info.expirations
    );
    println!("{:?}", cache.parameters());
}
