//! `AsyncBackend`: the async twin of the core's `Backend`.

use std::future::Future;

use jwm_cache_core::{Deadline, Entry, Instant, Reclaimed, Ttl};

use super::claim::{Claim, Lease, NoLease, RefreshClaim};

/// A store of encoded entries (`E`) by key (`K`) that is reached through I/O: the async
/// twin of [`Backend`](jwm_cache_core::Backend), with the same contract.
///
/// - Methods take `&self`: the backend is shared by every task and synchronises itself
///   (a connection manager, a pool, a lock).
/// - The futures are `Send`, so a call that uses the backend can be `tokio::spawn`ed.
/// - A lookup hands the entry over (`Option<E>`), since nothing can be borrowed across
///   an `.await`.
/// - `now` comes from the cache's clock: an entry whose deadline is at or before `now` is
///   never returned nor counted, whatever the store's own notion of time.
///
/// Entries are read and removed through [`AsyncLookup`], as the sync twin's are through
/// [`Lookup`](jwm_cache_core::Lookup).
///
/// Every sync [`Backend`](jwm_cache_core::Backend) is usable as one: [`Sharded`](crate::asynch::Sharded)
/// runs an in-memory backend inline behind sharded locks, and
/// [`Offloaded`](crate::asynch::Offloaded) runs a backend that blocks on I/O on tokio's blocking
/// pool.
///
/// ```
/// use jwm_cache::backend::{AsyncBackend, AsyncLookup, Sharded};
/// use jwm_cache::{Ttl, memory::MemoryBackend, time::Instant};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Sharded::new(4, MemoryBackend::<u32, String>::new);
/// let now = Instant::ZERO;
/// store.set(1, "one".to_string(), Ttl::from_secs(1).deadline_from(now), now).await.unwrap();
/// assert_eq!(store.get(&1, now).await.unwrap().as_deref(), Some("one"));
/// # });
/// ```
pub trait AsyncBackend<K, E>: Send + Sync {
    /// Why an operation failed.
    type Error: Send;
    /// A short name for `parameters()`.
    const NAME: &'static str;
    /// Whether other caches, in this process or in others, read and write this
    /// backend's entries under the same identifier, as a server's: a memoized function
    /// that holds state (a closure that captures, a `fn` pointer) must then be named,
    /// since another instance built in the same place would share its entries.
    const SHARED: bool = false;

    /// Stores `value` under `key` until `deadline`, replacing any previous entry.
    fn set(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Removes every entry of this backend's namespace and resets the [`Reclaimed`] counts.
    fn clear(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The number of live entries at `now`.
    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, Self::Error>> + Send;

    /// The most time one memoized call may spend on this backend, lookup and store
    /// together, if its operations are bounded (Redis: its timeout). Unbounded backends
    /// (memory) return `None` and pay nothing for this.
    fn call_budget(&self) -> Option<std::time::Duration> {
        None
    }

    /// [`set`](Self::set), failing (with the backend's timeout error) if it takes longer
    /// than `budget`: what is left of a memoized call's [`call_budget`](Self::call_budget)
    /// after its lookup. The default ignores the budget, as an unbounded backend may.
    /// A budget of [`Duration::MAX`](std::time::Duration::MAX) is no bound (a value a
    /// cache computed, stored through [`set_computed`](Self::set_computed) on a backend
    /// without a call budget).
    fn set_within(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
        budget: std::time::Duration,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = budget;
        self.set(key, value, deadline, now)
    }

    /// Tells a backend shared by several caches (a server) which cache it serves, so
    /// that each identifier's entries stay apart. Builders call it once, before any
    /// operation; a backend owned by one cache ignores it.
    fn use_identifier(&mut self, identifier: &str) {
        let _ = identifier;
    }

    /// Tells a backend whether the cache's readings of `now` are the system time at the
    /// call ([`Clock::READS_SYSTEM_TIME`](jwm_cache_core::Clock::READS_SYSTEM_TIME)).
    /// Builders call it once, before any operation. A backend that bounds real time
    /// reads the system clock itself unless they are; others ignore it (the default).
    fn now_is_system_time(&mut self, is: bool) {
        let _ = is;
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

    /// The async twin of
    /// [`Backend::keep_deadlines_as_written`](jwm_cache_core::Backend::keep_deadlines_as_written):
    /// a store that ends idle entries early stops doing so, as the cache times a
    /// refresh or a stale window from each entry's deadline.
    fn keep_deadlines_as_written(&mut self) {}

    /// Tells a backend shared across processes how long a process that computes a
    /// missing key holds the key's lease (`lease`). Builders call it once, before any
    /// operation; a backend that no other process shares ignores it.
    fn use_lease(&mut self, lease: Ttl) {
        let _ = lease;
    }

    /// Called by the one caller in this process about to compute the missing `key` (the
    /// single-flight leader) before it computes: a backend shared across processes may
    /// make it wait while another process computes, and hand over that value
    /// ([`Claim::Found`]), or grant it the key's lease. `budget` is what the call's
    /// lookups left of its [`call_budget`](Self::call_budget) (`None`: no bound): the
    /// claim's own round trips, until it answers or begins to wait for another
    /// process, end within it, or it answers [`Claim::Failed`]; that wait is not
    /// bounded by it. A claim that waited says so ([`Claim::ComputeAfterWait`],
    /// [`Claim::Outwaited`]), as the cache charges the time of one that answers
    /// [`Claim::Compute`] to the call's budget. The default grants nothing: each process
    /// computes on its own.
    fn claim(
        &self,
        key: &K,
        now: Instant,
        budget: Option<std::time::Duration>,
    ) -> impl Future<Output = Claim<E>> + Send {
        let _ = (key, now, budget);
        NoLease::default()
    }

    /// Gives back a lease [`claim`](Self::claim) granted, if it is still this
    /// process's, once the value is stored or the computation failed. A holder that
    /// dies never calls it: its lease then ends by itself. A cache with a
    /// [`call_budget`](Self::call_budget) waits for it at most what is left of the call's
    /// budget, then drops it and calls
    /// [`release_in_background`](Self::release_in_background): a backend that gives
    /// leases back overrides both.
    fn release(&self, lease: Lease) -> impl Future<Output = ()> + Send {
        let _ = lease;
        std::future::ready(())
    }

    /// [`release`](Self::release) for a holder that cannot wait: its computation
    /// panicked, its caller's future was dropped, or its store failed (the server may
    /// be the trouble, and the call has spent its time). A backend that needs I/O starts it
    /// in the background, on a runtime that outlives the caller's (Redis: the
    /// process-wide [`Bridge`](crate::asynch::Bridge)'s); the default lets the lease
    /// end by itself.
    fn release_in_background(&self, lease: Lease) {
        let _ = lease;
    }

    /// Called before a background refresh of `key`, whose value is live, computes: a
    /// backend shared across processes grants the key's lease at once, so that one
    /// process refreshes it and its store is fenced as a miss's, or answers that
    /// another process holds it ([`RefreshClaim::Busy`]) or that it cannot tell
    /// ([`RefreshClaim::Failed`]). The default refreshes without a lease.
    fn claim_refresh(&self, key: &K) -> impl Future<Output = RefreshClaim> + Send {
        let _ = key;
        std::future::ready(RefreshClaim::Unleased)
    }

    /// Keeps `lease` while its holder computes and stores: the cache polls this future
    /// beside the computation, the wait for its write gate and the store (a sync
    /// refresh, on its bridge), and drops it once the value is stored. A backend whose leases end
    /// by themselves renews it here, so that a computation longer than the lease keeps
    /// it; the future may end early, once the lease is lost. The default renews
    /// nothing and never ends.
    fn keep_lease(&self, lease: &Lease) -> impl Future<Output = ()> + Send {
        let _ = lease;
        std::future::pending()
    }

    /// [`set_within`](Self::set_within) for a value this process computed (a miss's or
    /// a refresh's), where `set` and `set_within` are writes: a backend shared across
    /// processes takes the key's lease from its holder on a write, never on this. Under
    /// `lease` (what [`claim`](Self::claim) or [`claim_refresh`](Self::claim_refresh)
    /// granted, or [`Claim::Outwaited`] named), the value is stored only while that
    /// lease still holds: a write of the key by another process while this one computed
    /// took it, and the older value computed before that write never lands after it.
    /// The default stores as `set_within` does. A cache calls it with a `budget` when
    /// the backend has a [`call_budget`](Self::call_budget), and with
    /// [`Duration::MAX`](std::time::Duration::MAX) when it has none.
    ///
    /// A wrapper that passes [`claim`](Self::claim) on must pass this,
    /// [`keep_lease`](Self::keep_lease), [`claim_refresh`](Self::claim_refresh),
    /// [`release`](Self::release), [`release_in_background`](Self::release_in_background)
    /// and [`call_budget`](Self::call_budget) on too: otherwise its computed stores are
    /// writes, which take the lease they were computed under, its leases are neither
    /// renewed nor given back, and its refreshes are not fenced.
    fn set_computed(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
        budget: std::time::Duration,
        lease: Option<&Lease>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = lease;
        self.set_within(key, value, deadline, now, budget)
    }

    /// Whether `error` is a failure of the backend's own codec, for a backend that
    /// encodes and decodes values itself (a near tier): the cache counts it among
    /// `codec_errors`, as its own codec's. The default: none is.
    fn is_codec_error(error: &Self::Error) -> bool {
        let _ = error;
        false
    }

    /// The most entries this backend holds before evicting, if bounded.
    fn capacity(&self) -> Option<usize> {
        None
    }

    /// How long an entry lives without a read, if this backend expires idle entries.
    fn time_to_idle(&self) -> Option<Ttl> {
        None
    }

    /// Entries this backend removed on its own since the last [`clear`](Self::clear).
    fn reclaimed(&self) -> Reclaimed {
        Reclaimed::default()
    }

    /// Where and how this backend keeps entries, beyond its type, as functions that
    /// share a cache by identifier must agree on it (a server's address, key prefix and
    /// timeout; a near tier's bound): the second one's backend would be dropped for the
    /// first's. Empty by default: nothing to agree on.
    fn settings(&self) -> String {
        String::new()
    }

    /// [`clear`](Self::clear), with the [`Reclaimed`] counts it restarted (by default
    /// none if it failed): a cache adds them to its lifetime totals. The default reads
    /// [`reclaimed`](Self::reclaimed) before clearing, so what concurrent writes
    /// reclaim in between is lost to those totals; a backend that can read its counts
    /// as it restarts them (under the lock of each store's clear) overrides it.
    fn clear_counted(&self) -> impl Future<Output = (Reclaimed, Result<(), Self::Error>)> + Send {
        let before = self.reclaimed();
        let clear = self.clear();
        async move {
            let cleared = clear.await;
            let restarted = if cleared.is_ok() {
                before
            } else {
                Reclaimed::default()
            };
            (restarted, cleared)
        }
    }
}

/// Reading and removing entries of an [`AsyncBackend`] by `&Q`, a borrowed form of its
/// key `K`: the async twin of [`Lookup`](jwm_cache_core::Lookup), which says which forms
/// each kind of store takes, and what a live entry is (with a `stale_if_error` window,
/// the window is live to the backend: the cache tells stale from fresh).
///
/// ```
/// use jwm_cache::backend::{AsyncBackend, AsyncLookup, Sharded};
/// use jwm_cache::{Ttl, memory::MemoryBackend, time::Instant};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Sharded::new(4, MemoryBackend::<String, u32>::new);
/// let now = Instant::ZERO;
/// store.set("alice".to_string(), 1, Ttl::NEVER.deadline_from(now), now).await.unwrap();
/// assert_eq!(store.get("alice", now).await.unwrap(), Some(1));
/// # });
/// ```
pub trait AsyncLookup<K, Q: ?Sized, E>: AsyncBackend<K, E> {
    /// The live entry under `key` at `now`, if any, with its deadline.
    fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<E>>, Self::Error>> + Send;

    /// [`get_entry`](Self::get_entry)'s answer if it needs no waiting, else `None`: a
    /// store in memory (or a near tier's copy) answers here, so that a sync caller
    /// (a [`BlockingCache`](crate::asynch::BlockingCache)) reaches it with no runtime.
    /// `None` only says "ask `get_entry`", never "absent". The default is `None`.
    fn get_entry_inline(
        &self,
        key: &Q,
        now: Instant,
    ) -> Option<Result<Option<Entry<E>>, Self::Error>> {
        let _ = (key, now);
        None
    }

    /// The live value under `key` at `now`, if any.
    fn get(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<E>, Self::Error>> + Send {
        let entry = self.get_entry(key, now);
        async move { Ok(entry.await?.map(|entry| entry.value)) }
    }

    /// Removes the entry under `key`; returns whether a live one was there at `now`.
    fn remove(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// The live entries under `keys`, in order. The default looks them up one by one; a
    /// remote store overrides it with one round trip.
    fn get_many(
        &self,
        keys: &[Q],
        now: Instant,
    ) -> impl Future<Output = Result<Vec<Option<E>>, Self::Error>> + Send
    where
        Q: Sized + Sync,
        E: Send,
    {
        async move {
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                found.push(self.get(key, now).await?);
            }
            Ok(found)
        }
    }
}
