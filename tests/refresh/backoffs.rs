//! The wait after a failed refresh: a failing source is asked once per wait, not on
//! every due hit, and the wait counts from the failure.

use super::*;

/// A source that fails slowly (slower than the wait after a failure) still gets its
/// wait: it counts from the failure, not from the refresh's start.
#[test]
fn a_refresh_that_fails_slowly_waits_from_its_failure() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let (counted, slow) = (Arc::clone(&runs), clock.clone());
    let memo = Memoized::fallible_builder(move |n: u32| {
        if counted.fetch_add(1, SeqCst) == 0 {
            return Ok(n);
        }
        slow.advance(2 * SECOND); // longer than the 1 s wait
        Err("down")
    })
    .ttl(60 * SECOND)
    .refresh_after(4 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(7), Ok(7));
    clock.advance(5 * SECOND);
    assert_eq!(memo.try_call(7), Ok(7), "the refresh starts, and fails");
    eventually("the refresh fails", || {
        memo.cache_info().refresh_failures == 1
    });
    assert_eq!(memo.try_call(7), Ok(7));
    assert_eq!(memo.cache_info().refreshes, 1, "asked again at once");
    clock.advance(SECOND);
    assert_eq!(memo.try_call(7), Ok(7));
    assert_eq!(memo.cache_info().refreshes, 2, "once its wait is over");
}

#[tokio::test]
async fn an_async_refresh_that_fails_slowly_waits_from_its_failure() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let (counted, slow) = (Arc::clone(&runs), clock.clone());
    let memo = AsyncMemoized::fallible_builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst);
        let slow = slow.clone();
        async move {
            if run == 0 {
                return Ok(n);
            }
            slow.advance(2 * SECOND); // longer than the 1 s wait
            Err("down")
        }
    })
    .ttl(60 * SECOND)
    .refresh_after(4 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(7).await, Ok(7));
    clock.advance(5 * SECOND);
    assert_eq!(memo.try_call(7).await, Ok(7));
    for _ in 0..10_000 {
        if memo.cache_counters().refresh_failures == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(memo.cache_counters().refresh_failures, 1);
    assert_eq!(memo.try_call(7).await, Ok(7));
    assert_eq!(memo.cache_counters().refreshes, 1, "asked again at once");
    clock.advance(SECOND);
    assert_eq!(memo.try_call(7).await, Ok(7));
    assert_eq!(memo.cache_counters().refreshes, 2, "once its wait is over");
}
