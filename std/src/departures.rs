//! Eviction listeners for the thread-safe caches.
//!
//! The memory backend tells its listener about a removal inside the operation, under
//! the shard's lock. A thread-safe cache gives the store a [`Queued`] listener instead,
//! which only records the removal; the cache hands the records to the user's listener
//! once it has released the lock. So a listener may call the cache it listens to.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use jwm_cache_core::{NoListener, RemovalCause, RemovalListener};

/// Removals recorded under a shard's lock, waiting for the listener.
struct Departures<K, E> {
    queue: Mutex<Vec<(K, E, RemovalCause)>>,
    /// Set with every record, so that a cache call with nothing to deliver costs a load.
    pending: AtomicBool,
    /// Held by the one thread telling the listener: records reach it in the order the
    /// stores made them, and a listener that calls the cache never re-enters itself.
    telling: Mutex<()>,
    listener: Box<dyn Fn(K, E, RemovalCause) + Send + Sync>,
}

/// The listener part a thread-safe cache gives its memory stores: it records each
/// removal for the cache to deliver once the store's lock is released.
pub struct Queued<K, E>(Arc<Departures<K, E>>);

impl<K, E> Clone for Queued<K, E> {
    fn clone(&self) -> Self {
        Queued(Arc::clone(&self.0))
    }
}

impl<K, E> RemovalListener<K, E> for Queued<K, E> {
    fn on_removal(&mut self, key: K, value: E, cause: RemovalCause) {
        let departures = &self.0;
        lock(&departures.queue).push((key, value, cause));
        departures.pending.store(true, Ordering::Release);
    }
}

/// What a cache calls after releasing a lock: delivers what the stores recorded.
trait Deliver: Send + Sync {
    fn deliver(&self);
}

impl<K: Send, E: Send> Deliver for Departures<K, E> {
    fn deliver(&self) {
        while self.pending.load(Ordering::Acquire) {
            let _telling = match self.telling.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                // The thread telling now re-checks `pending` after it lets go, so what
                // this call recorded is not left behind.
                Err(TryLockError::WouldBlock) => return,
            };
            loop {
                let batch = {
                    let mut queue = lock(&self.queue);
                    self.pending.store(false, Ordering::Release);
                    mem::take(&mut *queue)
                };
                if batch.is_empty() {
                    break;
                }
                for (key, value, cause) in batch {
                    (self.listener)(key, value, cause);
                }
            }
        }
    }
}

/// The deliverer a cache holds, if its stores have a listener.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct Notify(Option<Arc<dyn Deliver>>);

impl Notify {
    /// Tells the listener what the stores recorded. Call it with no lock held.
    #[inline]
    pub(crate) fn deliver(&self) {
        if let Some(deliverer) = &self.0 {
            deliverer.deliver();
        }
    }
}

/// A builder's listener setting: nothing ([`NoListener`]) or a user's function
/// ([`Listener`]), made into the part each store gets and the cache's deliverer.
pub trait ListenerSetting<K, E> {
    /// The memory stores' listener part.
    type Part: RemovalListener<K, E> + Clone;

    #[doc(hidden)]
    fn into_part(self) -> (Self::Part, Notify);
}

impl<K, E> ListenerSetting<K, E> for NoListener {
    type Part = NoListener;

    fn into_part(self) -> (NoListener, Notify) {
        (NoListener, Notify::default())
    }
}

/// A function told about every entry that leaves a thread-safe cache: set with a
/// builder's `eviction_listener`.
#[derive(Clone, Copy, Debug)]
pub struct Listener<F>(pub(crate) F);

impl<K, E, F> ListenerSetting<K, E> for Listener<F>
where
    K: Send + 'static,
    E: Send + 'static,
    F: Fn(K, E, RemovalCause) + Send + Sync + 'static,
{
    type Part = Queued<K, E>;

    fn into_part(self) -> (Queued<K, E>, Notify) {
        let departures = Arc::new(Departures {
            queue: Mutex::default(),
            pending: AtomicBool::new(false),
            telling: Mutex::new(()),
            listener: Box::new(self.0),
        });
        let notify = Notify(Some(Arc::clone(&departures) as Arc<dyn Deliver>));
        (Queued(departures), notify)
    }
}

/// Only pushes and takes happen under the queue's lock, neither of which panics.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
