//! Stores that timed out and may still land: a clear waits for them, and one follower
//! per connection watches them land.

use super::faults::{pause, timed_out};
use super::*;

/// How many `SET`s the server has run.
pub(super) fn sets(server: &RedisServer) -> u64 {
    calls(server, "set")
}

/// How many times the server has run `command` (lower case, as `INFO commandstats`
/// names it).
pub(super) fn calls(server: &RedisServer, command: &str) -> u64 {
    let calls = command_calls(&mut server.client(0));
    calls.get(command).copied().unwrap_or(0)
}

/// Whether no client of the server has a command of a mebibyte or more half read (its
/// query buffer and arguments, `CLIENT LIST`'s `qbuf` and `argv-mem`).
pub(super) fn nothing_half_read(server: &RedisServer) -> bool {
    let clients: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut server.client(0))
        .unwrap();
    clients.lines().all(|client| {
        let field = |name: &str| {
            client
                .split(' ')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or(0)
        };
        field("qbuf") + field("argv-mem") < 1 << 20
    })
}

/// How many bytes the server has read from its clients.
pub(super) fn input_bytes(server: &RedisServer) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query(&mut server.client(0))
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("total_net_input_bytes:"))
        .and_then(|bytes| bytes.trim().parse().ok())
        .expect("INFO stats gives total_net_input_bytes")
}

/// Polls (`polls` times 5 ms at most) until the server has run `count` `SET`s; whether
/// it did.
pub(super) async fn sets_reach(server: &RedisServer, count: u64, polls: u32) -> bool {
    calls_reach(server, "set", count, polls).await
}

/// [`sets_reach`] for any `command`.
pub(super) async fn calls_reach(
    server: &RedisServer,
    command: &str,
    count: u64,
    polls: u32,
) -> bool {
    for _ in 0..polls {
        if calls(server, command) >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
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
    // No pause: a small store's timeout would start one, and the clear would fail at
    // once instead of waiting for the store.
    let options = RedisOptions::default()
        .timeout(Duration::from_millis(100))
        .pause_after_failure(Duration::ZERO);
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
