//! Faults: a server down at start, killed or stalled, and nothing behind a `rediss://` URL.

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
    while done.load(SeqCst) < 160 {
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
}

/// How many `SET`s the server has run.
fn sets(server: &RedisServer) -> u64 {
    let calls = command_calls(&mut server.client(0));
    calls.get("set").copied().unwrap_or(0)
}

/// Polls (`polls` times 5 ms at most) until the server has run `count` `SET`s; whether
/// it did.
async fn sets_reach(server: &RedisServer, count: u64, polls: u32) -> bool {
    for _ in 0..polls {
        if sets(server) >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// Whether `result` is a timeout: the backend's own, or redis-rs's.
fn timed_out<T, E>(result: Result<T, Error<RedisBackendError, E>>) -> bool {
    match result {
        Err(Error::Backend(RedisBackendError::Timeout(_))) => true,
        Err(Error::Backend(RedisBackendError::Redis(e))) => e.is_timeout(),
        _ => false,
    }
}

/// A clear's scan cannot list a store still on its way, so a clear waits for it to land
/// or fails. The server holds writes (`CLIENT PAUSE … WRITE`), so the store times out
/// sent and lands once the pause ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_store_that_timed_out_does_not_outlive_a_clear() {
    let server = RedisServer::start();
    let url = server.url(0);
    let check: Cache<Vec<u8>> = cache(&url, "transit");
    let options = RedisOptions::default().timeout(Duration::from_millis(100));
    let cache: Cache<Vec<u8>> = cache_with(&url, "transit", options);
    let large = vec![7; jwm_cache::backend::LARGE_VALUE_BYTES + 1];
    // Both connections made before the pause: a store and a removal.
    cache.insert(100, large.clone()).await.unwrap();
    assert!(cache.remove(&100).await.unwrap());
    let stored = cache.insert(1, large);
    a_clear_waits_for_the_store(&server, &cache, &check, stored).await;
}

/// Holds writes (`CLIENT PAUSE … WRITE`, 1 s) while `store`, of key 1, times out; then a
/// clear fails while it may still land (its scan reads, which the pause lets through,
/// and finds nothing), and once it has landed a clear succeeds and leaves nothing.
async fn a_clear_waits_for_the_store<V, E>(
    server: &RedisServer,
    cache: &Cache<V>,
    check: &Cache<V>,
    store: impl Future<Output = Result<(), Error<RedisBackendError, E>>>,
) where
    V: Clone + Send + Sync + 'static,
    Stamped<Postcard, u64>:
        jwm_cache::codec::Serializer<V, Encoded = jwm_cache::codec::StampedBytes<u64>>,
{
    let before = sets(server);
    pause(&mut server.client(0), 1_000, "WRITE");
    assert!(timed_out(store.await), "the store did not time out");
    assert!(
        timed_out(cache.clear().await),
        "a clear passed a store in transit"
    );
    assert!(
        sets_reach(server, before + 1, 400).await,
        "the store never landed"
    );
    // Once it has landed, and its follower has seen it.
    let cleared = succeeds_within(200, || cache.clear()).await;
    assert!(cleared, "no clear succeeded after the store landed");
    assert!(
        matches!(check.get(&1).await, Ok(None)),
        "the store outlived the clear"
    );
}

/// A lookup queued behind another's `MGET` may run out of time while the server answers
/// every command within the timeout: its caller's budget is spent, but nothing says the
/// server failed, so the backend does not pause. The server holds every command
/// (`CLIENT PAUSE … ALL`) twice in a row: the second pause runs just after the first
/// batch is answered, so the queued lookup's `MGET` answers within its own timeout, but
/// after its caller gave up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_queued_too_long_does_not_pause_the_backend() {
    let server = RedisServer::start();
    let url = server.url(0);
    let options = RedisOptions::default().timeout(Duration::from_millis(1_000));
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
    let get = |key: u64| {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.get(&key).await })
    };
    // Alone, a `GET`; then an `MGET` of its own; then one queued behind that `MGET`.
    let lone = get(1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let batched = get(2);
    // Time for the driver to take it: the next waits for another `MGET`.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queued = get(3);
    tokio::time::sleep(Duration::from_millis(130)).await;
    // Held too, it runs as the first pause ends, before the queued lookup's `MGET` is sent.
    let second = std::thread::spawn(move || pause(&mut second, 600, "ALL"));
    assert_eq!(lone.await.unwrap().unwrap(), Some(10));
    assert_eq!(batched.await.unwrap().unwrap(), None);
    assert!(
        timed_out(queued.await.unwrap()),
        "the queued lookup did not time out"
    );
    second.join().unwrap();
    // Once the second pause is over (1.2-1.4 s in: a pause ends on the server's next
    // tick) and the queued `MGET` answered; a backend paused at 1.12 s would be until
    // 1.62 s.
    tokio::time::sleep(Duration::from_millis(1_450).saturating_sub(started.elapsed())).await;
    let after = cache.get(&1).await;
    assert!(
        matches!(after, Ok(Some(10))),
        "a lookup that waited out another's batch paused the backend: {after:?}"
    );
}

/// Holds clients' commands for `ms`, sent over `raw`: `ALL` of them, or only `WRITE`s
/// (`CLIENT PAUSE`).
fn pause(raw: &mut redis::Connection, ms: u64, what: &str) {
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(ms)
        .arg(what)
        .query(raw)
        .unwrap();
}

/// A large store that timed out is followed by a task on its caller's runtime; if that
/// runtime ends, the task and the connection go with it, the server drops the store
/// unrun, and a `clear` elsewhere must not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_in_transit_on_a_runtime_that_ended_holds_up_no_clear() {
    let server = RedisServer::start();
    let url = server.url(0);
    let check: Cache<Vec<u8>> = cache(&url, "ended");
    let options = RedisOptions::default().timeout(Duration::from_millis(100));
    let cache: Arc<Cache<Vec<u8>>> = Arc::new(cache_with(&url, "ended", options));
    let before = sets(&server);
    // Its own runtime, made and dropped on a thread of its own (a runtime cannot be
    // dropped inside another): the store times out under the pause and is followed.
    let (ended, pauser) = (Arc::clone(&cache), server.client(0));
    std::thread::spawn(move || {
        let mut pauser = pauser;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // The store's connection made before the pause.
            let large = vec![7; jwm_cache::backend::LARGE_VALUE_BYTES + 1];
            ended.insert(100, large.clone()).await.unwrap();
            ended.remove(&100).await.unwrap();
            pause(&mut pauser, 1_000, "WRITE");
            assert!(
                timed_out(ended.insert(1, large).await),
                "the store did not time out"
            );
        });
    })
    .join()
    .unwrap();
    // Writes are still held; the namespace holds nothing a clear would unlink.
    assert!(
        cache.clear().await.is_ok(),
        "a clear waited for a store whose runtime had ended"
    );
    // After the pause: the store went with its connection, unrun.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        check.get(&1).await.unwrap(),
        None,
        "the dropped store landed"
    );
    assert_eq!(sets(&server), before + 1, "only the first store ran");
}

/// A small store that timed out on one runtime's connection may land after a clear on
/// another's has scanned (the clear does not queue behind it): the clear waits for it,
/// or fails. The server holds writes (`CLIENT PAUSE … WRITE`) and lets the scan through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_store_in_transit_on_another_runtime_does_not_outlive_a_clear() {
    let server = RedisServer::start();
    let url = server.url(0);
    let check: Cache<u64> = cache(&url, "small-transit");
    let options = RedisOptions::default().timeout(Duration::from_millis(100));
    let cache: Arc<Cache<u64>> = Arc::new(cache_with(&url, "small-transit", options));
    // The clear's connection, made here before the pause.
    cache.clear().await.unwrap();
    let other = another_runtime();
    let storing = Arc::clone(&cache);
    // That runtime's connection, made before the pause too.
    other
        .spawn(async move { storing.insert(100, 1).await })
        .await
        .unwrap()
        .unwrap();
    // Nothing left for the clear to unlink, which the pause would hold.
    assert!(cache.remove(&100).await.unwrap());
    let (storing, on_the_other) = (Arc::clone(&cache), &other);
    // Sent once the pause is on; the runtime lives on, so that its follower does.
    let stored = async move {
        let store = async move { storing.insert(1, 10).await };
        on_the_other.spawn(store).await.unwrap()
    };
    a_clear_waits_for_the_store(&server, &cache, &check, stored).await;
    other.shutdown_background();
}

/// However many stores time out at once, their connection carries one probe at a
/// time: a follower per connection, not per store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_timing_out_together_share_one_follower() {
    let server = RedisServer::start();
    let url = server.url(0);
    let options = RedisOptions::default().timeout(Duration::from_millis(100));
    let cache: Arc<Cache<u64>> = Arc::new(cache_with(&url, "followed", options));
    cache.insert(1_000, 1).await.unwrap();
    assert!(cache.remove(&1_000).await.unwrap());
    let exists = || {
        let calls = command_calls(&mut server.client(0));
        calls.get("exists").copied().unwrap_or(0)
    };
    let before = (sets(&server), exists());
    pause(&mut server.client(0), 1_000, "WRITE");
    let stores: Vec<_> = (0..64)
        .map(|key| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.insert(key, key).await })
        })
        .collect();
    for store in stores {
        assert!(timed_out(store.await.unwrap()), "a store did not time out");
    }
    assert!(
        sets_reach(&server, before.0 + 64, 400).await,
        "the stores never landed"
    );
    // Once every store is known to have landed, a clear goes through.
    let cleared = succeeds_within(200, || cache.clear()).await;
    assert!(cleared, "no clear succeeded after the stores landed");
    // One probe per try: the pause (1 s) saw a handful, not one per store per try.
    let probes = exists() - before.1;
    eprintln!("{probes} probes for 64 stores");
    assert!(probes <= 16, "{probes} probes for 64 stores");
}
