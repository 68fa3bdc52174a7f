//! The `Backend` and `Lookup` traits: where encoded entries live, and how they are found.

use alloc::string::String;

use crate::key_hash::KeyHash;
use crate::time::{Deadline, Instant, Ttl};

/// A store of encoded entries (`E`) by key (`K`), each with a [`Deadline`].
///
/// Every method that depends on time takes `now` from the cache, which reads its clock
/// once per operation. A backend never returns an entry whose deadline is at or before
/// `now`, and [`len`](Backend::len) never counts one.
///
/// Entries are read and removed through [`Lookup`]: a backend implements
/// `Lookup<K, K, E>`, and, where it can, `Lookup<K, Q, E>` for borrowed forms `Q` of
/// its keys (`str` for `String`), so that a lookup never builds an owned key.
///
/// ```
/// use jwm_cache_core::{Backend, Instant, Lookup, MemoryBackend, Ttl};
///
/// let mut store = MemoryBackend::<&str, u32>::new();
/// let now = Instant::ZERO;
/// store.set("a", 1, Ttl::from_secs(1).deadline_from(now), now).unwrap();
/// assert_eq!(store.get(&"a", now).unwrap(), Some(&1));
/// assert_eq!(store.get(&"a", Instant::from_nanos(1_000_000_000)).unwrap(), None);
/// ```
pub trait Backend<K, E> {
    /// Why an operation failed.
    type Error;
    /// A short name for [`Cache::parameters`](crate::Cache::parameters).
    const NAME: &'static str;
    /// Whether every instance sees all of its namespace's entries, as the backends of
    /// one server do: a sharded cache over such a backend counts and clears them
    /// through its first shard only, as each shard would otherwise count, and clear,
    /// them all.
    const SEES_WHOLE_NAMESPACE: bool = false;

    /// Stores `value` under `key` until `deadline`, replacing any previous entry.
    fn set(
        &mut self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), Self::Error>;

    /// Removes every entry and resets the [`Reclaimed`] counts.
    fn clear(&mut self) -> Result<(), Self::Error>;

    /// The number of live entries at `now`.
    fn len(&mut self, now: Instant) -> Result<usize, Self::Error>;

    /// Tells a backend shared by several caches (a server) which cache it serves, so
    /// that each identifier's entries stay apart. Builders call it once, before any
    /// operation; a backend owned by one cache ignores it.
    fn use_identifier(&mut self, identifier: &str) {
        let _ = identifier;
    }

    /// Tells a backend that the cache keeps each entry `window` past its TTL as a
    /// stale fallback (`stale_if_error`): the deadlines it is given already include the
    /// window. Builders call it once, before any operation. A backend that ignores it
    /// (the default) works, as long as every reader of its entries uses the same
    /// window; one shared across processes should store the TTL's deadline instead, as
    /// Redis does, so that a reader with another window never serves a stale entry.
    fn keep_stale_for(&mut self, window: Ttl) {
        let _ = window;
    }

    /// Tells a backend that the cache reads each entry's deadline as the end of its TTL
    /// (plus any stale window), to time a refresh (`refresh_after`) or the stale window
    /// (`stale_if_error`): a store that ends idle entries earlier (time-to-idle) stops
    /// doing so, as the builders' own stores do with those options. Otherwise a live
    /// entry would read as stale, or as due for a refresh at every hit. Builders call
    /// it once, before any operation, when either option is set.
    fn keep_deadlines_as_written(&mut self) {}

    /// The most entries this backend holds before evicting, if bounded (for a store that
    /// weighs its entries, the most total weight).
    fn capacity(&self) -> Option<usize> {
        None
    }

    /// How long an entry lives without a read, if this backend expires idle entries.
    fn time_to_idle(&self) -> Option<Ttl> {
        None
    }

    /// Entries this backend removed on its own since the last [`clear`](Backend::clear).
    fn reclaimed(&self) -> Reclaimed {
        Reclaimed::default()
    }

    /// Where and how this backend keeps entries, beyond its type, as caches that share
    /// one by identifier must agree on it (a server's address, key prefix and timeout).
    /// Empty by default: nothing to agree on.
    fn settings(&self) -> String {
        String::new()
    }
}

/// Reading and removing entries of a [`Backend`] by `&Q`, a borrowed form of its key `K`,
/// as `HashMap::get` takes `&str` for a `String` key.
///
/// Every backend implements `Lookup<K, K, E>`. Which other forms it accepts depends on
/// how it finds an entry:
/// - [`MemoryBackend`](crate::memory::MemoryBackend) compares keys, so it takes every `Q` with
///   `K: Borrow<Q>` and `Q: Hash + Eq`, as `HashMap` does;
/// - a store shared across processes finds an entry by its key's
///   [`PersistentHash`](crate::key::PersistentHash) digest, so it takes every `Q` with
///   `K: Borrow<Q>` and `Q: PersistentHash`. The provided encodings give a borrowed form
///   the digest of its owner (`str` and `String`, `[T]` and `Vec<T>`, `T` and `Box<T>`).
///
/// A *live* entry is one before the deadline it was stored with. For a cache with a
/// `stale_if_error` window, that deadline includes the window: the cache, not the
/// backend, tells a fresh entry from a stale one, by the deadline
/// [`get_entry`](Self::get_entry) gives. So a backend's own lookups may return an entry
/// the cache would only serve as a fallback.
///
/// ```
/// use jwm_cache_core::{Backend, Instant, Lookup, MemoryBackend, Ttl};
///
/// let mut store = MemoryBackend::<String, u32>::new();
/// let now = Instant::ZERO;
/// store.set("alice".to_string(), 1, Ttl::NEVER.deadline_from(now), now).unwrap();
/// assert_eq!(store.get("alice", now).unwrap(), Some(&1)); // no `String` built
/// assert_eq!(store.remove("alice", now), Ok(true));
/// ```
pub trait Lookup<K, Q: ?Sized, E>: Backend<K, E> {
    /// The live entry under `key` at `now`, if any, with its deadline: what a near
    /// cache needs to fill its copy, refresh-ahead to see an entry is due, and
    /// time-to-idle to extend it.
    fn get_entry(&mut self, key: &Q, now: Instant) -> Result<Option<Entry<&E>>, Self::Error>;

    /// [`get_entry`](Self::get_entry) for a caller that hashed `key` already, to pick a
    /// shard: a store that hashes with the same [`SharedHasher`] uses `hash` and skips
    /// its own. Any other store (the default) ignores it. `hash` must be `key`'s: with
    /// another key's, the lookup may miss (it never returns another key's entry).
    ///
    /// [`SharedHasher`]: crate::key_hash::SharedHasher
    #[inline]
    fn get_entry_hashed(
        &mut self,
        key: &Q,
        hash: KeyHash,
        now: Instant,
    ) -> Result<Option<Entry<&E>>, Self::Error> {
        let _ = hash;
        self.get_entry(key, now)
    }

    /// The live value under `key` at `now`, if any.
    #[inline]
    fn get(&mut self, key: &Q, now: Instant) -> Result<Option<&E>, Self::Error> {
        Ok(self.get_entry(key, now)?.map(|entry| entry.value))
    }

    /// Removes the entry under `key`; returns whether a live one was there at `now`.
    fn remove(&mut self, key: &Q, now: Instant) -> Result<bool, Self::Error>;
}

/// A live entry as a backend hands it over: its value and when it expires.
///
/// ```
/// use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, MemoryBackend};
///
/// let mut store = MemoryBackend::<&str, u32>::new();
/// let deadline = Deadline::at(Instant::from_nanos(500));
/// store.set("a", 1, deadline, Instant::ZERO).unwrap();
/// let entry = store.get_entry(&"a", Instant::ZERO).unwrap();
/// assert_eq!(entry, Some(Entry { value: &1, deadline }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<E> {
    /// The stored value.
    pub value: E,
    /// When the entry stops being served.
    pub deadline: Deadline,
}

impl<E> Entry<E> {
    /// The same entry with its value passed through `f`.
    #[inline]
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Entry<F> {
        Entry {
            value: f(self.value),
            deadline: self.deadline,
        }
    }
}

/// What a backend counted on its own: the entries it removed, by cause, and the hits
/// a near tier served from process memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// Entries dropped because their deadline passed.
    pub expirations: u64,
    /// Live entries dropped to stay within capacity.
    pub evictions: u64,
    /// Lookups a near tier answered from its copies in process memory, with no I/O
    /// (a remote backend with one; 0 for any other).
    pub near_hits: u64,
}

impl core::ops::Add for Reclaimed {
    type Output = Reclaimed;

    /// The counts of two stores together, such as two shards; each saturates.
    fn add(self, other: Reclaimed) -> Reclaimed {
        Reclaimed {
            expirations: self.expirations.saturating_add(other.expirations),
            evictions: self.evictions.saturating_add(other.evictions),
            near_hits: self.near_hits.saturating_add(other.near_hits),
        }
    }
}
