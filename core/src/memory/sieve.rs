//! SIEVE eviction (Zhang et al., NSDI 2024): a capacity policy of the memory backend,
//! by name (the default is W-TinyLFU): cheaper inserts, not scan-resistant.
//!
//! Entries form a queue from newest (head) to oldest (tail). A hit only sets the entry's
//! `visited` bit, so hits never reorder anything. To evict, a hand walks from where it
//! last stopped towards the head, clearing visited bits, and evicts the first entry that
//! was not visited; past the head it wraps to the tail. SIEVE matches or beats LRU's hit
//! ratio on web traces while a hit costs one store instead of a list splice.
//!
//! The queue is circular (the newest entry's `newer` is the oldest), which makes the
//! hand's wrap a plain step. Visited bits sit in their own bitset, not beside the links:
//! a hit touches one bit in a table 1/64 the size of the links, which stays in cache.

use alloc::vec::Vec;

use super::NIL;
use super::eviction::Eviction;

/// An entry's neighbours in the circular queue.
#[derive(Clone, Copy, Debug)]
struct Link {
    newer: u32,
    older: u32,
}

/// The SIEVE policy: evicts the first unvisited entry the hand meets, once the store
/// holds `capacity` (total weight, or entries by default).
///
/// It costs a bounded store 8 bytes and one bit per entry, in tables of its own.
///
/// ```
/// use jwm_cache_core::{Backend, Lookup, Deadline, Instant, MemoryBackend, Sieve};
///
/// let mut store = MemoryBackend::<u32, &str>::new().with_eviction(Sieve::new(2));
/// let now = Instant::ZERO;
/// store.set(1, "one", Deadline::NEVER, now).unwrap();
/// store.set(2, "two", Deadline::NEVER, now).unwrap();
/// store.get(&1, now).unwrap(); // visited: SIEVE keeps it
/// store.set(3, "three", Deadline::NEVER, now).unwrap();
/// assert_eq!(store.get(&2, now).unwrap(), None);
/// assert_eq!(store.reclaimed().evictions, 1);
/// ```
#[derive(Clone, Debug)]
pub struct Sieve {
    capacity: usize,
    links: Vec<Link>,
    /// One bit per position; bits past the last position are zero.
    visited: Vec<u64>,
    newest: u32,
    /// Where the next search starts; [`NIL`] for the oldest entry.
    hand: u32,
}

impl Sieve {
    /// A SIEVE queue for a store of at most `capacity` (0 stores nothing).
    pub const fn new(capacity: usize) -> Self {
        Sieve {
            capacity,
            links: Vec::new(),
            visited: Vec::new(),
            newest: NIL,
            hand: NIL,
        }
    }

    #[inline]
    fn is_visited(&self, index: u32) -> bool {
        self.visited[index as usize / 64] & bit(index) != 0
    }

    #[inline]
    fn set_visited(&mut self, index: u32, visited: bool) {
        let word = &mut self.visited[index as usize / 64];
        if visited {
            *word |= bit(index);
        } else {
            *word &= !bit(index);
        }
    }

    fn oldest(&self) -> u32 {
        match self.newest {
            NIL => NIL,
            newest => self.links[newest as usize].newer,
        }
    }

    /// Takes `index` out of the queue; a hand resting on it moves towards the head.
    fn unlink(&mut self, index: u32) {
        let link = self.links[index as usize];
        if link.newer == index {
            self.newest = NIL;
            self.hand = NIL;
            return;
        }
        self.links[link.older as usize].newer = link.newer;
        self.links[link.newer as usize].older = link.older;
        if self.newest == index {
            self.newest = link.older;
        }
        if self.hand == index {
            self.hand = link.newer;
        }
    }

    /// Links `index`, whose own link is unused, as the newest entry.
    fn link_newest(&mut self, index: u32) {
        let link = match self.newest {
            NIL => Link {
                newer: index,
                older: index,
            },
            newest => {
                let oldest = self.links[newest as usize].newer;
                self.links[newest as usize].newer = index;
                self.links[oldest as usize].older = index;
                Link {
                    newer: oldest,
                    older: newest,
                }
            }
        };
        self.links[index as usize] = link;
        self.newest = index;
    }

    /// Points the queue at an entry whose link moved from `from` to `to`.
    fn relocate(&mut self, from: u32, to: u32) {
        let link = self.links[to as usize];
        if link.newer == from {
            // Alone in the queue: it was its own neighbour.
            self.links[to as usize] = Link {
                newer: to,
                older: to,
            };
        } else {
            self.links[link.older as usize].newer = to;
            self.links[link.newer as usize].older = to;
        }
        if self.newest == from {
            self.newest = to;
        }
        if self.hand == from {
            self.hand = to;
        }
    }
}

impl Eviction for Sieve {
    #[inline]
    fn capacity(&self) -> Option<usize> {
        Some(self.capacity)
    }

    fn inserted(&mut self, index: u32, _: u64) {
        debug_assert_eq!(index as usize, self.links.len());
        self.links.push(Link {
            newer: index,
            older: index,
        });
        if index.is_multiple_of(64) {
            self.visited.push(0);
        }
        self.link_newest(index);
    }

    /// Takes the new entry into the victim's position, as the newest and not visited.
    fn replaced(&mut self, index: u32, _: u64) -> bool {
        self.unlink(index);
        self.set_visited(index, false);
        self.link_newest(index);
        true
    }

    /// Stores only on a change: a hit on a visited entry must not dirty a cache line.
    #[inline]
    fn accessed(&mut self, index: u32, _: u64) {
        if !self.is_visited(index) {
            self.set_visited(index, true);
        }
    }

    fn removed(&mut self, index: u32, last: u32) {
        self.unlink(index);
        self.links.swap_remove(index as usize);
        let moved_visited = self.is_visited(last);
        self.set_visited(index, moved_visited);
        self.set_visited(last, false);
        if last.is_multiple_of(64) {
            self.visited.pop();
        }
        if index != last {
            self.relocate(last, index);
        }
    }

    /// Leaves the hand on the victim, so the search resumes past it.
    fn victim(&mut self, _: u64, _: &dyn Fn(u32) -> u64) -> Option<u32> {
        let mut hand = match self.hand {
            NIL => self.oldest(),
            hand => hand,
        };
        if hand == NIL {
            return None;
        }
        while self.is_visited(hand) {
            self.set_visited(hand, false);
            hand = self.links[hand as usize].newer;
        }
        self.hand = hand;
        Some(hand)
    }

    fn cleared(&mut self) {
        self.links.clear();
        self.visited.clear();
        self.newest = NIL;
        self.hand = NIL;
    }
}

#[inline]
fn bit(index: u32) -> u64 {
    1 << (index % 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SIEVE queue over named entries, moving names as the store moves nodes.
    struct Queue {
        sieve: Sieve,
        names: Vec<char>,
    }

    impl Queue {
        fn new(names: &str) -> Self {
            let mut queue = Queue {
                sieve: Sieve::new(names.len()),
                names: Vec::new(),
            };
            for name in names.chars() {
                queue.sieve.inserted(queue.names.len() as u32, 0);
                queue.names.push(name);
            }
            queue
        }

        fn visit(&mut self, name: char) {
            let index = self.names.iter().position(|&n| n == name).unwrap();
            self.sieve.accessed(index as u32, 0);
        }

        fn evict(&mut self) -> Option<char> {
            let index = self.sieve.victim(0, &u64::from)?;
            let last = self.names.len() as u32 - 1;
            self.sieve.removed(index, last);
            Some(self.names.swap_remove(index as usize))
        }
    }

    #[test]
    fn evicts_unvisited_entries_first_and_resumes_at_the_hand() {
        let mut queue = Queue::new("abcd");
        queue.visit('a');
        queue.visit('c');
        // The hand starts at the oldest (a): visited, cleared; b is the victim.
        assert_eq!(queue.evict(), Some('b'));
        // The hand moved to c: visited, cleared; d is next.
        assert_eq!(queue.evict(), Some('d'));
        // Past the head the hand wraps to the oldest, a, whose bit was cleared.
        assert_eq!(queue.evict(), Some('a'));
        assert_eq!(queue.evict(), Some('c'));
        assert_eq!(queue.evict(), None);
    }

    #[test]
    fn all_visited_clears_bits_and_wraps_once() {
        let mut queue = Queue::new("abc");
        for name in ['a', 'b', 'c'] {
            queue.visit(name);
        }
        assert_eq!(queue.evict(), Some('a'));
    }

    #[test]
    fn visited_bits_move_with_their_entries_across_words() {
        let names: alloc::string::String = (0..130u32)
            .map(|i| char::from_u32(0x100 + i).unwrap())
            .collect();
        let mut queue = Queue::new(&names);
        let last = char::from_u32(0x100 + 129).unwrap();
        queue.visit(last);
        // Evicting the oldest moves the last entry, visited, into position 0.
        assert_eq!(queue.evict(), Some('\u{100}'));
        assert!(queue.sieve.is_visited(0));
        assert_eq!(queue.sieve.visited.len(), 3);
        assert_eq!(queue.sieve.visited[2], 0);
        queue.evict();
        assert_eq!(queue.sieve.visited.len(), 2);
    }
}
