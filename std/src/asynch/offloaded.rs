//! `Offloaded`: a sync backend that blocks on I/O, run on tokio's blocking pool.

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};

use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, Reclaimed, Ttl};
use tokio::runtime::{self, Handle};
use tokio::sync::oneshot;

use super::backend::{AsyncBackend, AsyncLookup};

/// A sync [`Backend`] that blocks on I/O, made an [`AsyncBackend`]: operations run on
/// tokio's blocking pool (`spawn_blocking`), so no executor thread ever waits on the
/// backend's I/O. They run one at a time, in the order they were called, even when a
/// caller stops waiting for one: a store whose caller was cancelled cannot land after
/// a later `remove` of its key. Each runs on the blocking pool of the runtime it was
/// called on, so a runtime that shuts down waits for no other runtime's operations.
///
/// An in-memory backend does not need this; [`Sharded`](crate::asynch::Sharded) runs it inline.
///
/// ```
/// use jwm_cache::backend::{AsyncBackend, AsyncLookup, Offloaded};
/// use jwm_cache::{Ttl, memory::MemoryBackend, time::Instant};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Offloaded::new(MemoryBackend::<u32, u32>::new());
/// store.set(1, 10, Ttl::NEVER.deadline_from(Instant::ZERO), Instant::ZERO).await.unwrap();
/// assert_eq!(store.get(&1, Instant::ZERO).await.unwrap(), Some(10));
/// # });
/// ```
pub struct Offloaded<B> {
    shared: Arc<Queued<B>>,
    capacity: Option<usize>,
    time_to_idle: Option<Ttl>,
    /// The backend's settings, read once: reading them later would wait behind I/O.
    settings: String,
}

/// What the callers and the blocking task that runs their operations share.
struct Queued<B> {
    backend: Mutex<B>,
    queue: Mutex<Queue<B>>,
    /// The backend's reclaim counts after its last operation: reading them must not
    /// wait behind an operation's I/O.
    reclaimed: Mutex<Reclaimed>,
    /// `Backend::reclaimed`, taken where the key and value types are known.
    reclaim_counts: fn(&B) -> Reclaimed,
}

/// An operation, and the runtime it was called on.
struct Job<B> {
    /// Runs the operation and sends its result to the caller.
    run: Box<dyn FnOnce(&mut B) + Send>,
    runtime: Handle,
}

/// Operations called and not yet run, oldest first.
struct Queue<B> {
    jobs: VecDeque<Job<B>>,
    /// Whether a blocking task is running them: at most one is.
    draining: bool,
}

/// Why an [`Offloaded`] operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffloadError<E> {
    /// The backend's own error.
    Backend(E),
    /// The backend panicked; the operation did not complete.
    Panicked,
    /// No tokio runtime was running, or it was shutting down.
    NoRuntime,
}

impl<E: fmt::Display> fmt::Display for OffloadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OffloadError::Backend(e) => write!(f, "{e}"),
            OffloadError::Panicked => f.write_str("the backend panicked"),
            OffloadError::NoRuntime => f.write_str("no tokio runtime to run the backend on"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for OffloadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OffloadError::Backend(e) => Some(e),
            OffloadError::Panicked | OffloadError::NoRuntime => None,
        }
    }
}

impl<B> Offloaded<B> {
    /// Wraps `backend`.
    pub fn new<K, E>(backend: B) -> Self
    where
        B: Backend<K, E>,
    {
        Offloaded {
            capacity: backend.capacity(),
            time_to_idle: backend.time_to_idle(),
            settings: backend.settings(),
            shared: Arc::new(Queued {
                reclaimed: Mutex::new(backend.reclaimed()),
                reclaim_counts: <B as Backend<K, E>>::reclaimed,
                backend: Mutex::new(backend),
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    draining: false,
                }),
            }),
        }
    }

    /// Queues `op` behind the operations called before it, at once (not when the
    /// future is first polled), and answers when it has run.
    fn run<T, E, K, En>(
        &self,
        op: impl FnOnce(&mut B) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, OffloadError<E>>> + Send + 'static
    where
        B: Backend<K, En> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        // Weak: the job waits in the queue that `shared` owns.
        let shared = Arc::downgrade(&self.shared);
        let queued = self.submit(Box::new(move |backend| {
            // Caught here, so that the operations queued behind it still run. The
            // counts are read before the answer: a caller that reads them once
            // answered sees what its operation reclaimed.
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                let result = op(backend);
                if let Some(shared) = shared.upgrade() {
                    *lock(&shared.reclaimed) = (shared.reclaim_counts)(backend);
                }
                result
            }));
            let _ = answer.send(result.map_err(drop));
        }));
        async move {
            if !queued {
                return Err(OffloadError::NoRuntime);
            }
            match answered.await {
                Ok(Ok(result)) => result.map_err(OffloadError::Backend),
                Ok(Err(())) => Err(OffloadError::Panicked),
                // Dropped unrun: the runtime shut down first.
                Err(_) => Err(OffloadError::NoRuntime),
            }
        }
    }

    /// Queues `run`, and starts a blocking task to run the queue if none is; false
    /// without a runtime.
    fn submit(&self, run: Box<dyn FnOnce(&mut B) + Send>) -> bool
    where
        B: Send + 'static,
    {
        let Ok(runtime) = Handle::try_current() else {
            return false;
        };
        let mut queue = lock(&self.shared.queue);
        let idle = !queue.draining;
        queue.draining = true;
        queue.jobs.push_back(Job {
            run,
            runtime: runtime.clone(),
        });
        drop(queue);
        if idle {
            Drainer::start(&self.shared, &runtime);
        }
        true
    }
}

/// The blocking task that runs the queue, on one runtime's pool: until the queue is
/// empty, or its next operation was called on another runtime, whose pool a successor
/// then runs on. Bounded on the struct, as its `Drop` starts a successor.
struct Drainer<B: Send + 'static> {
    shared: Arc<Queued<B>>,
    runtime: runtime::Id,
    /// Set once it handed the queue back, or on to a successor.
    done: bool,
}

impl<B: Send + 'static> Drainer<B> {
    /// Spawns a drainer on `runtime`'s blocking pool; the queue is marked draining.
    fn start(shared: &Arc<Queued<B>>, runtime: &Handle) {
        let drainer = Drainer {
            shared: Arc::clone(shared),
            runtime: runtime.id(),
            done: false,
        };
        // On a runtime that shut down, the drainer is dropped unrun (see `Drop`).
        runtime.spawn_blocking(move || drainer.drain());
    }

    fn drain(mut self) {
        loop {
            let mut queue = lock(&self.shared.queue);
            let Some(job) = queue.jobs.pop_front() else {
                queue.draining = false;
                self.done = true;
                return;
            };
            if job.runtime.id() != self.runtime {
                let next = job.runtime.clone();
                queue.jobs.push_front(job);
                drop(queue);
                self.done = true;
                Drainer::start(&self.shared, &next);
                return;
            }
            drop(queue);
            let mut backend = lock(&self.shared.backend);
            (job.run)(&mut backend);
        }
    }
}

/// A drainer dropped unrun (its runtime shut down first): the operations called on that
/// runtime at the head of the queue are dropped, so their callers get `NoRuntime`, and
/// a successor runs the rest on their own runtime.
impl<B: Send + 'static> Drop for Drainer<B> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut dropped = Vec::new();
        let next = {
            let mut queue = lock(&self.shared.queue);
            while queue
                .jobs
                .front()
                .is_some_and(|job| job.runtime.id() == self.runtime)
            {
                dropped.extend(queue.jobs.pop_front());
            }
            let next = queue.jobs.front().map(|job| job.runtime.clone());
            queue.draining = next.is_some();
            next
        };
        // Outside the lock: a caller's channel wakes it as it drops.
        drop(dropped);
        if let Some(next) = next {
            Drainer::start(&self.shared, &next);
        }
    }
}

fn lock<T>(inner: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking operation is reported as `Panicked`; the backend stays usable.
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K, E, B> AsyncBackend<K, E> for Offloaded<B>
where
    K: Send + 'static,
    E: Clone + Send + 'static,
    B: Backend<K, E> + Send + 'static,
    B::Error: Send + 'static,
{
    type Error = OffloadError<B::Error>;
    const NAME: &'static str = B::NAME;
    const SHARED: bool = B::SEES_WHOLE_NAMESPACE;

    fn set(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.run(move |b| b.set(key, value, deadline, now))
    }

    fn clear(&self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.run(B::clear)
    }

    /// The counts are read in the clear's own turn on the backend, which no other
    /// operation shares.
    fn clear_counted(&self) -> impl Future<Output = (Reclaimed, Result<(), Self::Error>)> + Send {
        let cleared = self.run(|backend: &mut B| {
            let before = backend.reclaimed();
            backend.clear().map(|()| before)
        });
        async move {
            match cleared.await {
                Ok(restarted) => (restarted, Ok(())),
                Err(error) => (Reclaimed::default(), Err(error)),
            }
        }
    }

    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        self.run(move |b| b.len(now))
    }

    /// Passed on: a shared backend (Redis) names its namespace after it.
    fn use_identifier(&mut self, identifier: &str) {
        Backend::<K, E>::use_identifier(&mut *lock(&self.shared.backend), identifier);
    }

    /// Passed on: a shared backend (Redis) then stores the TTL's deadline.
    fn keep_stale_for(&mut self, window: Ttl) {
        Backend::<K, E>::keep_stale_for(&mut *lock(&self.shared.backend), window);
    }

    /// Passed on; the backend's time-to-idle, if any, is then off.
    fn keep_deadlines_as_written(&mut self) {
        let mut backend = lock(&self.shared.backend);
        Backend::<K, E>::keep_deadlines_as_written(&mut *backend);
        self.time_to_idle = Backend::<K, E>::time_to_idle(&*backend);
    }

    fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    fn time_to_idle(&self) -> Option<Ttl> {
        self.time_to_idle
    }

    /// The backend's counts as of its last completed operation.
    fn reclaimed(&self) -> Reclaimed {
        *lock(&self.shared.reclaimed)
    }

    fn settings(&self) -> String {
        self.settings.clone()
    }
}

/// The key goes to the blocking pool in its owned form (`Q::to_owned`): one allocation
/// next to the thread hand-off, for a backend that blocks on I/O anyway.
impl<K, Q, E, B> AsyncLookup<K, Q, E> for Offloaded<B>
where
    K: Borrow<Q> + Send + 'static,
    Q: ToOwned + Sync + ?Sized + 'static,
    Q::Owned: Send + 'static,
    E: Clone + Send + 'static,
    B: Lookup<K, Q, E> + Send + 'static,
    B::Error: Send + 'static,
{
    fn get_entry(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<E>>, Self::Error>> + Send {
        let key = key.to_owned();
        self.run(move |b| {
            let entry = Lookup::<K, Q, E>::get_entry(b, key.borrow(), now)?;
            Ok(entry.map(|entry| entry.map(E::clone)))
        })
    }

    fn remove(
        &self,
        key: &Q,
        now: Instant,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        let key = key.to_owned();
        self.run(move |b| Lookup::<K, Q, E>::remove(b, key.borrow(), now))
    }
}
