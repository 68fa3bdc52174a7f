//! The backend itself: a server or a cluster behind one link, bounded operations.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use jwm_cache_core::{Deadline, Instant, LONGEST_STALE_WINDOW, PersistentHash, StampedBytes, Ttl};
use redis::{Cmd, FromRedisValue};

use super::batch::Batcher;
use super::error::RedisBackendError;
use super::in_transit::Awaited;
use super::lease;
use super::link::Link;
use super::namespace::Namespace;
use super::options::RedisOptions;
use super::walk::Walk;
use super::writes::Writer;
use crate::asynch::{AsyncBackend, Bridge, Claim, Lease, RefreshClaim};

/// Values larger than this are stored over a connection of their own, so that lookups
/// and small stores never queue behind their bytes.
pub const LARGE_VALUE_BYTES: usize = 256 << 10;

/// Entries in a Redis server, shared by every process that uses the same server,
/// prefix and cache identifier.
///
/// - **Keys** are `{prefix}{identifier}:{digest}`: the digest is the key's
///   [`PersistentHash`], 128 bits, the same in every process and on every platform.
///   The identifier is the cache's, given by its builder.
/// - **Values** are [`StampedBytes`]: a header saying which value type and codec wrote
///   them (see [`Stamped`](jwm_cache_core::Stamped)), then the codec's bytes (postcard by
///   default). Bytes that another program or another value type wrote are never read as
///   a value: they are a miss, counted, recomputed and overwritten.
/// - **Records.** Each value is stored behind its deadline, with
///   `SET key record PX ttl_ms`:
///
///   | bytes | field |
///   |---|---|
///   | 0..8 ([`DEADLINE_LEN`](crate::redis::DEADLINE_LEN)) | deadline: milliseconds since the UNIX epoch, `u64` little-endian, rounded down; `u64::MAX` for never |
///   | 8..19 | the stamped header ([`HEADER_LEN`](jwm_cache_core::HEADER_LEN) bytes) |
///   | 19.. | the codec's bytes |
///
///   The stored deadline is the TTL's end, and what a reader goes by: an entry whose
///   stored deadline has passed on the reader's wall clock is a miss, even if the server
///   still holds it. The server's expiry (`PX`) only frees memory: it is the TTL, plus
///   the stale window of a cache with `stale_if_error`, which keeps entries past their
///   TTL as fallbacks for failed computations (such a cache reads them as stale, never
///   as hits; a reader without a window, in another process, misses them). The cache's
///   clock is its own timeline, so the deadline is stored on the wall clock
///   (`wall_now + (deadline - now)` when set) and read back onto the reader's
///   (`now + (stored - wall_now)`, saturating): it is as exact as the writer's and
///   reader's wall clocks agree. Clocks that NTP keeps within a few milliseconds of each
///   other move each entry's end by that much, earlier or later; a host whose clock runs
///   far ahead of a writer's misses that writer's entries early, and recomputes them,
///   rather than serve one it might take for live past its TTL. A TTL of "never" sets no
///   expiry. A value too short to hold a deadline is a miss counted as an error
///   ([`RedisBackendError::Truncated`]).
/// - **Leases** (with the builders' `lease`): the one caller in each process about to
///   compute a missing key first asks for the key's lease, `<name>:lease`, which a
///   script gives one process at a time, with a token of its own. The holder renews it
///   every third of its length while it computes, stores, and gives the lease back by
///   compare-and-delete; the others look again, after 2, 4, 8, 16, then every 32 ms,
///   until the value lands (their calls return it, counted as misses) or the lease is
///   free again (the holder died or failed: one of them takes it). Each waits at most
///   the lease plus the timeout, then computes, and stores only under the holder's
///   lease; every process computes without one at once if the server cannot be
///   reached.
/// - **Fencing** (with a lease): the holder's store is one script that stores only
///   while the lease is still its own, and every write of the key through a cache that
///   leases (`insert`, `remove`, this backend's `set_many`) takes the lease from its
///   holder, atomically with the write on one server, just before it on a cluster;
///   `clear` unlinks every lease of the namespace (their tombstones too) before the
///   keys. So a computation under the lease that began from older data before such a
///   write never puts its value back after it. A background refresh takes the lease
///   too, at once or not at all (then another process computes the key, and the
///   refresh is skipped), and stores under it. A value computed without the lease (the
///   claim failed, single-flight is off) is stored plainly, unfenced, and takes no
///   lease. A refused store is no error: it is not counted. Writes by caches that do
///   not lease (a `SyncRedisBackend`'s) take no lease. A holder renews for as long as
///   its computation runs, so one that hangs keeps its key: other processes compute
///   after their wait and store under its lease. On a cluster, while a slot is being
///   migrated, the holder's store may be refused (`TRYAGAIN`) until the move ends: the
///   value is then not stored.
/// - **`clear`** runs `SCAN MATCH` over this namespace only (its pattern is escaped and
///   matches exactly one digest after the identifier) and `UNLINK`s every batch; it
///   never runs `FLUSHDB`. `len` counts this namespace's keys only. Both make one round
///   trip per SCAN batch, each bounded by the timeout (a `clear` with leases walks the
///   leases first, in a scan of their own). A store that timed out may still
///   land later, which a scan cannot see coming: `clear` first waits for such stores
///   of its namespace to land (each is waited for at most 20 s in all), at most the
///   timeout, and otherwise fails with [`RedisBackendError::Timeout`] (at once with
///   [`RedisBackendError::Unavailable`] while the backend is paused). A removal
///   (`UNLINK`) or a store waits in the same way, within its own time, for an earlier
///   store of its key that timed out or whose caller gave up: on another connection
///   (another runtime's, or the one large values and a cluster's `set_many` take),
///   that store could land after
///   it, and outlive the removal or put the older value back. A lease is given back
///   at once, even if its holder's store may still land: that store is then refused.
/// - **Faults**: every operation is bounded by [`RedisOptions::timeout`]. After a
///   timeout or a connection failure, operations fail at once for
///   [`RedisOptions::pause_after_failure`], so an outage costs callers nothing but the
///   computation. The connection manager reconnects by itself, so when a dead server
///   returns, hits resume with no action. A memoized call over this backend counts
///   failures and still returns its function's value. With feature `tracing`, a
///   failure, the start of a pause and the recovery after it are events (target
///   `jwm_cache::redis`); nothing is emitted on the way of a hit.
///
/// Connections are made lazily, one per tokio runtime that uses the backend, on its
/// first operation there: a backend can be opened anywhere, even while the server is
/// down, and each runtime drives its own connection, so no caller depends on another
/// runtime being alive or running. Operations need a tokio runtime with time enabled.
///
/// On a function, `#[ttl_cache(backend = redis(url = "redis://…"))]` does all of this.
///
/// ```no_run
/// use jwm_cache::{AsyncMemoized, RedisBackend};
///
/// # async fn demo() {
/// let redis = RedisBackend::open("redis://127.0.0.1:6379/0").unwrap();
/// let square = AsyncMemoized::builder(|n: u64| async move { n * n })
///     .identifier("squares")
///     .build_with_redis(redis); // postcard bytes behind a type header
/// assert_eq!(square.call(12).await, 144);
/// # }
/// ```
pub struct RedisBackend<K> {
    pub(super) link: Arc<Link>,
    pub(super) lookups: Arc<Batcher>,
    pub(super) namespace: Namespace,
    pub(super) options: RedisOptions,
    /// How long past its TTL the cache keeps each entry (`stale_if_error`): the record
    /// holds the TTL's deadline, the server's `PX` this much more.
    pub(super) stale_window: Duration,
    /// How long a key's lease outlives its holder, if the cache leases: also how often
    /// the holder renews it (a third of it) and how long a tombstone lasts.
    pub(super) lease: Option<Duration>,
    pub(super) keys: PhantomData<fn(&K)>,
}

impl<K> RedisBackend<K> {
    /// The backend for the cache named `identifier`. Cache builders name an async
    /// backend themselves; a [`SyncRedisBackend`](crate::redis::SyncRedisBackend) is named here.
    pub fn with_identifier(mut self, identifier: &str) -> Self {
        self.namespace = Namespace::new(&self.options.prefix, identifier);
        self
    }

    /// The options.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// The server (a single one's address, without its password; a cluster's seeds may
    /// differ between sharers), the key prefix, the timeout and the largest key and
    /// value: what functions sharing a cache over Redis must agree on. The pause after
    /// a failure is left out: it changes no entry.
    pub(super) fn settings_text(&self) -> String {
        let server = match self.link.endpoint() {
            Ok(endpoint) => endpoint.describe(),
            Err(error) => format!("unusable ({error})"),
        };
        let options = &self.options;
        format!(
            "{server}, prefix {:?}, timeout {:?}, keys up to {} bytes, values up to {} bytes",
            options.prefix, options.timeout, options.max_key_bytes, options.max_value_bytes
        )
    }

    pub(super) async fn query<T: FromRedisValue>(
        &self,
        command: &Cmd,
    ) -> Result<T, RedisBackendError> {
        self.link.query(command).await
    }

    /// The lease's length in milliseconds, which a release's tombstone lasts too (a
    /// minute if none is set: then no claim takes one, and none is given back).
    fn lease_ms(&self) -> u64 {
        lease::millis(self.lease.unwrap_or(Duration::from_secs(60)))
    }

    /// The key name of `key`, within the size limit.
    pub(super) fn name<Q: PersistentHash + ?Sized>(
        &self,
        key: &Q,
    ) -> Result<String, RedisBackendError> {
        let name = self
            .namespace
            .key(key)
            .map_err(RedisBackendError::Unhashable)?;
        within(&name, "key", self.options.max_key_bytes)?;
        Ok(name)
    }

    /// How long a process computing a missing key holds its lease, if the cache leases.
    pub(super) fn leases(&self) -> Option<Duration> {
        self.lease
    }

    /// `{prefix}{identifier}:`, what every key name of this cache starts with.
    pub(super) fn head(&self) -> &str {
        self.namespace.head()
    }
}

pub(super) fn within(
    bytes: impl AsRef<[u8]>,
    what: &'static str,
    limit: usize,
) -> Result<(), RedisBackendError> {
    let len = bytes.as_ref().len();
    if len > limit {
        return Err(RedisBackendError::TooLarge { what, len, limit });
    }
    Ok(())
}

impl<K> Clone for RedisBackend<K> {
    /// Another handle on the same connection and namespace.
    fn clone(&self) -> Self {
        RedisBackend {
            link: Arc::clone(&self.link),
            lookups: Arc::clone(&self.lookups),
            namespace: self.namespace.clone(),
            options: self.options.clone(),
            stale_window: self.stale_window,
            lease: self.lease,
            keys: PhantomData,
        }
    }
}

/// Values are [`StampedBytes`]: every value carries the header that says which type and
/// codec wrote it, so bytes written by another program or another value type are never
/// read as a value. Build caches over this backend with a
/// [`Stamped`](jwm_cache_core::Stamped) codec (the builders' `build_with_redis` does).
impl<K> AsyncBackend<K, StampedBytes<K>> for RedisBackend<K>
where
    K: PersistentHash + Send + Sync,
{
    type Error = RedisBackendError;
    const NAME: &'static str = "redis";
    const SHARED: bool = true;

    fn use_identifier(&mut self, identifier: &str) {
        *self = self.clone().with_identifier(identifier);
    }

    fn settings(&self) -> String {
        self.settings_text()
    }

    /// The record keeps the TTL's deadline and the server the entry `window` longer, so
    /// that a reader of another window (another process's) never takes a stale entry
    /// for a live one: see the type docs.
    /// The window is capped as the cache caps it ([`LONGEST_STALE_WINDOW`], which
    /// [`Ttl::NEVER`] means), so that the record's TTL end is the deadline the cache
    /// gave less the very window it added.
    fn keep_stale_for(&mut self, window: Ttl) {
        let longest = LONGEST_STALE_WINDOW.as_duration().unwrap_or(Duration::MAX);
        self.stale_window = window.as_duration().unwrap_or(longest).min(longest);
    }

    /// A lease must end, so that a holder that dies frees the key: [`Ttl::NEVER`]
    /// leases nothing.
    fn use_lease(&mut self, lease: Ttl) {
        self.lease = lease.as_duration().filter(|lease| !lease.is_zero());
    }

    /// The key's lease, or the value another process stored while this one waited: see
    /// the type docs. Without a lease set, or for a key that has no name, nothing.
    async fn claim(
        &self,
        key: &K,
        _now: Instant,
        budget: Option<Duration>,
    ) -> Claim<StampedBytes<K>> {
        self.claim_waiting(key, budget).await.0
    }

    /// The key's lease for a refresh, at once or not at all (see the type docs);
    /// without a lease set, or for a key that has no name, no lease.
    async fn claim_refresh(&self, key: &K) -> RefreshClaim {
        match (self.lease, self.name(key)) {
            (Some(lease), Ok(name)) => lease::claim_refresh(&self.link, &name, lease).await,
            _ => RefreshClaim::Unleased,
        }
    }

    /// The compare-and-delete (see `lease::release`), at once even if the holder's
    /// store may still land: fenced, it is refused once the lease is given back.
    async fn release(&self, lease: Lease) {
        lease::release(&self.link, lease, self.lease_ms(), false).await;
    }

    /// Starts the compare-and-delete on the process-wide bridge's runtime (the
    /// caller's may end first); if it fails, the lease ends by itself.
    fn release_in_background(&self, lease: Lease) {
        let (link, lease_ms) = (Arc::clone(&self.link), self.lease_ms());
        Bridge::in_background(async move {
            lease::release(&link, lease, lease_ms, false).await;
        });
    }

    async fn set(
        &self,
        key: K,
        value: StampedBytes<K>,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), RedisBackendError> {
        self.set_within(key, value, deadline, now, self.options.timeout)
            .await
    }

    /// The timeout: a memoized call spends at most one on its lookup and its store
    /// together.
    fn call_budget(&self) -> Option<Duration> {
        Some(self.options.timeout)
    }

    /// `SET`, bounded by `budget`. A slow or refused store fails for its value alone and
    /// never pauses the backend; values over [`LARGE_VALUE_BYTES`] travel on a
    /// connection of their own. A store that timed out may still land: its header makes
    /// it safe to read, and a later store of its key waits for it (see the type docs).
    async fn set_within(
        &self,
        key: K,
        value: StampedBytes<K>,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
    ) -> Result<(), RedisBackendError> {
        let name = self.name(&key)?;
        self.set_named(name, &value, deadline, now, budget, Writer::User)
            .await
    }

    /// `set_within` for a value this process computed: under `lease`, only if it is
    /// still the lease's holder (another process's write, or a `clear`, took it); never
    /// taking the key's lease from another process (see the type docs).
    async fn set_computed(
        &self,
        key: K,
        value: StampedBytes<K>,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
        lease: Option<&Lease>,
    ) -> Result<(), RedisBackendError> {
        let name = self.name(&key)?;
        let writer = Writer::computed(lease);
        self.set_named(name, &value, deadline, now, budget, writer)
            .await
    }

    /// Renews the lease every third of its length, until it is found taken.
    async fn keep_lease(&self, lease: &Lease) {
        if let Some(length) = self.lease {
            lease::keep(&self.link, lease, length).await;
        }
        std::future::pending().await
    }

    /// `SCAN MATCH` this namespace, `UNLINK` every batch (on a cluster, on every
    /// primary), the leases first if the cache leases; a failure stops the sweep and is
    /// returned (what was unlinked stays
    /// unlinked). First waits, at most the timeout, for stores of this namespace that
    /// timed out and may still land, and fails with `Timeout` if one has not.
    async fn clear(&self) -> Result<(), RedisBackendError> {
        // A store that timed out may land after the scan passed, and outlive the clear:
        // it lands first, or the clear fails with a timeout.
        self.link
            .until_landed(Awaited::Namespace(self.namespace.head()))
            .await?;
        // Leases first: a holder's store that lands before its lease is unlinked lands
        // before the keys' walk begins, which then finds it.
        self.unlink_leases().await?;
        self.walk(Walk::Unlink).await.map(drop)
    }

    /// This namespace's keys; each was live when the server listed it.
    async fn len(&self, _now: Instant) -> Result<usize, RedisBackendError> {
        self.walk(Walk::Count).await
    }
}
