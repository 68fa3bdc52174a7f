//! Memoize a slow function in memory, watch the hits, then watch an entry expire.
//!
//! Run with `cargo run --example quickstart`.

use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::Memoized;

fn slow_square(n: u64) -> u64 {
    thread::sleep(Duration::from_millis(100));
    n * n
}

fn main() {
    let square = Memoized::builder(slow_square)
        .ttl(Duration::from_millis(500))
        .build();

    for n in [3, 4, 3, 3, 4] {
        let started = Instant::now();
        let value = square.call(n);
        println!("square({n}) = {value:>2}  in {:?}", started.elapsed());
    }
    let info = square.cache_info();
    println!(
        "hits={} misses={} current_size={}",
        info.hits, info.misses, info.current_size
    );

    thread::sleep(Duration::from_millis(600));
    let info = square.cache_info();
    println!(
        "after the 500 ms TTL: current_size={} expirations={}",
        info.current_size, info.expirations
    );
    let started = Instant::now();
    println!(
        "square(3) = {} in {:?} (computed again)",
        square.call(3),
        started.elapsed()
    );
    println!("{:?}", square.cache_parameters());
}
