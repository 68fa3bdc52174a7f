//! Many entries in one round trip: `MGET` and a pipeline of `SET`s.

use jwm_cache_core::{Deadline, Instant, PersistentHash, StampedBytes};

use super::backend::{LARGE_VALUE_BYTES, RedisBackend, within};
use super::error::RedisBackendError;
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
        command.arg(names);
        let wall_now = record::wall_now();
        let found: Vec<Option<Vec<u8>>> = self.query(&command).await?;
        let live = |bytes: &Vec<u8>| record::is_live(bytes, self.stale_window, wall_now);
        Ok(found
            .into_iter()
            .map(|bytes| bytes.filter(live).map(record::value))
            .collect())
    }

    /// Stores every `(key, value)` until `deadline`, in one round trip (a pipeline).
    /// Values are stamped: encode them with a [`Stamped`](jwm_cache_core::Stamped) codec.
    pub async fn set_many(
        &self,
        entries: Vec<(K, StampedBytes<K>)>,
        deadline: Deadline,
        now: Instant,
    ) -> Result<(), RedisBackendError>
    where
        K: PersistentHash,
    {
        let mut pipeline = redis::pipe();
        let mut bytes = 0;
        let wall_now = record::wall_now();
        for (key, value) in &entries {
            let value = value.as_bytes();
            within(value, "value", self.options.max_value_bytes)?;
            bytes += value.len();
            let name = self.name(key)?;
            pipeline
                .add_command(record::set(
                    name,
                    value,
                    deadline,
                    self.stale_window,
                    now,
                    wall_now,
                ))
                .ignore();
        }
        // Like a single store: its failure is its own, and a large batch travels apart.
        let large = bytes > LARGE_VALUE_BYTES;
        self.link
            .store(&pipeline, self.options.timeout, large)
            .await
    }
}
