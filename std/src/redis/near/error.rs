//! Why a near tier's operation failed.

use std::fmt;

use crate::redis::RedisBackendError;

/// Why a [`NearBackend`](crate::redis::NearBackend) operation failed: Redis's failure,
/// or the codec's (`E`) on a value it was storing or had read. A memoized call counts
/// either as an error and still returns its value; bytes that do not decode are a miss,
/// recomputed and overwritten.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NearError<E> {
    /// Redis failed: see [`RedisBackendError`].
    Redis(RedisBackendError),
    /// The codec failed.
    Codec(E),
}

impl<E: fmt::Display> fmt::Display for NearError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NearError::Redis(e) => e.fmt(f),
            NearError::Codec(e) => write!(f, "near tier: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for NearError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NearError::Redis(e) => Some(e),
            NearError::Codec(e) => Some(e),
        }
    }
}

impl<E> From<RedisBackendError> for NearError<E> {
    fn from(e: RedisBackendError) -> Self {
        NearError::Redis(e)
    }
}
