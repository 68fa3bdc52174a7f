//! The connections of a link: one per runtime and lane, made on first use, dropped to be
//! made anew after failures, and let go with their runtime.

use std::sync::PoisonError;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::runtime::{self, Handle};
use tokio::sync::oneshot;

use super::Link;
use crate::redis::RedisBackendError;
use crate::redis::endpoint::Connection;

/// A connection of one runtime and lane, and when it was made.
pub(super) struct Made {
    runtime: runtime::Id,
    lane: Lane,
    connection: Connection,
    at: std::time::Instant,
    /// Tells it from the connections made before and after it.
    serial: u64,
    /// Closed once its runtime has ended, which drops the task holding the other end:
    /// then it is let go, or a program that makes runtime after runtime (one per
    /// request, say) would keep one entry per runtime it ever ran, each scanned by
    /// every operation.
    alive: oneshot::Sender<()>,
}

/// The youngest a connection may be and still be dropped to be made anew: so that a
/// burst of failures (every caller of a dead node at once) rebuilds it once.
const REBUILD_EVERY: Duration = Duration::from_millis(500);

impl Made {
    /// Old enough to be dropped and made anew (see [`REBUILD_EVERY`]).
    fn rebuildable(&self) -> bool {
        self.at.elapsed() >= REBUILD_EVERY
    }
}

impl Link {
    /// This runtime's connection for `lane`, made on its first use here.
    pub(super) async fn connection(
        &self,
        lane: Lane,
    ) -> Result<(runtime::Id, Connection), RedisBackendError> {
        let (runtime, connection, _) = self.connection_and_serial(lane).await?;
        Ok((runtime.id(), connection))
    }

    /// [`connection`](Self::connection), and its serial, with the runtime's handle. A
    /// failure (a bad URL, no runtime) spends a unit of tokio's cooperative budget, as
    /// failing for the pause does (see [`not_paused`](Self::not_paused)).
    pub(super) async fn connection_and_serial(
        &self,
        lane: Lane,
    ) -> Result<(Handle, Connection, u64), RedisBackendError> {
        let made = self.find_or_make(lane);
        if made.is_err() {
            tokio::task::consume_budget().await;
        }
        made
    }

    fn find_or_make(&self, lane: Lane) -> Result<(Handle, Connection, u64), RedisBackendError> {
        let handle = Handle::try_current().map_err(|_| RedisBackendError::Unavailable)?;
        let runtime = handle.id();
        let mut connections = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let found = connections
            .iter()
            .find(|made| made.runtime == runtime && made.lane == lane);
        if let Some(made) = found {
            return Ok((handle, made.connection.clone(), made.serial));
        }
        let endpoint = self.endpoint.as_ref().map_err(Clone::clone)?;
        let connection = endpoint.connect_lazily(&self.config, self.timeout)?;
        let serial = self.made.fetch_add(1, Relaxed);
        connections.retain(|made| !made.alive.is_closed());
        let (alive, watch) = oneshot::channel::<()>();
        handle.spawn(async move {
            // Ends when the entry is dropped, or with the runtime.
            let _ = watch.await;
        });
        connections.push(Made {
            runtime,
            lane,
            connection: connection.clone(),
            at: std::time::Instant::now(),
            serial,
            alive,
        });
        Ok((handle, connection, serial))
    }

    /// Forgets `runtime`'s connections after a failure that it would not recover from by
    /// itself (it reconnects only after I/O errors; a refused login, say, would stick).
    pub(super) fn forget(&self, runtime: runtime::Id) {
        self.drop_connections(|made| made.runtime == runtime);
    }

    /// Drops the connections `dropped` picks: the next operation of their runtime and
    /// lane makes a new one (those in use finish on theirs).
    fn drop_connections(&self, dropped: impl Fn(&Made) -> bool) {
        let mut connections = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        connections.retain(|made| !dropped(made));
    }

    /// After a timeout or a connection failure, with the pause: a new connection for
    /// `runtime`, made by the first operation after the pause, unless its connections
    /// are younger than [`REBUILD_EVERY`]. redis-rs's cluster client rereads the slot
    /// map only when a node answers MOVED, and a dead primary answers nothing: it would
    /// retry that address forever. A new connection reads the map afresh, so calls find
    /// the promoted replica once the cluster has failed over. One server's connection
    /// reconnects only after an I/O error, and a socket to a host gone without a reset
    /// (a failover behind one address) reports none until the kernel gives up on it,
    /// while the probe, on a connection of its own, reaches the new host and ends the
    /// pause: every pause would end in the same timeouts.
    pub(super) fn rebuild(&self, runtime: runtime::Id) {
        self.drop_connections(|made| made.runtime == runtime && made.rebuildable());
    }

    /// After a store timed out on a cluster's store-only connection: a new one in place
    /// of the one with `serial`, unless it is younger than [`REBUILD_EVERY`]. One whose
    /// stores kept meeting redirections during a resharding was seen to time out every
    /// request from then on (for 15 s and more after the slots had settled), and stores
    /// do not pause the backend and rebuild, as lookups do.
    pub(super) fn replace(&self, serial: u64) {
        self.drop_connections(|made| made.serial == serial && made.rebuildable());
    }
}

/// Which connection an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lane {
    /// Lookups, small stores and everything else, multiplexed.
    Shared,
    /// Stores that would hold up everyone else: large values, behind their bytes, and a
    /// cluster's `set_many`, behind its redirections.
    Bulk,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::endpoint::Endpoint;

    #[test]
    fn the_connections_of_ended_runtimes_are_let_go() {
        let endpoint = Endpoint::single("redis://127.0.0.1:1/");
        let link = Link::new(endpoint, Duration::from_millis(100), Duration::ZERO);
        let held = || link.connections.lock().unwrap().len();
        for _ in 0..20 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                link.find_or_make(Lane::Shared).unwrap();
                link.find_or_make(Lane::Bulk).unwrap();
            });
            // This runtime's two, and at most the last runtime's until the next make.
            assert!(held() <= 2, "{} connections held", held());
        }
        // A live runtime's stay.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let first = runtime.block_on(async { link.find_or_make(Lane::Shared).unwrap().2 });
        let again = runtime.block_on(async { link.find_or_make(Lane::Shared).unwrap().2 });
        assert_eq!(first, again);
    }
}
