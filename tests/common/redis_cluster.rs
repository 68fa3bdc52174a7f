//! A real Redis Cluster on loopback: 6 `redis-server` processes (3 primaries, 3
//! replicas) on free ports, joined by `redis-cli --cluster create`, stopped when dropped.
//! Shared by the tests and the benchmarks.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use redis::Commands;

/// How long the cluster may take to start, settle, or fail over, before a test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

/// One node: its client port, cluster bus port and process.
struct Node {
    port: u16,
    bus: u16,
    child: Option<Child>,
}

/// A running cluster; every node is killed when dropped.
pub(crate) struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts 6 nodes, creates the cluster with one replica per primary, and waits until
    /// every node says `cluster_state:ok` and knows every other node, and every replica
    /// is in sync with its primary.
    pub(crate) fn start() -> Self {
        Self::start_with(3, 1)
    }

    /// A cluster of `primaries` primaries (at least 3, as `redis-cli` requires) with
    /// `replicas` replicas each.
    pub(crate) fn start_with(primaries: usize, replicas: usize) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jwm-cache-cluster-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the nodes' files");
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..primaries * (1 + replicas) {
            let node = cluster.start_node();
            cluster.nodes.push(node);
        }
        let addresses: Vec<String> = cluster.addresses();
        let mut create = Command::new("redis-cli");
        create
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]);
        run_bounded(&mut create, "redis-cli --cluster create");
        cluster.wait_until_settled();
        cluster
    }

    /// A new node on free ports, once it answers. A port found free may be taken by
    /// another test's server before the node binds it: then the node exits (or another
    /// process answers), and it starts again on other ports.
    fn start_node(&self) -> Node {
        for _ in 0..5 {
            let mut node = Node {
                port: free_port(),
                bus: free_port(),
                child: None,
            };
            self.spawn(&mut node);
            let pid = node.child.as_ref().map(Child::id);
            let started = Instant::now();
            while started.elapsed() < PATIENCE {
                let exited = node
                    .child
                    .as_mut()
                    .is_some_and(|child| !matches!(child.try_wait(), Ok(None)));
                if exited {
                    break;
                }
                if let Some(mut raw) = client(node.port) {
                    let info: String = redis::cmd("INFO")
                        .arg("server")
                        .query(&mut raw)
                        .unwrap_or_default();
                    let ours = pid.is_some_and(|pid| info.contains(&format!("process_id:{pid}\r")));
                    if ours {
                        return node;
                    }
                }
                thread::sleep(Duration::from_millis(20));
            }
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        panic!("no redis-server node answered on free ports in 5 tries");
    }

    fn spawn(&self, node: &mut Node) {
        let config = self.dir.join(format!("nodes-{}.conf", node.port));
        let child = Command::new("redis-server")
            .args(["--port", &node.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-port", &node.bus.to_string()])
            .args(["--cluster-config-file", config.to_str().unwrap()])
            .args(["--cluster-node-timeout", "1000"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--dir", self.dir.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install -y redis-server)");
        node.child = Some(child);
    }

    /// `host:port` of every node.
    pub(crate) fn addresses(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    /// Seed URLs: every node's.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect()
    }

    /// The ports of the nodes that are primaries now, each with the slot count it serves.
    pub(crate) fn primaries(&self) -> Vec<(u16, usize)> {
        let nodes = self.cluster_nodes().unwrap_or_default();
        let mut primaries: Vec<(u16, usize)> = nodes
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let flags = fields.get(2)?;
                if !flags.contains("master") || flags.contains("fail") {
                    return None;
                }
                let port = fields[1].split(['@', ',']).next()?.rsplit_once(':')?.1;
                let slots = fields[8..]
                    .iter()
                    .filter(|s| !s.starts_with('['))
                    .map(|range| match range.split_once('-') {
                        Some((a, b)) => {
                            b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1
                        }
                        None => 1,
                    })
                    .sum();
                Some((port.parse().ok()?, slots))
            })
            .collect();
        primaries.sort();
        primaries
    }

    /// The port of a replica of the primary on `primary`.
    pub(crate) fn replica_of(&self, primary: u16) -> u16 {
        let id = self.id_of(primary);
        let nodes = self.cluster_nodes().expect("a live node");
        nodes
            .lines()
            .find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let replica = fields.get(2)?.contains("slave") && *fields.get(3)? == id;
                let port = fields[1].split(['@', ',']).next()?.rsplit_once(':')?.1;
                replica.then(|| port.parse().ok()).flatten()
            })
            .expect("a replica")
    }

    /// A manual failover (`CLUSTER FAILOVER` on the replica on `replica`): the replica
    /// becomes a primary and its primary, still up, its replica. Waits until the
    /// cluster settles.
    pub(crate) fn failover_to(&self, replica: u16) {
        let mut raw = client(replica).expect("a live replica");
        let _: () = redis::cmd("CLUSTER")
            .arg("FAILOVER")
            .query(&mut raw)
            .unwrap();
        wait_for(PATIENCE, "the manual failover", || {
            self.primaries().iter().any(|(port, _)| *port == replica)
        });
        self.wait_until_settled();
    }

    /// The node id of the node on `port`.
    pub(crate) fn id_of(&self, port: u16) -> String {
        let mut raw = client(port).expect("a live node");
        redis::cmd("CLUSTER").arg("MYID").query(&mut raw).unwrap()
    }

    /// `CLUSTER NODES`, from the first node that answers.
    fn cluster_nodes(&self) -> Option<String> {
        let nodes = |port| Some(text(&mut client(port)?, &["CLUSTER", "NODES"]));
        self.live_ports().into_iter().find_map(nodes)
    }

    pub(crate) fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.port)
            .collect()
    }

    /// Freezes (`-STOP`) or thaws (`-CONT`) the node on `port`: while frozen its
    /// connections stay open and nothing answers. Keep it well under the node timeout.
    pub(crate) fn signal(&self, port: u16, signal: &str) {
        let node = self.nodes.iter().find(|n| n.port == port).unwrap();
        let pid = node.child.as_ref().expect("a live node").id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "kill {signal} {pid} failed"
        );
    }

    /// Kills the node on `port` at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self, port: u16) {
        let node = self.nodes.iter_mut().find(|n| n.port == port).unwrap();
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until every live node says `cluster_state:ok`, knows every node, knows
    /// no failing node but the dead ones, sees the same roles and slots as every other
    /// (as `redis-cli --cluster` requires before it moves slots), and every live
    /// replica's link to its primary is up.
    pub(crate) fn wait_until_settled(&self) {
        let live = self.live_ports();
        wait_for(PATIENCE, "the cluster to settle", || {
            let views: Option<Vec<Vec<String>>> = live
                .iter()
                .map(|&port| {
                    let mut raw = client(port)?;
                    let nodes = text(&mut raw, &["CLUSTER", "NODES"]);
                    let replication = text(&mut raw, &["INFO", "replication"]);
                    let known = nodes.lines().count() == self.nodes.len();
                    let handshaking = nodes.contains("handshake") || nodes.contains("noaddr");
                    let in_sync = !replication.contains("role:slave")
                        || replication.contains("master_link_status:up");
                    let ok = text(&mut raw, &["CLUSTER", "INFO"]).contains("cluster_state:ok");
                    (ok && known && !handshaking && in_sync).then(|| placement(&nodes))
                })
                .collect();
            views.is_some_and(|views| views.windows(2).all(|pair| pair[0] == pair[1]))
        });
    }

    /// Waits until every replica has every write its primary took.
    pub(crate) fn wait_until_replicated(&self) {
        self.wait_for_every_node("the replicas to catch up", |raw| {
            let info = text(raw, &["INFO", "replication"]);
            // A primary lists each replica's offset; each must equal its own.
            let own = field(&info, "master_repl_offset");
            info.lines()
                .filter(|l| l.starts_with("slave") && l.contains("offset="))
                .all(|l| l.split(',').any(|kv| kv == format!("offset={own}")))
        });
    }

    /// Waits until `holds` is true of every live node, each asked on a new connection.
    pub(crate) fn wait_for_every_node(
        &self,
        what: &str,
        holds: impl Fn(&mut redis::Connection) -> bool,
    ) {
        let live = self.live_ports();
        wait_for(PATIENCE, what, || {
            live.iter()
                .all(|&port| client(port).is_some_and(|mut raw| holds(&mut raw)))
        });
    }

    /// `used_memory` of every primary, summed.
    pub(crate) fn used_memory(&self) -> u64 {
        self.primaries()
            .iter()
            .map(|(port, _)| {
                let mut raw = client(*port).expect("a live primary");
                let info: String = redis::cmd("INFO").arg("memory").query(&mut raw).unwrap();
                field(&info, "used_memory").parse::<u64>().unwrap_or(0)
            })
            .sum()
    }

    /// A synchronous cluster client, to look at what the cache stored.
    pub(crate) fn client(&self) -> redis::cluster::ClusterConnection {
        redis::cluster::ClusterClient::new(self.urls())
            .and_then(|c| c.get_connection())
            .expect("a raw cluster connection")
    }

    /// Every key name on every primary, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (port, _) in self.primaries() {
            let mut raw = client(port).expect("a live primary");
            names.extend(raw.keys::<_, Vec<String>>("*").unwrap());
        }
        names.sort();
        names
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Each node's id, role and slots in a `CLUSTER NODES` reply, sorted: what every node
/// of a settled cluster agrees on.
fn placement(nodes: &str) -> Vec<String> {
    let mut lines: Vec<String> = nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let role = if fields.get(2)?.contains("master") {
                "primary"
            } else {
                "replica"
            };
            let slots = fields.get(8..)?.iter().filter(|s| !s.starts_with('['));
            let slots: Vec<&str> = slots.copied().collect();
            Some(format!("{} {role} {}", fields[0], slots.join(" ")))
        })
        .collect();
    lines.sort();
    lines
}

/// The text reply of `command` on `raw`; empty if it fails.
pub(crate) fn text(raw: &mut redis::Connection, command: &[&str]) -> String {
    redis::cmd(command[0])
        .arg(&command[1..])
        .query(raw)
        .unwrap_or_default()
}

/// The value of `name` in an `INFO` reply.
fn field<'a>(info: &'a str, name: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_default()
        .trim()
}

/// A plain connection to the node on `port`, if it answers within a second.
pub(crate) fn client(port: u16) -> Option<redis::Connection> {
    let url = format!("redis://127.0.0.1:{port}");
    let connection = redis::Client::open(url)
        .ok()?
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    connection
        .set_read_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    Some(connection)
}

/// Runs `command` (quietly) to its end, for at most [`PATIENCE`]; panics if it fails or
/// takes longer (then it is killed).
pub(crate) fn run_bounded(command: &mut Command, what: &str) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e} (redis-cli, Debian's redis-tools, on PATH?)"));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{what} failed");
            return;
        }
        if started.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("{what} did not end within {PATIENCE:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `done` every 20 ms until it holds; panics after `patience`.
pub(crate) fn wait_for(patience: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < patience,
            "gave up waiting for {what} after {patience:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
