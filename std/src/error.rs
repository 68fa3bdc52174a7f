//! The error types, for code that names them; most code unwraps or uses `?`.
//!
//! A cache operation fails with an [`Error`]: its backend's error or its codec's. In
//! memory with the default codec both are `Infallible`. [`CacheError`] and
//! `AsyncCacheError` name that `Error` for a cache's types; `BridgeError` adds the ways
//! a sync call through a `Bridge` fails; `RedisBackendError` is every way Redis fails, and `NearError` adds a near tier's codec.
//! [`SharedCacheConflict`] is what a memoized function panics with when it shares an
//! identifier with one of another clock kind, capacity, time-to-idle, `refresh_after`,
//! `stale_if_error`, single-flight, lease or backend settings (see its docs).

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use crate::asynch::{AsyncCacheError, BridgeError};
pub use crate::memoize::SharedCacheConflict;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis::{NearError, RedisBackendError};
pub use jwm_cache_core::CacheError;
#[doc(no_inline)]
pub use jwm_cache_core::Error;
