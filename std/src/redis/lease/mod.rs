//! One computation per key across the processes sharing a server: the key's lease.
//!
//! The leader of a miss in each process runs [`CLAIM`], one script: the value if it is
//! there, else the lease (`SET <name>:lease <token> PX <lease>`, unless another holds
//! it), else nothing. On a cluster it runs the same as two commands of one key each,
//! lease then value (see [`look_by_key`]), which a slot being migrated can redirect.
//! The process that takes the lease computes (renewing the lease), stores under it
//! (see `fence`: a store lands only while its lease holds, and other writes take it),
//! and gives the lease back with [`RELEASE`], a compare-and-delete that never frees a
//! lease another process took after this one's ran out (and leaves a tombstone for a
//! claim of its token still in flight). The others look again after 2 ms, then 4, 8,
//! 16 and every 32 ms: a waiter finds the value at most 32 ms after it lands, and a
//! lease whose holder died at most 32 ms after it ends. Polling was chosen over
//! pub/sub: it needs no connection of its own per runtime, nothing to resubscribe after
//! a reconnection, and a waiter that misses a message cannot wait forever; at one
//! script per 32 ms per waiting process, its load is small. A wait ends after the
//! lease plus the timeout; the waiter then computes, and stores only under the holder's
//! lease (see `Claim::Outwaited`). A process computes without a lease at once if the
//! server cannot be reached: the fleet is never blocked on a lease nobody can see.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use jwm_cache_core::{PersistentHash, StampedBytes};

mod fence;
mod look;
mod release;
mod unclaimed;

use self::look::{Looked, Taken, fresh_value, look, take, within_deadline};
// For tests that run the scripts on a server (`__private`).
pub use self::fence::{RENEW, REVOKE, SET_HELD, SET_REVOKING, UNLINK_REVOKING};
pub(super) use self::fence::{keep, revoke, set_held, set_revoking, unlink_revoking};
pub use self::look::{CLAIM, TAKE};
pub use self::release::RELEASE;
pub(super) use self::release::release;
use self::unclaimed::Unclaimed;
use super::RedisBackendError;
use super::backend::RedisBackend;
use super::link::Link;
use super::record;
use crate::asynch::{Claim, Lease, RefreshClaim};

const FIRST_PAUSE: Duration = Duration::from_millis(2);
/// The longest a process leaves a key that another process refreshes before it asks
/// again: a quarter of the lease, at most a minute.
const LONGEST_BACKOFF: Duration = Duration::from_secs(60);
const LONGEST_PAUSE: Duration = Duration::from_millis(32);
/// The lease's name for the entry `name`: beside it, outside the namespace's SCAN
/// pattern (which ends in exactly the digest), so `clear` and `len` never see it:
/// `name:lease`. On a cluster it must also hash to its value's slot, so that one script
/// may touch both. A name without a hash tag is hashed whole, so wrapping it in one
/// keeps its slot (`{name}:lease`); a name with one keeps it (`name:lease`); a name
/// that has a `}` but no hash tag has no lease name in its slot: `None`, and its key is
/// computed without a lease.
pub(super) fn lease_name(name: &str, cluster: bool) -> Option<String> {
    let tagged = name
        .find('{')
        .is_some_and(|open| name[open + 1..].find('}').is_some_and(|close| close > 0));
    if !cluster || tagged {
        Some(format!("{name}:lease"))
    } else if name.contains('}') {
        None
    } else {
        Some(format!("{{{name}}}:lease"))
    }
}

impl<K> RedisBackend<K> {
    /// `claim`'s answer for `key` (see [`claim`]), its value read as a record, and
    /// whether it waited for another process. Without a lease set, or for a key that has
    /// no name, compute without one.
    pub(crate) async fn claim_waiting(
        &self,
        key: &K,
        budget: Option<Duration>,
    ) -> (Claim<StampedBytes<K>>, bool)
    where
        K: PersistentHash,
    {
        let (Some(lease), Ok(name)) = (self.lease, self.name(key)) else {
            return (Claim::Compute(None), false);
        };
        let timeout = self.options.timeout;
        let (claimed, waited) = claim(&self.link, name, lease, timeout, budget).await;
        (claimed.map_found(waited, record::stamped), waited)
    }
}

/// Waits for the value of the entry `name` or its lease, as above, for at most `lease`
/// plus `timeout`, looks before the wait included; and whether it waited. A value past
/// its TTL (kept for a stale window) is no answer: the lease is taken over it. The
/// looks before the first wait are the call's: they end within `budget`, or the claim
/// fails.
pub(super) async fn claim(
    link: &Arc<Link>,
    name: String,
    lease: Duration,
    timeout: Duration,
    budget: Option<Duration>,
) -> (Claim<Vec<u8>>, bool) {
    let Some(lease_name) = lease_name(&name, link.is_cluster()) else {
        return (Claim::Compute(None), false);
    };
    // A wait never outlasts the lease plus the timeout, so a holder that computes for
    // longer leaves the waiters computing on their own: more work, never an unbounded
    // wait. They store under its lease (`Claim::Outwaited`), so never over a write
    // made since they last saw it held.
    let started = tokio::time::Instant::now();
    let ends = lease
        .checked_add(timeout)
        .and_then(|wait| started.checked_add(wait))
        .unwrap_or_else(|| started + Duration::from_secs(86_400 * 365));
    // Each look is bounded by the timeout, but a look begun just before the end, and the
    // take-over after it, would outlast it: the whole wait is bounded too. A lease the
    // server granted to a look cut short is given back (see `Unclaimed`).
    let (mut holder, mut waited) = (None, false);
    let budget_ends = budget.and_then(|budget| started.checked_add(budget));
    let looks = look_until(
        link,
        (&name, &lease_name),
        lease,
        (budget_ends, ends),
        (&mut holder, &mut waited),
    );
    match tokio::time::timeout_at(ends, looks).await {
        Ok(Some(claim)) => (claim, waited),
        // A holder seen means a wait. Without a budget, the first looks (a cluster's
        // take-over and value read, each a timeout) may reach the end too: timed out.
        Ok(None) | Err(_) => match (holder, waited) {
            (Some(token), _) => (Claim::Outwaited(Lease::new(lease_name, token)), true),
            (None, true) => (Claim::ComputeAfterWait(None), true),
            (None, false) => (Claim::Failed, false),
        },
    }
}

/// [`claim`]'s looks, those before the first wait by `budget_ends` (the end of the call's
/// budget, if it has one), all by `ends`: `None` if the wait ran out, with the last
/// holder seen in `holder`, and whether it waited in `waited`.
async fn look_until(
    link: &Arc<Link>,
    (name, lease_name): (&str, &str),
    lease: Duration,
    (mut budget_ends, ends): (Option<tokio::time::Instant>, tokio::time::Instant),
    (holder, waited): (&mut Option<String>, &mut bool),
) -> Option<Claim<Vec<u8>>> {
    let token = token();
    // The server may grant the lease to a script whose answer never arrives (its call
    // timed out, or its caller's future was dropped): unless the claim ends with the
    // lease handed over, it is given back.
    let lease_ms = millis(lease);
    let lease = Lease::new(lease_name.to_owned(), token.clone());
    let mut unclaimed = Unclaimed::new(link, lease, lease_ms);
    let mut pause = FIRST_PAUSE;
    loop {
        let looked = unclaimed
            .answered(look(
                link,
                (name, lease_name),
                &token,
                lease_ms,
                budget_ends,
            ))
            .await;
        let looked = match looked {
            Ok(looked) => looked,
            // Not sent, as the backend is paused; and every look before this one was
            // answered and took nothing: no lease to give back. A release for each
            // would all reach the server together as the pause ends.
            Err(RedisBackendError::Unavailable) => {
                unclaimed.lease = None;
                return Some(Claim::compute(*waited, None));
            }
            // Unreachable: each process computes on its own.
            Err(_) => return Some(Claim::Failed),
        };
        let busy = match looked {
            Looked::Leased => return Some(Claim::compute(*waited, unclaimed.hand_over())),
            // Taken after a holder stored and gave it back: `unclaimed` gives it back.
            Looked::LeasedButFound(bytes) => {
                unclaimed.granted = true;
                return Some(Claim::Found(bytes));
            }
            Looked::Value(bytes) if record::is_live(&bytes, Duration::ZERO, record::wall_now()) => {
                unclaimed.lease = None;
                return Some(Claim::Found(bytes));
            }
            Looked::Value(_) => match unclaimed
                .answered(within_deadline(
                    link,
                    budget_ends,
                    take(link, lease_name, &token, lease_ms),
                ))
                .await
            {
                // A holder may have stored between the two commands: if so, the lease
                // goes back as `unclaimed` drops.
                Ok(Taken::Yes) => {
                    unclaimed.granted = true;
                    let fresh = within_deadline(link, budget_ends, async {
                        Ok::<_, RedisBackendError>(fresh_value(link, name).await)
                    });
                    return Some(match fresh.await.ok().flatten() {
                        Some(bytes) => Claim::Found(bytes),
                        None => Claim::compute(*waited, unclaimed.hand_over()),
                    });
                }
                Ok(Taken::No(holder)) => holder,
                // As for a look: the server may have granted the lease to a take-over
                // whose answer was lost, and polling again would only find this
                // process's own lease until it ran out. `unclaimed` gives it back.
                Err(_) => return Some(Claim::Failed),
            },
            Looked::Busy(holder) => holder,
            Looked::Unreadable => return Some(Claim::compute(*waited, None)),
        };
        if busy.is_some() {
            *holder = busy;
        }
        if tokio::time::Instant::now() + pause > ends {
            return None;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
        // Waiting for another process now: its looks are not the call's.
        (*waited, budget_ends) = (true, None);
    }
}

/// The lease of the entry `name` for a refresh of its live value, taken at once or
/// not at all: a refresh never waits. Held by another process, which computes the key
/// and whose store will land: this process starts no refresh of it for a quarter of
/// the lease, at most [`LONGEST_BACKOFF`]. A take whose answer was lost is given back
/// (see [`Unclaimed`]); one that failed fails the refresh, whose store could not be
/// fenced.
pub(super) async fn claim_refresh(link: &Arc<Link>, name: &str, lease: Duration) -> RefreshClaim {
    let Some(lease_name) = lease_name(name, link.is_cluster()) else {
        return RefreshClaim::Unleased;
    };
    let (token, lease_ms) = (token(), millis(lease));
    let mut unclaimed = Unclaimed::new(
        link,
        Lease::new(lease_name.clone(), token.clone()),
        lease_ms,
    );
    match unclaimed
        .answered(take(link, &lease_name, &token, lease_ms))
        .await
    {
        Ok(Taken::Yes) => match unclaimed.hand_over() {
            Some(lease) => RefreshClaim::Leased(lease),
            None => RefreshClaim::Failed,
        },
        Ok(Taken::No(_)) => RefreshClaim::Busy((lease / 4).min(LONGEST_BACKOFF)),
        Err(_) => RefreshClaim::Failed,
    }
}

/// `lease` in whole milliseconds, at least 1: a `PX`.
pub(super) fn millis(lease: Duration) -> u64 {
    u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// A token no other claim in any process is likely to draw: the process, a count, and
/// 64 random bits.
fn token() -> String {
    static CLAIMS: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{:x}.{:x}.{random:016x}",
        std::process::id(),
        CLAIMS.fetch_add(1, Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::cluster_routing::Slot;

    #[test]
    fn tokens_differ_and_leases_sit_outside_the_namespace() {
        assert_ne!(token(), token());
        // One server: always beside the name.
        assert_eq!(lease_name("app:f:00", false).unwrap(), "app:f:00:lease");
        assert_eq!(lease_name("app}:00", false).unwrap(), "app}:00:lease");
        // A cluster: in the name's slot.
        assert_eq!(lease_name("app:f:00", true).unwrap(), "{app:f:00}:lease");
        assert_eq!(lease_name("{app}:f:00", true).unwrap(), "{app}:f:00:lease");
        // An empty tag is no tag: the whole name is hashed.
        assert_eq!(lease_name("app:{}:00", true), None);
        assert_eq!(lease_name("app}:00", true), None);
        for name in ["app:f:00", "{app}:f:00", "a}b{c}:0", "a{b}c{d}:0"] {
            let lease = lease_name(name, true).unwrap();
            assert_eq!(
                Slot::for_key(name),
                Slot::for_key(&lease),
                "{name} and {lease}"
            );
        }
    }
}
