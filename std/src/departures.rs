//! Eviction listeners for the thread-safe caches.
//!
//! The memory backend tells its listener about a removal inside the operation, under
//! the shard's lock. A thread-safe cache gives the store a [`Queued`] listener instead,
//! which only records the removal; the cache hands the records to the user's listener
//! once it has released the lock. So a listener may call the cache it listens to.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::vec;

use jwm_cache_core::{NoListener, RemovalCause, RemovalListener};

/// Removals recorded under a shard's lock, waiting for the listener.
struct Departures<K, E> {
    queue: Mutex<Vec<(K, E, RemovalCause)>>,
    /// Set with every record, so that a cache call with nothing to deliver costs a load.
    pending: AtomicBool,
    /// Held by the one thread telling the listener: records reach it in the order the
    /// stores made them, and a listener that calls the cache never re-enters itself.
    /// `pending` and `telling` are `SeqCst`: a thread that records and finds `telling`
    /// taken relies on the teller seeing `pending` after letting go.
    telling: AtomicBool,
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
        departures.pending.store(true, Ordering::SeqCst);
    }
}

/// What a cache calls after releasing a lock: delivers what the stores recorded.
trait Deliver: Send + Sync {
    fn deliver(&self);
}

impl<K: Send, E: Send> Deliver for Departures<K, E> {
    fn deliver(&self) {
        while self.pending.load(Ordering::SeqCst) {
            if self.telling.swap(true, Ordering::SeqCst) {
                // The thread telling now re-checks `pending` after it lets go, so what
                // this call recorded is not left behind.
                return;
            }
            let telling = Telling(self);
            loop {
                let batch = {
                    let mut queue = lock(&self.queue);
                    self.pending.store(false, Ordering::SeqCst);
                    mem::take(&mut *queue)
                };
                if batch.is_empty() {
                    break;
                }
                let mut unsent = Unsent {
                    departures: self,
                    batch: batch.into_iter(),
                };
                for (key, value, cause) in unsent.batch.by_ref() {
                    (self.listener)(key, value, cause);
                }
            }
            drop(telling);
        }
    }
}

/// Lets go of `telling`, even if the listener panics.
struct Telling<'a, K, E>(&'a Departures<K, E>);

impl<K, E> Drop for Telling<'_, K, E> {
    fn drop(&mut self) {
        self.0.telling.store(false, Ordering::SeqCst);
    }
}

/// The rest of a batch: if the listener panics, it goes back to the head of the queue
/// for the next call to deliver, so no record is lost.
struct Unsent<'a, K, E> {
    departures: &'a Departures<K, E>,
    batch: vec::IntoIter<(K, E, RemovalCause)>,
}

impl<K, E> Drop for Unsent<'_, K, E> {
    fn drop(&mut self) {
        if self.batch.len() == 0 {
            return;
        }
        let mut queue = lock(&self.departures.queue);
        let later = mem::take(&mut *queue);
        queue.extend(self.batch.by_ref());
        queue.extend(later);
        self.departures.pending.store(true, Ordering::SeqCst);
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
///
/// Sealed: those two are the settings.
pub trait ListenerSetting<K, E>: sealed::Sealed {
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

mod sealed {
    pub trait Sealed {}
    impl Sealed for jwm_cache_core::NoListener {}
    impl<F> Sealed for super::Listener<F> {}
}

/// A function told about every entry that leaves a thread-safe cache: set with a
/// builder's `eviction_listener`. It is given the key and the value as the store holds
/// it: the value itself with the default codec, its encoded bytes with another.
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
            telling: AtomicBool::new(false),
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
