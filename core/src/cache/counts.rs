//! What a cache counts: the rules for one operation ([`Counts`]), and the totals a cache
//! has added up since it was built ([`Counters`]).

use core::fmt;

use crate::backend::Reclaimed;
use crate::error::Error;

use super::CacheInfo;
use super::freshness::Found;

/// Hits, misses, coalesced waits and errors: what one operation adds, or what a cache
/// has added up.
///
/// The counting rules live here once: a lookup is exactly one hit or one miss (a failed
/// lookup is a miss), and every failure is also one error, of the backend or of the
/// codec. A miss whose caller then
/// waited for another caller's computation, instead of running its own, is recounted
/// as coalesced ([`coalesce_miss`](Self::coalesce_miss)), so every call is exactly one
/// hit, miss or coalesced wait.
///
/// ```
/// use jwm_cache_core::{Counts, Error};
///
/// type Found = Result<Option<u8>, Error<&'static str, &'static str>>;
/// let mut total = Counts::default();
/// total += Counts::lookup(&Found::Ok(Some(1)));
/// total += Counts::lookup(&Found::Err(Error::Backend("down")));
/// total += Counts::lookup(&Found::Err(Error::Codec("corrupt")));
/// total += Counts::lookup(&Found::Ok(None));
/// total.coalesce_miss();
/// assert_eq!((total.hits, total.misses, total.coalesced), (1, 2, 1));
/// assert_eq!((total.errors, total.codec_errors), (2, 1));
/// ```
// `hits` first: a hit counts in the line its policy is read from (see `Cache`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Counts {
    /// Lookups that returned a stored value.
    pub hits: u64,
    /// Lookups that found nothing usable, whose caller computed the value (or failed).
    pub misses: u64,
    /// Lookups that found nothing, whose caller waited for another caller's computation.
    pub coalesced: u64,
    /// Backend and codec failures.
    pub errors: u64,
    /// The codec's failures among `errors`: a value that would not encode, or stored
    /// bytes that would not decode.
    pub codec_errors: u64,
    /// Background recomputations started by a hit past `refresh_after`.
    pub refreshes: u64,
    /// Refreshes whose computation failed or panicked: the old value stayed.
    pub refresh_failures: u64,
    /// Calls whose computation failed and that got a stale value instead
    /// (`stale_if_error`); each is also counted as a miss or a coalesced wait.
    pub stale_served: u64,
}

impl Counts {
    /// One refresh started in the background.
    pub fn refresh_started() -> Self {
        Counts {
            refreshes: 1,
            ..Counts::default()
        }
    }

    /// One refresh that failed, leaving the old value in place.
    pub fn refresh_failed() -> Self {
        Counts {
            refresh_failures: 1,
            ..Counts::default()
        }
    }

    /// One call answered with a stale value after its computation failed.
    pub fn served_stale() -> Self {
        Counts {
            stale_served: 1,
            ..Counts::default()
        }
    }

    /// What a lookup counts: a hit or a miss, and an error if it failed.
    pub fn lookup<T, B, S>(found: &Result<Option<T>, Error<B, S>>) -> Self {
        Counts {
            hits: u64::from(matches!(found, Ok(Some(_)))),
            misses: u64::from(!matches!(found, Ok(Some(_)))),
            ..Counts::outcome(found)
        }
    }

    /// What a lookup that sorts its entry counts: a hit if it may serve it (fresh, or
    /// due for a refresh), else a miss, and an error if it failed.
    pub fn found<V, B, S>(found: &Result<Found<V>, Error<B, S>>) -> Self {
        let hit = matches!(found, Ok(Found::Hit(_) | Found::RefreshDue(_)));
        Counts {
            hits: u64::from(hit),
            misses: u64::from(!hit),
            ..Counts::outcome(found)
        }
    }

    /// What any other operation counts: an error if it failed.
    pub fn outcome<T, B, S>(result: &Result<T, Error<B, S>>) -> Self {
        Counts {
            errors: u64::from(result.is_err()),
            codec_errors: u64::from(matches!(result, Err(Error::Codec(_)))),
            ..Counts::default()
        }
    }

    /// What an operation of the backend alone counts (asking its size, say): an error if
    /// it failed.
    pub fn backend<T, E>(result: &Result<T, E>) -> Self {
        Counts {
            errors: u64::from(result.is_err()),
            ..Counts::default()
        }
    }

    /// These counts without the miss: for a caller that counts its miss once it knows
    /// whether it computes or waits for another's computation ([`missed`](Self::missed)).
    pub fn deferring_miss(self) -> Self {
        Counts { misses: 0, ..self }
    }

    /// A miss whose caller computes, or, if it `waited` for another caller's
    /// computation, a coalesced wait.
    pub fn missed(waited: bool) -> Self {
        Counts {
            misses: u64::from(!waited),
            coalesced: u64::from(waited),
            ..Counts::default()
        }
    }

    /// Recounts one miss as coalesced: its caller found a computation of the key in
    /// flight and waited for it. For a count kept under one lock with the lookup's.
    pub fn coalesce_miss(&mut self) {
        self.misses = self.misses.saturating_sub(1);
        self.coalesced += 1;
    }

    /// The report: these counts, the live `size` (`None` if the backend could not tell)
    /// and what the backend reclaimed. Its lifetime totals are these same counts: a cache
    /// that was cleared must add what it counted before.
    #[doc(hidden)]
    pub fn info(self, size: Option<usize>, reclaimed: Reclaimed) -> CacheInfo {
        CacheInfo {
            hits: self.hits,
            misses: self.misses,
            coalesced: self.coalesced,
            current_size: size.unwrap_or(0),
            evictions: reclaimed.evictions,
            expirations: reclaimed.expirations,
            errors: self.errors,
            codec_errors: self.codec_errors,
            refreshes: self.refreshes,
            refresh_failures: self.refresh_failures,
            stale_served: self.stale_served,
            near_hits: reclaimed.near_hits,
            lifetime: Counters::of(self, reclaimed),
        }
    }
}

impl core::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.hits = self.hits.saturating_add(other.hits);
        self.misses = self.misses.saturating_add(other.misses);
        self.coalesced = self.coalesced.saturating_add(other.coalesced);
        self.errors = self.errors.saturating_add(other.errors);
        self.codec_errors = self.codec_errors.saturating_add(other.codec_errors);
        self.refreshes = self.refreshes.saturating_add(other.refreshes);
        self.refresh_failures = self.refresh_failures.saturating_add(other.refresh_failures);
        self.stale_served = self.stale_served.saturating_add(other.stale_served);
    }
}

/// Every counter of a cache, without its size: since the last clear in
/// [`CacheInfo`]'s own fields, or since the cache was built in
/// [`CacheInfo::lifetime`], which a clear never resets and so exports as monotonic
/// counters.
///
/// ```
/// use jwm_cache_core::{Cache, ManualClock};
///
/// let mut cache = Cache::new(ManualClock::new());
/// cache.get_or_insert_with(1, || 1);
/// cache.get_or_insert_with(1, || 1);
/// cache.clear().unwrap();
/// cache.get_or_insert_with(1, || 1);
/// let info = cache.info();
/// assert_eq!((info.hits, info.misses), (0, 1));
/// assert_eq!((info.lifetime.hits, info.lifetime.misses), (1, 2));
/// assert_eq!(info.lifetime.calls(), 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Lookups that returned a stored value.
    pub hits: u64,
    /// Lookups that found nothing usable, whose caller computed the value (or failed).
    pub misses: u64,
    /// Lookups that found nothing, whose caller waited for another caller's computation.
    pub coalesced: u64,
    /// Backend and codec failures.
    pub errors: u64,
    /// The codec's failures among `errors`.
    pub codec_errors: u64,
    /// Live entries the backend dropped to stay within capacity.
    pub evictions: u64,
    /// Entries the backend dropped because their deadline passed.
    pub expirations: u64,
    /// Background recomputations started by a hit past `refresh_after`.
    pub refreshes: u64,
    /// Refreshes that failed, leaving the old value in place.
    pub refresh_failures: u64,
    /// Calls answered with a stale value after their computation failed.
    pub stale_served: u64,
    /// Hits a near tier answered from process memory, among `hits` (jwm-cache's
    /// `NearBackend` in front of Redis); the other hits read the backend.
    pub near_hits: u64,
}

impl Counters {
    /// The counters of `counts` and `reclaimed` together.
    pub fn of(counts: Counts, reclaimed: Reclaimed) -> Self {
        Counters {
            hits: counts.hits,
            misses: counts.misses,
            coalesced: counts.coalesced,
            errors: counts.errors,
            codec_errors: counts.codec_errors,
            evictions: reclaimed.evictions,
            expirations: reclaimed.expirations,
            refreshes: counts.refreshes,
            refresh_failures: counts.refresh_failures,
            stale_served: counts.stale_served,
            near_hits: reclaimed.near_hits,
        }
    }

    /// Lookups: `hits + misses + coalesced`.
    pub fn calls(&self) -> u64 {
        self.hits
            .saturating_add(self.misses)
            .saturating_add(self.coalesced)
    }

    /// The share of lookups that ran no computation of their own:
    /// `(hits + coalesced) / calls`, and 1.0 before the first call.
    pub fn hit_ratio(&self) -> f64 {
        hit_ratio(self.hits, self.misses, self.coalesced)
    }
}

impl core::ops::Add for Counters {
    type Output = Counters;

    /// The counters of two caches together, such as two shards.
    fn add(self, other: Counters) -> Counters {
        Counters {
            hits: self.hits.saturating_add(other.hits),
            misses: self.misses.saturating_add(other.misses),
            coalesced: self.coalesced.saturating_add(other.coalesced),
            errors: self.errors.saturating_add(other.errors),
            codec_errors: self.codec_errors.saturating_add(other.codec_errors),
            evictions: self.evictions.saturating_add(other.evictions),
            expirations: self.expirations.saturating_add(other.expirations),
            refreshes: self.refreshes.saturating_add(other.refreshes),
            refresh_failures: self.refresh_failures.saturating_add(other.refresh_failures),
            stale_served: self.stale_served.saturating_add(other.stale_served),
            near_hits: self.near_hits.saturating_add(other.near_hits),
        }
    }
}

impl core::ops::AddAssign for Counters {
    fn add_assign(&mut self, other: Counters) {
        *self = *self + other;
    }
}

/// `(hits + coalesced) / calls`, 1.0 with no calls: nothing was missed yet.
pub(super) fn hit_ratio(hits: u64, misses: u64, coalesced: u64) -> f64 {
    let served = hits.saturating_add(coalesced);
    match served.saturating_add(misses) {
        0 => 1.0,
        calls => served as f64 / calls as f64,
    }
}

/// `hits 3, misses 1, coalesced 0, hit ratio 75.0%, evictions 0, expirations 0, errors 0`,
/// then the refresh and stale counts if any is not zero.
impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hits {}, misses {}, coalesced {}, hit ratio {:.1}%, evictions {}, expirations {}, errors {}",
            self.hits,
            self.misses,
            self.coalesced,
            100.0 * self.hit_ratio(),
            self.evictions,
            self.expirations,
            self.errors
        )?;
        write_freshness(f, self.refreshes, self.refresh_failures, self.stale_served)?;
        write_near_hits(f, self.near_hits)
    }
}

/// `, refreshes 2, refresh failures 1, stale served 0`, or nothing if all are zero: a
/// cache that neither refreshes nor serves stale prints as it always did.
pub(super) fn write_freshness(
    f: &mut fmt::Formatter<'_>,
    refreshes: u64,
    refresh_failures: u64,
    stale_served: u64,
) -> fmt::Result {
    if refreshes == 0 && refresh_failures == 0 && stale_served == 0 {
        return Ok(());
    }
    write!(
        f,
        ", refreshes {refreshes}, refresh failures {refresh_failures}, stale served {stale_served}"
    )
}

/// `, near hits 5`, or nothing without a near tier's hits.
pub(super) fn write_near_hits(f: &mut fmt::Formatter<'_>, near_hits: u64) -> fmt::Result {
    if near_hits == 0 {
        return Ok(());
    }
    write!(f, ", near hits {near_hits}")
}

impl serde::Serialize for Counters {
    /// Every field, and `hit_ratio`.
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = serializer.serialize_struct("Counters", 12)?;
        fields.serialize_field("hits", &self.hits)?;
        fields.serialize_field("misses", &self.misses)?;
        fields.serialize_field("coalesced", &self.coalesced)?;
        fields.serialize_field("hit_ratio", &self.hit_ratio())?;
        fields.serialize_field("evictions", &self.evictions)?;
        fields.serialize_field("expirations", &self.expirations)?;
        fields.serialize_field("errors", &self.errors)?;
        fields.serialize_field("codec_errors", &self.codec_errors)?;
        fields.serialize_field("refreshes", &self.refreshes)?;
        fields.serialize_field("refresh_failures", &self.refresh_failures)?;
        fields.serialize_field("stale_served", &self.stale_served)?;
        fields.serialize_field("near_hits", &self.near_hits)?;
        fields.end()
    }
}
