//! For backend and shell authors: the traits a store implements, the adapters between
//! sync and async stores, and the engine's pure parts that a cache shell drives.
//!
//! Applications rarely need this module: the caches, builders and memoized functions at
//! the crate root are the everyday API.
//!
//! - [`Backend`] (sync) and `AsyncBackend` (feature `async`) are what a store implements,
//!   with [`Lookup`] and `AsyncLookup` for reading and removing by the key or a borrowed
//!   form of it: lookups hand back an [`Entry`], the value with its [`Deadline`];
//!   [`Reclaimed`] counts what the store dropped on its own.
//! - `Sharded` runs an in-memory sync backend for async code, inline; `Offloaded` runs a
//!   sync backend that blocks on I/O on tokio's blocking pool.
//! - `SyncRedisBackend` (feature `redis`) puts Redis behind the sync [`Backend`] trait,
//!   each operation run on a `Bridge`, for the sync engine or a one-shard `SyncCache`.
//! - [`MemoStore`] is what a memoized function keeps its results in (a `SyncCache`, or
//!   a `BlockingCache` over an async store); [`Shareable`] is a cache that memoized
//!   functions can share by identifier.
//! - [`Options`] holds every setting of a cache in one value, for a shell built with
//!   `from_options`; [`DEFAULT_TTL`] (60 s) and [`DEFAULT_IDENTIFIER`] are its defaults.
//! - [`Policy`], [`Write`] and [`Counts`] are the engine's TTL, codec and counting rules,
//!   for a shell that drives its own backend, as the async cache does.
//! - [`ByteCodec`], [`HEADER_LEN`], [`HEADER_VERSION`] and [`value_fingerprint`] describe
//!   the stamped header of values shared across processes; `DEADLINE_LEN` (feature
//!   `redis`) is the deadline Redis stores in front of it.
//!
//! ```
//! use jwm_cache::backend::{Backend, Deadline, Entry, Instant, Lookup};
//! use jwm_cache::memory::MemoryBackend;
//!
//! let mut store = MemoryBackend::<&str, u32>::new();
//! store.set("k", 1, Deadline::NEVER, Instant::ZERO).unwrap();
//! let entry = store.get_entry(&"k", Instant::ZERO).unwrap();
//! assert_eq!(entry, Some(Entry { value: &1, deadline: Deadline::NEVER }));
//! ```

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use crate::asynch::{
    AsyncBackend, AsyncLookup, Claim, Lease, NoLease, OffloadError, Offloaded, RefreshClaim,
    Sharded,
};
#[doc(hidden)]
pub use crate::memoize::Computing;
pub use crate::memoize::{MemoStore, Shareable};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis::{DEADLINE_LEN, LARGE_VALUE_BYTES, SyncRedisBackend};
#[doc(no_inline)]
pub use jwm_cache_core::Instant;
pub use jwm_cache_core::{
    Backend, ByteCodec, Counts, DEFAULT_IDENTIFIER, DEFAULT_TTL, Deadline, Entry, HEADER_LEN,
    HEADER_VERSION, Lookup, Options, Policy, Reclaimed, Write, value_fingerprint,
};
