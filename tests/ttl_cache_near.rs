//! `#[ttl_cache(backend = redis(url = ..., near = N))]`: sync and async functions with a
//! near tier, against a real `redis-server`.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, command_calls, url_in as url};
use jwm_cache::{AsyncCacheControls, CacheControls, ttl_cache};

const PATIENCE: Duration = Duration::from_secs(10);

static SYNC_URL: OnceLock<String> = OnceLock::new();

#[ttl_cache(identifier = "near-sync", backend = redis(url = url(&SYNC_URL), near = 100))]
fn squared(n: u64) -> u64 {
    n * n
}

#[test]
fn a_sync_function_serves_hits_from_its_near_tier() {
    let server = RedisServer::start();
    SYNC_URL.set(server.url(0)).unwrap();
    let mut raw = server.client(0);
    assert_eq!(squared(9), 81);
    let began = Instant::now();
    while SQUARED.cache_info().near_hits == 0 {
        assert_eq!(squared(9), 81);
        assert!(began.elapsed() < PATIENCE, "no near hit");
        std::thread::sleep(Duration::from_millis(1));
    }
    let gets = command_calls(&mut raw)["get"];
    for _ in 0..1_000 {
        assert_eq!(squared(9), 81);
    }
    assert_eq!(
        command_calls(&mut raw)["get"],
        gets,
        "a near hit sent a GET"
    );
    assert!(SQUARED.cache_info().near_hits > 1_000);
    // Another client's flush retires the copy.
    let _: () = redis::cmd("FLUSHALL").query(&mut raw).unwrap();
    let began = Instant::now();
    while SQUARED.cache_info().misses < 2 {
        assert_eq!(squared(9), 81);
        assert!(began.elapsed() < PATIENCE, "the flush was not seen");
        std::thread::sleep(Duration::from_millis(1));
    }
}

static ASYNC_URL: OnceLock<String> = OnceLock::new();

#[ttl_cache(identifier = "near-async", backend = redis(url = url(&ASYNC_URL), near = 100), serializer = json)]
async fn shout(word: &str) -> String {
    word.to_uppercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_function_with_a_borrowed_argument_serves_hits_from_its_near_tier() {
    let server = RedisServer::start();
    ASYNC_URL.set(server.url(0)).unwrap();
    let mut raw = server.client(0);
    assert_eq!(shout("hey").await, "HEY");
    let began = Instant::now();
    while SHOUT.cache_info().await.near_hits == 0 {
        assert_eq!(shout("hey").await, "HEY");
        assert!(began.elapsed() < PATIENCE, "no near hit");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Stored as JSON behind its header, for processes without a near tier.
    let name = format!(
        "jwm-cache:near-async:{}",
        jwm_cache::key::PersistentDigest::persistent_digest("hey").unwrap()
    );
    let stored: Vec<u8> = redis::cmd("GET").arg(&name).query(&mut raw).unwrap();
    assert!(stored.ends_with(b"\"HEY\""));
    // A write through the handle is read back at once.
    SHOUT.cache_set("hey", "preset".into()).await.unwrap();
    assert_eq!(shout("hey").await, "preset");
}
