//! How a `RedisBackend` connects and what it refuses to store.

use std::time::Duration;

/// Options of a [`RedisBackend`](crate::redis::RedisBackend).
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::RedisOptions;
///
/// let options = RedisOptions::default()
///     .prefix("myapp:")
///     .timeout(Duration::from_millis(200))
///     .max_value_bytes(1 << 20);
/// assert_eq!(options.operation_timeout(), Duration::from_millis(200));
/// ```
#[derive(Clone, Debug)]
pub struct RedisOptions {
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) pause: Duration,
    pub(crate) max_key_bytes: usize,
    pub(crate) max_value_bytes: usize,
}

impl Default for RedisOptions {
    /// Prefix `jwm-cache:`, a 250 ms timeout per operation, a 500 ms pause after a
    /// connection failure, keys up to 1 KiB and values up to 8 MiB.
    fn default() -> Self {
        RedisOptions {
            prefix: "jwm-cache:".to_string(),
            timeout: Duration::from_millis(250),
            pause: Duration::from_millis(500),
            max_key_bytes: 1 << 10,
            max_value_bytes: 8 << 20,
        }
    }
}

impl RedisOptions {
    /// What every key name starts with, before the cache's identifier. A cache's keys
    /// are named `{prefix}{identifier}:{digest}`, so two caches whose
    /// `{prefix}{identifier}` read the same share their entries, as caches that share an
    /// identifier do: prefix `app:` with identifier `a:b` and prefix `app:a:` with
    /// identifier `b`. Their values' type headers keep them from reading each other's
    /// values as another type, but not two functions of the same types. Give each
    /// application a prefix that no other's starts with.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest any one operation may take, connecting included (a batched lookup
    /// included, whatever is ahead of it); a slower one fails with
    /// [`RedisBackendError::Timeout`](crate::redis::RedisBackendError::Timeout). A memoized
    /// call's lookup and store share one such timeout, so with a dead or stalled server
    /// it returns within this plus its own computation (over the async backend; see
    /// [`SyncRedisBackend`](crate::backend::SyncRedisBackend) for the sync one). Keep it
    /// below any timeout callers put around their calls: an operation dropped before
    /// this timeout fires does not pause the backend, so on a stalled server each such
    /// call waits out its own timeout instead of failing at once. `len` and `clear` make one
    /// bounded round trip per SCAN batch; on a cluster, per batch on each primary, with
    /// two `CLUSTER NODES` per primary, and up to 8 walks (about 2.5 s of pauses in all)
    /// while slots move. A zero timeout fails every operation at once (`#[ttl_cache]`
    /// refuses it).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The per-operation timeout.
    pub fn operation_timeout(&self) -> Duration {
        self.timeout
    }

    /// After a timeout or connection failure, operations fail at once with
    /// [`RedisBackendError::Unavailable`](crate::redis::RedisBackendError::Unavailable) for
    /// this long, instead of each waiting out the timeout. Then, on one server, a
    /// `PING` in the background tries it while operations still fail at once: its
    /// answer ends the pause, its failure starts another; a cluster is tried by every
    /// operation. On a cluster, a store's failure, and on one server that of a large
    /// value's store or of one left less than half the timeout by its call's lookups,
    /// lease claim and wait for the write gate, starts no pause (a large value may take
    /// its whole timeout on a healthy server). Zero disables the pause.
    pub fn pause_after_failure(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Key names longer than this are not stored (nor looked up).
    pub fn max_key_bytes(mut self, limit: usize) -> Self {
        self.max_key_bytes = limit;
        self
    }

    /// Values whose encoding is longer than this are not stored.
    pub fn max_value_bytes(mut self, limit: usize) -> Self {
        self.max_value_bytes = limit;
        self
    }
}
