//! The wheel against a literal model: a list of deadlines. Whatever the inserts,
//! unlinks, swap-removals, clears, budgets and steps of time, reclaiming returns
//! exactly the entries whose tick has passed, each once, and draining the current tick
//! exactly those of its entries already due.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::tests::Entries;
use super::{TICK_SHIFT, TimerWheel, WheelLink, tick_of};
use crate::time::{Deadline, Instant};

#[derive(Clone, Debug)]
enum Op {
    /// An entry due this many nanoseconds after now (spanning several levels).
    Insert(u64),
    /// Unlinks the n-th linked entry, if any.
    Unlink(usize),
    /// Removes the n-th node, linked or not, as the store does: the last node moves into
    /// its position, and the wheel is told.
    SwapRemove(usize),
    /// Moves time on by this many nanoseconds, then reclaims with this budget per call
    /// until nothing is due.
    Reclaim(u64, usize),
    /// Drains the current tick's entries that are due now (after a reclaim ran dry).
    Drain,
    /// Forgets every entry.
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let tick = 1u64 << TICK_SHIFT;
    prop_oneof![
        4 => prop_oneof![0..tick * 70, 0..tick * 70 * 64, 0..tick * 64 * 64 * 64]
            .prop_map(Op::Insert),
        // Within the current tick, for drains to find several.
        2 => (0..tick).prop_map(Op::Insert),
        1 => any::<usize>().prop_map(Op::Unlink),
        2 => any::<usize>().prop_map(Op::SwapRemove),
        3 => (prop_oneof![0..tick / 2, 0..tick * 3, 0..tick * 200, 0..tick * 64 * 64 * 8], 1..20usize)
            .prop_map(|(step, budget)| Op::Reclaim(step, budget)),
        1 => Just(Op::Drain),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #[test]
    fn reclaims_exactly_the_entries_whose_tick_passed(ops in prop::collection::vec(op(), 1..200)) {
        let mut wheel = TimerWheel::new();
        let mut nodes = Entries(Vec::new());
        // The model: linked entries by index, with their deadlines in nanoseconds.
        let mut linked = BTreeMap::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Insert(after) => {
                    let index = nodes.0.len() as u32;
                    let deadline = now + after;
                    nodes.0.push((Deadline::at(Instant::from_nanos(deadline)), WheelLink::UNLINKED));
                    wheel.insert(&mut nodes, index);
                    linked.insert(index, deadline);
                }
                Op::Unlink(n) => {
                    if let Some(&index) = linked.keys().nth(n % linked.len().max(1)) {
                        wheel.unlink(&mut nodes, index);
                        linked.remove(&index);
                    }
                }
                Op::SwapRemove(n) => {
                    if nodes.0.is_empty() {
                        continue;
                    }
                    let index = (n % nodes.0.len()) as u32;
                    let last = (nodes.0.len() - 1) as u32;
                    wheel.unlink(&mut nodes, index);
                    linked.remove(&index);
                    nodes.0.swap_remove(index as usize);
                    if index != last {
                        wheel.relocate(&mut nodes, last, index);
                        if let Some(deadline) = linked.remove(&last) {
                            linked.insert(index, deadline);
                        }
                    }
                }
                Op::Reclaim(step, budget) => {
                    now += step;
                    let at = Instant::from_nanos(now);
                    let mut returned = Vec::new();
                    loop {
                        let mut left = budget;
                        while let Some(index) = wheel.pop_expired(&mut nodes, at, &mut left) {
                            returned.push(index);
                        }
                        if left > 0 {
                            break;
                        }
                    }
                    for index in &returned {
                        let deadline = linked.remove(index);
                        prop_assert!(deadline.is_some(), "{index} returned twice or unlinked");
                        prop_assert!(tick_of(deadline.unwrap()) < tick_of(now));
                    }
                    let left_behind: Vec<_> = linked
                        .iter()
                        .filter(|&(_, &deadline)| tick_of(deadline) < tick_of(now))
                        .collect();
                    prop_assert!(left_behind.is_empty(), "due but kept: {left_behind:?}");
                }
                Op::Drain => {
                    // Time only moves in a reclaim, which runs dry: a drain's condition.
                    let drained = wheel.drain_current(&mut nodes, Instant::from_nanos(now));
                    let mut due: Vec<u32> = linked
                        .iter()
                        .filter(|&(_, &deadline)| deadline <= now && tick_of(deadline) == tick_of(now))
                        .map(|(&index, _)| index)
                        .collect();
                    due.sort_unstable_by(|a, b| b.cmp(a));
                    prop_assert_eq!(&drained, &due, "drained, in descending order");
                    for index in drained {
                        linked.remove(&index);
                    }
                }
                Op::Clear => {
                    wheel.clear();
                    linked.clear();
                    // The nodes stay, unlinked as far as the wheel knows; new ones follow.
                    for node in &mut nodes.0 {
                        node.1 = WheelLink::UNLINKED;
                    }
                }
            }
        }
    }
}
