//! A failure is shared, not multiplied: callers waiting on a computation that fails get
//! its error, so an outage costs one call, not one per waiter one after another. Each
//! case runs 20 and 1,000 waiters on a failing 100 ms computation: exactly one call, and
//! no caller waits much longer than it (waiters retrying one after another would wait
//! 20 × 100 ms at least).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use jwm_cache::backend::Sharded;
use jwm_cache::{AsyncMemoized, Bridge, CacheControls, Memoized, memory::MemoryBackend};

const ONE_CALL: Duration = Duration::from_millis(100);

/// What a run of callers saw.
struct Run {
    calls: usize,
    errors: usize,
    slowest: Duration,
    /// How long the one computation took, from its start to its error.
    computation: Duration,
}

impl Run {
    /// What `results` (each caller's result and latency) and `calls` computations add up to.
    fn of(
        calls: usize,
        results: &[(Result<u64, String>, Duration)],
        computation: Duration,
    ) -> Self {
        Run {
            calls,
            errors: results.iter().filter(|(r, _)| r.is_err()).count(),
            slowest: results.iter().map(|(_, t)| *t).max().unwrap(),
            computation,
        }
    }

    fn check(&self, callers: usize) {
        assert_eq!(self.calls, 1, "one computation for {callers} callers");
        assert_eq!(self.errors, callers, "every caller got the shared error");
        // Waking 1,000 threads on a loaded 2-core machine has taken 170 ms beyond the
        // computation: the margin is for that, and far below one retry per waiter.
        assert!(
            self.slowest < self.computation + Duration::from_secs(1),
            "slowest caller {:?}, one computation {:?}",
            self.slowest,
            self.computation
        );
    }
}

/// A computation that fails after 100 ms, once every caller has joined it: counted by
/// the cache (each miss or coalesced wait is counted as its caller joins), so that none
/// finds it ended and computes again.
struct Failing {
    calls: AtomicUsize,
    callers: usize,
    took: Mutex<Duration>,
    /// The callers the cache has counted; set once the memoized function exists.
    joined: OnceLock<Box<dyn Fn() -> usize + Send + Sync>>,
}

impl Failing {
    fn new(callers: usize) -> Arc<Self> {
        Arc::new(Failing {
            calls: AtomicUsize::new(0),
            callers,
            took: Mutex::new(Duration::ZERO),
            joined: OnceLock::new(),
        })
    }

    /// Counts the callers as `cache` does: the memoized function's cache, which does
    /// not hold the function (which holds this), so nothing keeps the other alive.
    fn counted_by<C: CacheControls + Send + Sync + 'static>(&self, cache: Arc<C>) {
        let joined = move || {
            let info = cache.cache_info();
            (info.misses + info.coalesced) as usize
        };
        assert!(self.joined.set(Box::new(joined)).is_ok());
    }

    /// The blocking computation, for threads.
    fn compute(&self) -> Result<u64, String> {
        let started = Instant::now();
        self.calls.fetch_add(1, SeqCst);
        let joined = self.joined.get().expect("counted_by before the calls");
        while joined() < self.callers {
            let late = joined();
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{late} of {} callers joined",
                self.callers
            );
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(ONE_CALL);
        *self.took.lock().unwrap() = started.elapsed();
        Err("upstream down".to_string())
    }

    fn run(&self, results: Vec<(Result<u64, String>, Duration)>) -> Run {
        Run::of(
            self.calls.load(SeqCst),
            &results,
            *self.took.lock().unwrap(),
        )
    }
}

/// `callers` threads call `call` at once.
fn threads(
    callers: usize,
    failing: &Arc<Failing>,
    call: impl Fn() -> Result<u64, String> + Send + Sync + 'static,
) -> Run {
    let (call, start) = (Arc::new(call), Arc::new(Barrier::new(callers)));
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            let (call, start) = (call.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let began = Instant::now();
                let result = call();
                (result, began.elapsed())
            })
        })
        .collect();
    let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
    failing.run(results)
}

fn memoized_threads(callers: usize) {
    let failing = Failing::new(callers);
    let inner = failing.clone();
    let memo = Memoized::fallible(move |_: u64| inner.compute());
    failing.counted_by(Arc::clone(memo.cache()));
    threads(callers, &failing, move || memo.try_call(1)).check(callers);
}

#[test]
fn twenty_threads_share_one_failure() {
    memoized_threads(20);
}

#[test]
fn a_thousand_threads_share_one_failure() {
    memoized_threads(1000);
}

fn bridged_threads(callers: usize) {
    let failing = Failing::new(callers);
    let inner = failing.clone();
    let backend = Sharded::new(4, MemoryBackend::<u64, u64>::new);
    let memo = Memoized::fallible_builder(move |_: u64| inner.compute())
        .build_with_async_backend(Bridge::new().unwrap(), backend);
    failing.counted_by(Arc::clone(memo.cache()));
    threads(callers, &failing, move || memo.try_call(1)).check(callers);
}

#[test]
fn twenty_threads_through_the_bridge_share_one_failure() {
    bridged_threads(20);
}

#[test]
fn a_thousand_threads_through_the_bridge_share_one_failure() {
    bridged_threads(1000);
}

/// `callers` tasks call a memoized async function failing after 100 ms of paused time.
async fn tasks(callers: usize) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let memo = Arc::new(AsyncMemoized::fallible(move |_: u64| {
        counted.fetch_add(1, SeqCst);
        async {
            tokio::time::sleep(ONE_CALL).await;
            Err::<u64, _>("upstream down".to_string())
        }
    }));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let memo = memo.clone();
        set.spawn(async move {
            let began = tokio::time::Instant::now();
            let result = memo.try_call(1).await;
            (result, began.elapsed())
        });
    }
    let results = set.join_all().await;
    Run::of(calls.load(SeqCst), &results, ONE_CALL).check(callers);
    assert_eq!(memo.try_call(1).await, Err("upstream down".into()));
    assert_eq!(calls.load(SeqCst), 2, "an error is never cached");
}

#[tokio::test(start_paused = true)]
async fn twenty_tasks_share_one_failure() {
    tasks(20).await;
}

#[tokio::test(start_paused = true)]
async fn a_thousand_tasks_share_one_failure() {
    tasks(1000).await;
}

#[cfg(feature = "redis")]
mod over_redis {
    use super::*;
    use crate::common::redis_server::RedisServer;
    use jwm_cache::{AsyncCacheControls, RedisBackend};

    /// Tasks of a Redis-backed function, in real time: the server is real.
    async fn redis_tasks(callers: usize) {
        let server = RedisServer::start();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        // The callers the cache has counted, as they join the computation.
        let joined: Arc<OnceLock<Box<dyn Fn() -> u64 + Send + Sync>>> = Arc::default();
        let joining = Arc::clone(&joined);
        let memo = Arc::new(
            AsyncMemoized::fallible_builder(move |_: u64| {
                counted.fetch_add(1, SeqCst);
                let joined = Arc::clone(&joining);
                async move {
                    // Held until every caller has joined, then 100 ms.
                    let began = Instant::now();
                    let all = callers as u64;
                    while joined.get().is_none_or(|joined| joined() < all) {
                        assert!(
                            began.elapsed() < Duration::from_secs(60),
                            "not every caller joined"
                        );
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    tokio::time::sleep(ONE_CALL).await;
                    Err::<u64, _>("upstream down".to_string())
                }
            })
            // In one process, one identifier is one cache: each test its own.
            .identifier(format!("shared-failure-{callers}"))
            .build_with_redis(RedisBackend::open(&server.url(0)).unwrap()),
        );
        // The cache, not the function (which holds this): nothing keeps the other alive.
        let counting = Arc::clone(memo.cache());
        let counters = move || {
            let counters = counting.cache_counters();
            counters.misses + counters.coalesced
        };
        assert!(joined.set(Box::new(counters)).is_ok());
        let start = Arc::new(tokio::sync::Barrier::new(callers));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..callers {
            let (memo, start) = (memo.clone(), start.clone());
            set.spawn(async move {
                start.wait().await;
                let began = Instant::now();
                let result = memo.try_call(1).await;
                (result, began.elapsed())
            });
        }
        let results = set.join_all().await;
        Run::of(calls.load(SeqCst), &results, ONE_CALL).check(callers);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twenty_tasks_over_redis_share_one_failure() {
        redis_tasks(20).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_tasks_over_redis_share_one_failure() {
        redis_tasks(1000).await;
    }
}
