//! A Redis Cluster's nodes and slots, as `CLUSTER NODES` tells them.

/// A node's address, as the cluster announces it.
pub(crate) type Node = (String, u16);

/// The cluster as one node sees it: each node's id, address, role and slots, sorted,
/// leaving out what changes without moving keys (pings, epochs, links, which node
/// answered).
#[derive(Debug)]
pub(crate) struct Topology {
    nodes: Vec<(String, String, bool, Vec<String>)>,
    /// The primaries that serve slots.
    pub(crate) primaries: Vec<Node>,
    /// Every node that is up: the primaries and their replicas.
    pub(crate) reachable: Vec<Node>,
    /// Whether the map cannot be trusted to place every key: the answering node is
    /// migrating or importing a slot, or a primary is failing or has no address.
    pub(crate) unsettled: bool,
}

impl Topology {
    /// Reads a `CLUSTER NODES` reply; lines it does not understand are left out.
    pub(crate) fn read(reply: &str) -> Self {
        let mut map = Topology {
            nodes: Vec::new(),
            primaries: Vec::new(),
            reachable: Vec::new(),
            unsettled: false,
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
                link,
                slots @ ..,
            ] = fields.as_slice()
            else {
                continue;
            };
            let flags: Vec<&str> = flags.split(',').collect();
            let primary = flags.contains(&"master");
            let up = !flags
                .iter()
                .any(|f| f.starts_with("fail") || *f == "handshake" || *f == "noaddr")
                && *link == "connected";
            let (migrations, slots): (Vec<&str>, Vec<&str>) =
                slots.iter().partition(|s| s.starts_with('['));
            if flags.contains(&"myself") && !migrations.is_empty() {
                map.unsettled = true;
            }
            // `host:port@bus[,hostname]`
            let address = address.split(['@', ',']).next().unwrap_or_default();
            let node = address
                .rsplit_once(':')
                .and_then(|(host, port)| Some((host.to_string(), port.parse::<u16>().ok()?)))
                .filter(|(host, _)| !host.is_empty());
            match node {
                Some(node) if up => {
                    if primary && !slots.is_empty() {
                        map.primaries.push(node.clone());
                    }
                    map.reachable.push(node);
                }
                // A primary that is failing, or has no address, serves its slots to
                // nobody: the map is not one to trust.
                _ if primary && !slots.is_empty() => map.unsettled = true,
                _ => {}
            }
            let slots = slots.iter().map(|s| s.to_string()).collect();
            map.nodes
                .push((id.to_string(), address.to_string(), primary, slots));
        }
        map.nodes.sort();
        map.primaries.sort();
        map.reachable.sort();
        map
    }

    /// Whether `other` places every slot on the same node, and knows the same nodes.
    pub(crate) fn same_slots(&self, other: &Topology) -> bool {
        self.nodes == other.nodes
    }
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
    fn a_settled_cluster_lists_its_primaries_and_every_reachable_node() {
        let map = Topology::read(NODES);
        assert_eq!(map.primaries, vec![node(7001), node(7002), node(7003)]);
        assert_eq!(map.reachable.len(), 5);
        assert!(!map.unsettled);
        // Another node's view: other pings, another `myself`.
        let other = NODES
            .replace("myself,master", "master")
            .replace(
                "1c9c 127.0.0.1:7002@7102 master",
                "1c9c 127.0.0.1:7002@7102 myself,master",
            )
            .replace("1796212844134", "1796212849999");
        assert!(map.same_slots(&Topology::read(&other)));
    }

    #[test]
    fn migrations_failures_and_moved_slots_unsettle_or_differ() {
        let migrating = NODES.replace("0-5460", "0-5460 [5460->-1c9c]");
        assert!(Topology::read(&migrating).unsettled);
        let failing = NODES.replace(
            "8109 127.0.0.1:7003@7103 master",
            "8109 127.0.0.1:7003@7103 master,fail",
        );
        let failing = Topology::read(&failing);
        assert!(failing.unsettled && failing.primaries.len() == 2);
        let moved = NODES
            .replace("0-5460", "0-5459")
            .replace("5461-10922", "5460-10922");
        assert!(!Topology::read(NODES).same_slots(&Topology::read(&moved)));
        assert!(Topology::read("garbage\n\n").primaries.is_empty());
    }
}
