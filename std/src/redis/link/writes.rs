//! Writes that a store still in transit must not be overtaken by: stores, removals,
//! and the wait of a `clear`.

use std::future::Future;
use std::time::Duration;

use redis::{Cmd, Pipeline};

use super::connections::Lane;
use super::{Failure, Link, is_connection_failure};
use crate::redis::RedisBackendError;
use crate::redis::endpoint::Connection;
use crate::redis::in_transit::Awaited;

impl Link {
    /// Runs `command`, which unlinks `name` (and may revoke its lease), once no store of
    /// it that timed out may still land on another connection: there it could land after
    /// the removal, and outlive it. The wait and the removal share `within` (at most the
    /// timeout). How many keys it removed.
    pub(crate) async fn remove(
        &self,
        name: &str,
        command: Cmd,
        within: Duration,
    ) -> Result<usize, RedisBackendError> {
        let within = within.min(self.timeout);
        let (runtime, mut connection, serial) = self.connection_and_serial(Lane::Shared).await?;
        let awaited = [name];
        let awaited = Awaited::Names {
            names: &awaited,
            besides: Some(serial),
        };
        // On the connection checked: a store in transit on it is ordered before this.
        let operation = async move { command.query_async(&mut connection).await };
        if !self.in_transit.holds(awaited) {
            // Given only the end of its time (a revocation took the rest), a removal
            // that times out says little of the server, as a store's does.
            let failure = match within >= self.timeout / 2 {
                true => Failure::Pauses,
                false => Failure::Alone,
            };
            return (self.bounded(runtime.id(), operation, within, failure)).await;
        }
        self.not_paused().await?;
        let began = tokio::time::Instant::now();
        let landed = tokio::time::timeout(within, self.until_landed(awaited)).await;
        landed.map_err(|_| RedisBackendError::Timeout(self.timeout))??;
        let left = within.saturating_sub(began.elapsed());
        // Out of time for having waited says nothing of the server; a failed connection
        // does.
        let removed = self
            .bounded(runtime.id(), operation, left, Failure::Alone)
            .await;
        if let Err(RedisBackendError::Redis(e)) = &removed
            && is_connection_failure(e)
            && !e.is_timeout()
        {
            self.failed();
        }
        removed
    }

    /// Stores with `command` under `names`, bounded by `within` (at most the timeout),
    /// once no earlier store of those names may still land on another connection: there
    /// it could land after this one and put the older value back.
    ///
    /// A refused value, or one sent `apart`, fails alone: it never pauses the backend
    /// for other keys (it says nothing of the server). One sent `apart` travels on a
    /// connection of its own, so that no lookup waits behind it: a large value's bytes,
    /// or a cluster's `set_many`, whose redirections hold up the connection. On one
    /// server, a small value's store that times out, or loses the connection, with at
    /// least half the timeout to run, pauses the backend as a lookup would. A store that timed out, or whose caller gave up, is followed until it
    /// lands.
    pub(crate) async fn store(
        &self,
        command: &impl Store,
        names: &[&str],
        within: Duration,
        apart: bool,
    ) -> Result<(), RedisBackendError> {
        let lane = if apart { Lane::Bulk } else { Lane::Shared };
        let (runtime, mut connection, serial) = self.connection_and_serial(lane).await?;
        let mut within = within.min(self.timeout);
        let awaited = Awaited::Names {
            names,
            besides: Some(serial),
        };
        if self.in_transit.holds(awaited) {
            self.not_paused().await?;
            let began = tokio::time::Instant::now();
            let landed = tokio::time::timeout(within, self.in_transit.until_landed(awaited));
            if landed.await.is_err() {
                return Err(RedisBackendError::Timeout(self.timeout));
            }
            within = within.saturating_sub(began.elapsed());
        }
        // With no time left, nothing is sent.
        if within.is_zero() {
            return Err(RedisBackendError::Timeout(self.timeout));
        }
        let sent_on = (connection.clone(), serial, runtime.clone());
        let sending = self.in_transit.sending(names, sent_on, self.timeout);
        let operation = command.send(&mut connection);
        // On one server's connection that lookups share, and with time enough (not
        // only the end of a call's), a store that the connection fails says what a
        // lookup's failure says: without this, stores alone against a stalled server
        // would each wait the timeout. On a cluster such a store says as little of the
        // other nodes as of the connection (see below).
        let shared = lane == Lane::Shared && !self.is_cluster();
        let failure = match shared && within >= self.timeout / 2 {
            true => Failure::Pauses,
            false => Failure::Alone,
        };
        let stored = self.bounded(runtime.id(), operation, within, failure).await;
        match stored.as_ref().is_err_and(may_still_land) {
            // Lookups replace the shared connection themselves (see `rebuild`); a store
            // given only the end of a call's time says little of its connection.
            true if self.is_cluster() && lane == Lane::Bulk && within >= self.timeout / 2 => {
                self.replace(serial)
            }
            true => {}
            false => sending.settled(),
        }
        stored
    }

    /// Waits, at most the timeout, until no store of `awaited` may still land: a
    /// `clear`'s scan cannot list what has not landed, and would leave it; a lease given
    /// back before its holder's store lands lets another process store first. While the
    /// backend is paused, fails at once.
    pub(crate) async fn until_landed(&self, awaited: Awaited<'_>) -> Result<(), RedisBackendError> {
        if !self.in_transit.holds(awaited) {
            return Ok(());
        }
        self.not_paused().await?;
        // The wait needs a runtime's timer, which panics outside one.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RedisBackendError::Unavailable);
        }
        tokio::time::timeout(self.timeout, self.in_transit.until_landed(awaited))
            .await
            .map_err(|_| RedisBackendError::Timeout(self.timeout))
    }
}

/// A store: one `SET`, or a pipeline of them.
pub(crate) trait Store: Sync {
    /// Sends it, ignoring the replies.
    fn send(
        &self,
        connection: &mut Connection,
    ) -> impl Future<Output = redis::RedisResult<()>> + Send;
}

impl Store for Cmd {
    async fn send(&self, connection: &mut Connection) -> redis::RedisResult<()> {
        self.query_async(connection).await
    }
}

impl Store for Pipeline {
    async fn send(&self, connection: &mut Connection) -> redis::RedisResult<()> {
        self.query_async(connection).await
    }
}

/// Whether a command that failed with `e` may still have been sent: it timed out,
/// here or in redis-rs.
fn may_still_land(e: &RedisBackendError) -> bool {
    match e {
        RedisBackendError::Timeout(_) => true,
        // Mapped to `Timeout` by `bounded`; kept should another path return it.
        RedisBackendError::Redis(e) => e.is_timeout(),
        _ => false,
    }
}
