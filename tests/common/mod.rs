//! What the async tests share: a backend that really awaits, and a bound on hangs.
#![allow(dead_code)]

#[cfg(feature = "redis")]
pub(crate) mod black_hole;
#[cfg(feature = "redis")]
#[macro_use]
pub(crate) mod cluster_load;
#[cfg(feature = "redis")]
pub(crate) mod fencing;
pub(crate) mod gated;
#[cfg(feature = "redis")]
pub(crate) mod lookups;
#[cfg(feature = "redis")]
pub(crate) mod many_keys;
#[cfg(feature = "redis")]
pub(crate) mod near;
#[cfg(feature = "redis")]
pub(crate) mod processes;
#[cfg(feature = "redis")]
pub(crate) mod redis_cluster;
#[cfg(feature = "redis")]
pub(crate) mod redis_cluster_slots;
#[cfg(feature = "redis")]
pub(crate) mod redis_server;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Duration;

use jwm_cache::backend::{
    AsyncBackend, AsyncLookup, Backend, Claim, Deadline, Entry, Lease, Lookup, RefreshClaim,
};
use jwm_cache::{memory::MemoryBackend, time::Instant};

/// An async backend over memory that yields and sleeps before every operation, as a
/// network store would, and can be switched off.
pub(crate) struct SlowBackend<K, E> {
    store: Mutex<MemoryBackend<K, E>>,
    latency: Duration,
    write_latency: Duration,
    clear_latency: Duration,
    /// What it reports as a call's budget (see `AsyncBackend::call_budget`).
    budget: Option<Duration>,
    down: AtomicBool,
    /// With `Some`, every claim is granted a lease, whose release takes this long.
    release_latency: Option<Duration>,
    /// With `Some`, every claim waits this long and grants nothing, as one that waited
    /// out another process's lease.
    slow_claims: Option<Duration>,
    /// Every claim's round trip, which the call's budget bounds.
    claim_latency: Duration,
    /// Every claim is granted just as the call's budget ends.
    claims_take_the_budget: bool,
    /// With `Some`, every claim waits this long and fails, as one whose server does not
    /// answer.
    failing_claims: Option<Duration>,
    /// With `Some`, every refresh's claim answers that another process holds the lease,
    /// to be left alone this long.
    busy_refreshes: Option<Duration>,
    /// Refreshes' claims.
    pub(crate) refresh_claims: AtomicUsize,
    /// Leases given back.
    pub(crate) released: AtomicUsize,
    /// Leases handed to `release_in_background`.
    pub(crate) released_in_background: AtomicUsize,
    /// Operations that reached the store.
    pub(crate) ops: AtomicUsize,
    /// Stores begun, whether or not they have landed.
    pub(crate) sets_started: AtomicUsize,
    /// Clears begun, whether or not they have ended.
    pub(crate) clears_started: AtomicUsize,
}

/// A backend whose operations each take 5 ms.
pub(crate) fn slow() -> SlowBackend<u32, String> {
    SlowBackend::new(Duration::from_millis(5))
}

/// The error of a [`SlowBackend`] that is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Down;

impl fmt::Display for Down {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("backend down")
    }
}

impl<K, E> SlowBackend<K, E> {
    pub(crate) fn new(latency: Duration) -> Self {
        Self::with_write_latency(latency, latency)
    }

    /// Stores (`set`) take `write_latency`; everything else `latency`.
    pub(crate) fn with_write_latency(latency: Duration, write_latency: Duration) -> Self {
        SlowBackend {
            store: Mutex::new(MemoryBackend::new()),
            latency,
            write_latency,
            clear_latency: latency,
            budget: None,
            down: AtomicBool::new(false),
            release_latency: None,
            slow_claims: None,
            claim_latency: Duration::ZERO,
            claims_take_the_budget: false,
            failing_claims: None,
            busy_refreshes: None,
            refresh_claims: AtomicUsize::new(0),
            released: AtomicUsize::new(0),
            released_in_background: AtomicUsize::new(0),
            ops: AtomicUsize::new(0),
            sets_started: AtomicUsize::new(0),
            clears_started: AtomicUsize::new(0),
        }
    }

    /// A `clear` takes `latency`, as one walking a large keyspace would.
    pub(crate) fn with_clear_latency(mut self, latency: Duration) -> Self {
        self.clear_latency = latency;
        self
    }

    /// Grants a lease to every claim, as a backend shared across processes does; giving
    /// one back takes `latency`.
    pub(crate) fn with_lease(mut self, latency: Duration) -> Self {
        self.release_latency = Some(latency);
        self
    }

    /// Every claim waits `latency` and grants no lease, as one that waited out another
    /// process's lease.
    pub(crate) fn with_slow_claims(mut self, latency: Duration) -> Self {
        self.slow_claims = Some(latency);
        self
    }

    /// Every claim's round trip takes `latency`, and fails if the call's budget is
    /// shorter, as a slow server's does.
    pub(crate) fn with_claim_latency(mut self, latency: Duration) -> Self {
        self.claim_latency = latency;
        self
    }

    /// Every claim is granted its lease just as the call's budget ends.
    pub(crate) fn with_claims_taking_the_budget(mut self) -> Self {
        self.claims_take_the_budget = true;
        self
    }

    /// Every claim waits `latency` and fails, as one whose server does not answer.
    pub(crate) fn with_failing_claims(mut self, latency: Duration) -> Self {
        self.failing_claims = Some(latency);
        self
    }

    /// Every refresh's claim answers that another process holds the lease, to be left
    /// alone for `backoff`.
    pub(crate) fn with_busy_refreshes(mut self, backoff: Duration) -> Self {
        self.busy_refreshes = Some(backoff);
        self
    }

    /// Reports `budget` as a call's, and fails a store that outlasts what is left of it,
    /// as a backend with a timeout does.
    pub(crate) fn with_call_budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The round trip: a yield, the latency, then the store or the failure.
    async fn io<T>(
        &self,
        latency: Duration,
        op: impl FnOnce(&mut MemoryBackend<K, E>) -> Result<T, Infallible>,
    ) -> Result<T, Down> {
        tokio::task::yield_now().await;
        tokio::time::sleep(latency).await;
        if self.down.load(Ordering::SeqCst) {
            return Err(Down);
        }
        self.ops.fetch_add(1, Ordering::SeqCst);
        let mut store = self.store.lock().unwrap();
        match op(&mut store) {
            Ok(value) => Ok(value),
        }
    }
}

impl<K, E> AsyncBackend<K, E> for SlowBackend<K, E>
where
    K: Hash + Eq + Send + Sync,
    E: Clone + Send + Sync,
{
    type Error = Down;
    const NAME: &'static str = "slow";

    fn set(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
    ) -> impl Future<Output = Result<(), Down>> + Send {
        self.sets_started.fetch_add(1, Ordering::SeqCst);
        self.io(self.write_latency, move |s| {
            s.set(key, value, deadline, now)
        })
    }

    fn set_within(
        &self,
        key: K,
        value: E,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
    ) -> impl Future<Output = Result<(), Down>> + Send {
        let set = self.set(key, value, deadline, now);
        async move { tokio::time::timeout(budget, set).await.unwrap_or(Err(Down)) }
    }

    fn clear(&self) -> impl Future<Output = Result<(), Down>> + Send {
        self.clears_started.fetch_add(1, Ordering::SeqCst);
        self.io(self.clear_latency, |s| s.clear())
    }

    fn call_budget(&self) -> Option<Duration> {
        self.budget
    }

    fn claim(
        &self,
        _: &K,
        _: Instant,
        budget: Option<Duration>,
    ) -> impl Future<Output = Claim<E>> + Send {
        let lease = self
            .release_latency
            .map(|_| Lease::new("lease".into(), "token".into()));
        let (slow, failing) = (self.slow_claims, self.failing_claims);
        let round_trip = match (self.claims_take_the_budget, budget) {
            (true, Some(budget)) => budget,
            _ => self.claim_latency,
        };
        async move {
            if let Some(latency) = failing {
                tokio::time::sleep(latency).await;
                return Claim::Failed;
            }
            if let Some(budget) = budget.filter(|budget| *budget < round_trip) {
                tokio::time::sleep(budget).await;
                return Claim::Failed;
            }
            tokio::time::sleep(round_trip).await;
            match slow {
                Some(latency) => {
                    tokio::time::sleep(latency).await;
                    Claim::ComputeAfterWait(None)
                }
                None => Claim::Compute(lease),
            }
        }
    }

    fn claim_refresh(&self, _: &K) -> impl Future<Output = RefreshClaim> + Send {
        self.refresh_claims.fetch_add(1, Ordering::SeqCst);
        std::future::ready(match self.busy_refreshes {
            Some(backoff) => RefreshClaim::Busy(backoff),
            None => RefreshClaim::Unleased,
        })
    }

    fn release(&self, _: Lease) -> impl Future<Output = ()> + Send {
        let latency = self.release_latency.unwrap_or_default();
        async move {
            tokio::time::sleep(latency).await;
            self.released.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn release_in_background(&self, _: Lease) {
        self.released_in_background.fetch_add(1, Ordering::SeqCst);
    }

    fn len(&self, now: Instant) -> impl Future<Output = Result<usize, Down>> + Send {
        self.io(self.latency, move |s| s.len(now))
    }
}

impl<K, E> AsyncLookup<K, K, E> for SlowBackend<K, E>
where
    K: Hash + Eq + Send + Sync,
    E: Clone + Send + Sync,
{
    fn get_entry(
        &self,
        key: &K,
        now: Instant,
    ) -> impl Future<Output = Result<Option<Entry<E>>, Down>> + Send {
        self.io(self.latency, move |s| {
            let entry = s.get_entry(key, now)?;
            Ok(entry.map(|entry| entry.map(E::clone)))
        })
    }

    fn remove(&self, key: &K, now: Instant) -> impl Future<Output = Result<bool, Down>> + Send {
        self.io(self.latency, move |s| s.remove(key, now))
    }
}

/// Runs `body` on its own thread and fails the test if it has not finished within
/// a generous bound: a deadlock becomes a failure instead of a stuck suite.
pub(crate) fn within<T: Send + 'static>(
    seconds: u64,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = done.send(body());
    });
    match result.recv_timeout(Duration::from_secs(seconds)) {
        Ok(value) => value,
        // The body panicked: surface its own message.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body finished without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung for {seconds} s: deadlock"),
    }
}
