//! What a near tier tracks: one server, or every node of a cluster that is up, and the
//! connections of one tracking session.

use futures_util::future::join_all;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, ProtocolVersion};

use super::tracking::{Invalidations, Tracked};
use crate::redis::endpoint::Endpoint;
use crate::redis::topology::{Node, Topology, cluster_state_ok};

/// What a near tier tracks: one server, or every node of a cluster.
pub(crate) enum Server {
    /// A RESP3 client for the server.
    Single(Box<Client>),
    /// The cluster's seeds: every tracking session asks one of them for the nodes.
    Cluster(Vec<ConnectionInfo>),
}

impl Server {
    /// RESP3 clients for `endpoint` (tracking pushes need RESP3).
    pub(crate) fn of(endpoint: &Endpoint) -> redis::RedisResult<Self> {
        Ok(match endpoint {
            Endpoint::Single(client) => {
                let info = resp3(client.get_connection_info().clone());
                Server::Single(Box::new(Client::open(info)?))
            }
            Endpoint::Cluster { seeds, .. } => {
                Server::Cluster(seeds.iter().cloned().map(resp3).collect())
            }
        })
    }
}

/// `info` over RESP3.
fn resp3(info: ConnectionInfo) -> ConnectionInfo {
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    info.set_redis_settings(settings)
}

/// `info` (a seed's credentials and TLS) for the node at `host:port`.
fn at(info: &ConnectionInfo, (host, port): &Node) -> ConnectionInfo {
    let addr = match info.addr().clone() {
        ConnectionAddr::TcpTls {
            insecure,
            tls_params,
            ..
        } => ConnectionAddr::TcpTls {
            host: host.clone(),
            port: *port,
            insecure,
            tls_params,
        },
        _ => ConnectionAddr::Tcp(host.clone(), *port),
    };
    info.clone().set_addr(addr)
}

/// Connections with tracking on, and, on a cluster, the nodes they reach.
pub(super) struct Session {
    pub(super) connections: Vec<MultiplexedConnection>,
    /// On a cluster, the nodes tracked: a heartbeat that sees others ends the session.
    pub(super) nodes: Option<Vec<Node>>,
}

/// Tracking on, its invalidations going to `handler`: on the server, or on every node
/// of the cluster that is up.
pub(super) async fn start(
    tracked: &Tracked,
    handler: Invalidations,
    known: &mut Vec<Node>,
) -> redis::RedisResult<Session> {
    match &tracked.server {
        Server::Single(client) => Ok(Session {
            connections: vec![tracking_on(tracked, client, handler).await?],
            nodes: None,
        }),
        Server::Cluster(seeds) => {
            let mut failure = None;
            // The nodes the last session tracked, then the seeds: a seed may be the very
            // primary that failed, and one that drops packets costs a timeout.
            let template = seeds.first();
            let last = known.iter().filter_map(|node| Some(at(template?, node)));
            for seed in last.collect::<Vec<_>>().iter().chain(seeds) {
                let nodes = match nodes_through(tracked, seed).await {
                    Ok(nodes) => nodes,
                    Err(e) => {
                        failure = Some(e);
                        continue;
                    }
                };
                let on = nodes.iter().map(|node| async {
                    let client = Client::open(at(seed, node))?;
                    tracking_on(tracked, &client, handler.clone()).await
                });
                let connections = join_all(on).await.into_iter().collect::<Result<_, _>>()?;
                known.clone_from(&nodes);
                return Ok(Session {
                    connections,
                    nodes: Some(nodes),
                });
            }
            // Asked from the seeds next time: the last nodes may be the ones gone.
            known.clear();
            Err(failure.unwrap_or_else(|| unsettled("no seed")))
        }
    }
}

fn unsettled(why: &'static str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, why))
}

/// The nodes that are up, as the node at `seed` knows them.
async fn nodes_through(tracked: &Tracked, seed: &ConnectionInfo) -> redis::RedisResult<Vec<Node>> {
    let mut connection = Client::open(seed.clone())?
        .get_multiplexed_async_connection_with_config(&config(tracked))
        .await?;
    nodes_seen(&mut connection).await
}

/// Every node that is up, as the node on `connection` sees the cluster; an error unless
/// every slot has a primary that is up and has an address, which the list then holds:
/// tracking fewer nodes than take writes would miss invalidations. An error too unless
/// that node sees the cluster up: one cut off from the majority still lists every node
/// as up, while the others may promote its replica, whose values its copies no longer
/// match (see [`cluster_state_ok`]).
pub(super) async fn nodes_seen(
    connection: &mut MultiplexedConnection,
) -> redis::RedisResult<Vec<Node>> {
    let (info, reply): (String, String) = redis::pipe()
        .cmd("CLUSTER")
        .arg("INFO")
        .cmd("CLUSTER")
        .arg("NODES")
        .query_async(connection)
        .await?;
    if !cluster_state_ok(&info) {
        return Err(unsettled("the node sees the cluster down"));
    }
    // A slot moving between nodes that are tracked needs nothing: the key's removal
    // from the old node is an invalidation.
    let topology = Topology::read(&reply);
    if topology.uncovered || topology.primaries.is_empty() {
        return Err(unsettled("a slot's primary is down or has no address"));
    }
    Ok(topology.reachable)
}

fn config(tracked: &Tracked) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(tracked.timeout))
        .set_response_timeout(Some(tracked.timeout))
}

/// A connection to `client`'s server with tracking on.
async fn tracking_on(
    tracked: &Tracked,
    client: &Client,
    handler: Invalidations,
) -> redis::RedisResult<MultiplexedConnection> {
    let config = config(tracked).set_push_sender(handler);
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let mut on = redis::cmd("CLIENT");
    on.arg("TRACKING")
        .arg("ON")
        .arg("BCAST")
        .arg("PREFIX")
        .arg(&*tracked.head);
    on.query_async::<()>(&mut connection).await?;
    Ok(connection)
}
