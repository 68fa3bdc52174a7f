//! Stores that timed out, or whose caller gave up, but may still land: a `clear`, a
//! removal or a later store of one of their keys must wait for them (a lease's release
//! need not: a holder's store is fenced, and refused once the lease is given back). On
//! another connection than theirs, it does not queue behind them, and they could land
//! after it: outlive the `clear` or removal, or put an older value back.
//!
//! A store whose caller gave up may still reach the server if redis-rs had begun to send
//! it (it drops one it had not). A command answered later on the same connection (one
//! manager or cluster connection; redis-rs keeps its socket across response timeouts)
//! proves that every store sent before it has landed, or was lost with the connection. So one
//! follower per connection probes with an `EXISTS` of the names stored since its last
//! probe (on a cluster, one per slot, so that each node answers for its own stores):
//! however many stores time out at once, each connection carries one probe at a time.
//! A store is waited for at most [`GIVEN_UP_AFTER`](state::GIVEN_UP_AFTER), however its
//! follower fares.

mod state;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::future::join_all;
use redis::cluster_routing::Slot;
use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::endpoint::Connection;
pub(crate) use state::Awaited;
use state::State;

/// How long a probe is retried before its names are let go: names stored while one is
/// out wait for the next, so a name is followed for up to about twice this (and never
/// waited for past [`GIVEN_UP_AFTER`](state::GIVEN_UP_AFTER)).
const FOLLOW_FOR: Duration = Duration::from_secs(10);
/// The wait between two tries of a probe: the first, and the longest (so a waiting write
/// waits at most about this long after the server answers again).
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

/// The stores that may still land, and their followers.
#[derive(Default)]
pub(crate) struct InTransit {
    shared: Arc<Shared>,
}

/// What the followers and the callers waiting for them share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// How many names `state` counts, so that a store or a removal finds none (the
    /// usual case) without the lock.
    followed: AtomicUsize,
    /// Told whenever names are let go.
    landed: Notify,
}

impl InTransit {
    /// Counts `names`, stored on `connection` (whose serial is `serial`, made on
    /// `runtime`) by a store whose caller gave up, until a probe sent after that store
    /// answers there; `timeout`, the connection's, bounds each try.
    fn follow(
        &self,
        names: &[&str],
        (connection, serial, runtime): (Connection, u64, &Handle),
        timeout: Duration,
    ) {
        let mut state = self.shared.lock();
        let now = std::time::Instant::now();
        for name in names {
            state.count(name, serial, now);
        }
        self.shared.publish(&state);
        let names = names.iter().map(|&name| name.to_owned());
        match state.waiting.entry(serial) {
            // Its follower takes them with its next probe.
            Entry::Occupied(mut waiting) => {
                waiting.get_mut().extend(names);
                return;
            }
            Entry::Vacant(vacant) => {
                vacant.insert(names.collect());
            }
        }
        // Unlocked first: a runtime shutting down drops the task at once, and the
        // follower's drop takes the lock.
        drop(state);
        let follower = Follower {
            serial,
            shared: Arc::clone(&self.shared),
            done: false,
        };
        // On the connection's runtime, whose end takes the connection, and the stores.
        drop(runtime.spawn(follower.run(connection, timeout)));
    }

    /// A store of `names` about to be sent on `sent_on`: followed unless
    /// [`settled`](Sending::settled), so that one whose caller gives up mid-way is
    /// followed too.
    pub(crate) fn sending<'a>(
        &'a self,
        names: &'a [&'a str],
        sent_on: (Connection, u64, Handle),
        timeout: Duration,
    ) -> Sending<'a> {
        Sending {
            in_transit: self,
            names,
            sent_on: Some(sent_on),
            timeout,
        }
    }

    /// Whether a store of `awaited` may still land.
    pub(crate) fn holds(&self, awaited: Awaited<'_>) -> bool {
        self.pending(awaited).is_some()
    }

    /// When the last store of `awaited` that may still land is given up on.
    fn pending(&self, awaited: Awaited<'_>) -> Option<std::time::Instant> {
        if self.shared.followed.load(Acquire) == 0 {
            return None;
        }
        let now = std::time::Instant::now();
        self.shared.lock().pending(awaited, now)
    }

    /// Returns once no store of `awaited` may still land; the caller bounds it.
    pub(crate) async fn until_landed(&self, awaited: Awaited<'_>) {
        loop {
            let notified = self.shared.landed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a landing in between is not missed.
            notified.as_mut().enable();
            let Some(given_up) = self.pending(awaited) else {
                return;
            };
            // On the std clock, which `given_up` is on (tokio's may be paused).
            let left = given_up.saturating_duration_since(std::time::Instant::now());
            let _either = tokio::time::timeout(left, notified).await;
        }
    }
}

/// A store under way, followed when dropped unless settled.
pub(crate) struct Sending<'a> {
    in_transit: &'a InTransit,
    names: &'a [&'a str],
    sent_on: Option<(Connection, u64, Handle)>,
    timeout: Duration,
}

impl Sending<'_> {
    /// The store was answered, or failed otherwise than by a timeout: it cannot land
    /// later.
    pub(crate) fn settled(mut self) {
        self.sent_on = None;
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        if let Some((connection, serial, runtime)) = self.sent_on.take() {
            let sent_on = (connection, serial, &runtime);
            self.in_transit.follow(self.names, sent_on, self.timeout);
        }
    }
}

/// One connection's follower.
struct Follower {
    serial: u64,
    shared: Arc<Shared>,
    /// It took its connection's entry out itself: a newer follower may own it now.
    done: bool,
}

impl Follower {
    async fn run(mut self, connection: Connection, timeout: Duration) {
        let cluster = matches!(connection, Connection::Cluster(_));
        loop {
            let names = {
                let mut state = self.shared.lock();
                match state.waiting.get_mut(&self.serial).map(std::mem::take) {
                    Some(names) if !names.is_empty() => names,
                    _ => {
                        state.waiting.remove(&self.serial);
                        self.done = true;
                        return;
                    }
                }
            };
            let probes = by_slot(names, cluster).into_iter().map(|names| {
                let covered = Covered {
                    names,
                    serial: self.serial,
                    shared: Arc::clone(&self.shared),
                };
                probe(covered, connection.clone(), timeout)
            });
            join_all(probes).await;
        }
    }
}

impl Drop for Follower {
    /// However the task ends (with its runtime too, whose connection goes with it,
    /// taking the stores along), the names waiting for it are let go; its probes' go
    /// with them.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if !self.done
            && let Some(waiting) = state.waiting.remove(&self.serial)
        {
            state.let_go(waiting, self.serial);
            self.shared.publish(&state);
        }
        drop(state);
        self.shared.landed.notify_waiters();
    }
}

/// On a cluster, `names` by slot: each part of an `EXISTS` goes to its slot's node, and
/// answers for that node's stores only.
fn by_slot(names: Vec<String>, cluster: bool) -> Vec<Vec<String>> {
    if !cluster {
        return vec![names];
    }
    let mut slots: HashMap<Slot, Vec<String>> = HashMap::new();
    for name in names {
        slots.entry(Slot::for_key(&name)).or_default().push(name);
    }
    slots.into_values().collect()
}

/// The names one probe covers, let go once it is answered, given up, or dropped.
struct Covered {
    names: Vec<String>,
    /// Their connection's.
    serial: u64,
    shared: Arc<Shared>,
}

impl Drop for Covered {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.let_go(std::mem::take(&mut self.names), self.serial);
        self.shared.publish(&state);
        drop(state);
        self.shared.landed.notify_waiters();
    }
}

/// Sends an `EXISTS` of `covered`'s names until it is answered (or fails otherwise),
/// retrying a timeout for up to [`FOLLOW_FOR`].
async fn probe(covered: Covered, mut connection: Connection, timeout: Duration) {
    let exists = redis::cmd("EXISTS").arg(&covered.names).to_owned();
    let began = tokio::time::Instant::now();
    let mut pause = timeout.min(FIRST_PAUSE);
    // Each try ends at the connection's own response timeout (redis-rs sends none whose
    // caller left before its turn, so each is a new one, behind).
    loop {
        match exists.query_async::<redis::Value>(&mut connection).await {
            Err(e) if e.is_timeout() && began.elapsed() < FOLLOW_FOR => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            _ => break,
        }
    }
    drop(covered);
}

impl Shared {
    /// The state is a few maps, changed in whole steps: a panic cannot leave it
    /// half-done.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes `state`'s count of names readable without the lock.
    fn publish(&self, state: &State) {
        self.followed.store(state.len(), Release);
    }
}
