//! What a near tier tracks: one server, or every node of a cluster that is up, and the
//! connections of one tracking session.

use futures_util::future::join_all;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, ProtocolVersion};

use super::tracking::{Invalidations, Tracked};
use crate::redis::endpoint::Endpoint;
use crate::redis::topology::{Node, Topology, cluster_state_ok, endpoints};

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
            // primary that failed, and one that drops packets costs a timeout. Taken
            // out, so that a start cut short (nodes that hang each cost a timeout) asks
            // the seeds next time, rather than the same hung nodes for ever.
            let template = seeds.first();
            let last = std::mem::take(known);
            let last = last.iter().filter_map(|node| Some(at(template?, node)));
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
/// match (see [`cluster_state_ok`]). Each node is named as `CLUSTER SLOTS` names it,
/// as the cluster's connections are: by hostname where the cluster prefers them (behind
/// TLS, whose certificates name hosts, an IP would fail every check).
pub(super) async fn nodes_seen(
    connection: &mut MultiplexedConnection,
) -> redis::RedisResult<Vec<Node>> {
    let (info, reply, slots): (String, String, redis::Value) = redis::pipe()
        .cmd("CLUSTER")
        .arg("INFO")
        .cmd("CLUSTER")
        .arg("NODES")
        .cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(connection)
        .await?;
    if !cluster_state_ok(&info) {
        return Err(unsettled("the node sees the cluster down"));
    }
    // A slot moving between nodes that are tracked needs nothing: the key's removal
    // from the old node is an invalidation.
    let topology = Topology::read_routed(&reply, &endpoints(&slots));
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Weak};
    use std::time::Duration;

    use super::*;
    use crate::redis::near::epochs::Epochs;

    /// A start cut short while it waits on a node that accepts connections and never
    /// answers leaves no node to try first next time: the seeds come first then.
    #[test]
    fn a_start_cut_short_asks_the_seeds_next_time() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(cut_short());
    }

    async fn cut_short() {
        let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = hung.local_addr().unwrap().port();
        let seed =
            redis::IntoConnectionInfo::into_connection_info(format!("redis://127.0.0.1:{port}"))
                .unwrap();
        let forget: Weak<dyn Fn() + Send + Sync> = Weak::<fn()>::new();
        let tracked = Tracked {
            server: Server::Cluster(vec![seed]),
            head: Arc::from("p:near:"),
            epochs: Arc::new(Epochs::new(16)),
            forget,
            timeout: Duration::from_secs(5),
            heartbeat: Duration::from_secs(1),
            bound: Duration::from_secs(1),
        };
        let handler = super::super::tracking::Invalidations::for_tests(&tracked);
        let mut known = vec![("127.0.0.1".to_string(), port)];
        let cut_short = tokio::time::timeout(
            Duration::from_millis(50),
            start(&tracked, handler, &mut known),
        );
        assert!(cut_short.await.is_err(), "the hung node answered");
        assert!(known.is_empty(), "the hung node is still tried first");
    }
}
