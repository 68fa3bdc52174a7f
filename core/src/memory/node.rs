//! One stored entry and its place in the expiry index.

use crate::time::Deadline;

use super::wheel::{WheelLink, WheelNodes};

/// An entry of the memory backend. Nodes live densely in a `Vec`; the hash table, the
/// wheel and the eviction policy refer to them by `u32` position, which keeps a
/// `u64 -> u64` node at 32 bytes. The policy keeps its own per-entry state, so an
/// unbounded store pays nothing for eviction.
pub(crate) struct Node<K, E> {
    pub(crate) key: K,
    pub(crate) value: E,
    pub(crate) deadline: Deadline,
    pub(crate) wheel: WheelLink,
}

impl<K, E> WheelNodes for [Node<K, E>] {
    #[inline]
    fn wheel_link(&mut self, index: u32) -> &mut WheelLink {
        &mut self[index as usize].wheel
    }

    #[inline]
    fn deadline(&self, index: u32) -> Deadline {
        self[index as usize].deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_u64_entry_takes_32_bytes() {
        assert_eq!(core::mem::size_of::<Node<u64, u64>>(), 32);
    }
}
