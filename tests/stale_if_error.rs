//! Serve stale on error in memory: after its TTL an entry is kept for `stale_if_error`,
//! never as a hit, but as what a call returns when its computation fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::{
    AsyncCacheControls, AsyncMemoized, CacheControls, ManualClock, Memoized, SyncCache, Ttl,
};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn a_failing_call_gets_the_stale_value_within_the_window_and_the_error_after() {
    let clock = ManualClock::new();
    let failing = Arc::new(AtomicBool::new(false));
    let down = Arc::clone(&failing);
    let memo = Memoized::fallible_builder(move |n: u32| {
        if down.load(SeqCst) {
            Err("down")
        } else {
            Ok(n * 2)
        }
    })
    .ttl(10 * SECOND)
    .stale_if_error(5 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(
        memo.cache_parameters().stale_if_error,
        Some(Ttl::from_secs(5))
    );
    assert_eq!(memo.try_call(4), Ok(8));
    failing.store(true, SeqCst);
    clock.advance(10 * SECOND);
    // Expired: not a hit, for a plain read either.
    assert_eq!(memo.cache().get(&4).unwrap(), None);
    assert_eq!(memo.try_call(4), Ok(8), "the stale value, at the TTL");
    clock.advance(5 * SECOND - Duration::from_nanos(1));
    assert_eq!(
        memo.try_call(4),
        Ok(8),
        "the stale value, at the window's end"
    );
    let info = memo.cache_info();
    assert_eq!((info.hits, info.misses, info.stale_served), (0, 4, 2));
    clock.advance(Duration::from_nanos(1));
    assert_eq!(memo.try_call(4), Err("down"), "after the window, the error");
    let info = memo.cache_info();
    assert_eq!((info.misses, info.stale_served), (5, 2));
    assert_eq!(info.current_size, 0);
}

#[test]
fn a_successful_call_replaces_the_stale_value() {
    let clock = ManualClock::new();
    let cache = SyncCache::builder()
        .ttl(10 * SECOND)
        .stale_if_error(60 * SECOND)
        .clock(clock.clone())
        .build::<u32, u32>();
    cache.insert(1, 1).unwrap();
    clock.advance(10 * SECOND);
    // Kept for its window, so it is in the size; never a hit.
    assert_eq!(cache.info().current_size, 1);
    assert_eq!(cache.get(&1).unwrap(), None);
    assert_eq!(cache.try_get_or_insert_with(1, || Ok::<_, ()>(2)), Ok(2));
    assert_eq!(cache.get(&1).unwrap(), Some(2));
    assert_eq!(cache.info().stale_served, 0);
}

#[test]
fn callers_waiting_on_a_failed_computation_get_the_stale_value_too() {
    let clock = ManualClock::new();
    let cache = SyncCache::builder()
        .ttl(SECOND)
        .stale_if_error(60 * SECOND)
        .clock(clock.clone())
        .build::<u32, u32>();
    cache.insert(1, 1).unwrap();
    clock.advance(SECOND);
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let cache = cache.clone();
            thread::spawn(move || {
                let waiting = cache.clone();
                cache.try_get_or_insert_with(1, move || {
                    // Fails only once the seven other callers wait for this computation.
                    let began = Instant::now();
                    while waiting.info().coalesced < 7 {
                        assert!(began.elapsed() < Duration::from_secs(60));
                        thread::yield_now();
                    }
                    Err::<u32, _>("down")
                })
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), Ok(1));
    }
    let info = cache.info();
    assert_eq!((info.misses, info.coalesced, info.stale_served), (1, 7, 8));
}

#[tokio::test]
async fn an_async_function_falls_back_on_the_stale_value() {
    let clock = ManualClock::new();
    let failing = Arc::new(AtomicBool::new(false));
    let down = Arc::clone(&failing);
    let memo = AsyncMemoized::fallible_builder(move |n: u32| {
        let fail = down.load(SeqCst);
        async move { if fail { Err("down") } else { Ok(n + 1) } }
    })
    .ttl(10 * SECOND)
    .stale_if_error(5 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(1).await, Ok(2));
    failing.store(true, SeqCst);
    clock.advance(12 * SECOND);
    assert_eq!(memo.cache().get(&1).await.unwrap(), None);
    // Stale, still held: neither lookup serves it.
    assert_eq!(memo.cache().get_many(&[1]).await.unwrap(), vec![None]);
    assert_eq!(memo.try_call(1).await, Ok(2));
    assert_eq!(memo.cache_counters().stale_served, 1);
    clock.advance(3 * SECOND);
    assert_eq!(memo.try_call(1).await, Err("down"));
}

#[test]
fn refresh_and_stale_together_refresh_before_the_ttl_and_fall_back_after_it() {
    let clock = ManualClock::new();
    let failing = Arc::new(AtomicBool::new(false));
    let down = Arc::clone(&failing);
    let memo = Memoized::fallible_builder(move |n: u32| {
        if down.load(SeqCst) {
            Err("down")
        } else {
            Ok(n)
        }
    })
    .ttl(10 * SECOND)
    .refresh_after(5 * SECOND)
    .stale_if_error(SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(3), Ok(3));
    failing.store(true, SeqCst);
    clock.advance(6 * SECOND);
    assert_eq!(memo.try_call(3), Ok(3), "a hit; its refresh fails");
    let began = Instant::now();
    while memo.cache_info().refresh_failures == 0 {
        assert!(began.elapsed() < Duration::from_secs(60), "no refresh ran");
        thread::yield_now();
    }
    assert_eq!(memo.cache_info().refreshes, 1);
    clock.advance(4 * SECOND);
    assert_eq!(memo.try_call(3), Ok(3), "stale, and the function failed");
    assert_eq!(memo.cache_info().stale_served, 1);
    clock.advance(SECOND);
    assert_eq!(memo.try_call(3), Err("down"), "past the window");
    failing.store(false, SeqCst);
    assert_eq!(memo.try_call(3), Ok(3));
}

#[test]
fn time_to_idle_is_not_used_with_freshening() {
    let cache = SyncCache::builder()
        .time_to_idle(SECOND)
        .stale_if_error(SECOND)
        .build::<u32, u32>();
    assert_eq!(cache.parameters().time_to_idle, None);
}

/// The window is checked when the stale value would be served: a computation that fails
/// after the window ended gets its error, though the value was within it when found.
#[test]
fn a_computation_failing_after_the_window_gets_its_error() {
    let clock = ManualClock::new();
    let cache = SyncCache::builder()
        .ttl(10 * SECOND)
        .stale_if_error(5 * SECOND)
        .clock(clock.clone())
        .build::<u32, u32>();
    cache.insert(1, 1).unwrap();
    clock.advance(14 * SECOND);
    let slow_failure = || {
        // Found 1 s before the window's end; fails 2 s later.
        clock.advance(2 * SECOND);
        Err::<u32, _>("down")
    };
    assert_eq!(cache.try_get_or_insert_with(1, slow_failure), Err("down"));
    assert_eq!(cache.info().stale_served, 0);
}

#[tokio::test]
async fn an_async_computation_failing_after_the_window_gets_its_error() {
    let clock = ManualClock::new();
    let advancing = clock.clone();
    let memo = AsyncMemoized::fallible_builder(move |_: u32| {
        let clock = advancing.clone();
        async move {
            clock.advance(2 * SECOND);
            Err::<u32, _>("down")
        }
    })
    .ttl(10 * SECOND)
    .stale_if_error(5 * SECOND)
    .clock(clock.clone())
    .build();
    memo.cache().insert(1, 1).await.unwrap();
    clock.advance(14 * SECOND);
    assert_eq!(memo.try_call(1).await, Err("down"));
    assert_eq!(memo.cache_info().await.stale_served, 0);
    // Within the window all along: the stale value.
    memo.cache().insert(2, 2).await.unwrap();
    clock.advance(10 * SECOND);
    assert_eq!(memo.try_call(2).await, Ok(2));
}
