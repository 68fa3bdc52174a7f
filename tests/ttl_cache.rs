//! `#[ttl_cache]`: the Python original's acceptance cases, through the attribute.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use jwm_cache::{AsyncCacheControls, CacheControls, Ttl, ttl_cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn bare(n: u64) -> u64 {
    n + 1
}

#[test]
fn two_identical_calls_are_one_miss_and_one_hit() {
    assert_eq!((bare(1), bare(1)), (2, 2));
    let info = BARE.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    let p = BARE.cache_parameters();
    assert_eq!(
        p.identifier,
        concat!(module_path!(), "::bare@", file!(), ":10:1"),
        "the same in every process of this build, and unique to this function"
    );
    assert_eq!(p.ttl, Ttl::from_secs(60));
}

/// Doubles, slowly.
#[ttl_cache(ttl = "30s", capacity = 100, serializer = postcard, clock = coarse, single_flight = false)]
pub fn with_options(a: u32, b: String) -> Vec<String> {
    vec![b; a as usize]
}

#[test]
fn options_reach_the_cache() {
    assert_eq!(with_options(2, "x".into()), with_options(2, "x".into()));
    let info = WITH_OPTIONS.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    let p = WITH_OPTIONS.cache_parameters();
    assert_eq!(
        (p.ttl, p.capacity, p.codec, p.clock),
        (Ttl::from_secs(30), Some(100), "postcard", "coarse")
    );
}

#[ttl_cache(shards = 3, capacity = 10_000)]
fn sharded(n: u32) -> u32 {
    n
}

#[test]
fn shards_reach_the_cache() {
    assert_eq!(sharded(1), 1);
    // Rounded up to a power of two, as the builders' setter does.
    assert_eq!(SHARDED.cache().shard_count(), 4);
    assert_eq!(SHARDED.cache_parameters().capacity, Some(10_000));
}

/// An alias hides the spelling `Result<T, E>` the attribute reads by default.
type AppResult<T> = Result<T, String>;

static ALIAS_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(result = true)]
fn parse_alias(text: String) -> AppResult<u32> {
    ALIAS_RUNS.fetch_add(1, SeqCst);
    text.parse().map_err(|_| format!("not a number: {text}"))
}

#[test]
fn result_true_caches_only_ok_through_an_alias() {
    let before = ALIAS_RUNS.load(SeqCst);
    assert!(parse_alias("x".into()).is_err());
    assert!(parse_alias("x".into()).is_err());
    assert_eq!(
        ALIAS_RUNS.load(SeqCst) - before,
        2,
        "an Err is never cached"
    );
    assert_eq!(
        (parse_alias("7".into()), parse_alias("7".into())),
        (Ok(7), Ok(7))
    );
    assert_eq!(ALIAS_RUNS.load(SeqCst) - before, 3, "an Ok is");
}

static WHOLE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(result = false)]
fn parse_whole(text: String) -> Result<u32, String> {
    WHOLE_RUNS.fetch_add(1, SeqCst);
    text.parse().map_err(|_| format!("not a number: {text}"))
}

static UNSTATED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache]
fn parse_unstated(text: String) -> AppResult<u32> {
    UNSTATED_RUNS.fetch_add(1, SeqCst);
    text.parse().map_err(|_| format!("not a number: {text}"))
}

#[test]
fn result_false_and_an_unstated_alias_cache_the_whole_value() {
    for (call, runs) in [
        (
            parse_whole as fn(String) -> Result<u32, String>,
            &WHOLE_RUNS,
        ),
        (parse_unstated, &UNSTATED_RUNS),
    ] {
        let before = runs.load(SeqCst);
        assert!(call("x".into()).is_err());
        assert!(call("x".into()).is_err());
        assert_eq!(
            runs.load(SeqCst) - before,
            1,
            "the Err is cached like any value"
        );
    }
}

#[ttl_cache(ttl = "never")]
fn forever(n: u8) -> u8 {
    n
}

#[ttl_cache(ttl_ms = 1500)]
fn millis(n: u8) -> u8 {
    n
}

#[test]
fn never_and_milliseconds() {
    forever(1);
    millis(1);
    assert_eq!(FOREVER.cache_parameters().ttl, Ttl::NEVER);
    assert_eq!(
        MILLIS.cache_parameters().ttl,
        Ttl::from(Duration::from_millis(1500))
    );
}

#[ttl_cache]
fn parse(text: String) -> Result<u32, std::num::ParseIntError> {
    RUNS.fetch_add(1, SeqCst);
    text.parse()
}

#[test]
fn an_err_is_returned_and_never_cached() {
    assert!(parse("x".into()).is_err());
    assert!(parse("x".into()).is_err());
    assert_eq!((parse("7".into()), parse("7".into())), (Ok(7), Ok(7)));
    let info = PARSE.cache_info();
    assert_eq!((info.hits, info.current_size), (1, 1));
}

#[ttl_cache]
fn maybe(n: u8) -> Option<u8> {
    (n > 0).then_some(n)
}

#[ttl_cache(cache_none = false)]
fn maybe_not(n: u8) -> Option<u8> {
    (n > 0).then_some(n)
}

#[test]
fn none_is_cached_unless_asked_not_to() {
    assert_eq!((maybe(0), maybe(0)), (None, None));
    assert_eq!(
        MAYBE.cache_info().hits,
        1,
        "None cached, as in the original"
    );
    assert_eq!(
        (maybe_not(0), maybe_not(0), maybe_not(3), maybe_not(3)),
        (None, None, Some(3), Some(3))
    );
    let info = MAYBE_NOT.cache_info();
    assert_eq!(
        (info.hits, info.current_size),
        (1, 1),
        "only Some(3) was stored"
    );
}

struct Database;

#[ttl_cache]
fn lookup(id: u32, #[ttl_cache::ignore] db: &Database) -> String {
    let _ = db;
    format!("row {id}")
}

#[test]
fn an_ignored_argument_is_not_part_of_the_key() {
    let (a, b) = (Database, Database);
    assert_eq!(lookup(1, &a), lookup(1, &b));
    assert_eq!(LOOKUP.cache_info().hits, 1);
}

#[ttl_cache(identifier = "shared-squares")]
fn square(n: u64) -> u64 {
    n * n
}

#[ttl_cache(identifier = "shared-squares")]
fn also_square(n: u64) -> u64 {
    n.pow(2)
}

#[ttl_cache(identifier = "other-squares")]
fn other_square(n: u64) -> u64 {
    n * n
}

#[test]
fn identifiers_share_and_isolate_and_clear_resets() {
    square(9);
    assert_eq!(also_square(9), 81);
    assert_eq!(
        ALSO_SQUARE.cache_info().hits,
        1,
        "one identifier, one cache"
    );
    other_square(9);
    assert_eq!(
        OTHER_SQUARE.cache_info().hits,
        0,
        "another identifier, another cache"
    );
    SQUARE.cache_clear();
    let info = ALSO_SQUARE.cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (0, 0, 0));
}

#[ttl_cache(identifier = "cubes")]
fn cube(n: u64) -> u64 {
    n * n * n
}

// A TTL under a second, which alone would pick the system clock: under a named
// identifier both take the coarse one, and share.
#[ttl_cache(identifier = "cubes", ttl = "500ms")]
fn quick_cube(n: u64) -> u64 {
    n.pow(3)
}

#[test]
fn functions_sharing_an_identifier_with_different_ttls_share_one_clock() {
    assert_eq!(cube(3), 27);
    assert_eq!(quick_cube(3), 27);
    assert_eq!(QUICK_CUBE.cache_info().hits, 1);
    assert_eq!(CUBE.cache_parameters().clock, "coarse");
    assert_eq!(QUICK_CUBE.cache_parameters().clock, "coarse");
}

#[ttl_cache(ttl = "5m", serializer = json)]
async fn fetch(city: String) -> usize {
    tokio::task::yield_now().await;
    city.len()
}

#[ttl_cache]
async fn fetch_checked(city: String) -> Result<usize, String> {
    if city.is_empty() {
        return Err("no city".into());
    }
    Ok(city.len())
}

#[tokio::test]
async fn async_functions_too() {
    assert_eq!(
        (fetch("Oslo".into()).await, fetch("Oslo".into()).await),
        (4, 4)
    );
    let info = FETCH.cache_info().await;
    assert_eq!((info.hits, info.misses, info.current_size), (1, 1, 1));
    assert_eq!(FETCH.cache_parameters().codec, "json");
    assert!(fetch_checked(String::new()).await.is_err());
    assert_eq!(fetch_checked("Rome".into()).await, Ok(4));
    assert_eq!(FETCH_CHECKED.cache_info().await.current_size, 1);
    FETCH.cache_clear().await;
    assert_eq!(FETCH.cache_info().await.current_size, 0);
}

static AREAS: AtomicUsize = AtomicUsize::new(0);

struct Shape {
    id: u32,
    side: u64,
}

impl Shape {
    /// The area, scaled; keyed on the shape's id, not the shape.
    #[ttl_cache(key = |shape: &Shape| shape.id)]
    fn area(&self, scale: u64) -> u64 {
        AREAS.fetch_add(1, SeqCst);
        self.side * self.side * scale
    }

    #[ttl_cache(key = |shape: &Shape| shape.id)]
    async fn perimeter(&self) -> u64 {
        tokio::task::yield_now().await;
        4 * self.side
    }
}

#[test]
fn methods_key_on_a_projection_of_their_receiver() {
    let small = Shape { id: 1, side: 2 };
    let large = Shape { id: 2, side: 10 };
    let small_again = Shape { id: 1, side: 2 };
    assert_eq!(small.area(1), 4);
    assert_eq!(large.area(1), 100, "another receiver, another entry");
    assert_eq!(small_again.area(1), 4, "an equal key is a hit");
    assert_eq!(small.area(3), 12, "the arguments are part of the key");
    assert_eq!(AREAS.load(SeqCst), 3);
    let info = Shape::area_cache().cache_info();
    assert_eq!((info.hits, info.misses, info.current_size), (1, 3, 3));
}

#[tokio::test]
async fn async_methods_too() {
    let square = Shape { id: 7, side: 3 };
    assert_eq!(
        (square.perimeter().await, square.perimeter().await),
        (12, 12)
    );
    assert_eq!(Shape::perimeter_cache().cache_info().await.hits, 1);
}

static CLOCK: std::sync::LazyLock<jwm_cache::ManualClock> =
    std::sync::LazyLock::new(jwm_cache::ManualClock::new);

#[ttl_cache(ttl = "10s", clock = manual(CLOCK))]
fn stamped(n: u32) -> u32 {
    RUNS.fetch_add(1, SeqCst);
    n
}

#[test]
fn a_manual_clock_makes_expiry_deterministic() {
    stamped(1);
    stamped(1);
    CLOCK.advance(Duration::from_secs(10)); // at the deadline: expired
    stamped(1);
    let info = STAMPED.cache_info();
    assert_eq!((info.hits, info.misses, info.expirations), (1, 2, 1));
    assert_eq!(STAMPED.cache_parameters().clock, "manual");
}

static IDLE_CLOCK: std::sync::LazyLock<jwm_cache::ManualClock> =
    std::sync::LazyLock::new(jwm_cache::ManualClock::new);
static IDLE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ttl_cache(ttl = "1h", time_to_idle = "10s", clock = manual(IDLE_CLOCK))]
fn idle_square(n: u32) -> u32 {
    IDLE_RUNS.fetch_add(1, SeqCst);
    n * n
}

#[test]
fn time_to_idle_expires_an_unread_result_and_each_call_extends_it() {
    idle_square(3);
    for _ in 0..5 {
        IDLE_CLOCK.advance(Duration::from_secs(9));
        assert_eq!(idle_square(3), 9); // a hit: 10 s more
    }
    assert_eq!(IDLE_RUNS.load(SeqCst), 1);
    IDLE_CLOCK.advance(Duration::from_secs(10));
    assert_eq!(idle_square(3), 9);
    assert_eq!(IDLE_RUNS.load(SeqCst), 2, "unread for 10 s: computed again");
}
