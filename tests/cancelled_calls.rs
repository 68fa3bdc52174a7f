//! Async calls dropped part way (a caller's timeout, an aborted task): what they leave
//! behind is settled, given back or handed over, never left to wait out.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use common::SlowBackend;
use jwm_cache::AsyncCacheBuilder;
use tokio::time::{sleep, timeout};

/// A call dropped while it gives its lease back (a failed computation's) leaves the
/// lease to be given back in the background, not held until it runs out.
#[tokio::test(start_paused = true)]
async fn a_call_dropped_during_its_release_still_gives_the_lease_back() {
    let backend =
        SlowBackend::<u32, u32>::new(Duration::from_millis(1)).with_lease(Duration::from_secs(1));
    let cache = AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(backend);
    let call = cache.try_get_or_insert_with(1, || async { Err::<u32, _>("down") });
    // The release takes 1 s: the call is dropped during it.
    assert!(timeout(Duration::from_millis(500), call).await.is_err());
    let backend = cache.backend();
    assert_eq!(backend.released.load(SeqCst), 0);
    assert_eq!(backend.released_in_background.load(SeqCst), 1);
}

/// A leader dropped while it waits for the write gate (a `clear` holds it) has already
/// handed its value to the callers waiting on it: none of them computes again.
#[tokio::test(start_paused = true)]
async fn a_leader_dropped_while_waiting_for_the_gate_has_settled_its_waiters() {
    let backend = SlowBackend::<u32, u32>::new(Duration::from_millis(1))
        .with_clear_latency(Duration::from_secs(60))
        .with_call_budget(Duration::from_secs(30));
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(backend));
    let runs = Arc::new(AtomicUsize::new(0));
    let compute = |value: u32| {
        let runs = Arc::clone(&runs);
        move || async move {
            runs.fetch_add(1, SeqCst);
            sleep(Duration::from_millis(100)).await;
            value
        }
    };
    let clearing = tokio::spawn({
        let cache = Arc::clone(&cache);
        async move { cache.clear().await }
    });
    sleep(Duration::from_millis(10)).await;
    // The leader computes for 100 ms, then waits for the gate until its caller gives up.
    let leader = tokio::spawn({
        let (cache, compute) = (Arc::clone(&cache), compute(10));
        async move {
            timeout(
                Duration::from_millis(300),
                cache.get_or_insert_with(1, compute),
            )
            .await
        }
    });
    sleep(Duration::from_millis(10)).await;
    let waiter = tokio::spawn({
        let (cache, compute) = (Arc::clone(&cache), compute(20));
        async move { cache.get_or_insert_with(1, compute).await }
    });
    assert!(
        leader.await.unwrap().is_err(),
        "the leader's caller gave up"
    );
    assert_eq!(waiter.await.unwrap(), 10, "the leader's value");
    assert_eq!(runs.load(SeqCst), 1, "computed once");
    clearing.abort();
}
