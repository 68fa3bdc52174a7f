//! Giving a lease back: a compare-and-delete that leaves a tombstone for a claim of its
//! token still in flight, tried again after the backend's pause or a timeout.

use std::sync::{Arc, Weak};

use crate::asynch::{Bridge, Lease};
use crate::redis::RedisBackendError;
use crate::redis::link::Link;

/// Gives the lease `KEYS[1]` back if it still holds this process's token `ARGV[1]`:
/// deleted, or left as the tombstone its holder carried, for `ARGV[2]` ms. If
/// `ARGV[3]` is `1` (a claim with the token may still be on its way: sent, its answer
/// lost), the token is added to the key's tombstone, whoever holds it, for at least
/// `ARGV[2]` ms: such a claim arriving late (sent on another connection, to a stalled
/// server) is refused, rather than take a lease nobody would give back. Other tokens'
/// claims take the lease over a tombstone (see `look`); at most about 2 KiB of tokens
/// are kept, the oldest dropped first.
pub const RELEASE: &str = super::look::lease_lua!(
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

/// At most how many times a release that met the backend's pause tries again without
/// the time it waited for passing: where tokio's clock is paused (`test-util`), its
/// sleeps end at once. Tries in real time do not count.
const RELEASE_SPINS: usize = 4_096;
/// At most how many times a release that timed out is sent again: a stalled server may
/// run a claim it was sent once it wakes, and the release must reach it after that.
const RELEASE_TIMEOUTS: usize = 8;

/// Gives `lease` back if it is still this process's. A release that meets the
/// backend's pause (which the failure that left a claim unanswered may have started)
/// tries again on a task of its own as each pause ends, until it is sent or the backend
/// is dropped: a stalled server runs the claim it was sent once it wakes, however long
/// that takes, and a lease given up on would then hold every other process's callers
/// of its key for its whole length. One that times out (a cluster's node has no probe
/// to wait for) is sent again too, up to [`RELEASE_TIMEOUTS`] times. Any other failure
/// leaves it to expire.
pub(in crate::redis) async fn release(
    link: &Arc<Link>,
    lease: Lease,
    lease_ms: u64,
    tombstone: bool,
) {
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
