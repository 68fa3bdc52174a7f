//! A store that may still land (it timed out, or its caller gave up) is not overtaken: a
//! removal and a later store of its key wait for it, or fail; a lease's holder gives
//! its lease back at once, and its late store, fenced, is refused. Each
//! test freezes the server (SIGSTOP) while a store too large for the sockets' buffers
//! ends unanswered; thawed, the server reads it in pieces over many rounds of its event
//! loop, and runs in the first round whatever was sent meanwhile on another connection.

use super::faults::timed_out;
use super::in_transit::{calls, input_bytes, nothing_half_read, sets, sets_reach};
use super::*;
use jwm_cache::codec::Serializer;

/// Larger than loopback sockets buffer, and than the default largest value.
const HUGE: usize = 32 << 20;

/// Options for these tests: a 300 ms timeout, and room for [`HUGE`] values.
fn options() -> RedisOptions {
    RedisOptions::default()
        .timeout(Duration::from_millis(300))
        .max_value_bytes(2 * HUGE)
}

/// A value that travels on the bulk connection: sending it first makes that
/// connection, so that no handshake waits behind the freeze.
fn large() -> Vec<u8> {
    vec![1; jwm_cache::backend::LARGE_VALUE_BYTES + 1]
}

/// Freezes the server while `store` ends unanswered (`store` says whether it did), then
/// starts `then` while it is frozen, so that `then` reaches the server first, thaws the
/// server, and returns what `then` returned.
async fn frozen_while<T: Send + 'static>(
    server: &RedisServer,
    store: impl Future<Output = bool>,
    then: impl Future<Output = T> + Send + 'static,
) -> T {
    server.freeze();
    let unanswered = store.await;
    let then = tokio::spawn(then);
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.thaw();
    assert!(unanswered, "the store was answered");
    then.await.unwrap()
}

/// After `removed`, the outcome of a removal of key 1 sent while a store of it was in
/// transit, and once that store has landed (the server ran `sets` `SET`s): key 1 is
/// gone. A removal that failed is retried: once the store has landed it goes through.
async fn removed_for_good(
    server: &RedisServer,
    cache: &Cache<Vec<u8>>,
    sets: u64,
    removed: Result<bool, Error<RedisBackendError, impl std::fmt::Debug>>,
) {
    assert!(
        sets_reach(server, sets, 2_000).await,
        "the store never landed"
    );
    if removed.is_err() {
        let retried = succeeds_within(200, || cache.remove(&1)).await;
        assert!(retried, "no removal succeeded after the store landed");
    }
    let check: Cache<Vec<u8>> = cache_with(&server.url(0), "late", options());
    assert!(
        matches!(check.get(&1).await, Ok(None)),
        "the store outlived the removal ({removed:?})"
    );
}

/// A removal on one runtime's connection does not queue behind a store that timed out
/// on another's: it waits for the store to land, or fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_in_transit_on_another_runtime_does_not_outlive_a_removal() {
    let server = RedisServer::start();
    let cache = Arc::new(cache_with::<Vec<u8>>(&server.url(0), "late", options()));
    // The removal's connection, made here; the store's, on the other runtime.
    assert!(!cache.remove(&100).await.unwrap());
    let other = another_runtime();
    let storing = Arc::clone(&cache);
    let first = async move { storing.insert(100, large()).await };
    other.spawn(first).await.unwrap().unwrap();
    let sets = sets(&server) + 1;
    let storing = Arc::clone(&cache);
    let store = async {
        timed_out(
            other
                .spawn(async move { storing.insert(1, vec![7; HUGE]).await })
                .await
                .unwrap(),
        )
    };
    let removing = Arc::clone(&cache);
    let removed = frozen_while(&server, store, async move { removing.remove(&1).await }).await;
    removed_for_good(&server, &cache, sets, removed).await;
    other.shutdown_background();
}

/// A store whose caller gave up before the backend's timeout (a request cancelled, a
/// timeout of the caller's own) may still land too: it is followed like one that timed
/// out, and a removal waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_caller_gave_up_does_not_outlive_a_removal() {
    let server = RedisServer::start();
    // The backend would wait long: the caller gives up first.
    let options = options().timeout(Duration::from_secs(60));
    let cache = Arc::new(cache_with::<Vec<u8>>(&server.url(0), "late", options));
    cache.insert(100, large()).await.unwrap();
    assert!(cache.remove(&100).await.unwrap());
    let sets = sets(&server) + 1;
    // Once the store has reached redis-rs, well past the time its bytes take to encode
    // (a loaded machine's too), and long before the backend's timeout.
    let huge = vec![7; HUGE];
    let encoding = Instant::now();
    Serializer::<Vec<u8>>::encode(&Stamped::<Postcard, u64>::new(Postcard), &huge).unwrap();
    let gave_up = encoding.elapsed() * 3 + Duration::from_secs(1);
    let store = async {
        let store = cache.insert(1, huge);
        tokio::time::timeout(gave_up, store).await.is_err()
    };
    let removing = Arc::clone(&cache);
    let removed = frozen_while(&server, store, async move { removing.remove(&1).await }).await;
    removed_for_good(&server, &cache, sets, removed).await;
}

/// A store that timed out on one connection could land after a later store of its key
/// on another, and put the older value back: the later store waits for it to land, or
/// fails. Both are on one runtime here: the first, too large for the lookups'
/// connection, travels on one of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_in_transit_does_not_overwrite_a_later_one() {
    let server = RedisServer::start();
    let cache = Arc::new(cache_with::<Vec<u8>>(&server.url(0), "late", options()));
    // Both connections made before the freeze.
    cache.insert(100, large()).await.unwrap();
    cache.insert(100, vec![1]).await.unwrap();
    let sets = sets(&server) + 2;
    let store = async { timed_out(cache.insert(1, vec![7; HUGE]).await) };
    let storing = Arc::clone(&cache);
    let stored = frozen_while(
        &server,
        store,
        async move { storing.insert(1, vec![2]).await },
    )
    .await;
    if stored.is_err() {
        // It gave up waiting: once the first has landed, a store goes through.
        let retried = succeeds_within(200, || cache.insert(1, vec![2])).await;
        assert!(retried, "no store succeeded after the first landed");
    }
    // Both have run, however long the first took to land.
    assert!(
        sets_reach(&server, sets, 2_000).await,
        "the stores never landed"
    );
    assert_eq!(
        cache.get(&1).await.unwrap(),
        Some(vec![2]),
        "the store in transit overwrote a later one ({stored:?})"
    );
}

/// While the backend is paused after a failure, a removal or a store of a key whose
/// store is in transit fails at once, as every operation does, rather than wait for
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_backend_fails_at_once_what_would_wait_for_a_store_in_transit() {
    let server = RedisServer::start();
    let options = options().pause_after_failure(Duration::from_secs(60));
    let cache = cache_with::<Vec<u8>>(&server.url(0), "late", options);
    cache.insert(100, large()).await.unwrap();
    assert!(cache.remove(&100).await.unwrap());
    server.freeze();
    assert!(timed_out(cache.insert(1, vec![7; HUGE]).await));
    // A lookup that times out pauses the backend.
    assert!(timed_out(cache.get(&2).await));
    let began = Instant::now();
    let removed = cache.remove(&1).await;
    let stored = cache.insert(1, vec![2]).await;
    let cleared = cache.clear().await;
    let took = began.elapsed();
    server.thaw();
    let unavailable = |e: &Error<RedisBackendError, _>| {
        matches!(e, Error::Backend(RedisBackendError::Unavailable))
    };
    assert!(removed.as_ref().is_err_and(unavailable), "{removed:?}");
    assert!(stored.as_ref().is_err_and(unavailable), "{stored:?}");
    assert!(cleared.as_ref().is_err_and(unavailable), "{cleared:?}");
    // A wait would take the whole timeout (300 ms).
    assert!(took < Duration::from_millis(250), "{took:?}");
}

/// A holder whose store timed out gives its lease back at once: another process takes
/// it, computes and stores, and the holder's store, fenced, lands after that and is
/// refused rather than put the older value back. The two caches here share no state,
/// as two processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holders_late_store_never_lands_over_a_later_one() {
    let server = RedisServer::start();
    let leasing = |options| {
        AsyncCacheBuilder::new()
            .identifier("late-lease")
            .lease(Duration::from_secs(60))
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open_with(&server.url(0), options).unwrap())
    };
    // The other's lookup, sent while the server is frozen, must not time out.
    let patient = options().timeout(Duration::from_secs(5));
    let (holder, other): (Cache<Vec<u8>>, Cache<Vec<u8>>) = (leasing(options()), leasing(patient));
    let holder = Arc::new(holder);
    // Every connection made before the freeze, the huge value's too.
    for cache in [&*holder, &other] {
        cache.insert(100, large()).await.unwrap();
        assert!(cache.remove(&100).await.unwrap());
    }
    // The holder takes the lease, then computes until the server is frozen.
    let computing = Arc::new(tokio::sync::Semaphore::new(0));
    let (holding, go) = (Arc::clone(&holder), Arc::clone(&computing));
    let held = tokio::spawn(async move {
        let compute = || async move {
            let _go = go.acquire().await.unwrap();
            vec![7; HUGE]
        };
        holding.get_or_insert_with(1, compute).await
    });
    let leased = || {
        let leases: Vec<String> = server.client(0).keys("*:lease").unwrap();
        !leases.is_empty()
    };
    let began = Instant::now();
    while !leased() {
        assert!(began.elapsed() < Duration::from_secs(10), "no lease taken");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Scripts and plain stores alike: what the holder's store is sent as does not matter.
    let commands = || calls(&server, "eval") + calls(&server, "set");
    let (read, sent) = (input_bytes(&server), commands());
    server.freeze();
    computing.add_permits(1);
    // Its store timed out: the lease could be given back now (a round trip the server
    // would answer once thawed).
    while holder.counters().errors == 0 {
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "the store never failed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let other = Arc::new(other);
    let calling = Arc::clone(&other);
    let call = tokio::spawn(async move {
        let compute = || async { vec![2] };
        calling.get_or_insert_with(1, compute).await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.thaw();
    let called = call.await.unwrap();
    assert_eq!(held.await.unwrap().len(), HUGE);
    // The holder's release (a few bytes) ran before its store, whose 32 MiB the server
    // reads over many rounds: the other process took the lease, computed and stored.
    assert_eq!(called, vec![2], "the other process did not compute");
    // Once the server has read at least the holder's store, run at least five commands
    // (the holder's store and release, the other's claim, store and release) and holds
    // no client's bytes half read, it has run the store.
    let patience = Instant::now();
    let ran = || {
        input_bytes(&server) >= read + HUGE as u64
            && commands() >= sent + 5
            && nothing_half_read(&server)
    };
    while !ran() {
        assert!(patience.elapsed() < Duration::from_secs(10), "never read");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stored = other.get(&1).await.unwrap();
    assert_eq!(stored, Some(called), "a late store landed over a later one");
}
