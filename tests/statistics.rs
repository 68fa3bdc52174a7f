//! Statistics that stay true under load: a caller that waited for another caller's
//! computation is coalesced, not a miss; `hits + misses + coalesced` is the number of
//! calls; a clear resets the counters but never the lifetime totals; the report prints,
//! serializes, and lists every memoized cache of the process.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::{
    AsyncCache, AsyncCacheControls, AsyncMemoized, CacheControls, Memoized, SyncCache, report,
    ttl_cache,
};

const CALLERS: u64 = 100;

/// Spins, yielding, until `done()`, for at most 10 s: a synchronization wait on the
/// cache's own counters, not a timing assumption.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::yield_now();
    }
}

#[test]
fn a_hundred_threads_on_one_key_are_one_miss_and_ninety_nine_coalesced() {
    let cache: Arc<SyncCache<u8, u64>> = Arc::new(SyncCache::new());
    let start = Arc::new(Barrier::new(CALLERS as usize));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (cache, start) = (Arc::clone(&cache), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                cache.get_or_insert_with(7, || {
                    // The one computation holds on until every other caller waits on it.
                    wait_for("the other callers to join", || {
                        cache.info().coalesced == CALLERS - 1
                    });
                    42
                })
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), 42);
    }
    let info = cache.info();
    assert_eq!(
        (info.hits, info.misses, info.coalesced),
        (0, 1, CALLERS - 1)
    );
    assert_eq!(info.hits + info.misses + info.coalesced, CALLERS);
    assert_eq!(info.hit_ratio(), 0.99);

    cache.get_or_insert_with(7, || unreachable!("stored"));
    let info = cache.info();
    assert_eq!((info.hits, info.lifetime.calls()), (1, CALLERS + 1));
}

#[test]
fn a_hundred_tasks_on_one_key_are_counted_without_await() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    let cache: Arc<AsyncCache<u8, u64>> = Arc::new(AsyncCache::new());
    runtime.block_on(async {
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move {
                    let watched = Arc::clone(&cache);
                    cache
                        .get_or_insert_with(7, || async move {
                            // Read with no `.await`, from inside the computation.
                            while watched.counters().coalesced < CALLERS - 1 {
                                tokio::task::yield_now().await;
                            }
                            42
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(
                tokio::time::timeout(Duration::from_secs(10), task)
                    .await
                    .unwrap()
                    .unwrap(),
                42
            );
        }
    });
    let counters = cache.counters();
    assert_eq!(
        (counters.hits, counters.misses, counters.coalesced),
        (0, 1, CALLERS - 1)
    );
    assert_eq!(counters.calls(), CALLERS);
    assert_eq!(cache.cache_counters(), counters);
}

#[test]
fn a_clear_resets_the_counters_but_not_the_lifetime_totals() {
    let cache = SyncCache::<u8, u8>::new();
    cache.get_or_insert_with(1, || 1);
    cache.get_or_insert_with(1, || 1);
    cache.clear().unwrap();
    cache.get_or_insert_with(1, || 1);
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.current_size), (0, 1, 1));
    assert_eq!((info.lifetime.hits, info.lifetime.misses), (1, 2));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cache = AsyncCache::<u8, u8>::new();
        cache.get_or_insert_with(1, || async { 1 }).await;
        cache.get_or_insert_with(1, || async { 1 }).await;
        cache.clear().await.unwrap();
        cache.get_or_insert_with(1, || async { 1 }).await;
        let info = cache.info().await;
        assert_eq!((info.hits, info.misses), (0, 1));
        assert_eq!((info.lifetime.hits, info.lifetime.misses), (1, 2));
        assert_eq!(cache.lifetime_counters(), info.lifetime);
    });
}

#[test]
fn the_report_prints_and_serializes() {
    let cache = SyncCache::<u8, u8>::new();
    cache.get_or_insert_with(1, || 1);
    cache.get_or_insert_with(1, || 1);
    cache.get_or_insert_with(1, || 1);
    let info = cache.info();
    assert_eq!(
        info.to_string(),
        "hits 2, misses 1, coalesced 0, hit ratio 66.7%, size 1, evictions 0, expirations 0, errors 0"
    );
    let json = serde_json::to_value(info).unwrap();
    assert_eq!(json["hits"], 2);
    assert_eq!(json["misses"], 1);
    assert_eq!(json["coalesced"], 0);
    assert_eq!(json["current_size"], 1);
    assert!((json["hit_ratio"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(json["lifetime"]["hits"], 2);
    assert_eq!(
        info.lifetime.to_string(),
        "hits 2, misses 1, coalesced 0, hit ratio 66.7%, evictions 0, expirations 0, errors 0"
    );
    // Before the first call, nothing has been missed yet.
    assert_eq!(SyncCache::<u8, u8>::new().info().hit_ratio(), 1.0);
}

#[ttl_cache(identifier = "statistics_listed_square")]
fn listed_square(n: u64) -> u64 {
    n * n
}

#[ttl_cache]
fn listed_cube(n: u64) -> u64 {
    n * n * n
}

#[ttl_cache(identifier = "statistics_listed_async")]
async fn listed_async(n: u64) -> u64 {
    n + 1
}

fn report_of(identifier: &str) -> Option<report::CacheReport> {
    report::reports()
        .into_iter()
        .find(|r| r.parameters.identifier == identifier)
}

#[test]
fn every_memoized_cache_of_the_process_is_listed() {
    listed_square(3);
    listed_square(3);
    let square = report_of("statistics_listed_square").expect("listed");
    assert_eq!((square.counters.hits, square.counters.misses), (1, 1));
    assert_eq!(square.size, Some(1));
    assert_eq!(square.counters, LISTED_SQUARE.cache_info().counters());

    // A function without an identifier is listed under its own.
    listed_cube(2);
    let cube = LISTED_CUBE.cache_parameters().identifier;
    assert_eq!(report_of(&cube).expect("listed").counters.misses, 1);

    // An async cache reports its counters, but no size: that would need an `.await`.
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(listed_async(1));
    let listed = report_of("statistics_listed_async").expect("listed");
    assert_eq!((listed.counters.misses, listed.size), (1, None));

    // A memoized function built with an identifier is listed while it lives.
    let double = Memoized::builder(|n: u64| n * 2)
        .identifier("statistics_listed_double")
        .build();
    double.call(4);
    assert_eq!(
        report_of("statistics_listed_double")
            .expect("listed")
            .lifetime
            .misses,
        1
    );
    drop(double);
    assert_eq!(
        report_of("statistics_listed_double"),
        None,
        "gone with its last user"
    );

    let async_triple = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("statistics_listed_triple")
        .build();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async_triple.call(1));
    assert_eq!(async_triple.cache_counters().misses, 1);
    assert!(report_of("statistics_listed_triple").is_some());
}
