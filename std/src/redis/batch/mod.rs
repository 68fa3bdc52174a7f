//! Lookups from many tasks at once, gathered into one `MGET`.
//!
//! A lookup with no other in flight is a plain `GET`, so a lone caller pays nothing.
//! Lookups that arrive while others are in flight queue for a driver task, which sends
//! everything queued as one `MGET` and hands each caller its value: the server and
//! the client then handle one command for many keys. The driver also keeps each
//! caller's time limit, with one timer for the batch rather than one per caller (in a
//! cluster's fallback to a `GET` per key, one per `GET`).

mod slots;
mod waiting;

use std::pin::pin;
use std::slice;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::{Either, join_all, select};
use redis::Cmd;
use tokio::runtime::{self, Handle};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::RedisBackendError;
use super::link::Link;
use waiting::Waiting;

/// The most keys in one `MGET`.
const MOST_KEYS: usize = 256;
/// The most keys in one `MGET` on a cluster, where it is split into a command per slot
/// (see `slots`). During a resharding a part may answer MOVED, which starts a refresh of
/// the slot map, during which the connection sends nothing. Measured, not derived: with
/// 128 tasks calling, batches of up to 111 keys held every request past the timeout and
/// paused the backend (4 runs of 4); capped at 32, none did, with 128 or 256 tasks (5
/// runs of 5).
const CLUSTER_MOST_KEYS: usize = 32;
/// The most times the driver lets the other tasks run before an `MGET`, to take their
/// lookups too (see `take_latecomers`). With 64 tasks calling, an `MGET` took 31 keys
/// with none, 50 with one pass, 59 with up to four.
const LATECOMER_PASSES: usize = 4;

/// A lookup's answer: the value, if any, or why there is none.
pub(crate) type Found = Result<Option<Vec<u8>>, RedisBackendError>;

/// A queued lookup: its key's name, and its caller, until answered.
struct Lookup {
    name: String,
    /// When its caller's time is up (`None`: never), counted from when it queued.
    deadline: Option<Instant>,
    /// `None` once answered.
    reply: Option<oneshot::Sender<Found>>,
    /// One of a many-key call's keys: it shares each batch with single lookups (see
    /// [`Waiting`]), rather than taking whole batches ahead of them.
    among_many: bool,
}

impl Lookup {
    fn answer(&mut self, found: Found) {
        if let Some(reply) = self.reply.take() {
            // A caller that gave up no longer listens.
            let _ = reply.send(found);
        }
    }

    /// Answers `Timeout` if its time is up at `now`.
    fn expire(&mut self, now: Instant, timeout: Duration) {
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.answer(Err(RedisBackendError::Timeout(timeout)));
        }
    }

    /// Its deadline, while unanswered.
    fn pending_deadline(&self) -> Option<Instant> {
        self.reply.as_ref().and(self.deadline)
    }
}

/// Gathers concurrent lookups; shared by every handle on a backend.
#[derive(Default)]
pub(crate) struct Batcher {
    in_flight: AtomicUsize,
    /// One driver per runtime, as with connections: a driver on another runtime may
    /// be idle (a current-thread runtime between `block_on`s) or gone.
    drivers: Mutex<Vec<(runtime::Id, mpsc::UnboundedSender<Lookup>)>>,
}

impl Batcher {
    /// The value under `name`: a `GET` when alone, else a place in the next `MGET`.
    /// On a cluster too: an `MGET` split into a command per slot (see `slots`) costs
    /// throughput (about 165 k against 200 k calls/s for plain `GET`s from 64 tasks),
    /// but plain `GET`s during a resharding each answered MOVED made it reread the slot
    /// map while holding every request, for over a second; split `MGET`s of at most 32
    /// keys did not (see `CLUSTER_MOST_KEYS`).
    pub(crate) async fn get(&self, link: &Arc<Link>, name: String) -> Found {
        self.look_up(link, name, false).await
    }

    /// [`get`](Self::get) for one key of a many-key call: while single lookups wait
    /// too, such keys take at most half of each batch.
    pub(crate) async fn get_among_many(&self, link: &Arc<Link>, name: String) -> Found {
        self.look_up(link, name, true).await
    }

    async fn look_up(&self, link: &Arc<Link>, name: String, among_many: bool) -> Found {
        // A large value's reply would hold up, or time out, everyone's batch.
        if link.reads_apart(&name) {
            return link.get(&name).await;
        }
        let in_flight = InFlight::enter(&self.in_flight);
        if in_flight.alone {
            return link.get(&name).await;
        }
        let (reply, found) = oneshot::channel();
        let lookup = Lookup {
            name,
            deadline: Instant::now().checked_add(link.timeout()),
            reply: Some(reply),
            among_many,
        };
        match self.enqueue(link, lookup) {
            // The driver answers within the timeout, a wait for an `MGET` ahead of this
            // one included (that `MGET` is bounded by the timeout too); running out says
            // nothing of the server, so it does not pause the backend: its `MGET` (on a
            // cluster, the `GET`s it falls back to), bounded on its own, pauses it if the
            // server fails that.
            //
            // An error: the driver went with its runtime.
            Ok(()) => found.await.unwrap_or(Err(RedisBackendError::Unavailable)),
            // No runtime to drive a batch: look it up alone after all.
            Err(Lookup { name, .. }) => link.get(&name).await,
        }
    }

    /// Queues `lookup` for this runtime's driver, starting one if there is none (or the
    /// last one went with a runtime that ended).
    fn enqueue(&self, link: &Arc<Link>, lookup: Lookup) -> Result<(), Lookup> {
        let Ok(runtime) = Handle::try_current() else {
            return Err(lookup);
        };
        let mut drivers = self.drivers.lock().unwrap_or_else(PoisonError::into_inner);
        let lookup = match drivers.iter().find(|(id, _)| *id == runtime.id()) {
            Some((_, driver)) => match driver.send(lookup) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(lookup)) => lookup,
            },
            None => lookup,
        };
        // Drivers whose runtime ended can no longer receive.
        drivers.retain(|(_, driver)| !driver.is_closed());
        let (sender, receiver) = mpsc::unbounded_channel();
        runtime.spawn(drive(Arc::clone(link), receiver));
        let sent = sender.send(lookup).map_err(|mpsc::error::SendError(l)| l);
        drivers.push((runtime.id(), sender));
        sent
    }
}

/// Sends what is queued as one `MGET` (at most `most` keys, half from each line while
/// both wait: see [`Waiting::fill`]), again and again. A lookup that queues while a
/// query is in flight waits at most for it, which is bounded by the timeout from its
/// start (plus the driver's few synchronous steps before it), so every query awaited
/// here must be. Those taken off the queue but left out of a batch wait for the next:
/// their deadlines are kept with the batch's.
async fn drive(link: Arc<Link>, mut queue: mpsc::UnboundedReceiver<Lookup>) {
    let (timeout, cluster) = (link.timeout(), link.is_cluster());
    let most = match cluster {
        true => CLUSTER_MOST_KEYS,
        false => MOST_KEYS,
    };
    let mut batch = Vec::with_capacity(most);
    let mut waiting = Waiting::default();
    // How many callers the last batch answered at once: those may come back at once.
    let mut woken = 0;
    loop {
        if waiting.is_empty() {
            if queue.recv_many(&mut batch, most).await == 0 {
                return;
            }
            batch.drain(..).for_each(|lookup| waiting.push(lookup));
        }
        waiting.take_queued(&mut queue);
        // Not on a cluster, whose batches are capped anyway (see `CLUSTER_MOST_KEYS`).
        if woken > 1 && !cluster {
            take_latecomers(&mut queue, &mut waiting, most).await;
        }
        // Without those whose time ran out behind the last `MGET` (their deadline would
        // fire at once anyway), and those whose callers gave up.
        waiting.fill(&mut batch, most, Instant::now(), timeout);
        woken = 0;
        if batch.is_empty() {
            continue;
        }
        if cluster {
            let parts = slots::group_by_slot(&mut batch);
            let runs: Vec<usize> = parts.iter().map(|(_, keys)| keys.len()).collect();
            let query = link.query_parts(mget(batch.iter()), parts);
            let within_half = within_half(&link, query);
            let watched = &mut watched(&mut batch, &mut waiting);
            let replies = keeping_deadlines(watched, within_half, timeout).await;
            slots::answer(&link, &mut batch, &runs, replies);
            continue;
        }
        let command = mget(batch.iter());
        let query = link.query::<Vec<Option<Vec<u8>>>>(&command);
        let watched = &mut watched(&mut batch, &mut waiting);
        match keeping_deadlines(watched, query, timeout).await {
            Ok(values) if values.len() == batch.len() => {
                woken = batch.iter().filter(|lookup| lookup.reply.is_some()).count();
                for (lookup, value) in batch.iter_mut().zip(values) {
                    link.learn_size(&lookup.name, value.as_deref());
                    lookup.answer(Ok(value));
                }
                batch.clear();
            }
            Ok(_) => reply_all(&mut batch, &RedisBackendError::Malformed),
            Err(e) => {
                if matches!(e, RedisBackendError::Timeout(_)) {
                    link.suspect(batch.iter().map(|lookup| lookup.name.as_str()));
                }
                reply_all(&mut batch, &e)
            }
        }
    }
}

/// An `MGET` of `lookups`' names.
fn mget<'a>(lookups: impl Iterator<Item = &'a Lookup>) -> Cmd {
    let mut command = Cmd::new();
    command.arg("MGET");
    for lookup in lookups {
        command.arg(&lookup.name);
    }
    command
}

/// The lookups whose deadlines are kept while `batch` is out: its own, and those
/// waiting.
fn watched<'a>(batch: &'a mut [Lookup], waiting: &'a mut Waiting) -> [&'a mut [Lookup]; 5] {
    let [single_older, single_newer, many_older, many_newer] = waiting.slices();
    [batch, single_older, single_newer, many_older, many_newer]
}

/// Adds to `waiting` the lookups queued while the scheduler runs the other tasks, for
/// as long as each pass brings more and the next batch is not full (at most
/// [`LATECOMER_PASSES`]). Under load, the callers that the last batch's answers woke
/// call again at once: without this they would make up a batch of their own while this
/// one is at the server, and two half batches would alternate, each a write, a round
/// trip and wake-ups for half the keys.
async fn take_latecomers(
    queue: &mut mpsc::UnboundedReceiver<Lookup>,
    waiting: &mut Waiting,
    most: usize,
) {
    if waiting.len() >= most {
        return;
    }
    for _ in 0..LATECOMER_PASSES {
        tokio::task::yield_now().await;
        let before = waiting.len();
        waiting.take_queued(queue);
        if waiting.len() == before || waiting.len() >= most {
            return;
        }
    }
}

/// `query`'s outcome, while answering `Timeout` to each lookup of `watched` whose time
/// runs out first. The query goes on: its own bound (on a cluster, half the timeout,
/// then the fallback `GET`s' own) decides whether the server failed.
async fn keeping_deadlines<T>(
    watched: &mut [&mut [Lookup]],
    query: impl Future<Output = T>,
    timeout: Duration,
) -> T {
    let mut query = pin!(query);
    loop {
        let deadlines = watched.iter().flat_map(|lookups| lookups.iter());
        let Some(earliest) = deadlines.filter_map(Lookup::pending_deadline).min() else {
            return query.await;
        };
        let sleep = pin!(tokio::time::sleep_until(earliest));
        match select(query.as_mut(), sleep).await {
            Either::Left((outcome, _)) => return outcome,
            Either::Right(((), _)) => {
                let now = Instant::now();
                for lookup in watched.iter_mut().flat_map(|lookups| lookups.iter_mut()) {
                    lookup.expire(now, timeout);
                }
            }
        }
    }
}

/// `query`'s outcome, or `None` if it took half the timeout. A cluster's node answers
/// an `MGET` TRYAGAIN while its slot migrates with some of the keys gone, and redis-rs
/// retries that with waits that outlast the timeout: the `MGET` would time out and
/// pause the backend, failing every call for the pause. A `GET` per key is redirected
/// at once instead (ASK), within the half left.
async fn within_half<T>(link: &Link, query: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(link.timeout() / 2, query).await.ok()
}

/// Answers each lookup of `batch` by a `GET` of its own, on a task of its own so that
/// later batches do not wait: a `GET` finds its node (connecting if need be) and is
/// redirected on its own, so only a key that truly fails fails. Each is answered as its
/// `GET` returns, or `Timeout` when its caller's time is up, whichever comes first.
/// Lookups already answered `Timeout` are sent too: a dead node is found by their
/// `GET`s timing out, which pauses the backend and rebuilds the connection.
fn look_up_each_apart(link: &Arc<Link>, batch: &mut Vec<Lookup>) {
    let (link, batch) = (Arc::clone(link), std::mem::take(batch));
    tokio::spawn(async move {
        let timeout = link.timeout();
        let gets = batch.into_iter().map(|mut lookup| {
            let link = &link;
            async move {
                let name = std::mem::take(&mut lookup.name);
                // Not dropped when its caller's time is up: its own bound decides
                // whether the node failed, which pauses and rebuilds the connection.
                let get = link.get(&name);
                let watched = &mut [slice::from_mut(&mut lookup)];
                let found = keeping_deadlines(watched, get, timeout).await;
                lookup.answer(found);
            }
        });
        join_all(gets).await;
    });
}

fn reply_all(batch: &mut Vec<Lookup>, error: &RedisBackendError) {
    for mut lookup in batch.drain(..) {
        lookup.answer(Err(error.clone()));
    }
}

/// Counts a lookup in flight while it lives.
struct InFlight<'a> {
    count: &'a AtomicUsize,
    alone: bool,
}

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        let before = count.fetch_add(1, Relaxed);
        InFlight {
            count,
            alone: before == 0,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Relaxed);
    }
}
