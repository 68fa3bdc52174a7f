//! The lookups a driver holds between batches, in two lines: single lookups, and the
//! keys of many-key calls (a cluster's `get_many`, which joins the batches key by key).
//! While both wait, each batch takes half of its keys from each line: a `get_many` of
//! thousands of keys does not hold up every other caller for its whole length, and 64
//! busy callers do not starve a `get_many` either (with single lookups always first,
//! one of 100 keys during a resharding timed out 12 calls of 13). The price: beside
//! busy callers a large `get_many` gets half of each batch, so it takes up to twice as
//! long, within its one timeout for the whole call; and the many-key calls' line is
//! first in, first out, so a small `get_many` waits behind a large one.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Lookup;

/// Lookups taken off the queue and not yet sent, oldest first in each line.
#[derive(Default)]
pub(super) struct Waiting {
    single: VecDeque<Lookup>,
    many: VecDeque<Lookup>,
}

impl Waiting {
    pub(super) fn is_empty(&self) -> bool {
        self.single.is_empty() && self.many.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.single.len() + self.many.len()
    }

    pub(super) fn push(&mut self, lookup: Lookup) {
        match lookup.among_many {
            true => self.many.push_back(lookup),
            false => self.single.push_back(lookup),
        }
    }

    /// Takes everything queued now, without waiting.
    pub(super) fn take_queued(&mut self, queue: &mut mpsc::UnboundedReceiver<Lookup>) {
        while let Ok(lookup) = queue.try_recv() {
            self.push(lookup);
        }
    }

    /// Fills `batch` up to `most` keys: single lookups up to half of it, then the
    /// many-key calls' up to the whole, then single lookups again, each line oldest
    /// first. Lookups whose time ran out at `now` are answered `Timeout` and left out,
    /// as are those whose callers gave up, so the batch goes out full if enough are
    /// live.
    pub(super) fn fill(
        &mut self,
        batch: &mut Vec<Lookup>,
        most: usize,
        now: Instant,
        timeout: Duration,
    ) {
        let half = most - most / 2;
        let turns = [(&mut self.single, half), (&mut self.many, most)];
        for (line, up_to) in turns {
            take_live(line, batch, up_to, now, timeout);
        }
        take_live(&mut self.single, batch, most, now, timeout);
    }

    /// Every waiting lookup, for their deadlines to be kept while a batch is out.
    pub(super) fn slices(&mut self) -> [&mut [Lookup]; 4] {
        let (single_older, single_newer) = self.single.as_mut_slices();
        let (many_older, many_newer) = self.many.as_mut_slices();
        [single_older, single_newer, many_older, many_newer]
    }
}

/// Moves live lookups from the front of `line` into `batch` until it holds `up_to`.
fn take_live(
    line: &mut VecDeque<Lookup>,
    batch: &mut Vec<Lookup>,
    up_to: usize,
    now: Instant,
    timeout: Duration,
) {
    while batch.len() < up_to {
        let Some(mut lookup) = line.pop_front() else {
            return;
        };
        lookup.expire(now, timeout);
        if lookup
            .reply
            .as_ref()
            .is_some_and(|reply| !reply.is_closed())
        {
            batch.push(lookup);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::redis::batch::Found;

    const TIMEOUT: Duration = Duration::from_millis(250);

    /// A lookup of `name`, due at `deadline`, and its caller's end.
    fn lookup(
        name: &str,
        among_many: bool,
        deadline: Instant,
    ) -> (Lookup, oneshot::Receiver<Found>) {
        let (reply, found) = oneshot::channel();
        let lookup = Lookup {
            name: name.to_owned(),
            deadline: Some(deadline),
            reply: Some(reply),
            among_many,
        };
        (lookup, found)
    }

    fn names(batch: &[Lookup]) -> Vec<&str> {
        batch.iter().map(|lookup| lookup.name.as_str()).collect()
    }

    #[test]
    fn while_both_lines_wait_each_gives_half_a_batch_oldest_first() {
        let now = Instant::now();
        let later = now + TIMEOUT;
        let mut waiting = Waiting::default();
        let mut callers = Vec::new();
        for n in 0..6 {
            let (single, found) = lookup(&format!("s{n}"), false, later);
            callers.push(found);
            waiting.push(single);
            let (many, found) = lookup(&format!("m{n}"), true, later);
            callers.push(found);
            waiting.push(many);
        }
        let mut batch = Vec::new();
        waiting.fill(&mut batch, 4, now, TIMEOUT);
        assert_eq!(names(&batch), ["s0", "s1", "m0", "m1"]);
        batch.clear();
        // An odd size gives the single lookups the larger half.
        waiting.fill(&mut batch, 5, now, TIMEOUT);
        assert_eq!(names(&batch), ["s2", "s3", "s4", "m2", "m3"]);
        batch.clear();
        // A line that runs short leaves the rest of the batch to the other.
        waiting.fill(&mut batch, 4, now, TIMEOUT);
        assert_eq!(names(&batch), ["s5", "m4", "m5"]);
        assert!(waiting.is_empty());
        batch.clear();
        for n in 6..9 {
            let (single, found) = lookup(&format!("s{n}"), false, later);
            callers.push(found);
            waiting.push(single);
        }
        waiting.fill(&mut batch, 4, now, TIMEOUT);
        assert_eq!(names(&batch), ["s6", "s7", "s8"]);
    }

    #[test]
    fn lookups_past_their_deadline_or_given_up_are_left_out_and_the_batch_still_fills() {
        let now = Instant::now();
        let mut waiting = Waiting::default();
        let (late, mut late_found) = lookup("late", false, now);
        waiting.push(late);
        let (gone, gone_found) = lookup("gone", false, now + TIMEOUT);
        drop(gone_found);
        waiting.push(gone);
        let mut callers = Vec::new();
        for n in 0..3 {
            let (single, found) = lookup(&format!("s{n}"), false, now + TIMEOUT);
            callers.push(found);
            waiting.push(single);
        }
        let mut batch = Vec::new();
        waiting.fill(&mut batch, 2, now, TIMEOUT);
        assert_eq!(names(&batch), ["s0", "s1"]);
        assert!(matches!(
            late_found.try_recv(),
            Ok(Err(crate::redis::RedisBackendError::Timeout(_)))
        ));
        assert_eq!(waiting.len(), 1);
    }
}
