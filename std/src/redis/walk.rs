//! `clear` and `len`: walking this namespace's keys with `SCAN`, on one server or on
//! every primary of a cluster.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::RedisBackendError;
use super::backend::RedisBackend;
use super::lease;
use super::topology::{self, Node, Topology};

/// What a walk does with the names it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Walk {
    /// Unlinks them (`clear`).
    Unlink,
    /// Counts them, each once (`len`).
    Count,
}

/// How many times a cluster walk starts again because slots moved under it.
const WALKS: u32 = 8;

impl<K> RedisBackend<K> {
    /// Walks every key name of this namespace: see [`Walk`]. Returns how many names
    /// were found (for `Unlink`, zero: a clear keeps no names).
    ///
    /// On a cluster each primary is scanned in turn. Keys only move between nodes while
    /// a slot migrates or after the slot map changes, so a walk counts only if every
    /// primary showed the same slot map before and after its own scan and was
    /// migrating no slot: then no key moved between a scanned and an unscanned node.
    /// Otherwise the walk starts again (a `clear` has unlinked what it found, which
    /// stays unlinked), up to [`WALKS`] times, then fails with
    /// [`RedisBackendError::Unsettled`].
    pub(super) async fn walk(&self, walk: Walk) -> Result<usize, RedisBackendError> {
        self.walk_matching(walk, &self.namespace.pattern()).await
    }

    /// Unlinks every lease of this namespace's keys, if the cache leases: their
    /// holders' stores are then refused (see `lease::fence`). The lease names are the
    /// key names' pattern made a lease name as each key name is (see
    /// `lease::lease_name`): a head without a hash tag has none, so on a cluster
    /// `{pattern}:lease` matches what it wraps.
    pub(super) async fn unlink_leases(&self) -> Result<(), RedisBackendError> {
        let cluster = self.link.is_cluster();
        let pattern = self.namespace.pattern();
        match self
            .leases()
            .and_then(|_| lease::lease_name(&pattern, cluster))
        {
            Some(leases) => self.walk_matching(Walk::Unlink, &leases).await.map(drop),
            None => Ok(()),
        }
    }

    /// [`walk`](Self::walk) over the names `pattern` matches.
    async fn walk_matching(&self, walk: Walk, pattern: &str) -> Result<usize, RedisBackendError> {
        if !self.link.is_cluster() {
            let mut names = HashSet::new();
            self.walk_node(None, walk, pattern, &mut names).await?;
            return Ok(names.len());
        }
        for attempt in 0..WALKS {
            if attempt > 0 {
                // A migration or failover takes a while: give it some.
                tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
            }
            let map =
                Topology::read_routed(&self.cluster_nodes(None).await?, &self.endpoints().await);
            let mut names = HashSet::new();
            let mut settled = map.settled();
            for primary in &map.primaries {
                let before = self.cluster_nodes(Some(primary)).await?;
                settled &= (self.walk_node(Some(primary), walk, pattern, &mut names)).await?;
                let after = self.cluster_nodes(Some(primary)).await?;
                settled &= [before, after].iter().all(|view| {
                    let view = Topology::read(view);
                    view.same_placement(&map) && view.settled()
                });
            }
            if settled {
                return Ok(names.len());
            }
        }
        Err(RedisBackendError::Unsettled)
    }

    /// Each primary's endpoint as redis-rs names its connection (see
    /// [`topology::endpoints`]); empty if `CLUSTER SLOTS` fails, and the walk then
    /// names the primaries as `CLUSTER NODES` announces them.
    async fn endpoints(&self) -> HashMap<String, Node> {
        let command = redis::cmd("CLUSTER").arg("SLOTS").to_owned();
        match self.link.query::<redis::Value>(&command).await {
            Ok(reply) => topology::endpoints(&reply),
            Err(_) => HashMap::new(),
        }
    }

    /// `CLUSTER NODES`, as `node` (or any node) sees the cluster.
    async fn cluster_nodes(&self, node: Option<&Node>) -> Result<String, RedisBackendError> {
        let command = redis::cmd("CLUSTER").arg("NODES").to_owned();
        match node {
            Some(node) => self.link.query_node(&command, node).await,
            None => self.link.query(&command).await,
        }
    }

    /// Scans `node` (or the one server) page by page, unlinking each page or adding it
    /// to `names`. SCAN may list a name twice; the set counts it once. Returns whether
    /// every page of a cluster node was unlinked: a name that node lists but no longer
    /// serves (a slot half moved to it) answers MOVED, and the walk must start again.
    async fn walk_node(
        &self,
        node: Option<&Node>,
        walk: Walk,
        pattern: &str,
        names: &mut HashSet<Vec<u8>>,
    ) -> Result<bool, RedisBackendError> {
        let mut unlinked = true;
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000);
            let (next, page): (u64, Vec<Vec<u8>>) = match node {
                Some(node) => self.link.query_node(&scan, node).await?,
                None => self.link.query(&scan).await?,
            };
            if walk == Walk::Unlink && !page.is_empty() {
                match node {
                    Some(node) => unlinked &= self.link.unlink_on_node(&page, node).await,
                    None => {
                        let mut unlink = redis::cmd("UNLINK");
                        unlink.arg(&page);
                        // The clear waited for stores in transit before its walk.
                        let _unlinked: usize = self.link.query(&unlink).await?;
                    }
                }
            }
            match walk {
                Walk::Count => names.extend(page),
                Walk::Unlink => {}
            }
            if next == 0 {
                return Ok(unlinked);
            }
            cursor = next;
        }
    }
}
