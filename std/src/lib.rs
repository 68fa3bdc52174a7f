//! TTL caching and memoization for Rust.
//!
//! `jwm-cache` is the std face of [`jwm_cache_core`]: it re-exports the whole core
//! (`Cache<K, V, B, S, C>`, [`MemoryBackend`], the codecs, [`ManualClock`],
//! [`PersistentHash`]) and adds [`SystemClock`].
//!
//! ```
//! use std::time::Duration;
//! use jwm_cache::{CacheBuilder, SystemClock};
//!
//! let mut cache = CacheBuilder::new(SystemClock)
//!     .ttl(Duration::from_secs(30))
//!     .build::<String, usize>();
//! let len = cache.get_or_insert_with("hello".to_string(), || "hello".len());
//! assert_eq!(len, 5);
//! assert_eq!(cache.info().misses, 1);
//! ```
#![deny(missing_docs)]

mod clock;

pub use clock::SystemClock;
pub use jwm_cache_core::*;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
