//! `BlockingCache`: sync calls over an async cache, through a [`Bridge`].

use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::mpsc;

use jwm_cache_core::{CacheInfo, Clock, Found, Instant, Parameters, Serializer, Ttl};
use tokio::sync::oneshot;

use super::backend::AsyncLookup;
use super::bridge::{self, Bridge, BridgeError};
use super::cache::{AsyncCache, AsyncCacheError, Storing};
use crate::controls::CacheControls;
use crate::flight::{Caller, ErrorSharing, Failure, Joiner, Shared, Unshared};

/// A sync face for an [`AsyncCache`]: sync functions over an async backend.
///
/// Every backend operation runs on the [`Bridge`]'s runtime while the calling thread
/// blocks, so calls work outside any runtime and inside multi-thread and current-thread
/// runtimes alike. The computation of
/// [`get_or_insert_with`](BlockingCache::get_or_insert_with) runs on the calling
/// thread (it need not be `Send`), and takes part in the async cache's single-flight:
/// sync callers and async tasks on the same cache wait for one another's computations.
///
/// A call on a current-thread runtime's thread blocks that runtime, so it must not wait
/// on its tasks: single-flight sees to that, and a write (`insert`, `remove`, `clear`)
/// waits for the cache's write gate, which a task of that runtime may hold across a
/// store, at most [`GATE_WAIT`](Self::GATE_WAIT) (or four times the backend's call
/// budget, if longer), then fails with [`BridgeError::Busy`], writing nothing. A miss's
/// store waits for the gate within the call's budget, where the backend has one; over
/// a backend without one whose stores still wait on that runtime (`Offloaded` without
/// a timeout), a sync call there may wait for ever behind such a task: do not share
/// such a cache between that runtime's tasks and sync calls on its thread.
///
/// ```
/// use std::sync::Arc;
/// use jwm_cache::{AsyncCache, BlockingCache, Bridge};
///
/// let cache = Arc::new(AsyncCache::<u32, String>::new());
/// let blocking = BlockingCache::new(Arc::clone(&cache), Bridge::shared().unwrap());
/// assert_eq!(blocking.get_or_insert_with(1, || "one".to_string()), "one");
/// assert_eq!(blocking.get(&1).unwrap().as_deref(), Some("one"));
/// assert_eq!(blocking.info().hits, 1);
/// ```
pub struct BlockingCache<K, V, B, S, C> {
    pub(super) cache: Arc<AsyncCache<K, V, B, S, C>>,
    pub(super) bridge: Bridge,
}

/// Where the calling thread is in a bridged call.
enum Step<F, V, E> {
    Pending(F),
    Ran(Result<V, E>),
}

/// What the bridge's task tells the calling thread.
enum Message<V, E> {
    /// Run the computation and reply with its result (an error not shared comes back
    /// as `Abandoned`).
    Compute(oneshot::Sender<Result<V, Failure<E>>>),
    /// The call's outcome: a value, a (maybe shared) error, or `Abandoned` if this
    /// caller's own computation panicked.
    Done(Result<V, Failure<E>>),
}

impl<K, V, B, S, C> BlockingCache<K, V, B, S, C> {
    /// Sync calls over `cache`, run on `bridge`. The backend's futures must not need
    /// a runtime the caller may block (create a connection-driven backend on the
    /// bridge, with [`Bridge::run`]).
    pub fn new(cache: Arc<AsyncCache<K, V, B, S, C>>, bridge: Bridge) -> Self {
        BlockingCache { cache, bridge }
    }

    /// The async cache, to share it with async code.
    pub fn cache(&self) -> &Arc<AsyncCache<K, V, B, S, C>> {
        &self.cache
    }

    /// The TTL of entries stored without one.
    pub fn ttl(&self) -> Ttl {
        self.cache.ttl()
    }

    /// How old an entry must be for a memoized hit to refresh it, if ever.
    pub fn refresh_after(&self) -> Option<Ttl> {
        self.cache.refresh_after()
    }
}

impl<K, V, B, S, C> Clone for BlockingCache<K, V, B, S, C> {
    /// Another handle on the same cache and bridge.
    fn clone(&self) -> Self {
        BlockingCache {
            cache: Arc::clone(&self.cache),
            bridge: self.bridge.clone(),
        }
    }
}

/// What a [`BlockingCache`] operation returns.
pub(super) type BridgeResult<T, K, V, B, S> = Result<T, BridgeError<AsyncCacheError<K, V, B, S>>>;

impl<K, V, B, S, C> BlockingCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Send + Sync + 'static,
    B: AsyncLookup<K, K, S::Encoded> + 'static,
    B::Error: 'static,
    S::Encoded: Send,
    S::Error: Send,
    C: Clock + Send + Sync + 'static,
{
    /// The value under `key`, which may be any borrowed form of the key type, as for
    /// [`AsyncCache::get`]. The key crosses to the bridge's runtime in its owned form.
    pub fn get<Q>(&self, key: &Q) -> BridgeResult<Option<V>, K, V, B, S>
    where
        K: Borrow<Q>,
        Q: ToOwned + Sync + ?Sized + 'static,
        Q::Owned: Send + 'static,
        B: AsyncLookup<K, Q, S::Encoded>,
    {
        let key = key.to_owned();
        self.run(|cache| async move { cache.get(key.borrow()).await })
    }

    /// Hits, misses, live size and reclaim counts. If the bridge has stopped, the
    /// counters alone, with a size of 0.
    pub fn info(&self) -> CacheInfo {
        let cache = Arc::clone(&self.cache);
        self.bridge
            .run(async move { cache.info().await })
            .unwrap_or_else(|_stopped| self.cache.info_with_size(None))
    }

    /// TTL, identifier, capacity, and the names of the backend, codec and clock.
    pub fn parameters(&self) -> Parameters {
        self.cache.parameters()
    }

    /// The stored value under `key`, or `f()`, stored and returned on a miss.
    ///
    /// Never fails: if the backend or the bridge fails, `f`'s value is still returned.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        let Ok::<_, std::convert::Infallible>(value) = self.try_get_or_insert_with(key, || Ok(f()));
        value
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a fallible `f`: an
    /// `Err` is returned to this caller and to every caller waiting on this computation
    /// (a clone each), and never cached. Wrap an error type that is not `Clone` in an
    /// `Arc`.
    pub fn try_get_or_insert_with<E: Clone + Send + 'static>(
        &self,
        key: K,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_with_ttl(key, self.cache.ttl(), f)
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with), storing the value with
    /// `ttl` instead of the cache's.
    pub fn try_get_or_insert_with_ttl<E: Clone + Send + 'static>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_as::<E, Shared>(key, ttl.into(), f)
    }

    /// [`try_get_or_insert_with_ttl`](Self::try_get_or_insert_with_ttl) for an error type
    /// that is not `Clone` (`anyhow::Error`, `io::Error`): the error is not shared, and a
    /// caller waiting on this computation computes again when it fails, one after another.
    pub fn try_get_or_insert_unshared<E: Send + 'static>(
        &self,
        key: K,
        ttl: impl Into<Ttl>,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_insert_as::<E, Unshared>(key, ttl.into(), f)
    }

    fn try_get_or_insert_as<E: Send + 'static, X: ErrorSharing<E> + 'static>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.try_get_or_refresh_as::<E, X>(key, ttl, f, |_| ())
    }

    /// [`try_get_or_insert_as`](Self::try_get_or_insert_as), calling `refresh` with the
    /// key on a hit due for a refresh (`refresh_after`). With
    /// `stale_if_error`, a failed computation returns the stale value found, if any.
    pub(super) fn try_get_or_refresh_as<E: Send + 'static, X: ErrorSharing<E> + 'static>(
        &self,
        key: K,
        ttl: Ttl,
        f: impl FnOnce() -> Result<V, E>,
        refresh: impl FnOnce(K),
    ) -> Result<V, E> {
        // A hit needs no more than a lookup.
        let now = self.cache.clock().now();
        let mut storing = Storing::new(self.cache.backend(), ttl);
        let stale = match self.look_up(&key, now, &mut storing) {
            Ok(Found::Hit(value)) => return Ok(value),
            Ok(Found::RefreshDue(value)) => {
                refresh(key);
                return Ok(value);
            }
            Ok(Found::Stale(fallback)) => Some(fallback),
            Ok(Found::Absent) => None,
            Err(_stopped) => return f(),
        };
        // On a miss the protocol runs on the bridge, and when this caller must compute,
        // the task asks for the value and this thread runs `f` itself: outside the
        // bridge's runtime, so `f` may start a runtime of its own.
        let from_task = self.spawn_miss::<E, X>(key, storing, now);
        self.cache
            .or_stale(serve_task::<V, E, X>(&from_task, f), stale)
    }

    /// Looks `key` up at `now` on the bridge, charging the time to `storing`. A failed
    /// lookup is a miss, counted (with the error) when the miss half of the protocol
    /// runs.
    fn look_up(
        &self,
        key: &K,
        now: Instant,
        storing: &mut Storing,
    ) -> Result<Found<V>, BridgeError> {
        if let Some(found) = self.cache.find_inline(key, storing.ttl, now) {
            return Ok(found);
        }
        let (cache, looked_up, ttl) = (Arc::clone(&self.cache), key.clone(), storing.ttl);
        storing.wait_begins();
        let found = self
            .bridge
            .run(async move { cache.find_before_flight(&looked_up, ttl, now).await });
        storing.wait_ended();
        found
    }

    /// Runs the miss half of the protocol for this caller on the bridge, in a task that
    /// asks this thread to compute when it must; returns what the task tells this thread.
    fn spawn_miss<E: Send + 'static, X: ErrorSharing<E> + 'static>(
        &self,
        key: K,
        storing: Storing,
        now: Instant,
    ) -> mpsc::Receiver<Message<V, E>> {
        let (to_caller, from_task) = mpsc::channel();
        let cache = Arc::clone(&self.cache);
        // The calling task, if any: a computation of its own asking for its key runs
        // alone. On a current-thread runtime this call blocks the one thread that a
        // leading task of that runtime needs, so it must not wait for one.
        let joiner = Joiner {
            caller: Caller::task(),
            may_wait: !bridge::on_current_thread_runtime(),
            // The computation runs on the calling thread, outside the bridge task's
            // scope: any call of this task is taken as the computation's own.
            scoped: false,
        };
        self.bridge.spawn(async move {
            let ask = to_caller.clone();
            let compute = || ask_caller(ask);
            let outcome = cache
                .compute_missing::<E, X, _>(Some(joiner), key, storing, now, compute)
                .await
                .map(|computed| computed.value);
            // The caller may have gone (its `f` panicked); nothing is owed to it then.
            let _ = to_caller.send(Message::Done(outcome));
        });
        from_task
    }

    pub(super) fn run<T, F>(
        &self,
        op: impl FnOnce(Arc<AsyncCache<K, V, B, S, C>>) -> F,
    ) -> BridgeResult<T, K, V, B, S>
    where
        F: Future<Output = Result<T, AsyncCacheError<K, V, B, S>>> + Send + 'static,
        T: Send + 'static,
    {
        match self.bridge.run(op(Arc::clone(&self.cache))) {
            Ok(result) => result.map_err(BridgeError::Cache),
            Err(_stopped) => Err(BridgeError::Stopped),
        }
    }
}

impl<K, V, B, S, C> CacheControls for BlockingCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    S: Serializer<V> + Send + Sync + 'static,
    B: AsyncLookup<K, K, S::Encoded> + 'static,
    B::Error: 'static,
    S::Encoded: Send,
    S::Error: Send,
    C: Clock + Send + Sync + 'static,
{
    fn cache_info(&self) -> CacheInfo {
        self.info()
    }

    fn cache_clear(&self) {
        let _counted = self.clear();
    }

    fn cache_parameters(&self) -> Parameters {
        self.parameters()
    }
}

/// The bridge task's computation: asks the calling thread for the value, and waits.
async fn ask_caller<V, E>(ask: mpsc::Sender<Message<V, E>>) -> Result<V, Failure<E>> {
    let (reply, value) = oneshot::channel();
    if ask.send(Message::Compute(reply)).is_err() {
        return Err(Failure::Abandoned);
    }
    // A dropped reply means `f` panicked: hand over to a waiter.
    value.await.unwrap_or(Err(Failure::Abandoned))
}

/// The calling thread's side of a miss: runs `f` if the bridge's task asks, until the
/// call's outcome comes.
fn serve_task<V: Clone, E, X: ErrorSharing<E>>(
    from_task: &mpsc::Receiver<Message<V, E>>,
    f: impl FnOnce() -> Result<V, E>,
) -> Result<V, E> {
    let mut step = Step::Pending(f);
    loop {
        match (bridge::wait(from_task), step) {
            (Ok(Message::Compute(reply)), Step::Pending(f)) => {
                step = Step::Ran(compute_for_task::<V, E, X>(f, reply));
            }
            // Defensive: the protocol's `compute` is `FnOnce`, so it asks once.
            (Ok(Message::Compute(_)), ran @ Step::Ran(_)) => step = ran,
            (Ok(Message::Done(Ok(value))), _) => return Ok(value),
            // This caller's own outcome; or the bridge failed, and `f` runs here
            // without the cache if it has not run yet.
            (Ok(Message::Done(Err(_))) | Err(mpsc::RecvError), Step::Ran(computed)) => {
                return computed;
            }
            // Another caller's computation failed: its error, shared.
            (Ok(Message::Done(Err(Failure::Error(e)))), Step::Pending(_)) => return Err(e),
            (
                Ok(Message::Done(Err(Failure::Abandoned))) | Err(mpsc::RecvError),
                Step::Pending(f),
            ) => {
                return f();
            }
        }
    }
}

/// Runs `f` for the bridge's task, which waits for a copy of its result.
fn compute_for_task<V: Clone, E, X: ErrorSharing<E>>(
    f: impl FnOnce() -> Result<V, E>,
    reply: oneshot::Sender<Result<V, Failure<E>>>,
) -> Result<V, E> {
    let computed = f();
    // An error that is not shared stays here: the task abandons.
    let handed = computed
        .as_ref()
        .map(V::clone)
        .map_err(|e| X::copy(e).map_or(Failure::Abandoned, Failure::Error));
    // If the task has gone, `Done` never comes and the caller's channel closes.
    let _ = reply.send(handed);
    computed
}
