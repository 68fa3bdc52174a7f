//! The queues of W-TinyLFU, three per half of the key space, linked through the
//! store's dense positions: FIFOs, to which the policy gives second chances.

use alloc::vec::Vec;

use crate::memory::NIL;

/// Which of its half's queues an entry is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Region {
    /// New entries, kept by recency alone (a FIFO with second chances): they have not
    /// yet earned a place in main.
    Window = 0,
    /// Main entries not read since they entered main; the first to go.
    Probation = 1,
    /// Main entries read while on probation.
    Protected = 2,
}

/// An entry's neighbours in its queue: `older` towards the next to leave.
#[derive(Clone, Copy, Debug)]
struct Link {
    older: u32,
    newer: u32,
}

/// A queue: a region of one half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Queue {
    half: usize,
    region: Region,
}

impl Queue {
    pub(super) const fn new(half: usize, region: Region) -> Self {
        Queue { half, region }
    }

    fn id(self) -> usize {
        self.half * 3 + self.region as usize
    }

    #[cfg(test)]
    fn from_id(id: u8) -> Self {
        let region = match id % 3 {
            0 => Region::Window,
            1 => Region::Probation,
            _ => Region::Protected,
        };
        Queue::new(usize::from(id / 3), region)
    }
}

/// One queue's ends and length.
#[derive(Clone, Copy, Debug)]
struct Ends {
    oldest: u32,
    newest: u32,
    len: u32,
}

const EMPTY: Ends = Ends {
    oldest: NIL,
    newest: NIL,
    len: 0,
};

/// The low bits of an entry's byte: its queue's id.
const QUEUE_BITS: u8 = 0b111;
/// One read, in the byte's high bits.
const VISIT: u8 = 1 << 3;
/// The most reads an entry's byte counts between two looks of the policy.
const MOST_VISITS: u8 = 3;

/// Every entry in one of six doubly linked queues, by position, with the reads it had
/// since the policy last looked at it.
#[derive(Clone, Debug)]
pub(super) struct Queues {
    links: Vec<Link>,
    /// Each entry's byte: its queue's id, and its reads (0 to 3) above.
    meta: Vec<u8>,
    /// Six queues' ends, and two never used: any id the queue bits can hold indexes
    /// this without a bounds check.
    ends: [Ends; 8],
}

impl Queues {
    pub(super) const fn new() -> Self {
        Queues {
            links: Vec::new(),
            meta: Vec::new(),
            ends: [EMPTY; 8],
        }
    }

    /// How many entries all the queues hold.
    pub(super) fn total(&self) -> usize {
        self.links.len()
    }

    pub(super) fn len(&self, queue: Queue) -> usize {
        self.ends[queue.id()].len as usize
    }

    /// How many entries a half holds.
    pub(super) fn half_len(&self, half: usize) -> usize {
        self.ends[half * 3..half * 3 + 3]
            .iter()
            .map(|ends| ends.len as usize)
            .sum()
    }

    /// The next to leave `queue`, if any.
    pub(super) fn oldest(&self, queue: Queue) -> Option<u32> {
        match self.ends[queue.id()].oldest {
            NIL => None,
            oldest => Some(oldest),
        }
    }

    #[cfg(test)]
    pub(super) fn queue(&self, index: u32) -> Queue {
        Queue::from_id(self.meta[index as usize] & QUEUE_BITS)
    }

    /// Counts a read of `index`, up to [`MOST_VISITS`]. Stores only on a change, like
    /// SIEVE's visited bit: a hit on an entry read often must not dirty a cache line.
    #[inline]
    pub(super) fn visit(&mut self, index: u32) {
        let meta = &mut self.meta[index as usize];
        if *meta / VISIT < MOST_VISITS {
            *meta += VISIT;
        }
    }

    /// The reads of `index` since the policy last looked, which it now forgets.
    #[inline]
    pub(super) fn take_visits(&mut self, index: u32) -> u8 {
        let meta = &mut self.meta[index as usize];
        let visits = *meta / VISIT;
        *meta &= QUEUE_BITS;
        visits
    }

    /// A new entry at position `index` (the next free one) joins `queue` as its newest.
    pub(super) fn push(&mut self, index: u32, queue: Queue) {
        debug_assert_eq!(index as usize, self.links.len());
        self.links.push(Link {
            older: NIL,
            newer: NIL,
        });
        self.meta.push(0);
        self.link_newest(index, queue.id());
    }

    /// A new entry takes position `index` from the one there, and joins `queue` as its
    /// newest, with no reads.
    #[inline]
    pub(super) fn reuse(&mut self, index: u32, queue: Queue) {
        self.unlink(index);
        self.meta[index as usize] = 0;
        self.link_newest(index, queue.id());
    }

    /// Makes `index` the newest of `queue`, from wherever it was.
    #[inline]
    pub(super) fn move_to_newest(&mut self, index: u32, queue: Queue) {
        self.unlink(index);
        self.link_newest(index, queue.id());
    }

    /// The entry at `index` left, and the one at `last` moved into its position.
    pub(super) fn removed(&mut self, index: u32, last: u32) {
        self.unlink(index);
        if index != last {
            let (link, meta) = (self.links[last as usize], self.meta[last as usize]);
            self.links[index as usize] = link;
            self.meta[index as usize] = meta;
            let ends = &mut self.ends[usize::from(meta & QUEUE_BITS)];
            match link.older {
                NIL => ends.oldest = index,
                older => self.links[older as usize].newer = index,
            }
            match link.newer {
                NIL => ends.newest = index,
                newer => self.links[newer as usize].older = index,
            }
        }
        self.links.pop();
        self.meta.pop();
    }

    pub(super) fn clear(&mut self) {
        self.links.clear();
        self.meta.clear();
        self.ends = [EMPTY; 8];
    }

    #[inline]
    fn unlink(&mut self, index: u32) {
        let link = self.links[index as usize];
        let ends = &mut self.ends[usize::from(self.meta[index as usize] & QUEUE_BITS)];
        match link.older {
            NIL => ends.oldest = link.newer,
            older => self.links[older as usize].newer = link.newer,
        }
        match link.newer {
            NIL => ends.newest = link.older,
            newer => self.links[newer as usize].older = link.older,
        }
        ends.len -= 1;
    }

    #[inline]
    fn link_newest(&mut self, index: u32, id: usize) {
        let ends = &mut self.ends[id];
        let newest = ends.newest;
        self.links[index as usize] = Link {
            older: newest,
            newer: NIL,
        };
        match newest {
            NIL => ends.oldest = index,
            newest => self.links[newest as usize].newer = index,
        }
        ends.newest = index;
        ends.len += 1;
        let meta = &mut self.meta[index as usize];
        *meta = (*meta & !QUEUE_BITS) | id as u8;
    }

    /// Every position of `queue`, oldest first (for tests).
    #[cfg(test)]
    pub(super) fn order(&self, queue: Queue) -> Vec<u32> {
        let mut order = Vec::new();
        let mut at = self.ends[queue.id()].oldest;
        while at != NIL {
            order.push(at);
            at = self.links[at as usize].newer;
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::Region::*;
    use super::*;

    const WINDOW: Queue = Queue::new(0, Window);
    const PROBATION: Queue = Queue::new(0, Probation);
    const PROTECTED: Queue = Queue::new(1, Protected);

    #[test]
    fn entries_move_between_queues_in_order() {
        let mut queues = Queues::new();
        for index in 0..4 {
            queues.push(index, WINDOW);
        }
        queues.move_to_newest(1, PROBATION);
        queues.move_to_newest(0, WINDOW);
        assert_eq!(queues.order(WINDOW), [2, 3, 0]);
        assert_eq!(queues.order(PROBATION), [1]);
        assert_eq!(queues.oldest(WINDOW), Some(2));
        assert_eq!((queues.len(WINDOW), queues.len(PROTECTED)), (3, 0));
        assert_eq!((queues.half_len(0), queues.half_len(1)), (4, 0));
    }

    #[test]
    fn reads_are_counted_up_to_three_and_move_with_their_entry() {
        let mut queues = Queues::new();
        for index in 0..3 {
            queues.push(index, WINDOW);
        }
        queues.visit(2);
        queues.visit(2);
        assert_eq!(queues.take_visits(2), 2);
        queues.move_to_newest(2, PROTECTED);
        for _ in 0..5 {
            queues.visit(2);
        }
        queues.removed(0, 2);
        assert_eq!(queues.queue(0), PROTECTED);
        assert_eq!(queues.take_visits(0), MOST_VISITS);
        assert_eq!(queues.take_visits(0), 0);
        assert_eq!(queues.queue(0), PROTECTED);
    }

    #[test]
    fn a_removal_moves_the_last_entry_into_the_hole() {
        let mut queues = Queues::new();
        for index in 0..4 {
            queues.push(index, WINDOW);
        }
        queues.move_to_newest(3, PROTECTED);
        // 0 leaves; 3 (protected, the other half) takes position 0.
        queues.removed(0, 3);
        assert_eq!(queues.order(WINDOW), [1, 2]);
        assert_eq!(queues.order(PROTECTED), [0]);
        assert_eq!(queues.queue(0), PROTECTED);
        queues.removed(2, 2);
        assert_eq!(queues.order(WINDOW), [1]);
        assert_eq!(queues.total(), 2);
    }

    #[test]
    fn a_reused_position_joins_its_new_queue_as_newest_with_no_reads() {
        let mut queues = Queues::new();
        for index in 0..4 {
            queues.push(index, WINDOW);
        }
        queues.move_to_newest(1, PROBATION);
        queues.visit(1);
        queues.reuse(1, WINDOW);
        assert_eq!(queues.order(WINDOW), [0, 2, 3, 1]);
        assert_eq!(queues.len(PROBATION), 0);
        assert_eq!((queues.take_visits(1), queues.total()), (0, 4));
    }
}
