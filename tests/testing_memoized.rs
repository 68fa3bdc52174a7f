//! Testing a memoized function: one attribute, `clock = scoped`, reads the system clock
//! in production and a test's `ManualClock` on the test's thread, so parallel tests move
//! their own time. Tests that share the function's static stay apart by their arguments.

use std::collections::HashMap;
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use jwm_cache::{CacheControls, ManualClock, ScopedClock, SystemClock, time::Clock, ttl_cache};

/// Calls of `price` that computed, per symbol: each test counts its own symbols only.
static COMPUTED: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

fn computed(symbol: &str) -> usize {
    let counts = COMPUTED.lock().unwrap();
    counts
        .as_ref()
        .and_then(|c| c.get(symbol))
        .copied()
        .unwrap_or(0)
}

/// What production code writes, once: no `cfg_attr`, no second attribute for tests.
#[ttl_cache(ttl = "1m", clock = scoped)]
fn price(symbol: &str) -> u64 {
    let mut counts = COMPUTED.lock().unwrap();
    *counts
        .get_or_insert_with(HashMap::new)
        .entry(symbol.to_string())
        .or_default() += 1;
    symbol.len() as u64 * 100
}

#[test]
fn a_test_moves_the_functions_time_on_its_own_thread() {
    let clock = ManualClock::new();
    let _installed = ScopedClock::install(clock.clone());
    assert_eq!(price("ACME"), 400);
    clock.advance(Duration::from_secs(59));
    assert_eq!(price("ACME"), 400);
    assert_eq!(computed("ACME"), 1, "a hit within the TTL");
    clock.advance(Duration::from_secs(1));
    assert_eq!(price("ACME"), 400);
    assert_eq!(
        computed("ACME"),
        2,
        "expired at the TTL, on the test's own time"
    );
}

#[test]
fn without_an_installed_clock_the_function_reads_the_system_clock() {
    let before = SystemClock.now();
    let read = ScopedClock.now();
    assert!(before <= read && read <= SystemClock.now());
    assert_eq!(price("SYS"), 300);
    assert_eq!(price("SYS"), 300);
    assert_eq!(computed("SYS"), 1);
    assert_eq!(PRICE.cache_parameters().clock, "scoped");
}

#[test]
fn parallel_tests_keep_their_own_time_and_their_own_arguments() {
    // Two "tests" at once, on two threads, over the one static: one lets an hour pass,
    // the other none. Each uses symbols of its own, so neither sees the other's entries.
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let clock = ManualClock::new();
            let _installed = ScopedClock::install(clock.clone());
            price("SLOW");
            barrier.wait();
            clock.advance(Duration::from_secs(3600));
            barrier.wait();
            price("SLOW");
            assert_eq!(computed("SLOW"), 2, "an hour later: expired");
        });
        scope.spawn(|| {
            let clock = ManualClock::new();
            let _installed = ScopedClock::install(clock.clone());
            price("STILL");
            barrier.wait();
            barrier.wait(); // the other thread's hour has passed, not this one's
            price("STILL");
            assert_eq!(computed("STILL"), 1, "no time passed here: a hit");
        });
    });
}

#[test]
fn a_test_resets_its_own_entries_through_the_handle() {
    let _installed = ScopedClock::install(ManualClock::new());
    price("RESET");
    // `cache_clear()` would clear every test's entries; `cache_remove` takes only this
    // test's, by the function's own arguments.
    assert_eq!(PRICE.cache_remove("RESET"), Ok(true));
    price("RESET");
    assert_eq!(computed("RESET"), 2);
}
