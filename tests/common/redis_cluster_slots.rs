//! Moving slots between the primaries of a test cluster: by hand, a step at a time, or
//! with `redis-cli --cluster reshard`.
#![allow(dead_code)]

use std::process::Command;

use super::redis_cluster::{RedisCluster, client, run_bounded, text};

impl RedisCluster {
    /// Whether the primary on `port` serves the key named `name`.
    pub(crate) fn serves(&self, port: u16, name: &str) -> bool {
        let mut raw = client(port).expect("a live node");
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(name)
            .query(&mut raw)
            .unwrap();
        let ranges: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut raw).unwrap();
        ranges.iter().any(|range| {
            let redis::Value::Array(range) = range else {
                return false;
            };
            let int = |v: Option<&redis::Value>| match v {
                Some(redis::Value::Int(n)) => *n,
                _ => -1,
            };
            let owner = match range.get(2) {
                Some(redis::Value::Array(node)) => int(node.get(1)) == i64::from(port),
                _ => false,
            };
            owner && (int(range.first())..=int(range.get(1))).contains(&slot)
        })
    }

    /// Opens the migration of `slot` from the primary on `from` to the one on `to`, as
    /// `redis-cli --cluster reshard` does: the target imports it, the source migrates it.
    pub(crate) fn open_migration(&self, slot: i64, from: u16, to: u16) {
        let (from_id, to_id) = (self.id_of(from), self.id_of(to));
        let mut target = client(to).expect("a live target");
        let _: () = redis::cmd("CLUSTER")
            .arg(&["SETSLOT", &slot.to_string(), "IMPORTING", &from_id][..])
            .query(&mut target)
            .unwrap();
        let mut source = client(from).expect("a live source");
        let _: () = redis::cmd("CLUSTER")
            .arg(&["SETSLOT", &slot.to_string(), "MIGRATING", &to_id][..])
            .query(&mut source)
            .unwrap();
    }

    /// Moves up to `count` of `slot`'s keys from `from` to `to` with `MIGRATE`; how many.
    pub(crate) fn migrate_keys(&self, slot: i64, from: u16, to: u16, count: usize) -> usize {
        let mut source = client(from).expect("a live source");
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(slot)
            .arg(count)
            .query(&mut source)
            .unwrap();
        if !keys.is_empty() {
            let _: () = redis::cmd("MIGRATE")
                .arg(&["127.0.0.1", &to.to_string(), "", "0", "5000", "KEYS"][..])
                .arg(&keys)
                .query(&mut source)
                .unwrap();
        }
        keys.len()
    }

    /// Ends a migration: every primary gives `slot` to the one on `to`; waits until
    /// every node says so.
    pub(crate) fn close_migration(&self, slot: i64, to: u16) {
        let to_id = self.id_of(to);
        let mut ports: Vec<u16> = self.primaries().into_iter().map(|(p, _)| p).collect();
        ports.sort_by_key(|p| *p != to);
        for port in ports {
            let mut raw = client(port).expect("a live primary");
            let _: () = redis::cmd("CLUSTER")
                .arg(&["SETSLOT", &slot.to_string(), "NODE", &to_id][..])
                .query(&mut raw)
                .unwrap();
        }
        self.wait_for_every_node("every node to agree on the slot", |raw| {
            owns(&text(raw, &["CLUSTER", "NODES"]), &to_id, slot)
        });
    }

    /// The slot of the key named `name`.
    pub(crate) fn slot_of(&self, name: &str) -> i64 {
        let mut raw = client(self.live_ports()[0]).expect("a live node");
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(name)
            .query(&mut raw)
            .unwrap()
    }

    /// A primary other than the one on `port`.
    pub(crate) fn other_primary(&self, port: u16) -> u16 {
        let others = self.primaries().into_iter().map(|(p, _)| p);
        others
            .into_iter()
            .find(|p| *p != port)
            .expect("another primary")
    }

    /// The primary (its port) that serves `slot` now.
    pub(crate) fn owner_of(&self, slot: i64) -> u16 {
        let name_in = |port: u16| {
            let mut raw = client(port).expect("a live node");
            let keys: Vec<String> = redis::cmd("CLUSTER")
                .arg("GETKEYSINSLOT")
                .arg(slot)
                .arg(1)
                .query(&mut raw)
                .unwrap_or_default();
            !keys.is_empty()
        };
        self.primaries()
            .into_iter()
            .map(|(port, _)| port)
            .find(|&port| name_in(port))
            .expect("a primary holding a key of the slot")
    }

    /// Moves `slots` slots from the primary on `from` to the one on `to` with
    /// `redis-cli --cluster reshard`, and waits for it to finish.
    pub(crate) fn reshard(&self, from: u16, to: u16, slots: usize) {
        let mut reshard = Command::new("redis-cli");
        reshard
            .args(["--cluster", "reshard", &format!("127.0.0.1:{from}")])
            .args(["--cluster-from", &self.id_of(from)])
            .args(["--cluster-to", &self.id_of(to)])
            .args(["--cluster-slots", &slots.to_string()])
            .args(["--cluster-yes", "--cluster-pipeline", "10"]);
        run_bounded(&mut reshard, "redis-cli --cluster reshard");
    }
}

/// Whether `CLUSTER NODES` says the node `id` serves `slot`.
fn owns(nodes: &str, id: &str, slot: i64) -> bool {
    nodes.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.first() == Some(&id)
            && fields.iter().skip(8).any(|range| {
                let (low, high) = range.split_once('-').unwrap_or((range, range));
                match (low.parse::<i64>(), high.parse::<i64>()) {
                    (Ok(low), Ok(high)) => (low..=high).contains(&slot),
                    _ => false,
                }
            })
    })
}
