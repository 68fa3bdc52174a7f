//! Refresh-ahead in memory: a hit past `refresh_after` returns at once and starts one
//! recomputation in the background, whose value replaces the old one; a refresh that
//! fails keeps the old value, and none outlives a `clear`.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError, Weak, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::{
    AsyncCacheControls, AsyncMemoized, CacheControls, ManualClock, Memoized, SyncCache, Ttl,
};

mod backoffs;

const SECOND: Duration = Duration::from_secs(1);
/// How long a test waits for a background refresh before failing: never reached when
/// the refresh works, and no sleep: the waits poll or block on channels.
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `done` until it holds, failing the test after [`PATIENCE`].
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(
            began.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        thread::yield_now();
    }
}

/// A gate the computation waits at while the test holds it shut.
#[derive(Clone, Default)]
struct Gate(Arc<Mutex<()>>);

impl Gate {
    fn pass(&self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

#[test]
fn sixteen_threads_past_refresh_after_start_one_refresh_and_none_waits_for_it() {
    let clock = ManualClock::new();
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Gate::default());
    let (counted, shut) = (Arc::clone(&runs), gate.clone());
    let memo = Memoized::builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst);
        if run > 0 {
            shut.pass();
        }
        n * 10 + run as u32
    })
    .ttl(60 * SECOND)
    .refresh_after(45 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.call(1), 10);
    clock.advance(50 * SECOND);
    let closed = gate.0.lock().unwrap();
    let (done, finished) = mpsc::channel();
    for _ in 0..16 {
        let (memo, done) = (memo.clone(), done.clone());
        thread::spawn(move || done.send(memo.call(1)).unwrap());
    }
    for _ in 0..16 {
        // Each returns the old value while the refresh is held at the gate.
        assert_eq!(finished.recv_timeout(PATIENCE), Ok(10));
    }
    eventually("the refresh starts", || runs.load(SeqCst) == 2);
    let info = memo.cache_info();
    assert_eq!((info.hits, info.misses, info.refreshes), (16, 1, 1));
    drop(closed);
    eventually("the refresh lands", || {
        memo.cache().get(&1).unwrap() == Some(11)
    });
    assert_eq!(runs.load(SeqCst), 2, "one refresh for sixteen hits");
    // The refreshed value has a fresh TTL: 50 s after the refresh it is still there.
    clock.advance(50 * SECOND);
    assert_eq!(memo.cache().get(&1).unwrap(), Some(11));
}

#[test]
fn a_failing_or_panicking_refresh_keeps_the_old_value_until_its_ttl() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Memoized::fallible_builder(move |n: u32| match counted.fetch_add(1, SeqCst) {
        0 => Ok(n),
        1 => Err("down"),
        _ => panic!("a refresh that panics"),
    })
    .ttl(10 * SECOND)
    .refresh_after(5 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(7), Ok(7));
    clock.advance(6 * SECOND);
    assert_eq!(memo.try_call(7), Ok(7), "refresh 1 fails");
    eventually("refresh 1 fails", || {
        memo.cache_info().refresh_failures == 1
    });
    // A failed refresh waits a quarter of `refresh_after` (1.25 s): due hits meanwhile
    // serve the old value and start none, so the failing source is not asked again.
    for _ in 0..10 {
        assert_eq!(memo.try_call(7), Ok(7));
    }
    assert_eq!(
        memo.cache_info().refreshes,
        1,
        "asked again within its wait"
    );
    clock.advance(SECOND * 5 / 4);
    assert_eq!(memo.try_call(7), Ok(7), "refresh 2 panics");
    eventually("refresh 2 fails", || {
        memo.cache_info().refresh_failures == 2
    });
    assert_eq!(memo.cache().get(&7).unwrap(), Some(7));
    assert_eq!(memo.cache_info().refreshes, 2);
    // Nothing is left behind: once its wait is over, a hit starts a refresh again.
    clock.advance(SECOND * 5 / 4);
    assert_eq!(memo.try_call(7), Ok(7));
    eventually("refresh 3 fails", || {
        memo.cache_info().refresh_failures == 3
    });
    assert_eq!(memo.cache_info().refreshes, 3);
    clock.advance(SECOND * 3 / 2);
    assert_eq!(memo.cache().get(&7).unwrap(), None, "gone at its TTL");
}

/// The last value a computation made, held weakly: once nothing else holds it, the
/// cache did not keep it.
#[derive(Clone, Default)]
struct LastValue(Arc<Mutex<Option<Weak<u32>>>>);

impl LastValue {
    fn made(&self, value: u32) -> Arc<u32> {
        let value = Arc::new(value);
        *self.0.lock().unwrap() = Some(Arc::downgrade(&value));
        value
    }

    fn dropped(&self) -> bool {
        let weak = self.0.lock().unwrap().clone();
        weak.is_some_and(|weak| weak.strong_count() == 0)
    }
}

#[test]
fn a_refresh_never_stores_after_a_clear() {
    let clock = ManualClock::new();
    let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Gate::default());
    let last = LastValue::default();
    let (counted, shut, kept) = (Arc::clone(&runs), gate.clone(), last.clone());
    let memo = due_for_refresh(&clock, move |n: u32| {
        counted.fetch_add(1, SeqCst);
        shut.pass();
        kept.made(n * 10)
    });
    let closed = gate.0.lock().unwrap();
    assert_eq!(*memo.call(2), 2, "a hit past refresh_after");
    eventually("the refresh starts", || runs.load(SeqCst) == 1);
    memo.cache_clear();
    drop(closed);
    // Once its job ends, nothing holds the refresh's value: the cache did not keep it.
    eventually("the refresh's value is dropped", || last.dropped());
    assert_eq!(memo.cache().get(&2).unwrap(), None);
    assert_eq!(memo.cache_info().lifetime.refreshes, 1);
}

/// A refresh slower than the TTL gives a value that would expire on arrival: it is not
/// stored (its TTL counts from the refresh's start), so nothing keeps it.
#[test]
fn a_refresh_slower_than_its_ttl_stores_nothing() {
    let clock = ManualClock::new();
    let last = LastValue::default();
    let (ticking, kept) = (clock.clone(), last.clone());
    let memo = due_for_refresh(&clock, move |n: u32| {
        ticking.advance(20 * SECOND);
        kept.made(n * 10)
    });
    assert_eq!(*memo.call(2), 2, "a hit past refresh_after");
    eventually("the refresh's value is dropped", || last.dropped());
}

/// `f` memoized with a TTL of 10 s and `refresh_after` 1 s, key 2 holding 2 written
/// 2 s ago: the next hit on it starts a refresh.
fn due_for_refresh<F>(clock: &ManualClock, f: F) -> Memoized<F, RefreshedCache>
where
    F: Fn(u32) -> Arc<u32> + Send + Sync + 'static,
{
    let memo = Memoized::builder(f)
        .ttl(10 * SECOND)
        .refresh_after(SECOND)
        .clock(clock.clone())
        .build();
    memo.cache_set(2, Arc::new(2)).unwrap();
    clock.advance(2 * SECOND);
    memo
}

type RefreshedCache = SyncCache<
    u32,
    Arc<u32>,
    jwm_cache::memory::MemoryBackend<u32, Arc<u32>>,
    jwm_cache::codec::Identity,
    ManualClock,
>;

#[test]
fn without_refresh_after_a_hit_never_recomputes() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Memoized::builder(move |n: u32| {
        counted.fetch_add(1, SeqCst);
        n
    })
    .ttl(10 * SECOND)
    .clock(clock.clone())
    .build();
    memo.call(1);
    clock.advance(9 * SECOND);
    memo.call(1);
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(memo.cache_info().refreshes, 0);
}

#[test]
fn the_cache_refreshes_for_its_own_callers_too() {
    let clock = ManualClock::new();
    let cache = SyncCache::builder()
        .ttl(10 * SECOND)
        .refresh_after(5 * SECOND)
        .clock(clock.clone())
        .build::<u32, u32>();
    assert_eq!(cache.parameters().refresh_after, Some(Ttl::from_secs(5)));
    let version = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&version);
    let compute = Arc::new(move |n: u32| Ok::<_, ()>(n + counted.fetch_add(1, SeqCst) as u32));
    assert_eq!(cache.try_get_or_refresh(1, cache.ttl(), &compute), Ok(1));
    clock.advance(5 * SECOND);
    assert_eq!(cache.try_get_or_refresh(1, cache.ttl(), &compute), Ok(1));
    eventually("the refresh lands", || cache.get(&1).unwrap() == Some(2));
}

#[tokio::test]
async fn sixty_four_tasks_past_refresh_after_start_one_refresh_on_the_runtime() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (counted, shut) = (Arc::clone(&runs), Arc::clone(&gate));
    let memo = AsyncMemoized::builder(move |n: u32| {
        let (run, shut) = (counted.fetch_add(1, SeqCst), Arc::clone(&shut));
        async move {
            if run > 0 {
                let _pass = shut.acquire().await.unwrap();
            }
            n * 10 + run as u32
        }
    })
    .ttl(60 * SECOND)
    .refresh_after(45 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.call(1).await, 10);
    clock.advance(50 * SECOND);
    let callers: Vec<_> = (0..64)
        .map(|_| {
            let memo = memo.clone();
            tokio::spawn(async move { memo.call(1).await })
        })
        .collect();
    for caller in callers {
        // Every caller returns while the refresh waits for the gate.
        assert_eq!(caller.await.unwrap(), 10);
    }
    assert_eq!(runs.load(SeqCst), 2, "one refresh for 64 hits");
    gate.add_permits(1);
    for _ in 0..10_000 {
        if memo.cache().get(&1).await.unwrap() == Some(11) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(memo.cache().get(&1).await.unwrap(), Some(11));
    let info = memo.cache_info().await;
    assert_eq!(
        (info.misses, info.refreshes, info.refresh_failures),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn an_async_refresh_that_fails_keeps_the_old_value() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::fallible_builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst);
        async move {
            match run {
                0 => Ok(n),
                1 => Err("down"),
                _ => panic!("a refresh that panics"),
            }
        }
    })
    .ttl(10 * SECOND)
    .refresh_after(5 * SECOND)
    .clock(clock.clone())
    .build();
    assert_eq!(memo.try_call(7).await, Ok(7));
    clock.advance(6 * SECOND);
    for failures in 1..=2 {
        assert_eq!(memo.try_call(7).await, Ok(7));
        for _ in 0..10_000 {
            if memo.cache_counters().refresh_failures == failures {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(memo.cache_counters().refresh_failures, failures);
        // A failure waits a quarter of `refresh_after`: due hits start no refresh
        // meanwhile, and the first after it starts the next.
        assert_eq!(memo.try_call(7).await, Ok(7));
        assert_eq!(memo.cache_counters().refreshes, failures);
        clock.advance(SECOND * 5 / 4);
    }
    assert_eq!(memo.cache().get(&7).await.unwrap(), Some(7));
}

#[test]
fn a_refresh_dropped_with_its_runtime_leaves_the_key_free_to_refresh() {
    let clock = ManualClock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = AsyncMemoized::builder(move |n: u32| {
        let run = counted.fetch_add(1, SeqCst);
        async move {
            if run > 0 {
                std::future::pending::<()>().await; // a refresh that never ends
            }
            n
        }
    })
    .ttl(10 * SECOND)
    .refresh_after(5 * SECOND)
    .clock(clock.clone())
    .build();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    assert_eq!(first.block_on(memo.call(1)), 1);
    clock.advance(6 * SECOND);
    assert_eq!(
        first.block_on(memo.call(1)),
        1,
        "a hit that starts a refresh"
    );
    // The refresh's task goes with its runtime, run or not.
    drop(first);
    let counters = memo.cache_counters();
    assert_eq!((counters.refreshes, counters.refresh_failures), (1, 1));
    // Once the wait after a failure is over (a quarter of `refresh_after`).
    clock.advance(SECOND * 5 / 4);
    let second = runtime();
    assert_eq!(second.block_on(memo.call(1)), 1);
    assert_eq!(
        memo.cache_counters().refreshes,
        2,
        "the key refreshes again"
    );
}
