//! The tracking connections: `CLIENT TRACKING ON BCAST PREFIX <namespace>` over RESP3,
//! whose invalidation pushes retire near copies as each connection's driver reads them.
//! One connection to a single server; on a cluster, one to every node that is up,
//! primaries and replicas (a replica pushes invalidations for the writes it
//! replicates, so copies stay coherent through a failover, even one that keeps the old
//! primary alive).
//!
//! A `PING` on every connection, answered, confirms that the invalidations sent before
//! it were applied: copies are served only within the bound of the last confirmation.

use std::sync::atomic::{AtomicBool, Ordering::AcqRel, Ordering::Acquire, Ordering::Release};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::join_all;
use jwm_cache_core::Clock;
use redis::aio::{AsyncPushSender, SendError};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::Notify;

use super::epochs::Epochs;
use super::nodes::{Server, Session, nodes_seen, start};
use crate::clock::SystemClock;

/// The first and the longest wait before connecting again after a failure.
const FIRST_RETRY: Duration = Duration::from_millis(50);
const LONGEST_RETRY: Duration = Duration::from_secs(1);

/// What the tracker needs to know, and to reach, of its near tier.
pub(crate) struct Tracked {
    /// What to track, reached over RESP3.
    pub(crate) server: Server,
    /// `{prefix}{identifier}:`, the namespace tracked.
    pub(crate) head: Arc<str>,
    pub(crate) epochs: Arc<Epochs>,
    /// Drops every copy: when tracking is lost, they are retired already, and this frees
    /// their memory.
    pub(crate) forget: Weak<dyn Fn() + Send + Sync>,
    /// Each step (connect, `CLIENT TRACKING`, a `PING`) is bounded by this.
    pub(crate) timeout: Duration,
    /// How often a cluster's nodes are compared with those tracked, and the longest
    /// gap between `PING`s.
    pub(crate) heartbeat: Duration,
    /// The longest a copy is served after the last confirmation was sent.
    pub(crate) bound: Duration,
}

impl Tracked {
    /// How often the connections are `PING`ed: four times within the bound, so that a
    /// late answer or two does not stop the copies being served.
    fn renewal(&self) -> Duration {
        self.heartbeat.min(self.bound / 4)
    }
}

/// Tells the tracker that its near tier is gone, or its connection is.
#[derive(Default)]
pub(crate) struct Signals {
    wake: Notify,
    stopped: AtomicBool,
    lost: AtomicBool,
}

impl Signals {
    /// The near tier is dropped: the tracker ends, and its connection closes.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Release);
        self.wake.notify_one();
    }

    /// The current connection is gone.
    fn lose(&self) {
        self.lost.store(true, Release);
        self.wake.notify_one();
    }

    /// Waits for a signal, at most `most`.
    async fn wait(&self, most: Duration) {
        let _ = tokio::time::timeout(most, self.wake.notified()).await;
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Acquire)
    }
}

/// Keeps tracking on until `signals` says stop: connects, turns tracking on, then
/// `PING`s every renewal (see [`watch`]). A lost connection or a failed `PING` turns tracking off
/// (every copy retired and forgotten) until a new connection has it on again.
pub(crate) async fn track(tracked: Tracked, signals: Arc<Signals>) {
    let mut retry = FIRST_RETRY;
    let mut known = Vec::new();
    #[cfg(feature = "tracing")]
    let mut last_failure = None;
    loop {
        let session = tracked.epochs.next_session();
        signals.lost.store(false, Release);
        let handler = Invalidations {
            epochs: Arc::clone(&tracked.epochs),
            head: Arc::clone(&tracked.head),
            session,
            signals: Arc::clone(&signals),
        };
        // A cluster's session may try a dead seed before a live one.
        let within = tracked.timeout.saturating_mul(3);
        let started = tokio::time::timeout(within, start(&tracked, handler, &mut known)).await;
        if let Ok(Ok(connection)) = started {
            // Confirmed as of now: no copy is tagged before `go_live`, and every read
            // after it sees the writes that returned before.
            tracked.epochs.confirm(SystemClock.now(), tracked.bound);
            tracked.epochs.go_live(session);
            let began = std::time::Instant::now();
            #[cfg(feature = "tracing")]
            {
                last_failure = None;
                tracing::info!(target: "jwm_cache::redis", head = %tracked.head, "near tier tracking on");
            }
            let stopped = watch(connection, &tracked, &signals).await;
            tracked.epochs.go_dark(session);
            forget(&tracked);
            // A connection that keeps dropping at once is retried ever more slowly.
            if began.elapsed() >= LONGEST_RETRY {
                retry = FIRST_RETRY;
            }
            #[cfg(feature = "tracing")]
            tracing::warn!(target: "jwm_cache::redis", head = %tracked.head, "near tier tracking lost: serving nothing from memory until it is back");
            if stopped {
                return;
            }
        } else {
            tracked.epochs.go_dark(session);
            #[cfg(feature = "tracing")]
            report_failed_start(&tracked, started, &mut last_failure);
        }
        signals.wait(retry).await;
        if signals.stopped() {
            return;
        }
        retry = (retry * 2).min(LONGEST_RETRY);
    }
}

/// Warns that tracking could not start (an ACL without `CLIENT`, a server or proxy
/// without RESP3, a node unreachable at the address the cluster gives), once per kind of
/// failure rather than once per retry: until it starts, every lookup goes to Redis.
#[cfg(feature = "tracing")]
fn report_failed_start(
    tracked: &Tracked,
    started: Result<redis::RedisResult<Session>, tokio::time::error::Elapsed>,
    last_failure: &mut Option<String>,
) {
    let failure = match started {
        Ok(Ok(_)) => return,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within three timeouts".to_owned(),
    };
    if last_failure.as_ref() != Some(&failure) {
        tracing::warn!(target: "jwm_cache::redis", head = %tracked.head, %failure, "near tier tracking could not start: serving nothing from memory, retrying");
        *last_failure = Some(failure);
    }
}

/// `PING`s every connection each renewal, confirming the copies when all answer, until
/// a connection is lost or fails a `PING`, or a cluster's nodes change (false), or the
/// tier is dropped (true). A node that joins the cluster is tracked from the next
/// session on: it is noticed within one heartbeat.
async fn watch(mut session: Session, tracked: &Tracked, signals: &Signals) -> bool {
    let mut nodes_compared = std::time::Instant::now();
    loop {
        signals.wait(tracked.renewal()).await;
        if signals.stopped() {
            return true;
        }
        if signals.lost.swap(false, AcqRel) {
            return false;
        }
        // Read before any `PING` is sent: what their answers confirm.
        let sent = SystemClock.now();
        let pings = session.connections.iter_mut().map(|connection| {
            let ping = redis::cmd("PING");
            async move { ping.query_async::<()>(connection).await }
        });
        let answered = tokio::time::timeout(tracked.timeout, join_all(pings)).await;
        if !answered.is_ok_and(|pings| pings.iter().all(Result::is_ok)) {
            return false;
        }
        // redis-rs's driver hands each push to the handler as it reads it, before it
        // completes a later reply (`PipelineSink::send_result`, redis 1.8): a PONG read
        // means the invalidations queued before it are applied.
        tracked.epochs.confirm(sent, tracked.bound);
        if nodes_compared.elapsed() >= tracked.heartbeat {
            nodes_compared = std::time::Instant::now();
            if let (Some(nodes), Some(first)) = (&session.nodes, session.connections.first_mut()) {
                let seen = tokio::time::timeout(tracked.timeout, nodes_seen(first)).await;
                if !seen.is_ok_and(|seen| seen.as_ref().is_ok_and(|seen| seen == nodes)) {
                    return false;
                }
            }
        }
        if tracked.forget.strong_count() == 0 {
            return true;
        }
    }
}

fn forget(tracked: &Tracked) {
    if let Some(forget) = tracked.forget.upgrade() {
        forget();
    }
}

/// The push handler of one tracking connection: run by its driver, as it reads.
#[derive(Clone)]
pub(super) struct Invalidations {
    epochs: Arc<Epochs>,
    head: Arc<str>,
    session: u64,
    signals: Arc<Signals>,
}

#[cfg(test)]
impl Invalidations {
    /// A handler for `tracked`'s next session, with signals of its own.
    pub(super) fn for_tests(tracked: &Tracked) -> Self {
        Invalidations {
            epochs: Arc::clone(&tracked.epochs),
            head: Arc::clone(&tracked.head),
            session: tracked.epochs.next_session(),
            signals: Arc::new(Signals::default()),
        }
    }
}

impl AsyncPushSender for Invalidations {
    fn send(&self, info: PushInfo) -> Result<(), SendError> {
        match info.kind {
            PushKind::Invalidate => match info.data.first() {
                Some(Value::Array(names)) => {
                    for name in names {
                        match name {
                            // A name outside the namespace's key names has no copy.
                            Value::BulkString(name) => {
                                if let Some(stripe) = self.epochs.stripe_of(name, &self.head) {
                                    self.epochs.invalidate(stripe);
                                }
                            }
                            // Not a name: whatever it meant, nothing is trusted.
                            _ => self.epochs.invalidate_all(),
                        }
                    }
                }
                // FLUSHALL or FLUSHDB: the server names no key.
                _ => self.epochs.invalidate_all(),
            },
            PushKind::Disconnection if self.epochs.go_dark(self.session) => self.signals.lose(),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "p:near:";

    fn name(low: u64) -> Value {
        Value::BulkString(format!("{HEAD}{:032x}", low).into_bytes())
    }

    /// A live tier's push handler, and a tag of stripe `stripe_of(name(1))`.
    fn live_handler() -> (Invalidations, Arc<Signals>, super::super::epochs::Tag) {
        let epochs = Arc::new(Epochs::new(16));
        let session = epochs.next_session();
        epochs.go_live(session);
        let signals = Arc::new(Signals::default());
        let Value::BulkString(one) = name(1) else {
            unreachable!()
        };
        let tag = epochs.tag(epochs.stripe_of(&one, HEAD).unwrap()).unwrap();
        let handler = Invalidations {
            epochs,
            head: Arc::from(HEAD),
            session,
            signals: Arc::clone(&signals),
        };
        (handler, signals, tag)
    }

    fn push(kind: PushKind, data: Vec<Value>) -> PushInfo {
        PushInfo { kind, data }
    }

    #[test]
    fn a_named_key_retires_its_stripe_and_a_foreign_name_nothing() {
        let (handler, _, tag) = live_handler();
        let foreign = Value::BulkString(b"other:near:1".to_vec());
        let lease = Value::BulkString(format!("{HEAD}{:032x}:lease", 1).into_bytes());
        handler
            .send(push(
                PushKind::Invalidate,
                vec![Value::Array(vec![foreign, lease, name(2)])],
            ))
            .unwrap();
        assert!(handler.epochs.is_current(tag));
        handler
            .send(push(
                PushKind::Invalidate,
                vec![Value::Array(vec![name(1)])],
            ))
            .unwrap();
        assert!(!handler.epochs.is_current(tag));
    }

    #[test]
    fn a_flush_or_a_push_of_unknown_shape_retires_everything() {
        for data in [
            vec![Value::Nil],
            vec![],
            vec![Value::Array(vec![Value::Int(7)])],
            vec![Value::SimpleString("?".into())],
        ] {
            let (handler, _, tag) = live_handler();
            handler
                .send(push(PushKind::Invalidate, data.clone()))
                .unwrap();
            assert!(!handler.epochs.is_current(tag), "{data:?}");
            assert!(handler.epochs.is_live(), "a flush keeps tracking on");
        }
    }

    #[test]
    fn a_disconnection_turns_tracking_off_unless_a_newer_session_runs() {
        let (handler, signals, tag) = live_handler();
        handler.send(push(PushKind::Disconnection, vec![])).unwrap();
        assert!(!handler.epochs.is_live() && !handler.epochs.is_current(tag));
        assert!(signals.lost.load(Acquire));

        let (old, signals, _) = live_handler();
        let newer = old.epochs.next_session();
        old.epochs.go_live(newer);
        old.send(push(PushKind::Disconnection, vec![])).unwrap();
        assert!(old.epochs.is_live());
        assert!(!signals.lost.load(Acquire));
    }

    #[test]
    fn other_pushes_change_nothing() {
        let (handler, signals, tag) = live_handler();
        handler
            .send(push(PushKind::Message, vec![name(1)]))
            .unwrap();
        assert!(handler.epochs.is_current(tag) && !signals.lost.load(Acquire));
    }
}
