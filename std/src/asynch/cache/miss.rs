//! The miss half of `AsyncCache`'s protocol: join the key's flight or lead it, compute,
//! store within what is left of the call's budget, and settle the flight.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use jwm_cache_core::{Clock, Counts, Instant, Serializer, Ttl};

use super::held::Held;
use super::store::Origin;
use super::{AsyncCache, AsyncCacheError};
use crate::asynch::backend::{AsyncBackend, AsyncLookup};
use crate::asynch::claim::Claim;
use crate::flight::{ErrorSharing, Failure, Flight, FlightTable, Joiner, Lead, Next, Role, Ticket};

/// A miss's value, and how storing it went (`Ok` when another caller computed it).
pub(crate) struct Computed<V, Err> {
    pub(crate) value: V,
    pub(crate) stored: Result<(), Err>,
}

impl<V, Err> Computed<V, Err> {
    pub(super) fn elsewhere(value: V) -> Self {
        Computed {
            value,
            stored: Ok(()),
        }
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C> {
    /// The write gate's read side, waited for within what is left of the call's budget
    /// if it has one (and charged to it): a `clear` walking a large keyspace holds the
    /// write side for as long as it takes, and a call must not wait that out. `None` if
    /// the budget ran out first: then the value is returned and not stored, a store
    /// missed and never a wrong one.
    pub(super) async fn gate_within(
        &self,
        storing: &mut Storing,
    ) -> Option<tokio::sync::RwLockReadGuard<'_, ()>> {
        // Free, as it nearly always is: no clock, no timer.
        if let Ok(gate) = self.writes.try_read() {
            return Some(gate);
        }
        storing.wait_begins();
        let gate = match storing.left() {
            None => Some(self.writes.read().await),
            Some(left) => tokio::time::timeout(left, self.writes.read()).await.ok(),
        };
        storing.wait_ended();
        gate
    }
}

/// How a miss's value is stored: with which TTL, and within what is left of the call's
/// time on a bounded backend (see [`AsyncBackend::call_budget`]), which its lookups, its
/// lease claim (unless it waited for another process), its wait for the write gate and
/// its store each take from. What is left after the store bounds the wait for the
/// lease's release. The computation's own time is not the backend's, so only those are
/// charged, in wall-clock time: a hit answered at once (memory, a near copy) reads no
/// clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Storing {
    pub(crate) ttl: Ttl,
    /// What is left of the call's time; `None` on an unbounded backend, which then reads
    /// no clock at all.
    left: Option<std::time::Duration>,
    /// When the wait being charged began.
    wait_began: Option<std::time::Instant>,
}

impl Storing {
    /// A call over `backend` storing with `ttl`, nothing spent yet.
    pub(crate) fn new<K, E, B: AsyncBackend<K, E>>(backend: &B, ttl: Ttl) -> Self {
        Storing {
            ttl,
            left: backend.call_budget(),
            wait_began: None,
        }
    }

    /// A wait begins (a lookup, a lease claim, for the write gate, or a store): it will be
    /// charged to the budget when it ends, unless it was not the backend's.
    pub(crate) fn wait_begins(&mut self) {
        if self.left.is_some() {
            self.wait_began = Some(std::time::Instant::now());
        }
    }

    /// The wait ended, and is not charged: it was for another's work, not the backend.
    pub(crate) fn wait_not_charged(&mut self) {
        self.wait_began = None;
    }

    /// What is left of the call's time: `None` on an unbounded backend.
    pub(crate) fn left(&self) -> Option<std::time::Duration> {
        self.left
    }

    /// Whether the waits took all of a bounded backend's budget.
    pub(crate) fn spent(&self) -> bool {
        self.left.is_some_and(|left| left.is_zero())
    }

    /// The wait ended: what it took comes off the budget.
    pub(crate) fn wait_ended(&mut self) {
        if let (Some(left), Some(began)) = (self.left, self.wait_began.take()) {
            self.left = Some(left.saturating_sub(began.elapsed()));
        }
    }
}

impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: Serializer<V> + Sync,
    B: AsyncLookup<K, K, S::Encoded>,
    C: Clock + Sync,
{
    /// The miss half of the protocol, for a caller that looked `key` up at `now` and
    /// counted it with [`Counts::deferring_miss`]: the miss is counted here. A waiter gets the leader's value or its error; a
    /// leader that was cancelled, panicked or abandoned its computation hands over.
    pub(crate) async fn compute_missing<E, X, F>(
        &self,
        joiner: Option<Joiner>,
        key: K,
        mut storing: Storing,
        mut now: Instant,
        f: impl FnOnce() -> F,
    ) -> Result<Computed<V, AsyncCacheError<K, V, B, S>>, Failure<E>>
    where
        X: ErrorSharing<E>,
        F: Future<Output = Result<V, Failure<E>>>,
    {
        let joiner = joiner.unwrap_or_else(Joiner::task);
        let role = self.join_or_lead(&key, joiner);
        // The lookup counted no miss: it is counted here, once, as what it turned into.
        self.counts
            .add(Counts::missed(matches!(role, Role::Wait(_))));
        let mut next = Next::joined(role);
        let mut lead = loop {
            next = match next {
                Next::Serve(result) => {
                    return result.map(Computed::elsewhere).map_err(Failure::Error);
                }
                Next::Compute(leading) => {
                    break leading.map(|(flight, key)| Lead::new(self, flight, key));
                }
                Next::Wait(flight) => Next::settled(flight.settled::<E, X>().await),
                Next::LookAgain => {
                    now = self.clock.now();
                    storing.wait_begins();
                    // Within what is left of the call's budget: past it, a miss, computed
                    // here (and not stored, as nothing is left for that either).
                    let found = match storing.left() {
                        Some(left) => tokio::time::timeout(left, self.read(&key, now)).await.ok(),
                        None => Some(self.read(&key, now).await),
                    };
                    storing.wait_ended();
                    // A second look: the miss is this call's lookup, counted already.
                    if let Some(found) = &found {
                        self.count_outcome(found);
                    }
                    let found = found.and_then(|found| found.ok().flatten());
                    Next::looked(found, || self.join_or_lead(&key, joiner))
                }
            };
        };
        // Alone, the computation is counted, so that a write of the key meanwhile keeps
        // its value out as it keeps out a detached flight's.
        let alone = lead.is_none().then(|| Alone::begin(self, &key));
        // The leader asks a backend shared across processes for the key's lease: another
        // process may be computing it already, and hand its value over. Not if the
        // lookups spent the call's budget: the backend did not answer in time, and a
        // claim would wait as long again before the computation could begin.
        let mut held = Held::<K, _, _>::new(&self.backend, None);
        // A lease the value is stored under that this process does not hold: another
        // process's, which it waited for until the wait ran out, or its own, given back
        // before the computation. A store under it lands only while it still holds.
        let mut fence_only = None;
        if let Some(leading) = &lead
            && !storing.spent()
        {
            // Charged to the budget, as a lookup is, unless the claim waited for another
            // process's lease, as a flight's waiter waits: then this process computes
            // and stores as usual. Nor is a value found (returned at once; one that does
            // not decode is computed and stored as after a wait).
            storing.wait_begins();
            let claimed = self.backend.claim(&key, now, storing.left()).await;
            match claimed {
                Claim::Compute(_) | Claim::Failed => storing.wait_ended(),
                _ => storing.wait_not_charged(),
            }
            match claimed {
                // The claim took the rest of the budget, so the store has none (Redis then
                // sends nothing): the lease is given back at once, so that others need not
                // wait for this computation, and stays the fence for a backend that sends
                // a store anyway (one under a lease given back is refused).
                Claim::Compute(Some(granted)) if storing.spent() => {
                    fence_only = Some(granted.clone());
                    self.backend.release_in_background(granted);
                }
                Claim::Compute(granted) | Claim::ComputeAfterWait(granted) => {
                    held.lease = granted;
                }
                Claim::Outwaited(theirs) => fence_only = Some(theirs),
                // The backend failed to answer: an error, as a lookup's failure is.
                Claim::Failed => self.counts.add(Counts {
                    errors: 1,
                    ..Counts::default()
                }),
                Claim::Found(encoded) => {
                    let found = self.policy.read_owned::<V, B::Error>(Ok(Some(encoded)));
                    self.count_outcome(&found);
                    if let Ok(Some(value)) = found {
                        FlightTable::withdraw(self, &leading.key, &leading.flight);
                        if let Some(lead) = lead {
                            lead.settle(&value);
                        }
                        return Ok(Computed::elsewhere(value));
                    }
                }
            }
        }
        #[cfg(feature = "metrics")]
        let computing = std::time::Instant::now();
        // In the flight's scope: a call of this task for the key from inside the
        // computation runs alone, and one from beside it waits.
        let computed = match (&lead, joiner.scoped) {
            (Some(lead), true) => {
                let scoped = crate::flight::computing(lead.flight.id(), f());
                held.keeping(scoped).await
            }
            _ => held.keeping(f()).await,
        };
        #[cfg(feature = "metrics")]
        crate::metrics::computation_took(self.policy.identifier(), computing.elapsed());
        let value = match computed {
            Ok(value) => value,
            Err(failure) => {
                // Dropped unsettled, an abandoned lead hands over to a waiter.
                if let (Failure::Error(e), Some(lead)) = (&failure, lead) {
                    lead.fail::<E, X>(e);
                }
                // Given back at once, so that another process may compute instead; after
                // this process's waiters have the error, so they neither wait for the
                // round trip nor, if this call is dropped during it, compute again.
                held.give_back_within(storing.left()).await;
                return Err(failure);
            }
        };
        // Settled first: waiters, and callers that join while this call waits for the
        // gate and stores, get the value at once rather than wait (for a `clear` that
        // holds the gate, a stalled server's timeout), and none computes again if this
        // call is dropped meanwhile. Withdrawn after the store, so that none of them
        // misses meanwhile. A `clear` or `remove` detaches the flight under the gate:
        // no caller after it joins.
        if let Some(lead) = &mut lead {
            lead.settle_registered(&value);
        }
        // The lease is kept while the store waits for the gate and is sent too: a lease
        // that ran out meanwhile would refuse it.
        let fence = held.lease.as_ref().or(fence_only.as_ref());
        let stored = held.keeping(async {
            // Checked and stored under the gate, so a `clear` or `remove` that withdraws
            // the flight cannot land between the check and the store.
            let gate = self.gate_within(&mut storing).await;
            // A computation slower than the TTL: its value, stored, would expire at once.
            // Asked first, so that such a value withdraws no refresh (`solo_may_store`).
            let expired = || {
                let idle = self.backend.time_to_idle();
                self.policy
                    .expired_on_arrival(storing.ttl, idle, now, self.clock.now())
            };
            let ours = gate.is_some()
                && !expired()
                && match (&lead, &alone) {
                    (Some(lead), _) => self.flights().is_current(&lead.key, &lead.flight),
                    (None, Some(alone)) => self.flights().solo_may_store(&key, &alone.ticket),
                    (None, None) => true,
                };
            // A zero TTL stores nothing, and the lookup found no live entry to remove: a
            // removal would be one more round trip on the call's time.
            if !ours || storing.ttl.is_zero() {
                return Ok(());
            }
            let origin = Origin::Computed(fence);
            // Charged: what is left after it bounds the wait for the release.
            storing.wait_begins();
            let stored = self.store(key, storing, now, origin, |c| c.encode(&value));
            let stored = stored.await;
            storing.wait_ended();
            stored
        });
        let stored = stored.await;
        if let Some(lead) = lead {
            lead.withdraw();
        }
        // After the store, so that a process waiting for the lease finds the value; after
        // the settling, so that this process's waiters do not wait for the round trip. A
        // caller of the key arriving in between leads anew, and waits for this lease like
        // another process's: only when the store was skipped or failed, and only latency.
        // Not waited for after a failed store: the server may be the trouble, and the
        // call has spent its time. Nor past the call's budget (the store's time came off
        // it): what is left of the release goes on in the background.
        match &stored {
            Ok(()) => held.give_back_within(storing.left()).await,
            Err(_) => drop(held),
        }
        Ok(Computed { value, stored })
    }

    fn join_or_lead(&self, key: &K, joiner: Joiner) -> Role<K, V> {
        if !self.single_flight {
            return Role::Solo;
        }
        self.flights().join_or_lead(key, joiner)
    }
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> FlightTable<K, V> for AsyncCache<K, V, B, S, C> {
    fn withdraw(&self, key: &K, flight: &Arc<Flight<V>>) {
        self.flights().withdraw(key, flight);
    }
}

/// A computation outside any flight, registered while it runs, however it ends (see
/// `Flights::begin_solo`).
struct Alone<'a, K: Hash + Eq + Clone, V: Clone, B, S, C> {
    cache: &'a AsyncCache<K, V, B, S, C>,
    key: K,
    ticket: Ticket<V>,
}

impl<'a, K: Hash + Eq + Clone, V: Clone, B, S, C> Alone<'a, K, V, B, S, C> {
    fn begin(cache: &'a AsyncCache<K, V, B, S, C>, key: &K) -> Self {
        // Cloned first: a panicking `clone` leaves nothing registered.
        let key = key.clone();
        let ticket = cache.flights().begin_solo(&key);
        Alone { cache, key, ticket }
    }
}

impl<K: Hash + Eq + Clone, V: Clone, B, S, C> Drop for Alone<'_, K, V, B, S, C> {
    fn drop(&mut self) {
        self.cache.flights().end_solo(&self.key);
    }
}
