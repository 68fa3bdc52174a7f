//! Expired entries are reclaimed by inserts alone: memory tracks rate × TTL.

use std::time::Duration;

use jwm_cache_core::{CacheBuilder, ManualClock};

/// The wheel's tick: entries are reclaimed at most one tick after their deadline.
const TICK: Duration = Duration::from_nanos(1 << 20);

#[test]
fn a_million_unique_keys_keep_about_rate_times_ttl_entries() {
    const KEYS: u64 = 1_000_000;
    let ttl = Duration::from_millis(2);
    let step = Duration::from_micros(1); // one insert per µs: a rate of 1e6/s
    let clock = ManualClock::new();
    let mut cache = CacheBuilder::new(clock.clone())
        .ttl(ttl)
        .build::<u64, u64>();

    let rate_times_ttl = (ttl.as_nanos() / step.as_nanos()) as usize; // 2000
    let tick_lag = (TICK.as_nanos() / step.as_nanos()) as usize; // 1048
    let mut most = 0;
    for key in 0..KEYS {
        cache.insert(key, key).unwrap();
        clock.advance(step);
        most = most.max(cache.backend().stored());
    }
    // Held entries never exceed the live ones plus one tick of expired ones.
    assert!(most >= rate_times_ttl, "held at most {most}");
    assert!(
        most <= rate_times_ttl + tick_lag + 16,
        "held at most {most}"
    );
    // At the end, the entry written exactly one TTL ago has just reached its deadline.
    let info = cache.info();
    assert_eq!(info.current_size, rate_times_ttl - 1);
    assert_eq!(info.expirations, KEYS - info.current_size as u64);
}

#[test]
fn a_burst_that_expires_at_once_is_reclaimed_without_a_pause() {
    let clock = ManualClock::new();
    let mut cache = CacheBuilder::new(clock.clone())
        .ttl(Duration::from_millis(1))
        .build::<u64, u64>();
    for key in 0..100_000 {
        cache.insert(key, key).unwrap();
    }
    clock.advance(Duration::from_secs(1));
    // Each insert reclaims a bounded share of the backlog, not all 100k at once.
    cache.insert(u64::MAX, 0).unwrap();
    let after_one = cache.backend().stored();
    assert!(
        after_one > 99_000,
        "one insert reclaimed {}",
        100_001 - after_one
    );
    for key in 0..20_000 {
        cache.insert(1_000_000 + key, key).unwrap();
    }
    // ...and inserts outpace the backlog, so it drains.
    assert!(
        cache.backend().stored() <= 20_001,
        "{}",
        cache.backend().stored()
    );
}
