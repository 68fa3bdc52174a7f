//! A refresh among the other computations of its key: callers that miss the key while
//! a refresh runs (async or sync) wait for it, and a value computed alone meanwhile is
//! not overwritten by the older refresh.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use jwm_cache::backend::Offloaded;
use jwm_cache::memory::MemoryBackend;
use jwm_cache::{AsyncCacheControls, AsyncMemoized, CacheControls, ManualClock, Memoized};
use tokio::sync::Semaphore;

const SECOND: Duration = Duration::from_secs(1);
/// How long a test waits for tasks before failing: never reached when the code works.
const PATIENCE: Duration = Duration::from_secs(60);

/// `n * 10 + run`, counting its runs; the second run (the refresh) waits at `gate`
/// until a permit is added, and keeps it.
fn refresh_waits_at(
    runs: &Arc<AtomicUsize>,
    gate: &Arc<Semaphore>,
) -> impl Fn(u32) -> Pin<Box<dyn Future<Output = u32> + Send>> + Send + Sync + 'static {
    let (runs, gate) = (Arc::clone(runs), Arc::clone(gate));
    move |n| {
        let (run, gate) = (runs.fetch_add(1, SeqCst), Arc::clone(&gate));
        Box::pin(async move {
            if run == 1 {
                gate.acquire().await.unwrap().forget();
            }
            n * 10 + run as u32
        })
    }
}

/// A refresh still running when its entry expires and a caller computes the key anew
/// (alone: single-flight is off) does not overwrite that newer value.
#[tokio::test]
async fn a_slow_refresh_does_not_overwrite_a_newer_value() {
    let clock = ManualClock::new();
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let memo = AsyncMemoized::builder(refresh_waits_at(&runs, &gate))
        .ttl(60 * SECOND)
        .refresh_after(45 * SECOND)
        .single_flight(false)
        .clock(clock.clone())
        .build();
    assert_eq!(memo.call(1).await, 10);
    let held_alone = Arc::strong_count(memo.cache());
    clock.advance(50 * SECOND);
    // Due: the old value, and a refresh (run 1) that waits at the gate.
    assert_eq!(memo.call(1).await, 10);
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert_eq!(runs.load(SeqCst), 2, "the refresh is running");
    // Expired while the refresh runs: this call computes run 2 and stores it.
    clock.advance(20 * SECOND);
    assert_eq!(memo.call(1).await, 12);
    gate.add_permits(1);
    // The refresh's task holds the cache until it ends, its store tried: wait for that.
    for turn in 0.. {
        if Arc::strong_count(memo.cache()) == held_alone {
            break;
        }
        assert!(turn < 100_000, "the refresh never ended");
        tokio::task::yield_now().await;
    }
    assert_eq!(
        memo.cache().get(&1).await.unwrap(),
        Some(12),
        "the older refresh overwrote the newer value"
    );
}

/// Callers that miss a key while its refresh runs (the entry expired meanwhile) wait for
/// the refresh, as for any computation in flight, rather than each compute it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_a_key_expired_during_its_refresh_wait_for_the_refresh() {
    let clock = ManualClock::new();
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let memo = AsyncMemoized::builder(refresh_waits_at(&runs, &gate))
        .ttl(60 * SECOND)
        .refresh_after(45 * SECOND)
        .clock(clock.clone())
        .build();
    assert_eq!(memo.call(1).await, 10);
    clock.advance(50 * SECOND);
    assert_eq!(memo.call(1).await, 10);
    let began = Instant::now();
    while runs.load(SeqCst) < 2 {
        assert!(began.elapsed() < PATIENCE, "the refresh never started");
        tokio::task::yield_now().await;
    }
    clock.advance(20 * SECOND);
    let callers: Vec<_> = (0..32)
        .map(|_| {
            let memo = memo.clone();
            tokio::spawn(async move { memo.call(1).await })
        })
        .collect();
    // Every caller waits for the refresh: counted as a coalesced miss, none computes.
    let began = Instant::now();
    while memo.cache_counters().coalesced < 32 {
        assert!(
            began.elapsed() < PATIENCE,
            "{} of 32 callers waited; runs: {}",
            memo.cache_counters().coalesced,
            runs.load(SeqCst)
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(runs.load(SeqCst), 2, "a caller computed beside the refresh");
    gate.add_permits(1);
    for caller in callers {
        assert_eq!(caller.await.unwrap(), 11, "the refresh's value");
    }
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(memo.cache().get(&1).await.unwrap(), Some(11));
}

/// The same for a sync memoized function, whose refresh runs on the library's refresh
/// threads: callers wait for it once a refresh thread has taken it from the queue. Built
/// by `$build` from `$builder`.
macro_rules! sync_callers_wait_for_the_refresh {
    ($builder:ident => $build:expr) => {{
        let clock = ManualClock::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let (open, opened) = std::sync::mpsc::channel::<()>();
        let opened = std::sync::Mutex::new(opened);
        let counted = Arc::clone(&runs);
        let $builder = Memoized::builder(move |n: u32| {
            let run = counted.fetch_add(1, SeqCst);
            if run == 1 {
                let _ = opened.lock().unwrap().recv_timeout(PATIENCE);
            }
            n * 10 + run as u32
        })
        .ttl(60 * SECOND)
        .refresh_after(45 * SECOND)
        .clock(clock.clone());
        let memo = $build;
        assert_eq!(memo.call(1), 10);
        clock.advance(50 * SECOND);
        assert_eq!(memo.call(1), 10);
        let began = Instant::now();
        while runs.load(SeqCst) < 2 {
            assert!(began.elapsed() < PATIENCE, "the refresh never started");
            std::thread::yield_now();
        }
        clock.advance(20 * SECOND);
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let memo = memo.clone();
                std::thread::spawn(move || memo.call(1))
            })
            .collect();
        let began = Instant::now();
        while memo.cache_info().coalesced < 8 {
            assert_eq!(runs.load(SeqCst), 2, "a caller computed beside the refresh");
            assert!(
                began.elapsed() < PATIENCE,
                "{} of 8 callers waited; runs: {}",
                memo.cache_info().coalesced,
                runs.load(SeqCst)
            );
            std::thread::yield_now();
        }
        assert_eq!(runs.load(SeqCst), 2, "a caller computed beside the refresh");
        open.send(()).unwrap();
        for caller in callers {
            assert_eq!(caller.join().unwrap(), 11, "the refresh's value");
        }
        assert_eq!(runs.load(SeqCst), 2);
    }};
}

#[test]
fn sync_callers_of_a_key_expired_during_its_refresh_wait_for_the_refresh() {
    sync_callers_wait_for_the_refresh!(builder => builder.build());
}

/// The same over an async backend, through a bridge.
#[test]
fn sync_callers_over_an_async_backend_wait_for_the_refresh() {
    let bridge = jwm_cache::Bridge::new().unwrap();
    let backend = Offloaded::new(MemoryBackend::new());
    sync_callers_wait_for_the_refresh!(builder => builder.build_with_async_backend(bridge, backend));
}
