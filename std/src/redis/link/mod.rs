//! The connection to the server: bounded operations, and a pause after a failure.

mod connections;
mod large;
mod writes;

use connections::{Lane, Made};
use large::LargeNames;

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a lease's release looks again while the probe after a pause is out.
const PROBE_POLL: Duration = Duration::from_millis(10);
/// The most names of a batch that timed out to read apart (see `Link::suspect`).
const SUSPECTS_AT_MOST: usize = 64;

use redis::aio::ConnectionManagerConfig;
use redis::cluster_routing::{
    MultiSlotArgPattern, MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo,
    SingleNodeRoutingInfo,
};
use redis::{Cmd, FromRedisValue, Value};
use tokio::runtime;

use super::RedisBackendError;
use super::endpoint::{Connection, Endpoint};
use super::in_transit::InTransit;
use super::pause::{Admission, Pause, Probe};
use crate::asynch::Bridge;

/// The connection to the server or cluster, shared by every handle on a backend (and
/// its batcher).
pub(crate) struct Link {
    /// The server, or why the URL could not name one: then every operation fails with
    /// that error (see `RedisBackend::open_deferring_errors`).
    endpoint: Result<Endpoint, RedisBackendError>,
    config: ConnectionManagerConfig,
    /// One connection (a manager, or a cluster connection) per runtime and lane that uses
    /// the backend, made on its first operation there: its tasks (its connection's driver, its
    /// reconnections) run on the runtime that made it, so sharing one across runtimes
    /// would tie every caller to the first runtime's life and schedule.
    connections: Mutex<Vec<Made>>,
    timeout: Duration,
    pause_after_failure: Duration,
    pause: Arc<Pause>,
    /// Stores that may still land, which a `clear`, a removal or a later store waits for.
    in_transit: InTransit,
    /// How many connections were made: each one's serial.
    made: AtomicU64,
    /// Names read on the second connection, apart from the other lookups.
    large: LargeNames,
}

impl Link {
    pub(crate) fn new(
        endpoint: Result<Endpoint, RedisBackendError>,
        timeout: Duration,
        pause: Duration,
    ) -> Self {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Reconnection is retried on every failed call; a short schedule keeps a
            // returning server from waiting behind a long backoff.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        Link {
            endpoint,
            config,
            connections: Mutex::new(Vec::new()),
            timeout,
            pause_after_failure: pause,
            pause: Arc::new(Pause::new()),
            in_transit: InTransit::default(),
            made: AtomicU64::new(0),
            large: LargeNames::default(),
        }
    }

    /// The server, or why the URL could not name one.
    pub(crate) fn endpoint(&self) -> Result<&Endpoint, &RedisBackendError> {
        self.endpoint.as_ref()
    }

    /// Whether the server is a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.endpoint.as_ref().is_ok_and(Endpoint::is_cluster)
    }

    /// The bound on any one operation.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `command`, bounded by the timeout.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        command: &Cmd,
    ) -> Result<T, RedisBackendError> {
        let (runtime, mut connection) = self.connection(Lane::Shared).await?;
        let operation = async move { command.query_async(&mut connection).await };
        self.bounded(runtime, operation, self.timeout, Failure::Pauses)
            .await
    }

    /// Runs `command`, whose keys (arguments after the first) lie in several slots, on a
    /// cluster as one command per slot: `parts` gives each slot's route and its keys'
    /// indices. Each part's reply, in `parts`' order, an error reply as a
    /// `Value::ServerError`: redis-rs would combine the parts itself, but panics on a
    /// part's error reply (see `batch::slots`). `Malformed` if a part was not sent (its
    /// node is unknown) or on a single server; bounded by the timeout.
    pub(crate) async fn query_parts(
        &self,
        command: Cmd,
        parts: Vec<(Route, Vec<usize>)>,
    ) -> Result<Vec<Value>, RedisBackendError> {
        let (runtime, connection) = self.connection(Lane::Shared).await?;
        let Connection::Cluster(mut cluster) = connection else {
            return Err(RedisBackendError::Malformed);
        };
        let count = parts.len();
        let split = MultipleNodeRoutingInfo::MultiSlot((parts, MultiSlotArgPattern::KeysOnly));
        // `Special`: each part's reply as it is, beside its node's address.
        let routing = RoutingInfo::MultiNode((split, Some(ResponsePolicy::Special)));
        let operation = async move { cluster.route_command(command, routing).await };
        match self
            .bounded(runtime, operation, self.timeout, Failure::Pauses)
            .await?
        {
            Value::Map(replies) if replies.len() == count => {
                Ok(replies.into_iter().map(|(_node, reply)| reply).collect())
            }
            _ => Err(RedisBackendError::Malformed),
        }
    }

    /// The value under `name` (`GET`), bounded by the timeout. A name known or suspected
    /// to hold a large value is read on the second connection, where its failure is its
    /// own (see `large`); one whose lone read timed out here is read there from now on.
    pub(crate) async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, RedisBackendError> {
        let mut command = Cmd::new();
        command.arg("GET").arg(name);
        if self.large.holds(name) {
            return self.get_apart(name, command).await;
        }
        let found = self.query::<Option<Vec<u8>>>(&command).await;
        match &found {
            Ok(value) => self.learn_size(name, value.as_deref()),
            Err(RedisBackendError::Timeout(_)) => self.large.remember(name),
            Err(_) => {}
        }
        found
    }

    /// Whether `name` is read apart from the other lookups (see [`get`](Self::get)).
    pub(crate) fn reads_apart(&self, name: &str) -> bool {
        self.large.holds(name)
    }

    /// Learns from a value read or stored under `name` whether to read it apart.
    pub(crate) fn learn_size(&self, name: &str, value: Option<&[u8]>) {
        self.large.learn(name, value.map_or(0, <[u8]>::len));
    }

    /// Reads apart the names of a batch that timed out: which of them held the value
    /// that took so long is unknown, and each will tell on its own read. Not those of
    /// a batch of more than [`SUSPECTS_AT_MOST`]: a stalled server's large `get_many`
    /// would push every name known out of the table, and read thousands apart.
    pub(crate) fn suspect<'a>(&self, names: impl ExactSizeIterator<Item = &'a str>) {
        if names.len() <= SUSPECTS_AT_MOST {
            names.for_each(|name| self.large.remember(name));
        }
    }

    /// `command`, a `GET` of `name`, on the second connection, failing alone: a value
    /// too large to arrive in time pauses nothing. A connection that timed out is
    /// replaced, so that the server stops sending what nobody waits for.
    async fn get_apart(
        &self,
        name: &str,
        command: Cmd,
    ) -> Result<Option<Vec<u8>>, RedisBackendError> {
        let (runtime, mut connection, serial) = self.connection_and_serial(Lane::Bulk).await?;
        let operation = async move { command.query_async(&mut connection).await };
        let found: Result<Option<Vec<u8>>, _> =
            (self.bounded(runtime.id(), operation, self.timeout, Failure::Alone)).await;
        match &found {
            Ok(value) => self.learn_size(name, value.as_deref()),
            Err(RedisBackendError::Timeout(_)) => self.replace(serial),
            Err(_) => {}
        }
        found
    }

    /// Runs `command` on the cluster node at `node` (`host`, `port`), bounded by the
    /// timeout; on a single server, on the server.
    pub(crate) async fn query_node<T: FromRedisValue>(
        &self,
        command: &Cmd,
        node: &(String, u16),
    ) -> Result<T, RedisBackendError> {
        let (runtime, connection) = self.connection(Lane::Shared).await?;
        let Connection::Cluster(mut cluster) = connection else {
            return self.query(command).await;
        };
        let (host, port) = node.clone();
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port });
        let operation = async move {
            // An error reply that redis-rs does not act on comes back as a value.
            let reply = cluster.route_command(command.clone(), routing).await?;
            Ok(redis::from_redis_value(reply.extract_error()?))
        };
        self.bounded(runtime, operation, self.timeout, Failure::Pauses)
            .await?
            .map_err(|_| RedisBackendError::Malformed)
    }

    /// Unlinks `names`, listed by the cluster node at `node`, in one round trip: a
    /// pipeline of `UNLINK`s sent to that node (one `UNLINK` of many names would cross
    /// slots). Whether it was done: a node importing a slot lists names it
    /// does not serve yet, which answer MOVED (redis-rs then resends the whole pipeline
    /// to the slot's owner, where the others answer MOVED in turn, until it gives up),
    /// so a failure here is the walk's cue to start again, not the backend's trouble.
    pub(crate) async fn unlink_on_node(&self, names: &[Vec<u8>], node: &(String, u16)) -> bool {
        let mut pipeline = redis::pipe();
        for name in names {
            pipeline.cmd("UNLINK").arg(name);
        }
        let (host, port) = node.clone();
        let to_node = SingleNodeRoutingInfo::ByAddress { host, port };
        let Ok((runtime, Connection::Cluster(mut cluster))) = self.connection(Lane::Shared).await
        else {
            return false;
        };
        let count = names.len();
        let send = async move {
            cluster
                .route_pipeline(pipeline, 0, count, to_node)
                .await
                .map(drop)
        };
        self.bounded(runtime, send, self.timeout, Failure::Alone)
            .await
            .is_ok()
    }

    async fn bounded<T>(
        &self,
        runtime: runtime::Id,
        operation: impl Future<Output = redis::RedisResult<T>>,
        within: Duration,
        failure: Failure,
    ) -> Result<T, RedisBackendError> {
        match self.pause.admit(self.probe_life()) {
            Admission::Healthy => {
                // Reported here, in the caller's context: the probe that ended the
                // pause ran on the bridge's runtime.
                #[cfg(feature = "tracing")]
                if self.pause.take_recovered() {
                    tracing::info!(target: "jwm_cache::redis", "redis backend recovered");
                }
            }
            Admission::Refused => return self.refused().await,
            // A cluster is tried again by every operation, as the pause ends: one node's
            // failure says little of the others, and a probe (`PING` goes to every
            // primary) would keep the pause on while any one is down.
            Admission::Probe(probe) if self.is_cluster() => {
                probe.answered();
            }
            Admission::Probe(probe) => {
                self.start_probe(probe);
                return self.refused().await;
            }
        }
        if within.is_zero() {
            return Err(RedisBackendError::Timeout(self.timeout));
        }
        let pauses = failure == Failure::Pauses;
        let failure = match tokio::time::timeout(within, operation).await {
            Ok(Ok(value)) => return Ok(value),
            // redis-rs's own response timeout, the same bound: one error for both.
            Ok(Err(e)) if e.is_timeout() => RedisBackendError::Timeout(self.timeout),
            Ok(Err(e)) if is_connection_failure(&e) => e.into(),
            Ok(Err(e)) => {
                if e.kind() == redis::ErrorKind::AuthenticationFailed {
                    self.forget(runtime);
                }
                let e = RedisBackendError::from(e);
                #[cfg(feature = "tracing")]
                tracing::warn!(target: "jwm_cache::redis", error = %e, "redis command failed");
                return Err(e);
            }
            Err(_) => RedisBackendError::Timeout(self.timeout),
        };
        #[cfg(feature = "tracing")]
        tracing::warn!(target: "jwm_cache::redis", error = %failure, "redis backend failed");
        if pauses {
            self.failed();
            self.rebuild(runtime);
        }
        Err(failure)
    }

    /// `Unavailable` while the backend is paused: an operation fails at once, and spends
    /// a unit of tokio's cooperative budget. Failing touches no tokio resource: without
    /// it a task calling in a loop never yields while the pause runs, and starves the
    /// others.
    async fn not_paused(&self) -> Result<(), RedisBackendError> {
        if !self.pause.refuses() {
            return Ok(());
        }
        self.refused().await
    }

    async fn refused<T>(&self) -> Result<T, RedisBackendError> {
        tokio::task::consume_budget().await;
        Err(RedisBackendError::Unavailable)
    }

    /// Tries the server with a `PING` on a connection of its own, in a task on the
    /// process-wide [`Bridge`]'s runtime (a caller's runtime may end, or
    /// stop polling, before it answers), bounded by the timeout for connecting and for
    /// the answer: an answer (an error reply too) ends the pause, a timeout or a failed
    /// connection starts another. No caller waits for it: until it answers, operations
    /// still fail at once. (When a caller's operation probed, every caller of its key
    /// waited for it, and the server's stall cost them the timeout after each pause.)
    fn start_probe(&self, probe: Probe) {
        let Ok(Endpoint::Single(client)) = &self.endpoint else {
            return; // Only one server is probed; no probe, the next operation tries.
        };
        let (client, timeout, pause) = (client.clone(), self.timeout, self.pause_after_failure);
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let ping = async move {
            let tried = async {
                let mut connection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                redis::cmd("PING")
                    .query_async::<Value>(&mut connection)
                    .await
            };
            match tokio::time::timeout(timeout.saturating_mul(2), tried).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) if !is_connection_failure(&e) => {}
                Ok(Err(_)) | Err(_) => return probe.failed(pause),
            }
            // The recovery is reported by the next operation admitted.
            probe.answered();
        };
        Bridge::in_background(ping);
    }

    /// How long a probe may take before it counts as lost: connecting and the answer,
    /// each bounded by the timeout, and a margin for its task to be run.
    fn probe_life(&self) -> Duration {
        self.timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_millis(100))
    }

    /// How long the pause after a failure has to run, if one is running; while the
    /// probe after it is out, a short step, to look again as soon as it answers.
    pub(crate) fn pause_left(&self) -> Option<Duration> {
        self.pause.left(PROBE_POLL.min(self.timeout))
    }

    /// Starts the pause after a failure, here or seen elsewhere (a removal whose
    /// connection failed).
    pub(crate) fn failed(&self) {
        if self.pause_after_failure.is_zero() {
            return;
        }
        let _newly = self.pause.start(self.pause_after_failure);
        #[cfg(feature = "tracing")]
        if _newly {
            tracing::warn!(
                target: "jwm_cache::redis",
                pause = ?self.pause_after_failure,
                "redis backend paused after a failure: calls skip it until the pause ends"
            );
        }
    }
}

/// What an operation's failure does to the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// A connection failure or a timeout pauses the backend: the server is in trouble.
    Pauses,
    /// It fails this operation only.
    Alone,
}

/// A failure of the server or the connection, rather than of one command (a reply that
/// does not parse, say, must not pause everyone).
pub(crate) fn is_connection_failure(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_timeout()
}
