//! A cluster's batch: one `MGET`, split by slot, each part's reply taken apart.
//!
//! redis-rs splits an `MGET` across slots by itself and, by default, combines the
//! parts' replies by their lengths; it panics (an index out of bounds, in the task that
//! drives the connection) when a node answers its part with an error reply it does not
//! act on: `BUSY`, from a node running a long script, say. Every request on that
//! connection then failed and the backend paused: in a test, 207 of 209 lookups of
//! healthy nodes' keys failed beside one busy node. So the driver splits the batch
//! itself, as redis-rs would, and asks for the parts' replies as they are: an error
//! reply fails its own slot's lookups only, each of which then tries a `GET`. Not one
//! `MGET` per slot sent alone: a command for one slot that answers MOVED makes redis-rs
//! reread the slot map while holding every request, and during a resharding most
//! calls failed; the parts of a split command are redirected one by one.

use std::sync::Arc;

use redis::Value;
use redis::cluster_routing::{Route, SlotAddr};

use super::{Lookup, look_up_each_apart, reply_all};
use crate::redis::RedisBackendError;
use crate::redis::link::{Link, is_connection_failure};

/// Orders `batch` so that each slot's lookups lie together, slots in the order they
/// first appear; returns each slot's route and its lookups' indices, in that order.
pub(super) fn group_by_slot(batch: &mut Vec<Lookup>) -> Vec<(Route, Vec<usize>)> {
    let mut routes: Vec<(Route, usize)> = Vec::new();
    let mut groups = Vec::with_capacity(batch.len());
    for lookup in batch.iter() {
        // Primaries only: a replica may lag behind a store.
        let route = Route::with_key(&lookup.name, SlotAddr::Master);
        // A batch holds at most 32 keys: a scan is cheaper than a map.
        let group = match routes.iter().position(|(seen, _)| *seen == route) {
            Some(group) => group,
            None => {
                routes.push((route, 0));
                routes.len() - 1
            }
        };
        routes[group].1 += 1;
        groups.push(group);
    }
    let mut grouped: Vec<(usize, Lookup)> = groups.into_iter().zip(batch.drain(..)).collect();
    grouped.sort_by_key(|(group, _)| *group);
    batch.extend(grouped.into_iter().map(|(_, lookup)| lookup));
    let mut first = 0;
    routes
        .into_iter()
        .map(|(route, count)| {
            first += count;
            (route, (first - count..first).collect())
        })
        .collect()
}

/// Answers `batch`'s lookups from the replies to its parts, each part `runs[i]` lookups
/// long in order. A part that failed (or whose reply does not parse or has the wrong
/// length) looks its keys up apart; so do all of them if no reply came within half the
/// timeout (`None`) or the split failed as a whole; a failure of the server or the
/// connection is every lookup's answer.
pub(super) fn answer(
    link: &Arc<Link>,
    batch: &mut Vec<Lookup>,
    runs: &[usize],
    replies: Option<Result<Vec<Value>, RedisBackendError>>,
) {
    let replies = match replies {
        Some(Ok(replies)) => replies,
        Some(Err(e)) if !splits_badly(&e) => return reply_all(batch, &e),
        Some(Err(_)) | None => return look_up_each_apart(link, batch),
    };
    let mut apart = Vec::new();
    let mut lookups = batch.drain(..);
    for (&run, reply) in runs.iter().zip(replies) {
        let run_lookups = lookups.by_ref().take(run);
        match redis::from_redis_value::<Vec<Option<Vec<u8>>>>(reply) {
            Ok(values) if values.len() == run => {
                for (mut lookup, value) in run_lookups.zip(values) {
                    link.learn_size(&lookup.name, value.as_deref());
                    lookup.answer(Ok(value));
                }
            }
            _ => apart.extend(run_lookups),
        }
    }
    apart.extend(lookups);
    if !apart.is_empty() {
        look_up_each_apart(link, &mut apart);
    }
}

/// Whether a split `MGET` failed as a whole for want of one part, as when redis-rs has
/// no connection to one slot's node and leaves that part out. A timeout or a lost
/// connection is not retried: the backend pauses instead.
fn splits_badly(e: &RedisBackendError) -> bool {
    match e {
        RedisBackendError::Redis(e) => !is_connection_failure(e),
        RedisBackendError::Malformed => true,
        _ => false,
    }
}
