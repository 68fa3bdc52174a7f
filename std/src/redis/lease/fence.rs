//! The lease as a fence: a holder's store lands only while it still holds the lease,
//! and every other write of the key takes the lease from its holder. A process that
//! began computing from older data before another process removed or replaced the key
//! (or cleared the namespace) cannot put its older value back after that write. While
//! it computes, the holder renews its lease, so a computation longer than the lease is
//! still stored, and a holder that dies still frees its key within one lease.

use std::time::Duration;

use redis::Cmd;

use super::look::lease_lua;
use crate::asynch::Lease;
use crate::redis::RedisBackendError;
use crate::redis::link::Link;
use crate::redis::record::Stored;

/// Stores the record `ARGV[2]` under `KEYS[1]` (with `PX ARGV[3]`, if given) if the
/// lease `KEYS[2]` is still held with token `ARGV[1]`: 1; else stores nothing: 0. On a
/// cluster, while the keys' slot is being migrated and the two keys are not on one node
/// (a missing value and a lease already moved, say), the node refuses it (`TRYAGAIN`)
/// until the migration ends, and the store fails within its budget: the value is not
/// stored, as it cannot be stored fenced.
pub const SET_HELD: &str = lease_lua!(
    "local holder = held(redis.call('GET', KEYS[2])) \
    if holder ~= ARGV[1] then return 0 end \
    if ARGV[3] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) \
    else redis.call('SET', KEYS[1], ARGV[2]) end \
    return 1"
);

/// Lua: `revoke(key)` takes the lease `key` from its holder, if it has one, keeping
/// its tombstone (which refuses late claims) for the time it had left.
macro_rules! revoking_lua {
    ($body:literal) => {
        lease_lua!(
            "local function revoke(key) \
                local holder, tomb = held(redis.call('GET', key)) \
                if not holder then return end \
                if tomb then redis.call('SET', key, tomb, 'KEEPTTL') \
                else redis.call('DEL', key) end \
            end ",
            $body
        )
    };
}

/// Revokes the lease `KEYS[1]`: on a cluster, a write that is not the holder's sends
/// it, then the write, each a command of one key, so that a slot being migrated
/// redirects them rather than refuse them (`TRYAGAIN`). The holder's store, atomic,
/// lands before the revocation (and the write then replaces or removes it) or is
/// refused.
pub const REVOKE: &str = revoking_lua!("revoke(KEYS[1]) return 1");

/// Stores the record `ARGV[1]` under `KEYS[1]` (with `PX ARGV[2]`, if given) and
/// revokes the lease `KEYS[2]`: on one server, a write that is not the holder's.
pub const SET_REVOKING: &str = revoking_lua!(
    "revoke(KEYS[2]) \
    if ARGV[2] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) \
    else redis.call('SET', KEYS[1], ARGV[1]) end \
    return 1"
);

/// Unlinks `KEYS[1]` and revokes the lease `KEYS[2]`; returns how many keys were
/// unlinked, as `UNLINK` does.
pub const UNLINK_REVOKING: &str = revoking_lua!(
    "revoke(KEYS[2]) \
    return redis.call('UNLINK', KEYS[1])"
);

/// Extends the lease `KEYS[1]` to at least `ARGV[2]` ms if it is still held with token
/// `ARGV[1]`: 1; else 0.
pub const RENEW: &str = lease_lua!(
    "local holder = held(redis.call('GET', KEYS[1])) \
    if holder ~= ARGV[1] then return 0 end \
    local px = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2])) \
    redis.call('PEXPIRE', KEYS[1], px) \
    return 1"
);

/// `EVAL script` over `keys`, its arguments to follow.
fn eval(script: &str, keys: &[&str]) -> Cmd {
    let mut command = redis::cmd("EVAL");
    command.arg(script).arg(keys.len()).arg(keys);
    command
}

/// The store of `stored` under `name` if `lease` is still held ([`SET_HELD`]).
pub(in crate::redis) fn set_held(name: &str, lease: &Lease, stored: Stored<'_>) -> Cmd {
    let mut script = eval(SET_HELD, &[name, lease.name()]);
    script.arg(lease.token()).arg(stored.record).arg(stored.px);
    script
}

/// The store of `stored` under `name` that revokes the lease `lease_name`
/// ([`SET_REVOKING`]).
pub(in crate::redis) fn set_revoking(name: &str, lease_name: &str, stored: Stored<'_>) -> Cmd {
    let mut script = eval(SET_REVOKING, &[name, lease_name]);
    script.arg(stored.record).arg(stored.px);
    script
}

/// The revocation of the lease `lease_name` ([`REVOKE`]).
pub(in crate::redis) fn revoke(lease_name: &str) -> Cmd {
    eval(REVOKE, &[lease_name])
}

/// The removal of `name` that revokes the lease `lease_name` ([`UNLINK_REVOKING`]).
pub(in crate::redis) fn unlink_revoking(name: &str, lease_name: &str) -> Cmd {
    eval(UNLINK_REVOKING, &[name, lease_name])
}

/// Renews `lease` every third of its `length` until it is found taken (revoked, or
/// lost to another process after a renewal failed for a whole lease): for as long as
/// its holder computes, which drops this future when it is done. A renewal that fails
/// is tried again at the next turn; if the lease runs out meanwhile, the holder's
/// store is refused, a value not stored and never a wrong one.
pub(in crate::redis) async fn keep(link: &Link, lease: &Lease, length: Duration) {
    let every = (length / 3).max(Duration::from_millis(1));
    let ms = super::millis(length);
    loop {
        tokio::time::sleep(every).await;
        if let Ok(false) = renew(link, lease, ms).await {
            return;
        }
    }
}

/// Runs [`RENEW`]: whether `lease` is still held.
async fn renew(link: &Link, lease: &Lease, ms: u64) -> Result<bool, RedisBackendError> {
    let mut script = eval(RENEW, &[lease.name()]);
    script.arg(lease.token()).arg(ms);
    Ok(link.query::<i64>(&script).await? == 1)
}
