//! The three LRU queues of W-TinyLFU, linked through the store's dense positions.

use alloc::vec::Vec;

use crate::memory::NIL;

/// Which queue an entry is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Region {
    /// New entries, kept by recency alone: they have not yet earned a place in main.
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

/// Every entry in one of three doubly linked queues, by position.
#[derive(Clone, Debug)]
pub(super) struct Queues {
    links: Vec<Link>,
    regions: Vec<Region>,
    ends: [Ends; 3],
}

impl Queues {
    pub(super) const fn new() -> Self {
        Queues {
            links: Vec::new(),
            regions: Vec::new(),
            ends: [EMPTY; 3],
        }
    }

    /// How many entries all the queues hold.
    pub(super) fn total(&self) -> usize {
        self.links.len()
    }

    pub(super) fn len(&self, region: Region) -> usize {
        self.ends[region as usize].len as usize
    }

    /// The next to leave `region`, if any.
    pub(super) fn oldest(&self, region: Region) -> Option<u32> {
        match self.ends[region as usize].oldest {
            NIL => None,
            oldest => Some(oldest),
        }
    }

    #[inline]
    pub(super) fn region(&self, index: u32) -> Region {
        self.regions[index as usize]
    }

    /// A new entry at position `index` (the next free one) joins `region` as its newest.
    pub(super) fn push(&mut self, index: u32, region: Region) {
        debug_assert_eq!(index as usize, self.links.len());
        self.links.push(Link {
            older: NIL,
            newer: NIL,
        });
        self.regions.push(region);
        self.link_newest(index, region);
    }

    /// Makes `index` the newest of `region`, from wherever it was.
    #[inline]
    pub(super) fn move_to_newest(&mut self, index: u32, region: Region) {
        self.unlink(index);
        self.link_newest(index, region);
    }

    /// The entry at `index` left, and the one at `last` moved into its position.
    pub(super) fn removed(&mut self, index: u32, last: u32) {
        self.unlink(index);
        if index != last {
            let (link, region) = (self.links[last as usize], self.regions[last as usize]);
            self.links[index as usize] = link;
            self.regions[index as usize] = region;
            let ends = &mut self.ends[region as usize];
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
        self.regions.pop();
    }

    pub(super) fn clear(&mut self) {
        self.links.clear();
        self.regions.clear();
        self.ends = [EMPTY; 3];
    }

    #[inline]
    fn unlink(&mut self, index: u32) {
        let link = self.links[index as usize];
        let ends = &mut self.ends[self.regions[index as usize] as usize];
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
    fn link_newest(&mut self, index: u32, region: Region) {
        let ends = &mut self.ends[region as usize];
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
        self.regions[index as usize] = region;
    }

    /// Every position of `region`, oldest first (for tests).
    #[cfg(test)]
    pub(super) fn order(&self, region: Region) -> Vec<u32> {
        let mut order = Vec::new();
        let mut at = self.ends[region as usize].oldest;
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

    #[test]
    fn entries_move_between_queues_in_order() {
        let mut queues = Queues::new();
        for index in 0..4 {
            queues.push(index, Window);
        }
        queues.move_to_newest(1, Probation);
        queues.move_to_newest(0, Window);
        assert_eq!(queues.order(Window), [2, 3, 0]);
        assert_eq!(queues.order(Probation), [1]);
        assert_eq!(queues.oldest(Window), Some(2));
        assert_eq!((queues.len(Window), queues.len(Protected)), (3, 0));
    }

    #[test]
    fn a_removal_moves_the_last_entry_into_the_hole() {
        let mut queues = Queues::new();
        for index in 0..4 {
            queues.push(index, Window);
        }
        queues.move_to_newest(3, Protected);
        // 0 leaves; 3 (protected) takes position 0.
        queues.removed(0, 3);
        assert_eq!(queues.order(Window), [1, 2]);
        assert_eq!(queues.order(Protected), [0]);
        assert_eq!(queues.region(0), Protected);
        queues.removed(2, 2);
        assert_eq!(queues.order(Window), [1]);
        assert_eq!(queues.total(), 2);
    }
}
