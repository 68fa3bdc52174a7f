//! [`Offloaded`](super::Offloaded) behind the async backend traits.

use std::borrow::Borrow;
use std::future::Future;
use std::time::Duration;

use jwm_cache_core::{Backend, Deadline, Entry, Instant, Lookup, Reclaimed, Ttl};

use super::{Kind, OffloadError, Offloaded, lock};
use crate::asynch::backend::{AsyncBackend, AsyncLookup};

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
        self.run(self.timeout, Kind::Store, move |b| {
            b.set(key, value, deadline, now)
        })
    }

    /// Within what is left of a call's budget, and the timeout.
    fn set_within(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let within = self.timeout.map(|timeout| timeout.min(budget));
        self.run(within, Kind::Store, move |b| {
            b.set(key, value, deadline, now)
        })
    }

    /// The timeout, if one is set.
    fn call_budget(&self) -> Option<Duration> {
        self.timeout
    }

    fn clear(&self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.run(self.timeout, Kind::Removal, B::clear)
    }

    /// The counts are read in the clear's own turn on the backend, which no other
    /// operation shares.
    fn clear_counted(&self) -> impl Future<Output = (Reclaimed, Result<(), Self::Error>)> + Send {
        let cleared = self.run(self.timeout, Kind::Removal, |backend: &mut B| {
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
        self.run(self.timeout, Kind::Lookup, move |b| b.len(now))
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

    /// The backend's, with the timeout: functions sharing an identifier agree on it.
    fn settings(&self) -> String {
        match self.timeout {
            Some(timeout) => format!("{}, timeout {timeout:?}", self.settings),
            None => self.settings.clone(),
        }
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
        self.run(self.timeout, Kind::Lookup, move |b| {
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
        self.run(self.timeout, Kind::Removal, move |b| {
            Lookup::<K, Q, E>::remove(b, key.borrow(), now)
        })
    }
}
