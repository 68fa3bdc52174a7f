//! Every pairing of {sync, async} function with {sync, async} backend, with a real
//! async backend (one that yields and sleeps) and a sync one that really blocks.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::gated::{GatedBackend, open_gate};
use common::{SlowBackend, within};
use jwm_cache::backend::Offloaded;
use jwm_cache::error::BridgeError;
use jwm_cache::{AsyncCacheBuilder, AsyncMemoized, BlockingCache, Bridge, ManualClock, Memoized};
use jwm_cache::{AsyncCacheControls, CacheControls};

fn slow() -> SlowBackend<u64, u64> {
    SlowBackend::new(Duration::from_millis(1))
}

/// A sync function that counts its runs.
fn counted_double(runs: &Arc<AtomicUsize>) -> impl Fn(u64) -> u64 + Send + Sync + 'static {
    let runs = Arc::clone(runs);
    move |n| {
        runs.fetch_add(1, SeqCst);
        n * 2
    }
}

#[test]
fn sync_function_sync_backend() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Memoized::new(counted_double(&runs));
    assert_eq!((memo.call(4), memo.call(4)), (8, 8));
    assert_eq!(runs.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn async_function_in_memory_backend() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let double = counted_double(&runs);
    let memo = AsyncMemoized::builder(move |n: u64| std::future::ready(double(n)))
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build();
    assert_eq!((memo.call(4).await, memo.call(4).await), (8, 8));
    clock.advance(Duration::from_secs(1));
    assert_eq!(memo.call(4).await, 8);
    assert_eq!(
        runs.load(SeqCst),
        2,
        "expired at its deadline and recomputed"
    );
    assert_eq!(memo.cache_parameters().backend, "memory");
}

#[test]
fn async_function_blocking_sync_backend_never_blocks_the_executor() {
    within(60, || {
        // One executor thread: if the backend's blocking lookup ran on it, the task that
        // opens the gate could never run.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let gate = Arc::new((Mutex::new(false), Condvar::new()));
            let backend = GatedBackend::new(&gate);
            let memo = AsyncMemoized::builder(|n: u64| async move { n + 1 })
                .build_with_backend(Offloaded::new(backend));
            let (value, ()) = tokio::join!(memo.call(1), async { open_gate(&gate) });
            assert_eq!(value, 2);
            assert_eq!(memo.call(1).await, 2);
            assert_eq!(memo.cache_info().await.hits, 1);
        });
    });
}

#[tokio::test(start_paused = true)]
async fn async_function_async_backend() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let double = counted_double(&runs);
    let memo = AsyncMemoized::builder(move |n: u64| std::future::ready(double(n)))
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build_with_backend(slow());
    assert_eq!((memo.call(4).await, memo.call(4).await), (8, 8));
    assert!(
        memo.cache().backend().ops.load(SeqCst) >= 3,
        "the backend was really used"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(memo.call(4).await, 8);
    assert_eq!(runs.load(SeqCst), 2);
    let info = memo.cache_info().await;
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 1));
}

type Bridged = Memoized<
    Box<dyn Fn(u64) -> u64 + Send + Sync>,
    BlockingCache<u64, u64, SlowBackend<u64, u64>, jwm_cache::codec::Identity, ManualClock>,
>;

/// A sync function over the async backend, through a bridge of its own.
fn bridged(runs: &Arc<AtomicUsize>, clock: &ManualClock) -> Bridged {
    let double: Box<dyn Fn(u64) -> u64 + Send + Sync> = Box::new(counted_double(runs));
    Memoized::builder(double)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .build_with_async_backend(Bridge::new().unwrap(), slow())
}

/// What every context must show: values, hits, and expiry at the deadline (the
/// original's sync-over-async entries never expired).
fn exercise(memo: &Bridged, runs: &AtomicUsize, clock: &ManualClock) {
    assert_eq!((memo.call(4), memo.call(4)), (8, 8));
    assert_eq!(runs.load(SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(memo.call(4), 8);
    assert_eq!(runs.load(SeqCst), 2, "expired and recomputed");
    let info = memo.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 1));
    assert_eq!(memo.cache_parameters().backend, "slow");
    memo.cache_clear();
    assert_eq!(memo.cache_info().current_size, 0);
}

fn fresh() -> (Arc<AtomicUsize>, ManualClock) {
    (Arc::new(AtomicUsize::new(0)), ManualClock::new())
}

#[test]
fn sync_function_async_backend_outside_any_runtime() {
    within(60, || {
        let (runs, clock) = fresh();
        exercise(&bridged(&runs, &clock), &runs, &clock);
    });
}

#[test]
fn sync_function_async_backend_inside_a_multi_thread_runtime() {
    within(60, || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // On the thread that entered the runtime.
        runtime.block_on(async {
            let (runs, clock) = fresh();
            exercise(&bridged(&runs, &clock), &runs, &clock);
        });
        // On a worker, inside a task.
        let on_worker = runtime.spawn(async {
            let (runs, clock) = fresh();
            exercise(&bridged(&runs, &clock), &runs, &clock);
        });
        runtime.block_on(on_worker).unwrap();
    });
}

#[test]
fn sync_function_async_backend_inside_a_current_thread_runtime() {
    within(60, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // Another task on this runtime, which the blocking call must not need.
            let ticker = tokio::spawn(async {
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
            let (runs, clock) = fresh();
            exercise(&bridged(&runs, &clock), &runs, &clock);
            let spawned = tokio::spawn(async {
                let (runs, clock) = fresh();
                exercise(&bridged(&runs, &clock), &runs, &clock);
            });
            spawned.await.unwrap();
            ticker.abort();
        });
    });
}

#[test]
fn a_sync_caller_and_an_async_task_share_one_computation() {
    within(60, || {
        let bridge = Bridge::new().unwrap();
        let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u64, u64, _>(slow()));
        let blocking = BlockingCache::new(Arc::clone(&cache), bridge.clone());
        let runs = Arc::new(AtomicUsize::new(0));
        let (started, release) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(tokio::sync::Semaphore::new(0)),
        );
        // The sync caller leads and holds its computation until the async task waits.
        let sync_caller = {
            let (runs, started) = (Arc::clone(&runs), Arc::clone(&started));
            let release = Arc::clone(&release);
            std::thread::spawn(move || {
                blocking.get_or_insert_with(9, || {
                    runs.fetch_add(1, SeqCst);
                    started.store(1, SeqCst);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    drop(rt.block_on(release.acquire()));
                    90
                })
            })
        };
        while started.load(SeqCst) == 0 {
            std::thread::yield_now();
        }
        let task = {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            let cache_of_waiter = Arc::clone(&cache);
            bridge.run(async move {
                let waiter = tokio::spawn(async move {
                    cache
                        .get_or_insert_with(9, || async move {
                            runs.fetch_add(1, SeqCst);
                            -1i64 as u64
                        })
                        .await
                });
                // The waiter joins the flight in the same poll that counts its miss,
                // and the leader cannot settle before it is released.
                while cache_of_waiter.counters().calls() < 2 {
                    tokio::task::yield_now().await;
                }
                release.add_permits(1);
                waiter.await.unwrap()
            })
        };
        assert_eq!(sync_caller.join().unwrap(), 90);
        assert_eq!(task.unwrap(), 90);
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn a_panicking_sync_function_over_the_bridge_recomputes_next_time() {
    within(60, || {
        let (runs, clock) = fresh();
        let first = Arc::new(AtomicUsize::new(0));
        let flaky = {
            let first = Arc::clone(&first);
            let double = counted_double(&runs);
            Box::new(move |n: u64| {
                if first.fetch_add(1, SeqCst) == 0 {
                    panic!("first run panics");
                }
                double(n)
            }) as Box<dyn Fn(u64) -> u64 + Send + Sync>
        };
        let memo: Bridged = Memoized::builder(flaky)
            .clock(clock)
            .build_with_async_backend(Bridge::new().unwrap(), slow());
        let memo = Arc::new(memo);
        let panicked = {
            let memo = Arc::clone(&memo);
            std::thread::spawn(move || memo.call(3)).join()
        };
        assert!(panicked.is_err());
        assert_eq!(memo.call(3), 6);
        assert_eq!(memo.call(3), 6);
        assert_eq!(runs.load(SeqCst), 1);
    });
}

#[test]
fn a_sync_function_still_gets_its_value_when_the_async_backend_is_down() {
    within(60, || {
        let (runs, clock) = fresh();
        let memo = bridged(&runs, &clock);
        memo.cache().cache().backend().set_down(true);
        assert_eq!((memo.call(5), memo.call(5)), (10, 10));
        assert_eq!(runs.load(SeqCst), 2, "nothing could be stored");
        // Two lookups, two stores, and the size `cache_info` asked for.
        assert_eq!(memo.cache_info().errors, 5);
    });
}

#[test]
fn a_sync_call_on_a_current_thread_runtime_does_not_wait_for_a_task_of_that_runtime() {
    within(60, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cache = Arc::new(AsyncCacheBuilder::new().build::<u64, u64>());
        let blocking = BlockingCache::new(Arc::clone(&cache), Bridge::new().unwrap());
        runtime.block_on(async {
            let gate = Arc::new(tokio::sync::Notify::new());
            let leader = {
                let (cache, gate) = (Arc::clone(&cache), Arc::clone(&gate));
                tokio::spawn(async move {
                    cache
                        .get_or_insert_with(1, || async move {
                            gate.notified().await;
                            10
                        })
                        .await
                })
            };
            while cache.info().await.misses == 0 {
                tokio::task::yield_now().await;
            }
            // This blocks the runtime's one thread, which the leading task needs: the
            // call computes alone instead of waiting for it.
            assert_eq!(blocking.get_or_insert_with(1, || 20), 20);
            gate.notify_one();
            assert_eq!(leader.await.unwrap(), 10);
        });
    });
}

/// A sync write on a current-thread runtime's thread, while a task of that runtime holds
/// the write gate across a store that needs the thread: it gives up after a bound,
/// writing nothing, rather than block the runtime for ever.
#[test]
fn a_sync_write_on_a_current_thread_runtime_gives_up_on_a_gate_its_tasks_hold() {
    within(60, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let backend =
            SlowBackend::<u32, u32>::with_write_latency(Duration::ZERO, Duration::from_millis(50));
        let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend(backend));
        let blocking = BlockingCache::new(Arc::clone(&cache), Bridge::new().unwrap());
        let bound = BlockingCache::<(), (), (), (), ()>::GATE_WAIT;
        runtime.block_on(async {
            let storing = {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get_or_insert_with(1, || async { 10 }).await })
            };
            // Its store has begun: it holds the gate, sleeping on this runtime's timer.
            while cache.backend().sets_started.load(SeqCst) == 0 {
                tokio::task::yield_now().await;
            }
            let started = std::time::Instant::now();
            assert_eq!(blocking.remove(&2), Err(BridgeError::Busy(bound)));
            assert!(started.elapsed() >= bound, "{:?}", started.elapsed());
            assert_eq!(storing.await.unwrap(), 10);
            // The gate is free again: writes go through.
            assert_eq!(blocking.remove(&1), Ok(true));
        });
    });
}

#[test]
fn a_task_computing_a_key_may_ask_for_it_through_the_bridge() {
    within(60, || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cache = Arc::new(AsyncCacheBuilder::new().build::<u64, u64>());
        let blocking = Arc::new(BlockingCache::new(
            Arc::clone(&cache),
            Bridge::new().unwrap(),
        ));
        let outer = runtime.spawn(async move {
            cache
                .get_or_insert_with(1, || async move {
                    // A sync call, from inside the leading task's own computation.
                    blocking.get_or_insert_with(1, || 5) + 1
                })
                .await
        });
        assert_eq!(runtime.block_on(outer).unwrap(), 6);
    });
}
