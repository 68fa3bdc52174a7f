//! This process's copies, as the near backend reads them: one served if it may be, and
//! retired after a write of its key.

use std::borrow::Borrow;
use std::hash::Hash;
use std::time::Duration;

use jwm_cache_core::{Clock, Deadline, Entry, Instant, Weigher};

use super::NearBackend;
use crate::clock::SystemClock;

impl<K, V, S, W> NearBackend<K, V, S, W>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    W: Weigher<K, V>,
{
    /// The copy of `key` if one may be served, with its deadline as the cache reads
    /// deadlines (the stale window included).
    #[inline]
    pub(super) fn copy<Q>(&self, key: &Q, now: Instant) -> Option<Entry<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.copy_at(key, now, self.system_now(now))
    }

    /// [`copy`](Self::copy), with the staleness bound checked at `system_now`.
    #[inline]
    pub(super) fn copy_at<Q>(&self, key: &Q, now: Instant, system_now: Instant) -> Option<Entry<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let copy = self
            .near
            .memory
            .get(key, now, system_now, &self.near.epochs)?;
        Some(Entry {
            value: copy.value,
            deadline: with_window(copy.deadline, self.redis.stale_window),
        })
    }

    /// The system time, to check the staleness bound against: the cache's `now` if it
    /// is that.
    #[inline]
    pub(super) fn system_now(&self, now: Instant) -> Instant {
        if self.now_is_system_time {
            now
        } else {
            SystemClock.now()
        }
    }

    /// The stripe of the key named `name`.
    pub(super) fn stripe(&self, name: &str) -> Option<u32> {
        self.near
            .epochs
            .stripe_of(name.as_bytes(), self.redis.head())
    }

    /// After a write or removal of `key`: its copy is dropped, and any read of it in
    /// flight will not copy what it fetches.
    pub(super) fn retire<Q>(&self, key: &Q, stripe: Option<u32>)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(stripe) = stripe {
            self.near.epochs.invalidate(stripe);
        }
        self.near.memory.remove(key);
    }
}

/// Retires a key's copy when dropped: once its write or removal returns, or when the
/// caller gives it up mid-way (it may still land, and this process's own invalidation
/// could come only later).
pub(super) struct Retire<F: FnMut()>(pub(super) F);

impl<F: FnMut()> Drop for Retire<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The TTL's end of an entry whose `deadline` includes the stale `window`.
pub(super) fn ttl_end(deadline: Deadline, window: Duration) -> Deadline {
    shifted(deadline, window, u64::saturating_sub)
}

/// The deadline, stale `window` included, of an entry live until `ttl_end`.
#[inline]
pub(super) fn with_window(ttl_end: Deadline, window: Duration) -> Deadline {
    shifted(ttl_end, window, u64::saturating_add)
}

/// `deadline` moved by `window` with `by`; "never" stays never.
#[inline]
fn shifted(deadline: Deadline, window: Duration, by: fn(u64, u64) -> u64) -> Deadline {
    if deadline.is_never() || window.is_zero() {
        return deadline;
    }
    let window = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
    // Short of `u64::MAX`, which means never: a shifted deadline stays a deadline.
    let shifted = by(deadline.as_nanos(), window).min(u64::MAX - 1);
    Deadline::at(Instant::from_nanos(shifted))
}
