//! Many entries at once: `MGET` (on a cluster, batched lookups) and pipelines of `SET`s.

use std::collections::HashMap;

use futures_util::future::{join, join_all};
use futures_util::stream::{self, StreamExt};
use jwm_cache_core::{Deadline, Instant, PersistentHash, StampedBytes};
use redis::Pipeline;
use redis::cluster_routing::Slot;

use super::backend::{LARGE_VALUE_BYTES, RedisBackend, within};
use super::error::RedisBackendError;
use super::lease;
use super::record::{self, Stored};
use super::writes::Writer;

/// The most per-slot pipelines one cluster `set_many` has in flight. Measured, not
/// derived: on an idle cluster, 10,000 keys took 92 ms at 64 (128 ms with no limit,
/// 120 ms at 32), and 100 keys 1.3 ms (0.7-1.0 ms with no limit, 2.0 ms at 16).
const CLUSTER_STORES_AT_ONCE: usize = 64;

impl<K> RedisBackend<K> {
    /// The values under `keys`, in one round trip (`MGET`), unchecked: a cache's codec
    /// checks each one's header as it decodes it (a value too short to hold its deadline
    /// is handed on whole, and the codec refuses it).
    ///
    /// On a cluster the keys join the lookups batched from every task instead (at most
    /// 32 keys per `MGET`), within one timeout for the whole call: an `MGET` of its own,
    /// split by redis-rs into a command per slot, failed most calls during a resharding
    /// and paused the backend for every other caller (see `CLUSTER_MOST_KEYS`).
    pub async fn get_many<Q: PersistentHash>(
        &self,
        keys: &[Q],
    ) -> Result<Vec<Option<StampedBytes<K>>>, RedisBackendError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let names = keys
            .iter()
            .map(|k| self.name(k))
            .collect::<Result<Vec<_>, _>>()?;
        let wall_now = record::wall_now();
        let found = match self.link.is_cluster() {
            true => self.look_up_batched(names).await?,
            false => self.look_up_at_once(&names).await?,
        };
        let live = |bytes: &Vec<u8>| record::is_live(bytes, self.stale_window, wall_now);
        Ok(found
            .into_iter()
            .map(|bytes| bytes.filter(live).map(record::value))
            .collect())
    }

    /// The bytes under `names`, by one `MGET`, but for names read apart (known or
    /// suspected to hold large values: see `link::large`), each a `GET` of its own on
    /// the second connection, at the same time.
    async fn look_up_at_once(
        &self,
        names: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, RedisBackendError> {
        let (apart, together): (Vec<usize>, Vec<usize>) =
            (0..names.len()).partition(|&i| self.link.reads_apart(&names[i]));
        let mget = async {
            if together.is_empty() {
                return Ok(Vec::new());
            }
            let mut command = redis::cmd("MGET");
            together.iter().for_each(|&i| _ = command.arg(&names[i]));
            let found = self.query::<Vec<Option<Vec<u8>>>>(&command).await;
            if let Err(RedisBackendError::Timeout(_)) = found {
                self.link
                    .suspect(together.iter().map(|&i| names[i].as_str()));
            }
            match found? {
                found if found.len() == together.len() => Ok(found),
                _ => Err(RedisBackendError::Malformed),
            }
        };
        // All at once, pipelined on one connection: the call keeps one timeout.
        let gets = join_all(apart.iter().map(|&i| self.link.get(&names[i])));
        let (together_found, apart_found) = join(mget, gets).await;
        let mut found = vec![None; names.len()];
        for (&i, value) in together.iter().zip(together_found?) {
            self.link.learn_size(&names[i], value.as_deref());
            found[i] = value;
        }
        for (&i, value) in apart.iter().zip(apart_found) {
            found[i] = value?;
        }
        Ok(found)
    }

    /// The bytes under `names`, each a lookup batched with every other task's: the
    /// batches keep a cluster's limits (see `Batcher`), and each lookup's deadline, all
    /// set as they queue at once. They share each batch half and half with single
    /// lookups, so a call of thousands of keys does not hold up every other caller.
    async fn look_up_batched(
        &self,
        names: Vec<String>,
    ) -> Result<Vec<Option<Vec<u8>>>, RedisBackendError> {
        let lookups = names
            .into_iter()
            .map(|name| self.lookups.get_among_many(&self.link, name));
        join_all(lookups).await.into_iter().collect()
    }

    /// Stores every `(key, value)` until `deadline`, in one round trip (a pipeline), within
    /// one timeout for the whole call. Values are stamped: encode them with a
    /// [`Stamped`](jwm_cache_core::Stamped) codec.
    ///
    /// On a cluster a pipeline may not cross slots: the call sends one per slot, at most
    /// 64 at a time, on a connection of its own. During a resharding each that answers
    /// MOVED makes redis-rs reread the slot map, holding every request on that
    /// connection meanwhile: on the lookups' connection, a `set_many` of 100 keys at a
    /// time failed most calls of 64 busy tasks. On its own, only its own stores may time
    /// out.
    ///
    /// A backend's write, not a cache's: it does not cancel the computations in flight
    /// of a cache over this backend, so a computation of one of these keys begun before
    /// may store its older value after it, unless the backend leases (the cache's own,
    /// [`AsyncCache::backend`](crate::asynch::AsyncCache::backend), once built with a lease; a
    /// handle opened apart does not): then the write takes each key's lease from the
    /// process computing it, whose store is refused (on a cluster, a pipeline of
    /// revocations per slot goes first). Write through the cache (`insert`) where that
    /// matters.
    pub async fn set_many(
        &self,
        entries: Vec<(K, StampedBytes<K>)>,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), RedisBackendError>
    where
        K: PersistentHash,
    {
        // Per slot on a cluster (else one): the stores, their bytes and names, and the
        // leases to revoke first.
        let mut pipelines: HashMap<Option<Slot>, SlotWrites> = HashMap::new();
        let cluster = self.link.is_cluster();
        let wall_now = record::wall_now();
        for (key, value) in &entries {
            let value = value.as_bytes();
            within(value, "value", self.options.max_value_bytes)?;
            let name = self.name(key)?;
            let slot = cluster.then(|| Slot::for_key(&name));
            self.link.learn_size(&name, Some(value));
            let writes = pipelines.entry(slot).or_default();
            writes.bytes += value.len();
            let stored = Stored::new(value, deadline, self.stale_window, now, wall_now);
            let set = self.store_command(&name, stored, Writer::User);
            writes.stores.add_command(set).ignore();
            if let Some(lease_name) = self.lease_of(&name).filter(|_| cluster) {
                let revocations = writes.revocations.get_or_insert_with(redis::pipe);
                revocations.add_command(lease::revoke(&lease_name)).ignore();
            }
            writes.names.push(name);
        }
        // Like a single store: its failure is its own; a large batch, or any on a
        // cluster, travels apart.
        let timeout = self.options.timeout;
        let started = tokio::time::Instant::now();
        let stores = pipelines.into_values().map(|writes| async move {
            let left = || timeout.saturating_sub(started.elapsed());
            if let Some(revocations) = &writes.revocations {
                self.link.store(revocations, &[], left(), true).await?;
            }
            let names: Vec<&str> = writes.names.iter().map(String::as_str).collect();
            let apart = cluster || writes.bytes > LARGE_VALUE_BYTES;
            self.link.store(&writes.stores, &names, left(), apart).await
        });
        stream::iter(stores)
            .buffer_unordered(CLUSTER_STORES_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }
}

/// One slot's share of a `set_many`.
#[derive(Default)]
struct SlotWrites {
    stores: Pipeline,
    /// The stores' bytes.
    bytes: usize,
    names: Vec<String>,
    /// On a cluster, if the cache leases: the keys' leases, revoked before the stores.
    revocations: Option<Pipeline>,
}
