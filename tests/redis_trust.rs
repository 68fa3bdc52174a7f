//! Trust in the shared tier: a value from Redis is one this call's function stored, or
//! it is a miss. Each test here failed before values carried a header, before codecs
//! decoded strictly, and before default identifiers named the place a function is built.

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use common::redis_server::RedisServer;
use jwm_cache::backend::{ByteCodec, DEADLINE_LEN, HEADER_LEN};
use jwm_cache::{AsyncCacheControls, CacheControls};
use jwm_cache::{
    AsyncMemoized, RedisBackend,
    codec::{Postcard, PostcardError, Serializer, Stamped, StampedError, shape_of},
    key::PersistentDigest,
    ttl_cache,
};
use redis::Commands;

/// The stamped bytes a cache stores for `value` with postcard (after the record's
/// deadline): the header, then postcard.
fn stamped<V: serde::Serialize + serde::de::DeserializeOwned>(value: &V) -> Vec<u8> {
    Serializer::<V>::encode(&Stamped::<_, u64>::new(Postcard), value)
        .unwrap()
        .into_bytes()
}

fn key(identifier: &str, n: u64) -> String {
    format!("jwm-cache:{identifier}:{}", n.persistent_digest().unwrap())
}

#[tokio::test]
async fn bytes_that_do_not_decode_cleanly_are_misses_counted_and_overwritten() {
    let server = RedisServer::start();
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let plus_one = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { n + 1 }
    })
    .identifier("strict")
    .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    let mut raw = server.client(0);
    let with_xyz = [stamped(&41u64), b"XYZ".to_vec()].concat();
    let unstamped = postcard::to_allocvec(&41u64).unwrap();
    let foreign: [&[u8]; 4] = [b"garbage", b"\x00garbage", &with_xyz, &unstamped];
    for (round, bytes) in foreign.iter().enumerate() {
        let _: () = raw.set(key("strict", 5), *bytes).unwrap();
        assert_eq!(plus_one.call(5).await, 6, "round {round}: recomputed");
        assert_eq!(runs.load(SeqCst), round + 1);
        let stored: Vec<u8> = raw.get(key("strict", 5)).unwrap();
        let stored = &stored[DEADLINE_LEN..];
        assert_eq!(stored, stamped(&6u64), "round {round}: overwritten");
        assert_eq!(plus_one.cache_info().await.errors, round as u64 + 1);
    }
    assert_eq!(plus_one.call(5).await, 6);
    assert_eq!(runs.load(SeqCst), foreign.len(), "the rewritten entry hits");
}

#[tokio::test]
async fn functions_of_other_value_types_under_one_identifier_never_read_each_other() {
    // As two processes would: one process refuses to build both at once (see
    // `functions_of_other_types_may_not_share_an_identifier_on_one_server`), so each is
    // built once the other is gone.
    let server = RedisServer::start();
    let name = || {
        AsyncMemoized::builder(|id: u64| async move { format!("user-{id}") })
            .identifier("users")
            .build_with_redis(RedisBackend::open(&server.url(0)).unwrap())
    };
    let age = || {
        AsyncMemoized::builder(|id: u64| async move { id + 100 })
            .identifier("users")
            .build_with_redis(RedisBackend::open(&server.url(0)).unwrap())
    };
    for _ in 0..3 {
        let name = name();
        assert_eq!(name.call(42).await, "user-42");
        drop(name);
        let age = age();
        assert_eq!(age.call(42).await, 142, "not \"user-42\" read as a number");
        assert_eq!(
            age.cache_info().await.errors,
            1,
            "the foreign header counted"
        );
    }
    let stored: Vec<u8> = server.client(0).get(key("users", 42)).unwrap();
    let stored = &stored[DEADLINE_LEN..];
    assert_eq!(stored, stamped(&142u64), "the last writer's value, stamped");
}

#[tokio::test]
async fn two_closures_built_in_one_function_get_their_own_namespaces() {
    let server = RedisServer::start();
    let url = server.url(0);
    let times_100 = AsyncMemoized::builder(|n: u64| async move { n * 100 })
        .build_with_redis(RedisBackend::open(&url).unwrap());
    let plus_1 = AsyncMemoized::builder(|n: u64| async move { n + 1 })
        .build_with_redis(RedisBackend::open(&url).unwrap());
    assert_eq!(plus_1.call(5).await, 6);
    assert_eq!(times_100.call(5).await, 500, "not plus_1's entry");
    let (a, b) = (
        times_100.cache_parameters().identifier,
        plus_1.cache_parameters().identifier,
    );
    assert_ne!(a, b);
    assert!(a.contains("redis_trust.rs:"), "{a}");
    // And in memory, built the same way.
    let m100 = jwm_cache::Memoized::builder(|n: u64| n * 100).build();
    let m1 = jwm_cache::Memoized::builder(|n: u64| n + 1).build();
    assert_ne!(
        m100.cache_parameters().identifier,
        m1.cache_parameters().identifier
    );
    assert_eq!((m1.call(5), m100.call(5)), (6, 500));
}

/// A memoized price with `rate` captured, built in one place for every rate.
fn priced_at(
    rate: u64,
    url: &str,
    identifier: Option<&str>,
) -> AsyncMemoized<
    impl Fn(u64) -> std::future::Ready<u64> + use<>,
    jwm_cache::AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>,
> {
    let builder = AsyncMemoized::builder(move |n: u64| std::future::ready(n * rate));
    match identifier {
        Some(identifier) => builder.identifier(identifier),
        None => builder,
    }
    .build_with_redis(RedisBackend::open(url).unwrap())
}

#[test]
fn a_closure_that_captures_needs_a_name_over_redis() {
    // Built twice in one place with other captures, both would read one namespace:
    // the second rate's calls would return the first's products. No server is
    // needed: the builder refuses before any I/O.
    let message_of = |refused: Box<dyn std::any::Any + Send>| {
        refused
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    let refused = std::panic::catch_unwind(|| priced_at(3, "redis://127.0.0.1:1", None));
    let message = message_of(refused.err().unwrap());
    assert!(message.contains("needs an identifier"), "{message}");
    assert!(
        message.contains("redis_trust.rs:"),
        "names the place: {message}"
    );
    // A `fn` pointer holds state as well.
    let pointer: fn(u64) -> u64 = |n| n + 1;
    let refused = std::panic::catch_unwind(|| {
        jwm_cache::Memoized::builder(pointer).build_with_redis(
            jwm_cache::Bridge::shared().unwrap(),
            RedisBackend::open("redis://127.0.0.1:1").unwrap(),
        )
    });
    let message = message_of(refused.err().unwrap());
    assert!(message.contains("needs an identifier"), "{message}");
}

#[tokio::test]
async fn named_closures_with_other_captures_keep_their_own_values() {
    let server = RedisServer::start();
    let url = server.url(0);
    let (triple, double) = (
        priced_at(3, &url, Some("price-at-3")),
        priced_at(2, &url, Some("price-at-2")),
    );
    assert_eq!(triple.call(5).await, 15);
    assert_eq!(double.call(5).await, 10, "not the other rate's entry");
    // In memory, and over Redis when the closure captures nothing, no name is needed.
    let rate = 4;
    let in_memory = jwm_cache::Memoized::builder(move |n: u64| n * rate).build();
    assert_eq!(in_memory.call(5), 20);
    let plain = AsyncMemoized::builder(|n: u64| std::future::ready(n * 5))
        .build_with_redis(RedisBackend::open(&url).unwrap());
    assert_eq!(plain.call(5).await, 25);
}

#[test]
fn functions_sharing_an_identifier_must_agree_on_their_server() {
    // Built alike but for the server or the prefix, the second function would get the
    // first one's cache, and so its backend. No server is needed: the builder
    // compares before any I/O.
    let build = |url: &str, prefix: &str| {
        std::panic::catch_unwind(|| {
            let options = jwm_cache::RedisOptions::default().prefix(prefix);
            AsyncMemoized::builder(|n: u64| std::future::ready(n))
                .identifier("agreed")
                .build_with_redis(RedisBackend::open_with(url, options).unwrap())
        })
    };
    let first = build("redis://alice:secret@127.0.0.1:1", "a:")
        .ok()
        .unwrap();
    // Spelled otherwise, the same server, database and user share.
    let same = build("redis://alice:secret@127.0.0.1:1/0", "a:")
        .ok()
        .unwrap();
    for (url, prefix) in [
        ("redis://alice:secret@127.0.0.1:2", "a:"),
        ("redis://alice:secret@127.0.0.1:1", "b:"),
        ("redis://alice:secret@127.0.0.1:1/1", "a:"),
        ("redis://bob:secret@127.0.0.1:1", "a:"),
        ("redis://127.0.0.1:1", "a:"),
        ("rediss://alice:secret@127.0.0.1:1", "a:"),
    ] {
        let refused = build(url, prefix).err().unwrap();
        let message = refused.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("has backend server 127.0.0.1:1 over tcp db 0 as alice"),
            "{url} {prefix}: {message}"
        );
        assert!(!message.contains("secret"), "no password: {message}");
    }
    drop((first, same));
}

#[test]
fn functions_of_other_types_may_not_share_an_identifier_on_one_server() {
    // Both would write the same names: each would overwrite the other's entries, which
    // it cannot read (their stamps differ), and wait on its leases. In memory they may.
    let url = "redis://127.0.0.1:1";
    let named = AsyncMemoized::builder(|n: u64| std::future::ready(n.to_string()))
        .identifier("typed")
        .build_with_redis(RedisBackend::open(url).unwrap());
    let refused = std::panic::catch_unwind(|| {
        AsyncMemoized::builder(|n: u64| std::future::ready(n as u32))
            .identifier("typed")
            .build_with_redis(RedisBackend::open(url).unwrap())
    });
    let payload = refused.err().unwrap();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("types"), "{message}");
    assert!(
        message.contains("alloc::string::String") && message.contains("u32"),
        "{message}"
    );
    // The same types share, as processes do; a near tier's too (its cache keeps values
    // as they are, and its tier encodes them as the other's codec does).
    let same = AsyncMemoized::builder(|n: u64| std::future::ready(n.to_string()))
        .identifier("typed")
        .build_with_redis(RedisBackend::open(url).unwrap());
    let near = AsyncMemoized::builder(|n: u64| std::future::ready(n.to_string()))
        .identifier("typed")
        .build_with_near_redis(RedisBackend::open(url).unwrap(), 10);
    let in_memory = (
        jwm_cache::Memoized::builder(|n: u64| n.to_string())
            .identifier("typed-memory")
            .build(),
        jwm_cache::Memoized::builder(|n: u64| n as u32)
            .identifier("typed-memory")
            .build(),
    );
    drop((named, same, near, in_memory));
}

static NESTED_URL: OnceLock<String> = OnceLock::new();

fn nested_url() -> &'static str {
    NESTED_URL.get().expect("set by the test")
}

fn left() -> (u64, String) {
    #[ttl_cache(backend = redis(url = nested_url()))]
    async fn helper(n: u64) -> u64 {
        n * 2
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    (
        runtime.block_on(helper(5)),
        HELPER.cache_parameters().identifier,
    )
}

fn right() -> (u64, String) {
    #[ttl_cache(backend = redis(url = nested_url()))]
    async fn helper(n: u64) -> u64 {
        n * 3
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    (
        runtime.block_on(helper(5)),
        HELPER.cache_parameters().identifier,
    )
}

fn left_in_memory() -> (u64, String) {
    #[ttl_cache]
    fn helper(n: u64) -> u64 {
        n * 2
    }
    (helper(5), HELPER.cache_parameters().identifier)
}

fn right_in_memory() -> (u64, String) {
    #[ttl_cache]
    fn helper(n: u64) -> u64 {
        n * 3
    }
    (helper(5), HELPER.cache_parameters().identifier)
}

#[test]
fn same_named_nested_functions_get_their_own_namespaces() {
    let server = RedisServer::start();
    NESTED_URL.set(server.url(0)).unwrap();
    let (l, r) = (left(), right());
    assert_eq!((l.0, r.0), (10, 15), "right() did not read left()'s entry");
    assert_ne!(l.1, r.1);
    let mut keys: Vec<String> = server.client(0).keys("*").unwrap();
    keys.sort();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let (l, r) = (left_in_memory(), right_in_memory());
    assert_eq!((l.0, r.0), (10, 15));
    assert_ne!(l.1, r.1);
}

/// Built in one place, so its default identifier is the same in every process of this
/// build.
fn default_named_square(
    url: &str,
) -> AsyncMemoized<impl Fn(u64) -> std::future::Ready<u64> + use<>, SquareCache> {
    AsyncMemoized::builder(|n: u64| std::future::ready(n * n))
        .build_with_redis(RedisBackend::open(url).unwrap())
}

type SquareCache = jwm_cache::AsyncCache<u64, u64, RedisBackend<u64>, Stamped<Postcard, u64>>;

/// Not a test of its own: the child process of the one below, which runs it with
/// `--ignored` and the server's URL.
#[tokio::test]
#[ignore = "the child process of two_processes_of_one_build_share_under_the_default_identifier"]
async fn child_process_of_the_two_process_test() {
    let url = std::env::var("JWM_CACHE_TRUST_CHILD_URL").expect("run by its parent test");
    let square = default_named_square(&url);
    square.call(9).await;
    let info = square.cache_info().await;
    println!(
        "identifier={} hits={}",
        square.cache_parameters().identifier,
        info.hits
    );
    // A closure's default identifier has a digest of its type: the same in each process.
    let closure = jwm_cache::Memoized::builder(|n: u64| n + 1).build();
    println!("closure={}", closure.cache_parameters().identifier);
}

#[test]
fn two_processes_of_one_build_share_under_the_default_identifier() {
    let server = RedisServer::start();
    let run = || {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_process_of_the_two_process_test",
                "--ignored",
                "--nocapture",
            ])
            .env("JWM_CACHE_TRUST_CHILD_URL", server.url(0))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = common::redis_server::output_within(out, 120);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = |tag: &str| {
            let found = stdout.lines().find(|l| l.starts_with(tag));
            found.expect("the child's report").to_string()
        };
        (line("identifier="), line("closure="))
    };
    let ((first, first_closure), (second, second_closure)) = (run(), run());
    assert_eq!(first_closure, second_closure);
    assert!(first_closure.contains("closure#"), "{first_closure}");
    let identifier = first.trim_end_matches(" hits=0");
    assert!(first.ends_with(" hits=0"), "{first}");
    assert_eq!(
        second,
        format!("{identifier} hits=1"),
        "the second process hits"
    );
    assert!(identifier.contains("redis_trust.rs:"), "{identifier}");
}

#[tokio::test]
async fn functions_sharing_an_identifier_store_with_their_own_ttls() {
    let server = RedisServer::start();
    let short = AsyncMemoized::builder(|n: u64| async move { n })
        .identifier("rates")
        .ttl(Duration::from_secs(1))
        .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    let long = AsyncMemoized::builder(|n: u64| async move { n })
        .identifier("rates")
        .ttl(Duration::from_secs(3600))
        .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    short.call(1).await;
    long.call(2).await;
    // The strict call too: created first, the shared cache has the short TTL.
    long.call_strict(3).await.unwrap();
    let mut raw = server.client(0);
    let short_ms: i64 = raw.pttl(key("rates", 1)).unwrap();
    let long_ms: i64 = raw.pttl(key("rates", 2)).unwrap();
    let strict_ms: i64 = raw.pttl(key("rates", 3)).unwrap();
    assert!((900..=1000).contains(&short_ms), "{short_ms}");
    assert!((3_599_000..=3_600_000).contains(&long_ms), "{long_ms}");
    assert!((3_599_000..=3_600_000).contains(&strict_ms), "{strict_ms}");
    assert_eq!(long.cache_parameters().ttl, jwm_cache::Ttl::from_secs(3600));
}

#[test]
fn the_header_is_frozen() {
    // The fingerprint by name alone, then with the value type's shape folded in: a
    // change of how shapes are traced or digested changes every fingerprint, and must
    // be a deliberate one.
    let by_name = jwm_cache::backend::value_fingerprint("postcard", "u64", "u64", 0);
    assert_eq!(by_name.to_le_bytes(), [111, 132, 25, 218, 230, 101, 68, 86]);
    let bytes = stamped(&42u64);
    assert_eq!(bytes.len(), HEADER_LEN + 1);
    assert_eq!(
        bytes,
        [b'j', b'w', 1, 98, 247, 234, 115, 235, 183, 51, 70, 42]
    );
    // A struct with a nested enum: how containers, fields and variants are traced.
    assert_eq!(shape_of::<before::Order>(), 0xe5f495f958e47245);
}

#[test]
fn a_sync_function_over_redis_is_stamped_too() {
    let server = RedisServer::start();
    let bridge = jwm_cache::Bridge::new().unwrap();
    let url = server.url(0);
    let backend = bridge.run(async move { RedisBackend::<u64>::open(&url) });
    let cube = jwm_cache::Memoized::builder(|n: u64| n * n * n)
        .identifier("cubes")
        .build_with_redis(bridge, backend.unwrap().unwrap());
    assert_eq!((cube.call(3), cube.call(3)), (27, 27));
    assert_eq!(cube.cache_info().hits, 1);
    let stored: Vec<u8> = server.client(0).get(key("cubes", 3)).unwrap();
    assert_eq!(stored[DEADLINE_LEN..], stamped(&27u64));
    let _: () = server.client(0).set(key("cubes", 3), b"garbage").unwrap();
    assert_eq!(cube.call(3), 27, "garbage is a miss");
    assert_eq!(cube.cache_info().errors, 1);
}

#[test]
fn sync_engine_caches_over_redis_are_named_after_their_identifiers() {
    let server = RedisServer::start();
    let bridge = jwm_cache::Bridge::new().unwrap();
    let url = server.url(0);
    let redis = bridge.run(async move { RedisBackend::<u64>::open(&url) });
    let redis = redis.unwrap().unwrap();
    let over_redis = || jwm_cache::backend::SyncRedisBackend::new(redis.clone(), bridge.clone());
    // Two functions of the same types with default identifiers: before the sync builders
    // named their backends, both wrote under `jwm-cache:default:`.
    let square = jwm_cache::Memoized::builder(|n: u64| n * n)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(over_redis);
    let cube = jwm_cache::Memoized::builder(|n: u64| n * n * n)
        .serializer(Stamped::new(Postcard))
        .build_with_backend(over_redis);
    assert_eq!(square.call(3), 9);
    assert_eq!(cube.call(3), 27, "not the square's entry");
    let names: Vec<String> = server.client(0).keys("*").unwrap();
    assert_eq!(names.len(), 2, "{names:?}");
    let square_name = key(&square.cache_parameters().identifier, 3);
    assert!(names.contains(&square_name), "{names:?}");
}

/// One value type as two builds define it: the second swaps two fields and widens a
/// nested enum's second variant. In one build their names differ by module; across
/// builds they would be one name, which only the shape tells apart.
mod before {
    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    pub(crate) struct Quote {
        pub(crate) bid: u32,
        pub(crate) ask: u32,
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) enum Side {
        Buy,
        Sell(u8),
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Order {
        pub(crate) side: Side,
        pub(crate) size: u32,
    }
}

mod after {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Quote {
        pub(crate) ask: u32,
        pub(crate) bid: u32,
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) enum Side {
        Buy,
        Sell(u16),
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Order {
        pub(crate) side: Side,
        pub(crate) size: u32,
    }
}

mod moved {
    #[derive(serde::Serialize, serde::Deserialize)]
    pub(crate) struct Quote {
        pub(crate) bid: u32,
        pub(crate) ask: u32,
    }
}

#[test]
fn a_value_type_that_changes_shape_between_builds_is_a_miss() {
    assert_ne!(shape_of::<before::Quote>(), shape_of::<after::Quote>());
    assert_ne!(shape_of::<before::Order>(), shape_of::<after::Order>());
    assert_eq!(shape_of::<before::Quote>(), shape_of::<moved::Quote>());
    assert_ne!(shape_of::<before::Quote>(), 0);
    // Bytes that a build with the first shape wrote, read by one with the second: the
    // same type name (a pair stands in for it) and fields that decode, but a miss.
    let written = Stamped::<_, u64>::new(ShapedAs::<1>);
    let read = Stamped::<_, u64>::new(ShapedAs::<2>);
    let bytes = Serializer::<(u32, u32)>::encode(&written, &(1, 2)).unwrap();
    assert_eq!(
        Serializer::<(u32, u32)>::decode(&written, &bytes),
        Ok((1, 2))
    );
    assert_eq!(
        Serializer::<(u32, u32)>::decode(&read, &bytes),
        Err(StampedError::OtherType)
    );
    // A type serde cannot trace is fingerprinted by name alone.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Either {
        Number(u64),
        Text(String),
    }
    assert_eq!(shape_of::<Either>(), 0);
}

/// Postcard, as a build whose value type has the shape `SHAPE` sees it.
struct ShapedAs<const SHAPE: u64>;

impl<V, const SHAPE: u64> Serializer<V> for ShapedAs<SHAPE>
where
    V: serde::Serialize + serde::de::DeserializeOwned,
{
    type Encoded = Vec<u8>;
    type Error = PostcardError;
    const NAME: &'static str = "postcard";

    fn encode(&self, value: &V) -> Result<Vec<u8>, PostcardError> {
        Postcard.encode(value)
    }

    fn decode(&self, encoded: &Vec<u8>) -> Result<V, PostcardError> {
        Postcard.decode(encoded)
    }
}

impl<V, const SHAPE: u64> ByteCodec<V> for ShapedAs<SHAPE>
where
    V: serde::Serialize + serde::de::DeserializeOwned,
{
    fn encode_after(&self, value: &V, out: Vec<u8>) -> Result<Vec<u8>, PostcardError> {
        Postcard.encode_after(value, out)
    }

    fn decode_slice(&self, bytes: &[u8]) -> Result<V, PostcardError> {
        Postcard.decode_slice(bytes)
    }

    fn value_shape(&self) -> u64 {
        SHAPE
    }
}

#[tokio::test]
async fn memoized_functions_over_redis_stamp_their_value_type_shape() {
    let server = RedisServer::start();
    let quote =
        AsyncMemoized::builder(|n: u32| async move { before::Quote { bid: n, ask: n + 1 } })
            .identifier("quotes")
            .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    quote.call(7).await;
    let name = format!("jwm-cache:quotes:{}", 7u32.persistent_digest().unwrap());
    let stored: Vec<u8> = server.client(0).get(name).unwrap();
    let fingerprint = u64::from_le_bytes(stored[DEADLINE_LEN + 3..][..8].try_into().unwrap());
    let by_name = jwm_cache::backend::value_fingerprint(
        "postcard",
        std::any::type_name::<u32>(),
        std::any::type_name::<before::Quote>(),
        0,
    );
    assert_ne!(fingerprint, by_name, "the shape is folded in");
    // And a `Stamped` built by hand stamps the same header as the builders.
    let by_hand = Stamped::<_, u32>::new(Postcard);
    let bytes = Serializer::<before::Quote>::encode(&by_hand, &before::Quote { bid: 7, ask: 8 });
    assert_eq!(
        stored[DEADLINE_LEN..][..HEADER_LEN],
        bytes.unwrap().into_bytes()[..HEADER_LEN]
    );
}
