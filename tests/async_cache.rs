//! AsyncCache: the sync cache's semantics, awaited, over real async I/O.
#![cfg(feature = "async")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use common::{Down, SlowBackend, slow};
use jwm_cache::backend::{Offloaded, Sharded};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncMemoized, Error, ManualClock, Ttl, codec::Postcard,
    memory::MemoryBackend,
};

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(start_paused = true)]
async fn ttl_counters_and_clear_match_the_sync_cache() {
    let clock = ManualClock::new();
    let cache = AsyncCacheBuilder::new()
        .ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .build_with_backend::<u32, String, _>(slow());
    cache.insert(1, "one".into()).await.unwrap();
    cache
        .insert_with_ttl(2, "forever".into(), Ttl::NEVER)
        .await
        .unwrap();
    cache
        .insert_with_ttl(3, "nothing".into(), Ttl::ZERO)
        .await
        .unwrap();
    assert_eq!(cache.get(&1).await.unwrap().as_deref(), Some("one"));
    assert_eq!(cache.get(&3).await.unwrap(), None);

    clock.advance(Duration::from_secs(10)); // key 1 is at its deadline: expired
    assert_eq!(cache.get(&1).await.unwrap(), None);
    assert_eq!(cache.get(&2).await.unwrap().as_deref(), Some("forever"));
    let info = cache.info().await;
    assert_eq!(
        (info.hits, info.misses, info.current_size, info.errors),
        (2, 2, 1, 0)
    );

    assert_eq!(cache.remove(&2).await, Ok(true));
    assert_eq!(cache.remove(&2).await, Ok(false));
    cache.insert(4, "four".into()).await.unwrap();
    cache.clear().await.unwrap();
    let info = cache.info().await;
    assert_eq!((info.hits, info.misses, info.current_size), (0, 0, 0));
    let p = cache.parameters();
    assert_eq!(
        (p.ttl, p.backend, p.codec, p.clock),
        (Ttl::from_secs(10), "slow", "identity", "manual")
    );
}

#[tokio::test(start_paused = true)]
async fn a_dead_backend_still_yields_computed_values_and_counts_errors() {
    let cache = AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(slow());
    cache.backend().set_down(true);
    let v = cache
        .get_or_insert_with(1, || async { "computed".to_string() })
        .await;
    assert_eq!(v, "computed");
    assert_eq!(cache.get(&1).await, Err(Error::Backend(Down)));
    let info = cache.info().await;
    // The lookup and the store of the memoized call, the plain get, and `len`.
    assert_eq!((info.misses, info.errors, info.current_size), (2, 4, 0));

    cache.backend().set_down(false);
    let v = cache
        .get_or_insert_with(1, || async { "again".to_string() })
        .await;
    assert_eq!(v, "again");
    assert_eq!(cache.get(&1).await.unwrap().as_deref(), Some("again"));
}

#[tokio::test(start_paused = true)]
async fn corrupt_bytes_are_a_miss_and_are_overwritten() {
    let bytes = SlowBackend::<u32, Vec<u8>>::new(Duration::from_millis(1));
    let cache = AsyncCacheBuilder::new()
        .serializer(Postcard)
        .build_with_backend::<u32, Vec<String>, _>(bytes);
    // 0xFF is not a valid postcard length for this type.
    jwm_cache::backend::AsyncBackend::set(
        cache.backend(),
        1,
        vec![0xFF; 3],
        Ttl::NEVER.deadline_from(jwm_cache::time::Instant::ZERO),
        jwm_cache::time::Instant::ZERO,
    )
    .await
    .unwrap();
    assert!(matches!(cache.get(&1).await, Err(Error::Codec(_))));
    let v = cache
        .get_or_insert_with(1, || async { vec!["ok".to_string()] })
        .await;
    assert_eq!(v, vec!["ok".to_string()]);
    assert_eq!(cache.get(&1).await.unwrap(), Some(vec!["ok".to_string()]));
}

/// A caller that joined a refresh gets its value at once while a `clear` holds the
/// write gate: the refresh settles its callers before it waits for the gate. The
/// budget outlasts the clear, so only the settling can answer the caller in time. Real time, on a multi-thread runtime,
/// where callers wait for a refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_a_refresh_do_not_wait_out_a_clear() {
    let clock = ManualClock::new();
    let backend = SlowBackend::<u32, u32>::new(Duration::from_millis(1))
        .with_clear_latency(Duration::from_secs(5))
        .with_call_budget(Duration::from_secs(30));
    let refreshing = Arc::new(tokio::sync::Semaphore::new(0));
    let (go, runs) = (Arc::clone(&refreshing), Arc::new(AtomicUsize::new(0)));
    let counted = Arc::clone(&runs);
    let memo = Arc::new(
        AsyncMemoized::builder(move |n: u32| {
            let (go, run) = (Arc::clone(&go), counted.fetch_add(1, SeqCst) as u32);
            async move {
                if run > 0 {
                    go.acquire().await.unwrap().forget();
                }
                n * 10 + run
            }
        })
        .ttl(Duration::from_secs(60))
        .refresh_after(Duration::from_secs(45))
        .clock(clock.clone())
        .build_with_backend(backend),
    );
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(50));
    // Due: the old value, and a refresh that computes until let go.
    assert_eq!(memo.call(1).await, 10);
    wait_until("the refresh runs", || runs.load(SeqCst) == 2).await;
    // Expired: this caller joins the refresh.
    clock.advance(Duration::from_secs(20));
    let joined = tokio::spawn({
        let memo = Arc::clone(&memo);
        async move {
            let value = memo.call(1).await;
            (value, std::time::Instant::now())
        }
    });
    wait_until("the caller joins", || {
        memo.cache().counters().coalesced == 1
    })
    .await;
    let clearing = tokio::spawn({
        let memo = Arc::clone(&memo);
        async move { memo.cache().clear().await }
    });
    let backend = memo.cache().backend();
    wait_until("the clear starts", || {
        backend.clears_started.load(SeqCst) == 1
    })
    .await;
    let computed = std::time::Instant::now();
    refreshing.add_permits(1);
    let (value, answered) = joined.await.unwrap();
    assert_eq!(value, 11, "the refresh's value");
    let waited = answered - computed;
    assert!(
        waited < Duration::from_secs(2),
        "waited out the clear: {waited:?}"
    );
    assert_eq!(runs.load(SeqCst), 2, "nothing computed beside the refresh");
    clearing.abort();
}

/// Polls `done` every millisecond, for at most 10 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let began = std::time::Instant::now();
    while !done() {
        assert!(began.elapsed() < Duration::from_secs(10), "{what}: never");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn futures_are_send_so_calls_can_be_spawned() {
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, String, _>(slow()));
    let get = cache.get(&1);
    assert_send(&get);
    drop(get);
    let try_get = cache.try_get_or_insert_with(1, || async { Ok::<_, String>("x".to_string()) });
    assert_send(&try_get);
    drop(try_get);
    let method = jwm_cache::AsyncMemoizedMethod::new(
        |s: &String| s.len(),
        async |s: &String, n: u32| s.len() as u32 + n,
    );
    let receiver = "abc".to_string();
    let call = method.call(&receiver, 1);
    assert_send(&call);
    assert_eq!(call.await, 4);
    let memo = Arc::new(AsyncMemoized::new(|n: u32| async move { n * 2 }));
    let spawned = {
        let (cache, memo) = (Arc::clone(&cache), Arc::clone(&memo));
        tokio::spawn(async move {
            let v = cache
                .get_or_insert_with(1, || async { "x".to_string() })
                .await;
            (v, memo.call(21).await)
        })
    };
    assert_eq!(spawned.await.unwrap(), ("x".to_string(), 42));
}

#[tokio::test]
async fn sync_backends_serve_async_calls() {
    // In memory, inline behind sharded locks.
    let sharded: AsyncCache<u32, u32> = AsyncCache::new();
    assert_eq!(sharded.get_or_insert_with(1, || async { 10 }).await, 10);
    assert_eq!(sharded.get(&1).await, Ok(Some(10)));
    assert!(sharded.backend().shard_count().is_power_of_two());

    // Any sync backend, on the blocking pool.
    let blocking = AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(Offloaded::new(
        MemoryBackend::<u32, u32>::with_capacity(2),
    ));
    for k in 0..3 {
        blocking.insert(k, k).await.unwrap();
    }
    let info = blocking.info().await;
    assert_eq!((info.current_size, info.evictions), (2, 1));
    assert_eq!(blocking.parameters().capacity, Some(2));

    let bounded = AsyncCacheBuilder::new().capacity(4096).build::<u32, u32>();
    assert_eq!(bounded.parameters().capacity, Some(4096));
    let _: &Sharded<MemoryBackend<u32, u32>> = bounded.backend();
}

/// A refresh that finds the key's lease held by another process does not run, and its
/// process starts no refresh of the key, nor asks again, until the backoff has passed
/// on the cache's clock. On a current-thread runtime, a refresh task runs only when
/// the test yields.
#[tokio::test(flavor = "current_thread")]
async fn a_refresh_that_finds_the_lease_held_backs_off_on_the_cache_s_clock() {
    let clock = ManualClock::new();
    let backend =
        SlowBackend::<u32, u32>::new(Duration::ZERO).with_busy_refreshes(Duration::from_secs(10));
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::builder(move |n: u32| {
        counted.fetch_add(1, SeqCst);
        async move { n * 10 }
    })
    .identifier("backs-off")
    .ttl(Duration::from_secs(60))
    .refresh_after(Duration::from_secs(30))
    .clock(clock.clone())
    .build_with_backend(backend);
    let asked = || memo.cache().backend().refresh_claims.load(SeqCst);
    let due_hits = || async {
        for _ in 0..20 {
            assert_eq!(memo.call(1).await, 10);
            tokio::task::yield_now().await;
        }
    };
    assert_eq!(memo.call(1).await, 10);
    clock.advance(Duration::from_secs(40));
    due_hits().await;
    assert_eq!(
        (asked(), runs.load(SeqCst)),
        (1, 1),
        "asked once, refreshed never"
    );
    // The backoff counts from the refresh's start, at 40 s.
    clock.advance(Duration::from_secs(9));
    due_hits().await;
    assert_eq!(asked(), 1, "asked again within the backoff");
    clock.advance(Duration::from_secs(1));
    due_hits().await;
    assert_eq!(asked(), 2, "never asked again");
    let counters = memo.cache().counters();
    assert_eq!((counters.refreshes, counters.refresh_failures), (2, 0));
}
