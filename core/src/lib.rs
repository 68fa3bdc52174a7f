//! The `no_std + alloc` core of [jwm-cache](https://docs.rs/jwm-cache): a TTL cache engine,
//! `Cache<K, V, B, S, C>`, generic over its backend `B`, codec `S` and clock `C`.
//!
//! - [`Cache`] holds the policy: TTL semantics, counters, one clock read per operation.
//! - [`MemoryBackend`] stores entries in a hash table with a timer wheel for expiry; its
//!   parts are an [`Eviction`] policy ([`TinyLfu`] for a capacity), a [`Weigher`] and a
//!   [`RemovalListener`].
//! - [`Identity`], [`Postcard`] and [`Json`] are the codecs.
//! - [`ManualClock`] drives time in tests; [`EmbassyClock`] reads an embedded timer.
//! - [`PersistentHash`] gives keys a digest that is the same in every process and on
//!   every platform, for stores shared across processes.
//!
//! ```
//! use core::time::Duration;
//! use jwm_cache_core::{CacheBuilder, ManualClock};
//!
//! let clock = ManualClock::new();
//! let mut cache = CacheBuilder::new(clock.clone())
//!     .ttl(Duration::from_secs(5))
//!     .capacity(1_000)
//!     .build::<u32, &str>();
//! cache.insert(1, "one").unwrap();
//! clock.advance(Duration::from_secs(4));
//! assert_eq!(cache.get(&1).unwrap(), Some("one"));
//! clock.advance(Duration::from_secs(1));
//! assert_eq!(cache.get(&1).unwrap(), None);
//! ```
//!
//! # Features
//! - `postcard` (default): the [`Postcard`] codec and [`PostcardKey`].
//! - `json`: the [`Json`] codec.
//! - `embassy-time`: [`EmbassyClock`].
//! - `std`: [`PersistentHash`] for std's `HashMap` and `HashSet`; the only feature that
//!   needs std.
#![no_std]
#![deny(missing_docs)]
// The workspace only denies it: the std crate allows it in one module.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod backend;
mod cache;
mod codec;
mod error;
mod key;
mod key_hash;
mod memory;
mod time;

pub use backend::{Backend, Entry, Lookup, Reclaimed};
pub use cache::{
    Cache, CacheBuilder, CacheError, CacheInfo, Counters, Counts, DEFAULT_IDENTIFIER, DEFAULT_TTL,
    Fallback, Found, Freshening, Freshness, LONGEST_STALE_WINDOW, Options, Parameters, Policy,
    Write,
};

/// What the crate's macros name from other crates.
#[doc(hidden)]
pub mod __private {
    pub use alloc::string::String;
}
#[cfg(all(feature = "shapes", any(feature = "postcard", feature = "json")))]
#[cfg_attr(docsrs, doc(cfg(feature = "shapes")))]
pub use codec::shape_of;
pub use codec::{
    ByteCodec, HEADER_LEN, HEADER_VERSION, Identity, Serializer, Stamped, StampedBytes,
    StampedError, value_fingerprint,
};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use codec::{Json, JsonError};
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub use codec::{Postcard, PostcardError};
pub use error::Error;
#[cfg(feature = "postcard")]
#[cfg_attr(docsrs, doc(cfg(feature = "postcard")))]
pub use key::PostcardKey;
pub use key::{Digest, KeyHasher, PersistentDigest, PersistentHash, UnhashableKey};
pub use key_hash::{KeyHash, SharedHasher};
pub use memory::{
    DefaultEviction, Eviction, MemoryBackend, NoListener, RemovalCause, RemovalListener, Sieve,
    TinyLfu, Unbounded, UnitWeight, Weigher,
};
#[cfg(target_has_atomic = "ptr")]
pub use memory::{WeightPool, WindowChoice};
#[cfg(feature = "embassy-time")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy-time")))]
pub use time::EmbassyClock;
pub use time::{Clock, Deadline, Instant, ManualClock, Ttl};
