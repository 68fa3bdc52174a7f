//! What a backend shared across processes answers a process about to compute a
//! missing key: compute (under the key's lease, if it grants one), or take the value
//! another process stored meanwhile.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The answer to [`AsyncBackend::claim`](crate::asynch::AsyncBackend::claim).
#[derive(Debug)]
#[non_exhaustive]
pub enum Claim<E> {
    /// Compute, answered without waiting for another process: the claim's time is
    /// charged to the call's budget, as a lookup's. With `Some`, this process holds the
    /// key's lease: it keeps it while it computes
    /// ([`keep_lease`](crate::asynch::AsyncBackend::keep_lease)), stores under it
    /// ([`set_computed`](crate::asynch::AsyncBackend::set_computed)) and gives it back
    /// ([`release`](crate::asynch::AsyncBackend::release)) once the value is stored or
    /// the computation failed; with `None`, it computes without one, unfenced (the
    /// backend leases nothing, was paused, answered what it could not read, or the key
    /// has no lease).
    Compute(Option<Lease>),
    /// [`Compute`](Self::Compute), after waiting for another process's lease: its holder
    /// gave it back without a value (with `Some`, this process holds it now), or, with
    /// `None`, any reason `Compute(None)` gives met after the wait, or the wait ran out
    /// before any holder was seen. The wait was for another's work, as a flight's
    /// waiter's is, so it is not charged to the call's budget.
    ComputeAfterWait(Option<Lease>),
    /// Compute: the wait for another process's lease ran out while that process still
    /// held it. Store only under its lease
    /// ([`set_computed`](crate::asynch::AsyncBackend::set_computed)), which this process
    /// never keeps or gives back: the value lands only while that lease still holds,
    /// so not if anybody wrote the key since this process last saw it held (a write
    /// takes the lease from its holder), nor once the holder has given it back (its
    /// value stored, or its store given up on).
    Outwaited(Lease),
    /// Compute, without a lease: the claim failed (a timeout, a failed connection, an
    /// error reply). The time it took is charged to the call's budget, so that the store
    /// after the computation does not wait on a server in trouble as long again.
    Failed,
    /// The value, stored by another process: found by the claim's first look, or
    /// while it waited for the lease. Not charged to the call's budget, as it is
    /// returned at once.
    Found(E),
}

// For the Redis backend and its near tier, which claim by look.
#[cfg(feature = "redis")]
impl<E> Claim<E> {
    /// Compute, under `lease` if any: after a wait for another process if `waited`.
    pub(crate) fn compute(waited: bool, lease: Option<Lease>) -> Self {
        if waited {
            Claim::ComputeAfterWait(lease)
        } else {
            Claim::Compute(lease)
        }
    }

    /// The same answer with a found value made into `F` by `found`, which gives `None`
    /// for one it cannot read: then compute, without a lease, after a wait if the claim
    /// `waited` (so that the wait is not charged).
    pub(crate) fn map_found<F>(self, waited: bool, found: impl FnOnce(E) -> Option<F>) -> Claim<F> {
        match self {
            Claim::Found(value) => match found(value) {
                Some(value) => Claim::Found(value),
                None => Claim::compute(waited, None),
            },
            Claim::Compute(lease) => Claim::Compute(lease),
            Claim::ComputeAfterWait(lease) => Claim::ComputeAfterWait(lease),
            Claim::Outwaited(lease) => Claim::Outwaited(lease),
            Claim::Failed => Claim::Failed,
        }
    }
}

/// The answer to
/// [`AsyncBackend::claim_refresh`](crate::asynch::AsyncBackend::claim_refresh): whether
/// and how to refresh a key whose value is still live.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshClaim {
    /// Refresh, without a lease: the backend leases nothing.
    Unleased,
    /// Refresh under this lease, kept, stored under and given back as a miss's.
    Leased(Lease),
    /// Do not refresh: another process holds the key's lease (it computes or refreshes
    /// the key, and its store will land). The live value stays, and this process
    /// starts no refresh of the key for this long from the refresh's start, on the
    /// cache's clock, so that its hits do not ask again each time (it remembers up to
    /// 4,096 such keys; past that, keys may ask once more). A backend should bound it:
    /// the key is not refreshed here until it has passed.
    Busy(core::time::Duration),
    /// Do not refresh: the backend could not tell whether another process holds the
    /// lease, and a store could not be fenced. Counted as a failed refresh.
    Failed,
}

/// The lease on one key's computation that a backend granted this process: the lease's
/// name in the store, and the token that proves the lease is still this process's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    name: String,
    token: String,
}

impl Lease {
    /// The lease `name` held with `token`.
    pub fn new(name: String, token: String) -> Self {
        Lease { name, token }
    }

    /// The lease's name in the store.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The token it was taken with.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A ready [`Claim::Compute`] without a lease: what a backend that leases nothing
/// answers, whatever its entry type (`Send` even if `E` is not).
pub struct NoLease<E>(PhantomData<fn() -> E>);

impl<E> Default for NoLease<E> {
    fn default() -> Self {
        NoLease(PhantomData)
    }
}

impl<E> Future for NoLease<E> {
    type Output = Claim<E>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Claim<E>> {
        Poll::Ready(Claim::Compute(None))
    }
}
