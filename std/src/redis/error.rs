//! Why a Redis operation failed.

use std::fmt;
use std::time::Duration;

use jwm_cache_core::UnhashableKey;

/// Why a [`RedisBackend`](crate::redis::RedisBackend) operation failed. Every failure is one
/// of these, never a panic; a memoized call counts it and still returns its value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RedisBackendError {
    /// The server or the connection failed (refused, dropped, an error reply).
    Redis(redis::RedisError),
    /// No answer within the operation timeout, whether the backend's timer or one of
    /// redis-rs's own timeouts (set to the same bound) saw it first.
    Timeout(Duration),
    /// The server's reply did not have the shape of the command's answer.
    Malformed,
    /// Not tried: the server failed moments ago and is given a pause
    /// ([`RedisOptions::pause_after_failure`](crate::redis::RedisOptions::pause_after_failure)).
    Unavailable,
    /// The key has no canonical encoding, so it has no name shared across processes.
    Unhashable(UnhashableKey),
    /// A stored value too short to hold the deadline in front of its stamped bytes
    /// ([`DEADLINE_LEN`](crate::redis::DEADLINE_LEN)): bytes that jwm-cache did not write. Like
    /// any bytes that do not decode, a memoized call counts it as a miss and an error,
    /// recomputes, and overwrites it.
    Truncated {
        /// Its length in bytes.
        len: usize,
    },
    /// The key or value is larger than the configured limit, so it is not stored.
    TooLarge {
        /// `"key"` or `"value"`.
        what: &'static str,
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A cluster backend was opened with no seed nodes to find the cluster by.
    NoSeeds,
    /// On a cluster, slots kept moving between nodes (a resharding or a failover)
    /// while `len` or `clear` walked every primary, so no walk could be trusted to have
    /// seen every key once; each walk is retried a few times before this is returned.
    Unsettled,
}

impl fmt::Display for RedisBackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisBackendError::Redis(e) => write!(f, "redis: {e}"),
            RedisBackendError::Timeout(after) => write!(f, "redis: no answer within {after:?}"),
            RedisBackendError::Unavailable => f.write_str("redis: paused after a failure"),
            RedisBackendError::Malformed => f.write_str("redis: a reply of the wrong shape"),
            RedisBackendError::Unhashable(e) => write!(f, "redis: {e}"),
            RedisBackendError::Truncated { len } => write!(
                f,
                "redis: a stored value of {len} bytes is too short to hold its deadline"
            ),
            RedisBackendError::NoSeeds => f.write_str("redis: a cluster needs a seed node"),
            RedisBackendError::Unsettled => {
                f.write_str("redis: the cluster's slots kept moving during the walk")
            }
            RedisBackendError::TooLarge { what, len, limit } => {
                write!(
                    f,
                    "redis: {what} of {len} bytes is over the {limit}-byte limit"
                )
            }
        }
    }
}

impl std::error::Error for RedisBackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RedisBackendError::Redis(e) => Some(e),
            RedisBackendError::Unhashable(e) => Some(e),
            RedisBackendError::Timeout(_)
            | RedisBackendError::Unavailable
            | RedisBackendError::Malformed
            | RedisBackendError::Truncated { .. }
            | RedisBackendError::TooLarge { .. }
            | RedisBackendError::NoSeeds
            | RedisBackendError::Unsettled => None,
        }
    }
}

impl From<redis::RedisError> for RedisBackendError {
    fn from(e: redis::RedisError) -> Self {
        RedisBackendError::Redis(e)
    }
}
