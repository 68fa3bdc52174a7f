//! `Sharded`: an in-memory sync backend, shared by tasks behind sharded locks.

use std::borrow::Borrow;
use std::future::{Future, ready};
use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, MemoryBackend, Reclaimed, Ttl};

use super::backend::{AsyncBackend, AsyncLookup};
use super::cache::AsyncCache;
use crate::departures::Notify;
use crate::shard_lock::{MutexGuard, ShardLock};

/// A sync [`Backend`] that never blocks (in memory), made an [`AsyncBackend`]: keys are
/// spread over shards, each a `Mutex` around one backend, and every operation runs
/// inline, holding one shard's lock for one in-memory operation. Its futures are ready
/// at once, so a hit costs no task switch.
///
/// For a sync backend that blocks on I/O, use [`Offloaded`](crate::asynch::Offloaded) instead,
/// which keeps that I/O off the executor's threads.
///
/// ```
/// use jwm_cache::backend::{AsyncBackend, Sharded};
/// use jwm_cache::{Ttl, memory::MemoryBackend, time::Instant};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Sharded::new(8, || MemoryBackend::<&str, u32>::with_capacity(1_000));
/// assert_eq!(AsyncBackend::<&str, u32>::capacity(&store), Some(8_000));
/// store.set("k", 1, Ttl::NEVER.deadline_from(Instant::ZERO), Instant::ZERO).await.unwrap();
/// assert_eq!(store.len(Instant::ZERO).await.unwrap(), 1);
/// # });
/// ```
pub struct Sharded<B> {
    shards: Box<[ShardLock<B>]>,
    router: RandomState,
    /// Tells the eviction listener, if any, what the stores recorded.
    notify: Notify,
}

impl<B> Sharded<B> {
    /// `shards` backends (rounded up to a power of two and kept within 1..=4096, as a
    /// builder's shard count is), each from `make`.
    ///
    /// ```
    /// use jwm_cache::{backend::Sharded, memory::MemoryBackend};
    ///
    /// assert_eq!(Sharded::new(3, MemoryBackend::<u8, u8>::new).shard_count(), 4);
    /// assert_eq!(Sharded::new(usize::MAX, MemoryBackend::<u8, u8>::new).shard_count(), 4096);
    /// ```
    pub fn new(shards: usize, make: impl FnMut() -> B) -> Self {
        let count = shards.clamp(1, 4096).next_power_of_two();
        Sharded {
            shards: std::iter::repeat_with(make)
                .take(count)
                .map(ShardLock::new)
                .collect(),
            router: RandomState::default(),
            notify: Notify::default(),
        }
    }

    /// The same shards, delivering their stores' removals through `notify` after each
    /// release of a shard's lock.
    pub(crate) fn notifying(mut self, notify: Notify) -> Self {
        self.notify = notify;
        self
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, B> {
        // Shard counts are powers of two. A borrowed form of a key hashes as the key
        // does (the `Borrow` contract), so it finds the same shard.
        let index = self.router.hash_one(key) as usize & (self.shards.len() - 1);
        self.shards[index].lock()
    }

    /// Runs `op` on every shard; all run even if one fails, and the first failure wins.
    fn each<T, E>(&self, mut op: impl FnMut(&mut B) -> Result<T, E>) -> Result<Vec<T>, E> {
        let results: Vec<_> = self.shards.iter().map(|s| op(&mut s.lock())).collect();
        self.notify.deliver();
        results.into_iter().collect()
    }

    /// `op` on `key`'s shard, then the removals it made, delivered with no lock held.
    fn on_shard<Q: Hash + ?Sized, T>(&self, key: &Q, op: impl FnOnce(&mut B) -> T) -> T {
        let result = op(&mut self.shard(key));
        self.notify.deliver();
        result
    }
}

impl<K, E, H, P, W, L> Sharded<MemoryBackend<K, E, H, P, W, L>> {
    /// The total weight of the entries in memory, summed over the shards (a weight of
    /// 0 counting as 1): their count without a weigher. Entries that expired but were
    /// not reclaimed yet still count.
    pub fn weighted_size(&self) -> usize {
        crate::shards::total_weight(self.shards.iter().map(|s| s.lock().weight()))
    }
}

impl<K, V, E, H, P, W, L, S, C> AsyncCache<K, V, Sharded<MemoryBackend<K, E, H, P, W, L>>, S, C> {
    /// The total weight of the entries in memory, as
    /// [`SyncCache::weighted_size`](crate::sync::SyncCache::weighted_size); read without
    /// `.await`.
    ///
    /// ```
    /// use jwm_cache::AsyncCacheBuilder;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cache = AsyncCacheBuilder::new()
    ///     .weigher(|_: &u8, value: &String| value.len())
    ///     .build::<u8, String>();
    /// cache.insert(1, "four".into()).await.unwrap();
    /// assert_eq!(cache.weighted_size(), 4);
    /// # });
    /// ```
    pub fn weighted_size(&self) -> usize {
        self.backend().weighted_size()
    }
}

impl<K, E, B> AsyncBackend<K, E> for Sharded<B>
where
    K: Hash,
    E: Clone + Send,
    B: Backend<K, E> + Send,
    B::Error: Send,
{
    type Error = B::Error;
    const NAME: &'static str = B::NAME;
    const SHARED: bool = B::SEES_WHOLE_NAMESPACE;

    fn set(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> impl Future<Output = Result<(), B::Error>> + Send {
        let mut shard = self.shard(&key);
        let stored = shard.set(key, value, deadline, now);
        drop(shard);
        self.notify.deliver();
        ready(stored)
    }

    fn clear(&self) -> impl Future<Output = Result<(), B::Error>> + Send {
        ready(self.each(B::clear).map(drop))
    }

    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, B::Error>> + Send {
        ready(self.each(|b| b.len(now)).map(|lens| lens.into_iter().sum()))
    }

    /// Passed on to every shard, as [`Offloaded`](crate::asynch::Offloaded) does.
    fn use_identifier(&mut self, identifier: &str) {
        self.shards
            .iter()
            .for_each(|s| s.lock().use_identifier(identifier));
    }

    /// Passed on to every shard.
    fn keep_stale_for(&mut self, window: Ttl) {
        self.shards
            .iter()
            .for_each(|s| s.lock().keep_stale_for(window));
    }

    /// Passed on to every shard.
    fn keep_deadlines_as_written(&mut self) {
        self.shards
            .iter()
            .for_each(|s| s.lock().keep_deadlines_as_written());
    }

    fn capacity(&self) -> Option<usize> {
        crate::shards::total_capacity(self.shards.iter().map(|s| s.lock().capacity()))
    }

    /// Every shard is built with the same setting: the first one's.
    fn time_to_idle(&self) -> Option<Ttl> {
        self.shards[0].lock().time_to_idle()
    }

    fn reclaimed(&self) -> Reclaimed {
        self.shards
            .iter()
            .fold(Reclaimed::default(), |sum, s| sum + s.lock().reclaimed())
    }

    /// Every shard is built alike: the first one's.
    fn settings(&self) -> String {
        self.shards[0].lock().settings()
    }

    /// Each shard's counts are read under the lock of its clear, so no write's reclaim
    /// falls between the reading and the restart.
    fn clear_counted(&self) -> impl Future<Output = (Reclaimed, Result<(), B::Error>)> + Send {
        let mut restarted = Reclaimed::default();
        let cleared = self.each(|shard| {
            let before = shard.reclaimed();
            shard.clear()?;
            restarted = restarted + before;
            Ok(())
        });
        ready((restarted, cleared.map(drop)))
    }
}

impl<B> Sharded<B> {
    /// The entry under `key` at `now`, cloned out of its shard.
    fn entry<K, Q, E>(&self, key: &Q, now: Instant) -> Result<Option<Entry<E>>, B::Error>
    where
        K: Borrow<Q>,
        Q: Hash + ?Sized,
        E: Clone,
        B: Lookup<K, Q, E>,
    {
        self.on_shard(key, |shard| {
            let entry = Lookup::<K, Q, E>::get_entry(shard, key, now);
            entry.map(|entry| entry.map(|entry| entry.map(E::clone)))
        })
    }
}

impl<K, Q, E, B> AsyncLookup<K, Q, E> for Sharded<B>
where
    K: Hash + Borrow<Q>,
    Q: Hash + Sync + ?Sized,
    E: Clone + Send,
    B: Lookup<K, Q, E> + Send,
    B::Error: Send,
{
    fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<E>>, B::Error>> + Send {
        ready(self.entry(key, now))
    }

    /// Always answered: the shards are in memory.
    fn get_entry_inline(
        &self,
        key: &Q,
        now: Instant,
    ) -> Option<Result<Option<Entry<E>>, B::Error>> {
        Some(self.entry(key, now))
    }

    /// A ready future, as `get_entry`'s: the hit path stays one lock and one clone.
    fn get(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<E>, B::Error>> + Send {
        ready(self.on_shard(key, |shard| {
            Lookup::<K, Q, E>::get(shard, key, now).map(Option::<&E>::cloned)
        }))
    }

    fn remove(&self, key: &Q, now: Instant) -> impl Future<Output = Result<bool, B::Error>> + Send {
        ready(self.on_shard(key, |shard| Lookup::<K, Q, E>::remove(shard, key, now)))
    }
}
