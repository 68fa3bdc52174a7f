//! What the near tier's tests share: a reader with a near tier and a writer without,
//! as two processes would have, and waits bounded by `PATIENCE`.

use std::future::Future;
use std::time::{Duration, Instant};

use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{AsyncCache, AsyncCacheBuilder, NearBackend, RedisBackend};

use super::redis_server::RedisServer;

/// How long any wait of these tests may take before it fails them.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);
/// How long after a write returns a reader may still see the old value: the readers'
/// staleness bound, which holds however late an invalidation arrives; the measured
/// delays are far below it (BENCHMARKS.md).
pub(crate) const BOUND: Duration = Duration::from_millis(50);
/// The bound for one observation: a single sample on a shared 2-core machine may wait
/// out a scheduling slice or two, so it is held to a looser bound than a distribution.
pub(crate) const ONE_SHOT: Duration = Duration::from_millis(500);

pub(crate) type Reader = AsyncCache<u64, u64, NearBackend<u64, u64>>;
pub(crate) type Writer = AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>;

pub(crate) fn reader(server: &RedisServer, identifier: &str) -> Reader {
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .build_with_backend(NearBackend::new(redis, 1_000).staleness_bound(BOUND))
}

pub(crate) fn writer(server: &RedisServer, identifier: &str) -> Writer {
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .serializer(Stamped::new(Postcard))
        .build_with_backend(redis)
}

/// Polls `done` every millisecond until it holds; fails the test after [`PATIENCE`].
pub(crate) async fn until<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads `key` until tracking is on: its first miss starts the tracker.
pub(crate) async fn tracking_on(reader: &Reader, key: u64) {
    until("tracking on", || async {
        let _ = reader.get(&key).await;
        reader.backend().is_tracking()
    })
    .await;
}

/// Reads `key` until the copy serves it, and returns what it served.
pub(crate) async fn copied(reader: &Reader, key: u64) -> Option<u64> {
    tracking_on(reader, key).await;
    let before = reader.counters().near_hits;
    let start = Instant::now();
    loop {
        let found = reader.get(&key).await.unwrap();
        if reader.counters().near_hits > before {
            return found;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for a near hit"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The client id of the tracking connection, from `CLIENT LIST`.
pub(crate) fn tracking_client(raw: &mut redis::Connection) -> Option<u64> {
    let clients: String = redis::cmd("CLIENT").arg("LIST").query(raw).unwrap();
    clients.lines().find_map(|line| {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        };
        field("flags")?.contains('t').then_some(())?;
        field("id")?.parse().ok()
    })
}
