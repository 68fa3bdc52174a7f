//! The pure half of a cache: what a store asks of a backend, how a lookup reads back,
//! and what each counts. No I/O and no clock: `now` is passed in.

use alloc::string::String;

use crate::backend::Reclaimed;
use crate::codec::Serializer;
use crate::error::Error;
use crate::time::{Deadline, Instant, Ttl};

use super::options::Options;
use super::{CacheInfo, Parameters};

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
#[derive(Clone, Debug)]
pub struct Policy<S> {
    serializer: S,
    ttl: Ttl,
    identifier: String,
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

impl<S> Policy<S> {
    /// A policy with the default `ttl` and the namespace `identifier`.
    pub fn new(serializer: S, ttl: Ttl, identifier: impl Into<String>) -> Self {
        Policy {
            serializer,
            ttl,
            identifier: identifier.into(),
        }
    }

    /// The policy that `options` describe, and their clock, for a shell that drives its
    /// backend itself. The shell reads what else it needs (capacity, shards,
    /// single-flight) from the options first.
    pub fn from_options<C>(options: Options<S, C>) -> (Self, C) {
        let identifier = String::from(options.identifier_or_default());
        (
            Policy::new(options.serializer, options.ttl, identifier),
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
    /// value into its stored form and runs only if something is stored.
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
            deadline: ttl.deadline_from(now),
        })
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
            identifier: self.identifier.clone(),
            capacity,
            backend,
            codec: S::NAME,
            clock,
        }
    }
}

/// Hits, misses and errors: what one operation adds, or what a cache has added up.
///
/// The counting rules live here once: a lookup is exactly one hit or one miss (a failed
/// lookup is a miss), and every failure is also one error.
///
/// ```
/// use jwm_cache_core::Counts;
///
/// let mut total = Counts::default();
/// total += Counts::lookup(&Ok::<_, ()>(Some(1)));
/// total += Counts::lookup(&Err::<Option<u8>, _>("down"));
/// assert_eq!((total.hits, total.misses, total.errors), (1, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lookups that returned a stored value.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Backend and codec failures.
    pub errors: u64,
}

impl Counts {
    /// What a lookup counts: a hit or a miss, and an error if it failed.
    pub fn lookup<T, E>(found: &Result<Option<T>, E>) -> Self {
        Counts {
            hits: u64::from(matches!(found, Ok(Some(_)))),
            misses: u64::from(!matches!(found, Ok(Some(_)))),
            errors: u64::from(found.is_err()),
        }
    }

    /// What any other operation counts: an error if it failed.
    pub fn outcome<T, E>(result: &Result<T, E>) -> Self {
        Counts {
            errors: u64::from(result.is_err()),
            ..Counts::default()
        }
    }

    /// The report: these counts, the live `size` (`None` if the backend could not tell)
    /// and what the backend reclaimed.
    pub fn info(self, size: Option<usize>, reclaimed: Reclaimed) -> CacheInfo {
        CacheInfo {
            hits: self.hits,
            misses: self.misses,
            current_size: size.unwrap_or(0),
            evictions: reclaimed.evictions,
            expirations: reclaimed.expirations,
            errors: self.errors,
        }
    }
}

impl core::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.errors += other.errors;
    }
}
