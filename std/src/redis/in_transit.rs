//! Stores that timed out but may still land: a `clear` must wait for them, as its scan
//! cannot list what has not landed yet (on another connection than the store's, it
//! does not queue behind it).
//!
//! A store whose caller gave up may still reach the server if redis-rs had begun to send
//! it (it drops one it had not). A command answered later on the same connection proves
//! that every store sent before it has landed, or was lost with the connection. So one
//! follower per connection probes with an `EXISTS` of the names stored since its last
//! probe: however many stores time out at once, each connection carries at most one
//! probe at a time.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::endpoint::Connection;
use super::namespace::head_of;

/// How long a probe is retried before its names are let go.
const FOLLOW_FOR: Duration = Duration::from_secs(10);
/// The wait between two tries of a probe: the first, and the longest.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The stores that may still land, and their followers.
#[derive(Default)]
pub(crate) struct InTransit {
    state: Arc<Mutex<State>>,
    /// Told whenever names are let go.
    landed: Arc<Notify>,
}

#[derive(Default)]
struct State {
    /// How many names of stores that may still land each namespace has, by its
    /// `{prefix}{identifier}:` head: a clear asks for its own in one lookup.
    heads: HashMap<String, usize>,
    /// For each connection (by serial) that has a follower, the names stored on it
    /// since that follower's last probe was sent.
    waiting: HashMap<u64, Vec<String>>,
}

impl State {
    fn count(&mut self, name: &str) {
        *self.heads.entry(head_of(name).to_owned()).or_default() += 1;
    }

    fn let_go(&mut self, names: impl IntoIterator<Item = String>) {
        for name in names {
            if let Some(count) = self.heads.get_mut(head_of(&name)) {
                *count -= 1;
                if *count == 0 {
                    self.heads.remove(head_of(&name));
                }
            }
        }
    }
}

impl InTransit {
    /// Counts `names`, stored on `connection` (whose serial is `serial`) by a store whose
    /// caller gave up, until a probe sent after that store answers there; `timeout`,
    /// the connection's, bounds each try.
    pub(crate) fn follow(
        &self,
        names: &[&str],
        connection: Connection,
        serial: u64,
        timeout: Duration,
    ) {
        let mut state = lock(&self.state);
        for name in names {
            state.count(name);
        }
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
        drop(state);
        let follower = Follower {
            serial,
            state: Arc::clone(&self.state),
            landed: Arc::clone(&self.landed),
            probing: Vec::new(),
            done: false,
        };
        tokio::spawn(follower.run(connection, timeout));
    }

    /// Returns once no store of the namespace `head` may still land; the caller bounds
    /// it.
    pub(crate) async fn until_landed(&self, head: &str) {
        loop {
            let notified = self.landed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a landing in between is not missed.
            notified.as_mut().enable();
            if !lock(&self.state).heads.contains_key(head) {
                return;
            }
            notified.await;
        }
    }
}

/// One connection's follower.
struct Follower {
    serial: u64,
    state: Arc<Mutex<State>>,
    landed: Arc<Notify>,
    /// The names its probe in flight covers.
    probing: Vec<String>,
    /// It took its connection's entry out itself: a newer follower may own it now.
    done: bool,
}

impl Follower {
    async fn run(mut self, mut connection: Connection, timeout: Duration) {
        loop {
            {
                let mut state = lock(&self.state);
                let waiting = state.waiting.get_mut(&self.serial).map(std::mem::take);
                match waiting {
                    Some(names) if !names.is_empty() => self.probing = names,
                    _ => {
                        state.waiting.remove(&self.serial);
                        self.done = true;
                        return;
                    }
                }
            }
            let exists = redis::cmd("EXISTS").arg(&self.probing).to_owned();
            let began = tokio::time::Instant::now();
            let mut pause = timeout.min(FIRST_PAUSE);
            // Each try ends at the connection's own response timeout (redis-rs sends
            // none whose caller left before its turn, so each is a new one, behind).
            while began.elapsed() < FOLLOW_FOR {
                match exists.query_async::<redis::Value>(&mut connection).await {
                    Err(e) if e.is_timeout() => tokio::time::sleep(pause).await,
                    _ => break,
                }
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            let landed = std::mem::take(&mut self.probing);
            lock(&self.state).let_go(landed);
            self.landed.notify_waiters();
        }
    }
}

impl Drop for Follower {
    /// However the task ends (with its runtime too, whose connection goes with it,
    /// taking the stores along), its names are let go.
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        let probing = std::mem::take(&mut self.probing);
        state.let_go(probing);
        if !self.done
            && let Some(waiting) = state.waiting.remove(&self.serial)
        {
            state.let_go(waiting);
        }
        drop(state);
        self.landed.notify_waiters();
    }
}

/// The state is a few maps, changed in whole steps: a panic cannot leave it half-done.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
