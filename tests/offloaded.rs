//! `Offloaded`, a sync backend run on tokio's blocking pool: operations run in the order
//! they were called, a panic fails one, a missing or dead runtime is an error, and a
//! stalled backend costs a call its timeout once.
#![cfg(feature = "async")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant as WallClock};

use common::gated::{GatedBackend, OpenOnDrop, open_gate};
use common::within;
use jwm_cache::backend::{AsyncBackend, AsyncLookup, Deadline, OffloadError, Offloaded};
use jwm_cache::{AsyncCacheControls, AsyncMemoized, memory::MemoryBackend, time::Instant};

#[test]
fn a_blocking_backend_outside_a_runtime_is_an_error_not_a_panic() {
    let store = Offloaded::new(MemoryBackend::<u32, u32>::new());
    let result = poll_to_end(AsyncBackend::len(&store, Instant::ZERO));
    assert_eq!(result, Err(OffloadError::NoRuntime));
}

/// A runtime of two workers, with time and I/O.
fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_blocking_backend_runs_operations_in_the_order_they_were_called() {
    within(60, || {
        let runtime = two_workers();
        runtime.block_on(async {
            let gate = Arc::new((Mutex::new(false), Condvar::new()));
            let store = Offloaded::new(GatedBackend::new(&gate));
            let now = Instant::ZERO;
            // A lookup that holds the backend until the gate opens, so that everything
            // below waits together.
            let held = AsyncLookup::get(&store, &u64::MAX, now);
            let keys: Vec<u64> = (0..64).collect();
            let mut removals = Vec::new();
            for key in &keys {
                // Stores whose callers gave up at once: each still runs, but before the
                // removal called after it, never after.
                drop(AsyncBackend::set(&store, *key, *key, Deadline::NEVER, now));
                removals.push(AsyncLookup::remove(&store, key, now));
            }
            open_gate(&gate);
            assert_eq!(held.await, Ok(None));
            for removal in removals {
                assert_eq!(removal.await, Ok(true), "the store ran before its removal");
            }
            assert_eq!(AsyncBackend::len(&store, now).await, Ok(0));
        });
    });
}

#[test]
fn a_blocking_backend_called_on_a_runtime_that_shut_down_fails_and_stays_usable() {
    within(60, || {
        let store = Offloaded::new(MemoryBackend::<u64, u64>::new());
        let now = Instant::ZERO;
        let gone = tokio::runtime::Runtime::new().unwrap();
        let handle = gone.handle().clone();
        drop(gone);
        {
            let _entered = handle.enter();
            // Queued, but the task that would run it is dropped unrun.
            let store_call = AsyncBackend::set(&store, 1, 1, Deadline::NEVER, now);
            let answer = poll_to_end(store_call);
            assert_eq!(answer, Err(OffloadError::NoRuntime));
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            AsyncBackend::set(&store, 2, 2, Deadline::NEVER, now)
                .await
                .unwrap();
            assert_eq!(AsyncBackend::len(&store, now).await, Ok(1));
        });
    });
}

/// Polls `future` to completion on this thread, with no runtime.
fn poll_to_end<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000_000 {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
    panic!("never answered");
}

#[tokio::test]
async fn a_panicking_blocking_backend_fails_one_operation_and_runs_the_next() {
    // A weigher that panics on key 0: the store of 0 panics.
    let store = Offloaded::new(MemoryBackend::<u64, u64>::new().with_weigher(
        |key: &u64, _: &u64| {
            assert_ne!(*key, 0, "a store of 0");
            1
        },
    ));
    let now = Instant::ZERO;
    let failed = AsyncBackend::set(&store, 0, 0, Deadline::NEVER, now);
    let stored = AsyncBackend::set(&store, 1, 1, Deadline::NEVER, now);
    assert_eq!(failed.await, Err(OffloadError::Panicked));
    assert_eq!(stored.await, Ok(()));
    assert_eq!(AsyncBackend::len(&store, now).await, Ok(1));
}

/// An operation called on one runtime, queued behind another runtime's, runs on its own
/// runtime's blocking pool: a runtime that shuts down must not wait for the others'.
#[test]
fn each_operation_runs_on_the_runtime_it_was_called_on() {
    within(60, || {
        let runtime = || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        };
        let (first, second) = (runtime(), runtime());
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let backend = GatedBackend::new(&gate);
        let runtimes = Arc::clone(&backend.lens_ran_on);
        let store = Offloaded::new(backend);
        let now = Instant::ZERO;
        // The first runtime's lookup holds the queue until the gate opens.
        let held = {
            let _entered = first.enter();
            AsyncLookup::get(&store, &1, now)
        };
        let counted = {
            let _entered = second.enter();
            AsyncBackend::len(&store, now)
        };
        open_gate(&gate);
        assert_eq!(first.block_on(held), Ok(None));
        assert_eq!(second.block_on(counted), Ok(0));
        assert_eq!(*runtimes.lock().unwrap(), [second.handle().id()]);
    });
}

/// An operation called on a runtime that shut down before its turn fails with
/// `NoRuntime`; those queued behind it, called on live runtimes, still run.
#[test]
fn an_operation_of_a_runtime_gone_before_its_turn_fails_alone() {
    within(60, || {
        let live = tokio::runtime::Runtime::new().unwrap();
        let gone = tokio::runtime::Runtime::new().unwrap();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let store = Offloaded::new(GatedBackend::new(&gate));
        let now = Instant::ZERO;
        let held = {
            let _entered = live.enter();
            AsyncLookup::get(&store, &1, now)
        };
        let orphaned = {
            let _entered = gone.enter();
            AsyncBackend::set(&store, 1, 1, Deadline::NEVER, now)
        };
        let stored = {
            let _entered = live.enter();
            AsyncBackend::set(&store, 2, 2, Deadline::NEVER, now)
        };
        drop(gone);
        open_gate(&gate);
        assert_eq!(live.block_on(held), Ok(None));
        assert_eq!(poll_to_end(orphaned), Err(OffloadError::NoRuntime));
        assert_eq!(live.block_on(stored), Ok(()));
        let found = live.block_on(async { AsyncLookup::get(&store, &2, now).await });
        assert_eq!(found, Ok(Some(2)));
    });
}

#[test]
fn a_blocking_backend_reports_the_time_to_idle_of_the_store_it_wraps() {
    let idle = jwm_cache::Ttl::from_secs(5);
    let store = MemoryBackend::<u32, u32>::new().with_time_to_idle(idle);
    let offloaded = Offloaded::new(store);
    assert_eq!(
        AsyncBackend::<u32, u32>::time_to_idle(&offloaded),
        Some(idle)
    );
}

#[tokio::test]
async fn an_operation_s_reclaims_are_counted_by_the_time_it_answers() {
    let store = Offloaded::new(MemoryBackend::<u32, u32>::with_capacity(1));
    let deadline = Deadline::NEVER;
    for key in 0..50 {
        store.set(key, key, deadline, Instant::ZERO).await.unwrap();
        let evicted = AsyncBackend::<u32, u32>::reclaimed(&store).evictions;
        assert_eq!(evicted, u64::from(key), "after the set of {key}");
    }
}

/// Memoized calls over a backend that stalls (a disk or a server that stopped
/// answering): each call waits for the timeout once, together, computes its value and
/// stores nothing (its budget is spent); once the stall has outlasted the timeout, a
/// call fails at once, queueing nothing; and once the backend answers again, the
/// lookups whose callers left are not run.
#[test]
fn a_stalled_blocking_backend_costs_each_memoized_call_its_timeout_once() {
    within(60, || {
        let runtime = two_workers();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let _opens = OpenOnDrop(Arc::clone(&gate));
        runtime.block_on(async {
            let backend = GatedBackend::new(&gate);
            let lookups = Arc::clone(&backend.lookups);
            let computed = Arc::new(AtomicUsize::new(0));
            let counted = Arc::clone(&computed);
            let timeout = Duration::from_millis(500);
            let memo = Arc::new(
                AsyncMemoized::builder(move |n: u64| {
                    counted.fetch_add(1, SeqCst);
                    async move { n * 2 }
                })
                .build_with_backend(Offloaded::new(backend).timeout(timeout)),
            );
            let began = WallClock::now();
            let calls: Vec<_> = (0..16)
                .map(|n| {
                    let memo = Arc::clone(&memo);
                    tokio::spawn(async move { (memo.call(n).await, began.elapsed()) })
                })
                .collect();
            for (n, call) in (0..).zip(calls) {
                let (value, took) = call.await.unwrap();
                assert_eq!(value, n * 2);
                // One timeout, not one per call queued before it, nor a store's after
                // the lookup's.
                assert!(took >= timeout, "call {n} answered in {took:?}");
                assert!(took < timeout * 2, "call {n} took {took:?}");
            }
            assert_eq!(computed.load(SeqCst), 16);
            assert_eq!(
                lookups.load(SeqCst),
                1,
                "the first lookup holds the backend"
            );

            // The stall has outlasted the timeout: a call waits for nothing. (The first
            // call here may still queue, at the boundary; the second comes after it.)
            assert_eq!(memo.call(100).await, 200);
            let started = WallClock::now();
            assert_eq!(memo.call(101).await, 202);
            let took = started.elapsed();
            assert!(took < timeout / 2, "a call during the stall took {took:?}");
            assert_eq!(lookups.load(SeqCst), 1);

            open_gate(&gate);
            // Once the blocked lookup returns, the next call's lookup runs, after every
            // one queued before it; until then calls are still refused (bounded polling).
            let reopened = WallClock::now();
            while lookups.load(SeqCst) == 1 {
                assert!(
                    reopened.elapsed() < Duration::from_secs(5),
                    "never ran again"
                );
                assert_eq!(memo.call(3).await, 6);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(
                lookups.load(SeqCst),
                2,
                "the abandoned lookups were skipped"
            );
            let computed_before = computed.load(SeqCst);
            assert_eq!(memo.call(3).await, 6);
            assert_eq!(
                computed.load(SeqCst),
                computed_before,
                "stored once answered"
            );
            let info = memo.cache_info().await;
            // Every call during the stall failed its lookup and its store.
            assert!(info.errors >= 2 * 18, "{info:?}");
        });
    });
}

#[tokio::test]
async fn a_store_with_no_budget_left_is_not_queued() {
    let store = Offloaded::new(MemoryBackend::<u32, u32>::new()).timeout(Duration::from_secs(1));
    assert_eq!(
        AsyncBackend::<u32, u32>::call_budget(&store),
        Some(Duration::from_secs(1))
    );
    let now = Instant::ZERO;
    let spent = store.set_within(1, 1, Deadline::NEVER, now, Duration::ZERO);
    assert_eq!(spent.await, Err(OffloadError::Timeout(Duration::ZERO)));
    assert_eq!(AsyncBackend::len(&store, now).await, Ok(0));
    store
        .set_within(2, 2, Deadline::NEVER, now, Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(AsyncLookup::get(&store, &2, now).await, Ok(Some(2)));
    // Without a timeout, no budget: a store waits its turn however long.
    let unbounded = Offloaded::new(MemoryBackend::<u32, u32>::new());
    assert_eq!(AsyncBackend::<u32, u32>::call_budget(&unbounded), None);
    // A zero timeout sends no store.
    let zero = Offloaded::new(MemoryBackend::<u32, u32>::new()).timeout(Duration::ZERO);
    let refused = AsyncBackend::set(&zero, 1, 1, Deadline::NEVER, now).await;
    assert_eq!(refused, Err(OffloadError::Timeout(Duration::ZERO)));
}
