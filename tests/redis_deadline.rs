//! The deadline stored with every Redis value: a lookup returns the entry's deadline on
//! the cache's own timeline, and a hit costs the server one `GET` and nothing more.

mod common;

use std::time::Duration;

use common::redis_server::{RedisServer, command_calls};
use jwm_cache::backend::{AsyncBackend, AsyncLookup, Backend, DEADLINE_LEN, Deadline, Lookup};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, Bridge, CacheBuilder,
    RedisBackend, SystemClock, Ttl,
    backend::SyncRedisBackend,
    codec::{Postcard, Serializer, Stamped, StampedBytes},
    error::RedisBackendError,
    key::PersistentDigest,
    time::{Clock, Instant},
};
use redis::Commands;

const MS: Duration = Duration::from_millis(1);

fn stamped(value: &u64) -> StampedBytes<u64> {
    Serializer::<u64>::encode(&Stamped::<_, u64>::new(Postcard), value).unwrap()
}

fn name(identifier: &str, key: u64) -> String {
    format!(
        "jwm-cache:{identifier}:{}",
        key.persistent_digest().unwrap()
    )
}

/// `found` is `expected` rounded down to the millisecond, less the wall time that
/// passed between the store's clock readings and the lookup's (at most `took`), plus
/// at most `late`: the time between the writer's `now` and its `SET`, which the stored
/// deadline carries (see `record::to_wall`).
fn assert_near(found: Deadline, expected: Deadline, took: Duration, late: Duration) {
    let slack = u64::try_from((took + MS).as_nanos()).unwrap();
    let late = u64::try_from(late.as_nanos()).unwrap();
    assert!(
        found.as_nanos() <= expected.as_nanos() + late,
        "{found:?} is more than {late} ns after {expected:?}"
    );
    assert!(
        found.as_nanos() + slack >= expected.as_nanos(),
        "{found:?} is more than {took:?} + 1 ms before {expected:?}"
    );
}

#[tokio::test]
async fn the_async_backend_returns_the_deadline_that_was_set() {
    let server = RedisServer::start();
    let redis = RedisBackend::<u64>::open(&server.url(0))
        .unwrap()
        .with_identifier("deadlines");
    // A timeline of the test's own: a `ManualClock`'s, say, far from the wall clock.
    let now = Instant::from_nanos(7_000_000_000);
    let deadline = Ttl::from_secs(60).deadline_from(now);
    let started = std::time::Instant::now();
    redis.set(1, stamped(&10), deadline, now).await.unwrap();
    let entry = redis.get_entry(&1, now).await.unwrap().unwrap();
    assert_eq!(entry.value, stamped(&10));
    // The store and the lookup share `now`: no time passes between them on its timeline.
    assert_near(entry.deadline, deadline, started.elapsed(), Duration::ZERO);
    // A process whose clock reads 1,000 s at this moment sees the same deadline on its
    // own timeline.
    let elsewhere = Instant::from_nanos(1_000_000_000_000);
    let there = redis.get_entry(&1, elsewhere).await.unwrap().unwrap();
    let expected = Ttl::from_secs(60).deadline_from(elsewhere);
    assert_near(there.deadline, expected, started.elapsed(), Duration::ZERO);

    // The stored deadline is wall-clock milliseconds: the server's own expiry, give or
    // take the round trip.
    let took = u64::try_from(started.elapsed().as_millis()).unwrap();
    let mut raw = server.client(0);
    let stored: Vec<u8> = raw.get(name("deadlines", 1)).unwrap();
    let (wall, rest) = stored.split_first_chunk::<DEADLINE_LEN>().unwrap();
    let wall = u64::from_le_bytes(*wall);
    let expires: u64 = redis::cmd("PEXPIRETIME")
        .arg(name("deadlines", 1))
        .query(&mut raw)
        .unwrap();
    assert!(
        (wall..=wall + took + 2).contains(&expires),
        "{wall} {expires}"
    );
    assert_eq!(rest, stamped(&10).as_bytes());
}

#[tokio::test]
async fn an_entry_that_never_expires_comes_back_as_never() {
    let server = RedisServer::start();
    let cache: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
        AsyncCacheBuilder::new()
            .identifier("never")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&server.url(0)).unwrap());
    cache.insert_with_ttl(2, 20, Ttl::NEVER).await.unwrap();
    let entry = cache.backend().get_entry(&2, Instant::ZERO).await.unwrap();
    assert_eq!(entry.unwrap().deadline, Deadline::NEVER);
    let entry = cache.backend().get_entry(&2, Instant::MAX).await.unwrap();
    assert_eq!(entry.unwrap().deadline, Deadline::NEVER);
    let mut raw = server.client(0);
    let stored: Vec<u8> = raw.get(name("never", 2)).unwrap();
    assert_eq!(stored[..DEADLINE_LEN], [0xff; DEADLINE_LEN]);
    assert_eq!(raw.pttl::<_, i64>(name("never", 2)).unwrap(), -1);
}

#[test]
fn the_sync_backend_returns_the_deadline_that_was_set() {
    let server = RedisServer::start();
    let bridge = Bridge::new().unwrap();
    let url = server.url(0);
    let redis = bridge.run(async move { RedisBackend::<u64>::open(&url) });
    let mut sync = SyncRedisBackend::new(redis.unwrap().unwrap(), bridge);
    sync.use_identifier("sync-deadlines");
    let started = std::time::Instant::now();
    let now = SystemClock.now();
    let deadline = Ttl::from_millis(90_500).deadline_from(now);
    sync.set(1, stamped(&10), deadline, now).unwrap();
    let stored = started.elapsed();
    let later = SystemClock.now();
    let entry = sync.get_entry(&1, later).unwrap().unwrap();
    assert_eq!(*entry.value, stamped(&10));
    // The deadline read back runs late by up to the time from `now` to the `SET`.
    assert_near(entry.deadline, deadline, started.elapsed(), stored);

    sync.set(2, stamped(&20), Deadline::NEVER, now).unwrap();
    let entry = sync.get_entry(&2, later).unwrap().unwrap();
    assert_eq!(entry.deadline, Deadline::NEVER);
}

#[tokio::test]
async fn a_value_too_short_for_its_deadline_is_a_counted_miss_and_overwritten() {
    let server = RedisServer::start();
    let url = server.url(0);
    let mut raw = server.client(0);
    let _: () = raw.set(name("short", 5), b"\x01\x02\x03").unwrap();
    let redis = RedisBackend::<u64>::open(&url)
        .unwrap()
        .with_identifier("short");
    assert!(matches!(
        redis.get_entry(&5, Instant::ZERO).await,
        Err(RedisBackendError::Truncated { len: 3 })
    ));

    let plus_one = AsyncMemoized::builder(|n: u64| async move { n + 1 })
        .identifier("short")
        .build_with_redis(RedisBackend::open(&url).unwrap());
    assert_eq!(plus_one.call(5).await, 6, "recomputed");
    let info = plus_one.cache_info().await;
    assert_eq!((info.hits, info.misses, info.errors), (0, 1, 1));
    let stored: Vec<u8> = raw.get(name("short", 5)).unwrap();
    assert_eq!(
        stored[DEADLINE_LEN..],
        *stamped(&6).as_bytes(),
        "overwritten"
    );
    assert_eq!(plus_one.call(5).await, 6);
    assert_eq!(plus_one.cache_info().await.hits, 1);

    // In a batch, such a key alone is a miss and an error: shorter than a deadline, or
    // a deadline with nothing after it.
    let _: () = raw.set(name("short", 7), b"garbage").unwrap();
    let _: () = raw.set(name("short", 8), &u64::MAX.to_le_bytes()).unwrap();
    let cache: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
        AsyncCacheBuilder::new()
            .identifier("short")
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&url).unwrap());
    let found = cache.get_many(&[5, 7, 8]).await.unwrap();
    assert_eq!(found, [Some(6), None, None]);
    let info = cache.info().await;
    assert_eq!((info.hits, info.misses, info.errors), (1, 2, 2));

    // And under the sync flavour.
    let bridge = Bridge::new().unwrap();
    let opened = bridge.run(async move { RedisBackend::<u64>::open(&url) });
    let mut sync = SyncRedisBackend::new(opened.unwrap().unwrap(), bridge);
    sync.use_identifier("short");
    let _: () = raw.set(name("short", 9), b"\x00").unwrap();
    let found = sync
        .get_entry(&9, Instant::ZERO)
        .map(|entry| entry.is_some());
    assert!(matches!(
        found,
        Err(RedisBackendError::Truncated { len: 1 })
    ));
}

#[tokio::test]
async fn a_deadline_already_past_on_an_entry_the_server_holds_is_a_miss() {
    let server = RedisServer::start();
    // Past its TTL, as a writer's stale window (or a clock far behind) leaves it: the
    // server still holds it, and the record says it is over.
    let record = [&1u64.to_le_bytes()[..], stamped(&70).as_bytes()].concat();
    let _: () = server.client(0).set(name("skew", 7), record).unwrap();
    let redis = RedisBackend::<u64>::open(&server.url(0))
        .unwrap()
        .with_identifier("skew");
    let now = Instant::from_nanos(5_000);
    assert_eq!(redis.get_entry(&7, now).await.unwrap(), None);
    assert_eq!(
        AsyncLookup::<u64, u64, _>::get(&redis, &7, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(redis.get_many(&[7]).await.unwrap(), vec![None]);
    let computed = AsyncMemoized::builder(|_: u64| async move { 0u64 })
        .identifier("skew")
        .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    assert_eq!(computed.call(7).await, 0, "the record decides: a miss");
}

#[test]
fn a_hit_sends_the_server_one_get_and_nothing_else() {
    let server = RedisServer::start();
    let url = server.url(0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let double = AsyncMemoized::builder(|n: u64| async move { n * 2 })
        .identifier("stats")
        .build_with_redis(RedisBackend::open(&url).unwrap());
    let direct = RedisBackend::<u64>::open(&url)
        .unwrap()
        .with_identifier("stats");
    let bridge = Bridge::new().unwrap();
    let opened = bridge.run({
        let url = url.clone();
        async move { RedisBackend::<u64>::open(&url) }
    });
    let mut sync = CacheBuilder::new(SystemClock)
        .identifier("stats")
        .serializer(Stamped::new(Postcard))
        .build_with_backend::<u64, u64, _>(SyncRedisBackend::new(opened.unwrap().unwrap(), bridge));
    // Every connection is made, and every value stored, before the count starts.
    for n in 0..3 {
        runtime.block_on(double.call(n));
        runtime
            .block_on(direct.get_entry(&n, SystemClock.now()))
            .unwrap();
    }
    assert_eq!(sync.get(&0).unwrap(), Some(0));
    let mut raw = server.client(0);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut raw)
        .unwrap();

    for _ in 0..10 {
        for n in 0..3 {
            assert_eq!(runtime.block_on(double.call(n)), n * 2);
            let entry = runtime.block_on(direct.get_entry(&n, SystemClock.now()));
            assert!(!entry.unwrap().unwrap().deadline.is_never());
            assert_eq!(sync.get(&n).unwrap(), Some(n * 2));
        }
    }
    let calls = command_calls(&mut raw);
    assert_eq!(calls.get("get"), Some(&90), "one GET a hit: {calls:?}");
    for name in calls.keys() {
        assert!(
            ["get", "config|resetstat"].contains(&name.as_str()),
            "{name} sent during hits: {calls:?}"
        );
    }
    assert_eq!(runtime.block_on(double.cache_info()).hits, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_window_of_never_still_ends_the_ttl() {
    // `stale_if_error(Ttl::NEVER)` keeps entries as long as the cache can (10 years): the
    // record must still hold the TTL's end, for this reader and for a near tier.
    let server = RedisServer::start();
    let plain: AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>> =
        AsyncCacheBuilder::new()
            .identifier("never-stale")
            .ttl(Duration::from_millis(200))
            .stale_if_error(Ttl::NEVER)
            .serializer(Stamped::new(Postcard))
            .build_with_backend(RedisBackend::open(&server.url(0)).unwrap());
    let near: AsyncCache<u64, u64, jwm_cache::NearBackend<u64, u64>> = AsyncCacheBuilder::new()
        .identifier("never-stale")
        .ttl(Duration::from_millis(200))
        .stale_if_error(Ttl::NEVER)
        .build_with_backend(jwm_cache::NearBackend::new(
            RedisBackend::open(&server.url(0)).unwrap(),
            100,
        ));
    plain.insert(1, 10).await.unwrap();
    assert_eq!(plain.get(&1).await.unwrap(), Some(10));
    assert_eq!(near.get(&1).await.unwrap(), Some(10));
    // Past the TTL on the wall clock (bounded polling): no hit in either, ever after.
    let began = std::time::Instant::now();
    while plain.get(&1).await.unwrap().is_some() || near.get(&1).await.unwrap().is_some() {
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "a 200 ms TTL never ended"
        );
        tokio::time::sleep(10 * MS).await;
    }
    for _ in 0..10 {
        assert_eq!(plain.get(&1).await.unwrap(), None);
        assert_eq!(near.get(&1).await.unwrap(), None);
    }
    // The server keeps it as the fallback.
    let kept: bool = server.client(0).exists(name("never-stale", 1)).unwrap();
    assert!(kept);
}
