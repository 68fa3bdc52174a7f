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
//! lease whose holder died at most 32 ms after it ends. Polling was chosen over pub/sub: it needs
//! no connection of its own per runtime, nothing to resubscribe after a reconnection,
//! and a waiter that misses a message cannot wait forever; at one script per 32 ms per
//! waiting process, its load is small. A wait ends after the lease plus the timeout;
//! the waiter then computes, and stores only under the holder's lease (see
//! `Claim::Outwaited`). A process computes without a lease at once if the server cannot
//! be reached: the fleet is never blocked on a lease nobody can see.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::Duration;

mod fence;
mod look;

use self::look::{Looked, Taken, fresh_value, look, take};
// For tests that run the scripts on a server (`__private`).
pub use self::fence::{RENEW, REVOKE, SET_HELD, SET_REVOKING, UNLINK_REVOKING};
pub(super) use self::fence::{keep, revoke, set_held, set_revoking, unlink_revoking};
pub use self::look::{CLAIM, TAKE};
use super::RedisBackendError;
use super::in_transit::Awaited;
use super::link::{Link, is_connection_failure};
use super::record;
use crate::asynch::{Bridge, Claim, Lease, RefreshClaim};

/// Gives the lease `KEYS[1]` back if it still holds this process's token `ARGV[1]`:
/// deleted, or left as the tombstone its holder carried, for `ARGV[2]` ms. If
/// `ARGV[3]` is `1` (a claim with the token may still be on its way: sent, its answer
/// lost), the token is added to the key's tombstone, whoever holds it, for at least
/// `ARGV[2]` ms: such a claim arriving late (sent on another connection, to a stalled
/// server) is refused, rather than take a lease nobody would give back. Other tokens'
/// claims take the lease over a tombstone (see `look`); at most about 2 KiB of tokens
/// are kept, the oldest dropped first.
pub const RELEASE: &str = self::look::lease_lua!(
    "local holder, tomb = held(redis.call('GET', KEYS[1])) \
    if holder == ARGV[1] then \
        if tomb then redis.call('SET', KEYS[1], tomb, 'PX', ARGV[2]) \
        else redis.call('DEL', KEYS[1]) end \
        return 1 \
    end \
    if ARGV[3] == '1' and not named(tomb, ARGV[1]) then \
        tomb = (tomb or 'gone:') .. ' ' .. ARGV[1] \
        while #tomb > 2048 do \
            local cut = string.find(tomb, ' ', 7, true) \
            if not cut then break end \
            tomb = 'gone:' .. string.sub(tomb, cut) \
        end \
        local px = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2])) \
        redis.call('SET', KEYS[1], holder and (holder .. ' ' .. tomb) or tomb, 'PX', px) \
    end \
    return 0"
);

const FIRST_PAUSE: Duration = Duration::from_millis(2);
const LONGEST_PAUSE: Duration = Duration::from_millis(32);
/// At most how many times a release that met the backend's pause tries again without
/// the time it waited for passing: where tokio's clock is paused (`test-util`), its
/// sleeps end at once. Tries in real time do not count.
const RELEASE_SPINS: usize = 4_096;
/// At most how many times a release that timed out is sent again: a stalled server may
/// run a claim it was sent once it wakes, and the release must reach it after that.
const RELEASE_TIMEOUTS: usize = 8;

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

/// Waits for the value of the entry `name` or its lease, as above, for at most `lease`
/// plus `timeout`. A value past its TTL (kept for a stale window) is no answer: the
/// lease is taken over it.
pub(super) async fn claim(
    link: &Arc<Link>,
    name: String,
    lease: Duration,
    timeout: Duration,
) -> Claim<Vec<u8>> {
    let Some(lease_name) = lease_name(&name, link.is_cluster()) else {
        return Claim::Compute(None);
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
    let mut holder = None;
    let looks = look_until(link, &name, &lease_name, lease, ends, &mut holder);
    match tokio::time::timeout_at(ends, looks).await {
        Ok(Some(claim)) => claim,
        Ok(None) | Err(_) => match holder {
            Some(token) => Claim::Outwaited(Lease::new(lease_name, token)),
            None => Claim::Compute(None),
        },
    }
}

/// [`claim`]'s looks, until `ends`: `None` if the wait ran out, with the last holder
/// seen in `holder`.
async fn look_until(
    link: &Arc<Link>,
    name: &str,
    lease_name: &str,
    lease: Duration,
    ends: tokio::time::Instant,
    holder: &mut Option<String>,
) -> Option<Claim<Vec<u8>>> {
    let token = token();
    // The server may grant the lease to a script whose answer never arrives (its call
    // timed out, or its caller's future was dropped): unless the claim ends with the
    // lease handed over, it is given back.
    let lease_ms = millis(lease);
    let mut unclaimed = Unclaimed {
        link: Arc::clone(link),
        lease: Some(Lease::new(lease_name.to_owned(), token.clone())),
        lease_ms,
        in_flight: false,
        granted: false,
    };
    let mut pause = FIRST_PAUSE;
    loop {
        let looked = unclaimed
            .answered(look(link, name, lease_name, &token, lease_ms))
            .await;
        let looked = match looked {
            Ok(looked) => looked,
            // Not sent, as the backend is paused; and every look before this one was
            // answered and took nothing: no lease to give back. A release for each
            // would all reach the server together as the pause ends.
            Err(RedisBackendError::Unavailable) => {
                unclaimed.lease = None;
                return Some(Claim::Compute(None));
            }
            // Unreachable: each process computes on its own.
            Err(_) => return Some(Claim::Failed),
        };
        let busy = match looked {
            Looked::Leased => return Some(Claim::Compute(unclaimed.hand_over())),
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
                .answered(take(link, lease_name, &token, lease_ms))
                .await
            {
                // A holder may have stored between the two commands: if so, the lease
                // goes back as `unclaimed` drops.
                Ok(Taken::Yes) => {
                    unclaimed.granted = true;
                    return Some(match fresh_value(link, name).await {
                        Some(bytes) => Claim::Found(bytes),
                        None => Claim::Compute(unclaimed.hand_over()),
                    });
                }
                Ok(Taken::No(holder)) => holder,
                // As for a look: the server may have granted the lease to a take-over
                // whose answer was lost, and polling again would only find this
                // process's own lease until it ran out. `unclaimed` gives it back.
                Err(_) => return Some(Claim::Failed),
            },
            Looked::Busy(holder) => holder,
            Looked::Unreadable => return Some(Claim::Compute(None)),
        };
        if busy.is_some() {
            *holder = busy;
        }
        if tokio::time::Instant::now() + pause > ends {
            return None;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// The lease of the entry `name` for a refresh of its live value, taken at once or
/// not at all: a refresh never waits, as the process that holds the lease computes
/// the key and its store will land. A take whose answer was lost is given back (see
/// `Unclaimed`); one that failed skips the refresh, whose store could not be fenced.
pub(super) async fn claim_refresh(link: &Arc<Link>, name: &str, lease: Duration) -> RefreshClaim {
    let Some(lease_name) = lease_name(name, link.is_cluster()) else {
        return RefreshClaim::Unleased;
    };
    let (token, lease_ms) = (token(), millis(lease));
    let mut unclaimed = Unclaimed {
        link: Arc::clone(link),
        lease: Some(Lease::new(lease_name.clone(), token.clone())),
        lease_ms,
        in_flight: false,
        granted: false,
    };
    let taken = take(link, &lease_name, &token, lease_ms);
    match (unclaimed.answered(taken).await, unclaimed.hand_over()) {
        (Ok(Taken::Yes), Some(lease)) => RefreshClaim::Leased(lease),
        (_, lease) => {
            unclaimed.lease = lease;
            RefreshClaim::Skip
        }
    }
}

/// A lease the server may have granted a claim that has not handed it over: given back
/// in the background when dropped, on the process-wide bridge (which outlives a caller's
/// runtime made for one call). A look or take still in flight may yet take it, after a
/// release sent on another connection: that release leaves a tombstone, which refuses
/// it (see [`RELEASE`]).
struct Unclaimed {
    link: Arc<Link>,
    lease: Option<Lease>,
    /// The lease's length, which a tombstone left by its release lasts too.
    lease_ms: u64,
    /// Whether a look or take was sent and its answer did not come (it timed out or
    /// failed, or its caller gave up): it may still run.
    in_flight: bool,
    /// Whether an answer granted this claim the lease.
    granted: bool,
}

impl Unclaimed {
    fn hand_over(&mut self) -> Option<Lease> {
        self.lease.take()
    }

    /// `sent`'s answer, marking it in flight until it comes, and after if it timed out
    /// or its connection failed (an error reply, or one not sent, is not).
    async fn answered<T>(
        &mut self,
        sent: impl Future<Output = Result<T, RedisBackendError>>,
    ) -> Result<T, RedisBackendError> {
        self.in_flight = true;
        let answer = sent.await;
        self.in_flight = match &answer {
            Err(RedisBackendError::Timeout(_)) => true,
            Err(RedisBackendError::Redis(e)) => is_connection_failure(e),
            _ => false,
        };
        answer
    }
}

impl Drop for Unclaimed {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        if !(self.in_flight || self.granted) {
            return; // Every answer came, and none granted it.
        }
        let (link, lease_ms, tombstone) = (Arc::clone(&self.link), self.lease_ms, self.in_flight);
        Bridge::in_background(async move { release(&link, lease, lease_ms, tombstone).await });
    }
}

/// [`release`], once no store of the lease's entry may still land (it timed out, or its
/// caller gave up), or each was given up on: given back earlier, the lease would let
/// another process compute and store, and the late store would put the older value
/// back. For a task of its own.
pub(super) async fn release_once_landed(link: &Arc<Link>, lease: Lease, lease_ms: u64) {
    let entries = entries_of(lease.name());
    let stored = Awaited::Names {
        names: &entries,
        besides: None,
    };
    link.until_landed_or_given_up(stored).await;
    release(link, lease, lease_ms, false).await;
}

/// Gives `lease` back if it is still this process's. A release that meets the
/// backend's pause (which the failure that left a claim unanswered may have started)
/// tries again on a task of its own as each pause ends, until it is sent or the backend
/// is dropped: a stalled server runs the claim it was sent once it wakes, however long
/// that takes, and a lease given up on would then hold every other process's callers
/// of its key for its whole length. One that times out (a cluster's node has no probe
/// to wait for) is sent again too, up to [`RELEASE_TIMEOUTS`] times. Any other failure
/// leaves it to expire.
pub(super) async fn release(link: &Arc<Link>, lease: Lease, lease_ms: u64, tombstone: bool) {
    let giving = Giving {
        lease,
        lease_ms,
        tombstone,
    };
    if !worth_another_try(compare_and_delete(link, &giving).await) {
        return;
    }
    let link = Arc::downgrade(link);
    Bridge::in_background(async move { release_after_pauses(&link, &giving).await });
}

/// The pause runs on the std clock. On a runtime whose clock is paused (`test-util`;
/// the caller's, if no bridge could start) the sleeps end at once, and the tries come
/// back to back, [`RELEASE_SPINS`] at most.
async fn release_after_pauses(link: &Weak<Link>, giving: &Giving) {
    let (mut spins, mut timeouts) = (0, 0);
    while spins < RELEASE_SPINS && timeouts < RELEASE_TIMEOUTS {
        // Not held while asleep: a backend dropped meanwhile ends the task.
        let Some(left) = link.upgrade().map(|link| link.pause_left()) else {
            return;
        };
        let asleep = std::time::Instant::now();
        if let Some(left) = left {
            tokio::time::sleep(left).await;
        }
        if left.is_none_or(|left| asleep.elapsed() < left / 2) {
            spins += 1;
        }
        let Some(link) = link.upgrade() else {
            return;
        };
        let released = compare_and_delete(&link, giving).await;
        if matches!(released, Err(RedisBackendError::Timeout(_))) {
            timeouts += 1;
        }
        if !worth_another_try(released) {
            return;
        }
    }
}

/// Whether a release failed in a way a later try may not: it met the pause (not sent),
/// or timed out (a claim it must follow may still be on its way).
fn worth_another_try(released: Result<(), RedisBackendError>) -> bool {
    matches!(
        released,
        Err(RedisBackendError::Unavailable | RedisBackendError::Timeout(_))
    )
}

/// A lease being given back: its length, and whether a claim with its token may still
/// be on its way, so that the release leaves a tombstone (see [`RELEASE`]).
struct Giving {
    lease: Lease,
    lease_ms: u64,
    tombstone: bool,
}

/// Runs [`RELEASE`] for `giving`.
async fn compare_and_delete(link: &Link, giving: &Giving) -> Result<(), RedisBackendError> {
    let mut script = redis::cmd("EVAL");
    script
        .arg(RELEASE)
        .arg(1)
        .arg(giving.lease.name())
        .arg(giving.lease.token())
        .arg(giving.lease_ms)
        .arg(u8::from(giving.tombstone));
    link.query::<i64>(&script).await.map(drop)
}

/// `lease` in whole milliseconds, at least 1: a `PX`.
pub(super) fn millis(lease: Duration) -> u64 {
    u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Whether a store of the entry of `lease` may still land, so that releasing it waits.
pub(super) fn waits_to_release(link: &Link, lease: &Lease) -> bool {
    let entries = entries_of(lease.name());
    link.may_land(Awaited::Names {
        names: &entries,
        besides: None,
    })
}

/// The names of the entry whose lease is named `lease_name`, as [`lease_name`] makes
/// it: both readings of `{name}:lease` (the name wrapped, or a name with that tag).
fn entries_of(lease_name: &str) -> [&str; 2] {
    let whole = lease_name.strip_suffix(":lease").unwrap_or(lease_name);
    let unwrapped = whole
        .strip_prefix('{')
        .and_then(|name| name.strip_suffix('}'))
        .unwrap_or(whole);
    [whole, unwrapped]
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
            for cluster in [false, true] {
                let lease = lease_name(name, cluster).unwrap();
                assert!(entries_of(&lease).contains(&name), "{lease} of {name}");
            }
        }
    }
}
