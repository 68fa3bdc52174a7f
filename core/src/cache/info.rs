//! What a cache reports about itself.

use alloc::string::String;
use core::fmt;

use crate::time::Ttl;

use super::counts::{Counters, hit_ratio, write_freshness, write_near_hits};

/// Counters and size, as of one call to [`Cache::info`](crate::Cache::info).
///
/// Every lookup is exactly one hit, one miss or one coalesced wait, so
/// `hits + misses + coalesced` equals the number of lookups since the last clear, failed
/// ones included. [`lifetime`](Self::lifetime) holds the same counters since the cache
/// was built, for export: a clear resets the others, never those.
///
/// It prints as one line, and serializes with serde (`hit_ratio` included):
///
/// ```
/// use jwm_cache_core::{Cache, ManualClock};
///
/// let mut cache = Cache::new(ManualClock::new());
/// cache.get_or_insert_with("a", || 1);
/// cache.get_or_insert_with("a", || 1);
/// let info = cache.info();
/// assert_eq!(info.hit_ratio(), 0.5);
/// assert_eq!(
///     info.to_string(),
///     "hits 1, misses 1, coalesced 0, hit ratio 50.0%, size 1, evictions 0, expirations 0, errors 0"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheInfo {
    /// Lookups that returned a stored value.
    pub hits: u64,
    /// Lookups that found nothing usable (absent, expired, or failed), whose caller
    /// computed the value.
    pub misses: u64,
    /// Lookups that found nothing, whose caller waited for another caller's computation
    /// of the same key (single-flight) instead of running its own.
    pub coalesced: u64,
    /// Live entries now; expired ones are never counted. With `stale_if_error`, an entry
    /// past its TTL but inside the stale window is still held (it is the fallback), so
    /// it counts here although a lookup misses it.
    pub current_size: usize,
    /// Live entries the backend dropped to stay within capacity.
    pub evictions: u64,
    /// Entries the backend dropped because their deadline passed.
    pub expirations: u64,
    /// Backend and codec failures, each also counted where it happened (a failed lookup
    /// is a miss).
    pub errors: u64,
    /// The codec's failures among `errors`: a value that would not encode, or stored
    /// bytes that would not decode (corrupt, or written by another version), a near
    /// tier's own codec included. In a near tier's `get_many`, an entry that does not
    /// decode is a miss alone.
    pub codec_errors: u64,
    /// Background recomputations started by a hit past `refresh_after`.
    pub refreshes: u64,
    /// Refreshes whose computation failed or panicked: the old value stayed.
    pub refresh_failures: u64,
    /// Calls whose computation failed and that got a stale value instead
    /// (`stale_if_error`); each is also a miss or a coalesced wait.
    pub stale_served: u64,
    /// Hits a near tier answered from process memory, among `hits` (jwm-cache's
    /// `NearBackend` in front of Redis); the other hits read the backend.
    pub near_hits: u64,
    /// Every counter since the cache was built: what it counted before its last clear,
    /// plus the fields above. Monotonic, for export.
    pub lifetime: Counters,
}

impl CacheInfo {
    /// The counters since the last clear, without the size.
    pub fn counters(&self) -> Counters {
        Counters {
            hits: self.hits,
            misses: self.misses,
            coalesced: self.coalesced,
            errors: self.errors,
            codec_errors: self.codec_errors,
            evictions: self.evictions,
            expirations: self.expirations,
            refreshes: self.refreshes,
            refresh_failures: self.refresh_failures,
            stale_served: self.stale_served,
            near_hits: self.near_hits,
        }
    }

    /// The share of lookups since the last clear that ran no computation of their own:
    /// `(hits + coalesced) / (hits + misses + coalesced)`, and 1.0 before the first.
    pub fn hit_ratio(&self) -> f64 {
        hit_ratio(self.hits, self.misses, self.coalesced)
    }
}

impl core::ops::Add for CacheInfo {
    type Output = CacheInfo;

    /// The report of two caches together, such as two shards; each count saturates.
    fn add(self, other: CacheInfo) -> CacheInfo {
        CacheInfo {
            hits: self.hits.saturating_add(other.hits),
            misses: self.misses.saturating_add(other.misses),
            coalesced: self.coalesced.saturating_add(other.coalesced),
            current_size: self.current_size.saturating_add(other.current_size),
            evictions: self.evictions.saturating_add(other.evictions),
            expirations: self.expirations.saturating_add(other.expirations),
            errors: self.errors.saturating_add(other.errors),
            codec_errors: self.codec_errors.saturating_add(other.codec_errors),
            refreshes: self.refreshes.saturating_add(other.refreshes),
            refresh_failures: self.refresh_failures.saturating_add(other.refresh_failures),
            stale_served: self.stale_served.saturating_add(other.stale_served),
            near_hits: self.near_hits.saturating_add(other.near_hits),
            lifetime: self.lifetime + other.lifetime,
        }
    }
}

/// `hits 1, misses 1, coalesced 0, hit ratio 50.0%, size 1, evictions 0, expirations 0,
/// errors 0`: the counters since the last clear (then the refresh and stale counts, if
/// any is not zero, and the near hits, if any).
impl fmt::Display for CacheInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hits {}, misses {}, coalesced {}, hit ratio {:.1}%, size {}, evictions {}, expirations {}, errors {}",
            self.hits,
            self.misses,
            self.coalesced,
            100.0 * self.hit_ratio(),
            self.current_size,
            self.evictions,
            self.expirations,
            self.errors
        )?;
        write_freshness(f, self.refreshes, self.refresh_failures, self.stale_served)?;
        write_near_hits(f, self.near_hits)
    }
}

impl serde::Serialize for CacheInfo {
    /// Every field, `hit_ratio`, and `lifetime` as a nested struct.
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = serializer.serialize_struct("CacheInfo", 14)?;
        fields.serialize_field("hits", &self.hits)?;
        fields.serialize_field("misses", &self.misses)?;
        fields.serialize_field("coalesced", &self.coalesced)?;
        fields.serialize_field("hit_ratio", &self.hit_ratio())?;
        fields.serialize_field("current_size", &self.current_size)?;
        fields.serialize_field("evictions", &self.evictions)?;
        fields.serialize_field("expirations", &self.expirations)?;
        fields.serialize_field("errors", &self.errors)?;
        fields.serialize_field("codec_errors", &self.codec_errors)?;
        fields.serialize_field("refreshes", &self.refreshes)?;
        fields.serialize_field("refresh_failures", &self.refresh_failures)?;
        fields.serialize_field("stale_served", &self.stale_served)?;
        fields.serialize_field("near_hits", &self.near_hits)?;
        fields.serialize_field("lifetime", &self.lifetime)?;
        fields.end()
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
    /// How long an entry lives without a read, if the backend expires idle entries.
    pub time_to_idle: Option<Ttl>,
    /// How old an entry must be for a hit to refresh it in the background, if set.
    pub refresh_after: Option<Ttl>,
    /// How long an expired entry is kept as a fallback for a failed computation, if set.
    pub stale_if_error: Option<Ttl>,
    /// The backend's name, such as `"memory"`.
    pub backend: &'static str,
    /// The codec's name, such as `"identity"` or `"postcard"`.
    pub codec: &'static str,
    /// The clock's name, such as `"manual"`.
    pub clock: &'static str,
}
