//! TTL caching and memoization for Rust.
//!
//! `jwm-cache` is what applications use day to day. It re-exports the user-facing part
//! of the `no_std` core ([`Cache`], [`MemoryBackend`] and its parts, the codecs,
//! [`ManualClock`], [`PersistentHash`], [`Options`]) and adds:
//!
//! - `#[ttl_cache]` (feature `macros`, on by default): memoize a sync or async function
//!   or method in one line, in memory or (feature `redis`) in Redis;
//! - [`Memoized`] and [`MemoizedMethod`]: functions and methods wrapped with a cache,
//!   with `call` and the controls of [`CacheControls`] (`cache_info`, `cache_clear`,
//!   `cache_parameters`);
//! - [`SyncCache`]: a thread-safe, sharded cache with single-flight, built by
//!   [`SyncCacheBuilder`];
//! - [`SystemClock`] and [`CoarseClock`];
//! - aliases so nobody spells five type parameters: [`LocalCache`], [`SharedCache`],
//!   [`BytesCache`];
//! - with the `async` feature, on tokio: `AsyncCache` (built by `AsyncCacheBuilder`),
//!   `AsyncMemoized` and `AsyncMemoizedMethod` with `AsyncCacheControls`, and
//!   `BlockingCache` over a `Bridge` runtime to use async backends from sync code;
//! - [`backend`]: what backend and shell authors need (`Backend`, `AsyncBackend`,
//!   `Entry`, `Sharded` and `Offloaded` to use sync backends from async code).
//!
//! ```
//! use jwm_cache::{CacheControls, ttl_cache};
//!
//! #[ttl_cache(ttl = "30s")]
//! fn square(n: u64) -> u64 {
//!     n * n
//! }
//!
//! assert_eq!((square(12), square(12)), (144, 144));
//! assert_eq!(SQUARE.cache_info().hits, 1);
//! ```
//!
//! The same as a value:
//!
//! ```
//! use jwm_cache::{CacheControls, Memoized};
//!
//! let fib = Memoized::new(|n: u64| (1..=n).fold((0u64, 1u64), |(a, b), _| (b, a + b)).0);
//! assert_eq!(fib.call(50), 12_586_269_025);
//! assert_eq!(fib.call(50), 12_586_269_025);
//! assert_eq!(fib.cache_info().hits, 1);
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "async")]
mod asynch;
pub mod backend;
mod clock;
mod controls;
mod flight;
mod memoize;
#[cfg(feature = "redis")]
mod redis;
mod shards;
mod sync;

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use asynch::{
    AsyncCache, AsyncCacheBuilder, AsyncCacheError, BlockingCache, Bridge, BridgeError,
};
pub use clock::{COARSE_CLOCK_PERIOD, CoarseClock, ScopedClock, ScopedClockGuard, SystemClock};
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use controls::AsyncCacheControls;
pub use controls::CacheControls;
#[cfg(feature = "embassy-time")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy-time")))]
pub use jwm_cache_core::EmbassyClock;
pub use jwm_cache_core::{
    Cache, CacheBuilder, CacheError, CacheInfo, Clock, DEFAULT_IDENTIFIER, DEFAULT_TTL,
    DefaultEviction, Digest, Error, Eviction, Identity, Instant, KeyHasher, ManualClock,
    MemoryBackend, NoListener, Options, Parameters, PersistentDigest, PersistentHash, RemovalCause,
    RemovalListener, Serializer, Sieve, Stamped, StampedBytes, StampedError, Ttl, Unbounded,
    UnhashableKey, UnitWeight, Weigher,
};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use jwm_cache_core::{Json, JsonError};
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub use jwm_cache_core::{Postcard, PostcardError, PostcardKey};
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use jwm_cache_macros::ttl_cache;
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use memoize::{AsyncMemoized, AsyncMemoizedFn, AsyncMemoizedMethod, BoxFuture};
pub use memoize::{
    FnCache, GenericFnCache, MemoStore, Memoized, MemoizedBuilder, MemoizedFn, MemoizedMethod,
    Shareable, SharedCacheConflict,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{
    LARGE_VALUE_BYTES, RedisBackend, RedisBackendError, RedisCodec, RedisOptions, SyncRedisBackend,
};
pub use sync::{SyncCache, SyncCacheBuilder};

/// What `#[ttl_cache]` expands to names, beyond the public API. Not for users: it
/// changes without notice.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "async")]
    pub use crate::memoize::{AsyncControls, DynAsyncCacheControls};
    pub use crate::memoize::{StoreError, SyncControls};

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

/// The thread-safe in-memory cache: [`SyncCache`] with its defaults.
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
/// use jwm_cache::{BytesCache, Postcard, SyncCacheBuilder};
///
/// let cache: BytesCache<u64, Vec<String>> = SyncCacheBuilder::new().serializer(Postcard).build();
/// cache.insert(1, vec!["a".into()]).unwrap();
/// ```
#[cfg(feature = "postcard")]
pub type BytesCache<K, V> = SyncCache<K, V, MemoryBackend<K, Vec<u8>>, Postcard, SystemClock>;

// The README shows the async and Redis APIs too.
#[cfg(all(doctest, feature = "redis", feature = "json"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
