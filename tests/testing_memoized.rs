//! Testing a memoized function: one attribute, `clock = scoped`, reads the system clock
//! in production, while a test that installs a `ManualClock` on its thread gets that
//! clock's time and a cache of its own. Parallel tests calling the same function, even
//! with the same arguments, never see each other's entries or time.

use std::sync::Barrier;
use std::time::Duration;

use jwm_cache::time::Clock;
use jwm_cache::{CacheControls, ManualClock, ScopedClock, SystemClock, ttl_cache};

/// What production code writes, once: no `cfg_attr`, no second attribute for tests.
#[ttl_cache(ttl = "1m", clock = scoped)]
fn price(symbol: &str) -> u64 {
    symbol.len() as u64 * 100
}

/// `(hits, misses, current_size)` of the cache `price` uses on this thread.
fn counts() -> (u64, u64, usize) {
    let info = PRICE.cache_info();
    (info.hits, info.misses, info.current_size)
}

#[test]
fn a_test_moves_the_functions_time_and_starts_from_an_empty_cache() {
    let clock = ManualClock::new();
    let _installed = ScopedClock::install(clock.clone());
    assert_eq!(counts(), (0, 0, 0), "this test's own cache, empty");
    assert_eq!(price("ACME"), 400);
    clock.advance(Duration::from_secs(59));
    assert_eq!(price("ACME"), 400);
    assert_eq!(counts(), (1, 1, 1), "a hit within the TTL");
    clock.advance(Duration::from_secs(1));
    assert_eq!(price("ACME"), 400);
    assert_eq!(
        counts(),
        (1, 2, 1),
        "expired at the TTL, on the test's own time"
    );
}

#[test]
fn parallel_tests_share_neither_entries_nor_time() {
    // Two tests at once, on two threads, with the same arguments: one lets an hour
    // pass, the other none. Each counts only its own calls.
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let slow = scope.spawn(|| {
            let clock = ManualClock::new();
            let _installed = ScopedClock::install(clock.clone());
            price("SAME");
            barrier.wait();
            clock.advance(Duration::from_secs(3600));
            barrier.wait();
            price("SAME");
            counts()
        });
        let still = scope.spawn(|| {
            let _installed = ScopedClock::install(ManualClock::new());
            price("SAME");
            barrier.wait();
            barrier.wait(); // the other thread's hour has passed, not this one's
            price("SAME");
            counts()
        });
        assert_eq!(slow.join().unwrap(), (0, 2, 1), "an hour later: expired");
        assert_eq!(
            still.join().unwrap(),
            (1, 1, 1),
            "no time passed here: a hit"
        );
    });
}

#[test]
fn production_reads_the_system_clock_and_the_shared_cache() {
    // A thread with nothing installed, as production runs.
    let (before, read, after, shared) = std::thread::spawn(|| {
        let before = SystemClock.now();
        let read = ScopedClock.now();
        let after = SystemClock.now();
        price("SHARED");
        price("SHARED");
        (before, read, after, PRICE.cache_info())
    })
    .join()
    .unwrap();
    assert!(before <= read && read <= after);
    assert!(shared.hits >= 1, "the shared cache served the second call");
    assert_eq!(PRICE.cache_parameters().clock, "scoped");

    // Under an installation, the shared cache's entries are out of sight.
    let _installed = ScopedClock::install(ManualClock::new());
    assert_eq!(counts(), (0, 0, 0));
}

#[test]
fn dropping_the_guard_drops_the_tests_cache() {
    {
        let _installed = ScopedClock::install(ManualClock::new());
        price("GONE");
        assert_eq!(
            PRICE.cache_remove("GONE"),
            Ok(true),
            "the handle's methods too"
        );
        price("GONE");
        assert_eq!(counts(), (0, 2, 1));
    }
    let _again = ScopedClock::install(ManualClock::new());
    assert_eq!(counts(), (0, 0, 0), "a new installation starts empty");
}
