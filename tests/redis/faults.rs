//! Faults: a server down at start, killed or stalled, nothing behind a `rediss://` URL,
//! a URL that names no server, and a lookup queued too long.

use super::*;

#[tokio::test]
async fn a_server_down_at_start_still_yields_values_within_the_timeout() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let memo = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("down")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(&url).unwrap());
    let started = Instant::now();
    for n in 0..5 {
        assert_eq!(memo.call(n).await, n * 3);
    }
    // Two operations per call, each bounded by the 250 ms default.
    assert!(
        started.elapsed() < Duration::from_millis(5 * 2 * 250 + 500),
        "{:?}",
        started.elapsed()
    );
    let info = memo.cache_info().await;
    // Five lookups, five stores, and the size `cache_info` itself asked for.
    assert_eq!((info.misses, info.errors), (5, 11));
    assert!(
        matches!(memo.call_strict(1).await, Err(Error::Backend(_))),
        "strict callers get the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_costs_no_wrong_value_and_no_hang_and_hits_resume_after_restart() {
    let mut server = RedisServer::start();
    let timeout = Duration::from_millis(200);
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let memo = Arc::new(
        AsyncMemoized::builder(move |n: u64| {
            counted.fetch_add(1, SeqCst);
            async move { n + 1_000 }
        })
        .identifier("faults")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(
            RedisBackend::open_with(&server.url(0), RedisOptions::default().timeout(timeout))
                .unwrap(),
        ),
    );
    for n in 0..20 {
        memo.call(n).await;
    }
    // Callers keep calling while the server dies under them: it is killed once a tenth
    // of their calls are done, so most run during the outage.
    let done = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..8)
        .map(|t| {
            let (memo, done) = (Arc::clone(&memo), Arc::clone(&done));
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                for i in 0..200u64 {
                    let n = (t * 7 + i) % 40;
                    let started = Instant::now();
                    assert_eq!(memo.call(n).await, n + 1_000);
                    slowest = slowest.max(started.elapsed());
                    done.fetch_add(1, SeqCst);
                }
                slowest
            })
        })
        .collect();
    let began = Instant::now();
    while done.load(SeqCst) < 160 {
        // A caller that failed its check stops counting: end, not spin.
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the callers stopped"
        );
        tokio::task::yield_now().await;
    }
    server.kill();
    for caller in callers {
        let slowest = caller.await.unwrap();
        // A lookup and a store, each bounded by the timeout, plus scheduling slack.
        assert!(
            slowest < 2 * timeout + Duration::from_millis(300),
            "a call took {slowest:?}"
        );
    }
    // Misses during the outage failed their lookups and stores (the size query adds one).
    assert!(
        memo.cache_info().await.errors > 100,
        "the outage was counted"
    );

    server.restart();
    // The manager reconnects by itself: a value stored after the restart is a hit.
    let started = Instant::now();
    loop {
        memo.call(99).await;
        let before = runs.load(SeqCst);
        memo.call(99).await;
        if runs.load(SeqCst) == before {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "hits did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `rediss://` is accepted with the `redis-tls` feature; against a port with no TLS
/// server the call still returns its value and the failure is counted.
#[cfg(feature = "redis-tls")]
#[tokio::test]
async fn a_rediss_url_opens_and_a_failed_handshake_only_costs_a_counted_error() {
    let url = format!("rediss://127.0.0.1:{}/0", free_port());
    let memo = AsyncMemoized::builder(|n: u64| async move { n + 7 })
        .identifier("tls")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(RedisBackend::open(&url).unwrap());
    assert_eq!(memo.call(1).await, 8);
    assert!(memo.cache_info().await.errors >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_costs_each_call_at_most_the_timeouts_and_then_recovers() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(150);
    let options = RedisOptions::default().timeout(timeout);
    let memo = AsyncMemoized::builder(|n: u64| async move { n * 11 })
        .identifier("stalled")
        .build_with_redis(RedisBackend::open_with(&server.url(0), options).unwrap());
    memo.call(1).await;
    server.freeze();
    let started = Instant::now();
    assert_eq!(memo.call(2).await, 22);
    let first = started.elapsed();
    assert!(
        first >= timeout && first < 2 * timeout + Duration::from_millis(200),
        "{first:?}"
    );
    // Paused: the next calls do not wait for the frozen server at all.
    let started = Instant::now();
    for n in 3..20 {
        assert_eq!(memo.call(n).await, n * 11);
    }
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    server.thaw();
    let started = Instant::now();
    loop {
        memo.call(1).await; // stored before the stall
        if memo.cache_info().await.hits > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "hits did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_endless_timeout_sets_no_deadline_and_panics_nowhere() {
    let server = RedisServer::start();
    let options = RedisOptions::default().timeout(Duration::MAX);
    let cache: Cache<u64> = cache_with(&server.url(0), "endless", options);
    cache.insert(1, 10).await.unwrap();
    assert_eq!(cache.get(&1).await.unwrap(), Some(10));
    // A batch computes one deadline for its whole call.
    assert_eq!(cache.get_many(&[1, 2]).await.unwrap(), [Some(10), None]);
    // Together, the second is queued for the driver with no deadline.
    let (first, second) = tokio::join!(cache.get(&1), cache.get(&2));
    assert_eq!((first.unwrap(), second.unwrap()), (Some(10), None));
}

/// Whether `result` is a timeout (redis-rs's own response timeout included).
pub(super) fn timed_out<T, E>(result: Result<T, Error<RedisBackendError, E>>) -> bool {
    matches!(result, Err(Error::Backend(RedisBackendError::Timeout(_))))
}

/// A lookup queued behind another's `MGET` may run out of time while the server answers
/// every command within the timeout: its caller's budget is spent, but nothing says the
/// server failed, so the backend does not pause. The server holds every command
/// (`CLIENT PAUSE … ALL`) twice in a row: the second pause runs just after the first
/// batch is answered, so the queued lookup's `MGET` answers within its own timeout, but
/// after its caller's time is up. The caller is answered then, not when its `MGET` is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_queued_too_long_does_not_pause_the_backend() {
    let server = RedisServer::start();
    let url = server.url(0);
    let timeout = Duration::from_millis(1_000);
    let options = RedisOptions::default().timeout(timeout);
    let cache: Arc<Cache<u64>> = Arc::new(cache_with(&url, "queued", options));
    cache.insert(1, 10).await.unwrap();
    // Both made before the first pause, which would hold their handshakes.
    let connect = || {
        redis::Client::open(url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    };
    let (mut first, mut second) = (connect(), connect());
    pause(&mut first, 600, "ALL");
    let started = Instant::now();
    let get = |key: u64| timed_get(&cache, key);
    // Alone, a `GET`; then an `MGET` of its own; then one queued behind that `MGET`.
    let lone = get(1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let batched = get(2);
    // Time for the driver to take it: the next waits for another `MGET`.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queued = get(3);
    tokio::time::sleep(Duration::from_millis(130)).await;
    // Held too, it runs as the first pause ends (at 0.6-0.7 s), just before the queued
    // lookup's `MGET` is sent, and holds that `MGET` for 0.7-0.8 s of its 1 s.
    let second = std::thread::spawn(move || pause(&mut second, 700, "ALL"));
    assert_eq!(lone.await.unwrap().0.unwrap(), Some(10));
    assert_eq!(batched.await.unwrap().0.unwrap(), None);
    let (found, took) = queued.await.unwrap();
    assert!(timed_out(found), "the queued lookup did not time out");
    // Its `MGET` answers 1.2-1.4 s after it was asked.
    assert!(
        took < timeout.mul_f64(1.1),
        "the queued lookup took {took:?}, past its time"
    );
    second.join().unwrap();
    // While the queued `MGET` is held or just answered (1.3-1.5 s in); a backend paused
    // when the queued lookup's time ran out, at 1.12 s, would be until 1.62 s.
    tokio::time::sleep(Duration::from_millis(1_450).saturating_sub(started.elapsed())).await;
    let after = cache.get(&1).await;
    assert!(
        matches!(after, Ok(Some(10))),
        "a lookup that waited out another's batch paused the backend: {after:?}"
    );
}

/// Lookups queued while an `MGET` is held, more than the next batch takes (256), are
/// answered by their deadline: those left out of that batch wait for it to return, but
/// their time is kept with its callers'. Without the pause after a failure, the next
/// batch is sent when the held one times out, and is held too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_left_out_of_a_full_batch_are_answered_by_their_deadline() {
    let server = RedisServer::start();
    let url = server.url(0);
    let timeout = Duration::from_millis(500);
    let options = RedisOptions::default()
        .timeout(timeout)
        .pause_after_failure(Duration::ZERO);
    let cache: Arc<Cache<u64>> = Arc::new(cache_with(&url, "left-out", options));
    cache.insert(1, 10).await.unwrap();
    let mut raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    pause(&mut raw, 1_600, "ALL");
    let get = |key: u64| timed_get(&cache, key);
    // Alone, a `GET`; then an `MGET` of its own, held; then 300 queued behind it.
    let lone = get(1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let batched = get(2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let queued: Vec<_> = (3..303).map(get).collect();
    for task in [lone, batched].into_iter().chain(queued) {
        let (found, took) = task.await.unwrap();
        assert!(timed_out(found), "a held lookup did not time out");
        // Left out of the second batch, sent at 0.52 s and held until 1.02 s, a lookup
        // asked at 0.07 s was answered at 1.02 s (0.95 s after it asked).
        assert!(took < timeout.mul_f64(1.3), "a lookup took {took:?}");
    }
}

/// A lookup's outcome.
type Got = Result<
    Option<u64>,
    jwm_cache::error::AsyncCacheError<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>,
>;

/// A lookup of `key` on a task of its own: its outcome, and how long it took.
fn timed_get(cache: &Arc<Cache<u64>>, key: u64) -> tokio::task::JoinHandle<(Got, Duration)> {
    let cache = Arc::clone(cache);
    tokio::spawn(async move {
        let asked = Instant::now();
        (cache.get(&key).await, asked.elapsed())
    })
}

/// Holds clients' commands for `ms`, sent over `raw`: `ALL` of them, or only `WRITE`s
/// (`CLIENT PAUSE`).
pub(super) fn pause(raw: &mut redis::Connection, ms: u64, what: &str) {
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(ms)
        .arg(what)
        .query(raw)
        .unwrap();
}

/// A backend whose URL names no server fails every operation at once, touching no tokio
/// resource: each failure must still spend the cooperative budget, or a task calling
/// one operation in a loop never yields and starves the others on its worker.
#[tokio::test(flavor = "current_thread")]
async fn failing_at_once_on_a_bad_url_still_yields_to_other_tasks() {
    use jwm_cache::backend::AsyncBackend;

    const ROUNDS: usize = 2_000;
    let broken = RedisBackend::open_deferring_errors("not a url", RedisOptions::default());
    let cache: Cache<u64> = AsyncCacheBuilder::new()
        .identifier("bad-url")
        .serializer(Stamped::new(Postcard))
        .build_with_backend(broken);
    let now = jwm_cache::time::Instant::ZERO;
    let deadline = Ttl::from_secs(1).deadline_from(now);
    let operations = [
        "insert", "get", "remove", "clear", "len", "get_many", "set_many",
    ];
    for (operation, name) in operations.into_iter().enumerate() {
        let done = Arc::new(AtomicUsize::new(0));
        let other = {
            let done = Arc::clone(&done);
            // Runs only once the looping task yields.
            tokio::spawn(async move { done.load(SeqCst) })
        };
        for round in 0..ROUNDS {
            let key = round as u64;
            let failed = match operation {
                0 => cache.insert(key, 1).await.is_err(),
                1 => cache.get(&key).await.is_err(),
                2 => cache.remove(&key).await.is_err(),
                3 => cache.clear().await.is_err(),
                4 => AsyncBackend::len(cache.backend(), now).await.is_err(),
                5 => cache.get_many(&[key, key + 1]).await.is_err(),
                _ => {
                    let entries = vec![(key, StampedBytes::from_stored(stamped(&2u64)))];
                    let stored = cache.backend().set_many(entries, deadline, now).await;
                    stored.is_err()
                }
            };
            assert!(failed, "{name}, round {round}");
            done.fetch_add(1, SeqCst);
        }
        let seen = other.await.unwrap();
        assert!(
            seen < ROUNDS / 4,
            "{name}: the other task first ran after {seen} of {ROUNDS} calls"
        );
    }
}

/// Polls `future` on this thread, outside any runtime, until it is ready; fails the
/// test after 10 s.
fn block_on_without_runtime<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let began = Instant::now();
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "still pending after 10 s"
        );
        std::thread::park_timeout(Duration::from_millis(10));
    }
}

/// Outside a tokio runtime every operation fails with `Unavailable`; none panics (a
/// `clear` did, on its wait for stores in transit).
#[test]
fn operations_outside_a_runtime_fail_without_panicking() {
    use jwm_cache::backend::AsyncBackend;
    let server = RedisServer::start();
    let backend = RedisBackend::<u64>::open(&server.url(0)).unwrap();
    let unavailable = |outcome: Result<(), RedisBackendError>| {
        assert!(
            matches!(outcome, Err(RedisBackendError::Unavailable)),
            "{outcome:?}"
        );
    };
    unavailable(block_on_without_runtime(AsyncBackend::<
        u64,
        jwm_cache::codec::StampedBytes<u64>,
    >::clear(&backend)));
    let counted = block_on_without_runtime(
        AsyncBackend::<u64, jwm_cache::codec::StampedBytes<u64>>::len(
            &backend,
            jwm_cache::time::Instant::ZERO,
        ),
    );
    unavailable(counted.map(drop));
}
