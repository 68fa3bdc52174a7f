//! `#[ttl_cache(refresh_after = ..., stale_if_error = ...)]`: the attribute refreshes
//! hot entries in the background and falls back on stale ones, sync and async.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use jwm_cache::{AsyncCacheControls, CacheControls, ManualClock, ttl_cache};

const PATIENCE: Duration = Duration::from_secs(60);

static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static RUNS: AtomicU64 = AtomicU64::new(0);
static FAILING: AtomicBool = AtomicBool::new(false);

#[ttl_cache(ttl = "10s", refresh_after = "5s", stale_if_error = "1h", clock = manual(CLOCK))]
fn price(item: String, quantity: u64) -> Result<u64, String> {
    let run = RUNS.fetch_add(1, SeqCst);
    if FAILING.load(SeqCst) {
        return Err(format!("no price for {item}"));
    }
    Ok(quantity * 100 + run)
}

#[test]
fn a_sync_function_refreshes_in_the_background_and_falls_back_on_a_stale_value() {
    assert_eq!(price("tea".into(), 2), Ok(200));
    CLOCK.advance(Duration::from_secs(6));
    assert_eq!(
        price("tea".into(), 2),
        Ok(200),
        "a hit, refreshed behind it"
    );
    let began = Instant::now();
    while price("tea".into(), 2) != Ok(201) {
        assert!(began.elapsed() < PATIENCE, "the refresh never landed");
        std::thread::yield_now();
    }
    assert_eq!(PRICE.cache_info().refreshes, 1);
    FAILING.store(true, SeqCst);
    CLOCK.advance(Duration::from_secs(11));
    assert_eq!(
        price("tea".into(), 2),
        Ok(201),
        "stale, as the function failed"
    );
    assert_eq!(PRICE.cache_info().stale_served, 1);
    assert_eq!(
        PRICE.cache_parameters().refresh_after,
        Some(jwm_cache::Ttl::from_secs(5))
    );
}

static ASYNC_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static ASYNC_RUNS: AtomicU64 = AtomicU64::new(0);

#[ttl_cache(ttl = "1m", refresh_after = "30s", clock = manual(ASYNC_CLOCK))]
async fn quote(symbol: String) -> u64 {
    tokio::task::yield_now().await;
    symbol.len() as u64 * 10 + ASYNC_RUNS.fetch_add(1, SeqCst)
}

#[tokio::test]
async fn an_async_function_refreshes_on_a_task_of_the_callers_runtime() {
    assert_eq!(quote("ab".into()).await, 20);
    ASYNC_CLOCK.advance(Duration::from_secs(31));
    let callers: Vec<_> = (0..64).map(|_| tokio::spawn(quote("ab".into()))).collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), 20);
    }
    for _ in 0..10_000 {
        if quote("ab".into()).await == 21 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(quote("ab".into()).await, 21);
    assert_eq!(ASYNC_RUNS.load(SeqCst), 2, "one refresh for 64 hits");
    assert_eq!(QUOTE.cache_counters().refreshes, 1);
}
