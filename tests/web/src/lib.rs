//! A cache in the browser: `square` is memoized for 30 s by `performance.now()`, through
//! `PerformanceClock` (feature `web`). Build it with `cargo build --release` here, then
//! `wasm-bindgen --target web` the `.wasm`, and call `square(12)` from JavaScript.

use std::cell::RefCell;
use std::time::Duration;

use jwm_cache::time::PerformanceClock;
use jwm_cache::{
    Cache, CacheBuilder, CacheControls, codec::Identity, memory::MemoryBackend, ttl_cache,
};
use wasm_bindgen::prelude::wasm_bindgen;

type Squares = Cache<u32, u64, MemoryBackend<u32, u64>, Identity, PerformanceClock>;

thread_local! {
    // A page runs one thread: a `Cache` needs no lock here.
    static SQUARES: RefCell<Squares> = RefCell::new(
        CacheBuilder::new(PerformanceClock)
            .ttl(Duration::from_secs(30))
            .capacity(1_000)
            .build(),
    );
}

/// `n²`, computed once per 30 s.
#[wasm_bindgen]
pub fn square(n: u32) -> u64 {
    SQUARES.with_borrow_mut(|squares| squares.get_or_insert_with(n, || u64::from(n).pow(2)))
}

/// How many calls of `square` were hits.
#[wasm_bindgen]
pub fn hits() -> u64 {
    SQUARES.with_borrow_mut(|squares| squares.info().hits)
}

/// `n³`, memoized for 30 s by `#[ttl_cache]` on its default clock (the coarse clock, which
/// here has no thread to refresh it and reads the system clock, `performance.now()`).
#[ttl_cache(ttl = "30s")]
fn cube_of(n: u32) -> u64 {
    u64::from(n).pow(3)
}

/// `n³`, computed once per 30 s.
#[wasm_bindgen]
pub fn memoized_cube(n: u32) -> u64 {
    cube_of(n)
}

/// How many calls of `cube` were hits.
#[wasm_bindgen]
pub fn memoized_hits() -> u64 {
    CUBE_OF.cache_info().hits
}
