//! The threads sync functions refresh on (`refresh_after`): few, bounded, owned by the
//! library, so that a refresh never runs on, or blocks, a caller's thread.
//!
//! [`THREADS`] threads start on the first refresh (if none could, on a refresh at least
//! [`RETRY_START`] later) and take jobs from one queue of at most [`QUEUE`] jobs. A job that finds the queue full is given back, and its refresh
//! is dropped: the entry then lives out its TTL, and the next hit past `refresh_after`
//! tries again. A job's panic is caught: it never reaches a caller, nor stops a thread.
//! A child of `fork`, which has none of the threads, starts its own.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::forks;

/// How many threads refresh sync functions' entries, for the whole process.
pub(crate) const THREADS: usize = 2;
/// How many refreshes may wait for a thread before more are dropped.
pub(crate) const QUEUE: usize = 1024;
/// How long after a start that made no thread the next is tried: each due refresh
/// would otherwise try to spawn threads again, under the one lock.
pub(crate) const RETRY_START: Duration = Duration::from_secs(1);

/// A refresh to run.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// The queue to the threads, if they started, and the process (see [`forks`]) they
/// started in.
struct Started {
    generation: u64,
    jobs: Option<SyncSender<Job>>,
    /// When the threads were started, or tried.
    at: Instant,
}

static STARTED: Mutex<Option<Started>> = Mutex::new(None);

/// Runs `job` on one of the threads; gives it back if the queue is full or no thread
/// could be started (a job at least [`RETRY_START`] later tries again).
pub(crate) fn submit(job: Job) -> Result<(), Job> {
    let generation = forks::generation();
    let mut started = STARTED.lock().unwrap_or_else(PoisonError::into_inner);
    // A start that failed (no thread could be spawned) is tried again, after a while.
    let here = (started.as_ref()).is_some_and(|s| {
        s.generation == generation && (s.jobs.is_some() || s.at.elapsed() < RETRY_START)
    });
    if !here {
        let (jobs, at) = (start(), Instant::now());
        // Started before a fork: the threads are gone here, and the queue's jobs with
        // them. Not dropped: they belong to a process that no longer runs here.
        std::mem::forget(started.replace(Started {
            generation,
            jobs,
            at,
        }));
    }
    let Some(jobs) = started.as_ref().and_then(|s| s.jobs.as_ref()) else {
        return Err(job);
    };
    jobs.try_send(job).map_err(|refused| match refused {
        TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
    })
}

fn start() -> Option<SyncSender<Job>> {
    let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE);
    let queue = Arc::new(Mutex::new(queue));
    let started = (0..THREADS)
        .filter(|n| {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("jwm-cache-refresh-{n}"))
                .spawn(move || work(&queue))
                .is_ok()
        })
        .count();
    (started > 0).then_some(jobs)
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else {
            return;
        };
        let _ = panic::catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn jobs_run_off_the_callers_thread_and_a_panic_stops_no_thread() {
        let (done, finished) = mpsc::channel();
        let caller = thread::current().id();
        for n in 0..THREADS * 2 {
            let done = done.clone();
            let job = move || {
                assert_ne!(thread::current().id(), caller);
                done.send(n).unwrap();
                panic!("a refresh that panics");
            };
            assert!(submit(Box::new(job)).is_ok());
        }
        let mut ran: Vec<usize> = (0..THREADS * 2)
            .map(|_| finished.recv_timeout(Duration::from_secs(60)).unwrap())
            .collect();
        ran.sort_unstable();
        assert_eq!(ran, (0..THREADS * 2).collect::<Vec<_>>());
    }
}
