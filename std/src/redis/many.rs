//! Many entries in one round trip: `MGET` and a pipeline of `SET`s.

use std::collections::HashMap;

use futures_util::future::join_all;
use jwm_cache_core::{Deadline, Instant, PersistentHash, StampedBytes};
use redis::Pipeline;
use redis::cluster_routing::Slot;

use super::backend::{LARGE_VALUE_BYTES, RedisBackend, within};
use super::batch::{Found, splits_badly, within_half_on_a_cluster};
use super::error::RedisBackendError;
use super::link::Link;
use super::record;

impl<K> RedisBackend<K> {
    /// The values under `keys`, in one round trip (`MGET`), unchecked: a cache's codec
    /// checks each one's header as it decodes it (a value too short to hold its deadline
    /// is handed on whole, and the codec refuses it).
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
        let mut command = redis::cmd("MGET");
        command.arg(&names);
        let wall_now = record::wall_now();
        // One timeout for the whole call, the fallback below included.
        // A timeout too long for the clock (`Duration::MAX`) sets no deadline.
        let deadline = tokio::time::Instant::now().checked_add(self.link.timeout());
        // A cluster's `MGET` that takes half the timeout goes key by key (`Malformed`
        // stands for "split badly" here), as a batch's does: see `within_half_on_a_cluster`.
        let found =
            within_half_on_a_cluster(&self.link, self.query::<Vec<Option<Vec<u8>>>>(&command))
                .await
                .unwrap_or(Err(RedisBackendError::Malformed));
        let found = found.and_then(|found| match found.len() == names.len() {
            true => Ok(found),
            false => Err(RedisBackendError::Malformed),
        });
        let found = match found {
            // See `splits_badly`: the keys apart, then.
            Err(e) if self.link.is_cluster() && splits_badly(&e) => {
                let names = names.iter().map(String::as_str);
                let each = get_each(&self.link, names);
                let founds = match deadline {
                    Some(deadline) => tokio::time::timeout_at(deadline, each).await,
                    None => Ok(each.await),
                };
                let Ok(founds) = founds else {
                    // As the lookups would have on their own: a stalled server pauses.
                    self.link.failed();
                    return Err(RedisBackendError::Timeout(self.link.timeout()));
                };
                founds.into_iter().collect::<Result<_, _>>()?
            }
            found => found?,
        };
        let live = |bytes: &Vec<u8>| record::is_live(bytes, self.stale_window, wall_now);
        Ok(found
            .into_iter()
            .map(|bytes| bytes.filter(live).map(record::value))
            .collect())
    }

    /// Stores every `(key, value)` until `deadline`, in one round trip (a pipeline; on
    /// a cluster, one pipeline per slot, all at once). Values are stamped: encode them
    /// with a [`Stamped`](jwm_cache_core::Stamped) codec.
    pub async fn set_many(
        &self,
        entries: Vec<(K, StampedBytes<K>)>,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), RedisBackendError>
    where
        K: PersistentHash,
    {
        // A pipeline and its bytes, per slot on a cluster (where a pipeline must not
        // cross slots), else one.
        let mut pipelines: HashMap<Option<Slot>, (Pipeline, usize, Vec<String>)> = HashMap::new();
        let cluster = self.link.is_cluster();
        let wall_now = record::wall_now();
        for (key, value) in &entries {
            let value = value.as_bytes();
            within(value, "value", self.options.max_value_bytes)?;
            let name = self.name(key)?;
            let slot = cluster.then(|| Slot::for_key(&name));
            let (pipeline, bytes, names) = pipelines
                .entry(slot)
                .or_insert_with(|| (redis::pipe(), 0, Vec::new()));
            *bytes += value.len();
            let set = record::set(&name, value, deadline, self.stale_window, now, wall_now);
            pipeline.add_command(set).ignore();
            names.push(name);
        }
        // Like a single store: its failure is its own, and a large batch travels apart.
        let timeout = self.options.timeout;
        let stores = pipelines
            .values()
            .map(|(pipeline, bytes, names)| async move {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                self.link
                    .store(pipeline, &names, timeout, *bytes > LARGE_VALUE_BYTES)
                    .await
            });
        join_all(stores).await.into_iter().collect()
    }
}

/// The value under each name, by a `GET` each, all at once.
async fn get_each<'a>(link: &Link, names: impl IntoIterator<Item = &'a str>) -> Vec<Found> {
    let gets = names.into_iter().map(|name| link.get(name));
    join_all(gets).await
}
