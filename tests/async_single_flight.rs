//! Single-flight across tasks: 1,000 concurrent misses run the function once, and a
//! cancelled, failing or panicking leader hands over to a waiter. Paused tokio time.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use jwm_cache::{AsyncCache, AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized};
use tokio::task::JoinSet;
use tokio::time::sleep;

const TASKS: usize = 1_000;

/// A function that takes a second of (paused) time and counts its runs.
fn slow_square(
    runs: &Arc<AtomicUsize>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync + 'static {
    let runs = Arc::clone(runs);
    move |n| {
        let runs = Arc::clone(&runs);
        Box::pin(async move {
            runs.fetch_add(1, SeqCst);
            sleep(Duration::from_secs(1)).await;
            n * n
        })
    }
}

/// Lets every spawned task run until it waits on something.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_tasks_missing_one_key_run_it_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(AsyncMemoized::new(slow_square(&runs)));
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let memo = Arc::clone(&memo);
        tasks.spawn(async move { memo.call(12).await });
    }
    let values = tasks.join_all().await;
    assert_eq!(values, vec![144; TASKS]);
    assert_eq!(runs.load(SeqCst), 1);
    let info = memo.cache_info().await;
    assert_eq!(
        (info.hits + info.coalesced, info.misses, info.current_size),
        (TASKS as u64 - 1, 1, 1),
        "one computation; every other call waited for it or found its value"
    );
}

/// Calls joined in one task (`join!`, `join_all`, a buffered stream) share one
/// computation as calls from many tasks do: only a call from inside the computation is
/// its own key's, and runs alone.
#[tokio::test(start_paused = true)]
async fn calls_joined_in_one_task_run_it_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = AsyncMemoized::new(slow_square(&runs));
    let (a, b, c) = tokio::join!(memo.call(7), memo.call(7), memo.call(7));
    assert_eq!((a, b, c), (49, 49, 49));
    assert_eq!(runs.load(SeqCst), 1, "one computation for the three");
    let info = memo.cache_info().await;
    assert_eq!((info.misses, info.coalesced), (1, 2), "{info:?}");
}

/// A computation that asks for its own key, awaited inside it, runs that call alone
/// rather than wait for itself.
#[tokio::test(start_paused = true)]
async fn a_computation_asking_for_its_own_key_does_not_wait_for_itself() {
    type Memo = AsyncMemoized<
        Box<dyn Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync>,
        AsyncCache<u64, u64>,
    >;
    let runs = Arc::new(AtomicUsize::new(0));
    let cell: Arc<std::sync::OnceLock<Memo>> = Arc::new(std::sync::OnceLock::new());
    let (inner, counted) = (Arc::clone(&cell), Arc::clone(&runs));
    let function: Box<
        dyn Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync,
    > = Box::new(move |n| {
        let (inner, counted) = (Arc::clone(&inner), Arc::clone(&counted));
        Box::pin(async move {
            let run = counted.fetch_add(1, SeqCst);
            if run == 0 {
                // The first run asks for its own key: computed again, alone.
                return inner.get().unwrap().call(n).await + 1;
            }
            n * 10
        })
    });
    let _ = cell.set(AsyncMemoized::new(function));
    let memo = cell.get().unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(5), memo.call(4)).await;
    assert_eq!(
        answered,
        Ok(41),
        "the outer call, with the inner one's value"
    );
    assert_eq!(runs.load(SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn without_single_flight_every_miss_runs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(
        AsyncMemoized::builder(slow_square(&runs))
            .single_flight(false)
            .build(),
    );
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let memo = Arc::clone(&memo);
        tasks.spawn(async move { memo.call(3).await });
    }
    assert_eq!(tasks.join_all().await, vec![9; TASKS]);
    assert_eq!(runs.load(SeqCst), TASKS);
}

/// Starts a leader, lets it register, then TASKS - 1 waiters behind it.
async fn leader_then_waiters(
    memo: &Arc<
        AsyncMemoized<
            impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>
            + Send
            + Sync
            + 'static,
            AsyncCache<u64, u64>,
        >,
    >,
) -> (
    tokio::task::JoinHandle<Result<u64, String>>,
    JoinSet<Result<u64, String>>,
) {
    let leader = {
        let memo = Arc::clone(memo);
        tokio::spawn(async move { memo.try_call(5).await })
    };
    settle().await;
    let mut waiters = JoinSet::new();
    for _ in 1..TASKS {
        let memo = Arc::clone(memo);
        waiters.spawn(async move { memo.try_call(5).await });
    }
    settle().await;
    (leader, waiters)
}

/// The first run fails in the given way after half a second; later runs succeed.
fn first_run_fails(
    runs: &Arc<AtomicUsize>,
    how: fn() -> Result<u64, String>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>
+ Send
+ Sync
+ 'static {
    let runs = Arc::clone(runs);
    move |n| {
        let runs = Arc::clone(&runs);
        Box::pin(async move {
            let run = runs.fetch_add(1, SeqCst);
            sleep(Duration::from_millis(500)).await;
            if run == 0 { how() } else { Ok(n + 100) }
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_leader_hands_over_and_nobody_hangs() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(AsyncMemoized::fallible(first_run_fails(&runs, || Ok(0))));
    let (leader, waiters) = leader_then_waiters(&memo).await;
    assert_eq!(runs.load(SeqCst), 1, "the leader is computing");
    leader.abort(); // its future is dropped mid-computation
    assert!(leader.await.unwrap_err().is_cancelled());
    let values = tokio::time::timeout(Duration::from_secs(60), waiters.join_all())
        .await
        .expect("a waiter hung");
    assert_eq!(values, vec![Ok(105); TASKS - 1]);
    assert_eq!(runs.load(SeqCst), 2, "exactly one waiter took over");
}

#[tokio::test(start_paused = true)]
async fn a_failing_leader_shares_its_error_with_every_waiter_and_it_is_not_cached() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(AsyncMemoized::fallible(first_run_fails(&runs, || {
        Err("down".into())
    })));
    let (leader, waiters) = leader_then_waiters(&memo).await;
    assert_eq!(leader.await.unwrap(), Err("down".to_string()));
    let values = tokio::time::timeout(Duration::from_secs(60), waiters.join_all())
        .await
        .expect("a waiter hung");
    assert_eq!(values, vec![Err("down".to_string()); TASKS - 1]);
    assert_eq!(runs.load(SeqCst), 1, "one failure, shared");
    assert_eq!(memo.try_call(5).await, Ok(105));
    assert_eq!(memo.cache_info().await.current_size, 1);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_leader_hands_over() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(AsyncMemoized::fallible(first_run_fails(&runs, || {
        panic!("leader panics")
    })));
    let (leader, waiters) = leader_then_waiters(&memo).await;
    assert!(leader.await.unwrap_err().is_panic());
    let values = tokio::time::timeout(Duration::from_secs(60), waiters.join_all())
        .await
        .expect("a waiter hung");
    assert_eq!(values, vec![Ok(105); TASKS - 1]);
    assert_eq!(runs.load(SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn cancelled_waiters_leave_the_flight_intact() {
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = Arc::new(AsyncMemoized::fallible(first_run_fails(&runs, || Ok(7))));
    let (leader, mut waiters) = leader_then_waiters(&memo).await;
    waiters.abort_all();
    assert_eq!(leader.await.unwrap(), Ok(7));
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(memo.try_call(5).await, Ok(7));
}

/// A task computing key 1 (as 10, in a second of paused time) on `cache`, returned once
/// its computation has begun.
async fn computing_for_a_second(cache: &Arc<AsyncCache<u32, u32>>) -> tokio::task::JoinHandle<u32> {
    let cache = Arc::clone(cache);
    let computing = tokio::spawn(async move {
        cache
            .get_or_insert_with(1, || async {
                sleep(Duration::from_secs(1)).await;
                10
            })
            .await
    });
    settle().await;
    computing
}

#[tokio::test(start_paused = true)]
async fn clear_detaches_a_flight_and_its_value_is_not_stored() {
    let cache: Arc<AsyncCache<u32, u32>> = Arc::new(AsyncCache::new());
    let leader = computing_for_a_second(&cache).await;
    cache.clear().await.unwrap();
    assert_eq!(leader.await.unwrap(), 10, "the caller still gets its value");
    assert_eq!(
        cache.get(&1).await,
        Ok(None),
        "but the cleared cache does not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_on_two_threads_share_one_computation() {
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let cache: Arc<AsyncCache<u8, u8>> = Arc::new(AsyncCacheBuilder::new().build());
    let mut tasks = JoinSet::new();
    for _ in 0..64 {
        let (cache, runs, gate) = (Arc::clone(&cache), Arc::clone(&runs), Arc::clone(&gate));
        tasks.spawn(async move {
            cache
                .get_or_insert_with(1, || async move {
                    runs.fetch_add(1, SeqCst);
                    drop(gate.acquire().await);
                    42
                })
                .await
        });
    }
    // Holds the computation until every task has missed (each joins the flight in the
    // same poll that counts its miss, or its coalesced wait); a permit is never lost.
    let began = std::time::Instant::now();
    while cache.counters().calls() < 64 {
        let calls = cache.counters().calls();
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "{calls} of 64 calls"
        );
        tokio::task::yield_now().await;
    }
    gate.add_permits(64);
    let values = tokio::time::timeout(Duration::from_secs(60), tasks.join_all())
        .await
        .expect("a task hung");
    assert_eq!(values, vec![42; 64]);
    assert_eq!(runs.load(SeqCst), 1);
    let counters = cache.counters();
    assert_eq!(
        (counters.hits, counters.misses, counters.coalesced),
        (0, 1, 63)
    );
}

#[tokio::test(start_paused = true)]
async fn a_clear_during_a_slow_store_is_not_overtaken_by_it() {
    let backend = common::SlowBackend::<u32, u32>::with_write_latency(
        Duration::from_millis(1),
        Duration::from_millis(50),
    );
    let cache = Arc::new(AsyncCacheBuilder::new().build_with_backend::<u32, u32, _>(backend));
    let leader = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.get_or_insert_with(1, || async { 10 }).await })
    };
    for turn in 0.. {
        if cache.backend().sets_started.load(SeqCst) > 0 {
            break;
        }
        assert!(turn < 100_000, "the store never started");
        sleep(Duration::from_micros(100)).await;
    }
    cache.clear().await.unwrap();
    assert_eq!(leader.await.unwrap(), 10);
    assert_eq!(cache.get(&1).await, Ok(None), "the clear came last");
}

/// A leader holding a lease settles its waiters before it gives the lease back: they
/// get its value, or its error, without waiting for that round trip (here 10 s).
#[tokio::test(start_paused = true)]
async fn waiters_do_not_wait_for_the_leader_to_give_its_lease_back() {
    for fails in [false, true] {
        let backend = common::SlowBackend::<u64, u64>::new(Duration::from_millis(1))
            .with_lease(Duration::from_secs(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let how = if fails {
            || Err("down".to_string())
        } else {
            || Ok(7)
        };
        let memo = Arc::new(
            AsyncMemoized::fallible_builder(first_run_fails(&runs, how))
                .build_with_backend(backend),
        );
        let began = tokio::time::Instant::now();
        let leader = {
            let memo = Arc::clone(&memo);
            tokio::spawn(async move { memo.try_call(5).await })
        };
        settle().await;
        let waiter = {
            let memo = Arc::clone(&memo);
            tokio::spawn(async move { (memo.try_call(5).await, began.elapsed()) })
        };
        let (value, waited) = waiter.await.unwrap();
        let expected = if fails {
            Err("down".to_string())
        } else {
            Ok(7)
        };
        assert_eq!(value, expected);
        assert!(
            waited < Duration::from_secs(5),
            "the waiter took {waited:?}"
        );
        assert_eq!(leader.await.unwrap(), expected);
        assert_eq!(memo.cache().backend().released.load(SeqCst), 1);
        assert_eq!(runs.load(SeqCst), 1);
    }
}

/// Without single-flight, a computation under way when its key is removed, cleared or
/// written keeps its value out of the cache, as a detached flight does: it read what
/// the write was meant to replace. Its caller still gets it.
#[tokio::test(start_paused = true)]
async fn without_single_flight_a_write_during_a_computation_keeps_its_value_out() {
    for write in ["remove", "clear", "insert"] {
        let cache: Arc<AsyncCache<u32, u32>> =
            Arc::new(AsyncCache::builder().single_flight(false).build());
        let computing = computing_for_a_second(&cache).await;
        match write {
            "remove" => drop(cache.remove(&1).await.unwrap()),
            "clear" => cache.clear().await.unwrap(),
            _ => cache.insert(1, 20).await.unwrap(),
        }
        assert_eq!(computing.await.unwrap(), 10, "{write}");
        let left = (write == "insert").then_some(20);
        assert_eq!(cache.get(&1).await, Ok(left), "after a {write}");
        // A computation begun after the write stores as usual.
        cache.remove(&1).await.unwrap();
        assert_eq!(cache.get_or_insert_with(1, || async { 30 }).await, 30);
        assert_eq!(cache.get(&1).await, Ok(Some(30)));
    }
}
