//! What a cache reports about itself.

use alloc::string::String;

use crate::time::Ttl;

/// Counters and size, as of one call to [`Cache::info`](crate::Cache::info).
///
/// Every lookup is exactly one hit or one miss, so `hits + misses` equals the number of
/// lookups since the last clear, failed ones included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheInfo {
    /// Lookups that returned a stored value.
    pub hits: u64,
    /// Lookups that found nothing usable (absent, expired, or failed).
    pub misses: u64,
    /// Live entries now; expired ones are never counted.
    pub current_size: usize,
    /// Live entries the backend dropped to stay within capacity.
    pub evictions: u64,
    /// Entries the backend dropped because their deadline passed.
    pub expirations: u64,
    /// Backend and codec failures, each also counted where it happened (a failed lookup
    /// is a miss).
    pub errors: u64,
}

impl core::ops::Add for CacheInfo {
    type Output = CacheInfo;

    /// The report of two caches together, such as two shards.
    fn add(self, other: CacheInfo) -> CacheInfo {
        CacheInfo {
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
            current_size: self.current_size + other.current_size,
            evictions: self.evictions + other.evictions,
            expirations: self.expirations + other.expirations,
            errors: self.errors + other.errors,
        }
    }
}

/// How a cache was configured, as `cache_parameters()` reports it: its TTL, identifier
/// and capacity, and the names of its backend, codec and clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameters {
    /// The TTL given to entries inserted without one.
    pub ttl: Ttl,
    /// The namespace of this cache's entries.
    pub identifier: String,
    /// The backend's capacity, if bounded.
    pub capacity: Option<usize>,
    /// The backend's name, such as `"memory"`.
    pub backend: &'static str,
    /// The codec's name, such as `"identity"` or `"postcard"`.
    pub codec: &'static str,
    /// The clock's name, such as `"manual"`.
    pub clock: &'static str,
}
