//! The near tier against a real server, in one process: copies serve hits without I/O,
//! another connection's writes, removals, flushes and expiries retire them, and a lost
//! tracking connection (killed, refused, or its server restarted) leaves no stale copy.
//! The writer is a plain Redis cache on connections of its own, as another process's.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, command_calls};
use jwm_cache::codec::{Postcard, Stamped};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, ManualClock, NearBackend,
    RedisBackend,
};

/// How long any wait of these tests may take before it fails them.
const PATIENCE: Duration = Duration::from_secs(10);
/// How long after a write returns a reader may still see the old value: generous
/// for a shared machine; the measured delays are far below it (BENCHMARKS.md).
const BOUND: Duration = Duration::from_millis(50);

type Reader = AsyncCache<u64, u64, NearBackend<u64, u64>>;
type Writer = AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>;

fn reader(server: &RedisServer, identifier: &str) -> Reader {
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .build_with_backend(NearBackend::new(redis, 1_000))
}

fn writer(server: &RedisServer, identifier: &str) -> Writer {
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    AsyncCacheBuilder::new()
        .identifier(identifier)
        .ttl(Duration::from_secs(60))
        .serializer(Stamped::new(Postcard))
        .build_with_backend(redis)
}

/// Polls `done` every millisecond until it holds; fails the test after [`PATIENCE`].
async fn until<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads `key` until tracking is on: its first miss starts the tracker.
async fn tracking_on(reader: &Reader, key: u64) {
    until("tracking on", || async {
        let _ = reader.get(&key).await;
        reader.backend().is_tracking()
    })
    .await;
}

/// Reads `key` until the copy serves it, and returns what it served.
async fn copied(reader: &Reader, key: u64) -> Option<u64> {
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
fn tracking_client(raw: &mut redis::Connection) -> Option<u64> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_serves_hits_with_no_io_and_cache_info_tells_them_apart() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let triple = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("near-hits")
        .build_with_near_redis(redis, 100);
    assert_eq!(triple.call(4).await, 12); // computed
    until("tracking on", || async {
        triple.cache().backend().is_tracking()
    })
    .await;
    // Read from Redis, copied (again if this process's own write's invalidation
    // arrives after the read, as it may).
    until("a near hit", || async {
        assert_eq!(triple.call(4).await, 12);
        triple.cache().counters().near_hits > 0
    })
    .await;
    let near_hits = triple.cache().counters().near_hits;
    let gets = command_calls(&mut raw).get("get").copied();
    for _ in 0..100 {
        assert_eq!(triple.call(4).await, 12);
    }
    assert_eq!(
        command_calls(&mut raw).get("get").copied(),
        gets,
        "a near hit sent a GET"
    );
    let info = triple.cache_info().await;
    assert_eq!(info.near_hits, near_hits + 100);
    assert_eq!(info.misses, 1);
    assert!(
        info.hits > info.near_hits,
        "the read from Redis is a hit too"
    );
    assert!(
        info.to_string()
            .ends_with(&format!("near hits {}", info.near_hits)),
        "{info}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_connection_s_writes_removals_and_clears_retire_the_copies() {
    let server = RedisServer::start();
    let (reader, writer) = (
        reader(&server, "near-writes"),
        writer(&server, "near-writes"),
    );
    let mut delays = Vec::new();
    for version in 1..=200u64 {
        let key = version % 7;
        writer.insert(key, version).await.unwrap();
        let written = Instant::now();
        until("the new value", || async {
            reader.get(&key).await.unwrap() == Some(version)
        })
        .await;
        delays.push(written.elapsed());
        // From here on, the old value is never seen again.
        assert_eq!(copied(&reader, key).await, Some(version));
    }
    delays.sort();
    eprintln!(
        "write seen by the reader after: p50 {:?}, p99 {:?}",
        delays[delays.len() / 2],
        delays[delays.len() * 99 / 100]
    );
    assert!(delays[delays.len() * 99 / 100] < BOUND, "{delays:?}");

    assert_eq!(copied(&reader, 3).await, Some(199));
    assert!(writer.remove(&3).await.unwrap());
    let removed = Instant::now();
    until("the removal", || async {
        reader.get(&3).await.unwrap().is_none()
    })
    .await;
    assert!(removed.elapsed() < BOUND);

    assert_eq!(copied(&reader, 4).await, Some(200));
    writer.clear().await.unwrap();
    let cleared = Instant::now();
    until("the clear", || async {
        reader.get(&4).await.unwrap().is_none()
    })
    .await;
    assert!(cleared.elapsed() < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_process_s_own_write_is_read_back_at_once() {
    let server = RedisServer::start();
    let reader = reader(&server, "near-own");
    reader.insert(1, 10).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(10));
    for version in 11..100 {
        reader.insert(1, version).await.unwrap();
        assert_eq!(reader.get(&1).await.unwrap(), Some(version));
    }
    assert!(reader.remove(&1).await.unwrap());
    assert_eq!(reader.get(&1).await.unwrap(), None);
    reader.insert(2, 20).await.unwrap();
    assert_eq!(copied(&reader, 2).await, Some(20));
    reader.clear().await.unwrap();
    assert_eq!(reader.get(&2).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_retires_every_copy() {
    let server = RedisServer::start();
    let (reader, writer) = (reader(&server, "near-flush"), writer(&server, "near-flush"));
    for key in 0..10 {
        writer.insert(key, key + 100).await.unwrap();
        assert_eq!(copied(&reader, key).await, Some(key + 100));
    }
    let _: () = redis::cmd("FLUSHALL").query(&mut server.client(0)).unwrap();
    let flushed = Instant::now();
    until("the flush", || async {
        let mut gone = true;
        for key in 0..10 {
            gone &= reader.get(&key).await.unwrap().is_none();
        }
        gone
    })
    .await;
    assert!(flushed.elapsed() < BOUND);
    assert!(reader.backend().is_tracking(), "a flush keeps tracking on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_tracking_connection_leaves_no_stale_copy() {
    let server = RedisServer::start();
    let (reader, writer) = (reader(&server, "near-kill"), writer(&server, "near-kill"));
    let mut raw = server.client(0);
    writer.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    let id = tracking_client(&mut raw).expect("a tracking connection");
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut raw)
        .unwrap();
    // Written while this process may be between connections: no invalidation reaches it.
    writer.insert(1, 2).await.unwrap();
    let written = Instant::now();
    until("the new value", || async {
        reader.get(&1).await.unwrap() == Some(2)
    })
    .await;
    assert!(written.elapsed() < BOUND);
    // Tracking comes back on a new connection, and copies are served again.
    assert_eq!(copied(&reader, 1).await, Some(2));
    assert_ne!(tracking_client(&mut raw), Some(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_tracking_is_refused_nothing_is_served_from_memory() {
    let server = RedisServer::start();
    let (reader, writer) = (
        reader(&server, "near-refused"),
        writer(&server, "near-refused"),
    );
    let mut raw = server.client(0);
    writer.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    // The default user may no longer turn tracking on; GET and SET still work.
    let acl = |rule: &str| {
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg("default")
            .arg(rule)
            .clone()
    };
    let _: () = acl("-client|tracking").query(&mut raw).unwrap();
    let id = tracking_client(&mut raw).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut raw)
        .unwrap();
    until("tracking off", || async { !reader.backend().is_tracking() }).await;
    let near_hits = reader.counters().near_hits;
    let gets = command_calls(&mut raw).get("get").copied().unwrap_or(0);
    for version in 2..50 {
        writer.insert(1, version).await.unwrap();
        assert_eq!(reader.get(&1).await.unwrap(), Some(version));
    }
    assert_eq!(
        reader.counters().near_hits,
        near_hits,
        "served from memory while dark"
    );
    assert!(command_calls(&mut raw)["get"] >= gets + 48);
    assert!(!reader.backend().is_tracking());
    // Allowed again: tracking comes back by itself, and so do near hits.
    let _: () = acl("+client|tracking").query(&mut raw).unwrap();
    assert_eq!(copied(&reader, 1).await, Some(49));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_leaves_no_stale_copy_and_calls_stay_right() {
    let mut server = RedisServer::start();
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let versioned = AsyncMemoized::builder(move |n: u64| {
        let calls = Arc::clone(&counted);
        async move { n * 1000 + calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) }
    })
    .identifier("near-restart")
    .build_with_near_redis(redis, 100);
    let first = versioned.call(1).await;
    until("a near hit", || async {
        versioned.call(1).await;
        versioned.cache_info().await.near_hits > 0
    })
    .await;
    server.kill();
    let killed = Instant::now();
    until("tracking off", || async {
        !versioned.cache().backend().is_tracking()
    })
    .await;
    assert!(killed.elapsed() < BOUND);
    // While the server is down: each call computes, bounded by the timeout.
    for _ in 0..5 {
        let start = Instant::now();
        let value = versioned.call(1).await;
        assert_ne!(value, first, "the copy outlived its server's connection");
        assert!(start.elapsed() < Duration::from_millis(250) + Duration::from_millis(100));
    }
    server.restart();
    let mut raw = server.client(0);
    // The restarted server is empty: the first call computes, and no older value
    // comes back once a newer one was returned.
    let mut last = versioned.call(1).await;
    assert_ne!(last, first);
    until("tracking back", || async {
        versioned.cache().backend().is_tracking()
    })
    .await;
    for _ in 0..200 {
        let value = versioned.call(1).await;
        assert!(value >= last, "{value} after {last}");
        last = value;
    }
    let _: () = redis::cmd("PING").query(&mut raw).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_ends_at_its_redis_entry_s_deadline() {
    let server = RedisServer::start();
    let clock = ManualClock::new();
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let reader: AsyncCache<u64, u64, NearBackend<u64, u64>, _, _> = AsyncCacheBuilder::new()
        .identifier("near-deadline")
        .clock(clock.clone())
        .build_with_backend(NearBackend::new(redis, 100));
    let writer = writer(&server, "near-deadline");
    writer
        .insert_with_ttl(1, 7, Duration::from_secs(30))
        .await
        .unwrap();
    until("tracking on", || async {
        let _ = reader.get(&1).await;
        reader.backend().is_tracking()
    })
    .await;
    let _ = reader.get(&1).await;
    let near_hits = reader.counters().near_hits;
    assert_eq!(reader.get(&1).await.unwrap(), Some(7));
    assert_eq!(reader.counters().near_hits, near_hits + 1);
    // Past the record's deadline on this cache's clock, the copy is gone: the lookup
    // reads Redis again (where the wall clock says the entry lives on).
    clock.advance(Duration::from_secs(31));
    assert_eq!(reader.get(&1).await.unwrap(), Some(7));
    assert_eq!(
        reader.counters().near_hits,
        near_hits + 1,
        "a copy outlived its deadline"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_racing_invalidations_never_keep_a_stale_copy() {
    // One key, rewritten as fast as another connection can while eight tasks read it:
    // reads miss the copy and refill it while the next invalidation is on its way.
    let server = RedisServer::start();
    let reader = Arc::new(reader(&server, "near-race"));
    let writer = writer(&server, "near-race");
    writer.insert(1, 0).await.unwrap();
    tracking_on(&reader, 1).await;
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(Instant, u64)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (reader, stop) = (Arc::clone(&reader), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let started = Instant::now();
                    seen.push((started, reader.get(&1).await.unwrap().unwrap()));
                    // A near hit is ready at once: let the connections' tasks run.
                    tokio::task::yield_now().await;
                }
                seen
            })
        })
        .collect();
    // Bursts of writes, each followed by a quiet spell longer than the bound: a copy
    // left stale by a burst's last race would be read in the quiet.
    let began = Instant::now();
    let mut version = 0;
    while began.elapsed() < Duration::from_secs(2) {
        for _ in 0..20 {
            version += 1;
            writer.insert(1, version).await.unwrap();
            acked.lock().unwrap().push((Instant::now(), version));
        }
        tokio::time::sleep(BOUND * 2).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked = acked.lock().unwrap().clone();
    let mut reads = 0;
    for task in readers {
        for (started, found) in task.await.unwrap() {
            reads += 1;
            // The newest write acknowledged more than the bound before this read.
            let due = acked.partition_point(|(at, _)| *at + BOUND < started);
            if due > 0 {
                let newest = acked[due - 1].1;
                assert!(
                    found >= newest,
                    "read {found} after {newest} was acknowledged"
                );
            }
        }
    }
    let near_hits = reader.counters().near_hits;
    eprintln!("{version} writes, {reads} reads racing them, {near_hits} near hits");
    assert!(version > 100 && near_hits > 0, "too little raced");
    // And once the writes stop, the last one is what every read finds.
    until("the last write", || async {
        reader.get(&1).await.unwrap() == Some(version)
    })
    .await;
    assert_eq!(copied(&reader, 1).await, Some(version));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_many_reads_copies_and_redis_together() {
    let server = RedisServer::start();
    let (reader, writer) = (reader(&server, "near-many"), writer(&server, "near-many"));
    for key in 0..4 {
        writer.insert(key, key * 10).await.unwrap();
    }
    assert_eq!(copied(&reader, 1).await, Some(10));
    let mgets = command_calls(&mut server.client(0))
        .get("mget")
        .copied()
        .unwrap_or(0);
    let found = reader.get_many(&[0, 1, 2, 3, 9]).await.unwrap();
    assert_eq!(found, [Some(0), Some(10), Some(20), Some(30), None]);
    assert_eq!(command_calls(&mut server.client(0))["mget"], mgets + 1);
    // Only the copy served key 1.
    writer.insert(1, 11).await.unwrap();
    until("the write", || async {
        reader.get_many(&[1]).await.unwrap() == [Some(11)]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_fails_the_heartbeat_and_tracking_goes_dark() {
    let server = RedisServer::start();
    let redis = RedisBackend::open_with(
        &server.url(0),
        jwm_cache::RedisOptions::default().timeout(Duration::from_millis(100)),
    )
    .unwrap();
    let near = NearBackend::new(redis, 100).heartbeat(Duration::from_millis(100));
    let reader: Reader = AsyncCacheBuilder::new()
        .identifier("near-frozen")
        .build_with_backend(near);
    reader.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    // A connection that goes silent without closing: only the heartbeat can tell.
    server.freeze();
    let frozen = Instant::now();
    until("tracking off", || async { !reader.backend().is_tracking() }).await;
    let noticed = frozen.elapsed();
    server.thaw();
    eprintln!("a silent tracking connection noticed after {noticed:?}");
    assert!(
        noticed < Duration::from_millis(100 + 100) + BOUND,
        "{noticed:?}"
    );
    assert_eq!(copied(&reader, 1).await, Some(1));
}
