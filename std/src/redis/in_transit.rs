//! Stores that timed out but may still land: a `clear` must wait for them, as its scan
//! cannot list what has not landed yet (on another connection than the store's, it
//! does not queue behind it).
//!
//! A store whose caller gave up may still reach the server if redis-rs had begun to send
//! it (it drops one it had not). Its names are followed until a command sent after it
//! on the same connection answers: then it has landed, or was lost with the connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::endpoint::Connection;

/// How long a follower asks after a store before it lets its names go.
const FOLLOW_FOR: Duration = Duration::from_secs(10);

/// The names of stores that may still land, with how many such stores each.
#[derive(Default)]
pub(crate) struct InTransit {
    names: Arc<Mutex<HashMap<String, usize>>>,
    /// Told whenever names leave.
    landed: Arc<Notify>,
}

impl InTransit {
    /// Counts `names`, stored on `connection` by a store whose caller gave up, until a
    /// command sent after that store answers there; `timeout`, the connection's, paces
    /// the tries. The names of one store share a slot on a cluster, so one `EXISTS`
    /// reaches their node.
    pub(crate) fn follow(&self, names: &[&str], mut connection: Connection, timeout: Duration) {
        let names: Vec<String> = names.iter().map(|&name| name.to_owned()).collect();
        {
            let mut counts = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            for name in &names {
                *counts.entry(name.clone()).or_default() += 1;
            }
        }
        // Lets the names go however the task ends: with its runtime too, whose
        // connection goes with it, taking the store along.
        let release = Release {
            names,
            counts: Arc::clone(&self.names),
            landed: Arc::clone(&self.landed),
        };
        let pause = timeout.min(Duration::from_millis(50));
        tokio::spawn(async move {
            let exists = redis::cmd("EXISTS").arg(&release.names).to_owned();
            let began = tokio::time::Instant::now();
            // Each try ends at the connection's own response timeout (redis-rs sends
            // none whose caller left before its turn, so each is a new one, behind).
            // Checked between tries: a follow lasts `FOLLOW_FOR` and one try more.
            while began.elapsed() < FOLLOW_FOR {
                match exists.query_async::<redis::Value>(&mut connection).await {
                    Err(e) if e.is_timeout() => tokio::time::sleep(pause).await,
                    _ => break,
                }
            }
            drop(release);
        });
    }

    /// Returns once no store of a name that `owns` may still land; the caller bounds it.
    pub(crate) async fn until_landed(&self, owns: impl Fn(&str) -> bool) {
        loop {
            let notified = self.landed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a landing in between is not missed.
            notified.as_mut().enable();
            let pending = {
                let counts = self.names.lock().unwrap_or_else(PoisonError::into_inner);
                counts.keys().any(|name| owns(name))
            };
            if !pending {
                return;
            }
            notified.await;
        }
    }
}

/// One store's names, let go when dropped.
struct Release {
    names: Vec<String>,
    counts: Arc<Mutex<HashMap<String, usize>>>,
    landed: Arc<Notify>,
}

impl Drop for Release {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for name in &self.names {
            if let Some(stores) = counts.get_mut(name) {
                *stores -= 1;
                if *stores == 0 {
                    counts.remove(name);
                }
            }
        }
        drop(counts);
        self.landed.notify_waiters();
    }
}
