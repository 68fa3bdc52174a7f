//! `NearBackend`: decoded copies of hot Redis entries in process memory, kept coherent
//! across processes by the server's invalidations.

mod backend;
mod copies;
mod epochs;
mod error;
mod memory;
#[cfg(test)]
mod model;
mod nodes;
mod tracking;

use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jwm_cache_core::{Postcard, Stamped, UnitWeight, Weigher};

use self::epochs::Epochs;
use self::memory::NearMemory;
use self::nodes::Server;
use self::tracking::{Signals, Tracked};
use super::backend::RedisBackend;
use crate::asynch::Bridge;

pub use self::error::NearError;

/// The copies a weighed near tier's stripes are sized for.
const WEIGHED_COPIES: usize = 1 << 16;

/// How often a cluster's nodes are compared with those tracked, by default.
const HEARTBEAT: Duration = Duration::from_millis(500);

/// The longest a copy is served after another process's write returned, by default.
const STALENESS_BOUND: Duration = Duration::from_secs(1);

/// A near tier in front of a [`RedisBackend`]: the values this process read from Redis
/// most recently, decoded, in process memory, so that a hit on one costs an in-memory
/// lookup and no I/O; every other process's write, removal, expiry or flush of an
/// entry retires this process's copy.
///
/// - **Reads.** A lookup serves the copy if there is one and nothing retired it (below).
///   Otherwise it reads Redis (one `GET`, batched with other tasks' as
///   [`RedisBackend`]'s are), decodes the value, and keeps a copy until the TTL's end
///   that the record holds: a copy is never served past it, and a stale fallback
///   (`stale_if_error`) is Redis's to serve. At most `capacity` copies are kept (or
///   copies of that total weight, with [`weigher`](NearBackend::weigher)), evicted as
///   an in-memory cache of that capacity evicts; `cache_parameters()` reports it as the
///   capacity, and functions sharing an identifier must agree on it.
/// - **Writes, removals and `clear`** go to Redis, then retire this cache's copies of
///   what they touched. They never store a copy: the next read does, under a tag taken
///   after the write. Another cache on the same namespace, in this process or another,
///   learns of them as every process does, through the server.
/// - **Coherence.** A connection of its own, over RESP3, runs
///   `CLIENT TRACKING ON BCAST PREFIX {prefix}{identifier}:`: the server pushes the name
///   of every key of the namespace that any client changes (a write, a removal, an
///   expiry, an eviction), and a null after `FLUSHALL`/`FLUSHDB`. The connection's
///   driver applies each invalidation as it reads it, in atomic adds and no lock: the key's
///   stripe epoch (one of 2^10 to 2^20 stripes, twice the capacity rounded up to a power
///   of two) moves on, or, for a flush, every copy's generation does.
/// - **No stale copy survives a race.** Each copy carries the generation and its stripe's
///   epoch as they were *before* the read that fetched it was sent, and a hit serves it
///   only while both are unchanged. An invalidation that the server sent after
///   answering that read, which may arrive before or after the reply is handled,
///   therefore always retires it. (An invalidation of another key in the same stripe
///   retires it too: a rare extra miss, never a stale hit.)
/// - **While tracking is off, nothing is served from memory.** Until the tracking
///   connection is up with tracking on, and from the moment it is lost (the driver sees
///   the connection close, a `CLIENT KILL` included) or fails a `PING`,
///   every copy is retired and dropped, no copy is stored, and every lookup reads
///   Redis. A new connection turns tracking on again, retrying after 50 ms, doubling to
///   at most 1 s.
/// - **Over a Redis Cluster** ([`RedisBackend::open_cluster`]), tracking runs on a
///   connection to every node that is up, primaries and replicas, found through the
///   nodes the last session tracked, then the seeds (a session starts only if every
///   slot's primary is among them). A replica pushes
///   invalidations for the writes it replicates, so a failover, even a manual one that
///   keeps the old primary up, loses none. Tracking is on only while every one of these
///   connections is; losing any of them, or a heartbeat that finds the cluster's nodes
///   changed (a node added, a failed one back), turns it off until a new session tracks
///   the new set. Slots moving between tracked nodes need nothing: a migrated key's
///   removal from its old node is itself an invalidation.
/// - **The bound on staleness.** A copy is served after another process's write
///   returned for as long as the invalidation takes to reach this process: on loopback,
///   under 25 µs at the p99 in one process, and about 2 ms across two busy processes on 2
///   cores, re-read included (BENCHMARKS.md). That is what happens; what is guaranteed is
///   [`staleness_bound`](NearBackend::staleness_bound) (1 s by default), however late
///   the invalidation: the tracker `PING`s every tracking connection four times per
///   bound, and a `PONG` arrives only after every invalidation the server sent before
///   it, so once all are answered, every write that returned before the `PING`s were
///   sent has retired its copies. A copy is served only within the bound of the last
///   such confirmation; past it (a stalled process, a slow driver, a server gone
///   silent), lookups read Redis until a `PING` is answered again. A connection that
///   fails a `PING`, or does not answer one within the timeout, ends tracking.
///
/// **What it assumes.**
/// - Every connection reaches the same server: one Redis endpoint (or the nodes of one
///   cluster), not replicas behind a load balancer, nor a name that failover may point
///   elsewhere while the old server stays up. A tracking connection hears only of
///   writes to the server it is on.
/// - On a cluster, a node that joins and takes slots is tracked from the first
///   heartbeat after the node that the heartbeat asks learns of it (the cluster
///   gossips a new node within a second or so, normally long before slots move to it).
///   Writes it takes before then could leave a copy stale: add nodes before moving
///   slots to them, as `redis-cli --cluster add-node` and `reshard` do.
/// - Values change only by commands on keys, or by `FLUSHALL`/`FLUSHDB` (which retire
///   every copy). `SWAPDB` replaces a whole database and the server sends no
///   invalidation for it (checked on Redis 7.0): never swap a database a near tier
///   reads, or its copies are served until their TTL.
/// - A key's `Eq` agrees with its [`PersistentHash`](jwm_cache_core::PersistentHash):
///   copies are found by `Eq`, Redis entries by digest, as for any key shared across
///   processes.
///
/// The tracker runs on the process-wide [`Bridge`]'s runtime (whatever bridge a sync
/// caller uses), started by the first single lookup that misses (a `get_many` keeps
/// no copies, and starts none); if that runtime cannot start,
/// or the URL was malformed, the near tier stays off and every lookup reads Redis.
/// Builders name a backend (and so give it copies and a tracker of its own) when they
/// build the cache: ask the cache's [`backend`](crate::asynch::AsyncCache::backend), not a clone
/// kept from before, whether it is tracking.
///
/// ```no_run
/// use jwm_cache::{AsyncMemoized, RedisBackend};
///
/// # async fn demo() {
/// let redis = RedisBackend::open("redis://127.0.0.1:6379/0").unwrap();
/// let square = AsyncMemoized::builder(|n: u64| async move { n * n })
///     .identifier("squares")
///     .build_with_near_redis(redis, 10_000);
/// assert_eq!(square.call(12).await, 144); // computed, stored in Redis
/// assert_eq!(square.call(12).await, 144); // read from Redis, copied
/// assert_eq!(square.call(12).await, 144); // from the copy: no I/O
/// # }
/// ```
pub struct NearBackend<K, V, S = Stamped<Postcard, K>, W = UnitWeight> {
    redis: RedisBackend<K>,
    codec: S,
    near: Arc<Near<K, V, W>>,
    capacity: usize,
    /// How many copies the stripes are sized for: the capacity, unless it is a weight.
    copies: usize,
    weigher: W,
    heartbeat: Duration,
    staleness_bound: Duration,
    /// Whether the cache's `now` is the system time at the call: else the bound is
    /// checked against a reading of its own.
    now_is_system_time: bool,
    values: PhantomData<fn() -> V>,
}

/// One namespace's copies, and their tracker.
struct Near<K, V, W> {
    memory: Arc<NearMemory<K, V, W>>,
    epochs: Arc<Epochs>,
    /// The tracker's way to drop every copy; it holds it weakly, and ends once it is
    /// gone.
    forget: Arc<dyn Fn() + Send + Sync>,
    /// The tracker's signals, once it is started.
    tracker: OnceLock<Option<Arc<Signals>>>,
}

impl<K, V, W> Drop for Near<K, V, W> {
    fn drop(&mut self) {
        if let Some(Some(signals)) = self.tracker.get() {
            signals.stop();
        }
    }
}

impl<K, V, W> Near<K, V, W>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    W: Weigher<K, V> + Clone + Send + Sync + 'static,
{
    /// Copies within `capacity`, with stripes for about `copies` of them.
    fn new(capacity: usize, weigher: W, copies: usize) -> Self {
        let memory = Arc::new(NearMemory::new(capacity, weigher));
        let forgotten = Arc::clone(&memory);
        Near {
            memory,
            epochs: Arc::new(Epochs::new(copies)),
            forget: Arc::new(move || forgotten.forget()),
            tracker: OnceLock::new(),
        }
    }
}

impl<K, V> NearBackend<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A near tier of at most `capacity` copies in front of `redis`, with postcard
    /// values behind their type header, as `build_with_redis` stores them.
    pub fn new(redis: RedisBackend<K>, capacity: usize) -> Self {
        Self::with_codec(redis, capacity, Stamped::new(Postcard))
    }
}

impl<K, V, S> NearBackend<K, V, S>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// [`new`](NearBackend::new), with values stored by `codec`.
    pub fn with_codec(redis: RedisBackend<K>, capacity: usize, codec: S) -> Self {
        NearBackend {
            redis,
            codec,
            near: Arc::new(Near::new(capacity, UnitWeight, capacity)),
            capacity,
            copies: capacity,
            weigher: UnitWeight,
            heartbeat: HEARTBEAT,
            staleness_bound: STALENESS_BOUND,
            now_is_system_time: false,
            values: PhantomData,
        }
    }
}

impl<K, V, S, W> NearBackend<K, V, S, W>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    W: Weigher<K, V> + Clone + Send + Sync + 'static,
{
    /// Copies weighed by `weigher` (a closure `|key, value| weight`, as the memory
    /// backend's), so that `capacity` bounds their total weight instead of their count.
    /// A copy heavier than the capacity is never kept: its hits read Redis. The
    /// invalidation stripes are then sized for up to 65,536 copies (2^17 stripes, 1 MiB),
    /// since a weight says nothing of how many copies fit.
    ///
    /// ```no_run
    /// use jwm_cache::{NearBackend, RedisBackend};
    ///
    /// let redis = RedisBackend::open("redis://127.0.0.1:6379").unwrap();
    /// // At most 64 MiB of pages in memory.
    /// let near = NearBackend::<String, String>::new(redis, 64 << 20)
    ///     .weigher(|_: &String, page: &String| page.len());
    /// ```
    pub fn weigher<W2>(self, weigher: W2) -> NearBackend<K, V, S, W2>
    where
        W2: Weigher<K, V> + Clone + Send + Sync + 'static,
    {
        let copies = self.capacity.min(WEIGHED_COPIES);
        NearBackend {
            redis: self.redis,
            codec: self.codec,
            near: Arc::new(Near::new(self.capacity, weigher.clone(), copies)),
            capacity: self.capacity,
            copies,
            weigher,
            heartbeat: self.heartbeat,
            staleness_bound: self.staleness_bound,
            now_is_system_time: self.now_is_system_time,
            values: PhantomData,
        }
    }

    /// How often a cluster's tracked nodes are compared with the nodes that are up
    /// (500 ms by default), and the longest gap between two `PING`s of the tracking
    /// connections (which otherwise come four times per
    /// [`staleness_bound`](Self::staleness_bound)).
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(1));
        self
    }

    /// The longest a copy is served after another process's write (or removal, or
    /// flush) returned: 1 s by default, at least 10 ms. It holds however late the
    /// server's invalidation arrives (see the type's docs), in real time: a cache whose
    /// clock is [`SystemClock`](crate::clock::SystemClock), the builders' default, checks it
    /// with the reading it takes anyway; under any other clock (a
    /// [`CoarseClock`](crate::clock::CoarseClock), whose reading lags a stopped process,
    /// or a [`ManualClock`](jwm_cache_core::ManualClock)), a hit reads the system clock too.
    ///
    /// The cost is four `PING`s per bound on each tracking connection (one per near
    /// tier, or per node of a cluster): 4 a second by default, 400 at 10 ms. A lapse
    /// costs only misses, so the default trades a looser worst case for a light load
    /// on a server that many processes track.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use jwm_cache::{NearBackend, RedisBackend};
    ///
    /// let redis = RedisBackend::open("redis://127.0.0.1:6379").unwrap();
    /// // Never serve a copy more than 20 ms after another process's write returned.
    /// let near = NearBackend::<u64, String>::new(redis, 10_000)
    ///     .staleness_bound(Duration::from_millis(20));
    /// ```
    pub fn staleness_bound(mut self, bound: Duration) -> Self {
        // Below it, a round of `PING`s (four per bound) would not fit tokio's timers.
        self.staleness_bound = bound.max(Duration::from_millis(10));
        self
    }

    /// The most copies kept, or, with a [`weigher`](Self::weigher), their most total
    /// weight.
    pub fn near_capacity(&self) -> usize {
        self.capacity
    }

    /// Whether tracking is on. Copies are served while it is and the server confirmed,
    /// within the staleness bound, that no invalidation waits: a stalled connection
    /// leaves it on while nothing is served. In a forked child it stays as the parent
    /// left it, and the child's tier serves nothing.
    pub fn is_tracking(&self) -> bool {
        self.near.epochs.is_live()
    }

    /// Starts the tracker, once: on the shared bridge's runtime, with a RESP3 client
    /// for the server. A near tier of no capacity keeps nothing, and tracks nothing.
    fn track(&self) {
        if self.capacity == 0 {
            return;
        }
        self.near.tracker.get_or_init(|| {
            let server = Server::of(self.redis.link.endpoint().ok()?);
            let (server, bridge) = match (server, Bridge::shared()) {
                (Ok(server), Ok(bridge)) => (server, bridge),
                (_server, _bridge) => {
                    #[cfg(feature = "tracing")]
                    tracing::warn!(target: "jwm_cache::redis", server = ?_server.err(), bridge = ?_bridge.err(), "near tier cannot track: serving nothing from memory");
                    return None;
                }
            };
            let signals = Arc::new(Signals::default());
            let tracked = Tracked {
                server,
                head: Arc::from(self.redis.head()),
                epochs: Arc::clone(&self.near.epochs),
                forget: Arc::downgrade(&self.near.forget),
                timeout: self.redis.options.timeout,
                heartbeat: self.heartbeat,
                bound: self.staleness_bound,
            };
            bridge.spawn(tracking::track(tracked, Arc::clone(&signals)));
            Some(signals)
        });
    }
}

impl<K, V, S: Clone, W: Clone> Clone for NearBackend<K, V, S, W> {
    /// Another handle on the same copies, tracker and Redis connection.
    fn clone(&self) -> Self {
        NearBackend {
            redis: self.redis.clone(),
            codec: self.codec.clone(),
            near: Arc::clone(&self.near),
            capacity: self.capacity,
            copies: self.copies,
            weigher: self.weigher.clone(),
            heartbeat: self.heartbeat,
            staleness_bound: self.staleness_bound,
            now_is_system_time: self.now_is_system_time,
            values: PhantomData,
        }
    }
}
