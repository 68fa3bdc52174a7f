//! Where the entries live: one server, or a Redis Cluster, and the connection to either.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisFuture, Value};

use super::RedisBackendError;

/// The server behind a backend.
// One per backend, made once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Endpoint {
    /// One server (or whatever answers at one address).
    Single(Client),
    /// A Redis Cluster, reached through its seed nodes: redis-rs's cluster client maps
    /// slots to nodes, follows `MOVED` and `ASK`, and finds the new primary after a
    /// failover. The seeds are kept for the near tier's trackers, which find every
    /// node through them.
    Cluster {
        client: ClusterClient,
        seeds: Vec<ConnectionInfo>,
    },
}

impl Endpoint {
    /// The server at `url`.
    pub(crate) fn single(url: &str) -> Result<Self, RedisBackendError> {
        Ok(Endpoint::Single(Client::open(url)?))
    }

    /// The cluster that any of `seeds` belongs to. Every operation is bounded by
    /// `timeout`; within it the client follows MOVED and ASK at once, and retries a
    /// request whose node failed after a jittered wait of 10 to at most 100 ms (growing
    /// as 10 ms × 2^try), so that a failover is picked up soon after the cluster settles.
    pub(crate) fn cluster<S: AsRef<str>>(
        seeds: &[S],
        timeout: Duration,
    ) -> Result<Self, RedisBackendError> {
        if seeds.is_empty() {
            return Err(RedisBackendError::NoSeeds);
        }
        let seeds = seeds
            .iter()
            .map(|seed| seed.as_ref().into_connection_info())
            .collect::<Result<Vec<_>, _>>()?;
        let client = ClusterClientBuilder::new(seeds.clone())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(16)
            .min_retry_wait(10)
            .max_retry_wait(100)
            .retry_wait_formula(10, 2)
            .build()?;
        Ok(Endpoint::Cluster { client, seeds })
    }

    /// A connection that connects on its first use and reconnects by itself.
    pub(crate) fn connect_lazily(
        &self,
        config: &ConnectionManagerConfig,
        timeout: Duration,
    ) -> Result<Connection, RedisBackendError> {
        Ok(match self {
            Endpoint::Single(client) => Connection::Single(
                ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?,
            ),
            // The config's timeouts replace the client's (a default config would
            // leave requests to a hung node unbounded inside redis-rs).
            Endpoint::Cluster { client, .. } => {
                let config = ClusterConfig::new()
                    .set_connection_timeout(timeout)
                    .set_response_timeout(timeout);
                Connection::Cluster(client.get_pending_async_connection_with_config(config))
            }
        })
    }

    /// Whether this is a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Endpoint::Cluster { .. })
    }
}

/// A multiplexed connection to one server or to every node of a cluster; cheap to clone.
#[derive(Clone)]
pub(crate) enum Connection {
    /// To one server, reconnecting by itself.
    Single(ConnectionManager),
    /// To every node of a cluster, routing each command to its slot's node.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}
