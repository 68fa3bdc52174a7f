//! `#[ttl_cache(backend = redis(...))]` against a real `redis-server` that each test
//! starts on a free loopback port and kills. Each test has functions of its own, since
//! a function's cache is a static, built on its first call from the URL its test set.

mod common;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use common::redis_server::{RedisServer, command_calls, free_port, url_in as url};
use jwm_cache::backend::{DEADLINE_LEN, HEADER_LEN};
use jwm_cache::{AsyncCacheControls, CacheControls, key::PersistentDigest, ttl_cache};
use redis::Commands;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Coords {
    lat: f64,
    lon: f64,
}

static GEO_URL: OnceLock<String> = OnceLock::new();
static GEO_RUNS: AtomicUsize = AtomicUsize::new(0);

fn locate(city: &str) -> Result<Coords, String> {
    GEO_RUNS.fetch_add(1, SeqCst);
    match city {
        "Oslo" => Ok(Coords {
            lat: 59.9,
            lon: 10.7,
        }),
        _ => Err(format!("no such city: {city}")),
    }
}

#[ttl_cache(ttl = "5m", identifier = "geo", backend = redis(url = url(&GEO_URL), prefix = "app:"), serializer = json)]
fn lookup_sync(city: String) -> Result<Coords, String> {
    locate(&city)
}

#[ttl_cache(ttl = "5m", identifier = "geo", backend = redis(url = url(&GEO_URL), prefix = "app:"), serializer = json)]
async fn lookup(city: String) -> Result<Coords, String> {
    tokio::task::yield_now().await;
    locate(&city)
}

#[test]
fn sync_and_async_functions_share_one_namespace_of_json_values() {
    let server = RedisServer::start();
    GEO_URL.set(server.url(0)).unwrap();
    let oslo = Coords {
        lat: 59.9,
        lon: 10.7,
    };

    assert_eq!(lookup_sync("Oslo".into()), Ok(oslo.clone()));
    assert_eq!(lookup_sync("Oslo".into()), Ok(oslo.clone()));
    assert!(lookup_sync("Atlantis".into()).is_err());
    let info = LOOKUP_SYNC.cache_info();
    assert_eq!(
        (info.hits, info.misses, info.current_size, info.errors),
        (1, 2, 1, 0),
        "an Err is never stored"
    );

    // The async function, under the same identifier, finds what the sync one stored.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let found = runtime.block_on(lookup("Oslo".into()));
    assert_eq!(found, Ok(oslo));
    assert_eq!(GEO_RUNS.load(SeqCst), 2, "Oslo once, Atlantis once");
    assert_eq!(runtime.block_on(LOOKUP.cache_info()).hits, 1);

    let digest = "Oslo".to_string().persistent_digest().unwrap();
    let name = format!("app:geo:{digest}");
    let mut raw = server.client(0);
    let keys: Vec<String> = raw.keys("*").unwrap();
    assert_eq!(keys, std::slice::from_ref(&name));
    // The deadline, the header (which type and codec wrote it), then the JSON text.
    let stored: Vec<u8> = raw.get(&name).unwrap();
    let (header, json) = stored[DEADLINE_LEN..].split_at(HEADER_LEN);
    assert_eq!(&header[..3], b"jw\x01");
    assert_eq!(json, br#"{"lat":59.9,"lon":10.7}"#);
    let ttl_ms: i64 = raw.pttl(&name).unwrap();
    assert!((299_000..=300_000).contains(&ttl_ms), "{ttl_ms}");

    assert_eq!(LOOKUP_SYNC.cache_parameters().backend, "redis");
    LOOKUP_SYNC.cache_clear();
    assert!(raw.keys::<_, Vec<String>>("*").unwrap().is_empty());
}

static GENERIC_URL: OnceLock<String> = OnceLock::new();

/// The line of the attribute below, which names the function's default identifier.
const ECHO_LINE: u32 = line!() + 1;
#[ttl_cache(backend = redis(url = url(&GENERIC_URL)))]
async fn echo<T>(value: T) -> T
where
    T: jwm_cache::PersistentHash + std::hash::Hash + Eq + Clone + Send + Sync + 'static,
    T: Serialize + serde::de::DeserializeOwned,
{
    value
}

#[tokio::test]
async fn each_instantiation_of_a_generic_function_has_its_own_namespace() {
    let server = RedisServer::start();
    GENERIC_URL.set(server.url(0)).unwrap();
    assert_eq!(echo(7u8).await, 7);
    assert_eq!(echo(7u64).await, 7);
    assert_eq!(echo(7u8).await, 7);
    assert_eq!(ECHO.cache_info().await.hits, 1);
    let mut keys: Vec<String> = server.client(0).keys("*").unwrap();
    keys.sort();
    let base = format!("{}::echo@{}:{ECHO_LINE}:1", module_path!(), file!());
    assert_eq!(
        keys,
        [
            format!(
                "jwm-cache:{base}<u64>:{}",
                7u64.persistent_digest().unwrap()
            ),
            format!("jwm-cache:{base}<u8>:{}", 7u8.persistent_digest().unwrap()),
        ]
    );
}

static DEAD_URL: OnceLock<String> = OnceLock::new();
static DEAD_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = redis(url = url(&DEAD_URL), timeout = "100ms"))]
fn doubled(n: u64) -> u64 {
    DEAD_RUNS.fetch_add(1, SeqCst);
    n * 2
}

#[test]
fn with_no_server_every_call_computes_and_counts_its_errors() {
    DEAD_URL
        .set(format!("redis://127.0.0.1:{}/", free_port()))
        .unwrap();
    for _ in 0..3 {
        assert_eq!(doubled(21), 42);
    }
    assert_eq!(DEAD_RUNS.load(SeqCst), 3);
    let info = DOUBLED.cache_info();
    assert_eq!((info.hits, info.misses), (0, 3));
    assert!(info.errors >= 6, "a lookup and a store per call: {info:?}");
}

static MALFORMED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(backend = redis(url = "not a url"))]
async fn tripled(n: u64) -> u64 {
    MALFORMED_RUNS.fetch_add(1, SeqCst);
    n * 3
}

#[tokio::test]
async fn a_malformed_url_costs_counted_errors_not_a_panic() {
    assert_eq!(tripled(5).await, 15);
    assert_eq!(tripled(5).await, 15);
    assert_eq!(MALFORMED_RUNS.load(SeqCst), 2);
    let info = TRIPLED.cache_info().await;
    assert_eq!((info.hits, info.misses), (0, 2));
    assert!(info.errors >= 4, "{info:?}");
}

static ENTRY_URL: OnceLock<String> = OnceLock::new();

#[ttl_cache(identifier = "entries", backend = redis(url = url(&ENTRY_URL)))]
fn shout(word: &str) -> String {
    word.to_uppercase()
}

#[ttl_cache(identifier = "entries", backend = redis(url = url(&ENTRY_URL)))]
async fn shout_async(word: &str) -> String {
    word.to_uppercase()
}

#[test]
fn the_handles_entry_methods_reach_redis_from_sync_and_async_functions() {
    let server = RedisServer::start();
    ENTRY_URL.set(server.url(0)).unwrap();
    let mut raw = server.client(0);
    let name = format!("jwm-cache:entries:{}", "hey".persistent_digest().unwrap());

    assert_eq!(shout("hey"), "HEY");
    assert!(raw.exists::<_, bool>(&name).unwrap());
    assert!(SHOUT.cache_remove("hey").unwrap());
    assert!(!raw.exists::<_, bool>(&name).unwrap());

    SHOUT.cache_set("hey", "preset".into()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The async function shares the namespace: it finds what the sync handle set.
    assert_eq!(runtime.block_on(shout_async("hey")), "preset");
    assert_eq!(runtime.block_on(SHOUT_ASYNC.cache_prime("hey")), "HEY");
    assert_eq!(shout("hey"), "HEY");
    assert!(runtime.block_on(SHOUT_ASYNC.cache_remove("hey")).unwrap());
    assert!(!SHOUT.cache_remove("hey").unwrap());
}

static LEASE_URL: OnceLock<String> = OnceLock::new();
static LEASE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(identifier = "leased", backend = redis(url = url(&LEASE_URL)), lease = "10s")]
fn leased(n: u64) -> u64 {
    LEASE_RUNS.fetch_add(1, SeqCst);
    n + 1
}

#[test]
fn a_sync_function_with_a_lease_waits_while_another_process_holds_it() {
    let server = RedisServer::start();
    LEASE_URL.set(server.url(0)).unwrap();
    let mut raw = server.client(0);
    let lease = format!(
        "jwm-cache:leased:{}:lease",
        7u64.persistent_digest().unwrap()
    );
    // Another process's lease on the key, as if it were computing it.
    let _: () = raw.set_ex(&lease, "another-process", 60).unwrap();
    let caller = std::thread::spawn(|| leased(7));
    let began = std::time::Instant::now();
    while command_calls(&mut raw).get("eval").copied().unwrap_or(0) < 3 {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(60),
            "never waited"
        );
        std::thread::yield_now();
    }
    assert_eq!(LEASE_RUNS.load(SeqCst), 0, "waiting, not computing");
    // The other process gives its lease back without a value: this one takes over.
    let _: () = raw.del(&lease).unwrap();
    assert_eq!(caller.join().unwrap(), 8);
    assert_eq!(LEASE_RUNS.load(SeqCst), 1);
    assert!(
        !raw.exists::<_, bool>(&lease).unwrap(),
        "given back after the store"
    );
    assert_eq!(leased(7), 8, "stored");
}

static STALE_URL: OnceLock<String> = OnceLock::new();
static STALE_DOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[ttl_cache(identifier = "stale", ttl = "300ms", stale_if_error = "1h", backend = redis(url = url(&STALE_URL)))]
fn flaky(n: u64) -> Result<u64, String> {
    if STALE_DOWN.load(SeqCst) {
        return Err("down".into());
    }
    Ok(n * 3)
}

#[test]
fn redis_keeps_a_stale_entry_past_its_ttl_and_only_a_failing_call_gets_it() {
    let server = RedisServer::start();
    STALE_URL.set(server.url(0)).unwrap();
    let mut raw = server.client(0);
    let name = format!("jwm-cache:stale:{}", 5u64.persistent_digest().unwrap());
    let wall = |offset: u64| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            + offset
    };
    let before = wall(0);
    assert_eq!(flaky(5), Ok(15));
    // The server keeps it for the TTL and the window; the record holds the TTL's end.
    let px: i64 = raw.pttl(&name).unwrap();
    assert!((3_600_000..=3_600_300).contains(&px), "PX {px}");
    let stored: Vec<u8> = raw.get(&name).unwrap();
    let deadline = u64::from_le_bytes(stored[..DEADLINE_LEN].try_into().unwrap());
    assert!((before + 300..=wall(300)).contains(&deadline), "{deadline}");
    // A reader with no stale window, sharing the namespace, sees it expire at its TTL.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let plain = jwm_cache::AsyncCacheBuilder::new()
        .identifier("stale")
        .serializer(jwm_cache::codec::Stamped::new(jwm_cache::codec::Postcard))
        .build_with_backend::<u64, u64, _>(jwm_cache::RedisBackend::open(&server.url(0)).unwrap());
    assert_eq!(runtime.block_on(plain.get(&5)).unwrap(), Some(15));
    STALE_DOWN.store(true, SeqCst);
    let began = std::time::Instant::now();
    while FLAKY.cache_info().stale_served == 0 {
        assert!(
            began.elapsed() < std::time::Duration::from_secs(10),
            "never stale"
        );
        assert_eq!(flaky(5), Ok(15), "a hit, then the stale value");
    }
    assert_eq!(
        runtime.block_on(plain.get(&5)).unwrap(),
        None,
        "expired for it"
    );
    assert!(raw.exists::<_, bool>(&name).unwrap(), "still on the server");
}
