//! A lease this process holds while it computes a key (a miss's leader, or a refresh):
//! kept while the computation runs, and given back however the computation ends.

use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::pin;
use std::task::Poll;

use crate::asynch::backend::AsyncBackend;
use crate::asynch::claim::Lease;

/// The key's lease while this process computes it: given back after the store or on a
/// failure, and also, in the background, when the computation panics, its caller's
/// future is dropped, or its store failed. A lease that cannot be given back (the
/// process died, or no runtime can run the release) ends by itself.
pub(crate) struct Held<'a, K, E, B: AsyncBackend<K, E>> {
    backend: &'a B,
    pub(crate) lease: Option<Lease>,
    entries: PhantomData<fn(K) -> E>,
}

impl<'a, K, E, B: AsyncBackend<K, E>> Held<'a, K, E, B> {
    pub(crate) fn new(backend: &'a B, lease: Option<Lease>) -> Self {
        Held {
            backend,
            lease,
            entries: PhantomData,
        }
    }
}

impl<K, E, B: AsyncBackend<K, E>> Held<'_, K, E, B> {
    /// `work`, with the lease kept while it runs (see [`AsyncBackend::keep_lease`]).
    pub(crate) async fn keeping<T>(&self, work: impl Future<Output = T>) -> T {
        match &self.lease {
            Some(lease) => polled_beside(work, self.backend.keep_lease(lease)).await,
            None => work.await,
        }
    }

    /// Kept until the release ends: dropped during it (its caller's timeout), the
    /// lease is given back in the background. A second compare-and-delete is harmless.
    pub(crate) async fn give_back(mut self) {
        if let Some(lease) = self.lease.clone() {
            self.backend.release(lease).await;
            self.lease = None;
        }
    }

    /// [`give_back`](Self::give_back), waited for at most `budget` (`None`: no bound);
    /// past it, the lease is given back in the background.
    pub(crate) async fn give_back_within(self, budget: Option<std::time::Duration>) {
        if self.lease.is_none() {
            return; // No timer for nothing to give back.
        }
        match budget {
            Some(budget) => _ = tokio::time::timeout(budget, self.give_back()).await,
            None => self.give_back().await,
        }
    }
}

impl<K, E, B: AsyncBackend<K, E>> Drop for Held<'_, K, E, B> {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            self.backend.release_in_background(lease);
        }
    }
}

/// `work`'s output, with `keep` polled beside it until `work` ends: once `keep` has
/// ended (the lease was lost), it is not polled again.
pub(crate) async fn polled_beside<T>(
    work: impl Future<Output = T>,
    keep: impl Future<Output = ()>,
) -> T {
    let mut work = pin!(work);
    let mut keep = pin!(keep);
    let mut kept = true;
    poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        if kept && keep.as_mut().poll(cx).is_ready() {
            kept = false;
        }
        Poll::Pending
    })
    .await
}
