//! Where the entries live: one server, or a Redis Cluster, and the connection to either.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::io::tcp::TcpSettings;
use redis::{
    Client, Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisFuture, Value,
};

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
        Ok(Endpoint::Single(Client::open(with_our_tcp(
            url.into_connection_info()?,
        ))?))
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
            .map(|seed| seed.as_ref().into_connection_info().map(with_our_tcp))
            .collect::<Result<Vec<_>, _>>()?;
        // The client connects to nodes with the builder's settings; the seeds' own
        // reach the near tier's trackers, which connect from them.
        let client = ClusterClientBuilder::new(seeds.clone())
            .tcp_settings(tcp_settings())
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

    /// Which server, for a message: a single server's transport, address (as written:
    /// no name is resolved), database and user, and whether a password is given, never
    /// the password; a cluster, by kind only (two seed lists may name one cluster).
    pub(crate) fn describe(&self) -> String {
        match self {
            Endpoint::Single(client) => {
                let info = client.get_connection_info();
                let transport = match info.addr() {
                    ConnectionAddr::Tcp(..) => "tcp",
                    ConnectionAddr::TcpTls {
                        insecure: false, ..
                    } => "tls",
                    ConnectionAddr::TcpTls { insecure: true, .. } => "tls (insecure)",
                    _ => "unix",
                };
                let settings = info.redis_settings();
                let user = settings.username().unwrap_or("default");
                let password = if settings.password().is_some() {
                    "a password"
                } else {
                    "no password"
                };
                format!(
                    "server {} over {transport} db {} as {user} with {password}",
                    info.addr(),
                    settings.db()
                )
            }
            Endpoint::Cluster { .. } => "a cluster".to_string(),
        }
    }
}

/// How long data sent on a connection may go unacknowledged before the kernel drops
/// the connection (`TCP_USER_TIMEOUT`, Linux). A server that vanishes without a reset
/// (a partition, a host gone) would otherwise keep its connection "up" until the kernel
/// gives up retransmitting, about 15 minutes: every call would time out on it (only an
/// I/O error makes a connection reconnect), and a store given up on might land when the
/// path came back, after newer writes. Dropped within this time, a store either reached
/// the server's kernel (and runs in order) or never will; and a connection's stores are
/// followed for longer (`in_transit`'s probes: 10 s). A slow server still acknowledges
/// at once: only a dead path trips it.
#[cfg(target_os = "linux")]
const UNACKNOWLEDGED_FOR: Duration = Duration::from_secs(5);

/// The TCP settings of every connection: no Nagle delay (a small command would wait for
/// the acknowledgement of the one before), and [`UNACKNOWLEDGED_FOR`] where there is
/// such a setting.
fn tcp_settings() -> TcpSettings {
    let settings = TcpSettings::default().set_nodelay(true);
    #[cfg(target_os = "linux")]
    let settings = settings.set_user_timeout(UNACKNOWLEDGED_FOR);
    settings
}

/// `info` with [`tcp_settings`].
fn with_our_tcp(info: ConnectionInfo) -> ConnectionInfo {
    info.set_tcp_settings(tcp_settings())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_ours(settings: &TcpSettings) {
        assert!(settings.nodelay());
        #[cfg(target_os = "linux")]
        assert_eq!(settings.user_timeout(), Some(UNACKNOWLEDGED_FOR));
    }

    #[test]
    fn connections_send_at_once_and_drop_a_dead_path() {
        let Ok(Endpoint::Single(client)) = Endpoint::single("redis://127.0.0.1:1/") else {
            panic!("not one server");
        };
        assert_ours(client.get_connection_info().tcp_settings());
        let seeds = ["redis://127.0.0.1:1/", "redis://127.0.0.1:2/"];
        let Ok(Endpoint::Cluster { seeds, .. }) = Endpoint::cluster(&seeds, Duration::from_secs(1))
        else {
            panic!("not a cluster");
        };
        for seed in &seeds {
            assert_ours(seed.tcp_settings());
        }
    }
}
