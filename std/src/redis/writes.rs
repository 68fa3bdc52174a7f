//! How a store or a removal is sent: as a write, which takes the key's lease from any
//! process computing it; as a value this process computed, which never does; or as the
//! store of a lease's holder, which lands only while it holds it (see `lease::fence`).

use std::time::Duration;

use jwm_cache_core::{Deadline, Instant, StampedBytes};
use redis::Cmd;

use super::backend::{LARGE_VALUE_BYTES, RedisBackend, within};
use super::error::RedisBackendError;
use super::lease;
use super::record::{self, Stored};
use crate::asynch::Lease;

/// Who stores a value.
#[derive(Clone, Copy)]
pub(crate) enum Writer<'a> {
    /// The caller (`insert`, `set_many`): if the cache leases, the key's lease is taken
    /// from its holder, whose older value then cannot land after this write.
    User,
    /// This process, which computed the value without a lease: a plain `SET`. A holder
    /// computing meanwhile stores after it, and its lease is left alone.
    Unleased,
    /// The holder of this lease, or a process that outwaited it: stored only while the
    /// lease holds.
    Holder(&'a Lease),
}

impl<'a> Writer<'a> {
    /// Who stores a value this process computed, under `lease` if any.
    pub(crate) fn computed(lease: Option<&'a Lease>) -> Self {
        lease.map_or(Writer::Unleased, Writer::Holder)
    }
}

impl<K> RedisBackend<K> {
    /// `set_within` for the key named `name`, as `writer` stores it.
    pub(super) async fn set_named(
        &self,
        name: String,
        value: &StampedBytes<K>,
        deadline: Deadline,
        now: Instant,
        budget: Duration,
        writer: Writer<'_>,
    ) -> Result<(), RedisBackendError> {
        let value = value.as_bytes();
        within(value, "value", self.options.max_value_bytes)?;
        let budget = match writer {
            Writer::User => self.revoke_first(&name, budget).await?,
            Writer::Unleased | Writer::Holder(_) => budget,
        };
        let stored = Stored::new(value, deadline, self.stale_window, now, record::wall_now());
        let command = self.store_command(&name, stored, writer);
        let large = value.len() > LARGE_VALUE_BYTES;
        self.link.learn_size(&name, Some(value));
        self.link.store(&command, &[&name], budget, large).await
    }

    /// The command that stores `stored` under `name` for `writer`: a user's write that
    /// also revokes the key's lease if the cache leases, on one server (on a cluster,
    /// [`revoke_first`](Self::revoke_first) does); a holder's, only while it holds its
    /// lease; a computed value's, a plain `SET`.
    pub(super) fn store_command(&self, name: &str, stored: Stored<'_>, writer: Writer<'_>) -> Cmd {
        match writer {
            Writer::Holder(lease) => lease::set_held(name, lease, stored),
            Writer::User => match self.lease_of(name) {
                Some(lease_name) if !self.link.is_cluster() => {
                    lease::set_revoking(name, &lease_name, stored)
                }
                _ => record::set(name, stored),
            },
            Writer::Unleased => record::set(name, stored),
        }
    }

    /// The command that removes `name`: on one server, revoking its lease too if the
    /// cache leases (on a cluster, [`revoke_first`](Self::revoke_first) does).
    pub(super) fn remove_command(&self, name: &str) -> Cmd {
        match self.lease_of(name) {
            Some(lease_name) if !self.link.is_cluster() => {
                lease::unlink_revoking(name, &lease_name)
            }
            _ => redis::cmd("UNLINK").arg(name).to_owned(),
        }
    }

    /// On a cluster, a user's write of `name` in a cache that leases first revokes the
    /// key's lease, a command of its own (see `lease::REVOKE`), within `budget` and
    /// failing alone, as a store does: what is left of `budget` after it. A write whose
    /// revocation failed fails with it: sent anyway, a holder's older value could land
    /// after it.
    pub(super) async fn revoke_first(
        &self,
        name: &str,
        budget: Duration,
    ) -> Result<Duration, RedisBackendError> {
        let Some(lease_name) = self.lease_of(name).filter(|_| self.link.is_cluster()) else {
            return Ok(budget);
        };
        let began = tokio::time::Instant::now();
        let revoke = lease::revoke(&lease_name);
        self.link.store(&revoke, &[], budget, false).await?;
        Ok(budget.saturating_sub(began.elapsed()))
    }

    /// The name of the lease of the entry `name`, if the cache leases and the name has
    /// one.
    pub(super) fn lease_of(&self, name: &str) -> Option<String> {
        self.leases()?;
        lease::lease_name(name, self.link.is_cluster())
    }
}
