//! Where a hit's fields lie. A sharded cache holds one `Cache` per shard, each behind
//! its lock on a cache line of its own; with many small shards, their state competes
//! with the entries for L1, so a hit should read two lines of it, not four or five.
//! The layout is arranged for 64-bit targets (8-byte pointers); on others the fields
//! are smaller and lie elsewhere.

use core::mem::offset_of;
use core::ops::Range;

use super::{Cache, Counts, policy};
use crate::{Identity, ManualClock, MemoryBackend};

type Engine = Cache<u64, u64, MemoryBackend<u64, u64>, Identity, ManualClock>;

/// A shard's lock byte and its padding, before its `Cache`.
const LOCK: usize = 8;

/// The cache lines of a shard that `bytes` of its `Cache` lie on.
fn lines(bytes: Range<usize>) -> Range<usize> {
    (LOCK + bytes.start) / 64..(LOCK + bytes.end - 1) / 64 + 1
}

fn shifted(bytes: Range<usize>, by: usize) -> Range<usize> {
    bytes.start + by..bytes.end + by
}

#[test]
fn a_hit_reads_the_lock_line_and_one_more() {
    let policy = shifted(policy::read_on_hit(), offset_of!(Engine, policy));
    let hits = offset_of!(Engine, counts) + offset_of!(Counts, hits);
    let store = shifted(crate::memory::read_on_hit(), offset_of!(Engine, backend));
    assert_eq!(lines(policy), 0..1);
    assert_eq!(lines(hits..hits + 8), 0..1);
    assert_eq!(lines(store), 2..3);
}
