//! How the async cache stores a value: as a write, or as a value it computed, within
//! what is left of the call's budget.

use jwm_cache_core::{Error, Instant, Serializer, Write};

use super::miss::Storing;
use super::{AsyncCache, AsyncCacheError};
use crate::asynch::backend::AsyncLookup;
use crate::asynch::claim::Lease;

/// Only what a store needs: the codec, and a backend that can remove.
impl<K, V, B, S, C> AsyncCache<K, V, B, S, C>
where
    S: Serializer<V>,
    B: AsyncLookup<K, K, S::Encoded>,
{
    /// Stores what `encode` makes of the value under `key`, with `storing`'s TTL and
    /// within its budget, as a write or as a computed value (see [`Origin`]).
    pub(super) async fn store(
        &self,
        key: K,
        storing: Storing,
        now: Instant,
        origin: Origin<'_>,
        encode: impl FnOnce(&S) -> Result<S::Encoded, S::Error>,
    ) -> Result<(), AsyncCacheError<K, V, B, S>> {
        let stored = match self.policy.write::<V>(storing.ttl, now, encode) {
            Ok(Write::Set { value, deadline }) => match (origin, storing.left()) {
                (Origin::Computed(lease), budget) => {
                    let budget = budget.unwrap_or(std::time::Duration::MAX);
                    let set = (self.backend).set_computed(key, value, deadline, now, budget, lease);
                    set.await
                }
                (Origin::Write, Some(budget)) => {
                    let set = self.backend.set_within(key, value, deadline, now, budget);
                    set.await
                }
                (Origin::Write, None) => self.backend.set(key, value, deadline, now).await,
            },
            Ok(Write::Remove) => AsyncLookup::<K, K, _>::remove(&self.backend, &key, now)
                .await
                .map(drop),
            Err(e) => return self.counted(Err(Error::Codec(e))),
        };
        self.counted(stored.map_err(Error::Backend))
    }

    pub(super) fn counted<T>(
        &self,
        result: Result<T, AsyncCacheError<K, V, B, S>>,
    ) -> Result<T, AsyncCacheError<K, V, B, S>> {
        self.count_outcome(&result);
        result
    }
}

/// Whose value a store writes: the caller's (`insert`), which takes the key's lease from
/// any process computing it, or one this process computed, under the lease it held or
/// outwaited, if any (see [`AsyncBackend::set_computed`](crate::asynch::AsyncBackend::set_computed)).
#[derive(Clone, Copy)]
pub(crate) enum Origin<'a> {
    Write,
    Computed(Option<&'a Lease>),
}
