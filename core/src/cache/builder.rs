//! Building a cache without spelling its five type parameters.

use alloc::string::String;
use core::marker::PhantomData;

use crate::backend::Backend;
use crate::codec::{Identity, Serializer};
use crate::memory::MemoryBackend;
use crate::time::Ttl;

use super::Cache;
use super::{Counts, Policy};

/// The default TTL, as in the Python original.
pub const DEFAULT_TTL: Ttl = Ttl::from_secs(60);
/// The identifier of a cache built without one.
pub const DEFAULT_IDENTIFIER: &str = "default";

/// Configures a [`Cache`]: TTL, identifier, capacity, codec and clock.
///
/// [`build`](CacheBuilder::build) gives a [`MemoryBackend`];
/// [`build_with_backend`](CacheBuilder::build_with_backend) takes any
/// [`Backend`](crate::Backend).
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::{CacheBuilder, ManualClock, Ttl};
///
/// let mut cache = CacheBuilder::new(ManualClock::new())
///     .ttl(Duration::from_secs(30))
///     .identifier("geo")
///     .capacity(10_000)
///     .build::<String, (f64, f64)>();
/// cache.insert("Paris".into(), (48.85, 2.35)).unwrap();
/// let p = cache.parameters();
/// assert_eq!((p.ttl, p.identifier.as_str(), p.capacity), (Ttl::from_secs(30), "geo", Some(10_000)));
/// ```
///
/// With the `postcard` feature (on by default), values can be stored as bytes:
///
/// ```
/// # #[cfg(feature = "postcard")] {
/// use jwm_cache_core::{CacheBuilder, ManualClock, Postcard};
///
/// let mut cache = CacheBuilder::new(ManualClock::new())
///     .serializer(Postcard)
///     .build::<u32, String>();
/// cache.insert(1, "one".into()).unwrap();
/// assert_eq!(cache.parameters().codec, "postcard");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CacheBuilder<S, C> {
    ttl: Ttl,
    identifier: String,
    capacity: Option<usize>,
    serializer: S,
    clock: C,
}

impl<C> CacheBuilder<Identity, C> {
    /// A builder with a 60 s TTL, no capacity, [`Identity`] and the given clock.
    pub fn new(clock: C) -> Self {
        CacheBuilder {
            ttl: DEFAULT_TTL,
            identifier: String::from(DEFAULT_IDENTIFIER),
            capacity: None,
            serializer: Identity,
            clock,
        }
    }
}

impl<S, C> CacheBuilder<S, C> {
    /// The TTL of entries inserted without one: a [`Duration`](core::time::Duration)
    /// (saturating) or a [`Ttl`], such as [`Ttl::NEVER`].
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.ttl = ttl.into();
        self
    }

    /// The namespace of the cache's entries.
    pub fn identifier(mut self, identifier: impl Into<String>) -> Self {
        self.identifier = identifier.into();
        self
    }

    /// The TTL configured so far.
    pub fn configured_ttl(&self) -> Ttl {
        self.ttl
    }

    /// The identifier configured so far.
    pub fn configured_identifier(&self) -> &str {
        &self.identifier
    }

    /// The most entries the built-in memory backend holds; SIEVE evicts beyond it.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// The codec.
    pub fn serializer<S2>(self, serializer: S2) -> CacheBuilder<S2, C> {
        self.map_serializer(|_| serializer)
    }

    /// The codec, replaced by `f` of the current one: for a wrapper such as
    /// [`Stamped`](crate::codec::Stamped).
    ///
    /// ```
    /// # #[cfg(feature = "postcard")] {
    /// use jwm_cache_core::{CacheBuilder, ManualClock, Postcard, Stamped};
    ///
    /// let mut cache = CacheBuilder::new(ManualClock::new())
    ///     .serializer(Postcard)
    ///     .map_serializer(Stamped::<_, u8>::new)
    ///     .build::<u8, u8>();
    /// cache.insert(1, 2).unwrap();
    /// assert_eq!(cache.get(&1).unwrap(), Some(2));
    /// # }
    /// ```
    pub fn map_serializer<S2>(self, f: impl FnOnce(S) -> S2) -> CacheBuilder<S2, C> {
        let serializer = f(self.serializer);
        CacheBuilder {
            ttl: self.ttl,
            identifier: self.identifier,
            capacity: self.capacity,
            serializer,
            clock: self.clock,
        }
    }

    /// The clock.
    pub fn clock<C2>(self, clock: C2) -> CacheBuilder<S, C2> {
        CacheBuilder {
            ttl: self.ttl,
            identifier: self.identifier,
            capacity: self.capacity,
            serializer: self.serializer,
            clock,
        }
    }

    /// A cache over the built-in [`MemoryBackend`], bounded by [`capacity`](Self::capacity).
    pub fn build<K, V>(self) -> Cache<K, V, MemoryBackend<K, S::Encoded>, S, C>
    where
        S: Serializer<V>,
    {
        let backend = match self.capacity {
            Some(capacity) => MemoryBackend::with_capacity(capacity),
            None => MemoryBackend::new(),
        };
        self.assemble(backend)
    }

    /// A cache over `backend`, which learns the cache's identifier (see
    /// [`Backend::use_identifier`](crate::backend::Backend::use_identifier)). Capacity is the
    /// backend's own business here, so the builder's [`capacity`](Self::capacity) is not
    /// used.
    pub fn build_with_backend<K, V, B>(self, mut backend: B) -> Cache<K, V, B, S, C>
    where
        S: Serializer<V>,
        B: Backend<K, S::Encoded>,
    {
        backend.use_identifier(&self.identifier);
        self.assemble(backend)
    }

    /// A cache over `backend` as it is, not told the identifier: for a shell that builds
    /// its engines over backends that keep no namespace (memory shards), without the
    /// bounds of [`build_with_backend`](Self::build_with_backend).
    #[doc(hidden)]
    pub fn build_over<K, V, B>(self, backend: B) -> Cache<K, V, B, S, C> {
        self.assemble(backend)
    }

    fn assemble<K, V, B>(self, backend: B) -> Cache<K, V, B, S, C> {
        let (policy, clock) = self.into_policy_and_clock();
        Cache {
            backend,
            policy,
            clock,
            counts: Counts::default(),
            types: PhantomData,
        }
    }

    /// The pure policy (TTL, identifier, codec) and the clock, for a cache shell that
    /// drives its backend itself, such as jwm-cache's async cache. The capacity is the
    /// backend's business and is not included.
    pub fn into_policy_and_clock(self) -> (Policy<S>, C) {
        (
            Policy::new(self.serializer, self.ttl, self.identifier),
            self.clock,
        )
    }
}
