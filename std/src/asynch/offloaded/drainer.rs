//! The blocking task that runs an [`Offloaded`](super::Offloaded) backend's queue.

use std::sync::Arc;

use tokio::runtime::{self, Handle};

use super::{Queued, lock};

/// The blocking task that runs the queue, on one runtime's pool: until the queue is
/// empty, or its next operation was called on another runtime, whose pool a successor
/// then runs on. Bounded on the struct, as its `Drop` starts a successor.
pub(super) struct Drainer<B: Send + 'static> {
    shared: Arc<Queued<B>>,
    runtime: runtime::Id,
    /// Set once it handed the queue back, or on to a successor.
    done: bool,
}

impl<B: Send + 'static> Drainer<B> {
    /// Spawns a drainer on `runtime`'s blocking pool; the queue is marked draining.
    pub(super) fn start(shared: &Arc<Queued<B>>, runtime: &Handle) {
        let drainer = Drainer {
            shared: Arc::clone(shared),
            runtime: runtime.id(),
            done: false,
        };
        // On a runtime that shut down, the drainer is dropped unrun (see `Drop`).
        runtime.spawn_blocking(move || drainer.drain());
    }

    fn drain(mut self) {
        loop {
            let mut queue = lock(&self.shared.queue);
            queue.running_since = None;
            let Some(job) = queue.jobs.pop_front() else {
                queue.draining = false;
                self.done = true;
                return;
            };
            if job.runtime.id() != self.runtime {
                let next = job.runtime.clone();
                queue.jobs.push_front(job);
                drop(queue);
                self.done = true;
                Drainer::start(&self.shared, &next);
                return;
            }
            queue.running_since = Some(std::time::Instant::now());
            drop(queue);
            let mut backend = lock(&self.shared.backend);
            (job.run)(&mut backend);
        }
    }
}

/// A drainer dropped unrun (its runtime shut down first): the operations called on that
/// runtime at the head of the queue are dropped, so their callers get `NoRuntime`, and
/// a successor runs the rest on their own runtime.
impl<B: Send + 'static> Drop for Drainer<B> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut dropped = Vec::new();
        let next = {
            let mut queue = lock(&self.shared.queue);
            while queue
                .jobs
                .front()
                .is_some_and(|job| job.runtime.id() == self.runtime)
            {
                dropped.extend(queue.jobs.pop_front());
            }
            let next = queue.jobs.front().map(|job| job.runtime.clone());
            queue.draining = next.is_some();
            next
        };
        // Outside the lock: a caller's channel wakes it as it drops.
        drop(dropped);
        if let Some(next) = next {
            Drainer::start(&self.shared, &next);
        }
    }
}
