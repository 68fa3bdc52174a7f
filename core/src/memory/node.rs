//! One stored entry and its places in the expiry and eviction indexes.

use crate::time::Deadline;

use super::sieve::{SieveLink, SieveNodes};
use super::wheel::{WheelLink, WheelNodes};

/// An entry of the memory backend. Nodes live densely in a `Vec`; the hash table and
/// both indexes refer to them by `u32` position, which keeps a `u64 -> u64` node at
/// 48 bytes.
pub(crate) struct Node<K, E> {
    pub(crate) key: K,
    pub(crate) value: E,
    pub(crate) deadline: Deadline,
    pub(crate) wheel: WheelLink,
    pub(crate) sieve: SieveLink,
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

impl<K, E> SieveNodes for [Node<K, E>] {
    #[inline]
    fn sieve_link(&mut self, index: u32) -> &mut SieveLink {
        &mut self[index as usize].sieve
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_u64_entry_takes_48_bytes() {
        assert_eq!(core::mem::size_of::<Node<u64, u64>>(), 48);
    }
}
