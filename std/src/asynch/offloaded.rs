//! `Offloaded`: a sync backend that blocks on I/O, run on tokio's blocking pool.

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, Reclaimed};
use tokio::runtime::Handle;

use super::backend::{AsyncBackend, AsyncLookup};

/// A sync [`Backend`] that blocks on I/O, made an [`AsyncBackend`]: each operation runs
/// on tokio's blocking pool (`spawn_blocking`), so no executor thread ever waits on the
/// backend's I/O. The backend sits behind one lock; wrap a pool of connections in it
/// for parallel I/O.
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
    inner: Arc<Mutex<B>>,
    capacity: Option<usize>,
    /// The backend's reclaim counts after its last operation: reading them must not
    /// wait behind an operation's I/O.
    reclaimed: Arc<Mutex<Reclaimed>>,
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
            reclaimed: Arc::new(Mutex::new(backend.reclaimed())),
            inner: Arc::new(Mutex::new(backend)),
        }
    }

    /// Runs `op` on the blocking pool of the runtime driving this call.
    fn run<T, E, K, En>(
        &self,
        op: impl FnOnce(&mut B) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, OffloadError<E>>> + Send + 'static
    where
        B: Backend<K, En> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (inner, reclaimed) = (Arc::clone(&self.inner), Arc::clone(&self.reclaimed));
        let spawned = Handle::try_current().map(|runtime| {
            runtime.spawn_blocking(move || {
                let mut backend = lock(&inner);
                let result = op(&mut backend);
                *lock(&reclaimed) = backend.reclaimed();
                result
            })
        });
        async move {
            match spawned {
                Ok(task) => match task.await {
                    Ok(result) => result.map_err(OffloadError::Backend),
                    Err(join) if join.is_panic() => Err(OffloadError::Panicked),
                    Err(_) => Err(OffloadError::NoRuntime),
                },
                Err(_) => Err(OffloadError::NoRuntime),
            }
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

    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        self.run(move |b| b.len(now))
    }

    fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// The backend's counts as of its last completed operation.
    fn reclaimed(&self) -> Reclaimed {
        *lock(&self.reclaimed)
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
