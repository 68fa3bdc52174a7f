//! A lease a claim may have been granted without knowing it: given back when the claim
//! ends without handing it over.

use std::sync::Arc;

use super::release::release;
use crate::asynch::{Bridge, Lease};
use crate::redis::RedisBackendError;
use crate::redis::link::{Link, is_connection_failure};

/// A lease the server may have granted a claim that has not handed it over: given back
/// in the background when dropped, on the process-wide bridge (which outlives a caller's
/// runtime made for one call). A look or take still in flight may yet take it, after a
/// release sent on another connection: that release leaves a tombstone, which refuses
/// it (see [`RELEASE`]).
pub(super) struct Unclaimed {
    link: Arc<Link>,
    pub(super) lease: Option<Lease>,
    /// The lease's length, which a tombstone left by its release lasts too.
    lease_ms: u64,
    /// Whether a look or take was sent and its answer did not come (it timed out or
    /// failed, or its caller gave up): it may still run.
    in_flight: bool,
    /// Whether an answer granted this claim the lease.
    pub(super) granted: bool,
}

impl Unclaimed {
    /// `lease`, not known to be granted yet, taken for `lease_ms`.
    pub(super) fn new(link: &Arc<Link>, lease: Lease, lease_ms: u64) -> Self {
        Unclaimed {
            link: Arc::clone(link),
            lease: Some(lease),
            lease_ms,
            in_flight: false,
            granted: false,
        }
    }

    pub(super) fn hand_over(&mut self) -> Option<Lease> {
        self.lease.take()
    }

    /// `sent`'s answer, marking it in flight until it comes, and after if it timed out
    /// or its connection failed (an error reply, or one not sent, is not).
    pub(super) async fn answered<T>(
        &mut self,
        sent: impl Future<Output = Result<T, RedisBackendError>>,
    ) -> Result<T, RedisBackendError> {
        self.in_flight = true;
        let answer = sent.await;
        self.in_flight = match &answer {
            Err(RedisBackendError::Timeout(_)) => true,
            Err(RedisBackendError::Redis(e)) => is_connection_failure(e),
            _ => false,
        };
        answer
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        if !(self.in_flight || self.granted) {
            return; // Every answer came, and none granted it.
        }
        let (link, lease_ms, tombstone) = (Arc::clone(&self.link), self.lease_ms, self.in_flight);
        Bridge::in_background(async move { release(&link, lease, lease_ms, tombstone).await });
    }
}
