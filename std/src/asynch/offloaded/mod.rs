//! `Offloaded`: a sync backend that blocks on I/O, run on tokio's blocking pool.

mod backend;
mod drainer;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jwm_cache_core::{Backend, Reclaimed, Ttl};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use drainer::Drainer;

/// A sync [`Backend`] that blocks on I/O, made an
/// [`AsyncBackend`](crate::asynch::AsyncBackend): operations run on tokio's blocking
/// pool (`spawn_blocking`), so no executor thread ever waits on the backend's I/O.
/// They run one at a time, in the order they were called, even when a caller stops
/// waiting for one: a store whose caller was cancelled cannot land after
/// a later `remove` of its key. Each runs on the blocking pool of the runtime it was
/// called on, so a runtime that shuts down waits for no other runtime's operations.
///
/// An in-memory backend does not need this; [`Sharded`](crate::asynch::Sharded) runs it inline.
///
/// Without a [`timeout`](Self::timeout), a caller waits for its operation however long
/// the backend blocks, and behind every operation called before it. With one, each
/// operation answers within it ([`OffloadError::Timeout`]), and a memoized call over the
/// backend spends at most that long on it in all (its [`call_budget`]), then computes
/// its value: a stalled backend costs each call the timeout once. A lookup whose caller
/// stopped waiting is skipped when its turn comes; a store or removal still runs, in
/// its turn. Once the operation running has taken longer than the timeout, lookups and
/// stores fail at once, without queueing, until it returns (removals still queue).
///
/// [`call_budget`]: crate::asynch::AsyncBackend::call_budget
///
/// ```
/// use std::time::Duration;
/// use jwm_cache::backend::{AsyncBackend, AsyncLookup, Offloaded};
/// use jwm_cache::{Ttl, memory::MemoryBackend, time::Instant};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Offloaded::new(MemoryBackend::<u32, u32>::new()).timeout(Duration::from_millis(50));
/// store.set(1, 10, Ttl::NEVER.deadline_from(Instant::ZERO), Instant::ZERO).await.unwrap();
/// assert_eq!(store.get(&1, Instant::ZERO).await.unwrap(), Some(10));
/// # });
/// ```
pub struct Offloaded<B> {
    shared: Arc<Queued<B>>,
    /// How long a caller waits for an operation, if bounded.
    timeout: Option<Duration>,
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
    /// When the operation running now began, if one is.
    running_since: Option<std::time::Instant>,
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
    /// The operation did not answer within the [`Offloaded::timeout`] (or what was left
    /// of a call's budget for a store). It may still run, in its turn.
    Timeout(Duration),
}

impl<E: fmt::Display> fmt::Display for OffloadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OffloadError::Backend(e) => write!(f, "{e}"),
            OffloadError::Panicked => f.write_str("the backend panicked"),
            OffloadError::NoRuntime => f.write_str("no tokio runtime to run the backend on"),
            OffloadError::Timeout(limit) => {
                write!(f, "the backend did not answer within {limit:?}")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for OffloadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OffloadError::Backend(e) => Some(e),
            OffloadError::Panicked | OffloadError::NoRuntime | OffloadError::Timeout(_) => None,
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
            timeout: None,
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
                    running_since: None,
                }),
            }),
        }
    }

    /// Bounds how long a caller waits for each operation, and a memoized call's time
    /// on the backend (see the type's docs). Operations then need a tokio runtime with
    /// time enabled, as Redis's do. A zero timeout waits for nothing: stores are not
    /// sent and lookups time out at once, while removals and clears still run.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Queues `op` behind the operations called before it, at once (not when the
    /// future is first polled), and answers when it has run, or with a timeout past
    /// `within`. A lookup whose caller stopped waiting is skipped in its turn; a lookup
    /// or a store called while the backend is stalled is not queued (see
    /// [`Queue::stalled`]), nor a store with no time left, as Redis sends nothing then.
    fn run<T, E, K, En>(
        &self,
        within: Option<Duration>,
        kind: Kind,
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
        let job = Box::new(move |backend: &mut B| {
            if kind == Kind::Lookup && answer.is_closed() {
                return;
            }
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
        });
        let submitted = if kind == Kind::Store && within.is_some_and(|left| left.is_zero()) {
            Submitted::Refused
        } else {
            self.submit(job, kind)
        };
        async move {
            match submitted {
                Submitted::Queued => {}
                Submitted::Refused => {
                    return Err(OffloadError::Timeout(within.unwrap_or_default()));
                }
                Submitted::NoRuntime => return Err(OffloadError::NoRuntime),
            }
            let answered = match within {
                Some(within) => match tokio::time::timeout(within, answered).await {
                    Ok(answered) => answered,
                    Err(_) => return Err(OffloadError::Timeout(within)),
                },
                None => answered.await,
            };
            match answered {
                Ok(Ok(result)) => result.map_err(OffloadError::Backend),
                Ok(Err(())) => Err(OffloadError::Panicked),
                // Dropped unrun: the runtime shut down first.
                Err(_) => Err(OffloadError::NoRuntime),
            }
        }
    }

    /// Queues `run`, and starts a blocking task to run the queue if none is; refused if
    /// the backend is stalled and `kind` need not wait for it.
    fn submit(&self, run: Box<dyn FnOnce(&mut B) + Send>, kind: Kind) -> Submitted
    where
        B: Send + 'static,
    {
        let Ok(runtime) = Handle::try_current() else {
            return Submitted::NoRuntime;
        };
        let mut queue = lock(&self.shared.queue);
        if kind != Kind::Removal && queue.stalled(self.timeout) {
            return Submitted::Refused;
        }
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
        Submitted::Queued
    }
}

impl<B> Queue<B> {
    /// Whether the operation running now has run for longer than `timeout`: then every
    /// caller queued behind it times out, so a lookup or a store fails at once instead,
    /// and the queue does not grow for as long as the stall lasts (a removal still
    /// queues, so that it is not lost).
    fn stalled(&self, timeout: Option<Duration>) -> bool {
        match (timeout, self.running_since) {
            (Some(timeout), Some(since)) => since.elapsed() >= timeout,
            _ => false,
        }
    }
}

/// What became of an operation called.
enum Submitted {
    Queued,
    /// Not queued: no time left for a store, or the backend is stalled.
    Refused,
    NoRuntime,
}

/// What an operation does, which decides what may be left unrun.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads: skipped once its caller is gone, refused while the backend is stalled.
    Lookup,
    /// Stores: refused while stalled or with no time left (as a store that never
    /// landed), never skipped once queued, so that it keeps its place before a removal.
    Store,
    /// Removals and clears: always queued and run, so that none is lost.
    Removal,
}

fn lock<T>(inner: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking operation is reported as `Panicked`; the backend stays usable.
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}
