//! TTL caching and memoization: memoize a function in one line, or keep a key-value
//! cache whose entries expire, in memory or in Redis.
//!
//! # Which type do I use
//!
//! | You want | Use | Note |
//! |---|---|---|
//! | to memoize a function | [`#[ttl_cache]`](macro@ttl_cache) | sync or `async`, generic, or a `&self` method; its cache is a static named after it (`fib` → `FIB`) |
//! | … as a value, built at run time | [`Memoized`] | [`MemoizedFn`] names its type for a struct field; [`MemoizedMethod`] for methods |
//! | a key-value cache | [`SharedCache`] | thread-safe and single-flight; [`LocalCache`] on one thread |
//! | caching in async code | [`AsyncMemoized`] or [`AsyncCache`] | or `#[ttl_cache]` on an `async fn`; feature `async`, on tokio |
//! | tests that never sleep | [`ManualClock`], [`ScopedClock`] | time moves when the test says; `#[ttl_cache(clock = scoped)]` reads the system clock in production and a test's installed `ManualClock` in tests |
//! | one cache for many processes | [`RedisBackend`] | `#[ttl_cache(backend = redis(url = "..."))]`, or `build_with_redis` on a builder; feature `redis` |
//! | … with hot entries in process memory, kept coherent | [`NearBackend`] | `#[ttl_cache(backend = redis(url = "...", near = 10_000))]`, or `build_with_near_redis` |
//! | … on a Redis Cluster | [`RedisBackend::open_cluster`] | `#[ttl_cache(backend = redis(cluster = ["...", "..."]))]`; the near tier works on it too |
//!
//! Every cache and memoized function has the controls of [`CacheControls`]:
//! `cache_info()`, `cache_clear()` and `cache_parameters()` ([`AsyncCacheControls`],
//! awaited, in async code).
//!
//! # Examples
//!
//! ## A `Result`: only `Ok` is cached
//!
//! An `Err` is returned, and handed to callers waiting on the same computation, but
//! never stored: the next call tries again. The attribute reads the spelling
//! `Result<T, E>`; behind an alias, say `result = true`.
//!
//! ```
//! use jwm_cache::{CacheControls, ttl_cache};
//!
//! #[ttl_cache(ttl = "5m")]
//! fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
//!     text.parse()
//! }
//!
//! assert!(parse_port("http").is_err()); // returned, not stored
//! assert_eq!(parse_port("8080"), Ok(8080)); // stored
//! assert_eq!(PARSE_PORT.cache_info().current_size, 1);
//!
//! type AppResult<T> = Result<T, String>;
//!
//! #[ttl_cache(result = true)]
//! fn user_name(id: u64) -> AppResult<String> {
//!     if id == 0 { Err("no user 0".into()) } else { Ok(format!("user {id}")) }
//! }
//!
//! assert!(user_name(0).is_err());
//! assert_eq!(user_name(7), Ok("user 7".to_string()));
//! assert_eq!(USER_NAME.cache_info().current_size, 1);
//! ```
//!
//! ## Borrowed arguments and keys
//!
//! `#[ttl_cache]` takes arguments as written. A `&str` is kept in the key as a `String`
//! (a `&[T]` as a `Vec<T>`), so equal text from any buffer is a hit. A cache keyed by
//! `String` is read with a `&str`, and a hit builds no `String`.
//!
//! ```
//! use jwm_cache::{CacheControls, SharedCache, ttl_cache};
//!
//! #[ttl_cache(ttl = "1m")]
//! fn fetch(url: &str) -> usize {
//!     url.len() // imagine an HTTP GET
//! }
//!
//! let url = String::from("https://example.org");
//! assert_eq!(fetch(&url), 19);
//! assert_eq!(fetch("https://example.org"), 19); // the same text: a hit
//! assert_eq!(FETCH.cache_info().hits, 1);
//!
//! let ages: SharedCache<String, u32> = SharedCache::new();
//! ages.insert("alice".to_string(), 31).unwrap();
//! assert_eq!(ages.get("alice").unwrap(), Some(31));
//! ```
//!
//! ## Async code
//!
//! With the `async` feature, on tokio: `#[ttl_cache]` on an `async fn`, or
//! [`AsyncMemoized`] around a closure. Concurrent misses on one key compute once.
//!
//! ```
//! # #[cfg(feature = "async")] {
//! use jwm_cache::{AsyncCacheControls, AsyncMemoized, ttl_cache};
//!
//! #[ttl_cache(ttl = "5m")]
//! async fn profile(id: u64) -> String {
//!     format!("user {id}") // imagine a database query
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! assert_eq!(profile(7).await, "user 7"); // computed
//! assert_eq!(profile(7).await, "user 7"); // cached
//! assert_eq!(PROFILE.cache_info().await.hits, 1);
//!
//! let avatar = AsyncMemoized::new(|id: u64| async move { format!("/avatars/{id}.png") });
//! assert_eq!(avatar.call(7).await, "/avatars/7.png");
//! assert_eq!(avatar.call(7).await, "/avatars/7.png");
//! assert_eq!(avatar.cache_info().await.hits, 1);
//! # });
//! # }
//! ```
//!
//! ## Invalidation
//!
//! `cache_clear()` empties a function's cache. The handle of a plain function (sync or
//! `async`; not generic, not a method) also takes the function's own arguments:
//! `cache_remove` drops one entry, `cache_set` stores a value without calling the
//! function, and `cache_prime` calls it and stores the result, whatever was there.
//!
//! ```
//! use jwm_cache::{CacheControls, ttl_cache};
//!
//! #[ttl_cache]
//! fn fib(n: u64) -> u64 {
//!     if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
//! }
//!
//! #[ttl_cache(ttl = "10m")]
//! fn fetch(url: &str) -> String {
//!     format!("body of {url}") // imagine an HTTP GET
//! }
//!
//! assert_eq!(fib(50), 12_586_269_025);
//! FIB.cache_clear(); // every entry, and the counters
//! assert_eq!(FIB.cache_info().current_size, 0);
//!
//! let url = "https://example.org/news";
//! fetch(url);
//! assert!(FETCH.cache_remove(url).unwrap()); // that entry only
//! FETCH.cache_set(url, "seeded".to_string()).unwrap(); // the function is not called
//! assert_eq!(fetch(url), "seeded");
//! assert_eq!(FETCH.cache_prime(url), "body of https://example.org/news"); // called and stored
//! assert_eq!(fetch(url), "body of https://example.org/news");
//! ```
//!
//! # Features
//!
//! - `macros` (default): `#[ttl_cache]`.
//! - `postcard` (default): the [`codec::Postcard`] codec, and [`BytesCache`].
//! - `json`: the [`codec::Json`] codec.
//! - `async`: [`AsyncCache`], [`AsyncMemoized`], and sync code over async stores
//!   ([`Bridge`], [`BlockingCache`]), on tokio.
//! - `redis`: [`RedisBackend`], one cache for every process on a Redis server (turns on
//!   `async` and `postcard`); `redis-tls` adds `rediss://` URLs.
//! - `embassy-time`: [`time::EmbassyClock`], for a cache on a microcontroller.
//! - `tracing`: a Redis backend's failures, pauses and recoveries as `tracing` events
//!   (target `jwm_cache::redis`); never on a hit.
//! - `metrics`: `metrics::record()`, every listed cache's counters and size through
//!   the `metrics` facade, and a histogram of computation time.
//! - `web`: `time::PerformanceClock`, `performance.now()` in the browser
//!   (`wasm32-unknown-unknown` only).
//!
//! # Where the rest is
//!
//! - [`SyncCacheBuilder`], [`AsyncCacheBuilder`] and [`Memoized::builder`] take the same
//!   settings: TTL, identifier, capacity, codec, clock and single-flight.
//! - [`memory`]: the in-memory store and its parts (eviction, weigher, removal listener).
//! - [`codec`]: how values are stored: as they are, or as postcard or JSON bytes.
//! - [`key`]: the digest a key needs in a store shared across processes
//!   ([`PersistentHash`]).
//! - [`time`]: clocks, such as [`time::CoarseClock`], whose read is one atomic load.
//! - [`error`]: the error types, for code that names them.
//! - [`backend`]: for authors of backends and cache shells.
//! - [`Cache`], the engine under every cache here, is `no_std`: it comes from the
//!   [`jwm-cache-core`](https://docs.rs/jwm-cache-core) crate.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "async")]
mod asynch;
pub mod backend;
mod backoffs;
mod clock;
pub mod codec;
mod controls;
mod departures;
pub mod error;
mod flight;
mod forks;
pub mod key;
mod memoize;
pub mod memory;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
#[cfg(feature = "redis")]
mod redis;
mod refresh_threads;
pub mod report;
mod shard_lock;
mod shards;
mod sync;
pub mod time;

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use asynch::{AsyncCache, AsyncCacheBuilder, BlockingCache, Bridge};
pub use clock::{ScopedClock, SystemClock};
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use controls::AsyncCacheControls;
pub use controls::CacheControls;
pub use jwm_cache_core::{
    Cache, CacheBuilder, CacheInfo, Counters, Error, ManualClock, Parameters, PersistentHash, Ttl,
};
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use jwm_cache_macros::ttl_cache;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use memoize::NearRedisCache;
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use memoize::{AsyncMemoized, AsyncMemoizedFn, AsyncMemoizedMethod};
pub use memoize::{FnCache, GenericFnCache, Memoized, MemoizedBuilder, MemoizedFn, MemoizedMethod};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{NearBackend, RedisBackend, RedisOptions};
pub use sync::{SyncCache, SyncCacheBuilder};

// What the aliases below are made of.
#[cfg(feature = "postcard")]
use jwm_cache_core::Postcard;
use jwm_cache_core::{Identity, MemoryBackend};

/// What `#[ttl_cache]` expands to names, beyond the public API. Not for users: it
/// changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::controls::memo::{CurrentCache, Memo};
    pub use crate::memoize::SyncControls;
    #[cfg(feature = "async")]
    pub use crate::memoize::{AsyncControls, DynAsyncCacheControls};
    /// The lease's scripts, for tests that run them on a server.
    #[cfg(feature = "redis")]
    pub use crate::redis::{
        CLAIM as LEASE_CLAIM, RELEASE as LEASE_RELEASE, RENEW as LEASE_RENEW,
        REVOKE as LEASE_REVOKE, SET_HELD as LEASE_SET_HELD, SET_REVOKING as LEASE_SET_REVOKING,
        TAKE as LEASE_TAKE, UNLINK_REVOKING as LEASE_UNLINK_REVOKING,
    };

    /// The parts of a `Result` type, for `#[ttl_cache(result = true)]` over an alias.
    #[diagnostic::on_unimplemented(
        message = "`result = true` needs a return type that is a `Result`, found `{Self}`"
    )]
    pub trait IsResult {
        /// What is cached.
        type Ok;
        /// What is returned, and shared with waiting callers, but never cached.
        type Err;
    }

    impl<T, E> IsResult for Result<T, E> {
        type Ok = T;
        type Err = E;
    }

    /// The owned form `#[ttl_cache]` keeps for a borrowed argument: `String` for `&str`,
    /// `Vec<T>` for `&[T]`, `PathBuf` for `&Path`, `T` for `&T` where `T: Clone`.
    #[diagnostic::on_unimplemented(
        message = "a borrowed argument `&{Self}` cannot be kept in the cache: `{Self}` has no owned form (`ToOwned`)",
        label = "no owned form",
        note = "take it by value, mark it `#[ttl_cache::ignore]`, or key on an expression with `key = ...`"
    )]
    pub trait OwnedKey {
        /// What the key keeps.
        type Owned;

        /// The owned form of this argument.
        fn owned_key(&self) -> Self::Owned;
    }

    // Not recommended, so that a type with no owned form is reported as this trait's
    // message, not as a missing `Clone` behind `ToOwned`.
    #[diagnostic::do_not_recommend]
    impl<T: ToOwned + ?Sized> OwnedKey for T {
        type Owned = T::Owned;

        fn owned_key(&self) -> T::Owned {
            self.to_owned()
        }
    }
}

/// A single-threaded in-memory cache that stores values as they are.
///
/// ```
/// use jwm_cache::{CacheBuilder, LocalCache, SystemClock};
///
/// let mut cache: LocalCache<&str, u32> = CacheBuilder::new(SystemClock).build();
/// cache.insert("k", 1).unwrap();
/// ```
pub type LocalCache<K, V> = Cache<K, V, MemoryBackend<K, V>, Identity, SystemClock>;

/// A thread-safe in-memory cache from `K` to `V`: [`SyncCache`] with its defaults (60 s
/// TTL, values stored as they are, the system clock). Clones share the entries. A
/// `String`-keyed cache is read with a `&str`. In memory nothing can fail, so `unwrap`
/// on its results never panics.
///
/// ```
/// use jwm_cache::SharedCache;
///
/// let cache: SharedCache<u64, String> = SharedCache::new();
/// cache.insert(1, "one".into()).unwrap();
/// ```
pub type SharedCache<K, V> = SyncCache<K, V, MemoryBackend<K, V>, Identity, SystemClock>;

/// A thread-safe cache that stores postcard bytes: compact, and the shape of a remote
/// store.
///
/// ```
/// use jwm_cache::codec::Postcard;
/// use jwm_cache::{BytesCache, SyncCacheBuilder};
///
/// let cache: BytesCache<u64, Vec<String>> = SyncCacheBuilder::new().serializer(Postcard).build();
/// cache.insert(1, vec!["a".into()]).unwrap();
/// ```
#[cfg(feature = "postcard")]
pub type BytesCache<K, V> = SyncCache<K, V, MemoryBackend<K, Vec<u8>>, Postcard, SystemClock>;

/// An async cache shared through Redis, from `K` to `V`: [`AsyncCache`] over a
/// [`RedisBackend`], its values postcard bytes behind the header that keeps other types'
/// entries out (`Stamped`), on the system clock.
///
/// ```no_run
/// use jwm_cache::codec::{Postcard, Stamped};
/// use jwm_cache::{AsyncCacheBuilder, RedisBackend, RedisCache};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let cache: RedisCache<u64, String> = AsyncCacheBuilder::new()
///     .identifier("users")
///     .serializer(Stamped::new(Postcard))
///     .build_with_backend(RedisBackend::open("redis://127.0.0.1/").unwrap());
/// cache.insert(1, "ada".into()).await.unwrap();
/// assert_eq!(cache.get(&1).await.unwrap().as_deref(), Some("ada"));
/// # });
/// ```
#[cfg(all(feature = "redis", feature = "postcard"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "redis", feature = "postcard"))))]
pub type RedisCache<K, V> =
    AsyncCache<K, V, RedisBackend<K>, jwm_cache_core::Stamped<Postcard, K>, SystemClock>;

// The README shows the async, Redis and metrics APIs too.
#[cfg(all(doctest, feature = "redis", feature = "json", feature = "metrics"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
