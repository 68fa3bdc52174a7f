//! Testing time-dependent code without sleeping: a `ManualClock` drives expiry, both
//! under `#[ttl_cache(clock = manual(CLOCK))]` and under a hand-built `Memoized`.
//!
//! Run with `cargo run --example deterministic_test`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jwm_cache::{CacheControls, ManualClock, Memoized, ttl_cache};

static FETCHES: AtomicUsize = AtomicUsize::new(0);

fn fetch_rate(currency: String) -> f64 {
    FETCHES.fetch_add(1, Ordering::Relaxed);
    if currency == "EUR" { 1.08 } else { 1.0 }
}

/// The clock the attribute's cache reads: a test moves it. (`clock = scoped` serves
/// production and tests with one attribute: see `tests/testing_memoized.rs`.)
static CLOCK: ManualClock = ManualClock::new();

#[ttl_cache(ttl = "60s", clock = manual(CLOCK))]
fn rate(currency: String) -> f64 {
    fetch_rate(currency)
}

fn main() {
    rate("EUR".into());
    CLOCK.advance(Duration::from_secs(59));
    rate("EUR".into());
    assert_eq!(FETCHES.load(Ordering::Relaxed), 1, "still fresh at 59 s");
    CLOCK.advance(Duration::from_secs(1));
    rate("EUR".into());
    assert_eq!(
        FETCHES.load(Ordering::Relaxed),
        2,
        "expired at exactly 60 s"
    );
    CLOCK.advance(Duration::from_secs(3600));
    assert_eq!(RATE.cache_info().current_size, 0);
    println!("#[ttl_cache]: {:?}", RATE.cache_info());

    // The same with a hand-built Memoized and a clock of its own.
    let clock = ManualClock::new();
    let memoized = Memoized::builder(fetch_rate)
        .ttl(Duration::from_secs(60))
        .clock(clock.clone())
        .build();
    memoized.call("EUR".into());
    clock.advance(Duration::from_secs(60));
    memoized.call("EUR".into());
    assert_eq!(
        FETCHES.load(Ordering::Relaxed),
        4,
        "expired at exactly 60 s"
    );
    println!(
        "an hour of simulated time in no time: {} fetches, Memoized: {:?}",
        FETCHES.load(Ordering::Relaxed),
        memoized.cache_info()
    );
}
