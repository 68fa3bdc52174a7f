//! Testing time-dependent code without sleeping: a `ManualClock` drives expiry.
//!
//! Run with `cargo run --example deterministic_test`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jwm_cache::{ManualClock, Memoized};

static FETCHES: AtomicUsize = AtomicUsize::new(0);

fn fetch_rate(currency: String) -> f64 {
    FETCHES.fetch_add(1, Ordering::Relaxed);
    if currency == "EUR" { 1.08 } else { 1.0 }
}

fn main() {
    let clock = ManualClock::new();
    let rate = Memoized::builder(fetch_rate)
        .ttl(Duration::from_secs(60))
        .clock(clock.clone())
        .build();

    rate.call("EUR".into());
    clock.advance(Duration::from_secs(59));
    rate.call("EUR".into());
    assert_eq!(FETCHES.load(Ordering::Relaxed), 1, "still fresh at 59 s");

    clock.advance(Duration::from_secs(1));
    rate.call("EUR".into());
    assert_eq!(
        FETCHES.load(Ordering::Relaxed),
        2,
        "expired at exactly 60 s"
    );

    clock.advance(Duration::from_secs(3600));
    assert_eq!(rate.cache_info().current_size, 0);
    println!(
        "an hour of simulated time in no time: {} fetches, {:?}",
        FETCHES.load(Ordering::Relaxed),
        rate.cache_info()
    );
}
