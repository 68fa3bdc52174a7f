//! `Bridge`: a runtime of its own, on which sync callers run async backends.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::mpsc::{self, Receiver, RecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime, RuntimeFlavor};

use crate::forks;

/// A tokio runtime owned by the bridge, with one worker thread, on which sync callers
/// run async backends (see [`BlockingCache`](crate::asynch::BlockingCache)).
///
/// Outside any runtime, a sync caller polls the future on its own thread with the
/// bridge's handle, whose worker drives the I/O and timers. Inside a runtime, it hands
/// the future to the bridge and blocks on a channel for its result; on a multi-thread
/// runtime's worker the wait goes through `block_in_place`, letting that runtime move
/// its other tasks elsewhere, and a current-thread runtime's one thread simply waits,
/// as for any blocking call. The future never needs the caller's runtime, so there is
/// no "cannot start a runtime from within a runtime" panic, and no deadlock unless the
/// future waits on a task of the blocked runtime (see
/// [`BlockingCache`](crate::asynch::BlockingCache)). An async
/// backend whose connections need a runtime to drive them should be created on this
/// one, with [`run`](Bridge::run).
///
/// Cloning shares the runtime; it shuts down, without blocking, when the last clone
/// goes. In a child of `fork`, which has none of the parent's threads, a bridge made
/// before the fork runs its work on the child's own process-wide bridge
/// ([`shared`](Bridge::shared)); fork while no other thread is inside the library, as
/// a lock held at the fork stays held in the child.
///
/// ```
/// use jwm_cache::Bridge;
///
/// let bridge = Bridge::new().unwrap();
/// assert_eq!(bridge.run(async { 6 * 7 }), Ok(42));
/// ```
#[derive(Clone)]
pub struct Bridge {
    handle: Handle,
    runtime: Arc<Background>,
}

/// The runtime, shut down in the background on drop: dropping a `Runtime` the usual way
/// blocks, and panics inside another runtime.
struct Background {
    /// `Option` only so that drop can take it.
    runtime: Option<Runtime>,
    /// The copy of the process it was made in (see [`forks`]).
    generation: u64,
}

impl Drop for Background {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if self.generation == forks::generation() {
            runtime.shutdown_background();
        } else {
            // A parent's runtime, in a child of `fork`: its threads, and whatever state
            // they held mid-way, are not here to shut down.
            std::mem::forget(runtime);
        }
    }
}

/// Why a call through a [`Bridge`] failed: the bridge's runtime did not finish it, or
/// (from a [`BlockingCache`](crate::asynch::BlockingCache)) the cache's own error `E`,
/// or a write found the cache's write gate busy (`Busy`). [`Bridge::run`] fails only
/// with `Stopped`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeError<E = Infallible> {
    /// The cache's own error.
    Cache(E),
    /// The bridge's runtime stopped before the call finished, or the call panicked there.
    Stopped,
    /// A write (`insert`, `remove`, `clear`) called on a current-thread runtime's thread
    /// found the cache's write gate held this long, perhaps by a task of that very
    /// runtime, which the blocked thread cannot run: it gave up rather than wait for
    /// ever. Nothing was written.
    Busy(Duration),
}

impl<E: fmt::Display> fmt::Display for BridgeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Cache(e) => e.fmt(f),
            BridgeError::Stopped => f.write_str("the bridge's runtime did not finish the call"),
            BridgeError::Busy(waited) => write!(
                f,
                "the cache's write gate stayed held for {waited:?} while this thread blocked its runtime"
            ),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BridgeError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BridgeError::Cache(e) => Some(e),
            BridgeError::Stopped | BridgeError::Busy(_) => None,
        }
    }
}

impl Bridge {
    /// Starts a bridge with its own runtime (one worker thread, timers and I/O on).
    pub fn new() -> io::Result<Self> {
        let generation = forks::generation();
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("jwm-cache-bridge")
            .enable_all()
            .build()?;
        Ok(Bridge {
            handle: runtime.handle().clone(),
            runtime: Arc::new(Background {
                runtime: Some(runtime),
                generation,
            }),
        })
    }

    /// The process-wide bridge, started on first use (in a child of `fork`, on its
    /// first use there).
    pub fn shared() -> io::Result<Self> {
        static SHARED: Mutex<Option<Bridge>> = Mutex::new(None);
        let current = |shared: &Option<Bridge>| {
            shared
                .as_ref()
                .filter(|bridge| !bridge.made_before_a_fork())
                .cloned()
        };
        if let Some(bridge) = current(&SHARED.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(bridge);
        }
        // Made outside the lock: a thread that forks while another holds it would leave
        // the child's first call waiting for ever.
        let made = Bridge::new()?;
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have made one meanwhile: the first stays.
        Ok(current(&shared).unwrap_or_else(|| {
            *shared = Some(made.clone());
            made
        }))
    }

    /// Runs `task` on the process-wide bridge's runtime: work no caller waits for must
    /// not end with the caller's runtime (one made per call, say). If no bridge can
    /// start, on the caller's runtime; without one either, not at all.
    pub(crate) fn in_background(task: impl Future<Output = ()> + Send + 'static) {
        match Bridge::shared() {
            Ok(bridge) => bridge.spawn(task),
            Err(_) => {
                if let Ok(handle) = Handle::try_current() {
                    drop(handle.spawn(task));
                }
            }
        }
    }

    /// Whether this process is a child of `fork` and the bridge its parent's, whose
    /// worker thread is not here.
    fn made_before_a_fork(&self) -> bool {
        self.runtime.generation != forks::generation()
    }

    /// Runs `future` with the bridge's runtime and blocks this thread until it is done.
    ///
    /// Outside any runtime, this thread polls the future itself while the bridge's
    /// worker drives its I/O and timers: no hand-off for work that is ready at once.
    /// Inside a runtime, where that is not allowed, the future is spawned on the bridge.
    /// Safe to call from anywhere except from a task of the bridge's own runtime.
    pub fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, BridgeError> {
        if self.made_before_a_fork() {
            let here = Bridge::shared().map_err(|_| BridgeError::Stopped)?;
            return here.run(future);
        }
        if Handle::try_current().is_err() {
            let polled = panic::catch_unwind(AssertUnwindSafe(|| self.poll_here(future)));
            return polled.map_err(|_| BridgeError::Stopped);
        }
        let (done, result) = mpsc::sync_channel(1);
        self.spawn(async move {
            // The caller may have gone; nothing is owed to it then.
            let _ = done.send(future.await);
        });
        wait(&result).map_err(|RecvError| BridgeError::Stopped)
    }

    /// Runs `future` on this thread, outside any runtime: polled once in the bridge's
    /// context first, so that one ready at once (an in-memory hit) costs no
    /// `block_on`; if it is not, `block_on` polls it on, with a waker that works.
    fn poll_here<T>(&self, future: impl Future<Output = T>) -> T {
        let mut future = pin!(future);
        let first = {
            let _context = self.handle.enter();
            future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
        };
        match first {
            Poll::Ready(value) => value,
            Poll::Pending => self.handle.block_on(future),
        }
    }

    /// Runs `future` on the bridge's runtime, not waiting for it. In a child of `fork`,
    /// on the child's own bridge; if none can start there, the future is dropped.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        if !self.made_before_a_fork() {
            drop(self.handle.spawn(future));
        } else if let Ok(here) = Bridge::shared() {
            drop(here.handle.spawn(future));
        }
    }
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridge").finish_non_exhaustive()
    }
}

/// Blocks this thread on `channel`. On a multi-thread runtime's worker, the runtime is
/// told first, so that it moves its other tasks to other threads meanwhile.
pub(crate) fn wait<T>(channel: &Receiver<T>) -> Result<T, RecvError> {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => {
            // `block_in_place` refuses (panics, before running anything) on a thread
            // that is not the runtime's own, e.g. one that merely entered its handle.
            let told = panic::catch_unwind(AssertUnwindSafe(|| {
                tokio::task::block_in_place(|| channel.recv())
            }));
            told.unwrap_or_else(|_| channel.recv())
        }
        _ => channel.recv(),
    }
}

/// Whether this thread runs a current-thread runtime, which a blocking call stalls.
pub(crate) fn on_current_thread_runtime() -> bool {
    matches!(
        Handle::try_current().map(|h| h.runtime_flavor()),
        Ok(RuntimeFlavor::CurrentThread)
    )
}
