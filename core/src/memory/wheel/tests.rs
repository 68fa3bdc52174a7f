//! The wheel's unit tests: levels, expiry across levels, budgets, and the links
//! that unlinking and relocating keep.

use super::*;
use alloc::vec;

/// Deadlines by index, with their links (the model test's too).
pub(super) struct Entries(pub(super) Vec<(Deadline, WheelLink)>);

impl WheelNodes for Entries {
    fn wheel_link(&mut self, index: u32) -> &mut WheelLink {
        &mut self.0[index as usize].1
    }
    fn deadline(&self, index: u32) -> Deadline {
        self.0[index as usize].0
    }
}

const TICK: u64 = 1 << TICK_SHIFT;

fn entries(deadlines: &[u64]) -> Entries {
    Entries(
        deadlines
            .iter()
            .map(|&d| (Deadline::at(Instant::from_nanos(d)), WheelLink::UNLINKED))
            .collect(),
    )
}

fn drain<N: WheelNodes>(wheel: &mut TimerWheel, nodes: &mut N, now: u64) -> Vec<u32> {
    let mut budget = usize::MAX;
    let now = Instant::from_nanos(now);
    let mut out = Vec::new();
    while let Some(i) = wheel.pop_expired(nodes, now, &mut budget) {
        out.push(i);
    }
    out.extend(wheel.drain_current(nodes, now));
    out.sort_unstable();
    out
}

#[test]
fn levels_follow_the_highest_differing_digit() {
    assert_eq!(level_for(0, 0), 0);
    assert_eq!(level_for(0, 63), 0);
    assert_eq!(level_for(0, 64), 1);
    assert_eq!(level_for(64, 127), 0);
    assert_eq!(level_for(0, 1 << 43), 7);
}

#[test]
fn expires_exactly_the_due_entries_across_levels() {
    let deadlines = [
        5,
        TICK + 3,
        70 * TICK,
        5000 * TICK,
        300_000 * TICK + 1,
        (1 << 40) * TICK,
        u64::MAX - 1,
    ];
    let mut nodes = entries(&deadlines);
    let mut wheel = TimerWheel::new();
    for i in 0..deadlines.len() as u32 {
        wheel.insert(&mut nodes, i);
    }
    assert_eq!(drain(&mut wheel, &mut nodes, 4), Vec::<u32>::new());
    assert_eq!(drain(&mut wheel, &mut nodes, 5), vec![0]);
    assert_eq!(drain(&mut wheel, &mut nodes, TICK + 2), Vec::<u32>::new());
    assert_eq!(drain(&mut wheel, &mut nodes, 70 * TICK), vec![1, 2]);
    assert_eq!(drain(&mut wheel, &mut nodes, 300_000 * TICK), vec![3]);
    assert_eq!(drain(&mut wheel, &mut nodes, 300_000 * TICK + 1), vec![4]);
    assert_eq!(drain(&mut wheel, &mut nodes, u64::MAX - 2), vec![5]);
    assert_eq!(drain(&mut wheel, &mut nodes, u64::MAX - 1), vec![6]);
    assert_eq!(wheel.occupied, [0; LEVELS]);
}

#[test]
fn a_partly_cascaded_slot_is_finished_before_later_ones() {
    // Both land in one level-2 slot; cascading the later one first must not strand
    // the earlier one behind it.
    let mut nodes = entries(&[4096 * TICK, 8191 * TICK]);
    let mut wheel = TimerWheel::new();
    wheel.insert(&mut nodes, 0);
    wheel.insert(&mut nodes, 1);
    assert_eq!(drain(&mut wheel, &mut nodes, 4096 * TICK), vec![0]);
    assert_eq!(drain(&mut wheel, &mut nodes, 8191 * TICK), vec![1]);
}

#[test]
fn budget_spreads_a_backlog_over_calls() {
    let mut nodes = entries(&[TICK; 10]);
    let mut wheel = TimerWheel::new();
    for i in 0..10 {
        wheel.insert(&mut nodes, i);
    }
    let now = Instant::from_nanos(5 * TICK);
    let mut per_call = Vec::new();
    for _ in 0..6 {
        let mut budget = 2;
        let mut popped = 0;
        while wheel.pop_expired(&mut nodes, now, &mut budget).is_some() {
            popped += 1;
        }
        per_call.push(popped);
    }
    assert_eq!(per_call, [2, 2, 2, 2, 2, 0]);
}

#[test]
fn positions_just_under_the_slot_marks_link_like_any_other() {
    // The highest positions a store may hold, in the last slot a deadline can reach
    // (level 7, slot 3: ticks have 44 bits) and the first (level 0, slot 0).
    struct Sparse(alloc::collections::BTreeMap<u32, (Deadline, WheelLink)>);
    impl WheelNodes for Sparse {
        fn wheel_link(&mut self, index: u32) -> &mut WheelLink {
            &mut self.0.get_mut(&index).unwrap().1
        }
        fn deadline(&self, index: u32) -> Deadline {
            self.0[&index].0
        }
    }
    let (top, next) = (FIRST_IN_SLOT - 1, FIRST_IN_SLOT - 2);
    let last = u64::MAX - 1;
    let (late, soon) = (
        Deadline::at(Instant::from_nanos(last)),
        Deadline::at(Instant::ZERO),
    );
    let mut nodes = Sparse(
        [(top, late), (next, late), (0, soon), (1, soon)]
            .into_iter()
            .map(|(i, d)| (i, (d, WheelLink::UNLINKED)))
            .collect(),
    );
    let mut wheel = TimerWheel::new();
    for index in [top, next, 0, 1] {
        wheel.insert(&mut nodes, index);
    }
    let last_mark = FIRST_IN_SLOT + (7 * SLOTS + 3) as u32;
    assert_eq!(
        nodes.wheel_link(next).prev,
        last_mark,
        "first in level 7's slot 3"
    );
    assert_eq!(
        nodes.wheel_link(1).prev,
        FIRST_IN_SLOT,
        "first in level 0's slot 0"
    );
    // `next` (first in its slot) leaves; `top` takes the mark.
    wheel.unlink(&mut nodes, next);
    assert_eq!(nodes.wheel_link(top).prev, last_mark);
    // `top` moves to position 7, as a swap-remove would move it.
    let moved = nodes.0.remove(&top).unwrap();
    nodes.0.insert(7, moved);
    wheel.relocate(&mut nodes, top, 7);
    assert_eq!(
        drain(&mut wheel, &mut nodes, 1 << (TICK_SHIFT + 1)),
        vec![0, 1]
    );
    assert_eq!(drain(&mut wheel, &mut nodes, last), vec![7]);
    assert_eq!(wheel.occupied, [0; LEVELS]);
}

#[test]
fn unlink_and_relocate_keep_lists_consistent() {
    let mut nodes = entries(&[3 * TICK, 3 * TICK, 3 * TICK]);
    let mut wheel = TimerWheel::new();
    for i in 0..3 {
        wheel.insert(&mut nodes, i);
    }
    wheel.unlink(&mut nodes, 1);
    // Move entry 2 into the hole at 1, as a swap-remove does.
    nodes.0.swap(1, 2);
    nodes.0.pop();
    wheel.relocate(&mut nodes, 2, 1);
    assert_eq!(drain(&mut wheel, &mut nodes, 4 * TICK), vec![0, 1]);
}

#[test]
fn a_cascading_slot_hands_out_an_entry_whose_tick_has_passed_at_once() {
    // Index 0 is due at tick 64, the others at tick 100: all in level 1's slot 1, and
    // 0 last in its list (an insert goes first).
    let mut deadlines = vec![64 * TICK];
    deadlines.extend([100 * TICK; 5]);
    let mut nodes = entries(&deadlines);
    let mut wheel = TimerWheel::new();
    for index in 0..6 {
        wheel.insert(&mut nodes, index);
    }
    let now = Instant::from_nanos(65 * TICK);
    // Five cascades move the others down; the sixth unit meets 0, already due.
    let mut budget = 6;
    assert_eq!(wheel.pop_expired(&mut nodes, now, &mut budget), Some(0));
    assert_eq!(budget, 0);
    let mut budget = usize::MAX;
    assert_eq!(wheel.pop_expired(&mut nodes, now, &mut budget), None);
    assert_eq!(drain(&mut wheel, &mut nodes, 101 * TICK), [1, 2, 3, 4, 5]);
}
