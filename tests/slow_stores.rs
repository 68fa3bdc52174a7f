//! Callers that miss a key while its value is being stored, by a miss's leader or a
//! refresh, get the value at once: the flight is settled before the store and
//! withdrawn after it, so none of them waits for the store or computes again.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use jwm_cache::{AsyncCache, AsyncCacheBuilder, AsyncMemoized};
use tokio::time::sleep;

/// Callers that miss while the leader stores its value (here 10 s) get the value at
/// once, and nothing runs again: the flight is settled before the store, withdrawn
/// after it.
#[tokio::test(start_paused = true)]
async fn callers_during_a_slow_store_get_the_value_at_once() {
    let backend = common::SlowBackend::<u32, u32>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_secs(10),
    );
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(backend));
    let runs = Arc::new(AtomicUsize::new(0));
    let call = |cache: &Arc<AsyncCache<u32, u32, _, _, _>>| {
        let (cache, runs) = (Arc::clone(cache), Arc::clone(&runs));
        tokio::spawn(async move {
            let began = tokio::time::Instant::now();
            let value = cache
                .get_or_insert_with(1, || async move {
                    runs.fetch_add(1, SeqCst);
                    10
                })
                .await;
            (value, began.elapsed())
        })
    };
    let leader = call(&cache);
    for turn in 0.. {
        if cache.backend().sets_started.load(SeqCst) > 0 {
            break;
        }
        assert!(turn < 100_000, "the store never started");
        sleep(Duration::from_micros(100)).await;
    }
    let (value, took) = call(&cache).await.unwrap();
    assert_eq!(value, 10);
    assert!(
        took < Duration::from_secs(1),
        "waited for the store: {took:?}"
    );
    assert_eq!(leader.await.unwrap().0, 10);
    assert_eq!(runs.load(SeqCst), 1, "computed once");
}

/// The same for a refresh: callers that miss while it stores its value get the value
/// at once. On a multi-thread runtime, where callers wait for a refresh (real time: a
/// store takes 1.5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_during_a_refresh_store_get_the_value_at_once() {
    let clock = jwm_cache::ManualClock::new();
    let backend = common::SlowBackend::<u32, u32>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_millis(1_500),
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Arc::new(
        AsyncMemoized::builder(move |n: u32| {
            let run = counted.fetch_add(1, SeqCst) as u32;
            async move { n * 10 + run }
        })
        .ttl(Duration::from_secs(60))
        .refresh_after(Duration::from_secs(45))
        .clock(clock.clone())
        .build_with_backend(backend),
    );
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(50));
    // Due: the old value, and a refresh whose store then takes 1.5 s.
    assert_eq!(memo.call(1).await, 10);
    for turn in 0.. {
        if memo.cache().backend().sets_started.load(SeqCst) > 1 {
            break;
        }
        assert!(turn < 100_000, "the refresh never stored");
        sleep(Duration::from_micros(100)).await;
    }
    // Expired while the refresh stores: this call joins it.
    clock.advance(Duration::from_secs(20));
    let began = tokio::time::Instant::now();
    assert_eq!(memo.call(1).await, 11, "the refresh's value");
    let took = began.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "waited for the store: {took:?}"
    );
    assert_eq!(runs.load(SeqCst), 2);
}

/// A refresh slower than the TTL gives a value that would expire on arrival: it is not
/// stored (the new value's TTL counts from the refresh's start).
#[tokio::test(start_paused = true)]
async fn a_refresh_slower_than_its_ttl_stores_nothing() {
    let clock = jwm_cache::ManualClock::new();
    let backend = common::SlowBackend::<u32, u32>::new(Duration::from_millis(1));
    let (ticking, runs) = (clock.clone(), Arc::new(AtomicUsize::new(0)));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst) as u32;
        if run > 0 {
            ticking.advance(Duration::from_secs(100));
        }
        async move { n * 10 + run }
    })
    .ttl(Duration::from_secs(60))
    .refresh_after(Duration::from_secs(45))
    .clock(clock.clone())
    .build_with_backend(backend);
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(50));
    assert_eq!(memo.call(1).await, 10, "due: the old value, and a refresh");
    // Long enough, on the paused clock, for the refresh to run and store.
    sleep(Duration::from_secs(1)).await;
    assert_eq!(runs.load(SeqCst), 2, "the refresh ran");
    assert_eq!(memo.cache().backend().sets_started.load(SeqCst), 1);
}
