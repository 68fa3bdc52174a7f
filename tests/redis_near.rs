//! The near tier against a real server, in one process: copies serve hits without I/O,
//! another connection's writes, removals, clears and expiries retire them, a read racing
//! an invalidation keeps no stale copy, and a weigher bounds them. The writer is a plain
//! Redis cache on connections of its own, as another process's. The faults are in
//! `redis_near_faults.rs`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::near::{BOUND, ONE_SHOT, copied, reader, tracking_on, until, writer};
use common::redis_server::{RedisServer, command_calls};
use jwm_cache::{
    AsyncCache, AsyncCacheBuilder, AsyncCacheControls, AsyncMemoized, ManualClock, NearBackend,
    RedisBackend,
};

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
    let parameters = triple.cache_parameters();
    assert_eq!(
        (parameters.backend, parameters.capacity),
        ("redis+near", Some(100))
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
    assert!(removed.elapsed() < ONE_SHOT);

    assert_eq!(copied(&reader, 4).await, Some(200));
    writer.clear().await.unwrap();
    let cleared = Instant::now();
    until("the clear", || async {
        reader.get(&4).await.unwrap().is_none()
    })
    .await;
    assert!(cleared.elapsed() < ONE_SHOT);
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
async fn a_copy_is_never_served_in_its_stale_window() {
    // A 300 ms TTL kept an hour as a fallback (`stale_if_error`): past the TTL, the
    // function fails and the stale value is Redis's to serve, never the copy's.
    let server = RedisServer::start();
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fails = Arc::clone(&failing);
    let flaky = AsyncMemoized::fallible_builder(move |n: u64| {
        let fails = fails.load(std::sync::atomic::Ordering::SeqCst);
        async move {
            if fails {
                Err("down".to_string())
            } else {
                Ok(n + 1)
            }
        }
    })
    .identifier("near-stale")
    .ttl(Duration::from_millis(300))
    .stale_if_error(Duration::from_secs(3600))
    .build_with_near_redis(RedisBackend::open(&server.url(0)).unwrap(), 100);
    assert_eq!(flaky.try_call(1).await, Ok(2));
    until("a near hit", || async {
        assert_eq!(flaky.try_call(1).await, Ok(2));
        flaky.cache().counters().near_hits > 0
    })
    .await;
    failing.store(true, std::sync::atomic::Ordering::SeqCst);
    until("the stale value", || async {
        assert_eq!(flaky.try_call(1).await, Ok(2));
        flaky.cache().counters().stale_served > 0
    })
    .await;
    let counters = flaky.cache().counters();
    for _ in 0..20 {
        assert_eq!(flaky.try_call(1).await, Ok(2));
    }
    let after = flaky.cache().counters();
    assert_eq!(
        after.near_hits, counters.near_hits,
        "a copy served in its stale window"
    );
    assert_eq!(after.stale_served, counters.stale_served + 20);
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
    let near_hits = reader.counters().near_hits;
    let found = reader.get_many(&[0, 1, 2, 3, 9]).await.unwrap();
    assert_eq!(found, [Some(0), Some(10), Some(20), Some(30), None]);
    // Key 1 from its copy, the other four in one MGET.
    assert_eq!(reader.counters().near_hits, near_hits + 1);
    assert_eq!(command_calls(&mut server.client(0))["mget"], mgets + 1);
    // A write elsewhere retires the copy that get_many reads.
    writer.insert(1, 11).await.unwrap();
    until("the write", || async {
        reader.get_many(&[1]).await.unwrap() == [Some(11)]
    })
    .await;
}

/// A many-key call that fails counts every key a miss, and none of its copies a near hit:
/// near hits are among the hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_get_many_counts_no_near_hit() {
    let server = RedisServer::start();
    let writer = writer(&server, "near-many-failed");
    // A bound long enough that the copy is surely served while the server is frozen.
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let reader: common::near::Reader = AsyncCacheBuilder::new()
        .identifier("near-many-failed")
        .ttl(Duration::from_secs(60))
        .build_with_backend(NearBackend::new(redis, 100).staleness_bound(Duration::from_secs(5)));
    writer.insert(1, 10).await.unwrap();
    assert_eq!(copied(&reader, 1).await, Some(10));
    let before = reader.counters();
    server.freeze();
    assert!(reader.get_many(&[1, 2]).await.is_err());
    server.thaw();
    let after = reader.counters();
    assert_eq!(after.misses - before.misses, 2);
    assert_eq!(after.hits, before.hits);
    assert_eq!(
        after.near_hits, before.near_hits,
        "a near hit outside the hits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weigher_bounds_the_copies_by_weight() {
    let server = RedisServer::start();
    let mut raw = server.client(0);
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    // At most 100 bytes of values in memory.
    let near = NearBackend::<u64, String>::new(redis, 100).weigher(|_: &u64, v: &String| v.len());
    let cache = AsyncCacheBuilder::new()
        .identifier("near-weight")
        .build_with_backend(near);
    cache.insert(1, "x".repeat(10)).await.unwrap();
    cache.insert(2, "y".repeat(200)).await.unwrap();
    until("a near hit", || async {
        let _ = cache.get(&1).await;
        cache.counters().near_hits > 0
    })
    .await;
    // Heavier than the whole capacity: never kept, so every read is a GET.
    let (near_hits, gets) = (cache.counters().near_hits, command_calls(&mut raw)["get"]);
    for _ in 0..50 {
        assert_eq!(cache.get(&2).await.unwrap().unwrap().len(), 200);
    }
    assert_eq!(cache.counters().near_hits, near_hits);
    assert!(command_calls(&mut raw)["get"] >= gets + 50);
    assert_eq!(
        cache.get(&1).await.unwrap().as_deref(),
        Some("x".repeat(10).as_str())
    );
    assert_eq!(
        cache.counters().near_hits,
        near_hits + 1,
        "the light copy stays"
    );
}

/// Bytes that do not decode, read through the near tier (which decodes them itself):
/// a miss, counted as a codec error, as the cache's own codec's failure is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_the_near_tier_cannot_decode_count_as_codec_errors() {
    use redis::Commands;

    let server = RedisServer::start();
    let mut raw = server.client(0);
    let name = format!(
        "jwm-cache:near-corrupt:{}",
        jwm_cache::key::PersistentDigest::persistent_digest(&4u64).unwrap()
    );
    // A record that never expires, whose stamped bytes are not a value's.
    let mut record = vec![0xff; jwm_cache::backend::DEADLINE_LEN];
    record.extend_from_slice(b"not a stamped value");
    let _: () = raw.set(&name, record).unwrap();
    let redis = RedisBackend::open(&server.url(0)).unwrap();
    let triple = AsyncMemoized::builder(|n: u64| async move { n * 3 })
        .identifier("near-corrupt")
        .build_with_near_redis(redis, 100);
    assert_eq!(triple.call(4).await, 12);
    let info = triple.cache_info().await;
    assert_eq!((info.misses, info.codec_errors), (1, 1));
    assert!(info.errors >= 1);
}
