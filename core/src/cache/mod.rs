//! `Cache<K, V, B, S, C>`: the policy over a backend, a codec and a clock.

mod at_instant;
mod builder;
mod counts;
mod freshness;
mod info;
mod options;
mod policy;

use core::borrow::Borrow;
use core::marker::PhantomData;

use crate::backend::{Backend, Lookup, Reclaimed};
use crate::codec::{Identity, Serializer};
use crate::error::Error;
use crate::memory::MemoryBackend;
use crate::time::{Clock, Instant, Ttl};

pub use builder::CacheBuilder;
pub use counts::{Counters, Counts};
pub use freshness::{Fallback, Found, Freshening, Freshness, LONGEST_STALE_WINDOW};
pub use info::{CacheInfo, Parameters};
pub use options::{DEFAULT_IDENTIFIER, DEFAULT_TTL, Options};
pub use policy::{Policy, Write};

/// The error of a [`Cache`] over backend `B` and codec `S` storing `V`.
pub type CacheError<K, V, B, S> =
    Error<<B as Backend<K, <S as Serializer<V>>::Encoded>>::Error, <S as Serializer<V>>::Error>;

/// A single-threaded TTL cache (`&mut self`, `no_std`): the engine every other cache
/// wraps. For many threads, use the std crate's `SharedCache`.
///
/// `Cache` owns a backend `B` (where entries live), a codec `S` (how values are stored),
/// a clock `C`, a default TTL, an identifier and counters. Monomorphisation picks all
/// three parts at compile time.
///
/// - Every entry expires at `inserted_at + ttl`; a read at or after that deadline is a
///   miss. A hit does not extend the deadline; re-inserting resets it.
/// - `ttl = 0` stores nothing (and drops a previous value), [`Ttl::NEVER`] never expires,
///   and a `Duration` too large to represent saturates to never.
/// - The clock is read exactly once per operation.
/// - Plain operations return typed errors. [`get_or_insert_with`](Cache::get_or_insert_with)
///   never fails: a broken backend or corrupt bytes count as a miss and an error, and the
///   function's value is returned.
///
/// ```
/// use core::time::Duration;
/// use jwm_cache_core::{Cache, ManualClock};
///
/// let clock = ManualClock::new();
/// let mut cache = Cache::new(clock.clone()); // memory backend, 60 s TTL
///
/// let v = cache.get_or_insert_with(7u64, || 49u64); // miss: computes
/// let w = cache.get_or_insert_with(7, || unreachable!()); // hit
/// assert_eq!((v, w), (49, 49));
///
/// clock.advance(Duration::from_secs(60)); // at the deadline: expired
/// assert_eq!(cache.get(&7).unwrap(), None);
///
/// let info = cache.info();
/// assert_eq!((info.hits, info.misses, info.current_size), (1, 2, 0));
/// ```
// In this order, behind a shard's lock byte, on a 64-bit target with a zero-sized
// codec: a hit reads the policy's TTL and freshening and counts in `counts.hits`, all
// in the shard's first cache line, then reads a `MemoryBackend`'s first fields, which
// fill its third (the rest of `counts` and the store's `weight` lie in between). A
// sharded cache holds many `Cache`s that compete for L1, so each hit should touch as
// few lines as it can.
#[repr(C)]
pub struct Cache<K, V, B, S, C> {
    policy: Policy<S>,
    /// Counted since the last clear.
    counts: Counts,
    backend: B,
    clock: C,
    /// Counted before the last clear: `info().lifetime` adds the two.
    retired: Counters,
    types: PhantomData<fn(K) -> V>,
}

impl<K, V, C> Cache<K, V, MemoryBackend<K, V>, Identity, C>
where
    Identity: Serializer<V, Encoded = V>,
{
    /// An unbounded in-memory cache with a 60 s TTL that stores values as they are.
    ///
    /// Use [`CacheBuilder`] for anything else.
    pub fn new(clock: C) -> Self {
        CacheBuilder::new(clock).build()
    }
}

impl<K, V, B, S, C> Cache<K, V, B, S, C> {
    /// A cache over `backend` as it is, configured by `options` (their capacity, shards
    /// and single-flight are not this cache's business). Unlike
    /// [`CacheBuilder::build_with_backend`], the backend is not told the identifier: for
    /// backends that keep no namespace, such as the shards of a thread-safe cache.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock, MemoryBackend, Options};
    ///
    /// let options = Options::new(ManualClock::new()).identifier("geo");
    /// let mut cache = Cache::from_options(options, MemoryBackend::new());
    /// cache.insert("Paris", (48.85, 2.35)).unwrap();
    /// assert_eq!(cache.identifier(), "geo");
    /// ```
    pub fn from_options(options: Options<S, C>, backend: B) -> Self {
        let (policy, clock) = Policy::from_options(options);
        Cache {
            backend,
            policy,
            clock,
            counts: Counts::default(),
            retired: Counters::default(),
            types: PhantomData,
        }
    }
}

impl<K, V, B, S, C> Cache<K, V, B, S, C>
where
    S: Serializer<V>,
    B: Lookup<K, K, S::Encoded>,
    C: Clock,
{
    /// See [`Policy::expired_on_arrival`], with the backend's time-to-idle: for a
    /// shell that stores a computed value.
    #[doc(hidden)]
    pub fn expired_on_arrival(&self, ttl: Ttl, looked_up: Instant, now: Instant) -> bool {
        let idle = self.backend.time_to_idle();
        self.policy.expired_on_arrival(ttl, idle, looked_up, now)
    }

    /// The value under `key`, if a live one is stored.
    ///
    /// `key` may be any borrowed form of the key type, as with `HashMap::get`: a
    /// `String`-keyed cache is read with a `&str`, and a hit builds no `String`. Which
    /// forms a backend takes is up to its [`Lookup`] impls.
    ///
    /// A failure is counted as a miss and an error, and returned.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock};
    ///
    /// let mut cache = Cache::new(ManualClock::new());
    /// assert_eq!(cache.get("alice").unwrap(), None);
    /// cache.insert(String::from("alice"), 1).unwrap();
    /// assert_eq!(cache.get("alice").unwrap(), Some(1));
    /// ```
    pub fn get<Q>(&mut self, key: &Q) -> Result<Option<V>, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let now = self.clock.now();
        self.get_at(key, now)
    }

    /// Stores `value` under `key` with the cache's TTL, replacing any previous value
    /// and its deadline.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{CacheBuilder, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let mut cache = CacheBuilder::new(clock.clone()).ttl(Duration::from_secs(2)).build();
    /// cache.insert(1, "a").unwrap();
    /// clock.advance(Duration::from_secs(1));
    /// cache.insert(1, "b").unwrap(); // lives until 3 s
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(cache.get(&1).unwrap(), Some("b"));
    /// ```
    pub fn insert(&mut self, key: K, value: V) -> Result<(), CacheError<K, V, B, S>> {
        self.insert_with_ttl(key, value, self.policy.ttl())
    }

    /// Stores `value` under `key` with its own TTL. [`Ttl::ZERO`] stores nothing and
    /// removes a previous value.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{Cache, ManualClock, Ttl};
    ///
    /// let clock = ManualClock::new();
    /// let mut cache = Cache::new(clock.clone());
    /// cache.insert_with_ttl("short", 1, Duration::from_secs(1)).unwrap();
    /// cache.insert_with_ttl("forever", 2, Ttl::NEVER).unwrap();
    /// clock.advance(Duration::from_secs(3600 * 24 * 365 * 500));
    /// assert_eq!(cache.get(&"short").unwrap(), None);
    /// assert_eq!(cache.get(&"forever").unwrap(), Some(2));
    /// ```
    pub fn insert_with_ttl(
        &mut self,
        key: K,
        value: V,
        ttl: impl Into<Ttl>,
    ) -> Result<(), CacheError<K, V, B, S>> {
        let now = self.clock.now();
        self.insert_with_ttl_at(key, value, ttl.into(), now)
    }

    /// The stored value under `key`, or `f()`, stored and returned on a miss.
    ///
    /// Never fails: if the lookup or the store fails (a dead backend, corrupt bytes), the
    /// failure is counted in [`CacheInfo::errors`] and `f`'s value is still returned. The
    /// deadline counts from the lookup, so a value is never served more than one TTL
    /// after its computation began. The clock is read once per call: a computation
    /// slower than the TTL stores a value already expired, which the thread-safe caches,
    /// reading the clock again after a miss, do not store.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock};
    ///
    /// let mut cache = Cache::new(ManualClock::new());
    /// let mut runs = 0;
    /// for _ in 0..3 {
    ///     let v = cache.get_or_insert_with("answer", || {
    ///         runs += 1;
    ///         42
    ///     });
    ///     assert_eq!(v, 42);
    /// }
    /// assert_eq!(runs, 1);
    /// ```
    pub fn get_or_insert_with(&mut self, key: K, f: impl FnOnce() -> V) -> V {
        let now = self.clock.now();
        if let Ok(Some(value)) = self.get_at(&key, now) {
            return value;
        }
        let value = f();
        let _counted = self.insert_ref_at(key, &value, now);
        value
    }

    /// Like [`get_or_insert_with`](Cache::get_or_insert_with) for a fallible `f`: an `Err`
    /// is returned and never cached.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock};
    ///
    /// let mut cache = Cache::new(ManualClock::new());
    /// let failed: Result<u32, &str> = cache.try_get_or_insert_with("k", || Err("down"));
    /// assert_eq!(failed, Err("down"));
    /// assert_eq!(cache.try_get_or_insert_with("k", || Ok::<_, &str>(5)), Ok(5));
    /// assert_eq!(cache.info().current_size, 1);
    /// ```
    pub fn try_get_or_insert_with<E>(
        &mut self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let now = self.clock.now();
        if let Ok(Some(value)) = self.get_at(&key, now) {
            return Ok(value);
        }
        let value = f()?;
        let _counted = self.insert_ref_at(key, &value, now);
        Ok(value)
    }

    /// Removes the entry under `key`, which may be any borrowed form of the key type as
    /// for [`get`](Self::get); returns whether a live one was there.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock};
    ///
    /// let mut cache = Cache::new(ManualClock::new());
    /// cache.insert(1, 1).unwrap();
    /// assert_eq!(cache.remove(&1), Ok(true));
    /// assert_eq!(cache.remove(&1), Ok(false));
    /// ```
    pub fn remove<Q>(&mut self, key: &Q) -> Result<bool, CacheError<K, V, B, S>>
    where
        K: Borrow<Q>,
        Q: ?Sized,
        B: Lookup<K, Q, S::Encoded>,
    {
        let now = self.clock.now();
        self.remove_at(key, now)
    }

    /// Empties this cache's namespace and resets every counter but the lifetime totals.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, ManualClock};
    ///
    /// let mut cache = Cache::new(ManualClock::new());
    /// cache.get_or_insert_with(1, || 1);
    /// cache.clear().unwrap();
    /// let info = cache.info();
    /// assert_eq!((info.misses, info.current_size), (0, 0));
    /// assert_eq!(info.lifetime.misses, 1);
    /// ```
    pub fn clear(&mut self) -> Result<(), CacheError<K, V, B, S>> {
        let reclaimed = self.backend.reclaimed();
        let cleared = self.backend.clear().map_err(Error::Backend);
        // The backend's clear restarted its reclaim counts, unless it failed.
        let restarted = if cleared.is_ok() {
            reclaimed
        } else {
            Reclaimed::default()
        };
        self.retired += Counters::of(self.counts, restarted);
        self.counts = Counts::outcome(&cleared);
        cleared
    }

    /// What [`clear`](Self::clear) does to the counters, leaving the backend as it is:
    /// for a wrapper whose caches share one backend's entries (one server's namespace)
    /// and clear them through one of those caches.
    #[doc(hidden)]
    pub fn restart_counts(&mut self) {
        self.retired += Counters::of(self.counts, Reclaimed::default());
        self.counts = Counts::default();
    }

    /// Hits, misses, live size and the backend's reclaim counts since the last clear,
    /// and every counter since the cache was built ([`CacheInfo::lifetime`]).
    ///
    /// `current_size` never counts an expired entry. If the backend cannot report its
    /// size, `current_size` is 0 and the failure is counted in `errors`. Reclaiming
    /// what expired makes this the one call whose cost grows with that backlog.
    ///
    /// ```
    /// use core::time::Duration;
    /// use jwm_cache_core::{CacheBuilder, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let mut cache = CacheBuilder::new(clock.clone()).ttl(Duration::from_secs(1)).build();
    /// cache.get_or_insert_with(1, || 10);
    /// cache.get_or_insert_with(1, || 10);
    /// clock.advance(Duration::from_secs(1));
    /// let info = cache.info();
    /// assert_eq!((info.hits, info.misses, info.current_size, info.expirations), (1, 1, 0, 1));
    /// ```
    pub fn info(&mut self) -> CacheInfo {
        let now = self.clock.now();
        self.info_at(now)
    }

    /// The configuration: TTL, identifier, capacity, and the names of the backend, codec
    /// and clock.
    ///
    /// ```
    /// use jwm_cache_core::{Cache, DEFAULT_TTL, ManualClock};
    ///
    /// let cache: Cache<u8, u8, _, _, _> = Cache::new(ManualClock::new());
    /// let p = cache.parameters();
    /// assert_eq!((p.ttl, p.backend, p.codec, p.clock), (DEFAULT_TTL, "memory", "identity", "manual"));
    /// ```
    pub fn parameters(&self) -> Parameters {
        Parameters {
            time_to_idle: self.backend.time_to_idle(),
            ..self
                .policy
                .parameters::<V>(self.backend.capacity(), B::NAME, C::NAME)
        }
    }

    pub(super) fn store(
        &mut self,
        key: K,
        ttl: Ttl,
        now: Instant,
        encode: impl FnOnce(&S) -> Result<S::Encoded, S::Error>,
    ) -> Result<(), CacheError<K, V, B, S>> {
        let stored = match self.policy.write::<V>(ttl, now, encode) {
            Ok(Write::Set { value, deadline }) => self
                .backend
                .set(key, value, deadline, now)
                .map_err(Error::Backend),
            Ok(Write::Remove) => Lookup::<K, K, _>::remove(&mut self.backend, &key, now)
                .map(drop)
                .map_err(Error::Backend),
            Err(e) => Err(Error::Codec(e)),
        };
        self.counts += Counts::outcome(&stored);
        stored
    }
}

impl<K, V, B, S, C> Cache<K, V, B, S, C> {
    /// The TTL of entries inserted without one.
    pub fn ttl(&self) -> Ttl {
        self.policy.ttl()
    }

    /// The namespace of this cache's entries.
    pub fn identifier(&self) -> &str {
        self.policy.identifier()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The backend, mutably: for backend-specific operations.
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod layout;
#[cfg(test)]
mod tests;
