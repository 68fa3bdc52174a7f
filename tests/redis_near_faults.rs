//! The near tier's faults against a real server: a flush, a killed tracking
//! connection, tracking refused, a restarted server, a frozen one and a write given up
//! mid-way each leave no stale copy, and calls keep returning right values within the
//! timeout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::near::{BOUND, ONE_SHOT, Reader, copied, reader, tracking_client, until, writer};
use common::redis_server::{RedisServer, command_calls};
use jwm_cache::backend::AsyncLookup;
use jwm_cache::time::Clock;
use jwm_cache::{
    AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, ManualClock, NearBackend, RedisBackend,
    SystemClock,
};

/// Kills the tracking connection with `CLIENT KILL`; returns its client id.
fn kill_tracking(raw: &mut redis::Connection) -> u64 {
    let id = tracking_client(raw).expect("a tracking connection");
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(raw)
        .unwrap();
    id
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
    assert!(flushed.elapsed() < ONE_SHOT);
    assert!(reader.backend().is_tracking(), "a flush keeps tracking on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_tracking_connection_leaves_no_stale_copy() {
    let server = RedisServer::start();
    let (reader, writer) = (reader(&server, "near-kill"), writer(&server, "near-kill"));
    let mut raw = server.client(0);
    writer.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    let id = kill_tracking(&mut raw);
    // Written while this process may be between connections: no invalidation reaches it.
    writer.insert(1, 2).await.unwrap();
    let written = Instant::now();
    until("the new value", || async {
        reader.get(&1).await.unwrap() == Some(2)
    })
    .await;
    assert!(written.elapsed() < ONE_SHOT);
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
    kill_tracking(&mut raw);
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
    assert!(killed.elapsed() < ONE_SHOT);
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
async fn a_frozen_server_fails_a_ping_and_tracking_goes_dark() {
    let server = RedisServer::start();
    let redis = RedisBackend::open_with(
        &server.url(0),
        jwm_cache::RedisOptions::default().timeout(Duration::from_millis(100)),
    )
    .unwrap();
    // `PING`ed four times per bound, each answered within the timeout.
    let near = NearBackend::new(redis, 100).staleness_bound(Duration::from_millis(100));
    let reader: Reader = AsyncCacheBuilder::new()
        .identifier("near-frozen")
        .build_with_backend(near);
    reader.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    // A connection that goes silent without closing: only a `PING` can tell.
    server.freeze();
    let frozen = Instant::now();
    until("tracking off", || async { !reader.backend().is_tracking() }).await;
    let noticed = frozen.elapsed();
    server.thaw();
    eprintln!("a silent tracking connection noticed after {noticed:?}");
    assert!(
        noticed < Duration::from_millis(25 + 100) + ONE_SHOT,
        "{noticed:?}"
    );
    assert_eq!(copied(&reader, 1).await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_stops_the_copies_within_the_staleness_bound() {
    copies_withheld_from_a_silent_server(SystemClock, "near-silent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staleness_bound_holds_in_real_time_under_a_clock_that_stands_still() {
    // The cache's clock never moves: the bound is checked against the system's.
    copies_withheld_from_a_silent_server(ManualClock::new(), "near-silent-manual").await;
}

/// Copies a value, freezes the server, and checks that the copy is withheld within the
/// bound, while tracking is still on, and served again once the server answers.
async fn copies_withheld_from_a_silent_server<C>(clock: C, identifier: &str)
where
    C: Clock + Clone + Send + Sync + 'static,
{
    let server = RedisServer::start();
    // A `PING` may wait 5 s before tracking ends: only the bound can stop the copy sooner.
    let redis = RedisBackend::open_with(
        &server.url(0),
        jwm_cache::RedisOptions::default().timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let near = NearBackend::<u64, u64>::new(redis, 100).staleness_bound(BOUND);
    let reader = AsyncCacheBuilder::new()
        .identifier(identifier)
        .clock(clock.clone())
        .build_with_backend(near);
    reader.insert(1, 1).await.unwrap();
    until("a near hit", || async {
        let _ = reader.get(&1).await;
        reader.counters().near_hits > 0
    })
    .await;
    // Whether the copy would be served now, on the cache's clock, asked without I/O.
    let served = || {
        matches!(
            reader.backend().get_entry_inline(&1, clock.now()),
            Some(Ok(Some(_)))
        )
    };
    // A time read before the freeze, as by a caller that then awaited other lookups.
    let before = clock.now();
    // Invalidations it may have sent can no longer reach this process.
    server.freeze();
    let frozen = Instant::now();
    until("the copy withheld", || async { !served() }).await;
    let withheld = frozen.elapsed();
    let tracking = reader.backend().is_tracking();
    // Nor is it served to a lookup given that earlier time: the bound is in real time.
    // (Not a copy, the lookup goes to the frozen server: pending.)
    let late = std::pin::pin!(reader.backend().get_entry(&1, before))
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    assert!(
        !matches!(late, std::task::Poll::Ready(Ok(Some(_)))),
        "a copy past the bound served at a time read before it"
    );
    server.thaw();
    eprintln!(
        "a silent server's copies withheld after {withheld:?} ({})",
        C::NAME
    );
    assert!(tracking, "tracking ended before the copy was withheld");
    assert!(withheld < BOUND + ONE_SHOT, "{withheld:?}");
    // Answered again, the copy is served again: nothing invalidated it.
    until("the copy served again", || async { served() }).await;
}

/// A write whose caller gives it up mid-way (it may still land) retires this process's
/// copy at once, as a finished one does: the copy is not served while the write is held
/// (`CLIENT PAUSE … WRITE`), before any invalidation could come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_given_up_mid_way_retires_the_copy() {
    let server = RedisServer::start();
    let writer = writer(&server, "near-given-up");
    // A staleness bound far past the test: only the retirement can drop the copy.
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let near = NearBackend::new(redis, 1_000).staleness_bound(Duration::from_secs(60));
    let reader: Reader = AsyncCacheBuilder::new()
        .identifier("near-given-up")
        .ttl(Duration::from_secs(60))
        .build_with_backend(near);
    writer.insert(1, 1).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(1));
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2_000)
        .arg("WRITE")
        .query(&mut server.client(0))
        .unwrap();
    let given_up = tokio::time::timeout(Duration::from_millis(50), reader.insert(1, 2)).await;
    assert!(given_up.is_err(), "the write was not held");
    let copy = reader.backend().get_entry_inline(&1, reader.clock().now());
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query(&mut server.client(0))
        .unwrap();
    assert!(copy.is_none(), "the copy was still served: {copy:?}");
}
