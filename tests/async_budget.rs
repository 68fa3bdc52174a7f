//! A memoized call's budget on a bounded backend: the write gate, the lease's claim,
//! the store and the release share one timeout.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use common::{SlowBackend, slow};
use jwm_cache::{AsyncCache, AsyncCacheBuilder, Ttl};

/// A cache over `backend`, and how long (in real time) its first call took: key 7,
/// computed as "seven".
async fn first_call(
    backend: SlowBackend<u32, String>,
) -> (AsyncCache<u32, String, SlowBackend<u32, String>>, Duration) {
    let cache = AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(backend);
    let began = std::time::Instant::now();
    let value = cache
        .get_or_insert_with(7, || async { "seven".to_string() })
        .await;
    let took = began.elapsed();
    assert_eq!(value, "seven");
    (cache, took)
}

#[tokio::test(start_paused = true)]
async fn a_miss_returns_within_the_call_budget_while_a_clear_runs() {
    // A clear walking a large keyspace holds the write gate for a minute.
    let backend = slow()
        .with_clear_latency(Duration::from_secs(60))
        .with_call_budget(Duration::from_millis(100));
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(backend));
    let clearing = tokio::spawn({
        let cache = Arc::clone(&cache);
        async move { cache.clear().await }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    let began = tokio::time::Instant::now();
    let value = cache
        .get_or_insert_with(7, || async { "seven".to_string() })
        .await;
    assert_eq!(value, "seven");
    // The lookup's 5 ms, then at most the budget for the gate.
    assert!(
        began.elapsed() <= Duration::from_millis(110),
        "{:?}",
        began.elapsed()
    );
    clearing.await.unwrap().unwrap();
    // Not stored: the budget ran out before the gate was free. A store missed, which
    // the next call makes.
    assert_eq!(cache.get(&7).await.unwrap(), None);
}

/// A claim that failed (its server did not answer) is charged to the call's budget,
/// so the store after the computation is not given as long again: the call takes about
/// one timeout, not two. Real time: the budget is wall-clock time.
#[tokio::test]
async fn a_failed_lease_claim_leaves_the_store_no_budget() {
    let budget = Duration::from_millis(400);
    let backend = SlowBackend::<u32, String>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_secs(10),
    )
    .with_call_budget(budget)
    .with_failing_claims(budget);
    let (cache, took) = first_call(backend).await;
    // The claim's 400 ms; before, the store's 400 ms more.
    assert!(took < budget.mul_f64(1.5), "{took:?}");
    // The failed claim is an error, as a failed lookup is; and the store, left no time.
    assert_eq!(cache.info().await.errors, 2);
}

/// A leased call over a backend that answers slowly, each step within its timeout,
/// spends at most its budget there: the claim's round trip is charged as a lookup's,
/// so the store is given only what is left (and fails, its lease given back in the
/// background). Real time: the budget is wall-clock time.
#[tokio::test]
async fn a_leased_call_over_a_slow_backend_spends_at_most_its_budget() {
    let (budget, step) = (Duration::from_millis(400), Duration::from_millis(150));
    let backend = SlowBackend::<u32, String>::new(step)
        .with_call_budget(budget)
        .with_claim_latency(step)
        .with_lease(step);
    let (_, took) = first_call(backend).await;
    // The lookup's and the claim's 300 ms, then the store cut at the 100 ms left;
    // before, the store's 150 ms and the release's 150 ms more (600 ms).
    assert!(took < budget.mul_f64(1.25), "{took:?}");
}

/// A leader gives its lease back within what is left of the call's budget after its
/// store; past that, in the background. Real time: the budget is wall-clock time.
#[tokio::test]
async fn a_slow_release_waits_at_most_the_rest_of_the_budget() {
    let budget = Duration::from_millis(300);
    let backend = SlowBackend::<u32, String>::new(Duration::from_millis(1))
        .with_call_budget(budget)
        .with_lease(Duration::from_secs(10));
    let (cache, took) = first_call(backend).await;
    assert_eq!(cache.get(&7).await.unwrap().as_deref(), Some("seven"));
    // Before, the release's 10 s.
    assert!(took < budget.mul_f64(1.5), "{took:?}");
    let backend = cache.backend();
    let released = |count: &std::sync::atomic::AtomicUsize| count.load(SeqCst);
    assert_eq!(released(&backend.released), 0, "cut short");
    assert_eq!(released(&backend.released_in_background), 1);
}

/// A lease granted by a claim that took the rest of the call's budget is given back
/// before the function computes, not held through it: the store it would fence has no
/// time left, and other processes would wait for nothing. Real time.
#[tokio::test]
async fn a_lease_claimed_with_no_budget_left_is_given_back_before_the_computation() {
    let backend = SlowBackend::<u32, String>::new(Duration::from_millis(1))
        .with_call_budget(Duration::from_millis(100))
        .with_claims_taking_the_budget()
        .with_lease(Duration::from_secs(10));
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(backend));
    let released = |cache: &AsyncCache<u32, String, SlowBackend<u32, String>>| {
        cache.backend().released_in_background.load(SeqCst)
    };
    let watched = Arc::clone(&cache);
    let value = cache
        .get_or_insert_with(7, || async move {
            // Before, still held here: given back only once the store failed.
            assert_eq!(released(&watched), 1, "held through the computation");
            "seven".to_string()
        })
        .await;
    assert_eq!(value, "seven");
    assert_eq!(released(&cache), 1);
}

/// A waiter whose leader was cancelled looks the key up again within what is left of
/// its call's budget, not a fresh timeout: past it, it computes. Real time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_look_after_a_cancelled_leader_spends_only_the_rest_of_the_budget() {
    let (budget, lookup) = (Duration::from_millis(500), Duration::from_millis(400));
    let backend = SlowBackend::<u32, String>::new(lookup).with_call_budget(budget);
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(backend));
    let (started, computing) = tokio::sync::oneshot::channel();
    let leader = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            cache
                .get_or_insert_with(7, || async move {
                    let _ = started.send(());
                    std::future::pending::<String>().await
                })
                .await
        })
    };
    computing.await.unwrap();
    let waiter = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            let value = cache
                .get_or_insert_with(7, || async { "seven".into() })
                .await;
            (value, std::time::Instant::now())
        })
    };
    // The waiter has looked (400 ms of its 500) and joined the leader's flight.
    let began = std::time::Instant::now();
    while cache.counters().coalesced == 0 {
        assert!(began.elapsed() < Duration::from_secs(10), "never joined");
        tokio::task::yield_now().await;
    }
    leader.abort();
    let aborted = std::time::Instant::now();
    let (value, answered) = waiter.await.unwrap();
    assert_eq!(value, "seven");
    // At most the 100 ms left; before, another 400 ms lookup.
    let took = answered.duration_since(aborted);
    assert!(took < Duration::from_millis(250), "{took:?}");
}

/// A value computed with a zero TTL is returned and not stored, and no removal is sent
/// for it: the call's lookup found no live entry, and a removal would be a round trip
/// past the call's budget. A write with a zero TTL still removes the key.
#[tokio::test(start_paused = true)]
async fn a_zero_ttl_computation_sends_no_removal() {
    let cache = AsyncCacheBuilder::new()
        .ttl(Ttl::ZERO)
        .build_with_backend::<u32, String, _>(slow());
    for _ in 0..2 {
        let value = cache
            .get_or_insert_with(7, || async { "seven".into() })
            .await;
        assert_eq!(value, "seven");
    }
    // One lookup per call; before, a removal each too.
    assert_eq!(cache.backend().ops.load(SeqCst), 2);
    cache.insert(7, "seven".into()).await.unwrap();
    assert_eq!(cache.backend().ops.load(SeqCst), 3, "the write's removal");
}

/// A claim that waited out another process's lease, longer than the call's budget, and
/// granted nothing is not charged to that budget: the value computed after it is still
/// stored. Real time: the budget is wall-clock time.
#[tokio::test]
async fn a_long_wait_for_a_lease_leaves_the_store_its_budget() {
    let budget = Duration::from_millis(300);
    let backend = SlowBackend::<u32, String>::new(Duration::from_millis(1))
        .with_call_budget(budget)
        .with_slow_claims(budget * 2);
    let (cache, _) = first_call(backend).await;
    assert_eq!(cache.get(&7).await.unwrap().as_deref(), Some("seven"));
    assert_eq!(cache.counters().errors, 0);
}
