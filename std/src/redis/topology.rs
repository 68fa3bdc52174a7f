//! A Redis Cluster's nodes and slots, as `CLUSTER NODES` tells them.

use std::collections::HashMap;

use redis::Value;

/// A node's address, as the cluster announces it.
pub(crate) type Node = (String, u16);

/// Where one node sits: what decides which keys it holds.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Placement {
    id: String,
    address: String,
    primary: bool,
    slots: Vec<String>,
}

/// The cluster as one node sees it: each node's id, address, role and slots, sorted,
/// leaving out what changes without moving keys (pings, epochs, links, which node
/// answered).
#[derive(Debug)]
pub(crate) struct Topology {
    nodes: Vec<Placement>,
    /// The primaries that serve slots.
    pub(crate) primaries: Vec<Node>,
    /// Every node that is up: the primaries and their replicas.
    pub(crate) reachable: Vec<Node>,
    /// Whether the answering node is migrating or importing a slot.
    pub(crate) migrating: bool,
    /// Whether some slot's primary is failing or has no address: its keys are served
    /// by nobody this map names.
    pub(crate) uncovered: bool,
}

impl Topology {
    /// Reads a `CLUSTER NODES` reply; lines it does not understand are left out.
    pub(crate) fn read(reply: &str) -> Self {
        Self::read_routed(reply, &HashMap::new())
    }

    /// [`read`](Self::read), with each node named as `endpoints` names it (by node id),
    /// where it does: the names redis-rs keys its connections by, from `CLUSTER SLOTS`
    /// (see [`endpoints`]), which a TLS certificate names too.
    pub(crate) fn read_routed(reply: &str, endpoints: &HashMap<String, Node>) -> Self {
        let mut map = Topology {
            nodes: Vec::new(),
            primaries: Vec::new(),
            reachable: Vec::new(),
            migrating: false,
            uncovered: false,
        };
        for line in reply.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [
                id,
                address,
                flags,
                _master,
                _ping,
                _pong,
                _epoch,
                _link,
                slots @ ..,
            ] = fields.as_slice()
            else {
                continue;
            };
            let flags: Vec<&str> = flags.split(',').collect();
            let primary = flags.contains(&"master");
            // Only what the cluster agreed on: `fail?` and the link state are the
            // answering node's own opinion, and such a node may still take writes.
            let up = !flags
                .iter()
                .any(|f| matches!(*f, "fail" | "handshake" | "noaddr"));
            let (migrations, slots): (Vec<&str>, Vec<&str>) =
                slots.iter().partition(|s| s.starts_with('['));
            if flags.contains(&"myself") && !migrations.is_empty() {
                map.migrating = true;
            }
            let node = endpoints.get(*id).cloned().or_else(|| announced(address));
            let address = address.split(['@', ',']).next().unwrap_or_default();
            match node {
                Some(node) if up => {
                    if primary && !slots.is_empty() {
                        map.primaries.push(node.clone());
                    }
                    map.reachable.push(node);
                }
                // A primary that is failing, or has no address, serves its slots to
                // nobody: the map is not one to trust.
                _ if primary && !slots.is_empty() => map.uncovered = true,
                _ => {}
            }
            map.nodes.push(Placement {
                id: id.to_string(),
                address: address.to_string(),
                primary,
                slots: slots.iter().map(|s| s.to_string()).collect(),
            });
        }
        map.nodes.sort();
        map.primaries.sort();
        map.reachable.sort();
        map
    }

    /// Whether this map may be walked as it is: every slot's primary named and up, and
    /// no slot moving in or out of the answering node.
    pub(crate) fn settled(&self) -> bool {
        !self.primaries.is_empty() && !self.migrating && !self.uncovered
    }

    /// Whether `other` knows the same nodes, in the same roles, at the same addresses,
    /// serving the same slots.
    pub(crate) fn same_placement(&self, other: &Topology) -> bool {
        self.nodes == other.nodes
    }
}

/// Whether a `CLUSTER INFO` reply says the answering node sees the cluster up
/// (`cluster_state:ok`). A primary cut off from the others' majority says `fail` once
/// the node timeout has passed, while its own `CLUSTER NODES` still lists everyone as
/// up (their failure is only suspected, `fail?`, from its side).
pub(crate) fn cluster_state_ok(info: &str) -> bool {
    info.lines()
        .find_map(|line| line.strip_prefix("cluster_state:"))
        .is_some_and(|state| state.trim() == "ok")
}

/// Each node's endpoint by node id, from a `CLUSTER SLOTS` reply (a range's primary,
/// then its replicas), as redis-rs reads it to name its connections: the IP, or the
/// hostname when the cluster prefers hostnames (`cluster-preferred-endpoint-type`, as
/// behind TLS certificates that name hosts). Entries redis-rs would name by the
/// answering node (an empty or wildcard host) or not at all (`?`) are left out.
pub(crate) fn endpoints(reply: &Value) -> HashMap<String, Node> {
    let mut endpoints = HashMap::new();
    let Value::Array(ranges) = reply else {
        return endpoints;
    };
    let nodes = ranges.iter().flat_map(|range| match range {
        Value::Array(range) => range.get(2..).unwrap_or_default(),
        _ => &[],
    });
    for node in nodes {
        let Value::Array(node) = node else {
            continue;
        };
        let (Some(Value::BulkString(host)), Some(Value::Int(port)), Some(Value::BulkString(id))) =
            (node.first(), node.get(1), node.get(2))
        else {
            continue;
        };
        let (Ok(host), Ok(id), Ok(port)) = (
            std::str::from_utf8(host),
            std::str::from_utf8(id),
            u16::try_from(*port),
        ) else {
            continue;
        };
        if host.is_empty() || host == "?" || matches!(host, "0.0.0.0" | "::") {
            continue;
        }
        endpoints.insert(id.to_string(), (host.to_string(), port));
    }
    endpoints
}

/// The address clients reach a node at, from `ip:port@bus[,hostname]`: the IP, as
/// redis-rs names its connections by the preferred endpoint that `CLUSTER SLOTS` gives
/// (the IP unless the cluster is set to prefer hostnames); the hostname only if there
/// is no IP; none if the node does not know its own address yet.
fn announced(address: &str) -> Option<Node> {
    let (endpoint, hostname) = match address.split_once(',') {
        Some((endpoint, hostname)) => (endpoint, Some(hostname)),
        None => (address, None),
    };
    let endpoint = endpoint.split('@').next()?;
    let (host, port) = endpoint.rsplit_once(':')?;
    let host = Some(host)
        .filter(|h| !h.is_empty())
        .or(hostname)
        .unwrap_or_default();
    (!host.is_empty()).then(|| Some((host.to_string(), port.parse().ok()?)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
d0c9 127.0.0.1:7005@7105 slave 1c9c 0 1796212844134 5 connected
ed60 127.0.0.1:7006@7106 slave 8109 0 1796212844134 6 connected
0f7e 127.0.0.1:7001@7101 myself,master - 0 1796212844000 1 connected 0-5460
8109 127.0.0.1:7003@7103 master - 0 1796212844134 3 connected 10923-16383
1c9c 127.0.0.1:7002@7102 master - 0 1796212844234 2 connected 5461-10922
";

    fn node(port: u16) -> Node {
        ("127.0.0.1".to_string(), port)
    }

    #[test]
    fn the_cluster_state_is_read_from_cluster_info() {
        let info = |state: &str| {
            format!(
                "cluster_enabled:1\r\ncluster_state:{state}\r\ncluster_slots_assigned:16384\r\n"
            )
        };
        assert!(cluster_state_ok(&info("ok")));
        assert!(!cluster_state_ok(&info("fail")));
        assert!(!cluster_state_ok("cluster_slots_assigned:16384\r\n"));
        assert!(!cluster_state_ok(""));
    }

    #[test]
    fn a_settled_cluster_lists_its_primaries_and_every_reachable_node() {
        let map = Topology::read(NODES);
        assert_eq!(map.primaries, vec![node(7001), node(7002), node(7003)]);
        assert_eq!(map.reachable.len(), 5);
        assert!(map.settled());
        // Another node's view: other pings, another `myself`.
        let other = NODES
            .replace("myself,master", "master")
            .replace(
                "1c9c 127.0.0.1:7002@7102 master",
                "1c9c 127.0.0.1:7002@7102 myself,master",
            )
            .replace("1796212844134", "1796212849999");
        assert!(map.same_placement(&Topology::read(&other)));
    }

    #[test]
    fn migrations_failures_and_moved_slots_unsettle_or_differ() {
        let migrating = NODES.replace("0-5460", "0-5460 [5460->-1c9c]");
        assert!(Topology::read(&migrating).migrating);
        let failing = NODES.replace(
            "8109 127.0.0.1:7003@7103 master",
            "8109 127.0.0.1:7003@7103 master,fail",
        );
        let failing = Topology::read(&failing);
        assert!(failing.uncovered && failing.primaries.len() == 2);
        let moved = NODES
            .replace("0-5460", "0-5459")
            .replace("5461-10922", "5460-10922");
        assert!(!Topology::read(NODES).same_placement(&Topology::read(&moved)));
        assert!(Topology::read("garbage\n\n").primaries.is_empty());
    }

    #[test]
    fn nodes_are_named_as_cluster_slots_names_them() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let range = |start, end, host: &str, port, id: &str| {
            Value::Array(vec![
                Value::Int(start),
                Value::Int(end),
                Value::Array(vec![bulk(host), Value::Int(port), bulk(id)]),
            ])
        };
        let mut first = range(0, 5460, "cache-1", 7001, "0f7e");
        if let Value::Array(first) = &mut first {
            let replica = vec![bulk("cache-5"), Value::Int(7005), bulk("d0c9")];
            first.push(Value::Array(replica));
        }
        let slots = Value::Array(vec![
            first,
            range(5461, 10922, "?", 7002, "1c9c"),
            range(10923, 16383, "", 7003, "8109"),
        ]);
        let endpoints = endpoints(&slots);
        assert_eq!(endpoints.len(), 2, "unknown and empty hosts left out");
        // A replica by its endpoint too: a near tier tracks it, as a certificate names it.
        let replica = ("cache-5".to_string(), 7005);
        assert!(
            Topology::read_routed(NODES, &endpoints)
                .reachable
                .contains(&replica)
        );
        let map = Topology::read_routed(NODES, &endpoints);
        assert!(map.primaries.contains(&("cache-1".to_string(), 7001)));
        // The others as `CLUSTER NODES` announces them.
        assert!(map.primaries.contains(&("127.0.0.1".to_string(), 7002)));
        // Placements compare the same, however a primary is named for routing.
        assert!(map.same_placement(&Topology::read(NODES)));
        assert!(super::endpoints(&Value::Nil).is_empty());
    }

    #[test]
    fn only_agreed_failures_count_and_addresses_come_as_announced() {
        // A suspected failure or a broken link is one node's opinion: still up.
        let suspected = NODES
            .replace(
                "8109 127.0.0.1:7003@7103 master",
                "8109 127.0.0.1:7003@7103 master,fail?",
            )
            .replace("134 3 connected 10923", "134 3 disconnected 10923");
        let map = Topology::read(&suspected);
        assert!(map.settled() && map.primaries.len() == 3);
        // A primary with no address yet, or one without slots in handshake.
        let lone = NODES.replace("127.0.0.1:7001@7101", ":7001@7101");
        assert!(Topology::read(&lone).uncovered);
        let noaddr = NODES.replace(
            "1c9c 127.0.0.1:7002@7102 master",
            "1c9c 127.0.0.1:7002@7102 master,noaddr",
        );
        assert!(Topology::read(&noaddr).uncovered);
        // The IP, as redis-rs routes by default; a hostname only where there is no IP.
        let named = NODES.replace("127.0.0.1:7003@7103", "10.0.0.3:7003@7103,cache-3");
        let ip = ("10.0.0.3".to_string(), 7003);
        assert!(Topology::read(&named).primaries.contains(&ip));
        let name_only = NODES.replace("127.0.0.1:7003@7103", ":7003@7103,cache-3");
        let hostname = ("cache-3".to_string(), 7003);
        assert!(Topology::read(&name_only).primaries.contains(&hostname));
        // A migration shown on another node's line is not the answering node's.
        let theirs = NODES.replace("10923-16383", "10923-16383 [10923->-1c9c]");
        assert!(Topology::read(&theirs).settled());
    }
}
