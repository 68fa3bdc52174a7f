//! One look at an entry and its lease: the value if it is there, else the lease if
//! nobody holds it, else nothing.

use std::time::Duration;

use tokio::time::Instant;

use redis::Value;

use crate::redis::RedisBackendError;
use crate::redis::link::Link;
use crate::redis::record;

/// Lua, for each lease script: `held(v)` splits a lease key's value into its holder's
/// token and its tombstone (`gone:` and the tokens released before a claim of theirs
/// arrived, each after a space), either absent; `named(tomb, token)` says whether a
/// tombstone names `token`. A holder carries the tombstone it took the lease over, so
/// that a late claim of a token in it stays refused after the holder gives it back.
macro_rules! lease_lua {
    ($($body:literal),+) => {
        concat!(
            "local function held(v) \
                if not v then return nil, nil end \
                if string.sub(v, 1, 5) == 'gone:' then return nil, v end \
                local space = string.find(v, ' ', 1, true) \
                if not space then return v, nil end \
                return string.sub(v, 1, space - 1), string.sub(v, space + 1) \
            end \
            local function named(tomb, token) \
                return tomb and string.find(tomb .. ' ', ' ' .. token .. ' ', 1, true) \
            end ",
            $($body),+
        )
    };
}
pub(super) use lease_lua;

/// The value under `KEYS[1]` (`{1, value}`), else the lease `KEYS[2]` taken with token
/// `ARGV[1]` for `ARGV[2]` ms (`{2}`), else `{0, holder}`, or `{0}` if it has none: atomic,
/// so a value stored between a waiter's looks is never computed again. A lease that
/// already holds the token is this claim's own (a run whose answer was lost, sent
/// again): taken. A tombstone is free, unless it names this token: then this claim was
/// given back before it arrived, and is refused (see [`RELEASE`](super::RELEASE)).
pub const CLAIM: &str = lease_lua!(
    "local value = redis.call('GET', KEYS[1]) \
    if value then return {1, value} end \
    local holder, tomb = held(redis.call('GET', KEYS[2])) \
    if holder == ARGV[1] then return {2} end \
    if holder then return {0, holder} end \
    if named(tomb, ARGV[1]) then return {0} end \
    redis.call('SET', KEYS[2], tomb and (ARGV[1] .. ' ' .. tomb) or ARGV[1], 'PX', ARGV[2]) \
    return {2}"
);

/// The lease `KEYS[1]` taken with token `ARGV[1]` for `ARGV[2]` ms (1), or already held
/// with it (1: a run whose answer was lost, sent again), else its holder's token, or 0
/// if it has none; tombstones as in [`CLAIM`]. One key: on a cluster, a slot being
/// migrated redirects it (`ASK`), where a script of two keys, one of them missing, is
/// refused (`TRYAGAIN`) until the migration ends.
pub const TAKE: &str = lease_lua!(
    "local holder, tomb = held(redis.call('GET', KEYS[1])) \
    if holder == ARGV[1] then return 1 end \
    if holder then return holder end \
    if named(tomb, ARGV[1]) then return 0 end \
    redis.call('SET', KEYS[1], tomb and (ARGV[1] .. ' ' .. tomb) or ARGV[1], 'PX', ARGV[2]) \
    return 1"
);

/// Looks at the entry `name` and its lease `lease_name`, taking the lease with `token`
/// for `lease_ms` if it is free: on one server in one script ([`CLAIM`]), on a cluster
/// in two commands of one key each (see [`TAKE`]).
pub(super) async fn look(
    link: &Link,
    (name, lease_name): (&str, &str),
    token: &str,
    lease_ms: u64,
    budget_ends: Option<Instant>,
) -> Result<Looked, RedisBackendError> {
    if link.is_cluster() {
        return look_by_key(link, (name, lease_name), token, lease_ms, budget_ends).await;
    }
    let mut script = redis::cmd("EVAL");
    script.arg(CLAIM).arg(2).arg(name).arg(lease_name);
    script.arg(token).arg(lease_ms);
    let answer = within_deadline(link, budget_ends, link.query::<Value>(&script));
    answer.await.map(read)
}

/// What one look found.
pub(super) enum Looked {
    /// A value, and the lease not taken.
    Value(Vec<u8>),
    /// The lease taken, and no live value.
    Leased,
    /// The lease taken, and a live value after all: its holder stored and gave it back
    /// between this look's two commands (a cluster's).
    LeasedButFound(Vec<u8>),
    /// Held by another claim: its token, if it is held (not a tombstone refusing this
    /// claim's token).
    Busy(Option<String>),
    Unreadable,
}

/// What a [`take`] found.
pub(super) enum Taken {
    /// The lease is this claim's.
    Yes,
    /// Held by another claim: its token, as in [`Looked::Busy`].
    No(Option<String>),
}

/// A look on a cluster, one key per command (see [`TAKE`]): the lease, then the value.
/// In that order, a waiter that takes the lease sees the value its holder stored, as
/// a holder stores before it gives the lease back.
async fn look_by_key(
    link: &Link,
    (name, lease_name): (&str, &str),
    token: &str,
    lease_ms: u64,
    budget_ends: Option<Instant>,
) -> Result<Looked, RedisBackendError> {
    let taken = within_deadline(link, budget_ends, take(link, lease_name, token, lease_ms));
    let taken = taken.await?;
    let live = |bytes: Option<Vec<u8>>| {
        bytes.filter(|bytes| record::is_live(bytes, Duration::ZERO, record::wall_now()))
    };
    // A read cut short by the budget after the take is a failed one: the lease is kept.
    let value = within_deadline(link, budget_ends, link.get(name)).await;
    Ok(match (taken, value) {
        (Taken::Yes, Ok(bytes)) => live(bytes).map_or(Looked::Leased, Looked::LeasedButFound),
        // Held, and the value unknown: computed, as after a look that failed.
        (Taken::Yes, Err(_)) => Looked::Leased,
        (Taken::No(holder), Ok(bytes)) => live(bytes).map_or(Looked::Busy(holder), Looked::Value),
        (Taken::No(_), Err(e)) => return Err(e),
    })
}

/// Runs [`TAKE`]: whether the lease is this claim's now.
pub(super) async fn take(
    link: &Link,
    lease_name: &str,
    token: &str,
    lease_ms: u64,
) -> Result<Taken, RedisBackendError> {
    let mut script = redis::cmd("EVAL");
    script
        .arg(TAKE)
        .arg(1)
        .arg(lease_name)
        .arg(token)
        .arg(lease_ms);
    Ok(match link.query::<Value>(&script).await? {
        Value::Int(1) => Taken::Yes,
        Value::BulkString(holder) => Taken::No(String::from_utf8(holder).ok()),
        _ => Taken::No(None),
    })
}

fn read(answer: Value) -> Looked {
    let Value::Array(mut parts) = answer else {
        return Looked::Unreadable;
    };
    match (parts.first(), parts.len()) {
        (Some(Value::Int(1)), 2) => match parts.pop() {
            Some(Value::BulkString(bytes)) => Looked::Value(bytes),
            _ => Looked::Unreadable,
        },
        (Some(Value::Int(2)), 1) => Looked::Leased,
        (Some(Value::Int(0)), 1) => Looked::Busy(None),
        (Some(Value::Int(0)), 2) => match parts.pop() {
            Some(Value::BulkString(holder)) => Looked::Busy(String::from_utf8(holder).ok()),
            _ => Looked::Unreadable,
        },
        _ => Looked::Unreadable,
    }
}

/// The value of the entry `name`, if it is there and not past its TTL.
pub(super) async fn fresh_value(link: &Link, name: &str) -> Option<Vec<u8>> {
    let mut get = redis::cmd("GET");
    get.arg(name);
    let bytes: Vec<u8> = link.query::<Option<Vec<u8>>>(&get).await.ok()??;
    record::is_live(&bytes, Duration::ZERO, record::wall_now()).then_some(bytes)
}

/// `sent` on `link`, ended by `deadline` if there is one (answering `Timeout`, as the
/// link does after its own timeout).
pub(super) async fn within_deadline<T>(
    link: &Link,
    deadline: Option<Instant>,
    sent: impl Future<Output = Result<T, RedisBackendError>>,
) -> Result<T, RedisBackendError> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, sent)
            .await
            .unwrap_or(Err(RedisBackendError::Timeout(link.timeout()))),
        None => sent.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_as_value_lease_or_busy() {
        let value = Value::Array(vec![Value::Int(1), Value::BulkString(b"v".to_vec())]);
        assert!(matches!(read(value), Looked::Value(v) if v == b"v"));
        assert!(matches!(
            read(Value::Array(vec![Value::Int(2)])),
            Looked::Leased
        ));
        assert!(matches!(
            read(Value::Array(vec![Value::Int(0)])),
            Looked::Busy(None)
        ));
        let held = Value::Array(vec![Value::Int(0), Value::BulkString(b"t".to_vec())]);
        assert!(matches!(read(held), Looked::Busy(Some(t)) if t == "t"));
        assert!(matches!(read(Value::Nil), Looked::Unreadable));
        assert!(matches!(
            read(Value::Array(vec![Value::Int(7)])),
            Looked::Unreadable
        ));
    }
}
