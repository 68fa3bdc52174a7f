//! A hierarchical timer wheel: the expiry index of the memory backend.
//!
//! Entries are linked into slots by deadline. Level 0 has 64 slots of one tick
//! (2^20 ns, about 1 ms); each level above has 64 slots, each as wide as the whole level
//! below. An entry sits at the level of the highest base-64 digit in which its deadline
//! tick differs from `elapsed`, so inserting and unlinking are O(1). As time passes, a
//! due slot of a higher level is cascaded: its entries move down a level or more, or,
//! if their tick has passed already, are handed out as expired. Each
//! entry is therefore touched at most once per level (8 levels) before it expires, which
//! makes reclamation amortized O(1) per insert. Work is handed out under a budget, so no
//! single call pays for a backlog.
//!
//! The wheel is pure: it owns slot heads and bitmaps, reaches entries through
//! [`WheelNodes`], and is told the time.

use alloc::vec::Vec;

use crate::time::{Deadline, Instant};

use super::NIL;

/// log2 of the tick length in nanoseconds.
const TICK_SHIFT: u32 = 20;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// 8 levels of 6 bits cover every tick of a `u64` nanosecond timeline (64 - 20 = 44 bits).
const LEVELS: usize = 8;
/// The `prev` of an entry first in its slot: this plus the slot's number (level × 64 +
/// slot), so that a link needs no field of its own to find its slot's head. Positions
/// stay below it (see `MAX_ENTRIES`); `NIL` marks an unlinked entry.
pub(super) const FIRST_IN_SLOT: u32 = NIL - (LEVELS * SLOTS) as u32;

/// An entry's place in the wheel: its neighbours in the slot's list, or for the first
/// in its slot, the slot in place of the previous one. 8 bytes: with a `u64` key and
/// value, a node is 32.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WheelLink {
    prev: u32,
    next: u32,
}

impl WheelLink {
    pub(crate) const UNLINKED: WheelLink = WheelLink {
        prev: NIL,
        next: NIL,
    };
}

/// The level and slot a first entry's `prev` names.
fn slot_named(prev: u32) -> (usize, usize) {
    let id = (prev - FIRST_IN_SLOT) as usize;
    (id / SLOTS, id % SLOTS)
}

/// How the wheel reaches the entries it indexes.
pub(crate) trait WheelNodes {
    fn wheel_link(&mut self, index: u32) -> &mut WheelLink;
    fn deadline(&self, index: u32) -> Deadline;
}

/// The tick of an instant: the wheel's unit of time.
pub(crate) fn tick_of(nanos: u64) -> u64 {
    nanos >> TICK_SHIFT
}

/// Deadlines indexed by tick; see the module docs.
pub(crate) struct TimerWheel {
    /// Slot heads, allocated by the first insert: a store that never expires anything
    /// (or a shard that stays empty) pays nothing for them.
    heads: Vec<[u32; SLOTS]>,
    occupied: [u64; LEVELS],
    /// Every slot before this tick has been processed.
    elapsed: u64,
    /// No slot is due before this tick (a lower bound): until then, reclaiming is one
    /// comparison rather than a scan of every level's bitmap, on every insert.
    due_from: u64,
}

impl TimerWheel {
    pub(crate) const fn new() -> Self {
        TimerWheel {
            heads: Vec::new(),
            occupied: [0; LEVELS],
            elapsed: 0,
            due_from: u64::MAX,
        }
    }

    /// Forgets every entry, keeping the wheel's sense of time.
    pub(crate) fn clear(&mut self) {
        self.heads.fill([NIL; SLOTS]);
        self.occupied = [0; LEVELS];
        self.due_from = u64::MAX;
    }

    /// Links `index`, whose deadline must not be [`Deadline::NEVER`].
    pub(crate) fn insert<N: WheelNodes + ?Sized>(&mut self, nodes: &mut N, index: u32) {
        // A deadline already behind the wheel (a value computed slowly) waits in the
        // current slot, which is the next to be reclaimed.
        let tick = tick_of(nodes.deadline(index).as_nanos()).max(self.elapsed);
        let level = level_for(self.elapsed, tick);
        let slot = slot_at(tick, level);
        if self.heads.is_empty() {
            self.heads = alloc::vec![[NIL; SLOTS]; LEVELS];
        }
        let head = self.heads[level][slot];
        debug_assert!(index < FIRST_IN_SLOT);
        *nodes.wheel_link(index) = WheelLink {
            prev: FIRST_IN_SLOT + (level * SLOTS + slot) as u32,
            next: head,
        };
        if head != NIL {
            nodes.wheel_link(head).prev = index;
        }
        self.heads[level][slot] = index;
        self.occupied[level] |= 1 << slot;
        self.due_from = self.due_from.min(due_tick(level, tick));
    }

    /// Unlinks `index` if it is linked.
    pub(crate) fn unlink<N: WheelNodes + ?Sized>(&mut self, nodes: &mut N, index: u32) {
        let link = *nodes.wheel_link(index);
        if link.prev == NIL {
            return;
        }
        self.point_prev_at(nodes, link.prev, link.next);
        if link.next != NIL {
            // The next becomes the first, if this was: it takes the slot's mark.
            nodes.wheel_link(link.next).prev = link.prev;
        }
        *nodes.wheel_link(index) = WheelLink::UNLINKED;
    }

    /// Points the neighbours of an entry that moved from `from` to `to` at its new place.
    pub(crate) fn relocate<N: WheelNodes + ?Sized>(&mut self, nodes: &mut N, from: u32, to: u32) {
        let link = *nodes.wheel_link(to);
        if link.prev == NIL {
            return;
        }
        debug_assert!(to < FIRST_IN_SLOT);
        if cfg!(debug_assertions) && link.prev >= FIRST_IN_SLOT {
            let (level, slot) = slot_named(link.prev);
            assert_eq!(self.heads[level][slot], from);
        }
        self.point_prev_at(nodes, link.prev, to);
        if link.next != NIL {
            nodes.wheel_link(link.next).prev = to;
        }
    }

    /// Points what comes before an entry, `prev` (the previous entry, or the head of
    /// the slot it marks), at `to`; a slot left empty is marked so.
    fn point_prev_at<N: WheelNodes + ?Sized>(&mut self, nodes: &mut N, prev: u32, to: u32) {
        if prev >= FIRST_IN_SLOT {
            let (level, slot) = slot_named(prev);
            self.heads[level][slot] = to;
            if to == NIL {
                self.occupied[level] &= !(1 << slot);
            }
        } else {
            nodes.wheel_link(prev).next = to;
        }
    }

    /// Whether anything may be due at `now`: [`pop_expired`](Self::pop_expired)'s first
    /// test, for a caller that would rather not call it.
    #[inline]
    pub(crate) fn may_be_due(&self, now: Instant) -> bool {
        tick_of(now.as_nanos()) >= self.due_from
    }

    /// Unlinks and returns one entry whose tick lies before `now`: from a level-0 slot
    /// that lies wholly before it, or met while a higher slot cascades. Each entry
    /// unlinked or cascaded costs one unit of `budget`; `None` means nothing is due or
    /// the budget is spent.
    #[inline]
    pub(crate) fn pop_expired<N: WheelNodes + ?Sized>(
        &mut self,
        nodes: &mut N,
        now: Instant,
        budget: &mut usize,
    ) -> Option<u32> {
        let now_tick = tick_of(now.as_nanos());
        if now_tick < self.due_from {
            self.elapsed = self.elapsed.max(now_tick);
            return None;
        }
        self.pop_due(nodes, now_tick, budget)
    }

    /// [`pop_expired`](Self::pop_expired) once something may be due: out of line, so
    /// that every write's check that nothing is stays a few instructions.
    #[inline(never)]
    fn pop_due<N: WheelNodes + ?Sized>(
        &mut self,
        nodes: &mut N,
        now_tick: u64,
        budget: &mut usize,
    ) -> Option<u32> {
        loop {
            if *budget == 0 {
                return None;
            }
            let next = self.next_slot();
            // If something is due, this is at most `now_tick`: the next call looks again.
            self.due_from = match next {
                Some((0, _, start)) => start + 1,
                Some((_, _, start)) => start,
                None => u64::MAX,
            };
            let due = next.filter(|&(level, _, start)| {
                // A level-0 slot is due once its tick has passed; a higher slot is
                // cascaded as soon as it begins, so its entries reach their own tick.
                if level == 0 {
                    start < now_tick
                } else {
                    start <= now_tick
                }
            });
            let Some((level, slot, start)) = due else {
                self.elapsed = self.elapsed.max(now_tick);
                return None;
            };
            // A partly cascaded slot may start before `elapsed`; time never runs back.
            self.elapsed = self.elapsed.max(start);
            let index = self.heads[level][slot];
            self.unlink(nodes, index);
            *budget -= 1;
            // A cascaded entry whose tick has passed goes at once, as from level 0: a
            // large slot cascading over several calls must not hold an expired entry
            // while the store evicts live ones.
            if level == 0 || tick_of(nodes.deadline(index).as_nanos()) < now_tick {
                return Some(index);
            }
            self.insert(nodes, index);
        }
    }

    /// Unlinks the entries of the current tick's slot that are expired at `now`, exactly,
    /// and returns them in descending index order (safe to swap-remove one by one).
    /// Call after [`pop_expired`](Self::pop_expired) has run dry for the same `now`.
    #[cfg(test)]
    pub(crate) fn drain_current<N: WheelNodes + ?Sized>(
        &mut self,
        nodes: &mut N,
        now: Instant,
    ) -> Vec<u32> {
        let expired = self.expired_current(nodes, now);
        for &index in &expired {
            self.unlink(nodes, index);
        }
        expired
    }

    /// The entries of the current tick's slot that are expired at `now`, exactly, in
    /// descending index order, left linked: removing each (which unlinks it, and
    /// relocates the last entry, never one of those left, into its place) leaves the
    /// rest linked however the removals end, a removal listener's panic included.
    pub(crate) fn expired_current<N: WheelNodes + ?Sized>(
        &self,
        nodes: &mut N,
        now: Instant,
    ) -> Vec<u32> {
        let mut expired = Vec::new();
        let Some(level0) = self.heads.first() else {
            return expired;
        };
        let mut cursor = level0[slot_at(self.elapsed, 0)];
        while cursor != NIL {
            if nodes.deadline(cursor).is_expired(now) {
                expired.push(cursor);
            }
            cursor = nodes.wheel_link(cursor).next;
        }
        expired.sort_unstable_by(|a, b| b.cmp(a));
        expired
    }

    /// The occupied slot that starts first: `(level, slot, first tick)`.
    ///
    /// Usually that is on the lowest occupied level, since each level only holds ticks
    /// beyond the current rotation of the level below. But a slot whose cascade ran out
    /// of budget still holds entries from an earlier tick, so every level is checked;
    /// on a tie, the higher level is cascaded first.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS)
            .filter_map(|level| {
                let digit = slot_at(self.elapsed, level);
                let pending = self.occupied[level] & (u64::MAX << digit);
                (pending != 0).then(|| {
                    let slot = pending.trailing_zeros() as usize;
                    let shift = SLOT_BITS * level as u32;
                    let rotation = self.elapsed >> shift >> SLOT_BITS << SLOT_BITS << shift;
                    (level, slot, rotation | (slot as u64) << shift)
                })
            })
            .min_by_key(|&(level, _, start)| (start, core::cmp::Reverse(level)))
    }
}

/// The first tick at which a slot of `level` holding `tick` is due: a level-0 slot once
/// its tick has passed, a higher one (to cascade) as soon as it begins.
fn due_tick(level: usize, tick: u64) -> u64 {
    match level {
        0 => tick + 1,
        _ => tick >> (SLOT_BITS * level as u32) << (SLOT_BITS * level as u32),
    }
}

/// The level of the highest base-64 digit in which `tick` differs from `elapsed`.
fn level_for(elapsed: u64, tick: u64) -> usize {
    let differing = (elapsed ^ tick) | (SLOTS as u64 - 1);
    let significant = 63 - differing.leading_zeros();
    (significant / SLOT_BITS) as usize
}

fn slot_at(tick: u64, level: usize) -> usize {
    ((tick >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1)
}

#[cfg(test)]
mod model;

#[cfg(test)]
mod tests;
