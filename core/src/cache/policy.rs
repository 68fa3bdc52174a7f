//! The pure half of a cache: what a store asks of a backend, how a lookup reads back,
//! and what each counts. No I/O and no clock: `now` is passed in.

use alloc::boxed::Box;
use alloc::string::String;

use crate::backend::Entry;
use crate::codec::Serializer;
use crate::error::Error;
use crate::time::{Deadline, Instant, Ttl};

use super::Parameters;
use super::freshness::{Found, Freshening};
use super::options::Options;

/// A cache's TTL, namespace and codec, and the rules applied around its backend's I/O.
///
/// [`Cache`](crate::Cache) calls a synchronous [`Backend`](crate::Backend) between these
/// rules; jwm-cache's async cache awaits an async backend between the very same rules,
/// so both interpret TTLs, codecs and failures identically.
///
/// ```
/// use jwm_cache_core::{Identity, Instant, Policy, Ttl, Write};
///
/// let policy = Policy::new(Identity, Ttl::from_secs(1), "ns");
/// let now = Instant::ZERO;
/// match policy.write::<u8>(policy.ttl(), now, |codec| Ok(7)).unwrap() {
///     Write::Set { value, deadline } => {
///         assert_eq!((value, deadline), (7, Ttl::from_secs(1).deadline_from(now)))
///     }
///     Write::Remove => unreachable!(),
/// }
/// // A zero TTL stores nothing: it removes any previous value.
/// assert!(matches!(policy.write::<u8>(Ttl::ZERO, now, |_| Ok(7)), Ok(Write::Remove)));
/// ```
// The TTL and freshening, which a hit reads, first; 48 bytes in all with a zero-sized
// codec (see `Cache`'s layout).
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Policy<S> {
    ttl: Ttl,
    freshening: Freshening,
    identifier: Box<str>,
    serializer: S,
}

/// What storing a value asks of the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write<E> {
    /// Store `value` until `deadline`, replacing any previous entry.
    Set {
        /// The encoded value.
        value: E,
        /// When it expires.
        deadline: Deadline,
    },
    /// Store nothing and remove any previous entry: the TTL was zero.
    Remove,
}

/// The bytes of a policy that a hit reads: its TTL and freshening (for the layout test
/// in `cache`).
#[cfg(all(test, target_pointer_width = "64"))]
pub(super) fn read_on_hit() -> core::ops::Range<usize> {
    use core::mem::{offset_of, size_of};
    let freshening = offset_of!(Policy<crate::Identity>, freshening);
    offset_of!(Policy<crate::Identity>, ttl)..freshening + size_of::<Freshening>()
}

impl<S> Policy<S> {
    /// A policy with the default `ttl` and the namespace `identifier`.
    pub fn new(serializer: S, ttl: Ttl, identifier: impl Into<String>) -> Self {
        Policy {
            serializer,
            ttl,
            identifier: identifier.into().into_boxed_str(),
            freshening: Freshening::default(),
        }
    }

    /// This policy, refreshing and keeping stale entries by `freshening`.
    pub fn with_freshening(mut self, freshening: Freshening) -> Self {
        self.freshening = freshening;
        self
    }

    /// When hits refresh entries, and how long expired ones are kept as fallbacks.
    #[inline]
    pub fn freshening(&self) -> &Freshening {
        &self.freshening
    }

    /// Whether a value computed for a lookup at `looked_up`, stored with `ttl`, would
    /// already be gone at `now`, its stale window included, or idle past `idle` (the
    /// backend's time-to-idle, which the store counts from `looked_up` too): a
    /// computation slower than that. Stored, it would take the place of a live entry in
    /// a full store, for nothing. A zero TTL is not: it stores nothing (a write with one
    /// removes the key).
    pub fn expired_on_arrival(
        &self,
        ttl: Ttl,
        idle: Option<Ttl>,
        looked_up: Instant,
        now: Instant,
    ) -> bool {
        let idled = idle.is_some_and(|idle| idle.deadline_from(looked_up).is_expired(now));
        !ttl.is_zero() && (idled || self.freshening.kept_until(ttl, looked_up).is_expired(now))
    }

    /// The policy that `options` describe, and their clock, for a shell that drives its
    /// backend itself. The shell reads what else it needs (capacity, shards,
    /// single-flight) from the options first.
    pub fn from_options<C>(options: Options<S, C>) -> (Self, C) {
        let identifier = String::from(options.identifier_or_default());
        let freshening = Freshening::new(options.refresh_after, options.stale_if_error);
        (
            Policy::new(options.serializer, options.ttl, identifier).with_freshening(freshening),
            options.clock,
        )
    }

    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.ttl
    }

    /// The namespace of the entries.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The codec.
    pub fn serializer(&self) -> &S {
        &self.serializer
    }

    /// What storing a value with `ttl` at `now` asks of the backend; `encode` turns the
    /// value into its stored form and runs only if something is stored. With
    /// `stale_if_error`, the backend keeps it that much longer (see [`Freshening`]).
    pub fn write<V>(
        &self,
        ttl: Ttl,
        now: Instant,
        encode: impl FnOnce(&S) -> Result<S::Encoded, S::Error>,
    ) -> Result<Write<S::Encoded>, S::Error>
    where
        S: Serializer<V>,
    {
        if ttl.is_zero() {
            return Ok(Write::Remove);
        }
        Ok(Write::Set {
            value: encode(&self.serializer)?,
            deadline: self.freshening.kept_until(ttl, now),
        })
    }

    /// The entry a backend lookup found (written with `ttl`), decoded and sorted by the
    /// freshening as of `now`: a plain cache's is always a hit.
    #[inline]
    pub fn sort<V, BE>(
        &self,
        found: Result<Option<Entry<&S::Encoded>>, BE>,
        ttl: Ttl,
        now: Instant,
    ) -> Result<Found<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        self.sort_with(found, ttl, now, S::decode)
    }

    /// [`sort`](Self::sort) for a backend that hands over what it found, as async ones do.
    #[inline]
    pub fn sort_owned<V, BE>(
        &self,
        found: Result<Option<Entry<S::Encoded>>, BE>,
        ttl: Ttl,
        now: Instant,
    ) -> Result<Found<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        self.sort_with(found, ttl, now, S::decode_owned)
    }

    #[inline]
    fn sort_with<T, V, BE>(
        &self,
        found: Result<Option<Entry<T>>, BE>,
        ttl: Ttl,
        now: Instant,
        decode: impl FnOnce(&S, T) -> Result<V, S::Error>,
    ) -> Result<Found<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        match found {
            Ok(Some(entry)) => {
                let value = decode(&self.serializer, entry.value).map_err(Error::Codec)?;
                if self.freshening.is_plain() {
                    return Ok(Found::Hit(value));
                }
                Ok(self.freshening.sort(value, entry.deadline, ttl, now))
            }
            Ok(None) => Ok(Found::Absent),
            Err(e) => Err(Error::Backend(e)),
        }
    }

    /// The value a backend lookup found, decoded, with the failure typed by its source.
    pub fn read<V, BE>(
        &self,
        found: Result<Option<&S::Encoded>, BE>,
    ) -> Result<Option<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        self.decode_found(found, S::decode)
    }

    /// [`read`](Self::read) for a backend that hands over what it found, as async ones do.
    pub fn read_owned<V, BE>(
        &self,
        found: Result<Option<S::Encoded>, BE>,
    ) -> Result<Option<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        self.decode_found(found, S::decode_owned)
    }

    fn decode_found<T, V, BE>(
        &self,
        found: Result<Option<T>, BE>,
        decode: impl FnOnce(&S, T) -> Result<V, S::Error>,
    ) -> Result<Option<V>, Error<BE, S::Error>>
    where
        S: Serializer<V>,
    {
        match found {
            Ok(Some(encoded)) => decode(&self.serializer, encoded)
                .map(Some)
                .map_err(Error::Codec),
            Ok(None) => Ok(None),
            Err(e) => Err(Error::Backend(e)),
        }
    }

    /// The configuration, given what only the backend and clock know.
    pub fn parameters<V>(
        &self,
        capacity: Option<usize>,
        backend: &'static str,
        clock: &'static str,
    ) -> Parameters
    where
        S: Serializer<V>,
    {
        Parameters {
            ttl: self.ttl,
            identifier: String::from(&*self.identifier),
            capacity,
            time_to_idle: None,
            refresh_after: self.freshening.refresh_after(),
            stale_if_error: Some(self.freshening.stale_if_error()).filter(|w| !w.is_zero()),
            backend,
            codec: S::NAME,
            clock,
        }
    }
}
