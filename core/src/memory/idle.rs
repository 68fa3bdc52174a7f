//! Time-to-idle: an entry also expires once it goes unread for a set time.
//!
//! The node's deadline, the one the wheel and every expiry check use, is the sooner of
//! the entry's own deadline (from its TTL) and its last read plus the idle time. The
//! entry's own deadline is kept here, in a side table indexed by position as an
//! eviction policy's state is, so a store without time-to-idle pays nothing for it.
//!
//! A read only moves the node's deadline later; the wheel is not touched. When the
//! entry's old slot comes due, the store finds it still live and links it again at its
//! new deadline: one relink per idle period at most, amortized O(1), with no thread.

use alloc::vec::Vec;

use crate::time::{Deadline, Instant, Ttl};

pub(super) struct Idle {
    limit: Ttl,
    /// Each entry's own deadline, by position.
    own: Vec<Deadline>,
}

impl Idle {
    pub(super) fn new(limit: Ttl) -> Self {
        Idle {
            limit,
            own: Vec::new(),
        }
    }

    pub(super) fn limit(&self) -> Ttl {
        self.limit
    }

    pub(super) fn set_limit(&mut self, limit: Ttl) {
        self.limit = limit;
    }

    /// The deadline of an entry whose own deadline is `own`, read or written at `now`.
    pub(super) fn deadline(&self, own: Deadline, now: Instant) -> Deadline {
        own.min(self.limit.deadline_from(now))
    }

    /// The entry at `index` was read at `now`: its deadline, extended.
    pub(super) fn extended(&self, index: u32, now: Instant) -> Deadline {
        self.deadline(self.own[index as usize], now)
    }

    pub(super) fn inserted(&mut self, own: Deadline) {
        self.own.push(own);
    }

    pub(super) fn replaced(&mut self, index: u32, own: Deadline) {
        self.own[index as usize] = own;
    }

    /// As `Vec::swap_remove`, mirroring the nodes.
    pub(super) fn removed(&mut self, index: u32) {
        self.own.swap_remove(index as usize);
    }

    /// Each entry's own deadline, by position.
    pub(super) fn own(&self) -> &[Deadline] {
        &self.own
    }

    pub(super) fn cleared(&mut self) {
        self.own.clear();
    }
}
